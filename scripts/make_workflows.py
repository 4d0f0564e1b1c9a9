"""Generate the example workflows in workflows/ (ComfyUI UI format, as frontend 1.32 saves it).

    python3 scripts/make_workflows.py            # (re)write workflows/*.json
    python3 scripts/make_workflows.py --check    # fail if the committed files differ

The graphs follow ComfyUI's official Wan 2.1 and HunyuanVideo text-to-video examples (same
nodes, model file names and sampler settings), with the "SVG Sparse Attention" node between
the diffusion model loader and the sampler, and a note explaining its settings.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

OUT_DIR = Path(__file__).resolve().parents[1] / "workflows"
COMFY_VERSION = "0.3.75"
FRONTEND_VERSION = "1.32.9"
WIDGET_TYPES = {"INT", "FLOAT", "STRING", "BOOLEAN", "COMBO"}

# Inputs in /object_info order of ComfyUI 0.3.75: (name, type[, "optional"]); outputs: (name, type).
# tests/integration checks this table against the live server's /object_info.
NODE_DEFS = {
    "UNETLoader": ([("unet_name", "COMBO"), ("weight_dtype", "COMBO")], [("MODEL", "MODEL")]),
    "CLIPLoader": ([("clip_name", "COMBO"), ("type", "COMBO"), ("device", "COMBO", "optional")],
                   [("CLIP", "CLIP")]),
    "DualCLIPLoader": ([("clip_name1", "COMBO"), ("clip_name2", "COMBO"), ("type", "COMBO"),
                        ("device", "COMBO", "optional")], [("CLIP", "CLIP")]),
    "VAELoader": ([("vae_name", "COMBO")], [("VAE", "VAE")]),
    "CLIPTextEncode": ([("text", "STRING"), ("clip", "CLIP")], [("CONDITIONING", "CONDITIONING")]),
    "FluxGuidance": ([("conditioning", "CONDITIONING"), ("guidance", "FLOAT")],
                     [("CONDITIONING", "CONDITIONING")]),
    "EmptyHunyuanLatentVideo": ([("width", "INT"), ("height", "INT"), ("length", "INT"),
                                 ("batch_size", "INT")], [("LATENT", "LATENT")]),
    "ModelSamplingSD3": ([("model", "MODEL"), ("shift", "FLOAT")], [("MODEL", "MODEL")]),
    "SVGSparseAttention": ([("model", "MODEL"), ("sparsity", "FLOAT"), ("dense_warmup", "FLOAT"),
                            ("dense_blocks", "INT"), ("sampled_rows", "INT"), ("backend", "COMBO"),
                            ("profile_seed", "INT"), ("verbose", "BOOLEAN")], [("MODEL", "MODEL")]),
    "KSampler": ([("model", "MODEL"), ("seed", "INT"), ("steps", "INT"), ("cfg", "FLOAT"),
                  ("sampler_name", "COMBO"), ("scheduler", "COMBO"), ("positive", "CONDITIONING"),
                  ("negative", "CONDITIONING"), ("latent_image", "LATENT"), ("denoise", "FLOAT")],
                 [("LATENT", "LATENT")]),
    "KSamplerSelect": ([("sampler_name", "COMBO")], [("SAMPLER", "SAMPLER")]),
    "BasicScheduler": ([("model", "MODEL"), ("scheduler", "COMBO"), ("steps", "INT"),
                        ("denoise", "FLOAT")], [("SIGMAS", "SIGMAS")]),
    "RandomNoise": ([("noise_seed", "INT")], [("NOISE", "NOISE")]),
    "BasicGuider": ([("model", "MODEL"), ("conditioning", "CONDITIONING")], [("GUIDER", "GUIDER")]),
    "SamplerCustomAdvanced": ([("noise", "NOISE"), ("guider", "GUIDER"), ("sampler", "SAMPLER"),
                               ("sigmas", "SIGMAS"), ("latent_image", "LATENT")],
                              [("output", "LATENT"), ("denoised_output", "LATENT")]),
    "VAEDecode": ([("samples", "LATENT"), ("vae", "VAE")], [("IMAGE", "IMAGE")]),
    "VAEDecodeTiled": ([("samples", "LATENT"), ("vae", "VAE"), ("tile_size", "INT"),
                        ("overlap", "INT"), ("temporal_size", "INT"), ("temporal_overlap", "INT")],
                       [("IMAGE", "IMAGE")]),
    "CreateVideo": ([("images", "IMAGE"), ("fps", "FLOAT"), ("audio", "AUDIO", "optional")],
                    [("VIDEO", "VIDEO")]),
    "SaveVideo": ([("video", "VIDEO"), ("filename_prefix", "STRING"), ("format", "COMBO"),
                   ("codec", "COMBO")], []),
    "MarkdownNote": ([], []),
}
CONTROL_AFTER_GENERATE = {("KSampler", "seed"), ("RandomNoise", "noise_seed")}
OPTIONAL_SHAPE = 7  # LiteGraph RenderShape.HollowCircle, what the frontend gives optional inputs

WAN_REPO = "https://huggingface.co/Comfy-Org/Wan_2.1_ComfyUI_repackaged/resolve/main/split_files"
HY_REPO = "https://huggingface.co/Comfy-Org/HunyuanVideo_repackaged/resolve/main/split_files"
CLIP_L_URL = "https://huggingface.co/comfyanonymous/flux_text_encoders/resolve/main/clip_l.safetensors"


def model_ref(name: str, url: str, directory: str) -> dict:
    return {"name": name, "url": url + "?download=true", "directory": directory}


class Graph:
    def __init__(self, uid: str):
        self.uid = uid
        self.nodes: list[dict] = []
        self.links: list[list] = []
        self.groups: list[dict] = []

    def node(self, nid: int, ntype: str, pos, size, widgets=(), title=None, models=None,
             color=None, bgcolor=None) -> dict:
        ins, outs = NODE_DEFS[ntype]
        sockets = [i for i in ins if i[1] not in WIDGET_TYPES]
        widgets_in = [i for i in ins if i[1] in WIDGET_TYPES]
        inputs = []
        # the frontend adds link-only inputs first, then one input per widget (in spec order)
        for spec in sockets + widgets_in:
            name, typ = spec[0], spec[1]
            entry = {"localized_name": name, "name": name, "type": typ}
            if len(spec) > 2:
                entry["shape"] = OPTIONAL_SHAPE
            if typ in WIDGET_TYPES:
                entry["widget"] = {"name": name}
            entry["link"] = None
            inputs.append(entry)
        expected = len(widgets_in) + sum((ntype, w[0]) in CONTROL_AFTER_GENERATE for w in widgets_in)
        if ntype == "MarkdownNote":
            expected = 1
        if len(widgets) != expected:
            raise ValueError(f"{ntype}: {len(widgets)} widget values, expected {expected}")
        props = {} if ntype == "MarkdownNote" else {"Node name for S&R": ntype}
        if ntype not in ("MarkdownNote", "SVGSparseAttention"):
            props.update({"cnr_id": "comfy-core", "ver": COMFY_VERSION})
        if models:
            props["models"] = models
        node = {"id": nid, "type": ntype, "pos": list(pos), "size": list(size), "flags": {},
                "order": 0, "mode": 0, "inputs": inputs,
                "outputs": [{"localized_name": n, "name": n, "type": t, "links": []} for n, t in outs],
                "properties": props, "widgets_values": list(widgets)}
        if title:
            node["title"] = title
        if color:
            node["color"], node["bgcolor"] = color, bgcolor
        self.nodes.append(node)
        return node

    def _get(self, nid):
        return next(n for n in self.nodes if n["id"] == nid)

    def link(self, src: int, src_slot: int, dst: int, dst_input: str) -> None:
        s, d = self._get(src), self._get(dst)
        slot = next(i for i, inp in enumerate(d["inputs"]) if inp["name"] == dst_input)
        typ = s["outputs"][src_slot]["type"]
        lid = len(self.links) + 1
        self.links.append([lid, src, src_slot, dst, slot, typ])
        s["outputs"][src_slot]["links"].append(lid)
        d["inputs"][slot]["link"] = lid

    def group(self, title, bounding, color="#3f789e"):
        self.groups.append({"id": len(self.groups) + 1, "title": title, "bounding": list(bounding),
                            "color": color, "font_size": 24, "flags": {}})

    def to_json(self) -> dict:
        # "order": a topological order of the graph, as the frontend computes it
        deps = {n["id"]: {l[1] for l in self.links if l[3] == n["id"]} for n in self.nodes}
        order, done = [], set()
        while len(order) < len(self.nodes):
            ready = sorted(n for n, d in deps.items() if n not in done and d <= done)
            order += ready
            done |= set(ready)
        for n in self.nodes:
            n["order"] = order.index(n["id"])
            for o in n["outputs"]:  # the frontend writes null for an output never connected
                o["links"] = o["links"] or None
        return {"id": self.uid, "revision": 0,
                "last_node_id": max(n["id"] for n in self.nodes),
                "last_link_id": len(self.links),
                "nodes": sorted(self.nodes, key=lambda n: n["order"]),
                "links": self.links, "groups": self.groups, "config": {},
                "extra": {"ds": {"scale": 0.75, "offset": [80, 120]},
                          "frontendVersion": FRONTEND_VERSION},
                "version": 0.4}


def svg_note(model: str, warmup_pct: int, extra: str) -> str:
    return f"""## SVG Sparse Attention ({model})

Sparse VideoGen speeds up video diffusion transformers by skipping most of the attention work:
each attention head is profiled on a few sampled query rows and runs either as a **spatial**
head (tokens of the same and nearby frames) or a **temporal** head (the same position across
frames).

- **sparsity**: fraction of the attention work skipped in sparse steps. Default **0.75**
  (keeps 25%). Higher is faster and drifts further from the dense result; **0** runs dense.
- **dense_warmup**: fraction of the sampling steps, from the start, that stay dense (they lay
  out the scene). **{warmup_pct / 100:.1f}** here ({warmup_pct}% of the steps), the SVG authors'
  setting for {model}.
- **dense_blocks**: leading transformer blocks that always run dense. **1** here.
- **backend**: **auto** uses the Triton kernels on CUDA GPUs and a plain-PyTorch reference
  elsewhere (slow: for checking, not for speed).
- **sampled_rows**, **profile_seed**, **verbose**: profiling details; the defaults are fine.

The node logs one `[SVG] run summary:` line per sampling run (sparse/dense calls, head types,
achieved density). To compare with the dense video, bypass the node (Ctrl+B) and queue again
with the same seed.

{extra}"""


def wan_t2v() -> dict:
    g = Graph("5f2b7c1e-8d3a-4c6b-9e1f-2a7d4b8c9e01")
    g.node(37, "UNETLoader", (-300, 40), (340, 82), ["wan2.1_t2v_1.3B_fp16.safetensors", "default"],
           title="Load Wan 2.1 T2V 1.3B",
           models=[model_ref("wan2.1_t2v_1.3B_fp16.safetensors",
                             f"{WAN_REPO}/diffusion_models/wan2.1_t2v_1.3B_fp16.safetensors",
                             "diffusion_models")])
    g.node(38, "CLIPLoader", (-300, 200), (340, 106),
           ["umt5_xxl_fp8_e4m3fn_scaled.safetensors", "wan", "default"],
           models=[model_ref("umt5_xxl_fp8_e4m3fn_scaled.safetensors",
                             f"{WAN_REPO}/text_encoders/umt5_xxl_fp8_e4m3fn_scaled.safetensors",
                             "text_encoders")])
    g.node(39, "VAELoader", (-300, 640), (340, 58), ["wan_2.1_vae.safetensors"],
           models=[model_ref("wan_2.1_vae.safetensors", f"{WAN_REPO}/vae/wan_2.1_vae.safetensors", "vae")])
    g.node(50, "SVGSparseAttention", (80, -160), (320, 250),
           [0.75, 0.2, 1, 64, "auto", 0, False], color="#223", bgcolor="#335")
    g.node(48, "ModelSamplingSD3", (440, -160), (300, 58), [8.0])
    g.node(6, "CLIPTextEncode", (80, 140), (420, 160),
           ["A red fox trots through fresh snow in a pine forest at sunrise, breath steaming, "
            "soft golden light between the trees, the camera tracks alongside it at ground level."],
           title="CLIP Text Encode (Positive Prompt)", color="#232", bgcolor="#353")
    g.node(7, "CLIPTextEncode", (80, 350), (420, 140),
           ["blurry, low quality, overexposed, static frame, jpeg artifacts, watermark, subtitles, "
            "distorted anatomy, extra limbs, fused fingers, messy background, still image"],
           title="CLIP Text Encode (Negative Prompt)", color="#322", bgcolor="#533")
    g.node(40, "EmptyHunyuanLatentVideo", (80, 540), (315, 130), [832, 480, 81, 1])
    g.node(3, "KSampler", (560, -60), (315, 262), [42, "fixed", 30, 6.0, "uni_pc", "simple", 1.0])
    g.node(8, "VAEDecode", (920, -60), (210, 46))
    g.node(49, "CreateVideo", (920, 40), (270, 78), [16.0])
    g.node(51, "SaveVideo", (1220, -60), (600, 480), ["video/wan2.1_svg", "auto", "auto"])
    g.node(60, "MarkdownNote", (-360, -460), (420, 420),
           [svg_note("Wan 2.1", 20,
                     "Wan 2.1 1.3B loses more quality under sparsity than 14B, per the SVG authors; "
                     "lower the sparsity (e.g. 0.5) if details degrade. 832x480, 81 frames, 30 steps "
                     "as in ComfyUI's Wan example.")],
           title="About the SVG node", color="#432", bgcolor="#653")
    g.link(37, 0, 50, "model")
    g.link(50, 0, 48, "model")
    g.link(48, 0, 3, "model")
    g.link(38, 0, 6, "clip")
    g.link(38, 0, 7, "clip")
    g.link(6, 0, 3, "positive")
    g.link(7, 0, 3, "negative")
    g.link(40, 0, 3, "latent_image")
    g.link(3, 0, 8, "samples")
    g.link(39, 0, 8, "vae")
    g.link(8, 0, 49, "images")
    g.link(49, 0, 51, "video")
    g.group("Models", (-320, -40, 380, 760))
    g.group("SVG sparse attention", (60, -240, 700, 350), color="#335")
    return g.to_json()


def hunyuan_t2v() -> dict:
    g = Graph("9c4e1a7b-3f2d-4e8a-b6c5-0d1e2f3a4b5c")
    g.node(12, "UNETLoader", (-300, 40), (360, 82),
           ["hunyuan_video_t2v_720p_bf16.safetensors", "default"], title="Load HunyuanVideo T2V 720p",
           models=[model_ref("hunyuan_video_t2v_720p_bf16.safetensors",
                             f"{HY_REPO}/diffusion_models/hunyuan_video_t2v_720p_bf16.safetensors",
                             "diffusion_models")])
    g.node(11, "DualCLIPLoader", (-300, 200), (360, 130),
           ["clip_l.safetensors", "llava_llama3_fp8_scaled.safetensors", "hunyuan_video", "default"],
           models=[model_ref("clip_l.safetensors", CLIP_L_URL, "text_encoders"),
                   model_ref("llava_llama3_fp8_scaled.safetensors",
                             f"{HY_REPO}/text_encoders/llava_llama3_fp8_scaled.safetensors",
                             "text_encoders")])
    g.node(10, "VAELoader", (-300, 680), (360, 58), ["hunyuan_video_vae_bf16.safetensors"],
           models=[model_ref("hunyuan_video_vae_bf16.safetensors",
                             f"{HY_REPO}/vae/hunyuan_video_vae_bf16.safetensors", "vae")])
    g.node(70, "SVGSparseAttention", (100, -200), (320, 250),
           [0.75, 0.1, 1, 64, "auto", 0, False], color="#223", bgcolor="#335")
    g.node(67, "ModelSamplingSD3", (460, -200), (300, 58), [7.0])
    g.node(44, "CLIPTextEncode", (100, 120), (420, 180),
           ["A paper boat drifts down a rain-soaked city street at dusk, neon signs reflecting in "
            "the puddles, raindrops rippling the water, shallow depth of field, cinematic."],
           title="CLIP Text Encode (Positive Prompt)", color="#232", bgcolor="#353")
    g.node(26, "FluxGuidance", (560, 120), (300, 58), [6.0])
    g.node(45, "EmptyHunyuanLatentVideo", (100, 360), (315, 130), [1280, 720, 129, 1])
    g.node(25, "RandomNoise", (900, -200), (300, 82), [42, "fixed"])
    g.node(16, "KSamplerSelect", (900, -80), (300, 58), ["euler"])
    g.node(17, "BasicScheduler", (900, 20), (300, 106), ["simple", 30, 1.0])
    g.node(22, "BasicGuider", (900, 170), (240, 46))
    g.node(13, "SamplerCustomAdvanced", (1240, -200), (280, 330))
    g.node(73, "VAEDecodeTiled", (1240, 180), (240, 150), [256, 64, 64, 8])
    g.node(79, "CreateVideo", (1240, 380), (270, 78), [24.0])
    g.node(80, "SaveVideo", (1560, -200), (700, 500), ["video/hunyuan_video_svg", "auto", "auto"])
    g.node(90, "MarkdownNote", (-360, -500), (420, 460),
           [svg_note("HunyuanVideo", 10,
                     "1280x720, 129 frames: HunyuanVideo at 720p, where most of the time is "
                     "attention and SVG helps most. The tiled VAE decode keeps memory in check; lower "
                     "tile_size if you run out of memory.")],
           title="About the SVG node", color="#432", bgcolor="#653")
    g.link(12, 0, 70, "model")
    g.link(70, 0, 67, "model")
    g.link(67, 0, 22, "model")
    g.link(67, 0, 17, "model")
    g.link(11, 0, 44, "clip")
    g.link(44, 0, 26, "conditioning")
    g.link(26, 0, 22, "conditioning")
    g.link(25, 0, 13, "noise")
    g.link(22, 0, 13, "guider")
    g.link(16, 0, 13, "sampler")
    g.link(17, 0, 13, "sigmas")
    g.link(45, 0, 13, "latent_image")
    g.link(13, 0, 73, "samples")
    g.link(10, 0, 73, "vae")
    g.link(73, 0, 79, "images")
    g.link(79, 0, 80, "video")
    g.group("Models", (-320, -40, 400, 800))
    g.group("SVG sparse attention", (80, -280, 700, 350), color="#335")
    return g.to_json()


WORKFLOWS = {
    "wan2.1_t2v_1.3B_480p_svg.json": wan_t2v,
    "hunyuanvideo_t2v_720p_svg.json": hunyuan_t2v,
}


def render(fn) -> str:
    return json.dumps(fn(), indent=2, ensure_ascii=False) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--check", action="store_true", help="only check that the files are current")
    a = ap.parse_args()
    stale = []
    for name, fn in WORKFLOWS.items():
        path = OUT_DIR / name
        text = render(fn)
        if a.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(name)
        else:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    if stale:
        print("out of date (run python3 scripts/make_workflows.py):", ", ".join(stale))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

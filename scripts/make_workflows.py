"""Generate the example workflows in workflows/ (ComfyUI UI format, as frontend 1.32 saves it).

    python3 scripts/make_workflows.py            # (re)write workflows/*.json
    python3 scripts/make_workflows.py --check    # fail if the committed files differ

The graphs follow ComfyUI's official Wan 2.1 (T2V, I2V 480p), Wan 2.2 14B T2V (two experts),
HunyuanVideo text-to-video and image-to-video (v2 replace), LTX-Video 0.9.5 text-to-video,
Mochi and Cosmos Predict2 2B image-to-video examples (same nodes and model file names), with an
"SVG Sparse Attention" node between each diffusion model loader and its sampler, and a note
explaining its settings. LTX-Video's example loads model and VAE from one checkpoint
(CheckpointLoaderSimple), which is kept: that checkpoint is the only official file.

No CogVideoX example: ComfyUI 0.3.75 has no CogVideoX, and the newer ComfyUI checked (the
commit that adds comfy/ldm/cogvideo) offers no CogVideoX text-encoder type in CLIPLoader and no
official CogVideoX example or template to follow.
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
                            ("profile_seed", "INT"), ("verbose", "BOOLEAN"),
                            ("attention_precision", "COMBO", "optional"),
                            ("fp8_dense_steps", "BOOLEAN", "optional"), ("pattern", "COMBO", "optional"),
                            ("svg2_top_p", "FLOAT", "optional"), ("svg2_query_clusters", "INT", "optional"),
                            ("svg2_key_clusters", "INT", "optional"),
                            ("svg2_warm_iterations", "INT", "optional")], [("MODEL", "MODEL")]),
    "KSampler": ([("model", "MODEL"), ("seed", "INT"), ("steps", "INT"), ("cfg", "FLOAT"),
                  ("sampler_name", "COMBO"), ("scheduler", "COMBO"), ("positive", "CONDITIONING"),
                  ("negative", "CONDITIONING"), ("latent_image", "LATENT"), ("denoise", "FLOAT")],
                 [("LATENT", "LATENT")]),
    "KSamplerAdvanced": ([("model", "MODEL"), ("add_noise", "COMBO"), ("noise_seed", "INT"),
                          ("steps", "INT"), ("cfg", "FLOAT"), ("sampler_name", "COMBO"),
                          ("scheduler", "COMBO"), ("positive", "CONDITIONING"),
                          ("negative", "CONDITIONING"), ("latent_image", "LATENT"),
                          ("start_at_step", "INT"), ("end_at_step", "INT"),
                          ("return_with_leftover_noise", "COMBO")], [("LATENT", "LATENT")]),
    "CLIPVisionLoader": ([("clip_name", "COMBO")], [("CLIP_VISION", "CLIP_VISION")]),
    "CLIPVisionEncode": ([("clip_vision", "CLIP_VISION"), ("image", "IMAGE"), ("crop", "COMBO")],
                         [("CLIP_VISION_OUTPUT", "CLIP_VISION_OUTPUT")]),
    "LoadImage": ([("image", "COMBO")], [("IMAGE", "IMAGE"), ("MASK", "MASK")]),
    "WanImageToVideo": ([("positive", "CONDITIONING"), ("negative", "CONDITIONING"), ("vae", "VAE"),
                         ("width", "INT"), ("height", "INT"), ("length", "INT"),
                         ("batch_size", "INT"),
                         ("clip_vision_output", "CLIP_VISION_OUTPUT", "optional"),
                         ("start_image", "IMAGE", "optional")],
                        [("positive", "CONDITIONING"), ("negative", "CONDITIONING"),
                         ("latent", "LATENT")]),
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
    "CheckpointLoaderSimple": ([("ckpt_name", "COMBO")],
                               [("MODEL", "MODEL"), ("CLIP", "CLIP"), ("VAE", "VAE")]),
    "LTXVConditioning": ([("positive", "CONDITIONING"), ("negative", "CONDITIONING"),
                          ("frame_rate", "FLOAT")],
                         [("positive", "CONDITIONING"), ("negative", "CONDITIONING")]),
    "EmptyLTXVLatentVideo": ([("width", "INT"), ("height", "INT"), ("length", "INT"),
                              ("batch_size", "INT")], [("LATENT", "LATENT")]),
    "LTXVScheduler": ([("steps", "INT"), ("max_shift", "FLOAT"), ("base_shift", "FLOAT"),
                       ("stretch", "BOOLEAN"), ("terminal", "FLOAT"),
                       ("latent", "LATENT", "optional")], [("SIGMAS", "SIGMAS")]),
    "SamplerCustom": ([("model", "MODEL"), ("add_noise", "BOOLEAN"), ("noise_seed", "INT"),
                       ("cfg", "FLOAT"), ("positive", "CONDITIONING"), ("negative", "CONDITIONING"),
                       ("sampler", "SAMPLER"), ("sigmas", "SIGMAS"), ("latent_image", "LATENT")],
                      [("output", "LATENT"), ("denoised_output", "LATENT")]),
    "TextEncodeHunyuanVideo_ImageToVideo": ([("clip", "CLIP"),
                                             ("clip_vision_output", "CLIP_VISION_OUTPUT"),
                                             ("prompt", "STRING"), ("image_interleave", "INT")],
                                            [("CONDITIONING", "CONDITIONING")]),
    "HunyuanImageToVideo": ([("positive", "CONDITIONING"), ("vae", "VAE"), ("width", "INT"),
                             ("height", "INT"), ("length", "INT"), ("batch_size", "INT"),
                             ("guidance_type", "COMBO"), ("start_image", "IMAGE", "optional")],
                            [("positive", "CONDITIONING"), ("latent", "LATENT")]),
    "EmptyMochiLatentVideo": ([("width", "INT"), ("height", "INT"), ("length", "INT"),
                               ("batch_size", "INT")], [("LATENT", "LATENT")]),
    "CosmosPredict2ImageToVideoLatent": ([("vae", "VAE"), ("width", "INT"), ("height", "INT"),
                                          ("length", "INT"), ("batch_size", "INT"),
                                          ("start_image", "IMAGE", "optional"),
                                          ("end_image", "IMAGE", "optional")],
                                         [("LATENT", "LATENT")]),
    "MarkdownNote": ([], []),
    # ---- the video families of 2026: nodes of ComfyUI 0.19.3 (its /object_info order); the ones
    # marked (torchaudio) live in comfy_extras modules that import torchaudio
    "LTXAVTextEncoderLoader": ([("text_encoder", "COMBO"), ("ckpt_name", "COMBO"), ("device", "COMBO")],
                               [("CLIP", "CLIP")]),                                # (torchaudio)
    "LTXVAudioVAELoader": ([("ckpt_name", "COMBO")], [("Audio VAE", "VAE")]),      # (torchaudio)
    "LTXVEmptyLatentAudio": ([("frames_number", "INT"), ("frame_rate", "INT"), ("batch_size", "INT"),
                              ("audio_vae", "VAE")], [("Latent", "LATENT")]),      # (torchaudio)
    "LTXVAudioVAEDecode": ([("samples", "LATENT"), ("audio_vae", "VAE")], [("Audio", "AUDIO")]),  # (torchaudio)
    "LTXVConcatAVLatent": ([("video_latent", "LATENT"), ("audio_latent", "LATENT")], [("latent", "LATENT")]),
    "LTXVSeparateAVLatent": ([("av_latent", "LATENT")],
                             [("video_latent", "LATENT"), ("audio_latent", "LATENT")]),
    "CFGGuider": ([("model", "MODEL"), ("positive", "CONDITIONING"), ("negative", "CONDITIONING"),
                   ("cfg", "FLOAT")], [("GUIDER", "GUIDER")]),
    "EmptyHunyuanVideo15Latent": ([("width", "INT"), ("height", "INT"), ("length", "INT"),
                                   ("batch_size", "INT")], [("LATENT", "LATENT")]),
    "HunyuanVideo15SuperResolution": ([("positive", "CONDITIONING"), ("negative", "CONDITIONING"),
                                       ("latent", "LATENT"), ("noise_augmentation", "FLOAT"),
                                       ("vae", "VAE", "optional"), ("start_image", "IMAGE", "optional"),
                                       ("clip_vision_output", "CLIP_VISION_OUTPUT", "optional")],
                                      [("positive", "CONDITIONING"), ("negative", "CONDITIONING"),
                                       ("latent", "LATENT")]),
    "LatentUpscaleModelLoader": ([("model_name", "COMBO")], [("LATENT_UPSCALE_MODEL", "LATENT_UPSCALE_MODEL")]),
    "HunyuanVideo15LatentUpscaleWithModel": ([("model", "LATENT_UPSCALE_MODEL"), ("samples", "LATENT"),
                                              ("upscale_method", "COMBO"), ("width", "INT"),
                                              ("height", "INT"), ("crop", "COMBO")], [("LATENT", "LATENT")]),
    "Kandinsky5ImageToVideo": ([("positive", "CONDITIONING"), ("negative", "CONDITIONING"), ("vae", "VAE"),
                                ("width", "INT"), ("height", "INT"), ("length", "INT"), ("batch_size", "INT"),
                                ("start_image", "IMAGE", "optional")],
                               [("positive", "CONDITIONING"), ("negative", "CONDITIONING"),
                                ("latent", "LATENT"), ("cond_latent", "LATENT")]),
    "WanVaceToVideo": ([("positive", "CONDITIONING"), ("negative", "CONDITIONING"), ("vae", "VAE"),
                        ("width", "INT"), ("height", "INT"), ("length", "INT"), ("batch_size", "INT"),
                        ("strength", "FLOAT"), ("control_video", "IMAGE", "optional"),
                        ("control_masks", "MASK", "optional"), ("reference_image", "IMAGE", "optional")],
                       [("positive", "CONDITIONING"), ("negative", "CONDITIONING"), ("latent", "LATENT"),
                        ("trim_latent", "INT")]),
    "TrimVideoLatent": ([("samples", "LATENT"), ("trim_amount", "INT")], [("LATENT", "LATENT")]),
    "WanCameraEmbedding": ([("camera_pose", "COMBO"), ("width", "INT"), ("height", "INT"), ("length", "INT"),
                            ("speed", "FLOAT", "optional"), ("fx", "FLOAT", "optional"),
                            ("fy", "FLOAT", "optional"), ("cx", "FLOAT", "optional"),
                            ("cy", "FLOAT", "optional")],
                           [("camera_embedding", "WAN_CAMERA_EMBEDDING"), ("width", "INT"),
                            ("height", "INT"), ("length", "INT")]),
    "WanCameraImageToVideo": ([("positive", "CONDITIONING"), ("negative", "CONDITIONING"), ("vae", "VAE"),
                               ("width", "INT"), ("height", "INT"), ("length", "INT"), ("batch_size", "INT"),
                               ("clip_vision_output", "CLIP_VISION_OUTPUT", "optional"),
                               ("start_image", "IMAGE", "optional"),
                               ("camera_conditions", "WAN_CAMERA_EMBEDDING", "optional")],
                              [("positive", "CONDITIONING"), ("negative", "CONDITIONING"), ("latent", "LATENT")]),
    "WanHuMoImageToVideo": ([("positive", "CONDITIONING"), ("negative", "CONDITIONING"), ("vae", "VAE"),
                             ("width", "INT"), ("height", "INT"), ("length", "INT"), ("batch_size", "INT"),
                             ("audio_encoder_output", "AUDIO_ENCODER_OUTPUT", "optional"),
                             ("ref_image", "IMAGE", "optional")],
                            [("positive", "CONDITIONING"), ("negative", "CONDITIONING"), ("latent", "LATENT")]),
    "AudioEncoderLoader": ([("audio_encoder_name", "COMBO")], [("AUDIO_ENCODER", "AUDIO_ENCODER")]),  # (torchaudio)
    "AudioEncoderEncode": ([("audio_encoder", "AUDIO_ENCODER"), ("audio", "AUDIO")],
                           [("AUDIO_ENCODER_OUTPUT", "AUDIO_ENCODER_OUTPUT")]),                    # (torchaudio)
    "LoadAudio": ([("audio", "COMBO")], [("AUDIO", "AUDIO")]),                                      # (torchaudio)
    "WanSoundImageToVideo": ([("positive", "CONDITIONING"), ("negative", "CONDITIONING"), ("vae", "VAE"),
                              ("width", "INT"), ("height", "INT"), ("length", "INT"), ("batch_size", "INT"),
                              ("audio_encoder_output", "AUDIO_ENCODER_OUTPUT", "optional"),
                              ("ref_image", "IMAGE", "optional"), ("control_video", "IMAGE", "optional"),
                              ("ref_motion", "IMAGE", "optional")],
                             [("positive", "CONDITIONING"), ("negative", "CONDITIONING"), ("latent", "LATENT")]),
    "WanAnimateToVideo": ([("positive", "CONDITIONING"), ("negative", "CONDITIONING"), ("vae", "VAE"),
                           ("width", "INT"), ("height", "INT"), ("length", "INT"), ("batch_size", "INT"),
                           ("continue_motion_max_frames", "INT"), ("video_frame_offset", "INT"),
                           ("clip_vision_output", "CLIP_VISION_OUTPUT", "optional"),
                           ("reference_image", "IMAGE", "optional"), ("face_video", "IMAGE", "optional"),
                           ("pose_video", "IMAGE", "optional"), ("background_video", "IMAGE", "optional"),
                           ("character_mask", "MASK", "optional"), ("continue_motion", "IMAGE", "optional")],
                          [("positive", "CONDITIONING"), ("negative", "CONDITIONING"), ("latent", "LATENT"),
                           ("trim_latent", "INT"), ("trim_image", "INT"), ("video_frame_offset", "INT")]),
    "WanSCAILToVideo": ([("positive", "CONDITIONING"), ("negative", "CONDITIONING"), ("vae", "VAE"),
                         ("width", "INT"), ("height", "INT"), ("length", "INT"), ("batch_size", "INT"),
                         ("pose_strength", "FLOAT"), ("pose_start", "FLOAT"), ("pose_end", "FLOAT"),
                         ("clip_vision_output", "CLIP_VISION_OUTPUT", "optional"),
                         ("reference_image", "IMAGE", "optional"), ("pose_video", "IMAGE", "optional")],
                        [("positive", "CONDITIONING"), ("negative", "CONDITIONING"), ("latent", "LATENT")]),
    "LoadVideo": ([("file", "COMBO")], [("VIDEO", "VIDEO")]),
    "GetVideoComponents": ([("video", "VIDEO")], [("images", "IMAGE"), ("audio", "AUDIO"), ("fps", "FLOAT")]),
    "VAEEncode": ([("pixels", "IMAGE"), ("vae", "VAE")], [("LATENT", "LATENT")]),
}
CONTROL_AFTER_GENERATE = {("KSampler", "seed"), ("RandomNoise", "noise_seed"),
                          ("KSamplerAdvanced", "noise_seed"), ("SamplerCustom", "noise_seed")}
EXTRA_WIDGETS = {"LoadImage": 1,  # the "upload" button's value ("image") after the file name
                 "LoadVideo": 1,  # the same for a video (as ComfyUI's templates save it)
                 "LoadAudio": 2}  # upload button and audio player (as ComfyUI's templates save them)
OPTIONAL_SHAPE = 7  # LiteGraph RenderShape.HollowCircle, what the frontend gives optional inputs

WAN_REPO = "https://huggingface.co/Comfy-Org/Wan_2.1_ComfyUI_repackaged/resolve/main/split_files"
WAN22_REPO = "https://huggingface.co/Comfy-Org/Wan_2.2_ComfyUI_Repackaged/resolve/main/split_files"
HY_REPO = "https://huggingface.co/Comfy-Org/HunyuanVideo_repackaged/resolve/main/split_files"
CLIP_L_URL = "https://huggingface.co/comfyanonymous/flux_text_encoders/resolve/main/clip_l.safetensors"
MOCHI_REPO = "https://huggingface.co/Comfy-Org/mochi_preview_repackaged/resolve/main/split_files"
LTXV_URL = "https://huggingface.co/Lightricks/LTX-Video/resolve/main/ltx-video-2b-v0.9.5.safetensors"
COSMOS2_REPO = "https://huggingface.co/Comfy-Org/Cosmos_Predict2_repackaged/resolve/main"
COSMOS_TE_URL = ("https://huggingface.co/comfyanonymous/cosmos_1.0_text_encoder_and_VAE_ComfyUI/"
                 "resolve/main/text_encoders/oldt5_xxl_fp8_e4m3fn_scaled.safetensors")
T5XXL_URL = f"{MOCHI_REPO}/text_encoders/t5xxl_fp16.safetensors"


FOX_PROMPT = ("A red fox trots through fresh snow in a pine forest at sunrise, breath steaming, "
              "soft golden light between the trees, the camera tracks alongside it at ground level.")
WAN_NEGATIVE = ("blurry, low quality, overexposed, static frame, jpeg artifacts, watermark, subtitles, "
                "distorted anatomy, extra limbs, fused fingers, messy background, still image")


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
        if ntype in ("LoadImage", "LoadVideo"):  # the frontend's upload button, saved as one more widget input
            inputs.append({"localized_name": "choose file to upload", "name": "upload",
                           "type": "IMAGEUPLOAD", "widget": {"name": "upload"}, "link": None})
        expected = len(widgets_in) + sum((ntype, w[0]) in CONTROL_AFTER_GENERATE for w in widgets_in)
        expected += EXTRA_WIDGETS.get(ntype, 0)
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


NO_PUBLISHED_WARMUP = ("**0.2** here (20% of the steps). The SVG authors publish no setting for\n"
                       "  {model}; 0.2 is theirs for Wan 2.1 text-to-video. Raise it if the layout drifts.")


def svg_note(model: str, warmup_pct: int, extra: str, warmup_text: str | None = None) -> str:
    if warmup_text is None:
        warmup_text = (f"**{warmup_pct / 100:g}** here ({warmup_pct}% of the steps), the SVG "
                       f"authors'\n  setting for {model}.")
    return f"""## SVG Sparse Attention ({model})

Sparse VideoGen speeds up video diffusion transformers by skipping most of the attention work:
each attention head is profiled on a few sampled query rows and runs either as a **spatial**
head (tokens of the same and nearby frames) or a **temporal** head (the same position across
frames).

- **sparsity**: fraction of the attention work skipped in sparse steps. Default **0.75**
  (keeps 25%). Higher is faster and drifts further from the dense result; **0** runs dense.
- **dense_warmup**: fraction of the sampling steps, from the start, that stay dense (they lay
  out the scene). {warmup_text}
- **dense_blocks**: leading transformer blocks that always run dense. **1** here.
- **backend**: **auto** uses the Triton kernels on CUDA GPUs and a plain-PyTorch reference
  elsewhere (slow: for checking, not for speed).
- **sampled_rows**, **profile_seed**, **verbose**: profiling details; the defaults are fine.

The node logs one `[SVG] run summary:` line per sampling run (sparse/dense calls, head types,
achieved density). To compare with the dense video, bypass the node (Ctrl+B) and queue again
with the same seed.

{extra}"""


def _svg_node(g: Graph, nid: int, pos, dense_warmup: float = 0.2, title=None) -> None:
    """The SVG node at its defaults but for the warm-up, in the pack's colours."""
    g.node(nid, "SVGSparseAttention", pos, (320, 370),
           [0.75, dense_warmup, 1, 64, "auto", 0, False, "auto", False, "svg", 0.0, 0, 0, 1],
           title=title, color="#223", bgcolor="#335")


def _prompts(g: Graph, ids, clip: int, pos, positive: str, negative: str, width: int = 420,
             heights=(160, 140)) -> None:
    """Positive and negative CLIPTextEncode (ids = (positive, negative)), the negative below the
    positive, both fed by the text encoder ``clip``."""
    x, y = pos
    g.node(ids[0], "CLIPTextEncode", (x, y), (width, heights[0]), [positive],
           title="CLIP Text Encode (Positive Prompt)", color="#232", bgcolor="#353")
    g.node(ids[1], "CLIPTextEncode", (x, y + heights[0] + 50), (width, heights[1]), [negative],
           title="CLIP Text Encode (Negative Prompt)", color="#322", bgcolor="#533")
    for nid in ids:
        g.link(clip, 0, nid, "clip")


def _decode_and_save(g: Graph, ids, pos, fps: float, prefix: str, samples, vae) -> None:
    """VAEDecode -> CreateVideo -> SaveVideo (ids in that order) at ``pos``; ``samples`` and
    ``vae`` are the (node, output slot) they read."""
    decode, create, save = ids
    x, y = pos
    g.node(decode, "VAEDecode", (x, y), (210, 46))
    g.node(create, "CreateVideo", (x, y + 100), (270, 78), [fps])
    g.node(save, "SaveVideo", (x + 300, y), (600, 480), [prefix, "auto", "auto"])
    g.link(samples[0], samples[1], decode, "samples")
    g.link(vae[0], vae[1], decode, "vae")
    g.link(decode, 0, create, "images")
    g.link(create, 0, save, "video")


def wan_t2v() -> dict:
    g = Graph("5f2b7c1e-8d3a-4c6b-9e1f-2a7d4b8c9e01")
    g.node(37, "UNETLoader", (-300, 40), (340, 82), ["wan2.1_t2v_1.3B_fp16.safetensors", "default"],
           title="Load Wan 2.1 T2V 1.3B",
           models=[model_ref("wan2.1_t2v_1.3B_fp16.safetensors",
                             f"{WAN_REPO}/diffusion_models/wan2.1_t2v_1.3B_fp16.safetensors",
                             "diffusion_models")])
    _wan_text_encoder(g, 38, (-300, 200))
    _wan_vae(g, 39, (-300, 640))
    _svg_node(g, 50, (80, -290))
    g.node(48, "ModelSamplingSD3", (440, -160), (300, 58), [8.0])
    _prompts(g, (6, 7), 38, (80, 140), FOX_PROMPT, WAN_NEGATIVE)
    g.node(40, "EmptyHunyuanLatentVideo", (80, 540), (315, 130), [832, 480, 81, 1])
    g.node(3, "KSampler", (560, -60), (315, 262), [42, "fixed", 30, 6.0, "uni_pc", "simple", 1.0])
    _decode_and_save(g, (8, 49, 51), (920, -60), 16.0, "video/wan2.1_svg", samples=(3, 0), vae=(39, 0))
    g.node(60, "MarkdownNote", (-360, -460), (420, 420),
           [svg_note("Wan 2.1", 20,
                     "Wan 2.1 1.3B loses more quality under sparsity than 14B, per the SVG authors; "
                     "lower the sparsity (e.g. 0.5) if details degrade. 832x480, 81 frames, 30 steps "
                     "as in ComfyUI's Wan example.")],
           title="About the SVG node", color="#432", bgcolor="#653")
    g.link(37, 0, 50, "model")
    g.link(50, 0, 48, "model")
    g.link(48, 0, 3, "model")
    g.link(6, 0, 3, "positive")
    g.link(7, 0, 3, "negative")
    g.link(40, 0, 3, "latent_image")
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
    _svg_node(g, 70, (100, -330), dense_warmup=0.1)
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


def _wan_text_encoder(g: Graph, nid: int, pos) -> None:
    g.node(nid, "CLIPLoader", pos, (340, 106),
           ["umt5_xxl_fp8_e4m3fn_scaled.safetensors", "wan", "default"],
           models=[model_ref("umt5_xxl_fp8_e4m3fn_scaled.safetensors",
                             f"{WAN_REPO}/text_encoders/umt5_xxl_fp8_e4m3fn_scaled.safetensors",
                             "text_encoders")])


def _wan_vae(g: Graph, nid: int, pos) -> None:
    g.node(nid, "VAELoader", pos, (340, 58), ["wan_2.1_vae.safetensors"],
           models=[model_ref("wan_2.1_vae.safetensors", f"{WAN_REPO}/vae/wan_2.1_vae.safetensors", "vae")])


def wan22_t2v_two_experts() -> dict:
    """Wan 2.2 14B T2V: the high-noise expert samples the first half of the steps, the low-noise
    expert the rest (two KSamplerAdvanced), each model through its own SVG node."""
    g = Graph("3d7a9e2c-6b1f-4a8d-9c3e-7f2b5d1a8e46")
    high, low = ("wan2.2_t2v_high_noise_14B_fp8_scaled.safetensors",
                 "wan2.2_t2v_low_noise_14B_fp8_scaled.safetensors")
    g.node(37, "UNETLoader", (-300, -120), (380, 82), [high, "default"],
           title="Load Wan 2.2 T2V 14B (high noise)",
           models=[model_ref(high, f"{WAN22_REPO}/diffusion_models/{high}", "diffusion_models")])
    g.node(56, "UNETLoader", (-300, 0), (380, 82), [low, "default"],
           title="Load Wan 2.2 T2V 14B (low noise)",
           models=[model_ref(low, f"{WAN22_REPO}/diffusion_models/{low}", "diffusion_models")])
    _wan_text_encoder(g, 38, (-300, 200))
    _wan_vae(g, 39, (-300, 640))
    _svg_node(g, 70, (120, -780), title="SVG Sparse Attention (high noise)")
    _svg_node(g, 71, (120, -370), dense_warmup=0.0, title="SVG Sparse Attention (low noise)")
    g.node(54, "ModelSamplingSD3", (480, -520), (300, 58), [8.0])
    g.node(55, "ModelSamplingSD3", (480, -240), (300, 58), [8.0])
    _prompts(g, (6, 7), 38, (120, 140), FOX_PROMPT, WAN_NEGATIVE)
    g.node(59, "EmptyHunyuanLatentVideo", (120, 540), (315, 130), [1280, 720, 81, 1])
    g.node(57, "KSamplerAdvanced", (840, -520), (315, 334),
           ["enable", 42, "fixed", 20, 3.5, "euler", "simple", 0, 10, "enable"],
           title="KSampler (Advanced): high noise")
    g.node(58, "KSamplerAdvanced", (1200, -520), (315, 334),
           ["disable", 0, "fixed", 20, 3.5, "euler", "simple", 10, 10000, "disable"],
           title="KSampler (Advanced): low noise")
    _decode_and_save(g, (8, 61, 62), (1560, -520), 16.0, "video/wan2.2_svg", samples=(58, 0), vae=(39, 0))
    g.node(80, "MarkdownNote", (-360, -620), (420, 460),
           [svg_note("Wan 2.2 14B", 20,
                     "Two experts, two SVG nodes: each sampler counts `dense_warmup` in its own "
                     "steps. 1280x720, 81 frames, 20 steps (10 per expert), cfg 3.5.",
                     warmup_text="**0.2** on the high-noise expert (its first 2 of 10 steps: they "
                     "lay out the scene) and **0** on the low-noise expert, which starts from the "
                     "laid-out video and can run sparse from its first step.")],
           title="About the SVG nodes", color="#432", bgcolor="#653")
    g.link(37, 0, 70, "model")
    g.link(56, 0, 71, "model")
    g.link(70, 0, 54, "model")
    g.link(71, 0, 55, "model")
    g.link(54, 0, 57, "model")
    g.link(55, 0, 58, "model")
    for sampler in (57, 58):
        g.link(6, 0, sampler, "positive")
        g.link(7, 0, sampler, "negative")
    g.link(59, 0, 57, "latent_image")
    g.link(57, 0, 58, "latent_image")
    g.group("Models", (-320, -200, 420, 920))
    g.group("SVG sparse attention", (100, -600, 700, 650), color="#335")
    return g.to_json()


def wan_i2v() -> dict:
    """Wan 2.1 I2V 14B 480p: the start image through WanImageToVideo (latent channels) and its
    CLIP vision features (cross-attention); the video tokens are as in text-to-video."""
    g = Graph("b81e4c5a-2d9f-4e7b-8a3c-6f0d1e2b3c47")
    unet = "wan2.1_i2v_480p_14B_fp16.safetensors"
    g.node(37, "UNETLoader", (-300, 40), (360, 82), [unet, "default"],
           title="Load Wan 2.1 I2V 14B 480p",
           models=[model_ref(unet, f"{WAN_REPO}/diffusion_models/{unet}", "diffusion_models")])
    _wan_text_encoder(g, 38, (-300, 200))
    _wan_vae(g, 39, (-300, 360))
    g.node(49, "CLIPVisionLoader", (-300, 460), (360, 58), ["clip_vision_h.safetensors"],
           models=[model_ref("clip_vision_h.safetensors",
                             f"{WAN_REPO}/clip_vision/clip_vision_h.safetensors", "clip_vision")])
    g.node(52, "LoadImage", (-300, 560), (340, 330), ["example.png", "image"],
           title="Load Image (start frame)")
    g.node(51, "CLIPVisionEncode", (100, 620), (280, 78), ["none"])
    _svg_node(g, 70, (100, -330), dense_warmup=0.35)
    g.node(54, "ModelSamplingSD3", (460, -200), (300, 58), [8.0])
    _prompts(g, (6, 7), 38, (100, 120),
             "The fox in the picture turns its head towards the camera, snow falling softly, "
             "its fur moving in the wind, gentle handheld camera motion.", WAN_NEGATIVE)
    g.node(50, "WanImageToVideo", (560, 120), (340, 210), [512, 512, 33, 1])
    g.node(3, "KSampler", (940, -200), (315, 262), [42, "fixed", 20, 6.0, "uni_pc", "simple", 1.0])
    _decode_and_save(g, (8, 53, 55), (1300, -200), 16.0, "video/wan2.1_i2v_svg", samples=(3, 0), vae=(39, 0))
    g.node(60, "MarkdownNote", (-360, -500), (420, 460),
           [svg_note("Wan 2.1 I2V", 35,
                     "The start image reaches the model as extra latent channels and as CLIP "
                     "vision features (cross-attention, always dense): the video's self-attention "
                     "is sparse as in text-to-video. Pick your start image in Load Image. 512x512, "
                     "33 frames, 20 steps as in ComfyUI's Wan image-to-video example.")],
           title="About the SVG node", color="#432", bgcolor="#653")
    g.link(37, 0, 70, "model")
    g.link(70, 0, 54, "model")
    g.link(54, 0, 3, "model")
    g.link(49, 0, 51, "clip_vision")
    g.link(52, 0, 51, "image")
    g.link(6, 0, 50, "positive")
    g.link(7, 0, 50, "negative")
    g.link(39, 0, 50, "vae")
    g.link(51, 0, 50, "clip_vision_output")
    g.link(52, 0, 50, "start_image")
    g.link(50, 0, 3, "positive")
    g.link(50, 1, 3, "negative")
    g.link(50, 2, 3, "latent_image")
    g.group("Models", (-320, -40, 400, 960))
    g.group("SVG sparse attention", (80, -280, 700, 350), color="#335")
    return g.to_json()


def ltxv_t2v() -> dict:
    """LTX-Video 0.9.5 (2B) text-to-video as in ComfyUI's LTXV example: the checkpoint carries
    the model and the VAE, T5-XXL comes from its own loader, SamplerCustom with LTXVScheduler."""
    g = Graph("e4a1c7d2-5b3f-4d8e-9a6c-1f2e3d4c5b60")
    ckpt = "ltx-video-2b-v0.9.5.safetensors"
    g.node(44, "CheckpointLoaderSimple", (-300, 40), (360, 98), [ckpt],
           title="Load LTX-Video 2B 0.9.5 (model + VAE)",
           models=[model_ref(ckpt, LTXV_URL, "checkpoints")])
    g.node(38, "CLIPLoader", (-300, 200), (360, 106), ["t5xxl_fp16.safetensors", "ltxv", "default"],
           models=[model_ref("t5xxl_fp16.safetensors", T5XXL_URL, "text_encoders")])
    _svg_node(g, 50, (100, -330))
    _prompts(g, (6, 7), 38, (100, 120),
             "A red fox trots through fresh snow in a quiet pine forest at sunrise. Its breath "
             "steams in the cold air and soft golden light falls between the tall trunks. The "
             "camera tracks alongside it at ground level, snow crystals glittering in the low sun, "
             "then slowly rises as the fox stops at the edge of a frozen stream and looks across.",
             "low quality, worst quality, deformed, distorted, motion smear, motion artifacts, "
             "blurry, jittery, watermark", width=430, heights=(200, 140))
    g.node(69, "LTXVConditioning", (580, 120), (240, 78), [25.0])
    g.node(70, "EmptyLTXVLatentVideo", (580, 250), (315, 130), [768, 512, 97, 1])
    g.node(73, "KSamplerSelect", (580, 430), (315, 58), ["res_multistep"])
    g.node(71, "LTXVScheduler", (580, 530), (315, 154), [30, 2.05, 0.95, True, 0.1])
    g.node(72, "SamplerCustom", (940, -200), (355, 230), [True, 42, "fixed", 3.0])
    _decode_and_save(g, (8, 49, 51), (1340, -200), 24.0, "video/ltxv_svg", samples=(72, 0), vae=(44, 2))
    g.node(60, "MarkdownNote", (-360, -500), (420, 460),
           [svg_note("LTX-Video", 20, warmup_text=NO_PUBLISHED_WARMUP.format(model="LTX-Video"), extra=
                     "LTX-Video's self-attention (attn1) is sparse; its text cross-attention stays "
                     "dense. Untested at real size: the project README suggests sparsity **0.6** "
                     "as a cautious start for this family. Give the model long, descriptive "
                     "prompts. 768x512, 97 frames, 30 steps as in ComfyUI's LTXV example.")],
           title="About the SVG node", color="#432", bgcolor="#653")
    g.link(44, 0, 50, "model")
    g.link(50, 0, 72, "model")
    g.link(6, 0, 69, "positive")
    g.link(7, 0, 69, "negative")
    g.link(69, 0, 72, "positive")
    g.link(69, 1, 72, "negative")
    g.link(73, 0, 72, "sampler")
    g.link(70, 0, 71, "latent")
    g.link(71, 0, 72, "sigmas")
    g.link(70, 0, 72, "latent_image")
    g.group("Models", (-320, -40, 400, 400))
    g.group("SVG sparse attention", (80, -280, 700, 350), color="#335")
    return g.to_json()


def hunyuan_i2v() -> dict:
    """HunyuanVideo image-to-video, the "v2 (replace)" model of ComfyUI's example: the start
    image replaces the first latent frame and, through llava's vision tower, joins the prompt."""
    g = Graph("7b3d9f1a-2c4e-4a6b-8d0f-3e5a7c9b1d24")
    unet = "hunyuan_video_v2_replace_image_to_video_720p_bf16.safetensors"
    g.node(12, "UNETLoader", (-300, 40), (400, 82), [unet, "default"],
           title="Load HunyuanVideo I2V 720p (v2 replace)",
           models=[model_ref(unet, f"{HY_REPO}/diffusion_models/{unet}", "diffusion_models")])
    g.node(11, "DualCLIPLoader", (-300, 200), (400, 130),
           ["clip_l.safetensors", "llava_llama3_fp8_scaled.safetensors", "hunyuan_video", "default"],
           models=[model_ref("clip_l.safetensors", CLIP_L_URL, "text_encoders"),
                   model_ref("llava_llama3_fp8_scaled.safetensors",
                             f"{HY_REPO}/text_encoders/llava_llama3_fp8_scaled.safetensors",
                             "text_encoders")])
    g.node(10, "VAELoader", (-300, 380), (400, 58), ["hunyuan_video_vae_bf16.safetensors"],
           models=[model_ref("hunyuan_video_vae_bf16.safetensors",
                             f"{HY_REPO}/vae/hunyuan_video_vae_bf16.safetensors", "vae")])
    g.node(82, "CLIPVisionLoader", (-300, 480), (400, 58), ["llava_llama3_vision.safetensors"],
           models=[model_ref("llava_llama3_vision.safetensors",
                             f"{HY_REPO}/clip_vision/llava_llama3_vision.safetensors",
                             "clip_vision")])
    g.node(83, "LoadImage", (-300, 580), (360, 330), ["example.png", "image"],
           title="Load Image (start frame)")
    g.node(81, "CLIPVisionEncode", (100, 620), (280, 78), ["none"])
    _svg_node(g, 70, (100, -330), dense_warmup=0.1)
    g.node(67, "ModelSamplingSD3", (460, -200), (300, 58), [7.0])
    g.node(80, "TextEncodeHunyuanVideo_ImageToVideo", (100, 120), (440, 200),
           ["The fox in the picture turns its head towards the camera, snow falling softly, its "
            "fur moving in the wind, gentle handheld camera motion.", 4],
           title="Text Encode Hunyuan Video (ImageToVideo)", color="#232", bgcolor="#353")
    g.node(78, "HunyuanImageToVideo", (580, 120), (315, 194), [720, 720, 57, 1, "v2 (replace)"])
    g.node(26, "FluxGuidance", (580, 360), (300, 58), [6.0])
    g.node(25, "RandomNoise", (940, -200), (300, 82), [42, "fixed"])
    g.node(16, "KSamplerSelect", (940, -80), (300, 58), ["euler"])
    g.node(17, "BasicScheduler", (940, 20), (300, 106), ["simple", 20, 1.0])
    g.node(22, "BasicGuider", (940, 170), (240, 46))
    g.node(13, "SamplerCustomAdvanced", (1280, -200), (280, 330))
    g.node(73, "VAEDecodeTiled", (1280, 180), (240, 150), [256, 64, 64, 8])
    g.node(79, "CreateVideo", (1280, 380), (270, 78), [24.0])
    g.node(84, "SaveVideo", (1600, -200), (700, 500), ["video/hunyuan_video_i2v_svg", "auto", "auto"])
    g.node(90, "MarkdownNote", (-360, -500), (420, 460),
           [svg_note("HunyuanVideo I2V", 10,
                     "\"v2 (replace)\": the start image is the first latent frame (kept by the "
                     "noise mask), so the video tokens are laid out as in text-to-video and SVG "
                     "treats them the same way. Pick your start image in Load Image. 720x720, 57 "
                     "frames, 20 steps as in ComfyUI's HunyuanVideo image-to-video example.")],
           title="About the SVG node", color="#432", bgcolor="#653")
    g.link(12, 0, 70, "model")
    g.link(70, 0, 67, "model")
    g.link(67, 0, 22, "model")
    g.link(67, 0, 17, "model")
    g.link(82, 0, 81, "clip_vision")
    g.link(83, 0, 81, "image")
    g.link(11, 0, 80, "clip")
    g.link(81, 0, 80, "clip_vision_output")
    g.link(80, 0, 78, "positive")
    g.link(10, 0, 78, "vae")
    g.link(83, 0, 78, "start_image")
    g.link(78, 0, 26, "conditioning")
    g.link(26, 0, 22, "conditioning")
    g.link(25, 0, 13, "noise")
    g.link(22, 0, 13, "guider")
    g.link(16, 0, 13, "sampler")
    g.link(17, 0, 13, "sigmas")
    g.link(78, 1, 13, "latent_image")
    g.link(13, 0, 73, "samples")
    g.link(10, 0, 73, "vae")
    g.link(73, 0, 79, "images")
    g.link(79, 0, 84, "video")
    g.group("Models", (-320, -40, 440, 980))
    g.group("SVG sparse attention", (80, -280, 700, 350), color="#335")
    return g.to_json()


def mochi_t2v() -> dict:
    """Mochi 1 preview text-to-video as in ComfyUI's Mochi example."""
    g = Graph("c2f8a4d6-9e1b-4c3a-b7d5-4a6c8e0f2b13")
    unet = "mochi_preview_bf16.safetensors"
    g.node(37, "UNETLoader", (-300, 40), (360, 82), [unet, "default"], title="Load Mochi preview",
           models=[model_ref(unet, f"{MOCHI_REPO}/diffusion_models/{unet}", "diffusion_models")])
    g.node(38, "CLIPLoader", (-300, 200), (360, 106), ["t5xxl_fp16.safetensors", "mochi", "default"],
           models=[model_ref("t5xxl_fp16.safetensors", T5XXL_URL, "text_encoders")])
    g.node(39, "VAELoader", (-300, 360), (360, 58), ["mochi_vae.safetensors"],
           models=[model_ref("mochi_vae.safetensors", f"{MOCHI_REPO}/vae/mochi_vae.safetensors", "vae")])
    _svg_node(g, 50, (100, -330))
    _prompts(g, (6, 7), 38, (100, 120), FOX_PROMPT, "blurry, low quality, watermark", heights=(160, 120))
    g.node(21, "EmptyMochiLatentVideo", (100, 500), (315, 130), [848, 480, 37, 1])
    g.node(3, "KSampler", (560, -200), (315, 262), [42, "fixed", 30, 4.5, "euler", "simple", 1.0])
    _decode_and_save(g, (8, 49, 51), (920, -200), 24.0, "video/mochi_svg", samples=(3, 0), vae=(39, 0))
    g.node(60, "MarkdownNote", (-360, -500), (420, 460),
           [svg_note("Mochi", 20, warmup_text=NO_PUBLISHED_WARMUP.format(model="Mochi"), extra=
                     "Mochi's joint attention puts the prompt tokens after the video; SVG makes only "
                     "the video part sparse. Untested at real size (no small Mochi model loads in "
                     "ComfyUI 0.3.75, so this graph is checked for format only): the project README "
                     "suggests sparsity **0.6** as a cautious start. 848x480, 37 frames, 30 steps, "
                     "cfg 4.5 as in ComfyUI's Mochi example.")],
           title="About the SVG node", color="#432", bgcolor="#653")
    g.link(37, 0, 50, "model")
    g.link(50, 0, 3, "model")
    g.link(6, 0, 3, "positive")
    g.link(7, 0, 3, "negative")
    g.link(21, 0, 3, "latent_image")
    g.group("Models", (-320, -40, 400, 500))
    g.group("SVG sparse attention", (80, -280, 360, 350), color="#335")
    return g.to_json()


def cosmos_predict2_i2v() -> dict:
    """Cosmos Predict2 2B video2world (image-to-video, 480p 16 fps) as in ComfyUI's example:
    the start image goes into the latent (CosmosPredict2ImageToVideoLatent, Wan 2.1 VAE)."""
    g = Graph("a9d3e5f7-1b2c-4d6e-8f0a-5c7e9b1d3f82")
    unet = "cosmos_predict2_2B_video2world_480p_16fps.safetensors"
    te = "oldt5_xxl_fp8_e4m3fn_scaled.safetensors"
    g.node(13, "UNETLoader", (-300, 40), (420, 82), [unet, "default"],
           title="Load Cosmos Predict2 2B video2world 480p",
           models=[model_ref(unet, f"{COSMOS2_REPO}/{unet}", "diffusion_models")])
    g.node(10, "CLIPLoader", (-300, 200), (420, 106), [te, "cosmos", "default"],
           models=[model_ref(te, COSMOS_TE_URL, "text_encoders")])
    _wan_vae(g, 15, (-300, 360))
    g.node(29, "LoadImage", (-300, 460), (360, 330), ["example.png", "image"],
           title="Load Image (start frame)")
    _svg_node(g, 50, (160, -330))
    _prompts(g, (6, 7), 10, (160, 120),
             "The camera moves slowly through the snowy pine forest of the picture, snow falling, "
             "branches swaying in the wind.", "blurry, low quality, watermark", heights=(160, 120))
    g.node(28, "CosmosPredict2ImageToVideoLatent", (160, 500), (330, 170), [848, 480, 93, 1])
    g.node(3, "KSampler", (620, -200), (315, 262), [42, "fixed", 30, 4.0, "euler", "simple", 1.0])
    _decode_and_save(g, (8, 49, 51), (980, -200), 16.0, "video/cosmos_predict2_svg", samples=(3, 0), vae=(15, 0))
    g.node(60, "MarkdownNote", (-360, -500), (420, 460),
           [svg_note("Cosmos Predict2", 20, warmup_text=NO_PUBLISHED_WARMUP.format(model="Cosmos Predict2"), extra=
                     "Cosmos Predict2's self-attention sees only the video tokens (patch 1x2x2), "
                     "which SVG makes sparse. Untested at real size (this graph was run only with a tiny "
                     "random-weight Cosmos Predict2 model on the test host): the project README "
                     "suggests sparsity **0.6** as a cautious start. Pick your start image in Load "
                     "Image. 848x480, 93 frames, 30 steps, cfg 4 as in ComfyUI's Cosmos Predict2 "
                     "image-to-video example; the model is picky about resolution and length.")],
           title="About the SVG node", color="#432", bgcolor="#653")
    g.link(13, 0, 50, "model")
    g.link(50, 0, 3, "model")
    g.link(15, 0, 28, "vae")
    g.link(29, 0, 28, "start_image")
    g.link(6, 0, 3, "positive")
    g.link(7, 0, 3, "negative")
    g.link(28, 0, 3, "latent_image")
    g.group("Models", (-320, -40, 460, 860))
    g.group("SVG sparse attention", (140, -280, 360, 350), color="#335")
    return g.to_json()


# ------------------------------------------------------------------ the video families of 2026
# Example workflows for the families ComfyUI 0.19.3 detects (issue #13), each modelled on ComfyUI's
# own template for the model (comfyui-workflow-templates 0.9.57: video_ltx2_t2v,
# video_hunyuan_video_1.5_720p_t2v, video_kandinsky5_t2v, video_wan_vace_14B_t2v,
# video_wan2.1_fun_camera_v1.1_1.3B, video_humo, video_wan2_2_14B_s2v), with the SVG node between
# each diffusion model loader and its sampler, flattened (no subgraphs) and without the templates'
# optional extras (speed-up LoRAs, EasyCache, LTX-2's second upscaling pass, S2V's extension
# chunks). Wan 2.2 Animate, SCAIL and FlowRVS have no template in that package: their graphs use
# ComfyUI's own nodes for them (WanAnimateToVideo, WanSCAILToVideo; FlowRVS: a video-to-video
# sampler on an encoded video), and their model file names are placeholders without a download
# link. Each says in its note and in extra.svg_requires that it needs ComfyUI 0.19.3 or newer.
REQUIRES_COMFYUI = "0.19.3"
LTX2_REPO = "https://huggingface.co/Lightricks/LTX-2/resolve/main"
LTX2_TE_URL = ("https://huggingface.co/Comfy-Org/ltx-2/resolve/main/split_files/text_encoders/"
               "gemma_3_12B_it_fp4_mixed.safetensors")
HY15_REPO = "https://huggingface.co/Comfy-Org/HunyuanVideo_1.5_repackaged/resolve/main/split_files"
KANDINSKY5_URL = ("https://huggingface.co/kandinskylab/Kandinsky-5.0-T2V-Lite-sft-5s/resolve/main/model/"
                  "kandinsky5lite_t2v_sft_5s.safetensors")
HY_VAE_URL = "https://huggingface.co/Kijai/HunyuanVideo_comfy/resolve/main/hunyuan_video_vae_bf16.safetensors"
HUMO_REPO = "https://huggingface.co/Comfy-Org/HuMo_ComfyUI/resolve/main/split_files"
WAN_NEGATIVE_ZH = ("色调艳丽，过曝，静态，细节模糊不清，字幕，风格，作品，画作，画面，静止，整体发灰，最差质量，低质量，"
                   "JPEG压缩残留，丑陋的，残缺的，多余的手指，画得不好的手部，画得不好的脸部，畸形的，毁容的，"
                   "形态畸形的肢体，手指融合，静止不动的画面，杂乱的背景，三条腿，背景人很多，倒着走")


def _requires_0193(wf: dict) -> dict:
    """Mark a workflow as needing ComfyUI 0.19.3 (tests on older hosts skip it, saying so)."""
    wf["extra"]["svg_requires"] = {"comfyui": REQUIRES_COMFYUI}
    return wf


def _requires_note(extra: str) -> str:
    return (f"**Needs ComfyUI {REQUIRES_COMFYUI} or newer** (the model, or nodes of this graph, are "
            f"not in older ComfyUI).\n\n{extra}")


def _note(g: Graph, nid: int, model: str, warmup_pct: int, extra: str, pos=(-360, -500)) -> None:
    g.node(nid, "MarkdownNote", pos, (420, 480), [svg_note(model, warmup_pct, _requires_note(extra))],
           title="About the SVG node", color="#432", bgcolor="#653")


def _wan_loaders(g: Graph, unet: str, url, title: str, ids=(37, 38, 39)) -> None:
    """UNETLoader (a download link where ComfyUI's templates name the file), the umt5 text
    encoder and the Wan 2.1 VAE."""
    models = [model_ref(unet, url, "diffusion_models")] if url else None
    g.node(ids[0], "UNETLoader", (-300, 40), (380, 82), [unet, "default"], title=title, models=models)
    _wan_text_encoder(g, ids[1], (-300, 200))
    _wan_vae(g, ids[2], (-300, 360))


def _wan_sampler(g: Graph, svg: int, unet: int, steps=20, cfg=6.0, pos=(940, -200), shift=8.0) -> None:
    """UNETLoader -> SVG -> ModelSamplingSD3 -> KSampler (ids svg, 54, 3)."""
    _svg_node(g, svg, (100, -200))
    g.node(54, "ModelSamplingSD3", (460, -200), (300, 58), [shift])
    g.node(3, "KSampler", pos, (315, 262), [42, "fixed", steps, cfg, "uni_pc", "simple", 1.0])
    g.link(unet, 0, svg, "model")
    g.link(svg, 0, 54, "model")
    g.link(54, 0, 3, "model")


def ltx2_t2v() -> dict:
    """LTX-2 19B text-to-video with audio, the first (768x512) pass of ComfyUI's template: one
    checkpoint carries the model and both VAEs, Gemma 3 12B through LTXAVTextEncoderLoader, the
    video and audio latents sampled together (LTXVConcatAVLatent) and split for decoding."""
    g = Graph("0b6f2d84-7a1c-4e35-9d2a-6c8e1f3b5a71")
    ckpt, te = "ltx-2-19b-dev-fp8.safetensors", "gemma_3_12B_it_fp4_mixed.safetensors"
    g.node(1, "CheckpointLoaderSimple", (-300, 40), (380, 98), [ckpt], title="Load LTX-2 19B (model + VAEs)",
           models=[model_ref(ckpt, f"{LTX2_REPO}/{ckpt}", "checkpoints")])
    g.node(60, "LTXAVTextEncoderLoader", (-300, 200), (380, 106), [te, ckpt, "default"],
           models=[model_ref(te, LTX2_TE_URL, "text_encoders")])
    g.node(48, "LTXVAudioVAELoader", (-300, 360), (380, 58), [ckpt])
    _svg_node(g, 50, (100, -200))
    _prompts(g, (3, 4), 60, (100, 120),
             "A close-up of a cheerful girl puppet with curly auburn yarn hair and wide button eyes, "
             "holding a small red umbrella above her head. Rain falls gently around her. She looks "
             "upward and begins to sing with joy. The camera holds steady as the rain sparkles "
             "against the soft lighting.",
             "blurry, low quality, still frame, frames, watermark, overlay, titles, has blurbox, "
             "has subtitles", heights=(180, 120))
    g.node(22, "LTXVConditioning", (580, 120), (240, 78), [24.0])
    g.node(43, "EmptyLTXVLatentVideo", (580, 250), (315, 130), [768, 512, 97, 1])
    g.node(51, "LTXVEmptyLatentAudio", (580, 420), (315, 130), [97, 24, 1])
    g.node(56, "LTXVConcatAVLatent", (580, 590), (260, 46))
    g.node(47, "CFGGuider", (940, -200), (270, 98), [4.0])
    g.node(11, "RandomNoise", (940, -60), (300, 82), [10, "fixed"])
    g.node(8, "KSamplerSelect", (940, 60), (300, 58), ["euler_ancestral"])
    g.node(9, "LTXVScheduler", (940, 160), (315, 154), [20, 2.05, 0.95, True, 0.1])
    g.node(41, "SamplerCustomAdvanced", (1300, -200), (280, 330))
    g.node(80, "LTXVSeparateAVLatent", (1300, 180), (260, 66))
    g.node(98, "VAEDecodeTiled", (1620, -200), (240, 150), [512, 64, 4096, 8])
    g.node(96, "LTXVAudioVAEDecode", (1620, 0), (260, 66))
    g.node(97, "CreateVideo", (1620, 120), (270, 78), [24.0])
    g.node(75, "SaveVideo", (1920, -200), (600, 480), ["video/ltx2_svg", "auto", "auto"])
    _note(g, 90, "LTX-2", 20,
          "LTX-2 runs a video and an audio stream side by side. SVG makes the video stream's "
          "self-attention sparse; the audio stream's self-attention and the audio <-> video "
          "cross-attentions stay dense (one log line each). Untested at real size: the project "
          "README suggests sparsity **0.6** as a cautious start. 768x512, 97 frames, 20 steps, "
          "cfg 4: the first pass of ComfyUI's LTX-2 text-to-video template (without its "
          "distilled-LoRA upscaling pass).")
    g.link(1, 0, 50, "model")
    g.link(50, 0, 47, "model")
    g.link(3, 0, 22, "positive")
    g.link(4, 0, 22, "negative")
    g.link(22, 0, 47, "positive")
    g.link(22, 1, 47, "negative")
    g.link(48, 0, 51, "audio_vae")
    g.link(43, 0, 56, "video_latent")
    g.link(51, 0, 56, "audio_latent")
    g.link(11, 0, 41, "noise")
    g.link(47, 0, 41, "guider")
    g.link(8, 0, 41, "sampler")
    g.link(9, 0, 41, "sigmas")
    g.link(56, 0, 41, "latent_image")
    g.link(43, 0, 9, "latent")
    g.link(41, 0, 80, "av_latent")
    g.link(80, 0, 98, "samples")
    g.link(1, 2, 98, "vae")
    g.link(80, 1, 96, "samples")
    g.link(48, 0, 96, "audio_vae")
    g.link(98, 0, 97, "images")
    g.link(96, 0, 97, "audio")
    g.link(97, 0, 75, "video")
    g.group("Models", (-320, -40, 420, 500))
    g.group("SVG sparse attention", (80, -280, 380, 350), color="#335")
    return _requires_0193(g.to_json())


def hunyuan_video15_t2v_sr() -> dict:
    """HunyuanVideo 1.5 720p text-to-video and its 1080p super-resolution pass, as ComfyUI's
    template: the 720p model samples, the latent upsampler enlarges the result, the distilled SR
    model refines it. One SVG node per diffusion model."""
    g = Graph("5c2e8a17-3d4f-4b69-a1e0-7f9b2c6d8e35")
    t2v, sr = "hunyuanvideo1.5_720p_t2v_fp16.safetensors", "hunyuanvideo1.5_1080p_sr_distilled_fp16.safetensors"
    qwen, byt5 = "qwen_2.5_vl_7b_fp8_scaled.safetensors", "byt5_small_glyphxl_fp16.safetensors"
    vae, up = "hunyuanvideo15_vae_fp16.safetensors", "hunyuanvideo15_latent_upsampler_1080p.safetensors"
    g.node(12, "UNETLoader", (-300, -120), (400, 82), [t2v, "default"], title="Load HunyuanVideo 1.5 720p T2V",
           models=[model_ref(t2v, f"{HY15_REPO}/diffusion_models/{t2v}", "diffusion_models")])
    g.node(111, "UNETLoader", (-300, 0), (400, 82), [sr, "default"], title="Load HunyuanVideo 1.5 1080p SR (distilled)",
           models=[model_ref(sr, f"{HY15_REPO}/diffusion_models/{sr}", "diffusion_models")])
    g.node(11, "DualCLIPLoader", (-300, 140), (400, 130), [qwen, byt5, "hunyuan_video_15", "default"],
           models=[model_ref(qwen, f"{HY15_REPO}/text_encoders/{qwen}", "text_encoders"),
                   model_ref(byt5, f"{HY15_REPO}/text_encoders/{byt5}", "text_encoders")])
    g.node(10, "VAELoader", (-300, 320), (400, 58), [vae], models=[model_ref(vae, f"{HY15_REPO}/vae/{vae}", "vae")])
    g.node(108, "LatentUpscaleModelLoader", (-300, 420), (400, 58), [up],
           models=[model_ref(up, f"{HY15_REPO}/latent_upscale_models/{up}", "latent_upscale_models")])
    _svg_node(g, 70, (100, -520), dense_warmup=0.1, title="SVG Sparse Attention (720p)")
    _svg_node(g, 71, (100, -240), title="SVG Sparse Attention (1080p SR)")
    g.node(132, "ModelSamplingSD3", (460, -520), (300, 58), [7.0])
    g.node(135, "ModelSamplingSD3", (460, -240), (300, 58), [2.0])
    _prompts(g, (44, 93), 11, (100, 120),
             "A paper airplane released from the top of a skyscraper glides through urban canyons, "
             "crossing traffic and flying over streets, then spirals upward between the towers, "
             "golden evening light, cinematic.", "", heights=(160, 100))
    g.node(124, "EmptyHunyuanVideo15Latent", (100, 440), (315, 130), [1280, 720, 121, 1])
    g.node(131, "CFGGuider", (840, -520), (270, 98), [6.0])
    g.node(129, "RandomNoise", (840, -400), (300, 82), [42, "fixed"])
    g.node(130, "KSamplerSelect", (840, -290), (300, 58), ["euler"])
    g.node(128, "BasicScheduler", (840, -200), (300, 106), ["simple", 20, 1.0])
    g.node(127, "SamplerCustomAdvanced", (1180, -520), (280, 330))
    g.node(109, "HunyuanVideo15LatentUpscaleWithModel", (1180, -160), (345, 154),
           ["bilinear", 1920, 1080, "disabled"])
    g.node(113, "HunyuanVideo15SuperResolution", (1180, 40), (330, 158), [0.7])
    g.node(142, "CFGGuider", (1560, -520), (270, 98), [1.0])
    g.node(133, "RandomNoise", (1560, -400), (300, 82), [43, "fixed"])
    g.node(134, "KSamplerSelect", (1560, -290), (300, 58), ["euler"])
    g.node(136, "BasicScheduler", (1560, -200), (300, 106), ["simple", 8, 1.0])
    g.node(140, "SamplerCustomAdvanced", (1900, -520), (280, 330))
    g.node(112, "VAEDecodeTiled", (1900, -160), (240, 150), [512, 64, 64, 4096])
    g.node(114, "CreateVideo", (1900, 40), (270, 78), [24.0])
    g.node(118, "SaveVideo", (2220, -520), (700, 500), ["video/hunyuan_video_1.5_sr_svg", "auto", "auto"])
    _note(g, 90, "HunyuanVideo 1.5", 10,
          "Two diffusion models, two SVG nodes: the 720p model (20 steps; the SVG authors' "
          "HunyuanVideo warm-up of 10%) and the distilled 1080p super-resolution model (8 steps, "
          "default warm-up). Text, glyph (byT5) and image-vision tokens share the joint attention "
          "with the video and stay dense. 1280x720, 121 frames as in ComfyUI's template, which "
          "also decodes the 720p video and adds EasyCache (left out here).")
    g.link(12, 0, 70, "model")
    g.link(70, 0, 132, "model")
    g.link(132, 0, 131, "model")
    g.link(132, 0, 128, "model")
    g.link(44, 0, 131, "positive")
    g.link(93, 0, 131, "negative")
    g.link(129, 0, 127, "noise")
    g.link(131, 0, 127, "guider")
    g.link(130, 0, 127, "sampler")
    g.link(128, 0, 127, "sigmas")
    g.link(124, 0, 127, "latent_image")
    g.link(108, 0, 109, "model")
    g.link(127, 0, 109, "samples")
    g.link(44, 0, 113, "positive")
    g.link(93, 0, 113, "negative")
    g.link(109, 0, 113, "latent")
    g.link(111, 0, 71, "model")
    g.link(71, 0, 135, "model")
    g.link(135, 0, 142, "model")
    g.link(135, 0, 136, "model")
    g.link(113, 0, 142, "positive")
    g.link(113, 1, 142, "negative")
    g.link(133, 0, 140, "noise")
    g.link(142, 0, 140, "guider")
    g.link(134, 0, 140, "sampler")
    g.link(136, 0, 140, "sigmas")
    g.link(113, 2, 140, "latent_image")
    g.link(140, 0, 112, "samples")
    g.link(10, 0, 112, "vae")
    g.link(112, 0, 114, "images")
    g.link(114, 0, 118, "video")
    g.group("Models", (-320, -200, 440, 700))
    g.group("SVG sparse attention", (80, -600, 700, 650), color="#335")
    return _requires_0193(g.to_json())


def kandinsky5_t2v() -> dict:
    """Kandinsky 5.0 T2V Lite (5 s) as in ComfyUI's template: Qwen2.5-VL + CLIP-L, the HunyuanVideo
    VAE, Kandinsky5ImageToVideo for the latent (no start image: text to video)."""
    g = Graph("9e4a7c13-6b2d-4f80-8c5e-1d3f7a9b2c64")
    unet, qwen = "kandinsky5lite_t2v_sft_5s.safetensors", "qwen_2.5_vl_7b_fp8_scaled.safetensors"
    g.node(4, "UNETLoader", (-300, 40), (400, 82), [unet, "default"], title="Load Kandinsky 5.0 T2V Lite",
           models=[model_ref(unet, KANDINSKY5_URL, "diffusion_models")])
    g.node(1, "DualCLIPLoader", (-300, 200), (400, 130), [qwen, "clip_l.safetensors", "kandinsky5", "default"],
           models=[model_ref(qwen, f"{HY15_REPO}/text_encoders/{qwen}", "text_encoders"),
                   model_ref("clip_l.safetensors", CLIP_L_URL, "text_encoders")])
    g.node(6, "VAELoader", (-300, 380), (400, 58), ["hunyuan_video_vae_bf16.safetensors"],
           models=[model_ref("hunyuan_video_vae_bf16.safetensors", HY_VAE_URL, "vae")])
    _svg_node(g, 50, (100, -200))
    g.node(3, "ModelSamplingSD3", (460, -200), (300, 58), [5.0])
    _prompts(g, (7, 2), 1, (100, 120),
             "Rim light, soft light, medium close-up, dusk, warm tones with low saturation, "
             "telephoto lens. A woman with long hair stands on a beach at sunset, the wind moving "
             "her hair, waves rolling in behind her.", "", heights=(160, 100))
    g.node(5, "Kandinsky5ImageToVideo", (580, 120), (330, 190), [768, 512, 121, 1])
    g.node(8, "KSampler", (940, -200), (315, 262), [42, "fixed", 50, 5.0, "euler_ancestral", "beta", 1.0])
    _decode_and_save(g, (9, 10, 11), (1300, -200), 24.0, "video/kandinsky5_svg", samples=(8, 0), vae=(6, 0))
    _note(g, 60, "Kandinsky 5", 20,
          "Kandinsky 5's visual blocks attend over the video tokens only (patch 1x2x2): SVG makes "
          "them sparse; its text blocks and the text cross-attention stay dense. Untested at real "
          "size: the project README suggests sparsity **0.6** as a cautious start. 768x512, 121 "
          "frames, 50 steps, cfg 5 as in ComfyUI's Kandinsky 5 text-to-video template.")
    g.link(4, 0, 50, "model")
    g.link(50, 0, 3, "model")
    g.link(3, 0, 8, "model")
    g.link(7, 0, 5, "positive")
    g.link(2, 0, 5, "negative")
    g.link(6, 0, 5, "vae")
    g.link(5, 0, 8, "positive")
    g.link(5, 1, 8, "negative")
    g.link(5, 2, 8, "latent_image")
    g.group("Models", (-320, -40, 440, 520))
    g.group("SVG sparse attention", (80, -280, 700, 350), color="#335")
    return _requires_0193(g.to_json())


def wan_vace_t2v() -> dict:
    """Wan 2.1 VACE 14B text-to-video as in ComfyUI's template (without its CausVid LoRA, so the
    usual 20 steps and cfg 6): WanVaceToVideo, then TrimVideoLatent drops the reference frames
    WanVaceToVideo puts in front (none here)."""
    g = Graph("2a7d5e91-4c3b-4f16-b8e2-9d0c1f6a3b58")
    unet = "wan2.1_vace_14B_fp16.safetensors"
    _wan_loaders(g, unet, f"{WAN_REPO}/diffusion_models/{unet}", "Load Wan 2.1 VACE 14B")
    _wan_sampler(g, 50, 37)
    _prompts(g, (6, 7), 38, (100, 120), FOX_PROMPT, WAN_NEGATIVE_ZH)
    g.node(49, "WanVaceToVideo", (560, 120), (340, 254), [1280, 720, 81, 1, 1.0])
    g.node(58, "TrimVideoLatent", (1300, -200), (270, 82), [0])
    _decode_and_save(g, (8, 68, 114), (1300, -60), 16.0, "video/wan_vace_svg", samples=(58, 0), vae=(39, 0))
    _note(g, 60, "Wan 2.1 VACE", 20,
          "VACE's context blocks attend over a second stream on the video's grid (the control "
          "video and masks); SVG makes both the video's and the context stream's self-attention "
          "sparse (the context blocks count toward **dense_blocks** in call order). Reference "
          "images WanVaceToVideo puts in front are latent frames of the video. 1280x720, 81 "
          "frames as in ComfyUI's VACE text-to-video template.")
    g.link(6, 0, 49, "positive")
    g.link(7, 0, 49, "negative")
    g.link(39, 0, 49, "vae")
    g.link(49, 0, 3, "positive")
    g.link(49, 1, 3, "negative")
    g.link(49, 2, 3, "latent_image")
    g.link(3, 0, 58, "samples")
    g.link(49, 3, 58, "trim_amount")
    g.group("Models", (-320, -40, 420, 480))
    g.group("SVG sparse attention", (80, -280, 700, 350), color="#335")
    return _requires_0193(g.to_json())


def wan_fun_camera() -> dict:
    """Wan 2.1 Fun Camera 1.3B (image to video along a camera path) as in ComfyUI's template:
    WanCameraEmbedding makes the camera path, WanCameraImageToVideo the latent and conditioning."""
    g = Graph("6d1b9f3e-8a2c-4e57-b0d4-3c5e7a9f1b26")
    unet = "wan2.1_fun_camera_v1.1_1.3B_bf16.safetensors"
    _wan_loaders(g, unet, f"{WAN_REPO}/diffusion_models/{unet}", "Load Wan 2.1 Fun Camera 1.3B")
    g.node(49, "CLIPVisionLoader", (-300, 460), (380, 58), ["clip_vision_h.safetensors"],
           models=[model_ref("clip_vision_h.safetensors", f"{WAN_REPO}/clip_vision/clip_vision_h.safetensors",
                             "clip_vision")])
    g.node(52, "LoadImage", (-300, 560), (340, 330), ["example.png", "image"], title="Load Image (start frame)")
    g.node(51, "CLIPVisionEncode", (100, 620), (280, 78), ["none"])
    _wan_sampler(g, 50, 37)
    _prompts(g, (6, 7), 38, (100, 120), "Origami-style Chinese landscape in miniature: bridges, "
             "waterfalls and paper trees, the camera slowly moving in.", WAN_NEGATIVE_ZH)
    g.node(57, "WanCameraEmbedding", (560, 360), (315, 310), ["Zoom In", 832, 480, 81, 1.0, 0.5, 0.5, 0.5, 0.5])
    g.node(56, "WanCameraImageToVideo", (560, 120), (340, 230), [832, 480, 81, 1])
    _decode_and_save(g, (8, 58, 59), (1300, -200), 16.0, "video/wan_fun_camera_svg", samples=(3, 0), vae=(39, 0))
    _note(g, 60, "Wan 2.1 Fun Camera", 20,
          "The camera path is added to the patch embeddings; the self-attention sees the video "
          "tokens only, which SVG makes sparse as in Wan image-to-video. Pick your start image "
          "in Load Image. 832x480, 81 frames, 20 steps as in ComfyUI's Fun Camera template.")
    g.link(49, 0, 51, "clip_vision")
    g.link(52, 0, 51, "image")
    g.link(6, 0, 56, "positive")
    g.link(7, 0, 56, "negative")
    g.link(39, 0, 56, "vae")
    g.link(51, 0, 56, "clip_vision_output")
    g.link(52, 0, 56, "start_image")
    g.link(57, 0, 56, "camera_conditions")
    g.link(56, 0, 3, "positive")
    g.link(56, 1, 3, "negative")
    g.link(56, 2, 3, "latent_image")
    g.group("Models", (-320, -40, 420, 960))
    g.group("SVG sparse attention", (80, -280, 700, 350), color="#335")
    return _requires_0193(g.to_json())


def _audio_inputs(g: Graph, encoder: str, url: str, ids=(57, 58, 56)) -> None:
    """AudioEncoderLoader + LoadAudio -> AudioEncoderEncode (ids in that order)."""
    g.node(ids[0], "AudioEncoderLoader", (-300, 460), (380, 58), [encoder],
           models=[model_ref(encoder, url, "audio_encoders")])
    g.node(ids[1], "LoadAudio", (-300, 560), (340, 136), ["example.wav", None, None], title="Load Audio (voice)")
    g.node(ids[2], "AudioEncoderEncode", (100, 620), (280, 46))
    g.link(ids[0], 0, ids[2], "audio_encoder")
    g.link(ids[1], 0, ids[2], "audio")


def wan_humo() -> dict:
    """HuMo 17B (talking video from a reference image and a voice) as in ComfyUI's template,
    without its step-distillation LoRA: whisper features of the audio and the reference image go
    into WanHuMoImageToVideo."""
    g = Graph("8f3c1a6d-2e9b-4d74-a5c0-6b8d0e2f4a19")
    unet, whisper = "humo_17B_fp8_e4m3fn.safetensors", "whisper_large_v3_fp16.safetensors"
    _wan_loaders(g, unet, f"{HUMO_REPO}/diffusion_models/{unet}", "Load HuMo 17B")
    _audio_inputs(g, whisper, f"{HUMO_REPO}/audio_encoders/{whisper}")
    g.node(49, "LoadImage", (-300, 740), (340, 330), ["example.png", "image"], title="Load Image (reference)")
    _wan_sampler(g, 50, 37, steps=20, cfg=5.0)
    _prompts(g, (6, 7), 38, (100, 120), "A young man in a denim jacket talks to the camera in a "
             "sunny park, gesturing gently.", WAN_NEGATIVE_ZH)
    g.node(65, "WanHuMoImageToVideo", (560, 120), (340, 210), [640, 640, 97, 1])
    g.node(63, "VAEDecode", (1300, -200), (210, 46))
    g.node(60, "CreateVideo", (1300, -100), (270, 78), [25.0])
    g.node(59, "SaveVideo", (1600, -200), (600, 480), ["video/wan_humo_svg", "auto", "auto"])
    _note(g, 90, "Wan HuMo", 20,
          "The reference image's tokens follow the video in the self-attention and stay global "
          "(dense); the voice enters through a per-frame cross-attention (dense). The video's "
          "self-attention is sparse. 640x640, 97 frames as in ComfyUI's HuMo template (which "
          "adds a 6-step distillation LoRA; here 20 steps, cfg 5).")
    g.link(6, 0, 65, "positive")
    g.link(7, 0, 65, "negative")
    g.link(39, 0, 65, "vae")
    g.link(56, 0, 65, "audio_encoder_output")
    g.link(49, 0, 65, "ref_image")
    g.link(65, 0, 3, "positive")
    g.link(65, 1, 3, "negative")
    g.link(65, 2, 3, "latent_image")
    g.link(3, 0, 63, "samples")
    g.link(39, 0, 63, "vae")
    g.link(63, 0, 60, "images")
    g.link(58, 0, 60, "audio")
    g.link(60, 0, 59, "video")
    g.group("Models", (-320, -40, 420, 1140))
    g.group("SVG sparse attention", (80, -280, 700, 350), color="#335")
    return _requires_0193(g.to_json())


def wan22_s2v() -> dict:
    """Wan 2.2 S2V 14B (sound to video) as in ComfyUI's template, its first chunk only (no
    extension chunks, no speed-up LoRA): wav2vec2 features and a reference image into
    WanSoundImageToVideo."""
    g = Graph("4b9e2c7a-1f3d-4a86-9e5b-0c2d4f6a8b13")
    unet, w2v = "wan2.2_s2v_14B_fp8_scaled.safetensors", "wav2vec2_large_english_fp16.safetensors"
    _wan_loaders(g, unet, f"{WAN22_REPO}/diffusion_models/{unet}", "Load Wan 2.2 S2V 14B")
    _audio_inputs(g, w2v, f"{WAN22_REPO}/audio_encoders/{w2v}")
    g.node(52, "LoadImage", (-300, 740), (340, 330), ["example.png", "image"], title="Load Image (reference)")
    _wan_sampler(g, 50, 37, steps=10, cfg=6.0)
    _prompts(g, (6, 7), 38, (100, 120), "The man is playing the guitar. He looks down at his hands "
             "playing the guitar and sings affectionately and gently.", WAN_NEGATIVE_ZH)
    g.node(93, "WanSoundImageToVideo", (560, 120), (340, 250), [640, 640, 77, 1])
    g.node(80, "VAEDecode", (1300, -200), (210, 46))
    g.node(82, "CreateVideo", (1300, -100), (270, 78), [16.0])
    g.node(113, "SaveVideo", (1600, -200), (600, 480), ["video/wan22_s2v_svg", "auto", "auto"])
    _note(g, 90, "Wan 2.2 S2V", 20,
          "After the video, S2V's self-attention carries the reference image's tokens and the "
          "frame-packed motion tokens: both stay global (dense); the audio is injected by a "
          "cross-attention of its own. The video's self-attention is sparse. 640x640, 77 frames, "
          "10 steps, cfg 6: the first chunk of ComfyUI's S2V template.")
    g.link(6, 0, 93, "positive")
    g.link(7, 0, 93, "negative")
    g.link(39, 0, 93, "vae")
    g.link(56, 0, 93, "audio_encoder_output")
    g.link(52, 0, 93, "ref_image")
    g.link(93, 0, 3, "positive")
    g.link(93, 1, 3, "negative")
    g.link(93, 2, 3, "latent_image")
    g.link(3, 0, 80, "samples")
    g.link(39, 0, 80, "vae")
    g.link(80, 0, 82, "images")
    g.link(58, 0, 82, "audio")
    g.link(82, 0, 113, "video")
    g.group("Models", (-320, -40, 420, 1140))
    g.group("SVG sparse attention", (80, -280, 700, 350), color="#335")
    return _requires_0193(g.to_json())


def _video_input(g: Graph, ids, pos, title) -> None:
    """LoadVideo -> GetVideoComponents (ids in that order)."""
    x, y = pos
    g.node(ids[0], "LoadVideo", (x, y), (340, 300), ["example.mp4", "image"], title=title)
    g.node(ids[1], "GetVideoComponents", (x + 380, y), (260, 66))
    g.link(ids[0], 0, ids[1], "video")


def wan22_animate() -> dict:
    """Wan 2.2 Animate 14B (animate a character image with a pose video) through ComfyUI's
    WanAnimateToVideo; no template in comfyui-workflow-templates 0.9.57."""
    g = Graph("1e8c4a2f-7b5d-4c93-8f1a-5d7b9e0c2a46")
    _wan_loaders(g, "wan2.2_animate_14B_bf16.safetensors", None, "Load Wan 2.2 Animate 14B")
    g.node(49, "CLIPVisionLoader", (-300, 460), (380, 58), ["clip_vision_h.safetensors"],
           models=[model_ref("clip_vision_h.safetensors", f"{WAN_REPO}/clip_vision/clip_vision_h.safetensors",
                             "clip_vision")])
    g.node(52, "LoadImage", (-300, 560), (340, 330), ["example.png", "image"], title="Load Image (character)")
    _video_input(g, (40, 41), (-300, 930), "Load Video (pose)")
    g.node(51, "CLIPVisionEncode", (100, 620), (280, 78), ["none"])
    _wan_sampler(g, 50, 37)
    _prompts(g, (6, 7), 38, (100, 120), "The character dances in a bright studio, smooth motion.",
             WAN_NEGATIVE_ZH)
    g.node(62, "WanAnimateToVideo", (560, 120), (340, 358), [832, 480, 77, 1, 5, 0])
    g.node(58, "TrimVideoLatent", (1300, -200), (270, 82), [0])
    _decode_and_save(g, (8, 68, 69), (1300, -60), 16.0, "video/wan22_animate_svg", samples=(58, 0), vae=(39, 0))
    _note(g, 90, "Wan 2.2 Animate", 20,
          "The pose video is added to the patch embeddings and the face adapter runs outside the "
          "attention SVG patches; the self-attention sees the video tokens (with the character "
          "reference frame WanAnimateToVideo puts in front, trimmed after sampling), which SVG "
          "makes sparse. No ComfyUI template for this model yet: the model file name is a "
          "placeholder, pick your Wan 2.2 Animate file in the loader. Connect a face video to "
          "face_video for face motion. 832x480, 77 frames.")
    g.link(49, 0, 51, "clip_vision")
    g.link(52, 0, 51, "image")
    g.link(6, 0, 62, "positive")
    g.link(7, 0, 62, "negative")
    g.link(39, 0, 62, "vae")
    g.link(51, 0, 62, "clip_vision_output")
    g.link(52, 0, 62, "reference_image")
    g.link(41, 0, 62, "pose_video")
    g.link(62, 0, 3, "positive")
    g.link(62, 1, 3, "negative")
    g.link(62, 2, 3, "latent_image")
    g.link(3, 0, 58, "samples")
    g.link(62, 3, 58, "trim_amount")
    g.group("Models", (-320, -40, 420, 1300))
    g.group("SVG sparse attention", (80, -280, 700, 350), color="#335")
    return _requires_0193(g.to_json())


def wan_scail() -> dict:
    """Wan SCAIL (character animation from a reference image and a pose video) through
    ComfyUI's WanSCAILToVideo; no template in comfyui-workflow-templates 0.9.57."""
    g = Graph("3f7a9c1e-5d2b-4e68-a0f3-8c1e3a5b7d92")
    _wan_loaders(g, "wan2.1_scail_preview_14B_bf16.safetensors", None, "Load Wan SCAIL 14B")
    g.node(49, "CLIPVisionLoader", (-300, 460), (380, 58), ["clip_vision_h.safetensors"],
           models=[model_ref("clip_vision_h.safetensors", f"{WAN_REPO}/clip_vision/clip_vision_h.safetensors",
                             "clip_vision")])
    g.node(52, "LoadImage", (-300, 560), (340, 330), ["example.png", "image"], title="Load Image (character)")
    _video_input(g, (40, 41), (-300, 930), "Load Video (pose)")
    g.node(51, "CLIPVisionEncode", (100, 620), (280, 78), ["none"])
    _wan_sampler(g, 50, 37)
    _prompts(g, (6, 7), 38, (100, 120), "The character walks across a sunlit street.", WAN_NEGATIVE_ZH)
    g.node(62, "WanSCAILToVideo", (560, 120), (340, 302), [512, 896, 81, 1, 1.0, 0.0, 1.0])
    _decode_and_save(g, (8, 68, 69), (1300, -200), 16.0, "video/wan_scail_svg", samples=(3, 0), vae=(39, 0))
    _note(g, 90, "Wan SCAIL", 20,
          "SCAIL puts the reference image's latent frame in front of the video and the pose "
          "video's tokens (at half resolution) after it: both stay global (dense), the video's "
          "self-attention is sparse. No ComfyUI template for this model yet: the model file name "
          "is a placeholder, pick your SCAIL file in the loader. 512x896, 81 frames (the node's "
          "defaults).")
    g.link(49, 0, 51, "clip_vision")
    g.link(52, 0, 51, "image")
    g.link(6, 0, 62, "positive")
    g.link(7, 0, 62, "negative")
    g.link(39, 0, 62, "vae")
    g.link(51, 0, 62, "clip_vision_output")
    g.link(52, 0, 62, "reference_image")
    g.link(41, 0, 62, "pose_video")
    g.link(62, 0, 3, "positive")
    g.link(62, 1, 3, "negative")
    g.link(62, 2, 3, "latent_image")
    g.group("Models", (-320, -40, 420, 1300))
    g.group("SVG sparse attention", (80, -280, 700, 350), color="#335")
    return _requires_0193(g.to_json())


def wan_flowrvs() -> dict:
    """Wan FlowRVS (referring video segmentation: the model turns an encoded video into a mask
    video of what the prompt names; ComfyUI samples it from the latent, IMG_TO_IMG_FLOW); no
    template in comfyui-workflow-templates 0.9.57."""
    g = Graph("7c2e4b9a-3d1f-4a57-b6e8-2f4a6c8e0d31")
    _wan_loaders(g, "wan2.1_flowrvs_1.3B_bf16.safetensors", None, "Load Wan FlowRVS")
    _video_input(g, (40, 41), (-300, 460), "Load Video (to segment)")
    g.node(42, "VAEEncode", (100, 520), (210, 46))
    _wan_sampler(g, 50, 37, steps=10, cfg=1.0)
    _prompts(g, (6, 7), 38, (100, 120), "the red car on the left", "", heights=(120, 100))
    _decode_and_save(g, (8, 68, 69), (1300, -200), 16.0, "video/wan_flowrvs_svg", samples=(3, 0), vae=(39, 0))
    _note(g, 90, "Wan FlowRVS", 20,
          "FlowRVS is Wan's own transformer (video-only self-attention) sampled from the encoded "
          "input video instead of noise; SVG makes the video's self-attention sparse as in Wan "
          "text-to-video. No ComfyUI template or node for this model yet: the graph is a plain "
          "video-to-video sampler and the model file name a placeholder, pick your FlowRVS file in "
          "the loader; the step count and cfg here are not the model authors'.")
    g.link(41, 0, 42, "pixels")
    g.link(39, 0, 42, "vae")
    g.link(6, 0, 3, "positive")
    g.link(7, 0, 3, "negative")
    g.link(42, 0, 3, "latent_image")
    g.group("Models", (-320, -40, 420, 860))
    g.group("SVG sparse attention", (80, -280, 700, 350), color="#335")
    return _requires_0193(g.to_json())


WORKFLOWS = {
    "wan2.1_t2v_1.3B_480p_svg.json": wan_t2v,
    "wan2.1_i2v_14B_480p_svg.json": wan_i2v,
    "wan2.2_t2v_14B_two_experts_svg.json": wan22_t2v_two_experts,
    "hunyuanvideo_t2v_720p_svg.json": hunyuan_t2v,
    "hunyuanvideo_i2v_v2_720p_svg.json": hunyuan_i2v,
    "ltxv_t2v_2B_0.9.5_svg.json": ltxv_t2v,
    "mochi_t2v_svg.json": mochi_t2v,
    "cosmos_predict2_2B_i2v_480p_svg.json": cosmos_predict2_i2v,
    # the video families of 2026 (ComfyUI 0.19.3)
    "ltx2_t2v_19B_svg.json": ltx2_t2v,
    "hunyuanvideo1.5_720p_t2v_1080p_sr_svg.json": hunyuan_video15_t2v_sr,
    "kandinsky5_lite_t2v_svg.json": kandinsky5_t2v,
    "wan2.1_vace_14B_t2v_svg.json": wan_vace_t2v,
    "wan2.1_fun_camera_1.3B_svg.json": wan_fun_camera,
    "wan_humo_17B_svg.json": wan_humo,
    "wan2.2_s2v_14B_svg.json": wan22_s2v,
    "wan2.2_animate_14B_svg.json": wan22_animate,
    "wan_scail_14B_svg.json": wan_scail,
    "wan_flowrvs_svg.json": wan_flowrvs,
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

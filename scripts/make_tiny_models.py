"""Make tiny, random-weight video DiT checkpoints with ComfyUI's own model classes (and one image
model, an SD3 MMDiT, that the pack has no adapter for).

Run with the host venv's python (scripts/host.py does):

    .host/venv/bin/python scripts/make_tiny_models.py --comfy .host/comfyui \
        --out .host/base/models/diffusion_models

The files are deterministic (seeded) and only exist to drive the integration tests and the
main job on a CPU: they produce noise, not video. Each one is re-loaded through
comfy.sd.load_diffusion_model and must be detected as the intended model class with the
intended shape; otherwise this script fails.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
from pathlib import Path

# name -> (builder, seed, expected supported_models class, expected config subset)
WAN_COMMON = dict(dim=256, ffn_dim=512, num_heads=2, num_layers=2, out_dim=16, text_dim=4096,
                  freq_dim=256)
HUNYUAN = dict(in_channels=16, out_channels=16, patch_size=[1, 2, 2], vec_in_dim=768,
               context_in_dim=4096, hidden_size=256, mlp_ratio=4.0, num_heads=2, depth=2,
               depth_single_blocks=2, axes_dim=[16, 56, 56], theta=256, qkv_bias=True,
               guidance_embed=True, byt5=False, meanflow=False, use_cond_type_embedding=False,
               vision_in_dim=None)

# LTX-Video: 0.3.75's detection derives only num_layers / attention_head_dim (width // 32) /
# cross_attention_dim from the weights and takes the rest from the file's "config" metadata
# ({"transformer": {...}}, as Lightricks' own checkpoints carry it): the tiny config goes there.
LTXV = dict(in_channels=128, cross_attention_dim=256, attention_head_dim=128, num_attention_heads=2,
            caption_channels=4096, num_layers=2)

# Cosmos Predict2 (MiniTrainDIT): 0.3.75's detection derives only model_channels and in_channels
# from the weights (x_embedder.proj.1) and sets depth / heads for the 2B (2048) and 14B (5120)
# widths only: any other width gets MiniTrainDIT's defaults, 10 blocks of 16 heads. The rope3d
# position embedding needs head_dim >= 12 (head_dim // 6 * 2 > 2), so 16 x 12 = 192 is the
# smallest width that loads; cross-attention (1024, the old T5-XXL width) and AdaLN-LoRA (256)
# are fixed too. 17 input channels: video2world (image to video), as the example workflow's 2B.
# Stored in bfloat16 like the real checkpoints (30 MB instead of 61 MB); loaded on a CPU as fp32.
COSMOS_PREDICT2 = dict(max_img_h=240, max_img_w=240, max_frames=128, in_channels=17,
                       out_channels=16, patch_spatial=2, patch_temporal=1,
                       concat_padding_mask=True, model_channels=192, num_blocks=10, num_heads=16,
                       crossattn_emb_channels=1024, pos_emb_cls="rope3d",
                       pos_emb_learnable=True, pos_emb_interpolation="crop", min_fps=1,
                       max_fps=30, use_adaln_lora=True, adaln_lora_dim=256,
                       extra_per_block_abs_pos_emb=False, rope_enable_fps_modulation=False)

# Stable Diffusion 3 (MMDiT, an image model): 0.3.75's detection derives depth from the width
# (64 per block, one head per block), so depth 2 is 128 wide with 2 heads; no pooled-text embedder
# (adm_in_channels None), so the test-double text encoder's [1, L, 4096] prompt is all it needs.
SD3 = dict(in_channels=16, out_channels=16, patch_size=2, depth=2, pos_embed_max_size=32,
           num_patches=32 * 32, adm_in_channels=None, pos_embed_scaling_factor=None,
           context_embedder_config={"target": "torch.nn.Linear",
                                    "params": {"in_features": 4096, "out_features": 128}})

MODELS = {
    "svg_tiny_wan21_t2v.safetensors": dict(
        family="wan", seed=2101, config=dict(WAN_COMMON, model_type="t2v", in_dim=16),
        expect_class="WAN21_T2V", expect_image_to_video=False),
    "svg_tiny_wan21_i2v.safetensors": dict(
        family="wan", seed=2102, config=dict(WAN_COMMON, model_type="i2v", in_dim=36),
        expect_class="WAN21_I2V", expect_image_to_video=True),
    # Wan 2.2 5B TI2V: the Wan 2.2 VAE's 48 latent channels in and out (detected as WAN22_T2V)
    "svg_tiny_wan22_ti2v_5b.safetensors": dict(
        family="wan", seed=2205, config=dict(WAN_COMMON, model_type="t2v", in_dim=48, out_dim=48),
        expect_class="WAN22_T2V", expect_image_to_video=True),
    "svg_tiny_hunyuan_video_t2v.safetensors": dict(
        family="hunyuan_video", seed=1301, config=dict(HUNYUAN),
        expect_class="HunyuanVideo", expect_image_to_video=None),
    "svg_tiny_ltxv_t2v.safetensors": dict(
        family="ltxv", seed=2301, config=dict(LTXV), expect_class="LTXV",
        expect_image_to_video=None,
        metadata={"config": json.dumps({"transformer": dict(LTXV)})}),
    "svg_tiny_cosmos_predict2_i2v.safetensors": dict(
        family="cosmos_predict2", seed=2402, config=dict(COSMOS_PREDICT2),
        expect_class="CosmosI2VPredict2", expect_image_to_video=True, dtype="bfloat16"),
    # an IMAGE model the pack has no adapter for (it must stay dense and say why every run)
    "svg_tiny_sd3_image.safetensors": dict(
        family="sd3", seed=3001, config=dict(SD3), expect_class="SD3", expect_image_to_video=None,
        seeded_buffers=("pos_embed",)),
}
STAMP = ".svg_tiny_models.json"

# The video families newer ComfyUI detects (issue #13): specs, builders and checks in their own
# module; each is built only where the tree has its model class.
sys.path.insert(0, str(Path(__file__).resolve().parent))
import tiny_models_2026  # noqa: E402

NEW_FAMILIES_SCRIPT = Path(tiny_models_2026.__file__)


def _all_models() -> dict:
    new = {name: dict(spec, build=tiny_models_2026.build, verify=tiny_models_2026.verify)
           for name, spec in tiny_models_2026.SPECS.items()}
    return {**MODELS, **new}


def _init_comfy(comfy_dir: Path):
    sys.path.insert(0, str(comfy_dir))
    sys.argv = [sys.argv[0], "--cpu"]
    import comfy.options
    comfy.options.enable_args_parsing()


def _init_params(module, seed: int) -> None:
    """Deterministic init: fan-in scaled normal weights, unit norm scales, small biases."""
    import torch
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in module.named_parameters():
            leaf = name.rsplit(".", 1)[-1]
            if "modulation" in name and p.ndim == 3:       # Wan's (1, k, dim) modulation tables
                p.copy_(torch.randn(p.shape, generator=g) / math.sqrt(p.shape[-1]))
            elif p.ndim == 1 and leaf in ("weight", "scale"):  # LayerNorm / RMSNorm scales
                p.fill_(1.0)
            elif p.ndim == 1:                                   # biases
                p.copy_(torch.randn(p.shape, generator=g) * 0.02)
            else:
                fan_in = p[0].numel()
                p.copy_(torch.randn(p.shape, generator=g) / math.sqrt(fan_in))


def build(spec: dict):
    import torch
    import comfy.ops
    from model_configs import complete_config
    ops = comfy.ops.disable_weight_init
    if spec["family"] == "wan":
        from comfy.ldm.wan.model import WanModel

        def make(cfg):
            return WanModel(image_model="wan2.1", operations=ops, dtype=torch.float32, **cfg)
    elif spec["family"] == "ltxv":
        from comfy.ldm.lightricks.model import LTXVModel

        def make(cfg):
            return LTXVModel(operations=ops, dtype=torch.float32, **cfg)
    elif spec["family"] == "cosmos_predict2":
        from comfy.ldm.cosmos.predict2 import MiniTrainDIT

        def make(cfg):
            return MiniTrainDIT(image_model="cosmos_predict2", operations=ops, dtype=torch.float32, **cfg)
    elif spec["family"] == "sd3":
        from comfy.ldm.modules.diffusionmodules.mmdit import OpenAISignatureMMDITWrapper

        def make(cfg):
            return OpenAISignatureMMDITWrapper(operations=ops, dtype=torch.float32, **cfg)
    else:
        from comfy.ldm.hunyuan_video.model import HunyuanVideo

        def make(cfg):
            return HunyuanVideo(image_model="hunyuan_video", operations=ops, dtype=torch.float32, **cfg)
    # fields a newer ComfyUI requires (e.g. 0.19.3's HunyuanVideoParams.meanflow_sum), as its
    # detection gives them for these weights
    model = make(complete_config(make, spec["config"]))
    if spec["family"] == "sd3":
        # its position table is a persistent buffer, made with torch.empty: seed it too
        g = torch.Generator().manual_seed(spec["seed"] + 1)
        with torch.no_grad():
            model.pos_embed.copy_(torch.randn(model.pos_embed.shape, generator=g) * 0.02)
    _init_params(model, spec["seed"])
    buffers = [n for n, _ in model.named_buffers()]
    dtype = getattr(torch, spec.get("dtype", "float32"))
    sd = {k: v.detach().to(dtype).contiguous().clone() for k, v in model.state_dict().items()}
    stray = [b for b in buffers if b in sd and b not in spec.get("seeded_buffers", ())]
    if stray:
        raise RuntimeError(f"unexpected persistent buffers (not seeded): {stray}")
    return sd


def verify(path: Path, spec: dict, sd: dict) -> str:
    import torch
    import comfy.sd
    patcher = comfy.sd.load_diffusion_model(str(path))
    model = patcher.model
    cls = type(model.model_config).__name__
    if cls != spec["expect_class"]:
        raise RuntimeError(f"{path.name}: detected {cls}, expected {spec['expect_class']}")
    if spec["expect_image_to_video"] is not None and \
            getattr(model, "image_to_video", None) != spec["expect_image_to_video"]:
        raise RuntimeError(f"{path.name}: image_to_video={model.image_to_video}")
    uc = model.model_config.unet_config
    cfg = spec["config"]
    if spec["family"] == "wan":
        checks = {k: cfg[k] for k in ("dim", "num_heads", "num_layers", "ffn_dim", "in_dim",
                                       "out_dim", "model_type")}
    elif spec["family"] == "ltxv":
        checks = dict(cfg)
    elif spec["family"] == "cosmos_predict2":
        # depth and heads are not in the detected config (constructor defaults): check the
        # built model itself
        dm = model.diffusion_model
        built = dict(model_channels=dm.model_channels, num_blocks=len(dm.blocks),
                     num_heads=dm.num_heads, in_channels=dm.in_channels,
                     adaln_lora_dim=dm.adaln_lora_dim,
                     head_dim=dm.blocks[0].self_attn.head_dim)
        want = {k: cfg[k] for k in ("model_channels", "num_blocks", "num_heads", "in_channels",
                                      "adaln_lora_dim")}
        want["head_dim"] = cfg["model_channels"] // cfg["num_heads"]
        uc = dict(uc, **built)
        checks = dict(want, crossattn_emb_channels=cfg["crossattn_emb_channels"])
    elif spec["family"] == "sd3":
        checks = {k: cfg[k] for k in ("in_channels", "out_channels", "patch_size", "depth",
                                       "pos_embed_max_size", "context_embedder_config")}
        checks["adm_in_channels"] = None     # detected from a y_embedder, which it has not
    else:
        checks = {k: cfg[k] for k in ("hidden_size", "num_heads", "depth", "depth_single_blocks",
                                       "context_in_dim", "vec_in_dim", "guidance_embed")}
    wrong = {k: (uc.get(k), v) for k, v in checks.items() if uc.get(k) != v}
    if wrong:
        raise RuntimeError(f"{path.name}: detected config differs (got, want): {wrong}")
    loaded = model.diffusion_model.state_dict()
    for k, v in sd.items():
        if k not in loaded or not torch.equal(loaded[k].float(), v.float()):
            raise RuntimeError(f"{path.name}: weight {k} did not load unchanged")
    n = sum(v.numel() for v in sd.values())
    return f"{path.name}: {cls} ({type(model).__name__}), {n / 1e6:.1f}M params, config ok"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--comfy", required=True, type=Path, help="ComfyUI tree (with main.py)")
    ap.add_argument("--out", required=True, type=Path, help="models/diffusion_models folder")
    ap.add_argument("--force", action="store_true", help="rebuild even if up to date")
    a = ap.parse_args()
    out: Path = a.out.resolve()
    out.mkdir(parents=True, exist_ok=True)
    script_hash = hashlib.sha256(b"".join(
        path.read_bytes() for path in (Path(__file__), Path(__file__).with_name("model_configs.py"), NEW_FAMILIES_SCRIPT))
    ).hexdigest()
    stamp_path = out / STAMP
    tree = str(a.comfy.resolve())
    if not a.force and stamp_path.is_file():
        stamp = json.loads(stamp_path.read_text())
        built = stamp["files"]
        if stamp.get("script") == script_hash and stamp.get("comfy") == tree and set(MODELS) <= set(built) \
                and all((out / n).is_file() and _sha256(out / n) == h for n, h in built.items()):
            print(f"[tiny-models] up to date in {out}")
            return 0

    _init_comfy(a.comfy.resolve())
    import torch
    from safetensors.torch import save_file
    torch.set_grad_enabled(False)
    files = {}
    for name, spec in _all_models().items():
        if spec.get("verify") is not None:      # a family this tree may not have
            why = tiny_models_2026.unavailable(spec)
            if why:
                print(f"[tiny-models] {name}: skipped, {why}", flush=True)
                continue
        sd = spec["build"](spec, _init_params) if spec.get("build") else build(spec)
        path = out / name
        save_file(sd, str(path), metadata={
            "svg_test_model": "random weights for tests of ComfyUI-SparseVideoGen; not a real model",
            **spec.get("metadata", {})})
        print("[tiny-models]", (spec.get("verify") or verify)(path, spec, sd), flush=True)
        files[name] = _sha256(path)
    stamp_path.write_text(json.dumps({"script": script_hash, "comfy": tree, "files": files}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Tiny random-weight checkpoints of the video families that newer ComfyUI detects (issue #13,
part 3): LTX-2 (audio + video), HunyuanVideo 1.5 and its 1080p super-resolution model,
Kandinsky 5 (video), and the Wan 2.1 / 2.2 variants VACE, Camera, S2V, HuMo, Animate, SCAIL and
FlowRVS.

scripts/make_tiny_models.py builds each spec here with ComfyUI's own model class, saves it,
re-loads it through comfy.sd.load_diffusion_model and checks that the tree detects it as
``supported`` (a class in comfy.supported_models) with the intended shape. A spec is built only
where the given ComfyUI tree has that class (``unavailable``): ComfyUI 0.3.75 has no LTXAV,
Kandinsky5, WAN21_SCAIL or WAN21_FlowRVS; it does detect VACE, Camera, S2V, HuMo, Animate and
HunyuanVideo 1.5, whose files it therefore gets too.

What the files leave out or shrink, and why (each the smallest thing the tree's detection accepts):
- every family: 2 heads of 128 (Wan, HunyuanVideo: detection derives heads = width // 128) or of
  64 (Kandinsky 5: its rotary axes (16, 24, 24)), 2 blocks, bfloat16 storage (loaded on a CPU
  as float32).
- HuMo: its audio projection is hard-coded at full size (51200 -> 512 -> 16 x 1536, 39 M
  weights); stored as float8_e4m3fn (ComfyUI casts it on load). HuMo's model always runs it
  (WanHuMoImageToVideo passes zero audio when none is given).
- Animate: the face motion encoder and face encoder (about 35 M weights) are left out of the
  file: they run only on a face video (WanAnimateToVideo's face_video), which the tests do not
  give, and they call attention without transformer_options, so SVG never sees them. ComfyUI
  logs them as missing. One face adapter block needs 5 transformer blocks (num_layers // 5).
- HunyuanVideo 1.5: no byT5 glyph encoder (its 7.7 M weights are optional to detection); the
  vision projection stays (detection needs vision_in_dim 1152 for the 1.5 classes).
- LTX-2: the whole transformer config travels in the file's "config" metadata, which detection
  reads (as Lightricks' own checkpoints carry it); text connectors of 2 heads x 32.
- FlowRVS is plain WanModel with another sampling type; detection knows it only from the
  "config" metadata ({"transformer": {"model_type": "flow_rvs"}}).
"""
from __future__ import annotations

import dataclasses
import json

# ComfyUI's Wan detection: heads = dim // 128, patch (1, 2, 2), text_dim 4096, freq_dim 256.
WAN = dict(dim=256, ffn_dim=512, num_heads=2, num_layers=2, out_dim=16, text_dim=4096, freq_dim=256)

# HunyuanVideo 1.5: 32-channel latent (16x VAE), patch 1 x 1 x 1, Qwen2.5-VL 7B text (3584),
# SigLIP vision features (1152), no pooled CLIP vector, no guidance embedding; 1 single block so
# that both block kinds run. Fields a tree's HunyuanVideoParams lacks are dropped (meanflow_sum is
# new in ComfyUI 0.19.3).
HUNYUAN15 = dict(in_channels=65, out_channels=32, patch_size=[1, 1, 1], vec_in_dim=None,
                 context_in_dim=3584, hidden_size=256, mlp_ratio=4.0, num_heads=2, depth=2,
                 depth_single_blocks=1, axes_dim=[16, 56, 56], theta=256, qkv_bias=True,
                 guidance_embed=False, byt5=False, meanflow=False, use_cond_type_embedding=True,
                 vision_in_dim=1152, meanflow_sum=True)

# Kandinsky 5 video (lite): 16-channel HunyuanVideo latent + the concat image (16) and mask (1),
# patch 1 x 2 x 2 -> 132 inputs per token; Qwen2.5-VL text (3584) and a CLIP-L pooled vector (768).
KANDINSKY5 = dict(in_visual_dim=16, out_visual_dim=16, in_text_dim=3584, in_text_dim2=768,
                  time_dim=64, model_dim=128, ff_dim=256, visual_embed_dim=132,
                  patch_size=(1, 2, 2), num_text_blocks=1, num_visual_blocks=2)

# LTX-2: video stream 2 x 64 (cross-attention width = its own width, as in the 19B model's
# 4096 = 32 x 128), audio stream 2 x 32, Gemma text projected to 64 channels (caption_channels)
# and refined by 1-layer connectors of 2 x 32.
LTXAV = dict(in_channels=128, audio_in_channels=128, cross_attention_dim=128,
             audio_cross_attention_dim=64, attention_head_dim=64, audio_attention_head_dim=32,
             num_attention_heads=2, audio_num_attention_heads=2, caption_channels=64, num_layers=2,
             connector_attention_head_dim=32, connector_num_attention_heads=2,
             connector_num_layers=1)

SPECS = {
    "svg_tiny_ltx2_av.safetensors": dict(
        family="ltxav", supported="LTXAV", module="comfy.ldm.lightricks.av_model",
        cls="LTXAVModel", seed=2601, config=dict(LTXAV),
        metadata={"config": json.dumps({"transformer": dict(LTXAV)})},
        checks=("num_layers", "attention_head_dim", "num_attention_heads",
                "audio_num_attention_heads", "caption_channels")),
    "svg_tiny_hunyuan_video15_t2v.safetensors": dict(
        family="hunyuan_video15", supported="HunyuanVideo15", module="comfy.ldm.hunyuan_video.model",
        cls="HunyuanVideo", seed=2611, config=dict(HUNYUAN15), image_model="hunyuan_video",
        checks=("hidden_size", "num_heads", "depth", "depth_single_blocks", "in_channels",
                "vision_in_dim", "patch_size")),
    # the 1080p super-resolution model: 98 input channels (latent 32 + upscaled latent 32 x 2 + 2)
    "svg_tiny_hunyuan_video15_sr.safetensors": dict(
        family="hunyuan_video15", supported="HunyuanVideo15_SR_Distilled",
        module="comfy.ldm.hunyuan_video.model", cls="HunyuanVideo", seed=2612,
        config=dict(HUNYUAN15, in_channels=98), image_model="hunyuan_video",
        checks=("hidden_size", "num_heads", "in_channels", "vision_in_dim")),
    "svg_tiny_kandinsky5_t2v.safetensors": dict(
        family="kandinsky5", supported="Kandinsky5", module="comfy.ldm.kandinsky5.model",
        cls="Kandinsky5", seed=2621, config=dict(KANDINSKY5),
        checks=("model_dim", "ff_dim", "time_dim", "visual_embed_dim", "num_text_blocks",
                "num_visual_blocks")),
    "svg_tiny_wan21_vace.safetensors": dict(
        family="wan", supported="WAN21_Vace", module="comfy.ldm.wan.model", cls="VaceWanModel",
        seed=2631, config=dict(WAN, in_dim=16, vace_layers=1, vace_in_dim=96),
        checks=("dim", "num_layers", "vace_layers", "vace_in_dim"), expect={"model_type": "vace"}),
    # Wan 2.1 Fun Camera (image to video: CLIP vision, 32 input channels)
    "svg_tiny_wan21_camera.safetensors": dict(
        family="wan", supported="WAN21_Camera", module="comfy.ldm.wan.model", cls="CameraWanModel",
        seed=2632, config=dict(WAN, model_type="camera", in_dim=32),
        checks=("dim", "num_layers", "in_dim", "model_type")),
    "svg_tiny_wan22_s2v.safetensors": dict(
        family="wan", supported="WAN22_S2V", module="comfy.ldm.wan.model", cls="WanModel_S2V",
        seed=2633, config=dict(WAN, in_dim=16), checks=("dim", "num_layers"),
        expect={"model_type": "s2v"}),
    # HuMo 17B's layout (36 input channels: the latent, a 4-channel mask and 16 channels of
    # zero-image VAE values; the reference image through reference_latent tokens, 36 channels too)
    "svg_tiny_wan21_humo.safetensors": dict(
        family="wan", supported="WAN21_HuMo", module="comfy.ldm.wan.model", cls="HumoWanModel",
        seed=2634, config=dict(WAN, in_dim=36), checks=("dim", "num_layers", "in_dim"),
        expect={"model_type": "humo"},
        float8=("audio_proj.audio_proj_glob_1.layer.weight",
                "audio_proj.audio_proj_glob_3.layer.weight")),
    "svg_tiny_wan22_animate.safetensors": dict(
        family="wan", supported="WAN22_Animate", module="comfy.ldm.wan.model_animate",
        cls="AnimateWanModel", seed=2635, config=dict(WAN, num_layers=5, in_dim=36),
        checks=("dim", "num_layers", "in_dim"), expect={"model_type": "animate"},
        omit=("motion_encoder.", "face_encoder.")),
    "svg_tiny_wan21_scail.safetensors": dict(
        family="wan", supported="WAN21_SCAIL", module="comfy.ldm.wan.model", cls="SCAILWanModel",
        seed=2636, config=dict(WAN, in_dim=20), checks=("dim", "num_layers", "in_dim"),
        expect={"model_type": "scail"}),
    "svg_tiny_wan21_flowrvs.safetensors": dict(
        family="wan", supported="WAN21_FlowRVS", module="comfy.ldm.wan.model", cls="WanModel",
        seed=2637, config=dict(WAN, in_dim=16),
        metadata={"config": json.dumps({"transformer": {"model_type": "flow_rvs"}})},
        checks=("dim", "num_layers")),
}


def unavailable(spec) -> str | None:
    """Why this ComfyUI tree cannot build the spec (one line), or None."""
    import comfy.supported_models
    if not hasattr(comfy.supported_models, spec["supported"]):
        return f"this ComfyUI has no {spec['supported']} (comfy.supported_models)"
    return None


def _constructor_kwargs(spec) -> dict:
    cfg = dict(spec["config"])
    if spec["family"] == "hunyuan_video15":
        from comfy.ldm.hunyuan_video.model import HunyuanVideoParams
        fields = {f.name for f in dataclasses.fields(HunyuanVideoParams)}
        cfg = {k: v for k, v in cfg.items() if k in fields}
    if "image_model" in spec:
        cfg["image_model"] = spec["image_model"]
    return cfg


def build(spec, init_params) -> dict:
    """The state dict of a seeded random model of the spec, in the dtypes it is stored in."""
    import importlib

    import torch
    import comfy.ops
    module = importlib.import_module(spec["module"])
    model = getattr(module, spec["cls"])(operations=comfy.ops.disable_weight_init,
                                         dtype=torch.float32, **_constructor_kwargs(spec))
    init_params(model, spec["seed"])
    omit = spec.get("omit", ())
    float8 = set(spec.get("float8", ()))
    sd = {}
    for key, value in model.state_dict().items():
        if key.startswith(omit):
            continue
        dtype = torch.float8_e4m3fn if key in float8 else torch.bfloat16
        sd[key] = value.detach().to(dtype).contiguous().clone()
    if float8 - set(sd):
        raise RuntimeError(f"float8 keys not in the model: {sorted(float8 - set(sd))}")
    return sd


def verify(path, spec, sd) -> str:
    """Load the file as UNETLoader does and check class, shape and weights; a one-line summary."""
    import torch
    import comfy.sd
    patcher = comfy.sd.load_diffusion_model(str(path))
    model = patcher.model
    detected = type(model.model_config).__name__
    if detected != spec["supported"]:
        raise RuntimeError(f"{path.name}: detected {detected}, expected {spec['supported']}")
    dm = model.diffusion_model
    if type(dm).__name__ != spec["cls"]:
        raise RuntimeError(f"{path.name}: built {type(dm).__name__}, expected {spec['cls']}")
    uc = model.model_config.unet_config
    want = {**{k: _constructor_kwargs(spec)[k] for k in spec["checks"]}, **spec.get("expect", {})}
    wrong = {k: (uc.get(k), v) for k, v in want.items() if _norm(uc.get(k)) != _norm(v)}
    if wrong:
        raise RuntimeError(f"{path.name}: detected config differs (got, want): {wrong}")
    loaded = dm.state_dict()
    for key, value in sd.items():
        if key not in loaded or not torch.equal(loaded[key].float(), value.float()):
            raise RuntimeError(f"{path.name}: weight {key} did not load unchanged")
    left_out = sorted({k.split(".")[0] for k in loaded if k not in sd})
    n = sum(v.numel() for v in sd.values())
    note = f", left out: {', '.join(left_out)}" if left_out else ""
    return f"{path.name}: {detected} ({type(dm).__name__}), {n / 1e6:.1f}M params, config ok{note}"


def _norm(value):
    return list(value) if isinstance(value, tuple) else value

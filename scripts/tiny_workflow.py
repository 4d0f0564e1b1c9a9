"""Make the example workflows runnable on the tiny test host (standard library only).

Used by the integration tests (tests/integration) and the main job (scripts/main_job.py).
What adapt_workflow changes in an API-format graph converted from workflows/*.json, and why:

- UNETLoader: the official model file -> the tiny random-weight model of the same family and
  type (real checkpoints are GBs and cannot be downloaded here); weight_dtype -> default.
  HunyuanVideo I2V "v2 (replace)" has the T2V model's shape (16 latent channels in, loaded as
  the same HunyuanVideo class): the tiny T2V file stands in for it.
- CheckpointLoaderSimple (LTX-Video's all-in-one checkpoint) -> SVGTestCheckpointLoader: the
  tiny LTXV diffusion model file, with the family's text-encoder and VAE doubles.
- Cosmos Predict2 2B video2world -> the tiny Cosmos Predict2 I2V model (width 192, and the 10
  blocks of 16 heads that 0.3.75's detection gives every width but the 2B / 14B ones).
- Mochi has no tiny stand-in (NOT_RUNNABLE): 0.3.75's detection hard-codes its full-size
  config, so adapt_workflow raises for its diffusion model file.
- CLIPLoader / DualCLIPLoader (umt5-xxl; clip-l + llava-llama3; Cosmos' old T5-XXL) ->
  SVGTestCLIPLoader of the same family: random embeddings of the real shapes; CLIPTextEncode
  itself still runs.
- VAELoader (Wan / HunyuanVideo VAE; Cosmos Predict2: the Wan 2.1 VAE) -> SVGTestVAELoader;
  VAEDecode(Tiled) itself still runs.
- CLIPVisionLoader -> SVGTestCLIPVisionLoader (ViT-H/14 shapes; HunyuanVideo I2V's llava
  vision tower: its mm_projected output is None, so the prompt is encoded without image tokens).
- LoadImage (the user's start image, not on the host) -> EmptyImage of the tiny video size.
- Video size 256x256 and 13 frames (1024 video tokens), 5 steps, instead of 480p/720p and
  20-30 steps (LTX-Video: 512x512 and 25 frames, the same 1024 tokens through its 32x / 8x VAE):
  the same graph at CPU size. KSamplerAdvanced: steps 4 (an even split for Wan 2.2's two
  experts), start_at_step / end_at_step scaled to them (10000: to the end).
- Save* nodes: a unique filename prefix under output/svgtest/.
- The video families of 2026 (workflows marked extra.svg_requires = ComfyUI 0.19.3): their
  official files -> the tiny checkpoints of scripts/tiny_models_2026.py (NEW_FAMILY_FILES);
  LTX-2: 512x512 and 33 frames (5 latent frames of 16 x 16: 1280 tokens, not the 1024 of its
  padded text, which would make the two indistinguishable by length); HunyuanVideo 1.5 and its
  upsampler (16x VAE): 256x256, the upscaler keeps that size. Loaders and nodes that need
  torchaudio (LTX-2's text encoder, audio VAE, empty audio latent and audio decode; LoadAudio,
  AudioEncoderLoader / Encode) and LoadVideo + GetVideoComponents -> test doubles doing the same
  (tests/fixtures/svg_test_nodes); LatentUpscaleModelLoader -> a double that keeps the latent.
The SVG node's settings are kept exactly as the workflow has them.
The stand-in nodes live in tests/fixtures/svg_test_nodes (test doubles, never installed for users).
"""
from __future__ import annotations

import copy
import uuid

# The tiny random-weight models scripts/make_tiny_models.py writes.
MODELS = {
    "wan_t2v": {"file": "svg_tiny_wan21_t2v.safetensors", "family": "wan", "i2v": False},
    "wan_i2v": {"file": "svg_tiny_wan21_i2v.safetensors", "family": "wan", "i2v": True},
    "hunyuan_t2v": {"file": "svg_tiny_hunyuan_video_t2v.safetensors", "family": "hunyuan_video",
                    "i2v": False},
}
# Tiny models with other latent formats, run by tests/integration/test_model_families.py only
# (the generic 16-channel graphs of svg_graphs.sampling_graph do not fit them).
FAMILY_MODELS = {
    # Wan 2.2 5B TI2V (48 channels): its image comes through the latent (Wan22ImageToVideoLatent)
    "wan22_ti2v_5b": {"file": "svg_tiny_wan22_ti2v_5b.safetensors", "family": "wan"},
    # LTX-Video 0.9 T2V: 128 latent channels, 32x spatial / 8x temporal VAE, patch 1
    "ltxv_t2v": {"file": "svg_tiny_ltxv_t2v.safetensors", "family": "ltxv"},
    # Cosmos Predict2 video2world: the Wan 2.1 latent (16 channels) plus the condition mask
    # channel, 1024-wide T5 text through cross-attention only
    "cosmos_predict2_i2v": {"file": "svg_tiny_cosmos_predict2_i2v.safetensors",
                            "family": "cosmos"},
}
# 256x256 -> 32x32 latent -> 16x16 = 256 tokens per latent frame; 13 frames -> 4 latent
# frames: 1024 video tokens = 8 blocks of 128, enough for SVG to engage, cheap on a CPU.
WIDTH = HEIGHT = 256
LENGTH = 13
STEPS = 5

TINY_UNET = {
    "wan2.1_t2v_1.3B_fp16.safetensors": MODELS["wan_t2v"]["file"],
    "wan2.1_i2v_480p_14B_fp16.safetensors": MODELS["wan_i2v"]["file"],
    "hunyuan_video_t2v_720p_bf16.safetensors": MODELS["hunyuan_t2v"]["file"],
    "hunyuan_video_v2_replace_image_to_video_720p_bf16.safetensors": MODELS["hunyuan_t2v"]["file"],
    # Wan 2.2 14B T2V's two experts load as the same model class as Wan 2.1 T2V
    "wan2.2_t2v_high_noise_14B_fp8_scaled.safetensors": MODELS["wan_t2v"]["file"],
    "wan2.2_t2v_low_noise_14B_fp8_scaled.safetensors": MODELS["wan_t2v"]["file"],
    "cosmos_predict2_2B_video2world_480p_16fps.safetensors":
        FAMILY_MODELS["cosmos_predict2_i2v"]["file"],
}
# CheckpointLoaderSimple files -> tiny diffusion model files (SVGTestCheckpointLoader)
TINY_CHECKPOINT = {
    "ltx-video-2b-v0.9.5.safetensors": FAMILY_MODELS["ltxv_t2v"]["file"],
}
# The video families of 2026 (scripts/tiny_models_2026.py), by official file name (Animate, SCAIL
# and FlowRVS: the placeholder names of their example workflows).
NEW_FAMILY_FILES = {
    "hunyuanvideo1.5_720p_t2v_fp16.safetensors": ("svg_tiny_hunyuan_video15_t2v.safetensors", "hunyuan_video15"),
    "hunyuanvideo1.5_1080p_sr_distilled_fp16.safetensors": ("svg_tiny_hunyuan_video15_sr.safetensors",
                                                            "hunyuan_video15"),
    "kandinsky5lite_t2v_sft_5s.safetensors": ("svg_tiny_kandinsky5_t2v.safetensors", "kandinsky5"),
    "wan2.1_vace_14B_fp16.safetensors": ("svg_tiny_wan21_vace.safetensors", "wan"),
    "wan2.1_fun_camera_v1.1_1.3B_bf16.safetensors": ("svg_tiny_wan21_camera.safetensors", "wan"),
    "humo_17B_fp8_e4m3fn.safetensors": ("svg_tiny_wan21_humo.safetensors", "wan"),
    "wan2.2_s2v_14B_fp8_scaled.safetensors": ("svg_tiny_wan22_s2v.safetensors", "wan"),
    "wan2.2_animate_14B_bf16.safetensors": ("svg_tiny_wan22_animate.safetensors", "wan"),
    "wan2.1_scail_preview_14B_bf16.safetensors": ("svg_tiny_wan21_scail.safetensors", "wan"),
    "wan2.1_flowrvs_1.3B_bf16.safetensors": ("svg_tiny_wan21_flowrvs.safetensors", "wan"),
}
TINY_UNET.update({name: tiny for name, (tiny, _) in NEW_FAMILY_FILES.items()})
TINY_CHECKPOINT["ltx-2-19b-dev-fp8.safetensors"] = "svg_tiny_ltx2_av.safetensors"
# Official diffusion model files with no tiny stand-in: the example workflows that load them are
# format-checked only (tests/integration/test_workflows.py::test_not_runnable_set).
NOT_RUNNABLE = {
    "mochi_preview_bf16.safetensors": "Mochi: 0.3.75's detection hard-codes the full-size config",
}
LTXV_WIDTH = LTXV_HEIGHT = 2 * WIDTH  # 512x512 -> 16x16 latent (32x VAE, patch 1)
LTXV_LENGTH = 25                       # -> 4 latent frames (8x temporal)
ADVANCED_STEPS = 4
FAMILY_OF_FILE = {m["file"]: m["family"] for m in (*MODELS.values(), *FAMILY_MODELS.values())}
FAMILY_OF_FILE.update({tiny: family for tiny, family in NEW_FAMILY_FILES.values()})
FAMILY_OF_FILE["svg_tiny_ltx2_av.safetensors"] = "ltxav"
CLIP_TYPE_FAMILY = {"wan": "wan", "hunyuan_video": "hunyuan_video", "ltxv": "ltxv",
                    "cosmos": "cosmos", "hunyuan_video_15": "hunyuan_video15", "kandinsky5": "kandinsky5"}
LTX2_LENGTH = 33                       # -> 5 latent frames (8x temporal)
# nodes whose image size and length set the video (Wan and the 2026 families)
SIZED_NODES = ("EmptyHunyuanLatentVideo", "WanImageToVideo", "HunyuanImageToVideo",
               "CosmosPredict2ImageToVideoLatent", "EmptyHunyuanVideo15Latent", "Kandinsky5ImageToVideo",
               "WanVaceToVideo", "WanCameraImageToVideo", "WanCameraEmbedding", "WanHuMoImageToVideo",
               "WanSoundImageToVideo", "WanAnimateToVideo", "WanSCAILToVideo")


def unique_prefix(tag: str) -> str:
    return f"svgtest/{tag}_{uuid.uuid4().hex[:8]}"


def adapt_workflow(api: dict, tag: str) -> dict:
    api = copy.deepcopy(api)
    families = set()
    for nid, node in api.items():
        if node["class_type"] == "UNETLoader":
            name = node["inputs"]["unet_name"]
            if name not in TINY_UNET:
                raise KeyError(f"no tiny stand-in for diffusion model {name!r}"
                               + (f" ({NOT_RUNNABLE[name]})" if name in NOT_RUNNABLE else ""))
            node["inputs"].update(unet_name=TINY_UNET[name], weight_dtype="default")
            families.add(FAMILY_OF_FILE[TINY_UNET[name]])
        elif node["class_type"] == "CheckpointLoaderSimple":
            name = node["inputs"]["ckpt_name"]
            if name not in TINY_CHECKPOINT:
                raise KeyError(f"no tiny stand-in for checkpoint {name!r}")
            tiny = TINY_CHECKPOINT[name]
            api[nid] = {"class_type": "SVGTestCheckpointLoader",
                        "inputs": {"unet_name": tiny, "model_family": FAMILY_OF_FILE[tiny]}}
            families.add(FAMILY_OF_FILE[tiny])
    if len(families) != 1:
        raise ValueError(f"expected one model family, found {families}")
    family = families.pop()
    for nid, node in api.items():
        ct, inp = node["class_type"], node["inputs"]
        if ct in ("CLIPLoader", "DualCLIPLoader"):
            api[nid] = {"class_type": "SVGTestCLIPLoader",
                        "inputs": {"model_family": CLIP_TYPE_FAMILY[inp["type"]]}}
        elif ct == "VAELoader":
            api[nid] = {"class_type": "SVGTestVAELoader", "inputs": {"model_family": family}}
        elif ct == "CLIPVisionLoader":
            api[nid] = {"class_type": "SVGTestCLIPVisionLoader", "inputs": {}}
        elif ct in SIZED_NODES:
            inp.update(width=WIDTH, height=HEIGHT, length=LENGTH)
        elif ct == "EmptyLTXVLatentVideo":
            inp.update(width=LTXV_WIDTH, height=LTXV_HEIGHT,
                       length=LTX2_LENGTH if family == "ltxav" else LTXV_LENGTH)
        elif ct in NEW_FAMILY_NODES:
            api[nid] = NEW_FAMILY_NODES[ct](inp)
        elif ct == "HunyuanVideo15LatentUpscaleWithModel":
            inp.update(width=WIDTH, height=HEIGHT)
        elif ct in ("KSampler", "BasicScheduler", "LTXVScheduler"):
            inp["steps"] = STEPS
        elif ct == "KSamplerAdvanced":
            full = inp["steps"]
            for key in ("start_at_step", "end_at_step"):
                if inp[key] < full:
                    inp[key] = round(inp[key] * ADVANCED_STEPS / full)
            inp["steps"] = ADVANCED_STEPS
        elif ct == "LoadImage":
            api[nid] = {"class_type": "EmptyImage", "inputs": {
                "width": WIDTH, "height": HEIGHT, "batch_size": 1, "color": 0x3366AA}}
        elif ct.startswith("Save") and "filename_prefix" in inp:
            inp["filename_prefix"] = unique_prefix(tag)
    for nid in [k for k, v in api.items() if v["class_type"] == "LoadVideo"]:
        del api[nid]   # its GetVideoComponents became SVGTestVideoFrames
    return api


def _double(class_type, **inputs):
    return {"class_type": class_type, "inputs": inputs}


# Nodes of the 2026 families' workflows -> test doubles (same outputs; inputs kept where they
# are the same).
NEW_FAMILY_NODES = {
    "LTXAVTextEncoderLoader": lambda inp: _double("SVGTestCLIPLoader", model_family="ltxav"),
    "LTXVAudioVAELoader": lambda inp: _double("SVGTestAudioVAELoader"),
    "LTXVEmptyLatentAudio": lambda inp: _double("SVGTestEmptyLatentAudio", **dict(inp, frames_number=LTX2_LENGTH)),
    "LTXVAudioVAEDecode": lambda inp: _double("SVGTestAudioVAEDecode", **inp),
    "AudioEncoderLoader": lambda inp: _double(
        "SVGTestAudioEncoderLoader",
        model_family="whisper" if "whisper" in inp["audio_encoder_name"] else "wav2vec2"),
    "AudioEncoderEncode": lambda inp: _double("SVGTestAudioEncoderEncode", **inp),
    "LoadAudio": lambda inp: _double("SVGTestAudio", seconds=1.0),
    "GetVideoComponents": lambda inp: _double("SVGTestVideoFrames", width=WIDTH, height=HEIGHT, length=LENGTH),
    "LatentUpscaleModelLoader": lambda inp: _double("SVGTestLatentUpscaleModelLoader"),
}

"""BENCH NODES ONLY: prompt and decoder nodes for the tiny Wan model trained on procedural shapes.

The model (``models/svg_tiny_wan_shapes_t2v.safetensors``, trained by
``bench/quality/train_tiny_wan.py``) has no text encoder and no VAE: its "text" is one of the
fixed pseudo-random contexts of ``bench/quality/video_data.py`` and its latent space is the exact
linear map of ``bench/quality/latent_space.py``. These two nodes give ComfyUI exactly that, so
the model runs through the stock graph (UNETLoader -> SVG Sparse Attention -> KSampler):

- ``SVGShapesPrompt``: a prompt from the training list -> CONDITIONING [1, 8, 4096]
  (``(unconditional)``: the zero context the model was trained with for CFG).
- ``SVGShapesDecode``: a sampler's LATENT -> IMAGE frames [T, 2h, 2w, 3] in [0, 1]
  (``process_in`` of ComfyUI's Wan 2.1 latent format, then the inverse linear map).

scripts/host.py links this folder into the local test host; it is not part of a user's install.
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def _load(name: str):
    """Import a sibling module of bench/quality by path (this folder is loaded by ComfyUI as a
    top-level package, so bench/quality is not importable as a package here)."""
    full = f"svg_quality_{name}"
    if full in sys.modules:
        return sys.modules[full]
    spec = importlib.util.spec_from_file_location(full, HERE.parent / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[full] = module
    spec.loader.exec_module(module)
    return module


video_data = _load("video_data")
latent_space = _load("latent_space")


class SVGShapesPrompt:
    CATEGORY = "svg_bench"
    RETURN_TYPES = ("CONDITIONING",)
    FUNCTION = "encode"
    DESCRIPTION = "Conditioning of the tiny procedural-shapes Wan model (bench only)."

    @classmethod
    def INPUT_TYPES(cls):
        prompts = [p.text for p in video_data.PROMPTS] + [video_data.UNCONDITIONAL_PROMPT]
        return {"required": {"prompt": (prompts, {
            "tooltip": "One of the prompts the tiny model was trained on; '(unconditional)' is the "
                       "zero context it was trained with for classifier-free guidance."})}}

    def encode(self, prompt):
        context = (video_data.null_context() if prompt == video_data.UNCONDITIONAL_PROMPT
                   else video_data.prompt_context(prompt))
        return ([[context[None], {}]],)


class SVGShapesDecode:
    CATEGORY = "svg_bench"
    RETURN_TYPES = ("IMAGE",)
    FUNCTION = "decode"
    DESCRIPTION = "Exact decoder of the tiny procedural-shapes Wan model's latent space (bench only)."

    @classmethod
    def INPUT_TYPES(cls):
        return {"required": {"samples": ("LATENT", {
            "tooltip": "A sampler's output latent [B, 16, T, h, w] of the tiny shapes model."})}}

    def decode(self, samples):
        import comfy.latent_formats
        latent = latent_space.from_comfy(samples["samples"].float(), comfy.latent_formats.Wan21())
        video = latent_space.decode(latent)                      # [B, T, 3, H, W] in [-1, 1]
        frames = video.flatten(0, 1).movedim(1, -1)              # [B*T, H, W, 3]
        return (((frames + 1) / 2).clamp(0, 1),)


NODE_CLASS_MAPPINGS = {"SVGShapesPrompt": SVGShapesPrompt, "SVGShapesDecode": SVGShapesDecode}
NODE_DISPLAY_NAME_MAPPINGS = {"SVGShapesPrompt": "Shapes Prompt (SVG bench model)",
                              "SVGShapesDecode": "Shapes Decode (SVG bench model)"}

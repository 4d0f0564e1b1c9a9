"""Per model family: where the video tokens of a self-attention call are, from what ComfyUI's model
object and the diffusion model's inputs tell. One small adapter per family.

Each adapter turns the DIFFUSION_MODEL call's arguments into a ``VideoGrid`` once per model call;
``VideoGrid.layout_for(tokens)`` then maps one attention call's length onto a ``VideoLayout`` (or
says why it cannot).
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ..svg_attention import VideoLayout


@dataclass(frozen=True)
class VideoGrid:
    """The video of one model call: frames x tokens per frame, plus known prefix tokens.

    text_after: the model appends text to the video inside joint attention (its length is whatever
    the call has beyond the video), as HunyuanVideo does. Otherwise the call must match exactly.
    """

    num_frames: int
    frame_tokens: int
    prefix_tokens: int = 0
    text_after: bool = False

    def layout_for(self, tokens: int):
        """(VideoLayout, None) when a call of ``tokens`` tokens is this video's self-attention,
        else (None, why)."""
        video = self.num_frames * self.frame_tokens + self.prefix_tokens
        suffix = tokens - video
        if suffix == 0 or (self.text_after and suffix > 0):
            layout = VideoLayout(self.num_frames, self.frame_tokens, self.prefix_tokens, suffix)
            return layout, None
        return None, f"{tokens} tokens is not the video's {video}" + (" + text" if self.text_after else "")


def _latent(args):
    x = args[0] if args else None
    if not isinstance(x, torch.Tensor) or x.dim() != 5:
        return None
    return x


class WanAdapter:
    """Wan 2.1 / 2.2 (T2V, I2V, 5B TI2V, VACE, camera): video-only self-attention, patch (1, 2, 2),
    text through a separate cross-attention; the reference image (ref_conv) is a token prefix and
    ``time_dim_concat`` appends frames. forward(x, timestep, context, clip_fea, time_dim_concat, ...)."""

    family = "Wan"

    def __init__(self, diffusion_model):
        self.patch_size = tuple(diffusion_model.patch_size)
        self.has_ref_conv = getattr(diffusion_model, "ref_conv", None) is not None

    def grid(self, args, kwargs):
        x = _latent(args)
        if x is None:
            return None, "the model input is not a 5D video latent"
        pt, ph, pw = self.patch_size
        frames = math.ceil(x.shape[2] / pt)
        concat = args[4] if len(args) > 4 else kwargs.get("time_dim_concat")
        if isinstance(concat, torch.Tensor):
            frames += math.ceil(concat.shape[2] / pt)
        frame_tokens = math.ceil(x.shape[3] / ph) * math.ceil(x.shape[4] / pw)
        prefix = 0
        ref = kwargs.get("reference_latent")
        if self.has_ref_conv and isinstance(ref, torch.Tensor):
            prefix = (ref.shape[-2] // ph) * (ref.shape[-1] // pw)
        return VideoGrid(frames, frame_tokens, prefix, text_after=False), None


class HunyuanVideoAdapter:
    """HunyuanVideo: joint attention with the text appended after the video (and an additive key
    mask for text padding); an optional ``ref_latent`` is a token prefix. Patch embedding by a
    strided conv (floor division). forward(x, timestep, context, y, txt_byt5, clip_fea, guidance,
    attention_mask, guiding_frame_index, ref_latent, ...)."""

    family = "HunyuanVideo"

    def __init__(self, diffusion_model):
        self.patch_size = tuple(diffusion_model.patch_size)

    def grid(self, args, kwargs):
        x = _latent(args)
        if x is None or len(self.patch_size) != 3:
            return None, "the model input is not a 5D video latent"
        pt, ph, pw = self.patch_size
        frames = x.shape[2] // pt
        frame_tokens = (x.shape[3] // ph) * (x.shape[4] // pw)
        ref = args[9] if len(args) > 9 else kwargs.get("ref_latent")
        prefix = 0
        if isinstance(ref, torch.Tensor) and ref.dim() == 5:
            prefix = (ref.shape[2] // pt) * (ref.shape[3] // ph) * (ref.shape[4] // pw)
        return VideoGrid(frames, frame_tokens, prefix, text_after=True), None


def adapter_for(diffusion_model):
    """(adapter, None) for a supported model, else (None, why) naming the model class."""
    from comfy.ldm.hunyuan_video.model import HunyuanVideo
    from comfy.ldm.wan.model import WanModel

    if isinstance(diffusion_model, WanModel):
        return WanAdapter(diffusion_model), None
    if isinstance(diffusion_model, HunyuanVideo):
        return HunyuanVideoAdapter(diffusion_model), None
    name = type(diffusion_model).__name__
    return None, f"model class {name} has no SVG layout adapter (supported: Wan 2.1/2.2, HunyuanVideo)"

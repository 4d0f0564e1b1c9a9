"""Layout adapters for the video families that newer ComfyUI (0.19.3, April 2026) detects: the Wan
2.1 / 2.2 variants (VACE, Camera, S2V, HuMo, Animate, SCAIL), LTX-2 (audio + video) and
Kandinsky 5. Each builds on the adapter of its base model in ``model_layout`` and is registered
before it there (``_family_classes``).

Where the tokens are, read from ComfyUI 0.19.3's model code (comfy/ldm/wan/model.py,
model_animate.py, lightricks/av_model.py, kandinsky5/model.py):

- Wan VACE, Camera, Animate: the self-attention sees the video tokens only (VACE's context blocks
  run their own self-attention over a second stream with the video's grid; Camera's and Animate's
  pose conditions are added to the patch embeddings, Animate's face adapter calls attention
  without transformer_options). Reference images that these workflows put into the latent
  (WanVaceToVideo's, WanAnimateToVideo's ``trim_latent`` frames) are latent frames like the others.
- Wan S2V: the video, then the reference image's tokens, then the frame-packed motion tokens
  (1 frame at patch 1x2x2, 2 frames at 2x4x4, 16 frames at 4x8x8).
- Wan HuMo: the video, then the reference image's tokens.
- Wan SCAIL: the reference frames concatenated in time BEFORE the video, then the pose video's
  tokens (its own patch embedding) after it; ``grid_sizes`` counts the reference frames too.
- LTX-2 (LTXAVModel): two streams. attn1 is the video's self-attention (video tokens, then guide
  tokens, as LTXV), audio_attn1 the audio's own self-attention (one token per audio latent step,
  ID-LoRA reference audio in front), and audio-to-video / video-to-audio cross-attentions.
- Kandinsky 5: the visual blocks' self-attention sees the video tokens only (patch 1x2x2 after
  padding); the text goes through cross-attention and through text blocks of its own.

Every count is exact (no "whatever follows the video" wildcard): an attention call whose length
is not prefix + video + suffix, or a published ``grid_sizes`` that differs from the grid computed
here, runs dense with one reason line.
"""
from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass

import torch

from .model_layout import (LTXVAdapter, VideoGrid, WanAdapter, _Adapter, _arg, _context_tokens, _latent,
                           _not_video)


@dataclass(frozen=True)
class CheckedGrid(VideoGrid):
    """A grid that checks what the model publishes during the call (``grid_sizes``, set by Wan,
    VACE and SCAIL in ComfyUI 0.19.3) against the grid the adapter computed, instead of adopting
    it: a different grid means the adapter's layout is wrong, and the call runs dense."""

    expected_grid_sizes: tuple = ()

    def refined(self, transformer_options):
        """(self, None) where the model publishes no grid_sizes or exactly the expected one, else
        (None, why): the call runs dense."""
        sizes = transformer_options.get("grid_sizes") if transformer_options else None
        if sizes is None or not self.expected_grid_sizes:
            return self, None
        try:
            published = tuple(int(s) for s in sizes)
        except (TypeError, ValueError):
            published = ()
        if len(published) != 3:
            return None, f"grid_sizes {sizes!r} is not (frames, height, width): the video grid cannot be checked"
        if published == self.expected_grid_sizes:
            return self, None
        return None, (f"the model's grid_sizes {published!r} is not the {self.expected_grid_sizes} "
                      f"this layout was computed for")


@dataclass(frozen=True)
class AudioVideoGrid(VideoGrid):
    """LTX-2's video grid, knowing the length of the audio stream's own self-attention so that
    its calls are named as such (they stay dense: audio has no frames x positions layout)."""

    audio_tokens: int = 0

    def layout_for(self, tokens: int, *args, **kwargs):
        if self.audio_tokens and tokens == self.audio_tokens:
            return None, f"the audio stream's self-attention ({tokens} audio tokens) has no video layout"
        return super().layout_for(tokens, *args, **kwargs)


def _patches(latent, patch_size, pad: bool) -> int:
    """Tokens of a latent [B, C, T, H, W] under a patch embedding: ``pad`` where the model pads to
    whole patches first (ceil), else a strided convolution's floor."""
    sizes = zip(latent.shape[-3:], patch_size)
    if pad:
        return math.prod(math.ceil(size / p) for size, p in sizes)
    return math.prod(size // p for size, p in sizes)


def _is_video(value) -> bool:
    return isinstance(value, torch.Tensor) and value.dim() == 5


class _WanVariantAdapter(WanAdapter):
    """A Wan variant whose grid is exact and checked against ``grid_sizes`` where the model
    publishes it. Subclasses add the tokens their model puts before / after the video."""

    def grid(self, args, kwargs):
        grid, why = super().grid(args, kwargs)
        if grid is None:
            return None, why
        prefix, suffix, why = self.extra_tokens(args, kwargs, grid)
        if why is not None:
            return None, f"{self.name}: {why}"
        ref_frames = self.leading_frames(kwargs)
        height, width = self._patch_rows_cols(args[0])
        expected = (ref_frames + grid.num_frames, height, width)
        return CheckedGrid(grid.num_frames, grid.frame_tokens, grid.prefix_tokens + prefix,
                           suffix_tokens=grid.suffix_tokens + suffix, cross_tokens=grid.cross_tokens,
                           expected_grid_sizes=expected), None

    def _patch_rows_cols(self, latent):
        _, ph, pw = self.patch_size
        return math.ceil(latent.shape[-2] / ph), math.ceil(latent.shape[-1] / pw)

    def extra_tokens(self, args, kwargs, grid):
        """(prefix, suffix, None) tokens this variant adds around the video, or (0, 0, why)."""
        return 0, 0, None

    def leading_frames(self, kwargs) -> int:
        """Latent frames the model concatenates in front of the video inside its patch grid."""
        return 0


class WanVaceAdapter(_WanVariantAdapter):
    """Wan VACE (VaceWanModel): video-only self-attention in the main blocks; the VACE context
    blocks attend over their own stream (``vace_context``: the control video and mask, patchified
    on the same grid), so their calls have the video's length and layout. Reference images that
    WanVaceToVideo prepends are latent frames of the video (trimmed after sampling)."""

    family = "Wan VACE"


class WanCameraAdapter(_WanVariantAdapter):
    """Wan Fun Camera (CameraWanModel, 2.1 and 2.2): the camera embedding is added to the patch
    embeddings; the self-attention sees the video tokens only. It publishes no grid_sizes."""

    family = "Wan Camera"


class WanAnimateAdapter(_WanVariantAdapter):
    """Wan 2.2 Animate (AnimateWanModel): pose latents are added to the patch embeddings of frames
    1.., the face adapter calls attention without transformer_options (SVG never sees it); the
    self-attention sees the video tokens only, WanAnimateToVideo's reference frame(s) among them."""

    family = "Wan Animate"


class WanHuMoAdapter(_WanVariantAdapter):
    """Wan HuMo (HumoWanModel): the reference image's latent (``reference_latent`` [B, C, T, H, W],
    patchified by the video's patch embedding without padding) is appended after the video; the
    audio goes through a per-frame cross-attention (query and key lengths differ: dense)."""

    family = "Wan HuMo"

    def extra_tokens(self, args, kwargs, grid):
        ref = kwargs.get("reference_latent")
        if ref is None:
            return 0, 0, None
        if not _is_video(ref):
            return 0, 0, f"reference_latent of shape {tuple(getattr(ref, 'shape', ()))} is not [B, C, T, H, W]"
        return 0, _patches(ref, self.patch_size, pad=False), None


class WanS2VAdapter(_WanVariantAdapter):
    """Wan 2.2 S2V (WanModel_S2V): after the video, the reference image's tokens and then the
    frame-packed motion tokens (FramePackMotioner: its buckets of 1, 2 and 16 latent frames, each
    through its own strided convolution); the audio is injected by a cross-attention on the video
    rows only (called without transformer_options)."""

    family = "Wan S2V"

    def __init__(self, diffusion_model):
        super().__init__(diffusion_model)
        packer = diffusion_model.frame_packer
        convs = (packer.proj, packer.proj_2x, packer.proj_4x)
        self.motion_buckets = tuple((int(frames), tuple(conv.kernel_size))
                                    for frames, conv in zip(packer.zip_frame_buckets, convs))

    def motion_tokens(self, motion) -> int:
        height, width = motion.shape[-2:]
        return sum((frames // kt) * (height // kh) * (width // kw)
                   for frames, (kt, kh, kw) in self.motion_buckets)

    def extra_tokens(self, args, kwargs, grid):
        suffix = 0
        ref = kwargs.get("reference_latent")
        if ref is not None:
            if not _is_video(ref):
                return 0, 0, f"reference_latent of shape {tuple(getattr(ref, 'shape', ()))} is not [B, C, T, H, W]"
            suffix += _patches(ref, self.patch_size, pad=False)
        motion = kwargs.get("reference_motion")
        if motion is not None:
            if not _is_video(motion):
                return 0, 0, f"reference_motion of shape {tuple(getattr(motion, 'shape', ()))} is not [B, C, T, H, W]"
            suffix += self.motion_tokens(motion)
        return 0, suffix, None


class WanSCAILAdapter(_WanVariantAdapter):
    """Wan SCAIL (SCAILWanModel): the reference latent frames are concatenated in time BEFORE the
    video, on its grid (a global prefix of whole frames, counted in grid_sizes); the pose video
    (``pose_latents``, padded to whole patches, its own patch embedding) follows the video."""

    family = "Wan SCAIL"

    def leading_frames(self, kwargs) -> int:
        ref = kwargs.get("reference_latent")
        return math.ceil(ref.shape[2] / self.patch_size[0]) if _is_video(ref) else 0

    def extra_tokens(self, args, kwargs, grid):
        ref = kwargs.get("reference_latent")
        if ref is not None and not _is_video(ref):
            return 0, 0, f"reference_latent of shape {tuple(getattr(ref, 'shape', ()))} is not [B, C, T, H, W]"
        prefix = self.leading_frames(kwargs) * grid.frame_tokens
        pose = kwargs.get("pose_latents")
        if pose is None:
            return prefix, 0, None
        if not _is_video(pose):
            return 0, 0, f"pose_latents of shape {tuple(getattr(pose, 'shape', ()))} is not [B, C, T, H, W]"
        return prefix, _patches(pose, self.patch_size, pad=True), None


class LTXAVAdapter(LTXVAdapter):
    """LTX-2 (LTXAVModel): the model input is [video latent, audio latent] (or the video alone);
    the video stream's layout is LTXV's (``LTXVAdapter``). The audio stream's self-attention
    (audio latent steps, plus ID-LoRA ``ref_audio`` tokens) and the audio <-> video
    cross-attentions stay dense; where the audio has exactly as many tokens as the video's
    self-attention, the calls cannot be told apart by length and the whole model call is dense.
    forward(x, timestep, context, attention_mask, frame_rate, transformer_options, keyframe_idxs, ...)."""

    family = "LTX-2"

    def grid(self, args, kwargs):
        x = args[0] if args else None
        audio = None
        if isinstance(x, (list, tuple)):
            if not x:
                return None, _not_video(self, None)
            audio = x[1] if len(x) > 1 else None
            args = (x[0],) + tuple(args[1:])
        grid, why = super().grid(args, kwargs)
        if grid is None:
            return None, why
        audio_tokens = 0
        if audio is not None:
            if not isinstance(audio, torch.Tensor) or audio.dim() != 4:
                return None, (f"{self.name}: the audio latent of shape "
                              f"{tuple(getattr(audio, 'shape', ()))} is not [B, C, T, F]")
            audio_tokens = int(audio.shape[2])
            ref_audio = kwargs.get("ref_audio")
            if isinstance(ref_audio, dict) and isinstance(ref_audio.get("tokens"), torch.Tensor):
                audio_tokens += int(ref_audio["tokens"].shape[1])
        video_call = grid.prefix_tokens + grid.video_tokens + grid.suffix_tokens
        if audio_tokens == video_call:
            return None, (f"{self.name}: the audio self-attention has as many tokens ({audio_tokens}) "
                          f"as the video's, so the two cannot be told apart")
        fields = {f.name: getattr(grid, f.name) for f in dataclasses.fields(grid)}
        return AudioVideoGrid(**fields, audio_tokens=audio_tokens), None


class Kandinsky5Adapter(_Adapter):
    """Kandinsky 5 video (Kandinsky5): the visual blocks' self-attention over the video tokens only,
    frame-major after padding to whole patches (1 x 2 x 2); the text (Qwen2.5-VL) through
    cross-attention and through its own text blocks' self-attention, both told apart from the
    video's by their length. ``time_dim_replace`` (image to video) overwrites latent frames in
    place. forward(x, timestep, context, y, time_dim_replace=None, transformer_options, ...)."""

    family = "Kandinsky 5"

    def __init__(self, diffusion_model):
        super().__init__(diffusion_model)
        self.patch_size = tuple(diffusion_model.patch_size)

    def grid(self, args, kwargs):
        x = _latent(args)
        if x is None:
            return None, _not_video(self, args[0] if args else None)
        pt, ph, pw = self.patch_size
        frames = math.ceil(x.shape[2] / pt)
        frame_tokens = math.ceil(x.shape[3] / ph) * math.ceil(x.shape[4] / pw)
        text = _context_tokens(_arg(args, kwargs, 2, "context"))
        if frames * frame_tokens in text:
            # the text blocks' self-attention and the cross-attention would look like the video's
            return None, (f"{self.name}: the video has as many tokens ({frames * frame_tokens}) as the "
                          f"text, so its self-attention cannot be told apart from the text's calls")
        return VideoGrid(frames, frame_tokens), None

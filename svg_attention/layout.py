"""Where the video tokens sit in one attention call, and the two orders SVG uses.

Every supported model flattens its latent frame-major: video token ``f * frame_tokens + p`` is
spatial position ``p`` of latent frame ``f``. Text (HunyuanVideo: after the video; CogVideoX: before
it) and extra tokens (Wan's reference-image prefix) are "global": they attend and are attended fully.

Head orders (``HEAD_ORDERS``, indexed by a head's order number): ``FRAME_MAJOR`` (0) keeps this order;
``POSITION_MAJOR`` (1) is head-order index ``u = p * num_frames + f``, so the tokens of one spatial
position across all frames become neighbours and a band around the diagonal covers them (SVG's
spatial and temporal heads). ``temporal_from_spatial`` / ``spatial_from_temporal`` are the one torch
definition of this index map; the Triton kernels carry its in-kernel twin (kernels/_band_triton.py,
kernels/_profile_triton.py).
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import torch

FRAME_MAJOR, POSITION_MAJOR = 0, 1
HEAD_ORDERS = ("frame-major", "position-major")


@dataclass(frozen=True)
class VideoLayout:
    """Token layout of one attention call.

    num_frames:     latent frames after patchify (F).
    frame_tokens:   tokens per latent frame after patchify (P).
    prefix_tokens:  global tokens before the video (CogVideoX text, Wan reference image).
    suffix_tokens:  global tokens after the video (HunyuanVideo / Mochi text).
    """

    num_frames: int
    frame_tokens: int
    prefix_tokens: int = 0
    suffix_tokens: int = 0

    def __post_init__(self):
        if self.num_frames < 1 or self.frame_tokens < 1:
            raise ValueError(f"a video needs >= 1 frame and >= 1 token per frame, got {self}")
        if self.prefix_tokens < 0 or self.suffix_tokens < 0:
            raise ValueError(f"token counts must be >= 0, got {self}")

    @property
    def video_tokens(self) -> int:
        return self.num_frames * self.frame_tokens

    @property
    def video_start(self) -> int:
        return self.prefix_tokens

    @property
    def global_tokens(self) -> int:
        return self.prefix_tokens + self.suffix_tokens

    @property
    def total_tokens(self) -> int:
        return self.prefix_tokens + self.video_tokens + self.suffix_tokens

    def with_globals(self, prefix_tokens: int, suffix_tokens: int) -> "VideoLayout":
        return VideoLayout(self.num_frames, self.frame_tokens, prefix_tokens, suffix_tokens)


def temporal_from_spatial(video_index: torch.Tensor, num_frames: int, frame_tokens: int) -> torch.Tensor:
    """Frame-major video index ``f*P + p`` -> position-major index ``p*F + f``."""
    return (video_index % frame_tokens) * num_frames + video_index // frame_tokens


def spatial_from_temporal(head_index: torch.Tensor, num_frames: int, frame_tokens: int) -> torch.Tensor:
    """Position-major index ``p*F + f`` -> frame-major video index ``f*P + p``."""
    return (head_index % num_frames) * frame_tokens + head_index // num_frames


def head_order(layout: VideoLayout, order: int, device=None) -> torch.Tensor:
    """Token index (into the whole call) of each head-order video index under head order ``order``
    (``FRAME_MAJOR`` or ``POSITION_MAJOR``; a bool reads as temporal): int64 [V]."""
    return _head_order_cached(layout, int(order), str(device or "cpu"))


@lru_cache(maxsize=32)
def _head_order_cached(layout: VideoLayout, order: int, device: str) -> torch.Tensor:
    if order not in (FRAME_MAJOR, POSITION_MAJOR):
        raise ValueError(f"head order must be one of {HEAD_ORDERS} by index, got {order}")
    u = torch.arange(layout.video_tokens, device=device)
    if order == POSITION_MAJOR:
        u = spatial_from_temporal(u, layout.num_frames, layout.frame_tokens)
    return u + layout.video_start


def global_token_index(layout: VideoLayout, device=None) -> torch.Tensor:
    """Token indices of the global (text / extra) tokens, prefix then suffix: int64 [G]."""
    video_end = layout.video_start + layout.video_tokens
    return torch.cat([
        torch.arange(0, layout.video_start, device=device),
        torch.arange(video_end, layout.total_tokens, device=device),
    ])

"""One SVG attention call: profile sampled rows, label heads, run the band attention, fill text rows.

A backend supplies three functions with the signatures of ``profile_reference``,
``band_attention_reference`` and ``global_rows_dense``; ``reference_backend`` is plain torch, the
Triton one lives in ``kernels`` and is chosen by ``backends.resolve_backend``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch

from .budget import BandPlan
from .layout import VideoLayout
from .reference import band_attention_reference, global_rows_dense, profile_reference


@dataclass(frozen=True)
class Backend:
    name: str
    profile: Callable
    band_attention: Callable
    global_rows: Callable = global_rows_dense


reference_backend = Backend("reference", profile_reference, band_attention_reference, global_rows_dense)


def sample_rows(video_tokens: int, count: int, generator: torch.Generator | None, device) -> torch.Tensor:
    """``count`` frame-major video indices drawn uniformly over the whole video (int64 [R]).
    All rows when the video has no more than ``count`` tokens."""
    if count >= video_tokens:
        return torch.arange(video_tokens, device=device)
    gen_device = generator.device if generator is not None else torch.device("cpu")
    rows = torch.randint(0, video_tokens, (count,), generator=generator, device=gen_device)
    return rows.to(device, non_blocking=True)


def label_heads(errors: torch.Tensor) -> torch.Tensor:
    """err [B, H, 2] (spatial, temporal) -> bool [B, H], True where the temporal pattern is better."""
    return errors[..., 1] < errors[..., 0]


def svg_attention(q, k, v, layout: VideoLayout, plan: BandPlan, rows: torch.Tensor,
                  backend: Backend = reference_backend, key_bias=None, scale=None, out=None):
    """SVG attention of one call. q, k, v: [B, H, N, D]; rows: sampled frame-major video indices.

    Returns (out [B, H, N, D], temporal bool [B, H]).
    """
    errors = backend.profile(q, k, v, layout, plan.width, plan.block_size, rows,
                             key_bias=key_bias, scale=scale)
    temporal = label_heads(errors)
    out = backend.band_attention(q, k, v, layout, plan.width, plan.block_size, temporal,
                                 key_bias=key_bias, scale=scale, out=out)
    if layout.global_tokens:
        out = backend.global_rows(q, k, v, layout, key_bias=key_bias, scale=scale, out=out)
    return out, temporal

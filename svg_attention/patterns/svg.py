"""The "svg" pattern: Sparse VideoGen (Xi et al., ICML 2025), each head spatial or temporal.

Labels: ``SPATIAL`` (0) and ``TEMPORAL`` (1); a head's label is also its head order
(layout.FRAME_MAJOR / POSITION_MAJOR), so the band ops take the labels as they are.

plan:   the band (budget.py) whose kept fraction is closest to ``1 - config.sparsity`` in blocks of
        ``config.block_size``; ``config.sampled_rows`` profiler rows per call; dense when the video
        has fewer than ``MIN_VIDEO_BLOCKS`` blocks.
attend: profile the sampled rows under both head orders (op "profile": err [B, H, 2]), label each
        (batch element, head) with the order of the smaller error (ties: spatial), run the band in
        each head's order (op "band_attention") and the dense global rows (op "global_rows").
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from functools import lru_cache

import torch

from ..budget import closest_width, kept_pairs
from ..layout import FRAME_MAJOR, POSITION_MAJOR, VideoLayout
from .base import AttendContext, PatternDecision, PatternPlan

SPATIAL, TEMPORAL = FRAME_MAJOR, POSITION_MAJOR
MIN_VIDEO_BLOCKS = 4   # fewer pattern blocks than this: nothing worth skipping


@dataclass(frozen=True, kw_only=True)
class BandPlan(PatternPlan):
    """The band chosen for one layout.

    width:      band half-width in blocks (0 = each block only attends its own block).
    block_size: pattern granularity in tokens.
    """

    width: int
    block_size: int

    def describe(self) -> str:
        return f"band width {self.width} blocks, density {self.density:.3f}"


def plan_band(layout: VideoLayout, sparsity: float, block_size: int) -> BandPlan:
    """The width whose kept fraction is closest to ``1 - sparsity`` (ties: the sparser one)."""
    return _plan_band(layout.video_tokens, layout.global_tokens, float(sparsity), int(block_size))


@lru_cache(maxsize=256)
def _plan_band(video_tokens: int, global_tokens: int, sparsity: float, block_size: int) -> BandPlan:
    width = closest_width(video_tokens, global_tokens, sparsity, block_size)
    total = video_tokens + global_tokens
    density = kept_pairs(video_tokens, global_tokens, block_size, width) / total ** 2
    num_blocks = -(-video_tokens // block_size)
    return BandPlan(width=width, block_size=block_size, density=density, covers_all=width >= num_blocks - 1)


def label_heads(errors: torch.Tensor) -> torch.Tensor:
    """err [B, H, 2] (spatial, temporal) -> labels int8 [B, H]: TEMPORAL where its error is smaller."""
    return (errors[..., TEMPORAL] < errors[..., SPATIAL]).to(torch.int8)


class SVGPattern:
    """Spatial / temporal band over two head orders (see the module docstring)."""

    name = "svg"
    label_names = ("spatial", "temporal")
    ops = ("profile", "band_attention", "global_rows")

    def plan(self, layout: VideoLayout, config) -> BandPlan:
        band = plan_band(layout, config.sparsity, config.block_size)
        short = layout.video_tokens < MIN_VIDEO_BLOCKS * config.block_size
        return replace(band, profile_rows=config.sampled_rows,
                       dense_reason=f"video too short to gain ({layout.video_tokens} tokens)" if short else None)

    def new_run_state(self):
        return None

    def attend(self, q, k, v, layout: VideoLayout, plan: BandPlan, ctx: AttendContext) -> PatternDecision:
        if ctx.rows is None:
            raise ValueError("the svg pattern profiles sampled rows: AttendContext.rows is None "
                             "(a plan with profile_rows > 0 makes the orchestrator draw them)")
        ops = ctx.backend
        errors = ops["profile"](q, k, v, layout, plan.width, plan.block_size, ctx.rows,
                                key_bias=ctx.key_bias, scale=ctx.scale)
        labels = label_heads(errors)
        ops["band_attention"](q, k, v, layout, plan.width, plan.block_size, labels,
                              key_bias=ctx.key_bias, scale=ctx.scale, out=ctx.out)
        if layout.global_tokens:
            ops["global_rows"](q, k, v, layout, key_bias=ctx.key_bias, scale=ctx.scale, out=ctx.out)
        return PatternDecision(labels=labels, head_density=None, density=plan.density)

"""One sparse attention call: draw the profiler rows the plan asks for, hand the pattern its
context, let it attend.

    out, decision = sparse_attention(q, k, v, layout, plan, pattern=get_pattern("svg"),
                                     backend=backend, generator=generator, key_bias=..., out=...)

The pattern (patterns/) decides and computes; the backend (backends.py) supplies its ops. The node
(nodes/patch.py) calls this once per sparse video self-attention call, with the plan it cached for
the layout, the run's generator and run state.
"""
from __future__ import annotations

import torch

from .backends import Backend, reference_backend
from .layout import VideoLayout
from .patterns import AttendContext, PatternDecision, PatternPlan, get_pattern


def sample_rows(video_tokens: int, count: int, generator: torch.Generator | None, device) -> torch.Tensor:
    """``count`` frame-major video indices drawn uniformly over the whole video (int64 [R]).
    All rows when the video has no more than ``count`` tokens."""
    if count >= video_tokens:
        return torch.arange(video_tokens, device=device)
    gen_device = generator.device if generator is not None else torch.device("cpu")
    rows = torch.randint(0, video_tokens, (count,), generator=generator, device=gen_device)
    return rows.to(device, non_blocking=True)


def sparse_attention(q, k, v, layout: VideoLayout, plan: PatternPlan, *, pattern="svg",
                     backend: Backend = reference_backend, rows=None, generator=None, key_bias=None,
                     scale=None, out=None, block_index: int = 0, head_offset: int = 0,
                     run_state=None, batch_key=None) -> tuple[torch.Tensor, PatternDecision]:
    """The pattern's attention of one call. q, k, v: [B, H, N, D]; ``pattern`` a Pattern or its
    registered name; ``plan`` from ``pattern.plan(layout, config)``. ``rows`` (frame-major video
    indices) are drawn with ``generator`` when the plan wants some and none are given.
    ``batch_key``: what the batch holds (``AttendContext.batch_key``).

    Returns (out [B, H, N, D] (``out`` itself when given), the pattern's PatternDecision).
    """
    pattern = get_pattern(pattern) if isinstance(pattern, str) else pattern
    if rows is None and plan.profile_rows:
        rows = sample_rows(layout.video_tokens, plan.profile_rows, generator, q.device)
    out = torch.empty_like(q) if out is None else out
    ctx = AttendContext(backend=backend, out=out, key_bias=key_bias, scale=scale, rows=rows,
                        block_index=block_index, head_offset=head_offset, run_state=run_state,
                        batch_key=batch_key)
    return out, pattern.attend(q, k, v, layout, plan, ctx)

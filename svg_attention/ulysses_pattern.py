"""Any registered sparsity pattern as the local attention of Ulysses sequence parallelism.

Every rank runs the pattern's ``attend`` on its own heads over the whole valid sequence
(svg_attention.ulysses), with ``AttendContext.head_offset`` set to the first global head of those
heads, so a pattern that decides per head (SVG's profiler) sees the same rows and keys per head as
on one GPU and decides alike, and a pattern that keeps per-head run state (SVG2's centroid cache)
finds it under the same (``ctx.block_index``, global head) keys.

What must be equal on every rank (the caller's job, as on one GPU): the layout, the plan, the key
bias and the profiler ``rows`` (drawn once per call, before the all-to-all, from a per-run
generator seeded alike on every rank: every rank runs the same model calls in the same order).
The run state (``pattern.new_run_state()``) is per rank: each rank keeps the entries of its heads.

``PatternLocalAttention`` records each head group's ``PatternDecision`` at its global head indices
(int8 labels, float32 head density; -1 for the heads of other ranks); ``merge_decisions`` completes
them on every rank with one small all-reduce (for any number of calls at once) and returns one
``PatternDecision`` per call, shaped like the one-GPU call's.
"""
from __future__ import annotations

from dataclasses import replace

import torch

from .attention import sample_rows
from .backends import Backend, reference_backend
from .layout import VideoLayout
from .patterns import AttendContext, PatternDecision, PatternPlan, get_pattern
from .ulysses import SequenceShards, merge_head_values, ulysses_attention

NOT_THIS_RANK = -1


class PatternLocalAttention:
    """``attend_local`` (svg_attention.ulysses) for one sparse attention call of ``pattern``.

    ``ctx_template``: the call's AttendContext (backend, key_bias, scale, rows, block_index,
    run_state); its ``out`` and ``head_offset`` are replaced per head group. ``heads``, ``batch``:
    the call's global head count and batch size (the size of the per-head records).
    """

    def __init__(self, pattern, layout: VideoLayout, plan: PatternPlan, ctx_template: AttendContext,
                 heads: int, batch: int, device=None):
        self.pattern = get_pattern(pattern) if isinstance(pattern, str) else pattern
        self.layout, self.plan, self.ctx = layout, plan, ctx_template
        self.labels = torch.full((batch, heads), NOT_THIS_RANK, dtype=torch.int8, device=device)
        self.head_density = torch.full((batch, heads), float(NOT_THIS_RANK), dtype=torch.float32, device=device)
        self.gave_labels = False        # the pattern labelled the heads it was given
        self.gave_head_density = False  # ... and gave a kept fraction per head (else one per call)

    def __call__(self, q, k, v, out, head_offset: int) -> PatternDecision:
        if q.shape[2] != self.layout.total_tokens:
            raise ValueError(f"{self.pattern.name} local attention got {q.shape[2]} tokens, "
                             f"the layout has {self.layout.total_tokens}")
        ctx = replace(self.ctx, out=out, head_offset=head_offset)
        decision = self.pattern.attend(q, k, v, self.layout, self.plan, ctx)
        heads = slice(head_offset, head_offset + q.shape[1])
        if decision.labels is not None:
            self.labels[:, heads] = decision.labels
            self.gave_labels = True
        if decision.head_density is not None:
            self.head_density[:, heads] = decision.head_density
            self.gave_head_density = True
        elif isinstance(decision.density, torch.Tensor):  # every head of the group kept the group's density
            self.head_density[:, heads] = decision.density
        else:
            self.head_density[:, heads].fill_(decision.density)  # a Python float: no copy to the device
        return decision


def merge_decisions(calls: list, group=None) -> list:
    """The complete ``PatternDecision`` of each ``PatternLocalAttention`` in ``calls``, on every rank
    of ``group``: one all-reduce (max) over all of them, then one host read of the flags saying
    which records the pattern gave (so merge once per run, or per call only off the hot path).
    Every rank passes the same calls in the same order. labels / head_density are None where the
    pattern gave none (on any rank); density: the mean kept fraction over all heads (0-d float32
    tensor; every head has the same pair count, so this is the call's kept fraction)."""
    if not calls:
        return []
    device = calls[0].labels.device
    flags = torch.tensor([[c.gave_labels, c.gave_head_density] for c in calls], dtype=torch.float32, device=device)
    packs = [torch.cat([c.labels.float().flatten(), c.head_density.flatten()]) for c in calls]
    merged = merge_head_values(torch.cat([*packs, flags.flatten()]), group)
    flags = merged[-flags.numel():].view(-1, 2).tolist()
    decisions, start = [], 0
    for call, (gave_labels, gave_head_density) in zip(calls, flags):
        shape, size = call.labels.shape, call.labels.numel()
        labels = merged[start:start + size].view(shape).to(torch.int8)
        head_density = merged[start + size:start + 2 * size].view(shape)
        start += 2 * size
        decisions.append(PatternDecision(labels=labels if gave_labels else None,
                                         head_density=head_density if gave_head_density else None,
                                         density=head_density.mean()))
    return decisions


def ulysses_sparse_attention(q, k, v, layout: VideoLayout, plan: PatternPlan, group=None, *, pattern="svg",
                             backend: Backend = reference_backend, rows=None, generator=None, key_bias=None,
                             scale=None, out=None, block_index: int = 0, run_state=None,
                             shards: SequenceShards | None = None, chunks: int = 1, merge: bool = True):
    """``sparse_attention`` of this rank's sequence shard q, k, v ``[B, L, H, D]`` under Ulysses.

    ``layout`` describes the whole valid sequence (``shards.valid_tokens`` tokens, padding
    excluded); ``key_bias`` ``[B or 1, layout.total_tokens]`` likewise. ``rows``: drawn here with
    ``generator`` when the plan wants some and none are given (once per call, whatever ``chunks``).
    ``run_state``: this rank's ``pattern.new_run_state()``. ``group``, ``shards``, ``chunks``,
    ``out``: as in ``ulysses_attention``.

    Returns (out ``[B, L, H, D]``, decision): with ``merge`` the call's complete PatternDecision
    (one small all-reduce; every rank must pass the same ``merge``), else this rank's
    ``PatternLocalAttention`` (to merge later with others in one ``merge_decisions``).
    """
    pattern = get_pattern(pattern) if isinstance(pattern, str) else pattern
    batch, _, heads, _ = q.shape
    if shards is None:
        world = torch.distributed.get_world_size(group) if torch.distributed.is_initialized() else 1
        shards = SequenceShards((layout.total_tokens,), world)
    if shards.valid_tokens != layout.total_tokens:
        raise ValueError(f"{shards} holds {shards.valid_tokens} valid tokens, "
                         f"the layout {layout} {layout.total_tokens}")
    if rows is None and plan.profile_rows:
        rows = sample_rows(layout.video_tokens, plan.profile_rows, generator, q.device)
    ctx = AttendContext(backend=backend, out=None, key_bias=key_bias, scale=scale, rows=rows,
                        block_index=block_index, run_state=run_state)
    local_attention = PatternLocalAttention(pattern, layout, plan, ctx, heads, batch, device=q.device)
    out, _ = ulysses_attention(q, k, v, local_attention, group, shards=shards, chunks=chunks, out=out)
    if not merge:
        return out, local_attention
    return out, merge_decisions([local_attention], group)[0]

"""SVG attention under Ulysses sequence parallelism (the local attention of svg_attention.ulysses).

Every rank runs today's ``svg_attention`` on its own heads over the whole sequence, so the profiler
sees the same rows and keys per head as on one GPU and the labels are the same. What must be equal
on every rank (the caller's job, as on one GPU): the layout, the band plan, the key bias and the
sampled ``rows`` (the same generator seed and the same call order on every rank: every rank runs
the same model calls, so a per-run generator seeded with ``profile_seed`` gives the same rows).

Labels are kept per global head: ``SVGLocalAttention`` writes the labels of the heads
``[head_offset, head_offset + h)`` into an int8 ``[B, H]`` tensor (0 spatial, 1 temporal, -1 for
the heads of other ranks); ``merge_head_values`` completes it on every rank.

When the pattern seam lands, the local attention becomes (one line)::

    attend_local = lambda q, k, v, out, head_offset: pattern.attend(
        q, k, v, layout, plan, dataclasses.replace(ctx, out=out, head_offset=head_offset))
"""
from __future__ import annotations

import torch

from .attention import Backend, reference_backend, svg_attention
from .budget import BandPlan
from .layout import VideoLayout
from .ulysses import SequenceShards, merge_head_values, ulysses_attention

NOT_THIS_RANK = -1


class SVGLocalAttention:
    """``attend_local`` for one SVG call: profile, label and band-attend the heads it is given,
    recording their labels at their global head index in ``labels`` (int8 [B, heads])."""

    def __init__(self, layout: VideoLayout, plan: BandPlan, rows: torch.Tensor, heads: int, batch: int,
                 backend: Backend = reference_backend, key_bias=None, scale=None, device=None):
        self.layout, self.plan, self.rows = layout, plan, rows
        self.backend, self.key_bias, self.scale = backend, key_bias, scale
        self.labels = torch.full((batch, heads), NOT_THIS_RANK, dtype=torch.int8, device=device)

    def __call__(self, q, k, v, out, head_offset: int):
        if q.shape[2] != self.layout.total_tokens:
            raise ValueError(f"SVG local attention got {q.shape[2]} tokens, the layout has {self.layout.total_tokens}")
        _, temporal = svg_attention(q, k, v, self.layout, self.plan, self.rows, backend=self.backend,
                                    key_bias=self.key_bias, scale=self.scale, out=out)
        self.labels[:, head_offset:head_offset + q.shape[1]] = temporal.to(torch.int8)
        return temporal


def svg_ulysses_attention(q, k, v, layout: VideoLayout, plan: BandPlan, rows: torch.Tensor, group=None, *,
                          backend: Backend = reference_backend, key_bias=None, scale=None,
                          shards: SequenceShards | None = None, chunks: int = 1, out=None,
                          merge_labels: bool = False):
    """SVG attention of this rank's sequence shard q, k, v ``[B, L, H, D]`` under Ulysses.

    ``layout`` describes the whole valid sequence (``shards.valid_tokens`` tokens, padding
    excluded); ``key_bias`` ``[B or 1, layout.total_tokens]`` likewise. Returns (out
    ``[B, L, H, D]``, labels int8 ``[B, H]``: this rank's heads filled, -1 elsewhere unless
    ``merge_labels``, which completes them on every rank with one small all-reduce).
    """
    batch, local, heads, _ = q.shape
    if shards is None:
        world = torch.distributed.get_world_size(group) if torch.distributed.is_initialized() else 1
        shards = SequenceShards((layout.total_tokens,), world)
    if shards.valid_tokens != layout.total_tokens:
        raise ValueError(f"{shards} holds {shards.valid_tokens} valid tokens, the layout {layout} {layout.total_tokens}")
    local_attention = SVGLocalAttention(layout, plan, rows, heads, batch, backend=backend, key_bias=key_bias,
                                        scale=scale, device=q.device)
    out, _ = ulysses_attention(q, k, v, local_attention, group, shards=shards, chunks=chunks, out=out)
    labels = local_attention.labels
    if merge_labels:
        merge_head_values(labels, group)
    return out, labels

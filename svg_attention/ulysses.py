"""Ulysses sequence parallelism over torch.distributed, generic over a local-heads attention.

Each rank of a Ulysses group holds a shard of the token sequence for all heads. One all-to-all
turns that into all tokens for a subset of the heads; the attention of those heads runs on the
whole sequence (so per-head decisions such as SVG's spatial/temporal profiling stay exact); a
second all-to-all turns the output back into sequence shards of all heads.

Conventions (those of yunchang's ``all_to_all_4D`` and xFuser's long-context attention):

* inputs and output per rank: ``[B, L, H, D]`` (ComfyUI's ``[B, L, H*D]`` is a free view of it),
  L = this rank's tokens, the same on every rank;
* heads: rank r holds the contiguous global heads ``[head_offset(r), head_offset(r) + count(r))``;
  when H does not divide by the world size the first ``H % P`` ranks hold one head more
  (an uneven split: no padding heads are sent or computed);
* sequence: :class:`SequenceShards` says how the model split its sequence over the ranks and where
  the padding is (Raylight pads every split sequence at its end to a multiple of the world size).
  Padding tokens take no part in the attention (neither as queries nor as keys) and their output
  rows are zero: they do not exist in the one-GPU model, and the caller drops them after gathering.

The local attention is a callable ``attend_local(q, k, v, out, head_offset) -> result``: q, k, v and
out are ``[B, h, N, D]`` (any strides, last dimension contiguous) over the valid tokens in sequence
order, for the global heads ``[head_offset, head_offset + h)``; it writes every element of ``out``
and may return a per-call result (a sparsity pattern's: its PatternDecision, ulysses_pattern.py).
Only torch.distributed is used (NCCL on GPUs, gloo on CPUs); nothing here imports yunchang or xFuser.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Callable

import torch
import torch.distributed as dist

AttendLocal = Callable[[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor, int], object]


def head_counts(heads: int, world_size: int) -> tuple[int, ...]:
    """Heads held by each rank: ``heads // P``, one more on the first ``heads % P`` ranks."""
    if heads < 1 or world_size < 1:
        raise ValueError(f"need >= 1 head and >= 1 rank, got {heads} heads, {world_size} ranks")
    base, extra = divmod(heads, world_size)
    return tuple(base + (1 if rank < extra else 0) for rank in range(world_size))


def head_offsets(heads: int, world_size: int) -> tuple[int, ...]:
    """First global head index of each rank (the ``head_offset`` its local attention gets)."""
    counts = head_counts(heads, world_size)
    return tuple(sum(counts[:rank]) for rank in range(world_size))


def _split(count: int, parts: int) -> list[tuple[int, int]]:
    """``count`` items cut into ``parts`` contiguous near-equal ranges (some empty if parts > count)."""
    base, extra = divmod(count, parts)
    ranges, start = [], 0
    for part in range(parts):
        size = base + (1 if part < extra else 0)
        ranges.append((start, start + size))
        start += size
    return ranges


@dataclass(frozen=True)
class SequenceShards:
    """How the model split one attention call's token sequence over the ranks.

    segment_tokens: the true (unpadded) token count of each separately split segment, in sequence
        order. Each segment is padded at its end to a multiple of ``world_size`` and cut into equal
        contiguous chunks; rank r holds chunk r of every segment, segment after segment.
        One segment: the whole sequence split at once (Raylight's Wan). Two: video and text split
        apart (Raylight's HunyuanVideo: each rank holds [its video chunk, its text chunk]).
    world_size: ranks in the Ulysses group.

    The sequence the local attention sees (and that a ``VideoLayout`` describes) is the valid
    tokens of segment 0, then of segment 1, ...; its length is ``valid_tokens``.
    """

    segment_tokens: tuple[int, ...]
    world_size: int

    def __post_init__(self):
        problems = []
        if not self.segment_tokens or any(t < 1 for t in self.segment_tokens):
            problems.append(f"segments need >= 1 token each, got {self.segment_tokens}")
        if self.world_size < 1:
            problems.append(f"world_size must be >= 1, got {self.world_size}")
        if problems:
            raise ValueError("SequenceShards: " + "; ".join(problems))

    @property
    def chunk_tokens(self) -> tuple[int, ...]:
        """Tokens of each segment on one rank (padding included)."""
        return tuple(-(-t // self.world_size) for t in self.segment_tokens)

    @property
    def local_tokens(self) -> int:
        """Tokens on each rank (L)."""
        return sum(self.chunk_tokens)

    @property
    def gathered_tokens(self) -> int:
        """Tokens after the all-to-all, padding included: ``world_size * local_tokens``."""
        return self.world_size * self.local_tokens

    @property
    def valid_tokens(self) -> int:
        return sum(self.segment_tokens)

    def gathered_index(self, device=None) -> torch.Tensor | None:
        """Position in the gathered (rank-major) sequence of each valid token, in sequence order:
        int64 [valid_tokens]; None when they are simply the first ``valid_tokens`` positions."""
        if len(self.segment_tokens) == 1:
            return None
        return _gathered_index(self, str(device or "cpu"))

    def padding_index(self, device=None) -> torch.Tensor:
        """Positions of the padding tokens in the gathered sequence: int64 [gathered - valid]."""
        return _padding_index(self, str(device or "cpu"))


@lru_cache(maxsize=64)
def _gathered_index(shards: SequenceShards, device: str) -> torch.Tensor:
    parts, offset = [], 0
    for tokens, chunk in zip(shards.segment_tokens, shards.chunk_tokens):
        i = torch.arange(tokens)
        rank = i // chunk
        parts.append(rank * shards.local_tokens + offset + i - rank * chunk)
        offset += chunk
    return torch.cat(parts).to(device)


@lru_cache(maxsize=64)
def _padding_index(shards: SequenceShards, device: str) -> torch.Tensor:
    valid = shards.gathered_index("cpu")
    is_pad = torch.ones(shards.gathered_tokens, dtype=torch.bool)
    if valid is None:
        is_pad[:shards.valid_tokens] = False
    else:
        is_pad[valid] = False
    return torch.nonzero(is_pad).flatten().to(device)


def attend_gathered(q, k, v, out, attend_local: AttendLocal, shards: SequenceShards, head_offset: int):
    """The local part of a Ulysses attention, for an engine that did the all-to-all itself.

    q, k, v, out: ``[B, h, gathered_tokens, D]`` in the gathered (rank-major) token order. Runs
    ``attend_local`` on the valid tokens in sequence order and writes ``out`` (padding rows zero).
    With one segment, k and v may already be cut to the valid tokens (xDiT's ``valid_kv_len``).
    Returns what ``attend_local`` returned.
    """
    tokens = q.shape[2]
    if tokens != shards.gathered_tokens:
        raise ValueError(f"the gathered sequence has {tokens} tokens, {shards} gives {shards.gathered_tokens}")
    index = shards.gathered_index(q.device)
    keys = k.shape[2]
    if keys != tokens and (index is not None or keys < shards.valid_tokens or v.shape[2] != keys):
        raise ValueError(f"{keys} keys for {tokens} gathered queries of {shards}")
    if index is None:
        valid = shards.valid_tokens
        result = attend_local(q[:, :, :valid], k[:, :, :valid], v[:, :, :valid], out[:, :, :valid], head_offset)
        if valid < tokens:
            out[:, :, valid:].zero_()
        return result
    q_seq, k_seq, v_seq = (t.index_select(2, index) for t in (q, k, v))
    out_seq = torch.empty_like(q_seq)
    result = attend_local(q_seq, k_seq, v_seq, out_seq, head_offset)
    out.index_copy_(2, index, out_seq)
    padding = shards.padding_index(q.device)
    if padding.numel():
        out.index_fill_(2, padding, 0)
    return result


@dataclass(frozen=True)
class ChunkResult:
    """What ``attend_local`` returned for the global heads ``[head_offset, head_offset + heads)``."""

    head_offset: int
    heads: int
    value: object


def ulysses_attention(q, k, v, attend_local: AttendLocal, group=None, *, shards: SequenceShards | None = None,
                      chunks: int = 1, out=None):
    """Ulysses attention of this rank's sequence shard: (out ``[B, L, H, D]``, [ChunkResult, ...]).

    q, k, v: ``[B, L, H, D]`` (any strides), the same L on every rank; ``shards`` defaults to one
    segment of ``world_size * L`` tokens (no padding). ``group``: the Ulysses process group (None:
    the default group). ``chunks`` > 1 splits each rank's heads into that many groups and pipelines
    them: the all-to-all of one group runs while the attention of the previous one computes (every
    rank must pass the same value). ``out``: optional ``[B, L, H, D]`` to write into.
    Results come in head order, one per non-empty head group of this rank.
    """
    if q.dim() != 4 or q.shape != k.shape or q.shape != v.shape:
        raise ValueError(f"q, k, v must be [B, L, H, D] of one shape, got {tuple(q.shape)}, {tuple(k.shape)}, {tuple(v.shape)}")
    if chunks < 1:
        raise ValueError(f"chunks must be >= 1, got {chunks}")
    batch, local, heads, head_dim = q.shape
    world = dist.get_world_size(group) if dist.is_initialized() else 1
    rank = dist.get_rank(group) if dist.is_initialized() else 0
    shards = SequenceShards((world * local,), world) if shards is None else shards
    if shards.world_size != world or shards.local_tokens != local:
        raise ValueError(f"{shards} does not match {world} ranks of {local} tokens")
    out = torch.empty_like(q, memory_format=torch.contiguous_format) if out is None else out
    if world == 1:
        result = attend_gathered(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), out.transpose(1, 2),
                                 attend_local, shards, 0)
        return out, [ChunkResult(0, heads, result)]

    counts, offsets = head_counts(heads, world), head_offsets(heads, world)
    # heads of each rank cut into `chunks` groups: groups[r][j] = (first global head, count)
    groups = [[(offsets[r] + a, b - a) for a, b in _split(counts[r], chunks)] for r in range(world)]
    # head groups empty on every rank (more groups than heads) need no collective at all
    active = [j for j in range(chunks) if any(groups[r][j][1] for r in range(world))]
    row = batch * head_dim  # elements per (token, head)

    received, works = [], []
    for j in active:
        send = q.new_empty(sum(local * 3 * row * groups[r][j][1] for r in range(world)))
        start = 0
        for r in range(world):
            first, count = groups[r][j]
            block = send[start:start + local * 3 * row * count].view(local, batch, 3, count, head_dim)
            for t, x in enumerate((q, k, v)):
                block[:, :, t].copy_(x[:, :, first:first + count].transpose(0, 1))
            start += block.numel()
        count = groups[rank][j][1]
        recv = q.new_empty(shards.gathered_tokens * 3 * row * count)
        works.append(dist.all_to_all_single(
            recv, send, [local * 3 * row * count] * world,
            [local * 3 * row * groups[r][j][1] for r in range(world)], group=group, async_op=True))
        received.append((recv, send))

    results, returned = [], []
    for i, j in enumerate(active):
        works[i].wait()
        recv, _ = received[i]
        received[i] = None
        first, count = groups[rank][j]
        gathered = recv.view(shards.gathered_tokens, batch, 3, count, head_dim)
        q_h, k_h, v_h = (gathered[:, :, t].permute(1, 2, 0, 3) for t in range(3))
        send_out = q.new_empty(shards.gathered_tokens * row * count)
        if count:
            out_h = send_out.view(shards.gathered_tokens, batch, count, head_dim).permute(1, 2, 0, 3)
            value = attend_gathered(q_h, k_h, v_h, out_h, attend_local, shards, first)
            results.append(ChunkResult(first, count, value))
        recv_out = q.new_empty(local * row * sum(groups[r][j][1] for r in range(world)))
        work = dist.all_to_all_single(
            recv_out, send_out, [local * row * groups[r][j][1] for r in range(world)],
            [local * row * count] * world, group=group, async_op=True)
        returned.append((work, recv_out, send_out))

    for j, (work, recv_out, _) in zip(active, returned):
        work.wait()
        start = 0
        for r in range(world):
            first, count = groups[r][j]
            block = recv_out[start:start + local * row * count].view(local, batch, count, head_dim)
            out[:, :, first:first + count].copy_(block.transpose(0, 1))
            start += block.numel()
    return out, results


def merge_head_values(values: torch.Tensor, group=None) -> torch.Tensor:
    """Per-head values ``[B, H]`` that each rank filled for its own heads, with -1 elsewhere
    (e.g. labels), merged in place over the group (max): every rank ends with all heads."""
    if dist.is_initialized() and dist.get_world_size(group) > 1:
        dist.all_reduce(values, op=dist.ReduceOp.MAX, group=group)
    return values

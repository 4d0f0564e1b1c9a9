"""The sparsity-pattern protocol: what a pattern is, what it is given and what it returns.

A pattern decides which (query, key) pairs of one video self-attention call are computed, and
computes the call. The node (nodes/patch.py) and the orchestrator (svg_attention/attention.py)
know nothing else about it; a pattern is chosen by name (``SVGConfig.pattern``, registry in
``patterns/__init__.py``). Its life cycle in a sampling run:

    pattern = get_pattern(config.pattern)             # registry
    run_state = pattern.new_run_state()               # once per sampling run, dropped at its end
    plan = pattern.plan(layout, config)               # once per (run, layout): the caller caches it
    decision = pattern.attend(q, k, v, layout, plan, ctx)   # every sparse attention call

``Pattern`` members:

``name: str``
    Registry key, e.g. "svg".
``label_names: tuple[str, ...]``
    What a label value means: label ``i`` of ``PatternDecision.labels`` is ``label_names[i]``
    (SVG: ("spatial", "temporal")). Run summaries count head decisions per name; the head map
    gives each name a colour. ``()`` for a pattern that labels nothing.
``ops: tuple[str, ...]``
    Backend ops ``attend`` calls through ``ctx.backend[name]`` (svg_attention/backends.py: the
    reference backend has every op; a kernel backend provides what it has, resolved per device,
    dtype and head_dim). ``()`` for a pattern that computes everything itself.
``plan(layout: VideoLayout, config: SVGConfig) -> PatternPlan``
    Everything that depends only on the token layout and the settings (band width, expected
    density, whether the call is worth making sparse). Pure: no tensors of q/k/v, no device work;
    the caller computes it once per layout and run, never per head or per call.
``new_run_state() -> object | None``
    Per-run state (e.g. SVG2's centroid cache per block), kept by the run (nodes/patch.py SVGRun)
    and passed back in ``ctx.run_state``; dropped when the run ends. May define
    ``memory_bytes() -> int``: the run summary then reports it as ``run_state_bytes``; and
    ``summary() -> dict`` (plain numbers, read once at the run's end): merged into the run summary
    (keys must not clash with nodes/patch.py's; svg2: its clustering counts). The calls of
    one run may come from several threads and devices (a CFG split over GPUs) and from several
    batch compositions (cond and uncond together or apart): key entries by ``ctx.block_index``, the
    device, ``ctx.batch_key`` and what the entry describes, never by call order.
``attend(q, k, v, layout, plan, ctx: AttendContext) -> PatternDecision``
    q, k, v: [B, H, N, D] views (any strides, last dim contiguous), one dtype and device, N =
    layout.total_tokens. Writes every row of ``ctx.out`` ([B, H, N, D]: video rows by the pattern,
    global rows dense) and returns the decision. Hot path: no Python loop over heads, no host sync
    (no ``.item()``, ``.tolist()``, ``nonzero`` on the device), no N x N memory.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Optional, Protocol, Union, runtime_checkable

import torch

if TYPE_CHECKING:  # annotations only (config.py imports the registry: its SVGConfig is not imported here)
    from ..backends import Backend
    from ..layout import VideoLayout


@dataclass(frozen=True, kw_only=True)
class PatternPlan:
    """What a pattern decided for one layout and settings (subclasses add their own fields).

    density:       expected kept fraction of the call's N x N pairs (text rows/columns included).
    covers_all:    the pattern keeps every pair: nothing would be skipped (the call runs dense).
    profile_rows:  frame-major video rows the orchestrator draws per call (uniformly, seeded once
                   per run) into ``AttendContext.rows``; 0: none drawn, ``rows`` is None.
    dense_reason:  why this layout stays dense under this pattern whatever the density (e.g. a
                   video too short to gain), or None.
    """

    density: float
    covers_all: bool
    profile_rows: int = 0
    dense_reason: Optional[str] = None

    def describe(self) -> str:
        """One phrase for the verbose log, e.g. "band width 3 blocks, density 0.251"."""
        return f"density {self.density:.3f}"


@dataclass
class AttendContext:
    """What one call gives ``Pattern.attend`` besides q, k, v, the layout and the plan.

    backend:      the ops (``backend["band_attention"](...)``), resolved for this device, dtype,
                  head_dim and the pattern's ``ops``.
    out:          [B, H, N, D] view to write (any strides, last dim contiguous), dtype of q.
    key_bias:     additive float32 [B or 1, N] on the keys (text padding), only its global
                  entries non-zero, or None.
    scale:        softmax scale, None: 1/sqrt(D).
    rows:         int64 [R] frame-major video indices (``plan.profile_rows`` of them), or None.
    block_index:  index of this video self-attention call inside the model call (0, 1, ...; the
                  transformer block), e.g. to key per-layer run state.
    head_offset:  global index of the first head in q (0 on one GPU; under sequence parallelism
                  (Ulysses) the first head of this rank's share), so that per-head state and
                  labels keep global head numbers.
    run_state:    ``pattern.new_run_state()`` of this sampling run.
    batch_key:    what the batch holds, hashable (ComfyUI's ``cond_or_uncond`` as a tuple, e.g.
                  (1, 0) for an uncond + cond pair), or None when unknown: per-run state of one
                  layer keys by it, so cond and uncond batched together or apart keep their own.
    """

    backend: "Backend"
    out: torch.Tensor
    key_bias: Optional[torch.Tensor] = None
    scale: Optional[float] = None
    rows: Optional[torch.Tensor] = None
    block_index: int = 0
    head_offset: int = 0
    run_state: object = None
    batch_key: object = None


@dataclass(frozen=True)
class PatternDecision:
    """What one call decided. Tensors may stay on the device (the run reads them after sampling).

    labels:        int8 [B, H] indexing ``pattern.label_names``, or None (the pattern labels nothing).
    head_density:  float32 [B, H] kept fraction of each (batch element, head)'s pairs, or None
                   when every head kept ``density`` (SVG: one band for all).
    density:       kept fraction of the call's pairs: a float, or a 0-d float32 tensor when it
                   depends on the data (read once, at the end of the run).
    """

    labels: Optional[torch.Tensor]
    head_density: Optional[torch.Tensor]
    density: Union[float, torch.Tensor]


@runtime_checkable
class Pattern(Protocol):
    """A sparsity pattern (see the module docstring for what each member gets and returns)."""

    name: str
    label_names: tuple
    ops: tuple

    def plan(self, layout: "VideoLayout", config) -> PatternPlan: ...   # config: svg_attention.SVGConfig

    def new_run_state(self) -> object: ...

    def attend(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, layout: "VideoLayout",
               plan: PatternPlan, ctx: AttendContext) -> PatternDecision: ...

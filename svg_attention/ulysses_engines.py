"""A sparsity pattern as the local attention of engines that run Ulysses themselves: xDiT (xFuser)
and Raylight.

Both engines do the all-to-all, then call a local attention on ``H / P`` heads over the whole
(padded) sequence; rank r of their Ulysses group holds the global heads ``[r*H/P, (r+1)*H/P)``
(yunchang's ``all_to_all_4D`` and xDiT's ``_ft_c_input_all_to_all`` both require H % P == 0 and
split the heads contiguously). The functions here fill that slot with ``attend_gathered``: padding
dropped, segments in sequence order, the head offset ``rank * H / P``.

Per attention call the adapters ask a *source* found in the engine's per-call options
(xDiT: ``attention_kwargs[ENGINE_KEY]``; Raylight: ``transformer_options[ENGINE_KEY]``) for the
local attention: ``source.local_attention(q)`` (q: the gathered ``[B, h, S, D]``) returns
``(attend_local, shards, ulysses_rank)``, or None for a call it leaves to the engine's own
attention. ``EngineSource`` is the pack's: the pattern named by the settings (``SVGConfig.pattern``),
its plan, backend, rows and run state; nothing in the pack sets it on a live model yet (see
docs/multi-gpu.md).

* xDiT: ``xdit_attention`` has the signature of xfuser's ``ATTENTION_FUNCTION_REGISTRY``
  functions (xfuser 0.7.0, ``xfuser/core/distributed/attention_backend.py``): q, k, v
  ``[B, h, S, D]`` after the all-to-all, returns ``(out, None)``. ``register_with_xdit`` puts it in
  that registry; xfuser's ``USP(..., backend=key, attention_kwargs=...)`` then calls it.
* Raylight: ``RaylightProcessor`` follows the inner-attention processor protocol of Raylight's
  ``distributed_modules/inner_attention`` (``__call__(dense, q, k, v, *, transformer_options,
  **kwargs)``, q ``[B, S, h, D]`` after xFuser's all-to-all, ``supports_ring = False``);
  ``register_with_raylight`` registers it where that module exists.

Neither engine is a dependency: they are imported only inside the ``register_with_*`` functions.
"""
from __future__ import annotations

import logging

import torch
import torch.nn.functional as F

from .attention import sample_rows
from .backends import resolve_backend
from .config import SVGConfig
from .layout import VideoLayout
from .patterns import AttendContext, get_pattern
from .ulysses import SequenceShards, attend_gathered
from .ulysses_pattern import PatternLocalAttention, merge_decisions

log = logging.getLogger("SparseVideoGen")

ENGINE_KEY = "sparsevideogen_ulysses"
XDIT_BACKEND_KEY = "SPARSEVIDEOGEN"
RAYLIGHT_PROCESSOR_NAME = "sparsevideogen"


class EngineSource:
    """The sparse local attention of the attention calls of one model call inside an engine.

    config: the settings; ``config.pattern`` names the pattern, ``pattern.plan(layout, config)``
        is made once here, ``config.backend`` is resolved per (device, dtype, head_dim), calls
        with a block index below ``config.dense_blocks`` are left to the engine (dense).
    layout, shards, rank: the whole valid sequence, how the engine split it, this Ulysses rank.
    generator: the run's profiler generator (seeded alike on every rank; every rank makes the same
        calls in the same order, so the rows are the same everywhere); None: one seeded with
        ``config.profile_seed`` on the first call's device.
    run_state: this rank's ``pattern.new_run_state()`` of the sampling run (None: a new one).
    key_bias, scale: as for ``sparse_attention``.

    The engine's attention calls of the model call are counted (``block_index`` 0, 1, ...), each
    sparse one recorded in ``calls`` as (block_index, PatternLocalAttention); ``decisions()``
    merges them over the ranks.
    """

    def __init__(self, config: SVGConfig, layout: VideoLayout, shards: SequenceShards, rank: int, *,
                 generator: torch.Generator | None = None, run_state=None, key_bias=None, scale=None):
        self.config, self.layout, self.shards, self.rank = config, layout, shards, rank
        self.pattern = get_pattern(config.pattern)
        self.plan = self.pattern.plan(layout, config)
        self.generator = generator
        self.run_state = self.pattern.new_run_state() if run_state is None else run_state
        self.key_bias, self.scale = key_bias, scale
        self.next_block = 0
        self.calls = []
        self._backends = {}

    def _backend(self, device, dtype, head_dim):
        key = (str(device), dtype, head_dim)
        if key not in self._backends:
            backend, why = resolve_backend(self.config.backend, device, dtype, head_dim, self.pattern.ops,
                                           self.config.precision,   # the sparse calls' band; dense stays the engine's
                                           emulate=self.config.attention_precision != "auto")
            log.info(f"[SVG] Ulysses rank {self.rank}: backend: {why}")
            self._backends[key] = backend
        return self._backends[key]

    def local_attention(self, q):
        """For the gathered q ``[B, h, S, D]`` of this rank's heads: (attend_local, shards, rank),
        or None for a leading dense block."""
        block = self.next_block
        self.next_block += 1
        if block < self.config.dense_blocks:
            return None
        rows = None
        if self.plan.profile_rows:
            if self.generator is None:
                self.generator = torch.Generator(device=q.device).manual_seed(self.config.profile_seed)
            rows = sample_rows(self.layout.video_tokens, self.plan.profile_rows, self.generator, q.device)
        ctx = AttendContext(backend=self._backend(q.device, q.dtype, q.shape[-1]), out=None, key_bias=self.key_bias,
                            scale=self.scale, rows=rows, block_index=block, run_state=self.run_state)
        batch, local_heads = q.shape[:2]
        attention = PatternLocalAttention(self.pattern, self.layout, self.plan, ctx,
                                          local_heads * self.shards.world_size, batch, device=q.device)
        self.calls.append((block, attention))
        return attention, self.shards, self.rank

    def decisions(self, group=None) -> list:
        """(block_index, PatternDecision) of each sparse call, complete on every rank (one
        all-reduce for all of them; every rank must call it)."""
        merged = merge_decisions([attention for _, attention in self.calls], group)
        return [(block, decision) for (block, _), decision in zip(self.calls, merged)]


def _run(source, q, k, v, out):
    """q, k, v, out [B, h, S, D]: the source's local attention, or False when it declines the call."""
    found = source.local_attention(q)
    if found is None:
        return False
    attend_local, shards, rank = found
    attend_gathered(q, k, v, out, attend_local, shards, rank * q.shape[1])
    return True


def xdit_attention(query, key, value, dropout_p=0.0, is_causal=False, attention_kwargs=None):
    """An xfuser attention-registry function: the source's pattern on this rank's heads ``[B, h, S, D]``."""
    source = (attention_kwargs or {}).get(ENGINE_KEY)
    if source is None:
        raise ValueError(f"the SparseVideoGen attention backend needs attention_kwargs[{ENGINE_KEY!r}] "
                         f"(an EngineSource)")
    if dropout_p or is_causal:
        raise ValueError(f"the SparseVideoGen attention backend has no dropout or causal mask "
                         f"(got {dropout_p}, {is_causal})")
    out = torch.empty_like(query)
    if not _run(source, query, key, value, out):
        out = F.scaled_dot_product_attention(query, key, value)
    return out, None


class RaylightProcessor:
    """A Raylight inner-attention processor: the source's pattern on this rank's heads after xFuser's
    all-to-all. Calls without a source in their transformer_options go to Raylight's dense attention."""

    supports_ring = False

    def __init__(self):
        self._logged = set()

    def __call__(self, dense_attention, q, k, v, *, transformer_options, **kwargs):
        source = transformer_options.get(ENGINE_KEY)
        if source is None:
            return dense_attention(q, k, v, **kwargs)
        if kwargs.get("joint_tensor_key") is not None or kwargs.get("causal"):
            reason = "joint tensors" if kwargs.get("joint_tensor_key") is not None else "a causal mask"
            if reason not in self._logged:
                self._logged.add(reason)
                log.info(f"[SVG] Raylight call with {reason}: dense attention")
            return dense_attention(q, k, v, **kwargs)
        out = torch.empty_like(q)
        if not _run(source, q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), out.transpose(1, 2)):
            return dense_attention(q, k, v, **kwargs)
        return out


def register_with_xdit(key=XDIT_BACKEND_KEY):
    """Put ``xdit_attention`` in xfuser's attention-function registry under ``key``. Select it per
    call with ``USP(..., backend=key, attention_kwargs={ENGINE_KEY: source})``: xfuser's
    ``set_attention_backend`` accepts only its own ``AttentionBackendType`` members."""
    from xfuser.core.distributed.attention_backend import register_attention_function

    return register_attention_function(key)(xdit_attention)


def register_with_raylight(name=RAYLIGHT_PROCESSOR_NAME):
    """Register ``RaylightProcessor`` with Raylight's inner-attention registry (Raylight versions
    that have ``raylight.distributed_modules.inner_attention``; main at c0495710 does not)."""
    from raylight.distributed_modules.inner_attention import register_inner_attention

    return register_inner_attention(name)(RaylightProcessor)

"""SVG as the local attention of engines that run Ulysses themselves: xDiT (xFuser) and Raylight.

Both engines do the all-to-all, then call a local attention on ``H / P`` heads over the whole
(padded) sequence; rank r of their Ulysses group holds the global heads ``[r*H/P, (r+1)*H/P)``
(yunchang's ``all_to_all_4D`` and xDiT's ``_ft_c_input_all_to_all`` both require H % P == 0 and
split the heads contiguously). The functions here fill that slot with ``attend_gathered``: padding
dropped, segments in sequence order, the head offset ``rank * H / P``.

Per attention call the adapters ask a *source* found in the engine's per-call options
(xDiT: ``attention_kwargs[ENGINE_KEY]``; Raylight: ``transformer_options[ENGINE_KEY]``) for the
local attention: ``source.local_attention(batch, local_heads, device)`` returns
``(attend_local, shards, ulysses_rank)``, or None for a call it leaves to the engine's own
attention. ``SVGEngineSource`` is the SVG one; nothing in the pack sets it on a live model yet
(see docs/multi-gpu.md).

* xDiT: ``xdit_attention`` has the signature of xfuser's ``ATTENTION_FUNCTION_REGISTRY``
  functions (xfuser 0.7.0, ``xfuser/core/distributed/attention_backend.py``): q, k, v
  ``[B, h, S, D]`` after the all-to-all, returns ``(out, None)``. ``register_with_xdit`` puts it in
  that registry; xfuser's ``USP(..., backend=key, attention_kwargs=...)`` then calls it.
* Raylight: ``RaylightSVGProcessor`` follows the inner-attention processor protocol of Raylight's
  ``distributed_modules/inner_attention`` (``__call__(dense, q, k, v, *, transformer_options,
  **kwargs)``, q ``[B, S, h, D]`` after xFuser's all-to-all, ``supports_ring = False``);
  ``register_with_raylight`` registers it where that module exists.

Neither engine is a dependency: they are imported only inside the ``register_with_*`` functions.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

from .attention import Backend, reference_backend, sample_rows
from .budget import BandPlan
from .layout import VideoLayout
from .ulysses import SequenceShards, attend_gathered
from .ulysses_svg import SVGLocalAttention

log = logging.getLogger("SparseVideoGen")

ENGINE_KEY = "sparsevideogen_ulysses"
XDIT_BACKEND_KEY = "SPARSEVIDEOGEN_SVG"
RAYLIGHT_PROCESSOR_NAME = "sparsevideogen:svg"


@dataclass
class SVGEngineSource:
    """The SVG local attention of the attention calls of one model call inside an engine.

    Every attention call draws its profiler rows from ``generator`` (seeded alike on every rank;
    every rank makes the same calls in the same order, so the rows are the same everywhere) and
    its labels (int8 [B, H], -1 for other ranks' heads) are appended to ``labels``.
    """

    layout: VideoLayout
    plan: BandPlan
    shards: SequenceShards
    rank: int
    generator: torch.Generator | None
    sampled_rows: int = 64
    backend: Backend = reference_backend
    key_bias: torch.Tensor | None = None
    scale: float | None = None
    labels: list = field(default_factory=list)

    def local_attention(self, batch: int, local_heads: int, device):
        rows = sample_rows(self.layout.video_tokens, self.sampled_rows, self.generator, device)
        attention = SVGLocalAttention(self.layout, self.plan, rows, local_heads * self.shards.world_size, batch,
                                      backend=self.backend, key_bias=self.key_bias, scale=self.scale, device=device)
        self.labels.append(attention.labels)
        return attention, self.shards, self.rank


def _run(source, q, k, v, out):
    """q, k, v, out [B, h, S, D]: the source's local attention, or False when it declines the call."""
    found = source.local_attention(q.shape[0], q.shape[1], q.device)
    if found is None:
        return False
    attend_local, shards, rank = found
    attend_gathered(q, k, v, out, attend_local, shards, rank * q.shape[1])
    return True


def xdit_attention(query, key, value, dropout_p=0.0, is_causal=False, attention_kwargs=None):
    """An xfuser attention-registry function: SVG on this rank's heads ``[B, h, S, D]``."""
    source = (attention_kwargs or {}).get(ENGINE_KEY)
    if source is None:
        raise ValueError(f"the SVG attention backend needs attention_kwargs[{ENGINE_KEY!r}] (an SVGEngineSource)")
    if dropout_p or is_causal:
        raise ValueError(f"the SVG attention backend has no dropout or causal mask (got {dropout_p}, {is_causal})")
    out = torch.empty_like(query)
    if not _run(source, query, key, value, out):
        out = F.scaled_dot_product_attention(query, key, value)
    return out, None


class RaylightSVGProcessor:
    """A Raylight inner-attention processor: SVG on this rank's heads after xFuser's all-to-all.
    Calls without an SVG source in their transformer_options go to Raylight's dense attention."""

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
    """Register ``RaylightSVGProcessor`` with Raylight's inner-attention registry (Raylight versions
    that have ``raylight.distributed_modules.inner_attention``; main at c0495710 does not)."""
    from raylight.distributed_modules.inner_attention import register_inner_attention

    return register_inner_attention(name)(RaylightSVGProcessor)

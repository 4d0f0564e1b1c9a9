"""Backends: named tables of the ops patterns call, and the choice of one for a call.

An op is a callable with the signature of its torch reference in ``REFERENCE_OPS`` (reference.py):

    "profile"         (q, k, v, layout, width, block_size, rows, key_bias=None, scale=None)
                      -> err float32 [B, H, 2]: the band's error in each head order on the sampled rows
    "band_attention"  (q, k, v, layout, width, block_size, orders int8 [B, H], key_bias=None,
                      scale=None, out=None) -> out with its video rows written
    "global_rows"     (q, k, v, layout, key_bias=None, scale=None, out=None) -> out with its global
                      rows written (dense)

The reference backend has every op. ``resolve_backend`` picks, per (requested backend, device, dtype,
head_dim, ops a pattern needs, attention precision), the Triton kernels' op where they run, the
reference's otherwise, and says why in one sentence (the node logs it once per run and device).

Precision (``PRECISIONS``; SVGConfig.attention_precision resolved): "bf16" computes in the model's
dtype. "fp8" (q, K, P, V in e4m3) and "fp8-pv" (only P and V) swap the "band_attention" op for the
FP8 one and add the op

    "dense"           (q, k, v, layout, key_bias=None, scale=None, out=None) -> out with every row
                      written: the whole call dense at that precision (video rows in FP8, global rows
                      exact), for the dense steps when the user asks for FP8 there too

- on the Triton backend where ``kernels.fp8_support(device)`` (compute capability 8.9 / 9.0): the FP8
  kernels; on other GPUs bf16, and the reason says so;
- on the reference backend off CUDA (CPU tests and quality runs) or when the reference is requested:
  the FP8 kernels' exact torch emulation (kernels/fp8_emulation.py), so results check the quantisation;
  on a CUDA GPU where the kernels cannot run: bf16 (the emulation is for checking, not for speed);
- with ``emulate=False`` (the node's "auto" precision) never the emulation: FP8 only where its kernels
  run, bf16 elsewhere.
The profiler ("profile") and the global rows stay exact in every precision.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from types import MappingProxyType
from typing import Callable, Mapping

from .reference import band_attention_reference, global_rows_dense, profile_reference

PRECISIONS = ("bf16", "fp8", "fp8-pv")

REFERENCE_OPS = MappingProxyType({
    "profile": profile_reference,
    "band_attention": band_attention_reference,
    "global_rows": global_rows_dense,
})


@dataclass(frozen=True, eq=False)
class Backend:
    """A name (what the run summary reports), its ops by name and the precision of its attention ops."""

    name: str
    ops: Mapping[str, Callable] = field(repr=False)
    precision: str = "bf16"

    def __getitem__(self, op: str) -> Callable:
        try:
            return self.ops[op]
        except KeyError:
            raise KeyError(f"backend {self.name!r} has no op {op!r} (it has {sorted(self.ops)})") from None


reference_backend = Backend("reference", REFERENCE_OPS)


@lru_cache(maxsize=16)
def triton_backend_or_reason(device_type: str, device_index, dtype, head_dim: int):
    """(Backend, "") when the Triton kernels run on this device/dtype/head_dim, else (None, why).

    The device comes first: on a CPU the reason is that there is no CUDA device, whatever else
    (the kernels package, the dtype, the head size) would not fit either.
    """
    if device_type != "cuda":
        return None, (f"no CUDA device: the model runs on {device_type}, and the Triton kernels "
                      f"need a CUDA GPU")
    try:
        from .. import kernels
    except ImportError as error:  # svg_attention imported on its own, outside the pack
        return None, f"the kernels package is not importable ({error})"
    import torch
    device = torch.device(device_type, device_index) if device_index is not None else torch.device(device_type)
    ok, reason = kernels.triton_support(device, dtype, head_dim)
    if not ok:
        return None, reason
    return triton_backend(), ""


def triton_backend() -> Backend:
    """The Triton kernels' ops (imports no Triton yet)."""
    from .. import kernels

    return Backend("triton", MappingProxyType({
        "profile": kernels.svg_profile,
        "band_attention": kernels.svg_band_attention,
        "global_rows": kernels.svg_global_rows,
    }))


def resolve_backend(requested: str, device, dtype, head_dim: int, ops, precision: str = "bf16",
                    emulate: bool = True):
    """(backend, why) for a requested name ("auto", "triton", "reference"), the ops a pattern calls and
    the attention precision (``PRECISIONS``). Ops the kernels lack come from the reference (a backend
    named "triton+reference"); FP8 backends are named "<backend>-<precision>"; ``emulate`` False: FP8
    only as the kernels, never as the reference's emulation (module docstring)."""
    unknown = [op for op in ops if op not in REFERENCE_OPS]
    if unknown:
        raise ValueError(f"no reference for the op(s) {unknown}: every op needs one in backends.REFERENCE_OPS")
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, got {precision!r}")
    backend, why = _resolve_bf16(requested, device, dtype, head_dim, ops)
    if precision == "bf16":
        return backend, why
    return _with_precision(backend, why, requested, device, precision, emulate)


def _resolve_bf16(requested, device, dtype, head_dim, ops):
    if requested == "reference":
        return reference_backend, "reference backend requested"
    backend, reason = triton_backend_or_reason(device.type, device.index, dtype, head_dim)
    if backend is None:
        if requested == "triton":
            return reference_backend, f"triton requested but unavailable ({reason}); using the reference"
        return reference_backend, f"reference backend ({reason})"
    missing = [op for op in ops if op not in backend.ops]
    if not missing:
        return backend, f"Triton kernels on {device}"
    mixed = {op: backend.ops.get(op, REFERENCE_OPS[op]) for op in ops}
    return (Backend("triton+reference", MappingProxyType(mixed)),
            f"Triton kernels on {device}, the reference for {', '.join(missing)} (no kernel yet)")


def _with_precision(backend: Backend, why: str, requested: str, device, precision: str, emulate: bool):
    """``backend`` with the FP8 "band_attention" and "dense" ops of ``precision``, or itself (bf16) with
    the reason appended."""
    try:
        from .. import kernels
    except ImportError as error:  # svg_attention imported on its own, outside the pack
        return backend, f"{why}; {precision} asked, but the kernels package is not importable ({error}): bf16"
    if backend.name.startswith("triton"):
        ok, reason = kernels.fp8_support(device)
        if not ok:
            return backend, f"{why}; {precision} asked, but {reason}: bf16"
        emulated, how = False, f"{precision} (e4m3) FP8 kernels"
    elif not emulate:
        return backend, f"{why}; auto precision: {precision} only where the FP8 kernels run, so bf16"
    elif requested == "reference" or device.type != "cuda":
        emulated, how = True, f"{precision} as the FP8 kernels' exact torch emulation (for checking, not speed)"
    else:
        return backend, f"{why}; {precision} asked, but the FP8 kernels cannot run here: bf16"
    fp8 = kernels.fp8_ops(precision, emulated)
    return (Backend(f"{backend.name}-{precision}", MappingProxyType({**backend.ops, **fp8}), precision),
            f"{why}; attention in {how}")

"""Band (+ global keys) block-sparse attention forward for Sparse VideoGen.

Token layout of one call (N tokens): ``video_start`` global prefix tokens, then the video,
``num_frames`` (F) x ``frame_tokens`` (P) tokens frame-major (token ``video_start + f*P + p``),
then ``N - video_start - F*P`` global suffix tokens.  V = F*P.

Head order of the video: for a spatial head (``temporal[b, h] == False``) head-order index u in
[0, V) is token ``video_start + u``; for a temporal head ``u = p*F + f`` is token
``video_start + (u % F)*P + u // F``.  The video query at head-order index u attends to

* the video keys at head-order indices u' with ``|u // BS - u' // BS| <= band_width``, and
* all global keys, with the optional additive ``key_bias`` (float32 ``[B or 1, N]``, only its
  global entries are read).

Softmax scale defaults to ``1/sqrt(D)``.  Only the video rows of ``out`` are written; the caller
computes the global query rows (dense; :func:`kernels.global_rows_attention` does it).  The layout
transformation of q and out is fused into the kernel's loads and stores (index arithmetic).  For
k and v, on Hopper (default, TMA=True) a gather kernel first writes head-ordered contiguous copies
of the video keys/values of every head (extra memory 2*B*H*V*D elements, at most 2/3 of q+k+v, about
0.9 ms for Wan-14B 720p on an H200) so that the band tiles load through TMA; with TMA=False (and
before Hopper) the gather is fused into the loads too and nothing is copied.

Public functions:
    band_attention(q, k, v, temporal, ...)            -> out   (Triton)
    band_config(...)                                   -> launch config

The plain-torch definition it reproduces is ``svg_attention.reference.band_attention_reference``
(tests/kernels test against it); the head order is ``svg_attention.layout.head_order`` and the
pairs it computes ``svg_attention.budget.kept_pairs``. Input checks: kernels/checks.py.
"""
from __future__ import annotations

import logging
import math
import warnings
from typing import Optional

import torch

from . import _jit
from .checks import check_kernel_dtype, check_key_bias, check_labels, check_layout, check_out

__all__ = [
    "band_attention",
    "band_config",
]


# ----------------------------------------------------------------------------------------------
# Triton launcher
# ----------------------------------------------------------------------------------------------
# Static configs per head_dim, measured on the H200 (bench/NOTES.md; attention_bench.py --sweep for
# D=128 on Wan-14B 720p, call_breakdown.py for D=64 on 24 x 32,760): TMA loads of head-ordered K/V
# copies, 3 stages; warp specialization helps at D=128 (52.7 vs 54.3 ms) and not at D=64, where 4
# warps beat 8 (3.65 vs 4.43 ms).
_GPU_CONFIGS = {
    64: dict(BLOCK_M=128, BLOCK_N=128, num_warps=4, num_stages=3, TMA=True, WS=False),
    128: dict(BLOCK_M=128, BLOCK_N=128, num_warps=8, num_stages=3, TMA=True, WS=True),
}
_ORDER_CACHE: dict = {}
LAST_LAUNCH: dict = {}  # last compiled kernels (diagnostics: n_regs, n_spills)
_BROKEN_VARIANTS: set = set()


def _is_compile_error(e: Exception) -> bool:
    """Errors raised while compiling a Triton variant (not launch-time CUDA errors)."""
    name = type(e).__name__
    mod = type(e).__module__ or ""
    return (name in ("CompilationError", "OutOfResources", "CompileTimeAssertionFailure", "TypeError",
                     "AttributeError", "NotImplementedError", "InterpreterError")
            or mod.startswith("triton.compiler") or "PassManager" in str(e) or "MLIR" in str(e))


_NO_TMA_LOGGED: list = []


def _tma_ok(*ts) -> bool:
    """Tensor descriptors need Hopper+, 16-byte aligned bases and strides."""
    if not ts[0].is_cuda or torch.cuda.get_device_capability(ts[0].device)[0] < 9:
        return False
    try:
        from triton.tools.tensor_descriptor import TensorDescriptor  # noqa: F401
    except Exception as e:  # an older Triton: plain pointer loads instead
        if not _NO_TMA_LOGGED:
            _NO_TMA_LOGGED.append(True)
            logging.getLogger("svg_sparse_attention").info(
                f"[SVG] Triton has no tensor descriptors ({type(e).__name__}: {e}); using pointer loads")
        return False
    esz = ts[0].element_size()
    for t in ts:
        if t.data_ptr() % 16 or any((st * esz) % 16 for st in t.stride()[:-1]):
            return False
    return True


def _tma_descriptors(mod, k, v, temp_i, video_start, F, P, V, BLOCK_N):
    """Head-ordered contiguous copies [B, H, V, D] of the video keys and values of every head
    (temporal heads permuted, spatial heads copied) and their tensor descriptors.
    Extra memory: 2 x B*H*V*D elements (at most 2/3 of q+k+v)."""
    from triton.tools.tensor_descriptor import TensorDescriptor
    B, H, N, D = k.shape
    kt = torch.empty(B, H, V, D, device=k.device, dtype=k.dtype)
    vt = torch.empty_like(kt)
    GB = 64
    LAST_LAUNCH["gather"] = mod.gather_kernel[(-(-V // GB), B * H)](
        k, v, kt, vt, temp_i,
        k.stride(0), k.stride(1), k.stride(2), v.stride(0), v.stride(1), v.stride(2),
        H, video_start, F, P, V, BLOCK=GB, HEAD_DIM=D, num_warps=4)
    blk = [1, 1, BLOCK_N, D]
    return dict(KT_DESC=TensorDescriptor(kt, [B, H, V, D], list(kt.stride()), blk),
                VT_DESC=TensorDescriptor(vt, [B, H, V, D], list(vt.stride()), blk))


def band_config(head_dim: int, block_size: int, interpreted: bool = False, override: Optional[dict] = None) -> dict:
    """Launch config for the band kernel: tiles never straddle a pattern block."""
    if interpreted:  # interpreter: small tiles are fastest
        cfg = dict(BLOCK_M=16, BLOCK_N=16, num_warps=4, num_stages=1)
    else:
        cfg = dict(_GPU_CONFIGS[head_dim])
    if override:
        cfg.update(override)
    cfg["BLOCK_M"] = min(cfg["BLOCK_M"], block_size)
    cfg["BLOCK_N"] = min(cfg["BLOCK_N"], block_size)
    return cfg


def _tile_order(V, BS, BLOCK_M, w, device):
    """Query tiles sorted by descending band length (longest first, balances the tail)."""
    key = (V, BS, BLOCK_M, w, str(device))
    order = _ORDER_CACHE.get(key)
    if order is None:
        nt = -(-V // BLOCK_M)
        t = torch.arange(nt)
        qb = (t * BLOCK_M) // BS
        lo = (qb - w).clamp_min(0) * BS
        hi = ((qb + w + 1) * BS).clamp_max(V)
        length = hi - lo
        # stable sort on -length keeps ascending tile order inside a length class (L2 reuse)
        idx = torch.sort(-length, stable=True).indices.to(torch.int32)
        order = idx.to(device)
        if len(_ORDER_CACHE) > 64:
            _ORDER_CACHE.clear()
        _ORDER_CACHE[key] = order
    return order


def band_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, temporal, *, video_start: int,
                   num_frames: int, frame_tokens: int, band_width: int, block_size: int = 128,
                   key_bias: Optional[torch.Tensor] = None, scale: Optional[float] = None,
                   out: Optional[torch.Tensor] = None, config: Optional[dict] = None) -> torch.Tensor:
    """Block-sparse band attention (Triton) with the per-head temporal layout fused in.

    Args:
        q, k, v: [B, H, N, D] (any strides, last dim contiguous), fp16/bf16 (fp32 in the
            interpreter); D in {64, 128}.
        temporal: bool [B, H] (or [H], or a Python bool): head kind per (batch element, head).
        video_start, num_frames, frame_tokens: the token layout (see module docstring).
        band_width: w >= 0, in pattern blocks; block_size: BS, a power of two >= 16.
        key_bias: float32 [B or 1, N] additive bias, only the global entries are used.
        scale: softmax scale, default 1/sqrt(D).
        out: optional [B, H, N, D] output (any strides, last dim contiguous); only video rows
            are written.
        config: optional override of BLOCK_M / BLOCK_N / num_warps / num_stages / TMA / WS;
            KERNEL="packed" runs kernels.packed_band_attention instead (its keys then apply).
            TMA=True (default on Hopper when the strides allow it) copies the video K/V of every
            head into head order first (extra memory 2 x B*H*V*D elements, <= 2/3 of q+k+v) and
            loads the band tiles through tensor descriptors; TMA=False gathers in the loads
            (no extra memory, ~20% slower on the H200).
    Returns:
        out.
    """
    B, H, N, D = check_layout(q, k, v, video_start, num_frames, frame_tokens, block_size, band_width)
    mod = _jit.load_for("_band_triton", q)
    interp = mod.INTERPRETED
    check_kernel_dtype(q, interp, "band_attention")
    key_bias = check_key_bias(key_bias, B, N, q.device)
    temporal = check_labels(temporal, B, H, q.device)
    out = torch.empty_like(q) if out is None else check_out(out, q)
    F, P, BS, w = int(num_frames), int(frame_tokens), int(block_size), int(band_width)
    V = F * P
    G = N - V
    nb = -(-V // BS)
    w = min(w, nb)  # wider bands change nothing; keeps int32 arithmetic small
    scale = 1.0 / math.sqrt(D) if scale is None else float(scale)
    cfg = band_config(D, BS, interp, config)
    if cfg.get("KERNEL") == "packed":   # the packed-copy kernel variant (kernels/packed_attention.py)
        from .packed_attention import PACKED_CONFIG_KEYS, packed_band_attention
        return packed_band_attention(q, k, v, temporal, video_start=video_start, num_frames=F, frame_tokens=P,
                                     band_width=w, block_size=BS, key_bias=key_bias, scale=scale, out=out,
                                     config={key: val for key, val in cfg.items() if key in PACKED_CONFIG_KEYS})
    BLOCK_M, BLOCK_N = cfg["BLOCK_M"], cfg["BLOCK_N"]
    order = _tile_order(V, BS, BLOCK_M, w, q.device)
    temp_i = temporal.to(device=q.device, dtype=torch.int8).contiguous()
    has_bias = key_bias is not None and G > 0
    bias_arg = key_bias if has_bias else q  # dummy pointer, never read
    stride_biasb = (key_bias.stride(0) if key_bias.shape[0] > 1 else 0) if has_bias else 0
    prec = "ieee" if q.dtype == torch.float32 else None
    tma = bool(cfg.get("TMA", False)) and not interp and _tma_ok(q, k, v)
    ws = bool(cfg.get("WS", False)) and tma
    # Fallbacks for Triton builds that cannot compile a variant (e.g. no warp specialization or
    # tensor descriptors on this version / GPU): WS -> TMA without WS -> pointer loads.  A variant
    # that failed once is not tried again in this process.
    variants = [(t, s_) for t, s_ in ((tma, ws), (tma, False), (False, False)) if (t or not s_)]
    variants = [vnt for i, vnt in enumerate(variants) if vnt not in variants[:i]]
    variants = [vnt for vnt in variants if (D, vnt) not in _BROKEN_VARIANTS] or [(False, False)]
    grid = (order.numel(), B * H)
    for i, (use_tma, use_ws) in enumerate(variants):
        descs = _tma_descriptors(mod, k, v, temp_i, int(video_start), F, P, V, BLOCK_N) if use_tma else {}
        try:
            LAST_LAUNCH["band"] = mod.band_fwd_kernel[grid](
                q, k, v, out, bias_arg, temp_i, order,
                q.stride(0), q.stride(1), q.stride(2),
                k.stride(0), k.stride(1), k.stride(2),
                v.stride(0), v.stride(1), v.stride(2),
                out.stride(0), out.stride(1), out.stride(2),
                stride_biasb,
                H, int(video_start), F, P, V, G, w, scale * 1.4426950408889634,
                BS=BS, BLOCK_M=BLOCK_M, BLOCK_N=BLOCK_N, HEAD_DIM=D, HAS_BIAS=has_bias, PREC=prec,
                TMA=use_tma, WS=use_ws, **descs,
                num_warps=cfg["num_warps"], num_stages=cfg["num_stages"],
            )
            break
        except Exception as e:  # compile-time failures only; the last variant re-raises
            if i == len(variants) - 1 or not _is_compile_error(e):
                raise
            _BROKEN_VARIANTS.add((D, (use_tma, use_ws)))
            warnings.warn(f"band_attention: variant TMA={use_tma} WS={use_ws} failed to compile "
                          f"({type(e).__name__}: {str(e)[:160]}); falling back", RuntimeWarning)
    return out

"""Band (+ global keys) attention over packed head-ordered K/V copies: bf16/fp16 or FP8 (e4m3).

Same function as :func:`kernels.band_attention` (same arguments, same rows written), computed by
``kernels/_packed_triton.py``: a pack kernel first writes, per (b, h), the keys and values in the
head's order with the global keys appended (rows padded to multiples of 128), so every key tile -
band, ragged end of the video and globals - is a row range of one contiguous matrix loaded through
TMA on Hopper.  FP8 (``precision="fp8"``, compute capability >= 8.9): the pack kernel quantises K
(per 128 rows, after smoothing) and V (per channel, stored transposed), the attention kernel
quantises q per query tile and P with a fixed scale, float32 accumulation; the exact quantisation is
emulated in torch by :mod:`kernels.fp8_emulation` (the FP8 path's reference).

Extra memory during a call: bf16 2 x B*H*L*D elements (L = V and G rounded up to 128: the same as
the TMA copies of ``band_attention``), FP8 2 x B*H*L*D bytes (half of that).

Variants (``config`` keys; the sweep in bench/kernel_sweep.py times them):
    BLOCK_M, BLOCK_N, num_warps, num_stages  tile shape and pipelining
    TMA        K/V tiles through tensor descriptors (Hopper) instead of pointer loads
    PERSIST    a persistent grid (PROGRAMS_PER_SM programs per SM loop over the work items, longest
               bands first) instead of one program per query tile
    FLATTEN    let Triton fuse the persistent loop with the key loop (pipelining across tiles)
    PREFETCH   compute the scores of the next key tile before the softmax of the current one
    PV_SPLIT   acc = acc * alpha + P @ V (the product accumulated from zero, then added in float32)
               instead of accumulating into acc (matters for FP8: Hopper's FP8 MMA adds with reduced
               precision inside one instruction chain)
    SMOOTH_K   (FP8) subtract the per-(b, h) channel mean of K before quantising it (default on)
    PV_PERM    (FP8, default on when BLOCK_N % 32 == 0) store V's keys in the order in which P's
               columns sit in the registers of Hopper's FP8 MMA (no shuffles between the two matmuls)
    SMOOTH_V   (FP8) subtract the per-(b, h) channel mean of V before quantising it, add it to the
               output (default on)
"""
from __future__ import annotations

import logging
import math
import warnings
from typing import Optional

import torch

from . import _jit
from .band_attention import _is_compile_error, _tile_order
from .checks import FP8_CAPABILITIES, check_kernel_dtype, check_key_bias, check_labels, check_layout, check_out
from .fp8_emulation import DENSE_BLOCK, QUANT_BLOCK, fp8_channel_stats, packed_rows

__all__ = ["packed_band_attention", "fp8_band_attention", "fp8_dense_attention", "packed_config", "fp8_support",
           "PACKED_GPU_CONFIGS", "PACKED_CONFIG_KEYS", "PRECISIONS"]

log = logging.getLogger("svg_sparse_attention")

# Defaults before the H200 sweep (bench/kernel_sweep.py); the sweep's winners replace them.
PACKED_GPU_CONFIGS = {
    ("bf16", 64): dict(BLOCK_M=128, BLOCK_N=128, num_warps=4, num_stages=3, TMA=True),
    ("bf16", 128): dict(BLOCK_M=128, BLOCK_N=128, num_warps=8, num_stages=3, TMA=True),
    ("fp8", 64): dict(BLOCK_M=128, BLOCK_N=128, num_warps=4, num_stages=4, TMA=True, PV_SPLIT=True),
    ("fp8", 128): dict(BLOCK_M=128, BLOCK_N=128, num_warps=8, num_stages=4, TMA=True, PV_SPLIT=True),
}
PRECISIONS = ("bf16", "fp8", "fp8-pv")
PACKED_CONFIG_KEYS = _KNOWN_KEYS = {"BLOCK_M", "BLOCK_N", "num_warps", "num_stages", "TMA", "PERSIST", "FLATTEN", "PREFETCH", "PV_SPLIT",
               "SMOOTH_K", "SMOOTH_V", "PV_PERM", "PROGRAMS_PER_SM", "KERNEL"}
LAST_LAUNCH: dict = {}
_SM_COUNT: dict = {}
_BROKEN: set = set()


def fp8_support(device) -> tuple:
    """Whether FP8 attention can run on ``device``: (ok, reason).  Needs a CUDA GPU of compute
    capability 8.9 or 9.0 (e4m3 tensor cores: Ada, Hopper; ``checks.FP8_CAPABILITIES``: the
    kernels are built and measured for these, newer architectures are not enabled untested)."""
    device = torch.device(device)
    if device.type != "cuda":
        return False, f"FP8 attention needs a CUDA GPU (the model runs on {device.type})"
    if not torch.cuda.is_available():
        return False, "FP8 attention needs a CUDA GPU (torch sees none)"
    cap = tuple(torch.cuda.get_device_capability(device))
    if cap not in FP8_CAPABILITIES:
        wanted = " or ".join(f"{a}.{b}" for a, b in FP8_CAPABILITIES)
        return False, f"FP8 attention needs compute capability {wanted}; this GPU has {cap[0]}.{cap[1]}"
    return True, f"FP8 e4m3 on compute capability {cap[0]}.{cap[1]}"


def packed_config(head_dim: int, block_size: int, precision: str = "bf16", interpreted: bool = False,
                  override: Optional[dict] = None) -> dict:
    """Launch config of the packed kernel: the static default for (precision, head_dim), updated by
    ``override``; tiles are clipped to the pattern block (a tile never straddles one)."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}; got {precision!r}")
    if interpreted:
        cfg = dict(BLOCK_M=16, BLOCK_N=16, num_warps=4, num_stages=1, TMA=True)
    else:
        cfg = dict(PACKED_GPU_CONFIGS[("fp8" if precision == "fp8-pv" else precision, head_dim)])
    cfg.setdefault("SMOOTH_K", True)
    cfg.setdefault("SMOOTH_V", True)
    if override:
        unknown = set(override) - _KNOWN_KEYS
        if unknown:
            raise ValueError(f"unknown packed-kernel config keys {sorted(unknown)}; known: {sorted(_KNOWN_KEYS)}")
        cfg.update({k: v for k, v in override.items() if k != "KERNEL"})
    cfg["BLOCK_M"] = min(cfg["BLOCK_M"], block_size)
    cfg["BLOCK_N"] = min(cfg["BLOCK_N"], block_size, QUANT_BLOCK)
    cfg.setdefault("PV_PERM", cfg["BLOCK_N"] % 32 == 0)
    return cfg


def _sm_count(device) -> int:
    idx = device.index if device.index is not None else torch.cuda.current_device()
    if idx not in _SM_COUNT:
        _SM_COUNT[idx] = torch.cuda.get_device_properties(idx).multi_processor_count
    return _SM_COUNT[idx]


def _pack(mod, k, v, temp_i, video_start, F, P, fp8, smooth_k, smooth_v, pv_perm, emu_rne, qk8=True):
    B, H, N, D = k.shape
    V = F * P
    G = N - V
    vp0, L = packed_rows(V, G)
    BH = B * H
    dev = k.device
    if fp8:
        kmean, vmean, vmax = fp8_channel_stats(k, v, smooth_k and qk8, smooth_v)
        kp = torch.empty(BH, L, D, dtype=torch.float8_e4m3fn if qk8 else k.dtype, device=dev)
        vp = torch.empty(BH, D, L, dtype=torch.float8_e4m3fn, device=dev)
        ks = torch.empty(BH, L // QUANT_BLOCK, dtype=torch.float32, device=dev)
        vsc = torch.empty(BH, D, dtype=torch.float32, device=dev)
        kmean_arg = kmean.reshape(BH, D) if kmean is not None else vsc
        vmean_arg = vmean.reshape(BH, D) if vmean is not None else vsc
        vmax_arg = vmax.reshape(BH, D).contiguous()
    else:
        kp = torch.empty(BH, L, D, dtype=k.dtype, device=dev)
        vp = torch.empty_like(kp)
        ks = vsc = kmean_arg = vmean_arg = vmax_arg = kp   # dummies, never read
    LAST_LAUNCH["pack"] = mod.pack_kernel[(L // QUANT_BLOCK, BH)](
        k, v, kp, vp, ks, vsc, kmean_arg, vmean_arg, vmax_arg, temp_i,
        k.stride(0), k.stride(1), k.stride(2), v.stride(0), v.stride(1), v.stride(2),
        H, int(video_start), F, P, V, G, vp0, L,
        BLOCK=QUANT_BLOCK, HEAD_DIM=D, FP8=fp8, SMOOTH_K=bool(fp8 and qk8 and smooth_k),
        SMOOTH_V=bool(fp8 and smooth_v), EMU_RNE=emu_rne, PV_PERM=bool(fp8 and pv_perm), QK8=bool(fp8 and qk8),
        num_warps=4)
    return kp, vp, ks, vsc, vmean_arg, vp0, L


def _descriptors(kp, vp, fp8, BLOCK_N, D):
    from triton.tools.tensor_descriptor import TensorDescriptor
    BH, L = kp.shape[0], kp.shape[1]   # kp: FP8 or (fp8-pv, bf16) in the input dtype
    k2 = kp.view(BH * L, D)
    kd = TensorDescriptor(k2, [BH * L, D], [D, 1], [BLOCK_N, D])
    if fp8:
        v2 = vp.view(BH * D, L)
        vd = TensorDescriptor(v2, [BH * D, L], [L, 1], [D, BLOCK_N])
    else:
        v2 = vp.view(BH * L, D)
        vd = TensorDescriptor(v2, [BH * L, D], [D, 1], [BLOCK_N, D])
    return dict(K_DESC=kd, V_DESC=vd)


def _tma_available(t) -> bool:
    if t.device.type != "cuda":
        return True     # the interpreter runs tensor descriptors
    if torch.cuda.get_device_capability(t.device)[0] < 9:
        return False
    try:
        from triton.tools.tensor_descriptor import TensorDescriptor  # noqa: F401
    except ImportError:
        return False
    return True


def packed_band_attention(q: torch.Tensor, k: torch.Tensor, v: torch.Tensor, temporal, *, video_start: int,
                          num_frames: int, frame_tokens: int, band_width: int, block_size: int = 128,
                          key_bias: Optional[torch.Tensor] = None, scale: Optional[float] = None,
                          out: Optional[torch.Tensor] = None, precision: str = "bf16",
                          config: Optional[dict] = None) -> torch.Tensor:
    """Band attention (arguments and result as :func:`kernels.band_attention`) through packed K/V
    copies; ``precision`` "bf16" (the input dtype: fp16/bf16, fp32 in the interpreter), "fp8" (q, K,
    P, V in e4m3) or "fp8-pv" (only P and V in e4m3: exact scores, half the FP8 gain).
    Writes the video rows of ``out`` and returns it."""
    B, H, N, D = check_layout(q, k, v, video_start, num_frames, frame_tokens, block_size, band_width)
    mod = _jit.load_for("_packed_triton", q)
    interp = mod.INTERPRETED
    check_kernel_dtype(q, interp, "packed_band_attention")
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}; got {precision!r}")
    fp8 = precision in ("fp8", "fp8-pv")
    qk8 = precision == "fp8"
    if fp8 and not interp:
        ok, why = fp8_support(q.device)
        if not ok:
            raise RuntimeError(f"precision={precision!r}: {why}")
    key_bias = check_key_bias(key_bias, B, N, q.device)
    temporal = check_labels(temporal, B, H, q.device)
    out = torch.empty_like(q) if out is None else check_out(out, q)
    F, P, BS = int(num_frames), int(frame_tokens), int(block_size)
    V = F * P
    G = N - V
    w = min(int(band_width), -(-V // BS))
    cfg = packed_config(D, BS, precision, interp, config)
    BLOCK_M, BLOCK_N = cfg["BLOCK_M"], cfg["BLOCK_N"]
    qk_scale = (1.0 / math.sqrt(D) if scale is None else float(scale)) * 1.4426950408889634
    temp_i = temporal.to(device=q.device, dtype=torch.int8).contiguous()
    pv_perm = bool(fp8 and cfg["PV_PERM"])
    if pv_perm and BLOCK_N % 32:
        raise ValueError(f"PV_PERM needs BLOCK_N % 32 == 0; got BLOCK_N={BLOCK_N}")
    kp, vp, ks, vsc, vmean, vp0, L = _pack(mod, k, v, temp_i, int(video_start), F, P, fp8, bool(cfg["SMOOTH_K"]),
                                           bool(cfg["SMOOTH_V"]), pv_perm, interp, qk8)
    order = _tile_order(V, BS, BLOCK_M, w, q.device)
    n_tiles = order.numel()
    n_work = n_tiles * B * H
    has_bias = key_bias is not None and G > 0
    bias_arg = key_bias if has_bias else q
    stride_biasb = (key_bias.stride(0) if key_bias.shape[0] > 1 else 0) if has_bias else 0
    prec = "ieee" if (q.dtype == torch.float32 and not qk8) else None
    want = dict(TMA=bool(cfg.get("TMA")) and _tma_available(q), PERSIST=bool(cfg.get("PERSIST")),
                FLATTEN=bool(cfg.get("FLATTEN")), PREFETCH=bool(cfg.get("PREFETCH")),
                PV_SPLIT=bool(cfg.get("PV_SPLIT")))
    # a variant that does not compile on this Triton / GPU falls back to the plain one, once, with a warning
    plain = dict(TMA=False, PERSIST=False, FLATTEN=False, PREFETCH=False, PV_SPLIT=want["PV_SPLIT"])
    variants = [want] if want == plain else [want, plain]
    variants = [x for x in variants if (precision, D, tuple(sorted(x.items()))) not in _BROKEN] or [plain]
    for i, var in enumerate(variants):
        descs = _descriptors(kp, vp, fp8, BLOCK_N, D) if var["TMA"] else {}
        if var["PERSIST"]:
            nprog = n_work if interp else min(n_work, _sm_count(q.device) * int(cfg.get("PROGRAMS_PER_SM", 1)))
            grid = (max(1, nprog),)
        else:
            grid = (n_tiles, B * H)
        try:
            LAST_LAUNCH["band"] = mod.packed_band_kernel[grid](
                q, out, temp_i, order, kp, vp, ks, vsc, vmean, bias_arg,
                q.stride(0), q.stride(1), q.stride(2),
                out.stride(0), out.stride(1), out.stride(2),
                stride_biasb,
                H, int(video_start), F, P, V, G, vp0, L, w, n_tiles, n_work, qk_scale,
                BS=BS, BLOCK_M=BLOCK_M, BLOCK_N=BLOCK_N, HEAD_DIM=D, FP8=fp8, HAS_BIAS=has_bias, PREC=prec,
                EMU_RNE=bool(interp and fp8), QBLOCK=QUANT_BLOCK, SMOOTH_V=bool(fp8 and cfg["SMOOTH_V"]), PV_PERM=pv_perm,
                QK8=qk8,
                **var, **descs,
                num_warps=cfg["num_warps"], num_stages=cfg["num_stages"])
            break
        except Exception as e:  # compile-time failures only; the last variant re-raises
            if i == len(variants) - 1 or not _is_compile_error(e):
                raise
            _BROKEN.add((precision, D, tuple(sorted(var.items()))))
            warnings.warn(f"packed_band_attention: variant {var} failed to compile ({type(e).__name__}: "
                          f"{str(e)[:160]}); falling back to {plain}", RuntimeWarning)
    return out


def fp8_band_attention(q, k, v, temporal, **kwargs) -> torch.Tensor:
    """:func:`packed_band_attention` with precision "fp8"."""
    return packed_band_attention(q, k, v, temporal, precision="fp8", **kwargs)


def fp8_dense_attention(q, k, v, *, video_start: int = 0, num_frames: Optional[int] = None,
                        frame_tokens: Optional[int] = None, key_bias: Optional[torch.Tensor] = None,
                        scale: Optional[float] = None, out: Optional[torch.Tensor] = None,
                        precision: str = "fp8", config: Optional[dict] = None) -> torch.Tensor:
    """Dense attention in FP8 (``precision`` "fp8" or "fp8-pv"): the band kernel with a band covering
    every block, all heads in token order.  Without a layout (num_frames None) all N tokens are one
    "video" (no key bias allowed then).  With a layout, the video rows run in FP8 and the global query
    rows (text) run dense in the input dtype (``global_rows_attention``), with ``key_bias`` on the
    global keys.  All rows of ``out`` are written.  Its torch twin:
    ``fp8_emulation.fp8_dense_attention_emulation``."""
    from .profile import global_rows_attention
    if precision not in ("fp8", "fp8-pv"):
        raise ValueError(f"fp8_dense_attention: precision must be 'fp8' or 'fp8-pv'; got {precision!r}")
    B, H, N, D = q.shape
    if num_frames is None:
        if key_bias is not None or video_start:
            raise ValueError("fp8_dense_attention: key_bias / video_start need a layout (num_frames, frame_tokens)")
        num_frames, frame_tokens = 1, N
    V = int(num_frames) * int(frame_tokens)
    out = packed_band_attention(q, k, v, False, video_start=video_start, num_frames=num_frames,
                                frame_tokens=frame_tokens, band_width=-(-V // DENSE_BLOCK), block_size=DENSE_BLOCK,
                                key_bias=key_bias, scale=scale, out=out, precision=precision, config=config)
    if N > V:
        global_rows_attention(q, k, v, out, video_start=video_start, num_frames=num_frames,
                              frame_tokens=frame_tokens, key_bias=key_bias, scale=scale)
    return out

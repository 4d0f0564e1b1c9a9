"""Online head profiler of Sparse VideoGen: spatial or temporal pattern, per (b, h).

For R sampled video query rows (frame-major video indices u in [0, V), the same for all heads),
for each (b, h) compute the exact attention output of those rows over ALL N keys (with
``key_bias`` on the global keys), and the outputs under

* the spatial rule: keep video keys u' with ``|u // BS - u' // BS| <= w``, plus all globals;
* the temporal rule: with ``pi`` the position-major index (``svg_attention.layout.temporal_from_spatial``)
  keep video keys u' with ``|pi(u) // BS - pi(u') // BS| <= w``, plus all globals;

and return ``err [B, H, 2]`` float32: the mean over rows and D of the squared difference to the
exact output, for (spatial, temporal).  The caller labels a head temporal iff err_t < err_s.

The Triton kernel makes one pass over the keys with three online softmaxes (the keys are split
across programs, flash-decoding style); the partial states are merged and the errors reduced in
torch.  Nothing of size N x N is built.  The plain-torch definition it reproduces is
``svg_attention.reference.profile_reference`` (tests/kernels test against it; it builds R x N);
input checks: kernels/checks.py.
"""
from __future__ import annotations

import math
from typing import Optional

import torch

from . import _jit
from .checks import check_kernel_dtype, check_key_bias, check_layout, check_out, check_rows

__all__ = ["profile_errors", "global_rows_attention"]

_SM_COUNT: dict = {}
LAST_LAUNCH: dict = {}  # last compiled kernel (diagnostics: n_regs, n_spills)


# tuned on the H200 (bench/NOTES.md): small key tiles keep the three accumulators in registers,
# 8 programs per SM hide the latency of the serial online-softmax chain.  SHARED: the shared-max
# kernel (one exp2 per score for the three softmaxes) and a Triton merge (no torch merge ops);
# programs_per_sm 2 for it (fewer splits: less partial-state traffic); chosen before its H200 run.
_GPU_CONFIG = dict(BLOCK_N=32, num_warps=4, num_stages=4, programs_per_sm=8, SHARED=False)
# per head_dim: three [64, D] float32 accumulators; D=128 needs 8 warps to hold them without spilling
# (Triton 3.6, sm_90: bench/compile_check.py)
_GPU_CONFIG_SHARED = {
    64: dict(BLOCK_N=64, num_warps=4, num_stages=3, programs_per_sm=2, MERGE_BLOCK_D=32),
    128: dict(BLOCK_N=32, num_warps=8, num_stages=3, programs_per_sm=2, MERGE_BLOCK_D=32),
}
PROFILE_SHARED_DEFAULT = True


def profile_errors(q, k, v, rows, *, video_start: int, num_frames: int, frame_tokens: int, band_width: int,
                   block_size: int = 128, key_bias: Optional[torch.Tensor] = None, scale: Optional[float] = None,
                   splits: Optional[int] = None, config: Optional[dict] = None) -> torch.Tensor:
    """Spatial / temporal pattern errors of sampled rows (Triton), float32 [B, H, 2].

    Args:
        q, k, v: [B, H, N, D] (any strides, last dim contiguous), fp16/bf16 (fp32 in the
            interpreter), D in {64, 128}.
        rows: int32/int64 [R]: sampled frame-major video indices in [0, V) (same for all heads).
        video_start, num_frames, frame_tokens, band_width, block_size: as for band_attention.
        key_bias: float32 [B or 1, N]; only the global entries are used.
        scale: softmax scale, default 1/sqrt(D).
        splits: number of key chunks per (b, h) (default: enough programs to fill the GPU).
        config: launch overrides; ``SHARED`` picks the kernel: True (default) the shared-max kernel
            + Triton merge, False the three-softmax kernel + torch merge.
    Returns:
        err float32 [B, H, 2]: (spatial, temporal) mean squared error against exact attention.
    """
    B, H, N, D = check_layout(q, k, v, video_start, num_frames, frame_tokens, block_size, band_width)
    rows = check_rows(rows, q.device)
    shared = PROFILE_SHARED_DEFAULT if not config or "SHARED" not in config else bool(config["SHARED"])
    if shared:
        return _profile_shared(q, k, v, rows, video_start, num_frames, frame_tokens, band_width, block_size,
                               key_bias, scale, splits, config)
    MP, LP, AP, R = _launch(q, k, v, rows, video_start, num_frames, frame_tokens, band_width, block_size,
                            key_bias, scale, splits, config, exact_only=False)
    return _merge_errors(MP, LP, AP, R).view(B, H, 2)


def _splits_for(q, interp, cfg, BH, nrb, N, BLOCK_N, splits):
    if splits is None:
        if interp:
            splits = 2
        else:
            dev = q.device.index if q.device.index is not None else torch.cuda.current_device()
            if dev not in _SM_COUNT:
                _SM_COUNT[dev] = torch.cuda.get_device_properties(dev).multi_processor_count
            splits = -(-int(cfg.get("programs_per_sm", 2)) * _SM_COUNT[dev] // (BH * nrb))
    splits = max(1, min(int(splits), -(-N // BLOCK_N)))
    chunk = -(-(-(-N // splits)) // BLOCK_N) * BLOCK_N
    return chunk, -(-N // chunk)


def _profile_shared(q, k, v, rows, video_start, num_frames, frame_tokens, band_width, block_size, key_bias, scale,
                    splits, config):
    B, H, N, D = q.shape
    mod = _jit.load_for("_profile_triton", q)
    interp = mod.INTERPRETED
    check_kernel_dtype(q, interp, "the profiling kernel")
    key_bias = check_key_bias(key_bias, B, N, q.device)
    F, P, BS, w = int(num_frames), int(frame_tokens), int(block_size), int(band_width)
    V = F * P
    rows = rows.contiguous()
    R = rows.numel()
    scale = 1.0 / math.sqrt(D) if scale is None else float(scale)
    w = min(w, -(-V // BS))
    cfg = dict(BLOCK_N=16, num_warps=4, num_stages=1, MERGE_BLOCK_D=16) if interp else dict(_GPU_CONFIG_SHARED[D])
    if config:
        cfg.update({key: val for key, val in config.items() if key != "SHARED"})
    BLOCK_N = cfg["BLOCK_N"]
    BLOCK_R = max(16, min(int(cfg.get("BLOCK_R", 64)), triton_next_pow2(R)))
    nrb = -(-R // BLOCK_R)
    RP = nrb * BLOCK_R
    BH = B * H
    chunk, S = _splits_for(q, interp, cfg, BH, nrb, N, BLOCK_N, splits)
    f32 = dict(dtype=torch.float32, device=q.device)
    PM = torch.empty(BH, S, RP, **f32)
    PL = torch.empty(BH, S, 3, RP, **f32)
    PA = torch.empty(BH, S, 3, RP, D, **f32)
    has_bias = key_bias is not None and (N - V) > 0
    bias_arg = key_bias if has_bias else PM
    stride_biasb = (key_bias.stride(0) if key_bias.shape[0] > 1 else 0) if has_bias else 0
    prec = "ieee" if q.dtype == torch.float32 else None
    LAST_LAUNCH["profile"] = mod.profile_shared_kernel[(BH, S, nrb)](
        q, k, v, rows, bias_arg, PM, PL, PA,
        q.stride(0), q.stride(1), q.stride(2),
        k.stride(0), k.stride(1), k.stride(2),
        v.stride(0), v.stride(1), v.stride(2),
        stride_biasb,
        H, N, int(video_start), F, P, V, R, RP, w, chunk, S, scale * 1.4426950408889634,
        BS=BS, BLOCK_R=BLOCK_R, BLOCK_N=BLOCK_N, HEAD_DIM=D, HAS_BIAS=has_bias, PREC=prec,
        num_warps=cfg["num_warps"], num_stages=cfg["num_stages"])
    BLOCK_D = min(int(cfg.get("MERGE_BLOCK_D", 32)), D)
    MBR = 16
    ERRP = torch.empty(BH, D // BLOCK_D, 2, **f32)
    LAST_LAUNCH["profile_merge"] = mod.profile_merge_kernel[(BH, D // BLOCK_D)](
        PM, PL, PA, ERRP, S, R, RP, BLOCK_R=MBR, BLOCK_D=BLOCK_D, HEAD_DIM=D, num_warps=4)
    return (ERRP.sum(1) * (1.0 / (R * D))).view(B, H, 2)


def global_rows_attention(q, k, v, out=None, *, video_start: int, num_frames: int, frame_tokens: int,
                          key_bias: Optional[torch.Tensor] = None, scale: Optional[float] = None,
                          splits: Optional[int] = None, config: Optional[dict] = None) -> torch.Tensor:
    """Dense attention of the GLOBAL query rows (prefix and suffix tokens) over all N keys.

    The caller's part of an SVG call that :func:`band_attention` leaves out, done with the
    profiler's split-key kernel (few rows over long keys: a flash-attention grid of 2 row blocks
    per head would leave most of the GPU idle).  key_bias (float32 [B or 1, N]) is added on the
    global keys only, as in band_attention.  Writes the global rows of ``out`` ([B, H, N, D],
    allocated if None; video rows untouched) and returns it.
    """
    B, H, N, D = check_layout(q, k, v, video_start, num_frames, frame_tokens, 128, 0)
    V = int(num_frames) * int(frame_tokens)
    out = torch.empty_like(q) if out is None else check_out(out, q)
    segs = [(a, b) for a, b in ((0, int(video_start)), (int(video_start) + V, N)) if b > a]
    if not segs:
        return out
    rows = torch.cat([torch.arange(a, b, device=q.device) for a, b in segs])
    MP, LP, AP, R = _launch(q, k, v, rows, video_start, num_frames, frame_tokens, 0, 128,
                            key_bias, scale, splits, config, exact_only=True)
    mx = MP.amax(dim=1, keepdim=True)
    mx = torch.where(torch.isinf(mx), torch.zeros_like(mx), mx)
    wgt = torch.exp2(MP - mx)
    l = (wgt * LP).sum(1)                                   # [BH, 1, RP]
    o = ((wgt[..., None] * AP).sum(1) / l[..., None])[:, 0, :R]   # [BH, R, D]
    o = o.view(B, H, R, D).to(out.dtype)
    i = 0
    for a, b in segs:
        out[:, :, a:b] = o[:, :, i:i + b - a]
        i += b - a
    return out


def _launch(q, k, v, rows, video_start, num_frames, frame_tokens, band_width, block_size, key_bias, scale,
            splits, config, exact_only):
    B, H, N, D = q.shape
    mod = _jit.load_for("_profile_triton", q)
    interp = mod.INTERPRETED
    check_kernel_dtype(q, interp, "the profiling kernel")
    key_bias = check_key_bias(key_bias, B, N, q.device)
    F, P, BS, w = int(num_frames), int(frame_tokens), int(block_size), int(band_width)
    V = F * P
    rows = rows.to(torch.int32).contiguous()
    R = rows.numel()
    scale = 1.0 / math.sqrt(D) if scale is None else float(scale)
    nb = -(-V // BS)
    w = min(w, nb)

    cfg = dict(BLOCK_N=16, num_warps=4, num_stages=1) if interp else dict(_GPU_CONFIG)
    if config:
        cfg.update({key: val for key, val in config.items() if key != "SHARED"})
    BLOCK_N = cfg["BLOCK_N"]
    BLOCK_R = max(16, min(64, triton_next_pow2(R)))
    nrb = -(-R // BLOCK_R)
    RP = nrb * BLOCK_R
    BH = B * H
    chunk, S = _splits_for(q, interp, cfg, BH, nrb, N, BLOCK_N, splits)

    NP = 1 if exact_only else 3
    f32 = dict(dtype=torch.float32, device=q.device)
    MP = torch.empty(BH, S, NP, RP, **f32)
    LP = torch.empty(BH, S, NP, RP, **f32)
    AP = torch.empty(BH, S, NP, RP, D, **f32)
    has_bias = key_bias is not None and (N - V) > 0
    bias_arg = key_bias if has_bias else MP
    stride_biasb = (key_bias.stride(0) if key_bias.shape[0] > 1 else 0) if has_bias else 0
    prec = "ieee" if q.dtype == torch.float32 else None
    LAST_LAUNCH["profile" if not exact_only else "global_rows"] = mod.profile_kernel[(BH, S, nrb)](
        q, k, v, rows, bias_arg, MP, LP, AP,
        q.stride(0), q.stride(1), q.stride(2),
        k.stride(0), k.stride(1), k.stride(2),
        v.stride(0), v.stride(1), v.stride(2),
        stride_biasb,
        H, N, int(video_start), F, P, V, R, RP, w, chunk, S, scale * 1.4426950408889634,
        BS=BS, BLOCK_R=BLOCK_R, BLOCK_N=BLOCK_N, HEAD_DIM=D, HAS_BIAS=has_bias, PREC=prec,
        EXACT_ONLY=exact_only,
        num_warps=cfg["num_warps"], num_stages=cfg["num_stages"],
    )
    return MP, LP, AP, R


def _merge_errors(MP, LP, AP, R):
    """Merge split partial softmax states; err [BH, 2] = mean((o_pattern - o_exact)^2)."""
    mx = MP.amax(dim=1, keepdim=True)                       # [BH, 1, 3, RP]
    mx = torch.where(torch.isinf(mx), torch.zeros_like(mx), mx)
    wgt = torch.exp2(MP - mx)                               # 0 where a split saw no key
    l = (wgt * LP).sum(1)                                   # [BH, 3, RP]
    o = (wgt[..., None] * AP).sum(1) / l[..., None]         # [BH, 3, RP, D]
    o = o[:, :, :R]
    d = o[:, 1:] - o[:, :1]                                 # [BH, 2, R, D]
    return (d * d).mean(dim=(-1, -2))


def triton_next_pow2(n: int) -> int:
    return 1 << max(0, (int(n) - 1).bit_length())

"""Plain-torch emulation of the FP8 (e4m3) band attention: the exact quantisation of the kernel.

What the FP8 path quantises, and how (``kernels/_packed_triton.py`` is the kernel twin):

* scales are powers of two chosen from a block's absolute maximum ``amax``: ``2^e`` with
  ``amax * 2^-e`` in (224, 448] (:func:`pow2_exponent`), so scaling is exact and every cast is
  ``clamp(x * 2^-e, -448, 448).to(torch.float8_e4m3fn)`` (round to nearest even, saturating);
* q: per query tile (``tile_m`` head-order rows of one (b, h)), inside the attention kernel;
* k: per block of 128 rows of the packed copy (video keys in head order, zero rows up to a multiple
  of 128, the global keys, zero rows), after subtracting the per-(b, h) channel mean of k
  (``smooth_k``; the softmax of a row does not change when all its keys move by one vector);
* v: per (b, h, channel) (over all N tokens), after subtracting the per-(b, h) channel mean of v
  (``smooth_v``; added back to the output: the softmax weights of a row sum to one);
* p: the online softmax's ``p = 2^(s - m)`` against the RUNNING row max ``m``, quantised as
  ``448 * p``; so the emulation replays the kernel's order: band key tiles of ``tile_n`` keys from
  the band's start, then the global keys, tile by tile.  The row sum ``l`` uses the unquantised p.

Accumulation is float32 everywhere (the GPU's FP8 tensor cores add with less precision inside one
matrix instruction; the GPU tests measure how far that moves the result).  The functions here run on
any device (CPU included) and are what the CPU tests and CPU quality runs use for the FP8 path.
"""
from __future__ import annotations

import math
from typing import Optional

import torch

from .checks import check_key_bias, check_labels, check_layout

try:  # the pack: svg_attention is the sibling package (the one head order and dense-rows reference)
    from ..svg_attention.layout import VideoLayout, global_token_index, head_order
    from ..svg_attention.reference import global_rows_dense
except ImportError:  # kernels imported as a top-level package (bench/ scripts put the repository root on sys.path)
    from svg_attention.layout import VideoLayout, global_token_index, head_order
    from svg_attention.reference import global_rows_dense

QUANT_BLOCK = 128
DENSE_BLOCK = 128       # fp8_dense_attention: the band kernel over a full band of blocks of this size
P_SCALE = 448.0
LOG2_P_SCALE = math.log2(P_SCALE)
E4M3_MAX = 448.0

__all__ = ["pow2_exponent", "pow2", "to_e4m3", "perm32", "fp8_channel_stats", "packed_rows", "fp8_pack_reference",
           "fp8_quantize_tiles", "fp8_band_attention_emulation", "fp8_dense_attention_emulation", "QUANT_BLOCK",
           "DENSE_BLOCK", "P_SCALE"]


def pow2_exponent(amax: torch.Tensor) -> torch.Tensor:
    """int32 exponent e with amax * 2^-e in (224, 448]; 0 for zero/subnormal amax; clamped to
    [-126, 126].  Bit arithmetic on float32, exact (the kernel's ``_pow2_exponent``)."""
    bits = amax.to(torch.float32).contiguous().view(torch.int32)
    biased = (bits >> 23) & 0xFF
    mant = bits & 0x7FFFFF
    e = biased - 135 + (mant > 0x600000).to(torch.int32)
    e = torch.where(biased == 0, torch.zeros_like(e), e)
    return e.clamp(-126, 126)


def pow2(e: torch.Tensor) -> torch.Tensor:
    """2^e as float32 (exact) for int32 e in [-126, 127]."""
    return ((e.to(torch.int32) + 127) << 23).view(torch.float32)


def to_e4m3(x: torch.Tensor) -> torch.Tensor:
    """float32 -> float8_e4m3fn, round to nearest even, saturating at +-448 (the GPU's cvt.rn.satfinite)."""
    return x.to(torch.float32).clamp(-E4M3_MAX, E4M3_MAX).to(torch.float8_e4m3fn)


def fp8_channel_stats(k: torch.Tensor, v: torch.Tensor, smooth_k: bool, smooth_v: bool):
    """Per-(b, h) channel statistics of the quantisation (float32 [B, H, D] each):
    (k mean or None, v mean or None, absolute max of v - v mean (of v without smooth_v)).
    The launcher calls this too, so both sides use the same reductions (same ops on the same device:
    bitwise the same result).  max |v - mean| = max(vmax - mean, mean - vmin): float32 rounding is
    monotonic, so this equals the maximum over the elements exactly."""
    kmean = k.mean(dim=2, dtype=torch.float32) if smooth_k else None
    if smooth_v:
        vmean = v.mean(dim=2, dtype=torch.float32)
        vmin, vmax = torch.aminmax(v, dim=2)
        vabs = torch.maximum(vmax.to(torch.float32) - vmean, vmean - vmin.to(torch.float32))
    else:
        vmean = None
        vabs = torch.linalg.vector_norm(v, ord=float("inf"), dim=2).to(torch.float32)
    return kmean, vmean, vabs


def packed_rows(num_video: int, num_global: int):
    """(VP0, L): row of the first global key in the packed copy, and its row count (both multiples of 128)."""
    vp0 = -(-num_video // QUANT_BLOCK) * QUANT_BLOCK
    return vp0, vp0 + -(-num_global // QUANT_BLOCK) * QUANT_BLOCK


def _layout(video_start, num_frames, frame_tokens, N) -> VideoLayout:
    V = int(num_frames) * int(frame_tokens)
    return VideoLayout(int(num_frames), int(frame_tokens), int(video_start), N - int(video_start) - V)


def _packed_token_index(video_start, num_frames, frame_tokens, N, temporal: bool, device):
    """Token index of every packed row (int64 [L]) and whether the row holds a key (bool [L])."""
    layout = _layout(video_start, num_frames, frame_tokens, N)
    V, G = layout.video_tokens, layout.global_tokens
    vp0, L = packed_rows(V, G)
    tok = torch.zeros(L, dtype=torch.int64, device=device)
    ok = torch.zeros(L, dtype=torch.bool, device=device)
    tok[:V] = head_order(layout, temporal, device)
    ok[:V] = True
    tok[vp0:vp0 + G] = global_token_index(layout, device)
    ok[vp0:vp0 + G] = True
    return tok, ok


def perm32(index: torch.Tensor) -> torch.Tensor:
    """Column of key ``index`` in the value copy with PV_PERM (the kernel's ``_perm32``): inside each
    group of 32 keys, c = 16h + 8j + 2t + e goes to 16h + 4t + 2j + e."""
    c = index % 32
    return index - c + (c // 16) * 16 + ((c // 2) % 4) * 4 + ((c // 8) % 2) * 2 + c % 2


def fp8_pack_reference(k, v, temporal, *, video_start: int, num_frames: int, frame_tokens: int,
                       smooth_k: bool = True, smooth_v: bool = True, pv_perm: bool = False, qk8: bool = True):
    """What the FP8 pack kernel writes: (kp float8 [BH, L, D], vpt float8 [BH, D, L],
    ks float32 [BH, L // 128], vsc float32 [BH, D]) and the v mean float32 [B, H, D] or None.
    ``pv_perm``: the value columns in the kernel's PV_PERM order (:func:`perm32`).  ``qk8`` False
    (precision "fp8-pv"): kp holds K in its own dtype, unscaled (ks all ones)."""
    B, H, N, D = k.shape
    temporal = check_labels(temporal, B, H, k.device)
    kmean, vmean, vmax = fp8_channel_stats(k, v, smooth_k and qk8, smooth_v)
    V = num_frames * frame_tokens
    vp0, L = packed_rows(V, N - V)
    dev = k.device
    kp = torch.empty(B * H, L, D, dtype=torch.float8_e4m3fn if qk8 else k.dtype, device=dev)
    vpt = torch.empty(B * H, D, L, dtype=torch.float8_e4m3fn, device=dev)
    ks = torch.empty(B * H, L // QUANT_BLOCK, dtype=torch.float32, device=dev)
    vsc = torch.empty(B * H, D, dtype=torch.float32, device=dev)
    index = {t: _packed_token_index(video_start, num_frames, frame_tokens, N, t, dev) for t in (False, True)}
    for b in range(B):
        for h in range(H):
            bh = b * H + h
            tok, ok = index[bool(temporal[b, h])]
            if qk8:
                kf = k[b, h, tok].to(torch.float32)
                if smooth_k:
                    kf = kf - kmean[b, h][None, :]
                kf = torch.where(ok[:, None], kf, torch.zeros_like(kf))
                blocks = kf.view(L // QUANT_BLOCK, QUANT_BLOCK, D)
                e = pow2_exponent(blocks.abs().amax(dim=(1, 2)))
                ks[bh] = pow2(e)
                kp[bh] = to_e4m3(blocks * pow2(-e)[:, None, None]).view(L, D)
            else:
                kp[bh] = torch.where(ok[:, None], k[b, h, tok], torch.zeros((), dtype=k.dtype, device=dev))
                ks[bh] = 1.0
            ev = pow2_exponent(vmax[b, h])
            vsc[bh] = pow2(ev)
            vf = v[b, h, tok].to(torch.float32)
            if smooth_v:
                vf = vf - vmean[b, h][None, :]
            vf = torch.where(ok[:, None], vf, torch.zeros_like(vf))
            v8 = to_e4m3(vf * pow2(-ev)[None, :]).T
            if pv_perm:
                vpt[bh][:, perm32(torch.arange(L, device=dev))] = v8
            else:
                vpt[bh] = v8
    return kp, vpt, ks, vsc, vmean


def fp8_quantize_tiles(x: torch.Tensor, tile: int):
    """Per-tile quantisation of rows x [R, D] (R a multiple of tile): (x8 float8 [R, D], scale float32 [R // tile])."""
    R, D = x.shape
    t = x.to(torch.float32).view(R // tile, tile, D)
    e = pow2_exponent(t.abs().amax(dim=(1, 2)))
    return to_e4m3(t * pow2(-e)[:, None, None]).view(R, D), pow2(e)


def fp8_band_attention_emulation(q, k, v, temporal, *, video_start: int, num_frames: int, frame_tokens: int,
                                 band_width: int, block_size: int = 128, key_bias: Optional[torch.Tensor] = None,
                                 scale: Optional[float] = None, out: Optional[torch.Tensor] = None,
                                 tile_m: Optional[int] = None, tile_n: Optional[int] = None, smooth_k: bool = True,
                                 smooth_v: bool = True, qk8: bool = True) -> torch.Tensor:
    """The FP8 band kernel's result computed in torch (float32): the same packed quantised K/V
    (:func:`fp8_pack_reference`), q quantised per tile of ``tile_m`` head-order rows, the same
    online softmax over key tiles of ``tile_n`` with P quantised against the running max.

    ``tile_m`` / ``tile_n`` must be the kernel's BLOCK_M / BLOCK_N (``packed_config``; default
    ``min(128, block_size)``, the GPU kernel's default tiles for FP8 at head_dim 64 and 128); ``qk8`` False:
    precision "fp8-pv" (q and K unquantised, float32 scores).  Semantics of the other arguments as in
    :func:`kernels.band_attention`.  Writes the video rows of ``out``.
    """
    B, H, N, D = check_layout(q, k, v, video_start, num_frames, frame_tokens, block_size, band_width)
    key_bias = check_key_bias(key_bias, B, N, q.device)
    temporal = check_labels(temporal, B, H, q.device)
    BS = int(block_size)
    TM = min(QUANT_BLOCK, BS) if tile_m is None else int(tile_m)
    TN = min(QUANT_BLOCK, BS) if tile_n is None else int(tile_n)
    if BS % TM or BS % TN or QUANT_BLOCK % TN:
        raise ValueError(f"tile_m {TM} and tile_n {TN} must divide block_size {BS}; tile_n must divide {QUANT_BLOCK}")
    F, P = int(num_frames), int(frame_tokens)
    V = F * P
    G = N - V
    nb = -(-V // BS)
    w = min(int(band_width), nb)
    qk = (1.0 / math.sqrt(D) if scale is None else float(scale)) * 1.4426950408889634
    if out is None:
        out = torch.zeros_like(q)
    dev = q.device
    kp, vpt, ks, vsc, vmean = fp8_pack_reference(k, v, temporal, video_start=video_start, num_frames=F,
                                                 frame_tokens=P, smooth_k=smooth_k, smooth_v=smooth_v, qk8=qk8)
    vp0, L = packed_rows(V, G)
    nt = -(-V // TM)
    tiles = torch.arange(nt, device=dev)
    qb = (tiles * TM) // BS
    lo = (qb - w).clamp(min=0) * BS
    hi = ((qb + w + 1) * BS).clamp(max=V)
    steps = -(-(hi - lo) // TN)
    cols = torch.arange(TN, device=dev)
    layout = _layout(video_start, F, P, N)
    glob_tok = global_token_index(layout, dev)
    for b in range(B):
        for h in range(H):
            bh = b * H + h
            order = head_order(layout, bool(temporal[b, h]), dev)
            qh = torch.zeros(nt * TM, D, dtype=torch.float32, device=dev)
            qh[:V] = q[b, h, order].to(torch.float32)
            if qk8:
                q8, qs = fp8_quantize_tiles(qh, TM)
                qt = q8.to(torch.float32).view(nt, TM, D)
            else:
                qt, qs = qh.view(nt, TM, D), torch.ones(nt, device=dev)
            c = qk * qs                                            # [nt]
            kf = kp[bh].to(torch.float32)                          # [L, D]
            vf = vpt[bh].to(torch.float32).T                       # [L, D]
            m = torch.full((nt, TM), float("-inf"), device=dev)
            lsum = torch.zeros(nt, TM, device=dev)
            acc = torch.zeros(nt, TM, D, device=dev)

            def step(m, lsum, acc, idx, active, s_scaled_bias=None, cs=None, s=None):
                # s: raw scores [nt, TM, TN]; the kernel's update, only where active
                if s_scaled_bias is None:
                    m_new = torch.maximum(m, s.amax(dim=2) * cs[:, None])
                    t = s * cs[:, None, None] - (m_new - LOG2_P_SCALE)[:, :, None]
                else:
                    m_new = torch.maximum(m, s_scaled_bias.amax(dim=2))
                    t = s_scaled_bias - (m_new - LOG2_P_SCALE)[:, :, None]
                p = torch.exp2(t)
                alpha = torch.exp2(m - m_new)
                alpha = torch.where(torch.isnan(alpha), torch.zeros_like(alpha), alpha)
                p8 = to_e4m3(p).to(torch.float32)
                l_new = lsum * alpha + p.sum(dim=2)
                acc_new = acc * alpha[:, :, None] + torch.bmm(p8, vf[idx])
                a = active[:, None]
                return (torch.where(a, m_new, m), torch.where(a, l_new, lsum),
                        torch.where(a[:, :, None], acc_new, acc))

            for i in range(int(steps.max()) if nt else 0):
                active = i < steps
                n0 = torch.where(active, lo + i * TN, lo)
                idx = (n0[:, None] + cols[None, :]).clamp(max=L - 1)           # [nt, TN]
                s = torch.bmm(qt, kf[idx].transpose(1, 2))                       # [nt, TM, TN]
                s = torch.where((n0[:, None] + cols[None, :] < V)[:, None, :], s, torch.full_like(s, float("-inf")))
                cs = c * ks[bh, n0 // QUANT_BLOCK]
                m, lsum, acc = step(m, lsum, acc, idx, active, cs=cs, s=s)
            for g0 in range(0, G, TN):
                j = g0 + cols
                valid = j < G
                idx = (vp0 + j).clamp(max=L - 1)[None, :].expand(nt, TN)
                s = torch.bmm(qt, kf[idx].transpose(1, 2))
                cs = c * ks[bh, (vp0 + g0) // QUANT_BLOCK]
                if key_bias is not None:
                    kb = key_bias[b if key_bias.shape[0] > 1 else 0]
                    col = torch.where(valid, kb[glob_tok[j.clamp(max=G - 1)]] * 1.4426950408889634,
                                      torch.full_like(j, float("-inf"), dtype=torch.float32))
                else:
                    col = torch.where(valid, torch.zeros(TN, device=dev), torch.full((TN,), float("-inf"), device=dev))
                sb = s * cs[:, None, None] + col[None, None, :]
                m, lsum, acc = step(m, lsum, acc, idx, torch.ones(nt, dtype=torch.bool, device=dev),
                                    s_scaled_bias=sb)
            res = acc * (1.0 / lsum)[:, :, None] * vsc[bh][None, None, :]
            if smooth_v:
                res = res + vmean[b, h][None, None, :]
            out[b, h, order] = res.reshape(nt * TM, D)[:V].to(out.dtype)
    return out


def fp8_dense_attention_emulation(q, k, v, *, video_start: int = 0, num_frames: Optional[int] = None,
                                  frame_tokens: Optional[int] = None, key_bias: Optional[torch.Tensor] = None,
                                  scale: Optional[float] = None, out: Optional[torch.Tensor] = None,
                                  qk8: bool = True) -> torch.Tensor:
    """What ``packed_attention.fp8_dense_attention`` computes, in torch: the video rows through
    :func:`fp8_band_attention_emulation` over a full band (blocks of ``DENSE_BLOCK``, frame-major),
    the global rows dense and unquantised (``global_rows_dense``, the reference of the kernel's
    ``global_rows_attention``).  All rows of ``out`` are written."""
    B, H, N, D = q.shape
    if num_frames is None:
        if key_bias is not None or video_start:
            raise ValueError("fp8_dense_attention_emulation: key_bias / video_start need a layout")
        num_frames, frame_tokens = 1, N
    V = int(num_frames) * int(frame_tokens)
    out = torch.empty_like(q) if out is None else out
    fp8_band_attention_emulation(q, k, v, False, video_start=video_start, num_frames=num_frames,
                                 frame_tokens=frame_tokens, band_width=-(-V // DENSE_BLOCK), block_size=DENSE_BLOCK,
                                 key_bias=key_bias, scale=scale, out=out, qk8=qk8)
    if N > V:
        global_rows_dense(q, k, v, _layout(video_start, num_frames, frame_tokens, N), key_bias=key_bias,
                          scale=scale, out=out)
    return out

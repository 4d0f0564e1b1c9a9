"""Triton kernels of the packed band attention: bf16/fp16 or FP8 (e4m3) operands.

Loaded through ``kernels._jit.load``; do not import directly.  Spec, launcher and variants:
``kernels/packed_attention.py``; the torch emulation of the FP8 path: ``kernels/fp8_emulation.py``.

Packed copy of the keys and values of one (b, h), ``L`` rows: the video keys in the head's order
(rows [0, V)), zero rows up to ``VP0`` (V rounded up to 128), the global keys (prefix tokens then
suffix tokens, rows [VP0, VP0 + G)), zero rows up to L (a multiple of 128).  Every key tile of the
attention kernel is then a plain row range of one contiguous [L, D] matrix (TMA-friendly, globals
included).  FP8: K rows are quantised per block of 128 rows with a power-of-two scale (after
subtracting the per-(b, h) channel mean of K when SMOOTH_K: softmax does not change when every key
of a row moves by the same vector), V per channel with a power-of-two scale (after subtracting its
per-(b, h) channel mean when SMOOTH_V; added back to the output, whose weights sum to one) and
stored transposed ([D, L], the K-major layout Hopper's FP8 wgmma needs for its B operand); q is
quantised inside the attention kernel per query tile; P is quantised with the fixed scale 448
(p <= 1 against the running row max), folded into the exponent.  All casts round to nearest even
and saturate at +-448.  QK8=False (precision "fp8-pv"): q and K stay in the input dtype, only P and V
are FP8 (half the matmul work in FP8, the scores exact).
"""
import triton
import triton.language as tl

from ._band_triton import _video_token

QUANT_BLOCK = 128          # rows per K scale (and the padding unit of the packed copies)
LOG2_P_SCALE = tl.constexpr(8.807354922057604)   # log2(448): P is quantised as 448 * p, p <= 1


@triton.jit
def _pow2_exponent(amax):
    """Exponent e (int32) of the power-of-two scale of a block with absolute maximum ``amax``:
    amax * 2^-e lies in (224, 448] (the top binade of e4m3); e = 0 for a zero or subnormal amax;
    clamped to [-126, 126].  Integer arithmetic on the float's bits: exact everywhere."""
    bits = amax.to(tl.int32, bitcast=True)
    biased = (bits >> 23) & 0xFF
    mant = bits & 0x7FFFFF
    e = biased - 135 + (mant > 0x600000).to(tl.int32)
    e = tl.where(biased == 0, 0, e)
    return tl.minimum(tl.maximum(e, -126), 126)


@triton.jit
def _pow2(e):
    """2^e as float32 for int32 e in [-126, 127] (exact)."""
    return ((e + 127) << 23).to(tl.float32, bitcast=True)


@triton.jit
def _to_e4m3(x, EMU_RNE: tl.constexpr):
    """float32 -> float8e4nv, round to nearest even, saturating at +-448 (the GPU's
    cvt.rn.satfinite).  EMU_RNE (Triton's CPU interpreter, whose own fp8 cast truncates and
    mis-rounds): clamp and round on the e4m3 grid in float32 first, then the cast is exact."""
    if EMU_RNE:
        bits = x.to(tl.int32, bitcast=True)
        a = tl.minimum(tl.abs(x), 448.0)
        biased = (a.to(tl.int32, bitcast=True) >> 23) & 0xFF
        step = tl.maximum(biased - 127, -6) - 3                 # log2 of the e4m3 spacing at |x|
        magic = ((step + 150) << 23).to(tl.float32, bitcast=True) * 1.5
        a = (a + magic) - magic                                 # float32 adds round to nearest even
        x = tl.where(bits < 0, -a, a)                           # the sign survives rounding to zero
    return x.to(tl.float8e4nv)


@triton.jit
def _perm32(r):
    """Position of key r in the FP8 value copy with PV_PERM.  Inside each group of 32 keys, key
    c = 16h + 8j + 2t + e (the columns thread t of a quad holds in Hopper's wgmma accumulator) goes
    to position 16h + 4t + 2j + e (the k slots the same thread holds in the FP8 A-operand register
    layout), so P feeds the P @ V product without moving data between threads; the kernel applies
    the same permutation to P's columns (a free reshape/permute).  The product is unchanged."""
    c = r % 32
    h = c // 16
    j = (c // 8) % 2
    t = (c // 2) % 4
    e = c % 2
    return r - c + h * 16 + t * 4 + j * 2 + e


# ------------------------------------------------------------------------------------------------
# pack: head-ordered (+ globals) copies of K and V, optionally quantised
# ------------------------------------------------------------------------------------------------
@triton.jit(do_not_specialize=["H", "VS", "F", "P", "V", "G", "VP0", "L"])
def pack_kernel(K, V_, KP, VP, KS, VSC, KMEAN, VMEAN, VMAX, TEMPORAL,
                stride_kb, stride_kh, stride_kn,
                stride_vb, stride_vh, stride_vn,
                H, VS, F, P, V, G, VP0, L,
                BLOCK: tl.constexpr, HEAD_DIM: tl.constexpr, FP8: tl.constexpr, SMOOTH_K: tl.constexpr,
                SMOOTH_V: tl.constexpr, EMU_RNE: tl.constexpr, PV_PERM: tl.constexpr = False,
                QK8: tl.constexpr = True):
    """Program (row block, b*H + h): rows [blk*BLOCK, (blk+1)*BLOCK) of the packed copies.
    bf16/fp16: KP, VP [BH, L, D] in the input dtype.  FP8: KP [BH, L, D] and VP [BH, D, L]
    (transposed) float8e4nv (QK8=False: KP in the input dtype, only V quantised), KS [BH, L // BLOCK]
    float32 K scales, VSC [BH, D] float32 V scales
    (from VMAX [BH, D], the channel absolute maxima of V - VMEAN), KMEAN / VMEAN [BH, D]
    (SMOOTH_K / SMOOTH_V: subtracted before quantising)."""
    blk = tl.program_id(0)
    bh = tl.program_id(1)
    b = bh // H
    h = bh % H
    is_t = tl.load(TEMPORAL + bh) != 0
    r = blk * BLOCK + tl.arange(0, BLOCK)
    d = tl.arange(0, HEAD_DIM)
    vid = r < V
    j = r - VP0
    glob = (j >= 0) & (j < G)
    ok = vid | glob
    gtok = tl.where(j < VS, j, j + V).to(tl.int64)
    tok = tl.where(vid, _video_token(r, is_t, F, P, VS), gtok)
    tok = tl.where(ok, tok, 0)
    k = tl.load(K + b.to(tl.int64) * stride_kb + h.to(tl.int64) * stride_kh + tok[:, None] * stride_kn + d[None, :],
                mask=ok[:, None], other=0.0)
    v = tl.load(V_ + b.to(tl.int64) * stride_vb + h.to(tl.int64) * stride_vh + tok[:, None] * stride_vn + d[None, :],
                mask=ok[:, None], other=0.0)
    row = bh.to(tl.int64) * L + r.to(tl.int64)
    if FP8 and QK8:
        kf = k.to(tl.float32)
        if SMOOTH_K:
            kf = kf - tl.load(KMEAN + bh * HEAD_DIM + d)[None, :]
        kf = tl.where(ok[:, None], kf, 0.0)
        ek = _pow2_exponent(tl.max(tl.max(tl.abs(kf), 1), 0))
        tl.store(KS + bh * (L // BLOCK) + blk, _pow2(ek))
        tl.store(KP + row[:, None] * HEAD_DIM + d[None, :], _to_e4m3(kf * _pow2(-ek), EMU_RNE))
    else:
        tl.store(KP + row[:, None] * HEAD_DIM + d[None, :], k)
        if FP8:
            tl.store(KS + bh * (L // BLOCK) + blk, 1.0)
    if FP8:
        ev = _pow2_exponent(tl.load(VMAX + bh * HEAD_DIM + d))
        if blk == 0:
            tl.store(VSC + bh * HEAD_DIM + d, _pow2(ev))
        vf = v.to(tl.float32)
        if SMOOTH_V:
            vf = tl.where(ok[:, None], vf - tl.load(VMEAN + bh * HEAD_DIM + d)[None, :], 0.0)
        v8 = _to_e4m3(vf * _pow2(-ev)[None, :], EMU_RNE)
        rv = r
        if PV_PERM:
            rv = _perm32(r)
        vt = (bh * HEAD_DIM + d).to(tl.int64)[None, :] * L + rv.to(tl.int64)[:, None]
        tl.store(VP + vt, v8)
    else:
        tl.store(VP + row[:, None] * HEAD_DIM + d[None, :], v)


# ------------------------------------------------------------------------------------------------
# attention over the packed copies
# ------------------------------------------------------------------------------------------------
@triton.jit
def _load_k(KP, K_DESC, bh, L, n0, BLOCK_N: tl.constexpr, HEAD_DIM: tl.constexpr, TMA: tl.constexpr):
    if TMA:
        k = K_DESC.load([bh * L + n0, 0])
    else:
        n = (bh.to(tl.int64) * L + n0 + tl.arange(0, BLOCK_N))
        k = tl.load(KP + n[:, None] * HEAD_DIM + tl.arange(0, HEAD_DIM)[None, :])
    return k


@triton.jit
def _load_v(VP, V_DESC, bh, L, n0, BLOCK_N: tl.constexpr, HEAD_DIM: tl.constexpr, TMA: tl.constexpr,
            FP8: tl.constexpr):
    """[BLOCK_N, D] value tile (FP8: read from the transposed [D, L] copy)."""
    if FP8:
        if TMA:
            v = tl.trans(V_DESC.load([bh * HEAD_DIM, n0]))
        else:
            d = (bh * HEAD_DIM + tl.arange(0, HEAD_DIM)).to(tl.int64)
            n = n0 + tl.arange(0, BLOCK_N)
            v = tl.load(VP + d[None, :] * L + n[:, None])
    else:
        if TMA:
            v = V_DESC.load([bh * L + n0, 0])
        else:
            n = (bh.to(tl.int64) * L + n0 + tl.arange(0, BLOCK_N))
            v = tl.load(VP + n[:, None] * HEAD_DIM + tl.arange(0, HEAD_DIM)[None, :])
    return v


@triton.jit
def _softmax_pv(acc, l_i, m_i, s, v, c, col_bias, n0, valid_end,
                BLOCK_N: tl.constexpr, MODE: tl.constexpr, FP8: tl.constexpr, PV_SPLIT: tl.constexpr,
                EMU_RNE: tl.constexpr, PREC: tl.constexpr, PV_PERM: tl.constexpr):
    """One online-softmax step on raw scores s = q . k (log2 domain after scaling by c).

    MODE 0: every column valid (the main loop: no masking code at all); 1: the ragged end of the
    video, columns at and past valid_end masked; 2: global keys, s * c + col_bias (the key bias, and
    -inf for padding columns).  FP8: p is computed as 448 * p (the offset log2(448) folded into the
    exponent) and cast to e4m3.
    """
    if MODE == 2:
        s = s * c + col_bias[None, :]
        m_new = tl.maximum(m_i, tl.max(s, 1))
        off = m_new
        if FP8:
            off = m_new - LOG2_P_SCALE
        s = s - off[:, None]
    else:
        if MODE == 1:
            s = tl.where((n0 + tl.arange(0, BLOCK_N))[None, :] < valid_end, s, float("-inf"))
        m_new = tl.maximum(m_i, tl.max(s, 1) * c)
        off = m_new
        if FP8:
            off = m_new - LOG2_P_SCALE
        s = s * c - off[:, None]
    p = tl.math.exp2(s)
    alpha = tl.math.exp2(m_i - m_new)
    l_i = l_i * alpha + tl.sum(p, 1)
    if FP8:
        pq = _to_e4m3(p, EMU_RNE)
        if PV_PERM:   # key order of the FP8 A operand: see _perm32; V's rows are stored in this order
            pq = tl.permute(pq.reshape([pq.shape[0], BLOCK_N // 32, 2, 2, 4, 2]), (0, 1, 2, 4, 3, 5)).reshape(
                [pq.shape[0], BLOCK_N])
    else:
        pq = p.to(v.dtype)
    if PV_SPLIT:
        acc = acc * alpha[:, None] + tl.dot(pq, v, input_precision=PREC)
    else:
        acc = tl.dot(pq, v, acc * alpha[:, None], input_precision=PREC)
    return acc, l_i, m_new


@triton.jit
def _k_scale(c, KS, bh, NKB, n0, QK8: tl.constexpr, QBLOCK: tl.constexpr):
    if QK8:
        return c * tl.load(KS + bh * NKB + n0 // QBLOCK)
    else:
        return c


@triton.jit
def _band_loop(acc, l_i, m_i, q, c, KP, VP, KS, K_DESC, V_DESC, bh, L, NKB, start, stop, valid_end,
               BLOCK_N: tl.constexpr, HEAD_DIM: tl.constexpr, FP8: tl.constexpr, TMA: tl.constexpr,
               PREFETCH: tl.constexpr, PV_SPLIT: tl.constexpr, EMU_RNE: tl.constexpr, PREC: tl.constexpr,
               QBLOCK: tl.constexpr, PV_PERM: tl.constexpr, QK8: tl.constexpr):
    """Key tiles [start, stop) (step BLOCK_N, start aligned, stop > start) of the packed copy: the
    full tiles in one unmasked loop, then the ragged last tile (columns at and past valid_end masked)
    if there is one.  PREFETCH: the scores of the next tile are computed before the softmax of the
    current one (an attempt at overlapping the two matmuls with the softmax)."""
    full_end = start + ((stop - start) // BLOCK_N) * BLOCK_N
    if PREFETCH:
        if full_end > start:
            last = full_end - BLOCK_N
            k = _load_k(KP, K_DESC, bh, L, start, BLOCK_N, HEAD_DIM, TMA)
            s = tl.dot(q, tl.trans(k), input_precision=PREC)
            cs = _k_scale(c, KS, bh, NKB, start, QK8, QBLOCK)
            for n0 in range(start, last, BLOCK_N):
                k_next = _load_k(KP, K_DESC, bh, L, n0 + BLOCK_N, BLOCK_N, HEAD_DIM, TMA)
                s_next = tl.dot(q, tl.trans(k_next), input_precision=PREC)
                cs_next = _k_scale(c, KS, bh, NKB, n0 + BLOCK_N, QK8, QBLOCK)
                v = _load_v(VP, V_DESC, bh, L, n0, BLOCK_N, HEAD_DIM, TMA, FP8)
                acc, l_i, m_i = _softmax_pv(acc, l_i, m_i, s, v, cs, None, n0, valid_end,
                                            BLOCK_N, 0, FP8, PV_SPLIT, EMU_RNE, PREC, PV_PERM)
                s = s_next
                cs = cs_next
            v = _load_v(VP, V_DESC, bh, L, last, BLOCK_N, HEAD_DIM, TMA, FP8)
            acc, l_i, m_i = _softmax_pv(acc, l_i, m_i, s, v, cs, None, last, valid_end,
                                        BLOCK_N, 0, FP8, PV_SPLIT, EMU_RNE, PREC, PV_PERM)
    else:
        # the K scale of each tile is loaded one tile ahead (a dependent scalar load)
        cs_next = _k_scale(c, KS, bh, NKB, start, QK8, QBLOCK)
        for n0 in range(start, full_end, BLOCK_N):
            cs = cs_next
            cs_next = _k_scale(c, KS, bh, NKB, tl.minimum(n0 + BLOCK_N, stop - 1), QK8, QBLOCK)
            k = _load_k(KP, K_DESC, bh, L, n0, BLOCK_N, HEAD_DIM, TMA)
            s = tl.dot(q, tl.trans(k), input_precision=PREC)
            v = _load_v(VP, V_DESC, bh, L, n0, BLOCK_N, HEAD_DIM, TMA, FP8)
            acc, l_i, m_i = _softmax_pv(acc, l_i, m_i, s, v, cs, None, n0, valid_end,
                                        BLOCK_N, 0, FP8, PV_SPLIT, EMU_RNE, PREC, PV_PERM)
    if full_end < stop:
        k = _load_k(KP, K_DESC, bh, L, full_end, BLOCK_N, HEAD_DIM, TMA)
        s = tl.dot(q, tl.trans(k), input_precision=PREC)
        v = _load_v(VP, V_DESC, bh, L, full_end, BLOCK_N, HEAD_DIM, TMA, FP8)
        acc, l_i, m_i = _softmax_pv(acc, l_i, m_i, s, v, _k_scale(c, KS, bh, NKB, full_end, QK8, QBLOCK), None,
                                    full_end, valid_end, BLOCK_N, 1, FP8, PV_SPLIT, EMU_RNE, PREC, PV_PERM)
    return acc, l_i, m_i


@triton.jit
def _global_loop(acc, l_i, m_i, q, c, KP, VP, KS, K_DESC, V_DESC, BIAS, bh, b, L, NKB, VS, V, G, VP0,
                 stride_biasb,
                 BLOCK_N: tl.constexpr, HEAD_DIM: tl.constexpr, FP8: tl.constexpr, TMA: tl.constexpr,
                 HAS_BIAS: tl.constexpr, PV_SPLIT: tl.constexpr, EMU_RNE: tl.constexpr, PREC: tl.constexpr,
                 QBLOCK: tl.constexpr, PV_PERM: tl.constexpr, QK8: tl.constexpr):
    """The G global keys (packed rows [VP0, VP0 + G)), with the key bias."""
    for g0 in range(0, G, BLOCK_N):
        j = g0 + tl.arange(0, BLOCK_N)
        valid = j < G
        if HAS_BIAS:
            tok = tl.where(j < VS, j, j + V).to(tl.int64)
            col_bias = tl.load(BIAS + b.to(tl.int64) * stride_biasb + tok, mask=valid,
                               other=float("-inf")) * 1.4426950408889634
        else:
            col_bias = tl.where(valid, 0.0, float("-inf"))
        k = _load_k(KP, K_DESC, bh, L, VP0 + g0, BLOCK_N, HEAD_DIM, TMA)
        s = tl.dot(q, tl.trans(k), input_precision=PREC)
        cs = _k_scale(c, KS, bh, NKB, VP0 + g0, QK8, QBLOCK)
        v = _load_v(VP, V_DESC, bh, L, VP0 + g0, BLOCK_N, HEAD_DIM, TMA, FP8)
        acc, l_i, m_i = _softmax_pv(acc, l_i, m_i, s, v, cs, col_bias, g0, G,
                                    BLOCK_N, 2, FP8, PV_SPLIT, EMU_RNE, PREC, PV_PERM)
    return acc, l_i, m_i


@triton.jit
def _attend_tile(Q, O, TEMPORAL, KP, VP, KS, VSC, VMEAN, BIAS, K_DESC, V_DESC, bh, tile,
                 stride_qb, stride_qh, stride_qn, stride_ob, stride_oh, stride_on, stride_biasb,
                 H, VS, F, P, V, G, VP0, L, W, qk_scale,
                 BS: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, HEAD_DIM: tl.constexpr,
                 FP8: tl.constexpr, HAS_BIAS: tl.constexpr, TMA: tl.constexpr, PREFETCH: tl.constexpr,
                 PV_SPLIT: tl.constexpr, EMU_RNE: tl.constexpr, PREC: tl.constexpr, QBLOCK: tl.constexpr,
                 SMOOTH_V: tl.constexpr, PV_PERM: tl.constexpr, QK8: tl.constexpr):
    b = bh // H
    h = bh % H
    is_t = tl.load(TEMPORAL + bh) != 0
    offs_d = tl.arange(0, HEAD_DIM)
    u = tile * BLOCK_M + tl.arange(0, BLOCK_M)
    row_ok = u < V
    q_tok = _video_token(u, is_t, F, P, VS)
    q = tl.load(Q + b.to(tl.int64) * stride_qb + h.to(tl.int64) * stride_qh + q_tok[:, None] * stride_qn
                + offs_d[None, :], mask=row_ok[:, None], other=0.0)
    if QK8:   # per query tile power-of-two scale
        qf = q.to(tl.float32)
        eq = _pow2_exponent(tl.max(tl.max(tl.abs(qf), 1), 0))
        q = _to_e4m3(qf * _pow2(-eq), EMU_RNE)
        c = qk_scale * _pow2(eq)
    else:
        c = qk_scale
    m_i = tl.full([BLOCK_M], float("-inf"), tl.float32)
    l_i = tl.zeros([BLOCK_M], tl.float32)
    acc = tl.zeros([BLOCK_M, HEAD_DIM], tl.float32)
    NKB = L // QBLOCK
    qb = (tile * BLOCK_M) // BS
    lo = tl.maximum(qb - W, 0) * BS
    hi = tl.minimum((qb + W + 1) * BS, V)
    acc, l_i, m_i = _band_loop(acc, l_i, m_i, q, c, KP, VP, KS, K_DESC, V_DESC, bh, L, NKB, lo, hi, V,
                               BLOCK_N, HEAD_DIM, FP8, TMA, PREFETCH, PV_SPLIT, EMU_RNE, PREC, QBLOCK, PV_PERM,
                               QK8)
    if G > 0:
        acc, l_i, m_i = _global_loop(acc, l_i, m_i, q, c, KP, VP, KS, K_DESC, V_DESC, BIAS, bh, b, L, NKB,
                                     VS, V, G, VP0, stride_biasb,
                                     BLOCK_N, HEAD_DIM, FP8, TMA, HAS_BIAS, PV_SPLIT, EMU_RNE, PREC, QBLOCK, PV_PERM,
                                     QK8)
    inv_l = 1.0 / l_i
    out = acc * inv_l[:, None]
    if FP8:
        out = out * tl.load(VSC + bh * HEAD_DIM + offs_d)[None, :]
        if SMOOTH_V:
            out = out + tl.load(VMEAN + bh * HEAD_DIM + offs_d)[None, :]
    tl.store(O + b.to(tl.int64) * stride_ob + h.to(tl.int64) * stride_oh + q_tok[:, None] * stride_on
             + offs_d[None, :], out.to(O.dtype.element_ty), mask=row_ok[:, None])


@triton.jit(do_not_specialize=["H", "VS", "F", "P", "V", "G", "VP0", "L", "W", "n_tiles", "n_work"])
def packed_band_kernel(
        Q, O, TEMPORAL, ORDER, KP, VP, KS, VSC, VMEAN, BIAS,
        stride_qb, stride_qh, stride_qn,
        stride_ob, stride_oh, stride_on,
        stride_biasb,
        H, VS, F, P, V, G, VP0, L, W, n_tiles, n_work, qk_scale,
        BS: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, HEAD_DIM: tl.constexpr,
        FP8: tl.constexpr, HAS_BIAS: tl.constexpr, PREC: tl.constexpr,
        K_DESC=None, V_DESC=None, TMA: tl.constexpr = False, PERSIST: tl.constexpr = False,
        FLATTEN: tl.constexpr = False, PREFETCH: tl.constexpr = False, PV_SPLIT: tl.constexpr = False,
        EMU_RNE: tl.constexpr = False, QBLOCK: tl.constexpr = 128, SMOOTH_V: tl.constexpr = False,
        PV_PERM: tl.constexpr = False, QK8: tl.constexpr = False):
    """Band (+ global keys) attention of BLOCK_M head-order video query rows of one (b, h) over the
    packed copies.  Work item w in [0, n_work = B*H*n_tiles): bh = w // n_tiles, tile =
    ORDER[w % n_tiles] (tiles longest band first inside each head).  Grid: (n_tiles, B*H), one
    item per program, or PERSIST: a 1-D grid looping over items w = pid, pid + nprog, ...
    Requirements as for band_fwd_kernel (BLOCK_M <= BS, BS % BLOCK_M == 0, BS % BLOCK_N == 0) and
    BLOCK_N <= QBLOCK (a key tile lies inside one K scale block)."""
    if PERSIST:
        pid = tl.program_id(0)
        nprog = tl.num_programs(0)
        for w in tl.range(pid, n_work, nprog, flatten=FLATTEN):
            bh = w // n_tiles
            tile = tl.load(ORDER + (w % n_tiles))
            _attend_tile(Q, O, TEMPORAL, KP, VP, KS, VSC, VMEAN, BIAS, K_DESC, V_DESC, bh, tile,
                         stride_qb, stride_qh, stride_qn, stride_ob, stride_oh, stride_on, stride_biasb,
                         H, VS, F, P, V, G, VP0, L, W, qk_scale,
                         BS, BLOCK_M, BLOCK_N, HEAD_DIM, FP8, HAS_BIAS, TMA, PREFETCH, PV_SPLIT, EMU_RNE, PREC,
                         QBLOCK, SMOOTH_V, PV_PERM, QK8)
    else:
        tile = tl.load(ORDER + tl.program_id(0))
        bh = tl.program_id(1)
        _attend_tile(Q, O, TEMPORAL, KP, VP, KS, VSC, VMEAN, BIAS, K_DESC, V_DESC, bh, tile,
                     stride_qb, stride_qh, stride_qn, stride_ob, stride_oh, stride_on, stride_biasb,
                     H, VS, F, P, V, G, VP0, L, W, qk_scale,
                     BS, BLOCK_M, BLOCK_N, HEAD_DIM, FP8, HAS_BIAS, TMA, PREFETCH, PV_SPLIT, EMU_RNE, PREC,
                     QBLOCK, SMOOTH_V, PV_PERM, QK8)

"""Triton kernel of the SVG head profiler (three online softmaxes in one pass over the keys).

Loaded through ``kernels._jit.load``; do not import directly.  See ``kernels/profile.py``.
"""
import triton
import triton.language as tl


@triton.jit
def _position_major(x, F, P):
    # frame-major video index f*P + p -> position-major p*F + f: the in-kernel twin of
    # svg_attention.layout.temporal_from_spatial
    return (x % P) * F + x // P


@triton.jit
def _online_update(m, l, acc, s, v, PREC: tl.constexpr):
    # s: [R, BLOCK_N] log2-domain scores, -inf where masked (whole rows may be -inf)
    m_new = tl.maximum(m, tl.max(s, 1))
    m_use = tl.where(m_new == float("-inf"), 0.0, m_new)
    p = tl.math.exp2(s - m_use[:, None])
    alpha = tl.math.exp2(m - m_use)
    l = l * alpha + tl.sum(p, 1)
    acc = acc * alpha[:, None]
    acc = tl.dot(p.to(v.dtype), v, acc, input_precision=PREC)
    return m_new, l, acc


@triton.jit(do_not_specialize=["H", "N", "VS", "F", "P", "V", "R", "W", "CHUNK", "S"])
def profile_kernel(
        Q, K, V_, ROWS, BIAS, MP, LP, AP,
        stride_qb, stride_qh, stride_qn,
        stride_kb, stride_kh, stride_kn,
        stride_vb, stride_vh, stride_vn,
        stride_biasb,
        H, N, VS, F, P, V, R, RP, W, CHUNK, S, qk_scale,
        BS: tl.constexpr, BLOCK_R: tl.constexpr, BLOCK_N: tl.constexpr, HEAD_DIM: tl.constexpr,
        HAS_BIAS: tl.constexpr, PREC: tl.constexpr, EXACT_ONLY: tl.constexpr = False):
    """Program (bh, split, row block): partial softmax states of BLOCK_R sampled rows over the
    keys [split*CHUNK, min(N, (split+1)*CHUNK)) for the exact (0), spatial (1) and temporal (2)
    patterns.  Writes MP/LP [BH, S, NP, RP] (log2 max, sum) and AP [BH, S, NP, RP, D], NP = 3.
    EXACT_ONLY: NP = 1, only the exact softmax, and ROWS holds token indices (the caller's dense
    global query rows, split over the keys flash-decoding style)."""
    bh = tl.program_id(0)
    sp = tl.program_id(1)
    rb = tl.program_id(2)
    b = bh // H
    h = bh % H
    q_base = Q + b.to(tl.int64) * stride_qb + h.to(tl.int64) * stride_qh
    k_base = K + b.to(tl.int64) * stride_kb + h.to(tl.int64) * stride_kh
    v_base = V_ + b.to(tl.int64) * stride_vb + h.to(tl.int64) * stride_vh
    bias_base = BIAS + b.to(tl.int64) * stride_biasb

    offs_d = tl.arange(0, HEAD_DIM)
    r = rb * BLOCK_R + tl.arange(0, BLOCK_R)
    r_ok = r < R
    u = tl.load(ROWS + r, mask=r_ok, other=0)
    if EXACT_ONLY:
        q_tok = u.to(tl.int64)
    else:
        q_tok = (u + VS).to(tl.int64)
    q = tl.load(q_base + q_tok[:, None] * stride_qn + offs_d[None, :], mask=r_ok[:, None], other=0.0)
    qs = u // BS                          # spatial pattern block of the row
    qt = _position_major(u, F, P) // BS   # temporal pattern block of the row

    m_e = tl.full([BLOCK_R], float("-inf"), tl.float32)
    l_e = tl.zeros([BLOCK_R], tl.float32)
    a_e = tl.zeros([BLOCK_R, HEAD_DIM], tl.float32)
    m_s = tl.full([BLOCK_R], float("-inf"), tl.float32)
    l_s = tl.zeros([BLOCK_R], tl.float32)
    a_s = tl.zeros([BLOCK_R, HEAD_DIM], tl.float32)
    m_t = tl.full([BLOCK_R], float("-inf"), tl.float32)
    l_t = tl.zeros([BLOCK_R], tl.float32)
    a_t = tl.zeros([BLOCK_R, HEAD_DIM], tl.float32)

    c0 = sp * CHUNK
    c1 = tl.minimum(N, c0 + CHUNK)
    for n0 in range(c0, c1, BLOCK_N):
        tok = n0 + tl.arange(0, BLOCK_N)
        valid = tok < c1
        tok64 = tok.to(tl.int64)
        k = tl.load(k_base + tok64[:, None] * stride_kn + offs_d[None, :], mask=valid[:, None], other=0.0)
        v = tl.load(v_base + tok64[:, None] * stride_vn + offs_d[None, :], mask=valid[:, None], other=0.0)
        s = tl.dot(q, tl.trans(k), input_precision=PREC) * qk_scale
        uv = tok - VS
        is_vid = (uv >= 0) & (uv < V)
        if HAS_BIAS:
            bias = tl.load(bias_base + tok64, mask=valid & (~is_vid), other=0.0) * 1.4426950408889634
            s = s + bias[None, :]
        s = tl.where(valid[None, :], s, float("-inf"))
        m_e, l_e, a_e = _online_update(m_e, l_e, a_e, s, v, PREC)
        if not EXACT_ONLY:
            uvc = tl.where(is_vid, uv, 0)
            ks = uvc // BS
            kt = _position_major(uvc, F, P) // BS
            glob = (~is_vid)[None, :]
            keep_s = glob | (tl.abs(qs[:, None] - ks[None, :]) <= W)
            keep_t = glob | (tl.abs(qt[:, None] - kt[None, :]) <= W)
            m_s, l_s, a_s = _online_update(m_s, l_s, a_s, tl.where(keep_s, s, float("-inf")), v, PREC)
            m_t, l_t, a_t = _online_update(m_t, l_t, a_t, tl.where(keep_t, s, float("-inf")), v, PREC)

    if EXACT_ONLY:
        base = bh * S + sp
    else:
        base = (bh * S + sp) * 3
    rr = rb * BLOCK_R + tl.arange(0, BLOCK_R)
    ao = rr.to(tl.int64)[:, None] * HEAD_DIM + offs_d[None, :]
    tl.store(MP + base * RP + rr, m_e)
    tl.store(LP + base * RP + rr, l_e)
    tl.store(AP + (base * RP).to(tl.int64) * HEAD_DIM + ao, a_e)
    if not EXACT_ONLY:
        tl.store(MP + (base + 1) * RP + rr, m_s)
        tl.store(MP + (base + 2) * RP + rr, m_t)
        tl.store(LP + (base + 1) * RP + rr, l_s)
        tl.store(LP + (base + 2) * RP + rr, l_t)
        tl.store(AP + ((base + 1) * RP).to(tl.int64) * HEAD_DIM + ao, a_s)
        tl.store(AP + ((base + 2) * RP).to(tl.int64) * HEAD_DIM + ao, a_t)


# ------------------------------------------------------------------------------------------------
# shared-max profiler: one running max and one exp2 per score for all three softmaxes, partial
# states merged and reduced to the two errors by a second small kernel (no torch merge)
# ------------------------------------------------------------------------------------------------
@triton.jit(do_not_specialize=["H", "N", "VS", "F", "P", "V", "R", "RP", "W", "CHUNK", "S"])
def profile_shared_kernel(
        Q, K, V_, ROWS, BIAS, PM, PL, PA,
        stride_qb, stride_qh, stride_qn,
        stride_kb, stride_kh, stride_kn,
        stride_vb, stride_vh, stride_vn,
        stride_biasb,
        H, N, VS, F, P, V, R, RP, W, CHUNK, S, qk_scale,
        BS: tl.constexpr, BLOCK_R: tl.constexpr, BLOCK_N: tl.constexpr, HEAD_DIM: tl.constexpr,
        HAS_BIAS: tl.constexpr, PREC: tl.constexpr):
    """Program (bh, split, row block): like profile_kernel, but the exact, spatial and temporal
    softmaxes of a row share the exact running max (the patterns keep subsets of the keys, so their
    maxima are never larger): one exp2 per score instead of three, one rescale.  A pattern whose
    keys carry less than 2^-126 of a row's exact softmax mass gets a zero sum (profile_merge_kernel
    then takes its output as 0).  Writes PM [BH, S, RP] (log2 max), PL [BH, S, 3, RP] (sums) and
    PA [BH, S, 3, RP, D] (unnormalised outputs)."""
    bh = tl.program_id(0)
    sp = tl.program_id(1)
    rb = tl.program_id(2)
    b = bh // H
    h = bh % H
    q_base = Q + b.to(tl.int64) * stride_qb + h.to(tl.int64) * stride_qh
    k_base = K + b.to(tl.int64) * stride_kb + h.to(tl.int64) * stride_kh
    v_base = V_ + b.to(tl.int64) * stride_vb + h.to(tl.int64) * stride_vh
    bias_base = BIAS + b.to(tl.int64) * stride_biasb
    offs_d = tl.arange(0, HEAD_DIM)
    r = rb * BLOCK_R + tl.arange(0, BLOCK_R)
    r_ok = r < R
    u = tl.load(ROWS + r, mask=r_ok, other=0).to(tl.int32)
    q = tl.load(q_base + (u + VS).to(tl.int64)[:, None] * stride_qn + offs_d[None, :], mask=r_ok[:, None], other=0.0)
    qs = u // BS
    qt = ((u % P) * F + u // P) // BS
    m = tl.full([BLOCK_R], float("-inf"), tl.float32)
    l_e = tl.zeros([BLOCK_R], tl.float32)
    l_s = tl.zeros([BLOCK_R], tl.float32)
    l_t = tl.zeros([BLOCK_R], tl.float32)
    a_e = tl.zeros([BLOCK_R, HEAD_DIM], tl.float32)
    a_s = tl.zeros([BLOCK_R, HEAD_DIM], tl.float32)
    a_t = tl.zeros([BLOCK_R, HEAD_DIM], tl.float32)
    c0 = sp * CHUNK
    c1 = tl.minimum(N, c0 + CHUNK)
    for n0 in range(c0, c1, BLOCK_N):
        tok = n0 + tl.arange(0, BLOCK_N)
        valid = tok < c1
        tok64 = tok.to(tl.int64)
        k = tl.load(k_base + tok64[:, None] * stride_kn + offs_d[None, :], mask=valid[:, None], other=0.0)
        v = tl.load(v_base + tok64[:, None] * stride_vn + offs_d[None, :], mask=valid[:, None], other=0.0)
        s = tl.dot(q, tl.trans(k), input_precision=PREC) * qk_scale
        uv = tok - VS
        is_vid = (uv >= 0) & (uv < V)
        if HAS_BIAS:
            bias = tl.load(bias_base + tok64, mask=valid & (~is_vid), other=0.0) * 1.4426950408889634
            s = s + bias[None, :]
        s = tl.where(valid[None, :], s, float("-inf"))
        m_new = tl.maximum(m, tl.max(s, 1))
        m_use = tl.where(m_new == float("-inf"), 0.0, m_new)
        p = tl.math.exp2(s - m_use[:, None])
        alpha = tl.math.exp2(m - m_use)
        uvc = tl.where(is_vid, uv, 0)
        glob = (~is_vid)[None, :]
        keep_s = glob | (tl.abs(qs[:, None] - (uvc // BS)[None, :]) <= W)
        keep_t = glob | (tl.abs(qt[:, None] - (((uvc % P) * F + uvc // P) // BS)[None, :]) <= W)
        p_s = tl.where(keep_s, p, 0.0)
        p_t = tl.where(keep_t, p, 0.0)
        l_e = l_e * alpha + tl.sum(p, 1)
        l_s = l_s * alpha + tl.sum(p_s, 1)
        l_t = l_t * alpha + tl.sum(p_t, 1)
        a_e = tl.dot(p.to(v.dtype), v, a_e * alpha[:, None], input_precision=PREC)
        a_s = tl.dot(p_s.to(v.dtype), v, a_s * alpha[:, None], input_precision=PREC)
        a_t = tl.dot(p_t.to(v.dtype), v, a_t * alpha[:, None], input_precision=PREC)
        m = m_new
    rr = rb * BLOCK_R + tl.arange(0, BLOCK_R)
    base = bh * S + sp
    tl.store(PM + base * RP + rr, m)
    tl.store(PL + (base * 3 + 0) * RP + rr, l_e)
    tl.store(PL + (base * 3 + 1) * RP + rr, l_s)
    tl.store(PL + (base * 3 + 2) * RP + rr, l_t)
    ao = rr.to(tl.int64)[:, None] * HEAD_DIM + offs_d[None, :]
    tl.store(PA + ((base * 3 + 0) * RP).to(tl.int64) * HEAD_DIM + ao, a_e)
    tl.store(PA + ((base * 3 + 1) * RP).to(tl.int64) * HEAD_DIM + ao, a_s)
    tl.store(PA + ((base * 3 + 2) * RP).to(tl.int64) * HEAD_DIM + ao, a_t)


@triton.jit(do_not_specialize=["S", "R", "RP"])
def profile_merge_kernel(PM, PL, PA, ERRP, S, R, RP,
                         BLOCK_R: tl.constexpr, BLOCK_D: tl.constexpr, HEAD_DIM: tl.constexpr):
    """Program (bh, column chunk): merge the S split states of every sampled row for the BLOCK_D
    output columns [c*BLOCK_D, (c+1)*BLOCK_D) and write the summed squared differences
    ERRP[bh, c, 0:2] = sum over rows and these columns of (o_spatial - o_exact)^2, (o_temporal - o_exact)^2."""
    bh = tl.program_id(0)
    cb = tl.program_id(1)
    offs_d = cb * BLOCK_D + tl.arange(0, BLOCK_D)
    err_s = tl.zeros([BLOCK_R], tl.float32)
    err_t = tl.zeros([BLOCK_R], tl.float32)
    for r0 in range(0, RP, BLOCK_R):
        rr = r0 + tl.arange(0, BLOCK_R)
        mx = tl.full([BLOCK_R], float("-inf"), tl.float32)
        for sp in range(0, S):
            mx = tl.maximum(mx, tl.load(PM + (bh * S + sp) * RP + rr))
        mx = tl.where(mx == float("-inf"), 0.0, mx)
        l_e = tl.zeros([BLOCK_R], tl.float32)
        l_s = tl.zeros([BLOCK_R], tl.float32)
        l_t = tl.zeros([BLOCK_R], tl.float32)
        a_e = tl.zeros([BLOCK_R, BLOCK_D], tl.float32)
        a_s = tl.zeros([BLOCK_R, BLOCK_D], tl.float32)
        a_t = tl.zeros([BLOCK_R, BLOCK_D], tl.float32)
        for sp in range(0, S):
            base = bh * S + sp
            wgt = tl.math.exp2(tl.load(PM + base * RP + rr) - mx)      # 0 where a split saw no key
            l_e += wgt * tl.load(PL + (base * 3 + 0) * RP + rr)
            l_s += wgt * tl.load(PL + (base * 3 + 1) * RP + rr)
            l_t += wgt * tl.load(PL + (base * 3 + 2) * RP + rr)
            ao = rr.to(tl.int64)[:, None] * HEAD_DIM + offs_d[None, :]
            a_e += wgt[:, None] * tl.load(PA + ((base * 3 + 0) * RP).to(tl.int64) * HEAD_DIM + ao)
            a_s += wgt[:, None] * tl.load(PA + ((base * 3 + 1) * RP).to(tl.int64) * HEAD_DIM + ao)
            a_t += wgt[:, None] * tl.load(PA + ((base * 3 + 2) * RP).to(tl.int64) * HEAD_DIM + ao)
        o_e = a_e / l_e[:, None]
        o_s = tl.where(l_s[:, None] > 0, a_s / l_s[:, None], 0.0)
        o_t = tl.where(l_t[:, None] > 0, a_t / l_t[:, None], 0.0)
        ok = (rr < R)[:, None]
        ds = tl.where(ok, o_s - o_e, 0.0)
        dt = tl.where(ok, o_t - o_e, 0.0)
        err_s += tl.sum(ds * ds, 1)
        err_t += tl.sum(dt * dt, 1)
    tl.store(ERRP + (bh * tl.num_programs(1) + cb) * 2, tl.sum(err_s, 0))
    tl.store(ERRP + (bh * tl.num_programs(1) + cb) * 2 + 1, tl.sum(err_t, 0))

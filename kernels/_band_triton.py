"""Triton kernels of the band (+ global keys) sparse attention forward.

Loaded through ``kernels._jit.load`` (in the mode Triton runs in); do not import directly.
See ``kernels/band_attention.py`` for the spec and the launcher.
"""
import triton
import triton.language as tl


@triton.jit
def _video_token(u, is_t, F, P, VS):
    # head-order video index -> token index (frame-major storage).
    # spatial head: u itself; temporal head: u = p*F + f  ->  f*P + p.
    return (tl.where(is_t, (u % F) * P + u // F, u) + VS).to(tl.int64)


@triton.jit
def _softmax_step(acc, l_i, m_i, q, k, v, qk_scale, bias, MASK: tl.constexpr, PREC: tl.constexpr):
    s = tl.dot(q, tl.trans(k), input_precision=PREC)
    if MASK:
        s = s * qk_scale + bias[None, :]
        m_new = tl.maximum(m_i, tl.max(s, 1))
        s = s - m_new[:, None]
    else:
        m_new = tl.maximum(m_i, tl.max(s, 1) * qk_scale)
        s = s * qk_scale - m_new[:, None]
    p = tl.math.exp2(s)
    alpha = tl.math.exp2(m_i - m_new)
    l_i = l_i * alpha + tl.sum(p, 1)
    acc = acc * alpha[:, None]
    acc = tl.dot(p.to(v.dtype), v, acc, input_precision=PREC)
    return acc, l_i, m_new


@triton.jit
def _kv_tiles(acc, l_i, m_i, q, k_base, v_base, bias_base, stride_kn, stride_vn,
              start, stop, is_t, F, P, VS, V, qk_scale, offs_d,
              BLOCK_N: tl.constexpr, MASK: tl.constexpr, GLOBAL: tl.constexpr,
              HAS_BIAS: tl.constexpr, PREC: tl.constexpr):
    """Online-softmax update over key tiles [start, stop) (step BLOCK_N), pointer loads.

    GLOBAL=False: the indices are head-order video indices; GLOBAL=True: they count the
    global keys (prefix tokens first, then the suffix tokens after the video).
    MASK=False requires (stop - start) % BLOCK_N == 0 and all keys valid.
    """
    for n0 in range(start, stop, BLOCK_N):
        idx = n0 + tl.arange(0, BLOCK_N)
        if GLOBAL:
            tok = tl.where(idx < VS, idx, idx + V).to(tl.int64)
        else:
            tok = _video_token(idx, is_t, F, P, VS)
        bias = None
        if MASK:
            valid = idx < stop
            k = tl.load(k_base + tok[:, None] * stride_kn + offs_d[None, :], mask=valid[:, None], other=0.0)
            v = tl.load(v_base + tok[:, None] * stride_vn + offs_d[None, :], mask=valid[:, None], other=0.0)
            if HAS_BIAS:
                bias = tl.load(bias_base + tok, mask=valid, other=float("-inf")) * 1.4426950408889634
            else:
                bias = tl.where(valid, 0.0, float("-inf"))
        else:
            k = tl.load(k_base + tok[:, None] * stride_kn + offs_d[None, :])
            v = tl.load(v_base + tok[:, None] * stride_vn + offs_d[None, :])
        acc, l_i, m_i = _softmax_step(acc, l_i, m_i, q, k, v, qk_scale, bias, MASK, PREC)
    return acc, l_i, m_i


@triton.jit
def _kv_tiles_tma(acc, l_i, m_i, q, k_desc, v_desc, b, h, row0, start, stop, qk_scale,
                  BLOCK_N: tl.constexpr, HEAD_DIM: tl.constexpr, PREC: tl.constexpr, WS: tl.constexpr):
    """Full (unmasked) band tiles through TMA: rows row0 + [start, stop) of descriptor [B, H, rows, D]."""
    for n0 in tl.range(start, stop, BLOCK_N, warp_specialize=WS):
        k = k_desc.load([b, h, row0 + n0, 0]).reshape(BLOCK_N, HEAD_DIM)
        v = v_desc.load([b, h, row0 + n0, 0]).reshape(BLOCK_N, HEAD_DIM)
        acc, l_i, m_i = _softmax_step(acc, l_i, m_i, q, k, v, qk_scale, None, False, PREC)
    return acc, l_i, m_i


@triton.jit(do_not_specialize=["H", "VS", "F", "P", "V", "G", "W"])
def band_fwd_kernel(
        Q, K, V_, O, BIAS, TEMPORAL, ORDER,
        stride_qb, stride_qh, stride_qn,
        stride_kb, stride_kh, stride_kn,
        stride_vb, stride_vh, stride_vn,
        stride_ob, stride_oh, stride_on,
        stride_biasb,
        H, VS, F, P, V, G, W, qk_scale,
        BS: tl.constexpr, BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, HEAD_DIM: tl.constexpr,
        HAS_BIAS: tl.constexpr, PREC: tl.constexpr,
        KT_DESC=None, VT_DESC=None, TMA: tl.constexpr = False, WS: tl.constexpr = False):
    """One program: BLOCK_M consecutive head-order video query rows of one (b, h).

    Keys: video band [max(0, qb-W)*BS, min(V, (qb+W+1)*BS)) in head order, then the G global
    keys.  Requires BLOCK_M <= BS, BS % BLOCK_M == 0 (a tile lies in one pattern block) and
    BS % BLOCK_N == 0 (band tiles start aligned).
    TMA=True: the full band tiles are loaded through tensor descriptors KT_DESC/VT_DESC over
    head-ordered contiguous copies [B, H, V, D] of the video keys/values (see gather_kernel);
    the ragged tail tile and the global keys still use pointer loads of k/v.
    """
    tile = tl.load(ORDER + tl.program_id(0))
    bh = tl.program_id(1)
    b = bh // H
    h = bh % H
    is_t = tl.load(TEMPORAL + bh) != 0

    q_base = Q + b.to(tl.int64) * stride_qb + h.to(tl.int64) * stride_qh
    k_base = K + b.to(tl.int64) * stride_kb + h.to(tl.int64) * stride_kh
    v_base = V_ + b.to(tl.int64) * stride_vb + h.to(tl.int64) * stride_vh
    o_base = O + b.to(tl.int64) * stride_ob + h.to(tl.int64) * stride_oh
    bias_base = BIAS + b.to(tl.int64) * stride_biasb

    offs_d = tl.arange(0, HEAD_DIM)
    u = tile * BLOCK_M + tl.arange(0, BLOCK_M)
    row_ok = u < V
    q_tok = _video_token(u, is_t, F, P, VS)
    q = tl.load(q_base + q_tok[:, None] * stride_qn + offs_d[None, :], mask=row_ok[:, None], other=0.0)

    m_i = tl.full([BLOCK_M], float("-inf"), tl.float32)
    l_i = tl.zeros([BLOCK_M], tl.float32)
    acc = tl.zeros([BLOCK_M, HEAD_DIM], tl.float32)

    qb = (tile * BLOCK_M) // BS
    lo = tl.maximum(qb - W, 0) * BS
    hi = tl.minimum((qb + W + 1) * BS, V)
    full_end = lo + ((hi - lo) // BLOCK_N) * BLOCK_N
    if TMA:  # one loop for both head kinds (two loops would double the shared-memory buffers)
        acc, l_i, m_i = _kv_tiles_tma(acc, l_i, m_i, q, KT_DESC, VT_DESC, b, h, 0, lo, full_end, qk_scale,
                                      BLOCK_N, HEAD_DIM, PREC, WS)
    else:
        acc, l_i, m_i = _kv_tiles(acc, l_i, m_i, q, k_base, v_base, bias_base, stride_kn, stride_vn,
                                  lo, full_end, is_t, F, P, VS, V, qk_scale, offs_d,
                                  BLOCK_N, False, False, False, PREC)
    if full_end < hi:
        acc, l_i, m_i = _kv_tiles(acc, l_i, m_i, q, k_base, v_base, bias_base, stride_kn, stride_vn,
                                  full_end, hi, is_t, F, P, VS, V, qk_scale, offs_d,
                                  BLOCK_N, True, False, False, PREC)
    if G > 0:
        acc, l_i, m_i = _kv_tiles(acc, l_i, m_i, q, k_base, v_base, bias_base, stride_kn, stride_vn,
                                  0, G, is_t, F, P, VS, V, qk_scale, offs_d,
                                  BLOCK_N, True, True, HAS_BIAS, PREC)

    out = acc / l_i[:, None]
    tl.store(o_base + q_tok[:, None] * stride_on + offs_d[None, :], out.to(O.dtype.element_ty),
             mask=row_ok[:, None])


@triton.jit(do_not_specialize=["H", "VS", "F", "P", "V"])
def gather_kernel(K, V_, KT, VT, TEMPORAL,
                  stride_kb, stride_kh, stride_kn,
                  stride_vb, stride_vh, stride_vn,
                  H, VS, F, P, V,
                  BLOCK: tl.constexpr, HEAD_DIM: tl.constexpr):
    """KT/VT[b, h, u] = K/V[b, h, token(u)]: the video keys/values of every (b, h) in its head
    order (temporal heads permuted, spatial heads copied).  KT, VT: contiguous [B, H, V, D].
    """
    bh = tl.program_id(1)
    is_t = tl.load(TEMPORAL + bh) != 0
    b = bh // H
    h = bh % H
    u = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    ok = u < V
    tok = _video_token(u, is_t, F, P, VS)
    offs_d = tl.arange(0, HEAD_DIM)
    src_k = K + b.to(tl.int64) * stride_kb + h.to(tl.int64) * stride_kh
    src_v = V_ + b.to(tl.int64) * stride_vb + h.to(tl.int64) * stride_vh
    dst = (bh.to(tl.int64) * V + u.to(tl.int64))[:, None] * HEAD_DIM + offs_d[None, :]
    kk = tl.load(src_k + tok[:, None] * stride_kn + offs_d[None, :], mask=ok[:, None], other=0.0)
    tl.store(KT + dst, kk, mask=ok[:, None])
    vv = tl.load(src_v + tok[:, None] * stride_vn + offs_d[None, :], mask=ok[:, None], other=0.0)
    tl.store(VT + dst, vv, mask=ok[:, None])

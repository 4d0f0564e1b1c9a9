"""Triton kernel of SVG2's attention on the cluster-permuted layout (variable-size block sparsity).

Loaded through ``kernels._jit.load`` (in the mode Triton runs in); do not import directly.
See ``kernels/semantic_attention.py`` for the spec, the tile tables and the launcher.
"""
import triton
import triton.language as tl


@triton.jit
def _step(acc, l_i, m_i, q, k, v, qk_scale, bias, MASK: tl.constexpr, PREC: tl.constexpr):
    """One online-softmax update with a key tile (scores in the log2 domain)."""
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
def _video_rows(K, V_, KPERM, j, bh, b, h, start, n_valid, VS, V,
                stride_kb, stride_kh, stride_kn, stride_vb, stride_vh, stride_vn, offs_d,
                BLOCK_N: tl.constexpr, HEAD_DIM: tl.constexpr, SOURCE: tl.constexpr):
    """Key / value rows [start, start + BLOCK_N) of the permuted video (rows >= n_valid zeroed).
    SOURCE 0: gathered from k / v through KPERM (no copy); 1: the contiguous copies [chunk, V, D]
    (row j of the chunk)."""
    pos = start + tl.arange(0, BLOCK_N)
    ok = tl.arange(0, BLOCK_N) < n_valid
    if SOURCE == 0:
        tok = (tl.load(KPERM + bh.to(tl.int64) * V + pos, mask=ok, other=0) + VS).to(tl.int64)
        k = tl.load(K + b.to(tl.int64) * stride_kb + h.to(tl.int64) * stride_kh + tok[:, None] * stride_kn
                    + offs_d[None, :], mask=ok[:, None], other=0.0)
        v = tl.load(V_ + b.to(tl.int64) * stride_vb + h.to(tl.int64) * stride_vh + tok[:, None] * stride_vn
                    + offs_d[None, :], mask=ok[:, None], other=0.0)
    else:
        row = (j.to(tl.int64) * V + pos.to(tl.int64))[:, None] * HEAD_DIM + offs_d[None, :]
        k = tl.load(K + row, mask=ok[:, None], other=0.0)
        v = tl.load(V_ + row, mask=ok[:, None], other=0.0)
    return k, v


@triton.jit(do_not_specialize=["H", "VS", "V", "G", "CQ", "TMAX", "BH0"])
def semantic_fwd_kernel(
        Q, K, V_, KC, VC, O, BIAS, QPERM, KPERM, WORK, TILE_START, TILE_VALID, TILE_COUNT, KEYPOS, KEYOFF,
        stride_qb, stride_qh, stride_qn,
        stride_kb, stride_kh, stride_kn,
        stride_vb, stride_vh, stride_vn,
        stride_ob, stride_oh, stride_on,
        stride_biasb,
        H, VS, V, G, CQ, TMAX, BH0, qk_scale,
        BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, HEAD_DIM: tl.constexpr,
        HAS_BIAS: tl.constexpr, PREC: tl.constexpr, SOURCE: tl.constexpr,
        KC_DESC=None, VC_DESC=None, WS: tl.constexpr = False):
    """One program: one work item = up to BLOCK_M consecutive permuted query rows of ONE query cluster.

    WORK int32 [n, 4]: (bh, query cluster, first row, end row) in permuted positions; end <= first:
    a padding item (it points at TILE_COUNT's last row, which has no tiles; nothing is stored).
    TILE_START / TILE_VALID int32 [chunk*CQ, TMAX], TILE_COUNT int32 [chunk*CQ + 1, 2]: per
    (bh - BH0, query cluster) the key tiles of its kept key ranges (permuted key positions): first the
    TILE_COUNT[., 0] full tiles (BLOCK_N keys each, unmasked), then TILE_COUNT[., 1] partial tiles
    (TILE_VALID keys, the rest masked). Then the G global keys (prefix, then suffix), with BIAS.
    SOURCE: 0 keys gathered from k / v through KPERM; 1 from contiguous copies KC / VC [chunk, V, D]
    of the (b, h) pairs BH0..; 2 as 1, the full tiles through TMA descriptors KC_DESC / VC_DESC;
    3 "packed": no ranges, the kept keys' token indices KEYPOS[KEYOFF[row]:KEYOFF[row + 1]] in tiles
    of BLOCK_N (only the last one masked), gathered from k / v.
    Output rows are scattered to their frame-major tokens through QPERM (the inverse permutation).
    """
    w = tl.program_id(0)
    item = WORK + w.to(tl.int64) * 4
    bh = tl.load(item)
    qc = tl.load(item + 1)
    r0 = tl.load(item + 2)
    r1 = tl.load(item + 3)
    b = bh // H
    h = bh % H
    j = bh - BH0
    offs_d = tl.arange(0, HEAD_DIM)
    rows = r0 + tl.arange(0, BLOCK_M)
    row_ok = rows < r1
    q_tok = (tl.load(QPERM + bh.to(tl.int64) * V + rows, mask=row_ok, other=0) + VS).to(tl.int64)
    q = tl.load(Q + b.to(tl.int64) * stride_qb + h.to(tl.int64) * stride_qh + q_tok[:, None] * stride_qn
                + offs_d[None, :], mask=row_ok[:, None], other=0.0)
    m_i = tl.full([BLOCK_M], float("-inf"), tl.float32)
    l_i = tl.zeros([BLOCK_M], tl.float32)
    acc = tl.zeros([BLOCK_M, HEAD_DIM], tl.float32)

    lst = j.to(tl.int64) * CQ + qc
    k_base = K + b.to(tl.int64) * stride_kb + h.to(tl.int64) * stride_kh
    v_base = V_ + b.to(tl.int64) * stride_vb + h.to(tl.int64) * stride_vh
    if SOURCE == 3:
        first = tl.load(KEYOFF + lst)
        n_keys = tl.load(KEYOFF + lst + 1) - first
        n_full = n_keys // BLOCK_N
        for t in range(0, n_full):
            tok = tl.load(KEYPOS + first + t * BLOCK_N + tl.arange(0, BLOCK_N)).to(tl.int64)
            k = tl.load(k_base + tok[:, None] * stride_kn + offs_d[None, :])
            v = tl.load(v_base + tok[:, None] * stride_vn + offs_d[None, :])
            acc, l_i, m_i = _step(acc, l_i, m_i, q, k, v, qk_scale, None, False, PREC)
        for n0 in range(n_full * BLOCK_N, n_keys, BLOCK_N):
            ok = n0 + tl.arange(0, BLOCK_N) < n_keys
            tok = tl.load(KEYPOS + first + n0 + tl.arange(0, BLOCK_N), mask=ok, other=0).to(tl.int64)
            k = tl.load(k_base + tok[:, None] * stride_kn + offs_d[None, :], mask=ok[:, None], other=0.0)
            v = tl.load(v_base + tok[:, None] * stride_vn + offs_d[None, :], mask=ok[:, None], other=0.0)
            bias = tl.where(ok, 0.0, float("-inf"))
            acc, l_i, m_i = _step(acc, l_i, m_i, q, k, v, qk_scale, bias, True, PREC)
    else:
        n_full = tl.load(TILE_COUNT + lst * 2)
        n_part = tl.load(TILE_COUNT + lst * 2 + 1)
        starts = TILE_START + lst * TMAX
        valids = TILE_VALID + lst * TMAX
        if SOURCE == 2:
            for t in tl.range(0, n_full, warp_specialize=WS):
                s0 = tl.load(starts + t)
                k = KC_DESC.load([j, s0, 0]).reshape(BLOCK_N, HEAD_DIM)
                v = VC_DESC.load([j, s0, 0]).reshape(BLOCK_N, HEAD_DIM)
                acc, l_i, m_i = _step(acc, l_i, m_i, q, k, v, qk_scale, None, False, PREC)
        elif SOURCE == 1:
            for t in range(0, n_full):
                k, v = _video_rows(KC, VC, KPERM, j, bh, b, h, tl.load(starts + t), BLOCK_N, VS, V,
                                   stride_kb, stride_kh, stride_kn, stride_vb, stride_vh, stride_vn, offs_d,
                                   BLOCK_N, HEAD_DIM, 1)
                acc, l_i, m_i = _step(acc, l_i, m_i, q, k, v, qk_scale, None, False, PREC)
        else:
            for t in range(0, n_full):
                k, v = _video_rows(K, V_, KPERM, j, bh, b, h, tl.load(starts + t), BLOCK_N, VS, V,
                                   stride_kb, stride_kh, stride_kn, stride_vb, stride_vh, stride_vn, offs_d,
                                   BLOCK_N, HEAD_DIM, 0)
                acc, l_i, m_i = _step(acc, l_i, m_i, q, k, v, qk_scale, None, False, PREC)
        for t in range(n_full, n_full + n_part):
            nv = tl.load(valids + t)
            if SOURCE == 0:
                k, v = _video_rows(K, V_, KPERM, j, bh, b, h, tl.load(starts + t), nv, VS, V,
                                   stride_kb, stride_kh, stride_kn, stride_vb, stride_vh, stride_vn, offs_d,
                                   BLOCK_N, HEAD_DIM, 0)
            else:
                k, v = _video_rows(KC, VC, KPERM, j, bh, b, h, tl.load(starts + t), nv, VS, V,
                                   stride_kb, stride_kh, stride_kn, stride_vb, stride_vh, stride_vn, offs_d,
                                   BLOCK_N, HEAD_DIM, 1)
            bias = tl.where(tl.arange(0, BLOCK_N) < nv, 0.0, float("-inf"))
            acc, l_i, m_i = _step(acc, l_i, m_i, q, k, v, qk_scale, bias, True, PREC)
    n_global = tl.where(r1 > r0, G, 0)
    for n0 in range(0, n_global, BLOCK_N):
        idx = n0 + tl.arange(0, BLOCK_N)
        valid = idx < G
        tok = tl.where(idx < VS, idx, idx + V).to(tl.int64)
        k = tl.load(k_base + tok[:, None] * stride_kn + offs_d[None, :], mask=valid[:, None], other=0.0)
        v = tl.load(v_base + tok[:, None] * stride_vn + offs_d[None, :], mask=valid[:, None], other=0.0)
        if HAS_BIAS:
            bias = tl.load(BIAS + b.to(tl.int64) * stride_biasb + tok, mask=valid,
                           other=float("-inf")) * 1.4426950408889634
        else:
            bias = tl.where(valid, 0.0, float("-inf"))
        acc, l_i, m_i = _step(acc, l_i, m_i, q, k, v, qk_scale, bias, True, PREC)
    out = acc / tl.where(l_i > 0, l_i, 1.0)[:, None]   # l_i == 0 only on padding / masked rows
    tl.store(O + b.to(tl.int64) * stride_ob + h.to(tl.int64) * stride_oh + q_tok[:, None] * stride_on
             + offs_d[None, :], out.to(O.dtype.element_ty), mask=row_ok[:, None])


@triton.jit(do_not_specialize=["CQ", "R", "V", "VS", "P0"])
def pack_keys_kernel(RSTART, REND, RUNS, KPERM, KEYOFF, KEYPOS, CQ, R, V, VS, P0, BLOCK: tl.constexpr):
    """KEYPOS[KEYOFF[row] + ...] = VS + KPERM[P0 + row // CQ, p] for p over the row's ranges
    [RSTART, REND) in order (row = pair in chunk * CQ + query cluster)."""
    row = tl.program_id(0)
    pair = P0 + row // CQ
    dst = tl.load(KEYOFF + row)
    n_runs = tl.load(RUNS + row)
    for r in range(0, n_runs):
        s = tl.load(RSTART + row.to(tl.int64) * R + r)
        e = tl.load(REND + row.to(tl.int64) * R + r)
        for x in range(s, e, BLOCK):
            idx = x + tl.arange(0, BLOCK)
            ok = idx < e
            tok = tl.load(KPERM + pair.to(tl.int64) * V + idx, mask=ok, other=0) + VS
            tl.store(KEYPOS + dst + (idx - s), tok, mask=ok)
        dst += e - s

"""Triton kernels of SVG2's k-means steps and of the permuted copy of keys / values.

Loaded through ``kernels._jit.load`` (in the mode Triton runs in); do not import directly.
See ``kernels/kmeans.py`` for the spec and the launchers.
"""
import triton
import triton.language as tl


@triton.jit(do_not_specialize=["H", "V", "NC"])
def assign_kernel(X, CENT, CSQ, LABELS,
                  stride_xb, stride_xh, stride_xn,
                  H, V, NC,
                  BLOCK_M: tl.constexpr, BLOCK_C: tl.constexpr, HEAD_DIM: tl.constexpr, PREC: tl.constexpr):
    """LABELS[bh, i] = argmin_c (||c||^2 - 2 x_i . c) for BLOCK_M vectors of one (b, h).

    X: [B, H, V, D] (strided, last dim contiguous); CENT: contiguous [B*H, NC, D] in X's dtype;
    CSQ: float32 [B*H, NC] (||c||^2 of the centroids as cast); LABELS: int32 [B*H, V].
    Scores are made BLOCK_M x BLOCK_C at a time (tl.dot, fp32 accumulate); the running minimum
    keeps the lowest index on ties.
    """
    pid = tl.program_id(0)
    bh = tl.program_id(1)
    b = bh // H
    h = bh % H
    rows = pid * BLOCK_M + tl.arange(0, BLOCK_M)
    row_ok = rows < V
    offs_d = tl.arange(0, HEAD_DIM)
    x_base = X + b.to(tl.int64) * stride_xb + h.to(tl.int64) * stride_xh
    x = tl.load(x_base + rows.to(tl.int64)[:, None] * stride_xn + offs_d[None, :], mask=row_ok[:, None], other=0.0)
    c_base = CENT + bh.to(tl.int64) * NC * HEAD_DIM
    best = tl.full([BLOCK_M], float("inf"), tl.float32)
    best_idx = tl.zeros([BLOCK_M], tl.int32)
    for c0 in range(0, NC, BLOCK_C):
        cols = c0 + tl.arange(0, BLOCK_C)
        col_ok = cols < NC
        c = tl.load(c_base + cols.to(tl.int64)[:, None] * HEAD_DIM + offs_d[None, :], mask=col_ok[:, None], other=0.0)
        csq = tl.load(CSQ + bh.to(tl.int64) * NC + cols, mask=col_ok, other=float("inf"))
        s = tl.dot(x, tl.trans(c), input_precision=PREC)
        d = csq[None, :] - 2.0 * s
        local = tl.min(d, 1)
        # lowest column reaching the minimum (tie -> lowest index, as torch.argmin)
        local_idx = tl.min(tl.where(d == local[:, None], cols[None, :], NC), 1)
        better = local < best
        best = tl.where(better, local, best)
        best_idx = tl.where(better, local_idx, best_idx)
    tl.store(LABELS + bh.to(tl.int64) * V + rows, best_idx, mask=row_ok)


@triton.jit(do_not_specialize=["H", "V", "NC"])
def update_kernel(X, PERM, OFFSETS, PREV, NEW,
                  stride_xb, stride_xh, stride_xn,
                  H, V, NC,
                  BLOCK: tl.constexpr, HEAD_DIM: tl.constexpr):
    """NEW[bh, c] = mean of X[b, h, PERM[bh, p]] over p in [OFFSETS[bh, c], OFFSETS[bh, c+1]);
    PREV[bh, c] where the cluster is empty. One program per (cluster, b*h); the sum runs in a fixed
    order (deterministic). PERM int32 [B*H, V]; OFFSETS int32 [B*H, NC+1]; PREV, NEW float32
    contiguous [B*H, NC, D]."""
    c = tl.program_id(0)
    bh = tl.program_id(1)
    b = bh // H
    h = bh % H
    start = tl.load(OFFSETS + bh.to(tl.int64) * (NC + 1) + c)
    end = tl.load(OFFSETS + bh.to(tl.int64) * (NC + 1) + c + 1)
    offs_d = tl.arange(0, HEAD_DIM)
    x_base = X + b.to(tl.int64) * stride_xb + h.to(tl.int64) * stride_xh
    acc = tl.zeros([BLOCK, HEAD_DIM], tl.float32)
    for p0 in range(start, end, BLOCK):
        pos = p0 + tl.arange(0, BLOCK)
        ok = pos < end
        tok = tl.load(PERM + bh.to(tl.int64) * V + pos, mask=ok, other=0)
        xv = tl.load(x_base + tok.to(tl.int64)[:, None] * stride_xn + offs_d[None, :], mask=ok[:, None], other=0.0)
        acc += xv.to(tl.float32)
    total = tl.sum(acc, 0)
    count = end - start
    dst = bh.to(tl.int64) * NC * HEAD_DIM + c * HEAD_DIM + offs_d
    prev = tl.load(PREV + dst)
    mean = total / tl.maximum(count, 1).to(tl.float32)
    tl.store(NEW + dst, tl.where(count > 0, mean, prev))


@triton.jit(do_not_specialize=["H", "V", "VS", "BH0"])
def permute_rows_kernel(K, V_, PERM, KP, VP,
                        stride_kb, stride_kh, stride_kn,
                        stride_vb, stride_vh, stride_vn,
                        H, V, VS, BH0,
                        BLOCK: tl.constexpr, HEAD_DIM: tl.constexpr):
    """KP/VP[j, p] = K/V[b, h, VS + PERM[bh, p]] with bh = BH0 + j: the video keys and values of a
    run of (b, h) pairs in cluster order. KP, VP: contiguous [chunk, V, D]."""
    j = tl.program_id(1)
    bh = BH0 + j
    b = bh // H
    h = bh % H
    pos = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    ok = pos < V
    tok = (tl.load(PERM + bh.to(tl.int64) * V + pos, mask=ok, other=0) + VS).to(tl.int64)
    offs_d = tl.arange(0, HEAD_DIM)
    dst = (j.to(tl.int64) * V + pos.to(tl.int64))[:, None] * HEAD_DIM + offs_d[None, :]
    kk = tl.load(K + b.to(tl.int64) * stride_kb + h.to(tl.int64) * stride_kh + tok[:, None] * stride_kn
                 + offs_d[None, :], mask=ok[:, None], other=0.0)
    tl.store(KP + dst, kk, mask=ok[:, None])
    vv = tl.load(V_ + b.to(tl.int64) * stride_vb + h.to(tl.int64) * stride_vh + tok[:, None] * stride_vn
                 + offs_d[None, :], mask=ok[:, None], other=0.0)
    tl.store(VP + dst, vv, mask=ok[:, None])


@triton.jit(do_not_specialize=["H", "V", "NC"])
def centroid_lse_kernel(CENT, X, LSE,
                        stride_xb, stride_xh, stride_xn,
                        H, V, NC, qk_scale,
                        BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, HEAD_DIM: tl.constexpr, PREC: tl.constexpr):
    """LSE[bh, c] = log2 sum_j exp2(qk_scale * CENT[bh, c] . X[b, h, j]) over all V vectors (keys in
    frame-major order; qk_scale includes log2(e)). CENT contiguous [B*H, NC, D] in X's dtype."""
    pid = tl.program_id(0)
    bh = tl.program_id(1)
    b = bh // H
    h = bh % H
    rows = pid * BLOCK_M + tl.arange(0, BLOCK_M)
    row_ok = rows < NC
    offs_d = tl.arange(0, HEAD_DIM)
    c = tl.load(CENT + bh.to(tl.int64) * NC * HEAD_DIM + rows.to(tl.int64)[:, None] * HEAD_DIM + offs_d[None, :],
                mask=row_ok[:, None], other=0.0)
    x_base = X + b.to(tl.int64) * stride_xb + h.to(tl.int64) * stride_xh
    m_i = tl.full([BLOCK_M], float("-inf"), tl.float32)
    l_i = tl.zeros([BLOCK_M], tl.float32)
    for n0 in range(0, V, BLOCK_N):
        cols = n0 + tl.arange(0, BLOCK_N)
        ok = cols < V
        x = tl.load(x_base + cols.to(tl.int64)[:, None] * stride_xn + offs_d[None, :], mask=ok[:, None], other=0.0)
        s = tl.dot(c, tl.trans(x), input_precision=PREC) * qk_scale
        s = tl.where(ok[None, :], s, float("-inf"))
        m_new = tl.maximum(m_i, tl.max(s, 1))
        l_i = l_i * tl.math.exp2(m_i - m_new) + tl.sum(tl.math.exp2(s - m_new[:, None]), 1)
        m_i = m_new
    tl.store(LSE + bh.to(tl.int64) * NC + rows, m_i + tl.math.log2(l_i), mask=row_ok)


@triton.jit(do_not_specialize=["H", "V", "NC", "NK"])
def cluster_mass_kernel(CENT, X, LSE, PERM, OFFSETS, OUT,
                        stride_xb, stride_xh, stride_xn,
                        H, V, NC, NK, qk_scale,
                        BLOCK_M: tl.constexpr, BLOCK_N: tl.constexpr, GROUP: tl.constexpr, HEAD_DIM: tl.constexpr,
                        PREC: tl.constexpr):
    """OUT[bh, c, g] = ln sum over the vectors j of key cluster g of exp2(qk_scale * CENT[bh, c] . X[j]
    - LSE[bh, c]) for the GROUP key clusters g0.. of this program: their vectors are the permuted
    positions [OFFSETS[g0], OFFSETS[g0 + GROUP]) (PERM: video index of each position). The per-cluster
    sums are one-hot products (tl.dot) of the probabilities of each key tile: no atomics."""
    pid = tl.program_id(0)
    g0 = tl.program_id(1) * GROUP
    bh = tl.program_id(2)
    b = bh // H
    h = bh % H
    rows = pid * BLOCK_M + tl.arange(0, BLOCK_M)
    row_ok = rows < NC
    offs_d = tl.arange(0, HEAD_DIM)
    c = tl.load(CENT + bh.to(tl.int64) * NC * HEAD_DIM + rows.to(tl.int64)[:, None] * HEAD_DIM + offs_d[None, :],
                mask=row_ok[:, None], other=0.0)
    lse = tl.load(LSE + bh.to(tl.int64) * NC + rows, mask=row_ok, other=0.0)
    groups = g0 + tl.arange(0, GROUP)
    off_base = OFFSETS + bh.to(tl.int64) * (NK + 1)
    ends = tl.load(off_base + tl.minimum(groups + 1, NK))              # end position of each cluster
    start = tl.load(off_base + tl.minimum(g0, NK))
    stop = tl.load(off_base + tl.minimum(g0 + GROUP, NK))
    x_base = X + b.to(tl.int64) * stride_xb + h.to(tl.int64) * stride_xh
    acc = tl.zeros([BLOCK_M, GROUP], tl.float32)
    for p0 in range(start, stop, BLOCK_N):
        pos = p0 + tl.arange(0, BLOCK_N)
        ok = pos < stop
        tok = tl.load(PERM + bh.to(tl.int64) * V + pos, mask=ok, other=0).to(tl.int64)
        x = tl.load(x_base + tok[:, None] * stride_xn + offs_d[None, :], mask=ok[:, None], other=0.0)
        s = tl.dot(c, tl.trans(x), input_precision=PREC) * qk_scale
        p = tl.where(ok[None, :], tl.math.exp2(s - lse[:, None]), 0.0)
        # cluster (within the group) of each position: how many group clusters end at or before it
        member = tl.sum((pos[:, None] >= ends[None, :]).to(tl.int32), 1)       # [BLOCK_N]
        onehot = (member[:, None] == tl.arange(0, GROUP)[None, :]).to(tl.float32)
        acc += tl.dot(p, onehot, input_precision="ieee")
    dst = OUT + bh.to(tl.int64) * NC * NK + rows.to(tl.int64)[:, None] * NK + groups[None, :]
    tl.store(dst, tl.log(acc), mask=row_ok[:, None] & (groups < NK)[None, :])

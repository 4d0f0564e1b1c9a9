"""CPU tests (Triton interpreter) of SVG2's kernels against their torch references in
svg_attention/clustering.py and svg_attention/semantic.py, and of the kernel's tile tables."""
import math

import pytest
import torch

from helpers import make_bias, make_qkv

import svg_pack.kernels as kernels
from svg_pack.kernels import (kmeans_assign, kmeans_update, permute_rows, permute_rows_reference,
                              semantic_attention, svg2_attention)
from svg_pack.kernels.semantic_attention import (computed_pairs, key_tile_table, packed_key_table,
                                                 prepare_semantic_attention, query_work_items)
from svg_pack.svg_attention.clustering import assign_reference, kmeans, permute_by_cluster, update_reference
from svg_pack.svg_attention.layout import VideoLayout
from svg_pack.svg_attention.semantic import (centroid_logits, kept_video_pairs, select_budget,
                                             semantic_attention_reference, video_pair_budget)

pytestmark = pytest.mark.skipif(not kernels._jit.interpret_requested(),
                                reason="CPU kernel tests need TRITON_INTERPRET=1 (set by conftest unless -m gpu)")


def _video(x, layout):
    return x[:, :, layout.video_start:layout.video_start + layout.video_tokens]


def _case(dtype, F=3, P=37, pre=0, suf=0, B=2, H=2, D=64, cq=6, ck=9, density=0.45, seed=0):
    layout = VideoLayout(F, P, pre, suf)
    q, k, v = make_qkv(B, H, layout.total_tokens, D, dtype, seed=seed)
    qc = kmeans(_video(q, layout), cq, 3)
    kc = kmeans(_video(k, layout), ck, 3)
    logits = centroid_logits(qc, kc, 1 / math.sqrt(D))
    keep = select_budget(logits, qc.sizes, kc.sizes, video_pair_budget(layout, density), 0.1)
    return layout, q, k, v, qc, kc, keep


# ---------------------------------------------------------------------------------------------
# k-means steps
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
@pytest.mark.parametrize("clusters", [5, 23])
def test_assign_matches_reference(dtype, clusters):
    layout = VideoLayout(3, 37)
    q, _, _ = make_qkv(2, 2, layout.total_tokens, 64, dtype, seed=clusters)
    cent = q[:, :, ::7][:, :, :clusters].float() + 0.01
    got = kmeans_assign(q, cent)
    ref = assign_reference(q, cent)
    if dtype == torch.float32:
        assert torch.equal(got, ref)
    else:  # fp16 dot: the chosen centroid is as near as the best one, up to rounding
        x = q.float()
        dist = lambda lab: (x - cent.gather(2, lab.long()[..., None].expand_as(x))).pow(2).sum(-1)  # noqa: E731
        assert (dist(got) <= dist(ref) + 0.05 * dist(ref).clamp_min(1)).all()
        assert (got == ref).float().mean() > 0.97


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
def test_update_matches_reference_with_empty_clusters(dtype):
    layout = VideoLayout(3, 37)
    q, _, _ = make_qkv(2, 2, layout.total_tokens, 64, dtype, seed=3)
    labels = (torch.arange(111) % 7).to(torch.int32).expand(2, 2, 111).clone()
    labels[1, 0] = torch.where(labels[1, 0] == 4, 2, labels[1, 0])      # cluster 4 empty in (1, 0)
    previous = torch.randn(2, 2, 8, 64)                                  # cluster 7 empty everywhere
    perm, _, offsets = permute_by_cluster(labels, 8)
    got = kmeans_update(q, perm, offsets, previous)
    ref = update_reference(q, perm, offsets, previous)
    torch.testing.assert_close(got, ref, rtol=1e-5, atol=1e-5)
    assert torch.equal(got[:, :, 7], previous[:, :, 7]) and torch.equal(got[1, 0, 4], previous[1, 0, 4])


def test_kmeans_with_the_kernels_matches_the_reference():
    layout = VideoLayout(4, 29)
    q, _, _ = make_qkv(1, 2, layout.total_tokens, 64, torch.float32, seed=4)
    a = kmeans(q, 7, 3)
    b = kmeans(q, 7, 3, assign=kmeans_assign, update=kmeans_update)
    assert torch.equal(a.labels, b.labels) and torch.equal(a.perm, b.perm)
    torch.testing.assert_close(a.centroids, b.centroids, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("start,count", [(0, 4), (1, 2), (3, 1)])
def test_permute_rows_matches_reference(start, count):
    layout = VideoLayout(3, 37, 5, 6)
    _, k, v = make_qkv(2, 2, layout.total_tokens, 64, torch.float16, seed=5)
    perm = torch.stack([torch.randperm(111, generator=torch.Generator().manual_seed(i)) for i in range(4)])
    perm = perm.view(2, 2, 111).to(torch.int32)
    scratch = (torch.full((4, 111, 64), float("nan"), dtype=torch.float16),
               torch.full((4, 111, 64), float("nan"), dtype=torch.float16))
    kp, vp = permute_rows(k, v, perm, 5, start, count, out=scratch)
    kr, vr = permute_rows_reference(k, v, perm, 5, start, count)
    assert torch.equal(kp[:count], kr) and torch.equal(vp[:count], vr)
    assert torch.equal(kr[0], k.reshape(4, -1, 64)[start, 5 + perm.view(4, -1)[start].long()])


# ---------------------------------------------------------------------------------------------
# tile tables
# ---------------------------------------------------------------------------------------------
@pytest.mark.parametrize("block_n", [4, 16])
def test_key_tiles_cover_exactly_the_kept_keys(block_n):
    g = torch.Generator().manual_seed(6)
    P, Cq, Ck = 3, 4, 11
    sizes = torch.randint(0, 9, (P, Ck), generator=g).int()
    sizes[0] = torch.tensor([3, 5, 2, 0, 4, 6, 1, 7, 2, 3, 5])
    offsets = torch.zeros(P, Ck + 1, dtype=torch.int32)
    offsets[:, 1:] = sizes.cumsum(-1)
    V = int(offsets[:, -1].max())
    offsets[:, -1] = V                          # the last cluster takes what is left
    sizes = offsets[:, 1:] - offsets[:, :-1]
    keep = torch.rand(P, Cq, Ck, generator=g) < 0.5
    keep[0, 0] = torch.tensor([1, 1, 1, 0, 1, 0, 0, 1, 0, 1, 1], dtype=torch.bool)   # a gap of an empty cluster
    start, valid, count = key_tile_table(keep, offsets, block_n, V)
    for p in range(P):
        cluster_of = torch.repeat_interleave(torch.arange(Ck), sizes[p].long())
        for a in range(Cq):
            row = p * Cq + a
            nf, npart = count[row].tolist()
            covered = []
            assert count[-1].tolist() == [0, 0]
            for t in range(nf + npart):
                n = block_n if t < nf else int(valid[row, t])
                assert 0 < n <= block_n and (t < nf or n < block_n)
                covered += list(range(int(start[row, t]), int(start[row, t]) + n))
            assert len(set(covered)) == len(covered)
            expected = torch.nonzero(keep[p, a][cluster_of]).flatten().tolist()
            assert sorted(covered) == expected
            if p == 0 and a == 0:   # clusters 0-4 (3 is empty), 7, 9-10: three ranges
                ordered = sorted(covered)
                breaks = sum(1 for x, y in zip(ordered, ordered[1:]) if y != x + 1)
                assert breaks == 2 and ordered[:14] == list(range(14))
                lengths = [14, 7, V - 30]
                assert nf == sum(n // block_n for n in lengths)
                assert npart == sum(n % block_n > 0 for n in lengths)


def test_packed_keys_are_the_kept_keys_in_cluster_order():
    layout, q, k, v, qc, kc, keep = _case(torch.float32, pre=4, suf=3)
    P, Cq, Ck, V = 4, 6, 9, layout.video_tokens
    kp_flat = kc.perm.view(P, V)
    key_pos, key_off, count = packed_key_table(keep.view(P, Cq, Ck)[1:3], kc.offsets.view(P, Ck + 1)[1:3],
                                               kp_flat, 1, 4, 16)
    assert key_off.shape[0] == 2 * Cq + 2 and key_off[-1] == key_off[-2] and count[-1].tolist() == [0, 0]
    for j in range(2):
        p = 1 + j
        sorted_cluster = kc.labels.view(P, V)[p].gather(0, kp_flat[p].long())
        for a in range(Cq):
            row = j * Cq + a
            got = key_pos[key_off[row]:key_off[row + 1]].tolist()
            expected = (kp_flat[p][keep.view(P, Cq, Ck)[p, a][sorted_cluster.long()]] + 4).tolist()
            assert got == expected
            assert count[row].tolist() == [len(got) // 16, int(len(got) % 16 > 0)]


@pytest.mark.parametrize("tail_m", [None, 4])
def test_work_items_cover_every_row_once_longest_first(tail_m):
    q_offsets = torch.tensor([[0, 13, 13, 20, 41], [0, 2, 30, 31, 41]], dtype=torch.int32)
    tile_count = torch.tensor([[3, 1], [0, 0], [5, 2], [1, 0], [2, 1], [0, 1], [4, 4], [1, 1], [0, 0]], dtype=torch.int32)
    main, tail = query_work_items(q_offsets, tile_count, 5, 8, tail_m, 41)
    items = main if tail is None else torch.cat([main, tail])
    seen = torch.zeros(2, 41, dtype=torch.int32)
    for bh, cluster, r0, r1 in items.tolist():
        if r1 <= r0:
            assert (bh, cluster, r0, r1) == (5, 8, 0, 0)      # padding: the table's empty last row
            continue
        p = bh - 5
        assert q_offsets[p, cluster] <= r0 < r1 <= q_offsets[p, cluster + 1]
        assert r1 - r0 <= (8 if tail is None or items is main else 8)
        seen[p, r0:r1] += 1
    assert (seen == 1).all()
    work = tile_count[:-1].sum(-1).view(2, 4)
    real = main[main[:, 3] > main[:, 2]]
    keys = [int(work[b - 5, c]) for b, c in real[:, :2].tolist()]
    assert keys == sorted(keys, reverse=True)
    real_rows = (main[:, 3] > main[:, 2]).int()
    assert torch.equal(real_rows, real_rows.sort(descending=True, stable=True).values)   # padding trails
    if tail is not None:
        assert all(r1 - r0 <= 4 for _, _, r0, r1 in tail.tolist())
        assert all(r1 - r0 > 4 for _, _, r0, r1 in main.tolist() if r1 - r0 < 8 and r1 > r0)


def test_computed_pairs_bound_the_kept_pairs():
    layout, q, k, v, qc, kc, keep = _case(torch.float32)
    P = 4
    start, valid, count = key_tile_table(keep.view(P, 6, 9), kc.offsets.view(P, 10), 16, layout.video_tokens)
    spans = computed_pairs(count, qc.offsets.view(P, 7), 16, 16, None)
    kept = kept_video_pairs(keep, qc.sizes, kc.sizes).view(P)
    assert (spans >= kept).all() and (spans > 0).all()


# ---------------------------------------------------------------------------------------------
# attention
# ---------------------------------------------------------------------------------------------
CASES = [
    # dtype, F, P, pre, suf, config
    (torch.float32, 3, 37, 0, 0, dict(SOURCE="gather")),
    (torch.float32, 3, 37, 5, 9, dict(SOURCE="copy", HEAD_CHUNK=3, TAIL_M=8)),
    (torch.float16, 4, 23, 0, 11, dict(SOURCE="gather", TAIL_M=8)),
    (torch.float16, 3, 37, 7, 0, dict(SOURCE="copy", HEAD_CHUNK=0, BLOCK_N=32)),
    (torch.float32, 3, 37, 5, 9, dict(SOURCE="packed", HEAD_CHUNK=3, TAIL_M=8)),
    (torch.float16, 4, 23, 0, 0, dict(SOURCE="packed", HEAD_CHUNK=0)),
]


@pytest.mark.parametrize("dtype,F,P,pre,suf,config", CASES)
def test_attention_matches_reference(dtype, F, P, pre, suf, config):
    layout, q, k, v, qc, kc, keep = _case(dtype, F, P, pre, suf, seed=F + pre)
    bias = make_bias(2, layout.total_tokens, pre, layout.video_tokens) if pre + suf else None
    ref = semantic_attention_reference(q, k, v, layout, qc, kc, keep, key_bias=bias)
    out = torch.full_like(q, float("nan"))
    semantic_attention(q, k, v, qc.perm, qc.offsets, kc.perm, kc.offsets, keep, video_start=pre,
                       key_bias=bias, out=out, config=config)
    s, V = layout.video_start, layout.video_tokens
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == torch.float32 else dict(rtol=2e-2, atol=2e-2)
    torch.testing.assert_close(out[:, :, s:s + V].float(), ref[:, :, s:s + V].float(), **tol)
    assert torch.isnan(out[:, :, :s]).all() and torch.isnan(out[:, :, s + V:]).all()   # globals untouched


def test_prepared_tables_and_copies_give_the_same_output():
    layout, q, k, v, qc, kc, keep = _case(torch.float32, pre=3, suf=4)
    config = dict(SOURCE="copy", HEAD_CHUNK=0, TAIL_M=8)
    args = (q, k, v, qc.perm, qc.offsets, kc.perm, kc.offsets, keep)
    prepared = prepare_semantic_attention(*args, video_start=3, config=config, with_copies=True)
    assert len(prepared) == 1 and prepared[0].copies is not None
    stats = {}
    a = semantic_attention(*args, video_start=3, config=config, prepared=prepared, stats=stats)
    b = semantic_attention(*args, video_start=3, config=config)
    s, V = layout.video_start, layout.video_tokens
    assert torch.equal(a[:, :, s:s + V], b[:, :, s:s + V])
    assert (stats["computed_pairs"] >= kept_video_pairs(keep, qc.sizes, kc.sizes).view(-1)).all()


def test_adapter_has_the_reference_signature_and_scale():
    layout, q, k, v, qc, kc, keep = _case(torch.float32, pre=3, suf=2)
    ref = semantic_attention_reference(q, k, v, layout, qc, kc, keep, scale=0.3)
    out = svg2_attention(q, k, v, layout, qc, kc, keep, scale=0.3)
    s, V = layout.video_start, layout.video_tokens
    torch.testing.assert_close(out[:, :, s:s + V], ref[:, :, s:s + V], rtol=1e-4, atol=1e-4)


def test_attention_rejects_bad_inputs():
    layout, q, k, v, qc, kc, keep = _case(torch.float32)
    with pytest.raises(ValueError, match="q_perm"):
        semantic_attention(q, k, v, qc.perm.long(), qc.offsets, kc.perm, kc.offsets, keep, video_start=0)
    with pytest.raises(ValueError, match="keep"):
        semantic_attention(q, k, v, qc.perm, qc.offsets, kc.perm, kc.offsets, keep[:, :, 1:], video_start=0)
    with pytest.raises(ValueError, match="does not fit"):
        semantic_attention(q, k, v, qc.perm, qc.offsets, kc.perm, kc.offsets, keep, video_start=5)
    with pytest.raises(ValueError, match="SOURCE"):
        semantic_attention(q, k, v, qc.perm, qc.offsets, kc.perm, kc.offsets, keep, video_start=0,
                           config=dict(SOURCE="nope"))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16])
def test_cluster_key_logits_match_reference(dtype):
    from svg_pack.kernels import cluster_key_logits
    from svg_pack.svg_attention.semantic import centroid_key_logits
    layout, q, k, v, qc, kc, keep = _case(dtype, pre=2, suf=3, ck=21)
    keys = _video(k, layout)
    ref = centroid_key_logits(qc, kc, keys, 0.125)
    got = cluster_key_logits(qc.centroids, keys, kc.perm, kc.offsets, 0.125)
    finite = torch.isfinite(ref)
    assert torch.equal(finite, torch.isfinite(got))              # empty clusters: -inf in both
    tol = dict(rtol=1e-4, atol=1e-4) if dtype == torch.float32 else dict(rtol=2e-2, atol=2e-2)
    torch.testing.assert_close(got[finite].exp(), ref[finite].exp(), **tol)

"""SVG2's selection, density and reference attention on the cluster-permuted layout (plain torch)."""
import itertools
import math

import pytest
import torch

from svg_pack.svg_attention.clustering import Clusters, kmeans, permute_by_cluster
from svg_pack.svg_attention.layout import VideoLayout
from svg_pack.svg_attention.semantic import (call_density, centroid_logits, global_pairs, kept_video_pairs,
                                             reorder_clusters, select_budget, select_top_p,
                                             semantic_attention_reference, video_pair_budget)


def _clusters(labels, centroids):
    perm, sizes, offsets = permute_by_cluster(labels, centroids.shape[2])
    return Clusters(centroids, labels, perm, sizes, offsets)


def _case(B=2, H=2, F=3, P=20, pre=4, suf=5, D=16, cq=5, ck=7, seed=0):
    layout = VideoLayout(F, P, pre, suf)
    g = torch.Generator().manual_seed(seed)
    q, k, v = torch.randn(3, B, H, layout.total_tokens, D, generator=g, dtype=torch.float64).unbind(0)
    V, s = layout.video_tokens, layout.video_start
    qc = kmeans(q[:, :, s:s + V], cq, 3)
    kc = kmeans(k[:, :, s:s + V], ck, 3)
    return layout, q, k, v, qc, kc


def naive(q, k, v, layout, qc, kc, keep, key_bias=None, scale=None):
    """Dense N x N masked softmax in token order (tiny sizes only): [B, H, V, D] float64."""
    B, H, N, D = q.shape
    s, V = layout.video_start, layout.video_tokens
    scale = 1 / math.sqrt(D) if scale is None else scale
    out = torch.empty(B, H, V, D, dtype=torch.float64)
    for b in range(B):
        for h in range(H):
            mask = torch.ones(N, N, dtype=torch.bool)
            mask[s:s + V, s:s + V] = keep[b, h][qc.labels[b, h].long()][:, kc.labels[b, h].long()]
            scores = q[b, h].double() @ k[b, h].double().T * scale
            if key_bias is not None:
                bias = key_bias[b if key_bias.shape[0] > 1 else 0].double().clone()
                bias[s:s + V] = 0
                scores = scores + bias
            probs = torch.softmax(scores.masked_fill(~mask, -math.inf), -1)
            out[b, h] = (probs @ v[b, h].double())[s:s + V]
    return out


def test_logits_are_centroid_scores_plus_log_key_cluster_size():
    labels_k = torch.tensor([[[0, 0, 0, 2, 2, 0]]], dtype=torch.int32)
    kc = _clusters(labels_k, torch.randn(1, 1, 3, 4))
    qc = _clusters(torch.zeros(1, 1, 6, dtype=torch.int32), torch.randn(1, 1, 1, 4))
    logits = centroid_logits(qc, kc, 0.5)
    raw = qc.centroids[0, 0] @ kc.centroids[0, 0].T * 0.5
    torch.testing.assert_close(logits[0, 0, 0, [0, 2]], raw[0, [0, 2]] + torch.tensor([4.0, 2.0]).log())
    assert logits[0, 0, 0, 1] == -math.inf                      # empty key cluster


def test_top_p_keeps_the_smallest_prefix_reaching_p_and_the_floor():
    # shares 0.5, 0.3, 0.15, 0.05 (one query cluster, four key clusters of one token each)
    logits = torch.tensor([0.5, 0.3, 0.15, 0.05]).log().view(1, 1, 1, 4)
    ones = torch.ones(1, 1, 4, dtype=torch.int32)
    one = torch.ones(1, 1, 1, dtype=torch.int32)
    keep = lambda p, floor: select_top_p(logits, one, ones, p, floor)[0, 0, 0].tolist()   # noqa: E731
    assert keep(0.5, 0.0) == [True, False, False, False]
    assert keep(0.6, 0.0) == [True, True, False, False]
    assert keep(0.9, 0.0) == [True, True, True, False]
    assert keep(0.5, 0.5) == [True, True, False, False]        # floor: 2 of 4 key clusters
    assert keep(1.0, 0.0) == [True, True, True, True]
    sizes = torch.tensor([[[1, 0, 1, 1]]], dtype=torch.int32)   # an empty cluster is never kept
    assert select_top_p(logits, one, sizes, 1.0, 1.0)[0, 0, 0, 1].item() is False


def test_budget_takes_the_highest_weight_per_key_within_the_budget():
    # one query cluster of 2 tokens; key clusters of sizes 1, 4, 2, 1 with shares 0.4, 0.4, 0.15, 0.05
    k_sizes = torch.tensor([[[1, 4, 2, 1]]], dtype=torch.int32)
    q_sizes = torch.tensor([[[2]]], dtype=torch.int32)
    logits = torch.tensor([0.4, 0.4, 0.15, 0.05]).log().view(1, 1, 1, 4)
    # weight per key: 0.4, 0.1, 0.075, 0.05 -> order 0, 1, 2, 3 at costs 2, 8, 4, 2
    pick = lambda budget: select_budget(logits, q_sizes, k_sizes, budget, 0.0)[0, 0, 0].tolist()   # noqa: E731
    assert pick(2) == [True, False, False, False]
    assert pick(5) == [True, False, False, False]              # the next pair (cost 8) would not half fit
    assert pick(6) == [True, True, False, False]               # half of it fits: within half a pair
    assert pick(14) == [True, True, True, False]
    assert pick(0) == [True, False, False, False]              # the floor: at least one key cluster
    # a floor of 50%: the two largest shares (clusters 0 and 1) first, then the budget
    assert select_budget(logits, q_sizes, k_sizes, 10, 0.5)[0, 0, 0].tolist() == [True, True, False, False]


@pytest.mark.parametrize("density", [0.3, 0.5, 0.8])
def test_budget_lands_within_half_a_pair_and_greedy_is_optimal_for_its_ratio(density):
    layout, q, k, v, qc, kc = _case(seed=1)
    logits = centroid_logits(qc, kc, 0.25)
    budget = video_pair_budget(layout, density)
    keep = select_budget(logits, qc.sizes, kc.sizes, budget, 0.0)
    kept = kept_video_pairs(keep, qc.sizes, kc.sizes)
    floor = select_budget(logits, qc.sizes, kc.sizes, 0, 0.0)
    cost = qc.sizes[..., :, None] * kc.sizes[..., None, :]
    biggest = (cost * ~floor).flatten(2).max(-1).values
    floor_pairs = kept_video_pairs(floor, qc.sizes, kc.sizes)
    assert (((kept - budget).abs() <= biggest // 2 + 1) | ((floor_pairs >= budget) & (kept == floor_pairs))).all()
    # every pair left out weighs no more per key than the lightest pair taken beyond the floor
    per_key = torch.log_softmax(logits, -1) - kc.sizes.float().log()[..., None, :]
    taken = keep & ~floor
    for b, h in itertools.product(range(2), range(2)):
        if taken[b, h].any():
            lightest = per_key[b, h][taken[b, h]].min()
            left = per_key[b, h][~keep[b, h] & (cost[b, h] > 0)]
            assert (left <= lightest + 1e-6).all()


def test_kept_pairs_and_density_count_globals_like_the_band():
    layout, q, k, v, qc, kc = _case()
    keep = torch.rand(2, 2, 5, 7, generator=torch.Generator().manual_seed(3)) < 0.5
    kept = kept_video_pairs(keep, qc.sizes, kc.sizes)
    for b, h in itertools.product(range(2), range(2)):
        mask = keep[b, h][qc.labels[b, h].long()][:, kc.labels[b, h].long()]
        assert kept[b, h].item() == int(mask.sum())
    N, V = layout.total_tokens, layout.video_tokens
    G = layout.global_tokens
    assert global_pairs(layout) == V * G + G * N                 # budget.kept_pairs' global part
    torch.testing.assert_close(call_density(kept, layout), ((kept + V * G + G * N) / N ** 2).float())
    all_kept = kept_video_pairs(torch.ones_like(keep), qc.sizes, kc.sizes)
    assert torch.equal(call_density(all_kept, layout), torch.ones(2, 2))
    assert video_pair_budget(layout, 1.0) == V * V and video_pair_budget(layout, 0.0) == 0


@pytest.mark.parametrize("pre,suf,bias", [(0, 0, False), (4, 5, False), (4, 5, True), (0, 7, True)])
def test_reference_matches_naive_masked_softmax(pre, suf, bias):
    layout, q, k, v, qc, kc = _case(pre=pre, suf=suf, seed=pre + suf)
    keep = select_top_p(centroid_logits(qc, kc, 0.25), qc.sizes, kc.sizes, 0.7, 0.2)
    key_bias = None
    if bias:
        key_bias = torch.zeros(2, layout.total_tokens)
        key_bias[0, -2:] = -1e9
        key_bias[1, :1] = 0.7
        key_bias[:, pre:pre + layout.video_tokens] = 1e4          # video entries are never read
    out = semantic_attention_reference(q, k, v, layout, qc, kc, keep, key_bias=key_bias, row_chunk=4)
    s, V = layout.video_start, layout.video_tokens
    torch.testing.assert_close(out[:, :, s:s + V], naive(q, k, v, layout, qc, kc, keep, key_bias),
                               rtol=1e-5, atol=1e-6)


def test_reference_keeping_everything_is_dense_and_renumbering_changes_nothing():
    layout, q, k, v, qc, kc = _case(seed=5)
    s, V = layout.video_start, layout.video_tokens
    keep = torch.ones(2, 2, 5, 7, dtype=torch.bool)
    out = semantic_attention_reference(q, k, v, layout, qc, kc, keep)
    dense = torch.softmax(q @ k.transpose(-1, -2) / 4.0, -1) @ v
    torch.testing.assert_close(out[:, :, s:s + V], dense[:, :, s:s + V])
    keep = torch.rand(2, 2, 5, 7, generator=torch.Generator().manual_seed(6)) < 0.4
    keep[..., 0] = True
    order = torch.stack([torch.randperm(7, generator=torch.Generator().manual_seed(i)) for i in range(4)]).view(2, 2, 7)
    kc2 = reorder_clusters(kc, order)
    keep2 = keep.gather(-1, order[:, :, None, :].expand_as(keep))
    assert (kc2.labels.gather(-1, kc2.perm.long()).diff(dim=-1) >= 0).all()
    torch.testing.assert_close(kc2.centroids, kc.centroids.gather(2, order[..., None].expand_as(kc.centroids)))
    a = semantic_attention_reference(q, k, v, layout, qc, kc, keep)
    b = semantic_attention_reference(q, k, v, layout, qc, kc2, keep2)
    torch.testing.assert_close(a[:, :, s:s + V], b[:, :, s:s + V])


def test_settings_report_every_problem_and_plan_counts_clusters():
    from svg_pack.svg_attention.semantic_settings import SemanticSettings, plan_semantic
    with pytest.raises(ValueError) as error:
        SemanticSettings(query_tokens_per_cluster=0, min_key_clusters=5, max_key_clusters=4, full_iterations=0,
                         warm_iterations=3, selection="nope", top_p=0.0, min_key_fraction=2.0)
    for word in ("query_tokens_per_cluster", "min_key_clusters", "full_iterations", "warm_iterations",
                 "selection", "top_p", "min_key_fraction"):
        assert word in str(error.value)
    settings = SemanticSettings()
    plan = plan_semantic(VideoLayout(8, 256), 0.289, settings)
    assert (plan.query_clusters, plan.key_clusters, plan.covers_all) == (128, 256, False)
    big = plan_semantic(VideoLayout(21, 3600), 0.25, settings)
    assert (big.query_clusters, big.key_clusters) == (256, 1024)
    assert plan_semantic(VideoLayout(8, 256), 1.0, settings).covers_all


def test_cached_clustering_warm_starts_and_select_pairs_follows_the_settings():
    from svg_pack.svg_attention.clustering import CentroidCache, kmeans_cached
    from svg_pack.svg_attention.semantic import select_pairs
    from svg_pack.svg_attention.semantic_settings import SemanticSettings
    layout, q, k, v, _, _ = _case(seed=7)
    s, V = layout.video_start, layout.video_tokens
    cache = CentroidCache()
    first, warm = kmeans_cached(q[:, :, s:s + V], 5, cache, (3, "q"), 6, 1)
    assert not warm and len(cache) == 1
    second, warm = kmeans_cached(q[:, :, s:s + V], 5, cache, (3, "q"), 6, 1)
    assert warm
    torch.testing.assert_close(second.centroids, kmeans(q[:, :, s:s + V], 5, 1, init=first.centroids).centroids)
    kc, _ = kmeans_cached(k[:, :, s:s + V], 7, cache, (3, "k"), 6, 1)
    budget = select_pairs(second, kc, 0.25, layout, SemanticSettings(scores="centroids"), 0.5)
    kept = call_density(kept_video_pairs(budget, second.sizes, kc.sizes), layout)
    assert ((kept - 0.5).abs() < 0.05).all()
    with pytest.raises(ValueError, match="keys"):
        select_pairs(second, kc, 0.25, layout, SemanticSettings(), 0.5)
    keys = k[:, :, s:s + V]
    by_keys = select_pairs(second, kc, 0.25, layout, SemanticSettings(), 0.5, keys=keys)
    assert ((call_density(kept_video_pairs(by_keys, second.sizes, kc.sizes), layout) - 0.5).abs() < 0.05).all()
    top = select_pairs(second, kc, 0.25, layout, SemanticSettings(selection="top_p", top_p=1.0), 0.5, keys=keys)
    assert torch.equal(top, (kc.sizes > 0)[:, :, None, :].expand_as(top) & (second.sizes > 0)[..., None])


def test_key_logits_are_each_centroid_softmax_summed_per_key_cluster():
    from svg_pack.svg_attention.semantic import centroid_key_logits
    layout, q, k, v, qc, kc = _case(seed=8)
    s, V = layout.video_start, layout.video_tokens
    keys = k[:, :, s:s + V]
    got = centroid_key_logits(qc, kc, keys, 0.25, max_chunk_bytes=1)    # one query centroid at a time
    for b, h in itertools.product(range(2), range(2)):
        share = torch.softmax(qc.centroids[b, h].double() @ keys[b, h].double().T * 0.25, -1)
        for c in range(kc.num_clusters):
            members = kc.labels[b, h] == c
            want = share[:, members].sum(-1).log() if members.any() else torch.full((5,), -math.inf)
            torch.testing.assert_close(got[b, h, :, c].double(), want.double(), rtol=1e-4, atol=1e-5)
    assert torch.allclose(got.exp().sum(-1), torch.ones(2, 2, 5))

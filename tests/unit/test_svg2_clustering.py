"""SVG2's k-means (plain torch): cluster counts, initialisation, assignment, update, permutation,
warm start and the centroid cache."""
import pytest
import torch

from svg_pack.svg_attention.clustering import (CentroidCache, ClusterRule, assign_reference, init_centroids,
                                               kmeans, permute_by_cluster, update_reference)


def _blobs(B=2, H=2, per=30, centres=5, D=8, seed=0, spread=0.05):
    """Well separated Gaussian blobs, tokens interleaved (blob = token % centres)."""
    g = torch.Generator().manual_seed(seed)
    mu = torch.randn(B, H, centres, D, generator=g) * 4
    label = torch.arange(per * centres) % centres
    x = mu[:, :, label] + spread * torch.randn(B, H, per * centres, D, generator=g)
    return x, label


def test_cluster_rule_counts_tokens_per_cluster_and_clamps():
    rule = ClusterRule(tokens_per_cluster=8, min_clusters=16, max_clusters=1024)
    assert rule.count(2_048) == 256
    assert rule.count(2_049) == 257
    assert rule.count(75_600) == 1024     # the maximum
    assert rule.count(64) == 16           # the minimum
    assert rule.count(5) == 5             # never more clusters than tokens
    with pytest.raises(ValueError, match="tokens_per_cluster.*min_clusters.*max_clusters"):
        ClusterRule(tokens_per_cluster=0, min_clusters=0, max_clusters=-1)


def test_assign_reference_is_the_nearest_centroid_lowest_index_on_ties():
    g = torch.Generator().manual_seed(1)
    x = torch.randn(2, 3, 50, 16, generator=g)
    c = torch.randn(2, 3, 7, 16, generator=g)
    brute = torch.cdist(x.double(), c.double()).argmin(-1)
    assert torch.equal(assign_reference(x, c, chunk=16).long(), brute)
    tie = torch.cat([c[:, :, :1], c[:, :, :1]], dim=2)          # two equal centroids
    assert (assign_reference(x, tie) == 0).all()


def test_permutation_is_stable_with_sizes_and_offsets():
    labels = torch.tensor([[[2, 0, 2, 1, 0, 2]]], dtype=torch.int32)
    perm, sizes, offsets = permute_by_cluster(labels, 4)
    assert perm.tolist() == [[[1, 4, 3, 0, 2, 5]]]
    assert sizes.tolist() == [[[2, 1, 3, 0]]]
    assert offsets.tolist() == [[[0, 2, 3, 6, 6]]]
    assert perm.dtype == sizes.dtype == offsets.dtype == torch.int32


def test_update_is_the_cluster_mean_and_empty_clusters_keep_their_centroid():
    g = torch.Generator().manual_seed(2)
    x = torch.randn(1, 2, 12, 4, generator=g)
    labels = torch.tensor([0, 1, 0, 1, 3, 3, 0, 1, 3, 0, 1, 3], dtype=torch.int32).expand(1, 2, 12)
    previous = torch.randn(1, 2, 4, 4, generator=g)
    perm, _, offsets = permute_by_cluster(labels, 4)
    new = update_reference(x, perm, offsets, previous)
    for c in (0, 1, 3):
        torch.testing.assert_close(new[:, :, c], x[:, :, labels[0, 0] == c].mean(2))
    assert torch.equal(new[:, :, 2], previous[:, :, 2])          # cluster 2 is empty


def test_kmeans_clusters_are_pure_and_per_batch_and_head():
    x, label = _blobs()
    result = kmeans(x, 10, 10)          # twice as many clusters as blobs
    for b in range(2):
        for h in range(2):
            found = result.labels[b, h].long()
            for c in found.unique():
                assert label[found == c].unique().numel() == 1      # no cluster mixes two blobs
            assert label[found == found[0]].numel() > 0
    assert result.sizes.sum(-1).eq(150).all()
    assert torch.equal(result.offsets[..., -1], torch.full((2, 2), 150, dtype=torch.int32))
    # cluster order of the permutation
    sorted_labels = result.labels.gather(-1, result.perm.long())
    assert (sorted_labels.diff(dim=-1) >= 0).all()
    # every (b, h) on its own: swapping the batch elements swaps the results
    swapped = kmeans(x.flip(0), 10, 10)
    assert torch.equal(swapped.labels, result.labels.flip(0))
    torch.testing.assert_close(swapped.centroids, result.centroids.flip(0))


def test_centroids_are_the_means_of_the_returned_labels():
    g = torch.Generator().manual_seed(3)
    x = torch.randn(1, 1, 200, 8, generator=g)
    result = kmeans(x, 6, 3)
    for c in range(6):
        members = x[0, 0, result.labels[0, 0] == c]
        if len(members):
            torch.testing.assert_close(result.centroids[0, 0, c], members.mean(0))


def test_warm_start_from_converged_centroids_is_a_fixed_point():
    x, _ = _blobs(seed=4)
    full = kmeans(x, 5, 20)
    warm = kmeans(x, 5, 1, init=full.centroids)
    assert torch.equal(warm.labels, full.labels)
    torch.testing.assert_close(warm.centroids, full.centroids)


def test_init_takes_one_token_per_stretch_without_aliasing():
    x = torch.arange(100.0).view(1, 1, 100, 1).expand(1, 1, 100, 2)
    picked = init_centroids(x, 10)[0, 0, :, 0].long()
    assert torch.equal(picked // 10, torch.arange(10))          # one per stretch of 10 tokens
    assert picked.remainder(10).unique().numel() >= 6           # not the same offset in each
    assert torch.equal(init_centroids(x, 10), init_centroids(x, 10))
    with pytest.raises(ValueError):
        init_centroids(x, 101)


def test_centroid_cache_checks_shapes_and_reports_memory():
    cache = CentroidCache(dtype=torch.bfloat16)
    c = torch.randn(2, 3, 4, 8)
    cache.put((0, "q"), c)
    assert cache.get((0, "q"), (2, 3, 4, 8)).dtype == torch.bfloat16
    assert cache.get((0, "q"), (1, 3, 4, 8)) is None          # batch changed: cluster again
    assert cache.get((1, "q"), (2, 3, 4, 8)) is None
    assert cache.nbytes() == 2 * 3 * 4 * 8 * 2 and len(cache) == 1
    cache.clear()
    assert len(cache) == 0 and cache.nbytes() == 0

"""Euclidean k-means of one call's video queries or keys, per (batch element, head): plain torch.

SVG2 (Sparse VideoGen2) groups each head's queries, and separately its keys, into clusters of
similar vectors, permutes the tokens so that every cluster is contiguous, and attends at the level
of (query cluster, key cluster) pairs. This module is the clustering half: the cluster-count rule,
the deterministic initialisation, one assignment and one centroid-update step (the math the Triton
kernels in ``kernels/kmeans.py`` reproduce), the stable permutation by cluster, and the per-run
centroid cache that lets later steps start from the previous step's centroids.

Shapes: ``x`` is [B, H, V, D] (the video tokens of q or k, frame-major, any strides); centroids are
float32 [B, H, C, D]; labels int32 [B, H, V]; every (b, h) is clustered on its own, so cond and
uncond of a CFG batch never share clusters. Memory: V x chunk distances per step, never V x C x D.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Optional

import torch


@dataclass(frozen=True)
class ClusterRule:
    """How many clusters a video of ``V`` tokens gets: ``ceil(V / tokens_per_cluster)`` clamped to
    [min_clusters, max_clusters] and to V.

    Small videos get small clusters (selection resolution: on the bundled 2,048-token model, 16-token
    query / 8-token key clusters cut the per-call output error well below SVG's, 45 / 91 clusters did
    not beat it); the maximum bounds the k-means cost (V x C x D per iteration) and the score matrix at
    video sizes, where it also keeps query clusters above the attention kernel's 128-row tiles.
    """

    tokens_per_cluster: int
    min_clusters: int
    max_clusters: int

    def __post_init__(self):
        problems = []
        if self.tokens_per_cluster < 1:
            problems.append(f"tokens_per_cluster must be >= 1, got {self.tokens_per_cluster}")
        if self.min_clusters < 1:
            problems.append(f"min_clusters must be >= 1, got {self.min_clusters}")
        if self.max_clusters < self.min_clusters:
            problems.append(f"max_clusters ({self.max_clusters}) must be >= min_clusters ({self.min_clusters})")
        if problems:
            raise ValueError("ClusterRule: " + "; ".join(problems))

    def count(self, tokens: int) -> int:
        if tokens < 1:
            raise ValueError(f"cannot cluster {tokens} tokens")
        wanted = -(-tokens // self.tokens_per_cluster)
        return max(1, min(tokens, self.max_clusters, max(self.min_clusters, wanted)))


@dataclass
class Clusters:
    """One clustering of [B, H, V, D] vectors.

    centroids: float32 [B, H, C, D], the mean of each cluster's vectors (an empty cluster keeps the
               centroid it had before the last update).
    labels:    int32 [B, H, V], the cluster of each frame-major video token.
    perm:      int32 [B, H, V], the video index at each permuted position: tokens sorted by cluster,
               ties in frame-major order (stable).
    sizes:     int32 [B, H, C] tokens per cluster.
    offsets:   int32 [B, H, C + 1], first permuted position of each cluster; ``offsets[..., C] == V``.
    """

    centroids: torch.Tensor
    labels: torch.Tensor
    perm: torch.Tensor
    sizes: torch.Tensor
    offsets: torch.Tensor

    @property
    def num_clusters(self) -> int:
        return self.centroids.shape[2]


AssignFn = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
UpdateFn = Callable[[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor], torch.Tensor]


def _check_points(x: torch.Tensor, centroids: Optional[torch.Tensor] = None):
    if x.dim() != 4:
        raise ValueError(f"x must be [B, H, V, D], got shape {tuple(x.shape)}")
    if centroids is not None:
        B, H, _, D = x.shape
        if centroids.dim() != 4 or tuple(centroids.shape[:2]) != (B, H) or centroids.shape[3] != D:
            raise ValueError(f"centroids must be [B, H, C, D] = [{B}, {H}, C, {D}], got {tuple(centroids.shape)}")


def init_centroids(x: torch.Tensor, num_clusters: int) -> torch.Tensor:
    """Deterministic start, float32 [B, H, C, D]: one token from each of ``num_clusters`` equal
    stretches of the frame-major video, at an offset inside the stretch that follows the golden-ratio
    sequence (a fixed offset would pick the same spatial positions in every frame whenever the
    stretch divides the frame). No random generator: the same input gives the same clusters in every
    batch position."""
    _check_points(x)
    tokens = x.shape[2]
    if not 1 <= num_clusters <= tokens:
        raise ValueError(f"num_clusters must be in [1, {tokens}], got {num_clusters}")
    i = torch.arange(num_clusters, dtype=torch.float64)
    jitter = torch.frac(i * 0.6180339887498949 + 0.5)
    index = ((i + jitter) * tokens / num_clusters).long().clamp_(max=tokens - 1)
    return x.index_select(2, index.to(x.device)).float()


def assign_reference(x: torch.Tensor, centroids: torch.Tensor, chunk: int = 4096) -> torch.Tensor:
    """Nearest centroid of every vector (squared Euclidean distance; the lowest index on ties):
    int32 [B, H, V]. fp32 math; ``chunk`` vectors at a time (memory chunk x C per head)."""
    _check_points(x, centroids)
    c = centroids.float()
    c_sq = c.pow(2).sum(-1)                                          # [B, H, C]
    out = torch.empty(x.shape[:3], dtype=torch.int32, device=x.device)
    for start in range(0, x.shape[2], chunk):
        xs = x[:, :, start:start + chunk].float()
        # ||x - c||^2 = ||x||^2 - 2 x.c + ||c||^2; ||x||^2 is the same for every centroid
        dist = c_sq[:, :, None, :] - 2.0 * torch.matmul(xs, c.transpose(-1, -2))
        out[:, :, start:start + chunk] = dist.argmin(dim=-1).to(torch.int32)
    return out


def permute_by_cluster(labels: torch.Tensor, num_clusters: int):
    """Stable sort of the tokens by cluster: (perm int32 [B, H, V], sizes int32 [B, H, C],
    offsets int32 [B, H, C + 1])."""
    perm = torch.sort(labels, dim=-1, stable=True).indices.to(torch.int32)
    sizes = torch.zeros(labels.shape[:2] + (num_clusters,), dtype=torch.int32, device=labels.device)
    sizes.scatter_add_(2, labels.long(), torch.ones_like(labels))
    offsets = torch.zeros(labels.shape[:2] + (num_clusters + 1,), dtype=torch.int32, device=labels.device)
    torch.cumsum(sizes, dim=-1, out=offsets[..., 1:])
    return perm, sizes, offsets


def update_reference(x: torch.Tensor, perm: torch.Tensor, offsets: torch.Tensor,
                     previous: torch.Tensor) -> torch.Tensor:
    """New centroids: the mean of each cluster's vectors (segments of the permuted order), float32
    [B, H, C, D]; an empty cluster keeps its ``previous`` centroid."""
    _check_points(x, previous)
    B, H, V, D = x.shape
    C = previous.shape[2]
    sizes = (offsets[:, :, 1:] - offsets[:, :, :-1]).long()                  # [B, H, C]
    # cluster of every permuted position, numbered across all (b, h): one index_add, no loop
    local = torch.repeat_interleave(torch.arange(C, device=x.device).repeat(B * H), sizes.reshape(-1),
                                    output_size=B * H * V)
    flat = local + torch.arange(B * H, device=x.device).repeat_interleave(V) * C
    rows = x.float().reshape(B * H, V, D).gather(1, perm.long().reshape(B * H, V, 1).expand(B * H, V, D))
    sums = torch.zeros(B * H * C, D, dtype=torch.float32, device=x.device)
    sums.index_add_(0, flat, rows.reshape(B * H * V, D))
    means = sums.view(B, H, C, D) / sizes.clamp_min(1)[..., None].float()
    return torch.where(sizes[..., None] > 0, means, previous.float())


def kmeans(x: torch.Tensor, num_clusters: int, iterations: int, init: Optional[torch.Tensor] = None,
           assign: AssignFn = assign_reference, update: UpdateFn = update_reference) -> Clusters:
    """``iterations`` rounds of (assign, permute, update) from ``init`` (cached centroids of an
    earlier step: a warm start) or from :func:`init_centroids` (a full clustering). The labels are
    those of the last assignment and the centroids the means of exactly those clusters.

    ``assign`` / ``update`` have the signatures of :func:`assign_reference` /
    :func:`update_reference` (the Triton kernels of ``kernels.kmeans`` are drop-in).
    """
    if iterations < 1:
        raise ValueError(f"iterations must be >= 1, got {iterations}")
    centroids = init_centroids(x, num_clusters) if init is None else init.float()
    _check_points(x, centroids)
    if centroids.shape[2] != num_clusters:
        raise ValueError(f"init has {centroids.shape[2]} clusters, expected {num_clusters}")
    for _ in range(iterations):
        labels = assign(x, centroids)
        perm, sizes, offsets = permute_by_cluster(labels, num_clusters)
        centroids = update(x, perm, offsets, centroids)
    return Clusters(centroids, labels, perm, sizes, offsets)


def kmeans_cached(x: torch.Tensor, num_clusters: int, cache: "CentroidCache", key, full_iterations: int,
                  warm_iterations: int, assign: AssignFn = assign_reference,
                  update: UpdateFn = update_reference) -> tuple:
    """One call's clustering with the run's cache: ``warm_iterations`` from the centroids cached
    under ``key`` when they fit this call, else a full clustering of ``full_iterations``; the new
    centroids replace the cached ones. Returns (Clusters, warm: bool)."""
    B, H, _, D = x.shape
    init = cache.get(key, (B, H, num_clusters, D))
    warm = init is not None
    clusters = kmeans(x, num_clusters, warm_iterations if warm else full_iterations, init=init,
                      assign=assign, update=update)
    cache.put(key, clusters.centroids)
    return clusters, warm


class CentroidCache:
    """Centroids of the previous step, per attention layer, for one sampling run (SVG2's warm start).

    Keyed by whatever identifies a layer's call across steps (e.g. ``(block_index, cond_or_uncond)``
    when ComfyUI runs cond and uncond as separate batches). An entry is used only when its shape
    matches the new call (same batch, heads, cluster count, head_dim); otherwise the caller does a
    full clustering and replaces it. Stored in ``dtype`` (bfloat16 halves the memory of float32;
    a warm start does not need more).
    """

    def __init__(self, dtype: torch.dtype = torch.float32):
        self.dtype = dtype
        self._entries: dict = {}

    def get(self, key, shape) -> Optional[torch.Tensor]:
        entry = self._entries.get(key)
        if entry is None or tuple(entry.shape) != tuple(shape):
            return None
        return entry

    def put(self, key, centroids: torch.Tensor) -> None:
        self._entries[key] = centroids.detach().to(self.dtype)

    def clear(self) -> None:
        self._entries.clear()

    def __len__(self) -> int:
        return len(self._entries)

    def nbytes(self) -> int:
        return sum(t.numel() * t.element_size() for t in self._entries.values())

"""The settings of SVG2 (semantic-aware permutation), validated once, and the per-layout plan."""
from __future__ import annotations

from dataclasses import dataclass

from .clustering import ClusterRule
from .layout import VideoLayout

SELECTIONS = ("budget", "top_p")
SCORES = ("keys", "centroids")


@dataclass(frozen=True)
class SemanticSettings:
    """What SVG2 does per call.

    query_tokens_per_cluster / key_tokens_per_cluster: clusters = ceil(video tokens / this), clamped
        to [min_*, max_*] (``clustering.ClusterRule``). Defaults: the bundled 2,048-token model gets
        128 query / 256 key clusters; Wan 14B 720p (75,600 tokens) the maxima, 256 / 1024 (clusters
        of 295 / 74 tokens; the official code: 300 / 1000).
    full_iterations:  k-means iterations of a full clustering (the first sparse step of a layer,
        or whenever the cached centroids do not fit the call).
    warm_iterations:  iterations per later step, started from the layer's cached centroids.
    scores:           how the share of each (query cluster, key cluster) pair is estimated: "keys",
        each query centroid's softmax over all video keys summed per key cluster (sees the spread of
        a key cluster; on sharp synthetic heads it cut the error from 0.41 to 0.00); "centroids",
        SVG2's centroid . centroid + log(cluster size) (cheaper: Cq x Ck instead of Cq x V).
    selection:        "budget": keep the pairs of highest estimated weight per key until the
        requested density (the node's sparsity: patterns compared at the same density); "top_p":
        SVG2's rule, each query cluster keeps key clusters until ``top_p`` of its estimated
        attention (the density follows from the data).
    top_p:            the share for "top_p".
    min_key_fraction: floor, both selections: every query cluster keeps at least this fraction of
        the non-empty key clusters (its largest shares), and always at least one. Default 0: on the
        bundled model's calls a 5% or 20% floor changed the error by under 2%, and at high sparsity
        a floor of large clusters can exceed the budget.
    """

    query_tokens_per_cluster: int = 16
    key_tokens_per_cluster: int = 8
    min_query_clusters: int = 8
    max_query_clusters: int = 256
    min_key_clusters: int = 16
    max_key_clusters: int = 1024
    full_iterations: int = 20
    warm_iterations: int = 1
    scores: str = "keys"
    selection: str = "budget"
    top_p: float = 0.9
    min_key_fraction: float = 0.0

    def __post_init__(self):
        problems = []
        for name in ("query_tokens_per_cluster", "key_tokens_per_cluster"):
            if not 1 <= getattr(self, name) <= 65536:
                problems.append(f"{name} must be in [1, 65536], got {getattr(self, name)}")
        for kind in ("query", "key"):
            low, high = getattr(self, f"min_{kind}_clusters"), getattr(self, f"max_{kind}_clusters")
            if not 1 <= low <= high:
                problems.append(f"need 1 <= min_{kind}_clusters ({low}) <= max_{kind}_clusters ({high})")
        if not 1 <= self.full_iterations <= 200:
            problems.append(f"full_iterations must be in [1, 200], got {self.full_iterations}")
        if not 1 <= self.warm_iterations <= self.full_iterations:
            problems.append(f"warm_iterations must be in [1, full_iterations], got {self.warm_iterations}")
        if self.scores not in SCORES:
            problems.append(f"scores must be one of {SCORES}, got {self.scores!r}")
        if self.selection not in SELECTIONS:
            problems.append(f"selection must be one of {SELECTIONS}, got {self.selection!r}")
        if not 0.0 < self.top_p <= 1.0:
            problems.append(f"top_p must be in (0, 1], got {self.top_p}")
        if not 0.0 <= self.min_key_fraction <= 1.0:
            problems.append(f"min_key_fraction must be in [0, 1], got {self.min_key_fraction}")
        if problems:
            raise ValueError("SVG2 settings: " + "; ".join(problems))

    @property
    def query_rule(self) -> ClusterRule:
        return ClusterRule(self.query_tokens_per_cluster, self.min_query_clusters, self.max_query_clusters)

    @property
    def key_rule(self) -> ClusterRule:
        return ClusterRule(self.key_tokens_per_cluster, self.min_key_clusters, self.max_key_clusters)


@dataclass(frozen=True)
class SemanticPlan:
    """Per layout and settings: cluster counts and the requested kept fraction of the call.

    density:        the kept fraction asked for (budget selection; with top_p only the report's
                    expectation); global rows and columns included, as ``budget.kept_pairs`` counts.
    covers_all:     the request keeps everything (the call can stay dense).
    """

    query_clusters: int
    key_clusters: int
    density: float
    covers_all: bool


def plan_semantic(layout: VideoLayout, density: float, settings: SemanticSettings) -> SemanticPlan:
    """Cluster counts for this video and the kept fraction to aim for. ``density``: pass
    ``plan_band(layout, sparsity, block_size).density`` to compare with SVG at its density, or
    ``1 - sparsity``."""
    if not 0.0 <= density <= 1.0:
        raise ValueError(f"density must be in [0, 1], got {density}")
    video = layout.video_tokens
    return SemanticPlan(query_clusters=settings.query_rule.count(video), key_clusters=settings.key_rule.count(video),
                        density=float(density), covers_all=density >= 1.0)

"""The "svg2" pattern: Sparse VideoGen2 (Yang, Xi et al., NeurIPS 2025), semantic-aware permutation.

Per call, per (batch element, head): k-means of the video queries and of the video keys
(clustering.py: a full clustering the first time a layer is seen in a run, then
``warm_iterations`` from that layer's cached centroids), the (query cluster, key cluster) pairs to
keep (semantic.select_pairs: the budget at SVG's density for this layout and sparsity, or SVG2's
``top_p`` rule), attention over the kept pairs on the cluster-permuted layout (op "svg2_attention"),
the dense global rows (op "global_rows"). Labels: none (every head runs the same way); the kept
fraction is per (batch element, head) and data-dependent: ``PatternDecision.head_density`` [B, H]
and ``density`` (their mean) stay on the device until the run reads them.

Run state (``SVG2RunState``): the centroid cache, keyed by (block index, device, head offset, the
batch composition (ComfyUI's cond_or_uncond), "q" / "k"), so cond and uncond batched together or
apart each find their own centroids; bfloat16 (a warm start does not need more; at Wan 14B 720p,
CFG batch 2, 39 sparse layers: about 1 GiB). Its size is the run summary's ``run_state_bytes``; its
``summary()`` adds full_clusterings / warm_clusterings (how many k-means ran from scratch and warm)
and svg2_query_clusters / svg2_key_clusters (the largest counts used) to the run summary.

Host synchronisation: none in the clustering and the selection. The Triton attention op's default
key lists ("packed": the kept keys of every query cluster as one list of token indices, walked in
full tiles) are sized with ONE ``.tolist()`` per call (kernels/semantic_attention.py); "ranges"
(``SVGConfig.svg2_key_lists``) walks the kept clusters' contiguous key ranges without any sync but
masks the edge tile of every range (at 74-key clusters and 128-key tiles about 58% of the keys it
loads are kept). Which is faster end to end is a GPU measurement (bench/svg2_bench.py --sweep,
bench/e2e_bench.py --modes svg2 svg2-ranges); the reference backend has no such choice.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ..clustering import CentroidCache, kmeans_cached
from ..layout import VideoLayout
from ..semantic import call_density, kept_video_pairs, select_pairs
from ..semantic_settings import SemanticSettings, plan_semantic
from .base import AttendContext, PatternDecision, PatternPlan
from .svg import MIN_VIDEO_BLOCKS, plan_band

KEY_LISTS = ("packed", "ranges")


@dataclass(frozen=True, kw_only=True)
class SemanticPatternPlan(PatternPlan):
    """SVG2's plan for one layout.

    query_clusters / key_clusters: k-means cluster counts of this video.
    settings:   the SemanticSettings the calls run with.
    key_lists:  how the Triton attention walks the kept keys ("packed" or "ranges").
    density:    the kept fraction asked for: SVG's band density at this sparsity and layout (budget
                selection), or, with ``top_p``, only what the report compares with (the data decide).
    """

    query_clusters: int
    key_clusters: int
    settings: SemanticSettings
    key_lists: str = "packed"

    def describe(self) -> str:
        rule = (f"budget density {self.density:.3f}" if self.settings.selection == "budget"
                else f"top_p {self.settings.top_p:g}")
        return f"{self.query_clusters} query / {self.key_clusters} key clusters, {rule}"


def semantic_settings(config) -> SemanticSettings:
    """The SemanticSettings of an SVGConfig's ``svg2_*`` fields: top_p 0 selects the budget at SVG's
    density; a cluster count of 0 keeps the automatic rule (tokens per cluster, clamped)."""
    fields = {}
    if config.svg2_top_p > 0:
        fields.update(selection="top_p", top_p=float(config.svg2_top_p))
    for kind, count in (("query", config.svg2_query_clusters), ("key", config.svg2_key_clusters)):
        if count:
            fields.update({f"min_{kind}_clusters": int(count), f"max_{kind}_clusters": int(count)})
    warm = int(config.svg2_warm_iterations)
    full = max(SemanticSettings.full_iterations, warm)
    return SemanticSettings(warm_iterations=warm, full_iterations=full, **fields)


class SVG2RunState:
    """One sampling run's centroid cache (see the module docstring) and how often each kind of
    clustering ran (Python counters: no device read)."""

    def __init__(self):
        self.centroids = CentroidCache(dtype=torch.bfloat16)
        self.full_clusterings = 0
        self.warm_clusterings = 0
        self.query_clusters = 0     # the largest cluster counts a call of the run used
        self.key_clusters = 0

    def memory_bytes(self) -> int:
        return self.centroids.nbytes()

    def summary(self) -> dict:
        """What the run summary adds for svg2 (base.py: run state ``summary``)."""
        return {"full_clusterings": self.full_clusterings, "warm_clusterings": self.warm_clusterings,
                "svg2_query_clusters": self.query_clusters, "svg2_key_clusters": self.key_clusters}


class SVG2Pattern:
    """Semantic-aware permutation (see the module docstring)."""

    name = "svg2"
    label_names = ()
    ops = ("kmeans_assign", "kmeans_update", "svg2_key_logits", "svg2_attention", "global_rows")

    def plan(self, layout: VideoLayout, config) -> SemanticPatternPlan:
        settings = semantic_settings(config)
        band = plan_band(layout, config.sparsity, config.block_size)
        semantic = plan_semantic(layout, band.density, settings)
        short = layout.video_tokens < MIN_VIDEO_BLOCKS * config.block_size
        return SemanticPatternPlan(
            density=band.density, covers_all=band.covers_all or semantic.covers_all,
            dense_reason=f"video too short to gain ({layout.video_tokens} tokens)" if short else None,
            query_clusters=semantic.query_clusters, key_clusters=semantic.key_clusters, settings=settings,
            key_lists=config.svg2_key_lists)

    def new_run_state(self) -> SVG2RunState:
        return SVG2RunState()

    def attend(self, q, k, v, layout: VideoLayout, plan: SemanticPatternPlan, ctx: AttendContext) -> PatternDecision:
        ops, settings = ctx.backend, plan.settings
        state = ctx.run_state if isinstance(ctx.run_state, SVG2RunState) else SVG2RunState()
        start, video = layout.video_start, layout.video_tokens
        queries, keys = q[:, :, start:start + video], k[:, :, start:start + video]
        scale = 1.0 / math.sqrt(q.shape[-1]) if ctx.scale is None else ctx.scale
        entry = (ctx.block_index, str(q.device), ctx.head_offset, ctx.batch_key)
        clusters = []
        for kind, x, count in (("q", queries, plan.query_clusters), ("k", keys, plan.key_clusters)):
            found, warm = kmeans_cached(x, count, state.centroids, entry + (kind,), settings.full_iterations,
                                        settings.warm_iterations, assign=ops["kmeans_assign"],
                                        update=ops["kmeans_update"])
            clusters.append(found)
            if warm:
                state.warm_clusterings += 1
            else:
                state.full_clusterings += 1
        q_clusters, k_clusters = clusters
        state.query_clusters = max(state.query_clusters, plan.query_clusters)
        state.key_clusters = max(state.key_clusters, plan.key_clusters)
        keep = select_pairs(q_clusters, k_clusters, scale, layout, settings, plan.density, keys=keys,
                            key_logits=ops["svg2_key_logits"])
        ops["svg2_attention"](q, k, v, layout, q_clusters, k_clusters, keep, key_bias=ctx.key_bias,
                              scale=ctx.scale, out=ctx.out, key_lists=plan.key_lists)
        if layout.global_tokens:
            ops["global_rows"](q, k, v, layout, key_bias=ctx.key_bias, scale=ctx.scale, out=ctx.out)
        head_density = call_density(kept_video_pairs(keep, q_clusters.sizes, k_clusters.sizes), layout)
        return PatternDecision(labels=None, head_density=head_density, density=head_density.mean())


__all__ = ["KEY_LISTS", "SVG2Pattern", "SVG2RunState", "SemanticPatternPlan", "semantic_settings"]

"""The "SVG Sparse Attention" node (V3 schema). Node id and input names are stable: saved
workflows depend on them. New inputs go at the end of the list with defaults that keep today's
behaviour: the frontend restores a saved node's widget values by position, so a workflow saved
before them loads with the defaults.

One node for both patterns ("svg", "svg2") rather than a second node: they share the placement
(between the loader and the sampler), the warm-up, leading dense blocks, sparsity and backend, and
the report node reads either; switching pattern is one menu, not a rewired graph. SVG2's knobs are
advanced inputs that "svg" ignores (and sampled_rows is SVG's only)."""
from __future__ import annotations

import inspect

from comfy_api.latest import io

from ..svg_attention import ATTENTION_PRECISIONS, BACKENDS, SVGConfig
from ..svg_attention.config import MAX_CLUSTERS, MAX_WARM_ITERATIONS
from ..svg_attention.patterns import user_pattern_names
from .apply import apply_svg

NODE_ID = "SVGSparseAttention"

PRECISION_TOOLTIP = (
    "Number format of the sparse steps' attention. bf16: the model's own. fp8: q, k, softmax weights and v in "
    "8-bit floats (e4m3): faster band attention on GPUs with FP8 tensor cores (docs/benchmarks.md), at a cost "
    "in quality. fp8-pv: only the softmax weights and v in FP8; the scores stay exact, less loss, less gain. "
    "auto: bf16 (the quality measurement that would justify FP8 by default is in docs/quality.md). FP8 runs "
    "on CUDA GPUs of compute capability 8.9 or 9.0 (Ada, Hopper); elsewhere bf16, with one log line. The "
    "profiler that picks each head's pattern stays exact. On the CPU or with backend reference, FP8 runs as "
    "a slow exact emulation, for checking.")
FP8_DENSE_TOOLTIP = (
    "With an FP8 precision: also run the dense steps (the warm-up and the dense leading blocks) as FP8 dense "
    "attention instead of ComfyUI's, on the video's self-attention only. Faster warm-up (a third of an SVG "
    "run on Wan-14B), but the steps that lay out the scene lose FP8's precision too. Off by default; "
    "no effect in bf16.")


def _advanced(input_class) -> dict:
    """``advanced=True`` where this ComfyUI's inputs know it (newer than 0.3.75), else nothing."""
    return {"advanced": True} if "advanced" in inspect.signature(input_class.__init__).parameters else {}


class SVGSparseAttention(io.ComfyNode):
    @classmethod
    def define_schema(cls) -> io.Schema:
        return io.Schema(
            node_id=NODE_ID,
            display_name="SVG Sparse Attention",
            category="model/patches",
            description=(
                "Sparse VideoGen: training-free sparse attention for video diffusion transformers "
                "(Wan 2.1/2.2, HunyuanVideo, LTXV, Mochi, Cosmos, CogVideoX). Each head is profiled on a few sampled query rows at every "
                "sparse call and runs as a spatial (same and nearby frames) or temporal (same position "
                "across frames) head; one block-sparse kernel serves both. Place it between the model "
                "loader and the sampler. pattern svg2 instead clusters each head's queries and keys by k-means "
                "(Sparse VideoGen2) and keeps the cluster pairs that carry the attention."),
            inputs=[
                io.Model.Input("model", tooltip="The video model to patch (Wan 2.1/2.2, HunyuanVideo, LTXV, Mochi, Cosmos, CogVideoX). "
                               "Other models pass through unchanged, with a log line saying why."),
                io.Float.Input("sparsity", default=0.75, min=0.0, max=0.95, step=0.01,
                               tooltip="Fraction of the attention work to skip in sparse steps: 0.75 keeps 25%. "
                                       "Higher is faster and drifts further from the dense video; 0 runs dense."),
                io.Float.Input("dense_warmup", default=0.2, min=0.0, max=1.0, step=0.01,
                               tooltip="Fraction of the sampling steps, from the start, that stay dense: the early "
                                       "steps lay out the scene. Default 0.2 for every model (the SVG authors' Wan "
                                       "setting); they used 0.1 for HunyuanVideo, as its example workflows set. "
                                       "1.0 runs everything dense."),
                io.Int.Input("dense_blocks", default=1, min=0, max=128,
                             tooltip="Leading transformer blocks that always run dense (the first blocks carry the "
                                     "least sparse attention)."),
                io.Int.Input("sampled_rows", default=64, min=8, max=1024, step=8,
                             tooltip="Query rows sampled at each sparse attention call to choose each head's "
                                     "pattern. 64 costs a small fraction of the call.", **_advanced(io.Int.Input)),
                io.Combo.Input("backend", options=list(BACKENDS), default="auto",
                               tooltip="auto: Triton kernels on CUDA GPUs that run them, the plain-torch reference "
                                       "elsewhere (one log line says which and why). triton: the kernels, or the "
                                       "reference with a log line where they cannot run. reference: plain torch, "
                                       "slow, for checking results."),
                io.Int.Input("profile_seed", default=0, min=0, max=2**31 - 1,
                             tooltip="Seed of the profiler's row sampling; the same seed gives the same video.",
                             **_advanced(io.Int.Input)),
                io.Boolean.Input("verbose", default=False,
                                 tooltip="Also log each distinct layout, band width and density the patch uses.",
                                 **_advanced(io.Boolean.Input)),
                # added after the first release: optional, so saved workflows and API prompts without them run
                io.Combo.Input("attention_precision", options=list(ATTENTION_PRECISIONS), default="auto",
                               optional=True, tooltip=PRECISION_TOOLTIP, **_advanced(io.Combo.Input)),
                io.Boolean.Input("fp8_dense_steps", default=False, optional=True, tooltip=FP8_DENSE_TOOLTIP,
                                 **_advanced(io.Boolean.Input)),
                io.Combo.Input("pattern", options=list(user_pattern_names()), default="svg",
                               optional=True,
                               tooltip="svg: each head keeps a band of the same and nearby frames (spatial) or of "
                                       "the same positions across frames (temporal), chosen per call by sampled rows. "
                                       "svg2: each head's queries and keys are grouped by k-means and each query "
                                       "group keeps the key groups that carry its attention (follows motion such "
                                       "as camera pans; costs a clustering per call). The README says when to pick "
                                       "which."),
                io.Float.Input("svg2_top_p", default=0.0, min=0.0, max=1.0, step=0.01,
                               optional=True,
                               tooltip="svg2 only. 0: keep as much as svg would at this sparsity (the pairs of "
                                       "highest estimated attention). Above 0: each query group keeps key groups "
                                       "until this share of its attention (SVG2's rule, 0.9 in its paper); the "
                                       "kept amount then follows the video and the report shows it.",
                               **_advanced(io.Float.Input)),
                io.Int.Input("svg2_query_clusters", default=0, min=0, max=MAX_CLUSTERS,
                             optional=True,
                             tooltip="svg2 only. k-means groups of each head's queries; 0: automatic (one per 16 "
                                     "video tokens, 8 to 256).", **_advanced(io.Int.Input)),
                io.Int.Input("svg2_key_clusters", default=0, min=0, max=MAX_CLUSTERS,
                             optional=True,
                             tooltip="svg2 only. k-means groups of each head's keys; 0: automatic (one per 8 video "
                                     "tokens, 16 to 1024). More groups select more precisely and cluster slower.",
                             **_advanced(io.Int.Input)),
                io.Int.Input("svg2_warm_iterations", default=1, min=1, max=MAX_WARM_ITERATIONS,
                             optional=True,
                             tooltip="svg2 only. k-means iterations per step, started from the previous step's "
                                     "groups (the first sparse step of each block runs 20).",
                             **_advanced(io.Int.Input)),
            ],
            outputs=[io.Model.Output(tooltip="The model with SVG sparse attention in its sparse steps.")],
        )

    @classmethod
    def execute(cls, model, sparsity, dense_warmup, dense_blocks, sampled_rows=64, backend="auto",
                profile_seed=0, verbose=False, attention_precision="auto", fp8_dense_steps=False,
                pattern="svg", svg2_top_p=0.0, svg2_query_clusters=0, svg2_key_clusters=0,
                svg2_warm_iterations=1) -> io.NodeOutput:
        config = SVGConfig(sparsity=sparsity, dense_warmup=dense_warmup, dense_blocks=dense_blocks,
                           sampled_rows=sampled_rows, backend=backend, profile_seed=profile_seed,
                           verbose=verbose, attention_precision=attention_precision,
                           fp8_dense_steps=fp8_dense_steps, pattern=pattern, svg2_top_p=svg2_top_p,
                           svg2_query_clusters=svg2_query_clusters, svg2_key_clusters=svg2_key_clusters,
                           svg2_warm_iterations=svg2_warm_iterations)
        return io.NodeOutput(apply_svg(model, config))

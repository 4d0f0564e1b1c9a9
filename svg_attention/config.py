"""The settings of one SVG patch, validated once when the node runs."""
from __future__ import annotations

from dataclasses import dataclass

from .patterns import pattern_names
from .patterns.svg2 import KEY_LISTS

BACKENDS = ("auto", "triton", "reference")
ATTENTION_PRECISIONS = ("auto", "bf16", "fp8", "fp8-pv")
# What "auto" means: bf16 until a measurement on the bundled model says FP8 keeps quality
# (docs/quality.md, section 5).
AUTO_PRECISION = "bf16"
MAX_CLUSTERS = 4096          # svg2 cluster counts the node accepts
MAX_WARM_ITERATIONS = 20     # svg2 warm iterations: at most a full clustering's


@dataclass(frozen=True)
class SVGConfig:
    """What the user asked for.

    sparsity:      fraction of the attention work to skip (0.75 keeps 25%); 0 <= sparsity <= 0.95.
    dense_warmup:  fraction of the sampling steps, from the start, that stay dense; 0..1.
    dense_blocks:  leading transformer blocks (self-attention calls of one model call) kept dense.
    sampled_rows:  query rows sampled per call by the online profiler.
    block_size:    pattern granularity in tokens (the band is counted in blocks of this size).
    backend:       "auto", "triton" or "reference".
    profile_seed:  seed of the profiler's row sampling (the same seed gives the same rows).
    verbose:       log every dense decision once per run and per-call details.
    pattern:       the sparsity pattern, by its registered name (svg_attention/patterns): "svg"
                   (spatial / temporal band) or "svg2" (k-means semantic clusters).
    attention_precision: "auto" (``AUTO_PRECISION``), "bf16" (the model's dtype), "fp8" (q, K, P, V in
                   e4m3) or "fp8-pv" (only P and V in e4m3): the band attention of the sparse steps;
                   FP8 where the kernels run it (backends.py), bf16 elsewhere with a log line.
    fp8_dense_steps: with an FP8 precision, also run the dense steps (warm-up and leading blocks) as
                   FP8 dense attention over the verified video layout; other calls stay ComfyUI's.
    speed_floor:   run a sparse call dense where the Triton kernels are measured (or, on an unmeasured
                   GPU, assumed) slower than dense for its size (speed_floor.py); False: sparse
                   wherever the pattern allows (tests and benchmarks at small sizes).
    svg2_top_p:    "svg2": 0 keeps the pairs of highest estimated attention up to SVG's density at
                   this sparsity (both patterns compared at one density); in (0, 1] SVG2's rule: each
                   query cluster keeps key clusters until this share of its attention (the density
                   follows the data, ``sparsity`` only switches sparse calls on).
    svg2_query_clusters / svg2_key_clusters: "svg2" k-means cluster counts; 0: by the token count
                   (semantic_settings.SemanticSettings: 16 / 8 tokens per cluster, at most 256 / 1024).
    svg2_warm_iterations: "svg2" k-means iterations per step from the previous step's centroids
                   (the first sparse step of a layer runs a full clustering of 20).
    svg2_key_lists: "svg2", Triton only: "packed" or "ranges" (patterns/svg2.py says the difference).
    """

    sparsity: float = 0.75
    dense_warmup: float = 0.2
    dense_blocks: int = 1
    sampled_rows: int = 64
    block_size: int = 128
    backend: str = "auto"
    profile_seed: int = 0
    verbose: bool = False
    pattern: str = "svg"
    attention_precision: str = "auto"
    fp8_dense_steps: bool = False
    speed_floor: bool = True
    svg2_top_p: float = 0.0
    svg2_query_clusters: int = 0
    svg2_key_clusters: int = 0
    svg2_warm_iterations: int = 1
    svg2_key_lists: str = "packed"

    def __post_init__(self):
        problems = []
        if not 0.0 <= self.sparsity <= 0.95:
            problems.append(f"sparsity must be in [0, 0.95], got {self.sparsity}")
        if not 0.0 <= self.dense_warmup <= 1.0:
            problems.append(f"dense_warmup must be in [0, 1], got {self.dense_warmup}")
        if self.dense_blocks < 0:
            problems.append(f"dense_blocks must be >= 0, got {self.dense_blocks}")
        if not 1 <= self.sampled_rows <= 4096:
            problems.append(f"sampled_rows must be in [1, 4096], got {self.sampled_rows}")
        if self.block_size < 16 or self.block_size & (self.block_size - 1):
            problems.append(f"block_size must be a power of two >= 16, got {self.block_size}")
        if self.backend not in BACKENDS:
            problems.append(f"backend must be one of {BACKENDS}, got {self.backend!r}")
        if self.profile_seed < 0:
            problems.append(f"profile_seed must be >= 0, got {self.profile_seed}")
        if self.pattern not in pattern_names():
            problems.append(f"pattern must be one of {pattern_names()}, got {self.pattern!r}")
        if self.attention_precision not in ATTENTION_PRECISIONS:
            problems.append(f"attention_precision must be one of {ATTENTION_PRECISIONS}, "
                            f"got {self.attention_precision!r}")
        for name in ("fp8_dense_steps", "speed_floor"):
            if not isinstance(getattr(self, name), bool):
                problems.append(f"{name} must be True or False, got {getattr(self, name)!r}")
        if not 0.0 <= self.svg2_top_p <= 1.0:
            problems.append(f"svg2_top_p must be in [0, 1] (0: the sparsity's budget), got {self.svg2_top_p}")
        for name in ("svg2_query_clusters", "svg2_key_clusters"):
            if not 0 <= getattr(self, name) <= MAX_CLUSTERS:
                problems.append(f"{name} must be in [0, {MAX_CLUSTERS}] (0: automatic), got {getattr(self, name)}")
        if not 1 <= self.svg2_warm_iterations <= MAX_WARM_ITERATIONS:
            problems.append(f"svg2_warm_iterations must be in [1, {MAX_WARM_ITERATIONS}], got {self.svg2_warm_iterations}")
        if self.svg2_key_lists not in KEY_LISTS:
            problems.append(f"svg2_key_lists must be one of {KEY_LISTS}, got {self.svg2_key_lists!r}")
        if problems:
            raise ValueError("SVG Sparse Attention: " + "; ".join(problems))

    @property
    def precision(self) -> str:
        """The attention precision asked for, "auto" resolved: "bf16", "fp8" or "fp8-pv"."""
        return AUTO_PRECISION if self.attention_precision == "auto" else self.attention_precision

    @property
    def requested_density(self) -> float:
        """The kept fraction the user asked for."""
        return 1.0 - self.sparsity

"""The settings of one SVG patch, validated once when the node runs."""
from __future__ import annotations

from dataclasses import dataclass

from .patterns import pattern_names

BACKENDS = ("auto", "triton", "reference")
ATTENTION_PRECISIONS = ("auto", "bf16", "fp8", "fp8-pv")
# What "auto" means: bf16 until a measurement on the bundled model says FP8 keeps quality
# (docs/quality.md, section 5).
AUTO_PRECISION = "bf16"


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
    pattern:       the sparsity pattern, by its registered name (svg_attention/patterns): "svg".
    attention_precision: "auto" (``AUTO_PRECISION``), "bf16" (the model's dtype), "fp8" (q, K, P, V in
                   e4m3) or "fp8-pv" (only P and V in e4m3): the band attention of the sparse steps;
                   FP8 where the kernels run it (backends.py), bf16 elsewhere with a log line.
    fp8_dense_steps: with an FP8 precision, also run the dense steps (warm-up and leading blocks) as
                   FP8 dense attention over the verified video layout; other calls stay ComfyUI's.
    speed_floor:   run a sparse call dense where the Triton kernels are measured (or, on an unmeasured
                   GPU, assumed) slower than dense for its size (speed_floor.py); False: sparse
                   wherever the pattern allows (tests and benchmarks at small sizes).
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

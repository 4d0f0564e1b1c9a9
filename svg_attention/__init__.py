"""Sparse VideoGen (Xi et al., ICML 2025) in plain torch: layouts, sparsity patterns, budget,
references, backends, the attention orchestrator and the run report.

Importable without ComfyUI. The Triton kernels live in the sibling package ``kernels``.
"""
from .attention import sample_rows, sparse_attention
from .backends import PRECISIONS, REFERENCE_OPS, Backend, reference_backend, resolve_backend
from .budget import band_density, closest_width, kept_pairs
from .config import ATTENTION_PRECISIONS, BACKENDS, SVGConfig
from .layout import (FRAME_MAJOR, HEAD_ORDERS, POSITION_MAJOR, VideoLayout, global_token_index, head_order,
                     spatial_from_temporal, temporal_from_spatial)
from .patterns import (AttendContext, BandPlan, Pattern, PatternDecision, PatternPlan, get_pattern, label_heads,
                       pattern_names, plan_band, register)
from .reference import band_attention_reference, global_rows_dense, pattern_keep, profile_reference

__all__ = [
    "ATTENTION_PRECISIONS", "BACKENDS", "FRAME_MAJOR", "PRECISIONS", "HEAD_ORDERS", "POSITION_MAJOR", "REFERENCE_OPS", "AttendContext", "Backend",
    "BandPlan", "Pattern", "PatternDecision", "PatternPlan", "SVGConfig", "VideoLayout",
    "band_attention_reference", "band_density", "closest_width", "get_pattern", "global_rows_dense",
    "global_token_index", "head_order", "kept_pairs", "label_heads", "pattern_keep", "pattern_names",
    "plan_band", "profile_reference", "reference_backend", "register", "resolve_backend", "sample_rows",
    "sparse_attention", "spatial_from_temporal", "temporal_from_spatial",
]

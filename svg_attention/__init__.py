"""Sparse VideoGen (Xi et al., ICML 2025) in plain torch: layouts, budget, profiling, reference.

Importable without ComfyUI. The Triton kernels live in the sibling package ``kernels``.
"""
from .attention import Backend, label_heads, reference_backend, sample_rows, svg_attention
from .budget import BandPlan, band_density, kept_pairs, plan_band
from .config import BACKENDS, SVGConfig
from .layout import VideoLayout, global_token_index, head_order, spatial_from_temporal, temporal_from_spatial
from .reference import band_attention_reference, global_rows_dense, pattern_keep, profile_reference

__all__ = [
    "BACKENDS", "Backend", "BandPlan", "SVGConfig", "VideoLayout", "band_attention_reference",
    "band_density", "global_rows_dense", "global_token_index", "head_order", "kept_pairs",
    "label_heads", "pattern_keep", "plan_band", "profile_reference", "reference_backend",
    "sample_rows", "spatial_from_temporal", "svg_attention", "temporal_from_spatial",
]

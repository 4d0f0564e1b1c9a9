"""Triton kernels of SparseVideoGen for ComfyUI.

* :func:`band_attention` - band (+ global keys) block-sparse attention forward with the
  per-head temporal layout transformation fused into its loads/stores.
* :func:`profile_errors` - the online head profiler: for sampled video query rows, the mean
  squared error of the spatial and of the temporal pattern against exact attention.
* :func:`global_rows_attention` - the dense global (text) query rows of a call, split over the
  keys (flash-decoding style) so that a few hundred rows still fill the GPU.
* :func:`packed_band_attention` / :func:`fp8_band_attention` - the same band attention through
  packed head-ordered K/V copies, in the input dtype or in FP8 (e4m3, compute capability >= 8.9);
  :func:`fp8_dense_attention` - dense attention in FP8 (the band kernel with a full band).
* :func:`triton_support` - whether the Triton path can run for a device / dtype / head_dim.

Importing this package never needs Triton or CUDA: Triton is imported lazily on the first
kernel launch.  Torch references of both kernels live beside them
(:func:`band_attention_reference`, :func:`profile_errors_reference`).
"""
from __future__ import annotations

import torch

from ._jit import interpret_requested
from .band_attention import band_attention, band_attention_reference, band_config, band_kept_pairs, video_head_order
from .fp8_emulation import fp8_band_attention_emulation
from .packed_attention import fp8_band_attention, fp8_dense_attention, fp8_support, packed_band_attention
from .profile import global_rows_attention, profile_errors, profile_errors_reference

__all__ = [
    "band_attention",
    "band_attention_reference",
    "band_config",
    "band_kept_pairs",
    "video_head_order",
    "profile_errors",
    "profile_errors_reference",
    "global_rows_attention",
    "triton_support",
    "svg_profile",
    "svg_band_attention",
    "svg_global_rows",
    "packed_band_attention",
    "fp8_band_attention",
    "fp8_dense_attention",
    "fp8_band_attention_emulation",
    "fp8_support",
    "svg_fp8_band_attention",
    "svg_fp8_dense",
]


# ---- adapters with the signatures of svg_attention.reference (layout: any object with
# ---- video_start, num_frames, frame_tokens; e.g. svg_attention.layout.VideoLayout)
def svg_profile(q, k, v, layout, width, block_size, rows, key_bias=None, scale=None):
    """profile_errors with svg_attention's signature: err float32 [B, H, 2] (spatial, temporal)."""
    return profile_errors(q, k, v, rows, video_start=layout.video_start, num_frames=layout.num_frames,
                          frame_tokens=layout.frame_tokens, band_width=width, block_size=block_size,
                          key_bias=key_bias, scale=scale)


def svg_band_attention(q, k, v, layout, width, block_size, temporal, key_bias=None, scale=None, out=None):
    """band_attention with svg_attention's signature: writes the video rows of out, returns it."""
    return band_attention(q, k, v, temporal, video_start=layout.video_start, num_frames=layout.num_frames,
                          frame_tokens=layout.frame_tokens, band_width=width, block_size=block_size,
                          key_bias=key_bias, scale=scale, out=out)


def svg_global_rows(q, k, v, layout, key_bias=None, scale=None, out=None):
    """global_rows_attention with svg_attention's signature: writes the global rows of out."""
    return global_rows_attention(q, k, v, out, video_start=layout.video_start, num_frames=layout.num_frames,
                                 frame_tokens=layout.frame_tokens, key_bias=key_bias, scale=scale)

def svg_fp8_band_attention(q, k, v, layout, width, block_size, temporal, key_bias=None, scale=None, out=None,
                           precision="fp8"):
    """packed_band_attention in FP8 with svg_attention's band signature (the FP8 backend's band op);
    precision "fp8" (q, K, P, V in e4m3) or "fp8-pv" (only P and V)."""
    return packed_band_attention(q, k, v, temporal, video_start=layout.video_start, num_frames=layout.num_frames,
                                 frame_tokens=layout.frame_tokens, band_width=width, block_size=block_size,
                                 key_bias=key_bias, scale=scale, out=out, precision=precision)


def svg_fp8_dense(q, k, v, layout=None, key_bias=None, scale=None, out=None):
    """fp8_dense_attention for a whole call: with a layout, the video rows in FP8 and the global rows
    dense (bf16); without one, all N tokens as one sequence (no key bias).  All rows written."""
    if layout is None:
        return fp8_dense_attention(q, k, v, key_bias=key_bias, scale=scale, out=out)
    return fp8_dense_attention(q, k, v, video_start=layout.video_start, num_frames=layout.num_frames,
                               frame_tokens=layout.frame_tokens, key_bias=key_bias, scale=scale, out=out)


_TRITON_STATE = None


def _triton_importable():
    global _TRITON_STATE
    if _TRITON_STATE is None:
        try:
            import triton  # noqa: F401
            import triton.language  # noqa: F401
            _TRITON_STATE = (True, f"triton {triton.__version__}")
        except Exception as e:  # ImportError, or a broken install
            _TRITON_STATE = (False, f"triton is not importable: {type(e).__name__}: {e}")
    return _TRITON_STATE


def triton_support(device, dtype, head_dim, allow_interpreter: bool = False) -> tuple:
    """Whether the Triton kernels can run here: ``(ok, reason)``.

    ok only for CUDA devices of compute capability >= 8.0 with Triton importable, dtype
    float16/bfloat16 and head_dim 64 or 128.  ``allow_interpreter`` (tests) also accepts CPU
    devices and float32 when TRITON_INTERPRET=1 is set. Never raises.
    """
    try:
        device = torch.device(device)
    except Exception as e:
        return False, f"bad device {device!r}: {e}"
    interp = allow_interpreter and interpret_requested()
    if head_dim not in (64, 128):
        return False, f"head_dim {head_dim} not supported (64 or 128)"
    allowed = (torch.float16, torch.bfloat16) + ((torch.float32,) if interp else ())
    if dtype not in allowed:
        return False, f"dtype {dtype} not supported ({', '.join(str(d) for d in allowed)})"
    if device.type == "cuda":
        if not torch.cuda.is_available():
            return False, "CUDA is not available"
        try:
            cap = torch.cuda.get_device_capability(device)
        except Exception as e:
            return False, f"cannot read the CUDA device's capability: {e}"
        if cap < (8, 0):
            return False, f"compute capability {cap[0]}.{cap[1]} < 8.0"
        if getattr(torch.version, "hip", None):
            return False, "ROCm builds are not supported"
    elif not (interp and device.type == "cpu"):
        return False, f"device type {device.type!r} needs CUDA (or TRITON_INTERPRET=1 on CPU)"
    ok, why = _triton_importable()
    if not ok:
        return False, why
    return True, f"ok ({why}{', interpreter' if device.type != 'cuda' else ''})"

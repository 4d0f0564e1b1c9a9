"""Triton kernels of SparseVideoGen for ComfyUI.

* :func:`band_attention` - band (+ global keys) block-sparse attention forward with the
  per-head temporal layout transformation fused into its loads/stores.
* :func:`profile_errors` - the online head profiler: for sampled video query rows, the mean
  squared error of the spatial and of the temporal pattern against exact attention.
* :func:`global_rows_attention` - the dense global (text) query rows of a call, split over the
  keys (flash-decoding style) so that a few hundred rows still fill the GPU.
* :func:`semantic_attention` - SVG2's variable-size block-sparse attention on the cluster-permuted
  layout; :func:`kmeans_assign` / :func:`kmeans_update` - its k-means steps; :func:`permute_rows` -
  keys / values copied into cluster order (torch references in ``svg_attention/clustering.py`` and
  ``svg_attention/semantic.py``).
* :func:`packed_band_attention` / :func:`fp8_band_attention` - the same band attention through
  packed head-ordered K/V copies, in the input dtype or in FP8 (e4m3, compute capability 8.9 / 9.0:
  :func:`fp8_support`); :func:`fp8_dense_attention` - dense attention in FP8 (the band kernel with a
  full band); :func:`fp8_ops` - both as backend ops, kernels or their torch emulation.
* :func:`triton_support` - whether the Triton path can run for a device / dtype / head_dim.

Importing this package never needs Triton or CUDA: Triton is imported lazily on the first
kernel launch.  The plain-torch definitions the kernels reproduce, and are tested against, are
the one copy in ``svg_attention.reference`` (``band_attention_reference``, ``profile_reference``,
``global_rows_dense``); the FP8 path's one reference is its exact emulation in
:mod:`kernels.fp8_emulation` (the quantisation, beside the kernel; it reuses svg_attention's head
order and global-rows reference).  The launchers' input checks are in :mod:`kernels.checks`.
"""
from __future__ import annotations

import functools

import torch

from ._jit import interpret_requested
from .band_attention import band_attention, band_config
from .checks import DTYPES, HEAD_DIMS, INTERPRETER_DTYPES
from .kmeans import cluster_key_logits, kmeans_assign, kmeans_update, permute_rows, permute_rows_reference
from .fp8_emulation import fp8_band_attention_emulation, fp8_dense_attention_emulation
from .packed_attention import fp8_band_attention, fp8_dense_attention, fp8_support, packed_band_attention
from .profile import global_rows_attention, profile_errors
from .semantic_attention import semantic_attention

__all__ = [
    "band_attention",
    "band_config",
    "profile_errors",
    "global_rows_attention",
    "triton_support",
    "svg_profile",
    "svg_band_attention",
    "svg_global_rows",
    "kmeans_assign",
    "kmeans_update",
    "cluster_key_logits",
    "permute_rows",
    "permute_rows_reference",
    "semantic_attention",
    "svg2_attention",
    "svg2_key_logits",
    "packed_band_attention",
    "fp8_band_attention",
    "fp8_dense_attention",
    "fp8_band_attention_emulation",
    "fp8_dense_attention_emulation",
    "fp8_support",
    "fp8_ops",
    "svg_fp8_band_attention",
    "svg_fp8_dense",
    "svg_fp8_band_emulation",
    "svg_fp8_dense_emulation",
]


# ---- the Triton backend's ops (svg_attention/backends.py), with the signatures of the references in
# ---- svg_attention.reference (layout: any object with video_start, num_frames, frame_tokens)
def svg_profile(q, k, v, layout, width, block_size, rows, key_bias=None, scale=None):
    """profile_errors with svg_attention's signature: err float32 [B, H, 2] (spatial, temporal)."""
    return profile_errors(q, k, v, rows, video_start=layout.video_start, num_frames=layout.num_frames,
                          frame_tokens=layout.frame_tokens, band_width=width, block_size=block_size,
                          key_bias=key_bias, scale=scale)


def svg_band_attention(q, k, v, layout, width, block_size, orders, key_bias=None, scale=None, out=None):
    """band_attention with svg_attention's signature (``orders`` int8 [B, H]: 0 frame-major, 1
    position-major, the "svg" pattern's labels): writes the video rows of out, returns it."""
    return band_attention(q, k, v, orders, video_start=layout.video_start, num_frames=layout.num_frames,
                          frame_tokens=layout.frame_tokens, band_width=width, block_size=block_size,
                          key_bias=key_bias, scale=scale, out=out)


def svg_global_rows(q, k, v, layout, key_bias=None, scale=None, out=None):
    """global_rows_attention with svg_attention's signature: writes the global rows of out."""
    return global_rows_attention(q, k, v, out, video_start=layout.video_start, num_frames=layout.num_frames,
                                 frame_tokens=layout.frame_tokens, key_bias=key_bias, scale=scale)


# svg2_attention's key_lists -> the kernel's SOURCE: "packed" (one host sync per call to size the lists)
# or the kept clusters' key ranges from contiguous copies in cluster order ("tma" on Hopper, "copy"
# elsewhere: semantic_attention resolves it), without a host sync
SVG2_KEY_SOURCES = {"packed": "packed", "ranges": "tma"}


def svg2_attention(q, k, v, layout, q_clusters, k_clusters, keep, key_bias=None, scale=None, out=None,
                   key_lists="packed"):
    """semantic_attention with the signature of svg_attention.semantic.semantic_attention_reference
    (clusters: any objects with ``perm`` and ``offsets``, e.g. svg_attention.clustering.Clusters);
    ``key_lists`` "packed" or "ranges" (SVG2_KEY_SOURCES; the tiles are semantic_config's)."""
    try:
        source = SVG2_KEY_SOURCES[key_lists]
    except KeyError:
        raise ValueError(f"key_lists must be one of {tuple(SVG2_KEY_SOURCES)}; got {key_lists!r}") from None
    return semantic_attention(q, k, v, q_clusters.perm, q_clusters.offsets, k_clusters.perm, k_clusters.offsets,
                              keep, video_start=layout.video_start, key_bias=key_bias, scale=scale, out=out,
                              config={"SOURCE": source})


def svg2_key_logits(q_clusters, k_clusters, keys, scale):
    """cluster_key_logits with the signature of svg_attention.semantic.centroid_key_logits."""
    return cluster_key_logits(q_clusters.centroids, keys, k_clusters.perm, k_clusters.offsets, scale)


# ---- FP8 ops: the same band op, and a whole-call "dense" op (q, k, v, layout, key_bias=None, scale=None,
# ---- out=None -> out with all rows written), as the kernel or as its torch emulation (fp8_emulation.py)
def svg_fp8_band_attention(q, k, v, layout, width, block_size, orders, key_bias=None, scale=None, out=None,
                           precision="fp8"):
    """packed_band_attention in FP8 with svg_attention's band signature (the FP8 backend's band op);
    precision "fp8" (q, K, P, V in e4m3) or "fp8-pv" (only P and V)."""
    return packed_band_attention(q, k, v, orders, video_start=layout.video_start, num_frames=layout.num_frames,
                                 frame_tokens=layout.frame_tokens, band_width=width, block_size=block_size,
                                 key_bias=key_bias, scale=scale, out=out, precision=precision)


def svg_fp8_dense(q, k, v, layout, key_bias=None, scale=None, out=None, precision="fp8"):
    """fp8_dense_attention for a whole call: the video rows in FP8, the global rows dense in the
    input dtype.  All rows written."""
    return fp8_dense_attention(q, k, v, video_start=layout.video_start, num_frames=layout.num_frames,
                               frame_tokens=layout.frame_tokens, key_bias=key_bias, scale=scale, out=out,
                               precision=precision)


def svg_fp8_band_emulation(q, k, v, layout, width, block_size, orders, key_bias=None, scale=None, out=None,
                           precision="fp8"):
    """svg_fp8_band_attention's result in torch (any device): the exact quantisation of the kernel at
    its default tiles."""
    return fp8_band_attention_emulation(q, k, v, orders, video_start=layout.video_start,
                                        num_frames=layout.num_frames, frame_tokens=layout.frame_tokens,
                                        band_width=width, block_size=block_size, key_bias=key_bias, scale=scale,
                                        out=out, qk8=precision == "fp8")


def svg_fp8_dense_emulation(q, k, v, layout, key_bias=None, scale=None, out=None, precision="fp8"):
    """svg_fp8_dense's result in torch (any device)."""
    return fp8_dense_attention_emulation(q, k, v, video_start=layout.video_start, num_frames=layout.num_frames,
                                         frame_tokens=layout.frame_tokens, key_bias=key_bias, scale=scale,
                                         out=out, qk8=precision == "fp8")


def fp8_ops(precision: str, emulated: bool) -> dict:
    """The FP8 ops of a backend: {"band_attention", "dense"} at ``precision`` ("fp8" or "fp8-pv"),
    the Triton kernels or (``emulated``) their torch emulation."""
    if precision not in ("fp8", "fp8-pv"):
        raise ValueError(f"FP8 precision must be 'fp8' or 'fp8-pv'; got {precision!r}")
    band, dense = (svg_fp8_band_emulation, svg_fp8_dense_emulation) if emulated else \
        (svg_fp8_band_attention, svg_fp8_dense)
    return {"band_attention": functools.partial(band, precision=precision),
            "dense": functools.partial(dense, precision=precision)}


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

    The checks run from the most basic to the most specific (device, CUDA, GPU, Triton, then
    dtype and head_dim), so the reason returned is the one a user has to act on first: on a CPU
    it says that there is no CUDA device, not that the CPU's float32 is the wrong dtype.
    """
    try:
        device = torch.device(device)
    except Exception as e:
        return False, f"bad device {device!r}: {e}"
    interp = allow_interpreter and interpret_requested()
    if device.type == "cuda":
        if not torch.cuda.is_available():
            return False, "no CUDA device: torch sees none (torch.cuda.is_available() is False)"
        if getattr(torch.version, "hip", None):
            return False, "ROCm builds are not supported"
        try:
            cap = torch.cuda.get_device_capability(device)
        except Exception as e:
            return False, f"cannot read the CUDA device's capability: {e}"
        if cap < (8, 0):
            return False, f"compute capability {cap[0]}.{cap[1]} < 8.0"
    elif not (interp and device.type == "cpu"):
        return False, (f"no CUDA device: the model runs on {device.type}, and the Triton kernels "
                       f"need a CUDA GPU (or TRITON_INTERPRET=1 on CPU, for tests)")
    ok, why = _triton_importable()
    if not ok:
        return False, why
    allowed = INTERPRETER_DTYPES if interp else DTYPES
    if dtype not in allowed:
        return False, f"dtype {dtype} not supported ({', '.join(str(d) for d in allowed)})"
    if head_dim not in HEAD_DIMS:
        return False, f"head_dim {head_dim} not supported ({' or '.join(map(str, HEAD_DIMS))})"
    return True, f"ok ({why}{', interpreter' if device.type != 'cuda' else ''})"

"""SVG2's k-means steps on the GPU, and the permuted copy of keys / values.

Drop-in for the plain-torch references in ``svg_attention/clustering.py`` (the one definition of
the math; tests compare against them):

* :func:`kmeans_assign` (``assign_reference``): nearest centroid of every video vector of every
  (b, h), fused dot product + running argmin over centroid tiles: nothing of size V x C x D, and the
  V x C distances only tile by tile in registers. The dot runs in the input dtype (bf16 / fp16 on
  the GPU, fp32 accumulate) against the centroids cast to it, so labels can differ from the fp32
  reference where two centroids are within rounding of each other.
* :func:`kmeans_update` (``update_reference``): centroid = mean of its cluster, summed over the
  cluster's contiguous segment of the permuted order, one program per (cluster, b*h): no atomics,
  deterministic; an empty cluster keeps its previous centroid.
* :func:`permute_rows` (:func:`permute_rows_reference`): the video keys and values of a run of
  (b, h) pairs copied into cluster order, contiguous [count, V, D] (the attention kernel's TMA
  source).

Shapes: x [B, H, V, D] (any strides, last dim contiguous; the video slice of q or k), centroids
float32 [B, H, C, D], labels / perm int32 [B, H, V], offsets int32 [B, H, C + 1].
"""
from __future__ import annotations

from typing import Optional

import torch

from . import _jit
from .checks import check_centroids, check_index, check_points

__all__ = ["kmeans_assign", "kmeans_update", "permute_rows", "permute_rows_reference", "kmeans_config",
           "cluster_key_logits"]

_GPU_CONFIG = dict(
    assign=dict(BLOCK_M=128, BLOCK_C=64, num_warps=8, num_stages=3),
    update=dict(BLOCK=64, num_warps=4, num_stages=2),
    permute=dict(BLOCK=64, num_warps=4, num_stages=2),
    lse=dict(BLOCK_M=64, BLOCK_N=128, num_warps=8, num_stages=3),
    mass=dict(BLOCK_M=64, BLOCK_N=64, GROUP=16, num_warps=4, num_stages=3),
)
_INTERPRETER_CONFIG = dict(
    assign=dict(BLOCK_M=16, BLOCK_C=16, num_warps=4, num_stages=1),
    update=dict(BLOCK=16, num_warps=4, num_stages=1),
    permute=dict(BLOCK=16, num_warps=4, num_stages=1),
    lse=dict(BLOCK_M=16, BLOCK_N=16, num_warps=4, num_stages=1),
    mass=dict(BLOCK_M=16, BLOCK_N=16, GROUP=16, num_warps=4, num_stages=1),
)
LAST_LAUNCH: dict = {}


def kmeans_config(kind: str, interpreted: bool, override: Optional[dict] = None) -> dict:
    cfg = dict((_INTERPRETER_CONFIG if interpreted else _GPU_CONFIG)[kind])
    if override:
        cfg.update(override)
    return cfg


def kmeans_assign(x: torch.Tensor, centroids: torch.Tensor, config: Optional[dict] = None) -> torch.Tensor:
    """Nearest centroid (squared Euclidean, lowest index on ties): int32 [B, H, V]."""
    mod = _jit.load_for("_kmeans_triton", x)
    B, H, V, D = check_points(x, mod.INTERPRETED)
    C = check_centroids(centroids, B, H, D, x.device)
    cent = centroids.to(x.dtype).contiguous()
    csq = cent.float().pow(2).sum(-1).contiguous()
    labels = torch.empty(B, H, V, dtype=torch.int32, device=x.device)
    cfg = kmeans_config("assign", mod.INTERPRETED, config)
    prec = "ieee" if x.dtype == torch.float32 else None
    grid = (triton_cdiv(V, cfg["BLOCK_M"]), B * H)
    LAST_LAUNCH["assign"] = mod.assign_kernel[grid](
        x, cent, csq, labels, x.stride(0), x.stride(1), x.stride(2), H, V, C,
        BLOCK_M=cfg["BLOCK_M"], BLOCK_C=cfg["BLOCK_C"], HEAD_DIM=D, PREC=prec,
        num_warps=cfg["num_warps"], num_stages=cfg["num_stages"])
    return labels


def kmeans_update(x: torch.Tensor, perm: torch.Tensor, offsets: torch.Tensor, previous: torch.Tensor,
                  config: Optional[dict] = None) -> torch.Tensor:
    """Centroid = mean of its cluster's vectors; an empty cluster keeps ``previous``: float32 [B, H, C, D]."""
    mod = _jit.load_for("_kmeans_triton", x)
    B, H, V, D = check_points(x, mod.INTERPRETED)
    C = check_centroids(previous, B, H, D, x.device, "previous")
    perm = check_index(perm, (B, H, V), x.device, "perm")
    offsets = check_index(offsets, (B, H, C + 1), x.device, "offsets")
    prev = previous.float().contiguous()
    new = torch.empty_like(prev)
    cfg = kmeans_config("update", mod.INTERPRETED, config)
    LAST_LAUNCH["update"] = mod.update_kernel[(C, B * H)](
        x, perm, offsets, prev, new, x.stride(0), x.stride(1), x.stride(2), H, V, C,
        BLOCK=cfg["BLOCK"], HEAD_DIM=D, num_warps=cfg["num_warps"], num_stages=cfg["num_stages"])
    return new


def cluster_key_logits(centroids: torch.Tensor, keys: torch.Tensor, k_perm: torch.Tensor, k_offsets: torch.Tensor,
                       scale: float, config: Optional[dict] = None) -> torch.Tensor:
    """``log sum_{j in key cluster} softmax_j(scale * c . k_j)`` for every query centroid c and key
    cluster: float32 [B, H, Cq, Ck] (-inf for empty clusters); the math of
    ``svg_attention.semantic.centroid_key_logits``. Two passes over the keys: the centroids'
    log-sum-exp over all keys, then per group of key clusters (contiguous in ``k_perm`` order) the
    probabilities summed by one-hot products; Cq x V scores only tile by tile.
    centroids float32 [B, H, Cq, D]; keys [B, H, V, D] (the video keys, any strides); k_perm int32
    [B, H, V]; k_offsets int32 [B, H, Ck + 1]."""
    mod = _jit.load_for("_kmeans_triton", keys)
    B, H, V, D = check_points(keys, mod.INTERPRETED, "keys")
    Cq = check_centroids(centroids, B, H, D, keys.device)
    Ck = k_offsets.shape[-1] - 1
    k_perm = check_index(k_perm, (B, H, V), keys.device, "k_perm")
    k_offsets = check_index(k_offsets, (B, H, Ck + 1), keys.device, "k_offsets")
    cent = centroids.to(keys.dtype).contiguous()
    prec = "ieee" if keys.dtype == torch.float32 else None
    qk_scale = float(scale) * 1.4426950408889634
    lse = torch.empty(B * H, Cq, dtype=torch.float32, device=keys.device)
    c1 = kmeans_config("lse", mod.INTERPRETED, (config or {}).get("lse"))
    LAST_LAUNCH["lse"] = mod.centroid_lse_kernel[(triton_cdiv(Cq, c1["BLOCK_M"]), B * H)](
        cent, keys, lse, keys.stride(0), keys.stride(1), keys.stride(2), H, V, Cq, qk_scale,
        BLOCK_M=c1["BLOCK_M"], BLOCK_N=c1["BLOCK_N"], HEAD_DIM=D, PREC=prec,
        num_warps=c1["num_warps"], num_stages=c1["num_stages"])
    out = torch.empty(B, H, Cq, Ck, dtype=torch.float32, device=keys.device)
    c2 = kmeans_config("mass", mod.INTERPRETED, (config or {}).get("mass"))
    LAST_LAUNCH["mass"] = mod.cluster_mass_kernel[(triton_cdiv(Cq, c2["BLOCK_M"]), triton_cdiv(Ck, c2["GROUP"]), B * H)](
        cent, keys, lse, k_perm, k_offsets, out, keys.stride(0), keys.stride(1), keys.stride(2), H, V, Cq, Ck,
        qk_scale, BLOCK_M=c2["BLOCK_M"], BLOCK_N=c2["BLOCK_N"], GROUP=c2["GROUP"], HEAD_DIM=D, PREC=prec,
        num_warps=c2["num_warps"], num_stages=c2["num_stages"])
    return out


def permute_rows_reference(k, v, perm, video_start: int, bh_start: int = 0, count: Optional[int] = None):
    """(kp, vp): contiguous [count, V, D] with kp[j, p] = k[b, h, video_start + perm[b, h, p]] for the
    flattened (b, h) = bh_start + j (all pairs by default)."""
    B, H, _, D = k.shape
    V = perm.shape[-1]
    count = B * H - bh_start if count is None else count
    index = perm.reshape(B * H, V)[bh_start:bh_start + count].long() + video_start
    flat = lambda t: t.reshape(B * H, t.shape[2], D)[bh_start:bh_start + count]   # noqa: E731
    return (torch.gather(flat(k), 1, index[..., None].expand(count, V, D)).contiguous(),
            torch.gather(flat(v), 1, index[..., None].expand(count, V, D)).contiguous())


def permute_rows(k: torch.Tensor, v: torch.Tensor, perm: torch.Tensor, video_start: int, bh_start: int = 0,
                 count: Optional[int] = None, out: Optional[tuple] = None, config: Optional[dict] = None):
    """Triton :func:`permute_rows_reference`; ``out`` = preallocated (kp, vp) of at least ``count`` rows
    (reused between head chunks)."""
    mod = _jit.load_for("_kmeans_triton", k)
    B, H, N, D = check_points(k, mod.INTERPRETED, "k")
    if tuple(v.shape) != tuple(k.shape) or v.dtype != k.dtype or v.stride(-1) != 1:
        raise ValueError(f"v must match k {tuple(k.shape)} {k.dtype} with a contiguous last dim")
    V = perm.shape[-1]
    perm = check_index(perm, (B, H, V), k.device, "perm")
    count = B * H - bh_start if count is None else count
    if not (0 <= bh_start and count >= 1 and bh_start + count <= B * H):
        raise ValueError(f"head range [{bh_start}, {bh_start + count}) outside [0, {B * H})")
    if video_start < 0 or video_start + V > N:
        raise ValueError(f"video [{video_start}, {video_start + V}) does not fit in {N} tokens")
    if out is None:
        kp = torch.empty(count, V, D, dtype=k.dtype, device=k.device)
        vp = torch.empty_like(kp)
    else:
        kp, vp = out
        if kp.shape[0] < count or tuple(kp.shape[1:]) != (V, D) or not kp.is_contiguous() or \
                kp.dtype != k.dtype or tuple(vp.shape) != tuple(kp.shape) or not vp.is_contiguous():
            raise ValueError(f"out must be two contiguous [>= {count}, {V}, {D}] {k.dtype} tensors")
    cfg = kmeans_config("permute", mod.INTERPRETED, config)
    LAST_LAUNCH["permute"] = mod.permute_rows_kernel[(triton_cdiv(V, cfg["BLOCK"]), count)](
        k, v, perm, kp, vp, k.stride(0), k.stride(1), k.stride(2), v.stride(0), v.stride(1), v.stride(2),
        H, V, int(video_start), int(bh_start),
        BLOCK=cfg["BLOCK"], HEAD_DIM=D, num_warps=cfg["num_warps"], num_stages=cfg["num_stages"])
    return kp, vp


def triton_cdiv(a: int, b: int) -> int:
    return -(-int(a) // int(b))

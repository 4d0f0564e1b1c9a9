"""Input checks of the kernel launchers, in one place (band_attention.py, profile.py, kmeans.py,
semantic_attention.py), and what the kernels support (``triton_support`` in __init__.py reads the
same constants).

Every check raises ValueError naming the argument; none reads a device value (no host sync).
"""
from __future__ import annotations

import torch

HEAD_DIMS = (64, 128)
DTYPES = (torch.float16, torch.bfloat16)
INTERPRETER_DTYPES = DTYPES + (torch.float32,)   # Triton's interpreter (CPU tests) also runs fp32
FP8_CAPABILITIES = ((8, 9), (9, 0))              # FP8 (e4m3) attention: Ada, Hopper (packed_attention.fp8_support)


def check_layout(q, k, v, video_start, num_frames, frame_tokens, block_size, band_width):
    """q, k, v: one shape [B, H, N, D], dtype and device, last dim contiguous; the video
    [video_start, video_start + F*P) inside N; block_size a power of two >= 16; band_width >= 0.
    Returns (B, H, N, D)."""
    if q.dim() != 4 or k.dim() != 4 or v.dim() != 4:
        raise ValueError(f"q, k, v must be 4-D [B, H, N, D]; got {tuple(q.shape)}, {tuple(k.shape)}, {tuple(v.shape)}")
    if q.shape != k.shape or q.shape != v.shape:
        raise ValueError(f"q, k, v must have the same shape; got {tuple(q.shape)}, {tuple(k.shape)}, {tuple(v.shape)}")
    if q.dtype != k.dtype or q.dtype != v.dtype:
        raise ValueError(f"q, k, v must share a dtype; got {q.dtype}, {k.dtype}, {v.dtype}")
    if q.device != k.device or q.device != v.device:
        raise ValueError("q, k, v must be on one device")
    for name, t in (("q", q), ("k", k), ("v", v)):
        if t.stride(-1) != 1:
            raise ValueError(f"{name}: the last dimension must be contiguous (stride 1); got strides {t.stride()}")
    B, H, N, D = q.shape
    F, P = int(num_frames), int(frame_tokens)
    if F <= 0 or P <= 0:
        raise ValueError(f"num_frames and frame_tokens must be positive; got {F}, {P}")
    if video_start < 0 or video_start + F * P > N:
        raise ValueError(f"video [{video_start}, {video_start + F * P}) does not fit in N={N} tokens")
    bs = int(block_size)
    if bs < 16 or bs & (bs - 1):
        raise ValueError(f"block_size must be a power of two >= 16; got {block_size}")
    if band_width < 0:
        raise ValueError(f"band_width must be >= 0; got {band_width}")
    return B, H, N, D


def check_kernel_dtype(q, interpreted: bool, kernel: str):
    """dtype and head_dim a kernel compiles for: fp16/bf16 (and fp32 in the interpreter), D in HEAD_DIMS."""
    allowed = INTERPRETER_DTYPES if interpreted else DTYPES
    if q.dtype not in allowed:
        raise ValueError(f"{kernel} needs q/k/v in {', '.join(str(d) for d in allowed)}"
                         f"{'' if interpreted else ' on CUDA'}; got {q.dtype}")
    if q.shape[-1] not in HEAD_DIMS:
        raise ValueError(f"{kernel} supports head_dim {' or '.join(map(str, HEAD_DIMS))}; got {q.shape[-1]}")


def check_key_bias(key_bias, B, N, device):
    """float32 [B or 1, N] (a 1-D [N] reads as [1, N]) on q's device, or None; returns it with a
    contiguous last dim."""
    if key_bias is None:
        return None
    if key_bias.dim() == 1:
        key_bias = key_bias[None]
    if key_bias.dim() != 2 or key_bias.shape[0] not in (1, B) or key_bias.shape[1] != N:
        raise ValueError(f"key_bias must be [B or 1, N] = [{B} or 1, {N}]; got {tuple(key_bias.shape)}")
    if key_bias.dtype != torch.float32:
        raise ValueError(f"key_bias must be float32; got {key_bias.dtype}")
    if key_bias.device != device:
        raise ValueError("key_bias must be on the device of q")
    if key_bias.stride(-1) != 1:
        key_bias = key_bias.contiguous()
    return key_bias


def check_labels(labels, B, H, device):
    """Head order per (batch element, head): a bool / int tensor [B, H] (or [H]: the same for every
    batch element) or one Python bool for all. Returns a [B, H] tensor on ``device``."""
    if isinstance(labels, bool):
        return torch.full((B, H), labels, dtype=torch.bool, device=device)
    labels = torch.as_tensor(labels, device=device)
    if labels.dim() == 1 and labels.shape[0] == H:
        labels = labels[None].expand(B, H)
    if tuple(labels.shape) != (B, H):
        raise ValueError(f"labels (head orders) must be [B, H] = [{B}, {H}]; got {tuple(labels.shape)}")
    return labels


def check_rows(rows, device):
    """Sampled rows: a non-empty 1-D int32 / int64 tensor; returned on ``device``."""
    rows = torch.as_tensor(rows, device=device)
    if rows.dim() != 1 or rows.numel() == 0:
        raise ValueError(f"rows must be a non-empty 1-D tensor of video indices; got shape {tuple(rows.shape)}")
    if rows.dtype not in (torch.int32, torch.int64):
        raise ValueError(f"rows must be int32/int64; got {rows.dtype}")
    return rows


def check_out(out, q):
    """An output [B, H, N, D] of q's dtype and device with a contiguous last dim."""
    if tuple(out.shape) != tuple(q.shape) or out.dtype != q.dtype or out.device != q.device:
        raise ValueError(f"out must be {list(q.shape)} {q.dtype} on {q.device}; got "
                         f"{tuple(out.shape)} {out.dtype} {out.device}")
    if out.stride(-1) != 1:
        raise ValueError(f"out: the last dimension must be contiguous; got strides {out.stride()}")
    return out


# ---- SVG2 (kmeans.py, semantic_attention.py)
def check_points(x, interpreted: bool, name: str = "x"):
    """Vectors to cluster / score: [B, H, V, D], last dim contiguous, a kernel dtype, D in HEAD_DIMS.
    Returns (B, H, V, D)."""
    if x.dim() != 4:
        raise ValueError(f"{name} must be [B, H, V, D]; got shape {tuple(x.shape)}")
    if x.stride(-1) != 1:
        raise ValueError(f"{name}: the last dimension must be contiguous; got strides {x.stride()}")
    check_kernel_dtype(x, interpreted, name)
    return tuple(x.shape)


def check_centroids(centroids, B, H, D, device, name: str = "centroids"):
    """[B, H, C, D] on ``device``; returns C."""
    if centroids.dim() != 4 or tuple(centroids.shape[:2]) != (B, H) or centroids.shape[3] != D:
        raise ValueError(f"{name} must be [{B}, {H}, C, {D}]; got {tuple(centroids.shape)}")
    if centroids.device != device:
        raise ValueError(f"{name} must be on {device}; got {centroids.device}")
    return centroids.shape[2]


def check_index(t, shape, device, name: str):
    """An int32 index tensor of exactly ``shape`` on ``device``; returned contiguous."""
    if tuple(t.shape) != tuple(shape) or t.dtype != torch.int32 or t.device != device:
        raise ValueError(f"{name} must be int32 {list(shape)} on {device}; got {t.dtype} {list(t.shape)} on {t.device}")
    return t.contiguous()


def check_semantic(q, k, v, q_perm, q_offsets, k_perm, k_offsets, keep, video_start, interpreted: bool):
    """SVG2 attention inputs: q, k, v one [B, H, N, D] shape / dtype / device (last dim contiguous,
    kernel dtype and head_dim); permutations int32 [B, H, V] with the video [video_start,
    video_start + V) inside N; offsets int32 [B, H, C + 1]; keep bool [B, H, Cq, Ck].
    Returns (B, H, N, D, V, Cq, Ck)."""
    if q.dim() != 4 or k.dim() != 4 or v.dim() != 4:
        raise ValueError(f"q, k, v must be 4-D [B, H, N, D]; got {tuple(q.shape)}, {tuple(k.shape)}, {tuple(v.shape)}")
    if q.shape != k.shape or q.shape != v.shape or q.dtype != k.dtype or q.dtype != v.dtype:
        raise ValueError(f"q, k, v must share shape and dtype; got {tuple(q.shape)} {q.dtype}, "
                         f"{tuple(k.shape)} {k.dtype}, {tuple(v.shape)} {v.dtype}")
    if q.device != k.device or q.device != v.device:
        raise ValueError("q, k, v must be on one device")
    for name, t in (("q", q), ("k", k), ("v", v)):
        if t.stride(-1) != 1:
            raise ValueError(f"{name}: the last dimension must be contiguous (stride 1); got strides {t.stride()}")
    check_kernel_dtype(q, interpreted, "semantic_attention")
    B, H, N, D = q.shape
    V = q_perm.shape[-1]
    if video_start < 0 or video_start + V > N:
        raise ValueError(f"video [{video_start}, {video_start + V}) does not fit in N={N} tokens")
    Cq, Ck = q_offsets.shape[-1] - 1, k_offsets.shape[-1] - 1
    for name, t, shape in (("q_perm", q_perm, (B, H, V)), ("k_perm", k_perm, (B, H, V)),
                           ("q_offsets", q_offsets, (B, H, Cq + 1)), ("k_offsets", k_offsets, (B, H, Ck + 1))):
        check_index(t, shape, q.device, name)
    if tuple(keep.shape) != (B, H, Cq, Ck) or keep.dtype != torch.bool:
        raise ValueError(f"keep must be bool [{B}, {H}, {Cq}, {Ck}]; got {keep.dtype} {list(keep.shape)}")
    return B, H, N, D, V, Cq, Ck

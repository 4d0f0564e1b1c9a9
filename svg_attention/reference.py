"""Plain-torch reference of the band over head orders (SVG's attention): the one definition the
Triton kernels (``kernels``) reproduce and are tested against, and the reference backend's ops.

Shapes: q, k, v are [B, H, N, D] (any strides); ``orders`` is an integer (or bool) [B, H] tensor,
the head order of each (batch element, head) (layout.FRAME_MAJOR / POSITION_MAJOR: SVG's labels);
``key_bias`` is an additive float [B or 1, N] (HunyuanVideo's text padding mask) or None, of which
only the global (non-video) entries are read. Math in float32 (float64 for float64 inputs).

The rule, per (batch element, head), in the head's own order (see layout.py): the video query at
head-order index u attends to the video keys u' with |u // block_size - u' // block_size| <= width
and to every global key. Global query rows attend to every key (dense). Memory: the scores of one
query block at a time, O(block_size x (band + globals)) per head, never N x N.
"""
from __future__ import annotations

import math

import torch

from .layout import FRAME_MAJOR, POSITION_MAJOR, VideoLayout, global_token_index, head_order, temporal_from_spatial


def _bias_row(key_bias, batch_index):
    if key_bias is None:
        return None
    return key_bias[batch_index if key_bias.shape[0] > 1 else 0]


def _global_key_bias(key_bias, layout: VideoLayout):
    """``key_bias`` with its video entries read as 0 (only the global keys carry a bias)."""
    if key_bias is None:
        return None
    bias = key_bias.clone()
    bias[..., layout.video_start:layout.video_start + layout.video_tokens] = 0
    return bias


def _compute_dtype(q):
    return torch.float64 if q.dtype == torch.float64 else torch.float32


def band_attention_reference(q, k, v, layout: VideoLayout, width: int, block_size: int,
                             orders: torch.Tensor, key_bias=None, scale=None, out=None):
    """Video rows of the band attention. Writes the video rows of ``out`` (zeros if None) and
    returns it; global rows of ``out`` are left as they were."""
    batch, heads, tokens, head_dim = q.shape
    if tokens != layout.total_tokens:
        raise ValueError(f"q has {tokens} tokens, the layout {layout} has {layout.total_tokens}")
    scale = 1.0 / math.sqrt(head_dim) if scale is None else scale
    out = torch.zeros_like(q) if out is None else out
    compute = _compute_dtype(q)
    video = layout.video_tokens
    glob = global_token_index(layout, q.device)
    num_blocks = -(-video // block_size)
    for b in range(batch):
        bias = _bias_row(key_bias, b)
        bias_glob = None if bias is None else bias[glob].to(compute)
        for order_id in (FRAME_MAJOR, POSITION_MAJOR):
            head_ids = torch.nonzero(orders[b] == order_id).flatten()
            if head_ids.numel() == 0:
                continue
            order = head_order(layout, order_id, q.device)
            qv = q[b].index_select(0, head_ids).index_select(1, order).to(compute)
            kv = k[b].index_select(0, head_ids).index_select(1, order).to(compute)
            vv = v[b].index_select(0, head_ids).index_select(1, order).to(compute)
            kg = k[b].index_select(0, head_ids).index_select(1, glob).to(compute)
            vg = v[b].index_select(0, head_ids).index_select(1, glob).to(compute)
            result = torch.empty_like(qv)
            for block in range(num_blocks):
                r0, r1 = block * block_size, min(video, (block + 1) * block_size)
                k0 = max(0, block - width) * block_size
                k1 = min(video, (block + width + 1) * block_size)
                keys = torch.cat([kv[:, k0:k1], kg], dim=1)
                values = torch.cat([vv[:, k0:k1], vg], dim=1)
                scores = torch.matmul(qv[:, r0:r1], keys.transpose(1, 2)) * scale
                if bias_glob is not None:
                    scores[..., k1 - k0:] += bias_glob
                result[:, r0:r1] = torch.matmul(torch.softmax(scores, dim=-1), values)
            out[b, head_ids[:, None], order[None, :]] = result.to(out.dtype)
    return out


def global_rows_dense(q, k, v, layout: VideoLayout, key_bias=None, scale=None, out=None):
    """Global (text / extra) query rows attend to every key. Writes them into ``out``."""
    out = torch.empty_like(q) if out is None else out
    if layout.global_tokens == 0:
        return out
    glob = global_token_index(layout, q.device)
    bias = _global_key_bias(key_bias, layout)
    mask = None if bias is None else bias[:, None, None, :].to(q.dtype)
    rows = torch.nn.functional.scaled_dot_product_attention(
        q.index_select(2, glob), k, v, attn_mask=mask, scale=scale)
    out.index_copy_(2, glob, rows.to(out.dtype))
    return out


def pattern_keep(layout: VideoLayout, width: int, block_size: int, rows: torch.Tensor,
                 order: int) -> torch.Tensor:
    """Which keys the sampled video rows keep under one head order: bool [R, N].

    ``rows`` are frame-major video indices. Memory R x N (R is ~64), never N x N.
    """
    device = rows.device
    video_index = torch.arange(layout.total_tokens, device=device) - layout.video_start
    is_video = (video_index >= 0) & (video_index < layout.video_tokens)
    key_u = video_index.clamp(0, layout.video_tokens - 1)
    row_u = rows
    if order == POSITION_MAJOR:
        key_u = temporal_from_spatial(key_u, layout.num_frames, layout.frame_tokens)
        row_u = temporal_from_spatial(rows, layout.num_frames, layout.frame_tokens)
    near = (row_u[:, None] // block_size - key_u[None, :] // block_size).abs() <= width
    return near & is_video[None, :] | ~is_video[None, :]


def profile_reference(q, k, v, layout: VideoLayout, width: int, block_size: int, rows: torch.Tensor,
                      key_bias=None, scale=None, max_chunk_bytes: int = 256 << 20) -> torch.Tensor:
    """Online profiling of the sampled video rows (frame-major video indices, int [R]): err float32
    [B, H, 2] = mean squared error of the band's output in each head order (frame-major, position-
    major) against the exact output of those rows."""
    batch, heads, tokens, head_dim = q.shape
    scale = 1.0 / math.sqrt(head_dim) if scale is None else scale
    compute = _compute_dtype(q)
    keep = tuple(pattern_keep(layout, width, block_size, rows, order) for order in (FRAME_MAJOR, POSITION_MAJOR))
    q_rows = q.index_select(2, rows + layout.video_start)
    key_bias = _global_key_bias(key_bias, layout)
    err = torch.empty(batch, heads, 2, dtype=torch.float32, device=q.device)
    per_head = rows.numel() * tokens * 4 * 3
    chunk = max(1, min(heads, max_chunk_bytes // max(per_head, 1)))
    for b in range(batch):
        bias = _bias_row(key_bias, b)
        for h0 in range(0, heads, chunk):
            h1 = min(heads, h0 + chunk)
            scores = torch.matmul(q_rows[b, h0:h1].to(compute), k[b, h0:h1].to(compute).transpose(1, 2)) * scale
            if bias is not None:
                scores += bias.to(compute)
            values = v[b, h0:h1].to(compute)
            exact = torch.matmul(torch.softmax(scores, dim=-1), values)
            for order in (FRAME_MAJOR, POSITION_MAJOR):
                masked = scores.masked_fill(~keep[order], float("-inf"))
                approx = torch.matmul(torch.softmax(masked, dim=-1), values)
                err[b, h0:h1, order] = (approx - exact).pow(2).mean(dim=(-1, -2))
    return err

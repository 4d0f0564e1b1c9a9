"""Plain-torch reference of SVG's attention: the definition the Triton kernels reproduce.

Shapes: q, k, v are [B, H, N, D] (any strides); ``temporal`` is bool [B, H]; ``key_bias`` is an
additive float [B or 1, N] (HunyuanVideo's text padding mask) or None.

The rule, per (batch element, head), in the head's own order (see layout.py): the video query at
head-order index u attends to the video keys u' with |u // block_size - u' // block_size| <= width
and to every global key. Global query rows attend to every key (dense). Memory: the scores of one
query block at a time, O(block_size x (band + globals)) per head, never N x N.
"""
from __future__ import annotations

import math

import torch

from .layout import VideoLayout, global_token_index, head_order, temporal_from_spatial


def _bias_row(key_bias, batch_index):
    if key_bias is None:
        return None
    return key_bias[batch_index if key_bias.shape[0] > 1 else 0]


def band_attention_reference(q, k, v, layout: VideoLayout, width: int, block_size: int,
                             temporal: torch.Tensor, key_bias=None, scale=None, out=None):
    """Video rows of SVG attention. Writes the video rows of ``out`` (allocated if None) and
    returns it; global rows of ``out`` are left as they were."""
    batch, heads, tokens, head_dim = q.shape
    if tokens != layout.total_tokens:
        raise ValueError(f"q has {tokens} tokens, the layout {layout} has {layout.total_tokens}")
    scale = 1.0 / math.sqrt(head_dim) if scale is None else scale
    out = torch.empty_like(q) if out is None else out
    video = layout.video_tokens
    glob = global_token_index(layout, q.device)
    num_blocks = -(-video // block_size)
    for b in range(batch):
        bias = _bias_row(key_bias, b)
        bias_glob = None if bias is None else bias[glob].float()
        for kind in (False, True):
            head_ids = torch.nonzero(temporal[b] == kind).flatten()
            if head_ids.numel() == 0:
                continue
            order = head_order(layout, kind, q.device)
            qv = q[b].index_select(0, head_ids).index_select(1, order).float()
            kv = k[b].index_select(0, head_ids).index_select(1, order).float()
            vv = v[b].index_select(0, head_ids).index_select(1, order).float()
            kg = k[b].index_select(0, head_ids).index_select(1, glob).float()
            vg = v[b].index_select(0, head_ids).index_select(1, glob).float()
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
    mask = None if key_bias is None else key_bias[:, None, None, :].to(q.dtype)
    rows = torch.nn.functional.scaled_dot_product_attention(
        q.index_select(2, glob), k, v, attn_mask=mask, scale=scale)
    out.index_copy_(2, glob, rows.to(out.dtype))
    return out


def pattern_keep(layout: VideoLayout, width: int, block_size: int, rows: torch.Tensor,
                 temporal: bool) -> torch.Tensor:
    """Which keys the sampled video rows keep under one head kind: bool [R, N].

    ``rows`` are frame-major video indices. Memory R x N (R is ~64), never N x N.
    """
    device = rows.device
    video_index = torch.arange(layout.total_tokens, device=device) - layout.video_start
    is_video = (video_index >= 0) & (video_index < layout.video_tokens)
    key_u = video_index.clamp(0, layout.video_tokens - 1)
    row_u = rows
    if temporal:
        key_u = temporal_from_spatial(key_u, layout.num_frames, layout.frame_tokens)
        row_u = temporal_from_spatial(rows, layout.num_frames, layout.frame_tokens)
    near = (row_u[:, None] // block_size - key_u[None, :] // block_size).abs() <= width
    return near & is_video[None, :] | ~is_video[None, :]


def profile_reference(q, k, v, layout: VideoLayout, width: int, block_size: int, rows: torch.Tensor,
                      key_bias=None, scale=None, max_chunk_bytes: int = 256 << 20) -> torch.Tensor:
    """Online profiling of the sampled video rows: err float32 [B, H, 2] = mean squared error of the
    (spatial, temporal) pattern's output against the exact output of those rows."""
    batch, heads, tokens, head_dim = q.shape
    scale = 1.0 / math.sqrt(head_dim) if scale is None else scale
    keep = (pattern_keep(layout, width, block_size, rows, False),
            pattern_keep(layout, width, block_size, rows, True))
    q_rows = q.index_select(2, rows + layout.video_start)
    err = torch.empty(batch, heads, 2, dtype=torch.float32, device=q.device)
    per_head = rows.numel() * tokens * 4 * 3
    chunk = max(1, min(heads, max_chunk_bytes // max(per_head, 1)))
    for b in range(batch):
        bias = _bias_row(key_bias, b)
        for h0 in range(0, heads, chunk):
            h1 = min(heads, h0 + chunk)
            scores = torch.matmul(q_rows[b, h0:h1].float(), k[b, h0:h1].float().transpose(1, 2)) * scale
            if bias is not None:
                scores += bias.float()
            values = v[b, h0:h1].float()
            exact = torch.matmul(torch.softmax(scores, dim=-1), values)
            for kind in (0, 1):
                masked = scores.masked_fill(~keep[kind], float("-inf"))
                approx = torch.matmul(torch.softmax(masked, dim=-1), values)
                err[b, h0:h1, kind] = (approx - exact).pow(2).mean(dim=(-1, -2))
    return err

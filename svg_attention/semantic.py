"""SVG2's selection and attention on the cluster-permuted layout: plain torch.

Given the query clusters and key clusters of one call (``clustering.py``), per (batch element, head):

1. score every (query cluster, key cluster) pair from the centroids: ``q_c . k_c * scale`` plus
   ``log(size of the key cluster)``; the softmax of a query cluster's row estimates the share of its
   attention that each key cluster carries (a cluster of n similar keys gets n times the weight of
   one of them);
2. choose the kept pairs, ``keep`` bool [B, H, C_q, C_k], either
   - ``select_top_p``: per query cluster, key clusters by descending share until the kept share
     passes ``top_p`` (SVG2's rule; the density follows from the data), or
   - ``select_budget``: per (b, h), the pairs with the highest estimated attention weight per key
     (share / key-cluster size) until the kept pairs reach a budget (a requested density: the
     fractional-knapsack optimum of the estimated attention mass kept);
   both with a floor: every query cluster keeps at least ``min_key_fraction`` of the non-empty key
   clusters (its largest shares);
3. attend: video query rows of a query cluster attend to the video keys of its kept key clusters and
   to every global key (text, reference image; ``key_bias`` added on them), the tokens being
   permuted so that every cluster is contiguous, and the output is permuted back.

Global query rows are dense and not written here (``reference.global_rows_dense`` or the Triton
``global_rows`` op). The kept fraction counts pairs over the whole call's N x N, global rows and
columns fully kept, as ``budget.kept_pairs`` counts them for the band.
"""
from __future__ import annotations

import math
from typing import Optional

import torch

from .clustering import Clusters
from .layout import VideoLayout, global_token_index


# ---------------------------------------------------------------------------------------------
# budget
# ---------------------------------------------------------------------------------------------
def global_pairs(layout: VideoLayout) -> int:
    """Pairs that touch a global token (its whole row and column): N^2 - V^2, the
    ``V*G + G*N`` of ``budget.kept_pairs``."""
    return layout.total_tokens ** 2 - layout.video_tokens ** 2


def video_pair_budget(layout: VideoLayout, density: float) -> int:
    """Video-video pairs that make the call's kept fraction ``density`` (global pairs are always
    kept), clamped to [0, V^2]."""
    wanted = int(round(float(density) * layout.total_tokens ** 2)) - global_pairs(layout)
    return max(0, min(layout.video_tokens ** 2, wanted))


def kept_video_pairs(keep: torch.Tensor, q_sizes: torch.Tensor, k_sizes: torch.Tensor) -> torch.Tensor:
    """Video query-key pairs kept: int64 [B, H] (sum over kept pairs of |query cluster| x |key cluster|)."""
    per_query_cluster = torch.matmul(keep.double(), k_sizes.double()[..., None])[..., 0]   # [B, H, Cq]
    return (per_query_cluster * q_sizes.double()).sum(-1).round().long()


def call_density(kept_video: torch.Tensor, layout: VideoLayout) -> torch.Tensor:
    """Kept fraction of the call's N x N pairs per (b, h): float32 [B, H]."""
    total = float(layout.total_tokens) ** 2
    return ((kept_video.double() + global_pairs(layout)) / total).float()


# ---------------------------------------------------------------------------------------------
# scores and selection
# ---------------------------------------------------------------------------------------------
def centroid_logits(q_clusters: Clusters, k_clusters: Clusters, scale: float) -> torch.Tensor:
    """``q_c . k_c * scale + log|k_c|`` per (query cluster, key cluster): float32 [B, H, Cq, Ck];
    -inf for empty key clusters. Its row softmax is the estimated share of each key cluster."""
    raw = torch.matmul(q_clusters.centroids.float(), k_clusters.centroids.float().transpose(-1, -2)) * scale
    return raw + k_clusters.sizes.float().log()[:, :, None, :]


def centroid_key_logits(q_clusters: Clusters, k_clusters: Clusters, keys: torch.Tensor, scale: float,
                        max_chunk_bytes: int = 256 << 20) -> torch.Tensor:
    """Log of the estimated share of each key cluster, from each query centroid's exact softmax over
    all video keys: ``log sum_{j in key cluster} softmax_j(scale * q_c . k_j)``, float32 [B, H, Cq, Ck]
    (-inf for empty key clusters). ``keys``: the video keys [B, H, V, D].

    Unlike :func:`centroid_logits` (centroid . centroid) it sees how a key cluster's members spread:
    exp of the mean score underestimates the mean of exp for a spread cluster, badly for sharp heads.
    Costs Cq x V x D per head (Cq x V scores, ``max_chunk_bytes`` of them at a time)."""
    B, H, Cq, D = q_clusters.centroids.shape
    V = keys.shape[2]
    Ck = k_clusters.sizes.shape[-1]
    out = torch.zeros(B, H, Cq, Ck, dtype=torch.float32, device=keys.device)
    rows = max(1, min(Cq, max_chunk_bytes // (4 * V * max(1, H))))
    for b in range(B):
        labels = k_clusters.labels[b].long()
        kb = keys[b].float()
        for r0 in range(0, Cq, rows):
            scores = torch.matmul(q_clusters.centroids[b, :, r0:r0 + rows].float(), kb.transpose(-1, -2)) * scale
            share = torch.softmax(scores, dim=-1)                                   # [H, rows, V]
            out[b, :, r0:r0 + rows].scatter_add_(-1, labels[:, None, :].expand_as(share), share)
    return out.log()


def _floor(logits: torch.Tensor, k_sizes: torch.Tensor, min_key_fraction: float):
    """(order of key clusters by descending share [B, H, Cq, Ck], bool floor mask in that order)."""
    nonempty = (k_sizes > 0).sum(-1)                                            # [B, H]
    floor = torch.ceil(nonempty.double() * min_key_fraction).long().clamp(min=1)
    floor = torch.minimum(floor, nonempty.clamp(min=1))
    order = torch.argsort(logits, dim=-1, descending=True, stable=True)
    rank = torch.arange(logits.shape[-1], device=logits.device)
    return order, (rank[None, None, None, :] < floor[:, :, None, None]).expand(logits.shape)


def _scatter_sorted(mask_sorted: torch.Tensor, order: torch.Tensor) -> torch.Tensor:
    return torch.zeros_like(mask_sorted).scatter_(-1, order, mask_sorted)


def select_top_p(logits: torch.Tensor, q_sizes: torch.Tensor, k_sizes: torch.Tensor, top_p: float,
                 min_key_fraction: float) -> torch.Tensor:
    """Per query cluster, key clusters by descending share until the kept share reaches ``top_p``
    (the cluster that crosses it is kept), at least ``min_key_fraction`` of the non-empty key
    clusters: keep bool [B, H, Cq, Ck]. Empty clusters are never kept."""
    order, floor = _floor(logits, k_sizes, min_key_fraction)
    share = torch.softmax(logits, dim=-1).gather(-1, order)
    before = torch.cumsum(share, dim=-1) - share
    keep = _scatter_sorted((before < top_p) | floor, order)
    return keep & (k_sizes > 0)[:, :, None, :] & (q_sizes > 0)[:, :, :, None]


def select_budget(logits: torch.Tensor, q_sizes: torch.Tensor, k_sizes: torch.Tensor,
                  budget: torch.Tensor | int, min_key_fraction: float) -> torch.Tensor:
    """Per (b, h), the floor (see :func:`select_top_p`) then the pairs of highest estimated weight
    per key (``share / |k_c|``) while the kept video pairs stay within ``budget`` (int or int64
    [B, H]; a pair is taken when at least half of its cost fits, so the result lands within half a
    pair of the budget): keep bool [B, H, Cq, Ck]."""
    B, H, Cq, Ck = logits.shape
    order, floor = _floor(logits, k_sizes, min_key_fraction)
    valid = (k_sizes > 0)[:, :, None, :] & (q_sizes > 0)[:, :, :, None]
    keep_floor = _scatter_sorted(floor, order) & valid
    cost = q_sizes.long()[:, :, :, None] * k_sizes.long()[:, :, None, :]        # [B, H, Cq, Ck]
    budget = torch.as_tensor(budget, dtype=torch.int64, device=logits.device).expand(B, H)
    remaining = budget - (cost * keep_floor).sum((-1, -2))                       # [B, H]
    per_key = torch.log_softmax(logits, dim=-1) - k_sizes.float().log()[:, :, None, :]
    per_key = per_key.masked_fill(keep_floor | ~valid, float("-inf")).flatten(2)
    priority, flat_order = torch.sort(per_key, dim=-1, descending=True, stable=True)
    cost_sorted = cost.flatten(2).gather(-1, flat_order)
    spent = torch.cumsum(cost_sorted, dim=-1)
    take = (2 * spent - cost_sorted <= 2 * remaining[:, :, None]) & (priority > float("-inf"))
    chosen = torch.zeros_like(take).scatter_(-1, flat_order, take).view(B, H, Cq, Ck)
    return keep_floor | chosen


def select_pairs(q_clusters: Clusters, k_clusters: Clusters, scale: float, layout: VideoLayout, settings,
                 density: float, keys: Optional[torch.Tensor] = None, key_logits=centroid_key_logits) -> torch.Tensor:
    """The kept (query cluster, key cluster) pairs of one call under ``settings``
    (``semantic_settings.SemanticSettings``): bool [B, H, Cq, Ck]. ``density``: the call's kept
    fraction to aim for (budget selection). ``keys`` (the video keys [B, H, V, D]): score with
    ``key_logits`` (signature of :func:`centroid_key_logits`; the Triton ``kernels.svg2_key_logits``
    is drop-in) when ``settings.scores == "keys"``."""
    if settings.scores == "keys":
        if keys is None:
            raise ValueError("scores='keys' needs the video keys")
        logits = key_logits(q_clusters, k_clusters, keys, scale)
    else:
        logits = centroid_logits(q_clusters, k_clusters, scale)
    if settings.selection == "budget":
        return select_budget(logits, q_clusters.sizes, k_clusters.sizes, video_pair_budget(layout, density),
                             settings.min_key_fraction)
    return select_top_p(logits, q_clusters.sizes, k_clusters.sizes, settings.top_p, settings.min_key_fraction)


# ---------------------------------------------------------------------------------------------
# cluster order (which key clusters sit next to each other in the permuted layout)
# ---------------------------------------------------------------------------------------------
def reorder_clusters(clusters: Clusters, order: torch.Tensor) -> Clusters:
    """The same clusters renumbered: new cluster ``j`` is old cluster ``order[..., j]`` (int [B, H, C],
    a permutation per (b, h)). Tokens keep their order inside a cluster."""
    order = order.long()
    B, H, C = order.shape
    V = clusters.perm.shape[-1]
    rank = torch.empty_like(order).scatter_(-1, order, torch.arange(C, device=order.device).expand(B, H, C))
    sizes = clusters.sizes.gather(-1, order)
    offsets = torch.zeros_like(clusters.offsets)
    torch.cumsum(sizes, dim=-1, out=offsets[..., 1:])
    position = torch.arange(V, device=order.device, dtype=offsets.dtype).expand(B, H, V).contiguous()
    new_cluster = torch.searchsorted(offsets[..., 1:].contiguous(), position, right=True)   # [B, H, V]
    old_cluster = order.gather(-1, new_cluster)
    old_position = clusters.offsets.long().gather(-1, old_cluster) + (position - offsets.gather(-1, new_cluster))
    return Clusters(
        centroids=clusters.centroids.gather(2, order[..., None].expand_as(clusters.centroids)),
        labels=rank.gather(-1, clusters.labels.long()).to(torch.int32),
        perm=clusters.perm.gather(-1, old_position),
        sizes=sizes,
        offsets=offsets,
    )


# ---------------------------------------------------------------------------------------------
# attention (reference)
# ---------------------------------------------------------------------------------------------
def _bias_row(key_bias, batch_index):
    if key_bias is None:
        return None
    return key_bias[batch_index if key_bias.shape[0] > 1 else 0]


def semantic_attention_reference(q, k, v, layout: VideoLayout, q_clusters: Clusters, k_clusters: Clusters,
                                 keep: torch.Tensor, key_bias=None, scale=None, out=None,
                                 row_chunk: int = 128):
    """Video rows of SVG2 attention, on the cluster-permuted layout. q, k, v [B, H, N, D];
    ``keep`` bool [B, H, Cq, Ck]; key_bias float32 [B or 1, N] (read on the global keys) or None.

    Per (b, h): the video queries / keys / values are gathered in cluster order (``perm``); each
    query cluster's rows (``row_chunk`` at a time) attend to the concatenated keys of its kept key
    clusters and to the global keys; the rows are scattered back to their frame-major positions
    (the inverse permutation). Writes the video rows of ``out`` (allocated if None) and returns it.
    Memory: row_chunk x (kept keys + globals) scores at a time, never N x N. fp32 math (fp64 for
    fp64 inputs).
    """
    batch, heads, tokens, head_dim = q.shape
    if tokens != layout.total_tokens:
        raise ValueError(f"q has {tokens} tokens, the layout {layout} has {layout.total_tokens}")
    Cq, Ck = q_clusters.num_clusters, k_clusters.num_clusters
    if tuple(keep.shape) != (batch, heads, Cq, Ck):
        raise ValueError(f"keep must be [{batch}, {heads}, {Cq}, {Ck}], got {tuple(keep.shape)}")
    scale = 1.0 / math.sqrt(head_dim) if scale is None else scale
    out = torch.empty_like(q) if out is None else out
    start = layout.video_start
    glob = global_token_index(layout, q.device)
    math_dtype = torch.float64 if q.dtype == torch.float64 else torch.float32
    for b in range(batch):
        bias = _bias_row(key_bias, b)
        bias_glob = None if bias is None else bias[glob].to(math_dtype)
        for h in range(heads):
            q_tok = q_clusters.perm[b, h].long() + start
            k_tok = k_clusters.perm[b, h].long() + start
            qp = q[b, h].index_select(0, q_tok).to(math_dtype)
            kp = k[b, h].index_select(0, k_tok).to(math_dtype)
            vp = v[b, h].index_select(0, k_tok).to(math_dtype)
            kg = k[b, h].index_select(0, glob).to(math_dtype)
            vg = v[b, h].index_select(0, glob).to(math_dtype)
            # key cluster of every permuted key position
            k_cluster = torch.repeat_interleave(torch.arange(Ck, device=q.device),
                                                k_clusters.sizes[b, h].long(), output_size=layout.video_tokens)
            result = torch.zeros_like(qp)
            offsets = q_clusters.offsets[b, h].tolist()
            for qc in range(Cq):
                r0, r1 = offsets[qc], offsets[qc + 1]
                if r0 == r1:
                    continue
                selected = torch.nonzero(keep[b, h, qc][k_cluster]).flatten()
                keys = torch.cat([kp.index_select(0, selected), kg])
                values = torch.cat([vp.index_select(0, selected), vg])
                for c0 in range(r0, r1, row_chunk):
                    c1 = min(r1, c0 + row_chunk)
                    scores = torch.matmul(qp[c0:c1], keys.transpose(0, 1)) * scale
                    if bias_glob is not None:
                        scores[:, selected.numel():] += bias_glob
                    result[c0:c1] = torch.matmul(torch.softmax(scores, dim=-1), values)
            out[b, h].index_copy_(0, q_tok, result.to(out.dtype))
    return out

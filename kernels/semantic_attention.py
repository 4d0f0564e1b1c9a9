"""SVG2 attention on the cluster-permuted layout: variable-size block-sparse forward (Triton).

The math is ``svg_attention.semantic.semantic_attention_reference`` (the one definition; tests
compare against it): per (b, h), the video queries sorted by query cluster (``q_perm``: video index
of each permuted row; ``q_offsets``: cluster boundaries), the video keys / values sorted by key
cluster (``k_perm``, ``k_offsets``), and ``keep`` bool [B, H, Cq, Ck]: the rows of query cluster a
attend to the keys of every key cluster c with ``keep[b, h, a, c]`` and to every global key
(``key_bias`` added there); output rows go back to their frame-major tokens. Only the video rows of
``out`` are written (the caller does the dense global rows).

How it runs:
* key ranges: per (b, h, query cluster), adjacent kept key clusters merge into one contiguous range
  of permuted key positions (empty clusters in between do not split a range); each range is cut
  into BLOCK_N-key tiles starting at its first key: full tiles run unmasked, the range's last,
  partial tile masked (:func:`key_tile_table`);
* work items: each query cluster's rows cut into tiles of BLOCK_M rows (the last one masked at the
  cluster edge; with ``TAIL_M`` set, a last piece of <= TAIL_M rows runs in a second launch with
  BLOCK_M = TAIL_M instead of wasting most of a BLOCK_M tile); items sorted longest first
  (:func:`query_work_items`) so the big ones do not finish last;
* permutation: the query gather and the output scatter are fused into the kernel's loads and stores
  (index loads through ``q_perm``); keys / values either through ``k_perm`` in the loads
  (SOURCE="gather", no copy) or from contiguous copies in cluster order (SOURCE="copy" pointer
  loads, "tma" tensor-descriptor loads of the full tiles on Hopper), made by
  ``kmeans.permute_rows`` per chunk of HEAD_CHUNK (b, h) pairs, so the extra memory is
  2 x HEAD_CHUNK x V x D elements, not 2 x B x H x V x D;
* SOURCE="packed" instead: no ranges, no copies; per (b, h, query cluster) the token indices of its
  kept keys in one list (:func:`packed_key_table`; int32, one per kept key and query cluster, built
  per chunk of HEAD_CHUNK pairs, sized with one host synchronisation per call), walked in full
  BLOCK_N tiles gathered from k / v (pointer loads), only the last tile of a query cluster masked:
  no tile is wasted on the edges of small key clusters.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Optional

import torch
import torch.nn.functional as Fnn

from . import _jit
from .checks import check_key_bias, check_out, check_semantic
from .kmeans import permute_rows

__all__ = ["semantic_attention", "prepare_semantic_attention", "SemanticChunk", "key_ranges", "key_tile_table",
           "packed_key_table", "query_work_items",
           "semantic_config", "computed_pairs"]

# Not yet measured on a GPU (bench/svg2_bench.py --sweep times the alternatives): "packed" because the
# default clusters (74 keys at Wan 14B 720p, 8 on the bundled model) are smaller than a 128-key tile,
# so range tiles would be mostly masked; BLOCK 128 x 128 and 8 warps as the band kernel measured best.
_GPU_CONFIG = {
    64: dict(BLOCK_M=128, BLOCK_N=128, TAIL_M=None, num_warps=4, num_stages=3, SOURCE="packed", WS=False,
             HEAD_CHUNK=8),
    128: dict(BLOCK_M=128, BLOCK_N=128, TAIL_M=None, num_warps=8, num_stages=3, SOURCE="packed", WS=False,
              HEAD_CHUNK=8),
}
_INTERPRETER_CONFIG = dict(BLOCK_M=16, BLOCK_N=16, TAIL_M=None, num_warps=4, num_stages=1, SOURCE="gather",
                           WS=False, HEAD_CHUNK=0)
_SOURCES = {"gather": 0, "copy": 1, "tma": 2, "packed": 3}
LAST_LAUNCH: dict = {}


def semantic_config(head_dim: int, interpreted: bool, override: Optional[dict] = None) -> dict:
    cfg = dict(_INTERPRETER_CONFIG if interpreted else _GPU_CONFIG[head_dim])
    if override:
        cfg.update(override)
    if cfg["SOURCE"] not in _SOURCES:
        raise ValueError(f"SOURCE must be one of {tuple(_SOURCES)}; got {cfg['SOURCE']!r}")
    return cfg


# ----------------------------------------------------------------------------------------------
# tile tables (torch, on the device, no host synchronisation)
# ----------------------------------------------------------------------------------------------
def key_ranges(keep: torch.Tensor, k_offsets: torch.Tensor):
    """Kept key ranges of every (pair, query cluster): adjacent kept key clusters merged (empty
    clusters in between do not split a range). keep bool [P, Cq, Ck], k_offsets int32 [P, Ck + 1].

    Returns (range_start, range_end) int32 [P, Cq, ceil(Ck / 2)] in permuted key positions, ranges in
    order, unused slots (0, 0), and runs int32 [P, Cq]: slots in use (some may be empty ranges made
    only of empty clusters)."""
    P, Cq, Ck = keep.shape
    sizes = (k_offsets[:, 1:] - k_offsets[:, :-1])[:, None, :]              # [P, 1, Ck]
    sel = keep | (sizes == 0)
    start_flag = sel & ~Fnn.pad(sel[..., :-1], (1, 0))
    end_flag = sel & ~Fnn.pad(sel[..., 1:], (0, 1))
    R = (Ck + 1) // 2
    run = torch.cumsum(start_flag, dim=-1, dtype=torch.int32) - 1
    dump = torch.full_like(run, R)
    first = k_offsets[:, None, :-1].expand(P, Cq, Ck)
    last = k_offsets[:, None, 1:].expand(P, Cq, Ck)
    range_start = torch.zeros(P, Cq, R + 1, dtype=torch.int32, device=keep.device)
    range_end = torch.zeros_like(range_start)
    range_start.scatter_(-1, torch.where(start_flag, run, dump).long(), first)
    range_end.scatter_(-1, torch.where(end_flag, run, dump).long(), last)
    return (range_start[..., :R].contiguous(), range_end[..., :R].contiguous(),
            start_flag.sum(-1, dtype=torch.int32))


def key_tile_table(keep: torch.Tensor, k_offsets: torch.Tensor, block_n: int, video_tokens: int):
    """Key tiles of every (pair, query cluster) over its ranges (:func:`key_ranges`). keep bool
    [P, Cq, Ck] (P = flattened (b, h) pairs), k_offsets int32 [P, Ck + 1], video_tokens V.

    Returns (start int32 [P*Cq, T], valid int32 [P*Cq, T], count int32 [P*Cq + 1, 2]) with
    T = V // block_n + ceil(Ck / 2): entries [0, count[., 0]) are full tiles (``block_n`` keys from
    ``start``), entries [count[., 0], count[., 0] + count[., 1]) partial tiles (``valid`` keys); the
    last row of ``count`` is zero (padding work items point at it).
    """
    P, Cq, Ck = keep.shape
    range_start, range_end, _ = key_ranges(keep, k_offsets)
    R = range_start.shape[-1]
    length = range_end - range_start
    full = length // block_n
    rem = length - full * block_n
    cum_full = torch.cumsum(full, dim=-1, dtype=torch.int32)
    n_full = cum_full[..., -1]
    TF = max(1, video_tokens // block_n)      # ranges are disjoint: at most V // block_n full tiles
    T = TF + R
    slot = torch.arange(TF, device=keep.device, dtype=torch.int32).expand(P, Cq, TF).contiguous()
    r_of = torch.searchsorted(cum_full, slot, right=True).clamp_(max=R - 1)
    before = (cum_full - full).gather(-1, r_of)
    start = torch.zeros(P, Cq, T + 1, dtype=torch.int32, device=keep.device)
    start[..., :TF] = range_start.gather(-1, r_of) + (slot - before) * block_n
    valid = torch.full_like(start, block_n)
    has_part = rem > 0
    part_id = torch.cumsum(has_part, dim=-1, dtype=torch.int32) - 1
    dest = torch.where(has_part, n_full[..., None] + part_id, torch.full_like(part_id, T)).long()
    start.scatter_(-1, dest, range_start + full * block_n)
    valid.scatter_(-1, dest, rem)
    count = torch.zeros(P * Cq + 1, 2, dtype=torch.int32, device=keep.device)
    count[:-1] = torch.stack([n_full, has_part.sum(-1, dtype=torch.int32)], dim=-1).view(P * Cq, 2)
    return start[..., :T].reshape(P * Cq, T).contiguous(), valid[..., :T].reshape(P * Cq, T).contiguous(), count


def packed_key_table(keep: torch.Tensor, k_offsets: torch.Tensor, k_perm: torch.Tensor, pair_start: int,
                     video_start: int, block_n: int, total: Optional[int] = None):
    """The kept keys of every (pair, query cluster) as one packed list of token indices, in permuted
    key order (``packed`` mode: tiles of ``block_n`` consecutive entries, only the last one partial).
    keep bool [P, Cq, Ck]; k_offsets int32 [P, Ck + 1]; k_perm int32 [B*H, V] (all pairs; the chunk's
    pairs start at ``pair_start``).

    Returns (key_pos int32 [total], key_off int64 [P*Cq + 2], count int32 [P*Cq + 1, 2]): the keys of
    row r are key_pos[key_off[r]:key_off[r + 1]] (token indices, ``video_start`` added); row P*Cq is
    the empty padding row; count as in :func:`key_tile_table` (full tiles, 0 or 1 partial tile).
    ``total``: the list's length when the caller knows it, else read with a host synchronisation.
    """
    P, Cq, _ = keep.shape
    range_start, range_end, runs = key_ranges(keep, k_offsets)
    row_len = (range_end - range_start).sum(-1, dtype=torch.int64).view(P * Cq)
    key_off = torch.zeros(P * Cq + 2, dtype=torch.int64, device=keep.device)
    torch.cumsum(row_len, dim=0, out=key_off[1:P * Cq + 1])
    key_off[-1] = key_off[-2]
    total = int(key_off[-1]) if total is None else int(total)
    key_pos = torch.empty(max(total, 1), dtype=torch.int32, device=keep.device)
    mod = _jit.load_for("_semantic_triton", keep)
    BLOCK = 16 if mod.INTERPRETED else 128
    if total:
        mod.pack_keys_kernel[(P * Cq,)](
            range_start, range_end, runs, k_perm, key_off, key_pos, Cq, range_start.shape[-1], k_perm.shape[-1],
            int(video_start), int(pair_start), BLOCK=BLOCK, num_warps=4)
    count = torch.zeros(P * Cq + 1, 2, dtype=torch.int32, device=keep.device)
    count[:-1, 0] = (row_len // block_n).int()
    count[:-1, 1] = (row_len % block_n > 0).int()
    return key_pos, key_off, count


def query_work_items(q_offsets: torch.Tensor, tile_count: torch.Tensor, pair_start: int, block_m: int,
                     tail_m: Optional[int], video_tokens: int):
    """Work items of a run of pairs: (main int32 [n, 4], tail int32 [m, 4] or None).

    q_offsets int32 [P, Cq + 1]; tile_count int32 [P*Cq + 1, 2] (key tiles per query cluster, from
    :func:`key_tile_table`); an item is (bh = pair_start + pair, query cluster, first row, end row);
    a padding item is (pair_start, P*Cq, 0, 0): its cluster row of the table has no tiles.
    Each query cluster gives floor(size / block_m) full row tiles plus its remainder: in the main
    list when it exceeds ``tail_m`` (or when ``tail_m`` is None), else as one item of the tail list
    (run with BLOCK_M = tail_m). Items are sorted by descending key tiles; padding items (end <=
    first) trail.
    """
    P, C1 = q_offsets.shape
    Cq = C1 - 1
    dev = q_offsets.device
    sizes = q_offsets[:, 1:] - q_offsets[:, :-1]                            # [P, Cq]
    full = sizes // block_m
    rem = sizes - full * block_m
    rem_main = rem > 0 if tail_m is None else rem > tail_m
    per_cluster = full + rem_main.int()
    work = tile_count[:-1].view(P, Cq, 2).sum(-1)                           # key tiles per cluster
    QT = video_tokens // block_m + Cq
    cum = torch.cumsum(per_cluster, dim=-1, dtype=torch.int32)
    slot = torch.arange(QT, device=dev, dtype=torch.int32).expand(P, QT).contiguous()
    cluster = torch.searchsorted(cum, slot, right=True)
    real = cluster < Cq
    cluster = cluster.clamp_(max=Cq - 1)
    index = slot - (cum - per_cluster).gather(-1, cluster)
    first = q_offsets[:, :-1].gather(-1, cluster) + index * block_m
    end = torch.minimum(first + block_m, q_offsets[:, 1:].gather(-1, cluster))
    pair = torch.arange(P, device=dev, dtype=torch.int32)[:, None].expand(P, QT) + pair_start
    pad = lambda t, value: torch.where(real, t, torch.full_like(t, value))   # noqa: E731
    items = torch.stack([pad(pair, pair_start), pad(cluster.int(), P * Cq), pad(first, 0), pad(end, 0)],
                        dim=-1).view(P * QT, 4)
    key = torch.where(real, work.gather(-1, cluster), torch.full_like(cluster, -1).int()).view(-1)
    main = items[torch.sort(key, descending=True, stable=True).indices].contiguous()
    if tail_m is None:
        return main, None
    tail_real = (rem > 0) & ~rem_main
    tail_pad = lambda t, value: torch.where(tail_real, t, torch.full_like(t, value))   # noqa: E731
    pair_c = torch.arange(P, device=dev, dtype=torch.int32)[:, None].expand(P, Cq) + pair_start
    cl = torch.arange(Cq, device=dev, dtype=torch.int32).expand(P, Cq)
    tail_items = torch.stack([tail_pad(pair_c, pair_start), tail_pad(cl, P * Cq),
                              tail_pad(q_offsets[:, :-1] + full * block_m, 0), tail_pad(q_offsets[:, 1:], 0)],
                             dim=-1).view(P * Cq, 4)
    tkey = torch.where(tail_real, work, torch.full_like(work, -1)).view(-1)
    return main, tail_items[torch.sort(tkey, descending=True, stable=True).indices].contiguous()


def computed_pairs(tile_count: torch.Tensor, q_offsets: torch.Tensor, block_m: int, block_n: int,
                   tail_m: Optional[int]) -> torch.Tensor:
    """Query-key pairs the kernel's tiles span, masked ones included (video keys only): int64 [P]
    (diagnostics: kept pairs / this = the tile efficiency)."""
    P, C1 = q_offsets.shape
    sizes = (q_offsets[:, 1:] - q_offsets[:, :-1]).long()
    full = sizes // block_m
    rem = sizes - full * block_m
    if tail_m is None:
        rows = (full + (rem > 0).long()) * block_m
    else:
        rows = full * block_m + torch.where(rem > tail_m, block_m, torch.where(rem > 0, tail_m, 0))
    keys = tile_count[:-1].view(P, C1 - 1, 2).long().sum(-1) * block_n
    return (rows * keys).sum(-1)


# ----------------------------------------------------------------------------------------------
# launcher
# ----------------------------------------------------------------------------------------------
def _tma_descriptors(kc, vc, block_n):
    from triton.tools.tensor_descriptor import TensorDescriptor
    blk = [1, block_n, kc.shape[-1]]
    return dict(KC_DESC=TensorDescriptor(kc, list(kc.shape), list(kc.stride()), blk),
                VC_DESC=TensorDescriptor(vc, list(vc.shape), list(vc.stride()), blk))


@dataclass
class SemanticChunk:
    """The tables of one run of (b, h) pairs [pair_start, pair_start + count) (see
    :func:`key_tile_table`, :func:`query_work_items`) and, when prepared with them, its keys / values
    in cluster order."""

    pair_start: int
    count: int
    tile_start: torch.Tensor
    tile_valid: torch.Tensor
    tile_count: torch.Tensor
    main: torch.Tensor
    tail: Optional[torch.Tensor]
    copies: Optional[tuple] = None
    key_pos: Optional[torch.Tensor] = None
    key_off: Optional[torch.Tensor] = None


def _resolve(q, cfg, interpreted):
    source = _SOURCES[cfg["SOURCE"]]
    if source == 2 and (interpreted or not _tma_ok(q)):
        source = 1
    return source


def prepare_semantic_attention(q, k, v, q_perm, q_offsets, k_perm, k_offsets, keep, *, video_start: int,
                               config: Optional[dict] = None, with_copies: bool = False) -> list:
    """The per-chunk tables of :func:`semantic_attention` (and the permuted key / value copies with
    ``with_copies``: 2 x B*H*V*D extra elements when HEAD_CHUNK is 0), to time the kernel alone."""
    mod = _jit.load_for("_semantic_triton", q)
    B, H, N, D, V, Cq, Ck = check_semantic(q, k, v, q_perm, q_offsets, k_perm, k_offsets, keep, video_start,
                                           mod.INTERPRETED)
    cfg = semantic_config(D, mod.INTERPRETED, config)
    source = _resolve(q, cfg, mod.INTERPRETED)
    pairs = B * H
    chunk = pairs if not cfg.get("HEAD_CHUNK") else min(pairs, int(cfg["HEAD_CHUNK"]))
    qo_flat = q_offsets.reshape(pairs, Cq + 1)
    ko_flat = k_offsets.reshape(pairs, Ck + 1)
    keep_flat = keep.reshape(pairs, Cq, Ck)
    chunks = []
    kp_flat = k_perm.reshape(pairs, V)
    totals = None
    if source == 3:   # the packed lists' lengths of every chunk, with one host synchronisation
        sizes = (ko_flat[:, 1:] - ko_flat[:, :-1]).double()
        per_pair = torch.matmul(keep_flat.double(), sizes[..., None]).sum((-1, -2))
        totals = Fnn.pad(per_pair, (0, -pairs % chunk)).view(-1, chunk).sum(-1).round().long().tolist()
    for p0 in range(0, pairs, chunk):
        count = min(chunk, pairs - p0)
        key_pos = key_off = None
        if source == 3:
            key_pos, key_off, t_count = packed_key_table(keep_flat[p0:p0 + count], ko_flat[p0:p0 + count], kp_flat,
                                                         p0, video_start, cfg["BLOCK_N"], totals[p0 // chunk])
            t_start = t_valid = t_count
        else:
            t_start, t_valid, t_count = key_tile_table(keep_flat[p0:p0 + count], ko_flat[p0:p0 + count],
                                                       cfg["BLOCK_N"], V)
        main, tail = query_work_items(qo_flat[p0:p0 + count], t_count, p0, cfg["BLOCK_M"], cfg.get("TAIL_M"), V)
        copies = permute_rows(k, v, k_perm, video_start, p0, count) if (with_copies and source in (1, 2)) else None
        chunks.append(SemanticChunk(p0, count, t_start, t_valid, t_count, main, tail, copies, key_pos, key_off))
    return chunks


def semantic_attention(q, k, v, q_perm, q_offsets, k_perm, k_offsets, keep, *, video_start: int,
                       key_bias: Optional[torch.Tensor] = None, scale: Optional[float] = None,
                       out: Optional[torch.Tensor] = None, config: Optional[dict] = None,
                       prepared: Optional[list] = None, stats: Optional[dict] = None) -> torch.Tensor:
    """Video rows of SVG2 attention (see the module docstring). q, k, v [B, H, N, D] fp16/bf16 (fp32
    in the interpreter), D 64 or 128; q_perm / k_perm int32 [B, H, V]; q_offsets / k_offsets int32
    [B, H, C + 1]; keep bool [B, H, Cq, Ck]; key_bias float32 [B or 1, N] (global entries read).
    ``prepared``: the chunks of :func:`prepare_semantic_attention` for the same inputs and config.
    ``stats`` (a dict), when given, receives ``computed_pairs`` int64 [B*H]: the pairs the tiles span.
    Returns ``out`` (allocated if None; only the video rows written)."""
    mod = _jit.load_for("_semantic_triton", q)
    B, H, N, D, V, Cq, Ck = check_semantic(q, k, v, q_perm, q_offsets, k_perm, k_offsets, keep, video_start,
                                           mod.INTERPRETED)
    cfg = semantic_config(D, mod.INTERPRETED, config)
    out = torch.empty_like(q) if out is None else check_out(out, q)
    G = N - V
    key_bias = check_key_bias(key_bias, B, N, q.device)
    has_bias = key_bias is not None and G > 0
    bias_arg = key_bias if has_bias else q
    stride_biasb = (key_bias.stride(0) if key_bias.shape[0] > 1 else 0) if has_bias else 0
    scale = 1.0 / math.sqrt(D) if scale is None else float(scale)
    BM, BN, TM = cfg["BLOCK_M"], cfg["BLOCK_N"], cfg.get("TAIL_M")
    source = _resolve(q, cfg, mod.INTERPRETED)
    ws = bool(cfg.get("WS")) and source == 2
    if prepared is None:
        prepared = prepare_semantic_attention(q, k, v, q_perm, q_offsets, k_perm, k_offsets, keep,
                                              video_start=video_start, config=config)
    qp_flat = q_perm.reshape(B * H, V).contiguous()
    kp_flat = k_perm.reshape(B * H, V).contiguous()
    scratch = None
    if source in (1, 2) and any(c.copies is None for c in prepared):
        rows = max(c.count for c in prepared)
        scratch = (torch.empty(rows, V, D, dtype=q.dtype, device=q.device),
                   torch.empty(rows, V, D, dtype=q.dtype, device=q.device))
    prec = "ieee" if q.dtype == torch.float32 else None
    spans = []
    for c in prepared:
        if stats is not None:
            spans.append(computed_pairs(c.tile_count, q_offsets.reshape(B * H, Cq + 1)[c.pair_start:c.pair_start + c.count],
                                        BM, BN, TM))
        descs, kc, vc = {}, q, q
        if source in (1, 2):
            kc, vc = c.copies if c.copies is not None else permute_rows(
                k, v, k_perm, video_start, c.pair_start, c.count, out=scratch)
            if source == 2:
                descs = _tma_descriptors(kc[:c.count], vc[:c.count], BN)
        for items, block_m in ((c.main, BM), (c.tail, TM)):
            if items is None:
                continue
            LAST_LAUNCH[f"attention_m{block_m}"] = mod.semantic_fwd_kernel[(items.shape[0],)](
                q, k, v, kc, vc, out, bias_arg, qp_flat, kp_flat, items, c.tile_start, c.tile_valid, c.tile_count,
                c.key_pos if c.key_pos is not None else c.tile_count, c.key_off if c.key_off is not None else c.tile_count,
                q.stride(0), q.stride(1), q.stride(2),
                k.stride(0), k.stride(1), k.stride(2),
                v.stride(0), v.stride(1), v.stride(2),
                out.stride(0), out.stride(1), out.stride(2),
                stride_biasb,
                H, int(video_start), V, G, Cq, c.tile_start.shape[-1], c.pair_start, scale * 1.4426950408889634,
                BLOCK_M=block_m, BLOCK_N=BN, HEAD_DIM=D, HAS_BIAS=has_bias, PREC=prec, SOURCE=source,
                WS=ws, **descs, num_warps=cfg["num_warps"], num_stages=cfg["num_stages"])
    if stats is not None:
        stats["computed_pairs"] = torch.cat(spans)
    return out


def _tma_ok(q) -> bool:
    if not q.is_cuda or torch.cuda.get_device_capability(q.device)[0] < 9:
        return False
    try:
        from triton.tools.tensor_descriptor import TensorDescriptor  # noqa: F401
    except ImportError:
        return False
    return True

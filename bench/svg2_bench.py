#!/usr/bin/env python3
"""SVG2 (semantic-aware permutation) on one GPU: one attention call split into its parts.

Shapes (bf16, D=128, q/k/v stored as ComfyUI's [B, N, H*D] and used as [B, H, N, D] views):
  wan14b   Wan2.1-14B 720p: 40 heads, 21 frames x 3600 tokens = 75,600
  wan13b   Wan2.1-1.3B 480p: 12 heads, 21 x 1560 = 32,760
  hunyuan  HunyuanVideo 720p: 24 heads, 33 x 3600 = 118,800 video tokens + 256 text tokens after the
           video (key_bias masks the last 128 as padding)
Inputs: --data structured (default): per head, random Fourier features of each token's (frame, row,
col) with per-head widths (frame-local, position-across-frames, local 3D, no structure), plus
content noise, so that q.k is a Gaussian of the 3D distance as in real video heads and k-means
finds compact clusters; --data random: i.i.d. normal q/k/v (clusters carry no structure).

Per shape, with the default SemanticSettings (or --q-tokens / --k-tokens ... overrides) and the
budget selection at --density (kept fraction of the call):
  sdpa        torch SDPA (dense), the reference of "ideal" = achieved density x SDPA time
  full        the first clustering of q and k (full_iterations from the deterministic start)
  warm        q and k clustering from the cached centroids (warm_iterations), and its ops alone:
              assign (kernel), sort (torch stable sort), update (kernel)
  select      scores (Triton: each query centroid's softmax over all keys, summed per key cluster)
              + budget selection; "scores" alone too
  tables      the attention kernel's tile tables (and packed key lists)
  permute     keys / values copied into cluster order (only the copy / tma sources)
  kernel      the attention kernel alone (tables and copies made beforehand)
  attention   tables + copies + kernel as the pattern calls it (head chunks)
  globals     the dense global (text) query rows (HunyuanVideo)
  call        warm clustering + select + attention + globals: the whole SVG2 call
The inverse permutation is fused into the kernel's stores (no separate op).
Reported: achieved density, kernel TFLOP/s on the kept pairs (4*D*kept / time) and on the pairs
its tiles span, call / ideal, peak extra memory of a call at batch 2 (CFG) and the centroid cache
of all sparse layers (computed from one layer's entry, not allocated 40 times), then a bf16
correctness check against the torch reference at a small shape.

  python bench/svg2_bench.py                    # ~2-3 min on an H200; JSON to $OUT/svg2_bench.json
  python bench/svg2_bench.py --sweep            # also time kernel configs on the first shape
"""
from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
import traceback

import torch
import torch.nn.functional as Fnn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from kernels import global_rows_attention, kmeans_assign, kmeans_update, permute_rows, svg2_key_logits  # noqa: E402
from kernels.semantic_attention import (prepare_semantic_attention, semantic_attention,  # noqa: E402
                                        semantic_config)
from svg_attention.clustering import CentroidCache, kmeans, kmeans_cached, permute_by_cluster  # noqa: E402
from svg_attention.layout import VideoLayout  # noqa: E402
from svg_attention.semantic import (call_density, kept_video_pairs, select_pairs,  # noqa: E402
                                    semantic_attention_reference)
from svg_attention.semantic_settings import SemanticSettings, plan_semantic  # noqa: E402

SHAPES = {
    "wan14b": dict(name="Wan2.1-14B 720p", H=40, F=21, R=45, C=80, pre=0, suf=0, pad=0, layers=40),
    "wan13b": dict(name="Wan2.1-1.3B 480p", H=12, F=21, R=30, C=52, pre=0, suf=0, pad=0, layers=30),
    "hunyuan": dict(name="HunyuanVideo 720p", H=24, F=33, R=45, C=80, pre=0, suf=256, pad=128, layers=60),
    # CPU check of this script under TRITON_INTERPRET=1 (fp32, perf_counter timings): --shapes smoke
    "smoke": dict(name="smoke test", H=2, F=3, R=4, C=8, pre=0, suf=12, pad=4, layers=3),
}
D = 128
SWEEP = [
    dict(SOURCE="packed", BLOCK_M=128, BLOCK_N=128, TAIL_M=None, num_warps=8, num_stages=3, HEAD_CHUNK=8),
    dict(SOURCE="packed", BLOCK_M=128, BLOCK_N=64, TAIL_M=None, num_warps=8, num_stages=3, HEAD_CHUNK=8),
    dict(SOURCE="packed", BLOCK_M=128, BLOCK_N=128, TAIL_M=64, num_warps=8, num_stages=3, HEAD_CHUNK=8),
    dict(SOURCE="tma", BLOCK_M=128, BLOCK_N=128, TAIL_M=None, num_warps=8, num_stages=3, WS=True, HEAD_CHUNK=8),
    dict(SOURCE="tma", BLOCK_M=128, BLOCK_N=64, TAIL_M=None, num_warps=8, num_stages=3, WS=False, HEAD_CHUNK=8),
    dict(SOURCE="copy", BLOCK_M=128, BLOCK_N=128, TAIL_M=None, num_warps=8, num_stages=3, HEAD_CHUNK=8),
]


def log(*a):
    print(*a, flush=True)


CUDA = torch.cuda.is_available()
DEVICE = torch.device("cuda" if CUDA else "cpu")
DTYPE = torch.bfloat16 if CUDA else torch.float32


def time_ms(fn, reps, warmup=1):
    for _ in range(warmup):
        fn()
    ts = []
    for _ in range(reps):
        if CUDA:
            torch.cuda.synchronize()
            e0, e1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            e0.record()
            fn()
            e1.record()
            e1.synchronize()
            ts.append(e0.elapsed_time(e1))
        else:
            t0 = time.perf_counter()
            fn()
            ts.append(1000 * (time.perf_counter() - t0))
    return dict(median=statistics.median(ts), min=min(ts), all=ts)


def sync():
    if CUDA:
        torch.cuda.synchronize()


def peak_extra_mib(fn):
    if not CUDA:
        fn()
        return float("nan")
    torch.cuda.synchronize()
    before = torch.cuda.memory_allocated()
    torch.cuda.reset_peak_memory_stats()
    r = fn()
    torch.cuda.synchronize()
    peak = torch.cuda.max_memory_allocated()
    del r
    return (peak - before) / 2 ** 20


# ---------------------------------------------------------------------------------------------
# inputs
# ---------------------------------------------------------------------------------------------
HEAD_KINDS = [  # (frame width, space width, score scale at distance 0, content noise std)
    (0.6, 6.0, 10.0, 1.0),     # mostly its own frame
    (12.0, 0.8, 10.0, 1.0),    # the same position across frames
    (1.5, 2.5, 12.0, 1.0),     # local 3D neighbourhood
    (1e9, 1e9, 1.0, 3.0),      # no structure
]


def structured_qkv(B, H, F, R, C, pre, suf, device, seed=0):
    """q, k, v as [B, H, N, D] views of [B, N, H*D] bf16 storage (see the module docstring)."""
    N = pre + F * R * C + suf
    g = torch.Generator(device=device).manual_seed(seed)
    f, r, c = torch.meshgrid(torch.arange(F, device=device), torch.arange(R, device=device),
                             torch.arange(C, device=device), indexing="ij")
    pos = torch.stack([f, r, c], -1).reshape(-1, 3).float()
    store = torch.empty(3, B, N, H * D, device=device, dtype=DTYPE)
    store.normal_(generator=g)
    for h in range(H):
        fw, sw, amp, noise = HEAD_KINDS[h % len(HEAD_KINDS)]
        omega = torch.randn(D // 2, 3, device=device, generator=g) / torch.tensor([fw, sw, sw], device=device)
        phase = pos @ omega.T
        feat = torch.cat([phase.cos(), phase.sin()], -1) * math.sqrt(amp * math.sqrt(D) / (D // 2))
        for b in range(B):
            for i in range(2):
                extra = torch.randn(feat.shape, device=device, generator=g) * (noise / math.sqrt(D))
                store[i, b, pre:pre + F * R * C, h * D:(h + 1) * D] = (feat + extra).to(DTYPE)
    return [store[i].view(B, N, H, D).transpose(1, 2) for i in range(3)], store


def random_qkv(B, H, F, R, C, pre, suf, device, seed=0):
    N = pre + F * R * C + suf
    g = torch.Generator(device=device).manual_seed(seed)
    store = torch.randn(3, B, N, H * D, device=device, generator=g, dtype=torch.float32).to(DTYPE)
    return [store[i].view(B, N, H, D).transpose(1, 2) for i in range(3)], store


# ---------------------------------------------------------------------------------------------
class Call:
    """The parts of one SVG2 call on fixed inputs (B, H, N, D), with the GPU kernels."""

    def __init__(self, q, k, v, layout, settings, density, bias, config=None):
        self.q, self.k, self.v, self.layout, self.settings = q, k, v, layout, settings
        self.plan = plan_semantic(layout, density, settings)
        self.bias, self.config = bias, config
        s, V = layout.video_start, layout.video_tokens
        self.qv, self.kv = q[:, :, s:s + V], k[:, :, s:s + V]
        self.scale = 1.0 / math.sqrt(D)
        self.cache = CentroidCache(dtype=torch.bfloat16)
        self.out = torch.empty_like(q)

    def cluster(self, full=False):
        st, ops = self.settings, dict(assign=kmeans_assign, update=kmeans_update)
        if full:
            self.cache.clear()
        qc, _ = kmeans_cached(self.qv, self.plan.query_clusters, self.cache, "q", st.full_iterations,
                              st.warm_iterations, **ops)
        kc, _ = kmeans_cached(self.kv, self.plan.key_clusters, self.cache, "k", st.full_iterations,
                              st.warm_iterations, **ops)
        return qc, kc

    def select(self, qc, kc):
        return select_pairs(qc, kc, self.scale, self.layout, self.settings, self.plan.density, keys=self.kv,
                            key_logits=svg2_key_logits)

    def attend(self, qc, kc, keep, prepared=None, config=None):
        return semantic_attention(self.q, self.k, self.v, qc.perm, qc.offsets, kc.perm, kc.offsets, keep,
                                  video_start=self.layout.video_start, key_bias=self.bias, out=self.out,
                                  config=config or self.config, prepared=prepared)

    def globals(self):
        L = self.layout
        if L.global_tokens:
            global_rows_attention(self.q, self.k, self.v, self.out, video_start=L.video_start,
                                  num_frames=L.num_frames, frame_tokens=L.frame_tokens, key_bias=self.bias)
        return self.out

    def whole(self):
        qc, kc = self.cluster()
        keep = self.select(qc, kc)
        self.attend(qc, kc, keep)
        self.globals()
        return keep


def run_shape(key, args, results, settings, sweep):
    shp = SHAPES[key]
    H, F, R, C, pre, suf = shp["H"], shp["F"], shp["R"], shp["C"], shp["pre"], shp["suf"]
    layout = VideoLayout(F, R * C, pre, suf)
    V, N, G = layout.video_tokens, layout.total_tokens, layout.global_tokens
    dev = DEVICE
    make = structured_qkv if args.data == "structured" else random_qkv
    (q, k, v), store = make(1, H, F, R, C, pre, suf, dev)
    bias = None
    if shp["pad"]:
        bias = torch.zeros(1, N, device=dev)
        bias[:, N - shp["pad"]:] = -1e9
    log(f"\n=== {shp['name']}: H={H} N={N} (video {F}x{R * C}={V}, globals {G}) D={D} {DTYPE}, {args.data} inputs")
    row = dict(shape=key, H=H, N=N, V=V, G=G, data=args.data)
    rep = args.reps

    mask = None if bias is None else bias[:, None, None, :].to(DTYPE)
    t = time_ms(lambda: Fnn.scaled_dot_product_attention(q, k, v, attn_mask=mask), rep)
    row["sdpa_ms"] = t
    log(f"sdpa: {t['median']:.2f} ms (min {t['min']:.2f})")

    call = Call(q, k, v, layout, settings, args.density, bias)
    row.update(query_clusters=call.plan.query_clusters, key_clusters=call.plan.key_clusters,
               requested_density=args.density, config=semantic_config(D, not CUDA, None))
    log(f"clusters: {call.plan.query_clusters} query / {call.plan.key_clusters} key; requested density "
        f"{args.density}; settings {settings}")
    # compile everything once on this shape (not timed)
    t0 = time.time()
    qc, kc = call.cluster(full=True)
    keep = call.select(qc, kc)
    call.attend(qc, kc, keep)
    call.globals()
    sync()
    row["first_call_with_compile_s"] = time.time() - t0
    log(f"first call incl. Triton compile: {row['first_call_with_compile_s']:.1f} s")

    t = time_ms(lambda: call.cluster(full=True), 1, warmup=0)
    row["full_clustering_ms"] = t
    log(f"full clustering (q+k, {settings.full_iterations} iterations): {t['median']:.1f} ms per layer; "
        f"x{shp['layers']} layers = {t['median'] * shp['layers'] / 1000:.2f} s once per run (computed)")
    qc, kc = call.cluster()
    parts = {}
    parts["warm"] = time_ms(lambda: call.cluster(), rep)
    cq, ck = call.plan.query_clusters, call.plan.key_clusters
    parts["assign_q"] = time_ms(lambda: kmeans_assign(call.qv, qc.centroids), rep)
    parts["assign_k"] = time_ms(lambda: kmeans_assign(call.kv, kc.centroids), rep)
    parts["sort_q+k"] = time_ms(lambda: (permute_by_cluster(qc.labels, cq), permute_by_cluster(kc.labels, ck)), rep)
    parts["update_q"] = time_ms(lambda: kmeans_update(call.qv, qc.perm, qc.offsets, qc.centroids), rep)
    parts["update_k"] = time_ms(lambda: kmeans_update(call.kv, kc.perm, kc.offsets, kc.centroids), rep)
    keep = call.select(qc, kc)
    parts["select"] = time_ms(lambda: call.select(qc, kc), rep)
    parts["scores"] = time_ms(lambda: svg2_key_logits(qc, kc, call.kv, call.scale), rep)
    args_k = (q, k, v, qc.perm, qc.offsets, kc.perm, kc.offsets, keep)
    parts["tables"] = time_ms(lambda: prepare_semantic_attention(*args_k, video_start=pre), rep)
    cfg = semantic_config(D, not CUDA, None)
    if cfg["SOURCE"] in ("copy", "tma"):
        parts["permute"] = time_ms(lambda: permute_rows(k, v, kc.perm, pre), rep)
    one_chunk = dict(cfg, HEAD_CHUNK=0)
    prepared = prepare_semantic_attention(*args_k, video_start=pre, config=one_chunk, with_copies=True)
    parts["kernel"] = time_ms(lambda: call.attend(qc, kc, keep, prepared, one_chunk), rep)
    del prepared
    parts["attention"] = time_ms(lambda: call.attend(qc, kc, keep), rep)
    if G:
        parts["globals"] = time_ms(call.globals, rep)
    parts["call"] = time_ms(call.whole, rep)
    stats = {}
    semantic_attention(*args_k, video_start=pre, key_bias=bias, out=call.out, stats=stats)
    kept_video = kept_video_pairs(keep, qc.sizes, kc.sizes)
    density = call_density(kept_video, layout)
    kept_rows = float(kept_video.sum()) + V * G * H            # video rows: kept video keys + all globals
    spanned = float(stats["computed_pairs"].sum()) + V * G * H
    achieved = float(density.mean())
    ideal = achieved * row["sdpa_ms"]["median"]
    k_ms = parts["kernel"]["median"]
    row.update(parts={n: p for n, p in parts.items()}, achieved_density=achieved,
               density_min=float(density.min()), density_max=float(density.max()),
               kernel_tflops_kept=4 * D * kept_rows / k_ms / 1e9,
               kernel_tflops_spanned=4 * D * spanned / k_ms / 1e9,
               tile_efficiency=float(kept_video.sum()) / float(stats["computed_pairs"].sum()),
               ideal_ms=ideal, call_over_ideal=parts["call"]["median"] / ideal)
    for n, p in parts.items():
        log(f"  {n:10s} {p['median']:8.2f} ms (min {p['min']:.2f})")
    log(f"achieved density {achieved:.4f} (per head {row['density_min']:.4f}..{row['density_max']:.4f}); "
        f"ideal {ideal:.2f} ms; call x{row['call_over_ideal']:.2f} ideal; kernel {row['kernel_tflops_kept']:.0f} "
        f"TFLOP/s on kept pairs, {row['kernel_tflops_spanned']:.0f} on the pairs its tiles span "
        f"(tile efficiency {row['tile_efficiency']:.2f})")

    if sweep:
        row["sweep"] = []
        for c in SWEEP:
            try:
                one = dict(c, HEAD_CHUNK=0)
                prep = prepare_semantic_attention(*args_k, video_start=pre, config=one, with_copies=True)
                call.attend(qc, kc, keep, prep, one)
                t = time_ms(lambda: call.attend(qc, kc, keep, prep, one), rep)
                st = {}
                semantic_attention(*args_k, video_start=pre, key_bias=bias, out=call.out, config=c, stats=st)
                spans = float(st["computed_pairs"].sum())
                chunked = time_ms(lambda: call.attend(qc, kc, keep, None, c), rep)
                del prep
                entry = dict(config=c, kernel_ms=t, attention_ms=chunked, tile_efficiency=float(kept_video.sum()) / spans,
                             tflops_kept=4 * D * kept_rows / t["median"] / 1e9)
                row["sweep"].append(entry)
                log(f"  sweep {c}: kernel {t['median']:.2f} ms ({entry['tflops_kept']:.0f} TFLOP/s kept, tile eff "
                    f"{entry['tile_efficiency']:.2f}), with tables+copies {chunked['median']:.2f} ms")
            except Exception as e:  # a config that does not compile here is reported, not fatal
                row["sweep"].append(dict(config=c, error=repr(e)[:300]))
                log(f"  sweep {c} failed: {e!r}"[:400])
    del store, q, k, v, call
    torch.cuda.empty_cache()

    # memory at CFG batch 2: one call's peak extra (output excluded) + the cache of every sparse layer
    (q2, k2, v2), store2 = make(2, H, F, R, C, pre, suf, dev, seed=1)
    bias2 = None if bias is None else bias.expand(2, N).contiguous()
    call2 = Call(q2, k2, v2, layout, settings, args.density, bias2)
    call2.cluster(full=True)
    mib = peak_extra_mib(call2.whole)
    layer_cache = call2.cache.nbytes()
    sparse_layers = shp["layers"] - 1
    row.update(batch2_call_peak_extra_mib=mib, cache_bytes_per_layer=layer_cache,
               cache_mib_all_layers=layer_cache * sparse_layers / 2 ** 20,
               batch2_total_extra_mib=mib + layer_cache * sparse_layers / 2 ** 20)
    log(f"batch 2: call peak extra {mib:.0f} MiB (output excluded, this layer's cache included); centroid cache "
        f"{layer_cache / 2 ** 20:.1f} MiB per layer x {sparse_layers} sparse layers = "
        f"{row['cache_mib_all_layers']:.0f} MiB (computed); total {row['batch2_total_extra_mib']:.0f} MiB")
    del store2, q2, k2, v2, call2
    torch.cuda.empty_cache()
    results["rows"].append(row)


def correctness(results, settings):
    """bf16 kernel against the torch reference (fp32 math) at a small shape with text and bias."""
    dev = DEVICE
    side = 32 if CUDA else 6
    layout = VideoLayout(4, side * side, 0, 77)
    (q, k, v), _ = structured_qkv(2, 2, 4, side, side, 0, 77, dev, seed=3)
    bias = torch.zeros(2, layout.total_tokens, device=dev)
    bias[0, -20:] = -1e9
    call = Call(q, k, v, layout, settings, 0.3, bias)
    qc, kc = call.cluster(full=True)
    keep = call.select(qc, kc)
    ref = semantic_attention_reference(q, k, v, layout, qc, kc, keep, key_bias=bias).float()
    V = layout.video_tokens
    out = {}
    for c in [None] + (SWEEP if CUDA else []):
        try:
            o = torch.full_like(q, float("nan"))
            semantic_attention(q, k, v, qc.perm, qc.offsets, kc.perm, kc.offsets, keep, video_start=0,
                               key_bias=bias, out=o, config=c)
            err = ((o[:, :, :V].float() - ref[:, :, :V]).norm() / ref[:, :, :V].norm()).item()
            out[json.dumps(c)] = dict(rel_l2=err, nan=bool(torch.isnan(o[:, :, :V]).any()))
            log(f"correctness {c}: rel L2 {err:.2e}{' NaN!' if out[json.dumps(c)]['nan'] else ''}")
        except Exception as e:
            out[json.dumps(c)] = dict(error=repr(e)[:300])
            log(f"correctness {c} failed: {e!r}"[:400])
    ref_labels = kmeans(call.qv, call.plan.query_clusters, 2, init=qc.centroids)
    fast = kmeans(call.qv, call.plan.query_clusters, 2, init=qc.centroids, assign=kmeans_assign, update=kmeans_update)
    agree = (ref_labels.labels == fast.labels).float().mean().item()
    log(f"k-means labels, kernels vs torch reference (bf16 dot vs fp32): {agree:.4f} agree")
    results["correctness"] = dict(attention=out, kmeans_label_agreement=agree)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shapes", default="wan14b,wan13b,hunyuan")
    ap.add_argument("--density", type=float, default=0.25)
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--data", choices=("structured", "random"), default="structured")
    ap.add_argument("--sweep", action="store_true", help="time kernel configs on the first shape")
    ap.add_argument("--q-tokens", type=int, help="query tokens per cluster (default: SemanticSettings)")
    ap.add_argument("--k-tokens", type=int)
    ap.add_argument("--max-q", type=int)
    ap.add_argument("--max-k", type=int)
    ap.add_argument("--warm-iterations", type=int)
    ap.add_argument("--full-iterations", type=int)
    ap.add_argument("--json", default=None, help="default: $OUT/svg2_bench.json when $OUT is set")
    args = ap.parse_args()
    overrides = {name: value for name, value in (
        ("query_tokens_per_cluster", args.q_tokens), ("key_tokens_per_cluster", args.k_tokens),
        ("max_query_clusters", args.max_q), ("max_key_clusters", args.max_k),
        ("warm_iterations", args.warm_iterations), ("full_iterations", args.full_iterations)) if value is not None}
    settings = SemanticSettings(**overrides)
    path = args.json or (os.path.join(os.environ["OUT"], "svg2_bench.json") if os.environ.get("OUT") else None)
    import triton
    gpu = torch.cuda.get_device_properties(0).name if CUDA else "cpu (Triton interpreter)"
    results = dict(env=dict(gpu=gpu, torch=torch.__version__, triton=triton.__version__, cuda=torch.version.cuda),
                   settings=settings.__dict__, args=vars(args), rows=[], notes=[])
    log("env:", json.dumps(results["env"]))
    started = time.time()

    def save():
        results["seconds"] = time.time() - started
        if path:
            with open(path, "w") as f:
                json.dump(results, f, indent=1)

    for i, key in enumerate(args.shapes.split(",")):
        try:
            run_shape(key, args, results, settings, sweep=args.sweep and i == 0)
        except Exception as e:
            traceback.print_exc()
            results["notes"].append(f"{key} failed: {e!r}")
        save()
    try:
        correctness(results, settings)
    except Exception as e:
        traceback.print_exc()
        results["notes"].append(f"correctness failed: {e!r}")
    save()
    log("\n| shape | clusters q/k | density | SDPA ms | warm clustering ms | select ms | kernel ms (TFLOP/s kept, tile eff) "
        "| call ms (x ideal) | full clustering ms/layer | batch-2 extra MiB (cache) |")
    log("|---|---|---|---|---|---|---|---|---|---|")
    for r in results["rows"]:
        p = r["parts"]
        log(f"| {r['shape']} | {r['query_clusters']}/{r['key_clusters']} | {r['achieved_density']:.3f} | "
            f"{r['sdpa_ms']['median']:.1f} | {p['warm']['median']:.2f} | {p['select']['median']:.2f} | "
            f"{p['kernel']['median']:.2f} ({r['kernel_tflops_kept']:.0f}, {r['tile_efficiency']:.2f}) | "
            f"{p['call']['median']:.2f} (x{r['call_over_ideal']:.2f}) | {r['full_clustering_ms']['median']:.1f} | "
            f"{r['batch2_total_extra_mib']:.0f} ({r['cache_mib_all_layers']:.0f}) |")
    for n in results["notes"]:
        log("note:", n)
    log(f"total {time.time() - started:.0f} s")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Side-by-side attention benchmark of the SVG kernels on one GPU (one process).

Shapes (B=1, D=128, bf16, random q/k/v stored as ComfyUI's [B, N, H*D], used as [B, H, N, D] views):
  wan13b   Wan2.1-1.3B 480p 81f: 12 heads, 21 frames x 1560 tokens = 32,760
  wan14b   Wan2.1-14B  720p 81f: 40 heads, 21 frames x 3600 tokens = 75,600
  hunyuan  HunyuanVideo 720p 129f: 24 heads, 33 frames x 3600 = 118,800 video tokens + 256 text
           tokens after the video (N = 119,056; key_bias masks the last 128 text tokens as padding)
Kept fractions 10/25/50%: the band width w is the one whose achieved kept fraction (text rows and
columns counted as fully kept) is closest to the request.

Methods, per shape and fraction:
  sdpa      torch SDPA default (what ComfyUI runs), dense, on the strided views
  flex      flex_attention (torch.compile, default mode) on pre-permuted contiguous q/k/v with a
            BlockMask of the SAME blocks (built from the band at block level, no N x N mask)
  sol       comfy-kitchen Sol-Attn top-k (topk_ratio = requested fraction), [B, N, H, D]
  kernel    our band kernel alone (fused layout transformation), half the heads temporal
  call      our whole SVG call: profile 64 sampled rows + labels + band kernel (fused permutation
            and inverse) + dense global/text query rows (SDPA)
  profile   the profiling part of the call alone (profile kernel + label compare)
  kernel-fp8, call-fp8  the same with the FP8 (e4m3) band kernel (compute capability >= 8.9)

Times: median of --reps calls (CUDA events) after a warm-up, rotating --sets input sets.
TFLOP/s: 4*D*(kept query-key pairs) / time, the pairs the method computes.  ideal = kept fraction
x SDPA default time.  extra MiB: peak allocated during the call minus allocated before, not
counting the output tensor.

  python bench/attention_bench.py                 # everything (about 80 s on an H200, plus start-up)
  python bench/attention_bench.py --sweep         # first time band-kernel configs, keep the best
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import traceback

import torch
import torch.nn.functional as Fnn

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)

from kernels import band_attention, global_rows_attention, profile_errors  # noqa: E402
from svg_attention.budget import kept_pairs  # noqa: E402
from svg_attention.layout import spatial_from_temporal  # noqa: E402
from kernels import fp8_band_attention, fp8_support  # noqa: E402

_band_mod = sys.modules["kernels.band_attention"]
_prof_mod = sys.modules["kernels.profile"]


def _kinfo(last):
    """registers / spills / shared memory of the last compiled kernels (diagnostics)."""
    info = {}
    for name, kern in last.items():
        try:
            info[name] = dict(regs=kern.n_regs, spills=kern.n_spills, smem=kern.metadata.shared)
        except Exception as e:  # noqa: BLE001
            info[name] = repr(e)[:80]
    return info

SHAPES = {
    "wan13b": dict(name="Wan2.1-1.3B 480p", H=12, F=21, P=1560, pre=0, suf=0, pad=0),
    "wan14b": dict(name="Wan2.1-14B 720p", H=40, F=21, P=3600, pre=0, suf=0, pad=0),
    "hunyuan": dict(name="HunyuanVideo 720p", H=24, F=33, P=3600, pre=0, suf=256, pad=128),
}
D = 128
BS = 128
ROWS = 64

SWEEP = [
    dict(BLOCK_M=128, BLOCK_N=128, num_warps=8, num_stages=3, TMA=False),   # call 1's best (pointer loads)
    dict(BLOCK_M=128, BLOCK_N=128, num_warps=8, num_stages=2, TMA=True, WS=False),
    dict(BLOCK_M=128, BLOCK_N=128, num_warps=8, num_stages=3, TMA=True, WS=False),
    dict(BLOCK_M=128, BLOCK_N=128, num_warps=8, num_stages=2, TMA=True, WS=True),
    dict(BLOCK_M=128, BLOCK_N=128, num_warps=8, num_stages=3, TMA=True, WS=True),
]
TMA_SWEEP = []
PROFILE_SWEEP = [
    dict(BLOCK_N=32, num_warps=4, num_stages=4, programs_per_sm=8),   # call 2's best (1.35 ms)
    dict(BLOCK_N=32, num_warps=8, num_stages=4, programs_per_sm=8),
    dict(BLOCK_N=64, num_warps=8, num_stages=3, programs_per_sm=8),
    dict(BLOCK_N=16, num_warps=4, num_stages=4, programs_per_sm=8),
]


def log(*a):
    print(*a, flush=True)


# ---------------------------------------------------------------------------------------------
# timing / memory
# ---------------------------------------------------------------------------------------------
def time_ms(fn, sets, reps, warmup=1):
    for i in range(warmup):
        fn(sets[i % len(sets)])
    torch.cuda.synchronize()
    ts = []
    for i in range(reps):
        s = sets[i % len(sets)]
        e0 = torch.cuda.Event(enable_timing=True)
        e1 = torch.cuda.Event(enable_timing=True)
        e0.record()
        fn(s)
        e1.record()
        e1.synchronize()
        ts.append(e0.elapsed_time(e1))
    return statistics.median(ts), ts


def extra_mib(fn, s, out_bytes=0):
    torch.cuda.synchronize()
    before = torch.cuda.memory_allocated()
    torch.cuda.reset_peak_memory_stats()
    r = fn(s)
    torch.cuda.synchronize()
    peak = torch.cuda.max_memory_allocated()
    del r
    return (peak - before - out_bytes) / 2**20


# ---------------------------------------------------------------------------------------------
# pattern geometry
# ---------------------------------------------------------------------------------------------
def choose_w(V, G, N, frac):
    nb = -(-V // BS)
    best = None
    for w in range(nb + 1):
        a = kept_pairs(V, G, BS, w) / N**2
        if best is None or abs(a - frac) < abs(best[1] - frac):
            best = (w, a)
        if a > frac + 0.05:
            break
    return best


def flex_block_mask(N, V, w, mask_mod, device="cuda"):
    """BlockMask (block 128) of the band + global pattern in head order, video at [0, V).

    Built at block level from intervals (no token-level mask): full blocks where every pair is
    kept, partial blocks (mask_mod evaluated) where a block mixes kept and dropped pairs.
    """
    from torch.nn.attention.flex_attention import BlockMask
    nblk = -(-N // 128)
    i = torch.arange(nblk, device=device)[:, None]
    j = torch.arange(nblk, device=device)[None, :]
    row_all_text = i * 128 >= V
    col_all_text = j * 128 >= V
    row_has_text = torch.clamp((i + 1) * 128, max=N) > V
    col_has_text = torch.clamp((j + 1) * 128, max=N) > V
    band = (i - j).abs() <= w
    full = row_all_text | col_all_text | band
    anyk = full | row_has_text | col_has_text
    partial = anyk & ~full

    def lists(m):
        num = m.sum(-1).to(torch.int32)
        idx = torch.argsort((~m).to(torch.int8), dim=-1, stable=True).to(torch.int32)
        return num[None, None].contiguous(), idx[None, None].contiguous()

    kv_num, kv_idx = lists(partial)
    f_num, f_idx = lists(full)
    return BlockMask.from_kv_blocks(kv_num, kv_idx, f_num, f_idx, BLOCK_SIZE=128, mask_mod=mask_mod,
                                    seq_lengths=(N, N))


# ---------------------------------------------------------------------------------------------
def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--shapes", default="wan14b,wan13b,hunyuan", help="the sweep runs on the first")
    ap.add_argument("--fractions", default="0.10,0.25,0.50")
    ap.add_argument("--reps", type=int, default=5)
    ap.add_argument("--sets", type=int, default=2)
    ap.add_argument("--sweep", action="store_true", help="time band/profile kernel configs first, keep the best")
    ap.add_argument("--no-flex", action="store_true")
    ap.add_argument("--no-sol", action="store_true")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()

    dev = torch.device("cuda")
    torch.manual_seed(0)
    props = torch.cuda.get_device_properties(dev)
    import triton
    env = dict(gpu=props.name, sms=props.multi_processor_count, torch=torch.__version__, triton=triton.__version__,
               cuda=torch.version.cuda)
    try:
        import subprocess
        env["driver"] = subprocess.run(["nvidia-smi", "--query-gpu=driver_version", "--format=csv,noheader"],
                                       capture_output=True, text=True).stdout.strip()
    except Exception:
        env["driver"] = "?"
    log("env:", json.dumps(env))
    results = dict(env=env, rows=[], sweep=[], notes=[])

    def save():
        if args.json:
            with open(args.json, "w") as f:
                json.dump(results, f, indent=1)

    sol = None
    if not args.no_sol:
        try:
            sys.path.insert(0, os.path.join(ROOT, ".ck"))
            import comfy_kitchen as ck
            if not ck.sol_attn_is_available(dev):
                raise RuntimeError("comfy_kitchen.sol_attn_is_available() is False")
            sol = ck.sol_attn
            log("comfy-kitchen", getattr(ck, "__version__", "?"), "sol_attn available")
        except Exception as e:
            results["notes"].append(f"Sol-Attn not run: {type(e).__name__}: {e}")
            log("Sol-Attn not run:", repr(e))

    flex_c = None
    W_T = torch.zeros((), dtype=torch.int64, device=dev)
    V_T = torch.zeros((), dtype=torch.int64, device=dev)

    def mask_mod(b, h, q_idx, kv_idx):
        return (q_idx >= V_T) | (kv_idx >= V_T) | ((q_idx // 128 - kv_idx // 128).abs() <= W_T)

    if not args.no_flex:
        from torch.nn.attention.flex_attention import flex_attention
        flex_c = torch.compile(flex_attention, dynamic=False)

    band_cfg = None
    prof_cfg = None
    swept = False
    fractions = [float(x) for x in args.fractions.split(",")]

    for key in args.shapes.split(","):
        shp = SHAPES[key]
        H, F, P, pre, suf = shp["H"], shp["F"], shp["P"], shp["pre"], shp["suf"]
        V = F * P
        G = pre + suf
        N = V + G
        B = 1
        log(f"\n=== {shp['name']}: B={B} H={H} N={N} (video {F}x{P}={V}, globals {G}) D={D} bf16")
        sets = []
        for si in range(args.sets):
            x = torch.randn(3, B, N, H * D, device=dev, dtype=torch.bfloat16)
            qkv = [x[i].view(B, N, H, D).transpose(1, 2) for i in range(3)]
            sets.append(dict(x=x, q=qkv[0], k=qkv[1], v=qkv[2]))
        bias = None
        if G > 0 and shp["pad"]:
            bias = torch.zeros(B, N, device=dev, dtype=torch.float32)
            bias[:, N - shp["pad"]:] = -1e9   # text padding tokens (HunyuanVideo's mask)
        out_store = torch.empty(B, N, H * D, device=dev, dtype=torch.bfloat16)
        out = out_store.view(B, N, H, D).transpose(1, 2)
        out_bytes = out_store.numel() * 2
        g = torch.Generator(device="cpu").manual_seed(1)
        mixed = (torch.rand(B, H, generator=g) < 0.5).to(dev)
        dense_flops = 4.0 * D * N * N * H * B

        # ---- SDPA default (dense)
        def run_sdpa(s):
            return Fnn.scaled_dot_product_attention(s["q"], s["k"], s["v"])
        t_sdpa, _ = time_ms(run_sdpa, sets, args.reps)
        results["rows"].append(dict(shape=key, method="sdpa", frac=1.0, ms=t_sdpa,
                                    tflops=dense_flops / t_sdpa / 1e9))
        log(f"sdpa default: {t_sdpa:.2f} ms  {dense_flops / t_sdpa / 1e9:.0f} TFLOP/s")
        save()

        # ---- config sweep (once, on the first shape given, at the 25% band)
        if args.sweep and not swept:
            swept = True
            w25, a25 = choose_w(V, G, N, 0.25)
            best = None
            spatial = torch.zeros(B, H, dtype=torch.bool, device=dev)
            for cfg in SWEEP + TMA_SWEEP:
                for lab, temporal in (("mixed", mixed), ("spatial", spatial)):
                    try:
                        fn = lambda s, cfg=cfg, temporal=temporal: band_attention(
                            s["q"], s["k"], s["v"], temporal, video_start=pre, num_frames=F, frame_tokens=P,
                            band_width=w25, block_size=BS, key_bias=bias, out=out, config=cfg)
                        t, _ = time_ms(fn, sets, args.reps)
                        kinfo = _kinfo(_band_mod.LAST_LAUNCH)
                        results["sweep"].append(dict(shape=key, kind="band", labels=lab, cfg=cfg, w=w25, ms=t,
                                                     kinfo=kinfo))
                        log(f"sweep band {lab} {cfg}: {t:.2f} ms  {kinfo}")
                        if lab == "mixed" and (best is None or t < best[0]):
                            best = (t, cfg)
                    except Exception as e:
                        log(f"sweep band {lab} {cfg} failed: {e!r}")
                        results["notes"].append(f"sweep band {lab} {cfg} failed: {e!r}")
            band_cfg = best[1] if best else None
            log("band config chosen:", band_cfg)
            pbest = None
            rows = torch.randperm(V, device=dev)[:ROWS]
            for cfg in PROFILE_SWEEP:
                try:
                    fn = lambda s, cfg=cfg: profile_errors(s["q"], s["k"], s["v"], rows, video_start=pre,
                                                           num_frames=F, frame_tokens=P, band_width=w25,
                                                           block_size=BS, key_bias=bias, config=cfg)
                    t, _ = time_ms(fn, sets, args.reps)
                    kinfo = _kinfo(_prof_mod.LAST_LAUNCH)
                    results["sweep"].append(dict(shape=key, kind="profile", cfg=cfg, w=w25, ms=t, kinfo=kinfo))
                    log(f"sweep profile {cfg}: {t:.3f} ms  {kinfo}")
                    if pbest is None or t < pbest[0]:
                        pbest = (t, cfg)
                except Exception as e:
                    log(f"sweep profile {cfg} failed: {e!r}")
            prof_cfg = pbest[1] if pbest else None
            log("profile config chosen:", prof_cfg)
            save()

        for frac in fractions:
            w, achieved = choose_w(V, G, N, frac)
            pairs_video = kept_pairs(V, G, BS, w, include_global_rows=False) * H * B
            pairs_all = kept_pairs(V, G, BS, w, include_global_rows=True) * H * B
            ideal = achieved * t_sdpa
            log(f"-- requested {frac:.0%}: w={w} achieved {achieved:.2%}  ideal {ideal:.2f} ms")
            row_common = dict(shape=key, frac=frac, w=w, achieved=achieved, ideal_ms=ideal)

            def run_kernel(s, temporal=mixed):
                return band_attention(s["q"], s["k"], s["v"], temporal, video_start=pre, num_frames=F,
                                      frame_tokens=P, band_width=w, block_size=BS, key_bias=bias, out=out,
                                      config=band_cfg)

            def run_profile(s):
                rows = torch.randint(0, V, (ROWS,), device=dev)
                err = profile_errors(s["q"], s["k"], s["v"], rows, video_start=pre, num_frames=F,
                                     frame_tokens=P, band_width=w, block_size=BS, key_bias=bias, config=prof_cfg)
                return err[..., 1] < err[..., 0]

            glob_ranges = [(a, b) for a, b in ((0, pre), (pre + V, N)) if b > a]
            mask_b = None
            if bias is not None:
                mask_b = bias[:, None, None, :].to(torch.bfloat16)

            def run_text(s):   # global (text) query rows: dense over all keys, split over the keys
                if glob_ranges:
                    global_rows_attention(s["q"], s["k"], s["v"], out, video_start=pre, num_frames=F,
                                          frame_tokens=P, key_bias=bias)
                return out

            def run_text_sdpa(s):   # the same rows through SDPA (memory-efficient backend with the mask)
                for a, b in glob_ranges:
                    out[:, :, a:b] = Fnn.scaled_dot_product_attention(s["q"][:, :, a:b], s["k"], s["v"],
                                                                      attn_mask=mask_b)
                return out

            def run_call(s):
                temporal = run_profile(s)
                band_attention(s["q"], s["k"], s["v"], temporal, video_start=pre, num_frames=F,
                               frame_tokens=P, band_width=w, block_size=BS, key_bias=bias, out=out,
                               config=band_cfg)
                run_text(s)
                return out

            def run_gather(s):   # the layout transformation alone (head-ordered K/V copies)
                cfg = _band_mod.band_config(D, BS, False, band_cfg)
                if cfg.get("TMA"):
                    mod = sys.modules["kernels._band_triton"]
                    _band_mod._tma_descriptors(mod, s["k"], s["v"], mixed.to(torch.int8).contiguous(), pre,
                                               F, P, V, cfg["BLOCK_N"])
                return None

            def run_kernel_fp8(s, temporal=mixed):
                return fp8_band_attention(s["q"], s["k"], s["v"], temporal, video_start=pre, num_frames=F,
                                          frame_tokens=P, band_width=w, block_size=BS, key_bias=bias, out=out)

            def run_call_fp8(s):
                temporal = run_profile(s)
                run_kernel_fp8(s, temporal)
                run_text(s)
                return out

            fp8_parts = [("kernel-fp8", run_kernel_fp8, pairs_video), ("call-fp8", run_call_fp8, pairs_all)] \
                if fp8_support(dev)[0] else []
            extra_parts = [("gather", run_gather, None)]
            if glob_ranges:
                extra_parts += [("text", run_text, None), ("text-sdpa", run_text_sdpa, None)]
            for name, fn, pairs in [("kernel", run_kernel, pairs_video), ("call", run_call, pairs_all),
                                    ("profile", run_profile, None)] + fp8_parts + (extra_parts if frac == 0.25 else []):
                try:
                    t, ts = time_ms(fn, sets, args.reps)
                    mem = extra_mib(fn, sets[0], 0)
                    r = dict(row_common, method=name, ms=t, extra_mib=mem, ratio_ideal=t / ideal,
                             speedup_sdpa=t_sdpa / t)
                    if pairs:
                        r["tflops"] = 4.0 * D * pairs / t / 1e9
                    results["rows"].append(r)
                    log(f"{name}: {t:.2f} ms  x{t / ideal:.2f} ideal  {t_sdpa / t:.2f}x sdpa  "
                        f"{r.get('tflops', 0):.0f} TFLOP/s  extra {mem:.0f} MiB")
                except Exception as e:
                    traceback.print_exc()
                    results["notes"].append(f"{key} {frac} {name} failed: {e!r}")
            if frac == 0.25:
                for lab, temporal in (("kernel-all-spatial", torch.zeros(B, H, dtype=torch.bool, device=dev)),
                                      ("kernel-all-temporal", torch.ones(B, H, dtype=torch.bool, device=dev))):
                    t, _ = time_ms(lambda s: run_kernel(s, temporal), sets, args.reps)
                    results["rows"].append(dict(row_common, method=lab, ms=t, tflops=4.0 * D * pairs_video / t / 1e9))
                    log(f"{lab}: {t:.2f} ms  {4.0 * D * pairs_video / t / 1e9:.0f} TFLOP/s")
            save()

            # ---- flex_attention on pre-permuted contiguous tensors, same blocks
            if flex_c is not None and pre == 0:
                try:
                    W_T.fill_(w)
                    V_T.fill_(V)
                    bm = flex_block_mask(N, V, w, mask_mod)
                    fsets = []
                    for s in sets[:1]:
                        d = {}
                        for nm in ("q", "k", "v"):
                            t_ = s[nm].contiguous()
                            ot = spatial_from_temporal(torch.arange(V, device=dev), F, P)
                            for h in range(H):
                                if bool(mixed[0, h]):
                                    t_[0, h, :V] = s[nm][0, h, ot]
                            d[nm] = t_
                        fsets.append(d)
                    fn = lambda s: flex_c(s["q"], s["k"], s["v"], block_mask=bm)
                    t0 = time.time()
                    fn(fsets[0])
                    torch.cuda.synchronize()
                    log(f"flex compile+first call {time.time() - t0:.1f} s")
                    t, _ = time_ms(fn, fsets, args.reps)
                    mem = extra_mib(fn, fsets[0], out_bytes)
                    results["rows"].append(dict(row_common, method="flex", ms=t, extra_mib=mem,
                                                ratio_ideal=t / ideal, speedup_sdpa=t_sdpa / t,
                                                tflops=4.0 * D * pairs_all / t / 1e9))
                    log(f"flex: {t:.2f} ms  x{t / ideal:.2f} ideal  {4.0 * D * pairs_all / t / 1e9:.0f} TFLOP/s "
                        f"extra {mem:.0f} MiB")
                    del fsets, bm
                except Exception as e:
                    traceback.print_exc()
                    results["notes"].append(f"{key} {frac} flex failed: {e!r}")
            save()

            # ---- comfy-kitchen Sol-Attn top-k
            if sol is not None:
                try:
                    fn = lambda s: sol(s["x"][0].view(B, N, H, D), s["x"][1].view(B, N, H, D),
                                       s["x"][2].view(B, N, H, D), topk_ratio=frac)
                    t, _ = time_ms(fn, sets, args.reps)
                    mem = extra_mib(fn, sets[0], out_bytes)
                    results["rows"].append(dict(row_common, method="sol", ms=t, extra_mib=mem,
                                                ratio_ideal=t / ideal, speedup_sdpa=t_sdpa / t))
                    log(f"sol top-k {frac:.0%}: {t:.2f} ms  extra {mem:.0f} MiB")
                except Exception as e:
                    traceback.print_exc()
                    results["notes"].append(f"{key} {frac} sol failed: {e!r}")
            save()
        del sets, out_store, out
        torch.cuda.empty_cache()

    results["band_cfg"] = band_cfg
    results["profile_cfg"] = prof_cfg
    save()
    print_table(results, qkv_note=True)


def print_table(results, qkv_note=False):
    rows = results["rows"]
    log("\n| shape | kept (req/achieved, w) | SDPA ms | flex ms | Sol top-k ms | kernel ms (TFLOP/s) | "
        "call ms (x ideal) | profile ms (% of call) | flex/kernel | sol/call | SDPA/call | call extra MiB | "
        "FP8 kernel ms (bf16/FP8) | FP8 call ms (SDPA/call) |")
    log("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|")
    # gather (layout transformation) and text-row timings, measured at 25% (independent of w)
    shapes = []
    for r in rows:
        if r["shape"] not in shapes:
            shapes.append(r["shape"])
    for sh in shapes:
        sd = [r for r in rows if r["shape"] == sh and r["method"] == "sdpa"]
        t_sdpa = sd[0]["ms"] if sd else float("nan")
        fr = sorted({r["frac"] for r in rows if r["shape"] == sh and r["method"] != "sdpa"})
        for f in fr:
            get = {r["method"]: r for r in rows if r["shape"] == sh and r["frac"] == f}
            def ms(m):
                return get[m]["ms"] if m in get else float("nan")
            k = get.get("kernel", {})
            c = get.get("call", {})
            ach = (k or c).get("achieved", float("nan"))
            w = (k or c).get("w", -1)
            log(f"| {sh} | {f:.0%} / {ach:.1%}, w={w} | {t_sdpa:.1f} | {ms('flex'):.2f} | {ms('sol'):.2f} | "
                f"{ms('kernel'):.2f} ({k.get('tflops', float('nan')):.0f}) | {ms('call'):.2f} "
                f"(x{c.get('ratio_ideal', float('nan')):.2f}) | {ms('profile'):.2f} "
                f"({100 * ms('profile') / ms('call'):.1f}%) | {ms('flex') / ms('kernel'):.2f} | "
                f"{ms('sol') / ms('call'):.2f} | {t_sdpa / ms('call'):.2f} | {c.get('extra_mib', float('nan')):.0f} | "
                f"{ms('kernel-fp8'):.2f} ({ms('kernel') / ms('kernel-fp8'):.2f}) | "
                f"{ms('call-fp8'):.2f} ({t_sdpa / ms('call-fp8'):.2f}) |")
    for r in rows:
        if r["method"] in ("gather", "text", "text-sdpa"):
            log(f"{r['shape']}: {r['method']} {r['ms']:.2f} ms, extra {r.get('extra_mib', 0):.0f} MiB")
    for n in results.get("notes", []):
        log("note:", n)


if __name__ == "__main__":
    main()

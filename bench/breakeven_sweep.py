#!/usr/bin/env python3
"""Where does a sparse call start to pay?  The whole SVG call (row sampling + profiler + labels +
band kernel + text rows, through ``svg_attention.sparse_attention`` with the Triton backend) against
dense attention, side by side in one process, over tokens per head, head_dim, batch and kept fraction.

  python3 bench/breakeven_sweep.py --json $OUT/breakeven.json     # ~5-7 min on an H200

Per (head_dim, batch, kept fraction) the sizes grow until the sparse call has won at two
consecutive sizes (then every larger size is assumed to win too: the sparse call's fixed costs only
shrink relative to the work; the big-model benches confirm it at 32k-119k tokens).  Heads per call:
12 at head_dim 128 (Wan-1.3B, the fewest of the supported D=128 models), 24 at head_dim 64 (fewer
than LTXV's 32 and CogVideoX's 48): fewer heads means less work per call, so the break-even found is
the larger (conservative) one for models with more heads.  Video: 13 frames x tokens/13.

Methods per size: SDPA (dense, what ComfyUI runs), the bf16 SVG call, the FP8 SVG call and FP8 dense
(the FP8 kernel with a full band), when the GPU has FP8 (compute capability >= 8.9).  Times: median of
--reps calls with CUDA events (launch gaps included), 2 input sets rotated.

Prints a table, the break-even sizes, and a ``BreakEven(...)`` entry to paste into
svg_attention/speed_floor.py (bf16: sparse bf16 call vs SDPA; fp8: sparse FP8 call vs the faster of
SDPA and FP8 dense).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SIZES = [4096, 6144, 8192, 12288, 16384, 24576, 32768, 49152, 65536]
HEADS = {64: 24, 128: 12}
FRAMES = 13


def load_pack():
    """The repository as the package ``svg_pack`` (how ComfyUI and the tests import it: the
    svg_attention backends reach the kernels through the parent package)."""
    import importlib
    import importlib.util
    if "svg_pack" not in sys.modules:
        spec = importlib.util.spec_from_file_location("svg_pack", os.path.join(ROOT, "__init__.py"),
                                                      submodule_search_locations=[ROOT])
        pack = importlib.util.module_from_spec(spec)
        sys.modules["svg_pack"] = pack
        spec.loader.exec_module(pack)
    importlib.import_module("svg_pack.kernels")
    importlib.import_module("svg_pack.svg_attention")
    return sys.modules["svg_pack"]


def main():
    smoke = "--smoke" in sys.argv
    if smoke:   # before anything imports Triton
        os.environ["TRITON_INTERPRET"] = "1"
    import torch
    import torch.nn.functional as Fnn
    pack = load_pack()
    kernels = pack.kernels
    from svg_pack.svg_attention import Backend, SVGConfig, VideoLayout, get_pattern, sparse_attention
    from svg_pack.svg_attention.backends import triton_backend

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--head-dims", default="64,128")
    ap.add_argument("--batches", default="1,2,3")
    ap.add_argument("--densities", default="0.25,0.5")
    ap.add_argument("--sizes", default=",".join(map(str, SIZES)))
    ap.add_argument("--reps", type=int, default=9)
    ap.add_argument("--budget-s", type=float, default=540.0)
    ap.add_argument("--json", default=None)
    ap.add_argument("--smoke", action="store_true", help="CPU smoke test of this script (interpreter, tiny sizes)")
    args = ap.parse_args()
    t_start = time.time()
    if smoke:
        dev = torch.device("cpu")
        gpu = "cpu (smoke)"
        args.head_dims, args.batches, args.densities, args.sizes, args.reps = "64", "1", "0.5", "1664,2560", 1
        HEADS[64] = 2
    else:
        dev = torch.device("cuda")
        gpu = torch.cuda.get_device_name(dev)
    import triton
    env = dict(gpu=gpu, torch=torch.__version__, triton=triton.__version__,
               cc=list(torch.cuda.get_device_capability()) if dev.type == "cuda" else None)
    print("env:", json.dumps(env), flush=True)
    fp8_ok = kernels.fp8_support(dev)[0]
    dtype = torch.float32 if smoke else torch.bfloat16
    bf16_backend = triton_backend()
    fp8_backend = Backend("triton-fp8", {**bf16_backend.ops, **kernels.fp8_ops("fp8", emulated=False)}, "fp8")
    pattern = get_pattern("svg")
    res = dict(env=env, rows=[], notes=[])

    def save():
        if args.json:
            with open(args.json, "w") as f:
                json.dump(res, f, indent=1)

    def time_ms(fn, sets):
        fn(sets[0])
        if dev.type != "cuda":
            t0 = time.perf_counter()
            fn(sets[0])
            return (time.perf_counter() - t0) * 1e3, (time.perf_counter() - t0) * 1e3
        torch.cuda.synchronize()
        ts = []
        for i in range(args.reps):
            e0, e1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            e0.record()
            fn(sets[i % len(sets)])
            e1.record()
            e1.synchronize()
            ts.append(e0.elapsed_time(e1))
        return statistics.median(ts), min(ts)

    sizes = [int(s) for s in args.sizes.split(",")]
    for D in [int(x) for x in args.head_dims.split(",")]:
        H = HEADS[D]
        for B in [int(x) for x in args.batches.split(",")]:
            for frac in [float(x) for x in args.densities.split(",")]:
                wins = {"bf16": 0, "fp8": 0}
                for N0 in sizes:
                    if time.time() - t_start > args.budget_s:
                        res["notes"].append(f"budget reached at D={D} B={B} {frac} N={N0}")
                        break
                    if wins["bf16"] >= 2 and (wins["fp8"] >= 2 or not fp8_ok):
                        break
                    P = max(1, round(N0 / FRAMES))
                    layout = VideoLayout(FRAMES, P)
                    N = layout.total_tokens
                    plan = pattern.plan(layout, SVGConfig(sparsity=round(1.0 - frac, 4)))   # 64 profiled rows
                    sets = []
                    for _ in range(2):
                        x = torch.randn(3, B, N, H * D, device=dev, dtype=dtype)
                        sets.append([x[i].view(B, N, H, D).transpose(1, 2) for i in range(3)])
                    out = torch.empty(B, N, H, D, device=dev, dtype=dtype).transpose(1, 2)
                    gen = torch.Generator(device=dev).manual_seed(0)

                    def svg(s, backend):
                        return sparse_attention(s[0], s[1], s[2], layout, plan, pattern=pattern, backend=backend,
                                                generator=gen, out=out)

                    row = dict(D=D, H=H, B=B, frac=frac, N=N, density=plan.density, width=plan.width,
                               covers_all=plan.covers_all)
                    try:
                        row["sdpa"] = time_ms(lambda s: Fnn.scaled_dot_product_attention(*s), sets)
                        if not plan.covers_all:
                            row["svg_bf16"] = time_ms(lambda s: svg(s, bf16_backend), sets)
                            if fp8_ok:
                                row["svg_fp8"] = time_ms(lambda s: svg(s, fp8_backend), sets)
                        if fp8_ok:
                            row["fp8_dense"] = time_ms(lambda s: kernels.fp8_dense_attention(*s, out=out), sets)
                    except Exception as e:  # noqa: BLE001 - a failing size is a result
                        row["error"] = f"{type(e).__name__}: {str(e)[:200]}"
                    sd = row.get("sdpa", (float("nan"),))[0]
                    b16 = row.get("svg_bf16", (float("inf"),))[0]
                    f8 = row.get("svg_fp8", (float("inf"),))[0]
                    f8d = row.get("fp8_dense", (float("inf"),))[0]
                    row["bf16_wins"] = b16 < sd
                    row["fp8_wins"] = f8 < min(sd, f8d)
                    wins["bf16"] = wins["bf16"] + 1 if row["bf16_wins"] else 0
                    wins["fp8"] = wins["fp8"] + 1 if row["fp8_wins"] else 0
                    res["rows"].append(row)
                    print(f"D={D} H={H} B={B} kept {frac:.0%} N={N:6d} (w={plan.width}, {plan.density:.1%}): "
                          f"SDPA {sd:7.3f}  SVG bf16 {b16:7.3f} ({sd / b16:4.2f}x)  SVG fp8 {f8:7.3f}  "
                          f"FP8 dense {f8d:7.3f}  {row.get('error', '')}", flush=True)
                    save()
                    del sets, out
                    if dev.type == "cuda":
                        torch.cuda.empty_cache()
    summarize(res, fp8_ok)
    save()
    print(f"total {time.time() - t_start:.0f} s")


def break_even(rows, key):
    """Smallest N from which every measured N wins (None if the largest measured N loses)."""
    rows = sorted(rows, key=lambda r: r["N"])
    if not rows or not rows[-1][key]:
        return None
    n = rows[-1]["N"]
    for r in reversed(rows):
        if not r[key]:
            break
        n = r["N"]
    return n


def summarize(res, fp8_ok):
    print("\n| head_dim | heads | batch | kept | N | SDPA ms | SVG bf16 ms (x) | SVG fp8 ms | FP8 dense ms |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in res["rows"]:
        sd = r.get("sdpa", (float("nan"),))[0]
        b16 = r.get("svg_bf16", (float("nan"),))[0]
        print(f"| {r['D']} | {r['H']} | {r['B']} | {r['frac']:.0%} | {r['N']} | {sd:.3f} | {b16:.3f} ({sd / b16:.2f}) | "
              f"{r.get('svg_fp8', (float('nan'),))[0]:.3f} | {r.get('fp8_dense', (float('nan'),))[0]:.3f} |")
    groups = {}
    for r in res["rows"]:
        groups.setdefault((r["D"], r["B"], r["frac"]), []).append(r)
    tokens = {}
    print("\nbreak-even tokens per head (smallest measured N from which the sparse call wins at every larger N):")
    for (D, B, frac), rows in sorted(groups.items()):
        tokens[("bf16", D, B, frac)] = break_even(rows, "bf16_wins")
        if fp8_ok:
            tokens[("fp8", D, B, frac)] = break_even(rows, "fp8_wins")
        print(f"  D={D} B={B} kept {frac:.0%}: bf16 {tokens[('bf16', D, B, frac)]}"
              + (f", fp8 {tokens[('fp8', D, B, frac)]}" if fp8_ok else ""))
    env = res["env"]
    src = (f"bench/breakeven_sweep.py, {time.strftime('%Y-%m-%d')}, torch {env['torch']}, triton {env['triton']}, "
           f"heads {HEADS[128]} (D=128) / {HEADS[64]} (D=64), {FRAMES} frames, bf16 inputs, SDPA default as dense; "
           f"fp8: the FP8 call against the faster of SDPA and FP8 dense")
    print("\npaste into svg_attention/speed_floor.py MEASURED:")
    print(f"    {env['gpu']!r}: BreakEven(\n        gpu={env['gpu']!r},\n        source={src!r},\n        tokens={{")
    for key, val in tokens.items():
        print(f"            {key!r}: {val!r},")
    print("        }),")
    res["break_even"] = {repr(k): v for k, v in tokens.items()}


if __name__ == "__main__":
    main()

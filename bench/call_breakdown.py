#!/usr/bin/env python3
"""Small follow-up measurements (helpers of bench/attention_bench.py), one process on the GPU:

1. HunyuanVideo 720p at 25% kept: the parts of the whole SVG call timed alone and chained
   (profile, band kernel, text rows), to place the gap between the call and the sum of its parts.
2. head_dim 64 (Wan-1.3B 480p geometry with 24 heads of 64): band-kernel configs at 25% kept.

  python bench/call_breakdown.py
"""
import os
import statistics
import sys

import torch

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, ROOT)
sys.path.insert(0, os.path.join(ROOT, "bench"))

from attention_bench import choose_w  # noqa: E402
from kernels import band_attention, global_rows_attention, profile_errors  # noqa: E402
from svg_attention.budget import kept_pairs  # noqa: E402


def timeit(fn, reps=7, warmup=2):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    ts = []
    for _ in range(reps):
        e0, e1 = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        e0.record()
        fn()
        e1.record()
        e1.synchronize()
        ts.append(e0.elapsed_time(e1))
    return statistics.median(ts), min(ts), max(ts)


def hunyuan_breakdown():
    H, F, P, suf, D = 24, 33, 3600, 256, 128
    V = F * P
    N = V + suf
    x = torch.randn(3, 1, N, H * D, device="cuda", dtype=torch.bfloat16)
    q, k, v = [x[i].view(1, N, H, D).transpose(1, 2) for i in range(3)]
    bias = torch.zeros(1, N, device="cuda")
    bias[:, N - 128:] = -1e9
    out = torch.empty_like(q)
    w, ach = choose_w(V, suf, N, 0.25)
    kw = dict(video_start=0, num_frames=F, frame_tokens=P, key_bias=bias)
    labels = {}

    def prof():
        rows = torch.randint(0, V, (64,), device="cuda")
        err = profile_errors(q, k, v, rows, band_width=w, block_size=128, **kw)
        labels["t"] = err[..., 1] < err[..., 0]
        return labels["t"]

    fixed = (torch.rand(1, H, device="cuda") < 0.5)

    def kern(t=None):
        band_attention(q, k, v, fixed if t is None else t, band_width=w, block_size=128, out=out, **kw)

    def text():
        global_rows_attention(q, k, v, out, **kw)

    parts = {
        "profile": prof,
        "kernel (fixed labels)": kern,
        "kernel (labels from last profile)": lambda: kern(labels["t"]),
        "text rows": text,
        "profile+kernel": lambda: kern(prof()),
        "kernel+text": lambda: (kern(), text()),
        "profile+kernel+text (call)": lambda: (kern(prof()), text()),
    }
    prof()
    print(f"HunyuanVideo 720p 25% (w={w}, {ach:.2%}), labels temporal in last profile: "
          f"{int(labels['t'].sum())}/{H}")
    for name, fn in parts.items():
        med, lo, hi = timeit(fn)
        print(f"  {name:36s} {med:8.2f} ms  (min {lo:.2f}, max {hi:.2f})")
    del x, q, k, v, out
    torch.cuda.empty_cache()


def d64_configs():
    H, F, P, D = 24, 21, 1560, 64
    V = N = F * P
    x = torch.randn(3, 1, N, H * D, device="cuda", dtype=torch.bfloat16)
    q, k, v = [x[i].view(1, N, H, D).transpose(1, 2) for i in range(3)]
    out = torch.empty_like(q)
    w, ach = choose_w(V, 0, N, 0.25)
    flops = 4.0 * D * kept_pairs(V, 0, 128, w) * H
    mixed = (torch.rand(1, H, device="cuda") < 0.5)
    print(f"D=64, 24 heads x 32,760 tokens, 25% (w={w}, {ach:.2%}):")
    for cfg in (None,
                dict(BLOCK_M=128, BLOCK_N=128, num_warps=8, num_stages=3, TMA=False, WS=False),
                dict(BLOCK_M=128, BLOCK_N=128, num_warps=8, num_stages=3, TMA=True, WS=True),
                dict(BLOCK_M=128, BLOCK_N=128, num_warps=4, num_stages=3, TMA=True, WS=False),
                dict(BLOCK_M=128, BLOCK_N=64, num_warps=4, num_stages=4, TMA=True, WS=False)):
        try:
            med, lo, hi = timeit(lambda: band_attention(q, k, v, mixed, video_start=0, num_frames=F,
                                                        frame_tokens=P, band_width=w, block_size=128, out=out,
                                                        config=cfg))
            print(f"  {str(cfg or 'default'):90s} {med:6.3f} ms  {flops / med / 1e9:5.0f} TFLOP/s")
        except Exception as e:  # noqa: BLE001
            print(f"  {cfg}: failed {type(e).__name__}: {str(e)[:150]}")


if __name__ == "__main__":
    hunyuan_breakdown()
    d64_configs()

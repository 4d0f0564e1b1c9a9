#!/usr/bin/env python3
"""Sparse (SVG) and dense attention under Ulysses sequence parallelism: one attention call on 2 GPUs vs 1.

    NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 \\
        torchrun --standalone --nproc_per_node 2 bench/ulysses_bench.py      # two GPUs of one host
    torchrun --standalone --nproc_per_node 2 bench/ulysses_bench.py --device cpu --small   # dry run (gloo)

Shape: Wan2.1-14B 720p 81 frames, one attention call: B=1, H=40, 21 frames x 3600 tokens
(N = 75,600), D=128, bf16, q/k/v stored as ComfyUI's [B, N, H*D]. The pattern --pattern (default
"svg", any registered name) planned from SVGConfig(sparsity=0.75, block_size=128, sampled_rows=64),
i.e. SVG at 25% kept, through the Triton kernels (svg_attention.backends, backend "triton").

Methods (each timed as: all ranks synchronised by a barrier, CUDA events around the call on every
rank, the call's time = the slowest rank's; min and median of --reps timings after --warmup calls;
"svg" below is the --pattern name):
  svg_1gpu         sparse_attention on the whole call on one GPU (rank 0; the other rank waits)
  svg_2gpu_cC      ulysses_sparse_attention on each rank's 37,800-token shard, all-to-alls included,
                   heads pipelined in C groups (C = 1: no overlap of communication and compute);
                   the per-rank decision records merged after the timings (not in them)
  sdpa_1gpu        torch SDPA (default backend) on the whole call on one GPU
  sdpa_2gpu_cC     ulysses_attention with SDPA as the local attention (copied into the output)
  comm_2gpu        ulysses_attention with a local attention that only zeroes its output: the
                   packing, the two all-to-alls and the unpacking alone
  a2a_raw          one all_to_all_single of the q+k+v bytes each rank sends (link speed)
Correctness: the 2-GPU output shard against the 1-GPU output (max abs difference) and the merged
labels against the 1-GPU labels (count of differing heads; patterns that label nothing: none).

Writes JSON to --json, or to $OUT/ulysses_bench.json when $OUT is set (rank 0 only). A whole model
forward split over two GPUs is not measured here (see docs/multi-gpu.md).
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

# NVLink multicast stays off (device rules of this workplace); set before torch.distributed starts NCCL
os.environ["NCCL_NVLS_ENABLE"] = "0"
os.environ["TORCH_SYMM_MEM_DISABLE_MULTICAST"] = "1"
os.environ["NVSHMEM_DISABLE_NVLS"] = "1"

import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402
import torch.nn.functional as Fnn  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("svg_pack", ROOT / "__init__.py", submodule_search_locations=[str(ROOT)])
svg_pack = importlib.util.module_from_spec(spec)
sys.modules["svg_pack"] = svg_pack
spec.loader.exec_module(svg_pack)

from svg_pack.svg_attention import (SVGConfig, VideoLayout, get_pattern, pattern_names, resolve_backend,  # noqa: E402
                                    sample_rows, sparse_attention)
from svg_pack.svg_attention.ulysses import SequenceShards, head_counts, ulysses_attention  # noqa: E402
from svg_pack.svg_attention.ulysses_pattern import merge_decisions, ulysses_sparse_attention  # noqa: E402

SHAPES = {
    "wan14b": dict(name="Wan2.1-14B 720p 81f", B=1, H=40, F=21, P=3600, D=128),
    "small": dict(name="small dry-run shape", B=1, H=5, F=4, P=72, D=16),
}


def log(rank, *args):
    if rank == 0:
        print(*args, flush=True)


class Timer:
    """Barrier-synchronised timings of one call on every rank; the call's time is the slowest rank's."""

    def __init__(self, device, reps, warmup):
        self.device, self.reps, self.warmup = device, reps, warmup
        self.cuda = device.type == "cuda"

    def sync(self):
        if self.cuda:
            torch.cuda.synchronize(self.device)

    def __call__(self, fn):
        for _ in range(self.warmup):
            fn()
        self.sync()
        times = []
        for _ in range(self.reps):
            dist.barrier()
            self.sync()
            if self.cuda:
                start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
                start.record()
                fn()
                end.record()
                end.synchronize()
                elapsed = start.elapsed_time(end)
            else:
                t0 = time.perf_counter()
                fn()
                elapsed = (time.perf_counter() - t0) * 1e3
            slowest = torch.tensor([elapsed], dtype=torch.float64, device=self.device)
            dist.all_reduce(slowest, op=dist.ReduceOp.MAX)
            times.append(slowest.item())
        return {"min_ms": min(times), "median_ms": statistics.median(times), "times_ms": times}


def topology():
    try:
        return subprocess.run(["nvidia-smi", "topo", "-m"], capture_output=True, text=True, timeout=20).stdout
    except (OSError, subprocess.SubprocessError) as error:
        return f"nvidia-smi topo -m failed: {error}"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--device", default="cuda", choices=("cuda", "cpu"))
    parser.add_argument("--small", action="store_true", help="a tiny shape (dry run of the script)")
    parser.add_argument("--pattern", default="svg", choices=pattern_names())
    parser.add_argument("--sparsity", type=float, default=0.75)
    parser.add_argument("--chunks", default="1,2,4", help="head groups pipelined per rank, comma-separated")
    parser.add_argument("--reps", type=int, default=7)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--json", default=None)
    args = parser.parse_args()

    cuda = args.device == "cuda"
    rank, world = int(os.environ["RANK"]), int(os.environ["WORLD_SIZE"])
    local_rank = int(os.environ.get("LOCAL_RANK", rank))
    if cuda:
        torch.cuda.set_device(local_rank)
        device = torch.device("cuda", local_rank)
    else:
        device = torch.device("cpu")
        torch.set_num_threads(1)
    dist.init_process_group("nccl" if cuda else "gloo", timeout=timedelta(seconds=120),
                            **({"device_id": device} if cuda else {}))
    shape = SHAPES["small" if args.small else "wan14b"]
    dtype = torch.bfloat16 if cuda else torch.float32
    B, H, D = shape["B"], shape["H"], shape["D"]
    layout = VideoLayout(shape["F"], shape["P"])
    N = layout.total_tokens
    pattern = get_pattern(args.pattern)
    config = SVGConfig(sparsity=args.sparsity, block_size=16 if args.small else 128, sampled_rows=64,
                       pattern=pattern.name)
    plan = pattern.plan(layout, config)
    backend, why = resolve_backend("triton" if cuda else "reference", device, dtype, D, pattern.ops)
    if cuda and pattern.ops and not backend.name.startswith("triton"):
        raise SystemExit(f"the Triton backend is not available here: {why}")
    shards = SequenceShards((N,), world)
    L = shards.local_tokens
    chunk_list = [int(c) for c in args.chunks.split(",")]
    log(rank, f"{shape['name']}: B={B} H={H} N={N} D={D} {dtype}, world {world}, {L} tokens per rank, "
              f"heads per rank {head_counts(H, world)}; pattern {pattern.name}: {plan.describe()}; "
              f"backend {backend.name} ({why})")

    # the same full q/k/v on every rank (same seed), stored as ComfyUI's [B, N, H*D]
    gen = torch.Generator(device=device).manual_seed(0)
    qkv = torch.randn(3, B, N, H * D, generator=gen, device=device, dtype=torch.float32).to(dtype)
    q, k, v = (t.view(B, N, H, D) for t in qkv.unbind(0))
    pad = shards.gathered_tokens - N
    shard = [torch.cat([t, t.new_zeros(B, pad, H, D)], 1)[:, rank * L:(rank + 1) * L].contiguous() for t in (q, k, v)]
    # the profiler's rows (if the plan wants any): the same on every rank, as from a per-run generator
    rows = (sample_rows(layout.video_tokens, plan.profile_rows, torch.Generator(device=device).manual_seed(1), device)
            if plan.profile_rows else None)
    timer = Timer(device, args.reps, args.warmup)
    results = {"shape": shape, "N": N, "world": world, "dtype": str(dtype), "pattern": pattern.name,
               "plan": plan.describe(), "band_width": getattr(plan, "width", None),
               "kept": plan.density, "backend": backend.name, "torch": torch.__version__,
               "nccl_nvls_enable": os.environ["NCCL_NVLS_ENABLE"], "methods": {}}
    if cuda:
        results["gpu"] = torch.cuda.get_device_name(device)
        results["peer_access"] = torch.cuda.can_device_access_peer(0, 1) if torch.cuda.device_count() > 1 else None
        try:
            import triton
            results["triton"] = triton.__version__
        except ImportError:
            results["triton"] = None
        if rank == 0:
            results["topology"] = topology()
            log(rank, results["topology"])

    def one_gpu(fn):
        return fn if rank == 0 else (lambda: None)

    # ---- one GPU ----
    qh, kh, vh = (t.transpose(1, 2) for t in (q, k, v))
    out_1 = torch.empty(B, N, H, D, dtype=dtype, device=device)
    labels_1 = {}
    state_1, state_2 = pattern.new_run_state(), pattern.new_run_state()  # one GPU's run; this rank's run
    name = pattern.name

    def svg_one():
        _, decision = sparse_attention(qh, kh, vh, layout, plan, pattern=pattern, backend=backend, rows=rows,
                                       out=out_1.transpose(1, 2), run_state=state_1)
        labels_1["labels"] = decision.labels

    def sdpa_one():
        return Fnn.scaled_dot_product_attention(qh, kh, vh)

    t0 = time.perf_counter()
    svg_one()  # every rank: the one-GPU reference of the correctness check (and the kernels' JIT compile)
    timer.sync()
    log(rank, f"first SVG call (JIT compile included): {time.perf_counter() - t0:.1f} s")
    results["methods"][f"{name}_1gpu"] = timer(one_gpu(svg_one))
    log(rank, f"{name}_1gpu", results["methods"][f"{name}_1gpu"])
    results["methods"]["sdpa_1gpu"] = timer(one_gpu(sdpa_one))
    log(rank, "sdpa_1gpu", results["methods"]["sdpa_1gpu"])
    svg_one()  # the reference output again, on the same inputs
    if cuda:
        results["peak_mib_1gpu_rank0"] = torch.cuda.max_memory_allocated(device) / 2**20

    # ---- two GPUs ----
    out_2 = torch.empty(B, L, H, D, dtype=dtype, device=device)
    records = {}

    def svg_two(chunks):
        def call():
            _, record = ulysses_sparse_attention(*shard, layout, plan, pattern=pattern, backend=backend, rows=rows,
                                                 run_state=state_2, shards=shards, chunks=chunks, out=out_2,
                                                 merge=False)
            records["last"] = record
        return call

    def sdpa_local(q_h, k_h, v_h, out_h, head_offset):
        out_h.copy_(Fnn.scaled_dot_product_attention(q_h, k_h, v_h))

    def zero_local(q_h, k_h, v_h, out_h, head_offset):
        out_h.zero_()

    def two(local, chunks):
        return lambda: ulysses_attention(*shard, local, shards=shards, chunks=chunks, out=out_2)

    for chunks in chunk_list:
        key = f"{name}_2gpu_c{chunks}"
        if cuda:
            torch.cuda.reset_peak_memory_stats(device)
        results["methods"][key] = timer(svg_two(chunks))
        if cuda:
            results["methods"][key]["peak_mib"] = torch.cuda.max_memory_allocated(device) / 2**20
        # correctness of the last call against the one-GPU call on the same inputs
        valid = min(L, max(0, N - rank * L))
        diff = (out_2[:, :valid].float() - out_1[:, rank * L:rank * L + valid].float()).abs().max()
        dist.all_reduce(diff, op=dist.ReduceOp.MAX)
        [decision] = merge_decisions([records["last"]])
        results["methods"][key]["max_abs_diff_vs_1gpu"] = diff.item()
        if decision.labels is not None:
            results["methods"][key]["labels_differing"] = int((decision.labels != labels_1["labels"]).sum())
            results["methods"][key]["label_counts"] = {
                label: int((decision.labels == value).sum()) for value, label in enumerate(pattern.label_names)}
        log(rank, key, {k_: v_ for k_, v_ in results["methods"][key].items() if k_ != "times_ms"})

    for chunks in [c for c in chunk_list if c <= 2]:
        key = f"sdpa_2gpu_c{chunks}"
        results["methods"][key] = timer(two(sdpa_local, chunks))
        log(rank, key, results["methods"][key])
    results["methods"]["comm_2gpu"] = timer(two(zero_local, 1))
    log(rank, "comm_2gpu", results["methods"]["comm_2gpu"])

    send = torch.empty(3 * B * L * H * D, dtype=dtype, device=device)
    recv = torch.empty_like(send)
    results["methods"]["a2a_raw"] = timer(lambda: dist.all_to_all_single(recv, send))
    results["a2a_raw_bytes_per_rank"] = send.numel() * send.element_size()
    log(rank, "a2a_raw", results["methods"]["a2a_raw"])

    # ---- ratios (computed from the medians and mins above) ----
    m = results["methods"]
    best_svg = min((m[f"{name}_2gpu_c{c}"]["median_ms"], c) for c in chunk_list)
    best_sdpa = min((m[f"sdpa_2gpu_c{c}"]["median_ms"], c) for c in chunk_list if c <= 2)
    results["speedup"] = {
        f"{name}_median": m[f"{name}_1gpu"]["median_ms"] / best_svg[0], f"{name}_best_chunks": best_svg[1],
        f"{name}_min": m[f"{name}_1gpu"]["min_ms"] / min(m[f"{name}_2gpu_c{c}"]["min_ms"] for c in chunk_list),
        "sdpa_median": m["sdpa_1gpu"]["median_ms"] / best_sdpa[0], "sdpa_best_chunks": best_sdpa[1],
        "sdpa_min": m["sdpa_1gpu"]["min_ms"] / min(m[f"sdpa_2gpu_c{c}"]["min_ms"] for c in chunk_list if c <= 2),
        f"{name}_per_chunks_median": {c: m[f"{name}_1gpu"]["median_ms"] / m[f"{name}_2gpu_c{c}"]["median_ms"]
                                      for c in chunk_list},
    }
    log(rank, "speedup 1 GPU -> 2 GPUs:", json.dumps(results["speedup"]))

    path = args.json or (os.path.join(os.environ["OUT"], "ulysses_bench.json") if os.environ.get("OUT") else None)
    if rank == 0 and path:
        Path(path).write_text(json.dumps(results, indent=1))
        log(rank, f"wrote {path}")
    dist.barrier()
    dist.destroy_process_group()


if __name__ == "__main__":
    main()

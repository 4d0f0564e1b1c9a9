"""End-to-end speed: ComfyUI's own video DiT classes at their published sizes, random bf16 weights
on the GPU, sampled through ComfyUI's sampling code (comfy.sample.sample, as a KSampler does) with
and without the SVG node, same seed, sampler and schedule.

Speed does not depend on weight values, so no real weights are needed. For each model it measures
the per-step time of dense steps (unpatched model) and of the node's dense warm-up and sparse steps
(patched model, Triton backend), peak GPU memory of both runs, and a breakdown of one sparse step
(profiler: band attention, head profiling, K/V head-order gather, text rows, everything else).
Whole 50-step runs are COMPUTED from the measured step times (a full run does not fit the device
limits) and labelled so.

Run on the GPU machine (the ComfyUI tree and its missing pure-python deps carried along):
    python3 bench/e2e_bench.py --comfyui .host/comfyui --out $OUT/e2e.json
CPU smoke test of the code path (tiny sizes, reference backend):
    python bench/e2e_bench.py --comfyui .host/comfyui --tiny
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]

# published sizes (ComfyUI's detection of the official checkpoints)
MODELS = {
    "wan2.1-14b-720p": dict(
        config="WAN21_T2V", latent=(1, 16, 21, 90, 160), text_tokens=512, cfg=5.0,
        unet=dict(image_model="wan2.1", model_type="t2v", dim=5120, ffn_dim=13824, num_heads=40, num_layers=40,
                  in_dim=16, out_dim=16, text_dim=4096, freq_dim=256, patch_size=(1, 2, 2), window_size=(-1, -1),
                  qk_norm=True, cross_attn_norm=True, eps=1e-6),
        official_warmup=0.2),
    "wan2.1-1.3b-480p": dict(
        config="WAN21_T2V", latent=(1, 16, 21, 60, 104), text_tokens=512, cfg=5.0,
        unet=dict(image_model="wan2.1", model_type="t2v", dim=1536, ffn_dim=8960, num_heads=12, num_layers=30,
                  in_dim=16, out_dim=16, text_dim=4096, freq_dim=256, patch_size=(1, 2, 2), window_size=(-1, -1),
                  qk_norm=True, cross_attn_norm=True, eps=1e-6),
        official_warmup=0.2),
    "hunyuanvideo-720p": dict(
        config="HunyuanVideo", latent=(1, 16, 33, 90, 160), text_tokens=256, cfg=1.0,
        unet=dict(image_model="hunyuan_video", in_channels=16, out_channels=16, vec_in_dim=768, context_in_dim=4096,
                  hidden_size=3072, mlp_ratio=4.0, num_heads=24, depth=20, depth_single_blocks=40,
                  axes_dim=[16, 56, 56], theta=256, patch_size=[1, 2, 2], qkv_bias=True, guidance_embed=True,
                  byt5=False, meanflow=False, use_cond_type_embedding=False, vision_in_dim=None),
        official_warmup=0.1),
}
TINY = {
    "wan-tiny": dict(config="WAN21_T2V", latent=(1, 16, 3, 32, 32), text_tokens=16, cfg=5.0,
                     unet=dict(MODELS["wan2.1-1.3b-480p"]["unet"], dim=256, ffn_dim=256, num_heads=2, num_layers=2),
                     official_warmup=0.2),
    "hunyuan-tiny": dict(config="HunyuanVideo", latent=(1, 16, 3, 32, 32), text_tokens=16, cfg=1.0,
                         unet=dict(MODELS["hunyuanvideo-720p"]["unet"], hidden_size=256, num_heads=2, depth=1,
                                   depth_single_blocks=1),
                         official_warmup=0.1),
}
KERNEL_GROUPS = (("band attention", ("band",)), ("head profiling", ("profile", "_prof")),
                 ("K/V head-order gather", ("gather",)), ("text rows", ("global",)))


def import_comfy(path: str, cpu: bool):
    sys.path.insert(0, str(Path(path).resolve()))
    argv, sys.argv = sys.argv, [sys.argv[0]] + (["--cpu"] if cpu else [])
    try:
        import comfy.options
        comfy.options.enable_args_parsing()
        import comfy.model_management  # noqa: F401
        import comfy.model_patcher  # noqa: F401
        import comfy.sample  # noqa: F401
        import comfy.samplers  # noqa: F401
        import comfy.supported_models  # noqa: F401
    finally:
        sys.argv = argv
    spec = importlib.util.spec_from_file_location("svg_pack", ROOT / "__init__.py", submodule_search_locations=[str(ROOT)])
    pack = importlib.util.module_from_spec(spec)
    sys.modules["svg_pack"] = pack
    spec.loader.exec_module(pack)
    return comfy


def build(comfy, spec, device, dtype):
    model_config = getattr(comfy.supported_models, spec["config"])(dict(spec["unet"]))
    model_config.set_inference_dtype(dtype, None)
    model = model_config.get_model({}, "", device=device)
    gen = torch.Generator(device=device).manual_seed(0)
    with torch.no_grad():
        for param in model.diffusion_model.parameters():
            param.data = torch.empty(param.shape, dtype=param.dtype, device=device).normal_(0.0, 0.02, generator=gen)
    model.eval()
    return comfy.model_patcher.ModelPatcher(model, load_device=device, offload_device=device)


def conditioning(spec, device):
    gen = torch.Generator().manual_seed(1)
    ctx = torch.randn(1, spec["text_tokens"], 4096, generator=gen) * 0.1
    extra = {}
    if spec["config"] == "HunyuanVideo":
        extra = {"pooled_output": torch.randn(1, 768, generator=gen), "guidance": 6.0}
    return [[ctx, extra]]


def sample(comfy, model, spec, steps, device):
    """Sample; returns (per-step seconds, output). Times from the step callback, after a sync."""
    latent = torch.zeros(spec["latent"])
    noise = comfy.sample.prepare_noise(latent, 7)
    marks = []

    def callback(step, x0, x, total):
        if device.type == "cuda":
            torch.cuda.synchronize()
        marks.append(time.perf_counter())

    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    pos = conditioning(spec, device)
    out = comfy.sample.sample(model, noise, steps, spec["cfg"], "euler", "simple", pos, pos, latent,
                              denoise=1.0, seed=7, callback=callback, disable_pbar=True)
    times = [b - a for a, b in zip([start] + marks[:-1], marks)]
    return times, out


def breakdown(comfy, model, spec, device):
    """One sparse step under torch.profiler, GPU kernel time grouped by what it does (seconds)."""
    from torch.profiler import ProfilerActivity, profile
    activity = ProfilerActivity.CUDA if device.type == "cuda" else ProfilerActivity.CPU
    with profile(activities=[activity]) as prof:
        sample(comfy, model, spec, 1, device)          # dense_warmup 0 on this patch: the step is sparse
    groups = {name: 0.0 for name, _ in KERNEL_GROUPS}
    groups["everything else"] = 0.0
    for event in prof.key_averages():
        seconds = getattr(event, "self_device_time_total", getattr(event, "self_cuda_time_total", 0)) / 1e6
        name = event.key.lower()
        for group, needles in KERNEL_GROUPS:
            if any(n in name for n in needles):
                groups[group] += seconds
                break
        else:
            groups["everything else"] += seconds
    return groups


def run_model(comfy, name, spec, args, device, dtype):
    from svg_pack.nodes.apply import apply_svg
    from svg_pack.svg_attention import SVGConfig

    result = {"model": name, "latent": list(spec["latent"]), "cfg": spec["cfg"]}
    t0 = time.perf_counter()
    base = build(comfy, spec, device, dtype)
    result["build_s"] = time.perf_counter() - t0
    backend = "reference" if device.type == "cpu" else "triton"

    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    dense_times, dense_out = sample(comfy, base, spec, args.dense_steps, device)
    result["dense_step_s"] = dense_times
    result["dense_peak_gib"] = torch.cuda.max_memory_allocated() / 2**30 if device.type == "cuda" else None

    # patched: one dense warm-up step, then sparse steps; the first sparse step carries the JIT compile
    steps = 1 + args.sparse_steps
    config = SVGConfig(sparsity=args.sparsity, dense_warmup=1.0 / steps, dense_blocks=1, backend=backend)
    patched = apply_svg(base, config)
    if device.type == "cuda":
        torch.cuda.reset_peak_memory_stats()
    times, _ = sample(comfy, patched, spec, steps, device)
    result["svg_warmup_step_s"] = times[0]
    result["svg_first_sparse_step_s"] = times[1]
    result["svg_sparse_step_s"] = times[2:] if len(times) > 2 else times[1:]
    result["svg_peak_gib"] = torch.cuda.max_memory_allocated() / 2**30 if device.type == "cuda" else None
    report = patched.model_options["transformer_options"]["svg_sparse_attention"].reports.last
    result["svg_summary"] = report.summary

    dense = sorted(dense_times)[len(dense_times) // 2]
    sparse = sorted(result["svg_sparse_step_s"])[len(result["svg_sparse_step_s"]) // 2]
    result["step_speedup"] = dense / sparse
    total_steps, warm = 50, round(spec["official_warmup"] * 50)
    result["computed_50_steps"] = {
        "label": "computed from measured step times, not a measured 50-step run",
        "dense_warmup": spec["official_warmup"], "dense_s": 50 * dense,
        "svg_s": warm * result["svg_warmup_step_s"] + (total_steps - warm) * sparse,
    }
    result["computed_50_steps"]["speedup"] = result["computed_50_steps"]["dense_s"] / result["computed_50_steps"]["svg_s"]
    if result["dense_peak_gib"]:
        result["memory_ratio"] = result["svg_peak_gib"] / result["dense_peak_gib"]
    if args.breakdown and name in args.breakdown:
        every_step = apply_svg(base, SVGConfig(sparsity=args.sparsity, dense_warmup=0.0, dense_blocks=1, backend=backend))
        result["sparse_step_breakdown_s"] = breakdown(comfy, every_step, spec, device)
    del base, patched
    if device.type == "cuda":
        torch.cuda.empty_cache()
    return result


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--comfyui", required=True, help="a ComfyUI 0.3.75 tree")
    parser.add_argument("--models", nargs="*", default=None)
    parser.add_argument("--tiny", action="store_true", help="tiny sizes on the CPU: a smoke test of the code path")
    parser.add_argument("--sparsity", type=float, default=0.75)
    parser.add_argument("--dense-steps", type=int, default=2)
    parser.add_argument("--sparse-steps", type=int, default=3)
    parser.add_argument("--breakdown", nargs="*", default=["wan2.1-14b-720p", "wan-tiny"])
    parser.add_argument("--out", default=None)
    args = parser.parse_args()

    cuda = torch.cuda.is_available() and not args.tiny
    device = torch.device("cuda" if cuda else "cpu")
    dtype = torch.bfloat16 if cuda else torch.float32
    comfy = import_comfy(args.comfyui, cpu=not cuda)
    table = TINY if args.tiny else MODELS
    names = args.models or list(table)
    env = {"torch": torch.__version__, "device": torch.cuda.get_device_name() if cuda else "cpu"}
    try:
        import triton
        env["triton"] = triton.__version__
    except ImportError:
        env["triton"] = None
    results = {"env": env, "sparsity": args.sparsity, "runs": []}
    for name in names:
        print(f"== {name}", flush=True)
        result = run_model(comfy, name, table[name], args, device, dtype)
        results["runs"].append(result)
        print(json.dumps(result, indent=1, default=str), flush=True)
        if args.out:
            Path(args.out).write_text(json.dumps(results, indent=1, default=str))
    print("\nmodel | dense step s | svg sparse step s | step speedup | 50 steps dense/svg s (computed) | speedup | peak GiB dense/svg")
    for r in results["runs"]:
        c = r["computed_50_steps"]
        print(f"{r['model']} | {min(r['dense_step_s']):.2f} | {min(r['svg_sparse_step_s']):.2f} | {r['step_speedup']:.2f}x | "
              f"{c['dense_s']:.0f}/{c['svg_s']:.0f} | {c['speedup']:.2f}x | {r['dense_peak_gib']}/{r['svg_peak_gib']}")


if __name__ == "__main__":
    main()

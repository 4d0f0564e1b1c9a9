"""End-to-end speed: ComfyUI's own video DiT classes at their published sizes, random bf16 weights
on the GPU, sampled through ComfyUI's sampling code (comfy.sample.sample, as a KSampler does), one
whole sampling run per mode, all modes in ONE process, same seed, sampler and schedule.

Speed does not depend on weight values, so no real weights are needed.  Modes (--modes):
  dense          the unpatched model (ComfyUI's default attention: SDPA)
  sage           the unpatched model with ComfyUI's SageAttention function for every attention call
                 (SageAttention 1.0.6; skipped with a note if ``sageattention`` is not importable)
  svg            the SVG node at its defaults (sparsity 0.75, 1 dense leading block, Triton, bf16),
                 with the SVG authors' dense warm-up (Wan 20% of the steps, HunyuanVideo 10%)
  svg-fp8        the same with the node's attention_precision = --fp8-precision (fp8: q, K, P, V in
                 e4m3; fp8-pv: only P and V) for the sparse steps' band attention
  svg-fp8-all    svg-fp8 with the node's fp8_dense_steps: FP8 dense attention in the dense steps too
                 (warm-up steps and the dense leading block: the video's self-attention; others SDPA)
  svg2           the node with pattern svg2 (k-means clusters, budget selection at svg's density,
                 Triton ops, bf16; kernel key lists "packed"), same warm-up and dense block as svg
  svg2-ranges    svg2 with the kernel walking the kept clusters' key ranges (SVGConfig.svg2_key_lists)
Each run has --steps steps; its per-step times come from the sampler's step callback after a
``torch.cuda.synchronize()``.  Step statistics: the first step of each kind (the first dense step of
a run, the first sparse step, which carries the Triton JIT compile) is reported apart; min and median
over the remaining steps of that kind (>= 3 when the run is long enough).  The whole-run time is the
measured sum.  The 50-step figures beside it are COMPUTED from the step medians and labelled so.
Peak memory: ``torch.cuda.max_memory_allocated()`` over each run, against the dense run.

Run on the GPU machine (the ComfyUI 0.3.75 tree from .host/comfyui and the wheels in .whl carried):
    python3 bench/e2e_bench.py --comfyui .host/comfyui --models wan2.1-1.3b-480p --steps 50 --out $OUT/e2e.json
    python3 bench/e2e_bench.py --comfyui .host/comfyui --models wan2.1-14b-720p --steps 5 --out $OUT/e2e14.json
CPU smoke test of the code path (tiny sizes, reference backend: FP8 modes as the exact emulation, no Sage):
    python bench/e2e_bench.py --comfyui .host/comfyui --tiny --steps 4
"""
from __future__ import annotations

import argparse
import importlib
import importlib.util
import json
import statistics
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
                 ("K/V head-order gather / pack", ("gather", "pack")), ("text rows", ("global",)))
MODES = ("dense", "sage", "svg", "svg-fp8", "svg-fp8-all", "svg2", "svg2-ranges")


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
    importlib.import_module("svg_pack.kernels")
    return comfy, pack


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


def step_stats(times):
    """{"first", "rest", "min", "median", "n"}: the first step apart, min / median over the rest."""
    if not times:
        return None
    rest = times[1:]
    out = {"first": times[0], "n": len(times)}
    if rest:
        out.update(rest=rest, min=min(rest), median=statistics.median(rest))
    else:
        out.update(rest=[], min=times[0], median=times[0], note="a single step: no steps after the first")
    return out


def sage_override():
    """ComfyUI's own SageAttention function (comfy.ldm.modules.attention.attention_sage) for every call."""
    import comfy.ldm.modules.attention as attn
    if not getattr(attn, "SAGE_ATTENTION_IS_AVAILABLE", False):
        return None, "sageattention is not importable (carry its wheel: see docs/benchmarks.md)"
    import sageattention
    version = getattr(sageattention, "__version__", None)
    if version is None:
        try:
            from importlib.metadata import version as dist_version
            version = dist_version("sageattention")
        except Exception:  # noqa: BLE001 - only for the label
            version = "?"

    def override(func, q, k, v, heads, **kwargs):
        return attn.attention_sage(q, k, v, heads, **kwargs)

    return override, f"sageattention {version}"


def run_mode(comfy, pack, base, spec, mode, args, device):
    from svg_pack.nodes.apply import apply_svg
    from svg_pack.svg_attention import SVGConfig

    backend = "reference" if device.type == "cpu" else "triton"
    result = {"mode": mode}
    model = base
    warmup = spec["official_warmup"]
    if mode == "sage":
        override, why = sage_override()
        result["note"] = why
        if override is None:
            return result
        model = base.clone()
        model.model_options.setdefault("transformer_options", {})["optimized_attention_override"] = override
    elif mode.startswith("svg"):
        fp8 = mode in ("svg-fp8", "svg-fp8-all")
        if fp8 and device.type == "cuda":
            ok, why = pack.kernels.fp8_support(device)
            if not ok:
                result["note"] = f"skipped: {why}"
                return result
        config = SVGConfig(sparsity=args.sparsity, dense_warmup=warmup, dense_blocks=1, backend=backend,
                           attention_precision=args.fp8_precision if fp8 else "bf16",
                           fp8_dense_steps=mode == "svg-fp8-all",
                           pattern="svg2" if mode.startswith("svg2") else "svg",
                           svg2_key_lists="ranges" if mode == "svg2-ranges" else "packed")
        model = apply_svg(base, config)
        result["dense_warmup"] = warmup
        result["fp8_precision"] = args.fp8_precision if fp8 else None
        result["fp8_steps"] = {"svg-fp8": "sparse steps",
                               "svg-fp8-all": "all steps (dense steps: the video's self-attention)"}.get(mode, "none")
    if device.type == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    t0 = time.perf_counter()
    times, _ = sample(comfy, model, spec, args.steps, device)
    result["total_s"] = time.perf_counter() - t0
    result["step_s"] = times
    result["peak_gib"] = torch.cuda.max_memory_allocated() / 2**30 if device.type == "cuda" else None
    if mode.startswith("svg"):
        steps = len(times)
        dense_steps = int(warmup * steps + 0.5)
        result["warmup_steps"] = step_stats(times[:dense_steps])
        result["sparse_steps"] = step_stats(times[dense_steps:])
        report = model.model_options["transformer_options"]["svg_sparse_attention"].reports.last
        result["svg_summary"] = report.summary
    else:
        result["dense_steps"] = step_stats(times)
    return result


def computed_50(result, dense_median, spec):
    """50 steps computed from step medians: dense steps at the dense run's median (the SVG runs'
    bf16 dense steps run the same kernels), FP8 dense steps at the run's own warm-up median."""
    total, warm = 50, round(spec["official_warmup"] * 50)
    if result["mode"] in ("dense", "sage"):
        return {"label": "computed: 50 x median step", "s": 50 * result["dense_steps"]["median"]}
    warm_step = dense_median
    how = "dense run's median step"
    if result["mode"] == "svg-fp8-all" and result.get("warmup_steps"):
        warm_step = result["warmup_steps"]["median"]
        how = "this run's median FP8 dense step" + ("" if result["warmup_steps"]["rest"] else " (its first step: JIT included)")
    return {"label": f"computed: {warm} warm-up steps at the {how} + {total - warm} sparse steps at the median "
                     f"sparse step (first sparse step excluded)",
            "s": warm * warm_step + (total - warm) * result["sparse_steps"]["median"]}


def run_model(comfy, pack, name, spec, args, device, dtype):
    result = {"model": name, "latent": list(spec["latent"]), "cfg": spec["cfg"], "steps": args.steps,
              "official_warmup": spec["official_warmup"], "modes": []}
    t0 = time.perf_counter()
    base = build(comfy, spec, device, dtype)
    result["build_s"] = time.perf_counter() - t0
    for mode in args.modes:
        print(f"-- {name}: {mode} ({args.steps} steps)", flush=True)
        r = run_mode(comfy, pack, base, spec, mode, args, device)
        result["modes"].append(r)
        print(json.dumps({k: v for k, v in r.items() if k != "svg_summary"}, default=str), flush=True)
    by = {r["mode"]: r for r in result["modes"] if "step_s" in r}
    dense = by.get("dense")
    if dense:
        dmed = dense["dense_steps"]["median"]
        for r in by.values():
            r["computed_50_steps"] = computed_50(r, dmed, spec)
            r["speedup_measured_run"] = dense["total_s"] / r["total_s"]
            r["speedup_computed_50"] = 50 * dmed / r["computed_50_steps"]["s"]
            if r.get("sparse_steps"):
                r["sparse_step_speedup"] = dmed / r["sparse_steps"]["median"]
            if dense.get("peak_gib") and r.get("peak_gib"):
                r["memory_ratio"] = r["peak_gib"] / dense["peak_gib"]
    if args.breakdown and name in args.breakdown and device.type == "cuda":
        from svg_pack.nodes.apply import apply_svg
        from svg_pack.svg_attention import SVGConfig
        every_step = apply_svg(base, SVGConfig(sparsity=args.sparsity, dense_warmup=0.0, dense_blocks=1,
                                               backend="triton"))
        result["sparse_step_breakdown_s"] = breakdown(comfy, every_step, spec, device)
        if pack.kernels.fp8_support(device)[0]:
            every_step = apply_svg(base, SVGConfig(sparsity=args.sparsity, dense_warmup=0.0, dense_blocks=1,
                                                   backend="triton", attention_precision=args.fp8_precision))
            result["fp8_sparse_step_breakdown_s"] = breakdown(comfy, every_step, spec, device)
    del base
    if device.type == "cuda":
        torch.cuda.empty_cache()
    return result


def print_tables(results):
    print("\nmodel | mode | steps | measured run s (vs dense) | first step s | dense step s min/median | "
          "first sparse step s | sparse step s min/median (vs dense) | computed 50 steps s (vs dense) | peak GiB (vs dense)")
    for run in results["runs"]:
        for r in run["modes"]:
            if "step_s" not in r:
                print(f"{run['model']} | {r['mode']} | - | {r.get('note', '')}")
                continue
            d = r.get("dense_steps") or r.get("warmup_steps")
            sp = r.get("sparse_steps")
            c = r.get("computed_50_steps", {})
            mem = r.get("peak_gib")
            print(f"{run['model']} | {r['mode']} | {len(r['step_s'])} | {r['total_s']:.1f} "
                  f"({r.get('speedup_measured_run', float('nan')):.2f}x) | {r['step_s'][0]:.2f} | "
                  + (f"{d['min']:.2f}/{d['median']:.2f}" if d else "-") + " | "
                  + (f"{sp['first']:.2f} | {sp['min']:.2f}/{sp['median']:.2f} ({r.get('sparse_step_speedup', float('nan')):.2f}x)"
                     if sp else "- | -") + " | "
                  + (f"{c['s']:.0f} ({r.get('speedup_computed_50', float('nan')):.2f}x)" if c else "-") + " | "
                  + (f"{mem:.3f} ({r.get('memory_ratio', float('nan')):.3f})" if mem else "-"))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--comfyui", required=True, help="a ComfyUI 0.3.75 tree")
    parser.add_argument("--models", nargs="*", default=None)
    parser.add_argument("--modes", nargs="*", default=list(MODES), choices=MODES)
    parser.add_argument("--tiny", action="store_true", help="tiny sizes on the CPU: a smoke test of the code path")
    parser.add_argument("--sparsity", type=float, default=0.75)
    parser.add_argument("--steps", type=int, default=10, help="sampling steps of every run")
    parser.add_argument("--breakdown", nargs="*", default=[])
    parser.add_argument("--fp8-precision", default="fp8", choices=("fp8", "fp8-pv"),
                        help="svg-fp8 modes: q, K, P, V in e4m3 (fp8) or only P and V (fp8-pv)")
    parser.add_argument("--out", default=None)
    args = parser.parse_args()

    cuda = torch.cuda.is_available() and not args.tiny
    device = torch.device("cuda" if cuda else "cpu")
    dtype = torch.bfloat16 if cuda else torch.float32
    comfy, pack = import_comfy(args.comfyui, cpu=not cuda)
    table = TINY if args.tiny else MODELS
    names = args.models or list(table)
    env = {"torch": torch.__version__, "device": torch.cuda.get_device_name() if cuda else "cpu"}
    try:
        import triton
        env["triton"] = triton.__version__
    except ImportError:
        env["triton"] = None
    results = {"env": env, "sparsity": args.sparsity, "steps": args.steps, "runs": []}
    for name in names:
        print(f"== {name}", flush=True)
        results["runs"].append(run_model(comfy, pack, name, table[name], args, device, dtype))
        if args.out:
            Path(args.out).write_text(json.dumps(results, indent=1, default=str))
    print_tables(results)


if __name__ == "__main__":
    main()

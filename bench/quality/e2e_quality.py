"""SVG against dense, end to end, on the trained tiny shapes model in a headless ComfyUI (CPU).

    python3 scripts/host.py setup
    .host/venv/bin/python bench/quality/e2e_quality.py --out bench/results/quality_e2e \
        [--prompts all] [--seeds 0] [--sparsities 0.5,0.75,0.9] [--steps 20] [--cfg 3]

The graph is the Wan 2.1 T2V example workflow (workflows/wan2.1_t2v_1.3B_480p_svg.json, converted
with the server's /object_info) with the trained model in its UNETLoader and the two bench nodes
of bench/quality/comfy_nodes in place of the text encoder and the VAE; everything else is the
stock graph: ModelSamplingSD3 (shift 3, as trained), SVG Sparse Attention with its defaults
(dense_warmup 0.2, dense_blocks 1, 64 sampled rows, backend auto), KSampler (euler, simple).
Video: 8 frames of 64 x 64 pixels (latent 16 x 8 x 32 x 32, 2,048 video tokens = 16 blocks of
128). The dense run is the same graph with the SVG node left out; same seed, same everything.
A SaveLatent node keeps each exact latent; frames are decoded by the exact inverse of the latent
map and compared with bench/quality/metrics.py (PSNR, SSIM on uint8 frames against dense).

Writes into --out: ``quality_e2e.json`` (settings, per prompt/seed/sparsity PSNR, SSIM, seconds,
the SVG run summary), ``strip.png`` (first, middle and last frame: dense | each sparsity, one
row per prompt) and ``side_by_side.gif`` (dense | SVG at 0.75 when run).

``run_case(..., patterns=("svg", "svg2"))`` runs every sparsity once per pattern (the node's
``pattern`` input); ``bench/quality/e2e_patterns.py`` runs the pattern comparison (workers, resume,
tables).
"""
from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
for p in (HERE, REPO / "scripts", REPO):
    if str(p) not in sys.path:
        sys.path.insert(0, str(p))

import animation                     # noqa: E402
import decode as decode_mod          # noqa: E402
import latent_space                  # noqa: E402
import metrics                       # noqa: E402
import video_data                    # noqa: E402

import host                          # noqa: E402  (scripts/)
from comfy_client import ComfyServer  # noqa: E402
from workflow_to_api import ui_to_api  # noqa: E402
from svg_attention import report as head_map  # noqa: E402  (the pack's own head map renderer)

WORKFLOW = REPO / "workflows" / "wan2.1_t2v_1.3B_480p_svg.json"
SHAPES_MODEL = host.SHAPES_MODEL
FRAMES, SIZE = 8, 64                 # what the model was trained on
SHIFT = 3.0                          # the training / preview shift
MODEL_BLOCKS = 6                     # the model's transformer blocks ...
HEAD_MAP_COLUMNS = 2 * 2             # ... and the head map's columns: (positive, negative prompt) x 2 heads
DEFAULTS = dict(steps=20, cfg=3.0, sampler="euler", scheduler="simple")


def shapes_graph(object_info: dict, prompt: str, seed: int, sparsity: float | None, *,
                 steps: int = DEFAULTS["steps"], cfg: float = DEFAULTS["cfg"],
                 sampler: str = DEFAULTS["sampler"], scheduler: str = DEFAULTS["scheduler"],
                 head_map: bool = False, tag: str = "quality", precision: str | None = None,
                 pattern: str | None = None) -> dict:
    """The example workflow as an API graph for the shapes model; ``sparsity=None``: dense (the
    SVG node removed, the sampler's model straight from the loader). Other SVG inputs keep the
    workflow's values (its defaults), but ``precision``: the node's attention_precision, and
    ``pattern``: the node's pattern input (None: the workflow's value)."""
    api = ui_to_api(json.loads(WORKFLOW.read_text(encoding="utf-8")), object_info)
    by_type = {}
    for nid, node in api.items():
        by_type.setdefault(node["class_type"], []).append(nid)
    (loader,), (svg,), (sampler_id,) = by_type["UNETLoader"], by_type["SVGSparseAttention"], by_type["KSampler"]
    (shift_id,) = by_type["ModelSamplingSD3"]
    api[loader]["inputs"].update(unet_name=SHAPES_MODEL, weight_dtype="default")
    ks = api[sampler_id]["inputs"]
    for key, text in (("positive", prompt), ("negative", video_data.UNCONDITIONAL_PROMPT)):
        api[ks[key][0]] = {"class_type": "SVGShapesPrompt", "inputs": {"prompt": text}}
    for nid in by_type.get("CLIPLoader", []) + by_type.get("VAELoader", []):
        del api[nid]
    for nid in by_type.get("VAEDecode", []):
        api[nid] = {"class_type": "SVGShapesDecode", "inputs": {"samples": api[nid]["inputs"]["samples"]}}
    for nid in by_type.get("EmptyHunyuanLatentVideo", []):
        api[nid]["inputs"].update(latent_space.empty_latent_node_args(FRAMES, SIZE, SIZE))
    api[shift_id]["inputs"]["shift"] = SHIFT
    ks.update(seed=seed, steps=steps, cfg=cfg, sampler_name=sampler, scheduler=scheduler, denoise=1.0)
    if sparsity is None:
        api[shift_id]["inputs"]["model"] = [loader, 0]
        del api[svg]
    else:
        api[svg]["inputs"]["sparsity"] = sparsity
        if precision is not None:
            api[svg]["inputs"]["attention_precision"] = precision
        if pattern is not None:
            api[svg]["inputs"]["pattern"] = pattern
        if head_map:
            api["quality_head_map"] = {"class_type": "SVGAttentionReport",
                                       "inputs": {"model": [shift_id, 0], "samples": [sampler_id, 0]}}
    for nid, node in api.items():
        if node["class_type"].startswith("Save") and "filename_prefix" in node["inputs"]:
            node["inputs"]["filename_prefix"] = f"svgquality/{tag}"
    api["quality_latent"] = {"class_type": "SaveLatent",
                             "inputs": {"samples": [sampler_id, 0], "filename_prefix": f"svgquality/{tag}"}}
    return api


def _wan21_format():
    if str(host.COMFY_DIR) not in sys.path:
        sys.path.insert(0, str(host.COMFY_DIR))
    import comfy.latent_formats
    return comfy.latent_formats.Wan21()


def _file(kind: str, sub: str, name: str, temp_base: Path | None = None) -> Path:
    """Where the server wrote an output file (``temp_base``: its --temp-directory, if set)."""
    root = temp_base if (kind == "temp" and temp_base is not None) else host.BASE_DIR
    return root / kind / sub / name


def read_frames(result, base: Path = host.BASE_DIR, remove: bool = False) -> np.ndarray:
    """uint8 frames [T, H, W, 3] of the latent a run's SaveLatent wrote (``remove``: delete it after)."""
    from safetensors.torch import load_file
    (kind, sub, name), = [f for f in result.output_files("quality_latent")]
    path = base / kind / sub / name
    latent = load_file(str(path))["latent_tensor"]
    if remove:
        path.unlink()
    return decode_mod.comfy_latent_to_frames(latent, _wan21_format())[0]


def run_case(server, object_info, prompt: str, seed: int, sparsities, head_map_dir: Path | None = None,
             patterns=("svg",), skip=(), on_run=None, temp_base: Path | None = None, keep_latents: bool = True,
             precisions=None, **sampling) -> dict:
    """Dense, then each pattern at each sparsity, same prompt and seed: frames, PSNR / SSIM against
    dense, seconds, the run summary. ``case["runs"][pattern][sparsity]``; ``case["sparse"]`` is the
    "svg" pattern's (the node's default). ``skip``: (pattern, sparsity) pairs not to run (done
    before); ``on_run(pattern, sparsity, result)`` after each run. Patterns other than "svg" are set
    on the node's pattern input (and their head maps are named ``head_map_<pattern>_...``).
    With ``precisions`` (attention_precision values), each sparsity at each precision instead:
    ``case["precision"][precision][sparsity]`` (no head maps, no frames kept)."""
    tag = f"{video_data.prompt_index(prompt)}_{seed}"
    if precisions:
        return _run_precisions(server, object_info, prompt, seed, sparsities, precisions, tag, **sampling)
    dense = server.run(shapes_graph(object_info, prompt, seed, None, tag=f"dense_{tag}", **sampling))
    if dense.summaries:
        raise RuntimeError("the dense run printed an SVG summary: the SVG node was not removed")
    ref = read_frames(dense, remove=not keep_latents)
    case = {"prompt": prompt, "seed": seed, "dense_seconds": dense.seconds, "frames": {"dense": ref},
            "runs": {}}
    for pattern in patterns:
        runs = case["runs"].setdefault(pattern, {})
        for sparsity in sparsities:
            if (pattern, sparsity) in skip:
                continue
            name = "svg" if pattern == "svg" else f"{pattern}_"
            r = server.run(shapes_graph(object_info, prompt, seed, sparsity, tag=f"{name}{sparsity}_{tag}",
                                        head_map=head_map_dir is not None, **sampling,
                                        pattern=None if pattern == "svg" else pattern), summaries=1)
            if len(r.summaries) != 1:
                raise RuntimeError(f"expected one SVG run summary, got {len(r.summaries)}:\n{r.log[-3000:]}")
            frames = read_frames(r, remove=not keep_latents)
            summary = {k: v for k, v in r.summaries[0].items() if not k.startswith("_")}
            if summary.get("pattern", "svg") != pattern:
                raise RuntimeError(f"asked for pattern {pattern!r}, the run summary says {summary.get('pattern')!r}")
            case["frames"][(pattern, sparsity)] = frames
            runs[sparsity] = {"psnr": metrics.psnr(frames, ref), "ssim": metrics.ssim(frames, ref),
                              "seconds": r.seconds, "summary": summary}
            if head_map_dir is not None:
                prefix = "head_map" if pattern == "svg" else f"head_map_{pattern}"
                for kind, sub, file_name in r.output_files("quality_head_map"):
                    target = head_map_dir / f"{prefix}_{tag}_{sparsity}.png"
                    target.write_bytes(_file(kind, sub, file_name, temp_base).read_bytes())
                    runs[sparsity]["head_map"] = target.name
            if on_run is not None:
                on_run(pattern, sparsity, runs[sparsity])
    if "svg" in case["runs"]:
        case["sparse"] = case["runs"]["svg"]
        for sparsity in case["sparse"]:
            case["frames"][sparsity] = case["frames"][("svg", sparsity)]
    return case


def _run_precisions(server, object_info, prompt, seed, sparsities, precisions, tag, **sampling) -> dict:
    dense = server.run(shapes_graph(object_info, prompt, seed, None, tag=f"dense_{tag}", **sampling))
    ref = read_frames(dense)
    case = {"prompt": prompt, "seed": seed, "dense_seconds": dense.seconds, "precision": {}}
    for precision in precisions:
        runs = case["precision"][precision] = {}
        for sparsity in sparsities:
            r = server.run(shapes_graph(object_info, prompt, seed, sparsity, precision=precision,
                                        tag=f"svg{sparsity}_{precision}_{tag}", **sampling), summaries=1)
            if len(r.summaries) != 1:
                raise RuntimeError(f"expected one SVG run summary, got {len(r.summaries)}:\n{r.log[-3000:]}")
            frames = read_frames(r)
            summary = {k: v for k, v in r.summaries[0].items() if not k.startswith("_")}
            runs[sparsity] = {"psnr": metrics.psnr(frames, ref), "ssim": metrics.ssim(frames, ref),
                              "seconds": r.seconds, "backend": summary.get("backend"), "summary": summary}
    return case


def precision_table(record: dict) -> str:
    """Per precision and sparsity: PSNR / SSIM against dense (mean, min over the cases), and the mean
    PSNR difference to the first precision (paired by prompt and seed: mean, min, max)."""
    precisions, sparsities, cases = record["settings"]["precisions"], record["settings"]["sparsities"], record["cases"]
    lines = ["| sparsity | attention_precision | backend | PSNR dB mean (min) | SSIM mean (min) | "
             f"PSNR minus {precisions[0]}'s, dB: mean (min / max) | seconds per run (mean) |", "|---" * 7 + "|"]
    for s in sparsities:
        base = [c["precision"][precisions[0]][str(s)]["psnr"] for c in cases]
        for p in precisions:
            rows = [c["precision"][p][str(s)] for c in cases]
            ps, ss = [r["psnr"] for r in rows], [r["ssim"] for r in rows]
            diff = [a - b for a, b in zip(ps, base)]
            backends = ",".join(sorted({str(r["backend"]) for r in rows}))
            lines.append(f"| {s} | {p} | {backends} | {sum(ps) / len(ps):.2f} ({min(ps):.2f}) | "
                         f"{sum(ss) / len(ss):.3f} ({min(ss):.3f}) | "
                         + ("-" if p == precisions[0] else
                            f"{sum(diff) / len(diff):+.2f} ({min(diff):+.2f} / {max(diff):+.2f})")
                         + f" | {sum(r['seconds'] for r in rows) / len(rows):.1f} |")
    return "\n".join(lines)


SVG_LABELS = ("spatial", "temporal")   # the "svg" pattern's label names: head map columns 1 and 2
HEAD_MAP_COLOURS = np.array(head_map.palette(SVG_LABELS), dtype=np.float64)   # dense, spatial, temporal


def head_map_shares(png: Path, blocks: int, columns: int) -> np.ndarray:
    """[blocks, columns, 3] shares of dense / spatial / temporal calls per (block, batch x head),
    read back from an SVG Attention Report head map: each cell's colour is the count-weighted mix
    of the three palette colours, so the shares solve a 3 x 3 linear system (exact up to the
    8-bit rounding, about 1%)."""
    from PIL import Image
    image = np.asarray(Image.open(png).convert("RGB"), dtype=np.float64)
    shares = np.zeros((blocks, columns, 3))
    for b in range(blocks):
        for c in range(columns):
            y = head_map.MAP_TOP_TITLED + b * head_map.MAP_CELL + head_map.MAP_CELL // 2 - 1
            x = head_map.MAP_LEFT + c * head_map.MAP_CELL + head_map.MAP_CELL // 2 - 1
            colour = image[y, x]
            # least squares with the shares summing to one (a fourth equation, weighted up)
            lhs = np.vstack([HEAD_MAP_COLOURS.T, 1000 * np.ones(3)])
            rhs = np.concatenate([colour, [1000.0]])
            w, *_ = np.linalg.lstsq(lhs, rhs, rcond=None)
            if np.abs(HEAD_MAP_COLOURS.T @ w - colour).max() > 3 or w.min() < -0.02:
                raise ValueError(f"{png}: cell ({b}, {c}) colour {colour} is not a palette mix")
            shares[b, c] = w.clip(0, 1)
    return shares


def strip(cases, sparsities, frames=(0, 3, 7)) -> np.ndarray:
    """One row per case: for each chosen frame, dense | each sparsity, side by side."""
    rows = []
    for case in cases:
        videos = [case["frames"]["dense"]] + [case["frames"][s] for s in sparsities]
        picked = np.stack([np.stack([v[f] for f in frames]) for v in videos])   # [V, F, H, W, 3]
        per_frame = [decode_mod.tile(picked[:, i][:, None], gap=1)[0] for i in range(len(frames))]
        gap = np.full((per_frame[0].shape[0], 6, 3), 255, np.uint8)
        row = per_frame[0]
        for part in per_frame[1:]:
            row = np.concatenate([row, gap, part], axis=1)
        rows.append(row)
        rows.append(np.full((3, row.shape[1], 3), 255, np.uint8))
    return np.concatenate(rows[:-1], axis=0)


def markdown_tables(record: dict, out: Path) -> str:
    """The docs tables from a quality_e2e.json record (and the head maps beside it): per prompt,
    PSNR / SSIM at each sparsity averaged over the seeds; all cases; and the profiler's temporal
    share per (block, head), averaged over every case's sparse calls at each sparsity."""
    sparsities = record["settings"]["sparsities"]
    cases = record["cases"]
    head = "| prompt | " + " | ".join(f"{s}: PSNR dB / SSIM" for s in sparsities) + " |"
    lines = [head, "|---" * (1 + len(sparsities)) + "|"]
    for prompt in dict.fromkeys(c["prompt"] for c in cases):
        mine = [c for c in cases if c["prompt"] == prompt]
        cells = []
        for s in sparsities:
            ps = [c["sparse"][str(s)]["psnr"] for c in mine]
            ss = [c["sparse"][str(s)]["ssim"] for c in mine]
            cells.append(f"{sum(ps) / len(ps):.2f} / {sum(ss) / len(ss):.3f}")
        lines.append(f"| {prompt} | " + " | ".join(cells) + " |")
    cells = []
    for s in sparsities:
        row = record["table"][str(s)]
        cells.append(f"**{row['psnr_mean']:.2f}** (min {row['psnr_min']:.2f}) / "
                     f"**{row['ssim_mean']:.3f}** (min {row['ssim_min']:.3f})")
    lines.append(f"| all {len(cases)} videos: mean (min) | " + " | ".join(cells) + " |")
    lines += ["", "| sparsity | spatial / temporal head decisions (all runs) | temporal share per block "
              "(blocks 1-5; each cell: cond head 0, head 1, uncond head 0, head 1) |", "|---|---|---|"]
    for s in sparsities:
        spatial = sum(c["sparse"][str(s)]["summary"]["spatial_heads"] for c in cases)
        temporal = sum(c["sparse"][str(s)]["summary"]["temporal_heads"] for c in cases)
        shares = []
        for c in cases:
            sh = head_map_shares(out / c["sparse"][str(s)]["head_map"], MODEL_BLOCKS, HEAD_MAP_COLUMNS)
            shares.append(sh[..., 2] / np.maximum(sh[..., 1] + sh[..., 2], 1e-9))
        mean = np.mean(shares, axis=0)
        per_block = "; ".join(f"{b}: " + " ".join(f"{v:.2f}" for v in mean[b]) for b in range(1, MODEL_BLOCKS))
        lines.append(f"| {s} | {spatial} / {temporal} ({100 * temporal / (spatial + temporal):.0f}% temporal) "
                     f"| {per_block} |")
    return "\n".join(lines)


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--prompts", default="all", help="'all' or comma-separated prompt indices")
    ap.add_argument("--seeds", default="0", help="comma-separated seeds")
    ap.add_argument("--sparsities", default="0.5,0.75,0.9")
    ap.add_argument("--steps", type=int, default=DEFAULTS["steps"])
    ap.add_argument("--cfg", type=float, default=DEFAULTS["cfg"])
    ap.add_argument("--precisions", default=None,
                    help="comma-separated attention_precision values (e.g. bf16,fp8,fp8-pv): each sparsity at each "
                         "precision against one dense run per case; writes quality_precision.json")
    ap.add_argument("--tables-only", action="store_true",
                    help="print the docs tables from --out's quality_e2e.json and head maps; run nothing")
    return ap.parse_args(argv)


def main(argv=None) -> int:
    a = parse_args(argv)
    if a.tables_only:
        if a.precisions:
            print(precision_table(json.loads((a.out / "quality_precision.json").read_text())))
            return 0
        print(markdown_tables(json.loads((a.out / "quality_e2e.json").read_text()), a.out))
        return 0
    a.out.mkdir(parents=True, exist_ok=True)
    prompts = ([p.text for p in video_data.PROMPTS] if a.prompts == "all"
               else [video_data.PROMPTS[int(i)].text for i in a.prompts.split(",")])
    seeds = [int(s) for s in a.seeds.split(",")]
    sparsities = [float(s) for s in a.sparsities.split(",")]
    sampling = dict(steps=a.steps, cfg=a.cfg)
    if a.precisions:
        return _main_precisions(a, prompts, seeds, sparsities, a.precisions.split(","), sampling)
    cases = []
    t0 = time.time()
    with ComfyServer(a.out / "server.log") as server:
        info = server.object_info()
        for prompt in prompts:
            for seed in seeds:
                case = run_case(server, info, prompt, seed, sparsities, head_map_dir=a.out, **sampling)
                cases.append(case)
                print(f"{prompt!r} seed {seed}: " + ", ".join(
                    f"{s}: {c['psnr']:.2f} dB / SSIM {c['ssim']:.4f}" for s, c in case["sparse"].items()),
                    flush=True)
    table = {}
    for s in sparsities:
        ps = [c["sparse"][s]["psnr"] for c in cases]
        ss = [c["sparse"][s]["ssim"] for c in cases]
        finite = [p for p in ps if math.isfinite(p)]
        table[str(s)] = {"psnr_mean": sum(finite) / len(finite) if finite else math.inf,
                         "psnr_min": min(ps), "ssim_mean": sum(ss) / len(ss), "ssim_min": min(ss),
                         "identical": len(ps) - len(finite)}
    record = {
        "settings": {**DEFAULTS, **sampling, "shift": SHIFT, "frames": FRAMES, "size": SIZE,
                     "model": SHAPES_MODEL, "workflow": WORKFLOW.name, "seeds": seeds,
                     "sparsities": sparsities, "svg_inputs": "workflow defaults except sparsity"},
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "table": table, "seconds": time.time() - t0,
        "cases": [{k: v for k, v in c.items() if k != "frames"} for c in cases],
    }
    (a.out / "quality_e2e.json").write_text(json.dumps(record, indent=1))
    from PIL import Image
    Image.fromarray(strip(cases, sparsities)).save(a.out / "strip.png")
    if 0.75 in sparsities:
        c = cases[0]
        r = c["sparse"][0.75]
        animation.side_by_side([c["frames"]["dense"], c["frames"][0.75]], ["dense", "SVG, sparsity 0.75"],
                               a.out / "side_by_side.gif", title=f"\"{c['prompt']}\", seed {c['seed']}",
                               notes=[f"PSNR {r['psnr']:.1f} dB, SSIM {r['ssim']:.3f} against dense"])
    print(markdown_tables(json.loads((a.out / "quality_e2e.json").read_text()), a.out))
    for s, row in table.items():
        print(f"sparsity {s}: PSNR mean {row['psnr_mean']:.2f} dB (min {row['psnr_min']:.2f}), "
              f"SSIM mean {row['ssim_mean']:.4f} (min {row['ssim_min']:.4f})")
    return 0


def _main_precisions(a, prompts, seeds, sparsities, precisions, sampling) -> int:
    """--precisions: the cases written to quality_precision.json as each one finishes (a long run
    stopped early keeps what it measured), then the table."""
    record = {
        "settings": {**DEFAULTS, **sampling, "shift": SHIFT, "frames": FRAMES, "size": SIZE,
                     "model": SHAPES_MODEL, "workflow": WORKFLOW.name, "seeds": seeds, "prompts": prompts,
                     "sparsities": sparsities, "precisions": precisions,
                     "svg_inputs": "workflow defaults except sparsity and attention_precision"},
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "cases": [],
    }
    t0 = time.time()
    with ComfyServer(a.out / "server.log") as server:
        info = server.object_info()
        for prompt in prompts:
            for seed in seeds:
                case = run_case(server, info, prompt, seed, sparsities, precisions=precisions, **sampling)
                record["cases"].append(case)
                record["seconds"] = time.time() - t0
                (a.out / "quality_precision.json").write_text(json.dumps(record, indent=1))
                print(f"{prompt!r} seed {seed}: " + "; ".join(
                    f"{p} {s}: {r['psnr']:.2f} dB" for p, runs in case["precision"].items() for s, r in runs.items()),
                    flush=True)
    print(precision_table(json.loads((a.out / "quality_precision.json").read_text())))
    return 0


if __name__ == "__main__":
    sys.exit(main())

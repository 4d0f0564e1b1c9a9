"""SVG against SVG2 (and any other user-facing pattern) end to end: e2e_quality.py's graph and
metrics, one run per (prompt, seed, pattern, sparsity), resumable, on several servers at once.

    .host/venv/bin/python bench/quality/e2e_patterns.py --out bench/results/quality_patterns \
        --seeds 0,1,2,3,4,5 --patterns svg,svg2 --sparsities 0.5,0.75,0.9 --workers 2

Every (prompt, seed) case is dense once, then each pattern at each sparsity, through the node's
``pattern`` input with its other inputs at the workflow's values (svg2 at top_p 0: the budget at
svg's density for this layout and sparsity). ``--workers N`` starts N processes of this script
(``--shard i/N``), each with its own headless server (its own temp directory, ``--threads`` torch
threads), the cases dealt round-robin. Each appends every finished run to ``shard<i>.json`` in
--out, so running the same command again skips what is there (a case cut short re-runs its dense
video, which is deterministic). When all shards are done the runs are merged into
``quality_patterns.json`` and the docs tables printed (``--tables-only``: print them again;
``--merge-only``: merge what the shards hold so far, e.g. after runs with one seed at a time).
Head maps: ``head_maps/head_map[_<pattern>]_<prompt>_<seed>_<sparsity>.png``.
"""
from __future__ import annotations

import argparse
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import e2e_quality  # noqa: E402  (puts scripts/ and the repository on sys.path)
import video_data  # noqa: E402
from comfy_client import ComfyServer  # noqa: E402

RECORD = "quality_patterns.json"


def parse_args(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--prompts", default="all", help="'all' or comma-separated prompt indices")
    ap.add_argument("--seeds", default="0,1,2,3,4,5")
    ap.add_argument("--patterns", default="svg,svg2")
    ap.add_argument("--sparsities", default="0.5,0.75,0.9")
    ap.add_argument("--steps", type=int, default=e2e_quality.DEFAULTS["steps"])
    ap.add_argument("--cfg", type=float, default=e2e_quality.DEFAULTS["cfg"])
    ap.add_argument("--workers", type=int, default=1, help="server processes (at most 2 on a shared 2-core VM)")
    ap.add_argument("--threads", type=int, default=1, help="torch threads per server")
    ap.add_argument("--shard", default=None, help="i/N: run only every N-th case from i (set by --workers)")
    ap.add_argument("--tables-only", action="store_true", help="print the tables of --out's merged record")
    ap.add_argument("--merge-only", action="store_true",
                    help="merge the shards in --out into the record (what is done; the rest listed as missing) and print the tables")
    return ap.parse_args(argv)


def plan(a):
    prompts = ([p.text for p in video_data.PROMPTS] if a.prompts == "all"
               else [video_data.PROMPTS[int(i)].text for i in a.prompts.split(",")])
    seeds = [int(s) for s in a.seeds.split(",")]
    return [(p, s) for p in prompts for s in seeds], a.patterns.split(","), [float(s) for s in a.sparsities.split(",")]


def shard_file(out: Path, index: int) -> Path:
    return out / f"shard{index}.json"


def load_runs(path: Path) -> list:
    return json.loads(path.read_text())["runs"] if path.exists() else []


def write_atomically(path: Path, record: dict) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(record, indent=1))
    os.replace(tmp, path)


def run_shard(a, index: int, count: int) -> int:
    cases, patterns, sparsities = plan(a)
    path = shard_file(a.out, index)
    runs = load_runs(path)
    done = {(r["prompt"], r["seed"], r["pattern"], r["sparsity"]) for r in runs}
    mine = cases[index::count]
    todo = [(p, s) for p, s in mine if any((p, s, pat, sp) not in done for pat in patterns for sp in sparsities)]
    print(f"shard {index}/{count}: {len(mine)} cases, {len(mine) - len(todo)} done before", flush=True)
    if not todo:
        return 0
    heads = a.out / "head_maps"
    heads.mkdir(parents=True, exist_ok=True)
    temp = a.out / f"server{index}_tmp"
    with ComfyServer(a.out / f"server{index}.log", extra_args=["--temp-directory", str(temp)]) as server:
        info = server.object_info()
        for prompt, seed in todo:
            skip = {(pat, sp) for pat in patterns for sp in sparsities if (prompt, seed, pat, sp) in done}
            t0 = time.time()

            def finished(pattern, sparsity, result, prompt=prompt, seed=seed):
                runs.append({"prompt": prompt, "seed": seed, "pattern": pattern, "sparsity": sparsity,
                             **{k: result[k] for k in ("psnr", "ssim", "seconds", "summary", "head_map") if k in result}})
                write_atomically(path, {"runs": runs})
                print(f"[{index}] {prompt!r} seed {seed} {pattern} {sparsity}: {result['psnr']:.2f} dB, "
                      f"density {result['summary']['density']:.3f}, {result['seconds']:.0f} s", flush=True)

            e2e_quality.run_case(server, info, prompt, seed, sparsities, head_map_dir=heads, patterns=patterns,
                                 skip=skip, on_run=finished, temp_base=temp, keep_latents=False,
                                 steps=a.steps, cfg=a.cfg)
            print(f"[{index}] case done in {time.time() - t0:.0f} s", flush=True)
    return 0


def merge(a) -> dict:
    cases, patterns, sparsities = plan(a)
    runs, seen = [], set()
    for path in sorted(a.out.glob("shard*.json")):
        for r in load_runs(path):
            key = (r["prompt"], r["seed"], r["pattern"], r["sparsity"])
            if key not in seen:
                seen.add(key)
                runs.append(r)
    wanted = {(p, s, pat, sp) for p, s in cases for pat in patterns for sp in sparsities}
    record = {"settings": {**e2e_quality.DEFAULTS, "steps": a.steps, "cfg": a.cfg, "shift": e2e_quality.SHIFT,
                           "frames": e2e_quality.FRAMES, "size": e2e_quality.SIZE, "model": e2e_quality.SHAPES_MODEL,
                           "workflow": e2e_quality.WORKFLOW.name, "seeds": sorted({s for _, s in cases}),
                           "patterns": patterns, "sparsities": sparsities,
                           "node_inputs": "workflow values except sparsity and pattern"},
              "machine": {"python": platform.python_version(), "platform": platform.platform(),
                          "workers": a.workers, "threads": a.threads},
              "missing": sorted(map(list, wanted - seen)), "runs": runs}
    write_atomically(a.out / RECORD, record)
    return record


# ---------------------------------------------------------------------------------------------- tables
def _stats(values):
    finite = [v for v in values if math.isfinite(v)]
    mean = statistics.fmean(finite) if finite else math.inf
    sd = statistics.stdev(finite) if len(finite) > 1 else 0.0
    return mean, sd, min(values), len(values)


def tables(record: dict) -> str:
    """Markdown: per prompt PSNR mean +- sd over seeds per (sparsity, pattern), the mean over all
    videos with the min, SSIM the same, the achieved density per (pattern, sparsity), and svg2 - svg
    paired over (prompt, seed)."""
    patterns, sparsities = record["settings"]["patterns"], record["settings"]["sparsities"]
    runs = record["runs"]
    by = {}
    for r in runs:
        by.setdefault((r["pattern"], r["sparsity"]), {})[(r["prompt"], r["seed"])] = r
    prompts = list(dict.fromkeys(p.text for p in video_data.PROMPTS if any(r["prompt"] == p.text for r in runs)))
    columns = [(s, p) for s in sparsities for p in patterns]
    lines = []
    for metric, fmt in (("psnr", "{:.2f} ± {:.2f}"), ("ssim", "{:.3f} ± {:.3f}")):
        lines += [f"{metric.upper()} against dense, mean ± sd over seeds (n):", "",
                  "| prompt | " + " | ".join(f"{s} {p}" for s, p in columns) + " |", "|---" * (1 + len(columns)) + "|"]
        for prompt in prompts:
            cells = []
            for s, p in columns:
                values = [r[metric] for (pr, _), r in by.get((p, s), {}).items() if pr == prompt]
                if values:
                    mean, sd, _, n = _stats(values)
                    cells.append(fmt.format(mean, sd) + f" ({n})")
                else:
                    cells.append("-")
            lines.append(f"| {prompt} | " + " | ".join(cells) + " |")
        cells = []
        for s, p in columns:
            values = [r[metric] for r in by.get((p, s), {}).values()]
            if values:
                mean, sd, low, n = _stats(values)
                cells.append(f"**{mean:.3f}**" if metric == "ssim" else f"**{mean:.2f}**")
                cells[-1] += f" (min {low:.3f}, n {n})" if metric == "ssim" else f" (min {low:.2f}, n {n})"
            else:
                cells.append("-")
        lines += ["| all videos: mean (min, n) | " + " | ".join(cells) + " |", ""]
    lines += ["Kept density (the run summary's mean over its sparse calls): mean, min-max over runs:", "",
              "| sparsity | " + " | ".join(patterns) + " |", "|---" * (1 + len(patterns)) + "|"]
    for s in sparsities:
        cells = []
        for p in patterns:
            d = [r["summary"]["density"] for r in by.get((p, s), {}).values()]
            cells.append(f"{statistics.fmean(d):.3f} ({min(d):.3f}-{max(d):.3f})" if d else "-")
        lines.append(f"| {s} | " + " | ".join(cells) + " |")
    others = [p for p in patterns if p != "svg"]
    if "svg" in patterns and others:
        lines += ["", "Paired difference against svg (same prompt and seed), PSNR dB: mean ± sd, "
                  "wins / videos:", "", "| sparsity | " + " | ".join(f"{p} - svg" for p in others) + " |",
                  "|---" * (1 + len(others)) + "|"]
        for s in sparsities:
            cells = []
            base = by.get(("svg", s), {})
            for p in others:
                mine = by.get((p, s), {})
                diffs = [mine[k]["psnr"] - base[k]["psnr"] for k in mine if k in base]
                if diffs:
                    mean, sd, _, n = _stats(diffs)
                    cells.append(f"{mean:+.2f} ± {sd:.2f} ({sum(d > 0 for d in diffs)} / {n})")
                else:
                    cells.append("-")
            lines.append(f"| {s} | " + " | ".join(cells) + " |")
    if record.get("missing"):
        lines += ["", f"{len(record['missing'])} runs missing (not finished)."]
    return "\n".join(lines)


def main(argv=None) -> int:
    a = parse_args(argv)
    a.out.mkdir(parents=True, exist_ok=True)
    if a.tables_only:
        print(tables(json.loads((a.out / RECORD).read_text())))
        return 0
    if a.merge_only:
        record = merge(a)
        print(tables(record))
        return 0
    if a.shard is not None:
        index, count = (int(x) for x in a.shard.split("/"))
        return run_shard(a, index, count)
    env = dict(os.environ, OMP_NUM_THREADS=str(a.threads), MKL_NUM_THREADS=str(a.threads))
    argv = [arg for arg in (argv if argv is not None else sys.argv[1:])]
    workers = []
    for index in range(a.workers):
        log = open(a.out / f"worker{index}.log", "ab")
        workers.append(subprocess.Popen([sys.executable, str(Path(__file__).resolve()), *argv,
                                         "--shard", f"{index}/{a.workers}"], env=env, stdout=log, stderr=subprocess.STDOUT))
        time.sleep(20)      # servers start one after the other
    codes = [w.wait() for w in workers]
    record = merge(a)
    print(tables(record))
    print(f"workers exited with {codes}; {len(record['runs'])} runs, {len(record['missing'])} missing")
    return max(codes)


if __name__ == "__main__":
    sys.exit(main())

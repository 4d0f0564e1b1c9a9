"""The main job: the Wan 2.1 T2V example workflow, dense and with SVG, on the bundled tiny model.

Run it through scripts/run_main_job.sh (which builds the host first). It starts a headless
ComfyUI (CPU) with the pack and the bench nodes, converts workflows/wan2.1_t2v_1.3B_480p_svg.json
to the API format with the server's /object_info, puts the bundled trained model
(models/svg_tiny_wan_shapes_t2v.safetensors: ComfyUI's own Wan architecture, 8M parameters,
trained here on procedural videos of moving shapes, see docs/quality.md) into its UNETLoader and
the bench prompt / decoder nodes in place of the text encoder and VAE
(bench/quality/e2e_quality.py documents the graph), and queues it twice over HTTP with the
same seed: without the SVG node (dense) and with it (sparsity 0.75, the node's defaults).
Results in out/:

    out/main_job_side_by_side.gif   dense | SVG, the prompt above, PSNR / SSIM against dense below
    out/main_job.json               settings, PSNR, SSIM, seconds of both prompts, SVG run summary
    out/main_job_server.log         the server's log

Exits non-zero when a prompt fails or the SVG node ran no sparse attention call.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import host

sys.path.insert(0, str(host.REPO / "bench" / "quality"))
import animation    # noqa: E402  (bench/quality)
import e2e_quality  # noqa: E402
import video_data   # noqa: E402
from comfy_client import ComfyServer  # noqa: E402
from prompt_progress import PromptProgress  # noqa: E402

DEFAULT_PROMPT = "shapes orbiting the centre"
SPARSITY = 0.75
DEMO_MIN_SIDE = 384   # pixels a side of each video in the animation (nearest-neighbour upscale)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--out", type=Path, default=host.REPO / "out")
    ap.add_argument("--prompt", default=DEFAULT_PROMPT, choices=[p.text for p in video_data.PROMPTS])
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    out: Path = a.out
    out.mkdir(parents=True, exist_ok=True)
    log_path = out / "main_job_server.log"
    log_path.unlink(missing_ok=True)

    t0 = time.time()
    print(f"[main] starting a headless ComfyUI {host.COMFY_VERSION} (CPU) with this pack; "
          f"its log: {log_path}", flush=True)
    with ComfyServer(log_path) as server:
        print(f"[main] ComfyUI up on {server.url} in {time.time() - t0:.1f}s", flush=True)
        server.listen(PromptProgress())
        print(f"[main] '{a.prompt}', seed {a.seed}: two prompts of {e2e_quality.DEFAULTS['steps']} "
              f"steps each, first dense (without the SVG node), then with SVG at sparsity {SPARSITY}",
              flush=True)
        case = e2e_quality.run_case(server, server.object_info(), a.prompt, a.seed, [SPARSITY])
    result = case["sparse"][SPARSITY]
    summary = result["summary"]
    print(f"[main] dense prompt {case['dense_seconds']:.1f}s, SVG prompt {result['seconds']:.1f}s; "
          f"SVG vs dense: PSNR {result['psnr']:.2f} dB, SSIM {result['ssim']:.4f}")
    frames, height, width, _ = case["frames"]["dense"].shape
    gif = animation.side_by_side(
        [case["frames"]["dense"], case["frames"][SPARSITY]], ["dense", f"SVG, sparsity {SPARSITY}"],
        out / "main_job_side_by_side.gif", title=f'"{a.prompt}"',
        notes=[f"seed {a.seed}, {e2e_quality.DEFAULTS['steps']} steps; SVG against dense: "
               f"PSNR {result['psnr']:.1f} dB, SSIM {result['ssim']:.3f}",
               f"the bundled small Wan model (trained here): {frames} frames of {width} x {height}, "
               f"shown {animation.upscale_factor(height, width, DEMO_MIN_SIDE)}x"], min_side=DEMO_MIN_SIDE)
    record = {"comfyui": host.COMFY_VERSION, "prompt": a.prompt, "seed": a.seed, "sparsity": SPARSITY,
              "psnr_db": result["psnr"],
              "ssim": result["ssim"], "dense_prompt_seconds": case["dense_seconds"],
              "svg_prompt_seconds": result["seconds"], "svg_summary": summary,
              "model": e2e_quality.SHAPES_MODEL, "workflow": e2e_quality.WORKFLOW.name,
              "note": "seconds: wall time of each queued prompt on this machine (the dense prompt, "
                      "queued first, also loads the model); on a CPU SVG runs its torch reference "
                      "backend, so these times are not a speed measurement: speed is measured on "
                      "the GPU (docs/benchmarks.md)"}
    (out / "main_job.json").write_text(json.dumps(record, indent=2))
    print(f"[main] wrote {gif} and {out / 'main_job.json'}")
    print(f"[main] SVG: {summary['sparse_calls']} sparse / {summary['dense_calls']} dense attention calls, "
          f"{summary['spatial_heads']} spatial / {summary['temporal_heads']} temporal head decisions")
    if summary["sparse_calls"] <= 0:
        print("[main] FAIL: the SVG node ran no sparse attention call")
        return 1
    print(f"[main] OK in {time.time() - t0:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

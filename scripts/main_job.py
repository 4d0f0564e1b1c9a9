"""The main job: run the Wan 2.1 T2V example workflow, with the SVG node, on the tiny host.

Run it through scripts/run_main_job.sh (which builds the host first). Steps: start a headless
ComfyUI with the pack (and the test-double pack for the text encoder / VAE stand-ins), convert
workflows/wan2.1_t2v_1.3B_480p_svg.json to the API format with the server's /object_info,
swap in the tiny model and stand-ins (scripts/tiny_workflow.py), add a SaveLatent node, queue
it over HTTP, and copy the results into out/:

    out/main_job.latent       the sampled latent (safetensors, key latent_tensor)
    out/main_job.mp4          the workflow's own video output (false colours of the latent:
                              random weights and a stand-in VAE, not a real video)
    out/main_job_api.json     the API-format graph that ran
    out/main_job_summary.json the parsed SVG run summary
    out/main_job_server.log   the server's log

Exits non-zero when the prompt fails or the SVG node did not run sparse attention.
"""
from __future__ import annotations

import argparse
import json
import shutil
import sys
import time
from pathlib import Path

import host
from comfy_client import ComfyServer
from tiny_workflow import adapt_workflow, unique_prefix
from workflow_to_api import ui_to_api

DEFAULT_WORKFLOW = host.REPO / "workflows" / "wan2.1_t2v_1.3B_480p_svg.json"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--workflow", type=Path, default=DEFAULT_WORKFLOW)
    ap.add_argument("--out", type=Path, default=host.REPO / "out")
    a = ap.parse_args()
    out: Path = a.out
    out.mkdir(parents=True, exist_ok=True)
    log_path = out / "main_job_server.log"
    log_path.unlink(missing_ok=True)

    t0 = time.time()
    with ComfyServer(log_path) as server:
        print(f"[main] ComfyUI up on {server.url} in {time.time() - t0:.1f}s (log: {log_path})")
        workflow = json.loads(a.workflow.read_text(encoding="utf-8"))
        api = adapt_workflow(ui_to_api(workflow, server.object_info()), tag="main_job")
        sampler = next(k for k, v in api.items()
                       if v["class_type"] in ("KSampler", "SamplerCustomAdvanced"))
        api["main_job_latent"] = {"class_type": "SaveLatent",
                                  "inputs": {"samples": [sampler, 0],
                                             "filename_prefix": unique_prefix("main_job")}}
        (out / "main_job_api.json").write_text(json.dumps(api, indent=2, ensure_ascii=False))
        result = server.run(api, summaries=1)
    print(f"[main] prompt {result.prompt_id} finished in {result.seconds:.1f}s")

    copied = []
    for kind, sub, name in result.output_files():
        src = host.BASE_DIR / kind / sub / name
        dst = out / ("main_job" + Path(name).suffix)
        shutil.copyfile(src, dst)
        copied.append(dst)
    for dst in copied:
        print(f"[main] wrote {dst} ({dst.stat().st_size} bytes)")

    if len(result.summaries) != 1:
        print(f"[main] FAIL: expected one '[SVG] run summary' line, found {len(result.summaries)}")
        return 1
    summary = result.summaries[0]
    (out / "main_job_summary.json").write_text(json.dumps(
        {k: v for k, v in summary.items() if not k.startswith("_")}, indent=2))
    print(summary["_line"])
    if summary["sparse_calls"] <= 0:
        print("[main] FAIL: the SVG node ran no sparse attention call")
        return 1
    if not any(p.suffix == ".latent" for p in copied):
        print("[main] FAIL: no latent was saved")
        return 1
    print(f"[main] OK in {time.time() - t0:.1f}s")
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env bash
# The main job, on a fresh machine or a built one: build the local ComfyUI host if needed
# (scripts/host.py setup: venv, ComfyUI, tiny models), then run the Wan 2.1 T2V example workflow
# with the SVG node through the HTTP API on the tiny model.
#
#   bash scripts/run_main_job.sh                    # ComfyUI 0.3.75, results in out/
#   bash scripts/run_main_job.sh --host 0.19.3      # ComfyUI 0.19.3, results in out/comfyui-0.19.3/
#
# Further arguments go to scripts/main_job.py. Where a host cannot be built here (the 0.19.3
# tarball absent in a user's own clone) one line says so and the job is skipped (exit 0).
set -euo pipefail
cd "$(dirname "$0")/.."
version="${SVG_HOST_VERSION:-0.3.75}"
if [ "${1:-}" = "--host" ]; then version="$2"; shift 2; fi
host_field() { python3 scripts/host.py info "$version" | python3 -c "import json,sys; v=json.load(sys.stdin)['$1']; print(v or '')"; }
reason=$(host_field unavailable)
if [ -n "$reason" ]; then
    echo "== SKIPPED the main job on ComfyUI $version: $reason"
    exit 0
fi
python3 scripts/host.py setup "$version"
out=out
if [ "$version" != 0.3.75 ]; then out="out/comfyui-$version"; fi
SVG_HOST_VERSION="$version" exec "$(host_field python)" scripts/main_job.py --out "$out" "$@"

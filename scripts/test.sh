#!/usr/bin/env bash
# The test command: build the local ComfyUI host if needed (scripts/host.py setup), then run
# the whole suite (tests/unit, tests/comfy, tests/integration, ...) with the host venv's python.
# Extra arguments go to pytest, e.g.  bash scripts/test.sh tests/integration -k workflow
set -euo pipefail
cd "$(dirname "$0")/.."
python3 scripts/host.py setup
host_path() { python3 scripts/host.py info | python3 -c "import json,sys; print(json.load(sys.stdin)['$1'])"; }
# tests/comfy imports this ComfyUI tree in-process
export SVG_COMFYUI_DIR="${SVG_COMFYUI_DIR:-$(host_path comfyui)}"
if [ "$#" -eq 0 ]; then set -- tests; fi
exec "$(host_path python)" -m pytest "$@"

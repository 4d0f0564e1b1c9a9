#!/usr/bin/env bash
# The main job, on a fresh machine or a built one: build the local ComfyUI host if needed
# (scripts/host.py setup: venv, ComfyUI 0.3.75, tiny models), then run the Wan 2.1 T2V example
# workflow with the SVG node through the HTTP API on the tiny model. Results go to out/.
set -euo pipefail
cd "$(dirname "$0")/.."
python3 scripts/host.py setup
py=$(python3 scripts/host.py info | python3 -c "import json,sys; print(json.load(sys.stdin)['python'])")
exec "$py" scripts/main_job.py "$@"

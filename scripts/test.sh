#!/usr/bin/env bash
# The test command: build the local ComfyUI hosts if needed (scripts/host.py setup), then run the
# suite on each: ComfyUI 0.3.75 runs everything (tests/unit, tests/kernels, tests/comfy,
# tests/integration, ...); ComfyUI 0.19.3 runs what depends on the host (tests/comfy, the
# in-process tests, and tests/integration, the server, browser and quality tests), each host in its
# own pytest process with its own venv (SVG_HOST_VERSION selects the host for the tests).
#
# Extra arguments go to pytest on every host, e.g.  bash scripts/test.sh tests/integration -k workflow
# (test paths outside tests/comfy and tests/integration run on 0.3.75 only).
# SVG_HOSTS="0.19.3" (space-separated) picks the hosts; default "0.3.75 0.19.3". Where the 0.19.3
# tarball is absent (a user's own clone) its tests are skipped with one line saying so.
set -uo pipefail
cd "$(dirname "$0")/.."
host_field() { python3 scripts/host.py info "$1" | python3 -c "import json,sys; v=json.load(sys.stdin)['$2']; print(v or '')"; }
is_path() { local a="${1%%::*}"; [ -e "$a" ]; }
host_dependent() { case "${1#./}" in tests/comfy*|tests/integration*) return 0;; *) return 1;; esac; }

rc=0
for version in ${SVG_HOSTS:-0.3.75 0.19.3}; do
    reason=$(host_field "$version" unavailable)
    if [ -n "$reason" ]; then
        echo "== SKIPPED every ComfyUI $version test: $reason"
        continue
    fi
    python3 scripts/host.py setup "$version" || { rc=1; continue; }
    args=() paths=0 kept=0
    for a in "$@"; do
        if is_path "$a"; then
            paths=$((paths + 1))
            if [ "$version" != 0.3.75 ] && ! host_dependent "$a"; then continue; fi
            kept=$((kept + 1))
        fi
        args+=("$a")
    done
    if [ "$paths" -eq 0 ]; then
        if [ "$version" = 0.3.75 ]; then args+=(tests); else args+=(tests/comfy tests/integration); fi
    elif [ "$kept" -eq 0 ]; then
        echo "== ComfyUI $version: none of the selected tests depends on the host"
        continue
    fi
    echo "== ComfyUI $version: pytest ${args[*]}"
    # tests/comfy imports this host's ComfyUI tree in-process
    SVG_HOST_VERSION="$version" SVG_COMFYUI_DIR="$(host_field "$version" comfyui)" \
        "$(host_field "$version" python)" -m pytest "${args[@]}"
    status=$?
    echo "== ComfyUI $version: pytest exit code $status"
    if [ "$status" -ne 0 ] && { [ "$rc" -eq 0 ] || [ "$rc" -eq 5 ]; }; then rc=$status; fi
done
exit "$rc"

#!/usr/bin/env bash
# Registry readiness: build and check the archive a user installs from the Comfy Registry, the way
# `comfy node publish` builds it. comfy-cli (PyPI) runs in its own small venv (.ci-venv/comfy-cli,
# never the host venv): `comfy node validate` reads pyproject.toml and runs its ruff security rules,
# `comfy node pack` zips the git-tracked files minus .comfyignore. Any warning of theirs fails the
# step; scripts/check_registry_pack.py then checks the archive's contents and size and installs it,
# alone, into the host's ComfyUI (needs `python3 scripts/host.py setup` first).
# Writes out/registry/ (node.zip, validate.log, pack.log).
set -euo pipefail
cd "$(dirname "$0")/.."
COMFY_CLI="comfy-cli==1.23.0 ruff==0.17.6"
venv=.ci-venv/comfy-cli
out=out/registry
mkdir -p "$out"
if [ ! -x "$venv/bin/comfy" ]; then
    echo "== installing $COMFY_CLI into $venv (about 340 MB)"
    python3 -m venv "$venv"
    "$venv/bin/python" -m pip install -q --disable-pip-version-check $COMFY_CLI
fi
# comfy-cli keeps its settings under $HOME/.config; --skip-prompt answers its questions (tracking off)
cli_home=$(mktemp -d)
comfy() { HOME="$cli_home" "$venv/bin/comfy" --skip-prompt --no-json "$@" </dev/null; }
comfy node validate 2>&1 | tee "$out/validate.log"
rm -f node.zip
comfy node pack 2>&1 | tee "$out/pack.log"
mv node.zip "$out/node.zip"
rm -rf "$cli_home"
if grep -inE "warning|error" "$out/validate.log" "$out/pack.log"; then
    echo "== comfy-cli reported the lines above: fix pyproject.toml / the code"
    exit 1
fi
python3 scripts/check_registry_pack.py "$out/node.zip" --load

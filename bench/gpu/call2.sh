#!/usr/bin/env bash
# GPU call 2 (one H200): measured 50-step Wan 2.1 1.3B 480p runs (dense, Sage, SVG bf16, SVG FP8, FP8
# in every step) in one process, the GPU rows through ComfyUI, then the break-even sweep.
# Carry: .host/comfyui and .whl (sageattention 1.0.6, torchsde, trampoline wheels).
set -u
export PYTHONUNBUFFERED=1
R=${OUT:-out}/call2; mkdir -p "$R"
t0=$SECONDS
stamp() { echo "[$((SECONDS - t0))s] $*"; }
python3 -m pip install --no-index --no-deps --target .whl/site .whl/*.whl > "$R/pip.log" 2>&1
export PYTHONPATH=$PWD/.whl/site
stamp "e2e wan2.1-1.3b-480p 50 steps"
timeout 330 python3 bench/e2e_bench.py --comfyui .host/comfyui --models wan2.1-1.3b-480p --steps 50 \
  --modes dense sage svg svg-fp8 svg-fp8-all --out "$R/e2e13.json" > "$R/e2e13.log" 2>&1; stamp "e2e13 rc=$?"
tail -12 "$R/e2e13.log"
stamp "GPU rows through ComfyUI"
SVG_COMFYUI_DIR=.host/comfyui timeout 80 python3 -m pytest -m gpu tests/comfy/test_gpu_rows.py -q -rs > "$R/gpu_rows.log" 2>&1; stamp "gpu rows rc=$?"
tail -3 "$R/gpu_rows.log"
left=$((560 - (SECONDS - t0)))
stamp "break-even sweep (budget $((left - 50)) s)"
timeout $left python3 bench/breakeven_sweep.py --budget-s $((left - 50)) --json "$R/breakeven.json" > "$R/breakeven.log" 2>&1; stamp "breakeven rc=$?"
tail -30 "$R/breakeven.log"

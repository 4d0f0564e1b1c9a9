#!/usr/bin/env bash
# GPU call 6 (nvidia-h200-x2): SVG2 through ComfyUI on the GPU (test_gpu_rows -k svg2), then per-step
# time of SVG2 against SVG in whole runs, one model per GPU concurrently: GPU0 Wan 2.1 14B 720p
# (5 steps), GPU1 HunyuanVideo 720p (6 steps). Carry: .host/comfyui and .whl.
set -u
export PYTHONUNBUFFERED=1
R=${OUT:-out}/call6; mkdir -p "$R"
t0=$SECONDS
stamp() { echo "[$((SECONDS - t0))s] $*"; }
python3 -m pip install --no-index --no-deps --target .whl/site .whl/*.whl > /dev/null 2>&1
export PYTHONPATH=$PWD/.whl/site
( export CUDA_VISIBLE_DEVICES=0
  SVG_COMFYUI_DIR=.host/comfyui timeout 100 python3 -m pytest -m gpu tests/comfy/test_gpu_rows.py -s -k svg2 -q -rs > "$R/gpu_rows_svg2.log" 2>&1
  stamp "gpu rows svg2 rc=$?"
  timeout 330 python3 bench/e2e_bench.py --comfyui .host/comfyui --models wan2.1-14b-720p --steps 5 \
    --modes svg svg2 --out "$R/e2e14_svg2.json" > "$R/e2e14_svg2.log" 2>&1; stamp "e2e14 svg2 rc=$?" ) &
( export CUDA_VISIBLE_DEVICES=1
  timeout 400 python3 bench/e2e_bench.py --comfyui .host/comfyui --models hunyuanvideo-720p --steps 6 \
    --modes svg svg2 --out "$R/e2ehy_svg2.json" > "$R/e2ehy_svg2.log" 2>&1; stamp "e2ehy svg2 rc=$?" ) &
wait
grep -E "passed|failed|svg2 torch" "$R/gpu_rows_svg2.log" | tail -5
grep -A4 "^model |" "$R/e2e14_svg2.log"; grep -A4 "^model |" "$R/e2ehy_svg2.log"

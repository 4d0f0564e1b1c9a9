#!/usr/bin/env bash
# GPU call 3 (nvidia-h200-x2): the Ulysses 2-GPU bench (SVG and SDPA, one GPU vs two, all-to-all
# included), then the whole-run benches of the two big models, one per GPU, concurrently:
# GPU0 Wan 2.1 14B 720p (5 steps), GPU1 HunyuanVideo 720p (6 steps), modes dense / SVG bf16 / SVG FP8.
# Carry: .host/comfyui and .whl.
set -u
export PYTHONUNBUFFERED=1 NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
R=${OUT:-out}/call3; mkdir -p "$R"
t0=$SECONDS
stamp() { echo "[$((SECONDS - t0))s] $*"; }
nvidia-smi topo -m > "$R/topo.txt" 2>&1
python3 -m pip install --no-index --no-deps --target .whl/site .whl/*.whl > "$R/pip.log" 2>&1
stamp "ulysses (2 GPUs)"
timeout 150 torchrun --standalone --nproc_per_node 2 bench/ulysses_bench.py --json "$R/ulysses.json" > "$R/ulysses.log" 2>&1
stamp "ulysses rc=$?"
tail -12 "$R/ulysses.log"
export PYTHONPATH=$PWD/.whl/site
( CUDA_VISIBLE_DEVICES=0 timeout 370 python3 bench/e2e_bench.py --comfyui .host/comfyui --models wan2.1-14b-720p \
    --steps 5 --modes dense svg svg-fp8 --out "$R/e2e14.json" > "$R/e2e14.log" 2>&1; stamp "e2e14 rc=$?" ) &
( CUDA_VISIBLE_DEVICES=1 timeout 370 python3 bench/e2e_bench.py --comfyui .host/comfyui --models hunyuanvideo-720p \
    --steps 6 --modes dense svg svg-fp8 --out "$R/e2ehy.json" > "$R/e2ehy.log" 2>&1; stamp "e2ehy rc=$?" ) &
wait
grep -A8 "^model |" "$R/e2e14.log"; grep -A8 "^model |" "$R/e2ehy.log"

#!/usr/bin/env bash
# GPU call 1 (kind nvidia-h200-x2, run from the repo root):
# kernel correctness (pytest -m gpu) and the kernel-level benchmarks, two lanes on two GPUs, then the
# Ulysses 2-GPU bench on both. Everything lands in $OUT/call1.tgz (logs + JSON); tails are printed.
set -u
export PYTHONUNBUFFERED=1 NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 NVSHMEM_DISABLE_NVLS=1
R=${OUT:-/tmp/out}/call1; mkdir -p "$R"
t0=$SECONDS
stamp() { echo "[$((SECONDS - t0))s] $*"; }
nvidia-smi > "$R/nvidia-smi.txt" 2>&1; nvidia-smi topo -m >> "$R/nvidia-smi.txt" 2>&1
python3 -c "import torch, triton, sys; print(sys.version.split()[0], torch.__version__, triton.__version__, torch.cuda.device_count(), torch.cuda.get_device_name(0))" | tee "$R/env.txt"


lane0() {
  export CUDA_VISIBLE_DEVICES=0
  stamp "lane0: kernel GPU tests"
  timeout 170 python3 -m pytest tests/kernels -m gpu -q -rs > "$R/gpu_tests.log" 2>&1; stamp "lane0: gpu tests rc=$?"
  for s in wan14b:60 hunyuan:60 wan13b:45; do
    timeout ${s#*:} python3 bench/svg2_bench.py --shapes ${s%:*} --json "$R/svg2_${s%:*}.json" > "$R/svg2_${s%:*}.log" 2>&1
    stamp "lane0: svg2 ${s%:*} rc=$?"
  done
}
lane1() {
  export CUDA_VISIBLE_DEVICES=1
  stamp "lane1: kernel sweep A,B,C"
  timeout 380 python3 bench/kernel_sweep.py --parts A,B,C --budget-s 240 --json "$R/sweep.json" > "$R/sweep.log" 2>&1; stamp "lane1: sweep rc=$?"
}
lane0 & lane1 & wait
stamp "ulysses (2 GPUs)"
timeout 140 torchrun --standalone --nproc_per_node 2 bench/ulysses_bench.py --json "$R/ulysses.json" > "$R/ulysses.log" 2>&1
stamp "ulysses rc=$?"
stamp "done"
tar czf "${OUT:-/tmp/out}/call1.tgz" -C "${OUT:-/tmp/out}" call1 && rm -rf "$R"

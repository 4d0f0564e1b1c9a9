#!/usr/bin/env bash
# GPU call 1a (one H200): kernel correctness on the GPU (pytest -m gpu), then the kernel sweep
# (band variants, profiler variants, whole calls vs SDPA). Logs + JSON under $OUT/call1a.
set -u
export PYTHONUNBUFFERED=1
R=${OUT:-out}/call1a; mkdir -p "$R"
t0=$SECONDS
stamp() { echo "[$((SECONDS - t0))s] $*"; }
nvidia-smi > "$R/nvidia-smi.txt" 2>&1
python3 -c "import torch, triton, sys; print(sys.version.split()[0], torch.__version__, triton.__version__, torch.cuda.device_count(), torch.cuda.get_device_name(0))" | tee "$R/env.txt"
stamp "kernel GPU tests"
timeout 170 python3 -m pytest tests/kernels -m gpu -q -rs > "$R/gpu_tests.log" 2>&1; stamp "gpu tests rc=$?"
tail -3 "$R/gpu_tests.log"
stamp "kernel sweep A,B,C"
timeout 360 python3 bench/kernel_sweep.py --parts A,B,C --budget-s 220 --json "$R/sweep.json" > "$R/sweep.log" 2>&1; stamp "sweep rc=$?"
tail -40 "$R/sweep.log"

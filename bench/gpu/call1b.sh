#!/usr/bin/env bash
# GPU call 1b (one H200): the kernel sweep (band variants, profiler variants, whole calls vs SDPA),
# then the SVG2 bench on Wan-14B 720p and HunyuanVideo 720p. Logs + JSON under $OUT/call1b.
set -u
export PYTHONUNBUFFERED=1
R=${OUT:-out}/call1b; mkdir -p "$R"
t0=$SECONDS
stamp() { echo "[$((SECONDS - t0))s] $*"; }
stamp "kernel sweep A,B,C"
timeout 330 python3 bench/kernel_sweep.py --parts A,B,C --budget-s 200 --json "$R/sweep.json" > "$R/sweep.log" 2>&1; stamp "sweep rc=$?"
for s in wan14b:75 hunyuan:60; do
  timeout ${s#*:} python3 bench/svg2_bench.py --shapes ${s%:*} --json "$R/svg2_${s%:*}.json" > "$R/svg2_${s%:*}.log" 2>&1
  stamp "svg2 ${s%:*} rc=$?"
done
grep -v "^bf16-\|^v1-\|^fp8" "$R/sweep.log" | tail -50
tail -25 "$R/svg2_wan14b.log"

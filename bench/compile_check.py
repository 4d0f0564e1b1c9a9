#!/usr/bin/env python3
"""Compile kernel variants for Hopper (sm_90) WITHOUT a GPU and report what the compiler made of them.

Uses Triton's own ptxas / cuobjdump (shipped in the triton wheel); needs only ``triton`` (no torch,
no CUDA driver).  Use the Triton version of the GPU machine (3.6.0 there) for results that carry
over, e.g. a Python 3.12 venv with ``pip install triton==3.6.0``:

    <venv>/bin/python bench/compile_check.py                   # every variant of bench/kernel_sweep.py
    <venv>/bin/python bench/compile_check.py --only fp8        # names containing "fp8"

Per variant: compile seconds, registers per thread, stack / local bytes (spills), shared memory,
and SASS instruction counts (HGMMA bf16 / QGMMA fp8 tensor-core ops, MUFU.EX2, F2FP conversions,
LDL/STL local-memory traffic).  A variant that does not compile prints its error (first line).
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import re
import subprocess
import sys
import tempfile
import time
import types

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "bench"))


def load_kernels():
    """The kernel modules as a package 'kpkg' (kernels/__init__.py imports torch: skipped)."""
    pkg = types.ModuleType("kpkg")
    pkg.__path__ = [os.path.join(ROOT, "kernels")]
    sys.modules["kpkg"] = pkg
    mods = {}
    for name in ("_band_triton", "_packed_triton", "_profile_triton"):
        spec = importlib.util.spec_from_file_location(f"kpkg.{name}", os.path.join(ROOT, "kernels", f"{name}.py"))
        mod = importlib.util.module_from_spec(spec)
        sys.modules[f"kpkg.{name}"] = mod
        spec.loader.exec_module(mod)
        mods[name] = mod
    return mods


def compile_one(fn, sig: dict, consts: dict, div16=(), num_warps=4, num_stages=3):
    import triton
    from triton.backends.compiler import GPUTarget
    from triton.compiler import ASTSource
    full = {n: ("constexpr" if n in consts else sig[n]) for n in fn.arg_names}
    attrs = {(fn.arg_names.index(n),): [["tt.divisibility", 16]] for n in div16 if n in fn.arg_names}
    src = ASTSource(fn, full, dict(consts), attrs)
    t0 = time.time()
    k = triton.compile(src, target=GPUTarget("cuda", 90, 32), options=dict(num_warps=num_warps, num_stages=num_stages))
    return k, time.time() - t0


def inspect(k) -> dict:
    import triton
    bindir = os.path.join(os.path.dirname(triton.__file__), "backends", "nvidia", "bin")
    with tempfile.NamedTemporaryFile(suffix=".cubin", delete=False) as f:
        f.write(k.asm["cubin"])
        path = f.name
    try:
        sass = subprocess.run([os.path.join(bindir, "cuobjdump"), "-sass", path], capture_output=True, text=True).stdout
        res = subprocess.run([os.path.join(bindir, "cuobjdump"), "-res-usage", path], capture_output=True, text=True).stdout
    finally:
        os.unlink(path)
    m = re.search(r"REG:(\d+) STACK:(\d+) SHARED:(\d+) LOCAL:(\d+)", res)
    out = dict(regs=int(m.group(1)), stack=int(m.group(2)), local=int(m.group(4))) if m else dict(res=res[-120:])
    out["smem"] = k.metadata.shared
    for op in ("HGMMA", "QGMMA", "MUFU.EX2", "F2FP", "LDL", "STL", "UTMALDG", "SHFL"):
        out[op] = len(re.findall(r"\b" + re.escape(op), sass))
    return out


def packed_signature(dtype: str, fp8: bool, D: int, BLOCK_N: int, tma: bool, qk8: bool = True):
    kv = "fp8e4nv" if fp8 else dtype
    kk = kv if qk8 else dtype
    sig = dict(Q=f"*{dtype}", O=f"*{dtype}", TEMPORAL="*i8", ORDER="*i32", KP=f"*{kk}", VP=f"*{kv}", KS="*fp32",
               VSC="*fp32", VMEAN="*fp32", BIAS="*fp32")
    for n in ("stride_qb", "stride_qh", "stride_qn", "stride_ob", "stride_oh", "stride_on", "stride_biasb",
              "H", "VS", "F", "P", "V", "G", "VP0", "L", "W", "n_tiles", "n_work"):
        sig[n] = "i32"
    sig["qk_scale"] = "fp32"
    if tma:
        sig["K_DESC"] = f"tensordesc<{kk}[{BLOCK_N}, {D}]>"
        sig["V_DESC"] = f"tensordesc<{kv}[{D}, {BLOCK_N}]>" if fp8 else f"tensordesc<{kv}[{BLOCK_N}, {D}]>"
    div = ["Q", "O", "KP", "VP", "stride_qb", "stride_qh", "stride_qn", "stride_ob", "stride_oh", "stride_on"]
    return sig, div


def compile_packed(mods, cfg: dict, D: int, dtype="bf16", fp8=False, has_bias=False, qk8=True):
    fn = mods["_packed_triton"].packed_band_kernel
    tma = bool(cfg.get("TMA", True))
    qk8 = bool(fp8 and qk8)
    sig, div = packed_signature(dtype, fp8, D, cfg["BLOCK_N"], tma, qk8)
    consts = dict(BS=128, BLOCK_M=cfg["BLOCK_M"], BLOCK_N=cfg["BLOCK_N"], HEAD_DIM=D, FP8=fp8, HAS_BIAS=has_bias,
                  PREC=None, TMA=tma, PERSIST=bool(cfg.get("PERSIST")), FLATTEN=bool(cfg.get("FLATTEN")),
                  PREFETCH=bool(cfg.get("PREFETCH")), PV_SPLIT=bool(cfg.get("PV_SPLIT")), EMU_RNE=False, QBLOCK=128,
                  SMOOTH_V=bool(fp8 and cfg.get("SMOOTH_V", True)),
                  PV_PERM=bool(fp8 and cfg.get("PV_PERM", cfg["BLOCK_N"] % 32 == 0)), QK8=qk8)
    if not tma:
        consts.update(K_DESC=None, V_DESC=None)
    return compile_one(fn, sig, consts, div, cfg["num_warps"], cfg["num_stages"])


def compile_band_v1(mods, cfg: dict, D: int, dtype="bf16"):
    fn = mods["_band_triton"].band_fwd_kernel
    sig = dict(Q=f"*{dtype}", K=f"*{dtype}", V_=f"*{dtype}", O=f"*{dtype}", BIAS="*fp32", TEMPORAL="*i8", ORDER="*i32")
    for n in ("stride_qb", "stride_qh", "stride_qn", "stride_kb", "stride_kh", "stride_kn", "stride_vb", "stride_vh",
              "stride_vn", "stride_ob", "stride_oh", "stride_on", "stride_biasb", "H", "VS", "F", "P", "V", "G", "W"):
        sig[n] = "i32"
    sig["qk_scale"] = "fp32"
    tma = bool(cfg.get("TMA", True))
    blk = cfg["BLOCK_N"]
    if tma:
        sig["KT_DESC"] = sig["VT_DESC"] = f"tensordesc<{dtype}[1, 1, {blk}, {D}]>"
    consts = dict(BS=128, BLOCK_M=cfg["BLOCK_M"], BLOCK_N=blk, HEAD_DIM=D, HAS_BIAS=False, PREC=None, TMA=tma,
                  WS=bool(cfg.get("WS")))
    if not tma:
        consts.update(KT_DESC=None, VT_DESC=None)
    div = ["Q", "K", "V_", "O"] + [n for n in sig if n.startswith("stride") and n != "stride_biasb"]
    return compile_one(fn, sig, consts, div, cfg["num_warps"], cfg["num_stages"])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", default="", help="compile only variants whose name contains this")
    args = ap.parse_args()
    import triton
    print(f"triton {triton.__version__}, target sm_90")
    mods = load_kernels()
    from kernel_sweep import variant_table   # the sweep's variants (no torch needed to list them)
    for name, kind, D, cfg in variant_table():
        if args.only and args.only not in name:
            continue
        try:
            if kind == "v1":
                k, dt = compile_band_v1(mods, cfg, D)
            else:
                k, dt = compile_packed(mods, cfg, D, fp8=kind.startswith("fp8"), qk8=(kind == "fp8"))
            info = inspect(k)
            print(f"{name:44s} {dt:5.1f}s " + " ".join(f"{a}={b}" for a, b in info.items()), flush=True)
        except Exception as e:  # noqa: BLE001 - report and go on
            first = [ln for ln in str(e).splitlines() if ln.strip()][:1]
            print(f"{name:44s} FAILED {type(e).__name__}: {first[0][:200] if first else ''}", flush=True)


if __name__ == "__main__":
    main()

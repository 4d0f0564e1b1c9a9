"""Lazy loader of the Triton kernel modules of this package.

Triton fixes compiled-vs-interpreted per process: ``TRITON_INTERPRET=1`` must be set before
``triton`` is first imported (its own library functions are decorated then).  This module
imports Triton only when a kernel is first needed, so ``import kernels`` never needs Triton or
CUDA, and decorates our kernels in the same mode Triton itself was imported in.
"""
from __future__ import annotations

import importlib
import os
import threading

_LOCK = threading.Lock()
_CACHE: dict = {}


def interpret_requested() -> bool:
    """True when the environment asks for Triton's interpreter (TRITON_INTERPRET=1)."""
    return os.environ.get("TRITON_INTERPRET", "0").strip().lower() in ("1", "true", "yes", "on")


def triton_interpreting() -> bool:
    """Mode Triton runs in, in this process (imports Triton).

    Decided by TRITON_INTERPRET at Triton's first import: its standard library functions are
    interpreter objects then rather than JITFunctions.
    """
    import triton.language.standard as std
    from triton.runtime.jit import JITFunction

    return not isinstance(std.sum, JITFunction)


def load(name: str):
    """Return kernel module ``kernels.<name>``, decorated in Triton's mode (cached)."""
    mod = _CACHE.get(name)
    if mod is not None:
        return mod
    with _LOCK:
        mod = _CACHE.get(name)
        if mod is None:
            interp = triton_interpreting()
            old = os.environ.get("TRITON_INTERPRET")
            os.environ["TRITON_INTERPRET"] = "1" if interp else "0"
            try:
                mod = importlib.import_module(f"{__package__ or 'kernels'}.{name}")
            finally:
                if old is None:
                    os.environ.pop("TRITON_INTERPRET", None)
                else:
                    os.environ["TRITON_INTERPRET"] = old
            mod.INTERPRETED = interp
            _CACHE[name] = mod
    return mod


def load_for(name: str, t):
    """Kernel module for tensor ``t``; clear error when the tensor's device can't run it."""
    mod = load(name)
    if t.device.type != "cuda" and not mod.INTERPRETED:
        raise RuntimeError(
            f"kernels: {t.device.type} tensors need Triton's interpreter: set TRITON_INTERPRET=1 before "
            "triton is first imported in this process (tests/kernels/conftest.py does so)")
    return mod

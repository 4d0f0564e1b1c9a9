"""Never slower than dense: below the size at which a sparse call pays on the running GPU, run dense.

A whole SVG call (row sampling + head profiling + band kernel + text rows) has costs that do not
shrink with the sequence (launches, the profiler's passes), so below some number of tokens per head
it is slower than the dense attention it replaces.  Where that size lies was MEASURED per GPU, head
dimension, batch (the cond/uncond batch of CFG) and kept fraction by ``bench/breakeven_sweep.py``
(the whole call against SDPA, side by side in one process); the table below holds those
measurements, with the GPU name and how they were made.  The override asks :func:`sparse_pays`
once per layout (the answer is cached).

Rules, in order:
* not a CUDA device: no floor (the reference backend is for checking results, not speed);
* a GPU in :data:`MEASURED`: sparse from the measured break-even size of (precision, head_dim, batch,
  kept fraction); batches above the largest measured one use that one's size (more work per call
  only amortises the fixed costs), kept fractions between two measured ones interpolate linearly,
  below the smallest use the smallest's size (sparser is cheaper), above the largest extrapolate the
  last slope (said in the reason);
* any other GPU: the conservative rule :data:`CONSERVATIVE_RULE` (sparse only from 32,760 tokens per
  head and at most 50% kept: the smallest size and the densest fraction at which every H200 check of
  issue #17 gained, Wan-1.3B 480p 32,760 tokens at 25% and 50% kept; 14k tokens at head_dim 64 and
  7.2k at batch 3 were slower than SDPA).

The node applies it to the Triton backends only (``SVGConfig.speed_floor``; the reference backend
computes for checking, not for speed).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache

__all__ = ["BreakEven", "MEASURED", "CONSERVATIVE_RULE", "sparse_pays", "break_even_tokens"]


@dataclass(frozen=True)
class BreakEven:
    """Measured break-even sizes of one GPU.

    gpu:     ``torch.cuda.get_device_name()`` of the GPU measured.
    source:  how and when (script, versions, heads per call, date).
    tokens:  (precision, head_dim, batch, kept fraction) -> the smallest tokens per head at which the
             whole sparse call was faster than the dense call at that size and at every larger size
             measured; None where it never was within the sweep.
    """

    gpu: str
    source: str
    tokens: dict = field(default_factory=dict)


# Pasted from bench/breakeven_sweep.py's output on the GPU named (docs/benchmarks.md has the run);
# nothing here is guessed.
MEASURED: dict = {
    'NVIDIA H200': BreakEven(
        gpu='NVIDIA H200',
        source=('bench/breakeven_sweep.py, 2026-11-30, torch 2.11.0+cu130, triton 3.6.0, heads 12 (D=128) / '
                '24 (D=64), 13 frames, bf16 inputs, SDPA default as dense; fp8: the FP8 call against the faster '
                'of SDPA and FP8 dense'),
        tokens={
            ('bf16', 64, 1, 0.25): 8190,
            ('fp8', 64, 1, 0.25): 12285,
            ('bf16', 64, 1, 0.5): 12285,
            ('fp8', 64, 1, 0.5): 12285,
            ('bf16', 64, 2, 0.25): 6149,
            ('fp8', 64, 2, 0.25): 6149,
            ('bf16', 64, 2, 0.5): 8190,
            ('fp8', 64, 2, 0.5): 8190,
            ('bf16', 64, 3, 0.25): 6149,
            ('fp8', 64, 3, 0.25): 6149,
            ('bf16', 64, 3, 0.5): 6149,
            ('fp8', 64, 3, 0.5): 6149,
            ('bf16', 128, 1, 0.25): 12285,
            ('fp8', 128, 1, 0.25): 12285,
            ('bf16', 128, 1, 0.5): 12285,
            ('fp8', 128, 1, 0.5): 16380,
            ('bf16', 128, 2, 0.25): 8190,
            ('fp8', 128, 2, 0.25): 8190,
            ('bf16', 128, 2, 0.5): 8190,
            ('fp8', 128, 2, 0.5): 12285,
            ('bf16', 128, 3, 0.25): 6149,
            ('fp8', 128, 3, 0.25): 8190,
            ('bf16', 128, 3, 0.5): 8190,
            ('fp8', 128, 3, 0.5): 12285,
        }),
}

CONSERVATIVE_RULE = dict(min_tokens_per_head=32760, max_density=0.5)


def break_even_tokens(table: BreakEven, precision: str, head_dim: int, batch: int, density: float):
    """(tokens per head or None, note) from a measured table; (None, why) where it has no entry."""
    entries = {key: val for key, val in table.tokens.items() if key[0] == precision and key[1] == head_dim}
    if not entries:
        return None, f"no measurement for {precision} head_dim {head_dim}"
    batches = sorted({key[2] for key in entries})
    use_batch = max([b for b in batches if b <= batch] or [batches[0]])
    points = sorted((key[3], val) for key, val in entries.items() if key[2] == use_batch)
    note = f"batch {use_batch}" + ("" if use_batch == batch else f" (measured for batch {use_batch})")
    if any(val is None for _, val in points):
        # a fraction at which the sparse call never paid: nothing at or above it pays
        never = min(d for d, val in points if val is None)
        if density >= never - 1e-9:
            return None, f"{note}: never faster than dense at {never:.0%} kept in the sweep"
        points = [(d, val) for d, val in points if val is not None]
    if density <= points[0][0]:
        return points[0][1], f"{note}, {points[0][0]:.0%} kept"
    for (d0, t0), (d1, t1) in zip(points, points[1:]):
        if density <= d1:
            return int(t0 + (t1 - t0) * (density - d0) / (d1 - d0)), f"{note}, interpolated {d0:.0%}-{d1:.0%} kept"
    if len(points) == 1:
        return None, f"{note}: measured only at {points[0][0]:.0%} kept"
    (d0, t0), (d1, t1) = points[-2], points[-1]
    return int(t1 + (t1 - t0) * (density - d1) / (d1 - d0)), f"{note}, extrapolated above {d1:.0%} kept"


def sparse_pays(device, head_dim: int, batch: int, tokens_per_head: int, density: float,
                precision: str = "bf16") -> tuple:
    """Whether a sparse call of this shape is faster than dense on ``device``: ``(bool, reason)``."""
    import torch
    device = torch.device(device)
    if device.type != "cuda":
        return True, f"no speed floor on {device.type}"
    name = torch.cuda.get_device_name(device)
    return _decide(name, int(head_dim), int(batch), int(tokens_per_head), round(float(density), 4), precision)


@lru_cache(maxsize=1024)
def _decide(gpu: str, head_dim: int, batch: int, tokens: int, density: float, precision: str) -> tuple:
    table = MEASURED.get(gpu)
    if table is not None:
        need, note = break_even_tokens(table, precision, head_dim, batch, density)
        if need is not None:
            if tokens >= need:
                return True, f"{tokens} tokens per head >= {need}, the measured break-even on {gpu} ({note})"
            return False, (f"{tokens} tokens per head < {need}, the measured break-even on {gpu} ({note}): "
                           f"dense is faster here")
        if "never" in note:
            return False, f"sparse never beat dense on {gpu} for this shape ({note})"
        # measured GPU, unmeasured shape: fall through to the conservative rule
    rule = CONSERVATIVE_RULE
    why = f"no measured break-even for {gpu}" if table is None else f"no measured break-even for this shape on {gpu}"
    ok = tokens >= rule["min_tokens_per_head"] and density <= rule["max_density"]
    verdict = "sparse" if ok else "dense"
    return ok, (f"{why}; conservative rule (sparse only from {rule['min_tokens_per_head']} tokens per head at "
                f"<= {rule['max_density']:.0%} kept): {tokens} tokens, {density:.0%} kept -> {verdict}")

"""Turn a requested sparsity into the band width, counting exactly what is kept.

The pattern (the same for both head kinds, in each head's own order): the video is cut into blocks
of ``block_size`` head-order tokens; query block ``i`` keeps key blocks ``j`` with
``|i - j| <= width``. Global tokens (text, reference image) are always kept, as rows and as columns.
The kept fraction is counted in token pairs over the whole call (N x N), ragged last block included.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from .layout import VideoLayout


@dataclass(frozen=True)
class BandPlan:
    """The band chosen for one layout.

    width:     band half-width in blocks (0 = each block only attends its own block).
    density:   kept fraction of the call's N x N attention pairs (text rows/columns included).
    covers_all: the band keeps every pair: nothing would be skipped.
    """

    width: int
    block_size: int
    density: float
    covers_all: bool


def kept_pairs(video_tokens: int, global_tokens: int, block_size: int, width: int) -> int:
    """Query-key pairs kept by a band of ``width`` blocks plus the global rows and columns."""
    return _kept_pairs(video_tokens, global_tokens, block_size, width)


@lru_cache(maxsize=4096)
def _kept_pairs(video_tokens: int, global_tokens: int, block_size: int, width: int) -> int:
    num_blocks = -(-video_tokens // block_size)
    band = 0
    for block in range(num_blocks):
        rows = min(block_size, video_tokens - block * block_size)
        key_lo = max(0, block - width) * block_size
        key_hi = min(video_tokens, (block + width + 1) * block_size)
        band += rows * (key_hi - key_lo)
    total = video_tokens + global_tokens
    return band + video_tokens * global_tokens + global_tokens * total


def band_density(layout: VideoLayout, block_size: int, width: int) -> float:
    total = layout.total_tokens
    return kept_pairs(layout.video_tokens, layout.global_tokens, block_size, width) / (total * total)


def plan_band(layout: VideoLayout, sparsity: float, block_size: int) -> BandPlan:
    """The width whose kept fraction is closest to ``1 - sparsity`` (ties: the sparser one)."""
    return _plan_band(layout.video_tokens, layout.global_tokens, float(sparsity), int(block_size))


@lru_cache(maxsize=256)
def _plan_band(video_tokens: int, global_tokens: int, sparsity: float, block_size: int) -> BandPlan:
    target = 1.0 - sparsity
    total = video_tokens + global_tokens
    num_blocks = -(-video_tokens // block_size)
    # density grows with width: binary-search the first width at or above the target
    lo, hi = 0, max(num_blocks - 1, 0)
    while lo < hi:
        mid = (lo + hi) // 2
        if _kept_pairs(video_tokens, global_tokens, block_size, mid) / total ** 2 >= target:
            hi = mid
        else:
            lo = mid + 1
    width = lo
    if width > 0:
        above = _kept_pairs(video_tokens, global_tokens, block_size, width) / total ** 2
        below = _kept_pairs(video_tokens, global_tokens, block_size, width - 1) / total ** 2
        if target - below <= above - target:
            width -= 1
    density = _kept_pairs(video_tokens, global_tokens, block_size, width) / total ** 2
    return BandPlan(width=width, block_size=block_size, density=density,
                    covers_all=width >= num_blocks - 1)

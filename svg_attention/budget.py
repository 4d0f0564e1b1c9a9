"""Count what a band keeps, and the band width closest to a requested sparsity.

The band (SVG's pattern, the same for every head order): the video is cut into blocks of
``block_size`` head-order tokens; query block ``i`` keeps key blocks ``j`` with ``|i - j| <= width``.
Global tokens (text, reference image) are always kept, as rows and as columns. The kept fraction is
counted in token pairs over the whole call (N x N), ragged last block included. This file is the one
definition of the count; the kernels' benchmarks and tests import it.
"""
from __future__ import annotations

from functools import lru_cache

from .layout import VideoLayout


def kept_pairs(video_tokens: int, global_tokens: int, block_size: int, width: int,
               include_global_rows: bool = True) -> int:
    """Query-key pairs kept by a band of ``width`` blocks: the video rows' band and global columns,
    plus (``include_global_rows``) the global rows, which attend to all N keys."""
    pairs = _kept_pairs(int(video_tokens), int(global_tokens), int(block_size), int(width))
    if include_global_rows:
        return pairs
    return pairs - global_tokens * (video_tokens + global_tokens)


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
    """Kept fraction of the call's N x N pairs under a band of ``width`` blocks."""
    total = layout.total_tokens
    return kept_pairs(layout.video_tokens, layout.global_tokens, block_size, width) / (total * total)


@lru_cache(maxsize=256)
def closest_width(video_tokens: int, global_tokens: int, sparsity: float, block_size: int) -> int:
    """The band width whose kept fraction is closest to ``1 - sparsity`` (ties: the sparser one)."""
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
    return width

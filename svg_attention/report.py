"""What a run did, as numbers and as a picture: the head map (blocks x heads, spatial / temporal /
dense) summed over the sampling steps. Pure torch + Pillow; no ComfyUI."""
from __future__ import annotations

import torch

DENSE, SPATIAL, TEMPORAL = 0, 1, 2
COLOURS = {DENSE: (110, 110, 110), SPATIAL: (52, 120, 246), TEMPORAL: (246, 140, 40)}
# head map geometry (pixels): the cell grid starts at (MAP_LEFT, MAP_TOP or MAP_TOP_TITLED)
MAP_CELL, MAP_LEFT, MAP_TOP, MAP_TOP_TITLED = 18, 64, 8, 28


def head_map_counts(records) -> torch.Tensor:
    """records: (step, block, labels) with labels bool [B, H] (True = temporal) or None (dense).

    Returns int64 [blocks, B*H, 3]: per video self-attention block and (batch element, head), how
    many calls ran dense, spatial and temporal. A dense record counts for every head of its block.
    """
    labelled = [labels for _, _, labels in records if labels is not None]
    columns = labelled[0].numel() if labelled else 1
    blocks = 1 + max((block for _, block, _ in records), default=-1)
    counts = torch.zeros(max(blocks, 0), columns, 3, dtype=torch.int64)
    for _, block, labels in records:
        if labels is None:
            counts[block, :, DENSE] += 1
        else:
            temporal = labels.reshape(-1).to(torch.int64)
            counts[block, :, TEMPORAL] += temporal
            counts[block, :, SPATIAL] += 1 - temporal
    return counts


def render_head_map(counts: torch.Tensor, cell: int = MAP_CELL, title: str = "") -> torch.Tensor:
    """A picture of ``head_map_counts``: one cell per (block row, head column), its colour the mix
    of dense (grey), spatial (blue) and temporal (orange) calls. Returns uint8 [H, W, 3]."""
    from PIL import Image, ImageDraw

    blocks, columns = counts.shape[0], counts.shape[1] if counts.dim() == 3 else 0
    margin_left, margin_top, legend = MAP_LEFT, MAP_TOP_TITLED if title else MAP_TOP, 26
    width = max(margin_left + columns * cell + 8, 360)
    height = margin_top + blocks * cell + legend + 8
    image = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    if title:
        draw.text((8, 8), title, fill=(0, 0, 0))
    palette = torch.tensor([COLOURS[DENSE], COLOURS[SPATIAL], COLOURS[TEMPORAL]], dtype=torch.float32)
    for block in range(blocks):
        draw.text((8, margin_top + block * cell + 3), f"blk {block}", fill=(0, 0, 0))
        for column in range(columns):
            total = int(counts[block, column].sum())
            if total == 0:
                continue
            mix = (counts[block, column].to(torch.float32) / total) @ palette
            x0, y0 = margin_left + column * cell, margin_top + block * cell
            draw.rectangle([x0, y0, x0 + cell - 2, y0 + cell - 2], fill=tuple(int(c) for c in mix))
    y = margin_top + blocks * cell + 8
    for offset, (name, kind) in enumerate((("dense", DENSE), ("spatial", SPATIAL), ("temporal", TEMPORAL))):
        x = 8 + offset * 110
        draw.rectangle([x, y, x + 12, y + 12], fill=COLOURS[kind])
        draw.text((x + 18, y + 1), name, fill=(0, 0, 0))
    return torch.frombuffer(bytearray(image.tobytes()), dtype=torch.uint8).reshape(height, width, 3)

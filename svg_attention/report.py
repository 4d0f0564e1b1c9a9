"""What a run did, as numbers and as a picture: the head map (blocks x heads, one colour per label
of the run's pattern, grey for dense) summed over the sampling steps. Pure torch + Pillow; no ComfyUI.

Records are the run's (step, block, labels, head_density) per video self-attention call
(nodes/patch.py): labels int8 [B, H] indexing the pattern's ``label_names``; labels and head_density
both None for a call that ran dense.
"""
from __future__ import annotations

import torch

DENSE = 0            # column 0 of head_map_counts; label i is column i + 1
DENSE_COLOUR = (110, 110, 110)
# one colour per label, in label order (SVG: spatial blue, temporal orange)
LABEL_COLOURS = ((52, 120, 246), (246, 140, 40), (64, 170, 90), (176, 82, 200), (214, 60, 60), (40, 170, 180))
# head map geometry (pixels): the cell grid starts at (MAP_LEFT, MAP_TOP or MAP_TOP_TITLED)
MAP_CELL, MAP_LEFT, MAP_TOP, MAP_TOP_TITLED = 18, 64, 8, 28
LEGEND_STEP = 110    # pixels between the legend's entries


def palette(label_names) -> tuple:
    """RGB per head map column: dense first, then one per label name."""
    if len(label_names) > len(LABEL_COLOURS):
        raise ValueError(f"the head map has {len(LABEL_COLOURS)} label colours, the pattern has "
                         f"{len(label_names)} labels: {label_names}")
    return (DENSE_COLOUR,) + LABEL_COLOURS[:len(label_names)]


def head_map_counts(records, num_labels: int) -> torch.Tensor:
    """records: (step, block, labels, head_density) (see the module docstring).

    Returns int64 [blocks, B*H, 1 + num_labels]: per video self-attention block and (batch element,
    head), how many calls ran dense (column DENSE) and with each label (column label + 1). A dense
    record counts for every head of its block; a sparse call without labels counts nowhere.
    """
    labelled = [record[2] for record in records if record[2] is not None]
    columns = labelled[0].numel() if labelled else 1
    blocks = 1 + max((record[1] for record in records), default=-1)
    counts = torch.zeros(max(blocks, 0), columns, 1 + num_labels, dtype=torch.int64)
    for _, block, labels, head_density in records:
        if labels is not None:
            counts[block, torch.arange(columns), 1 + labels.reshape(-1).to(torch.int64)] += 1
        elif head_density is None:
            counts[block, :, DENSE] += 1
    return counts


def render_head_map(counts: torch.Tensor, label_names, cell: int = MAP_CELL, title: str = "") -> torch.Tensor:
    """A picture of ``head_map_counts``: one cell per (block row, head column), its colour the mix
    of dense (grey) and labelled calls (``palette(label_names)``). Returns uint8 [H, W, 3]."""
    from PIL import Image, ImageDraw

    colours = palette(label_names)
    blocks, columns = counts.shape[0], counts.shape[1] if counts.dim() == 3 else 0
    margin_left, margin_top, legend = MAP_LEFT, MAP_TOP_TITLED if title else MAP_TOP, 26
    width = max(margin_left + columns * cell + 8, 360, 8 + len(colours) * LEGEND_STEP)
    height = margin_top + blocks * cell + legend + 8
    image = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    if title:
        draw.text((8, 8), title, fill=(0, 0, 0))
    mixer = torch.tensor(colours, dtype=torch.float32)
    for block in range(blocks):
        draw.text((8, margin_top + block * cell + 3), f"blk {block}", fill=(0, 0, 0))
        for column in range(columns):
            total = int(counts[block, column].sum())
            if total == 0:
                continue
            mix = (counts[block, column].to(torch.float32) / total) @ mixer
            x0, y0 = margin_left + column * cell, margin_top + block * cell
            draw.rectangle([x0, y0, x0 + cell - 2, y0 + cell - 2], fill=tuple(int(c) for c in mix))
    y = margin_top + blocks * cell + 8
    for offset, (name, colour) in enumerate(zip(("dense",) + tuple(label_names), colours)):
        x = 8 + offset * LEGEND_STEP
        draw.rectangle([x, y, x + 12, y + 12], fill=colour)
        draw.text((x + 18, y + 1), name, fill=(0, 0, 0))
    return torch.frombuffer(bytearray(image.tobytes()), dtype=torch.uint8).reshape(height, width, 3)

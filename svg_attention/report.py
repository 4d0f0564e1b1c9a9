"""What a run did, as numbers, words and a picture: the head map (blocks x heads, one colour per
label of the run's pattern, grey for dense) summed over the sampling steps, and the plain-words
status of a run (interrupted, nothing sparse, not a supported model). Pure torch + Pillow; no ComfyUI.

Records are the run's (step, block, labels, head_density, conditions) per video self-attention call
(nodes/patch.py): labels int8 [B, H] indexing the pattern's ``label_names``; labels and head_density
both None for a call that ran dense; conditions: per batch entry of the call, the condition it
carries (``batch_conditions``). Records of four fields (no conditions) count as unknown conditions.

Head map columns: one group of H head columns per condition the run carried, positive prompt first,
then negative (then "batch" for entries whose condition is unknown). Batch entries of the same
condition (a latent batch, several positive prompts combined) are summed into the same columns, so
a run whose batch changes size between steps (a prompt switched on part-way through) keeps its columns.
"""
from __future__ import annotations

import math

import torch

DENSE = 0            # column 0 of head_map_counts; label i is column i + 1
DENSE_COLOUR = (110, 110, 110)
# one colour per label, in label order (SVG: spatial blue, temporal orange)
LABEL_COLOURS = ((52, 120, 246), (246, 140, 40), (64, 170, 90), (176, 82, 200), (214, 60, 60), (40, 170, 180))
# head map geometry (pixels): the cell grid starts at (MAP_LEFT, MAP_TOP or MAP_TOP_TITLED)
MAP_CELL, MAP_LEFT, MAP_TOP, MAP_TOP_TITLED = 18, 64, 8, 28
LEGEND_STEP = 110    # pixels between the legend's entries
TEXT_LINE = 14       # pixels per line of text under the grid and in message pictures
MIN_WIDTH = 360
# ComfyUI's transformer_options["cond_or_uncond"]: 0 the positive (cond), 1 the negative (uncond)
POSITIVE, NEGATIVE, UNKNOWN = 0, 1, None
CONDITION_NAMES = {POSITIVE: "positive", NEGATIVE: "negative", UNKNOWN: "batch"}


def palette(label_names) -> tuple:
    """RGB per head map column: dense first, then one per label name."""
    if len(label_names) > len(LABEL_COLOURS):
        raise ValueError(f"the head map has {len(LABEL_COLOURS)} label colours, the pattern has "
                         f"{len(label_names)} labels: {label_names}")
    return (DENSE_COLOUR,) + LABEL_COLOURS[:len(label_names)]


def batch_conditions(batch: int, cond_or_uncond) -> tuple:
    """Per batch entry of one model call, the condition it carries: POSITIVE or NEGATIVE from
    ComfyUI's ``cond_or_uncond`` (one value per equal chunk of the batch, in batch order), UNKNOWN
    for every entry where that list is missing or does not divide the batch."""
    if not cond_or_uncond or batch % len(cond_or_uncond):
        return (UNKNOWN,) * batch
    per_condition = batch // len(cond_or_uncond)
    return tuple(condition if condition in (POSITIVE, NEGATIVE) else UNKNOWN
                 for condition in cond_or_uncond for _ in range(per_condition))


def _conditions(record, batch):
    conditions = record[4] if len(record) > 4 else None
    if conditions is None or len(conditions) != batch:
        return (UNKNOWN,) * batch
    return conditions


def _per_head(record):
    """The record's [B, H] tensor (labels, else head_density), None for a dense record."""
    return record[2] if record[2] is not None else record[3]


def _batch(record):
    if _per_head(record) is not None:
        return _per_head(record).shape[0]
    if len(record) > 4 and record[4] is not None:
        return len(record[4])
    return 1


def head_map_columns(records) -> tuple:
    """(condition groups in column order, heads per group) of the records' head map."""
    present = set()
    for record in records:
        present.update(_conditions(record, _batch(record)))
    groups = tuple(c for c in (POSITIVE, NEGATIVE, UNKNOWN) if c in present)
    heads = max((_per_head(record).shape[1] for record in records if _per_head(record) is not None), default=1)
    return groups, heads


def head_map_counts(records, num_labels: int) -> torch.Tensor:
    """records: (step, block, labels, head_density[, conditions]) (see the module docstring).

    Returns int64 [blocks, groups * H, 1 + num_labels]: per video self-attention block and (condition
    group, head) column (``head_map_columns``), how many head decisions ran dense (column DENSE) and
    with each label (column label + 1), the batch entries of one condition summed. A dense record
    counts once per batch entry for every head of its block; a sparse call without labels counts
    nowhere.
    """
    groups, heads = head_map_columns(records)
    group_of = {condition: index for index, condition in enumerate(groups)}
    blocks = 1 + max((record[1] for record in records), default=-1)
    counts = torch.zeros(max(blocks, 0), len(groups) * heads, 1 + num_labels, dtype=torch.int64)
    for record in records:
        block, labels, head_density = record[1], record[2], record[3]
        first = torch.tensor([group_of[c] * heads for c in _conditions(record, _batch(record))], dtype=torch.int64)
        if labels is not None:
            columns = (first[:, None] + torch.arange(labels.shape[1])).reshape(-1)
            kinds = 1 + labels.reshape(-1).to(torch.int64)
            counts[block].index_put_((columns, kinds), torch.ones_like(columns), accumulate=True)
        elif head_density is None:
            columns = (first[:, None] + torch.arange(heads)).reshape(-1)
            counts[block].index_put_((columns, torch.zeros_like(columns)), torch.ones_like(columns), accumulate=True)
    return counts


def head_density_map(records) -> tuple:
    """For patterns without labels (svg2): per video self-attention block and (condition group, head)
    column (``head_map_columns``), the mean kept density of its sparse calls (float32 [blocks, columns],
    NaN where none ran sparse) and the share of its calls that ran dense (float32 [blocks, columns],
    NaN where there was no call). Batch entries of one condition are averaged together."""
    groups, heads = head_map_columns(records)
    group_of = {condition: index for index, condition in enumerate(groups)}
    blocks = max(1 + max((record[1] for record in records), default=-1), 0)
    kept = torch.zeros(blocks, len(groups) * heads, dtype=torch.float64)
    sparse = torch.zeros_like(kept)
    dense = torch.zeros_like(kept)
    for record in records:
        block, head_density = record[1], record[3]
        first = torch.tensor([group_of[c] * heads for c in _conditions(record, _batch(record))], dtype=torch.int64)
        columns = (first[:, None] + torch.arange(heads)).reshape(-1)
        if head_density is not None:
            kept[block].index_put_((columns,), head_density.reshape(-1).to(torch.float64), accumulate=True)
            sparse[block].index_put_((columns,), torch.ones(columns.shape, dtype=torch.float64), accumulate=True)
        elif record[2] is None:
            dense[block].index_put_((columns,), torch.ones(columns.shape, dtype=torch.float64), accumulate=True)
    mean = (kept / sparse).masked_fill(sparse == 0, math.nan)
    calls = sparse + dense
    share = (dense / calls).masked_fill(calls == 0, math.nan)
    return mean.float(), share.float()


# kept density 0 -> 1: pale to deep green (the density map of patterns without labels)
DENSITY_LOW, DENSITY_HIGH = (235, 245, 235), (20, 110, 40)


def density_colour(density: float) -> tuple:
    t = min(max(density, 0.0), 1.0)
    return tuple(int(round(lo + (hi - lo) * t)) for lo, hi in zip(DENSITY_LOW, DENSITY_HIGH))


def render_density_map(mean: torch.Tensor, dense_share: torch.Tensor, cell: int = MAP_CELL, title: str = "",
                       notes=()) -> torch.Tensor:
    """A picture of ``head_density_map``: one cell per (block row, head column), green by the mean kept
    density of its sparse calls (pale: little kept, deep: much), mixed with grey by the share of its
    calls that ran dense, the density printed in the cell when it fits; ``notes`` under the grid, then
    the legend. Returns uint8 [H, W, 3]."""
    from PIL import Image, ImageDraw

    blocks, columns = mean.shape if mean.dim() == 2 else (0, 0)
    cell = max(cell, 26)     # room for a two-digit percentage
    margin_left, margin_top, legend = MAP_LEFT, MAP_TOP_TITLED if title else MAP_TOP, 26
    width = max(margin_left + columns * cell + 8, MIN_WIDTH, 8 + 4 * LEGEND_STEP)
    notes = _wrapped(notes, width - 16)
    height = margin_top + blocks * cell + len(notes) * TEXT_LINE + legend + 8
    image = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    if title:
        draw.text((8, 8), title, fill=(0, 0, 0))
    for block in range(blocks):
        draw.text((8, margin_top + block * cell + (cell - 10) // 2), f"blk {block}", fill=(0, 0, 0))
        for column in range(columns):
            density, share = float(mean[block, column]), float(dense_share[block, column])
            if math.isnan(share):
                continue
            green = density_colour(0.0 if math.isnan(density) else density)
            colour = tuple(int(round(share * d + (1 - share) * g)) for d, g in zip(DENSE_COLOUR, green))
            x0, y0 = margin_left + column * cell, margin_top + block * cell
            draw.rectangle([x0, y0, x0 + cell - 2, y0 + cell - 2], fill=colour)
            if not math.isnan(density):
                ink = (255, 255, 255) if sum(colour) < 3 * 140 else (0, 0, 0)
                draw.text((x0 + 3, y0 + (cell - 12) // 2), f"{100 * density:.0f}", fill=ink)
    y = margin_top + blocks * cell + 4
    for line in notes:
        draw.text((8, y), line, fill=(0, 0, 0))
        y += TEXT_LINE
    y += 4
    for offset, (name, colour) in enumerate((("dense", DENSE_COLOUR), ("kept 0%", density_colour(0.0)),
                                             ("kept 50%", density_colour(0.5)), ("kept 100%", density_colour(1.0)))):
        x = 8 + offset * LEGEND_STEP
        draw.rectangle([x, y, x + 12, y + 12], fill=colour, outline=(150, 150, 150))
        draw.text((x + 18, y + 1), name, fill=(0, 0, 0))
    return _tensor(image)


def column_caption(groups, heads: int) -> str:
    """The head map's column groups in words, e.g. "columns: positive heads 0-1 | negative heads 0-1"."""
    span = "head 0" if heads == 1 else f"heads 0-{heads - 1}"
    return "columns: " + " | ".join(f"{CONDITION_NAMES[g]} {span}" for g in groups)


def render_head_map(counts: torch.Tensor, label_names, cell: int = MAP_CELL, title: str = "",
                    notes=()) -> torch.Tensor:
    """A picture of ``head_map_counts``: one cell per (block row, head column), its colour the mix
    of dense (grey) and labelled calls (``palette(label_names)``); ``notes`` (lines of text, e.g.
    the column caption, wrapped to the picture's width) under the grid, then the legend. Returns
    uint8 [H, W, 3]."""
    from PIL import Image, ImageDraw

    colours = palette(label_names)
    blocks, columns = counts.shape[0], counts.shape[1] if counts.dim() == 3 else 0
    margin_left, margin_top, legend = MAP_LEFT, MAP_TOP_TITLED if title else MAP_TOP, 26
    width = max(margin_left + columns * cell + 8, MIN_WIDTH, 8 + len(colours) * LEGEND_STEP)
    notes = _wrapped(notes, width - 16)
    height = margin_top + blocks * cell + len(notes) * TEXT_LINE + legend + 8
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
    y = margin_top + blocks * cell + 4
    for line in notes:
        draw.text((8, y), line, fill=(0, 0, 0))
        y += TEXT_LINE
    y += 4
    for offset, (name, colour) in enumerate(zip(("dense",) + tuple(label_names), colours)):
        x = 8 + offset * LEGEND_STEP
        draw.rectangle([x, y, x + 12, y + 12], fill=colour)
        draw.text((x + 18, y + 1), name, fill=(0, 0, 0))
    return _tensor(image)


def render_message(title: str, lines, width: int = 2 * MIN_WIDTH) -> torch.Tensor:
    """A picture that says in words why there is no head map to show: the title, then the lines
    (wrapped to ``width`` pixels). Returns uint8 [H, W, 3]."""
    from PIL import Image, ImageDraw

    wrapped = _wrapped(lines, width - 16)
    height = 8 + TEXT_LINE * (2 + len(wrapped)) + 8
    image = Image.new("RGB", (width, height), (255, 255, 255))
    draw = ImageDraw.Draw(image)
    draw.text((8, 8), title, fill=(0, 0, 0))
    for index, line in enumerate(wrapped):
        draw.text((8, 8 + TEXT_LINE * (index + 2)), line, fill=(60, 60, 60))
    return _tensor(image)


def _wrapped(lines, pixels: int) -> list:
    """``lines`` word-wrapped to ``pixels`` wide in Pillow's default font."""
    from PIL import ImageFont

    font = ImageFont.load_default()
    out = []
    for line in lines:
        current = ""
        for word in line.split(" "):
            candidate = f"{current} {word}" if current else word
            if current and font.getlength(candidate) > pixels:
                out.append(current)
                candidate = word
            current = candidate
        out.append(current)
    return out


def _tensor(image) -> torch.Tensor:
    return torch.frombuffer(bytearray(image.tobytes()), dtype=torch.uint8).reshape(image.height, image.width, 3)


# ------------------------------------------------------------------ which run made these samples
def latent_fingerprint(latent):
    """A few numbers that tell a sampler's output latent apart from any other: (shape, sum, sum of
    absolute values, sum of squares), in float64 (one host sync). None for what is not a plain tensor."""
    if not isinstance(latent, torch.Tensor) or latent.is_nested or not latent.is_floating_point():
        return None
    values = latent.detach().to(torch.float64)
    sums = torch.stack([values.sum(), values.abs().sum(), values.square().sum()]).tolist()
    return (tuple(latent.shape),) + tuple(sums)


def same_latent(a, b, rtol: float = 1e-3) -> bool:
    """Whether two ``latent_fingerprint``s are of the same latent, allowing for a cast on the way
    (ComfyUI moves the sampler's output to its intermediate device and dtype)."""
    if a is None or b is None or a[0] != b[0]:
        return False
    scale = max(a[2], b[2], 1e-12)
    return all(math.isclose(x, y, rel_tol=rtol, abs_tol=rtol * scale) for x, y in zip(a[1:], b[1:]))


# ------------------------------------------------------------------ a run in plain words
def ending(report) -> str | None:
    """Why ``report``'s run ended early ("interrupted after 3 of 400 steps"), or None if it finished.
    ``report``: ``ended`` (None, "interrupted" or what stopped it), ``steps`` and ``steps_done``."""
    ended = getattr(report, "ended", None)
    if ended is None:
        return None
    steps = f"after {report.steps_done} of {report.steps} steps"
    if ended == "interrupted":
        return f"interrupted {steps}"
    return f"stopped {steps} by an error ({ended})"


def why_nothing_sparse(summary: dict) -> str | None:
    """For a run without a sparse attention call, why, in words (None if it had sparse calls)."""
    if summary.get("sparse_calls"):
        return None
    if summary.get("unsupported_model"):
        return summary["unsupported_model"]          # "not a supported video model: ..."
    reasons = sorted(summary.get("dense_reasons", {}).items(), key=lambda item: -item[1])
    if not reasons:
        return "nothing ran sparse in this run: no video self-attention call of the model reached the SVG patch"
    because = "; ".join(f"{reason} ({count} calls)" for reason, count in reasons)
    return f"nothing ran sparse in this run because: {because}"

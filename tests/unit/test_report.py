import torch

from svg_pack.svg_attention.report import DENSE, head_map_counts, palette, render_head_map

LABEL_NAMES = ("spatial", "temporal")               # the "svg" pattern's labels
SPATIAL, TEMPORAL = 1, 2                             # their head map columns (label + 1)
COLOURS = dict(enumerate(palette(LABEL_NAMES)))


def records_with_both_kinds():
    labels_a = torch.tensor([[1, 0], [0, 0]], dtype=torch.int8)     # B=2, H=2
    labels_b = torch.tensor([[1, 1], [0, 0]], dtype=torch.int8)
    return [(0, 0, None, None), (0, 1, None, None),                 # a warm-up-like dense step
            (1, 0, None, None), (1, 1, labels_a, None),             # block 0 kept dense
            (2, 0, None, None), (2, 1, labels_b, None)]


def test_svg_colours_are_blue_orange_and_grey():
    assert (COLOURS[SPATIAL], COLOURS[TEMPORAL], COLOURS[DENSE]) == ((52, 120, 246), (246, 140, 40), (110, 110, 110))


def test_counts_per_block_and_head():
    counts = head_map_counts(records_with_both_kinds(), len(LABEL_NAMES))
    assert counts.shape == (2, 4, 3)
    assert counts[0, :, DENSE].tolist() == [3, 3, 3, 3]
    assert counts[1, :, DENSE].tolist() == [1, 1, 1, 1]
    assert counts[1, :, TEMPORAL].tolist() == [2, 1, 0, 0]
    assert counts[1, :, SPATIAL].tolist() == [0, 1, 2, 2]


def test_picture_shows_both_head_kinds_and_dense():
    picture = render_head_map(head_map_counts(records_with_both_kinds(), len(LABEL_NAMES)), LABEL_NAMES, title="test")
    assert picture.dtype == torch.uint8 and picture.shape[-1] == 3
    pixels = {tuple(p) for p in picture.reshape(-1, 3).tolist()}
    for kind in (SPATIAL, TEMPORAL, DENSE):   # the legend and the cells (pure columns exist)
        assert COLOURS[kind] in pixels
    # block 1, head column 0 ran dense once and temporal twice: its colour is that mix
    cell, left, top = 18, 64, 28
    mix = tuple(int((COLOURS[DENSE][c] + 2 * COLOURS[TEMPORAL][c]) / 3) for c in range(3))
    assert tuple(picture[top + cell + 5, left + 5].tolist()) == mix
    spatial_mix = tuple(int((COLOURS[DENSE][c] + 2 * COLOURS[SPATIAL][c]) / 3) for c in range(3))
    assert tuple(picture[top + cell + 5, left + 2 * cell + 5].tolist()) == spatial_mix
    assert tuple(picture[top + 5, left + 5].tolist()) == COLOURS[DENSE]

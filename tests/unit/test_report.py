from types import SimpleNamespace

import pytest
import torch

from svg_pack.svg_attention.report import (DENSE, NEGATIVE, POSITIVE, UNKNOWN, batch_conditions, column_caption,
                                           ending, head_map_columns, head_map_counts, latent_fingerprint, palette,
                                           render_head_map, render_message, same_latent, why_nothing_sparse)

LABEL_NAMES = ("spatial", "temporal")               # the "svg" pattern's labels
SPATIAL, TEMPORAL = 1, 2                             # their head map columns (label + 1)
COLOURS = dict(enumerate(palette(LABEL_NAMES)))
CFG = (POSITIVE, NEGATIVE)                           # a CFG batch of one latent: positive, then negative


def records_with_both_kinds():
    labels_a = torch.tensor([[1, 0], [0, 0]], dtype=torch.int8)     # B=2 (positive, negative), H=2
    labels_b = torch.tensor([[1, 1], [0, 0]], dtype=torch.int8)
    return [(0, 0, None, None, CFG), (0, 1, None, None, CFG),       # a step with both blocks dense
            (1, 0, None, None, CFG), (1, 1, labels_a, None, CFG),   # block 0 kept dense
            (2, 0, None, None, CFG), (2, 1, labels_b, None, CFG)]


def test_svg_colours_are_blue_orange_and_grey():
    assert (COLOURS[SPATIAL], COLOURS[TEMPORAL], COLOURS[DENSE]) == ((52, 120, 246), (246, 140, 40), (110, 110, 110))


def test_counts_per_block_and_head():
    counts = head_map_counts(records_with_both_kinds(), len(LABEL_NAMES))
    assert counts.shape == (2, 4, 3)                # columns: positive head 0, 1, negative head 0, 1
    assert counts[0, :, DENSE].tolist() == [3, 3, 3, 3]
    assert counts[1, :, DENSE].tolist() == [1, 1, 1, 1]
    assert counts[1, :, TEMPORAL].tolist() == [2, 1, 0, 0]
    assert counts[1, :, SPATIAL].tolist() == [0, 1, 2, 2]
    assert head_map_columns(records_with_both_kinds()) == ((POSITIVE, NEGATIVE), 2)


def test_batch_conditions_per_entry():
    assert batch_conditions(2, [0, 1]) == (POSITIVE, NEGATIVE)
    assert batch_conditions(4, [0, 1]) == (POSITIVE, POSITIVE, NEGATIVE, NEGATIVE)   # a latent batch of 2
    assert batch_conditions(3, [0, 0, 1]) == (POSITIVE, POSITIVE, NEGATIVE)        # two positive prompts
    assert batch_conditions(1, [1]) == (NEGATIVE,)
    assert batch_conditions(3, [0, 1]) == (UNKNOWN,) * 3      # does not divide the batch
    assert batch_conditions(2, None) == (UNKNOWN, UNKNOWN)


def test_batch_size_changing_within_a_run_keeps_the_columns():
    """The issue's reproduction as records: a positive prompt switched on part-way batches 2
    conditions in some steps and 3 in others; the counts hold both, per condition and head."""
    two = torch.tensor([[0, 1], [1, 1]], dtype=torch.int8)           # positive, negative
    three = torch.tensor([[0, 1], [1, 0], [1, 1]], dtype=torch.int8)  # positive, positive, negative
    records = [(0, 0, None, None, (POSITIVE, NEGATIVE)), (0, 1, two, None, (POSITIVE, NEGATIVE)),
               (1, 0, None, None, (POSITIVE, POSITIVE, NEGATIVE)), (1, 1, three, None, (POSITIVE, POSITIVE, NEGATIVE))]
    counts = head_map_counts(records, len(LABEL_NAMES))
    assert counts.shape == (2, 4, 3)
    # block 0 dense: once per batch entry, so the positive columns count 1 + 2, the negative 1 + 1
    assert counts[0, :, DENSE].tolist() == [3, 3, 2, 2]
    # block 1: positive head 0 spatial in 2 of its 3 entries, head 1 temporal in 2; negative temporal
    assert counts[1, 0].tolist() == [0, 2, 1] and counts[1, 1].tolist() == [0, 1, 2]
    assert counts[1, 2].tolist() == [0, 0, 2] and counts[1, 3].tolist() == [0, 0, 2]
    # every head decision is counted once
    assert int(counts[:, :, 1:].sum()) == two.numel() + three.numel()


def test_records_without_conditions_fold_the_batch_per_head():
    labels = torch.tensor([[0, 1], [1, 1]], dtype=torch.int8)
    counts = head_map_counts([(0, 0, labels, None), (0, 1, None, None)], len(LABEL_NAMES))
    assert head_map_columns([(0, 0, labels, None)]) == ((UNKNOWN,), 2)
    assert counts.shape == (2, 2, 3)
    assert counts[0].tolist() == [[0, 1, 1], [0, 0, 2]]
    assert counts[1, :, DENSE].tolist() == [1, 1]


def test_column_caption_names_the_groups():
    assert column_caption((POSITIVE, NEGATIVE), 2) == "columns: positive heads 0-1 | negative heads 0-1"
    assert column_caption((UNKNOWN,), 1) == "columns: batch head 0"


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


def test_notes_are_written_under_the_grid_without_moving_it():
    counts = head_map_counts(records_with_both_kinds(), len(LABEL_NAMES))
    plain = render_head_map(counts, LABEL_NAMES, title="test")
    long_note = "nothing ran sparse in this run because: " + "a long reason " * 20
    noted = render_head_map(counts, LABEL_NAMES, title="test", notes=["columns: positive heads 0-1", long_note])
    assert noted.shape[1] == plain.shape[1]                 # wrapped to the picture's width
    assert noted.shape[0] >= plain.shape[0] + 3 * 14         # at least three lines of text
    grid_rows = 28 + 2 * 18
    assert torch.equal(noted[:grid_rows], plain[:grid_rows])
    text_band = noted[grid_rows:grid_rows + 3 * 14]
    assert (text_band < 128).any()                           # dark text pixels are there


def test_message_picture_has_the_words():
    lines = ["No SVG patch on this model: " + "words " * 60]
    picture = render_message("SVG: no SVG patch on this model", lines)
    assert picture.dtype == torch.uint8 and picture.shape[-1] == 3
    assert picture.shape[0] > 8 + 14 * 4                   # title, gap, the message on several lines
    rows_with_ink = (picture < 128).any(dim=-1).any(dim=-1).nonzero().flatten()
    assert rows_with_ink.numel() and int(rows_with_ink.max()) > 8 + 14 * 3


def test_fingerprint_tells_a_latent_from_others_and_survives_a_cast():
    g = torch.Generator().manual_seed(0)
    latent = torch.randn(1, 16, 4, 32, 32, generator=g)
    mark = latent_fingerprint(latent)
    assert same_latent(mark, latent_fingerprint(latent.clone()))
    assert same_latent(mark, latent_fingerprint(latent.to(torch.float16)))   # an intermediate dtype on the way
    assert not same_latent(mark, latent_fingerprint(torch.zeros_like(latent)))  # e.g. the empty latent
    assert not same_latent(mark, latent_fingerprint(latent * 0.99))
    another_run = torch.randn(latent.shape, generator=g)                       # same shape, other values
    assert not same_latent(mark, latent_fingerprint(another_run))
    assert not same_latent(mark, latent_fingerprint(latent.reshape(1, 16, 4, 16, 64)))
    assert latent_fingerprint(None) is None and not same_latent(mark, None)


def test_endings_in_words():
    finished = SimpleNamespace(ended=None, steps=4, steps_done=4)
    interrupted = SimpleNamespace(ended="interrupted", steps=400, steps_done=12)
    failed = SimpleNamespace(ended="RuntimeError: out of memory", steps=20, steps_done=3)
    assert ending(finished) is None
    assert ending(interrupted) == "interrupted after 12 of 400 steps"
    assert ending(failed) == "stopped after 3 of 20 steps by an error (RuntimeError: out of memory)"


@pytest.mark.parametrize("summary, expected", [
    ({"sparse_calls": 3, "dense_reasons": {}}, None),
    ({"sparse_calls": 0, "unsupported_model": "not a supported video model: model class X has no SVG layout adapter",
      "dense_reasons": {}}, "not a supported video model: model class X has no SVG layout adapter"),
    ({"sparse_calls": 0, "unsupported_model": None, "dense_reasons": {"dense warm-up (100% of the steps)": 8,
                                                                       "cross-attention": 16}},
     "nothing ran sparse in this run because: cross-attention (16 calls); dense warm-up (100% of the steps) (8 calls)"),
    ({"sparse_calls": 0, "dense_reasons": {}},
     "nothing ran sparse in this run: no video self-attention call of the model reached the SVG patch"),
])
def test_why_nothing_sparse(summary, expected):
    assert why_nothing_sparse(summary) == expected


def test_positive_columns_come_first_whatever_the_batch_order():
    """ComfyUI 0.3.75 batches a CFG pair negative first (cond_or_uncond [1, 0]): the map still
    shows the positive prompt's heads first."""
    labels = torch.tensor([[1, 1], [0, 0]], dtype=torch.int8)   # negative: temporal; positive: spatial
    counts = head_map_counts([(0, 0, labels, None, batch_conditions(2, [1, 0]))], len(LABEL_NAMES))
    assert counts[0, :, SPATIAL].tolist() == [1, 1, 0, 0] and counts[0, :, TEMPORAL].tolist() == [0, 0, 1, 1]


# ------------------------------------------------------------------ patterns without labels (svg2)
def svg2_records():
    """Per-head kept densities [B=2 (positive, negative), H=2]; block 0 kept dense; two sparse steps."""
    a = torch.tensor([[0.2, 0.4], [0.3, 0.5]])
    b = torch.tensor([[0.4, 0.6], [0.1, 0.1]])
    return [(1, 0, None, None, CFG), (1, 1, None, a, CFG),
            (2, 0, None, None, CFG), (2, 1, None, b, CFG)]


def test_density_map_averages_each_heads_kept_density_and_counts_dense_calls():
    from svg_pack.svg_attention.report import head_density_map
    records = svg2_records()
    assert head_map_columns(records) == ((POSITIVE, NEGATIVE), 2)     # heads from the densities' shape
    mean, dense_share = head_density_map(records)
    assert mean.shape == dense_share.shape == (2, 4)
    assert torch.isnan(mean[0]).all() and dense_share[0].tolist() == [1.0] * 4
    assert torch.allclose(mean[1], torch.tensor([0.3, 0.5, 0.2, 0.3]))
    assert dense_share[1].tolist() == [0.0] * 4
    # the label map of the same records counts only the dense block: a sparse call without labels counts nowhere
    assert head_map_counts(records, 0)[1].sum() == 0


def test_density_map_picture_colours_cells_by_density_and_grey_for_dense():
    from svg_pack.svg_attention.report import density_colour, head_density_map, render_density_map
    mean, dense_share = head_density_map(svg2_records())
    picture = render_density_map(mean, dense_share, title="SVG (svg2): test", notes=["columns: positive heads 0-1"])
    assert picture.dtype == torch.uint8 and picture.shape[-1] == 3
    pixels = {tuple(p) for p in picture.reshape(-1, 3).tolist()}
    assert DENSE_COLOUR_RGB in pixels                                        # block 0
    for density in (0.3, 0.5, 0.2):                                          # block 1's cells
        assert density_colour(density) in pixels
    assert density_colour(0.0) != density_colour(1.0)


DENSE_COLOUR_RGB = (110, 110, 110)

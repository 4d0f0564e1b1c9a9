"""Single-process parts of the Ulysses layer: head split, sequence shards, one-rank path."""
import pytest
import torch

from svg_pack.svg_attention import VideoLayout, plan_band, sample_rows, svg_attention
from svg_pack.svg_attention.ulysses import (SequenceShards, attend_gathered, head_counts, head_offsets,
                                            ulysses_attention)
from svg_pack.svg_attention.ulysses_svg import svg_ulysses_attention


def test_head_split_uneven_and_contiguous():
    assert head_counts(3, 2) == (2, 1)
    assert head_offsets(3, 2) == (0, 2)
    assert head_counts(40, 2) == (20, 20)
    assert head_counts(5, 4) == (2, 1, 1, 1)
    assert head_offsets(5, 4) == (0, 2, 3, 4)
    assert head_counts(2, 4) == (1, 1, 0, 0)


def test_one_segment_is_identity_with_tail_padding():
    shards = SequenceShards((95,), 2)
    assert shards.local_tokens == 48 and shards.gathered_tokens == 96
    assert shards.gathered_index() is None
    assert shards.padding_index().tolist() == [95]


def test_two_segments_interleave_by_rank():
    # video 5 tokens, text 3 tokens over 2 ranks: rank 0 holds [v0 v1 v2 | t0 t1], rank 1 [v3 v4 pad | t2 pad]
    shards = SequenceShards((5, 3), 2)
    assert shards.chunk_tokens == (3, 2) and shards.local_tokens == 5
    assert shards.gathered_index().tolist() == [0, 1, 2, 5, 6, 3, 4, 8]
    assert shards.padding_index().tolist() == [7, 9]


def test_shards_validation_reports_every_problem():
    with pytest.raises(ValueError, match="segments need >= 1 token.*world_size must be >= 1"):
        SequenceShards((0,), 0)


def test_attend_gathered_drops_padding_and_reorders_segments():
    shards = SequenceShards((5, 3), 2)
    gathered = torch.arange(shards.gathered_tokens, dtype=torch.float32).view(1, 1, -1, 1).expand(1, 1, -1, 2)
    out = torch.full_like(gathered, 7.0)
    seen = {}

    def copy_queries(q, k, v, out_h, head_offset):
        seen["q"], seen["offset"] = q[0, 0, :, 0].tolist(), head_offset
        out_h.copy_(q + 100)

    attend_gathered(gathered, gathered, gathered, out, copy_queries, shards, head_offset=4)
    assert seen == {"q": [0, 1, 2, 5, 6, 3, 4, 8], "offset": 4}
    assert out[0, 0, :, 0].tolist() == [100, 101, 102, 103, 104, 105, 106, 0, 108, 0]


def test_one_rank_without_process_group_is_the_plain_call():
    assert not torch.distributed.is_initialized()
    layout = VideoLayout(4, 20, 0, 9)
    plan = plan_band(layout, 0.5, 16)
    g = torch.Generator().manual_seed(0)
    q, k, v = torch.randn(3, 2, layout.total_tokens, 3, 16, generator=g).unbind(0)
    rows = sample_rows(layout.video_tokens, 8, torch.Generator().manual_seed(1), "cpu")
    ref, temporal = svg_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), layout, plan, rows)
    out, labels = svg_ulysses_attention(q, k, v, layout, plan, rows)
    assert torch.equal(out, ref.transpose(1, 2))
    assert torch.equal(labels, temporal.to(torch.int8))


def test_shape_checks():
    q = torch.zeros(1, 4, 2, 8)
    with pytest.raises(ValueError, match="chunks"):
        ulysses_attention(q, q, q, lambda *a: None, chunks=0)
    with pytest.raises(ValueError, match="does not match"):
        ulysses_attention(q, q, q, lambda *a: None, shards=SequenceShards((9,), 1))

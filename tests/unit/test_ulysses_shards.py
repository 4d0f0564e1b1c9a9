"""Single-process parts of the Ulysses layer: head split, sequence shards, one-rank path, the
pattern's local attention records."""
import pytest
import torch

from svg_pack.svg_attention import (AttendContext, PatternDecision, PatternPlan, SVGConfig, VideoLayout, get_pattern,
                                    reference_backend, sample_rows, sparse_attention)
from svg_pack.svg_attention.ulysses import (SequenceShards, attend_gathered, head_counts, head_offsets,
                                            ulysses_attention)
from svg_pack.svg_attention.ulysses_pattern import PatternLocalAttention, merge_decisions, ulysses_sparse_attention


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
    """No process group: the plain ``sparse_attention`` call, rows drawn once from the generator
    (as on one GPU) however many head groups (chunks) the call is cut into."""
    assert not torch.distributed.is_initialized()
    layout = VideoLayout(4, 20, 0, 9)
    plan = get_pattern("svg").plan(layout, SVGConfig(sparsity=0.5, block_size=16, sampled_rows=8))
    g = torch.Generator().manual_seed(0)
    q, k, v = torch.randn(3, 2, layout.total_tokens, 3, 16, generator=g).unbind(0)
    ref, decision = sparse_attention(q.transpose(1, 2), k.transpose(1, 2), v.transpose(1, 2), layout, plan,
                                     pattern="svg", generator=torch.Generator().manual_seed(1))
    out, merged = ulysses_sparse_attention(q, k, v, layout, plan, pattern="svg",
                                           generator=torch.Generator().manual_seed(1))
    assert torch.equal(out, ref.transpose(1, 2))
    assert torch.equal(merged.labels, decision.labels)
    assert merged.head_density is None and decision.head_density is None
    assert float(merged.density) == pytest.approx(plan.density, rel=1e-6)


class GroupPattern:
    """A test pattern writing its head's global index into the output and returning the global
    head index as label and a head density (or none, or one per call, as asked)."""

    name = "test-group"
    label_names = tuple(f"head{i}" for i in range(8))
    ops = ()

    def __init__(self, labels=True, head_density=True, density_tensor=False):
        self.labels, self.head_density, self.density_tensor = labels, head_density, density_tensor

    def plan(self, layout, config):
        return PatternPlan(density=0.25, covers_all=False)

    def new_run_state(self):
        return None

    def attend(self, q, k, v, layout, plan, ctx):
        heads = torch.arange(q.shape[1]) + ctx.head_offset
        ctx.out.copy_(heads.view(1, -1, 1, 1).to(q.dtype).expand_as(ctx.out))
        labels = heads.to(torch.int8).expand(q.shape[0], -1) if self.labels else None
        density = (heads.float() / 10).expand(q.shape[0], -1) if self.head_density else None
        call_density = 0.125 * ctx.head_offset
        if self.density_tensor:  # data-dependent: a 0-d tensor on the device
            call_density = torch.tensor(call_density)
        return PatternDecision(labels=labels, head_density=density, density=call_density)


def test_local_attention_records_at_global_heads():
    """Two head groups given to one PatternLocalAttention (as a rank's chunks): each decision lands at
    its global heads, -1 elsewhere; the merge of one process is the identity; a pattern without
    labels or head densities gives None, and the call's density is then the mean of the groups'."""
    layout = VideoLayout(2, 4)
    q = torch.randn(1, 2, layout.total_tokens, 4)
    out = torch.empty_like(q)
    ctx = AttendContext(backend=reference_backend, out=None)
    local = PatternLocalAttention(GroupPattern(), layout, PatternPlan(density=0.25, covers_all=False), ctx,
                                  heads=6, batch=1)
    local(q, q, q, out, head_offset=1)
    assert out[0, :, 0, 0].tolist() == [1, 2]
    local(q[:, :1], q[:, :1], q[:, :1], out[:, :1], head_offset=4)
    assert local.labels.tolist() == [[-1, 1, 2, -1, 4, -1]]
    assert local.head_density[0].tolist() == pytest.approx([-1, 0.1, 0.2, -1, 0.4, -1])
    [merged] = merge_decisions([local])
    assert torch.equal(merged.labels, local.labels)

    for density_tensor in (False, True):
        plain = PatternLocalAttention(GroupPattern(labels=False, head_density=False, density_tensor=density_tensor),
                                      layout, PatternPlan(density=0.25, covers_all=False), ctx, heads=3, batch=1)
        plain(q, q, q, out, head_offset=0)        # two heads at density 0
        plain(q[:, :1], q[:, :1], q[:, :1], out[:, :1], head_offset=2)   # one head at density 0.25
        assert plain.head_density.tolist() == [[0, 0, 0.25]]
        [merged_plain, merged_again] = merge_decisions([plain, local])   # two calls, one all-reduce
        assert merged_plain.labels is None and merged_plain.head_density is None
        assert float(merged_plain.density) == pytest.approx(0.25 / 3)
        assert torch.equal(merged_again.head_density, local.head_density)


def test_local_attention_refuses_a_sequence_of_another_length():
    layout = VideoLayout(2, 4)
    q = torch.randn(1, 1, layout.total_tokens + 1, 4)
    local = PatternLocalAttention(GroupPattern(), layout, PatternPlan(density=0.25, covers_all=False),
                                  AttendContext(backend=reference_backend, out=None), heads=1, batch=1)
    with pytest.raises(ValueError, match="9 tokens, the layout has 8"):
        local(q, q, q, torch.empty_like(q), head_offset=0)


def test_shape_checks():
    q = torch.zeros(1, 4, 2, 8)
    with pytest.raises(ValueError, match="chunks"):
        ulysses_attention(q, q, q, lambda *a: None, chunks=0)
    with pytest.raises(ValueError, match="does not match"):
        ulysses_attention(q, q, q, lambda *a: None, shards=SequenceShards((9,), 1))

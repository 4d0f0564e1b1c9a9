"""The pattern seam: registry, the "svg" pattern's plan and labels, what the orchestrator hands a
pattern, and the backend resolution by the ops a pattern needs."""
from dataclasses import dataclass

import pytest
import torch

from svg_pack.svg_attention import (REFERENCE_OPS, AttendContext, Backend, PatternDecision, PatternPlan, SVGConfig,
                                    VideoLayout, band_attention_reference, get_pattern, global_rows_dense,
                                    label_heads, pattern_names, plan_band, reference_backend, register,
                                    resolve_backend, sample_rows, sparse_attention)
from svg_pack.svg_attention import backends


@dataclass(frozen=True, kw_only=True)
class ParityPlan(PatternPlan):
    width: int


class ParityPattern:
    """A test pattern: heads of even global index frame-major, odd ones position-major (a label per
    global head number, so ``head_offset`` matters); the band ops of the reference; no profiling."""

    name = "test-parity"
    label_names = ("even", "odd")
    ops = ("band_attention", "global_rows")

    def plan(self, layout, config):
        return ParityPlan(density=0.5, covers_all=False, width=1)

    def new_run_state(self):
        return {"calls": 0}

    def attend(self, q, k, v, layout, plan, ctx: AttendContext) -> PatternDecision:
        ctx.run_state["calls"] += 1
        ctx.run_state["seen"] = (ctx.rows, ctx.block_index, ctx.head_offset)
        heads = torch.arange(q.shape[1], device=q.device) + ctx.head_offset
        labels = (heads % 2).to(torch.int8).expand(q.shape[0], -1)
        ctx.backend["band_attention"](q, k, v, layout, plan.width, 16, labels, key_bias=ctx.key_bias,
                                      scale=ctx.scale, out=ctx.out)
        ctx.backend["global_rows"](q, k, v, layout, key_bias=ctx.key_bias, scale=ctx.scale, out=ctx.out)
        return PatternDecision(labels=labels, head_density=torch.full(labels.shape, 0.5), density=0.5)


if "test-parity" not in pattern_names():
    register(ParityPattern())


def test_svg_is_registered_and_unknown_names_are_refused():
    svg = get_pattern("svg")
    assert (svg.name, svg.label_names, svg.ops) == ("svg", ("spatial", "temporal"),
                                                   ("profile", "band_attention", "global_rows"))
    with pytest.raises(ValueError, match="unknown sparsity pattern 'nope'.*svg"):
        get_pattern("nope")
    with pytest.raises(ValueError, match="pattern"):
        SVGConfig(pattern="nope")
    assert SVGConfig(pattern="test-parity").pattern == "test-parity"


def test_register_checks_the_protocol_and_refuses_a_second_name():
    with pytest.raises(ValueError, match="already registered"):
        register(ParityPattern())

    class Incomplete:
        name = "test-incomplete"
        label_names = ("a",)

    with pytest.raises(ValueError, match="no ops.*no plan"):
        register(Incomplete())
    assert "test-incomplete" not in pattern_names()


def test_svg_plan_is_the_band_plus_rows_and_a_reason_for_short_videos():
    svg = get_pattern("svg")
    config = SVGConfig(sparsity=0.75, block_size=16, sampled_rows=24)
    long = VideoLayout(8, 40, 0, 9)
    plan = svg.plan(long, config)
    band = plan_band(long, 0.75, 16)
    assert (plan.width, plan.block_size, plan.density, plan.covers_all) == (band.width, 16, band.density, band.covers_all)
    assert plan.profile_rows == 24 and plan.dense_reason is None
    assert plan.describe() == f"band width {band.width} blocks, density {band.density:.3f}"
    short = svg.plan(VideoLayout(2, 20), config)              # 40 tokens < 4 blocks of 16
    assert short.dense_reason == "video too short to gain (40 tokens)"


def test_labels_are_int8_temporal_where_its_error_is_smaller_ties_spatial():
    errors = torch.tensor([[[1.0, 0.5], [0.5, 1.0], [0.7, 0.7]]])
    labels = label_heads(errors)
    assert labels.dtype == torch.int8 and labels.tolist() == [[1, 0, 0]]


def test_orchestrator_hands_the_pattern_rows_block_offset_state_and_out():
    layout = VideoLayout(4, 24, 3, 5)
    g = torch.Generator().manual_seed(0)
    q, k, v = (torch.randn(2, 3, layout.total_tokens, 16, generator=g) for _ in range(3))
    key_bias = torch.zeros(1, layout.total_tokens)
    key_bias[0, -2:] = -1e9
    pattern, state = get_pattern("test-parity"), {"calls": 0}
    plan = pattern.plan(layout, SVGConfig())
    out = torch.full_like(q, float("nan"))
    got, decision = sparse_attention(q, k, v, layout, plan, pattern="test-parity", key_bias=key_bias, out=out,
                                     block_index=5, head_offset=3, run_state=state)
    assert got is out and not torch.isnan(out).any()
    assert state["calls"] == 1 and state["seen"] == (None, 5, 3)     # profile_rows 0: no rows drawn
    assert decision.labels.tolist() == [[1, 0, 1]] * 2                # global heads 3, 4, 5
    expected = band_attention_reference(q, k, v, layout, 1, 16, decision.labels, key_bias=key_bias)
    expected = global_rows_dense(q, k, v, layout, key_bias=key_bias, out=expected)
    assert torch.equal(out, expected)


def test_orchestrator_draws_the_plans_rows_with_the_runs_generator():
    layout = VideoLayout(6, 40)
    q, k, v = (torch.randn(1, 2, layout.total_tokens, 16) for _ in range(3))
    config = SVGConfig(sparsity=0.75, block_size=16, sampled_rows=20)
    plan = get_pattern("svg").plan(layout, config)
    drawn = sample_rows(layout.video_tokens, 20, torch.Generator().manual_seed(9), "cpu")
    out_a, a = sparse_attention(q, k, v, layout, plan, generator=torch.Generator().manual_seed(9))
    out_b, b = sparse_attention(q, k, v, layout, plan, rows=drawn)
    assert torch.equal(out_a, out_b) and torch.equal(a.labels, b.labels)
    assert a.head_density is None and a.density == plan.density


def test_resolve_backend_by_the_ops_a_pattern_needs(monkeypatch):
    cpu = torch.device("cpu")
    backend, why = resolve_backend("reference", cpu, torch.float32, 64, ("profile",))
    assert backend is reference_backend and set(backend.ops) == set(REFERENCE_OPS)
    with pytest.raises(ValueError, match="kmeans"):
        resolve_backend("auto", cpu, torch.float32, 64, ("kmeans",))
    with pytest.raises(KeyError, match="no op 'kmeans'"):
        reference_backend["kmeans"]
    fake = Backend("triton", {"band_attention": band_attention_reference})
    monkeypatch.setattr(backends, "triton_backend_or_reason", lambda *args: (fake, ""))
    backend, why = resolve_backend("auto", cpu, torch.float16, 64, ("band_attention", "global_rows"))
    assert backend.name == "triton+reference" and backend["global_rows"] is global_rows_dense
    assert "the reference for global_rows" in why
    backend, _ = resolve_backend("auto", cpu, torch.float16, 64, ("band_attention",))
    assert backend is fake


def test_the_nodes_patterns_are_svg_and_svg2_and_probes_stay_off_its_menu():
    from svg_pack.svg_attention.patterns import get_pattern, pattern_names, user_pattern_names
    assert user_pattern_names() == ("svg", "svg2")
    assert set(user_pattern_names()) <= set(pattern_names())
    svg2 = get_pattern("svg2")
    assert svg2.label_names == () and "svg2_attention" in svg2.ops and "global_rows" in svg2.ops


def test_svg2_settings_are_validated_together_and_map_onto_semantic_settings():
    from svg_pack.svg_attention.patterns.svg2 import semantic_settings
    with pytest.raises(ValueError) as error:
        SVGConfig(pattern="svg2", svg2_top_p=1.5, svg2_query_clusters=-1, svg2_key_clusters=5000,
                  svg2_warm_iterations=0, svg2_key_lists="tiles")
    message = str(error.value)
    for name in ("svg2_top_p", "svg2_query_clusters", "svg2_key_clusters", "svg2_warm_iterations", "svg2_key_lists"):
        assert name in message, (name, message)
    default = semantic_settings(SVGConfig(pattern="svg2"))
    assert default.selection == "budget" and default.warm_iterations == 1 and default.full_iterations == 20
    custom = semantic_settings(SVGConfig(pattern="svg2", svg2_top_p=0.9, svg2_query_clusters=64,
                                         svg2_key_clusters=300, svg2_warm_iterations=3))
    assert (custom.selection, custom.top_p, custom.warm_iterations) == ("top_p", 0.9, 3)
    assert (custom.min_query_clusters, custom.max_query_clusters) == (64, 64)
    assert (custom.min_key_clusters, custom.max_key_clusters) == (300, 300)

"""The "svg2" pattern through the node, in-process on the CPU (tiny random-weight Wan 2.1, the torch
reference ops; skipped with the reason when SVG_COMFYUI_DIR is not set: the ``host`` fixture).

What a user gets when they pick pattern svg2: sparse calls in the sparse steps with per-head kept
densities (no labels), the budget selection at svg's density, a full clustering the first time
each block is seen in a run and warm ones after it, the centroid cache's memory in the summary,
the report node's density map, and a latent that moves towards dense as svg2 keeps more."""
from __future__ import annotations

import math

import pytest
import torch

WAN = dict(model_type="t2v", dim=256, ffn_dim=256, num_heads=2, num_layers=2, in_dim=16, out_dim=16,
           text_dim=4096, freq_dim=256)
LATENT = (1, 16, 3, 32, 32)          # 3 latent frames of 16 x 16 tokens: 768 video tokens, 6 blocks of 128
NODE = dict(sparsity=0.75, dense_warmup=0.25, dense_blocks=0, sampled_rows=64, backend="reference",
            profile_seed=0, verbose=False)
STEPS, HEADS, BLOCKS, HEAD_DIM = 4, 2, 2, 128


@pytest.fixture(scope="module")
def wan(host):
    return host.build("WAN21_T2V", WAN, seed=3)


def sample(host, model):
    positive = [[torch.randn(1, 8, 4096, generator=torch.Generator().manual_seed(1)), {}]]
    return host.sample(model, torch.zeros(LATENT), positive, cfg=3.0, steps=STEPS)


def rel(a, b):
    return ((a.double() - b.double()).norm() / b.double().norm()).item()


@pytest.fixture(scope="module")
def runs(host, wan):
    """(latent, RunReport, model) through the node of dense, svg as a saved workflow has it (no pattern
    input), svg with svg2's knobs set, svg2 (budget) and svg2 with top_p 0.999."""
    from svg_pack.nodes.svg_node import SVGSparseAttention
    out = {"dense": (sample(host, wan), None, None)}
    svg2_knobs = dict(svg2_top_p=0.5, svg2_query_clusters=16, svg2_key_clusters=32, svg2_warm_iterations=3)
    for name, extra in {"svg": {}, "svg-knobs": dict(pattern="svg", **svg2_knobs), "svg2": dict(pattern="svg2"),
                        "svg2-p": dict(pattern="svg2", svg2_top_p=0.999)}.items():
        model = SVGSparseAttention.execute(wan, **NODE, **extra).args[0]
        out[name] = (sample(host, model), host.report(model), model)
    return out


def test_svg2_runs_sparse_in_the_node_at_svgs_density_with_per_head_densities(runs):
    from svg_pack.svg_attention import VideoLayout  # noqa: F401  (the pack imports)
    svg, svg2 = runs["svg"][1], runs["svg2"][1]
    s, t = svg2.summary, svg.summary
    assert s["pattern"] == "svg2" and t["pattern"] == "svg"
    assert s["backend"] == "reference"
    assert s["sparse_calls"] == t["sparse_calls"] > 0 and s["dense_calls"] == t["dense_calls"]
    assert s["label_counts"] == {} and "spatial_heads" not in s
    # budget selection: the plan's density (svg's band at this sparsity), within half a cluster pair per head
    assert abs(s["density"] - t["density"]) < 0.02, (s["density"], t["density"])
    sparse = [r for r in svg2.records if r[3] is not None]
    assert len(sparse) == s["sparse_calls"]
    for step, block, labels, head_density, conditions in sparse:
        assert labels is None and head_density.shape == (2, HEADS) and head_density.dtype == torch.float32
        assert ((head_density > 0) & (head_density <= 1)).all()
    assert svg2.label_names == ()


def test_svg2_clusters_once_per_block_then_warm_and_reports_its_cache(runs):
    s = runs["svg2"][1].summary
    plan_clusters = s["svg2_query_clusters"] + s["svg2_key_clusters"]
    # one batch composition (cond + uncond together, CFG 3): one cache entry per block and kind
    assert s["full_clusterings"] == BLOCKS * 2
    assert s["warm_clusterings"] == s["sparse_calls"] * 2 - s["full_clusterings"] > 0
    # bfloat16 centroids [B=2, H, C, D] per block, queries and keys
    assert s["run_state_bytes"] == BLOCKS * 2 * HEADS * plan_clusters * HEAD_DIM * 2
    assert "run_state_bytes" not in runs["svg"][1].summary


def test_svg2_moves_towards_dense_as_it_keeps_more(runs):
    dense = runs["dense"][0]
    budget, near_all = runs["svg2"][0], runs["svg2-p"][0]
    assert torch.isfinite(budget).all() and torch.isfinite(near_all).all()
    e_budget, e_all = rel(budget, dense), rel(near_all, dense)
    density_all = runs["svg2-p"][1].summary["density"]
    print(f"svg2 vs dense: budget {e_budget:.3e} (density {runs['svg2'][1].summary['density']:.3f}), "
          f"top_p 0.999 {e_all:.3e} (density {density_all:.3f}); svg {rel(runs['svg'][0], dense):.3e}")
    assert e_budget > 0 and density_all > 0.9
    assert e_all < e_budget / 5


def test_the_report_node_shows_svg2s_kept_density_per_block_and_head(runs, host):
    from svg_pack.nodes.report_node import SVGAttentionReport
    latent, report, model = runs["svg2"]
    result = SVGAttentionReport.execute(model, {"samples": latent})
    image, text = result.args
    assert image.shape[0] == 1 and image.shape[-1] == 3
    s = report.summary
    assert f"density kept: {s['density']:.3f}" in text
    assert "kept density per head" in text and "clusterings: " in text
    assert "heads:" not in text          # no labels to share out
    # the picture is a density map, not the (empty) label map: its legend names the density scale
    from svg_pack.svg_attention.report import head_density_map
    mean, dense_share = head_density_map(report.records)
    assert mean.shape == (BLOCKS, 2 * HEADS)          # positive heads then negative heads
    sparse_means = mean[~torch.isnan(mean)]
    assert sparse_means.numel() == BLOCKS * 2 * HEADS
    assert math.isclose(float(sparse_means.mean()), s["density"], rel_tol=0.05)
    assert (dense_share == 0).all()     # dense_blocks 0; warm-up steps are not per-block records
    pixels = image[0].reshape(-1, 3)
    from svg_pack.svg_attention.report import density_colour
    cell = torch.tensor(density_colour(float(mean[0, 0])), dtype=torch.float32) / 255
    assert (pixels - cell).abs().amax(-1).lt(1e-3).any()     # block 0, head 0's green is drawn


def test_svg_is_the_default_and_ignores_svg2s_knobs(runs):
    """A workflow saved before the pattern input runs svg; svg2's knobs change nothing under svg."""
    assert runs["svg"][1].summary["pattern"] == "svg"
    assert torch.equal(runs["svg-knobs"][0], runs["svg"][0])
    assert "full_clusterings" not in runs["svg"][1].summary

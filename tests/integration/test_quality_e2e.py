"""End-to-end quality floor: the trained tiny shapes model (models/svg_tiny_wan_shapes_t2v.safetensors)
through the headless server, dense against SVG at sparsity 0.5 / 0.75 / 0.9 with the node's
default warm-up, same seed; PSNR / SSIM of the decoded videos against the dense one.

The floors are the values measured for this exact case (docs/quality.md, bench/results/quality_e2e)
less a small margin for float differences between CPUs: a change that makes SVG's video drift
further from dense fails here."""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "bench" / "quality"))

import e2e_quality  # noqa: E402
import latent_space  # noqa: E402
import video_data  # noqa: E402

PROMPT, SEED = "shapes orbiting the centre", 0      # the main job's case
# sparsity -> (PSNR floor dB, SSIM floor): the value measured here (2026-11-28, x86-64 CPU, torch
# 2.14.1; bench/results/quality_e2e: 33.27 / 0.9715, 30.12 / 0.9451, 18.86 / 0.4360) less 0.5 dB / 0.01
FLOORS = {0.5: (32.77, 0.961), 0.75: (29.62, 0.935), 0.9: (18.36, 0.426)}
# pattern svg2 (the node's pattern input, its defaults: the budget at svg's density) at 0.75, same case:
# measured here 2026-11-30 (bench/quality/e2e_patterns.py, docs/quality.md: 28.97 dB / 0.9193) less 0.5 dB / 0.01
SVG2_SPARSITY, SVG2_FLOOR = 0.75, (28.47, 0.909)


@pytest.fixture(scope="module")
def case(comfy_server, object_info):
    skip = {("svg2", s) for s in FLOORS if s != SVG2_SPARSITY}
    return e2e_quality.run_case(comfy_server, object_info, PROMPT, SEED, sorted(FLOORS), patterns=("svg", "svg2"),
                                skip=skip)


def test_dense_video_is_the_trained_models_kind_of_video(case):
    """The bundled model makes a video in its data range: moving objects over a background."""
    dense = case["frames"]["dense"]
    assert dense.shape == (e2e_quality.FRAMES, e2e_quality.SIZE, e2e_quality.SIZE, 3)
    moving = np.abs(dense[1:].astype(int) - dense[:-1].astype(int)).mean()
    assert moving > 1.0, "consecutive frames are (nearly) identical"
    assert dense.std() > 10, "a flat video"


@pytest.mark.parametrize("sparsity", sorted(FLOORS))
def test_svg_stays_close_to_dense(case, sparsity):
    psnr_floor, ssim_floor = FLOORS[sparsity]
    got = case["sparse"][sparsity]
    summary = got["summary"]
    assert summary["sparse_calls"] > 0 and summary["requested_density"] == pytest.approx(1 - sparsity)
    assert got["psnr"] >= psnr_floor, f"PSNR {got['psnr']:.2f} dB < floor {psnr_floor} at sparsity {sparsity}"
    assert got["ssim"] >= ssim_floor, f"SSIM {got['ssim']:.4f} < floor {ssim_floor} at sparsity {sparsity}"
    assert got["psnr"] < 99, "identical to dense: SVG did not change the attention at all"


def test_svg2_stays_close_to_dense_at_svgs_density(case):
    psnr_floor, ssim_floor = SVG2_FLOOR
    got = case["runs"]["svg2"][SVG2_SPARSITY]
    summary = got["summary"]
    assert summary["pattern"] == "svg2" and summary["sparse_calls"] > 0 and summary["label_counts"] == {}
    # matched density: the budget at svg's kept fraction for this layout
    assert summary["density"] == pytest.approx(case["sparse"][SVG2_SPARSITY]["summary"]["density"], abs=0.01)
    assert summary["full_clusterings"] > 0 and summary["run_state_bytes"] > 0
    assert got["psnr"] >= psnr_floor, f"svg2 PSNR {got['psnr']:.2f} dB < floor {psnr_floor}"
    assert got["ssim"] >= ssim_floor, f"svg2 SSIM {got['ssim']:.4f} < floor {ssim_floor}"
    assert got["psnr"] < 99, "identical to dense: svg2 did not change the attention at all"
    assert not np.array_equal(case["frames"][("svg2", SVG2_SPARSITY)], case["frames"][SVG2_SPARSITY]), \
        "svg2's video is svg's: the pattern input did not reach the node"


def test_quality_falls_with_sparsity(case):
    values = [case["sparse"][s]["psnr"] for s in sorted(FLOORS)]
    assert values == sorted(values, reverse=True), values


def test_profiler_finds_both_head_kinds(case):
    """The trained model's heads split: the profiler labels some head decisions spatial and some
    temporal at every sparsity (measured shares: docs/quality.md)."""
    for sparsity in FLOORS:
        s = case["sparse"][sparsity]["summary"]
        total = s["spatial_heads"] + s["temporal_heads"]
        assert total > 0
        assert 0.1 < s["temporal_heads"] / total < 0.9, s


def test_bench_nodes_match_the_training_conventions(comfy_server):
    """SVGShapesPrompt gives the training context; SVGShapesDecode inverts the latent map."""
    info = comfy_server.object_info()
    prompts = info["SVGShapesPrompt"]["input"]["required"]["prompt"][0]
    assert prompts == [p.text for p in video_data.PROMPTS] + [video_data.UNCONDITIONAL_PROMPT]
    spec = importlib.util.spec_from_file_location(
        "svg_quality_nodes_test", REPO / "bench" / "quality" / "comfy_nodes" / "__init__.py")
    nodes = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(nodes)
    (cond,) = nodes.SVGShapesPrompt().encode(PROMPT)
    assert cond[0][0].shape == (1, video_data.CONTEXT_TOKENS, video_data.TEXT_DIM)
    assert (cond[0][0][0] == video_data.prompt_context(PROMPT)).all()
    fmt = e2e_quality._wan21_format()                 # ComfyUI's Wan 2.1 latent format
    video = video_data.make_video(PROMPT, frames=3, size=16, seed=1)           # [T, 3, H, W]
    comfy_latent = latent_space.to_comfy(latent_space.encode(video)[None], fmt)
    (image,) = nodes.SVGShapesDecode().decode({"samples": comfy_latent})       # [T, H, W, 3]
    expected = ((video.movedim(1, -1) + 1) / 2).clamp(0, 1)
    assert image.shape == expected.shape
    assert (image - expected).abs().max() < 1e-4

"""The quality benchmarks' CPU parts: the structured-attention suite (a small version of the table in
docs/quality.md) and the procedural data / latent map / decoder of the tiny Wan model.

Thresholds come from measurements of this exact configuration (seed 0; seeds 1-3 agree to within
a few per cent): the figures in the comments are what was measured, the bounds leave ~10-20%."""
import math

import numpy as np
import pytest
import torch

from svg_pack.bench.quality import decode, latent_space, video_data
from svg_pack.bench.quality.structured_suite import (HeadSpec, band_block_counts, build_qkv, default_heads,
                                                     dense_attention, random_block_attention, run_suite,
                                                     summarize)
from svg_pack.svg_attention import VideoLayout, band_attention_reference, plan_band

SPARSITIES = (0.5, 0.75, 0.9)


@pytest.fixture(scope="module", autouse=True)
def one_thread():
    """These are many small ops: on a shared, oversubscribed 2-core machine two OpenMP threads ran
    the suite 5-10x slower than one."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="module")
def suite(one_thread):
    """8 frames x 16 x 24 = 3,072 tokens (24 blocks), 2 heads of each kind: ~2.5 s on one thread."""
    result = run_suite(8, 16, 24, SPARSITIES, default_heads(2), head_dim=64, seed=0, profile_seeds=3)
    rows = {(r["sparsity"], r["kind"]): r for r in summarize(result)}
    return result, rows


def test_budget_is_the_band_plan(suite):
    result, rows = suite
    layout = VideoLayout(8, 16 * 24)
    for run in result["runs"]:
        plan = plan_band(layout, run["sparsity"], 128)
        assert (run["width"], run["density"]) == (plan.width, plan.density)
    assert [result["runs"][i]["width"] for i in range(3)] == [7, 3, 1]   # every method's budget


@pytest.mark.parametrize("sparsity", SPARSITIES)
def test_profiling_labels_pure_heads_correctly(suite, sparsity):
    _, rows = suite
    assert rows[(sparsity, "spatial")]["label_accuracy"] == 1.0
    assert rows[(sparsity, "temporal")]["label_accuracy"] == 1.0


# Measured at seed 0 (mean over the 2 heads of a kind; "max" = the worse head):
# temporal heads, SVG max / static / random rel L2: 0.024/0.930/0.862 (s=0.5), 0.334/1.339/1.370
# (0.75), 1.196/2.201/1.969 (0.9); SVG mean 0.012, 0.167, 0.697; cosine SVG/static/random
# 1.000/0.716/0.743, 0.983/0.566/0.549, 0.855/0.326/0.383.
TEMPORAL_SVG_MAX = {0.5: 0.03, 0.75: 0.38, 0.9: 1.3}
TEMPORAL_OTHERS_MIN = {0.5: 0.78, 0.75: 1.2, 0.9: 1.75}
# spatial heads, SVG (= static: the same frame-major band) max / random mean: 0.145/0.935,
# 0.725/1.494, 1.648/2.019; SVG mean 0.073, 0.472, 1.249.
SPATIAL_SVG_MAX = {0.5: 0.17, 0.75: 0.8, 0.9: 1.8}
SPATIAL_RANDOM_MIN = {0.5: 0.8, 0.75: 1.3, 0.9: 1.75}


@pytest.mark.parametrize("sparsity", SPARSITIES)
def test_svg_beats_static_band_and_random_on_temporal_heads(suite, sparsity):
    _, rows = suite
    r = rows[(sparsity, "temporal")]
    assert r["svg_rel_l2_max"] <= TEMPORAL_SVG_MAX[sparsity]
    assert r["static_rel_l2"] >= TEMPORAL_OTHERS_MIN[sparsity]
    assert r["random_rel_l2"] >= TEMPORAL_OTHERS_MIN[sparsity]
    assert r["svg_rel_l2"] < 0.4 * min(r["static_rel_l2"], r["random_rel_l2"])
    assert r["svg_cos"] > max(r["static_cos"], r["random_cos"]) + 0.2


@pytest.mark.parametrize("sparsity", SPARSITIES)
def test_svg_equals_static_and_beats_random_on_spatial_heads(suite, sparsity):
    result, rows = suite
    r = rows[(sparsity, "spatial")]
    run = next(x for x in result["runs"] if x["sparsity"] == sparsity)
    ids = [i for i, h in enumerate(result["heads"]) if h["kind"] == "spatial"]
    for i in ids:   # labelled spatial -> exactly the static band's output
        assert run["methods"]["svg"]["rel_l2"][i] == run["methods"]["static"]["rel_l2"][i]
    assert r["svg_rel_l2_max"] <= SPATIAL_SVG_MAX[sparsity]
    assert r["random_rel_l2"] >= SPATIAL_RANDOM_MIN[sparsity]
    assert r["svg_rel_l2"] < 0.7 * r["random_rel_l2"]


@pytest.mark.parametrize("sparsity", SPARSITIES)
def test_svg_no_worse_than_static_on_mixed_and_noisy_heads(suite, sparsity):
    """Profiling picks the better of two patterns per head: never much worse than always spatial.
    Mixed heads (local 3D) measured SVG/static/random 0.074/0.146/0.774, 0.405/0.520/1.138,
    1.247/1.434/1.513; noisy heads: SVG within 0.1% of static at every sparsity."""
    _, rows = suite
    mixed = rows[(sparsity, "mixed")]
    assert mixed["svg_rel_l2"] < mixed["static_rel_l2"]
    assert mixed["svg_rel_l2"] < mixed["random_rel_l2"]
    noisy = rows[(sparsity, "noisy")]
    assert noisy["svg_rel_l2"] <= 1.02 * noisy["static_rel_l2"]


def test_heads_have_the_constructed_kernel():
    """q_i . k_j - q_i . k_i = -(f_i - f_j)^2 / (2 sigma_f^2) - |p_i - p_j|^2 / (2 sigma_s^2)."""
    frames, rows, cols = 3, 4, 5
    heads = [HeadSpec("mixed", 0.8, 1.7, 0.0)]
    q, k, _ = build_qkv(frames, rows, cols, heads, head_dim=8)
    scores = (q[0, 0].double() @ k[0, 0].double().T)
    scores = scores - scores.diagonal()[:, None]
    f, r, c = torch.meshgrid(torch.arange(frames), torch.arange(rows), torch.arange(cols), indexing="ij")
    pos = torch.stack([f, r, c], -1).reshape(-1, 3).double()
    d = pos[:, None, :] - pos[None, :, :]
    want = -d[..., 0] ** 2 / (2 * 0.8 ** 2) - (d[..., 1] ** 2 + d[..., 2] ** 2) / (2 * 1.7 ** 2)
    torch.testing.assert_close(scores, want, rtol=1e-5, atol=1e-4)


def test_dense_reference_matches_sdpa():
    q, k, v = build_qkv(3, 6, 7, default_heads(1), head_dim=16, seed=4)
    expected = torch.nn.functional.scaled_dot_product_attention(q, k, v, scale=1.0)
    torch.testing.assert_close(dense_attention(q, k, v, chunk=50), expected, rtol=1e-4, atol=1e-5)


def test_random_blocks_keep_the_band_block_count_and_degenerate_correctly():
    assert band_block_counts(6, 1) == [2, 3, 3, 3, 3, 2]
    assert band_block_counts(3, 5) == [3, 3, 3]
    q, k, v = build_qkv(4, 5, 9, default_heads(1), head_dim=16, seed=1)   # 180 tokens, ragged
    # a width that covers everything keeps every block: dense attention
    torch.testing.assert_close(random_block_attention(q, k, v, width=10, block_size=32),
                               dense_attention(q, k, v), rtol=1e-4, atol=1e-5)
    # width 0: the own block only, i.e. the static band of width 0
    layout = VideoLayout(4, 45)
    band = band_attention_reference(q, k, v, layout, 0, 32, torch.zeros(1, 4, dtype=torch.bool), scale=1.0)
    torch.testing.assert_close(random_block_attention(q, k, v, width=0, block_size=32), band,
                               rtol=1e-4, atol=1e-5)


# ---- tiny Wan model data: generator, latent map, decoder (no ComfyUI needed) ----

def test_latent_map_is_exactly_invertible():
    m = latent_space.mixing_matrix(torch.float64)
    torch.testing.assert_close(m.T @ m, torch.eye(12, dtype=torch.float64))
    video = torch.rand(2, 5, 3, 12, 16) * 2 - 1
    z = latent_space.encode(video)
    assert z.shape == (2, 16, 5, 6, 8)
    torch.testing.assert_close(latent_space.decode(z), video, rtol=0, atol=1e-5)
    torch.testing.assert_close(latent_space.unpatchify(latent_space.patchify(video)), video, rtol=0, atol=0)
    # patch layout: latent pixel (0, 0) of frame 0 holds exactly the 2 x 2 top-left pixels
    one = torch.zeros(1, 3, 4, 4)
    one[0, 1, 1, 0] = 1.0
    p = latent_space.patchify(one)
    assert p[:, 0, 0, 0].nonzero().flatten().tolist() == [1 * 4 + 1 * 2 + 0]
    assert p.abs().sum() == 1


def test_latent_map_centres_and_scales_generated_videos():
    gen = torch.Generator().manual_seed(99)
    videos, _ = video_data.sample_batch(32, 4, 64, 64, gen)   # the 64 x 64 the stats are for
    z = latent_space.encode(videos).transpose(0, 1).reshape(16, -1)
    assert z.mean(1).abs().max() < 0.25 * 2.3                 # 2.3: the largest channel's std
    assert abs(z.pow(2).mean().item() - 1) < 0.3               # unit mean square overall
    std = z.std(1)
    assert std[[0, 4, 8, 12]].min() > 0.6 and std[[3, 7, 11, 15]].max() < 0.15   # colour means >> edges
    # one scale: a squared error in z is the squared error in pixels / DATA_SCALE^2
    delta = torch.randn(videos[:1].shape, generator=gen, dtype=torch.float64) * 0.01
    z0 = latent_space.encode(videos[:1].double())
    z1 = latent_space.encode(videos[:1].double() + delta)
    torch.testing.assert_close((z1 - z0).pow(2).sum() * latent_space.DATA_SCALE ** 2, delta.pow(2).sum())


def test_video_generator_is_seeded_and_conditioned():
    a = video_data.make_video("bouncing balls", frames=6, size=32, seed=5)
    b = video_data.make_video("bouncing balls", frames=6, size=32, seed=5)
    c = video_data.make_video("bouncing balls", frames=6, size=32, seed=6)
    assert a.shape == (6, 3, 32, 32) and a.dtype == torch.float32
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert a.min() >= -1 and a.max() <= 1
    assert (a[1:] - a[:-1]).abs().mean() > 0.005          # it moves
    still = video_data.make_video("still shapes", frames=6, size=32, seed=5)
    assert (still[1:] - still[:-1]).abs().max() == 0      # no motion, no pan
    ctx = video_data.all_contexts()
    assert ctx.shape == (len(video_data.PROMPTS) + 1, video_data.CONTEXT_TOKENS, 4096)
    assert torch.equal(ctx[0], video_data.prompt_context("bouncing balls"))
    assert ctx[-1].abs().sum() == 0 and not torch.equal(ctx[0], ctx[1])


def test_decode_to_frames_and_animation(tmp_path):
    video = video_data.make_video(2, frames=4, size=16, seed=0)
    frames = decode.latent_to_frames(latent_space.encode(video))
    assert frames.shape == (4, 16, 16, 3) and frames.dtype == np.uint8
    assert np.abs(frames.astype(int) - decode.to_uint8(video).astype(int)).max() <= 1
    from PIL import Image
    path = decode.write_animation(tmp_path / "strip.gif", np.stack([frames, frames]), upscale=2)
    with Image.open(path) as im:
        assert im.n_frames == 4 and im.size == (2 * 32 + 2, 32)
    path = decode.write_animation(tmp_path / "strip.webp", frames, upscale=1)
    with Image.open(path) as im:
        assert im.n_frames == 4 and im.size == (16, 16)


def test_empty_latent_node_args_match_comfy_convention():
    args = latent_space.empty_latent_node_args(frames=8, height=64, width=64)
    # EmptyHunyuanLatentVideo: [B, 16, (length - 1) // 4 + 1, height // 8, width // 8]
    assert ((args["length"] - 1) // 4 + 1, args["height"] // 8, args["width"] // 8) == (8, 32, 32)
    assert math.prod((8, 32 // 2, 32 // 2)) == 2048


def test_suite_reports_the_fp8_path(one_thread):
    """``--fp8``: SVG through the FP8 kernel's quantisation (emulated on the CPU) beside bf16 SVG.
    Spatial and noisy heads: within a few per cent of bf16 SVG (measured rel L2 0.233 vs 0.220, 1.261 vs 1.260
    at 0.75).  The suite's temporal and mixed heads are built from features whose products cancel
    (scores a*x_i^2 - a*(x_i - x_j)^2 from terms of ~10^3): e4m3's 3-bit mantissa on q and k loses
    them (measured rel L2 1.10 and 0.70 against 0.00 and 0.16; even bf16-rounded inputs give 3.6%
    on the temporal head): recorded in bench/NOTES.md, not asserted.  With exact scores (``fp8-pv``:
    only P and V in e4m3) those heads stay close: measured 0.031 and 0.160."""
    from svg_pack.bench.quality.structured_suite import markdown_table
    result = run_suite(8, 16, 24, (0.75,), default_heads(1), head_dim=64, seed=0, profile_seeds=1, fp8=True)
    rows = {r["kind"]: r for r in summarize(result)}
    for kind in ("spatial", "noisy"):
        r = rows[kind]
        assert r["svg_rel_l2"] < r["svg-fp8_rel_l2"] < r["svg_rel_l2"] + 0.05, (kind, r)
    assert all(math.isfinite(r["svg-fp8_rel_l2"]) for r in rows.values())
    for kind in ("spatial", "temporal", "mixed"):
        r = rows[kind]
        assert r["svg-fp8-pv_rel_l2"] < r["svg_rel_l2"] + 0.05, (kind, r)
    assert "SVG FP8 rel L2" in markdown_table(result)

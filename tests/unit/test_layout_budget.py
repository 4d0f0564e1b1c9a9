import pytest
import torch

from svg_pack.svg_attention import (FRAME_MAJOR, POSITION_MAJOR, SVGConfig, VideoLayout, band_density,
                                    global_token_index, head_order, plan_band, spatial_from_temporal,
                                    temporal_from_spatial)


@pytest.mark.parametrize("frames,frame_tokens", [(1, 7), (3, 5), (21, 1560), (13, 64)])
def test_permutation_round_trip(frames, frame_tokens):
    video = torch.arange(frames * frame_tokens)
    there = temporal_from_spatial(video, frames, frame_tokens)
    assert torch.equal(torch.sort(there).values, video)          # a permutation
    assert torch.equal(spatial_from_temporal(there, frames, frame_tokens), video)
    back = spatial_from_temporal(video, frames, frame_tokens)
    assert torch.equal(temporal_from_spatial(back, frames, frame_tokens), video)


def test_temporal_order_groups_one_position_across_frames():
    layout = VideoLayout(num_frames=3, frame_tokens=4, prefix_tokens=2, suffix_tokens=5)
    order = head_order(layout, POSITION_MAJOR)
    # the first three head-order tokens are spatial position 0 of frames 0, 1, 2
    assert order[:3].tolist() == [2 + 0, 2 + 4, 2 + 8]
    assert order[3:6].tolist() == [2 + 1, 2 + 5, 2 + 9]
    assert head_order(layout, FRAME_MAJOR).tolist() == list(range(2, 14))
    assert global_token_index(layout).tolist() == [0, 1, 14, 15, 16, 17, 18]


LAYOUTS = [VideoLayout(21, 1560), VideoLayout(21, 3600), VideoLayout(33, 3600, 0, 256),
           VideoLayout(5, 37, 11, 0), VideoLayout(8, 256, 0, 23)]


@pytest.mark.parametrize("layout", LAYOUTS, ids=str)
@pytest.mark.parametrize("sparsity", [0.5, 0.75, 0.8, 0.9])
def test_kept_fraction_within_one_block_of_request(layout, sparsity):
    block = 128 if layout.video_tokens > 5000 else 16
    plan = plan_band(layout, sparsity, block)
    target = 1 - sparsity
    assert plan.density == pytest.approx(band_density(layout, block, plan.width))
    lower = band_density(layout, block, max(plan.width - 1, 0))
    upper = band_density(layout, block, plan.width + 1)
    # the chosen width is the closest one: one block narrower or wider is no nearer the request
    assert abs(plan.density - target) <= abs(lower - target) + 1e-12
    assert abs(plan.density - target) <= abs(upper - target) + 1e-12
    if plan.width > 0:   # when the band can follow the request, it is within one block step of it
        assert abs(plan.density - target) <= (upper - lower) / 2 + 1e-12


def test_budget_counts_text_rows_and_columns():
    video_only = VideoLayout(10, 128)
    with_text = VideoLayout(10, 128, 0, 256)
    assert band_density(with_text, 128, 0) > band_density(video_only, 128, 0)
    total = with_text.total_tokens
    expected = (10 * 128 * 128 + 1280 * 256 + 256 * total) / total ** 2
    assert band_density(with_text, 128, 0) == pytest.approx(expected)


def test_sparsity_zero_covers_everything():
    plan = plan_band(VideoLayout(4, 100, 3, 9), 0.0, 16)
    assert plan.covers_all and plan.density == pytest.approx(1.0)


@pytest.mark.parametrize("kwargs,word", [({"sparsity": 1.5}, "sparsity"), ({"sparsity": -0.1}, "sparsity"),
                                         ({"dense_warmup": 2.0}, "dense_warmup"), ({"dense_blocks": -1}, "dense_blocks"),
                                         ({"sampled_rows": 0}, "sampled_rows"), ({"block_size": 100}, "block_size"),
                                         ({"backend": "cuda"}, "backend"), ({"pattern": "svg3"}, "pattern")])
def test_config_rejects_bad_values_naming_the_input(kwargs, word):
    with pytest.raises(ValueError, match=word):
        SVGConfig(**kwargs)


def test_config_is_frozen():
    config = SVGConfig()
    with pytest.raises(Exception):
        config.sparsity = 0.5
    assert config.requested_density == pytest.approx(0.25)

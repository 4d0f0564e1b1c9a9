"""The layout checks of the 2026 families' adapters (nodes/model_layout_2026.py), without ComfyUI:
a published grid_sizes that is not the computed grid, and LTX-2's audio self-attention, never map
onto a video layout; exact counts only."""
import torch

from svg_pack.nodes.model_layout_2026 import AudioVideoGrid, CheckedGrid, _patches
from svg_pack.svg_attention import VideoLayout


def test_checked_grid_keeps_a_matching_grid_sizes():
    grid = CheckedGrid(4, 256, prefix_tokens=256, suffix_tokens=64, expected_grid_sizes=(5, 16, 16))
    assert grid.refined({"grid_sizes": torch.Size([5, 16, 16])}) == (grid, None)
    assert grid.refined({}) == (grid, None)               # the model publishes none (Camera, S2V)
    layout, why = grid.layout_for(256 + 1024 + 64, {"grid_sizes": (5, 16, 16)})
    assert why is None and layout == VideoLayout(4, 256, 256, 64)     # checked, never adopted


def test_checked_grid_refuses_a_different_grid_sizes():
    grid = CheckedGrid(4, 256, expected_grid_sizes=(4, 16, 16))
    assert grid.refined({"grid_sizes": torch.Size([5, 16, 16])})[0] is None
    layout, why = grid.layout_for(1024, {"grid_sizes": torch.Size([5, 16, 16])})
    assert layout is None and "grid_sizes (5, 16, 16) is not the (4, 16, 16)" in why
    layout, why = grid.layout_for(1024, {"grid_sizes": (4, 16)})
    assert layout is None and "not (frames, height, width)" in why


def test_exact_counts_only():
    grid = CheckedGrid(4, 256, suffix_tokens=256)
    assert grid.layout_for(1280)[0] == VideoLayout(4, 256, 0, 256)
    for tokens in (1024, 1281, 1536):
        layout, why = grid.layout_for(tokens)
        assert layout is None and f"{tokens} tokens is not the video's 1280" in why


def test_audio_video_grid_names_the_audio_calls():
    grid = AudioVideoGrid(5, 256, audio_tokens=34)
    assert grid.layout_for(1280)[0] == VideoLayout(5, 256)
    layout, why = grid.layout_for(34)
    assert layout is None and "audio stream's self-attention (34 audio tokens)" in why


def test_patch_counts():
    latent = torch.zeros(1, 16, 3, 33, 30)
    assert _patches(latent, (1, 2, 2), pad=True) == 3 * 17 * 15      # padded to whole patches
    assert _patches(latent, (1, 2, 2), pad=False) == 3 * 16 * 15     # a strided convolution
    assert _patches(torch.zeros(1, 16, 16, 32, 32), (4, 8, 8), pad=False) == 4 * 4 * 4

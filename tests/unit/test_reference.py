import math

import pytest
import torch

from svg_pack.svg_attention import (VideoLayout, band_attention_reference, global_rows_dense, plan_band,
                                    profile_reference, sample_rows, sparse_attention, temporal_from_spatial)


def naive_svg(q, k, v, layout, width, block, temporal, key_bias=None):
    """Dense N x N masked softmax (tests only): the rule written out token by token."""
    batch, heads, tokens, dim = q.shape
    out = torch.empty(batch, heads, tokens, dim, dtype=torch.float64)
    video_index = torch.arange(tokens) - layout.video_start
    is_video = (video_index >= 0) & (video_index < layout.video_tokens)
    u = video_index.clamp(0, layout.video_tokens - 1)
    for b in range(batch):
        for h in range(heads):
            order_u = temporal_from_spatial(u, layout.num_frames, layout.frame_tokens) if temporal[b, h] else u
            blocks = order_u // block
            keep = (blocks[:, None] - blocks[None, :]).abs() <= width
            keep = keep & is_video[:, None] & is_video[None, :]
            keep |= ~is_video[None, :]        # every query keeps the global keys
            keep |= ~is_video[:, None]        # global queries keep every key
            scores = q[b, h].double() @ k[b, h].double().T / math.sqrt(dim)
            if key_bias is not None:
                scores = scores + key_bias[b if key_bias.shape[0] > 1 else 0].double()
            scores = scores.masked_fill(~keep, float("-inf"))
            out[b, h] = torch.softmax(scores, -1) @ v[b, h].double()
    return out


CASES = [
    (VideoLayout(3, 20), 16, 0),
    (VideoLayout(4, 23, 0, 9), 16, 1),     # text after the video, ragged last block
    (VideoLayout(5, 13, 7, 0), 16, 2),     # prefix tokens (text before / reference image)
    (VideoLayout(3, 37, 16, 23), 16, 1),
]


@pytest.mark.parametrize("layout,block,width", CASES, ids=str)
def test_reference_equals_naive_masked_softmax(layout, block, width):
    torch.manual_seed(0)
    q, k, v = (torch.randn(2, 3, layout.total_tokens, 16) for _ in range(3))
    temporal = torch.tensor([[True, False, True], [False, False, True]])
    key_bias = None
    if layout.global_tokens:
        key_bias = torch.zeros(2, layout.total_tokens)
        key_bias[1, -2:] = -1e9 if layout.suffix_tokens else 0.0   # padded text keys of element 1
    out = band_attention_reference(q, k, v, layout, width, block, temporal, key_bias=key_bias)
    out = global_rows_dense(q, k, v, layout, key_bias=key_bias, out=out)
    expected = naive_svg(q, k, v, layout, width, block, temporal, key_bias)
    torch.testing.assert_close(out.double(), expected, rtol=1e-5, atol=1e-5)


def test_reference_on_strided_comfy_layout_views():
    layout = VideoLayout(4, 23, 0, 9)
    torch.manual_seed(1)
    flat = [torch.randn(2, layout.total_tokens, 3 * 16) for _ in range(3)]   # ComfyUI's [B, N, H*D]
    q, k, v = (t.view(2, layout.total_tokens, 3, 16).transpose(1, 2) for t in flat)
    temporal = torch.tensor([[True, False, False], [False, True, True]])
    out_storage = torch.full((2, layout.total_tokens, 3, 16), float("nan"))
    out = band_attention_reference(q, k, v, layout, 1, 16, temporal, out=out_storage.transpose(1, 2))
    global_rows_dense(q, k, v, layout, out=out)
    assert not torch.isnan(out_storage).any()
    torch.testing.assert_close(out.double(), naive_svg(q, k, v, layout, 1, 16, temporal), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("layout", [VideoLayout(3, 40), VideoLayout(4, 23, 5, 9)], ids=str)
def test_sparsity_zero_equals_dense_attention(layout):
    torch.manual_seed(2)
    q, k, v = (torch.randn(1, 2, layout.total_tokens, 16) for _ in range(3))
    plan = plan_band(layout, 0.0, 16)
    assert plan.covers_all
    rows = sample_rows(layout.video_tokens, 8, torch.Generator().manual_seed(0), "cpu")
    out, _ = sparse_attention(q, k, v, layout, plan, rows=rows)
    dense = torch.nn.functional.scaled_dot_product_attention(q, k, v)
    torch.testing.assert_close(out, dense, rtol=1e-5, atol=1e-5)


def structured_qkv(layout, kind, dim=64, sharpness=8.0, seed=0):
    """q = k built from token positions: a 'spatial' head's tokens match tokens of their own frame,
    a 'temporal' head's tokens match the same spatial position in every frame."""
    g = torch.Generator().manual_seed(seed)
    frames, per_frame = layout.num_frames, layout.frame_tokens
    if kind == "spatial":
        codes = torch.randn(frames, dim, generator=g)
        video = codes.repeat_interleave(per_frame, 0)
    else:
        codes = torch.randn(per_frame, dim, generator=g)
        video = codes.repeat(frames, 1)
    video = torch.nn.functional.normalize(video, dim=-1) * math.sqrt(sharpness * math.sqrt(dim))
    video = video + 0.05 * torch.randn(video.shape, generator=g)
    text = torch.randn(layout.global_tokens, dim, generator=g) * 0.1
    x = torch.cat([text[:layout.prefix_tokens], video, text[layout.prefix_tokens:]])
    v = torch.randn(layout.total_tokens, dim, generator=g)
    return x, x.clone(), v


def test_profiling_labels_constructed_heads():
    layout = VideoLayout(num_frames=12, frame_tokens=48, prefix_tokens=0, suffix_tokens=10)
    heads = {name: structured_qkv(layout, name, seed=i) for i, name in enumerate(["spatial", "temporal"])}
    q = torch.stack([heads["spatial"][0], heads["temporal"][0]])[None]
    k = torch.stack([heads["spatial"][1], heads["temporal"][1]])[None]
    v = torch.stack([heads["spatial"][2], heads["temporal"][2]])[None]
    q, k, v = (torch.cat([t, t.flip(1)]) for t in (q, k, v))     # batch 2: heads swapped in element 1
    plan = plan_band(layout, 0.75, 16)
    rows = sample_rows(layout.video_tokens, 64, torch.Generator().manual_seed(0), "cpu")
    errors = profile_reference(q, k, v, layout, plan.width, plan.block_size, rows)
    temporal = errors[..., 1] < errors[..., 0]
    assert temporal.tolist() == [[False, True], [True, False]]


def test_profiling_is_deterministic_for_a_seed():
    layout = VideoLayout(6, 40)
    q, k, v = (torch.randn(1, 4, layout.total_tokens, 16) for _ in range(3))
    plan = plan_band(layout, 0.75, 16)
    def labels(seed):
        rows = sample_rows(layout.video_tokens, 16, torch.Generator().manual_seed(seed), "cpu")
        out, decision = sparse_attention(q, k, v, layout, plan, rows=rows)
        return out, decision.labels
    (out_a, lab_a), (out_b, lab_b) = labels(3), labels(3)
    assert torch.equal(out_a, out_b) and torch.equal(lab_a, lab_b)
    rows_3 = sample_rows(layout.video_tokens, 16, torch.Generator().manual_seed(3), "cpu")
    rows_4 = sample_rows(layout.video_tokens, 16, torch.Generator().manual_seed(4), "cpu")
    assert not torch.equal(rows_3, rows_4)

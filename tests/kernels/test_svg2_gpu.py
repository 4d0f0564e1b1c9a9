"""GPU tests (bf16 / fp16 on CUDA, realistic N) of SVG2's kernels against their torch references.

Run on the GPU machine with:  pytest tests/kernels -m gpu
Skipped on CPU; their CPU counterparts (Triton interpreter, fp32 / fp16) are in test_svg2_kernels.py.
"""
import math

import pytest
import torch

import svg_pack.kernels as kernels
from svg_pack.kernels import kmeans_assign, kmeans_update, permute_rows, permute_rows_reference, semantic_attention
from svg_pack.svg_attention.clustering import assign_reference, kmeans, permute_by_cluster, update_reference
from svg_pack.svg_attention.layout import VideoLayout
from svg_pack.svg_attention.semantic import (centroid_logits, select_budget, semantic_attention_reference,
                                             video_pair_budget)

_CUDA = torch.cuda.is_available()
pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not _CUDA, reason="needs a CUDA GPU (bf16 tl.dot is wrong in the CPU interpreter); "
                                         "CPU counterparts: test_svg2_kernels.py"),
    pytest.mark.skipif(_CUDA and kernels._jit.interpret_requested(),
                       reason="TRITON_INTERPRET=1 is set: run `pytest tests/kernels -m gpu` to compile for the GPU"),
]

CONFIGS = [
    None,  # the static default of kernels/semantic_attention.py
    dict(SOURCE="packed", BLOCK_N=64, HEAD_CHUNK=3),
    dict(SOURCE="packed", TAIL_M=64, HEAD_CHUNK=0),
    dict(SOURCE="tma", WS=True, HEAD_CHUNK=3),
    dict(SOURCE="tma", WS=False, BLOCK_N=64, HEAD_CHUNK=0, TAIL_M=64),
    dict(SOURCE="copy", HEAD_CHUNK=2),
    dict(SOURCE="gather"),
]


def _qkv(B, H, N, D, dtype, seed):
    g = torch.Generator(device="cuda").manual_seed(seed)
    x = torch.randn(3, B, N, H * D, device="cuda", generator=g, dtype=torch.float32).to(dtype)
    return [x[i].view(B, N, H, D).transpose(1, 2) for i in range(3)]


def _rel(a, b):
    return ((a.float() - b.float()).norm() / b.float().norm()).item()


@pytest.fixture(scope="module", params=[(128, torch.bfloat16), (64, torch.float16)], ids=["d128-bf16", "d64-fp16"])
def case(request):
    """Wan-1.3B-480p video (21 x 1560 = 32,760 tokens) with 16 prefix and 77 suffix global tokens (the key
    bias masks some), B=2 with different clusters per batch element, 256 query / 1024 key clusters."""
    D, dtype = request.param
    B, H, pre, suf = 2, 2, 16, 77
    layout = VideoLayout(21, 1560, pre, suf)
    V, N = layout.video_tokens, layout.total_tokens
    q, k, v = _qkv(B, H, N, D, dtype, seed=D)
    s = layout.video_start
    qc = kmeans(q[:, :, s:s + V], 256, 3, assign=kmeans_assign, update=kmeans_update)
    kc = kmeans(k[:, :, s:s + V], 1024, 3, assign=kmeans_assign, update=kmeans_update)
    keep = select_budget(centroid_logits(qc, kc, 1 / math.sqrt(D)), qc.sizes, kc.sizes,
                         video_pair_budget(layout, 0.25), 0.05)
    bias = torch.zeros(B, N, device="cuda")
    bias[0, -30:] = -1e9
    bias[1, :3] = float("-inf")
    ref = semantic_attention_reference(q, k, v, layout, qc, kc, keep, key_bias=bias)
    return layout, q, k, v, qc, kc, keep, bias, ref


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: "default" if c is None else "-".join(
    f"{k}{v}" for k, v in c.items()))
def test_attention_matches_reference(case, config):
    layout, q, k, v, qc, kc, keep, bias, ref = case
    out = torch.full_like(q, float("nan"))
    try:
        semantic_attention(q, k, v, qc.perm, qc.offsets, kc.perm, kc.offsets, keep, video_start=layout.video_start,
                           key_bias=bias, out=out, config=config)
        torch.cuda.synchronize()
    except Exception as e:  # warp specialization is an experiment: Triton may not lower it here
        if config and config.get("WS"):
            pytest.skip(f"WS config does not compile here: {type(e).__name__}: {str(e)[:200]}")
        raise
    s, V = layout.video_start, layout.video_tokens
    assert not torch.isnan(out[:, :, s:s + V]).any()
    assert _rel(out[:, :, s:s + V], ref[:, :, s:s + V]) < 1e-2
    assert torch.isnan(out[:, :, :s]).all() and torch.isnan(out[:, :, s + V:]).all()


def test_assign_update_scores_permute_match_references(case):
    layout, q, k, v, qc, kc, keep, bias, ref = case
    s, V = layout.video_start, layout.video_tokens
    x = k[:, :, s:s + V]
    got = kmeans_assign(x, kc.centroids)
    want = assign_reference(x, kc.centroids)
    xf = x.float()
    dist = lambda lab: (xf - kc.centroids.gather(2, lab.long()[..., None].expand_as(xf))).pow(2).sum(-1)  # noqa: E731
    assert (dist(got) <= dist(want) * 1.02 + 1e-3).all()          # bf16 dot: as near, up to rounding
    assert (got == want).float().mean() > 0.95
    perm, _, offsets = permute_by_cluster(want, kc.num_clusters)
    torch.testing.assert_close(kmeans_update(x, perm, offsets, kc.centroids),
                               update_reference(x, perm, offsets, kc.centroids), rtol=1e-4, atol=1e-4)
    from svg_pack.kernels import cluster_key_logits
    from svg_pack.svg_attention.semantic import centroid_key_logits
    ref_logits = centroid_key_logits(qc, kc, x, 0.09)
    got_logits = cluster_key_logits(qc.centroids, x, kc.perm, kc.offsets, 0.09)
    finite = torch.isfinite(ref_logits)
    assert torch.equal(finite, torch.isfinite(got_logits))
    torch.testing.assert_close(got_logits[finite].exp(), ref_logits[finite].exp(), rtol=3e-2, atol=1e-4)
    kp, vp = permute_rows(k, v, kc.perm, s, 1, 3)
    kr, vr = permute_rows_reference(k, v, kc.perm, s, 1, 3)
    assert torch.equal(kp, kr) and torch.equal(vp, vr)

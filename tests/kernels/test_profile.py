"""CPU tests of the head profiling kernel (Triton interpreter) and its torch reference
(svg_attention.reference.profile_reference, the one definition)."""
import math

import pytest
import torch

from helpers import make_bias, make_qkv, video_layout

import svg_pack.kernels as kernels
from svg_pack.kernels import profile_errors
from svg_pack.svg_attention import head_order, profile_reference

pytestmark = pytest.mark.skipif(not kernels._jit.interpret_requested(),
                                reason="CPU kernel tests need TRITON_INTERPRET=1 (set by conftest unless -m gpu)")


def _naive_errors(q, k, v, rows, pre, F, P, BS, w, bias):
    """Per-row loop with the masks written from the head-order definition (fp64)."""
    B, H, N, D = q.shape
    V = F * P
    err = torch.zeros(B, H, 2, dtype=torch.float64)
    for b in range(B):
        for h in range(H):
            s = q[b, h].double() @ k[b, h].double().T / math.sqrt(D)
            if bias is not None:
                kb = bias[b if bias.shape[0] > 1 else 0].double().clone()
                kb[pre:pre + V] = 0
                s = s + kb[None]
            vv = v[b, h].double()
            for j, temporal in enumerate((False, True)):
                order = head_order(video_layout(F, P, pre, N), temporal)
                pos = torch.full((N,), -1, dtype=torch.long)
                pos[order] = torch.arange(V)
                tot = 0.0
                for u in rows.tolist():
                    t = pre + u
                    row = s[t]
                    keep = (pos < 0) | ((pos[t] // BS - pos // BS).abs() <= w)
                    o_e = torch.softmax(row, -1) @ vv
                    o_p = torch.softmax(row.masked_fill(~keep, float("-inf")), -1) @ vv
                    tot += ((o_p - o_e) ** 2).mean().item()
                err[b, h, j] = tot / len(rows)
    return err


def test_reference_matches_naive():
    F, P, pre, suf, BS, w = 4, 13, 5, 7, 16, 1
    V = F * P
    N = pre + V + suf
    q, k, v = make_qkv(2, 2, N, 64, torch.float64, seed=1)
    bias = make_bias(2, N, pre, V)
    rows = torch.tensor([0, 5, 17, 33, V - 1])
    ref = profile_reference(q, k, v, video_layout(F, P, pre, N), w, BS, rows, key_bias=bias)
    nai = _naive_errors(q, k, v, rows, pre, F, P, BS, w, bias)
    torch.testing.assert_close(ref.double(), nai, rtol=1e-5, atol=1e-12)


CASES = [
    # F, P, pre, suf, w, R, dtype, splits
    (3, 20, 0, 0, 0, 16, torch.float32, 2),
    (5, 27, 7, 9, 1, 20, torch.float32, 3),
    (5, 27, 7, 9, 2, 20, torch.float16, 1),
    (4, 40, 16, 23, 1, 70, torch.float32, 4),
    (4, 33, 0, 23, 2, 9, torch.float16, 2),
]


@pytest.mark.parametrize("shared", [True, False], ids=["shared-max", "three-softmax"])
@pytest.mark.parametrize("F,P,pre,suf,w,R,dtype,splits", CASES)
def test_profile_kernel_matches_reference(F, P, pre, suf, w, R, dtype, splits, shared):
    BS = 16
    V = F * P
    N = pre + V + suf
    q, k, v = make_qkv(2, 2, N, 64, dtype, seed=R + w)
    bias = make_bias(2, N, pre, V) if (pre or suf) else None
    rows = torch.randperm(V, generator=torch.Generator().manual_seed(R))[:R]
    err = profile_errors(q, k, v, rows, video_start=pre, num_frames=F, frame_tokens=P, band_width=w,
                         block_size=BS, key_bias=bias, splits=splits, config=dict(SHARED=shared))
    ref = profile_reference(q.float(), k.float(), v.float(), video_layout(F, P, pre, N), w, BS, rows, key_bias=bias)
    assert err.shape == (2, 2, 2) and err.dtype == torch.float32
    rtol = 1e-4 if dtype == torch.float32 else 3e-2
    torch.testing.assert_close(err, ref, rtol=rtol, atol=1e-7)


@pytest.mark.parametrize("shared", [True, False])
def test_profile_full_band_has_zero_error_and_d128(shared):
    F, P, pre, suf, BS = 3, 20, 4, 6, 16
    V = F * P
    N = pre + V + suf
    q, k, v = make_qkv(1, 2, N, 128, torch.float32, seed=4, layout="bhnd")
    err = profile_errors(q, k, v, torch.arange(0, V, 7), video_start=pre, num_frames=F, frame_tokens=P,
                         band_width=10, block_size=BS, config=dict(SHARED=shared))
    assert err.abs().max().item() < 1e-10


def test_shared_max_profile_with_a_pattern_far_below_the_row_max():
    """A row whose spatial keys carry almost none of its softmax mass (the shared max sits on a
    temporal key): the spatial error is still right (no 0/0), as long as the mass is > 2^-126."""
    F, P, BS, w = 4, 32, 16, 0
    V = F * P
    q, k, v = make_qkv(1, 1, V, 64, torch.float32, seed=8, layout="bhnd")
    k = k * 0.1
    rows = torch.tensor([5, 40, 77])
    for r in rows.tolist():      # one far key per row, in another frame at the same position (temporal)
        far = (r + P) % V
        k[0, 0, far] = q[0, 0, r] * (40.0 / q[0, 0, r].norm())
    err = profile_errors(q, k, v, rows, video_start=0, num_frames=F, frame_tokens=P, band_width=w, block_size=BS,
                         config=dict(SHARED=True))
    ref = profile_reference(q, k, v, video_layout(F, P, 0, V), w, BS, rows)
    torch.testing.assert_close(err, ref, rtol=1e-3, atol=1e-9)


def test_profile_prefers_the_right_pattern():
    """Keys/values that repeat across frames at the same position favour the temporal head order."""
    F, P, BS, w = 4, 32, 16, 0
    V = F * P
    g = torch.Generator().manual_seed(0)
    D = 64
    pos_k = torch.randn(P, D, generator=g) * 3
    q = pos_k.repeat(F, 1)[None, None] + 0.1 * torch.randn(1, 1, V, D, generator=g)
    k = pos_k.repeat(F, 1)[None, None]
    v = torch.randn(1, 1, V, D, generator=g)  # differs per frame: exact output mixes all frames
    rows = torch.arange(0, V, 5)
    err = profile_errors(q, k, v, rows, video_start=0, num_frames=F, frame_tokens=P, band_width=w, block_size=BS)
    assert err[0, 0, 1] < 0.1 * err[0, 0, 0], err


@pytest.mark.parametrize("pre,suf,dtype", [(7, 9, torch.float32), (16, 0, torch.float16), (0, 23, torch.float32)])
def test_global_rows_attention_is_dense(pre, suf, dtype):
    from svg_pack.kernels import global_rows_attention
    F, P = 4, 21
    V = F * P
    N = pre + V + suf
    q, k, v = make_qkv(2, 2, N, 64, dtype, seed=pre + suf)
    bias = make_bias(2, N, pre, V)
    store = torch.full((2, N, 2 * 64), float("nan"), dtype=dtype)
    out = store.view(2, N, 2, 64).transpose(1, 2)
    global_rows_attention(q, k, v, out, video_start=pre, num_frames=F, frame_tokens=P, key_bias=bias, splits=3)
    gb = bias.clone()
    gb[:, pre:pre + V] = 0
    s = q.double() @ k.double().transpose(-1, -2) / 8.0 + gb.double()[:, None, None, :]
    dense = torch.softmax(s, -1) @ v.double()
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == torch.float32 else dict(rtol=2e-2, atol=2e-3)
    for a, b in ((0, pre), (pre + V, N)):
        torch.testing.assert_close(out[:, :, a:b].double(), dense[:, :, a:b], **tol)
    assert torch.isnan(out[:, :, pre:pre + V]).all()

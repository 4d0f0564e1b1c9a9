"""CPU tests of the band attention kernel (Triton interpreter) and its torch reference."""
import math
import os
import subprocess
import sys

import pytest
import torch

from helpers import make_bias, make_qkv, naive_band, video_layout

import svg_pack.kernels as kernels
from svg_pack.kernels import band_attention
from svg_pack.svg_attention import band_attention_reference, head_order, kept_pairs

pytestmark = pytest.mark.skipif(not kernels._jit.interpret_requested(),
                                reason="CPU kernel tests need TRITON_INTERPRET=1 (set by conftest unless -m gpu)")

LABELS = torch.tensor([[True, False], [False, True]])  # B=2 with different labels per element


def _layout(F, P, pre, suf):
    return F * P, pre + F * P + suf


@pytest.mark.parametrize("pre,suf", [(0, 0), (7, 9), (16, 23)])
@pytest.mark.parametrize("w", [0, 1, 2])
def test_reference_matches_naive(pre, suf, w):
    F, P, BS = 3, 13, 16
    V, N = _layout(F, P, pre, suf)
    q, k, v = make_qkv(2, 2, N, 64, torch.float64, seed=w + pre)
    bias = make_bias(2, N, pre, V) if (pre or suf) else None
    ref = band_attention_reference(q, k, v, video_layout(F, P, pre, N), w, BS, LABELS, key_bias=bias)
    nai = naive_band(q, k, v, LABELS, pre, F, P, BS, w, key_bias=bias)
    torch.testing.assert_close(ref[:, :, pre:pre + V].double(), nai, rtol=1e-9, atol=1e-9)
    # global rows of a fresh out are zero (not computed)
    assert ref[:, :, :pre].abs().sum() == 0 and ref[:, :, pre + V:].abs().sum() == 0


def test_reference_full_band_is_dense():
    F, P, pre, suf, BS = 4, 11, 5, 6, 16
    V, N = _layout(F, P, pre, suf)
    q, k, v = make_qkv(2, 2, N, 64, torch.float64, seed=3)
    bias = make_bias(2, N, pre, V)
    ref = band_attention_reference(q, k, v, video_layout(F, P, pre, N), 100, BS, LABELS, key_bias=bias)
    glob_bias = bias.clone()
    glob_bias[:, pre:pre + V] = 0
    s = q.double() @ k.double().transpose(-1, -2) / math.sqrt(64) + glob_bias[:, None, None, :]
    dense = torch.softmax(s, -1) @ v.double()
    torch.testing.assert_close(ref[:, :, pre:pre + V], dense[:, :, pre:pre + V], rtol=1e-9, atol=1e-9)


CASES = [
    # F, P, pre, suf, w, dtype
    (3, 20, 0, 0, 0, torch.float32),
    (3, 20, 0, 0, 1, torch.float16),
    (5, 27, 7, 9, 0, torch.float32),
    (5, 27, 7, 9, 1, torch.float32),
    (5, 27, 7, 9, 2, torch.float16),
    (4, 40, 16, 23, 1, torch.float32),
    (4, 40, 16, 23, 2, torch.float16),
    (4, 33, 0, 23, 2, torch.float32),
    (5, 31, 7, 0, 1, torch.float16),
]


@pytest.mark.parametrize("F,P,pre,suf,w,dtype", CASES)
def test_band_kernel_matches_reference(F, P, pre, suf, w, dtype):
    BS = 16
    V, N = _layout(F, P, pre, suf)
    q, k, v = make_qkv(2, 2, N, 64, dtype, seed=F * 100 + P + w)
    bias = make_bias(2, N, pre, V) if (pre or suf) else None
    out = band_attention(q, k, v, LABELS, video_start=pre, num_frames=F, frame_tokens=P,
                         band_width=w, block_size=BS, key_bias=bias)
    ref = band_attention_reference(q.float(), k.float(), v.float(), video_layout(F, P, pre, N), w, BS, LABELS,
                                   key_bias=bias)
    sl = slice(pre, pre + V)
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == torch.float32 else dict(rtol=2e-2, atol=2e-3)
    torch.testing.assert_close(out[:, :, sl].float(), ref[:, :, sl], **tol)


def test_band_kernel_d128_bias_broadcast_and_out_untouched():
    """D=128, key_bias [1, N], a passed strided out (poisoned): only video rows are written."""
    F, P, pre, suf, BS, w = 3, 22, 9, 12, 32, 1
    V, N = _layout(F, P, pre, suf)
    q, k, v = make_qkv(2, 2, N, 128, torch.float32, seed=11)
    temporal = torch.tensor([[False, True], [True, True]])
    bias = make_bias(1, N, pre, V)
    store = torch.full((2, N, 2 * 128), float("nan"))
    out = store.view(2, N, 2, 128).transpose(1, 2)
    res = band_attention(q, k, v, temporal, video_start=pre, num_frames=F, frame_tokens=P, band_width=w,
                         block_size=BS, key_bias=bias, out=out)
    assert res.data_ptr() == out.data_ptr()
    ref = band_attention_reference(q, k, v, video_layout(F, P, pre, N), w, BS, temporal, key_bias=bias)
    sl = slice(pre, pre + V)
    torch.testing.assert_close(out[:, :, sl], ref[:, :, sl], rtol=1e-4, atol=1e-5)
    assert torch.isnan(out[:, :, :pre]).all() and torch.isnan(out[:, :, pre + V:]).all()


def test_band_kernel_full_band_equals_dense():
    F, P, pre, suf, BS = 4, 21, 3, 10, 16
    V, N = _layout(F, P, pre, suf)
    q, k, v = make_qkv(2, 2, N, 64, torch.float32, seed=5, layout="bhnd")
    out = band_attention(q, k, v, LABELS, video_start=pre, num_frames=F, frame_tokens=P,
                         band_width=10, block_size=BS)
    dense = torch.softmax(q @ k.transpose(-1, -2) / 8.0, -1) @ v
    torch.testing.assert_close(out[:, :, pre:pre + V], dense[:, :, pre:pre + V], rtol=1e-4, atol=1e-5)


def test_band_kernel_block_size_32_bool_labels():
    F, P, pre, suf, BS, w = 3, 30, 0, 5, 32, 0
    V, N = _layout(F, P, pre, suf)
    q, k, v = make_qkv(1, 3, N, 64, torch.float32, seed=9)
    for temporal in (True, False):
        out = band_attention(q, k, v, temporal, video_start=pre, num_frames=F, frame_tokens=P,
                             band_width=w, block_size=BS)
        ref = naive_band(q, k, v, torch.full((1, 3), temporal), pre, F, P, BS, w)
        torch.testing.assert_close(out[:, :, pre:pre + V].double(), ref, rtol=1e-4, atol=1e-5)


def test_kept_pairs_counts_the_mask():
    F, P, pre, suf, BS = 3, 20, 4, 6, 16
    V, N = _layout(F, P, pre, suf)
    for w in range(4):
        pos = torch.arange(V)
        band = ((pos[:, None] // BS - pos[None, :] // BS).abs() <= w).sum().item()
        expect = band + V * (pre + suf) + (pre + suf) * N
        assert kept_pairs(V, pre + suf, BS, w) == expect


@pytest.mark.parametrize("bad", ["shape", "dtype", "stride", "head_dim", "layout", "block", "bias", "labels"])
def test_launcher_checks(bad):
    F, P, pre = 2, 16, 0
    N, D = F * P, 64
    q, k, v = make_qkv(1, 2, N, D, torch.float32)
    kw = dict(video_start=pre, num_frames=F, frame_tokens=P, band_width=1, block_size=16)
    temporal = torch.zeros(1, 2, dtype=torch.bool)
    if bad == "shape":
        k = k[:, :1]
    elif bad == "dtype":
        q = q.double()
    elif bad == "stride":
        q = q.transpose(-1, -2).contiguous().transpose(-1, -2)
    elif bad == "head_dim":
        q, k, v = make_qkv(1, 2, N, 32, torch.float32)
    elif bad == "layout":
        kw["num_frames"] = 3
    elif bad == "block":
        kw["block_size"] = 24
    elif bad == "bias":
        kw["key_bias"] = torch.zeros(1, N + 1)
    elif bad == "labels":
        temporal = torch.zeros(3, 2, dtype=torch.bool)
    with pytest.raises(ValueError):
        band_attention(q, k, v, temporal, **kw)


def test_triton_support_reports():
    ok, why = kernels.triton_support("cpu", torch.float16, 64, allow_interpreter=True)
    assert ok, why
    ok, why = kernels.triton_support("cpu", torch.float16, 64)
    assert not ok and "CUDA" in why, why
    assert not kernels.triton_support("cpu", torch.float16, 96, allow_interpreter=True)[0]
    assert not kernels.triton_support("cpu", torch.int8, 64, allow_interpreter=True)[0]
    assert not kernels.triton_support("meta", torch.float16, 64, allow_interpreter=True)[0]


def test_import_without_triton():
    """`import kernels` must work (and report why) where Triton cannot be imported."""
    code = (
        "import sys; sys.modules['triton'] = None\n"
        "import torch, kernels\n"
        "ok, why = kernels.triton_support('cuda', torch.float16, 128)\n"
        "assert not ok, why\n"
        "print('reason:', why)\n"
    )
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    env = dict(os.environ, PYTHONPATH=root + os.pathsep + os.environ.get("PYTHONPATH", ""))
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=120)
    assert res.returncode == 0, res.stderr
    assert "reason:" in res.stdout


def test_tma_path_and_gather_in_interpreter():
    """The GPU default path (head-ordered K/V copies + tensor-descriptor loads) run by the interpreter."""
    import sys

    from svg_pack.kernels import _jit
    ba = sys.modules["svg_pack.kernels.band_attention"]
    mod = _jit.load("_band_triton")
    F, P, pre, suf, BS, w = 5, 27, 7, 9, 16, 1
    V, N = _layout(F, P, pre, suf)
    q, k, v = make_qkv(2, 2, N, 64, torch.float32, seed=21)
    temp_i = LABELS.to(torch.int8).contiguous()
    descs = ba._tma_descriptors(mod, k, v, temp_i, pre, F, P, V, 16)
    for b in range(2):
        for h in range(2):
            order = head_order(video_layout(F, P, pre, N), int(LABELS[b, h]))
            assert torch.equal(descs["KT_DESC"].base[b, h], k[b, h, order])
            assert torch.equal(descs["VT_DESC"].base[b, h], v[b, h, order])
    out = torch.zeros_like(q)
    order = ba._tile_order(V, BS, 16, w, q.device)
    mod.band_fwd_kernel[(order.numel(), 4)](
        q, k, v, out, q, temp_i, order,
        q.stride(0), q.stride(1), q.stride(2), k.stride(0), k.stride(1), k.stride(2),
        v.stride(0), v.stride(1), v.stride(2), out.stride(0), out.stride(1), out.stride(2), 0,
        2, pre, F, P, V, N - V, w, 1.4426950408889634 / 8.0,
        BS=BS, BLOCK_M=16, BLOCK_N=16, HEAD_DIM=64, HAS_BIAS=False, PREC="ieee", TMA=True, WS=False, **descs)
    ref = band_attention_reference(q, k, v, video_layout(F, P, pre, N), w, BS, LABELS)
    torch.testing.assert_close(out[:, :, pre:pre + V], ref[:, :, pre:pre + V], rtol=1e-4, atol=1e-5)


def test_svg_adapters_match_the_reference():
    """kernels.svg_* (the Triton backend's ops) take svg_attention's (layout, width, block_size) signature."""
    from svg_pack.kernels import svg_band_attention, svg_global_rows, svg_profile
    from svg_pack.svg_attention import profile_reference
    F, P, pre, suf, BS, w = 3, 20, 5, 6, 16, 1
    V, N = _layout(F, P, pre, suf)
    layout = video_layout(F, P, pre, N)
    q, k, v = make_qkv(2, 2, N, 64, torch.float32, seed=2)
    bias = make_bias(2, N, pre, V)
    rows = torch.tensor([1, 17, 40, 59])
    err = svg_profile(q, k, v, layout, w, BS, rows, key_bias=bias)
    ref = profile_reference(q, k, v, layout, w, BS, rows, key_bias=bias)
    torch.testing.assert_close(err, ref, rtol=1e-4, atol=1e-8)
    out = svg_band_attention(q, k, v, layout, w, BS, LABELS, key_bias=bias)
    out = svg_global_rows(q, k, v, layout, key_bias=bias, out=out)
    expect = band_attention_reference(q, k, v, video_layout(F, P, pre, N), w, BS, LABELS, key_bias=bias)
    torch.testing.assert_close(out[:, :, pre:pre + V], expect[:, :, pre:pre + V], rtol=1e-4, atol=1e-5)
    gb = bias.clone()
    gb[:, pre:pre + V] = 0
    dense = torch.softmax(q @ k.transpose(-1, -2) / 8.0 + gb[:, None, None, :], -1) @ v
    torch.testing.assert_close(out[:, :, :pre], dense[:, :, :pre], rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(out[:, :, pre + V:], dense[:, :, pre + V:], rtol=1e-4, atol=1e-5)

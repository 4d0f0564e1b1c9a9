"""CPU tests (Triton interpreter) of the packed band kernel: bf16 path against the band reference,
FP8 path against its torch emulation, the FP8 pack kernel bit for bit against its reference, and
the emulation's error against exact attention."""
import math

import pytest
import torch

from helpers import make_bias, make_qkv, video_layout

import svg_pack.kernels as kernels
from svg_pack.svg_attention import band_attention_reference
from svg_pack.kernels import fp8_emulation as emu
from svg_pack.kernels.packed_attention import (fp8_band_attention, fp8_dense_attention, packed_band_attention,
                                               packed_config)

pytestmark = pytest.mark.skipif(not kernels._jit.interpret_requested(),
                                reason="CPU kernel tests need TRITON_INTERPRET=1 (set by conftest unless -m gpu)")

LABELS = torch.tensor([[True, False], [False, True]])


def _rel(a, b):
    return ((a.double() - b.double()).norm() / b.double().norm()).item()


def _layout(F, P, pre, suf):
    return F * P, pre + F * P + suf


# ---------------------------------------------------------------------------------------------
# quantisation helpers
# ---------------------------------------------------------------------------------------------
def test_pow2_exponent_puts_the_block_max_in_the_top_binade():
    amax = torch.cat([torch.rand(2000) * 10 ** torch.randint(-30, 30, (2000,)).float(),
                      torch.tensor([448.0, 224.0, 224.0001, 1.0, 1.75, 1.7500001, 3.5])])
    e = emu.pow2_exponent(amax)
    scaled = amax * emu.pow2(-e)
    assert (scaled <= 448).all() and (scaled > 224).all()
    # exactly representable: 448 -> 2^0, 1.75 -> 2^-8 (1.75 * 256 = 448)
    assert e[-7].item() == 0 and e[-3].item() == -8
    assert emu.pow2_exponent(torch.zeros(1)).item() == 0
    assert torch.equal(emu.pow2(torch.tensor([0, 3, -126, 126])), torch.tensor([1.0, 8.0, 2.0 ** -126, 2.0 ** 126]))


def test_to_e4m3_rounds_to_nearest_even_and_saturates():
    x = torch.tensor([1000.0, -1000.0, 464.0, 447.0, 1.0625, 1.1875, 0.0, -0.001953125, 2.0 ** -10])
    y = emu.to_e4m3(x).float()
    # 1.0625 is halfway between 1.0 and 1.125: even mantissa -> 1.0; 1.1875 -> 1.25;
    # 2^-10 is halfway between 0 and the smallest subnormal 2^-9: ties to even -> 0
    assert y.tolist() == [448.0, -448.0, 448.0, 448.0, 1.0, 1.25, 0.0, -0.001953125, 0.0]


def test_perm32_is_a_permutation_inside_each_group_of_32():
    idx = torch.arange(256)
    p = emu.perm32(idx)
    assert torch.equal(torch.sort(p).values, idx)
    assert torch.equal(p // 32, idx // 32)
    # thread t of a quad holds accumulator columns 8j + 2t + e; they land on 4t + 2j + e
    assert p[[0, 1, 2, 3, 8, 9, 10]].tolist() == [0, 1, 4, 5, 2, 3, 6]


@pytest.mark.parametrize("smooth", [True, False])
@pytest.mark.parametrize("pv_perm", [True, False])
def test_fp8_pack_kernel_is_bitwise_the_reference(smooth, pv_perm):
    """The pack kernel (interpreter, its float32 rounding on the e4m3 grid) writes exactly what the
    torch reference writes: same scales, same bytes, zero padding rows."""
    from svg_pack.kernels import _jit
    from svg_pack.kernels.packed_attention import _pack
    F, P, pre, suf = 3, 50, 7, 140
    V, N = _layout(F, P, pre, suf)
    q, k, v = make_qkv(2, 2, N, 64, torch.float16, seed=3, scale=3.0)
    k = k + torch.linspace(-4, 4, 64, dtype=torch.float16)        # channel offsets (what smoothing removes)
    mod = _jit.load("_packed_triton")
    temp_i = LABELS.to(torch.int8)
    qk8 = smooth or not pv_perm     # one case packs for precision "fp8-pv" (K kept in its dtype)
    kp, vp, ks, vsc, _vmean, vp0, L = _pack(mod, k, v, temp_i, pre, F, P, True, smooth, smooth, pv_perm, True, qk8)
    rk, rv, rks, rvsc, _ = emu.fp8_pack_reference(k, v, LABELS, video_start=pre, num_frames=F, frame_tokens=P,
                                                  smooth_k=smooth, smooth_v=smooth, pv_perm=pv_perm, qk8=qk8)
    assert (vp0, L) == emu.packed_rows(V, N - V) == (256, 512)
    assert torch.equal(ks, rks) and torch.equal(vsc, rvsc)
    assert kp.dtype == (torch.float8_e4m3fn if qk8 else torch.float16)
    assert torch.equal(kp.view(torch.uint8), rk.view(torch.uint8))
    assert torch.equal(vp.view(torch.uint8), rv.view(torch.uint8))   # bytes: the sign of zero too
    assert kp[:, V:vp0].float().abs().sum() == 0 and kp[:, vp0 + N - V:].float().abs().sum() == 0


# ---------------------------------------------------------------------------------------------
# bf16 (input dtype) path
# ---------------------------------------------------------------------------------------------
BF16_CASES = [
    # F, P, pre, suf, w, BS, dtype, config
    (3, 20, 0, 0, 1, 16, torch.float32, dict(TMA=False)),
    (5, 27, 7, 9, 1, 16, torch.float32, dict(TMA=True)),
    (5, 27, 7, 9, 2, 16, torch.float16, dict(TMA=True, PERSIST=True)),
    (4, 40, 16, 23, 1, 32, torch.float32, dict(TMA=True, PREFETCH=True)),
    (4, 33, 0, 23, 2, 16, torch.float16, dict(TMA=False, PREFETCH=True, PERSIST=True, FLATTEN=True)),
    (3, 40, 5, 21, 1, 32, torch.float32, dict(BLOCK_M=32, BLOCK_N=32, PV_SPLIT=True)),
]


@pytest.mark.parametrize("F,P,pre,suf,w,BS,dtype,config", BF16_CASES)
def test_packed_kernel_matches_the_band_reference(F, P, pre, suf, w, BS, dtype, config):
    V, N = _layout(F, P, pre, suf)
    q, k, v = make_qkv(2, 2, N, 64, dtype, seed=F * 100 + P + w)
    bias = make_bias(2, N, pre, V) if (pre or suf) else None
    store = torch.full((2, N, 128), float("nan"), dtype=dtype)
    out = store.view(2, N, 2, 64).transpose(1, 2)
    packed_band_attention(q, k, v, LABELS, video_start=pre, num_frames=F, frame_tokens=P, band_width=w,
                          block_size=BS, key_bias=bias, out=out, config=config)
    ref = band_attention_reference(q.float(), k.float(), v.float(), video_layout(F, P, pre, N), w, BS, LABELS,
                                   key_bias=bias)
    sl = slice(pre, pre + V)
    tol = dict(rtol=1e-4, atol=1e-5) if dtype == torch.float32 else dict(rtol=2e-2, atol=2e-3)
    torch.testing.assert_close(out[:, :, sl].float(), ref[:, :, sl], **tol)
    assert torch.isnan(out[:, :, :pre]).all() and torch.isnan(out[:, :, pre + V:]).all()


def test_packed_kernel_d128_bool_label():
    F, P, pre, suf, BS, w = 3, 22, 9, 12, 32, 1
    V, N = _layout(F, P, pre, suf)
    q, k, v = make_qkv(1, 2, N, 128, torch.float32, seed=11)
    bias = make_bias(1, N, pre, V)
    out = packed_band_attention(q, k, v, True, video_start=pre, num_frames=F, frame_tokens=P, band_width=w,
                                block_size=BS, key_bias=bias)
    ref = band_attention_reference(q, k, v, video_layout(F, P, pre, N), w, BS, torch.ones(1, 2, dtype=torch.int8),
                                   key_bias=bias)
    torch.testing.assert_close(out[:, :, pre:pre + V], ref[:, :, pre:pre + V], rtol=1e-4, atol=1e-5)


def test_band_attention_dispatches_to_the_packed_kernel():
    from svg_pack.kernels import band_attention
    F, P, pre, suf, BS, w = 3, 20, 4, 5, 16, 1
    V, N = _layout(F, P, pre, suf)
    q, k, v = make_qkv(2, 2, N, 64, torch.float32, seed=4)
    a = band_attention(q, k, v, LABELS, video_start=pre, num_frames=F, frame_tokens=P, band_width=w,
                       block_size=BS, config=dict(KERNEL="packed"))
    b = band_attention_reference(q, k, v, video_layout(F, P, pre, N), w, BS, LABELS)
    torch.testing.assert_close(a[:, :, pre:pre + V], b[:, :, pre:pre + V], rtol=1e-4, atol=1e-5)


def test_packed_config_checks():
    with pytest.raises(ValueError, match="unknown"):
        packed_config(64, 128, "bf16", True, dict(BLOCK_Q=64))
    with pytest.raises(ValueError, match="precision"):
        packed_config(64, 128, "fp16", True)
    cfg = packed_config(128, 64, "fp8", False, dict(BLOCK_M=128, BLOCK_N=128))
    assert cfg["BLOCK_M"] == 64 and cfg["BLOCK_N"] == 64 and cfg["PV_PERM"]


# ---------------------------------------------------------------------------------------------
# FP8 path: kernel == emulation (the same quantisation), emulation ~ exact attention
# ---------------------------------------------------------------------------------------------
FP8_CASES = [
    # F, P, pre, suf, w, BS, dtype, precision, config
    (3, 40, 0, 0, 1, 32, torch.float32, "fp8", dict(BLOCK_M=32, BLOCK_N=32)),                      # PV_PERM on
    (3, 40, 5, 21, 1, 32, torch.float16, "fp8", dict(BLOCK_M=16, BLOCK_N=32, TMA=False, PV_SPLIT=True)),
    (5, 27, 7, 9, 2, 16, torch.float32, "fp8", dict(TMA=True, PERSIST=True, SMOOTH_V=False)),
    (4, 33, 0, 23, 1, 32, torch.float16, "fp8", dict(BLOCK_M=32, BLOCK_N=32, PREFETCH=True, SMOOTH_K=False)),
    (3, 40, 5, 21, 1, 32, torch.float32, "fp8-pv", dict(BLOCK_M=32, BLOCK_N=32)),
    (4, 33, 0, 23, 2, 16, torch.float16, "fp8-pv", dict(TMA=False, PV_SPLIT=True)),
]


@pytest.mark.parametrize("F,P,pre,suf,w,BS,dtype,precision,config", FP8_CASES)
def test_fp8_kernel_matches_the_emulation(F, P, pre, suf, w, BS, dtype, precision, config):
    V, N = _layout(F, P, pre, suf)
    q, k, v = make_qkv(2, 2, N, 64, dtype, seed=F + P + w)
    k = k + 0.5   # a shared offset: smoothing changes the quantisation, not the result
    bias = make_bias(2, N, pre, V) if (pre or suf) else None
    out = torch.full_like(q, float("nan"))
    packed_band_attention(q, k, v, LABELS, video_start=pre, num_frames=F, frame_tokens=P, band_width=w,
                          block_size=BS, key_bias=bias, out=out, config=config, precision=precision)
    cfg = packed_config(64, BS, precision, True, config)
    ref = emu.fp8_band_attention_emulation(q, k, v, LABELS, video_start=pre, num_frames=F, frame_tokens=P,
                                           band_width=w, block_size=BS, key_bias=bias, tile_m=cfg["BLOCK_M"],
                                           tile_n=cfg["BLOCK_N"], smooth_k=cfg["SMOOTH_K"], smooth_v=cfg["SMOOTH_V"],
                                           qk8=precision == "fp8")
    sl = slice(pre, pre + V)
    # fp16 outputs: their rounding, and (fp8-pv) the order of the float score sums, which can move a p
    # across an e4m3 rounding boundary; still ~1000x below the FP8 error itself (~3-5%)
    assert _rel(out[:, :, sl], ref[:, :, sl]) < (1e-5 if dtype == torch.float32 else 5e-5)
    assert torch.isnan(out[:, :, :pre]).all() and torch.isnan(out[:, :, pre + V:]).all()


@pytest.mark.parametrize("smooth", [True, False])
def test_fp8_emulation_error_against_exact_attention(smooth):
    """FP8 (e4m3) attention on random data: a few percent relative L2 error against exact attention
    (P and V in e4m3 dominate), far above float rounding but far below a wrong result (~1)."""
    F, P, pre, suf, BS, w = 4, 64, 0, 40, 32, 1
    V, N = _layout(F, P, pre, suf)
    q, k, v = make_qkv(1, 2, N, 64, torch.float32, seed=7)
    k = k + torch.linspace(-3, 3, 64)       # channel offsets in k and v, as in trained models
    v = v + torch.linspace(0, 2, 64)
    out = emu.fp8_band_attention_emulation(q, k, v, LABELS[:1], video_start=pre, num_frames=F, frame_tokens=P,
                                           band_width=w, block_size=BS, tile_m=32, tile_n=32, smooth_k=smooth,
                                           smooth_v=smooth)
    ref = band_attention_reference(q.double(), k.double(), v.double(), video_layout(F, P, pre, N), w, BS,
                                   LABELS[:1])
    err = _rel(out[:, :, :V], ref[:, :, :V])
    assert 1e-3 < err < (0.02 if smooth else 0.05), err
    # the same data through the bf16 path of the emulation's inputs: far smaller error
    ref16 = band_attention_reference(q.bfloat16(), k.bfloat16(), v.bfloat16(), video_layout(F, P, pre, N), w, BS,
                                     LABELS[:1])
    assert _rel(ref16[:, :, :V], ref[:, :, :V]) < err / 3


def test_fp8_dense_attention():
    F, P, pre, suf = 3, 40, 6, 20
    V, N = _layout(F, P, pre, suf)
    q, k, v = make_qkv(2, 2, N, 64, torch.float32, seed=12)
    bias = make_bias(2, N, pre, V)
    out = fp8_dense_attention(q, k, v, video_start=pre, num_frames=F, frame_tokens=P, key_bias=bias,
                              config=dict(BLOCK_M=32, BLOCK_N=32))
    gb = bias.clone()
    gb[:, pre:pre + V] = 0
    dense = torch.softmax(q.double() @ k.double().transpose(-1, -2) / 8.0 + gb[:, None, None, :].double(), -1) \
        @ v.double()
    assert _rel(out[:, :, pre:pre + V], dense[:, :, pre:pre + V]) < 0.08
    # the global (text) rows are exact (dense float path)
    torch.testing.assert_close(out[:, :, :pre].double(), dense[:, :, :pre], rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(out[:, :, pre + V:].double(), dense[:, :, pre + V:], rtol=1e-4, atol=1e-5)
    # no layout: all tokens one sequence
    out2 = fp8_dense_attention(q, k, v, config=dict(BLOCK_M=32, BLOCK_N=32))
    plain = torch.softmax(q.double() @ k.double().transpose(-1, -2) / math.sqrt(64), -1) @ v.double()
    assert _rel(out2, plain) < 0.08


def test_fp8_needs_a_cuda_device_of_compute_capability_8_9():
    from svg_pack.kernels.packed_attention import fp8_support
    ok, why = fp8_support("cpu")
    assert not ok and "CUDA" in why

"""GPU tests (bf16 on CUDA, realistic N) of the packed band kernel, its FP8 path and the shared-max
profiler.  Run on the GPU machine with:  pytest tests/kernels -m gpu
CPU counterparts (interpreter, fp32/fp16): test_packed_attention.py, test_profile.py.
"""
import pytest
import torch

from helpers import make_bias, video_layout

import svg_pack.kernels as kernels
from svg_pack.kernels import profile_errors
from svg_pack.svg_attention import band_attention_reference, profile_reference
from svg_pack.kernels import fp8_emulation as emu

_CUDA = torch.cuda.is_available()
_FP8 = _CUDA and torch.cuda.get_device_capability() >= (8, 9)
pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not _CUDA, reason="needs a CUDA GPU; CPU counterparts: test_packed_attention.py"),
    pytest.mark.skipif(_CUDA and kernels._jit.interpret_requested(),
                       reason="TRITON_INTERPRET=1 is set: run `pytest tests/kernels -m gpu` to compile for the GPU"),
]
needs_fp8 = pytest.mark.skipif(not _FP8, reason="FP8 needs compute capability >= 8.9")

LABELS = [[True, False], [False, True]]


def _qkv(B, H, N, D, seed, dtype=torch.bfloat16):
    g = torch.Generator(device="cuda").manual_seed(seed)
    x = torch.randn(3, B, N, H * D, device="cuda", generator=g, dtype=torch.float32).to(dtype)
    return [x[i].view(B, N, H, D).transpose(1, 2) for i in range(3)]


def _rel(a, b):
    return ((a.float() - b.float()).norm() / b.float().norm()).item()


CONFIGS = [None, dict(TMA=False), dict(PERSIST=True), dict(PERSIST=True, FLATTEN=True),
           dict(BLOCK_N=64, num_stages=4, PREFETCH=True), dict(BLOCK_M=64, BLOCK_N=64, num_warps=4, num_stages=3)]


@pytest.mark.parametrize("D", [64, 128])
@pytest.mark.parametrize("cfg", CONFIGS, ids=lambda c: "default" if c is None else "-".join(f"{k}{v}" for k, v in c.items()))
def test_packed_bf16_matches_reference(D, cfg):
    from svg_pack.kernels.packed_attention import packed_band_attention
    B, H, F, P, pre, suf, w = 2, 2, 21, 1560, 16, 256, 3
    V = F * P
    N = pre + V + suf
    q, k, v = _qkv(B, H, N, D, seed=D)
    temporal = torch.tensor(LABELS, device="cuda")
    bias = make_bias(B, N, pre, V).cuda()
    out = torch.full_like(q, float("nan"))
    packed_band_attention(q, k, v, temporal, video_start=pre, num_frames=F, frame_tokens=P, band_width=w,
                          key_bias=bias, out=out, config=cfg)
    ref = band_attention_reference(q, k, v, video_layout(F, P, pre, N), w, 128, temporal, key_bias=bias)
    sl = slice(pre, pre + V)
    assert _rel(out[:, :, sl], ref[:, :, sl]) < 1e-2
    assert torch.isnan(out[:, :, :pre]).all() and torch.isnan(out[:, :, pre + V:]).all()


@needs_fp8
@pytest.mark.parametrize("pv_perm", [True, False])
def test_fp8_pack_kernel_equals_reference_on_gpu(pv_perm):
    from svg_pack.kernels import _jit
    from svg_pack.kernels.packed_attention import _pack
    B, H, D, F, P, pre, suf = 2, 2, 128, 21, 1560, 7, 100
    V = F * P
    N = pre + V + suf
    q, k, v = _qkv(B, H, N, D, seed=5)
    temporal = torch.tensor(LABELS, device="cuda")
    mod = _jit.load("_packed_triton")
    kp, vp, ks, vsc, _vm, vp0, L = _pack(mod, k, v, temporal.to(torch.int8), pre, F, P, True, True, True, pv_perm,
                                         False)
    rk, rv, rks, rvsc, _ = emu.fp8_pack_reference(k, v, temporal, video_start=pre, num_frames=F, frame_tokens=P,
                                                  pv_perm=pv_perm)
    assert torch.equal(ks, rks) and torch.equal(vsc, rvsc)
    # values equal exactly (+0 and -0 compare equal: the GPU's cast may differ from torch on the sign of zero)
    assert torch.equal(kp.float(), rk.float())
    assert torch.equal(vp.float(), rv.float())


@needs_fp8
@pytest.mark.parametrize("D,pre,suf,precision,cfg", [
    (128, 0, 0, "fp8", None),
    (128, 16, 256, "fp8", dict(PV_SPLIT=False)),
    (64, 16, 256, "fp8", None),
    (128, 0, 0, "fp8", dict(PERSIST=True, PREFETCH=True)),
    (128, 0, 0, "fp8", dict(BLOCK_N=64, num_stages=6)),
    (128, 0, 0, "fp8", dict(PV_PERM=False)),
    (128, 16, 256, "fp8-pv", None),
    (64, 0, 0, "fp8-pv", None),
])
def test_fp8_kernel_matches_emulation_on_gpu(D, pre, suf, precision, cfg):
    """The FP8 kernel against the torch emulation of its quantisation (float32 math): what is left
    is the GPU's arithmetic (FP8 tensor-core accumulation, ex2.approx), far below the FP8 error."""
    from svg_pack.kernels.packed_attention import packed_band_attention, packed_config
    B, H, F, P, w = 2, 2, 21, 1560, 30
    V = F * P
    N = pre + V + suf
    q, k, v = _qkv(B, H, N, D, seed=D + pre)
    temporal = torch.tensor(LABELS, device="cuda")
    bias = make_bias(B, N, pre, V).cuda() if (pre or suf) else None
    out = torch.full_like(q, float("nan"))
    packed_band_attention(q, k, v, temporal, video_start=pre, num_frames=F, frame_tokens=P, band_width=w,
                          key_bias=bias, out=out, config=cfg, precision=precision)
    c = packed_config(D, 128, precision, False, cfg)
    ref = emu.fp8_band_attention_emulation(q, k, v, temporal, video_start=pre, num_frames=F, frame_tokens=P,
                                           band_width=w, key_bias=bias, tile_m=c["BLOCK_M"], tile_n=c["BLOCK_N"],
                                           smooth_k=c["SMOOTH_K"], smooth_v=c["SMOOTH_V"], qk8=precision == "fp8")
    exact = band_attention_reference(q, k, v, video_layout(F, P, pre, N), w, 128, temporal, key_bias=bias)
    sl = slice(pre, pre + V)
    e_kernel = _rel(out[:, :, sl], ref[:, :, sl])
    e_fp8 = _rel(ref[:, :, sl], exact[:, :, sl])
    print(f"kernel vs emulation {e_kernel:.2e}, emulation vs exact {e_fp8:.2e}")
    assert not torch.isnan(out[:, :, sl]).any()
    assert e_kernel < 0.2 * e_fp8 and e_kernel < 1e-2
    assert torch.isnan(out[:, :, :pre]).all() and torch.isnan(out[:, :, pre + V:]).all()


@needs_fp8
def test_fp8_dense_against_sdpa():
    from svg_pack.kernels.packed_attention import fp8_dense_attention
    B, H, N, D = 1, 4, 16384, 128
    q, k, v = _qkv(B, H, N, D, seed=9)
    out = fp8_dense_attention(q, k, v)
    ref = torch.nn.functional.scaled_dot_product_attention(q.float(), k.float(), v.float())
    assert _rel(out, ref) < 0.1


@pytest.mark.parametrize("D,pre,suf", [(128, 0, 0), (64, 16, 256), (128, 0, 256)])
def test_profile_shared_bf16(D, pre, suf):
    B, H, F, P, w, R = 2, 3, 21, 1560, 3, 64
    V = F * P
    N = pre + V + suf
    q, k, v = _qkv(B, H, N, D, seed=2)
    bias = make_bias(B, N, pre, V).cuda() if (pre or suf) else None
    rows = torch.randperm(V, device="cuda")[:R]
    err = profile_errors(q, k, v, rows, video_start=pre, num_frames=F, frame_tokens=P, band_width=w,
                         key_bias=bias, config=dict(SHARED=True))
    ref = profile_reference(q, k, v, video_layout(F, P, pre, N), w, 128, rows, key_bias=bias)
    torch.testing.assert_close(err, ref, rtol=5e-2, atol=1e-7)

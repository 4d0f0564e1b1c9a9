"""GPU tests (bf16/fp16 on CUDA, realistic N) of the band and profiling kernels.

Run on the GPU machine with:  pytest tests/kernels -m gpu
Skipped on CPU; their CPU counterparts are in test_band_attention.py and test_profile.py.
"""
import pytest
import torch

from helpers import make_bias, video_layout

import svg_pack.kernels as kernels
from svg_pack.kernels import band_attention, global_rows_attention, profile_errors
from svg_pack.svg_attention import band_attention_reference, profile_reference

_CUDA = torch.cuda.is_available()
pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not _CUDA, reason="needs a CUDA GPU (bf16 tl.dot is wrong in the CPU interpreter); "
                                         "CPU counterparts: test_band_attention.py, test_profile.py"),
    pytest.mark.skipif(_CUDA and kernels._jit.interpret_requested(),
                       reason="TRITON_INTERPRET=1 is set: run `pytest tests/kernels -m gpu` to compile for the GPU"),
]

# candidate launch configs measured by bench/attention_bench.py --sweep (each must be correct)
SWEEP = [
    None,  # the static default of kernels/band_attention.py
    dict(BLOCK_M=128, BLOCK_N=128, num_warps=8, num_stages=3, TMA=False),            # pointer loads (fused gather)
    dict(BLOCK_M=128, BLOCK_N=128, num_warps=8, num_stages=2, TMA=True, WS=False),   # TMA, head-ordered K/V copies
    dict(BLOCK_M=128, BLOCK_N=128, num_warps=8, num_stages=3, TMA=True, WS=False),
    dict(BLOCK_M=128, BLOCK_N=128, num_warps=8, num_stages=2, TMA=True, WS=True),
]


def _qkv(B, H, N, D, dtype, seed):
    g = torch.Generator(device="cuda").manual_seed(seed)
    x = torch.randn(3, B, N, H * D, device="cuda", generator=g, dtype=torch.float32).to(dtype)
    return [x[i].view(B, N, H, D).transpose(1, 2) for i in range(3)]


def _rel(a, b):
    return ((a.float() - b.float()).norm() / b.float().norm()).item()


@pytest.fixture(scope="module")
def wan_case():
    """Wan-1.3B-480p geometry: 21 frames x 1560 tokens = 32760, no global tokens, B=2 with mixed labels."""
    B, H, D, F, P = 2, 2, 128, 21, 1560
    q, k, v = _qkv(B, H, F * P, D, torch.bfloat16, seed=0)
    temporal = torch.tensor([[True, False], [False, True]], device="cuda")
    ref = {w: band_attention_reference(q, k, v, video_layout(F, P, 0, F * P), w, 128, temporal) for w in (2, 30)}
    return q, k, v, temporal, ref


@pytest.mark.parametrize("cfg", SWEEP, ids=lambda c: "default" if c is None else
                         f"m{c['BLOCK_M']}n{c['BLOCK_N']}w{c['num_warps']}s{c['num_stages']}"
                         + ("tma" if c.get("TMA") else "") + ("ws" if c.get("WS") else ""))
@pytest.mark.parametrize("w", [2, 30])
def test_band_bf16_d128_n32760(wan_case, cfg, w):
    q, k, v, temporal, ref = wan_case
    out = torch.full_like(q, float("nan"))
    try:
        band_attention(q, k, v, temporal, video_start=0, num_frames=21, frame_tokens=1560, band_width=w,
                       block_size=128, out=out, config=cfg)
        torch.cuda.synchronize()
    except Exception as e:  # warp specialization is an experiment: Triton may not lower it on Hopper
        if cfg and cfg.get("WS"):
            pytest.skip(f"WS config does not compile here: {type(e).__name__}: {str(e)[:200]}")
        raise
    assert not torch.isnan(out).any()
    assert _rel(out, ref[w]) < 1e-2


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_band_d64_globals_bias(dtype):
    """D=64, 16 prefix + 256 suffix global tokens (bias masks some), 21 x 1560 video, strided out."""
    B, H, D, F, P, pre, suf, w = 2, 2, 64, 21, 1560, 16, 256, 3
    V = F * P
    N = pre + V + suf
    q, k, v = _qkv(B, H, N, D, dtype, seed=1)
    temporal = torch.tensor([[False, True], [True, True]], device="cuda")
    bias = make_bias(B, N, pre, V).cuda()
    store = torch.full((B, N, H * D), float("nan"), device="cuda", dtype=dtype)
    out = store.view(B, N, H, D).transpose(1, 2)
    band_attention(q, k, v, temporal, video_start=pre, num_frames=F, frame_tokens=P, band_width=w,
                   block_size=128, key_bias=bias, out=out)
    ref = band_attention_reference(q, k, v, video_layout(F, P, pre, N), w, 128, temporal, key_bias=bias)
    sl = slice(pre, pre + V)
    assert _rel(out[:, :, sl], ref[:, :, sl]) < 1e-2
    assert torch.isnan(out[:, :, :pre]).all() and torch.isnan(out[:, :, pre + V:]).all()


@pytest.mark.parametrize("D,pre,suf", [(128, 0, 0), (64, 16, 256), (128, 0, 256)])
def test_profile_bf16(D, pre, suf):
    B, H, F, P, w, R = 2, 3, 21, 1560, 3, 64
    V = F * P
    N = pre + V + suf
    q, k, v = _qkv(B, H, N, D, torch.bfloat16, seed=2)
    bias = make_bias(B, N, pre, V).cuda() if (pre or suf) else None
    rows = torch.randperm(V, device="cuda")[:R]
    err = profile_errors(q, k, v, rows, video_start=pre, num_frames=F, frame_tokens=P, band_width=w,
                         block_size=128, key_bias=bias)
    ref = profile_reference(q, k, v, video_layout(F, P, pre, N), w, 128, rows, key_bias=bias)
    torch.testing.assert_close(err, ref, rtol=5e-2, atol=1e-7)


@pytest.mark.parametrize("temporal", [False, True])
def test_band_pointer_path_d64_globals(temporal):
    """The pointer-load path (TMA=False) with globals and a bool label, D=64."""
    B, H, D, F, P, pre, suf, w = 1, 2, 64, 21, 1560, 7, 100, 4
    V = F * P
    N = pre + V + suf
    q, k, v = _qkv(B, H, N, D, torch.bfloat16, seed=3)
    cfg = dict(BLOCK_M=128, BLOCK_N=128, num_warps=8, num_stages=3, TMA=False)
    out = band_attention(q, k, v, temporal, video_start=pre, num_frames=F, frame_tokens=P, band_width=w, config=cfg)
    labels = torch.full((B, H), temporal, device="cuda")
    ref = band_attention_reference(q, k, v, video_layout(F, P, pre, N), w, 128, labels)
    assert _rel(out[:, :, pre:pre + V], ref[:, :, pre:pre + V]) < 1e-2


@pytest.mark.parametrize("D", [64, 128])
def test_global_rows_bf16(D):
    B, H, F, P, pre, suf = 1, 3, 21, 1560, 16, 256
    V = F * P
    N = pre + V + suf
    q, k, v = _qkv(B, H, N, D, torch.bfloat16, seed=4)
    bias = make_bias(B, N, pre, V).cuda()
    out = torch.full_like(q, float("nan"))
    global_rows_attention(q, k, v, out, video_start=pre, num_frames=F, frame_tokens=P, key_bias=bias)
    gb = bias.clone()
    gb[:, pre:pre + V] = 0
    for a, b in ((0, pre), (pre + V, N)):
        s = q[:, :, a:b].float() @ k.float().transpose(-1, -2) / D ** 0.5 + gb[:, None, None, :]
        ref = torch.softmax(s, -1) @ v.float()
        assert _rel(out[:, :, a:b], ref) < 1e-2
    assert torch.isnan(out[:, :, pre:pre + V]).all()


def test_triton_support_cuda():
    ok, why = kernels.triton_support("cuda", torch.bfloat16, 128)
    assert ok, why

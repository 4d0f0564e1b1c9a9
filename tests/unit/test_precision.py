"""Attention precision: SVGConfig's settings, the backend each precision resolves to (FP8 kernels where
kernels.fp8_support says so, the exact emulation on the reference backend off CUDA, bf16 elsewhere with
the reason), and the emulation ops the reference backend runs (the FP8 path's one reference)."""
import functools

import pytest
import torch

from svg_pack import kernels
from svg_pack.kernels import fp8_emulation as emu
from svg_pack.svg_attention import (ATTENTION_PRECISIONS, SVGConfig, VideoLayout, backends, band_attention_reference,
                                    global_rows_dense)
from svg_pack.svg_attention.config import AUTO_PRECISION
from svg_pack.svg_attention.patterns import get_pattern

SVG_OPS = get_pattern("svg").ops
CPU = torch.device("cpu")


@pytest.fixture(autouse=True)
def fresh_cache():
    backends.triton_backend_or_reason.cache_clear()
    yield
    backends.triton_backend_or_reason.cache_clear()


# ------------------------------------------------------------------------------------------ config
def test_config_precision_defaults_and_auto():
    config = SVGConfig()
    assert (config.attention_precision, config.fp8_dense_steps, config.speed_floor) == ("auto", False, True)
    assert config.precision == AUTO_PRECISION == "bf16"
    assert ATTENTION_PRECISIONS == ("auto", "bf16", "fp8", "fp8-pv")
    for value in ("bf16", "fp8", "fp8-pv"):
        assert SVGConfig(attention_precision=value).precision == value


def test_config_reports_every_precision_problem_together():
    with pytest.raises(ValueError) as error:
        SVGConfig(sparsity=2.0, attention_precision="e4m3", fp8_dense_steps="yes", speed_floor=None)
    text = str(error.value)
    for part in ("sparsity must be", "attention_precision must be one of ('auto', 'bf16', 'fp8', 'fp8-pv'), "
                 "got 'e4m3'", "fp8_dense_steps must be True or False", "speed_floor must be True or False"):
        assert part in text, text


# ------------------------------------------------------------------------------------------ resolution
def test_bf16_resolves_as_before():
    backend, why = backends.resolve_backend("auto", CPU, torch.float32, 128, SVG_OPS, "bf16")
    assert backend is backends.reference_backend and backend.precision == "bf16" and "dense" not in backend.ops
    assert why.startswith("reference backend (no CUDA device")
    with pytest.raises(ValueError, match="precision must be one of"):
        backends.resolve_backend("auto", CPU, torch.float32, 128, SVG_OPS, "auto")


@pytest.mark.parametrize("precision", ["fp8", "fp8-pv"])
@pytest.mark.parametrize("requested", ["auto", "triton", "reference"])
def test_fp8_on_the_cpu_is_the_emulation(requested, precision):
    backend, why = backends.resolve_backend(requested, CPU, torch.float32, 128, SVG_OPS, precision)
    assert backend.name == f"reference-{precision}" and backend.precision == precision
    band, dense = backend["band_attention"], backend["dense"]
    assert isinstance(band, functools.partial) and band.func is kernels.svg_fp8_band_emulation
    assert band.keywords == {"precision": precision} and dense.func is kernels.svg_fp8_dense_emulation
    # the profiler and the global rows stay exact
    assert backend["profile"] is backends.REFERENCE_OPS["profile"]
    assert backend["global_rows"] is global_rows_dense
    assert f"{precision} as the FP8 kernels' exact torch emulation" in why
    assert ("requested" if requested == "reference" else "no CUDA device") in why


@pytest.mark.parametrize("fp8_ok", [True, False])
def test_fp8_on_the_triton_backend_follows_fp8_support(monkeypatch, fp8_ok):
    triton = backends.Backend("triton", {op: backends.REFERENCE_OPS[op] for op in SVG_OPS})
    monkeypatch.setattr(backends, "triton_backend_or_reason", lambda *args: (triton, ""))
    reason = "FP8 attention needs compute capability 8.9 or 9.0; this GPU has 8.6 (simulated)"
    monkeypatch.setattr(kernels, "fp8_support", lambda device: (True, "ok") if fp8_ok else (False, reason))
    backend, why = backends.resolve_backend("auto", torch.device("cuda"), torch.bfloat16, 128, SVG_OPS, "fp8")
    if fp8_ok:
        assert backend.name == "triton-fp8" and backend.precision == "fp8"
        assert backend["band_attention"].func is kernels.svg_fp8_band_attention
        assert backend["dense"].func is kernels.svg_fp8_dense
        assert backend["profile"] is triton.ops["profile"]       # the profiler stays the exact one
        assert why.endswith("attention in fp8 (e4m3) FP8 kernels"), why
    else:
        assert backend is triton and backend.precision == "bf16"
        assert why.endswith(f"fp8 asked, but {reason}: bf16"), why


def test_fp8_on_a_gpu_without_the_kernels_stays_bf16(monkeypatch):
    """The emulation is for checking: a CUDA device where the kernels cannot run (head_dim 80 here) gets
    the bf16 reference, unless the reference is asked for."""
    monkeypatch.setattr(backends, "triton_backend_or_reason", lambda *args: (None, "head_dim 80 not supported"))
    cuda = torch.device("cuda")
    backend, why = backends.resolve_backend("auto", cuda, torch.bfloat16, 80, SVG_OPS, "fp8")
    assert backend is backends.reference_backend
    assert why == "reference backend (head_dim 80 not supported); fp8 asked, but the FP8 kernels cannot run here: bf16"
    backend, _ = backends.resolve_backend("reference", cuda, torch.bfloat16, 80, SVG_OPS, "fp8")
    assert backend.name == "reference-fp8"


def test_fp8_support_is_compute_capability_8_9_or_9_0(monkeypatch):
    ok, why = kernels.fp8_support("cpu")
    assert not ok and "CUDA" in why
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    for cap, want in (((8, 9), True), ((9, 0), True), ((8, 6), False), ((10, 0), False), ((12, 0), False)):
        monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None, cap=cap: cap)
        ok, why = kernels.fp8_support("cuda")
        assert ok == want, (cap, why)
        assert f"{cap[0]}.{cap[1]}" in why


# ------------------------------------------------------------------------------------------ the emulation ops
def _qkv(layout, D=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    return [torch.randn(2, 2, layout.total_tokens, D, generator=g) for _ in range(3)]


@pytest.mark.parametrize("precision", ["fp8", "fp8-pv"])
def test_the_emulation_band_op_is_the_emulation_at_the_kernels_default_tiles(precision):
    """The reference backend's FP8 band op computes exactly fp8_band_attention_emulation at the GPU
    kernel's default tiles (packed_config), a few percent from exact band attention."""
    from svg_pack.kernels.packed_attention import packed_config
    layout = VideoLayout(3, 80, 7, 30)
    q, k, v = _qkv(layout)
    orders = torch.tensor([[0, 1], [1, 0]], dtype=torch.int8)
    bias = torch.zeros(2, layout.total_tokens)
    bias[1, -5:] = -1e9
    backend, _ = backends.resolve_backend("reference", CPU, torch.float32, 64, SVG_OPS, precision)
    out = backend["band_attention"](q, k, v, layout, 1, 64, orders, key_bias=bias)
    for D in (64, 128):       # the emulation's default tiles are the GPU kernel's
        cfg = packed_config(D, 64, precision)
        assert (cfg["BLOCK_M"], cfg["BLOCK_N"], cfg["SMOOTH_K"], cfg["SMOOTH_V"]) == (64, 64, True, True)
    want = emu.fp8_band_attention_emulation(q, k, v, orders, video_start=7, num_frames=3, frame_tokens=80,
                                            band_width=1, block_size=64, key_bias=bias, tile_m=64, tile_n=64,
                                            qk8=precision == "fp8")
    video = slice(7, 7 + 240)
    assert torch.equal(out[:, :, video], want[:, :, video])
    exact = band_attention_reference(q, k, v, layout, 1, 64, orders, key_bias=bias)
    err = ((out[:, :, video] - exact[:, :, video]).norm() / exact[:, :, video].norm()).item()
    assert 1e-3 < err < 0.1, err


def test_the_emulation_dense_op_writes_every_row():
    """FP8 dense: the video rows as the full-band emulation (a few percent from exact dense attention),
    the global rows exact."""
    layout = VideoLayout(2, 100, 5, 11)
    q, k, v = _qkv(layout, seed=1)
    bias = torch.zeros(1, layout.total_tokens)
    bias[0, -3:] = float("-inf")
    backend, _ = backends.resolve_backend("reference", CPU, torch.float32, 64, SVG_OPS, "fp8")
    out = backend["dense"](q, k, v, layout, key_bias=bias, out=torch.full_like(q, float("nan")))
    glob_bias = bias.clone()
    glob_bias[:, 5:205] = 0
    exact = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=glob_bias[:, None, None, :])
    video, text = slice(5, 205), torch.cat([torch.arange(5), torch.arange(205, 216)])
    assert not torch.isnan(out).any()
    err = ((out[:, :, video] - exact[:, :, video]).norm() / exact[:, :, video].norm()).item()
    assert 1e-3 < err < 0.1, err
    torch.testing.assert_close(out[:, :, text], exact[:, :, text], rtol=1e-5, atol=1e-6)


def test_auto_precision_never_emulates(monkeypatch):
    """emulate=False (the node's "auto"): FP8 only where its kernels run; the CPU / reference backend
    stays bf16 (the emulation is slow and only for checking), with the reason."""
    backend, why = backends.resolve_backend("auto", CPU, torch.float32, 128, SVG_OPS, "fp8-pv", emulate=False)
    assert backend is backends.reference_backend
    assert why.endswith("auto precision: fp8-pv only where the FP8 kernels run, so bf16"), why
    triton = backends.Backend("triton", {op: backends.REFERENCE_OPS[op] for op in SVG_OPS})
    monkeypatch.setattr(backends, "triton_backend_or_reason", lambda *args: (triton, ""))
    monkeypatch.setattr(kernels, "fp8_support", lambda device: (True, "ok"))
    backend, _ = backends.resolve_backend("auto", torch.device("cuda"), torch.bfloat16, 128, SVG_OPS, "fp8-pv",
                                          emulate=False)
    assert backend.name == "triton-fp8-pv"

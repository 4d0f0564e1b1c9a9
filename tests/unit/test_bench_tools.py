"""CPU checks of the GPU benchmark scripts' logic (they run on the GPU machine once or twice, so
their bookkeeping is checked here): the sweep's variant table, the break-even rule, the e2e step
statistics and the FP8 dense attention override's reshaping, and the speed floor's table lookups."""
import pytest
import torch

from svg_pack.bench import breakeven_sweep, e2e_bench, kernel_sweep
from svg_pack.kernels.packed_attention import PACKED_CONFIG_KEYS, packed_config
from svg_pack.svg_attention import speed_floor


def test_sweep_variants_are_unique_and_valid():
    names = [v[0] for v in kernel_sweep.variant_table()]
    assert len(names) == len(set(names))
    for name, kind, head_dim, cfg in kernel_sweep.variant_table():
        assert kind in ("v1", "bf16", "fp8", "fp8-pv") and head_dim in (64, 128), name
        assert f"d{head_dim}" in name and name.startswith(kind)
        if kind == "v1":
            assert set(cfg) <= {"BLOCK_M", "BLOCK_N", "num_warps", "num_stages", "TMA", "WS"}, name
        else:
            assert set(cfg) <= PACKED_CONFIG_KEYS, name
            packed_config(head_dim, 128, kind, False, cfg)    # raises on unknown keys
    assert {kind for _, kind, _, _ in kernel_sweep.variant_table()} == {"v1", "bf16", "fp8", "fp8-pv"}


def test_break_even_is_the_start_of_the_last_winning_run():
    rows = [dict(N=n, ok=w) for n, w in [(4096, False), (8192, True), (12288, False), (16384, True), (32768, True)]]
    assert breakeven_sweep.break_even(rows, "ok") == 16384
    assert breakeven_sweep.break_even(rows[:3], "ok") is None
    assert breakeven_sweep.break_even([dict(N=4096, ok=True)], "ok") == 4096


def test_step_stats_put_the_first_step_apart():
    st = e2e_bench.step_stats([5.0, 1.0, 3.0, 2.0])
    assert st["first"] == 5.0 and st["min"] == 1.0 and st["median"] == 2.0 and st["rest"] == [1.0, 3.0, 2.0]
    assert e2e_bench.step_stats([]) is None
    assert "single" in e2e_bench.step_stats([4.0])["note"]


@pytest.mark.parametrize("skip_reshape,skip_output_reshape", [(False, False), (True, False), (False, True), (True, True)])
def test_fp8_dense_override_reshapes_like_comfyui(skip_reshape, skip_output_reshape):
    """The e2e bench's FP8 dense override with a stand-in kernel (exact attention): same output as
    ComfyUI's function for every reshape flag; masked / cross-attention calls go to ComfyUI's function."""
    B, N, H, D = 2, 40, 3, 64

    class FakeKernels:
        calls = 0

        @classmethod
        def fp8_dense_attention(cls, q, k, v, scale=None, out=None):
            cls.calls += 1
            out.copy_(torch.nn.functional.scaled_dot_product_attention(q, k, v))
            return out

    def comfy_func(q, k, v, heads, mask=None, skip_reshape=False, skip_output_reshape=False, **kw):
        if not skip_reshape:
            q, k, v = (t.view(t.shape[0], -1, heads, D).transpose(1, 2) for t in (q, k, v))
        o = torch.nn.functional.scaled_dot_product_attention(q, k, v, attn_mask=mask)
        return o if skip_output_reshape else o.transpose(1, 2).reshape(o.shape[0], -1, heads * D)

    g = torch.Generator().manual_seed(0)
    x = torch.randn(3, B, N, H * D, generator=g).to(torch.bfloat16)
    q, k, v = (x[i] if not skip_reshape else x[i].view(B, N, H, D).transpose(1, 2) for i in range(3))
    override = e2e_bench.fp8_dense_override(FakeKernels)
    got = override(comfy_func, q, k, v, H, skip_reshape=skip_reshape, skip_output_reshape=skip_output_reshape)
    want = comfy_func(q, k, v, H, skip_reshape=skip_reshape, skip_output_reshape=skip_output_reshape)
    assert FakeKernels.calls == 1 and got.shape == want.shape
    torch.testing.assert_close(got.float(), want.float(), rtol=2e-2, atol=2e-2)
    mask = torch.zeros(1, 1, N, dtype=torch.bfloat16)
    override(comfy_func, q, k, v, H, mask=mask, skip_reshape=skip_reshape, skip_output_reshape=skip_output_reshape)
    assert FakeKernels.calls == 1      # masked: ComfyUI's function


def _table():
    return speed_floor.BreakEven(gpu="Test GPU", source="test", tokens={
        ("bf16", 128, 1, 0.25): 16384, ("bf16", 128, 1, 0.5): 24576,
        ("bf16", 128, 2, 0.25): 12288, ("bf16", 128, 2, 0.5): 16384,
        ("bf16", 64, 1, 0.25): 24576, ("bf16", 64, 1, 0.5): None,
    })


def test_break_even_lookup():
    t = _table()
    assert speed_floor.break_even_tokens(t, "bf16", 128, 1, 0.10)[0] == 16384       # sparser: the 25% size
    assert speed_floor.break_even_tokens(t, "bf16", 128, 1, 0.375)[0] == 20480      # interpolated
    need, note = speed_floor.break_even_tokens(t, "bf16", 128, 1, 0.75)
    assert need == 32768 and "extrapolated" in note
    assert speed_floor.break_even_tokens(t, "bf16", 128, 3, 0.25)[0] == 12288       # batch 3 -> batch 2's size
    need, note = speed_floor.break_even_tokens(t, "bf16", 64, 1, 0.6)
    assert need is None and "never" in note
    assert speed_floor.break_even_tokens(t, "bf16", 64, 1, 0.25)[0] == 24576
    assert speed_floor.break_even_tokens(t, "fp8", 128, 1, 0.25)[0] is None


def test_sparse_pays_rules(monkeypatch):
    monkeypatch.setitem(speed_floor.MEASURED, "Test GPU", _table())
    speed_floor._decide.cache_clear()
    ok, why = speed_floor._decide("Test GPU", 128, 1, 32760, 0.25, "bf16")
    assert ok and "16384" in why
    ok, why = speed_floor._decide("Test GPU", 128, 1, 8192, 0.25, "bf16")
    assert not ok and "dense is faster" in why
    ok, why = speed_floor._decide("Test GPU", 64, 1, 100000, 0.5, "bf16")
    assert not ok and "never" in why
    # a GPU without measurements: the conservative rule, named in the reason
    ok, why = speed_floor._decide("Other GPU", 128, 1, 32768, 0.25, "bf16")
    assert ok and "conservative" in why
    assert not speed_floor._decide("Other GPU", 128, 1, 20000, 0.25, "bf16")[0]
    assert not speed_floor._decide("Other GPU", 128, 1, 65536, 0.6, "bf16")[0]
    # a measured GPU, an unmeasured precision: the conservative rule
    ok, why = speed_floor._decide("Test GPU", 128, 1, 40000, 0.25, "fp8")
    assert ok and "conservative" in why
    assert speed_floor.sparse_pays("cpu", 128, 1, 100, 0.25)[0]
    speed_floor._decide.cache_clear()


def test_e2e_fp8_sparse_steps_swaps_the_band_op_for_one_run(monkeypatch):
    """The e2e bench's FP8 mode (until the node has its precision input): inside the context the
    patch module resolves the Triton backend to one whose band op is the FP8 kernel; outside, the
    original resolver.  The op itself runs here under Triton's interpreter against the emulation."""
    import sys

    import svg_pack
    import svg_pack.nodes.patch as patch_mod
    from svg_pack import kernels
    from svg_pack.svg_attention import VideoLayout
    from svg_pack.svg_attention.attention import Backend
    triton_like = Backend("triton", kernels.svg_profile, kernels.svg_band_attention, kernels.svg_global_rows)
    monkeypatch.setattr(patch_mod, "resolve_backend", lambda *a: (triton_like, "test: triton"))
    monkeypatch.setattr(kernels, "fp8_support", lambda device: (True, "test"))
    original = patch_mod.resolve_backend
    with e2e_bench.fp8_sparse_steps(svg_pack, "fp8-pv"):
        backend, why = patch_mod.resolve_backend("auto", torch.device("cpu"), torch.float32, 64)
    assert patch_mod.resolve_backend is original and sys.modules["svg_pack.nodes.patch"] is patch_mod
    assert backend.name == "triton-fp8-pv" and "fp8-pv" in why
    layout = VideoLayout(2, 64, 0, 16)
    g = torch.Generator().manual_seed(3)
    q, k, v = (torch.randn(1, 2, layout.total_tokens, 64, generator=g) for _ in range(3))
    temporal = torch.tensor([[False, True]])
    out = backend.band_attention(q, k, v, layout, 1, 32, temporal)
    from svg_pack.kernels.fp8_emulation import fp8_band_attention_emulation
    from svg_pack.kernels.packed_attention import packed_config
    cfg = packed_config(64, 32, "fp8-pv", True)
    ref = fp8_band_attention_emulation(q, k, v, temporal, video_start=0, num_frames=2, frame_tokens=64, band_width=1,
                                       block_size=32, tile_m=cfg["BLOCK_M"], tile_n=cfg["BLOCK_N"], qk8=False)
    torch.testing.assert_close(out[:, :, :128], ref[:, :, :128], rtol=1e-4, atol=1e-5)

"""CPU checks of the GPU benchmark scripts' logic (they run on the GPU machine once or twice, so
their bookkeeping is checked here): the sweep's variant table, the break-even rule, the e2e step
statistics, and the speed floor's table lookups.  (The e2e bench's FP8 modes are the node's own
attention_precision / fp8_dense_steps inputs: tests/comfy/test_precision_in_node.py.)"""
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
    ok, why = speed_floor._decide("Other GPU", 128, 1, 32760, 0.25, "bf16")
    assert ok and "conservative" in why
    assert not speed_floor._decide("Other GPU", 128, 1, 20000, 0.25, "bf16")[0]
    assert not speed_floor._decide("Other GPU", 128, 1, 65536, 0.6, "bf16")[0]
    # a measured GPU, an unmeasured precision: the conservative rule
    ok, why = speed_floor._decide("Test GPU", 128, 1, 40000, 0.25, "fp8")
    assert ok and "conservative" in why
    assert speed_floor.sparse_pays("cpu", 128, 1, 100, 0.25)[0]
    speed_floor._decide.cache_clear()

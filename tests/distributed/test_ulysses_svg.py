"""Ulysses over two CPU processes (gloo) equals the single-process ``sparse_attention``: same labels,
same output, for "svg" and for a test pattern with per-(block, global head) run state.

One pair of processes (tests/distributed/ulysses_worker.py) runs every case; each process compares
its own sequence shard with the single-process call on the whole tensor and writes the result.
The processes meet through a file store in a temporary folder (no port), everything has timeouts.
"""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

WORKER = Path(__file__).with_name("ulysses_worker.py")
WORLD = 2
TIMEOUT_S = 150

SVG_CASES = ["wan_3heads_padded", "wan_4heads_even", "hunyuan_text_mask", "hunyuan_two_segments",
             "hunyuan_text_first_segments", "hunyuan_chunks2", "wan_prefix_chunks3"]
# shards with padding tokens (the case, rank): one token of padding on the last rank
PADDED = {"wan_3heads_padded", "hunyuan_text_mask", "hunyuan_two_segments", "hunyuan_text_first_segments",
          "hunyuan_chunks2", "wan_prefix_chunks3"}


@pytest.fixture(scope="module")
def ranks(tmp_path_factory):
    folder = tmp_path_factory.mktemp("ulysses")
    env = dict(os.environ, OMP_NUM_THREADS="1")
    procs = [subprocess.Popen([sys.executable, str(WORKER), str(rank), str(WORLD), str(folder / "store"), str(folder)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
             for rank in range(WORLD)]
    logs = []
    try:
        for proc in procs:
            logs.append(proc.communicate(timeout=TIMEOUT_S)[0])
    except subprocess.TimeoutExpired:
        for proc in procs:
            proc.kill()
        pytest.fail(f"the {WORLD} Ulysses processes did not finish within {TIMEOUT_S} s")
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    results = []
    for rank, (proc, log) in enumerate(zip(procs, logs)):
        path = folder / f"rank{rank}.json"
        assert path.exists(), f"rank {rank} exited with {proc.returncode} and wrote nothing:\n{log}"
        data = json.loads(path.read_text())
        assert "error" not in data, f"rank {rank} failed:\n{data['error']}\n{log}"
        assert proc.returncode == 0, f"rank {rank} exited with {proc.returncode}:\n{log}"
        results.append(data)
    return results


@pytest.mark.parametrize("case", SVG_CASES)
def test_ulysses_svg_equals_single_process(ranks, case):
    for rank, data in enumerate(ranks):
        got = data[case]
        assert got["labels_equal"], f"rank {rank}: labels {got['labels']} differ from the single-process labels"
        assert got["finite"]
        # fp32, the same reference backend on the same numbers: the error is at rounding level (0 here)
        assert got["max_abs_err"] <= 1e-5 * max(1.0, got["ref_max_abs"]), (rank, got)
        assert got["padding_rows_zero"], (rank, got)
        assert got["head_density_none"] and got["density_err"] <= 1e-6, (rank, got)
    # the labels are complete on both ranks (merged) and the case really mixes the ranks' heads
    assert ranks[0][case]["labels"] == ranks[1][case]["labels"]


def test_padding_was_exercised(ranks):
    """The padded cases really carry padding tokens (large random q/k/v) on the last rank."""
    for case in PADDED:
        assert ranks[-1][case]["padding_rows"] >= 1, case
    assert ranks[-1]["wan_4heads_even"]["padding_rows"] == 0


def test_labels_mix_spatial_and_temporal(ranks):
    """At least one case has both kinds on the two ranks, so a wrong head offset would show."""
    mixed = [case for case in SVG_CASES
             if len({label for row in ranks[0][case]["labels"] for label in row}) == 2]
    assert mixed, "every case labels all heads alike: the head mapping is not tested"


def test_generic_layer_with_dense_local_attention(ranks):
    """The layer is generic: SDPA as the local attention gives SDPA of the whole sequence, and each
    rank's local attention is called on its own heads (uneven split: 2 + 1) over all 37 tokens."""
    for rank, data in enumerate(ranks):
        got = data["dense_sdpa"]
        assert got["max_abs_err"] <= 1e-5, (rank, got)
        assert [tuple(r) for r in got["results"]][0][0] == got["expected_offset"]
        assert sum(r[1] for r in got["results"]) == got["expected_heads"]
        assert all(call[2] == 37 for call in got["calls"])


def test_profiler_rows_identical_on_every_rank(ranks):
    assert all(data["same_rows"] for data in ranks)


def test_per_head_run_state_lines_up_across_ranks(ranks):
    """A pattern keeping run state per (block_index, global head) (as SVG2's centroid cache):
    5 heads split 3 + 2, four calls over two blocks with changing head groups (chunks 1, 2, 2, 3),
    padded tail. Each rank's state holds exactly its own heads' keys, together the single process's,
    and outputs (which read the cached entries), labels and head densities are the one-process ones."""
    expected = ranks[0]["head_keys"]["single_process_keys"]
    assert len(expected) == 2 * 5
    seen = []
    for rank, data in enumerate(ranks):
        got = data["head_keys"]
        assert got["max_abs_err"] <= 1e-5, (rank, got)
        assert got["labels_equal"] and got["head_density_equal"], (rank, got)
        assert got["density_err"] <= 1e-6, (rank, got)
        assert [tuple(key) for key in got["keys"]] == [(block, head) for block in (0, 1)
                                                       for head in got["expected_heads"]], (rank, got["keys"])
        # before the merge, each rank's labels cover its heads only (-1 at the other rank's)
        for labels in got["local_labels"]:
            assert [label >= 0 for label in labels[0]] == [h in got["expected_heads"] for h in range(5)]
        seen += [tuple(key) for key in got["keys"]]
    assert [len(data["head_keys"]["expected_heads"]) for data in ranks] == [3, 2]
    assert sorted(seen) == [tuple(key) for key in expected]   # disjoint, and together all of them
    assert ranks[-1]["head_keys"]["padding_rows"] >= 1


ENGINE_CASES = ["xdit_wan_padded", "raylight_wan_padded", "raylight_hunyuan_segments"]


@pytest.mark.parametrize("case", ENGINE_CASES)
def test_svg_inside_an_engines_ulysses_equals_single_process(ranks, case):
    """The xDiT registry function and the Raylight inner-attention processor, each inside a test
    double of its engine's Ulysses (the engine's all-to-all, xDiT's trailing K/V trim), give the
    single-process SVG output and labels; the profiler rows come from the per-run generator."""
    for rank, data in enumerate(ranks):
        got = data[case]
        assert got["calls"] == 1 and got["block"] == 0
        assert got["labels_equal"], (rank, got["labels"])
        assert got["max_abs_err"] <= 1e-5 * max(1.0, got["ref_max_abs"]), (rank, got)
    assert ranks[-1][case]["padding_rows"] >= 1


def test_engine_takes_the_pattern_from_the_settings(ranks):
    """The Raylight processor with settings naming the per-head run-state pattern and dense_blocks=1:
    block 0 runs Raylight's dense attention, blocks 1 and 2 the pattern at offsets rank * H/P."""
    keys = []
    for rank, data in enumerate(ranks):
        got = data["raylight_head_keys"]
        assert got["max_abs_err"] <= 1e-5, (rank, got)
        assert got["blocks"] == [1, 2]
        assert got["labels_equal"] and got["head_density_equal"], (rank, got)
        assert [tuple(key) for key in got["keys"]] == [(block, head) for block in (1, 2)
                                                       for head in got["expected_heads"]], (rank, got["keys"])
        keys += [tuple(key) for key in got["keys"]]
    assert sorted(keys) == [tuple(key) for key in ranks[0]["raylight_head_keys"]["single_process_keys"]]


def test_raylight_calls_without_a_source_stay_dense(ranks):
    for data in ranks:
        assert data["raylight_without_source"] <= 1e-5

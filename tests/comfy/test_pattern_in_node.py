"""A registered pattern other than "svg" through the node: the run asks it for plans and calls, gives
it a fresh run state per run (dropped at the end, its memory in the summary), the call's block
index, and counts its labels by its own label names. In-process, tiny random-weight Wan 2.1 (skipped
with the reason when SVG_COMFYUI_DIR is not set: the ``host`` fixture)."""
from __future__ import annotations

import torch

from svg_pack.svg_attention import pattern_names, register
from svg_pack.svg_attention.patterns import SVGPattern

WAN = dict(model_type="t2v", dim=256, ffn_dim=256, num_heads=2, num_layers=2, in_dim=16, out_dim=16,
           text_dim=4096, freq_dim=256)


class BlockCounts:
    """Run state: sparse calls per block index."""

    def __init__(self):
        self.calls = {}

    def memory_bytes(self) -> int:
        return 1000 + len(self.calls)


class RenamedSVG(SVGPattern):
    """SVG under another name and other label names, with a run state."""

    name = "test-renamed-svg"
    label_names = ("frame", "position")
    states = []

    def new_run_state(self):
        state = BlockCounts()
        self.states.append(state)
        return state

    def attend(self, q, k, v, layout, plan, ctx):
        ctx.run_state.calls[ctx.block_index] = ctx.run_state.calls.get(ctx.block_index, 0) + 1
        assert ctx.head_offset == 0
        return super().attend(q, k, v, layout, plan, ctx)


if RenamedSVG.name not in pattern_names():
    register(RenamedSVG())


def test_a_registered_pattern_runs_in_the_node_with_its_own_labels_and_run_state(host):
    base = host.build("WAN21_T2V", WAN, seed=3)
    latent = torch.zeros(2, 16, 3, 32, 32)
    positive = [[torch.randn(1, 8, 4096, generator=torch.Generator().manual_seed(1)), {}]]

    def run(pattern):
        model = host.svg(base, pattern=pattern)
        out = host.sample(model, latent, positive, cfg=3.0, steps=4)
        return out, host.report(model)

    svg_out, svg = run("svg")
    RenamedSVG.states.clear()
    out, renamed = run(RenamedSVG.name)
    again_out, again = run(RenamedSVG.name)

    # the same math under another name: the same latent, the same decisions
    assert torch.equal(out, svg_out) and torch.equal(again_out, svg_out)
    s, t = renamed.summary, svg.summary
    assert s["pattern"] == RenamedSVG.name and t["pattern"] == "svg"
    assert s["label_counts"] == {"frame": t["spatial_heads"], "position": t["temporal_heads"]}
    assert (s["frame_heads"], s["position_heads"]) == (t["spatial_heads"], t["temporal_heads"])
    assert "spatial_heads" not in s and "run_state_bytes" not in t
    assert s["sparse_calls"] == t["sparse_calls"] > 0
    assert sum(s["label_counts"].values()) == s["sparse_calls"] * 2 * 2 * 2     # (batch 2 x cond/uncond) x 2 heads
    # one fresh state per run, dropped at its end, its memory reported; block indices of the calls
    assert len(RenamedSVG.states) == 2 and RenamedSVG.states[0] is not RenamedSVG.states[1]
    assert RenamedSVG.states[0].calls == {0: s["sparse_calls"] // 2, 1: s["sparse_calls"] // 2}
    assert s["run_state_bytes"] == 1002 and again.summary["run_state_bytes"] == 1002
    # the report: 5-tuples, the pattern's label names, the same labels as svg's
    assert renamed.label_names == ("frame", "position") and svg.label_names == ("spatial", "temporal")
    assert len(renamed.records) == len(svg.records)
    for (step, block, labels, density, conditions), (step_s, block_s, labels_s, density_s, conditions_s) in \
            zip(renamed.records, svg.records):
        assert (step, block, conditions) == (step_s, block_s, conditions_s) and density is None and density_s is None
        assert (labels is None and labels_s is None) or (labels.dtype == torch.int8 and torch.equal(labels, labels_s))

"""scripts/prompt_progress.py: the lines the main job prints from a prompt's websocket events."""
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
from prompt_progress import PromptProgress, describe  # noqa: E402

GRAPH = {"1": {"class_type": "UNETLoader", "inputs": {}},
         "2": {"class_type": "SVGSparseAttention", "inputs": {"sparsity": 0.75}},
         "3": {"class_type": "KSampler", "inputs": {}},
         "4": {"class_type": "SaveLatent", "inputs": {}}}


class Clock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


def test_describe():
    assert describe(GRAPH) == "SVG sparsity 0.75"
    assert describe({k: v for k, v in GRAPH.items() if k != "2"}) == "dense: no SVG node"


def test_lines_for_one_prompt():
    clock, lines = Clock(), []
    p = PromptProgress(prefix="[m]", every=2.0, slow=1.0, out=lines.append, clock=clock)
    p("execution_start", {"prompt_id": "a"}, GRAPH)
    p("executing", {"node": "1"}, GRAPH)
    clock.now += 3.0                                   # the loader took 3 s: reported
    p("executing", {"node": "3"}, GRAPH)
    for step in range(1, 11):                          # 10 steps of 0.5 s
        clock.now += 0.5
        p("progress", {"value": step, "max": 10, "node": "3"}, GRAPH)
    p("executing", {"node": "4"}, GRAPH)
    clock.now += 0.2                                   # a fast node: no line
    p("executing", {"node": None}, GRAPH)
    p("execution_success", {"prompt_id": "a"}, GRAPH)
    assert lines[0] == "[m] prompt 1 (SVG sparsity 0.75): started"
    assert lines[1] == "[m]   UNETLoader 3.0s"
    steps = [ln for ln in lines if " step " in ln]
    # the first and the last step, and one at least every 2 s in between
    assert steps[0] == "[m]   KSampler step  1/10    0.5s"
    assert steps[-1] == "[m]   KSampler step 10/10    5.0s (0.50 s/step)"
    assert len(steps) == 4, steps                      # steps 1, 5, 9, 10
    assert "[m]   KSampler 10 steps in 5.0s" in lines
    assert not any("SaveLatent" in ln for ln in lines)
    assert lines[-1] == "[m] prompt 1 done in 8.2s"

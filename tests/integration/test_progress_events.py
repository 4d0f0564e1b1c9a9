"""Progress of a queued prompt from ComfyUI's websocket (scripts/comfy_ws.py, ComfyServer.listen,
scripts/prompt_progress.py): what the main job prints while it works."""
import re

from prompt_progress import PromptProgress
from svg_graphs import sampling_graph, svg_settings
from tiny_workflow import STEPS


def test_prompt_and_sampler_steps_are_reported(comfy_server):
    lines = []
    events = []
    printer = PromptProgress(prefix="[t]", every=0.0, out=lines.append)

    def record(kind, data, graph):
        events.append((kind, data.get("prompt_id")))
        printer(kind, data, graph)

    unlisten = comfy_server.listen(record)
    try:
        graph, _ = sampling_graph("wan_t2v", [svg_settings(sparsity=0.6)], tag="progress")
        result = comfy_server.run(graph)
    finally:
        unlisten()
    ours = [kind for kind, pid in events if pid == result.prompt_id]
    assert "execution_start" in ours and "execution_success" in ours, ours
    assert ours.count("progress") >= STEPS, ours
    text = "\n".join(lines)
    assert re.search(r"\[t\] prompt \d+ \(SVG sparsity 0\.6\): started", text), text
    for step in (1, STEPS):
        assert re.search(rf"KSampler step +{step}/{STEPS} +\d+\.\ds", text), text
    assert re.search(rf"KSampler {STEPS} steps in \d+\.\ds", text), text
    assert re.search(r"\[t\] prompt \d+ done in \d+\.\ds", text), text

"""Print what a ComfyUI prompt is doing, from the events of its websocket (ComfyServer.listen).

    [main] prompt 1 (dense: no SVG node): started
    [main]   UNETLoader 2.1s
    [main]   KSampler step  1/20   0.9s
    [main]   KSampler step  4/20   3.1s (0.73 s/step)
    ...
    [main]   KSampler 20 steps in 14.6s (0.73 s/step)
    [main] prompt 1 done in 21.5s

Sampler steps come from the `progress` events (value / max of the running node's ProgressBar), a
line at least every ``every`` seconds and at the first and last step; other nodes get a line when
they took at least ``slow`` seconds (model loading, decoding).
"""
from __future__ import annotations

import time

SVG_NODE = "SVGSparseAttention"


def _print(line: str) -> None:
    print(line, flush=True)


def describe(graph: dict | None) -> str:
    """'dense: no SVG node' or 'SVG sparsity 0.75' for an API graph."""
    if not graph:
        return "unknown graph"
    svg = [n for n in graph.values() if n.get("class_type") == SVG_NODE]
    if not svg:
        return "dense: no SVG node"
    return ", ".join(f"SVG sparsity {n['inputs'].get('sparsity')}" for n in svg)


class PromptProgress:
    def __init__(self, prefix: str = "[main]", every: float = 2.0, slow: float = 1.0, out=_print,
                 clock=time.monotonic):
        self.prefix, self.every, self.slow, self.out, self.clock = prefix, every, slow, out, clock
        self.prompts = 0
        self.prompt_start = None
        self.node = None            # (node id, class_type, start time) of the running node
        self.steps = None           # (first step's time, last printed time) of the running sampler
        self.last_step = 0

    def say(self, text: str) -> None:
        self.out(f"{self.prefix} {text}")

    def __call__(self, kind: str, data: dict, graph: dict | None) -> None:
        now = self.clock()
        if kind == "execution_start":
            self.prompts += 1
            self.prompt_start = now
            self.say(f"prompt {self.prompts} ({describe(graph)}): started")
        elif kind == "executing":
            self._end_node(now)
            node = data.get("node")
            if node is not None:
                class_type = (graph or {}).get(str(node), {}).get("class_type", f"node {node}")
                self.node = (str(node), class_type, now)
        elif kind == "progress":
            self._step(now, int(data["value"]), int(data["max"]))
        elif kind == "execution_success" and self.prompt_start is not None:
            self._end_node(now)
            self.say(f"prompt {self.prompts} done in {now - self.prompt_start:.1f}s")
            self.prompt_start = None
        elif kind == "execution_error":
            self.say(f"prompt {self.prompts} failed in {data.get('node_type')}: {data.get('exception_message')}")
            self.node = None

    def _step(self, now: float, value: int, total: int) -> None:
        class_type = self.node[1] if self.node else "sampler"
        if self.steps is None or value < self.last_step:
            self.steps = (now, None)
        first, printed = self.steps
        self.last_step = value
        if value == 1 or value == total or printed is None or now - printed >= self.every:
            rate = f" ({(now - first) / (value - 1):.2f} s/step)" if value > 1 else ""
            self.say(f"  {class_type} step {value:>{len(str(total))}}/{total} "
                     f"{now - self.node[2] if self.node else 0.0:6.1f}s{rate}")
            self.steps = (first, now)

    def _end_node(self, now: float) -> None:
        if self.node is None:
            return
        _, class_type, start = self.node
        took = now - start
        if self.steps is not None:
            self.say(f"  {class_type} {self.last_step} steps in {took:.1f}s")
        elif took >= self.slow:
            self.say(f"  {class_type} {took:.1f}s")
        self.node, self.steps, self.last_step = None, None, 0

"""Lifecycle through the HTTP API (reliability matrix, docs/reliability.md): ComfyUI's interrupt
during a sparse run leaves nothing behind, and prompts queued back to back with different settings
each give what the same prompt gives alone."""
import time

import torch
from safetensors.torch import load_file

from svg_graphs import load_latent, sampling_graph, svg_settings

MODEL = "wan_t2v"


def latent_of(server, output_dir, graph, saves, index=0):
    result = server.run(graph, summaries=len(saves))
    return load_latent(output_dir, result, saves[index]), result


def test_interrupt_during_sampling_then_next_run_is_right(comfy_server, output_dir):
    settings = svg_settings(sparsity=0.75, dense_warmup=0.1, dense_blocks=0)
    reference_graph, reference_saves = sampling_graph(MODEL, [settings], tag="before_interrupt")
    reference, _ = latent_of(comfy_server, output_dir, reference_graph, reference_saves)

    # a long run (many steps, sparse from the first) to interrupt while it samples
    long_settings = svg_settings(sparsity=0.75, dense_warmup=0.0, dense_blocks=0)
    long_graph, _ = sampling_graph(MODEL, [long_settings], tag="interrupted", steps=400)
    offset = comfy_server.log_size()
    status, body = comfy_server.queue(long_graph)
    assert status == 200, body
    deadline = time.time() + 120
    while "[SVG] backend:" not in comfy_server.log_since(offset):   # logged at the first sparse call
        assert time.time() < deadline, comfy_server.log_since(offset)[-2000:]
        time.sleep(0.2)
    status, _ = comfy_server.request("POST", "/interrupt")
    assert status == 200
    entry = comfy_server.wait(body["prompt_id"], timeout=120)
    assert entry["status"]["status_str"] == "error"   # ComfyUI reports an interrupted prompt so
    messages = [m[0] for m in entry["status"].get("messages", [])]
    assert "execution_interrupted" in messages, messages
    log = comfy_server.log_since(offset)
    assert "[SVG] run summary:" in log                # the run's finally block ran and logged

    # the same prompt again: same result as before the interrupt
    again_graph, again_saves = sampling_graph(MODEL, [settings], tag="after_interrupt")
    again, _ = latent_of(comfy_server, output_dir, again_graph, again_saves)
    assert torch.equal(again, reference)


def test_prompts_queued_back_to_back_equal_each_alone(comfy_server, output_dir):
    settings = [svg_settings(sparsity=0.5), svg_settings(sparsity=0.9, dense_warmup=0.0),
                svg_settings(sparsity=0.75, profile_seed=3)]
    alone = []
    for i, s in enumerate(settings):
        graph, saves = sampling_graph(MODEL, [s], tag=f"alone{i}")
        alone.append(latent_of(comfy_server, output_dir, graph, saves)[0])

    queued = []
    for i, s in enumerate(settings):                  # all queued before the first finishes
        graph, saves = sampling_graph(MODEL, [s], tag=f"queued{i}")
        status, body = comfy_server.queue(graph)
        assert status == 200, body
        queued.append((body["prompt_id"], saves[0]))
    for (prompt_id, save), expected in zip(queued, alone):
        entry = comfy_server.wait(prompt_id, timeout=300)
        assert entry["status"]["status_str"] == "success", entry["status"]
        (subfolder, name) = next((o.get("subfolder", ""), o["filename"])
                                 for out in entry["outputs"].values() for items in out.values()
                                 if isinstance(items, list) for o in items if isinstance(o, dict))
        latent = load_file(str(output_dir / subfolder / name))["latent_tensor"]
        assert torch.equal(latent, expected)
    assert not torch.equal(alone[0], alone[1])

"""Sampling through the HTTP API with the tiny Wan 2.1 T2V / I2V and HunyuanVideo models."""
import pytest
import torch

from comfy_client import PromptFailed
from svg_graphs import MODELS, load_latent, sampling_graph, svg_settings

ALL_MODELS = list(MODELS)
SUMMARY_KEYS = {"sparse_calls": int, "dense_calls": int, "dense_reasons": dict,
                "spatial_heads": int, "temporal_heads": int, "requested_density": float,
                "backend": str}


def run(server, graph, n_summaries):
    result = server.run(graph, summaries=n_summaries)
    assert len(result.summaries) == n_summaries, (
        f"expected {n_summaries} '[SVG] run summary' lines, log of the prompt:\n{result.log}")
    for s in result.summaries:
        for key, typ in SUMMARY_KEYS.items():
            assert isinstance(s.get(key), typ), f"summary field {key}: {s}"
        assert s["density"] is None or isinstance(s["density"], float), s
    return result


def assert_same(a, b, what):
    assert a.shape == b.shape, what
    assert torch.allclose(a, b, rtol=1e-5, atol=1e-6), (
        f"{what}: max abs diff {(a - b).abs().max().item():.3g}")


@pytest.fixture(scope="module")
def dense_latents(comfy_server, output_dir):
    """Baseline: the same graph without the SVG node, per model."""
    out = {}
    for key in ALL_MODELS:
        graph, (save,) = sampling_graph(key, [None], tag="dense")
        result = run(comfy_server, graph, 0)
        out[key] = load_latent(output_dir, result, save)
    return out


@pytest.mark.parametrize("model_key", ALL_MODELS)
def test_sparse_run(comfy_server, output_dir, dense_latents, model_key):
    settings = svg_settings(sparsity=0.75, dense_warmup=0.2, dense_blocks=1)
    graph, (save,) = sampling_graph(model_key, [settings], tag="sparse")
    result = run(comfy_server, graph, 1)
    s = result.summaries[0]
    assert s["sparse_calls"] > 0, s["_line"]
    assert s["density"] is not None and 0.0 < s["density"] < 1.0, s["_line"]
    assert s["requested_density"] == pytest.approx(0.25)
    assert s["spatial_heads"] + s["temporal_heads"] > 0, s["_line"]
    # dense fallbacks (warm-up step, dense block, cross-attention) are named once per reason
    for reason in s["dense_reasons"]:
        assert any(reason in line for line in result.dense_lines), (reason, result.dense_lines)
    latent = load_latent(output_dir, result, save)
    dense = dense_latents[model_key]
    assert latent.shape == dense.shape == (1, 16, 4, 32, 32)
    assert torch.isfinite(latent).all()
    # sparse attention must actually have changed the computation
    assert not torch.allclose(latent, dense, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("model_key", ALL_MODELS)
@pytest.mark.parametrize("settings", [
    pytest.param(svg_settings(sparsity=0.0), id="sparsity0"),
    pytest.param(svg_settings(dense_warmup=1.0), id="warmup1"),
])
def test_dense_settings_reproduce_unpatched(comfy_server, output_dir, dense_latents, model_key,
                                            settings):
    graph, (save,) = sampling_graph(model_key, [settings], tag="nosparse")
    result = run(comfy_server, graph, 1)
    s = result.summaries[0]
    assert s["sparse_calls"] == 0, s["_line"]
    assert s["density"] is None, s["_line"]
    assert s["dense_calls"] > 0 and s["dense_reasons"], s["_line"]
    assert_same(load_latent(output_dir, result, save), dense_latents[model_key],
                f"{model_key} {settings}")


def test_two_svg_nodes_in_one_graph(comfy_server, output_dir, dense_latents):
    a = svg_settings(sparsity=0.5, dense_warmup=0.2, dense_blocks=1)
    b = svg_settings(sparsity=0.9, dense_warmup=0.0, dense_blocks=0, profile_seed=3)
    # one UNETLoader feeds an unpatched sampler and two differently patched ones
    graph, saves = sampling_graph("wan_t2v", [None, a, b], tag="multi")
    result = run(comfy_server, graph, 2)
    got = sorted(s["requested_density"] for s in result.summaries)
    assert got == pytest.approx([0.1, 0.5]), [s["_line"] for s in result.summaries]
    assert all(s["sparse_calls"] > 0 for s in result.summaries)
    together = [load_latent(output_dir, result, save) for save in saves]

    # each equals the same setting run alone (and the unpatched model stayed unpatched)
    assert_same(together[0], dense_latents["wan_t2v"], "unpatched sampler beside SVG nodes")
    for settings, latent, density in ((a, together[1], 0.5), (b, together[2], 0.1)):
        graph, (save,) = sampling_graph("wan_t2v", [settings], tag="alone")
        alone = run(comfy_server, graph, 1)
        assert alone.summaries[0]["requested_density"] == pytest.approx(density)
        assert_same(latent, load_latent(output_dir, alone, save), f"settings {settings}")
    assert not torch.allclose(together[1], together[2])


def test_invalid_sparsity_is_rejected_and_server_keeps_serving(comfy_server):
    graph, _ = sampling_graph("wan_t2v", [svg_settings(sparsity=1.5)], tag="invalid")
    svg_id = next(k for k, v in graph.items() if v["class_type"] == "SVGSparseAttention")
    status, body = comfy_server.queue(graph)
    assert status == 400, body
    assert svg_id in body["node_errors"], body
    errors = body["node_errors"][svg_id]["errors"]
    assert any("sparsity" in str(e) for e in errors), errors
    with pytest.raises(PromptFailed):
        comfy_server.run(graph)

    graph, _ = sampling_graph("wan_t2v", [svg_settings()], tag="after_invalid", steps=3)
    result = run(comfy_server, graph, 1)
    assert result.summaries[0]["sparse_calls"] > 0

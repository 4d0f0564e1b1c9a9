"""The SVG Attention Report through the HTTP API (issue 14, docs/reliability.md "Report"): it never
fails a prompt. Where it has nothing true to show it says why in words, and the prompt's other
outputs (a SaveLatent here) land in /history.

Most cases run on the session's server (--cache-none: every node executes every prompt). Two need
ComfyUI's default cache, where the SVG node's patch lives on between prompts: a second server,
started for this module with its own database and temp folder.
"""
from __future__ import annotations

import re
import time
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

import host
from comfy_client import ComfyServer
from svg_graphs import SEED, Graph, load_latent, svg_settings
from tiny_workflow import HEIGHT, LENGTH, MODELS, WIDTH, unique_prefix

WAN = MODELS["wan_t2v"]["file"]
# scripts/make_tiny_models.py: an image model (SD3 MMDiT) the pack has no layout adapter for
SD3 = "svg_tiny_sd3_image.safetensors"
SD3_REASON = ("not a supported video model: model class OpenAISignatureMMDITWrapper has no SVG layout adapter")
BLOCKS, HEADS = 2, 2       # the tiny Wan 2.1 T2V: 2 transformer blocks of 2 heads
ALL_SPARSE = svg_settings(sparsity=0.75, dense_warmup=0.0, dense_blocks=0)


@pytest.fixture(scope="module")
def cached_server(tmp_path_factory):
    """A second server with ComfyUI's default cache (the session's runs with --cache-none)."""
    folder = tmp_path_factory.mktemp("cached_server")
    log = host.HOME / "logs" / f"integration-cached-{time.strftime('%Y%m%d-%H%M%S')}.log"
    server = ComfyServer(log, extra_args=["--database-url", "sqlite:///:memory:", "--temp-directory", str(folder)])
    server.start()
    server.temp_folder = folder / "temp"
    yield server
    server.stop()


class Wan:
    """The tiny Wan 2.1 T2V graph: loader, test-double text encoder, prompts, empty video latent."""

    def __init__(self):
        self.g = Graph()
        self.unet = self.g.add("UNETLoader", unet_name=WAN, weight_dtype="default")
        self.clip = self.g.add("SVGTestCLIPLoader", model_family="wan")
        self.positive, self.negative = self.g.prompts(self.clip)
        self.latent = [self.g.add("EmptyHunyuanLatentVideo", width=WIDTH, height=HEIGHT, length=LENGTH,
                                  batch_size=1), 0]

    def svg(self, model=None, **settings) -> str:
        return self.g.add("SVGSparseAttention", model=[model or self.unet, 0], **{**ALL_SPARSE, **settings})

    def sample(self, model, steps=2, denoise=1.0, positive=None, seed=SEED) -> str:
        return self.g.add("KSampler", model=[model, 0], seed=seed, steps=steps, cfg=5.0, sampler_name="euler",
                          scheduler="simple", positive=positive or self.positive, negative=self.negative,
                          latent_image=self.latent, denoise=denoise)


def add_save(g: Graph, samples, tag: str) -> str:
    return g.add("SaveLatent", samples=samples, filename_prefix=unique_prefix(f"report_{tag}"))


def add_report(g: Graph, model, samples) -> tuple:
    """The report node and a Preview as Text of its summary: (report id, preview id)."""
    report = g.add("SVGAttentionReport", model=model, samples=samples)
    return report, g.add("PreviewAny", source=[report, 1])


def report_of(result, report: str, preview: str, server) -> tuple:
    """(summary text, head map picture [H, W, 3] uint8) of a finished prompt's report node."""
    text = "".join(result.history["outputs"][preview]["text"])
    files = result.output_files(report)
    assert len(files) == 1, result.history["outputs"]
    kind, sub, name = files[0]
    folder = getattr(server, "temp_folder", None) if kind == "temp" else None
    path = (folder or host.BASE_DIR / kind) / sub / name
    picture = torch.from_numpy(np.asarray(Image.open(path).convert("RGB")).copy())
    assert picture.shape[1] >= 360 and picture.shape[0] > 40, picture.shape
    return text, picture


def cached_nodes(result) -> set:
    """Ids of the nodes ComfyUI served from its cache in this prompt (its execution_cached message)."""
    return {str(node) for kind, data in result.history["status"].get("messages", [])
            if kind == "execution_cached" for node in data.get("nodes", [])}


def saved(result, save: str, output_dir: Path) -> torch.Tensor:
    """The SaveLatent's latent: the prompt's other output landed."""
    assert result.history["status"]["status_str"] == "success", result.history["status"]
    return load_latent(output_dir, result, save)


# ------------------------------------------------------------------ batch sizes within a run
@pytest.mark.parametrize("start, end", [(0.5, 1.0), (0.0, 0.5)])
def test_batch_size_changing_within_a_run(comfy_server, output_dir, start, end):
    """The issue's reproduction: a second positive prompt switched on for part of the schedule
    (ConditioningSetTimestepRange + ConditioningCombine) makes ComfyUI batch 2 conditions in some
    steps and 3 in others. The report holds both: columns per condition and head."""
    w = Wan()
    second = w.g.add("CLIPTextEncode", text="a snowy forest at dusk", clip=[w.clip, 0])
    ranged = w.g.add("ConditioningSetTimestepRange", conditioning=[second, 0], start=start, end=end)
    combined = w.g.add("ConditioningCombine", conditioning_1=w.positive, conditioning_2=[ranged, 0])
    model = w.svg()
    steps = 4
    ks = w.sample(model, steps=steps, positive=[combined, 0])
    save = add_save(w.g, [ks, 0], "batch_mix")
    report, preview = add_report(w.g, [model, 0], [ks, 0])

    result = comfy_server.run(w.g.nodes, summaries=1)
    assert saved(result, save, output_dir).shape == (1, 16, 4, 32, 32)
    s = result.summaries[0]
    decisions = s["spatial_heads"] + s["temporal_heads"]
    # every step sparse: per step BLOCKS x HEADS decisions per batch entry; 2 entries in every
    # step would give 32, 3 in every step 48: both sizes occurred
    per_entry_step = BLOCKS * HEADS
    assert 2 * per_entry_step * steps < decisions < 3 * per_entry_step * steps, s["_line"]
    assert decisions % per_entry_step == 0, s["_line"]
    text, picture = report_of(result, report, preview, comfy_server)
    assert f"sparse attention calls: {s['sparse_calls']}" in text, text
    assert f"({decisions} head decisions)" in text, text
    assert "head map columns: positive heads 0-1 | negative heads 0-1" in text, text
    # a head map: both head kinds' colours are in the picture (cells and legend)
    pixels = {tuple(p) for p in picture.reshape(-1, 3).tolist()}
    assert {(52, 120, 246), (246, 140, 40), (110, 110, 110)} <= pixels


# ------------------------------------------------------------------ nothing true to show
def test_model_without_an_svg_patch(comfy_server, output_dir):
    w = Wan()
    ks = w.sample(w.unet)
    save = add_save(w.g, [ks, 0], "no_patch")
    report, preview = add_report(w.g, [w.unet, 0], [ks, 0])
    result = comfy_server.run(w.g.nodes)
    saved(result, save, output_dir)
    text, _ = report_of(result, report, preview, comfy_server)
    assert text.startswith("No SVG patch on this model"), text


def test_samples_not_from_a_sampler_of_this_model(comfy_server, output_dir):
    """'samples' is the empty latent: not sampled yet (the prompt's unpatched sampler still saves)."""
    w = Wan()
    model = w.svg()
    save = add_save(w.g, [w.sample(w.unet), 0], "not_sampled")
    report, preview = add_report(w.g, [model, 0], w.latent)
    result = comfy_server.run(w.g.nodes)
    saved(result, save, output_dir)
    text, _ = report_of(result, report, preview, comfy_server)
    assert text.startswith("Not sampled yet: 'samples' comes from EmptyHunyuanLatentVideo"), text


def test_sampler_with_denoise_zero(comfy_server, output_dir):
    """KSampler with denoise 0.0 returns its input without calling the model: no run to show."""
    w = Wan()
    model = w.svg()
    ks = w.sample(model, denoise=0.0)
    save = add_save(w.g, [ks, 0], "denoise0")
    report, preview = add_report(w.g, [model, 0], [ks, 0])
    result = comfy_server.run(w.g.nodes)
    saved(result, save, output_dir)
    assert not result.summaries                       # no run of the patch at all
    text, _ = report_of(result, report, preview, comfy_server)
    assert text.startswith(f"KSampler (node {ks}), which gave these samples, ran no sampling steps"), text
    assert "latest run" not in text, text


def test_patch_replaced_by_a_later_svg_node(comfy_server, output_dir):
    """SVG node A -> SVG node B -> sampler; the report watches A: it says A was replaced and shows
    B's run (B's settings: requested density 0.25)."""
    w = Wan()
    earlier = w.svg(sparsity=0.5)
    later = w.svg(model=earlier, sparsity=0.75)
    ks = w.sample(later)
    save = add_save(w.g, [ks, 0], "replaced")
    report, preview = add_report(w.g, [earlier, 0], [ks, 0])
    result = comfy_server.run(w.g.nodes, summaries=1)
    saved(result, save, output_dir)
    assert "the new settings replace it" in result.log
    (s,) = result.summaries
    assert s["requested_density"] == pytest.approx(0.25) and s["sparse_calls"] > 0, s["_line"]
    text, _ = report_of(result, report, preview, comfy_server)
    assert text.startswith("This SVG node's patch was replaced by a later SVG Sparse Attention node"), text
    assert f"sparse attention calls: {s['sparse_calls']}" in text and "(requested 0.250)" in text, text


def test_nothing_sparse_says_why(comfy_server, output_dir):
    w = Wan()
    model = w.svg(dense_warmup=1.0)
    ks = w.sample(model)
    save = add_save(w.g, [ks, 0], "all_warmup")
    report, preview = add_report(w.g, [model, 0], [ks, 0])
    result = comfy_server.run(w.g.nodes, summaries=1)
    saved(result, save, output_dir)
    text, _ = report_of(result, report, preview, comfy_server)
    assert text.startswith("nothing ran sparse in this run because: dense warm-up (100% of the steps)"), text
    assert "density kept: n/a (no sparse call)" in text, text


# ------------------------------------------------------------------ with ComfyUI's cache
def sd3_graph(seed: int):
    """Tiny SD3 (an image model) -> SVG -> KSampler -> SaveLatent and report; an unpatched sampler
    of the same seed beside it. Node ids are the same for every seed (the SVG node is cached)."""
    g = Graph()
    unet = g.add("UNETLoader", unet_name=SD3, weight_dtype="default")
    clip = g.add("SVGTestCLIPLoader", model_family="wan")    # [1, 512, 4096] prompts: the tiny SD3's context
    positive, negative = g.prompts(clip)
    latent = [g.add("EmptySD3LatentImage", width=WIDTH, height=HEIGHT, batch_size=1), 0]
    model = g.add("SVGSparseAttention", model=[unet, 0], **ALL_SPARSE)
    saves = []
    for sampled in (model, unet):
        ks = g.add("KSampler", model=[sampled, 0], seed=seed, steps=2, cfg=5.0, sampler_name="euler",
                   scheduler="simple", positive=positive, negative=negative, latent_image=latent, denoise=1.0)
        saves.append(add_save(g, [ks, 0], f"sd3_{seed}"))
        if sampled == model:
            report, preview = add_report(g, [model, 0], [ks, 0])
    return g.nodes, saves, report, preview


def test_unsupported_model_says_why_every_run(cached_server, output_dir):
    """An image model: one '[SVG] dense:' reason per run, also when the SVG node is cached; the
    summary and the report say 'not a supported video model'; the latent is the unpatched one."""
    for index, seed in enumerate((SEED, SEED + 1)):
        graph, (patched, unpatched), report, preview = sd3_graph(seed)
        result = cached_server.run(graph, summaries=1)
        assert torch.equal(saved(result, patched, output_dir), saved(result, unpatched, output_dir))
        assert result.dense_lines and all(SD3_REASON in line for line in result.dense_lines), result.log
        assert len(result.dense_lines) == 1, result.dense_lines
        # the node's own line only when it executes: the second prompt has it from the cache
        svg_node = next(k for k, v in graph.items() if v["class_type"] == "SVGSparseAttention")
        assert (svg_node in cached_nodes(result)) == (index == 1), result.history["status"]
        assert ("this model stays dense" in result.log) == (index == 0), result.log
        (s,) = result.summaries
        assert s["unsupported_model"].startswith(SD3_REASON) and s["sparse_calls"] == 0, s["_line"]
        assert s["_text"].startswith(SD3_REASON), s["_line"]
        text, picture = report_of(result, report, preview, cached_server)
        assert text.startswith(SD3_REASON), text
        assert "density None" not in text and "density kept: n/a (no sparse call)" in text, text


def test_interrupted_run_then_a_sampler_with_no_steps(cached_server, output_dir):
    """With the SVG node cached: a run interrupted by POST /interrupt is recorded as such; the next
    prompt's sampler runs no steps (denoise 0.0) and the report says both, instead of passing the
    interrupted run off as this prompt's; then a real run is reported as itself."""
    def graph(steps, denoise, with_report):
        w = Wan()
        model = w.svg()
        ks = w.sample(model, steps=steps, denoise=denoise)
        save = add_save(w.g, [ks, 0], f"interrupt_{steps}_{denoise}")
        ids = add_report(w.g, [model, 0], [ks, 0]) if with_report else (None, None)
        return w.g.nodes, save, model, ids

    long_graph, _, _, _ = graph(400, 1.0, with_report=False)
    offset = cached_server.log_size()
    status, body = cached_server.queue(long_graph)
    assert status == 200, body
    deadline = time.time() + 120
    while "[SVG] backend:" not in cached_server.log_since(offset):   # the first sparse call
        assert time.time() < deadline, cached_server.log_since(offset)[-2000:]
        time.sleep(0.2)
    time.sleep(1.0)
    assert cached_server.request("POST", "/interrupt")[0] == 200
    entry = cached_server.wait(body["prompt_id"], timeout=120)
    assert entry["status"]["status_str"] == "error"
    summary = re.search(r"\[SVG\] run summary: interrupted after (\d+) of 400 steps", cached_server.log_since(offset))
    assert summary, cached_server.log_since(offset)[-3000:]
    done = int(summary.group(1))
    assert done < 400

    no_steps, save, svg_node, (report, preview) = graph(400, 0.0, with_report=True)
    result = cached_server.run(no_steps)
    saved(result, save, output_dir)
    assert svg_node in cached_nodes(result) and not result.summaries      # the same patch; no run
    text, _ = report_of(result, report, preview, cached_server)
    assert "ran no sampling steps" in text, text
    assert f"The latest run of this patch was interrupted after {done} of 400 steps" in text, text

    real, save, svg_node, (report, preview) = graph(2, 1.0, with_report=True)
    result = cached_server.run(real, summaries=1)
    saved(result, save, output_dir)
    assert svg_node in cached_nodes(result)
    (s,) = result.summaries
    text, _ = report_of(result, report, preview, cached_server)
    assert text.startswith(f"sparse attention calls: {s['sparse_calls']}"), text
    assert "interrupted" not in text and "no sampling steps" not in text, text

"""The report node's choice of run, in-process (nodes/report_node.py): it shows the run whose output
is its 'samples', whichever sampler of the patched model ran last; where none did it says why,
reading the prompt to tell a sampler that ran no steps from samples that come from elsewhere."""
from __future__ import annotations

import os

import pytest
import torch

pytestmark = pytest.mark.skipif(
    not os.environ.get("SVG_COMFYUI_DIR"),
    reason="SVG_COMFYUI_DIR is not set: point it at a ComfyUI 0.3.75 tree (CI: .host/comfyui)")

WAN = dict(model_type="t2v", dim=256, ffn_dim=256, num_heads=2, num_layers=2, in_dim=16, out_dim=16,
           text_dim=4096, freq_dim=256)


def cond(seed):
    return [[torch.randn(1, 8, 4096, generator=torch.Generator().manual_seed(seed)), {}]]


@pytest.fixture(scope="module")
def report_for():
    from svg_pack.nodes.report_node import report_for
    return report_for


def test_two_samplers_of_one_patch_each_get_their_own_run(host, report_for):
    model = host.svg(host.build("WAN21_T2V", WAN, seed=3), dense_warmup=0.0)
    latent = torch.zeros(1, 16, 2, 32, 32)
    three = host.sample(model, latent, cond(0), steps=3)
    two = host.sample(model, latent, cond(1), steps=2)          # the latest run of the patch
    runs = list(model.model_options["transformer_options"]["svg_sparse_attention"].reports.runs)
    assert [run.steps for run in runs] == [3, 2]
    for samples, run in ((three, runs[0]), (two, runs[1])):
        title, picture, lines = report_for(model, {"samples": samples})
        assert lines[0] == f"sparse attention calls: {run.summary['sparse_calls']}", lines
        assert title.startswith(f"SVG: {run.summary['sparse_calls']} sparse"), title
        assert picture.dtype == torch.uint8 and picture.shape[-1] == 3
    assert runs[0].summary["sparse_calls"] != runs[1].summary["sparse_calls"]


PROMPT = {   # API format: the report (9) watches SVG node 2; samplers 4 (through 3) and 6 (a guider)
    "1": {"class_type": "UNETLoader", "inputs": {}},
    "2": {"class_type": "SVGSparseAttention", "inputs": {"model": ["1", 0]}},
    "3": {"class_type": "ModelSamplingSD3", "inputs": {"model": ["2", 0], "shift": 8.0}},
    "4": {"class_type": "KSampler", "inputs": {"model": ["3", 0], "latent_image": ["7", 0], "denoise": 0.0}},
    "5": {"class_type": "CFGGuider", "inputs": {"model": ["2", 0]}},
    "6": {"class_type": "SamplerCustomAdvanced", "inputs": {"guider": ["5", 0], "latent_image": ["7", 0]}},
    "7": {"class_type": "EmptyHunyuanLatentVideo", "inputs": {}},
    "8": {"class_type": "KSampler", "inputs": {"model": ["1", 0], "latent_image": ["4", 0]}},
}


@pytest.mark.parametrize("source, expected", [
    ("4", "KSampler (node 4), which gave these samples, ran no sampling steps"),
    ("6", "SamplerCustomAdvanced (node 6), which gave these samples, ran no sampling steps"),
    ("7", "Not sampled yet: 'samples' comes from EmptyHunyuanLatentVideo (node 7), which does not sample"),
    # its latent comes from a sampler of this model, but it samples the unpatched model itself
    ("8", "Not sampled yet: 'samples' comes from KSampler (node 8), which does not sample this model"),
])
def test_no_run_is_explained_from_the_prompt(host, report_for, source, expected):
    model = host.svg(host.build("WAN21_T2V", WAN, seed=3))
    prompt = dict(PROMPT, **{"9": {"class_type": "SVGAttentionReport",
                                   "inputs": {"model": ["2", 0], "samples": [source, 0]}}})
    title, picture, lines = report_for(model, {"samples": torch.zeros(1, 16, 2, 32, 32)}, prompt, "9")
    assert lines[0].startswith(expected), lines
    assert picture.shape[0] > 40 and picture.shape[1] >= 360


def test_node_outside_the_executor_still_answers(host):
    """Called without ComfyUI's executor (no hidden inputs) and with a model that has no patch."""
    from svg_pack.nodes.report_node import SVGAttentionReport
    output = SVGAttentionReport.execute(host.build("WAN21_T2V", WAN, seed=3), {"samples": torch.zeros(1)})
    image, text = output.result
    assert image.shape[0] == 1 and image.shape[-1] == 3 and image.dtype == torch.float32
    assert text.startswith("No SVG patch on this model"), text

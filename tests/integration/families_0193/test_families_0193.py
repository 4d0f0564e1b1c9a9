"""The video families of 2026 through a ComfyUI 0.19.3 server (``comfy_server`` on the 0.19.3 host;
skipped with one line per workflow on an older host):
each family's example workflow (workflows/*.json marked ``extra.svg_requires`` 0.19.3) is checked
against the server's /object_info, converted to the API format, its heavy parts swapped for the
tiny checkpoints and test doubles (scripts/tiny_workflow.py), every SVG node switched to verbose
(so the log names each layout it used), queued, and checked: the run finishes, writes its video,
every SVG node's run has sparse calls, and the layouts it logged are where the model puts its
tokens (frames x tokens per frame, global tokens before / after: what the in-process token probes
of tests/comfy/test_families_2026.py establish for each model).

Nodes this host lacks: ComfyUI's modules for LTX-2's text encoder and audio VAE nodes, LoadAudio
and the audio encoder nodes import torchaudio, which has no build for the hosts' torch; their
inputs for the conversion come from scripts/make_workflows.py's table (written from ComfyUI
0.19.3's source), and tiny_workflow swaps them for doubles before queueing.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path

import pytest

import host
import make_workflows
from tiny_workflow import adapt_workflow
from workflow_requires import (TORCHAUDIO_NODES, missing_node_types, object_info_with_table, required_comfyui,
                               unmet_requirement)
from workflow_to_api import WIDGET_TYPES, ui_to_api

REPO = Path(__file__).resolve().parents[3]
sys.path.insert(0, str(REPO / "tests" / "fixtures"))
from svg_test_nodes import FakeTextEncoder  # noqa: E402

LAYOUT = re.compile(r"sparse: VideoLayout\(num_frames=(\d+), frame_tokens=(\d+), prefix_tokens=(\d+), "
                    r"suffix_tokens=(\d+)\)")
# workflow -> the layouts (frames, tokens per frame, prefix, suffix) its SVG runs must log, at the
# tiny sizes of scripts/tiny_workflow.py (256 x 256, 13 frames: 4 latent frames of 16 x 16 tokens)
EXPECTED = {
    # video stream only (the audio stream's self-attention is dense); 33 frames -> 5 latent frames
    "ltx2_t2v_19B_svg.json": {(5, 256, 0, 0)},
    "kandinsky5_lite_t2v_svg.json": {(4, 256, 0, 0)},
    "wan2.1_vace_14B_t2v_svg.json": {(4, 256, 0, 0)},
    "wan2.1_fun_camera_1.3B_svg.json": {(4, 256, 0, 0)},
    # the reference image's 16 x 16 tokens after the video
    "wan_humo_17B_svg.json": {(4, 256, 0, 256)},
    "wan2.2_s2v_14B_svg.json": {(4, 256, 0, 256)},
    # WanAnimateToVideo puts the character's latent frame in front: 1 + 4 frames
    "wan2.2_animate_14B_svg.json": {(5, 256, 0, 0)},
    # the reference frame before the video, the half-size pose video (4 x 8 x 8) after it
    "wan_scail_14B_svg.json": {(4, 256, 256, 256)},
    "wan_flowrvs_svg.json": {(4, 256, 0, 0)},
}
HUNYUAN15 = "hunyuanvideo1.5_720p_t2v_1080p_sr_svg.json"
NEW_WORKFLOWS = sorted(p for p in (REPO / "workflows").glob("*.json")
                       if required_comfyui(json.loads(p.read_text(encoding="utf-8"))) == "0.19.3")
_RESULTS = {}


def test_every_new_workflow_is_run_here():
    assert {p.name for p in NEW_WORKFLOWS} == set(EXPECTED) | {HUNYUAN15}


def _workflow(path: Path) -> dict:
    """The workflow at ``path``; the calling test is skipped where this host is older than it needs."""
    workflow = json.loads(path.read_text(encoding="utf-8"))
    if why := unmet_requirement(workflow, host.COMFY_VERSION, path.name):
        pytest.skip(why)
    return workflow


def _run(path: Path, server, object_info):
    workflow = _workflow(path)
    if path.name not in _RESULTS:
        info, missing = object_info_with_table(workflow, object_info, make_workflows.NODE_DEFS)
        assert missing <= TORCHAUDIO_NODES, missing
        api = adapt_workflow(ui_to_api(workflow, info), tag=path.stem)
        assert {v["class_type"] for v in api.values()} <= set(object_info)
        svg = [v for v in api.values() if v["class_type"] == "SVGSparseAttention"]
        for node in svg:
            node["inputs"]["verbose"] = True
        result = server.run(api, summaries=len(svg))
        _RESULTS[path.name] = (api, result, len(svg))
    return _RESULTS[path.name]


@pytest.mark.parametrize("path", NEW_WORKFLOWS, ids=lambda p: p.name)
def test_ui_format_against_the_server(path, object_info):
    """Every node the host has: inputs (link-only first, then widgets) and outputs as its
    /object_info gives them; the SVG node between each diffusion model loader and its sampler."""
    workflow = _workflow(path)
    assert set(missing_node_types(workflow, object_info)) <= TORCHAUDIO_NODES
    for node in workflow["nodes"]:
        info = object_info.get(node["type"])
        if info is None:
            continue
        specs = []
        for section in ("required", "optional"):
            for name in info.get("input_order", {}).get(section, []):
                typ = info["input"][section][name][0]
                typ = "COMBO" if isinstance(typ, list) else typ
                specs.append((name, typ, typ in WIDGET_TYPES))
        want = [s for s in specs if not s[2]] + [s for s in specs if s[2]]
        got = [(i["name"], i["type"], "widget" in i) for i in node["inputs"] if i["name"] != "upload"]
        assert got == want, node["type"]
        assert [o["type"] for o in node["outputs"]] == info["output"], node["type"]
    types = [n["type"] for n in workflow["nodes"]]
    loaders = sum(map(types.count, ("UNETLoader", "CheckpointLoaderSimple")))
    assert types.count("SVGSparseAttention") == loaders >= 1


@pytest.mark.parametrize("path", NEW_WORKFLOWS, ids=lambda p: p.name)
def test_workflow_runs_sparse_on_its_tiny_checkpoint(path, comfy_server, object_info, output_dir):
    api, result, runs = _run(path, comfy_server, object_info)
    assert len(result.summaries) == runs, result.log[-3000:]
    for summary in result.summaries:
        assert summary["sparse_calls"] > 0, summary["_line"]
        assert summary["requested_density"] == pytest.approx(0.25)
    files = result.output_files()
    assert files, result.history.get("outputs")
    for _, sub, name in files:
        assert (output_dir / sub / name).stat().st_size > 0
    layouts = {tuple(int(n) for n in m.groups()) for m in LAYOUT.finditer(result.log)}
    if path.name in EXPECTED:
        assert layouts == EXPECTED[path.name], result.log[-3000:]
    else:                         # HunyuanVideo 1.5: where the text goes, see the test below
        assert layouts and {layout[:2] for layout in layouts} == {(4, 256)}, layouts


def test_ltx2_audio_stream_stays_dense_with_its_reason(comfy_server, object_info):
    _, result, _ = _run(REPO / "workflows" / "ltx2_t2v_19B_svg.json", comfy_server, object_info)
    (summary,) = result.summaries
    audio = [r for r in summary["dense_reasons"] if "audio stream's self-attention" in r]
    assert audio, summary["dense_reasons"]
    # after the warm-up, every block has one video self-attention (sparse, or dense as the leading
    # block) and one audio self-attention (dense)
    leading = sum(n for r, n in summary["dense_reasons"].items() if r.startswith("leading block"))
    assert summary["dense_reasons"][audio[0]] == summary["sparse_calls"] + leading > 0, summary["_line"]


def test_hunyuan_video15_text_before_the_video(comfy_server, object_info):
    """HunyuanVideo 1.5 on 0.19.3: the text (Qwen2.5-VL prompt tokens; no image here) comes BEFORE
    the video in the joint attention; each SVG run must log the text as a prefix of exactly the
    prompt's length (720p pass: positive and negative prompts of different lengths run
    separately; SR pass: cfg 1, the positive only)."""
    path = REPO / "workflows" / HUNYUAN15
    api, result, _ = _run(path, comfy_server, object_info)
    encoder = FakeTextEncoder("hunyuan_video15")
    texts = {encoder._length(v["inputs"]["text"]) for v in api.values() if v["class_type"] == "CLIPTextEncode"}
    layouts = {tuple(int(n) for n in m.groups()) for m in LAYOUT.finditer(result.log)}
    assert layouts == {(4, 256, text, 0) for text in texts}, (layouts, texts)

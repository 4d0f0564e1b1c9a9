"""What a user sees of the pack in the ComfyUI web page: the real frontend (1.32.9 on ComfyUI 0.3.75,
1.42.11 on 0.19.3, served by the test server) in headless Chromium, driven through its own UI with Playwright (helpers in
browser.py), plus one HTTP-level check of the report node's output.

In one page session:
- each workflow in workflows/ is opened through Comfy menu > File > Open and the file chooser
  (the frontend's own loader; it shows its "Missing Models" dialog for the official model files,
  which the test checks and closes); the SVG Sparse Attention node is on the canvas, fed by the
  model loader, with the file's widget values;
- the node is added from the node search box (double-click the empty canvas, type its display
  name, click the result) and comes with the schema's default widget values;
- the tiny-model workflow is queued with the Run button and finishes; the SVG Attention Report
  node shows its head map and "Preview as Text" its summary.

The tiny-model workflow is generated from workflows/wan2.1_t2v_1.3B_480p_svg.json with the
server's /object_info (tiny_ui_workflow below): scripts/tiny_workflow.py's mapping (tiny random
Wan model, test-double text encoder and VAE, 256x256x13 frames, 5 steps) written back into the
UI format, plus an SVG Attention Report node (MODEL from the SVG node, LATENT from the sampler)
and a "Preview as Text" node on its summary. Two settings differ from the example, on purpose:
the sampler seed (1) and dense_warmup (0.8, so the 5-step run has one sparse step). The tiny
random model's heads often switch between spatial and temporal from one step to the next, and a
cell's colour is the mix over the sparse steps: with 2 or 4 sparse steps (seeds 1-23 tried) no
run had pure cells of both kinds at once. With one sparse step and this seed, the map has pure
spatial and pure temporal cells (checked at the HTTP level by
test_report_head_map_shows_both_head_kinds).

Screenshots go to .host/logs/browser/; with SVG_UPDATE_DOC_IMAGES=1 they are also written to
docs/images/ (ui_*.png), and only when every test of this module passed:

    SVG_UPDATE_DOC_IMAGES=1 bash scripts/test.sh tests/integration/test_browser_ui.py
"""
from __future__ import annotations

import copy
import json
import os
import re
import time
from pathlib import Path

import numpy as np
import pytest

import browser
import host
from svg_pack.svg_attention.report import palette
from tiny_workflow import adapt_workflow
from workflow_requires import unloadable_here
from workflow_to_api import _has_control_widget, _input_specs, _is_widget, ui_to_api

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((REPO / "workflows").glob("*.json"))
WAN_EXAMPLE = REPO / "workflows" / "wan2.1_t2v_1.3B_480p_svg.json"
SHOT_DIR = host.HOME / "logs" / "browser"
DOC_IMAGES = REPO / "docs" / "images"
SCREENSHOTS = {  # name in docs/images -> what it shows
    "ui_example_workflow.png": "the Wan 2.1 example opened from File > Open, SVG node selected",
    "ui_node_from_search.png": "SVG Sparse Attention added from the node search box",
    "ui_report_head_map.png": "the finished tiny-model run: head map and summary",
}
SVG_NODE, REPORT_NODE = "SVGSparseAttention", "SVGAttentionReport"
MODEL_LOADERS = ("UNETLoader", "CheckpointLoaderSimple")  # what an SVG node's model comes from
# the tiny run's settings that differ from the example (see the module docstring)
TINY_SEED, TINY_WARMUP = 1, 0.8
# the head map's cell colours for the "svg" pattern's labels (svg_attention/report.py); the docs
# call them blue, orange, grey
DENSE_RGB, SPATIAL_RGB, TEMPORAL_RGB = palette(("spatial", "temporal"))
assert (SPATIAL_RGB, TEMPORAL_RGB) == ((52, 120, 246), (246, 140, 40))


# ------------------------------------------------------------------ the tiny UI workflow
def _widget_slots(info: dict) -> list:
    """[(input name, has a control_after_generate value after it)] in widgets_values order."""
    return [(name, _has_control_widget(name, typ, opts))
            for name, typ, opts in _input_specs(info) if _is_widget(typ, opts)]


def _ui_inputs(info: dict) -> list:
    """A node's input slots as frontend 1.32 saves them: link-only inputs, then one per widget."""
    sockets, widgets = [], []
    for name, typ, opts in _input_specs(info):
        kind = "COMBO" if isinstance(typ, list) else typ
        entry = {"localized_name": name, "name": name, "type": kind}
        if _is_widget(typ, opts):
            entry["widget"] = {"name": name}
            widgets.append(entry)
        else:
            sockets.append(entry)
        entry["link"] = None
    return sockets + widgets


def tiny_ui_workflow(example: dict, object_info: dict, tag: str = "browser") -> dict:
    """The example (UI format) with scripts/tiny_workflow.py's tiny-host mapping written back
    into it, the seed / dense_warmup of TINY_*, a report node and a text preview of its summary."""
    wf = copy.deepcopy(example)
    api = adapt_workflow(ui_to_api(wf, object_info), tag=tag)
    nodes = {n["id"]: n for n in wf["nodes"]}
    svg = next(n for n in wf["nodes"] if n["type"] == SVG_NODE)
    sampler = next(n for n in wf["nodes"] if n["type"] == "KSampler")
    api[str(svg["id"])]["inputs"]["dense_warmup"] = TINY_WARMUP
    api[str(sampler["id"])]["inputs"]["seed"] = TINY_SEED
    for nid, spec in api.items():
        node, ctype = nodes[int(nid)], spec["class_type"]
        info = object_info[ctype]
        if node["type"] != ctype:  # a loader swapped for its test double (no linked inputs)
            assert not any(i.get("link") is not None for i in node["inputs"]), node
            node["type"] = ctype
            node["inputs"] = _ui_inputs(info)
            node["properties"] = {"Node name for S&R": ctype}
        node["properties"].pop("models", None)  # the official files' download links
        old = list(node.get("widgets_values") or [])
        values, pos = [], 0
        for name, control in _widget_slots(info):
            values.append(spec["inputs"][name])
            pos += 1
            if control:
                values.append(old[pos] if pos < len(old) else "fixed")
                pos += 1
        node["widgets_values"] = values
    loader = next(n for n in wf["nodes"] if n["type"] == "UNETLoader")
    loader["title"] = "Load tiny Wan 2.1 T2V (test model)"

    next_id, next_link = wf["last_node_id"] + 1, wf["last_link_id"] + 1
    # room for the two new nodes right of the sampler: move the video preview further right
    save = next(n for n in wf["nodes"] if n["type"] == "SaveVideo")
    save["pos"] = [1700, save["pos"][1]]
    report = {"id": next_id, "type": REPORT_NODE, "pos": [920, 150], "size": [400, 200],
              "flags": {}, "order": len(wf["nodes"]), "mode": 0,
              "inputs": [{"localized_name": "model", "name": "model", "type": "MODEL",
                          "link": next_link},
                         {"localized_name": "samples", "name": "samples", "type": "LATENT",
                          "link": next_link + 1}],
              "outputs": [{"localized_name": "head_map", "name": "head_map", "type": "IMAGE",
                           "links": []},
                          {"localized_name": "summary", "name": "summary", "type": "STRING",
                           "links": [next_link + 2]}],
              "properties": {"Node name for S&R": REPORT_NODE}, "widgets_values": []}
    preview = {"id": next_id + 1, "type": "PreviewAny", "title": "SVG summary (Preview as Text)",
               "pos": [920, 430], "size": [400, 130], "flags": {}, "order": len(wf["nodes"]) + 1, "mode": 0,
               "inputs": [{"localized_name": "source", "name": "source", "type": "*",
                           "link": next_link + 2}],
               "outputs": [], "properties": {"Node name for S&R": "PreviewAny"},
               "widgets_values": []}
    svg["outputs"][0]["links"].append(next_link)
    sampler["outputs"][0]["links"].append(next_link + 1)
    wf["nodes"] += [report, preview]
    wf["links"] += [[next_link, svg["id"], 0, report["id"], 0, "MODEL"],
                    [next_link + 1, sampler["id"], 0, report["id"], 1, "LATENT"],
                    [next_link + 2, report["id"], 1, preview["id"], 0, "STRING"]]
    wf["last_node_id"], wf["last_link_id"] = preview["id"], next_link + 2
    wf["extra"] = {**wf.get("extra", {}), "ds": {"scale": 0.8, "offset": [-40, 260]}}
    return wf


def _expected_widgets(node: dict, info: dict) -> dict:
    """name -> value of a UI-format node's widgets_values."""
    values, out, pos = node["widgets_values"], {}, 0
    for name, control in _widget_slots(info):
        out[name] = values[pos]
        pos += 1 + control
    return out


def _defaults(info: dict) -> dict:
    return {name: opts.get("default", typ[0] if isinstance(typ, list) else None)
            for name, typ, opts in _input_specs(info) if _is_widget(typ, opts)}


def _summary_text(history: dict, node_id) -> str:
    return "".join(history["outputs"][str(node_id)]["text"])


# ------------------------------------------------------------------ head map image
def head_map_cells(png_path: Path) -> dict:
    """Cells of exactly the spatial / temporal / dense colour in a head map PNG, legend left out:
    each cell is a square of one colour, 1 px apart from its neighbours; the legend's squares
    are the lowest squares of each colour in the picture. Returns {kind: number of cells}."""
    from PIL import Image
    from scipy import ndimage

    rgb = np.asarray(Image.open(png_path).convert("RGB"))
    boxes = {}
    for kind, colour in (("spatial", SPATIAL_RGB), ("temporal", TEMPORAL_RGB),
                         ("dense", DENSE_RGB)):
        mask = np.all(rgb == colour, axis=-1)
        labels, _ = ndimage.label(mask)
        boxes[kind] = [(sl[0].start, sl[0].stop - sl[0].start, sl[1].stop - sl[1].start)
                       for sl in ndimage.find_objects(labels)]
    legend_top = max(top for found in boxes.values() for top, _, _ in found)
    cells = {}
    for kind, found in boxes.items():
        # a legend square at legend_top (one per colour) is not a cell; cells are squares >= 8 px
        cells[kind] = sum(1 for top, h, w in found if top < legend_top and h >= 8 and w >= 8)
    return cells


# ------------------------------------------------------------------ fixtures
@pytest.fixture(scope="module")
def page(comfy_server):
    # closing the banner / minimap is saved in the host's user settings: put them back after
    settings = host.BASE_DIR / "user" / "default" / "comfy.settings.json"
    saved = settings.read_bytes() if settings.exists() else None
    try:
        with browser.open_frontend(comfy_server.url) as pg:
            browser.dismiss_chrome(pg)
            yield pg
    finally:
        if saved is None:
            settings.unlink(missing_ok=True)
        else:
            settings.write_bytes(saved)


@pytest.fixture(scope="module")
def shots(request):
    """name -> PNG bytes of this module's screenshots; written to docs/images at the end when
    SVG_UPDATE_DOC_IMAGES=1 and no test of the session failed since the module started."""
    failed_before = request.session.testsfailed
    taken: dict[str, bytes] = {}
    yield taken
    if os.environ.get("SVG_UPDATE_DOC_IMAGES") != "1":
        return
    if request.session.testsfailed != failed_before or set(taken) != set(SCREENSHOTS):
        print(f"\nnot updating {DOC_IMAGES}: failures or missing screenshots ({sorted(taken)})")
        return
    DOC_IMAGES.mkdir(parents=True, exist_ok=True)
    for name, data in taken.items():
        (DOC_IMAGES / name).write_bytes(data)
    print(f"\nwrote {sorted(taken)} to {DOC_IMAGES}")


def _shot(shots: dict, name: str, img) -> None:
    data = browser.png_bytes(img, SHOT_DIR / name)
    assert len(data) < 300_000, (name, len(data))
    shots[name] = data


def _pad(box: dict, margin: float) -> dict:
    return {"x": max(0, box["x"] - margin), "y": max(0, box["y"] - margin),
            "width": box["width"] + 2 * margin, "height": box["height"] + 2 * margin}


def _stack(images: list, gap: int = 12, background=(24, 24, 24)):
    """Images one below the other, left-aligned, on the canvas colour."""
    from PIL import Image

    width = max(im.width for im in images)
    out = Image.new("RGB", (width, sum(im.height for im in images) + gap * (len(images) - 1)),
                    background)
    y = 0
    for im in images:
        out.paste(im, (0, y))
        y += im.height + gap
    return out


# ------------------------------------------------------------------ browser tests
@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_example_opens_from_file_menu(page, shots, object_info, path):
    wf = json.loads(path.read_text(encoding="utf-8"))
    if why := unloadable_here(wf, host.COMFY_VERSION, object_info, path.name):
        pytest.skip(why)
    page.errors.clear()
    browser.open_workflow_file(page, path)
    missing = browser.dismiss_missing_models(page)
    # the diffusion model file (LTX-Video: its all-in-one checkpoint, CheckpointLoaderSimple)
    unet = next(n for n in wf["nodes"] if n["type"] in MODEL_LOADERS)["widgets_values"][0]
    # the official model files are not on the test host: the frontend says so, naming them
    assert any(unet in line for line in missing), missing
    assert not page.errors, f"page errors while loading {path.name}: {page.errors}"

    nodes = {n["id"]: n for n in browser.graph_nodes(page)}
    assert set(nodes) == {n["id"] for n in wf["nodes"]}
    svg_files = [n for n in wf["nodes"] if n["type"] == SVG_NODE]  # Wan 2.2 14B: one per expert
    assert svg_files
    for svg_file in svg_files:
        svg = nodes[svg_file["id"]]
        assert svg["type"] == SVG_NODE
        assert svg["title"] == svg_file.get("title", "SVG Sparse Attention")
        want = _expected_widgets(svg_file, object_info[SVG_NODE])
        assert list(svg["widgets"]) == list(want)
        assert svg["widgets"] == want
        # wired as in the file: the model loader -> SVG -> the rest
        model_in = next(i for i in svg["inputs"] if i["name"] == "model")
        origin = browser.link_origin(page, model_in["link"])
        assert nodes[origin["origin_id"]]["type"] in MODEL_LOADERS
        assert svg["outputs"][0]["type"] == "MODEL" and svg["outputs"][0]["links"]
    svg = nodes[svg_files[0]["id"]]

    if path == WAN_EXAMPLE:
        around = [n["id"] for n in wf["nodes"] if n["type"] in (
            "UNETLoader", "CLIPLoader", SVG_NODE, "ModelSamplingSD3", "KSampler", "CLIPTextEncode")]
        browser.frame_nodes(page, around)
        browser.click_node_title(page, svg["id"])
        assert page.evaluate("(id) => !!window.app.canvas.selected_nodes[id]", svg["id"])
        _shot(shots, "ui_example_workflow.png", browser.grab(page))


def test_node_from_search_box(page, shots, object_info):
    page.errors.clear()
    browser.new_blank_workflow(page)
    grabbed = {}

    def grab_results(pg, dialog):
        grabbed["results"] = browser.grab(pg, _pad(dialog, 16))

    node_id = browser.add_node_from_search(page, "SVG Sparse Attention", 560, 380,
                                           on_results=grab_results)
    node = next(n for n in browser.graph_nodes(page) if n["id"] == node_id)
    assert node["type"] == SVG_NODE and node["title"] == "SVG Sparse Attention"
    assert node["widgets"] == _defaults(object_info[SVG_NODE]) == {
        "sparsity": 0.75, "dense_warmup": 0.2, "dense_blocks": 1, "sampled_rows": 64,
        "backend": "auto", "profile_seed": 0, "verbose": False,
        "attention_precision": "auto", "fp8_dense_steps": False, "pattern": "svg", "svg2_top_p": 0.0,
        "svg2_query_clusters": 0, "svg2_key_clusters": 0, "svg2_warm_iterations": 1}
    assert [(i["name"], i["type"]) for i in node["inputs"] if i["name"] == "model"] == \
        [("model", "MODEL")]
    assert [o["type"] for o in node["outputs"]] == ["MODEL"]
    assert not page.errors, page.errors
    browser.frame_nodes(page, [node_id], max_scale=1.4)
    added = browser.grab(page, browser.node_box(page, node_id, margin=24))
    _shot(shots, "ui_node_from_search.png", _stack([grabbed["results"], added]))


def test_tiny_workflow_runs_from_run_button(page, shots, comfy_server, object_info, tmp_path):
    wf = tiny_ui_workflow(json.loads(WAN_EXAMPLE.read_text(encoding="utf-8")), object_info)
    path = tmp_path / "wan2.1_t2v_tiny_report.json"
    path.write_text(json.dumps(wf, indent=1), encoding="utf-8")
    page.errors.clear()
    browser.open_workflow_file(page, path)
    assert browser.dismiss_missing_models(page, timeout_s=1.0) == []
    report_id = next(n["id"] for n in wf["nodes"] if n["type"] == REPORT_NODE)
    preview_id = next(n["id"] for n in wf["nodes"] if n["type"] == "PreviewAny")

    with page.expect_response(lambda r: r.url.endswith("/prompt") and
                              r.request.method == "POST") as posted:
        browser.run_button(page).click()
    assert posted.value.status == 200, posted.value.text()
    prompt_id = posted.value.json()["prompt_id"]
    entry = comfy_server.wait(prompt_id, timeout=240)
    assert entry["status"]["status_str"] == "success", entry["status"]
    # what the page queued is the tiny graph with the report node
    queued = entry["prompt"][2]
    assert queued[str(report_id)]["class_type"] == REPORT_NODE
    assert queued[str(report_id)]["inputs"]["model"][0] == str(
        next(n["id"] for n in wf["nodes"] if n["type"] == SVG_NODE))
    summary = _summary_text(entry, preview_id)
    heads = re.search(r"heads: ([\d.]+)% spatial, ([\d.]+)% temporal", summary)
    assert heads and float(heads[1]) > 0 and float(heads[2]) > 0, summary

    # the page shows the head map in the report node and the summary in the preview
    page.wait_for_function("""(id) => { const n = window.app.graph.getNodeById(id);
        return (n.imgs || []).some(i => i.complete && i.naturalWidth > 0) }""",
                           arg=report_id, timeout=30_000)
    page.wait_for_function("""([id, text]) => (window.app.graph.getNodeById(id).widgets || [])
        .some(w => String(w.value ?? '').includes(text))""",
                           arg=[preview_id, "sparse attention calls"], timeout=30_000)
    assert not page.errors, page.errors
    svg_id = next(n["id"] for n in wf["nodes"] if n["type"] == SVG_NODE)
    sampler_id = next(n["id"] for n in wf["nodes"] if n["type"] == "KSampler")
    browser.frame_nodes(page, [svg_id, sampler_id, report_id, preview_id])
    time.sleep(0.5)
    _shot(shots, "ui_report_head_map.png", browser.grab(page))


# ------------------------------------------------------------------ HTTP level
def test_report_head_map_shows_both_head_kinds(comfy_server, object_info, output_dir):
    """POST /prompt with the report node: the profiler of the tiny Wan model, at these settings,
    labels some heads spatial and some temporal; the summary says so and the head map has
    cells of both colours, as many as the summary's head decisions (one sparse step)."""
    wf = tiny_ui_workflow(json.loads(WAN_EXAMPLE.read_text(encoding="utf-8")), object_info,
                          tag="report_api")
    api = ui_to_api(wf, object_info)
    report_id = next(k for k, v in api.items() if v["class_type"] == REPORT_NODE)
    preview_id = next(k for k, v in api.items() if v["class_type"] == "PreviewAny")
    svg = next(v for v in api.values() if v["class_type"] == SVG_NODE)["inputs"]
    assert (svg["sparsity"], svg["dense_warmup"], svg["dense_blocks"]) == (0.75, TINY_WARMUP, 1)
    result = comfy_server.run(api, summaries=1)
    s = result.summaries[0]
    assert s["sparse_calls"] == 1, s["_line"]  # 5 steps, 80% dense warm-up, one sparse block
    assert s["spatial_heads"] > 0 and s["temporal_heads"] > 0, s["_line"]

    text = _summary_text(result.history, preview_id)
    heads = s["spatial_heads"] + s["temporal_heads"]
    assert f"sparse attention calls: {s['sparse_calls']}" in text, text
    assert (f"heads: {100 * s['spatial_heads'] / heads:.1f}% spatial, "
            f"{100 * s['temporal_heads'] / heads:.1f}% temporal ({heads} head decisions)") in text

    files = result.output_files(report_id)
    assert len(files) == 1, result.history["outputs"]
    kind, sub, name = files[0]
    png = output_dir.parent / kind / sub / name
    cells = head_map_cells(png)
    assert cells["spatial"] == s["spatial_heads"] and cells["temporal"] == s["temporal_heads"], \
        (cells, s["_line"])
    # the head map counts the steps after the warm-up: block 0 (dense_blocks=1) is a row of
    # dense cells, one per head column
    assert cells["dense"] == heads, cells

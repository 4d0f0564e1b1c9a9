"""The example workflows in workflows/: generated, valid UI format, served as templates, and
runnable: each is converted to the API format with the server's /object_info (the converter in
scripts/workflow_to_api.py), its heavy parts are swapped for the tiny host's stand-ins
(scripts/tiny_workflow.py documents the mapping) and it is queued through POST /prompt."""
import json
import subprocess
import sys
import urllib.parse
from pathlib import Path

import pytest

import host
import make_workflows
from tiny_workflow import NOT_RUNNABLE, adapt_workflow
from workflow_requires import TORCHAUDIO_NODES, object_info_with_table, required_comfyui, unmet_requirement
from workflow_to_api import WIDGET_TYPES, ui_to_api

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((REPO / "workflows").glob("*.json"))
# Diffusion model loaders an SVG node may sit behind. LTX-Video's official example loads model
# and VAE from one checkpoint (CheckpointLoaderSimple); the others load a diffusion model file.
MODEL_LOADERS = ("UNETLoader", "CheckpointLoaderSimple")
SAMPLER_MODEL_INPUTS = ("KSampler", "KSamplerAdvanced", "SamplerCustom", "BasicGuider", "CFGGuider",
                        "BasicScheduler")
# The example workflows that run on the tiny host (test_workflow_runs), listed by name so that
# a new workflow is neither run nor left out silently: test_not_runnable_set checks the rest.
RUNNABLE = {
    "wan2.1_t2v_1.3B_480p_svg.json", "wan2.1_i2v_14B_480p_svg.json",
    "wan2.2_t2v_14B_two_experts_svg.json", "hunyuanvideo_t2v_720p_svg.json",
    "hunyuanvideo_i2v_v2_720p_svg.json", "ltxv_t2v_2B_0.9.5_svg.json",
    "cosmos_predict2_2B_i2v_480p_svg.json",
}
NOT_RUNNABLE_WORKFLOWS = {"mochi_t2v_svg.json"}
# Workflows for a newer ComfyUI (extra.svg_requires): on an older host they are skipped, saying
# so; tests/integration/families_0193 runs them on ComfyUI 0.19.3.
NEWER_WORKFLOWS = {p.name for p in WORKFLOWS if required_comfyui(json.loads(p.read_text(encoding="utf-8")))}


def skip_unmet(path):
    why = unmet_requirement(json.loads(path.read_text(encoding="utf-8")), host.COMFY_VERSION, path.name)
    if why:
        pytest.skip(why)
PACK_FOLDER = "ComfyUI-SparseVideoGen"  # the name scripts/host.py links the pack under
NODE_KEYS = {"id", "type", "pos", "size", "flags", "order", "mode", "inputs", "outputs",
             "properties", "widgets_values"}


def test_there_are_workflows():
    names = {p.name for p in WORKFLOWS}
    # one example per supported family (issue #6); CogVideoX has none (not in ComfyUI 0.3.75,
    # no official example in newer ComfyUI: see scripts/make_workflows.py)
    assert names == RUNNABLE | NOT_RUNNABLE_WORKFLOWS | NEWER_WORKFLOWS


def test_workflows_match_their_generator():
    r = subprocess.run([sys.executable, str(REPO / "scripts" / "make_workflows.py"), "--check"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def _frontend_inputs(info: dict) -> list:
    """(name, type, is_widget) in the order frontend 1.32 creates a node's input slots:
    link-only inputs first, then one slot per widget, each group in /object_info order."""
    specs = []
    for section in ("required", "optional"):
        for name in info.get("input_order", {}).get(section, []):
            typ = info["input"][section][name][0]
            typ = "COMBO" if isinstance(typ, list) else typ
            specs.append((name, typ, typ in WIDGET_TYPES))
            options = info["input"][section][name][1] if info["input"][section][name][1:2] else {}
            if options.get("image_upload") or options.get("video_upload"):
                specs.append(("upload", "IMAGEUPLOAD", True))  # LoadImage's / LoadVideo's upload button
    return [s for s in specs if not s[2]] + [s for s in specs if s[2]]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_ui_format(path, object_info):
    skip_unmet(path)
    wf = json.loads(path.read_text(encoding="utf-8"))
    assert wf["version"] == 0.4
    nodes = {n["id"]: n for n in wf["nodes"]}
    assert wf["last_node_id"] == max(nodes) and wf["last_link_id"] == max(l[0] for l in wf["links"])
    for link in wf["links"]:
        lid, src, src_slot, dst, dst_slot, typ = link
        assert lid in nodes[src]["outputs"][src_slot]["links"], link
        assert nodes[dst]["inputs"][dst_slot]["link"] == lid, link
        assert nodes[src]["outputs"][src_slot]["type"] == typ == nodes[dst]["inputs"][dst_slot]["type"]
    types = [n["type"] for n in wf["nodes"]]
    # one SVG node per diffusion model loader (Wan 2.2 14B: two experts, two nodes)
    assert types.count("SVGSparseAttention") == sum(map(types.count, MODEL_LOADERS)) >= 1
    notes = [n for n in wf["nodes"] if n["type"] in ("Note", "MarkdownNote")]
    assert notes and all(w in notes[0]["widgets_values"][0] for w in ("sparsity", "0.75", "auto"))
    for node in wf["nodes"]:
        assert NODE_KEYS <= set(node), node["id"]
        if node["type"] in ("Note", "MarkdownNote"):
            continue
        if node["type"] not in object_info:
            # a torchaudio node this host cannot load: no /object_info entry to check its slots
            # against (make_workflows.py's table, written from ComfyUI 0.19.3's source, gives them)
            assert node["type"] in TORCHAUDIO_NODES, node["type"]
            continue
        info = object_info[node["type"]]
        got = [(i["name"], i["type"], "widget" in i) for i in node["inputs"]]
        assert got == _frontend_inputs(info), node["type"]
        assert [o["type"] for o in node["outputs"]] == info["output"], node["type"]


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_svg_node_sits_between_loader_and_sampler(path, object_info):
    skip_unmet(path)
    workflow = json.loads(path.read_text(encoding="utf-8"))
    info, missing = object_info_with_table(workflow, object_info, make_workflows.NODE_DEFS)
    assert missing <= TORCHAUDIO_NODES, missing
    api = ui_to_api(workflow, info)
    svg = [k for k, v in api.items() if v["class_type"] == "SVGSparseAttention"]
    assert len(svg) >= 1
    # upstream of each SVG node: its own diffusion model loader
    loaders = [api[k]["inputs"]["model"][0] for k in svg]
    assert all(api[n]["class_type"] in MODEL_LOADERS for n in loaders)
    assert len(set(loaders)) == len(svg)
    # every sampler's model comes through an SVG node
    def reaches_svg(nid):
        node = api[nid]
        if nid in svg:
            return True
        m = node["inputs"].get("model")
        return isinstance(m, list) and reaches_svg(m[0])
    samplers = [k for k, v in api.items() if v["class_type"] in SAMPLER_MODEL_INPUTS]
    assert samplers and all(reaches_svg(k) for k in samplers)


def test_workflows_are_served_as_templates(comfy_server):
    listed = comfy_server.get("/api/workflow_templates")
    assert sorted(listed.get(PACK_FOLDER, [])) == sorted(p.stem for p in WORKFLOWS), listed
    for p in WORKFLOWS:
        served = comfy_server.get(f"/api/workflow_templates/{PACK_FOLDER}/{urllib.parse.quote(p.name)}")
        assert served == json.loads(p.read_text(encoding="utf-8"))


def test_not_runnable_set(object_info):
    """Exactly the Mochi example does not run on the tiny host, and only because its diffusion
    model has no tiny stand-in: ComfyUI 0.3.75's model detection hard-codes Mochi's full-size
    config (48 blocks, width 3072), so no small checkpoint loads through its loaders. (Cosmos
    Predict2 runs: its detection leaves depth and heads at MiniTrainDIT's defaults for widths
    other than the 2B / 14B ones, which a tiny model can use.) Its graph is still checked above
    (UI format against /object_info, SVG placement, served as templates) and in the frontend
    tests. Every other workflow is in RUNNABLE."""
    names = {p.name for p in WORKFLOWS} - NEWER_WORKFLOWS
    assert names - RUNNABLE == NOT_RUNNABLE_WORKFLOWS
    for path in (p for p in WORKFLOWS if p.name in names):
        api = ui_to_api(json.loads(path.read_text(encoding="utf-8")), object_info)
        unets = {v["inputs"]["unet_name"] for v in api.values() if v["class_type"] == "UNETLoader"}
        if path.name in NOT_RUNNABLE_WORKFLOWS:
            assert unets and unets <= set(NOT_RUNNABLE), (path.name, unets)
            with pytest.raises(KeyError, match="no tiny stand-in"):
                adapt_workflow(api, tag=path.stem)
        else:
            assert not unets & set(NOT_RUNNABLE), path.name


@pytest.mark.parametrize("path", [p for p in WORKFLOWS if p.name in RUNNABLE], ids=lambda p: p.name)
def test_workflow_runs(path, comfy_server, object_info, output_dir):
    api = ui_to_api(json.loads(path.read_text(encoding="utf-8")), object_info)
    assert not any(v["class_type"] in ("Note", "MarkdownNote") for v in api.values())
    api = adapt_workflow(api, tag=path.stem)
    n_svg = sum(v["class_type"] == "SVGSparseAttention" for v in api.values())
    result = comfy_server.run(api, summaries=n_svg)  # one summary per SVG node's sampling run
    assert len(result.summaries) == n_svg, result.log
    for s in result.summaries:
        assert s["sparse_calls"] > 0, s["_line"]
        assert s["requested_density"] == pytest.approx(0.25)
    files = result.output_files()
    assert files, result.history.get("outputs")
    for _, sub, name in files:
        assert (output_dir / sub / name).stat().st_size > 0

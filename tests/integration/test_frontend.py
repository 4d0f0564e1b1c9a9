"""The example workflows in the real ComfyUI frontend (1.32.9 on ComfyUI 0.3.75, 1.42.11 on 0.19.3,
served by the test server),
driven by headless Chromium through Playwright:

- loading a workflow and saving it again (app.graph.serialize(), what Save/Export writes) gives
  back the same nodes, inputs, outputs, widget values and links: the files are in the format
  the frontend itself saves;
- the frontend's own UI -> API conversion (app.graphToPrompt(), what "Queue" sends) equals
  scripts/workflow_to_api.py's, so the converter the other tests rely on is faithful.

Needs the `playwright` Python package (requirements-dev.txt) and a Chromium binary (Debian's
`chromium`, which .ci/run installs); skipped without them. Browser helpers: browser.py.
The workflows are loaded here with app.loadGraphData (the function the frontend's own loaders
call) to compare what it saves; test_browser_ui.py loads them through the File > Open UI.
"""
import json
from pathlib import Path

import pytest

import host
from browser import open_frontend
from workflow_requires import unloadable_here, unmet_requirement
from workflow_to_api import ui_to_api

REPO = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((REPO / "workflows").glob("*.json"))
NODE_FIELDS = ("type", "pos", "size", "mode", "inputs", "outputs", "widgets_values",
               "properties", "title", "color", "bgcolor")


@pytest.fixture(scope="module")
def frontend(comfy_server):
    with open_frontend(comfy_server.url) as page:
        yield page


def _load(page, workflow: dict) -> dict:
    page.errors.clear()
    out = page.evaluate("""async (wf) => {
        await window.app.loadGraphData(wf);
        const saved = JSON.stringify(window.app.graph.serialize());
        const prompt = await window.app.graphToPrompt();
        return {saved, api: JSON.stringify(prompt.output)};
    }""", workflow)
    assert not page.errors, f"page errors while loading: {page.errors}"
    return {"saved": json.loads(out["saved"]), "api": json.loads(out["api"])}


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_frontend_saves_the_workflow_unchanged(frontend, path):
    wf = json.loads(path.read_text(encoding="utf-8"))
    if why := unmet_requirement(wf, host.COMFY_VERSION, path.name):
        pytest.skip(why)
    saved = _load(frontend, wf)["saved"]
    assert saved["version"] == wf["version"]
    assert saved["links"] == wf["links"]
    by_id = {n["id"]: n for n in saved["nodes"]}
    assert set(by_id) == {n["id"] for n in wf["nodes"]}
    for node in wf["nodes"]:
        got = by_id[node["id"]]
        for field in NODE_FIELDS:
            assert got.get(field) == node.get(field), (node["id"], node["type"], field)


@pytest.mark.parametrize("path", WORKFLOWS, ids=lambda p: p.name)
def test_converter_matches_frontend(frontend, object_info, path):
    wf = json.loads(path.read_text(encoding="utf-8"))
    if why := unloadable_here(wf, host.COMFY_VERSION, object_info, path.name):
        pytest.skip(why)
    theirs = _load(frontend, wf)["api"]
    mine = ui_to_api(wf, object_info)
    strip = lambda api: {k: {"class_type": v["class_type"], "inputs": v["inputs"]}  # noqa: E731
                         for k, v in api.items()}
    assert strip(mine) == strip(theirs)

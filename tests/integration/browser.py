"""Driving the real ComfyUI frontend (the comfyui-frontend-package the test server serves: 1.32.9
on ComfyUI 0.3.75, 1.42.11 on 0.19.3) in headless Chromium through Playwright's sync API: shared
by test_frontend.py and test_browser_ui.py. Where the two frontends differ (first-start dialog,
missing-models report, node search box, Run button) the helpers handle both.

Needs the `playwright` Python package (requirements-dev.txt) and a system Chromium (Debian's
`chromium`, which .ci/run installs; or SVG_TEST_CHROMIUM=/path/to/chrome): no browser download.
`open_frontend` skips the calling test when either is missing.

The helpers act through the page's own UI wherever the UI has a way (menus, the file chooser,
the node search box, the Run button) and read state back through the page's graph
(window.app.graph, LiteGraph nodes and widgets). The exception is `frame_nodes`, which sets the
canvas view (app.canvas.ds) directly so that screenshots show the nodes of interest.
"""
from __future__ import annotations

import contextlib
import io
import json
import os
import shutil
import time
from pathlib import Path

import pytest

CHROMIUM_ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
VIEWPORT = {"width": 1280, "height": 800}
# window.app exists and the server's node definitions (ours included) are registered
READY = "() => window.app?.graph && window.LiteGraph?.registered_node_types?.SVGSparseAttention"
# The part of the window where the canvas is not covered by the frontend's own chrome
# (side bar on the left, tabs and the Run bar at the top), in CSS pixels, for a 1280x800 window.
CANVAS_REGION = (70, 140, 1270, 790)


def chromium_path() -> str | None:
    for cand in (os.environ.get("SVG_TEST_CHROMIUM"), "chromium", "chromium-browser",
                 "google-chrome"):
        if cand and (path := shutil.which(cand)):
            return path
    return None


@contextlib.contextmanager
def open_frontend(url: str, viewport: dict | None = None):
    """One browser with one page on the server's frontend, loaded and settled. Uncaught page
    exceptions are collected in ``page.errors`` (a list the caller may clear)."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright not installed")
    chromium = chromium_path()
    if not chromium:
        pytest.skip("no Chromium binary (apt-get install chromium)")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport=viewport or VIEWPORT)
            page.errors = []
            page.on("pageerror", lambda e: page.errors.append(str(e)))
            page.goto(url)
            page.wait_for_function(READY, timeout=120_000)
            time.sleep(1)  # let the start-up settle (settings, default graph)
            yield page
        finally:
            browser.close()


# ------------------------------------------------------------------ page chrome
def close_dialogs(page, tries: int = 6) -> None:
    """Close modal dialogs as a user would: the dialog's visible close (x) button, else Escape. On
    a fresh user directory the frontend opens its template browser at first start (1.32: Escape
    does not close it, its close button does; 1.42: its first close button is hidden, a visible
    "Close dialog" one and Escape work), and a dialog's mask takes every click."""
    for _ in range(tries):
        mask = page.locator(".p-dialog-mask")
        if not mask.count() or not mask.first.is_visible():
            return
        close = mask.first.locator("button:has(i.pi-times):visible, button[aria-label='Close']:visible, "
                                   "button[aria-label='Close dialog']:visible")
        if close.count():
            close.first.click()
        else:
            page.keyboard.press("Escape")
        time.sleep(0.4)
    raise AssertionError("a dialog stays open: " + page.locator(".p-dialog-mask").first.inner_text()[:300])


def dismiss_chrome(page) -> None:
    """Close what covers the canvas in screenshots: a first-start dialog, the "Introducing
    Nodes 2.0" banner and the minimap, through their own buttons (each only if it is shown)."""
    close_dialogs(page)
    # 1.42: the start-up graph's missing model is reported in an error overlay over the canvas
    overlay = page.locator("[data-testid=error-overlay]")
    if overlay.count() and overlay.first.is_visible():
        overlay.first.get_by_role("button", name="Dismiss").click()
        overlay.first.wait_for(state="hidden", timeout=5_000)
    banner = page.get_by_text("Introducing Nodes 2.0")
    if banner.count() and banner.first.is_visible():
        # the banner's close button is its icon-only (x) button, not "Try it out" (which would
        # switch the canvas to Nodes 2.0)
        close = page.locator(
            "xpath=//span[contains(., 'Introducing Nodes 2.0')]/ancestor::div"
            "[count(.//button) >= 2][1]//button[not(contains(., 'Try it out'))]")
        close.first.click()
        banner.first.wait_for(state="hidden", timeout=5_000)
    minimap = page.get_by_test_id("toggle-minimap-button")
    if minimap.count() and (minimap.first.get_attribute("aria-label") or "").startswith("Hide"):
        minimap.first.click()


def open_comfy_menu_item(page, *path: str, tries: int = 3) -> None:
    """Click through the Comfy (logo) menu of the side bar, e.g. ("File", "Open"). Frontend 1.42
    now and then leaves a submenu shut after the hover (the menu closed again, or no mouseenter
    where the pointer already was): then the menu is closed with Escape and opened afresh, at most
    ``tries`` times."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    target = page.get_by_role("menuitem", name=path[-1]).first
    for attempt in range(tries):
        page.locator(".comfy-menu-button-wrapper").first.click()
        for name in path[:-1]:
            page.mouse.move(0, 0)
            page.get_by_role("menuitem", name=name).first.hover()
        try:
            target.wait_for(state="visible", timeout=10_000)
        except PlaywrightTimeout:   # the submenu did not open
            if attempt == tries - 1:
                raise
            page.keyboard.press("Escape")
            page.keyboard.press("Escape")
            continue
        target.click()
        return


def open_workflow_file(page, path: Path) -> None:
    """Load a workflow JSON the way a user does: Comfy menu > File > Open, then pick the file in
    the file chooser (the frontend's own file input and loader). Waits until the graph holds
    exactly the file's nodes (ids and types)."""
    with page.expect_file_chooser() as chooser:
        open_comfy_menu_item(page, "File", "Open")
    chooser.value.set_files(str(path))
    want = sorted(f"{n['id']}:{n['type']}"
                  for n in json.loads(Path(path).read_text(encoding="utf-8"))["nodes"])
    page.wait_for_function("""(want) => JSON.stringify(window.app.graph._nodes
        .map(n => `${n.id}:${n.type}`).sort()) === JSON.stringify(want)""", arg=want,
                           timeout=30_000)
    time.sleep(0.5)


def dismiss_missing_models(page, timeout_s: float = 5.0) -> list[str]:
    """If the frontend reports missing models, return the lines it lists and close the report;
    [] when there is none. Frontend 1.32: a "Missing Models" dialog, closed with its Close
    button. 1.42: an error overlay entry "Missing Models (N)"; its "See Errors" opens the
    properties panel that lists the files, which is closed again with its toggle."""
    dialog = page.locator("[role=dialog][aria-labelledby=global-missing-models-warning]")
    overlay = page.locator("[data-testid=error-overlay]").filter(has_text="Missing Models")
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        if dialog.count() and dialog.first.is_visible():
            text = dialog.first.inner_text()
            dialog.first.get_by_role("button", name="Close").first.click()
            dialog.first.wait_for(state="hidden", timeout=5_000)
            return [ln.strip() for ln in text.splitlines() if ln.strip()]
        if overlay.count() and overlay.first.is_visible():
            overlay.first.get_by_role("button", name="See Errors").click()
            panel = page.locator("[data-testid=properties-panel]").filter(has_text="Missing Models")
            panel.first.wait_for(state="visible", timeout=10_000)
            time.sleep(0.3)
            text = panel.first.inner_text()
            page.get_by_role("button", name="Toggle properties panel").click()
            panel.first.wait_for(state="hidden", timeout=5_000)
            return [ln.strip() for ln in text.splitlines() if ln.strip()]
        time.sleep(0.2)
    return []


def run_button(page):
    """The Run (queue) button: 1.42 also labels its queue-mode menu trigger "Run"."""
    by_id = page.get_by_test_id("queue-button")
    return by_id.first if by_id.count() else page.get_by_role("button", name="Run", exact=True)


def new_blank_workflow(page) -> None:
    page.get_by_role("button", name="Create a new blank workflow").click()
    page.wait_for_function("() => window.app.graph._nodes.length === 0", timeout=10_000)


# ------------------------------------------------------------------ reading the graph
def graph_nodes(page) -> list[dict]:
    """The nodes of the graph on the canvas: id, type, title, pos, size, widgets (name -> value),
    inputs (name, type, link), outputs (name, type, links), number of images shown."""
    return page.evaluate("""() => window.app.graph._nodes.map(n => ({
        id: n.id, type: n.type, title: n.title, pos: [...n.pos], size: [...n.size],
        mode: n.mode,
        widgets: Object.fromEntries((n.widgets || []).map(w => [w.name, w.value])),
        inputs: (n.inputs || []).map(i => ({name: i.name, type: i.type, link: i.link})),
        outputs: (n.outputs || []).map(o => ({name: o.name, type: o.type, links: o.links || []})),
        images: (n.imgs || []).filter(i => i.complete && i.naturalWidth > 0).length,
    }))""")


def link_origin(page, link_id: int) -> dict | None:
    """{origin_id, origin_slot, target_id, target_slot, type} of a link in the page's graph."""
    return page.evaluate("""(id) => { const l = window.app.graph.links[id] ??
        window.app.graph.links.get?.(id); return l ? {origin_id: l.origin_id,
        origin_slot: l.origin_slot, target_id: l.target_id, target_slot: l.target_slot,
        type: l.type} : null }""", link_id)


# ------------------------------------------------------------------ canvas coordinates
def to_screen(page, x: float, y: float) -> tuple[float, float]:
    """Graph coordinates -> window (CSS pixel) coordinates."""
    return tuple(page.evaluate("""([x, y]) => { const c = window.app.canvas;
        const r = c.canvas.getBoundingClientRect(); const p = c.ds.convertOffsetToCanvas([x, y]);
        return [r.left + p[0], r.top + p[1]] }""", [x, y]))


def frame_nodes(page, ids: list, max_scale: float = 1.0, region=CANVAS_REGION) -> None:
    """Set the canvas view so that the nodes `ids` (with their title bars) fill `region` of
    the window, at most at `max_scale`. Only for screenshots: sets app.canvas.ds directly."""
    page.evaluate("""([ids, maxScale, region]) => {
        const c = window.app.canvas, g = window.app.graph, T = window.LiteGraph.NODE_TITLE_HEIGHT;
        let x0 = Infinity, y0 = Infinity, x1 = -Infinity, y1 = -Infinity;
        for (const id of ids) { const n = g.getNodeById(id);
            x0 = Math.min(x0, n.pos[0]); y0 = Math.min(y0, n.pos[1] - T);
            x1 = Math.max(x1, n.pos[0] + n.size[0]); y1 = Math.max(y1, n.pos[1] + n.size[1]); }
        const pad = 20, r = c.canvas.getBoundingClientRect();
        const [rx0, ry0, rx1, ry1] = [region[0] - r.left, region[1] - r.top, region[2] - r.left, region[3] - r.top];
        const scale = Math.min(maxScale, (rx1 - rx0) / (x1 - x0 + 2 * pad), (ry1 - ry0) / (y1 - y0 + 2 * pad));
        c.ds.scale = scale;
        c.ds.offset[0] = (rx0 + rx1) / 2 / scale - (x0 + x1) / 2;
        c.ds.offset[1] = (ry0 + ry1) / 2 / scale - (y0 + y1) / 2;
        c.setDirty(true, true); c.draw(true, true);
    }""", [list(ids), max_scale, list(region)])
    time.sleep(0.3)


def click_node_title(page, node_id: int) -> None:
    """Select a node the way a user does: click its title bar on the canvas."""
    pos = page.evaluate("(id) => [...window.app.graph.getNodeById(id).pos]", node_id)
    title_h = page.evaluate("() => window.LiteGraph.NODE_TITLE_HEIGHT")
    x, y = to_screen(page, pos[0] + 60, pos[1] - title_h / 2)
    page.mouse.click(x, y)


# ------------------------------------------------------------------ node search
def add_node_from_search(page, display_name: str, x: float, y: float, on_results=None) -> int:
    """Double-click the empty canvas at window position (x, y), type `display_name` into the node
    search box and click the result whose name matches; returns the id of the node it added.
    `on_results(page, rect)` is called while the result is shown, with the window rectangle of
    the search box and the result (e.g. to grab them)."""
    before = {n["id"] for n in graph_nodes(page)}
    box = page.locator("input[id^=comfy-vue-node-search-box-input], "   # frontend 1.32
                       "input[placeholder='Add a node...']").first          # 1.42
    for attempt in range(3):  # a double-click right after a tab switch is sometimes not taken
        page.mouse.dblclick(x, y)
        try:
            box.wait_for(state="visible", timeout=4_000)
            break
        except Exception:  # noqa: BLE001 - playwright's TimeoutError
            if attempt == 2:
                raise
    page.keyboard.type(display_name, delay=15)
    option = page.get_by_role("option").filter(has_text=display_name).first
    option.wait_for(state="visible", timeout=10_000)
    if on_results is not None:
        time.sleep(0.3)  # the results list's fade-in
        container = page.locator(".comfy-vue-node-search-container")
        a = (container.first if container.count() else box).bounding_box()
        b = option.bounding_box()
        x0, y0 = min(a["x"], b["x"]), min(a["y"], b["y"])
        x1 = max(a["x"] + a["width"], b["x"] + b["width"])
        y1 = max(a["y"] + a["height"], b["y"] + b["height"])
        on_results(page, {"x": x0, "y": y0, "width": x1 - x0, "height": y1 - y0})
    option.click()
    box.wait_for(state="hidden", timeout=10_000)
    page.wait_for_function("(n) => window.app.graph._nodes.length === n", arg=len(before) + 1,
                           timeout=10_000)
    added = [n["id"] for n in graph_nodes(page) if n["id"] not in before]
    assert len(added) == 1, added
    time.sleep(0.5)  # the search dialog's fade-out
    return added[0]


# ------------------------------------------------------------------ screenshots
def node_box(page, node_id: int, margin: float = 0) -> dict:
    """Window rectangle {x, y, width, height} of a node, title bar included, plus `margin`."""
    pos, size, title = page.evaluate("""(id) => { const n = window.app.graph.getNodeById(id);
        return [[...n.pos], [...n.size], window.LiteGraph.NODE_TITLE_HEIGHT] }""", node_id)
    x0, y0 = to_screen(page, pos[0], pos[1] - title)
    x1, y1 = to_screen(page, pos[0] + size[0], pos[1] + size[1])
    return {"x": x0 - margin, "y": y0 - margin, "width": x1 - x0 + 2 * margin,
            "height": y1 - y0 + 2 * margin}


def grab(page, clip: dict | None = None):
    """A screenshot of the window (or of `clip`, a window rectangle) as a PIL RGB image."""
    from PIL import Image

    kw = {"clip": {k: float(v) for k, v in clip.items()}} if clip else {}
    return Image.open(io.BytesIO(page.screenshot(type="png", **kw))).convert("RGB")


def png_bytes(img, path: Path | None = None, max_colours: int = 256) -> bytes:
    """`img` as a PNG reduced to a palette of `max_colours` (small files for the docs); also
    written to `path` when given."""
    from PIL import Image

    img = img.quantize(colors=max_colours, method=Image.Quantize.MEDIANCUT,
                       dither=Image.Dither.NONE)
    out = io.BytesIO()
    img.save(out, format="PNG", optimize=True)
    data = out.getvalue()
    if path is not None:
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        Path(path).write_bytes(data)
    return data

"""Convert a ComfyUI UI-format workflow (what the frontend saves, version 0.4) to the API format
that POST /prompt takes, using the server's /object_info.

    python scripts/workflow_to_api.py workflows/x.json --server http://127.0.0.1:8188 > api.json
    python scripts/workflow_to_api.py workflows/x.json --object-info object_info.json

Rules (what the frontend itself does when it queues a prompt):
- widgets_values are positional, in the order of the node's inputs in /object_info
  (input_order: required, then optional), skipping inputs that are link-only types (MODEL,
  LATENT, ...). An INT input with `control_after_generate` (KSampler's seed, RandomNoise's
  noise_seed, ...) is followed by one extra value ("randomize"/"fixed"/...) that is not an input.
  A dict widgets_values maps names to values. A workflow saved before a node gained optional inputs
  (fewer values than widgets) gets their defaults, as the frontend keeps a widget's default when
  widgets_values has no entry for it.
- A widget that was converted to an input and is linked takes the link instead of its value.
- links are [id, from_node, from_slot, to_node, to_slot, type]; an input refers to a link id.
- Note / MarkdownNote (and other frontend-only nodes without a backend class: PrimitiveNode
  values are already in the widgets they feed) are dropped; Reroute nodes are resolved;
  muted nodes (mode 2) are dropped; bypassed nodes (mode 4) pass their first input of the
  output's type through.
"""
from __future__ import annotations

import argparse
import json
import sys
import urllib.request

FRONTEND_ONLY = {"Note", "MarkdownNote", "PrimitiveNode", "Reroute"}
WIDGET_TYPES = {"INT", "FLOAT", "STRING", "BOOLEAN", "COMBO"}
MODE_MUTED, MODE_BYPASS = 2, 4


class ConversionError(ValueError):
    pass


def _input_specs(info: dict) -> list:
    """[(name, type, options)] in widget order: required then optional (``options["_optional"]``
    True for the optional ones)."""
    spec = info.get("input", {})
    order = info.get("input_order") or {k: list(spec.get(k, {})) for k in ("required", "optional")}
    out = []
    for section in ("required", "optional"):
        for name in order.get(section, []):
            entry = spec.get(section, {}).get(name)
            if entry is None:
                continue
            typ = entry[0]
            opts = entry[1] if len(entry) > 1 and isinstance(entry[1], dict) else {}
            out.append((name, typ, {**opts, "_optional": section == "optional"}))
    return out


def _is_widget(typ, opts: dict) -> bool:
    if isinstance(typ, list):  # classic combo: list of choices
        return True
    if opts.get("forceInput"):  # socket only, no widget
        return False
    return typ in WIDGET_TYPES


def _has_control_widget(name: str, typ, opts: dict) -> bool:
    if "control_after_generate" in opts:
        return bool(opts["control_after_generate"])
    return typ == "INT" and name in ("seed", "noise_seed")


def ui_to_api(workflow: dict, object_info: dict) -> dict:
    if workflow.get("definitions", {}).get("subgraphs"):
        raise ConversionError("subgraphs are not supported by this converter")
    nodes = {int(n["id"]): n for n in workflow["nodes"]}
    links = {}
    for link in workflow.get("links", []):
        if isinstance(link, dict):
            link = [link["id"], link["origin_id"], link["origin_slot"], link["target_id"],
                    link["target_slot"], link["type"]]
        links[int(link[0])] = link

    def source(link_id: int, seen=()):
        """Follow a link back through Reroutes and bypassed nodes to a real output."""
        link = links.get(int(link_id))
        if link is None:
            raise ConversionError(f"link {link_id} is not in the links array")
        _, from_id, from_slot, _, _, typ = link
        src = nodes.get(int(from_id))
        if src is None:
            raise ConversionError(f"link {link_id} comes from missing node {from_id}")
        if from_id in seen:
            raise ConversionError(f"link cycle through node {from_id}")
        if src["type"] == "Reroute" or src.get("mode") == MODE_BYPASS:
            for inp in src.get("inputs", []):
                if inp.get("link") is not None and (src["type"] == "Reroute" or
                                                    inp.get("type") in (typ, "*")):
                    return source(inp["link"], seen + (from_id,))
            return None
        if src.get("mode") == MODE_MUTED:
            return None
        if src["type"] == "PrimitiveNode":
            return ("value", (src.get("widgets_values") or [None])[0])
        return [str(from_id), int(from_slot)]

    api = {}
    for nid, node in sorted(nodes.items()):
        ntype = node["type"]
        if ntype in FRONTEND_ONLY or node.get("mode") in (MODE_MUTED, MODE_BYPASS):
            continue
        info = object_info.get(ntype)
        if info is None:
            raise ConversionError(f"node {nid}: type {ntype!r} is not known to the server")
        specs = _input_specs(info)
        ui_inputs = {i["name"]: i for i in node.get("inputs", [])}
        values = node.get("widgets_values")
        inputs = {}

        if isinstance(values, dict):
            widget_values = dict(values)
        else:
            values = list(values or [])
            widget_values, pos = {}, 0
            for name, typ, opts in specs:
                if not _is_widget(typ, opts):
                    continue
                if pos >= len(values) and opts["_optional"] and "default" in opts:
                    widget_values[name] = opts["default"]   # saved before the input existed: its default
                    continue
                if pos >= len(values):
                    raise ConversionError(
                        f"node {nid} ({ntype}): widgets_values has {len(values)} entries, "
                        f"too few for widget {name!r}")
                widget_values[name] = values[pos]
                pos += 1
                if _has_control_widget(name, typ, opts):
                    pos += 1  # "control_after_generate" value, frontend only
            extra = values[pos:]
            if extra and not (info.get("input", {}).get("required", {}).get("image")
                              or any(o.get("image_upload") or o.get("video_upload") or o.get("audio_upload")
                                     for _, _, o in specs)):
                raise ConversionError(
                    f"node {nid} ({ntype}): {len(extra)} widgets_values left over: {extra!r}; "
                    "the workflow does not match the server's inputs")

        for name, typ, opts in specs:
            ui = ui_inputs.get(name)
            if ui is not None and ui.get("link") is not None:
                src = source(ui["link"])
                if isinstance(src, tuple):       # PrimitiveNode value
                    inputs[name] = src[1]
                elif src is not None:
                    inputs[name] = src
                elif name in widget_values:
                    inputs[name] = widget_values[name]
            elif name in widget_values:
                inputs[name] = widget_values[name]
        api[str(nid)] = {"class_type": ntype, "inputs": inputs,
                         "_meta": {"title": node.get("title") or info.get("display_name", ntype)}}
    return api


def fetch_object_info(server: str) -> dict:
    with urllib.request.urlopen(server.rstrip("/") + "/object_info", timeout=120) as r:
        return json.loads(r.read())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("workflow")
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--server", help="URL of a running ComfyUI")
    src.add_argument("--object-info", help="a saved /object_info JSON")
    a = ap.parse_args()
    with open(a.workflow, encoding="utf-8") as f:
        wf = json.load(f)
    if a.server:
        oi = fetch_object_info(a.server)
    else:
        with open(a.object_info, encoding="utf-8") as f:
            oi = json.load(f)
    json.dump(ui_to_api(wf, oi), sys.stdout, indent=2, ensure_ascii=False)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())

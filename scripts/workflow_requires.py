"""Which ComfyUI an example workflow needs (standard library only).

A workflow made for a newer ComfyUI than a host has says so in ``extra.svg_requires``
({"comfyui": "0.19.3"}; scripts/make_workflows.py writes it, and the workflow's note says it in
words). Tests that open, convert or run every workflow on an older host skip those with
``unmet_requirement``'s one line.
"""
from __future__ import annotations

REQUIRES_KEY = "svg_requires"


def _version(text: str) -> tuple:
    return tuple(int(part) for part in str(text).split(".")[:3])


def required_comfyui(workflow: dict) -> str | None:
    """The oldest ComfyUI version the workflow needs, or None (any the pack supports)."""
    return ((workflow.get("extra") or {}).get(REQUIRES_KEY) or {}).get("comfyui")


def unmet_requirement(workflow: dict, host_version: str, name: str = "this workflow") -> str | None:
    """One line saying why ``workflow`` cannot be used with ComfyUI ``host_version``, or None."""
    needed = required_comfyui(workflow)
    if needed and _version(host_version) < _version(needed):
        return f"{name} needs ComfyUI {needed} or newer (its nodes or model); this host is {host_version}"
    return None


FRONTEND_ONLY = {"Note", "MarkdownNote", "PrimitiveNode", "Reroute"}


def missing_node_types(workflow: dict, object_info: dict) -> list:
    """The node types of ``workflow`` that a server's /object_info lacks (frontend-only nodes
    aside), sorted: e.g. LTX-2's and the audio nodes where torchaudio cannot be installed, whose
    comfy_extras modules then fail to import. A test that opens the workflow in that server's
    frontend can skip with them named."""
    return sorted({n["type"] for n in workflow["nodes"]} - FRONTEND_ONLY - set(object_info))

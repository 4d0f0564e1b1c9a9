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


# Node types whose ComfyUI 0.19.3 modules (comfy_extras/nodes_lt_audio.py, nodes_audio.py,
# nodes_audio_encoder.py) import torchaudio, which has no build for the test hosts' torch: a test
# server lacks them, and the tests take their inputs from scripts/make_workflows.py's table.
TORCHAUDIO_NODES = frozenset({"LTXAVTextEncoderLoader", "LTXVAudioVAELoader", "LTXVEmptyLatentAudio",
                              "LTXVAudioVAEDecode", "LoadAudio", "AudioEncoderLoader", "AudioEncoderEncode"})


def object_info_with_table(workflow: dict, object_info: dict, node_defs: dict):
    """(info, missing): a server's /object_info plus entries built from ``node_defs``
    (scripts/make_workflows.py's NODE_DEFS: type -> ([(name, type[, "optional"])], outputs)) for
    the node types of ``workflow`` the server lacks, enough for scripts/workflow_to_api.py to
    convert it; and those types."""
    info, missing = dict(object_info), set(missing_node_types(workflow, object_info))
    for ntype in missing:
        sections = {"required": {}, "optional": {}}
        for spec in node_defs[ntype][0]:
            options = {"audio_upload": True} if ntype == "LoadAudio" else {}
            sections["optional" if len(spec) > 2 else "required"][spec[0]] = [
                [] if spec[1] == "COMBO" else spec[1], options]
        info[ntype] = {"input": sections, "input_order": {k: list(v) for k, v in sections.items()}}
    return info, missing


def unloadable_here(workflow: dict, host_version: str, object_info: dict, name: str = "this workflow") -> str | None:
    """One line saying why a frontend on this host cannot load ``workflow`` fully (a newer ComfyUI
    needed, or node types its server lacks), or None."""
    if why := unmet_requirement(workflow, host_version, name):
        return why
    if missing := missing_node_types(workflow, object_info):
        return (f"{name}: this server lacks {', '.join(missing)} (modules importing torchaudio, which has "
                f"no build for the host's torch), so its frontend cannot load them")
    return None

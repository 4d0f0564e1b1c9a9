"""ComfyUI glue: the only part of the pack that imports ``comfy``.

apply.py patches a model (comfy only); svg_node.py and report_node.py are the V3 nodes and
extension.py lists them (these import comfy_api). Nothing is imported here, so that
``nodes.apply`` loads without comfy_api.
"""

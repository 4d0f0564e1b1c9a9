"""The pack's ComfyExtension: the list of its nodes."""
from comfy_api.latest import ComfyExtension

from .report_node import SVGAttentionReport
from .svg_node import SVGSparseAttention


class SVGExtension(ComfyExtension):
    async def get_node_list(self):
        return [SVGSparseAttention, SVGAttentionReport]

"""SparseVideoGen for ComfyUI: Sparse VideoGen (Xi et al., ICML 2025) as a ComfyUI node pack.

Importing this package needs only torch; ComfyUI calls ``comfy_entrypoint`` and only then is the
ComfyUI glue in ``nodes`` imported.
"""


async def comfy_entrypoint():
    from .nodes.extension import SVGExtension

    return SVGExtension()

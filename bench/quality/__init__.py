"""Quality benchmarks of SVG: a structured-attention suite and a tiny Wan-architecture video model.

Nothing here is imported by the node pack at run time.
"""

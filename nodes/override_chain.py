"""SVG's place on ComfyUI's attention hook (``transformer_options["optimized_attention_override"]``)
next to other nodes that install an override there.

Newer ComfyUI has two core nodes that do (comfy_extras/nodes_sparse_attention.py and
nodes_model_advanced.py, see tests/comfy/test_newest_conventions.py for the versions):

- "Model Sparse Attention" (``BlockSparseAttention``) chains whatever override was there and puts
  itself back on top at every step (from an ON_PREPARE_STATE callback): in any order it sees each
  attention call first, runs the ones it can sparse and passes the rest down the chain.
- "Model Attention Backend" (``ModelAttentionBackend``) replaces the override with one that calls
  its backend and chains nothing (``ModelPatcher.set_model_optimized_attention``).

SVG chains the override it finds when applied (its dense calls go there). At each model call it
looks at what is on the hook: SVG's own override (nothing to do); an override that still reaches
SVG's through its chain (another node applied later, or Model Sparse Attention's re-install: it
runs first, SVG gets what it passes on); or one that does not reach SVG at all (a later node
replaced the hook, e.g. Model Attention Backend): SVG then goes back on top for this call,
chaining that override for its dense calls. Each case is logged once per run.
"""
from __future__ import annotations

MARK = "svg_sparse_attention_override"   # attribute set on every override SVG makes
MAX_DEPTH = 6


def is_svg_override(fn) -> bool:
    return getattr(fn, MARK, False) is True


def describe(fn) -> str:
    """A readable name for an override: its module and qualified name."""
    target = getattr(fn, "__wrapped__", fn)
    module = getattr(target, "__module__", None) or type(target).__module__
    name = getattr(target, "__qualname__", None) or type(target).__qualname__
    return f"{module}.{name}"


def reaches_svg(fn, depth: int = 0, seen=None) -> bool:
    """Whether the override ``fn`` is SVG's or chains to SVG's: looked for in the closures (and
    ``functools.wraps``' ``__wrapped__``) of ``fn``, in the attributes of an override object (a
    ``previous`` it holds), and so on through what they hold, a few levels deep. Read-only."""
    if fn is None or depth > MAX_DEPTH:
        return False
    if is_svg_override(fn):
        return True
    seen = set() if seen is None else seen
    if id(fn) in seen:
        return False
    seen.add(id(fn))
    inner = [getattr(fn, "__wrapped__", None)]
    if not hasattr(fn, "__code__"):             # an override object: what it holds
        inner += list(getattr(fn, "__dict__", {}).values())
    for cell in getattr(fn, "__closure__", None) or ():
        try:
            inner.append(cell.cell_contents)
        except ValueError:      # an empty cell
            continue
    return any(callable(c) and reaches_svg(c, depth + 1, seen) for c in inner)

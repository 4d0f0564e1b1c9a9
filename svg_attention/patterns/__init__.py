"""Sparsity patterns by name: the protocol (base.py) and the registry.

    register(pattern, user_facing=False)
                               add a pattern object (``Pattern`` protocol); its ``name`` must be new;
                               ``user_facing``: offered by the node's ``pattern`` input
    get_pattern(name)          the registered pattern, ValueError naming the known ones otherwise
    pattern_names()            registered names, in registration order
    user_pattern_names()       the user-facing ones (the node's options), in registration order

Built in and user-facing: "svg" (svg.py), "svg2" (svg2.py). Other patterns (probes, tests) register
themselves where they are defined (a module imported before the config that names them is made,
e.g. bench/quality/pattern_probe.py); they run through SVGConfig / apply_svg, not the node's menu.
"""
from __future__ import annotations

from .base import AttendContext, Pattern, PatternDecision, PatternPlan
from .svg import BandPlan, SVGPattern, label_heads, plan_band
from .svg2 import SemanticPatternPlan, SVG2Pattern, SVG2RunState

_REGISTRY: dict = {}
_USER_FACING: list = []


def register(pattern, user_facing: bool = False) -> None:
    """Register ``pattern`` under ``pattern.name``; checks the protocol's members once, here."""
    problems = [f"no {member}" for member in ("name", "label_names", "ops", "plan", "new_run_state", "attend")
                if not hasattr(pattern, member)]
    name = getattr(pattern, "name", None)
    if not problems:
        if not isinstance(name, str) or not name:
            problems.append(f"name must be a non-empty string, got {name!r}")
        elif name in _REGISTRY:
            problems.append(f"a pattern named {name!r} is already registered")
        if not all(isinstance(label, str) for label in pattern.label_names) or len(pattern.label_names) > 127:
            problems.append(f"label_names must be at most 127 strings (labels are int8), got {pattern.label_names!r}")
        if not all(isinstance(op, str) for op in pattern.ops):
            problems.append(f"ops must be strings, got {pattern.ops!r}")
    if problems:
        raise ValueError(f"cannot register pattern {name!r}: " + "; ".join(problems))
    _REGISTRY[name] = pattern
    if user_facing:
        _USER_FACING.append(name)


def get_pattern(name: str):
    try:
        return _REGISTRY[name]
    except KeyError:
        raise ValueError(f"unknown sparsity pattern {name!r}; registered: {pattern_names()}") from None


def pattern_names() -> tuple:
    return tuple(_REGISTRY)


def user_pattern_names() -> tuple:
    return tuple(_USER_FACING)


register(SVGPattern(), user_facing=True)
register(SVG2Pattern(), user_facing=True)

__all__ = ["AttendContext", "BandPlan", "Pattern", "PatternDecision", "PatternPlan", "SVG2Pattern", "SVG2RunState",
           "SVGPattern", "SemanticPatternPlan", "get_pattern", "label_heads", "pattern_names", "plan_band",
           "register", "user_pattern_names"]

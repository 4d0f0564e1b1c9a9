"""Patch a model with SVG attention: what the node does, usable without the node (benchmarks, tests).
Imports ``comfy`` but not ``comfy_api``."""
from __future__ import annotations

import logging

import comfy.patcher_extension

from ..svg_attention import SVGConfig
from . import override_chain
from .model_layout import APPLY_MODEL_HOOK, adapter_for
from .patch import CALL_KEY, PATCH_KEY, SVGPatch, make_attention_override, model_call_wrapper, outer_sample_wrapper

log = logging.getLogger("svg_sparse_attention")


def apply_svg(model, config: SVGConfig):
    """A clone of ``model`` with SVG attention; the input model is not modified."""
    patched = model.clone()
    options = patched.model_options.setdefault("transformer_options", {})
    previous = options.get("optimized_attention_override")
    earlier = options.get(PATCH_KEY)
    if earlier is not None:
        log.info("[SVG] this model already had an SVG Sparse Attention patch: the new settings replace it")
        previous = earlier.previous_override
    wrappers = comfy.patcher_extension.WrappersMP
    for kind in (wrappers.OUTER_SAMPLE, wrappers.DIFFUSION_MODEL, wrappers.APPLY_MODEL):
        patched.remove_wrappers_with_key(kind, PATCH_KEY)
    adapter, reason = adapter_for(patched.get_model_object("diffusion_model"))
    if adapter is None:
        log.info(f"[SVG] this model stays dense: {reason}")
        reason = f"not a supported video model: {reason}"
    patch = options[PATCH_KEY] = SVGPatch(config, adapter, reason, previous)
    if earlier is not None:   # the earlier node's report shows this patch's runs, saying so
        earlier.reports.replaced_by.append(patch.reports)
    if previous is not None:
        log.info(f"[SVG] the attention override already on this model ({override_chain.describe(previous)}) "
                 f"stays in the chain: SVG's dense calls go to it")
    options["optimized_attention_override"] = make_attention_override(previous)
    _add_layout_patches(patched, options, adapter)
    patched.add_wrapper_with_key(wrappers.OUTER_SAMPLE, PATCH_KEY, outer_sample_wrapper)
    # models whose forward has no DIFFUSION_MODEL wrapper (Mochi) are read at apply_model
    hook = wrappers.APPLY_MODEL if getattr(adapter, "hook", None) == APPLY_MODEL_HOOK else wrappers.DIFFUSION_MODEL
    patched.add_wrapper_with_key(hook, PATCH_KEY, model_call_wrapper)
    return patched


def _add_layout_patches(patched, options, adapter):
    """The patches through which the adapter's model publishes layout metadata (HunyuanVideo
    0.19.3: img_slice to attn1 patches); an earlier SVG application's are removed first."""
    patches = options.get("patches", {})
    for name, fns in list(patches.items()):
        kept = [fn for fn in fns if not getattr(fn, "svg_published_slice", False)]
        if len(kept) != len(fns):
            patches[name] = kept
    for name, make in getattr(adapter, "layout_patches", ()):
        patched.set_model_patch(make(CALL_KEY), name)

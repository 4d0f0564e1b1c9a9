"""Hand-written model configs that follow the host's ComfyUI version (imports torch and comfy:
run it with a host's python, its ComfyUI tree importable).

Tests and scripts/make_tiny_models.py build tiny models from hand-written configs. Newer ComfyUI
adds required fields to the models' parameter dataclasses (0.19.3: ``HunyuanVideoParams.meanflow_sum``,
``FluxParams.txt_ids_dims``); real checkpoints get them from ComfyUI's model detection.
``complete_config`` does the same for a hand-written config: the fields this host's model class
requires and the config lacks are taken from what this host's own detection
(``comfy.model_detection.detect_unet_config``) gives for the weights of that very model, built
on the meta device (no memory, no time). A field detection does not give is an error naming it,
never a guess.
"""
from __future__ import annotations

import dataclasses
import re
import sys

import torch

MISSING = re.compile(r"^(\w+)\.__init__\(\) missing \d+ required (?:positional|keyword-only) arguments?: (.*)$")
PLACEHOLDERS = {bool: False, int: 0, float: 0.0, str: "", list: [], tuple: (), dict: {}}


def _missing_fields(error: TypeError):
    """(dataclass, [field names]) that ``error`` says a parameter dataclass's __init__ lacks,
    or None for any other TypeError."""
    match = MISSING.match(str(error))
    if not match:
        return None
    owner, names = match.group(1), re.findall(r"'(\w+)'", match.group(2))
    for name, module in list(sys.modules.items()):
        if not name.startswith("comfy.") or module is None:
            continue
        cls = getattr(module, owner, None)
        if isinstance(cls, type) and dataclasses.is_dataclass(cls):
            return cls, names
    return None


def _placeholder(cls, name):
    annotation = {f.name: f.type for f in dataclasses.fields(cls)}[name]
    kind = annotation if isinstance(annotation, type) else \
        {t.__name__: t for t in PLACEHOLDERS}.get(str(annotation).split("[")[0].split("|")[0].strip())
    if kind not in PLACEHOLDERS:
        return None
    return type(PLACEHOLDERS[kind])(PLACEHOLDERS[kind])


def _diffusion_model(built):
    return getattr(built, "diffusion_model", built)


def complete_config(build, config: dict) -> dict:
    """``config`` plus the fields this host's model requires and ``config`` lacks, valued as this
    host's detection gives them for the same weights. ``build(config)`` constructs the model
    (a diffusion model, or a BaseModel holding one as ``.diffusion_model``)."""
    import comfy.model_detection

    config = dict(config)
    added = {}
    for _ in range(8):                                 # one round per parameter dataclass at most
        try:
            with torch.device("meta"):
                build(dict(config))
            return config
        except TypeError as error:
            found = _missing_fields(error)
            if found is None:
                raise
            cls, names = found
        trial = dict(config, **{n: _placeholder(cls, n) for n in names})
        with torch.device("meta"):
            weights = _diffusion_model(build(trial)).state_dict()
        detected = comfy.model_detection.detect_unet_config(weights, "") or {}
        lacking = [n for n in names if n not in detected]
        if lacking:
            raise TypeError(f"{cls.__name__} needs {lacking}, which this ComfyUI's detection does not "
                            f"give for these weights: set them in the config")
        for name in names:
            config[name] = added[name] = detected[name]
    raise TypeError(f"config still incomplete after adding {added}")

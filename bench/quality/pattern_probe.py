"""Which change to SVG's patterns would lift the end-to-end quality of the tiny shapes model?
A probe, not a feature: in-process ComfyUI on the CPU, the same sampling as e2e_quality.py (euler,
simple, 20 steps, CFG 3, shift 3, 8 frames of 64 x 64), dense against the SVG node run with one of
these sparsity patterns (``SVGConfig.pattern``; the probe registers all but "svg"; the node's
wrappers, warm-up, dense leading block and band plan stay as they are):

- ``svg`` (pattern "svg"): the node's own pattern on the reference backend (must reproduce
  e2e_quality.py's numbers).
- ``oracle`` ("svg-oracle-rows"): each head's order chosen by its error on every video row instead of
  64 sampled ones (is the sampling the loss?).
- ``3way`` ("svg-3way"): a third candidate order for each head, position-major with the positions
  taken column by column (a temporal head's band then reaches vertical neighbours instead of
  horizontal ones): does a pattern for vertical motion help camera pans and fast objects?
- ``sink`` ("svg-sink"): both orders plus every key of frame 0 (the official Wan code's profiling
  sink). It keeps more than the band (frame 0 is 1/8 of this video): an upper bound, not the same
  budget; the run summary's density says how much it kept.

The probe patterns choose per head with dense N x N masks (video-only calls, Wan; probe only) on 64
rows drawn with seed 0 at every call (oracle: all rows), as the measurements in docs/quality.md.

    .host/venv/bin/python bench/quality/pattern_probe.py --prompts 3,0,6 --variants svg,oracle,3way,sink

Uses the host's ComfyUI tree (scripts/host.py setup) and models/svg_tiny_wan_shapes_t2v.safetensors.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import math
import sys
from dataclasses import replace
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
PACKAGE = "svg_pack"
GRID = 16          # the model's token grid per frame: 64 px / (2 px latent patch x 2 model patch)
PROBE_ROWS = 64


def import_pack():
    """The pack as the package ``svg_pack`` (as ComfyUI and the tests import it): needs only torch."""
    if PACKAGE not in sys.modules:
        spec = importlib.util.spec_from_file_location(PACKAGE, REPO / "__init__.py",
                                                      submodule_search_locations=[str(REPO)])
        module = importlib.util.module_from_spec(spec)
        sys.modules[PACKAGE] = module
        spec.loader.exec_module(module)


import_pack()
from svg_pack.svg_attention import FRAME_MAJOR, POSITION_MAJOR, SVGConfig, head_order, register  # noqa: E402
from svg_pack.svg_attention.patterns import PatternDecision, SVGPattern  # noqa: E402

COLUMN_MAJOR = 2   # the probe's third head order: positions column by column, then frames


def import_comfy(comfyui: Path):
    sys.path.insert(0, str(comfyui))
    argv, sys.argv = sys.argv, [sys.argv[0], "--cpu"]
    import comfy.options
    comfy.options.enable_args_parsing()
    import comfy.cli_args  # noqa: F401
    sys.argv = argv
    sys.path.insert(0, str(HERE))


def head_positions(layout, order: int) -> torch.Tensor:
    """Head-order index of each frame-major video token under ``order``: int64 [V]."""
    if order == COLUMN_MAJOR:   # (column, row, frame) order of a GRID x GRID frame
        tokens = torch.arange(layout.video_tokens).view(layout.num_frames, GRID, GRID).permute(2, 1, 0).reshape(-1)
    else:
        tokens = head_order(layout, order) - layout.video_start
    positions = torch.empty_like(tokens)
    positions[tokens] = torch.arange(tokens.numel())
    return positions


class ProbePattern(SVGPattern):
    """SVG's band plan; per (batch element, head) the candidate order whose dense-masked output is
    closest to exact on the probe rows, then dense-masked attention in that order."""

    ops = ()

    def __init__(self, name: str, orders: tuple, label_names: tuple, all_rows: bool = False, sink: bool = False):
        self.name, self.orders, self.label_names = name, orders, label_names
        self.all_rows, self.sink = all_rows, sink

    def plan(self, layout, config):
        return replace(super().plan(layout, config), profile_rows=0)   # the probe draws its own rows

    def keep(self, layout, width, block, order):
        u = head_positions(layout, order)
        mask = (u[:, None] // block - u[None, :] // block).abs() <= width
        if self.sink:
            mask[:, :layout.frame_tokens] = True
        return mask

    def attend(self, q, k, v, layout, plan, ctx):
        if layout.global_tokens:
            raise ValueError("the probe handles video-only calls (Wan)")
        batch, heads, tokens, dim = q.shape
        scale = 1 / math.sqrt(dim) if ctx.scale is None else ctx.scale
        masks = [self.keep(layout, plan.width, plan.block_size, order) for order in self.orders]
        sample = torch.arange(tokens) if self.all_rows else torch.randint(
            0, tokens, (PROBE_ROWS,), generator=torch.Generator().manual_seed(0))
        labels = torch.empty(batch, heads, dtype=torch.int8)
        head_density = torch.empty(batch, heads)
        for b in range(batch):
            for h in range(heads):
                scores = (q[b, h].float() @ k[b, h].float().T) * scale
                values = v[b, h].float()
                exact = torch.softmax(scores[sample], -1) @ values
                errors = [((torch.softmax(scores[sample].masked_fill(~m[sample], -math.inf), -1) @ values)
                           - exact).pow(2).mean() for m in masks]
                choice = int(torch.stack(errors).argmin())
                labels[b, h] = choice
                best = masks[choice]
                head_density[b, h] = best.float().mean()
                ctx.out[b, h] = (torch.softmax(scores.masked_fill(~best, -math.inf), -1) @ values).to(ctx.out.dtype)
        return PatternDecision(labels=labels, head_density=head_density, density=head_density.mean())


VARIANTS = {   # --variants name -> pattern name
    "svg": "svg",
    "oracle": "svg-oracle-rows",
    "3way": "svg-3way",
    "sink": "svg-sink",
}
for _pattern in (ProbePattern("svg-oracle-rows", (FRAME_MAJOR, POSITION_MAJOR), ("spatial", "temporal"), all_rows=True),
                 ProbePattern("svg-3way", (FRAME_MAJOR, POSITION_MAJOR, COLUMN_MAJOR),
                              ("spatial", "temporal", "temporal-columns")),
                 ProbePattern("svg-sink", (FRAME_MAJOR, POSITION_MAJOR), ("spatial", "temporal"), sink=True)):
    register(_pattern)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--comfyui", type=Path, default=REPO / ".host" / "comfyui")
    ap.add_argument("--model", type=Path, default=REPO / "models" / "svg_tiny_wan_shapes_t2v.safetensors")
    ap.add_argument("--prompts", default="3,0,6", help="prompt indices (video_data.PROMPTS)")
    ap.add_argument("--seeds", default="0")
    ap.add_argument("--variants", default="svg,oracle,3way,sink")
    ap.add_argument("--sparsity", type=float, default=0.75)
    ap.add_argument("--json", type=Path)
    a = ap.parse_args(argv)
    import_comfy(a.comfyui)
    import comfy.sample
    import comfy.sd
    from comfy_extras.nodes_model_advanced import ModelSamplingSD3
    import decode as decode_mod
    import metrics
    import video_data
    from svg_pack.nodes.apply import apply_svg

    torch.set_num_threads(2)
    model = ModelSamplingSD3().patch(comfy.sd.load_diffusion_model(str(a.model)), 3.0)[0]

    def sample(m, prompt, seed):
        latent = torch.zeros(1, 16, 8, 32, 32)
        positive = [[video_data.prompt_context(prompt)[None], {}]]
        negative = [[video_data.null_context()[None], {}]]
        out = comfy.sample.sample(m, comfy.sample.prepare_noise(latent, seed), 20, 3.0, "euler", "simple",
                                  positive, negative, latent, seed=seed, disable_pbar=True)
        return decode_mod.comfy_latent_to_frames(out)

    results = {}
    for prompt in (int(p) for p in a.prompts.split(",")):
        for seed in (int(s) for s in a.seeds.split(",")):
            dense = sample(model, prompt, seed)
            row = {}
            for variant in a.variants.split(","):
                config = SVGConfig(sparsity=a.sparsity, backend="reference", pattern=VARIANTS[variant])
                patched = apply_svg(model, config)
                video = sample(patched, prompt, seed)
                summary = patched.model_options["transformer_options"]["svg_sparse_attention"].reports.last.summary
                row[variant] = {"psnr": round(metrics.psnr(video, dense), 2),
                                "ssim": round(metrics.ssim(video, dense), 4), "density": round(summary["density"], 4)}
            results[f"{video_data.PROMPTS[prompt].text} / seed {seed}"] = row
            print(video_data.PROMPTS[prompt].text, seed, json.dumps(row), flush=True)
    if a.json:
        a.json.write_text(json.dumps({"sparsity": a.sparsity, "results": results}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

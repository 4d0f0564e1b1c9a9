"""Which change to SVG's patterns would lift the end-to-end quality of the tiny shapes model?
A probe, not a feature: in-process ComfyUI on the CPU, the same sampling as e2e_quality.py (euler,
simple, 20 steps, CFG 3, shift 3, 8 frames of 64 x 64), dense against the SVG node with one of
these attention variants put in place of the node's backend (the node's own wrappers, warm-up and
dense leading block stay as they are):

- ``svg``: the node's reference backend, unchanged (must reproduce e2e_quality.py's numbers).
- ``oracle``: profiling on every video row instead of 64 sampled ones (is the sampling the loss?).
- ``3way``: a third candidate order for each head, position-major with the positions taken column
  by column (a temporal head's band then reaches vertical neighbours instead of horizontal ones):
  does a pattern for vertical motion help camera pans and fast objects? (dense masks: probe only)
- ``sink``: both patterns plus every key of frame 0 (the official Wan code's profiling sink). It
  keeps more than the band (frame 0 is 1/8 of this video): an upper bound, not the same budget.

    .host/venv/bin/python bench/quality/pattern_probe.py --prompts 3,0,6 --variants svg,oracle,3way,sink

Uses the host's ComfyUI tree (scripts/host.py setup) and models/svg_tiny_wan_shapes_t2v.safetensors.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import math
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
PACKAGE = "svg_pack"
GRID = 16          # the model's token grid per frame: 64 px / (2 px latent patch x 2 model patch)


def import_everything(comfyui: Path):
    sys.path.insert(0, str(comfyui))
    argv, sys.argv = sys.argv, [sys.argv[0], "--cpu"]
    import comfy.options
    comfy.options.enable_args_parsing()
    import comfy.cli_args  # noqa: F401
    sys.argv = argv
    if PACKAGE not in sys.modules:
        spec = importlib.util.spec_from_file_location(PACKAGE, REPO / "__init__.py",
                                                      submodule_search_locations=[str(REPO)])
        module = importlib.util.module_from_spec(spec)
        sys.modules[PACKAGE] = module
        spec.loader.exec_module(module)
    sys.path.insert(0, str(HERE))


def order_index(index, num_frames, frame_tokens, order):
    """Head-order index of frame-major video indices: 0 frame-major, 1 position-major (raster),
    2 position-major with positions column by column."""
    frame, position = index // frame_tokens, index % frame_tokens
    if order == 0:
        return index
    if order == 2:
        position = (position % GRID) * GRID + position // GRID
    return position * num_frames + frame


def make_backend(variant, ref, torch):
    def keep(layout, width, block, rows, order):
        keys = torch.arange(layout.video_tokens)
        u_rows = order_index(rows, layout.num_frames, layout.frame_tokens, order)
        u_keys = order_index(keys, layout.num_frames, layout.frame_tokens, order)
        mask = (u_rows[:, None] // block - u_keys[None, :] // block).abs() <= width
        if variant == "sink":
            mask[:, :layout.frame_tokens] = True
        return mask

    def masked(q, k, v, layout, width, block, scale, out, choose_from):
        if layout.global_tokens:
            raise ValueError("the probe handles video-only calls (Wan)")
        batch, heads, tokens, dim = q.shape
        scale = 1 / math.sqrt(dim) if scale is None else scale
        rows = torch.arange(tokens)
        masks = [keep(layout, width, block, rows, order) for order in choose_from]
        sample = rows if variant == "oracle" else torch.randint(
            0, tokens, (64,), generator=torch.Generator().manual_seed(0))
        out = torch.empty_like(q) if out is None else out
        for b in range(batch):
            for h in range(heads):
                scores = (q[b, h].float() @ k[b, h].float().T) * scale
                values = v[b, h].float()
                exact = torch.softmax(scores[sample], -1) @ values
                errors = [((torch.softmax(scores[sample].masked_fill(~m[sample], -math.inf), -1) @ values)
                           - exact).pow(2).mean() for m in masks]
                best = masks[int(torch.stack(errors).argmin())]
                out[b, h] = (torch.softmax(scores.masked_fill(~best, -math.inf), -1) @ values).to(out.dtype)
        return out

    if variant == "svg":
        return ref.profile_reference, ref.band_attention_reference

    def profile(q, k, v, layout, width, block, rows, key_bias=None, scale=None):
        return torch.zeros(q.shape[0], q.shape[1], 2)      # labels are chosen in band() below

    def band(q, k, v, layout, width, block, temporal, key_bias=None, scale=None, out=None):
        return masked(q, k, v, layout, width, block, scale, out, (0, 1, 2) if variant == "3way" else (0, 1))

    return profile, band


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
    import_everything(a.comfyui)
    import torch
    import comfy.sample
    import comfy.sd
    from comfy_extras.nodes_model_advanced import ModelSamplingSD3
    import decode as decode_mod
    import metrics
    import video_data
    from svg_pack.nodes import patch as patch_module
    from svg_pack.nodes.apply import apply_svg
    from svg_pack.svg_attention import SVGConfig
    from svg_pack.svg_attention import reference as ref
    from svg_pack.svg_attention.attention import Backend

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
                profile, band = make_backend(variant, ref, torch)
                backend = Backend(f"probe-{variant}", profile, band, ref.global_rows_dense)
                # the experiment's seam: the node asks this resolver for its backend
                patch_module.resolve_backend = lambda *args, _b=backend: (_b, "pattern probe")
                video = sample(apply_svg(model, SVGConfig(sparsity=a.sparsity, backend="reference")), prompt, seed)
                row[variant] = {"psnr": round(metrics.psnr(video, dense), 2), "ssim": round(metrics.ssim(video, dense), 4)}
            results[f"{video_data.PROMPTS[prompt].text} / seed {seed}"] = row
            print(video_data.PROMPTS[prompt].text, seed, json.dumps(row), flush=True)
    if a.json:
        a.json.write_text(json.dumps({"sparsity": a.sparsity, "results": results}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

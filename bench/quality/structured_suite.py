"""Structured-attention suite: does SVG's profiling pick the right pattern, and what does it cost?

Synthetic attention heads are built from the 3D position (frame, row, col) of every video token, so
that the kind of each head is known by construction:

- ``spatial``:  attends its own frame and the nearest ones (Gaussian in frame distance, optionally
                 a wide Gaussian in space);
- ``temporal``: attends the same spatial position across all frames (sharp Gaussian in space, flat
                 or very wide in time);
- ``mixed``:    a local 3D neighbourhood (moderate Gaussians in time and space): neither pattern
                 alone covers it;
- ``noisy``:    random queries and keys: no structure for either pattern.

How a head is made: for an axis ``x`` with width ``sigma`` (``a = 1 / (2 sigma^2)``) the query gets
the features ``[2 a x_i, a]`` and the key ``[x_j, -x_j^2]``, so ``q_i . k_j = -a (x_i - x_j)^2 + a
x_i^2``: the second term is the same for every key of a query, so softmax sees the Gaussian
``exp(-(x_i - x_j)^2 / (2 sigma^2))``. Frames, rows and columns are centred. The rest of the head
dimension carries random "content" features whose dot products have standard deviation
``content`` (added to the scores), and the values are standard normal. Scores use scale 1 (the
structure is in the features), for the dense reference and for every method alike.

Three methods at the same budget (``svg_attention.plan_band``: band half-width ``w`` blocks), and
with ``--fp8`` a fourth:

- ``svg``:    ``profile_reference`` on ``sampled_rows`` rows drawn uniformly over the video, argmin
              per head (``label_heads``), then the band in each head's own order
              (``band_attention_reference``): SVG as the node runs it;
- ``static``: the same band in frame-major order for every head (no profiling, no permutation);
- ``random``: for every head and query block, the same number of key blocks as the band keeps for
              that query block, chosen uniformly at random (the query's own block always kept);
- ``svg-fp8``: ``svg``'s labels and band through the FP8 (e4m3) kernel's exact quantisation
              (``kernels.fp8_emulation``, the GPU kernel's default 128 x 128 tiles); ``svg-fp8-pv``:
              the same with only P and V in e4m3 (precision "fp8-pv": exact scores).

Metrics per head, over all video rows, against dense attention (float32): relative L2 error
``||o - o_dense|| / ||o_dense||`` and cosine similarity of the flattened outputs; for the pure kinds
the labelling accuracy of SVG's profiler (over several row-sampling seeds).

Full table (docs/quality.md), from the repository root:

    python -m bench.quality.structured_suite --frames 21 --rows 30 --cols 52 --threads 1 --json out/suite.json

SVG2 against SVG and the static band (``--svg2``; :func:`compare_svg2`): two more head kinds that
neither fixed pattern covers, built the same way,

- ``motion``:  a temporal head in co-moving coordinates: the query attends to the position shifted
               by ``velocity`` (rows, cols per frame) times the frame distance, as content does under
               a camera pan;
- ``object``:  ``objects`` discs move across the frames; a token attends to the tokens of its own
               object (or of the background) in every frame (random object embeddings in the
               content dimensions),

and SVG2 at the band's kept fraction (budget selection, ``svg_attention.semantic_settings``
defaults, plain-torch reference) next to ``svg`` and ``static``.

    python -m bench.quality.structured_suite --svg2 --frames 8 --rows 16 --cols 24 --threads 1

Memory stays O(N x block) per head except the dense reference, which works on query chunks.
"""
from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

try:  # imported as part of the pack (tests: svg_pack.bench.quality.structured_suite)
    from ...kernels.fp8_emulation import fp8_band_attention_emulation
    from ...svg_attention import (VideoLayout, band_attention_reference, label_heads, plan_band,
                                  profile_reference, sample_rows)
    from ...svg_attention import clustering, semantic, semantic_settings
except ImportError:  # run as a script or as ``python -m bench.quality.structured_suite``
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    from kernels.fp8_emulation import fp8_band_attention_emulation
    from svg_attention import (VideoLayout, band_attention_reference, label_heads, plan_band,
                               profile_reference, sample_rows)
    from svg_attention import clustering, semantic, semantic_settings

KINDS = ("spatial", "temporal", "mixed", "noisy")
PURE_KINDS = ("spatial", "temporal")
MOTION_KINDS = ("motion", "object")
OBJECT_DIMS = 8     # content dimensions that carry the object embedding of an object head
METHODS = ("svg", "static", "random")
POSITION_DIMS = 6   # frame (2) + row (2) + col (2)


@dataclass(frozen=True)
class HeadSpec:
    """One synthetic head. ``None`` as a width: no decay along that axis."""

    kind: str
    frame_sigma: float | None
    space_sigma: float | None
    content: float          # std of the random content term of the scores
    velocity: tuple = (0.0, 0.0)   # (rows, cols) per frame: space widths apply in co-moving coordinates
    objects: int = 0               # > 0: an object head with this many moving discs
    object_strength: float = 8.0   # score between two tokens of the same object


def default_heads(per_kind: int = 2) -> list[HeadSpec]:
    """``per_kind`` heads of each kind, cycling through the variants below."""
    variants = {
        "spatial": [HeadSpec("spatial", 0.6, None, 1.0), HeadSpec("spatial", 1.5, 8.0, 1.0),
                    HeadSpec("spatial", 0.8, 12.0, 0.5)],
        "temporal": [HeadSpec("temporal", None, 0.5, 1.0), HeadSpec("temporal", 10.0, 2.0, 1.0),
                     HeadSpec("temporal", 12.0, 0.7, 0.5)],
        "mixed": [HeadSpec("mixed", 1.0, 1.5, 1.0), HeadSpec("mixed", 2.0, 3.0, 1.0),
                  HeadSpec("mixed", 1.5, 1.0, 0.5)],
        "noisy": [HeadSpec("noisy", None, None, 2.5), HeadSpec("noisy", None, None, 1.5),
                  HeadSpec("noisy", None, None, 4.0)],
    }
    return [variants[kind][i % len(variants[kind])] for kind in KINDS for i in range(per_kind)]


def motion_heads(per_kind: int = 2) -> list[HeadSpec]:
    """``per_kind`` heads of each motion kind (pan-like motion, moving objects)."""
    variants = {
        "motion": [HeadSpec("motion", 12.0, 0.7, 1.0, velocity=(0.0, 2.5)),    # a horizontal pan
                   HeadSpec("motion", 6.0, 1.0, 1.0, velocity=(1.0, 1.0))],    # a diagonal one
        "object": [HeadSpec("object", None, None, 0.5, objects=3),
                   HeadSpec("object", 4.0, 8.0, 0.5, objects=2)],
    }
    return [variants[kind][i % len(variants[kind])] for kind in MOTION_KINDS for i in range(per_kind)]


def object_labels(frames: int, rows: int, cols: int, objects: int, gen: torch.Generator) -> torch.Tensor:
    """Object of every frame-major token (0 = background): ``objects`` discs of radius a fifth of
    the smaller side, moving at up to one cell per frame, bouncing off the edges. int64 [N]."""
    f, r, c = torch.meshgrid(torch.arange(frames), torch.arange(rows), torch.arange(cols), indexing="ij")
    label = torch.zeros(frames, rows, cols, dtype=torch.int64)
    radius = 0.2 * min(rows, cols)
    for j in range(objects):
        start = torch.rand(2, generator=gen, dtype=torch.float64) * torch.tensor([rows - 1.0, cols - 1.0])
        speed = (torch.rand(2, generator=gen, dtype=torch.float64) * 2 - 1)
        for t in range(frames):
            centre = start + speed * t
            for axis, size in ((0, rows - 1.0), (1, cols - 1.0)):   # bounce off the edges
                x = centre[axis] % (2 * size) if size > 0 else 0.0
                centre[axis] = 2 * size - x if x > size else x
            inside = (r[t] - centre[0]) ** 2 + (c[t] - centre[1]) ** 2 <= radius ** 2
            label[t][inside & (label[t] == 0)] = j + 1
    return label.reshape(-1)


def token_coordinates(frames: int, rows: int, cols: int) -> torch.Tensor:
    """Centred (frame, row, col) of every frame-major video token: float64 [N, 3]."""
    f, r, c = torch.meshgrid(torch.arange(frames), torch.arange(rows), torch.arange(cols), indexing="ij")
    coords = torch.stack([f, r, c], dim=-1).reshape(-1, 3).double()
    return coords - coords.mean(dim=0)


def _axis_features(x: torch.Tensor, sigma: float | None):
    if sigma is None:
        zero = torch.zeros(x.shape[0], 2, dtype=torch.float64)
        return zero, zero
    a = 1.0 / (2.0 * sigma * sigma)
    q = torch.stack([2.0 * a * x, torch.full_like(x, a)], dim=-1)
    k = torch.stack([x, -x * x], dim=-1)
    return q, k


def build_qkv(frames: int, rows: int, cols: int, heads: list[HeadSpec], head_dim: int = 64,
              seed: int = 0):
    """q, k, v float32 [1, H, N, D] of the synthetic heads (frame-major tokens, no text)."""
    if head_dim <= POSITION_DIMS:
        raise ValueError(f"head_dim must exceed {POSITION_DIMS}")
    coords = token_coordinates(frames, rows, cols)
    tokens = coords.shape[0]
    gen = torch.Generator().manual_seed(seed)
    content_dims = head_dim - POSITION_DIMS
    qs, ks, vs = [], [], []
    for spec in heads:
        if spec.kind not in KINDS + MOTION_KINDS:
            raise ValueError(f"unknown head kind {spec.kind!r}")
        vr, vc = spec.velocity
        qf, kf = _axis_features(coords[:, 0], spec.frame_sigma)
        qr, kr = _axis_features(coords[:, 1] - vr * coords[:, 0], spec.space_sigma)
        qc, kc = _axis_features(coords[:, 2] - vc * coords[:, 0], spec.space_sigma)
        # content: q_c . k_c has std ``content`` (sum of content_dims products of N(0, s^2))
        s = math.sqrt(spec.content) / content_dims ** 0.25
        qn = torch.randn(tokens, content_dims, generator=gen, dtype=torch.float64) * s
        kn = torch.randn(tokens, content_dims, generator=gen, dtype=torch.float64) * s
        if spec.objects:
            label = object_labels(frames, rows, cols, spec.objects, gen)
            embed = torch.nn.functional.normalize(
                torch.randn(spec.objects + 1, OBJECT_DIMS, generator=gen, dtype=torch.float64), dim=-1)
            strength = torch.full((spec.objects + 1, 1), math.sqrt(spec.object_strength), dtype=torch.float64)
            strength[0] /= math.sqrt(2.0)                 # the background holds together more loosely
            qn[:, :OBJECT_DIMS] = (embed * strength)[label]
            kn[:, :OBJECT_DIMS] = (embed * strength)[label]
        qs.append(torch.cat([qf, qr, qc, qn], dim=-1))
        ks.append(torch.cat([kf, kr, kc, kn], dim=-1))
        vs.append(torch.randn(tokens, head_dim, generator=gen, dtype=torch.float64))
    return tuple(torch.stack(t)[None].float().contiguous() for t in (qs, ks, vs))


def dense_attention(q, k, v, scale: float = 1.0, chunk: int = 2048) -> torch.Tensor:
    """Exact softmax attention, one head and ``chunk`` query rows at a time: [B, H, N, D]."""
    out = torch.empty_like(q)
    for b in range(q.shape[0]):
        for h in range(q.shape[1]):
            kt = k[b, h].transpose(0, 1)
            for r0 in range(0, q.shape[2], chunk):
                scores = torch.matmul(q[b, h, r0:r0 + chunk], kt) * scale
                out[b, h, r0:r0 + chunk] = torch.matmul(torch.softmax(scores, dim=-1), v[b, h])
    return out


def band_block_counts(num_blocks: int, width: int) -> list[int]:
    """Key blocks the band keeps for each query block."""
    return [min(num_blocks - 1, i + width) - max(0, i - width) + 1 for i in range(num_blocks)]


def random_block_attention(q, k, v, width: int, block_size: int, seed: int = 0,
                           scale: float = 1.0) -> torch.Tensor:
    """Block-sparse attention with random key blocks: per (head, query block) as many key blocks as
    the band of ``width`` keeps there, the query's own block included, the others uniform without
    replacement. Frame-major tokens, no globals. Returns [B, H, N, D]."""
    batch, heads, tokens, head_dim = q.shape
    num_blocks = -(-tokens // block_size)
    pad = num_blocks * block_size - tokens
    gen = torch.Generator().manual_seed(seed)
    out = torch.empty_like(q)
    head_ids = torch.arange(heads)[:, None]
    valid = torch.arange(num_blocks * block_size).view(num_blocks, block_size) < tokens
    for b in range(batch):
        # key / value blocks [H, num_blocks, block, D] (the ragged last block zero-padded, masked)
        kb = torch.nn.functional.pad(k[b], (0, 0, 0, pad)).view(heads, num_blocks, block_size, head_dim)
        vb = torch.nn.functional.pad(v[b], (0, 0, 0, pad)).view(heads, num_blocks, block_size, head_dim)
        for i, count in enumerate(band_block_counts(num_blocks, width)):
            r0, r1 = i * block_size, min(tokens, (i + 1) * block_size)
            draw = torch.rand(heads, num_blocks, generator=gen)
            draw[:, i] = -1.0                                   # own block first
            chosen = draw.topk(count, dim=1, largest=False).indices          # [H, count]
            keys = kb[head_ids, chosen].reshape(heads, -1, head_dim)
            values = vb[head_ids, chosen].reshape(heads, -1, head_dim)
            keep = valid[chosen].reshape(heads, 1, -1)
            scores = torch.matmul(q[b, :, r0:r1], keys.transpose(1, 2)) * scale
            scores = scores.masked_fill(~keep, float("-inf"))
            out[b, :, r0:r1] = torch.matmul(torch.softmax(scores, dim=-1), values)
    return out


def output_errors(approx: torch.Tensor, exact: torch.Tensor):
    """Per head (batch 0): relative L2 error and cosine similarity of the flattened outputs."""
    a = approx[0].flatten(1).double()
    e = exact[0].flatten(1).double()
    rel = (a - e).norm(dim=1) / e.norm(dim=1)
    cos = torch.nn.functional.cosine_similarity(a, e, dim=1)
    return rel.tolist(), cos.tolist()


def run_suite(frames: int, rows: int, cols: int, sparsities=(0.5, 0.75, 0.9), heads=None,
              head_dim: int = 64, block_size: int = 128, sampled_rows: int = 64, seed: int = 0,
              profile_seeds: int = 3, log=None, fp8: bool = False) -> dict:
    """Build the heads, run the three methods at each sparsity, return the per-head results."""
    heads = list(heads) if heads is not None else default_heads()
    say = log or (lambda *_: None)
    layout = VideoLayout(frames, rows * cols)
    started = time.perf_counter()
    q, k, v = build_qkv(frames, rows, cols, heads, head_dim, seed)
    exact = dense_attention(q, k, v)
    say(f"dense: {time.perf_counter() - started:.1f}s")
    result = {
        "frames": frames, "rows": rows, "cols": cols, "tokens": layout.video_tokens,
        "head_dim": head_dim, "block_size": block_size, "sampled_rows": sampled_rows, "seed": seed,
        "profile_seeds": profile_seeds, "heads": [asdict(h) for h in heads], "runs": [],
    }
    for sparsity in sparsities:
        t0 = time.perf_counter()
        plan = plan_band(layout, sparsity, block_size)
        labels = []
        for ps in range(profile_seeds):
            gen = torch.Generator().manual_seed(seed * 1000 + ps)
            sample = sample_rows(layout.video_tokens, sampled_rows, gen, "cpu")
            err = profile_reference(q, k, v, layout, plan.width, block_size, sample, scale=1.0)
            labels.append(label_heads(err)[0])
        temporal = labels[0][None]
        outputs = {
            "svg": band_attention_reference(q, k, v, layout, plan.width, block_size, temporal, scale=1.0),
            "static": band_attention_reference(q, k, v, layout, plan.width, block_size,
                                               torch.zeros_like(temporal), scale=1.0),
            "random": random_block_attention(q, k, v, plan.width, block_size, seed=seed + 17, scale=1.0),
        }
        if fp8:
            tile = min(128, block_size)
            for name, qk8 in (("svg-fp8", True), ("svg-fp8-pv", False)):
                outputs[name] = fp8_band_attention_emulation(
                    q, k, v, temporal, video_start=0, num_frames=frames, frame_tokens=rows * cols,
                    band_width=plan.width, block_size=block_size, scale=1.0, tile_m=tile, tile_n=tile, qk8=qk8)
        run = {"sparsity": sparsity, "width": plan.width, "density": plan.density,
               "temporal_votes": torch.stack(labels).float().mean(0).tolist(), "methods": {}}
        for name, out in outputs.items():
            rel, cos = output_errors(out, exact)
            run["methods"][name] = {"rel_l2": rel, "cos": cos}
        result["runs"].append(run)
        say(f"sparsity {sparsity}: width {plan.width}, density {plan.density:.3f}, "
            f"{time.perf_counter() - t0:.1f}s")
    result["seconds"] = time.perf_counter() - started
    return result


def label_accuracy(result: dict, kind: str, run: dict) -> float:
    """Fraction of (head, profiling seed) of a pure kind that SVG labels as that kind."""
    votes = [run["temporal_votes"][i] for i, h in enumerate(result["heads"]) if h["kind"] == kind]
    hit = [x if kind == "temporal" else 1.0 - x for x in votes]
    return sum(hit) / len(hit)


def summarize(result: dict) -> list[dict]:
    """One row per (sparsity, kind): mean rel L2 / cosine per method, labelling."""
    rows = []
    for run in result["runs"]:
        for kind in KINDS:
            ids = [i for i, h in enumerate(result["heads"]) if h["kind"] == kind]
            if not ids:
                continue
            row = {"sparsity": run["sparsity"], "density": run["density"], "width": run["width"],
                   "kind": kind, "heads": len(ids),
                   "temporal_share": sum(run["temporal_votes"][i] for i in ids) / len(ids)}
            for m, vals in run["methods"].items():
                row[f"{m}_rel_l2"] = sum(vals["rel_l2"][i] for i in ids) / len(ids)
                row[f"{m}_cos"] = sum(vals["cos"][i] for i in ids) / len(ids)
                row[f"{m}_rel_l2_max"] = max(vals["rel_l2"][i] for i in ids)
            if kind in PURE_KINDS:
                row["label_accuracy"] = label_accuracy(result, kind, run)
            rows.append(row)
    return rows


def markdown_table(result: dict) -> str:
    fp8 = any("svg-fp8" in run["methods"] for run in result["runs"])
    lines = [
        "| sparsity | density | width (blocks) | head kind | SVG rel L2 | static rel L2 | random rel L2 "
        "| SVG cos | static cos | random cos | SVG labels |"
        + (" SVG FP8 rel L2 | SVG FP8 cos | SVG FP8-PV rel L2 | SVG FP8-PV cos |" if fp8 else ""),
        "|---|---|---|---|---|---|---|---|---|---|---|" + ("---|---|---|---|" if fp8 else ""),
    ]
    for r in summarize(result):
        if r["kind"] in PURE_KINDS:
            lab = f"{100 * r['label_accuracy']:.0f}% correct"
        else:
            lab = f"{100 * r['temporal_share']:.0f}% temporal"
        lines.append(
            f"| {r['sparsity']} | {r['density']:.3f} | {r['width']} | {r['kind']} ({r['heads']}) "
            f"| {r['svg_rel_l2']:.3f} | {r['static_rel_l2']:.3f} | {r['random_rel_l2']:.3f} "
            f"| {r['svg_cos']:.4f} | {r['static_cos']:.4f} | {r['random_cos']:.4f} | {lab} |"
            + (f" {r['svg-fp8_rel_l2']:.3f} | {r['svg-fp8_cos']:.4f} | {r['svg-fp8-pv_rel_l2']:.3f} "
               f"| {r['svg-fp8-pv_cos']:.4f} |" if fp8 else ""))
    return "\n".join(lines)


def svg2_attention_reference(q, k, v, layout: VideoLayout, density: float, settings=None, scale: float = 1.0):
    """SVG2 as the pattern runs it, plain torch: k-means of q and k (a full clustering), the budget
    selection at ``density``, the attention on the cluster-permuted layout. (output, achieved density [B, H])."""
    settings = settings or semantic_settings.SemanticSettings()
    plan = semantic_settings.plan_semantic(layout, density, settings)
    start, video = layout.video_start, layout.video_tokens
    qc = clustering.kmeans(q[:, :, start:start + video], plan.query_clusters, settings.full_iterations)
    kc = clustering.kmeans(k[:, :, start:start + video], plan.key_clusters, settings.full_iterations)
    keep = semantic.select_pairs(qc, kc, scale, layout, settings, density, keys=k[:, :, start:start + video])
    out = semantic.semantic_attention_reference(q, k, v, layout, qc, kc, keep, scale=scale)
    return out, semantic.call_density(semantic.kept_video_pairs(keep, qc.sizes, kc.sizes), layout)


def compare_svg2(frames: int, rows: int, cols: int, sparsities=(0.75,), heads=None, head_dim: int = 64,
                 block_size: int = 128, sampled_rows: int = 64, seed: int = 0, settings=None, log=None) -> dict:
    """SVG2 against SVG and the static band at the band's kept fraction, per head: rel L2 and cosine
    against dense (scale 1, all methods). Heads: the motion kinds and the default ones."""
    heads = list(heads) if heads is not None else motion_heads() + default_heads(1)
    say = log or (lambda *_: None)
    layout = VideoLayout(frames, rows * cols)
    started = time.perf_counter()
    q, k, v = build_qkv(frames, rows, cols, heads, head_dim, seed)
    exact = dense_attention(q, k, v)
    result = {"frames": frames, "rows": rows, "cols": cols, "tokens": layout.video_tokens, "head_dim": head_dim,
              "block_size": block_size, "seed": seed, "heads": [asdict(h) for h in heads], "runs": []}
    for sparsity in sparsities:
        t0 = time.perf_counter()
        plan = plan_band(layout, sparsity, block_size)
        sample = sample_rows(layout.video_tokens, sampled_rows, torch.Generator().manual_seed(seed), "cpu")
        temporal = label_heads(profile_reference(q, k, v, layout, plan.width, block_size, sample, scale=1.0))
        svg2_out, svg2_density = svg2_attention_reference(q, k, v, layout, plan.density, settings)
        outputs = {
            "svg": band_attention_reference(q, k, v, layout, plan.width, block_size, temporal, scale=1.0),
            "static": band_attention_reference(q, k, v, layout, plan.width, block_size,
                                               torch.zeros_like(temporal), scale=1.0),
            "svg2": svg2_out,
        }
        run = {"sparsity": sparsity, "width": plan.width, "density": plan.density,
               "svg2_density": svg2_density[0].tolist(), "methods": {}}
        for name, out in outputs.items():
            rel, cos = output_errors(out, exact)
            run["methods"][name] = {"rel_l2": rel, "cos": cos}
        result["runs"].append(run)
        say(f"sparsity {sparsity}: band density {plan.density:.3f}, SVG2 {svg2_density.mean():.3f}, "
            f"{time.perf_counter() - t0:.1f}s")
    result["seconds"] = time.perf_counter() - started
    return result


def svg2_summary(result: dict) -> list[dict]:
    """One row per (sparsity, kind): mean rel L2 / cosine of svg, static, svg2."""
    rows = []
    kinds = []
    for h in result["heads"]:
        if h["kind"] not in kinds:
            kinds.append(h["kind"])
    for run in result["runs"]:
        for kind in kinds:
            ids = [i for i, h in enumerate(result["heads"]) if h["kind"] == kind]
            row = {"sparsity": run["sparsity"], "density": run["density"], "kind": kind, "heads": len(ids),
                   "svg2_density": sum(run["svg2_density"][i] for i in ids) / len(ids)}
            for m, vals in run["methods"].items():
                row[f"{m}_rel_l2"] = sum(vals["rel_l2"][i] for i in ids) / len(ids)
                row[f"{m}_cos"] = sum(vals["cos"][i] for i in ids) / len(ids)
            rows.append(row)
    return rows


def svg2_table(result: dict) -> str:
    lines = ["| sparsity | density band / SVG2 | head kind | SVG rel L2 | static rel L2 | SVG2 rel L2 "
             "| SVG cos | static cos | SVG2 cos |", "|---|---|---|---|---|---|---|---|---|"]
    for r in svg2_summary(result):
        lines.append(f"| {r['sparsity']} | {r['density']:.3f} / {r['svg2_density']:.3f} | {r['kind']} ({r['heads']}) "
                     f"| {r['svg_rel_l2']:.3f} | {r['static_rel_l2']:.3f} | {r['svg2_rel_l2']:.3f} "
                     f"| {r['svg_cos']:.4f} | {r['static_cos']:.4f} | {r['svg2_cos']:.4f} |")
    return "\n".join(lines)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--frames", type=int, default=21)
    ap.add_argument("--rows", type=int, default=30)
    ap.add_argument("--cols", type=int, default=52)
    ap.add_argument("--sparsities", type=float, nargs="+", default=[0.5, 0.75, 0.9])
    ap.add_argument("--per-kind", type=int, default=2, help="heads of each kind")
    ap.add_argument("--head-dim", type=int, default=64)
    ap.add_argument("--block-size", type=int, default=128)
    ap.add_argument("--sampled-rows", type=int, default=64)
    ap.add_argument("--profile-seeds", type=int, default=3)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    ap.add_argument("--json", type=Path, help="write the per-head results here")
    ap.add_argument("--svg2", action="store_true", help="SVG2 vs SVG vs static band on motion / object heads")
    ap.add_argument("--fp8", action="store_true", help="also SVG through the FP8 kernel's quantisation (emulated)")
    a = ap.parse_args(argv)
    if a.threads:
        torch.set_num_threads(a.threads)
    if a.svg2:
        result = compare_svg2(a.frames, a.rows, a.cols, a.sparsities, motion_heads(a.per_kind) + default_heads(1),
                              a.head_dim, a.block_size, a.sampled_rows, a.seed,
                              log=lambda s: print(s, file=sys.stderr, flush=True))
        print(f"{a.frames} frames x {a.rows} x {a.cols} = {result['tokens']} tokens, head_dim {a.head_dim}, "
              f"{len(result['heads'])} heads, {result['seconds']:.0f}s")
        print(svg2_table(result))
        if a.json:
            a.json.parent.mkdir(parents=True, exist_ok=True)
            a.json.write_text(json.dumps(result, indent=1))
        return 0
    result = run_suite(a.frames, a.rows, a.cols, a.sparsities, default_heads(a.per_kind), a.head_dim,
                       a.block_size, a.sampled_rows, a.seed, a.profile_seeds,
                       log=lambda s: print(s, file=sys.stderr, flush=True), fp8=a.fp8)
    result["machine"] = {"python": platform.python_version(), "torch": torch.__version__,
                         "cpu": platform.processor() or platform.machine(),
                         "threads": torch.get_num_threads()}
    print(f"{a.frames} frames x {a.rows} x {a.cols} = {result['tokens']} tokens, head_dim {a.head_dim}, "
          f"{len(result['heads'])} heads, {a.sampled_rows} sampled rows, {result['seconds']:.0f}s")
    print(markdown_table(result))
    if a.json:
        a.json.parent.mkdir(parents=True, exist_ok=True)
        a.json.write_text(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())

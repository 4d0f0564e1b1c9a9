"""Record what SVG computes on the reference backend, to show that a refactor changes no bit.

    python tests/bitwise_svg.py record before.pt [--comfyui .host/comfyui]
    ... change the code ...
    python tests/bitwise_svg.py record after.pt [--comfyui .host/comfyui]
    python tests/bitwise_svg.py compare before.pt after.pt      # torch.equal on every tensor

What is recorded (outputs of one machine and torch build; the files stay outside the repository):

* ``attention/<case>``: one SVG attention call on the reference backend (plan, profiled labels,
  output) for layouts with text after the video and a key bias, a prefix (reference image / text
  before the video), both, batch 2, a ragged last block, fp32 / fp16 / bf16, ComfyUI-style strided
  [B, N, H*D] views written into a strided ``out``;
* ``node/<case>`` (with ``--comfyui``): a tiny random-weight Wan 2.1 T2V (batch 2, CFG), a
  HunyuanVideo (text padding mask) and a Wan with a reference-image prefix, built with ComfyUI's
  classes (tests/comfy/conftest.py), sampled through ``comfy.sample.sample`` with the node on the
  reference backend: the latent, the labels of every sparse call and the run summary.

Labels are stored as int8 (0 spatial, 1 temporal) whatever type the code returns.
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path

import torch

REPO = Path(__file__).resolve().parents[1]

# (name, layout (F, P, prefix, suffix), batch, heads, head_dim, dtype, sparsity, block_size, bias, rows)
ATTENTION_CASES = [
    ("video_only_ragged", (5, 37, 0, 0), 2, 3, 16, torch.float32, 0.75, 16, None, 24),
    ("text_after_bias", (4, 40, 0, 13), 2, 2, 32, torch.float32, 0.6, 16, "batch", 32),
    ("prefix_fp16", (6, 24, 16, 0), 2, 2, 64, torch.float16, 0.75, 16, None, 16),
    ("both_bf16_bias1", (3, 45, 7, 9), 1, 4, 32, torch.bfloat16, 0.5, 16, "one", 64),
    ("block32_sparse", (8, 30, 0, 5), 2, 2, 16, torch.float32, 0.9, 32, "batch", 400),
]


def load(relative: str):
    """A module of this repository's tests by path (tests/conftest.py loads the pack as ``svg_pack``;
    tests/comfy/ holds the in-process ComfyUI host and the tiny model configs)."""
    path = REPO / relative
    spec = importlib.util.spec_from_file_location("svg_bitwise_" + path.stem, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# ---- the two places that speak the API under test
def svg_call(layout, q, k, v, sparsity, block_size, rows, key_bias, out):
    """One SVG attention call on the reference backend: (plan numbers, labels, out)."""
    from svg_pack.svg_attention import plan_band, reference_backend, sparse_attention
    plan = plan_band(layout, sparsity, block_size)
    out, decision = sparse_attention(q, k, v, layout, plan, pattern="svg", backend=reference_backend, rows=rows,
                                     key_bias=key_bias, out=out)
    return (plan.width, plan.density), decision.labels, out


def node_records(report):
    """The labels of a RunReport's records, one int8 tensor per sparse call, in call order."""
    return [record[2].to(torch.int8) for record in report.records if record[2] is not None]


# ---- recording
def attention_results() -> dict:
    from svg_pack.svg_attention import VideoLayout, sample_rows
    results = {}
    for name, dims, batch, heads, dim, dtype, sparsity, block, bias, count in ATTENTION_CASES:
        layout = VideoLayout(*dims)
        n = layout.total_tokens
        g = torch.Generator().manual_seed(len(results) + 1)
        flat = [torch.randn(batch, n, heads * dim, generator=g).to(dtype) for _ in range(3)]
        q, k, v = (t.view(batch, n, heads, dim).transpose(1, 2) for t in flat)    # ComfyUI's [B, N, H*D]
        key_bias = None
        if bias is not None:
            key_bias = torch.zeros(batch if bias == "batch" else 1, n)
            key_bias[-1, n - 3:] = -1e9 if layout.suffix_tokens else 0.0            # padded text keys
            key_bias[0, :min(2, layout.prefix_tokens)] = -0.5
        rows = sample_rows(layout.video_tokens, count, torch.Generator().manual_seed(7), "cpu")
        storage = torch.full((batch, n, heads, dim), float("nan"), dtype=dtype)
        plan, labels, out = svg_call(layout, q, k, v, sparsity, block, rows, key_bias, storage.transpose(1, 2))
        results[f"attention/{name}/plan"] = torch.tensor(plan, dtype=torch.float64)
        results[f"attention/{name}/labels"] = labels.to(torch.int8)
        results[f"attention/{name}/out"] = out.contiguous()
        results[f"attention/{name}/storage"] = storage
    return results


def node_results(comfyui: Path) -> dict:
    host = load("tests/comfy/conftest.py").Host(comfyui.resolve())
    torch.set_grad_enabled(False)
    torch.set_num_threads(1)
    tiny = load("tests/comfy/test_reliability.py")     # the tiny Wan / HunyuanVideo configs
    wan, hunyuan = tiny.WAN, tiny.HUNYUAN
    results = {}

    def context(tokens, seed):
        return torch.randn(1, tokens, 4096, generator=torch.Generator().manual_seed(seed))

    def record(name, model, latent, positive, negative, cfg):
        out = host.sample(model, latent, positive, negative, steps=4, cfg=cfg, seed=5)
        report = host.report(model)
        results[f"node/{name}/latent"] = out
        for i, labels in enumerate(node_records(report)):
            results[f"node/{name}/labels/{i:03d}"] = labels
        results[f"node/{name}/summary"] = json.dumps(report.summary, sort_keys=True)

    model = host.svg(host.build("WAN21_T2V", wan, seed=3), sparsity=0.8, dense_warmup=0.25, dense_blocks=1)
    record("wan_t2v_batch2_cfg", model, torch.zeros(2, 16, 3, 34, 30), [[context(8, 1), {}]],
           [[context(8, 2), {}]], 3.0)
    mask = torch.ones(1, 8, dtype=torch.long)
    mask[:, 6:] = 0
    positive = [[context(8, 3), {"pooled_output": torch.randn(1, 768, generator=torch.Generator().manual_seed(4)),
                                 "attention_mask": mask}]]
    model = host.svg(host.build("HunyuanVideo", hunyuan, seed=4), sparsity=0.7, dense_warmup=0.25)
    record("hunyuan_text_mask", model, torch.zeros(1, 16, 3, 32, 32), positive, positive, 1.0)
    model = host.svg(host.build("WAN21_T2V", dict(wan, in_dim_ref_conv=16), seed=6), sparsity=0.75, dense_warmup=0.25)
    reference = torch.randn(1, 16, 1, 32, 32, generator=torch.Generator().manual_seed(8))
    positive = [[context(8, 5), {"reference_latents": [reference]}]]
    record("wan_reference_prefix", model, torch.zeros(1, 16, 3, 32, 32), positive, positive, 1.0)
    return results


def compare(before: dict, after: dict) -> int:
    problems = []
    for key in sorted(set(before) | set(after)):
        if key not in after or key not in before:
            problems.append(f"{key}: only in {'before' if key in before else 'after'}")
            continue
        a, b = before[key], after[key]
        if isinstance(a, str):
            old, new = json.loads(a), json.loads(b)
            changed = sorted(name for name in old if old[name] != new.get(name))
            if changed:
                problems.append(f"{key}: summary fields differ: {changed}")
        elif a.dtype != b.dtype or a.shape != b.shape or not torch.equal(a, b):
            problems.append(f"{key}: tensors differ ({a.dtype} {tuple(a.shape)} vs {b.dtype} {tuple(b.shape)})")
    tensors = sum(1 for value in before.values() if not isinstance(value, str))
    print(f"{len(before)} entries ({tensors} tensors) compared with torch.equal, summaries field by field: "
          f"{len(problems)} differ")
    for line in problems:
        print("  " + line)
    return 1 if problems else 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="command", required=True)
    rec = sub.add_parser("record")
    rec.add_argument("path", type=Path)
    rec.add_argument("--comfyui", type=Path, help="a ComfyUI 0.3.75 tree: also record the node cases")
    cmp_ = sub.add_parser("compare")
    cmp_.add_argument("before", type=Path)
    cmp_.add_argument("after", type=Path)
    a = ap.parse_args(argv)
    if a.command == "compare":
        return compare(torch.load(a.before), torch.load(a.after))
    load("tests/conftest.py")
    results = attention_results()
    if a.comfyui is not None:
        results.update(node_results(a.comfyui))
    torch.save(results, a.path)
    print(f"recorded {len(results)} entries to {a.path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

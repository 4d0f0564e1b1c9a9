"""Attention precision through the node, on the CPU (in-process ComfyUI, tiny random-weight Wan 2.1;
skipped with the reason when SVG_COMFYUI_DIR is not set): FP8 runs as the kernels' exact torch
emulation on the reference backend, moves the latent a little from bf16 SVG's and, with
fp8_dense_steps, also runs the warm-up and leading blocks; the speed floor's dense decision; the
node's new inputs are optional with defaults (workflows saved before them run unchanged)."""
from __future__ import annotations

import logging

import pytest
import torch

WAN = dict(model_type="t2v", dim=256, ffn_dim=256, num_heads=2, num_layers=2, in_dim=16, out_dim=16,
           text_dim=4096, freq_dim=256)
LATENT = (1, 16, 3, 32, 32)          # 3 latent frames of 16 x 16 tokens: 768 video tokens, 6 blocks
OLD_INPUTS = dict(sparsity=0.75, dense_warmup=0.25, dense_blocks=1, sampled_rows=64, backend="auto",
                  profile_seed=0, verbose=False)      # the node's inputs before attention_precision


@pytest.fixture(scope="module")
def wan(host):
    return host.build("WAN21_T2V", WAN, seed=3)


def sample(host, model):
    positive = [[torch.randn(1, 8, 4096, generator=torch.Generator().manual_seed(1)), {}]]
    return host.sample(model, torch.zeros(LATENT), positive, cfg=3.0, steps=4)


def rel(a, b):
    return ((a.double() - b.double()).norm() / b.double().norm()).item()


@pytest.fixture(scope="module")
def runs(host, wan):
    """Latents and summaries of dense, bf16 SVG, fp8 / fp8-pv SVG and fp8 with FP8 dense steps (node
    defaults otherwise: backend auto, which is the reference on the CPU)."""
    from svg_pack.nodes.svg_node import SVGSparseAttention
    out = {"dense": (sample(host, wan), None)}
    settings = {"bf16": {}, "fp8": dict(attention_precision="fp8"), "fp8-pv": dict(attention_precision="fp8-pv"),
                "fp8-all": dict(attention_precision="fp8", fp8_dense_steps=True)}
    for name, extra in settings.items():
        model = SVGSparseAttention.execute(wan, **OLD_INPUTS, **extra).args[0]
        out[name] = (sample(host, model), host.report(model).summary)
    return out


def test_fp8_runs_as_the_emulation_on_the_cpu_and_moves_the_latent_a_little(runs):
    dense = runs["dense"][0]
    bf16, s16 = runs["bf16"]
    for name in ("fp8", "fp8-pv"):
        latent, summary = runs[name]
        assert summary["backend"] == f"reference-{name}", summary
        assert summary["sparse_calls"] == s16["sparse_calls"] > 0
        to_bf16, to_dense, svg_to_dense = rel(latent, bf16), rel(latent, dense), rel(bf16, dense)
        print(f"{name}: vs bf16 SVG {to_bf16:.2e}, vs dense {to_dense:.2e} (bf16 SVG vs dense {svg_to_dense:.2e})")
        assert torch.isfinite(latent).all()
        assert 0 < to_bf16 < to_dense          # the quantisation moves the latent, less than sparsity does
    assert s16["backend"] == "reference"
    # fp8-pv keeps the scores exact: nearer to bf16 SVG than fp8
    assert rel(runs["fp8-pv"][0], bf16) < rel(runs["fp8"][0], bf16)


def test_fp8_dense_steps_run_the_warmup_and_leading_block_in_fp8(runs):
    latent, summary = runs["fp8-all"]
    _, fp8 = runs["fp8"]
    reasons = summary["dense_reasons"]
    print(reasons)
    fp8_reasons = {r: n for r, n in reasons.items() if r.endswith("as fp8 dense attention (reference-fp8)")}
    # the warm-up step (1 of 4: both blocks of 1 model call with the CFG batch) and the leading block of
    # each sparse step's model call
    assert any(r.startswith("dense warm-up") for r in fp8_reasons), reasons
    assert any(r.startswith("leading block kept dense") for r in fp8_reasons), reasons
    assert not any(r.startswith("dense warm-up") for r in fp8["dense_reasons"] if "fp8" in r)
    assert summary["sparse_calls"] == fp8["sparse_calls"]
    assert 0 < rel(latent, runs["fp8"][0]) < rel(latent, runs["dense"][0])


def test_fp8_dense_steps_without_fp8_change_nothing_and_say_so(host, wan, runs, caplog):
    from svg_pack.nodes.svg_node import SVGSparseAttention
    model = SVGSparseAttention.execute(wan, **OLD_INPUTS, attention_precision="bf16", fp8_dense_steps=True).args[0]
    with caplog.at_level(logging.INFO, logger="svg_sparse_attention"):
        latent = sample(host, model)
    assert torch.equal(latent, runs["bf16"][0])
    assert any("fp8_dense_steps is on, but attention_precision 'bf16' runs bf16" in r.getMessage()
               for r in caplog.records)


def test_precision_reason_is_logged_once(host, wan, caplog):
    from svg_pack.nodes.svg_node import SVGSparseAttention
    model = SVGSparseAttention.execute(wan, **OLD_INPUTS, attention_precision="fp8-pv").args[0]
    with caplog.at_level(logging.INFO, logger="svg_sparse_attention"):
        sample(host, model)
    lines = [r.getMessage() for r in caplog.records if "backend:" in r.getMessage()]
    assert len(lines) == 1 and "no CUDA device" in lines[0] and "fp8-pv as the FP8 kernels' exact torch emulation" \
        in lines[0], lines


def test_the_new_inputs_are_optional_with_defaults(host, wan, runs):
    """A workflow saved before the precision inputs: ComfyUI calls execute without them."""
    from svg_pack.nodes.svg_node import SVGSparseAttention
    schema = SVGSparseAttention.define_schema()
    names = [i.id for i in schema.inputs]
    assert names[:8] == ["model", "sparsity", "dense_warmup", "dense_blocks", "sampled_rows", "backend",
                         "profile_seed", "verbose"]
    new = {i.id: i for i in schema.inputs[8:]}
    assert list(new) == ["attention_precision", "fp8_dense_steps"]
    assert all(i.optional and i.tooltip for i in new.values())
    assert new["attention_precision"].default == "auto" and new["fp8_dense_steps"].default is False
    model = SVGSparseAttention.execute(wan, **OLD_INPUTS).args[0]
    config = model.model_options["transformer_options"]["svg_sparse_attention"].config
    assert (config.attention_precision, config.fp8_dense_steps, config.precision) == ("auto", False, "bf16")
    assert torch.equal(sample(host, model), runs["bf16"][0])      # auto is bf16 today: the same latent


@pytest.mark.parametrize("value", ["fp16", "FP8", ""])
def test_node_rejects_an_unknown_precision_naming_the_input(wan, value):
    from svg_pack.nodes.svg_node import SVGSparseAttention
    with pytest.raises(ValueError, match="attention_precision"):
        SVGSparseAttention.execute(wan, **OLD_INPUTS, attention_precision=value)


def test_speed_floor_runs_dense_with_one_reason_asked_once_per_layout(host, wan, runs, monkeypatch, caplog):
    """A backend named like the Triton one (the reference's ops, so this runs on the CPU) where the speed
    floor says dense is faster: every would-be sparse call runs ComfyUI's attention (the dense latent
    exactly), the reason logged once, the floor asked once per (layout, batch)."""
    from svg_pack.svg_attention import Backend, REFERENCE_OPS
    from svg_pack.nodes.svg_node import SVGSparseAttention
    asked = []

    def floor(device, head_dim, batch, tokens, density, precision):
        asked.append((head_dim, batch, tokens, precision))
        return False, f"test: {tokens} tokens per head is below this GPU's break-even"

    monkeypatch.setattr(host.patch, "resolve_backend",
                        lambda *a, **kw: (Backend("triton", REFERENCE_OPS), "test: a Triton-named backend"))
    monkeypatch.setattr(host.patch, "sparse_pays", floor)
    settings = dict(OLD_INPUTS, dense_blocks=0, dense_warmup=0.0)
    model = SVGSparseAttention.execute(wan, **settings).args[0]
    with caplog.at_level(logging.INFO, logger="svg_sparse_attention"):
        latent = sample(host, model)
    summary = host.report(model).summary
    assert torch.equal(latent, runs["dense"][0])
    reason = "never slower than dense: test: 768 tokens per head is below this GPU's break-even"
    assert summary["sparse_calls"] == 0
    assert summary["dense_reasons"][reason] == 4 * 2                # every step's 2 video self-attention calls
    assert [r.getMessage() for r in caplog.records].count(f"[SVG] dense: {reason}") == 1
    assert asked == [(128, 2, 768, "bf16")]            # one layout, one CFG batch of 2: asked once
    # switched off in the config (tests, benchmarks): sparse again, the floor not asked
    asked.clear()
    from svg_pack.nodes.apply import apply_svg
    from svg_pack.svg_attention import SVGConfig
    model = apply_svg(wan, SVGConfig(**settings, speed_floor=False))
    sample(host, model)
    assert host.report(model).summary["sparse_calls"] > 0 and asked == []

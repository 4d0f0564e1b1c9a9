"""The reliability matrix (docs/reliability.md): the node never breaks a render, whatever it is given.

In-process, on a tiny random-weight Wan 2.1 T2V and HunyuanVideo built with ComfyUI 0.3.75's classes
(tests/comfy/conftest.py), sampled through comfy.sample.sample. Every row asserts a result that
could fail: a finite latent of the right shape, sparse calls where the row must be sparse, the exact
dense latent where the row must be dense, and the exact log line where the row must explain itself.
"""
from __future__ import annotations

import logging
import os

import pytest
import torch

pytestmark = pytest.mark.skipif(
    not os.environ.get("SVG_COMFYUI_DIR"),
    reason="SVG_COMFYUI_DIR is not set: point it at a ComfyUI tree (scripts/test.sh: each host's)")

WAN = dict(model_type="t2v", dim=256, ffn_dim=256, num_heads=2, num_layers=2, in_dim=16, out_dim=16,
           text_dim=4096, freq_dim=256)
HUNYUAN = dict(image_model="hunyuan_video", in_channels=16, out_channels=16, vec_in_dim=768,
               context_in_dim=4096, hidden_size=256, mlp_ratio=2.0, num_heads=2, depth=1,
               depth_single_blocks=1, axes_dim=[16, 56, 56], theta=256, patch_size=[1, 2, 2],
               qkv_bias=True, guidance_embed=False, byt5=False, meanflow=False,
               use_cond_type_embedding=False, vision_in_dim=None)


def context(tokens=8, seed=0, batch=1):
    return torch.randn(batch, tokens, 4096, generator=torch.Generator().manual_seed(seed))


def cond(ctx, **extras):
    return [[ctx, extras]]


def video(frames=2, height=32, width=32, batch=1, channels=16):
    return torch.zeros(batch, channels, frames, height, width)


@pytest.fixture(scope="module")
def wan(host):
    return host.build("WAN21_T2V", WAN, seed=3)


@pytest.fixture(scope="module")
def hunyuan(host):
    return host.build("HunyuanVideo", HUNYUAN, seed=4)


def summary(host, model):
    return host.report(model).summary


# ------------------------------------------------------------------ bad input

@pytest.mark.parametrize("name,value", [("sparsity", 1.5), ("sparsity", -0.01), ("dense_warmup", 1.01),
                                        ("dense_blocks", -1), ("sampled_rows", 0), ("backend", "cuda")])
def test_node_rejects_values_past_its_limits_naming_the_input(host, wan, name, value):
    """ComfyUI's validation rejects these before the node runs (server test); called directly, the
    node itself refuses them with a message naming the input."""
    from svg_pack.nodes.svg_node import SVGSparseAttention
    settings = dict(sparsity=0.75, dense_warmup=0.2, dense_blocks=1, sampled_rows=64, backend="auto",
                    profile_seed=0, verbose=False)
    settings[name] = value
    with pytest.raises(ValueError, match=name):
        SVGSparseAttention.execute(wan, **settings)


@pytest.mark.parametrize("height,width", [(34, 30), (33, 31), (40, 26)])
def test_odd_latent_sizes_and_ragged_blocks(host, wan, height, width):
    """Heights/widths that are not multiples of the patch (Wan pads) and video lengths that are not a
    multiple of the 128-token block."""
    model = host.svg(wan, sparsity=0.8)
    out = host.sample(model, video(frames=3, height=height, width=width), cond(context()))
    assert out.shape == (1, 16, 3, height, width) and torch.isfinite(out).all()
    s = summary(host, model)
    assert s["sparse_calls"] > 0, s


@pytest.mark.parametrize("batch", [1, 2, 3, 4])
def test_batch_sizes(host, wan, batch):
    model = host.svg(wan)
    out = host.sample(model, video(batch=batch), cond(context()), cfg=3.0)
    assert out.shape[0] == batch and torch.isfinite(out).all()
    s = summary(host, model)
    assert s["sparse_calls"] > 0
    # labels are made per (batch element, head): cond and uncond of every latent in the batch
    assert (s["spatial_heads"] + s["temporal_heads"]) == s["sparse_calls"] * 2 * batch * 2


def test_cond_and_uncond_batched_together_and_apart(host, hunyuan):
    """Equal prompt lengths run cond and uncond in one batch, unequal lengths in two calls per step;
    both work, and the number of labelled heads follows."""
    # (0.3.75's HunyuanVideo cannot batch two text masks, with or without this node: no mask in
    # the batched case; the separate case keeps HunyuanVideo's padding masks)
    pooled = lambda seed: torch.randn(1, 768, generator=torch.Generator().manual_seed(seed))
    mask = lambda tokens: torch.ones(1, tokens, dtype=torch.long)
    together = (cond(context(8, seed=1), pooled_output=pooled(1)), cond(context(8, seed=2), pooled_output=pooled(2)))
    apart = (cond(context(8, seed=1), pooled_output=pooled(1), attention_mask=mask(8)),
             cond(context(5, seed=3), pooled_output=pooled(3), attention_mask=mask(5)))
    results = {}
    for name, (positive, negative) in (("together", together), ("apart", apart)):
        model = host.svg(hunyuan)
        out = host.sample(model, video(), positive, negative, cfg=4.0)
        assert torch.isfinite(out).all()
        results[name] = summary(host, model)
    together, apart = results["together"], results["apart"]
    assert together["sparse_calls"] > 0 and apart["sparse_calls"] == 2 * together["sparse_calls"]
    heads = lambda s: s["spatial_heads"] + s["temporal_heads"]
    assert heads(together) == heads(apart)


@pytest.mark.parametrize("dtype", [torch.float32, torch.float16, torch.bfloat16])
def test_model_dtypes(host, dtype, monkeypatch):
    seen = set()
    real = host.patch.sparse_attention

    def spy(q, *args, **kwargs):
        seen.add(q.dtype)
        return real(q, *args, **kwargs)

    monkeypatch.setattr(host.patch, "sparse_attention", spy)
    model = host.build("WAN21_T2V", WAN, seed=3, dtype=dtype)
    patched = host.svg(model)
    out = host.sample(patched, video(), cond(context()))
    assert torch.isfinite(out).all()
    assert summary(host, patched)["sparse_calls"] > 0
    assert seen == {dtype}          # the sparse attention really ran in this precision


def test_single_frame_latent_stays_dense(host, wan, caplog):
    model = host.svg(wan)
    with caplog.at_level(logging.INFO, logger="svg_sparse_attention"):
        out = host.sample(model, video(frames=1), cond(context()))
    reference = host.sample(wan, video(frames=1), cond(context()))
    assert torch.equal(out, reference)
    assert any("single frame" in r.getMessage() for r in caplog.records)


# ------------------------------------------------------------------ composition

class Recorder:
    """A test double for another node's attention override: counts calls, optionally chains."""

    def __init__(self, previous=None):
        self.previous = previous
        self.calls = []

    def __deepcopy__(self, memo):   # ModelPatcher.clone deep-copies model_options; a function would not be copied
        return self

    def __call__(self, func, *args, **kwargs):
        self.calls.append(args[0].shape)
        if self.previous is not None:
            return self.previous(func, *args, **kwargs)
        return func(*args, **kwargs)


def with_override(model, recorder):
    patched = model.clone()
    options = patched.model_options.setdefault("transformer_options", {})
    recorder.previous = options.get("optimized_attention_override")
    options["optimized_attention_override"] = recorder
    return patched


def test_svg_after_another_override_chains_it_for_dense_calls(host, wan):
    recorder = Recorder()
    model = host.svg(with_override(wan, recorder))
    host.sample(model, video(), cond(context()))
    s = summary(host, model)
    assert s["sparse_calls"] > 0
    # every call SVG did not make sparse went through the earlier override, and only those
    assert len(recorder.calls) == s["dense_calls"]


def test_svg_before_another_chaining_override_both_run_in_order(host, wan):
    svg_model = host.svg(wan)
    recorder = Recorder()
    model = with_override(svg_model, recorder)
    host.sample(model, video(), cond(context()))
    s = summary(host, model)
    assert s["sparse_calls"] > 0
    # the later override sees every attention call first and hands each to SVG
    assert len(recorder.calls) == s["sparse_calls"] + s["dense_calls"]


def test_lora_patched_model(host, wan):
    """A weight patch (what LoraLoader adds) on top of the SVG clone, or under it: SVG still runs
    and the patch takes effect."""
    key = "diffusion_model.blocks.0.self_attn.q.weight"
    weight = wan.model.state_dict()[key]
    delta = torch.randn(weight.shape, generator=torch.Generator().manual_seed(9)) * 0.05
    results = []
    for order in ("lora_then_svg", "svg_then_lora"):
        if order == "lora_then_svg":
            lora = wan.clone()
            lora.add_patches({key: (delta,)}, 1.0)
            model = host.svg(lora)
        else:
            model = host.svg(wan).clone()
            model.add_patches({key: (delta,)}, 1.0)
        out = host.sample(model, video(), cond(context()))
        assert summary(host, model)["sparse_calls"] > 0
        results.append(out)
    plain = host.sample(host.svg(wan), video(), cond(context()))
    assert torch.equal(results[0], results[1])
    assert not torch.equal(results[0], plain)


def test_same_patched_model_in_two_samplers(host, wan):
    model = host.svg(wan)
    first = host.sample(model, video(), cond(context()))
    first_summary = summary(host, model)
    second = host.sample(model, video(), cond(context()))
    assert torch.equal(first, second)
    assert summary(host, model) == first_summary


def test_node_applied_twice_replaces_the_first(host, wan, caplog):
    with caplog.at_level(logging.INFO, logger="svg_sparse_attention"):
        twice = host.svg(host.svg(wan, sparsity=0.5), sparsity=0.9)
        out = host.sample(twice, video(), cond(context()))
    once = host.svg(wan, sparsity=0.9)
    assert torch.equal(out, host.sample(once, video(), cond(context())))
    assert summary(host, twice)["requested_density"] == pytest.approx(0.1)
    assert any("replace" in r.getMessage() for r in caplog.records)


# ------------------------------------------------------------------ lifecycle

def test_interrupted_run_leaves_no_state_and_the_next_run_is_right(host, wan):
    import comfy.model_management
    model = host.svg(wan)
    fresh = host.sample(host.svg(wan), video(), cond(context()))
    calls = []

    def interrupt(step, x0, x, total):
        calls.append(step)
        if step == 1:
            raise comfy.model_management.InterruptProcessingException()

    with pytest.raises(comfy.model_management.InterruptProcessingException):
        host.sample(model, video(), cond(context()), callback=interrupt)
    report = host.report(model)      # the run says how it ended: step 0 finished, step 1 interrupted
    assert (report.ended, report.steps_done, report.steps, report.output) == ("interrupted", 1, 3, None)
    assert report.summary["ended"] == "interrupted" and report.summary["steps_done"] == 1
    options = model.model_options["transformer_options"]
    assert "svg_sparse_attention_run" not in options and "svg_sparse_attention_call" not in options
    assert torch.equal(host.sample(model, video(), cond(context())), fresh)


def test_back_to_back_runs_with_different_settings_equal_fresh_ones(host, wan):
    settings = [dict(sparsity=0.5), dict(sparsity=0.9, dense_warmup=0.0), dict(sparsity=0.75, profile_seed=7),
                dict(sparsity=0.5)]
    back_to_back = [host.sample(host.svg(wan, **s), video(), cond(context())) for s in settings]
    fresh_model = host.build("WAN21_T2V", WAN, seed=3)
    for s, out in zip(settings, back_to_back):
        assert torch.equal(out, host.sample(host.svg(fresh_model, **s), video(), cond(context())))
    assert not torch.equal(back_to_back[0], back_to_back[1])


def test_unpatched_model_is_never_modified(host, wan):
    before = host.sample(wan, video(), cond(context()))
    options_before = repr(sorted(wan.model_options.get("transformer_options", {})))
    host.sample(host.svg(wan), video(), cond(context()))
    host.sample(host.svg(host.svg(wan, sparsity=0.6)), video(), cond(context()))
    assert torch.equal(host.sample(wan, video(), cond(context())), before)
    assert repr(sorted(wan.model_options.get("transformer_options", {}))) == options_before


# ------------------------------------------------------------------ devices and determinism

def test_cpu_runs_the_reference_and_says_so(host, wan, caplog):
    model = host.svg(wan, backend="auto")
    with caplog.at_level(logging.INFO, logger="svg_sparse_attention"):
        host.sample(model, video(), cond(context()))
    assert summary(host, model)["backend"] == "reference"
    assert any(r.getMessage().startswith("[SVG] backend: reference backend (no CUDA device") for r in caplog.records)


def test_triton_requested_on_cpu_falls_back_with_a_log_line(host, wan, caplog):
    model = host.svg(wan, backend="triton")
    with caplog.at_level(logging.INFO, logger="svg_sparse_attention"):
        out = host.sample(model, video(), cond(context()))
    assert torch.isfinite(out).all()
    assert any("triton requested but unavailable" in r.getMessage() for r in caplog.records)


def test_same_seed_same_settings_bit_identical(host, wan):
    runs = [host.sample(host.svg(wan, profile_seed=5), video(), cond(context())) for _ in range(2)]
    assert torch.equal(runs[0], runs[1])


def test_profile_seed_changes_only_the_sampled_rows(host, wan):
    a = host.svg(wan, profile_seed=1)
    b = host.svg(wan, profile_seed=2)
    out_a = host.sample(a, video(), cond(context()))
    out_b = host.sample(b, video(), cond(context()))
    assert torch.isfinite(out_a).all() and torch.isfinite(out_b).all()
    assert summary(host, a)["sparse_calls"] == summary(host, b)["sparse_calls"]

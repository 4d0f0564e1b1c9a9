"""The newest ComfyUI call conventions (past 0.19.3), reproduced on whichever host runs the tests.

No full tree newer than 0.19.3 can be had here, so each test reproduces, in test doubles written
for this file, exactly how the newest upstream code calls the attention override, from these files
of Comfy-Org/ComfyUI (the newest versions the code index holds; its read_file gives the commit,
not the date: each date below is that of the pull request that introduced what is reproduced):

- comfy/ldm/modules/attention.py @ 05080f6022b2: ``AttentionTensorContainer`` (single-owner q/k/v),
  ``wrap_attn`` popping ``preferred_attention``, unwrapping containers before an override unless
  it has ``container_function``; backends taking ``scale`` and ``enable_gqa`` (PR #15479
  "Implement comfy kitchen attention", 2026-08-11).
- comfy/ldm/wan/model.py @ 0c9a69aefdb1: WanSelfAttention passes containers, ``heads=`` and
  ``preferred_attention``; WanI2VCrossAttention ``low_precision_attention=False``; forward_orig:
  ``reference_latent`` tokens (ref_conv) in front, ``context_latents`` ("In-context reference",
  Bernini, PR #14216, 2026-06-01) after the video, ``grid_sizes`` of the video alone.
- comfy/ldm/lightricks/model.py @ e03185cf0810: ``_attention_with_guide_mask`` runs the guided
  self-attention as query groups (noisy tokens, then guide tokens) against all keys, each with its
  own mask and ``low_precision_attention=False`` (PR #13735, 2026-05-06).
- comfy/ldm/hunyuan_video/model.py of v0.19.3 (2026-04-17, the tree on disk): text first, the
  additive mask on ``[:, 0, :txt_len]``, ``img_slice``; the real model runs on the 0.19.3 host in
  test_token_order.py, here the attention call alone.
- comfy_extras/nodes_sparse_attention.py @ 01dafad3aa6c: "Model Sparse Attention"
  (BlockSparseAttention, PR #16072, 2026-09-06; renamed in PR #16154, 2026-09-07): chains the
  previous override, puts itself back on top from ON_PREPARE_STATE at every step, dense for masked
  calls and for everything its kernel cannot take (on a CPU: every call).
- comfy_extras/nodes_model_advanced.py @ 691e82787be2: "Model Attention Backend" ->
  ``ModelPatcher.set_model_optimized_attention``: an override that calls its backend and chains
  nothing.
- comfy/samplers.py @ 311c01406130 and comfy_extras/nodes_multigpu.py @ 374ae431957e: "MultiGPU
  CFG Split": ``_calc_cond_batch_multigpu`` runs each device's condition batches in a pool thread on
  that device's model clone, with a per-thread transformer_options (merged from the run's, plus
  ``cond_or_uncond``, ``uuids``, ``sigmas``, ``multigpu_thread_device``) (set_torch_device since
  PR #14191, 2026-05-30).
"""
from __future__ import annotations

import copy
import functools
import logging
import os
import threading

import pytest
import torch
import torch.nn.functional as F

from svg_pack.svg_attention import SVGConfig, VideoLayout, plan_band, sample_rows, sparse_attention

pytestmark = pytest.mark.skipif(
    not os.environ.get("SVG_COMFYUI_DIR"),
    reason="SVG_COMFYUI_DIR is not set: point it at a ComfyUI tree (scripts/test.sh: each host's)")

HEADS, HEAD_DIM = 2, 128
CONFIG = SVGConfig(sparsity=0.75, dense_warmup=0.0, dense_blocks=0, backend="reference")


# ---------------------------------------------------------------- reproductions (test doubles)

class Container:
    """The newest AttentionTensorContainer: holds one tensor until an attention backend takes it."""

    __slots__ = ("tensor",)

    def __init__(self, tensor):
        self.tensor = tensor

    def peek(self):
        if self.tensor is None:
            raise RuntimeError("attention tensor container has already been consumed")
        return self.tensor

    def take(self):
        tensor, self.tensor = self.peek(), None
        return tensor


def newest_wrap_attn(func):
    """How the newest ``wrap_attn`` dispatches one attention call (attention.py @ 05080f6022b2):
    ``preferred_attention`` is removed from the keywords; q/k/v may come as containers; on the
    outermost call with an override in transformer_options, the override gets the containers'
    tensors (or ``override.container_function`` the containers) and ``func``, the plain backend;
    otherwise ``preferred_attention.function`` or ``func`` runs."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        preferred = kwargs.pop("preferred_attention", None)
        boxed = len(args) >= 3 and isinstance(args[0], Container)
        if boxed and not (isinstance(args[1], Container) and isinstance(args[2], Container)):
            raise TypeError("q, k, and v must all be attention tensor containers")
        outermost = "_inside_attn_wrapper" not in kwargs
        try:
            if outermost:
                kwargs["_inside_attn_wrapper"] = True
                options = kwargs.get("transformer_options")
                override = None if options is None else options.get("optimized_attention_override")
                if override is not None:
                    if boxed:
                        if hasattr(override, "container_function"):
                            return override.container_function(*args, **kwargs)
                        args = tuple(c.take() for c in args[:3]) + tuple(args[3:])
                    return override(func, *args, **kwargs)
                if preferred is not None and getattr(preferred, "function", None) is not None:
                    return preferred.function(*args, **kwargs)
            if boxed:
                args = tuple(c.take() for c in args[:3]) + tuple(args[3:])
            return func(*args, **kwargs)
        finally:
            if outermost:
                del kwargs["_inside_attn_wrapper"]

    return wrapper


def sdpa_backend(q, k, v, heads, mask=None, attn_precision=None, skip_reshape=False, skip_output_reshape=False,
                 **kwargs):
    """A plain backend with the newest keywords: ``scale`` and ``enable_gqa`` honoured, the rest
    (``low_precision_attention``, ...) accepted. Records what it was called with."""
    sdpa_backend.calls.append({"q": tuple(q.shape), "k": tuple(k.shape), "mask": mask, **kwargs})
    if skip_reshape:
        b, _, n, d = q.shape
        qh, kh, vh = q, k, v
    else:
        b, n, inner = q.shape
        d = inner // heads
        qh = q.view(b, n, heads, d).transpose(1, 2)
        kh = k.view(b, k.shape[1], -1, d).transpose(1, 2)
        vh = v.view(b, v.shape[1], -1, d).transpose(1, 2)
    if kwargs.get("enable_gqa") and kh.shape[1] != qh.shape[1]:
        kh = kh.repeat_interleave(qh.shape[1] // kh.shape[1], dim=1)
        vh = vh.repeat_interleave(qh.shape[1] // vh.shape[1], dim=1)
    if mask is not None and mask.dim() == 3:
        mask = mask.unsqueeze(1)
    out = F.scaled_dot_product_attention(qh, kh, vh, attn_mask=mask, scale=kwargs.get("scale"))
    return out if skip_output_reshape else out.transpose(1, 2).reshape(b, n, heads * d)


sdpa_backend.calls = []
optimized_attention = newest_wrap_attn(sdpa_backend)


class ComfyAttentionDouble:
    """The newest ComfyAttention module as ``preferred_attention``: no loaded backend (function None)."""

    function = None


@pytest.fixture(autouse=True)
def _fresh_backend_calls():
    sdpa_backend.calls.clear()


def run_with_call(host, adapter, grid, options_extra=None, condition=(0,)):
    """transformer_options of one model call inside a sampling run, at a sparse step, with the
    SVGCall the DIFFUSION_MODEL wrapper would have made for ``grid``."""
    patch = host.patch
    svg_patch = patch.SVGPatch(CONFIG, adapter, None, None)
    run = patch.SVGRun(svg_patch, torch.tensor([1.0, 0.0]))
    options = {"optimized_attention_override": patch.make_attention_override(None), patch.RUN_KEY: run,
               "sigmas": torch.tensor([1.0]), **(options_extra or {})}
    options[patch.CALL_KEY] = patch.SVGCall(run, None, grid, 0, condition)
    return options, run


def reference_out(q, k, v, layout, key_bias=None, scale=None, skip_reshape=False):
    """SVG's plain reference on q/k/v of the call (its own rows, seed and plan)."""
    if skip_reshape:
        qh, kh, vh = q, k, v
    else:
        qh, kh, vh = (t.view(t.shape[0], t.shape[1], HEADS, HEAD_DIM).transpose(1, 2) for t in (q, k, v))
    plan = plan_band(layout, CONFIG.sparsity, CONFIG.block_size)
    rows = sample_rows(layout.video_tokens, CONFIG.sampled_rows,
                       torch.Generator().manual_seed(CONFIG.profile_seed), torch.device("cpu"))
    out, _ = sparse_attention(qh, kh, vh, layout, plan, rows=rows, key_bias=key_bias, scale=scale)
    return out if skip_reshape else out.transpose(1, 2).reshape(q.shape)


def wan_stand_in(host, ref_conv=True):
    """The attributes WanAdapter reads from a newest-ComfyUI WanModel (patch (1, 2, 2), a ref_conv)."""
    class Stand:
        patch_size = (1, 2, 2)
    stand = Stand()
    stand.ref_conv = torch.nn.Conv2d(16, 8, 2, 2) if ref_conv else None
    return host.model_layout.WanAdapter(stand)


# ---------------------------------------------------------------- containers, new keywords, Wan tokens

def test_wan_newest_self_attention_with_containers_reference_prefix_and_context_suffix(host, layouts):
    """Newest Wan (wan/model.py @ 0c9a69aefdb1): forward_orig puts the reference image's tokens
    (ref_conv of ``reference_latent`` [B, C, H, W]) in front of the video and each of the
    ``context_latents`` (padded to whole patches, patch-embedded) after it, publishes
    ``grid_sizes`` of the video alone, and WanSelfAttention calls
    ``optimized_attention(Container(q), Container(k), Container(v), heads=..., preferred_attention=
    self.comfy_attention, transformer_options=...)`` with q/k/v [B, S, H*D]."""
    adapter = wan_stand_in(host)
    x = torch.zeros(1, 16, 4, 32, 32)                       # 4 frames of 16 x 16 patches
    context_latents = [torch.zeros(1, 16, 1, 16, 16), torch.zeros(1, 16, 1, 30, 30)]   # 64 + 15 x 15
    grid, why = adapter.grid((x, torch.tensor([500.0]), torch.zeros(1, 8, 4096)),
                             {"reference_latent": torch.zeros(1, 16, 32, 32), "context_latents": context_latents})
    assert why is None
    assert (grid.prefix_tokens, grid.video_tokens, grid.suffix_tokens) == (256, 1024, 64 + 225)
    tokens = 256 + 1024 + 289
    options, run = run_with_call(host, adapter, grid, {"grid_sizes": torch.Size([4, 16, 16])})
    gen = torch.Generator().manual_seed(3)
    q, k, v = (torch.randn(1, tokens, HEADS * HEAD_DIM, generator=gen) for _ in range(3))
    out = optimized_attention(Container(q), Container(k), Container(v), heads=HEADS,
                              preferred_attention=ComfyAttentionDouble(), transformer_options=options)
    expected = VideoLayout(4, 256, prefix_tokens=256, suffix_tokens=289)
    assert layouts == [expected] and run.sparse_calls == 1 and run.dense_calls == 0, run.summary()
    torch.testing.assert_close(out, reference_out(q, k, v, expected), rtol=1e-4, atol=1e-5)
    # the global rows (reference image, in-context latents) attend to everything: exactly dense
    dense = sdpa_backend(q, k, v, HEADS)
    torch.testing.assert_close(out[:, :256], dense[:, :256], rtol=1e-4, atol=1e-5)
    torch.testing.assert_close(out[:, 1280:], dense[:, 1280:], rtol=1e-4, atol=1e-5)
    assert not torch.allclose(out[:, 256:1280], dense[:, 256:1280], atol=1e-3)


def test_newest_keywords_scale_gqa_low_precision(host, layouts):
    """The newest backends take ``scale`` and ``enable_gqa``; WanI2VCrossAttention passes
    ``low_precision_attention=False``. SVG uses ``scale`` in its sparse path, hands every keyword
    on unchanged in its dense calls, and keeps grouped-query attention dense."""
    adapter = wan_stand_in(host, ref_conv=False)
    grid, _ = adapter.grid((torch.zeros(1, 16, 2, 32, 32), None, torch.zeros(1, 8, 4096)), {})
    options, run = run_with_call(host, adapter, grid)
    gen = torch.Generator().manual_seed(4)
    q, k, v = (torch.randn(1, 512, HEADS * HEAD_DIM, generator=gen) for _ in range(3))
    out = optimized_attention(Container(q), Container(k), Container(v), heads=HEADS, scale=0.05,
                              preferred_attention=ComfyAttentionDouble(), transformer_options=options)
    torch.testing.assert_close(out, reference_out(q, k, v, VideoLayout(2, 256), scale=0.05), rtol=1e-4, atol=1e-5)
    assert run.sparse_calls == 1 and not sdpa_backend.calls
    # cross-attention of the I2V image context, as WanI2VCrossAttention calls it
    context = torch.randn(1, 257, HEADS * HEAD_DIM, generator=gen)
    optimized_attention(Container(q), Container(context), Container(context), heads=HEADS,
                        preferred_attention=ComfyAttentionDouble(), transformer_options=options,
                        low_precision_attention=False)
    (call,) = sdpa_backend.calls
    assert call["low_precision_attention"] is False and "preferred_attention" not in call
    # grouped-query self-attention (one key/value head): dense, enable_gqa handed on
    kv = torch.randn(1, 512, HEAD_DIM, generator=gen)
    out = optimized_attention(Container(q), Container(kv), Container(kv), heads=HEADS, enable_gqa=True,
                              transformer_options=options)
    assert sdpa_backend.calls[-1]["enable_gqa"] is True
    assert any("grouped-query" in r for r in run.dense_reasons), run.dense_reasons
    assert run.sparse_calls == 1


def test_override_with_container_function_is_not_ours(host):
    """Without ``container_function`` the newest wrapper unwraps containers for SVG's override and
    passes ``func``, the plain backend, which SVG needs for every call it leaves dense."""
    assert not hasattr(host.patch.make_attention_override(None), "container_function")


# ---------------------------------------------------------------- LTX query groups

class GuideMaskDouble:
    """The newest GuideAttentionMask: per-group additive masks, guides after the noisy tokens."""

    def __init__(self, total, guide_start, tracked, weights):
        log_w = torch.log(weights)
        self.guide_start, self.tracked_count = guide_start, tracked
        self.noisy_mask = torch.zeros(1, 1, 1, total)
        self.noisy_mask[..., guide_start:guide_start + tracked] = log_w.view(1, 1, 1, -1)
        self.tracked_mask = torch.zeros(1, 1, tracked, total)
        self.tracked_mask[:, :, :, :guide_start] = log_w.view(1, 1, -1, 1)


def attention_with_guide_mask(q, k, v, heads, guide_mask, transformer_options):
    """lightricks/model.py @ e03185cf0810's ``_attention_with_guide_mask``: the queries in groups."""
    start, end = guide_mask.guide_start, guide_mask.guide_start + guide_mask.tracked_count
    out = torch.empty_like(q)
    out[:, :start] = optimized_attention(Container(q[:, :start]), Container(k), Container(v), heads,
                                         mask=guide_mask.noisy_mask, attn_precision=None,
                                         transformer_options=transformer_options,
                                         preferred_attention=ComfyAttentionDouble(), low_precision_attention=False)
    out[:, start:end] = optimized_attention(Container(q[:, start:end]), Container(k), Container(v), heads,
                                            mask=guide_mask.tracked_mask, attn_precision=None,
                                            transformer_options=transformer_options,
                                            preferred_attention=ComfyAttentionDouble(), low_precision_attention=False)
    return out


def test_ltx_query_groups_stay_dense_and_say_why(host, layouts):
    """With guides at strength < 1 the newest LTXV self-attention (attn1) splits its queries: the
    noisy (video) tokens, then the guide tokens, each group against all keys with its own mask.
    SVG needs the whole self-attention in one call: each group runs dense, named as a query group
    of the video's self-attention (not taken for text cross-attention), and the result is the
    backend's, exactly."""
    class Stand:
        class patchifier:
            patch_size = (1, 1, 1)
    adapter = host.model_layout.LTXVAdapter(Stand())
    x = torch.zeros(1, 128, 3, 16, 16)                      # 2 video frames + 1 guide frame
    keyframes = torch.zeros(1, 3, 256, 2)                   # newest shape [B, 3, K, 2]
    grid, why = adapter.grid((x, None, torch.zeros(1, 8, 4096), None, 25, {}, keyframes), {})
    assert why is None and (grid.video_tokens, grid.suffix_tokens) == (512, 256)
    options, run = run_with_call(host, adapter, grid)
    gen = torch.Generator().manual_seed(5)
    q, k, v = (torch.randn(1, 768, HEADS * HEAD_DIM, generator=gen) for _ in range(3))
    mask = GuideMaskDouble(768, 512, 256, torch.full((256,), 0.5))
    out = attention_with_guide_mask(q, k, v, HEADS, mask, options)
    assert not layouts and run.sparse_calls == 0
    reasons = [r for r in run.dense_reasons if r.startswith("a query group")]
    assert reasons == ["a query group (512 of the 768 queries) of the video's self-attention: SVG needs the "
                       "whole self-attention in one call",
                       "a query group (256 of the 768 queries) of the video's self-attention: SVG needs the "
                       "whole self-attention in one call"], run.dense_reasons
    assert all(c["low_precision_attention"] is False for c in sdpa_backend.calls)
    sdpa_backend.calls.clear()
    want = torch.cat([sdpa_backend(q[:, :512], k, v, HEADS, mask=mask.noisy_mask),
                      sdpa_backend(q[:, 512:], k, v, HEADS, mask=mask.tracked_mask)], dim=1)
    torch.testing.assert_close(out, want)
    # without guide masks (strength 1) the same call is one self-attention: sparse
    optimized_attention(Container(q), Container(k), Container(v), HEADS, transformer_options=options,
                        preferred_attention=ComfyAttentionDouble())
    assert layouts == [VideoLayout(2, 256, suffix_tokens=256)] and run.sparse_calls == 1


@pytest.mark.parametrize("shape,ok", [((1, 3, 256), True), ((1, 3, 256, 2), True), ((1, 3, 256, 3), False),
                                      ((1, 2, 256), False), ((1, 3, 2, 256, 2), False)],
                         ids=["3d-0.3.75", "4d-0.19.3", "4d-wrong-last", "3d-wrong-axes", "5d"])
def test_ltxv_keyframe_shapes(host, shape, ok):
    class Stand:
        class patchifier:
            patch_size = (1, 1, 1)
    adapter = host.model_layout.LTXVAdapter(Stand())
    x = torch.zeros(1, 128, 3, 16, 16)
    grid, why = adapter.grid((x, None, torch.zeros(1, 8, 4096), None, 25, {}, torch.zeros(shape)), {})
    if ok:
        assert why is None and (grid.num_frames, grid.suffix_tokens) == (2, 256)
    else:
        assert grid is None and "cannot be checked" in why and str(tuple(shape)) in why


# ---------------------------------------------------------------- HunyuanVideo joint attention, padded text

@pytest.mark.parametrize("where", ["text first (0.19.3)", "text after (0.3.75)"])
def test_hunyuan_joint_attention_with_padded_text(host, layouts, where):
    """HunyuanVideo's joint attention as its blocks call it: q/k/v [B, H, N, D] (skip_reshape),
    ``heads`` positional, an additive mask (1, 1, N) that is -max on the text's padding tokens and 0
    elsewhere. 0.19.3 puts the text first and publishes ``img_slice``; 0.3.75 puts it after and
    declares it. Either way the layout follows the tokens, the padding keys stay masked for every
    row, and the text rows are exact dense attention."""
    text_first = where.startswith("text first")
    txt, pad, video = 8, 2, 512
    tokens = txt + video
    grid = host.model_layout.VideoGrid(2, 256, text_after=not text_first, video_slice="img_slice",
                                       unverified=None if not text_first else "no order declared")
    extra = {"img_slice": [txt, tokens], "block_type": "single"} if text_first else {"block_type": "single"}
    options, run = run_with_call(host, None, grid, extra)
    gen = torch.Generator().manual_seed(6)
    q, k, v = (torch.randn(1, HEADS, tokens, HEAD_DIM, generator=gen) for _ in range(3))
    mask = torch.zeros(1, 1, tokens)
    text_start = 0 if text_first else video
    mask[:, 0, text_start + txt - pad:text_start + txt] = -torch.finfo(torch.float32).max
    out = optimized_attention(q, k, v, HEADS, skip_reshape=True, mask=mask, transformer_options=options)
    expected = VideoLayout(2, 256, prefix_tokens=txt) if text_first else VideoLayout(2, 256, suffix_tokens=txt)
    assert layouts == [expected] and run.sparse_calls == 1, run.summary()
    want = reference_out(q, k, v, expected, key_bias=mask.reshape(1, tokens), skip_reshape=True)
    torch.testing.assert_close(out.view(1, tokens, HEADS, HEAD_DIM).transpose(1, 2), want, rtol=1e-4, atol=1e-5)
    dense = sdpa_backend(q, k, v, HEADS, skip_reshape=True, mask=mask).view(1, tokens, HEADS, HEAD_DIM)
    rows = slice(text_start, text_start + txt)
    torch.testing.assert_close(out.view(1, tokens, HEADS, HEAD_DIM)[:, rows], dense[:, rows], rtol=1e-4, atol=1e-5)
    # the same call without the published slice on a model that declares no order: dense, with why
    options, run = run_with_call(host, None, grid, {"block_type": "double"})
    optimized_attention(q, k, v, HEADS, skip_reshape=True, mask=mask, transformer_options=options)
    if text_first:
        assert run.sparse_calls == 0 and list(run.dense_reasons) == ["no order declared"]


# ---------------------------------------------------------------- core nodes on the same hook

WAN = dict(model_type="t2v", dim=256, ffn_dim=256, num_heads=2, num_layers=2, in_dim=16, out_dim=16,
           text_dim=4096, freq_dim=256)
VIDEO = 512                 # 2 latent frames of 16 x 16 patches


@pytest.fixture(scope="module")
def wan(host):
    return host.build("WAN21_T2V", WAN, seed=71)


def wan_sample(host, model, cfg=1.0, negative=None):
    positive = [[torch.randn(1, 8, 4096, generator=torch.Generator().manual_seed(1)), {}]]
    return host.sample(model, torch.zeros(1, 16, 2, 32, 32), positive, negative, cfg=cfg, steps=3)


class Recorded:
    """A dense backend that records the query lengths it ran (what "Model Attention Backend"
    selects: any plain ``(q, k, v, heads, **kwargs)`` attention function)."""

    def __init__(self, backend):
        self.backend, self.calls = backend, []

    def __call__(self, q, k, v, heads, *args, **kwargs):
        self.calls.append(q.shape[2] if kwargs.get("skip_reshape") else q.shape[1])
        return self.backend(q, k, v, heads, *args, **kwargs)


def model_attention_backend(model, backend):
    """"Model Attention Backend" (nodes_model_advanced.py @ 691e82787be2): the model clone gets
    ``ModelPatcher.set_model_optimized_attention(backend)``, an override that calls the backend and
    chains nothing."""
    m = model.clone()

    def optimized_attention_override(_, *args, **kwargs):
        return backend(*args, **kwargs)

    m.model_options["transformer_options"]["optimized_attention_override"] = optimized_attention_override
    return m


class ModelSparseAttention:
    """"Model Sparse Attention" (nodes_sparse_attention.py @ 01dafad3aa6c) as it composes: its
    override chains the one it found; masked calls, cross-attention (q and k shapes differ) and
    every call its kernel cannot take go down the chain; ``install`` puts a new override on top
    unless its own is there, at patch time and before every step. Its kernel takes nothing on a
    CPU ("not on CUDA"): ``kernel_takes(tokens)`` stands in for what it takes on a GPU, computed
    here with the plain backend. The newest prepare_state(timestep, model_options) hands the step's
    model options to its ON_PREPARE_STATE callback; these hosts' prepare_state(timestep) does not,
    so the re-install runs from a CALC_COND_BATCH wrapper, which gets the same per-step model
    options just before."""

    def __init__(self, kernel_takes=lambda tokens: False):
        self.kernel_takes = kernel_takes
        self.installed = set()
        self.taken, self.passed = [], []

    def make_override(self, previous):
        def override(func, q, k, v, heads, mask=None, attn_precision=None, skip_reshape=False,
                     skip_output_reshape=False, **kwargs):
            kw = dict(mask=mask, attn_precision=attn_precision, skip_reshape=skip_reshape,
                      skip_output_reshape=skip_output_reshape, **kwargs)
            tokens = q.shape[2] if skip_reshape else q.shape[1]
            if mask is None and q.shape == k.shape and self.kernel_takes(tokens):
                self.taken.append(tokens)
                return func(q, k, v, heads, **kw)
            self.passed.append(tokens)
            return func(q, k, v, heads, **kw) if previous is None else previous(func, q, k, v, heads, **kw)

        return override

    def install(self, transformer_options):
        current = transformer_options.get("optimized_attention_override")
        if current in self.installed:
            return
        override = self.make_override(current)
        self.installed.add(override)
        transformer_options["optimized_attention_override"] = override

    def apply(self, host, model):
        m = model.clone()
        self.install(m.model_options["transformer_options"])

        def each_step(executor, model_, conds, x_in, timestep, model_options):
            self.install(model_options.setdefault("transformer_options", {}))
            return executor(model_, conds, x_in, timestep, model_options)

        m.add_wrapper_with_key(host.comfy.patcher_extension.WrappersMP.CALC_COND_BATCH, "block_sparse_attention",
                               each_step)
        return m


def svg_log_lines(caplog):
    return [r.getMessage() for r in caplog.records if r.getMessage().startswith("[SVG]")
            and ("override" in r.getMessage())]


# 3 steps, cfg 1, warm-up 0.3: step 0 dense (2 self + 2 cross calls), steps 1-2: 2 sparse self + 2 cross
SPARSE, DENSE = 4, 8


@pytest.mark.parametrize("order", ["backend before SVG", "backend after SVG"])
def test_model_attention_backend_before_and_after_svg(host, wan, caplog, order):
    """Before SVG: SVG chains the backend's override (one log line at apply). After SVG: the
    backend's override replaced SVG's on the hook and chains nothing; SVG sees that at its first
    model call, goes back on top for the run and leaves its dense calls to the backend (one
    warning). Either way SVG runs its 4 sparse calls and the backend exactly SVG's 8 dense ones."""
    from comfy.ldm.modules.attention import optimized_attention as host_attention

    backend = Recorded(getattr(host_attention, "__wrapped__", host_attention))
    with caplog.at_level(logging.INFO, logger="svg_sparse_attention"):
        if order == "backend before SVG":
            model = host.svg(model_attention_backend(wan, backend))
        else:
            model = model_attention_backend(host.svg(wan), backend)
        wan_sample(host, model)
    summary = host.report(model).summary
    assert (summary["sparse_calls"], summary["dense_calls"]) == (SPARSE, DENSE), summary
    assert len(backend.calls) == DENSE
    lines = svg_log_lines(caplog)
    if order == "backend before SVG":
        assert len(lines) == 1 and "stays in the chain: SVG's dense calls go to it" in lines[0], lines
    else:
        assert len(lines) == 1 and "a later node replaced SVG's attention override" in lines[0] \
            and "SVG goes back on top" in lines[0], lines
        # the node's own model (its options) is untouched: SVG went on top in the run's options only
        assert not getattr(model.model_options["transformer_options"]["optimized_attention_override"],
                           "svg_sparse_attention_override", False)


@pytest.mark.parametrize("kernel", ["takes nothing (CPU)", "takes every self-attention"])
@pytest.mark.parametrize("order", ["sparse node before SVG", "sparse node after SVG"])
def test_model_sparse_attention_before_and_after_svg(host, wan, caplog, order, kernel):
    """ComfyUI's Model Sparse Attention keeps its override on top at every step, so in either order
    it sees each attention call first: what its kernel takes never reaches SVG, what it passes on
    does (SVG then runs the video self-attention sparse). SVG says so in one log line; placed
    before SVG, SVG's apply-time line says the sparse node's first override stays under it."""
    takes_all = kernel.startswith("takes every")
    sparse_node = ModelSparseAttention(kernel_takes=(lambda tokens: tokens == VIDEO) if takes_all else
                                       (lambda tokens: False))
    with caplog.at_level(logging.INFO, logger="svg_sparse_attention"):
        if order == "sparse node before SVG":
            model = host.svg(sparse_node.apply(host, wan))
        else:
            model = sparse_node.apply(host, host.svg(wan))
        wan_sample(host, model)
    summary = host.report(model).summary
    if takes_all:
        assert sparse_node.taken == [VIDEO] * 6 and summary["sparse_calls"] == 0, summary
        assert summary["dense_calls"] == 6      # the cross-attention calls it passed on
    else:
        assert not sparse_node.taken and summary["sparse_calls"] == SPARSE, summary
    lines = svg_log_lines(caplog)
    on_top = [ln for ln in lines if "is on top of SVG's" in ln]
    assert len(on_top) == 1 and "SVG gets the calls it passes on" in on_top[0], lines
    chained = [ln for ln in lines if "stays in the chain" in ln]
    assert len(chained) == (1 if order == "sparse node before SVG" else 0), lines
    assert len(lines) == len(on_top) + len(chained)


# ---------------------------------------------------------------- MultiGPU CFG Split: two threads

class DevicePool:
    """The newest MultiGPUThreadPool: one persistent worker thread per device for the whole
    sampling run, fed one job at a time; results (or the error) collected per device."""

    def __init__(self, devices):
        import queue

        self.jobs = {d: queue.Queue() for d in devices}
        self.results = {d: queue.Queue() for d in devices}
        self.threads = [threading.Thread(target=self._work, args=(d,), daemon=True, name=f"device{d}")
                        for d in devices]
        for t in self.threads:
            t.start()

    def _work(self, device):
        while True:
            job = self.jobs[device].get()
            if job is None:
                return
            fn, args = job
            try:
                self.results[device].put((fn(*args), None))
            except Exception as e:      # noqa: BLE001 - handed back to the caller, as upstream does
                self.results[device].put((None, e))

    def submit(self, device, fn, *args):
        self.jobs[device].put((fn, args))

    def get_result(self, device):
        return self.results[device].get(timeout=300)

    def shutdown(self):
        for q in self.jobs.values():
            q.put(None)
        for t in self.threads:
            t.join(timeout=60)


CONDITION = threading.local()


def calc_cond_batch_multigpu(args, device_models, pool):
    """The newest ``_calc_cond_batch_multigpu`` (samplers.py @ 311c01406130) for one cond and one
    uncond on two devices: each condition batch goes to its own device's model clone, in that
    device's pool thread (``pool``) or, as upstream's fallback without a pool, one after the other
    on the calling thread. Each builds its transformer_options as upstream does: the model's hook
    options merged with the run's transformer_options (copy_dict1=False), then ``cond_or_uncond``,
    ``uuids``, ``sigmas``, ``sample_sigmas`` and ``multigpu_thread_device``."""
    import comfy.patcher_extension
    import comfy.samplers

    conds, x_in, timestep, model_options = args["conds"], args["input"], args["sigma"], args["model_options"]
    main = args["model"]

    def handle(index, device):
        CONDITION.index = index                 # for the test's spy only
        model_current = device_models[index]
        p = comfy.samplers.get_area_and_mult(conds[index][0], x_in, timestep)
        c = comfy.samplers.cond_cat([p.conditioning])
        options = main.current_patcher.apply_hooks(hooks=p.hooks)
        options = comfy.patcher_extension.merge_nested_dicts(options, model_options["transformer_options"],
                                                             copy_dict1=False)
        options["cond_or_uncond"] = [index]
        options["uuids"] = [p.uuid]
        options["sigmas"] = timestep
        options["sample_sigmas"] = options["sample_sigmas"].to(device)
        options["multigpu_thread_device"] = device
        c["transformer_options"] = options
        with torch.no_grad():
            return model_current.apply_model(p.input_x, timestep, **c) * p.mult

    outputs = {}
    for index in (0, 1):
        if pool is not None:
            pool.submit(index, handle, index, torch.device("cpu"))
        else:
            outputs[index] = handle(index, torch.device("cpu"))
    if pool is not None:
        for index in (0, 1):
            outputs[index], error = pool.get_result(index)
            if error is not None:
                raise error
    return [outputs[0], outputs[1]]


def test_multigpu_cfg_split_two_threads_keep_state_per_condition(host, wan, monkeypatch):
    """MultiGPU CFG Split: cond and uncond run at the same time in two pool threads, each on its own
    model clone, sharing one SVG run. In the first sparse step the cond thread waits inside SVG's
    sparse path until the uncond thread has run both of its blocks there: the two run concurrently,
    in an order no serial run has. The run still counts every call of both threads, keeps its
    state per condition (each condition's profiled rows do not depend on the other's progress), and
    the result is bit for bit that of the same split run one condition after the other. Both
    "devices" are this machine's CPU; what is per device is keyed by device and condition."""
    clone = host.build("WAN21_T2V", WAN, seed=71).model        # the second device's copy of the model
    uncond_ran_both_blocks = threading.Event()
    calls = {}
    import svg_pack.svg_attention.attention as orchestrator

    real_svg, real_rows = host.patch.sparse_attention, orchestrator.sample_rows
    rows_used = {}

    def rows_spy(*args, **kwargs):
        rows = real_rows(*args, **kwargs)
        rows_used.setdefault(CONDITION.index, []).append(rows.tolist())
        return rows

    def spy(*args, **kwargs):
        name = threading.current_thread().name
        calls[name] = calls.get(name, 0) + 1
        out = real_svg(*args, **kwargs)
        if name == "device1" and calls[name] == 2:
            uncond_ran_both_blocks.set()
        if name == "device0" and calls[name] == 1:
            assert uncond_ran_both_blocks.wait(timeout=120), "the uncond thread did not run meanwhile"
        return out

    results = {}
    for threaded in (False, True):
        model = host.svg(wan)
        pool = DevicePool([0, 1]) if threaded else None
        model.model_options["sampler_calc_cond_batch_function"] = functools.partial(
            calc_cond_batch_multigpu, device_models={0: model.model, 1: clone}, pool=pool)
        monkeypatch.setattr(host.patch, "sparse_attention", spy)
        monkeypatch.setattr(orchestrator, "sample_rows", rows_spy)
        rows_used.clear()
        negative = [[torch.randn(1, 8, 4096, generator=torch.Generator().manual_seed(2)), {}]]
        try:
            out = wan_sample(host, model, cfg=3.0, negative=negative)
        finally:
            if pool is not None:
                pool.shutdown()
        results[threaded] = (out, host.report(model), copy.deepcopy(rows_used))
    assert calls["device0"] == calls["device1"] == 4
    (serial, serial_report, serial_rows), (split, split_report, split_rows) = results[False], results[True]
    # each condition profiled the same rows, call by call, however the threads interleaved
    assert split_rows == serial_rows and len(split_rows[0]) == len(split_rows[1]) == 4
    assert torch.equal(serial, split)
    # 2 conditions x (warm-up step: 2 self + 2 cross dense; 2 sparse steps: 2 sparse + 2 dense)
    assert split_report.summary == serial_report.summary
    assert (split_report.summary["sparse_calls"], split_report.summary["dense_calls"]) == (8, 16)
    key = lambda r: (r[0], r[1], None if r[2] is None else tuple(r[2].flatten().tolist()))  # noqa: E731
    assert sorted(map(key, split_report.records)) == sorted(map(key, serial_report.records))

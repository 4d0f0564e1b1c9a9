"""What newer ComfyUI does differently, fed to the pack inside the host's tree (0.3.75 or 0.19.3; the
newest conventions, past 0.19.3, are in test_newest_conventions.py):

- CogVideoX (comfy/ldm/cogvideo, not in 0.3.75): a stand-in model class with the newer forward
  signature and the exact attention call of its CogVideoXBlock (text BEFORE the video, q/k/v
  [B, N, H*D], heads by keyword, no mask) goes through 0.3.75's real ``optimized_attention``
  wrapper into the override; layout and output are checked against the plain reference.
- q/k/v as single-owner containers (newer ``AttentionTensorContainer``): the newest ``wrap_attn``
  unwraps them before calling an override without a ``container_function`` attribute; the
  override also unwraps them itself when it gets them.
- Wan's ``grid_sizes`` in transformer_options (newer Wan sets it inside its forward).
- Grouped-query attention (newer backends: ``enable_gqa``, fewer key/value heads) stays dense.
Plus the layout rules of ``VideoGrid`` (text before / after, known prefix and suffix).
"""
from __future__ import annotations

import os
import sys
import types

import pytest
import torch

from svg_pack.svg_attention import SVGConfig, VideoLayout, plan_band, sample_rows, sparse_attention

pytestmark = pytest.mark.skipif(
    not os.environ.get("SVG_COMFYUI_DIR"),
    reason="SVG_COMFYUI_DIR is not set: point it at a ComfyUI tree (scripts/test.sh: each host's)")

HEADS, HEAD_DIM, TEXT = 2, 128, 226     # CogVideoX: 226 text tokens (max_text_seq_length)


class Container:
    """Test double of newer ComfyUI's AttentionTensorContainer: a single-owner tensor holder."""

    __slots__ = ("tensor",)

    def __init__(self, tensor):
        self.tensor = tensor

    def peek(self):
        if self.tensor is None:
            raise RuntimeError("attention tensor container has already been consumed")
        return self.tensor

    def take(self):
        tensor = self.peek()
        self.tensor = None
        return tensor


def newest_wrap_attn_dispatch(override, func, q, k, v, *args, **kwargs):
    """How the newest ``wrap_attn`` hands containers to an override (its documented behaviour):
    ``override.container_function(...)`` when it has one, else the unwrapped tensors."""
    if hasattr(override, "container_function"):
        return override.container_function(q, k, v, *args, **kwargs)
    return override(func, q.take(), k.take(), v.take(), *args, **kwargs)


@pytest.fixture
def cogvideo(host, monkeypatch):
    """The CogVideoX model class of this ComfyUI, or a stand-in module where it has none."""
    try:
        from comfy.ldm.cogvideo.model import CogVideoXTransformer3DModel as base
        real = True
    except ImportError:
        base, real = torch.nn.Module, False

    import comfy.ldm.common_dit
    import comfy.patcher_extension
    from comfy.ldm.modules.attention import optimized_attention

    class StandIn(base):
        """Newer ComfyUI's CogVideoXTransformer3DModel as the pack sees it: its attributes, its
        forward signature and DIFFUSION_MODEL wrapper, and its blocks' attention call. The q/k/v
        are seeded random tensors instead of projections."""

        def __init__(self, patch_size=2, patch_size_t=None, mode="plain"):
            torch.nn.Module.__init__(self)
            self.patch_size, self.patch_size_t = patch_size, patch_size_t
            self.num_attention_heads, self.attention_head_dim = HEADS, HEAD_DIM
            self.mode = mode
            self.calls = []

        def forward(self, x, timestep, context, ofs=None, transformer_options=None, **kwargs):
            return comfy.patcher_extension.WrapperExecutor.new_class_executor(
                self._forward, self,
                comfy.patcher_extension.get_all_wrappers(comfy.patcher_extension.WrappersMP.DIFFUSION_MODEL,
                                                         transformer_options)
            ).execute(x, timestep, context, ofs, transformer_options, **kwargs)

        def _forward(self, x, timestep, context, ofs=None, transformer_options=None, **kwargs):
            p_t = self.patch_size_t or 1
            x = comfy.ldm.common_dit.pad_to_patch_size(x, (p_t, self.patch_size, self.patch_size))
            b, _, t, h, w = x.shape
            s = context.shape[1] + (t // p_t) * (h // self.patch_size) * (w // self.patch_size)
            gen = torch.Generator().manual_seed(len(self.calls))
            q, k, v = (torch.randn(b, s, HEADS * HEAD_DIM, generator=gen) for _ in range(3))
            options = transformer_options
            if self.mode == "plain":            # CogVideoXBlock's call
                out = optimized_attention(q, k, v, heads=HEADS, transformer_options=options)
            else:                               # newer ComfyUI passing containers
                override = options["optimized_attention_override"]
                func = getattr(optimized_attention, "__wrapped__", optimized_attention)   # the backend
                boxed = (Container(q), Container(k), Container(v))
                if self.mode == "containers-newest-wrapper":
                    out = newest_wrap_attn_dispatch(override, func, *boxed, heads=HEADS, transformer_options=options)
                else:                           # containers reaching the override as they are
                    out = override(func, *boxed, HEADS, transformer_options=options)
            self.calls.append((q, k, v, out))
            return x

    if not real:
        package = types.ModuleType("comfy.ldm.cogvideo")
        module = types.ModuleType("comfy.ldm.cogvideo.model")
        module.CogVideoXTransformer3DModel = StandIn
        package.model = module
        monkeypatch.setitem(sys.modules, "comfy.ldm.cogvideo", package)
        monkeypatch.setitem(sys.modules, "comfy.ldm.cogvideo.model", module)
    return StandIn


def run_options(host, adapter, config):
    """transformer_options of one model call inside a sampling run, at a sparse step."""
    import comfy.patcher_extension

    patch = host.patch
    svg_patch = patch.SVGPatch(config, adapter, None, None)
    run = patch.SVGRun(svg_patch, torch.tensor([1.0, 0.0]))
    return {
        "optimized_attention_override": patch.make_attention_override(None),
        patch.RUN_KEY: run,
        "sigmas": torch.tensor([1.0]),
        "wrappers": {comfy.patcher_extension.WrappersMP.DIFFUSION_MODEL:
                     {patch.PATCH_KEY: [patch.model_call_wrapper]}},
    }


def reference(q, k, v, layout, config):
    heads = [t.view(t.shape[0], t.shape[1], HEADS, HEAD_DIM).transpose(1, 2) for t in (q, k, v)]
    plan = plan_band(layout, config.sparsity, config.block_size)
    rows = sample_rows(layout.video_tokens, config.sampled_rows,
                       torch.Generator().manual_seed(config.profile_seed), torch.device("cpu"))
    out, _ = sparse_attention(*heads, layout, plan, rows=rows)
    return out.transpose(1, 2).reshape(q.shape), heads


@pytest.mark.parametrize("patch_size_t,frames,expected_frames", [(None, 3, 3), (2, 5, 3)],
                         ids=["cogvideox-1.0", "cogvideox-1.5"])
@pytest.mark.parametrize("mode", ["plain", "containers-newest-wrapper", "containers"])
def test_cogvideox_text_before_video(host, cogvideo, layouts, patch_size_t, frames, expected_frames, mode):
    model = cogvideo(patch_size_t=patch_size_t, mode=mode)
    adapter, why = host.model_layout.adapter_for(model)
    assert why is None and type(adapter).__name__ == "CogVideoXAdapter"
    config = SVGConfig(sparsity=0.75, dense_warmup=0.0, dense_blocks=0, backend="reference")
    options = run_options(host, adapter, config)
    x = torch.zeros(1, 16, frames, 30, 32)                  # 30: padded to whole patches (15 x 16)
    context = torch.zeros(1, TEXT, 4096)
    model(x, torch.tensor([500.0]), context, None, transformer_options=options)

    expected = VideoLayout(expected_frames, 15 * 16, prefix_tokens=TEXT)
    assert layouts == [expected]
    run = options[host.patch.RUN_KEY]
    assert run.sparse_calls == 1 and run.dense_calls == 0, run.summary()
    q, k, v, out = model.calls[0]
    want, (qh, kh, vh) = reference(q, k, v, expected, config)
    torch.testing.assert_close(out, want, rtol=1e-4, atol=1e-5)
    # the text rows (the prefix) attend to everything: exactly dense attention
    dense = torch.nn.functional.scaled_dot_product_attention(qh, kh, vh).transpose(1, 2).reshape(q.shape)
    torch.testing.assert_close(out[:, :TEXT], dense[:, :TEXT], rtol=1e-4, atol=1e-5)
    assert not torch.allclose(out[:, TEXT:], dense[:, TEXT:], atol=1e-3)   # the video rows are sparse


def test_override_has_no_container_function(host):
    """Without the attribute the newest wrapper unwraps containers and passes ``func``, the plain
    backend, which the override needs for every call it leaves dense."""
    override = host.patch.make_attention_override(None)
    assert not hasattr(override, "container_function")


def test_containers_outside_a_run_go_dense_unwrapped(host):
    override = host.patch.make_attention_override(None)
    from comfy.ldm.modules.attention import optimized_attention

    q, k, v = (torch.randn(1, 40, HEADS * HEAD_DIM) for _ in range(3))
    seen = []

    def func(q, k, v, heads, **kwargs):
        seen.append(all(isinstance(t, torch.Tensor) for t in (q, k, v)))
        return optimized_attention(q, k, v, heads, **kwargs)

    out = override(func, Container(q), Container(k), Container(v), HEADS, transformer_options={})
    assert seen == [True]
    torch.testing.assert_close(out, optimized_attention(q, k, v, HEADS))


def test_grouped_query_attention_stays_dense(host, cogvideo):
    """Newer backends take fewer key/value heads (enable_gqa): not the layout SVG works on."""
    model = cogvideo()
    adapter, _ = host.model_layout.adapter_for(model)
    config = SVGConfig(sparsity=0.75, dense_warmup=0.0, dense_blocks=0, backend="reference")
    options = run_options(host, adapter, config)
    patch = host.patch
    grid = host.model_layout.VideoGrid(3, 240, text_before=True)
    options[patch.CALL_KEY] = patch.SVGCall(options[patch.RUN_KEY], None, grid, 0)
    tokens = TEXT + 3 * 240
    q = torch.randn(1, tokens, HEADS * HEAD_DIM)
    kv = torch.randn(1, tokens, HEAD_DIM)                  # one key/value head
    seen = []

    def func(q, k, v, heads, **kwargs):
        seen.append(kwargs.get("enable_gqa"))
        return torch.zeros_like(q)

    options["optimized_attention_override"](func, q, kv, kv, HEADS, enable_gqa=True, transformer_options=options)
    run = options[patch.RUN_KEY]
    assert seen == [True] and run.sparse_calls == 0
    assert any("grouped-query" in reason for reason in run.dense_reasons), run.dense_reasons


def test_wan_grid_sizes_from_transformer_options_win_over_the_latent(host, layouts):
    """Newer Wan sets transformer_options["grid_sizes"] (its patchified T, H, W) inside forward,
    after the DIFFUSION_MODEL wrapper ran: the attention override takes the grid from it, not from
    the latent. Driven at the override: the grid the adapter read from a 2 x 32 x 32 latent
    (2 frames of 256 tokens), and a published grid of the same 512 tokens laid out as 4 x 8 x 16."""
    wan = dict(model_type="t2v", dim=256, ffn_dim=256, num_heads=2, num_layers=1, in_dim=16, out_dim=16,
               text_dim=4096, freq_dim=256)
    model = host.build("WAN21_T2V", wan, seed=61)
    adapter, _ = host.model_layout.adapter_for(model.get_model_object("diffusion_model"))
    grid, why = adapter.grid((torch.zeros(1, 16, 2, 32, 32), None, torch.zeros(1, 8, 4096)), {})
    assert why is None and (grid.num_frames, grid.frame_tokens, grid.uses_grid_sizes) == (2, 256, True)
    config = SVGConfig(sparsity=0.75, dense_warmup=0.0, dense_blocks=0, backend="reference")
    options = run_options(host, adapter, config)
    options[host.patch.CALL_KEY] = host.patch.SVGCall(options[host.patch.RUN_KEY], None, grid, 0)
    q, k, v = (torch.randn(1, 512, HEADS * HEAD_DIM) for _ in range(3))
    options["grid_sizes"] = torch.Size([4, 8, 16])
    options["optimized_attention_override"](None, q, k, v, heads=HEADS, transformer_options=options)
    options["grid_sizes"] = (2, 16, 16)
    options["optimized_attention_override"](None, q, k, v, heads=HEADS, transformer_options=options)
    assert layouts == [VideoLayout(4, 128), VideoLayout(2, 256)]
    options["grid_sizes"] = (2, 16)                         # unreadable: dense, with the reason
    seen = []
    options["optimized_attention_override"](lambda *a, **kw: seen.append(1) or torch.zeros_like(q), q, k, v,
                                            heads=HEADS, transformer_options=options)
    run = options[host.patch.RUN_KEY]
    assert seen == [1] and any("grid_sizes (2, 16) is not (frames, height, width)" in r for r in run.dense_reasons)


def test_real_wan_grid_sizes_and_the_layouts_used(host, layouts):
    """This host's real Wan: where it publishes grid_sizes (0.19.3) every sparse call's layout is
    that grid; where it does not (0.3.75) the layout comes from the latent. Either way the grid is
    the latent's 2 x 16 x 16 patches."""
    wan = dict(model_type="t2v", dim=256, ffn_dim=256, num_heads=2, num_layers=1, in_dim=16, out_dim=16,
               text_dim=4096, freq_dim=256)
    model = host.svg(host.build("WAN21_T2V", wan, seed=61))
    published = []
    options = model.model_options["transformer_options"]
    svg_override = options["optimized_attention_override"]

    def record(func, q, k, v, *args, **kwargs):
        published.append((kwargs.get("transformer_options") or {}).get("grid_sizes"))
        return svg_override(func, q, k, v, *args, **kwargs)

    options["optimized_attention_override"] = record
    host.sample(model, torch.zeros(1, 16, 2, 32, 32), [[torch.randn(1, 8, 4096), {}]])
    assert set(layouts) == {VideoLayout(2, 256)} and len(layouts) == 2
    if host.version_tuple >= (0, 19):
        assert {tuple(g) for g in published} == {(2, 16, 16)}
    else:
        assert set(published) == {None}


def test_video_grid_rules(host):
    VideoGrid = host.model_layout.VideoGrid
    exact = VideoGrid(3, 10, prefix_tokens=4)
    assert exact.layout_for(34) == (VideoLayout(3, 10, 4, 0), None)
    assert exact.layout_for(35) == (None, "not the video's self-attention: 35 tokens is not the video's 34")
    after = VideoGrid(3, 10, text_after=True, suffix_tokens=5)
    assert after.layout_for(35)[0] == VideoLayout(3, 10, 0, 5)
    assert after.layout_for(42)[0] == VideoLayout(3, 10, 0, 12)
    assert after.layout_for(34)[0] is None                  # shorter than video + known suffix
    before = VideoGrid(3, 10, prefix_tokens=4, text_before=True)
    assert before.layout_for(260)[0] == VideoLayout(3, 10, 230, 0)   # known 4 + 226 text
    assert before.layout_for(20)[0] is None                 # a text-only call (e.g. a refiner)
    with pytest.raises(ValueError):
        VideoGrid(3, 10, text_after=True, text_before=True)
    sized = VideoGrid(3, 10, uses_grid_sizes=True)
    assert sized.refined({"grid_sizes": torch.Size([5, 2, 3])}) == (VideoGrid(5, 6, uses_grid_sizes=True), None)
    assert sized.refined({}) == (sized, None) and VideoGrid(3, 10).refined({"grid_sizes": (5, 2, 3)})[0].num_frames == 3
    assert sized.layout_for(30, {"grid_sizes": (5, 2, 3)}) == (VideoLayout(5, 6), None)
    assert sized.layout_for(30, {"grid_sizes": (3, 10)})[0] is None          # unreadable: no guess
    assert "not (frames, height, width)" in sized.layout_for(30, {"grid_sizes": (3, 10)})[1]
    # a published [start, end) of the video fixes the layout; without it an unverified grid says why
    sliced = VideoGrid(3, 10, prefix_tokens=4, video_slice="img_slice", unverified="no order known")
    assert sliced.layout_for(42, {"img_slice": [8, 42]}) == (VideoLayout(3, 10, 12, 0), None)     # text first
    assert sliced.layout_for(42, None, {"img_slice": (0, 34)}) == (VideoLayout(3, 10, 4, 8), None)  # text after
    assert sliced.layout_for(42) == (None, "no order known")
    assert sliced.layout_for(42, {"img_slice": [8, 40]})[0] is None            # not the video's 34 tokens
    assert sliced.layout_for(42, {"img_slice": "x"})[0] is None
    assert sliced.layout_for(20, {"img_slice": [0, 20]})[0] is None            # shorter than the video
    declared = VideoGrid(3, 10, text_after=True, video_slice="img_slice")      # 0.3.75: order declared
    assert declared.layout_for(38) == (VideoLayout(3, 10, 0, 8), None)
    assert declared.layout_for(38, {"img_slice": [8, 38]}) == (VideoLayout(3, 10, 8, 0), None)  # published wins


def test_transformer_options_found_where_the_model_passes_them(host):
    """LTXV's executor passes (..., transformer_options, keyframe_idxs): not the last argument."""
    patch = host.patch
    options = {patch.RUN_KEY: object()}
    assert patch._transformer_options((1, 2, {"other": 1}, options, None), {}) is options
    assert patch._transformer_options((1,), {"transformer_options": options}) is options
    assert patch._transformer_options((1, {"other": 1}), {}) is None


def test_unsupported_class_reason_names_it(host):
    class Mystery(torch.nn.Module):
        pass

    adapter, why = host.model_layout.adapter_for(Mystery())
    assert adapter is None and "Mystery" in why and "no SVG layout adapter" in why


def test_registry_takes_the_most_specific_class(host):
    """The most specific registered class in the MRO decides; LTXV's adapter does not cover
    subclasses it was not written for (LTXAVModel has its own), Wan's does."""
    from comfy.ldm.lightricks.model import LTXVModel
    from comfy.ldm.wan.model import WanModel

    class LTXVWithMoreTokens(LTXVModel):
        pass

    adapter, why = host.model_layout.adapter_for(LTXVWithMoreTokens.__new__(LTXVWithMoreTokens))
    assert adapter is None and "LTXVWithMoreTokens is a subclass of LTXVModel" in why
    assert "does not cover subclasses" in why
    # VaceWanModel subclasses WanModel: its own adapter is chosen (an instance without its weights
    # cannot be read, and the reason names the adapter that tried)
    from comfy.ldm.wan.model import VaceWanModel

    class MyVace(VaceWanModel):
        pass

    for model, family in ((VaceWanModel.__new__(VaceWanModel), "Wan VACE"), (MyVace.__new__(MyVace), "Wan VACE"),
                          (WanModel.__new__(WanModel), "Wan,")):
        adapter, why = host.model_layout.adapter_for(model)
        assert adapter is None and f"looks like {family}" in why, why

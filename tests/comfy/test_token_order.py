"""WHERE the tokens are: the VideoLayout each sparse attention call used, compared with where the
model (this host's real ComfyUI code) actually put the video, the text and the guide tokens, seen
from the model's own tensors (tests/fixtures/svg_test_nodes/token_order.py), not from anything SVG
computes. Run on every host: ComfyUI 0.3.75 puts HunyuanVideo's text after the video and gives
LTXV 3-D keyframe_idxs; 0.19.3 puts the text first and gives 4-D keyframe_idxs [B, 3, K, 2].
"""
from __future__ import annotations

import sys
from pathlib import Path

import pytest
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "fixtures" / "svg_test_nodes"))
from token_order import TokenOrderProbe, ltxv_guide_rows  # noqa: E402

from test_families import HUNYUAN, LTXV, TEXT, cond, latent, text  # noqa: E402

SPARSE_STEPS = 2            # 3 steps, dense_warmup 0.3
FRAME_RATE = 25


@pytest.fixture(scope="module")
def hunyuan_model(host):
    return host.build("HunyuanVideo", HUNYUAN, seed=11)


class Paired:
    """Each attention call's observation paired with the layout SVG used for it (None: dense)."""

    def __init__(self, host, monkeypatch, probe):
        self.pairs = []
        real_svg = host.patch.sparse_attention
        used = []

        def spy(q, k, v, layout, *args, **kwargs):
            used.append(layout)
            return real_svg(q, k, v, layout, *args, **kwargs)

        monkeypatch.setattr(host.patch, "sparse_attention", spy)
        observe = probe.override

        def paired_override(previous):
            inner = observe(previous)

            def call(func, q, k, v, heads, **kwargs):
                before, seen = len(used), len(probe.observations)
                out = inner(func, q, k, v, heads, **kwargs)
                if len(probe.observations) > seen:
                    self.pairs.append((probe.observations[-1], used[-1] if len(used) > before else None))
                return out

            return call

        probe.override = paired_override


@pytest.mark.parametrize("padding", [True, False], ids=["text-padding-mask", "no-mask"])
@pytest.mark.parametrize("reference", [False, True], ids=["t2v", "ref-latent"])
def test_hunyuan_layout_is_where_the_model_puts_video_and_text(host, hunyuan_model, monkeypatch, padding,
                                                               reference):
    model = host.svg(hunyuan_model)
    diffusion_model = model.get_model_object("diffusion_model")
    probe = TokenOrderProbe(diffusion_model)
    paired = Paired(host, monkeypatch, probe)
    options = model.model_options["transformer_options"]
    options["optimized_attention_override"] = probe.override(options["optimized_attention_override"])
    model.add_wrapper_with_key(host.comfy.patcher_extension.WrappersMP.DIFFUSION_MODEL, "token_order",
                               probe.model_wrapper)
    extras = dict(pooled_output=torch.randn(1, 768))
    if padding:
        mask = torch.ones(1, TEXT, dtype=torch.long)
        mask[:, 6:] = 0                 # two padding tokens: an additive key mask on the text
        extras["attention_mask"] = mask
    ref_tokens = 0
    if reference:
        extras["ref_latent"] = torch.randn(1, 16, 1, 32, 32)
        ref_tokens = 256
    host.sample(model, latent(16, 2, 32, 32), cond(text(), **extras))

    summary = host.report(model).summary
    joint = [(obs, layout) for obs, layout in paired.pairs if obs[2] is not None]
    sparse = [(obs, layout) for obs, layout in joint if layout is not None]
    # one double and one single block: both joint calls of each sparse step ran sparse
    assert summary["sparse_calls"] == len(sparse) == SPARSE_STEPS * 2, summary
    assert {obs[0] for obs, _ in sparse} == {"double", "single"}
    for (block_type, tokens, (start, end)), layout in sparse:
        # the image segment (reference tokens, then the video) is where the model put it
        assert layout.prefix_tokens + layout.video_tokens + layout.suffix_tokens == tokens
        assert (layout.video_start, layout.video_start + layout.video_tokens) == (start + ref_tokens, end), \
            (block_type, tokens, (start, end), layout)
        assert end - start == ref_tokens + 2 * 256
    text_first = {start > 0 for (_, _, (start, _)), _ in joint}
    assert text_first == {host.version_tuple >= (0, 19)}, "this host's joint attention order changed"
    for reason in summary["dense_reasons"]:
        assert reason.startswith(("dense warm-up", "not the video's self-attention: 8 tokens")), summary


# ---------------------------------------------------------------- LTXV guides

@pytest.fixture(scope="module")
def ltxv_model(host):
    return host.build("LTXV", LTXV, seed=21)


def watch_ltxv_positions(host, diffusion_model, monkeypatch):
    """Per model call: (the positional coordinates the model gave its tokens, the ones its own
    patchifier gives the latent without guides, keyframe_idxs)."""
    import comfy.ldm.lightricks.model as ltx
    from comfy.ldm.lightricks.symmetric_patchifier import latent_to_pixel_coords

    seen = []

    def natural(latent_coords):
        return latent_to_pixel_coords(latent_coords=latent_coords, scale_factors=diffusion_model.vae_scale_factors,
                                      causal_fix=diffusion_model.causal_temporal_positioning)

    if hasattr(diffusion_model, "_process_input"):          # 0.19.3: one method builds them
        real = diffusion_model._process_input

        def spy(x, keyframe_idxs, denoise_mask, **kwargs):
            out = real(x, keyframe_idxs, denoise_mask, **kwargs)
            seen.append((out[1], natural(diffusion_model.patchifier.patchify(x)[1]), keyframe_idxs))
            return out

        monkeypatch.setattr(diffusion_model, "_process_input", spy)
    else:                                                   # 0.3.75: built inline in _forward
        real_patchify, real_freqs = diffusion_model.patchifier.patchify, ltx.precompute_freqs_cis
        pending = {}

        def patchify(x, *args, **kwargs):
            out = real_patchify(x, *args, **kwargs)
            pending["natural"] = natural(out[1]).to(torch.float32)
            return out

        def freqs(fractional_coords, *args, **kwargs):
            coords = fractional_coords.clone()
            coords[:, 0] = coords[:, 0] * FRAME_RATE        # back to pixel coordinates
            seen.append((coords, pending.pop("natural"), None))
            return real_freqs(fractional_coords, *args, **kwargs)

        monkeypatch.setattr(diffusion_model.patchifier, "patchify", patchify)
        monkeypatch.setattr(ltx, "precompute_freqs_cis", freqs)
    return seen


def test_ltxv_guide_tokens_are_the_layout_suffix(host, ltxv_model, layouts, monkeypatch):
    """LTXVAddGuide (this host's own node code) appends a guide latent frame; the model overwrites the
    positions of its tokens with keyframe_idxs ([B, 3, K] on 0.3.75, [B, 3, K, 2] on 0.19.3). The
    rows it overwrote must be exactly the layout's global suffix."""
    import comfy_extras.nodes_lt as nodes_lt

    model = host.svg(ltxv_model)
    seen = watch_ltxv_positions(host, model.get_model_object("diffusion_model"), monkeypatch)
    video = latent(128, 2, 16, 16)
    positive = cond(text(), attention_mask=torch.ones(1, TEXT, dtype=torch.long), frame_rate=FRAME_RATE)
    negative = cond(text(), attention_mask=torch.ones(1, TEXT, dtype=torch.long), frame_rate=FRAME_RATE)
    noise_mask = torch.ones(1, 1, 2, 16, 16)
    guide = torch.randn(1, 128, 1, 16, 16)
    positive, negative, video, noise_mask = nodes_lt.LTXVAddGuide.append_keyframe(
        positive, negative, 40, video, noise_mask, guide, 1.0, (8, 32, 32))
    keyframes = positive[0][1]["keyframe_idxs"]
    assert keyframes.dim() == (4 if host.version_tuple >= (0, 19) else 3) and keyframes.shape[2] == 256
    host.sample(model, video, positive, negative, noise_mask=noise_mask)

    summary = host.report(model).summary
    assert summary["sparse_calls"] == SPARSE_STEPS * 2, summary        # 2 blocks, cfg 1
    assert len(seen) == 3 and layouts
    for coords, natural, _ in seen:
        tokens = coords.shape[2]
        guide_rows = ltxv_guide_rows(coords, natural)
        assert guide_rows == list(range(tokens - 256, tokens)), guide_rows[:4]
    for layout in layouts:
        assert (layout.prefix_tokens, layout.video_tokens, layout.suffix_tokens) == (0, 512, 256), layout

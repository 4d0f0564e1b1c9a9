"""Every video DiT family ComfyUI 0.3.75 can load, as a tiny random-weight model built with the host's
own classes (0.3.75 or 0.19.3), sampled through comfy.sample.sample with the SVG node: sparse calls ran, and the layout
the family's adapter derived matches the model's known token counts. Plus an image model (Flux) and
a single-frame Wan run, which stay dense with a reason naming the model.

Sizes: head_dim 128 (what the real models use), latents giving >= 2 latent frames and >= 4 blocks
of 128 video tokens; 3 euler steps, cfg 1 (one model call per step), the first step dense
(dense_warmup 0.3), no dense leading blocks: 2 sparse steps.
"""
from __future__ import annotations

import logging
import os

import pytest
import torch

from svg_pack.svg_attention import VideoLayout

pytestmark = pytest.mark.skipif(
    not os.environ.get("SVG_COMFYUI_DIR"),
    reason="SVG_COMFYUI_DIR is not set: point it at a ComfyUI tree (scripts/test.sh: each host's)")

SPARSE_STEPS = 2            # 3 steps, dense_warmup 0.3: step 0 dense
TEXT = 8                    # prompt tokens in every conditioning here


def text(dim=4096, tokens=TEXT, seed=0):
    return torch.randn(1, tokens, dim, generator=torch.Generator().manual_seed(seed))


def cond(context, **extras):
    return [[context, extras]]


def check(host, model, layouts, expected: VideoLayout, self_attn_per_call: int, allowed=()):
    """The run made every video self-attention call of the sparse steps sparse, with ``expected``."""
    summary = host.report(model).summary
    assert summary["sparse_calls"] == SPARSE_STEPS * self_attn_per_call, summary
    assert set(layouts) == {expected}, layouts
    for reason in summary["dense_reasons"]:
        assert reason.startswith(("dense warm-up", "cross-attention") + tuple(allowed)), summary


def latent(channels, frames, height, width):
    return torch.zeros(1, channels, frames, height, width)


# ---------------------------------------------------------------- Wan 2.1 / 2.2

WAN = dict(model_type="t2v", dim=256, ffn_dim=256, num_heads=2, num_layers=2, in_dim=16, out_dim=16,
           text_dim=4096, freq_dim=256)


@pytest.fixture(scope="module")
def wan_t2v(host):
    return host.build("WAN21_T2V", WAN, seed=1)


def test_wan_t2v(host, wan_t2v, layouts):
    model = host.svg(wan_t2v)
    out = host.sample(model, latent(16, 2, 32, 32), cond(text()))
    assert out.shape == (1, 16, 2, 32, 32) and torch.isfinite(out).all()
    adapter = model.model_options["transformer_options"]["svg_sparse_attention"].adapter
    assert type(adapter).__name__ == "WanAdapter"
    check(host, model, layouts, VideoLayout(2, 256), self_attn_per_call=2)


def test_wan_time_dim_concat_appends_frames(host, wan_t2v, layouts):
    """time_dim_concat (Wan 2.2 fun inpaint / first-last frame nodes) appends latent frames."""
    model = host.svg(wan_t2v)
    extra = torch.randn(1, 16, 1, 32, 32)
    host.sample(model, latent(16, 2, 32, 32), cond(text(), time_dim_concat=extra))
    check(host, model, layouts, VideoLayout(3, 256), self_attn_per_call=2)


def test_wan_single_frame_stays_dense_naming_the_model(host, wan_t2v, layouts):
    model = host.svg(wan_t2v)
    out = host.sample(model, latent(16, 1, 32, 32), cond(text()))
    assert torch.isfinite(out).all()
    summary = host.report(model).summary
    assert summary["sparse_calls"] == 0 and not layouts
    single = [r for r in summary["dense_reasons"] if "single frame" in r]
    assert single and "WanModel" in single[0], summary


def test_wan_video_as_long_as_the_text_stays_dense_and_says_why(host, wan_t2v, layouts):
    """2 frames x 256 tokens = 512 = the text context's length: self- and cross-attention calls look
    alike (both have 512 keys), so every call of the sparse steps stays dense, with the reason;
    with 8 text tokens the same video runs sparse (test_wan_t2v)."""
    model = host.svg(wan_t2v)
    out = host.sample(model, latent(16, 2, 32, 32), cond(text(tokens=512)))
    assert torch.isfinite(out).all()
    summary = host.report(model).summary
    assert summary["sparse_calls"] == 0 and not layouts, summary
    ambiguous = [r for r in summary["dense_reasons"] if "cannot be told apart" in r]
    assert ambiguous and "512 tokens" in ambiguous[0], summary
    # both attention calls of both blocks in the 2 sparse steps
    assert summary["dense_reasons"][ambiguous[0]] == SPARSE_STEPS * 2 * 2, summary


def test_wan_i2v(host, layouts):
    """I2V: the image goes in as extra channels (in_dim 36) and CLIP features through
    cross-attention; the self-attention still covers the video tokens only."""
    base = host.build("WAN21_I2V", dict(WAN, model_type="i2v", in_dim=36), seed=2)
    model = host.svg(base)
    image = torch.randn(1, 16, 2, 32, 32)
    mask = torch.ones(1, 1, 2, 32, 32)
    mask[:, :, 0] = 0
    host.sample(model, latent(16, 2, 32, 32), cond(text(), concat_latent_image=image, concat_mask=mask))
    check(host, model, layouts, VideoLayout(2, 256), self_attn_per_call=2)


def test_wan_reference_image_is_a_prefix(host, layouts):
    """Wan 2.2 Fun Control's reference image: ref_conv tokens in front of the video."""
    base = host.build("WAN21_T2V", dict(WAN, in_dim_ref_conv=16), seed=3)
    model = host.svg(base)
    reference = torch.randn(1, 16, 1, 32, 32)
    host.sample(model, latent(16, 2, 32, 32), cond(text(), reference_latents=[reference]))
    check(host, model, layouts, VideoLayout(2, 256, prefix_tokens=256), self_attn_per_call=2)


def test_wan22_5b_ti2v(host, layouts):
    """Wan 2.2 5B TI2V: 48 latent channels, per-frame timesteps from the denoise mask."""
    base = host.build("WAN22_T2V", dict(WAN, in_dim=48, out_dim=48), seed=4)
    model = host.svg(base)
    noise_mask = torch.ones(1, 1, 3, 32, 32)
    noise_mask[:, :, 0] = 0.0          # first frame given (image to video)
    out = host.sample(model, latent(48, 3, 32, 32), cond(text()), noise_mask=noise_mask)
    assert out.shape == (1, 48, 3, 32, 32) and torch.isfinite(out).all()
    check(host, model, layouts, VideoLayout(3, 256), self_attn_per_call=2)


def test_wan22_14b_two_experts_each_patched(host, layouts):
    """The usual Wan 2.2 14B workflow: two KSamplerAdvanced, the high-noise expert for the first
    steps (returning leftover noise), the low-noise expert for the rest, each through its own SVG
    node. Each patch reports its own run; dense_warmup counts the steps of each sampler."""
    high = host.svg(host.build("WAN21_T2V", WAN, seed=5))
    low = host.svg(host.build("WAN21_T2V", WAN, seed=6))
    start = latent(16, 2, 32, 32)
    positive = cond(text())
    noise = host.comfy.sample.prepare_noise(start, 7)
    mid = host.comfy.sample.sample(high, noise, 4, 1.0, "euler", "simple", positive, positive, start,
                                   start_step=0, last_step=2, force_full_denoise=False, seed=7)
    out = host.comfy.sample.sample(low, torch.zeros_like(mid), 4, 1.0, "euler", "simple", positive,
                                   positive, mid, disable_noise=True, start_step=2, last_step=4,
                                   force_full_denoise=True, seed=7)
    assert torch.isfinite(out).all()
    reports = [host.report(high), host.report(low)]
    assert reports[0] is not reports[1]
    for report in reports:
        assert report.steps == 2
        # 2 steps each, dense_warmup 0.3 -> the first step of each sampler dense, the second sparse
        assert report.summary["sparse_calls"] == 2, report.summary
        assert {step for step, _, labels, *_ in report.records if labels is not None} == {1}
    assert set(layouts) == {VideoLayout(2, 256)}


# ---------------------------------------------------------------- HunyuanVideo

HUNYUAN = dict(in_channels=16, out_channels=16, patch_size=[1, 2, 2], vec_in_dim=768, context_in_dim=4096,
               hidden_size=256, mlp_ratio=2.0, num_heads=2, depth=1, depth_single_blocks=1,
               axes_dim=[16, 56, 56], theta=256, qkv_bias=True, guidance_embed=True, byt5=False,
               meanflow=False, use_cond_type_embedding=False, vision_in_dim=None)
HY_SELF_ATTN = 2            # one double-stream and one single-stream block
HY_ALLOWED = ("not the video's self-attention: 8 tokens",)   # the text refiner (txt_in), text only


def hunyuan_cond(**extras):
    mask = torch.ones(1, TEXT, dtype=torch.long)
    mask[:, 6:] = 0         # two padding tokens: an additive key mask on the text
    return cond(text(), pooled_output=torch.randn(1, 768), attention_mask=mask, **extras)


@pytest.fixture(scope="module")
def hunyuan_t2v(host):
    return host.build("HunyuanVideo", HUNYUAN, seed=11)


def hunyuan_layout(host, image_prefix=0):
    """The layout of this host's HunyuanVideo joint attention: the text after the video in 0.3.75,
    before it (ahead of any reference-image prefix) in 0.19.3. test_token_order.py checks this
    against where the model's own tensors put the tokens."""
    if host.version_tuple >= (0, 19):
        return VideoLayout(2, 256, prefix_tokens=TEXT + image_prefix)
    return VideoLayout(2, 256, prefix_tokens=image_prefix, suffix_tokens=TEXT)


def test_hunyuan_t2v(host, hunyuan_t2v, layouts):
    model = host.svg(hunyuan_t2v)
    out = host.sample(model, latent(16, 2, 32, 32), hunyuan_cond())
    assert torch.isfinite(out).all()
    check(host, model, layouts, hunyuan_layout(host), HY_SELF_ATTN, HY_ALLOWED)


def test_hunyuan_i2v_token_replace(host, hunyuan_t2v, layouts):
    """HunyuanImageToVideo "v2 (replace)": the image replaces the first latent frame and
    guiding_frame_index switches that frame's modulation; the tokens are unchanged."""
    model = host.svg(hunyuan_t2v)
    start = latent(16, 2, 32, 32)
    start[:, :, 0] = torch.randn(1, 16, 32, 32)
    noise_mask = torch.ones(1, 1, 2, 32, 32)
    noise_mask[:, :, 0] = 0.0
    host.sample(model, start, hunyuan_cond(guiding_frame_index=0), noise_mask=noise_mask)
    check(host, model, layouts, hunyuan_layout(host), HY_SELF_ATTN, HY_ALLOWED)


def test_hunyuan_ref_latent_is_a_prefix(host, hunyuan_t2v, layouts):
    """HunyuanImageToVideo "custom": ref_latent tokens in front of the video."""
    model = host.svg(hunyuan_t2v)
    host.sample(model, latent(16, 2, 32, 32), hunyuan_cond(ref_latent=torch.randn(1, 16, 1, 32, 32)))
    check(host, model, layouts, hunyuan_layout(host, image_prefix=256), HY_SELF_ATTN, HY_ALLOWED)


def test_hunyuan_i2v_concat(host, layouts):
    """HunyuanVideo I2V "v1 (concat)": image latent and mask as extra input channels (33)."""
    model = host.svg(host.build("HunyuanVideoI2V", dict(HUNYUAN, in_channels=33), seed=12))
    mask = torch.ones(1, 1, 2, 32, 32)
    mask[:, :, 0] = 0.0
    host.sample(model, latent(16, 2, 32, 32),
                hunyuan_cond(concat_latent_image=torch.randn(1, 16, 1, 32, 32), concat_mask=mask))
    check(host, model, layouts, hunyuan_layout(host), HY_SELF_ATTN, HY_ALLOWED)


# ---------------------------------------------------------------- LTXV

LTXV = dict(in_channels=128, cross_attention_dim=256, attention_head_dim=128, num_attention_heads=2,
            caption_channels=4096, num_layers=2)


@pytest.fixture(scope="module")
def ltxv(host):
    return host.build("LTXV", LTXV, seed=21)


def ltxv_cond():
    return cond(text(), attention_mask=torch.ones(1, TEXT, dtype=torch.long), frame_rate=25)


def test_ltxv_t2v(host, ltxv, layouts):
    model = host.svg(ltxv)
    out = host.sample(model, latent(128, 2, 16, 16), ltxv_cond())
    assert torch.isfinite(out).all()
    check(host, model, layouts, VideoLayout(2, 256), self_attn_per_call=2)


def test_ltxv_guide_frames_are_a_suffix(host, ltxv, layouts):
    """LTXVAddGuide (the host's own code): the guide latent is appended as whole frames at the end of
    the latent, its token positions in keyframe_idxs; those tokens are global, after the video."""
    import comfy_extras.nodes_lt as nodes_lt

    model = host.svg(ltxv)
    video = latent(128, 2, 16, 16)
    positive, negative = ltxv_cond(), ltxv_cond()
    noise_mask = torch.ones(1, 1, 2, 16, 16)
    guide = torch.randn(1, 128, 1, 16, 16)
    positive, negative, video, noise_mask = nodes_lt.LTXVAddGuide.append_keyframe(
        positive, negative, 8, video, noise_mask, guide, 1.0, (8, 32, 32))
    assert video.shape[2] == 3 and positive[0][1]["keyframe_idxs"].shape[2] == 256
    out = host.sample(model, video, positive, negative, noise_mask=noise_mask)
    assert torch.isfinite(out).all()
    check(host, model, layouts, VideoLayout(2, 256, suffix_tokens=256), self_attn_per_call=2)


# ---------------------------------------------------------------- Mochi

MOCHI = dict(patch_size=2, num_heads=2, hidden_size_x=256, hidden_size_y=128, depth=2,
             mlp_ratio_x=48.0,      # 0.3.75 asserts the MLP width of the real model (1536 * 8)
             mlp_ratio_y=2.0, learn_sigma=False, in_channels=12, qk_norm=True, qkv_bias=False, out_bias=True,
             attn_drop=0.0, patch_embed_bias=True, posenc_preserve_area=True, timestep_mlp_bias=True,
             attend_to_padding=False, timestep_scale=1000.0, use_t5=True, t5_feat_dim=4096,
             t5_token_length=256, rope_theta=10000.0)


def test_mochi_text_after_video(host, layouts):
    """Joint attention with the real prompt tokens (num_tokens of the T5 mask) after the video. The
    model has no DIFFUSION_MODEL wrapper in 0.3.75: the call is read at apply_model."""
    model = host.svg(host.build("GenmoMochi", MOCHI, seed=31))
    mask = torch.zeros(1, TEXT, dtype=torch.long)
    mask[:, :5] = 1
    out = host.sample(model, latent(12, 2, 32, 32), cond(text(), attention_mask=mask))
    assert torch.isfinite(out).all()
    check(host, model, layouts, VideoLayout(2, 256, suffix_tokens=5), self_attn_per_call=2)
    # the apply-model hook is registered per run, in the run's own options only
    assert "apply_model" not in model.model_options["transformer_options"].get("wrappers", {})


# ---------------------------------------------------------------- Cosmos

COSMOS_COMMON = dict(max_img_h=240, max_img_w=240, max_frames=128, in_channels=16, out_channels=16,
                     patch_spatial=2, patch_temporal=1, model_channels=256, concat_padding_mask=True,
                     crossattn_emb_channels=1024, pos_emb_cls="rope3d", pos_emb_interpolation="crop",
                     use_adaln_lora=True, adaln_lora_dim=64, num_blocks=2, num_heads=2,
                     extra_per_block_abs_pos_emb=False, rope_h_extrapolation_ratio=1.0,
                     rope_w_extrapolation_ratio=1.0, rope_t_extrapolation_ratio=1.0)


def test_cosmos_predict2(host, layouts):
    config = dict(COSMOS_COMMON, pos_emb_learnable=True, min_fps=1, max_fps=30, rope_enable_fps_modulation=False)
    model = host.svg(host.build("CosmosT2IPredict2", config, seed=41))
    out = host.sample(model, latent(16, 2, 32, 32), cond(text(1024)))
    assert torch.isfinite(out).all()
    check(host, model, layouts, VideoLayout(2, 256), self_attn_per_call=2)


def test_cosmos_1(host, layouts):
    config = dict(COSMOS_COMMON, block_config="FA-CA-MLP", pos_emb_learnable=False, block_x_format="THWBD",
                  affline_emb_norm=True, extra_per_block_abs_pos_emb=True,      # 0.3.75 needs it
                  extra_per_block_abs_pos_emb_type="learnable", max_img_h=64, max_img_w=64, max_frames=16)
    model = host.svg(host.build("CosmosT2V", config, seed=42))
    out = host.sample(model, latent(16, 2, 32, 32), cond(text(1024)))
    assert torch.isfinite(out).all()
    check(host, model, layouts, VideoLayout(2, 256), self_attn_per_call=2)


# ---------------------------------------------------------------- an image model

FLUX = dict(image_model="flux", in_channels=16, out_channels=16, vec_in_dim=768, context_in_dim=4096,
            hidden_size=256, mlp_ratio=2.0, num_heads=2, depth=1, depth_single_blocks=1,
            axes_dim=[16, 56, 56], theta=10000, patch_size=2, qkv_bias=True, guidance_embed=False)


def test_flux_stays_dense_and_says_why(host, layouts, caplog):
    base = host.build("Flux", FLUX, seed=51)
    with caplog.at_level(logging.INFO, logger="svg_sparse_attention"):
        model = host.svg(base)
    stays = [r.getMessage() for r in caplog.records if "stays dense" in r.getMessage()]
    assert len(stays) == 1 and "Flux" in stays[0], stays
    image = torch.zeros(1, 16, 32, 32)
    positive = cond(text(), pooled_output=torch.randn(1, 768))
    out = host.sample(model, image, positive)
    reference = host.sample(base, image, positive)
    assert torch.equal(out, reference)
    summary = host.report(model).summary
    assert summary["sparse_calls"] == 0 and not layouts
    assert summary["dense_reasons"] and all("Flux" in r for r in summary["dense_reasons"]), summary

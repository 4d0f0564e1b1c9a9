"""Family layouts through the real server, with the models the tiny host has
(scripts/make_tiny_models.py: Wan 2.1 T2V / I2V, Wan 2.2 5B TI2V, HunyuanVideo T2V, LTX-Video,
Cosmos Predict2 video2world):

- Wan 2.2 14B's usual workflow: two experts (high noise, low noise), two KSamplerAdvanced, each
  sampler with its own SVG-patched model; the tiny Wan T2V file stands in for both experts
  (Wan 2.2 14B loads as the same model class).
- HunyuanImageToVideo's guidance modes that the T2V model can take: "v2 (replace)" (the image
  replaces the first latent frame, guiding_frame_index) and "custom" (ref_latent: the image's
  tokens in front of the video).
- Wan 2.2 5B TI2V: 48 latent channels, the start image through Wan22ImageToVideoLatent's
  latent and denoise mask (per-frame timesteps), tokens unchanged.
- LTX-Video T2V: a tiny checkpoint whose transformer config is in the file's metadata (as
  0.3.75's detection reads it); attn1 is the video's self-attention, the text (attn2) stays dense.
- Cosmos Predict2 video2world: a tiny MiniTrainDIT (width 192; the 10 blocks of 16 heads that
  0.3.75's detection gives a width it does not know), the start image through
  CosmosPredict2ImageToVideoLatent's latent and noise mask; the text only in cross-attention.

The other families (Mochi, Cosmos 1.0, other Wan variants, CogVideoX, LTXV guides) are covered
in-process in tests/comfy: 0.3.75's detection cannot load Mochi at a tiny size.
"""
import re

import pytest
import torch

from svg_graphs import SEED, Graph, load_latent, svg_settings
from tiny_workflow import FAMILY_MODELS, HEIGHT, LENGTH, MODELS, WIDTH, unique_prefix

VIDEO_TOKENS = 4 * 16 * 16      # 13 frames at 256x256: 4 latent frames of 16 x 16 patches
NOT_VIDEO = re.compile(r"not the video's self-attention: (\d+) tokens")
LAYOUT = re.compile(r"sparse: VideoLayout\(num_frames=(\d+), frame_tokens=(\d+), prefix_tokens=(\d+), "
                    r"suffix_tokens=(\d+)\)")


TOKEN_ORDER = re.compile(r"\[SVG-test\] token order: (\w+) block, (\d+) tokens, image tokens at \[(\d+), (\d+)\)")


def token_order(result):
    """(block type, tokens, (start, end)) of the image tokens in each joint attention the token
    order probe observed (HunyuanVideo); fails when a joint attention's image tokens were not found."""
    assert "image tokens not found" not in result.log, result.log
    return {(m.group(1), int(m.group(2)), (int(m.group(3)), int(m.group(4))))
            for m in TOKEN_ORDER.finditer(result.log)}


def layouts(result):
    """(frames, frame_tokens, prefix, suffix) of every layout the prompt's runs logged (verbose)."""
    return {tuple(int(n) for n in m.groups()) for m in LAYOUT.finditer(result.log)}


def only_text_calls_missed(summary):
    """Every "not the video's self-attention" fallback was a call shorter than the video (the
    HunyuanVideo text refiner), never a video self-attention the layout failed to match."""
    for reason in summary["dense_reasons"]:
        match = NOT_VIDEO.search(reason)
        if match:
            assert int(match.group(1)) < VIDEO_TOKENS, summary["_line"]


def test_wan22_two_experts_each_patched(comfy_server, output_dir):
    g = Graph()
    clip = g.add("SVGTestCLIPLoader", model_family="wan")
    positive, negative = g.prompts(clip)
    latent = [g.add("EmptyHunyuanLatentVideo", width=WIDTH, height=HEIGHT, length=LENGTH, batch_size=1), 0]
    experts = []
    for density, seed in ((0.25, 0), (0.2, 1)):
        unet = g.add("UNETLoader", unet_name=MODELS["wan_t2v"]["file"], weight_dtype="default")
        settings = svg_settings(sparsity=1 - density, dense_warmup=0.25, dense_blocks=0, profile_seed=seed,
                                verbose=True)
        experts.append([g.add("SVGSparseAttention", model=[unet, 0], **settings), 0])
    common = dict(noise_seed=SEED, steps=4, cfg=5.0, sampler_name="euler", scheduler="simple",
                  positive=positive, negative=negative)
    high = g.add("KSamplerAdvanced", model=experts[0], add_noise="enable", latent_image=latent,
                 start_at_step=0, end_at_step=2, return_with_leftover_noise="enable", **common)
    low = g.add("KSamplerAdvanced", model=experts[1], add_noise="disable", latent_image=[high, 0],
                start_at_step=2, end_at_step=10000, return_with_leftover_noise="disable", **common)
    save = g.add("SaveLatent", samples=[low, 0], filename_prefix=unique_prefix("wan22_two_experts"))

    result = comfy_server.run(g.nodes, summaries=2)
    summaries = sorted(result.summaries, key=lambda s: s["requested_density"])
    assert len(summaries) == 2, result.log
    assert [s["requested_density"] for s in summaries] == pytest.approx([0.2, 0.25])
    for s in summaries:
        # each sampler runs 2 of the 4 steps: its first step dense (warm-up), its second sparse
        assert s["sparse_calls"] > 0 and s["dense_reasons"], s["_line"]
        assert any(r.startswith("dense warm-up") for r in s["dense_reasons"]), s["_line"]
        only_text_calls_missed(s)
    assert layouts(result) == {(4, 256, 0, 0)}, result.log
    latent = load_latent(output_dir, result, save)
    assert latent.shape == (1, 16, 4, 32, 32)


@pytest.mark.parametrize("guidance_type", ["v2 (replace)", "custom"])
def test_hunyuan_image_to_video_guidance(comfy_server, output_dir, comfy_version, guidance_type):
    """HunyuanImageToVideo's guidance modes on the T2V model, with the token order probe
    (tests/fixtures/svg_test_nodes/token_order.py) after the SVG node: every joint attention's image
    tokens, where the model's own tensors have them, must be where SVG's layout put the video."""
    g = Graph()
    unet = g.add("UNETLoader", unet_name=MODELS["hunyuan_t2v"]["file"], weight_dtype="default")
    clip = g.add("SVGTestCLIPLoader", model_family="hunyuan_video")
    vae = g.add("SVGTestVAELoader", model_family="hunyuan_video")
    text, negative = g.prompts(clip, negative="blurry")
    image = g.add("EmptyImage", width=WIDTH, height=HEIGHT, batch_size=1, color=0x3366AA)
    i2v = g.add("HunyuanImageToVideo", positive=text, vae=[vae, 0], width=WIDTH, height=HEIGHT,
                length=LENGTH, batch_size=1, guidance_type=guidance_type, start_image=[image, 0])
    positive = g.add("FluxGuidance", conditioning=[i2v, 0], guidance=6.0)
    model = g.add("SVGSparseAttention", model=[unet, 0],
                  **svg_settings(dense_warmup=0.2, dense_blocks=0, verbose=True))
    probed = g.add("SVGTestTokenOrderProbe", model=[model, 0])
    ks = g.ksampler(probed, [positive, 0], negative, [i2v, 1], steps=5, cfg=1.0)
    save = g.add("SaveLatent", samples=[ks, 0], filename_prefix=unique_prefix(f"hunyuan_i2v_{guidance_type[:2]}"))

    result = comfy_server.run(g.nodes, summaries=1)
    s = result.summaries[0]
    assert s["sparse_calls"] > 0, s["_line"]
    only_text_calls_missed(s)
    # the video's 4 frames of 16 x 16 tokens; "custom": the image's 16 x 16 tokens in front of them;
    # the text (its length set by the test encoder) before them (0.19.3) or after them (0.3.75):
    # the layout SVG used must put the image tokens where the model really has them
    image = 256 if guidance_type == "custom" else 0
    (found,) = layouts(result)
    frames, frame_tokens, prefix, suffix = found
    assert (frames, frame_tokens) == (4, 256) and prefix + suffix > image, result.log
    observed = token_order(result)
    assert {kind for kind, _, _ in observed} == {"double", "single"}, result.log
    for kind, tokens, span in observed:
        assert span == (prefix - image, prefix + VIDEO_TOKENS), (kind, tokens, span, found)
        assert tokens == prefix + VIDEO_TOKENS + suffix
    text_first = comfy_version.split(".")[:2] != ["0", "3"]
    assert (prefix > image) == text_first and (suffix > 0) == (not text_first), (comfy_version, found)
    assert load_latent(output_dir, result, save).shape == (1, 16, 4, 32, 32)


def test_wan22_5b_ti2v_start_image(comfy_server, output_dir):
    """The 5B TI2V model (in_dim 48, loaded by UNETLoader as WAN22_T2V) with a start image: the
    image's latent is the first latent frame, the denoise mask keeps it (per-frame timesteps).
    512x512 with the Wan 2.2 VAE's 16x compression: 32 x 32 latent, 16 x 16 tokens a frame."""
    g = Graph()
    unet = g.add("UNETLoader", unet_name=FAMILY_MODELS["wan22_ti2v_5b"]["file"],
                 weight_dtype="default")
    clip = g.add("SVGTestCLIPLoader", model_family="wan")
    vae = g.add("SVGTestVAELoader", model_family="wan22")
    positive, negative = g.prompts(clip)
    image = g.add("EmptyImage", width=2 * WIDTH, height=2 * HEIGHT, batch_size=1, color=0x3366AA)
    latent = g.add("Wan22ImageToVideoLatent", vae=[vae, 0], width=2 * WIDTH, height=2 * HEIGHT,
                   length=LENGTH, batch_size=1, start_image=[image, 0])
    model = g.add("SVGSparseAttention", model=[unet, 0],
                  **svg_settings(dense_warmup=0.2, dense_blocks=0, verbose=True))
    ks = g.ksampler(model, positive, negative, [latent, 0], steps=5, cfg=5.0)
    save = g.add("SaveLatent", samples=[ks, 0], filename_prefix=unique_prefix("wan22_ti2v_5b"))

    result = comfy_server.run(g.nodes, summaries=1)
    s = result.summaries[0]
    assert s["sparse_calls"] > 0, s["_line"]
    only_text_calls_missed(s)
    assert layouts(result) == {(4, 256, 0, 0)}, result.log
    out = load_latent(output_dir, result, save)
    assert out.shape == (1, 48, 4, 32, 32)


def test_ltxv_t2v(comfy_server, output_dir):
    """LTX-Video through UNETLoader (detected as LTXV from the tiny file's config metadata):
    512x512, 25 frames: a 128-channel latent of 4 frames of 16 x 16 (VAE 32x, patch 1)."""
    g = Graph()
    unet = g.add("UNETLoader", unet_name=FAMILY_MODELS["ltxv_t2v"]["file"],
                 weight_dtype="default")
    clip = g.add("SVGTestCLIPLoader", model_family="ltxv")
    positive, negative = g.prompts(clip)
    cond = g.add("LTXVConditioning", positive=positive, negative=negative, frame_rate=25.0)
    latent = g.add("EmptyLTXVLatentVideo", width=2 * WIDTH, height=2 * HEIGHT, length=25, batch_size=1)
    model = g.add("SVGSparseAttention", model=[unet, 0],
                  **svg_settings(dense_warmup=0.2, dense_blocks=0, verbose=True))
    ks = g.ksampler(model, [cond, 0], [cond, 1], [latent, 0], steps=5, cfg=3.0)
    save = g.add("SaveLatent", samples=[ks, 0], filename_prefix=unique_prefix("ltxv_t2v"))

    result = comfy_server.run(g.nodes, summaries=1)
    s = result.summaries[0]
    assert s["sparse_calls"] > 0, s["_line"]
    only_text_calls_missed(s)
    assert layouts(result) == {(4, 256, 0, 0)}, result.log
    assert load_latent(output_dir, result, save).shape == (1, 128, 4, 16, 16)


def test_cosmos_predict2_image_to_video(comfy_server, output_dir):
    """Cosmos Predict2 video2world (17 input channels: the latent plus the condition mask; loaded
    by UNETLoader as CosmosI2VPredict2) at 256x256, 13 frames: 4 latent frames of 16 x 16
    patches, the self-attention over the video tokens only. The start image's latent is the first
    latent frame; the noise mask keeps it through sampling."""
    g = Graph()
    unet = g.add("UNETLoader", unet_name=FAMILY_MODELS["cosmos_predict2_i2v"]["file"],
                 weight_dtype="default")
    clip = g.add("SVGTestCLIPLoader", model_family="cosmos")
    vae = g.add("SVGTestVAELoader", model_family="cosmos")
    positive, negative = g.prompts(clip)
    image = g.add("EmptyImage", width=WIDTH, height=HEIGHT, batch_size=1, color=0x3366AA)
    latent = g.add("CosmosPredict2ImageToVideoLatent", vae=[vae, 0], width=WIDTH, height=HEIGHT,
                   length=LENGTH, batch_size=1, start_image=[image, 0])
    # 0.3.75 gives this width 10 blocks of 16 heads, several times the other tiny models' work:
    # 3 steps (the first dense, then 2 sparse) and cfg 1 (one model call per step)
    model = g.add("SVGSparseAttention", model=[unet, 0],
                  **svg_settings(dense_warmup=0.3, dense_blocks=0, verbose=True))
    ks = g.ksampler(model, positive, negative, [latent, 0], steps=3, cfg=1.0)
    save_in = g.add("SaveLatent", samples=[latent, 0], filename_prefix=unique_prefix("cosmos_in"))
    save = g.add("SaveLatent", samples=[ks, 0], filename_prefix=unique_prefix("cosmos_p2_i2v"))

    result = comfy_server.run(g.nodes, summaries=1)
    s = result.summaries[0]
    # 10 blocks: the warm-up step's 10 self- and 10 cross-attention calls dense; in each of the 2
    # sparse steps the 10 self-attention calls sparse, the 10 cross-attention calls dense
    assert s["sparse_calls"] == 20, s["_line"]
    assert s["dense_reasons"] == {"dense warm-up (30% of the steps)": 20,
                                  "cross-attention (query and key lengths differ)": 20}, s["_line"]
    assert layouts(result) == {(4, 256, 0, 0)}, result.log
    start = load_latent(output_dir, result, save_in)
    out = load_latent(output_dir, result, save)
    assert out.shape == start.shape == (1, 16, 4, 32, 32)
    assert torch.isfinite(out).all()
    # the conditioned frame is the start image's latent, the others were sampled
    assert torch.allclose(out[:, :, 0], start[:, :, 0], atol=1e-4), (out[:, :, 0] - start[:, :, 0]).abs().max()
    assert not torch.allclose(out[:, :, 1:], start[:, :, 1:], atol=1e-2)

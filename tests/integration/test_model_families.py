"""Family layouts through the real server, with the models the tiny host has
(scripts/make_tiny_models.py: Wan 2.1 T2V / I2V, HunyuanVideo T2V):

- Wan 2.2 14B's usual workflow: two experts (high noise, low noise), two KSamplerAdvanced, each
  sampler with its own SVG-patched model; the tiny Wan T2V file stands in for both experts
  (Wan 2.2 14B loads as the same model class).
- HunyuanImageToVideo's guidance modes that the T2V model can take: "v2 (replace)" (the image
  replaces the first latent frame, guiding_frame_index) and "custom" (ref_latent: the image's
  tokens in front of the video).

The other families (LTXV, Mochi, Cosmos, Wan variants, CogVideoX) are covered in-process in
tests/comfy: the tiny host has no models for them.
"""
import re

import pytest

from svg_graphs import SEED, Graph, load_latent, svg_settings
from tiny_workflow import HEIGHT, LENGTH, MODELS, WIDTH, unique_prefix

VIDEO_TOKENS = 4 * 16 * 16      # 13 frames at 256x256: 4 latent frames of 16 x 16 patches
NOT_VIDEO = re.compile(r"not the video's self-attention: (\d+) tokens")
LAYOUT = re.compile(r"sparse: VideoLayout\(num_frames=(\d+), frame_tokens=(\d+), prefix_tokens=(\d+), "
                    r"suffix_tokens=(\d+)\)")


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
    positive = [g.add("CLIPTextEncode", text="a red fox running through snow", clip=[clip, 0]), 0]
    negative = [g.add("CLIPTextEncode", text="blurry, static", clip=[clip, 0]), 0]
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
def test_hunyuan_image_to_video_guidance(comfy_server, output_dir, guidance_type):
    g = Graph()
    unet = g.add("UNETLoader", unet_name=MODELS["hunyuan_t2v"]["file"], weight_dtype="default")
    clip = g.add("SVGTestCLIPLoader", model_family="hunyuan_video")
    vae = g.add("SVGTestVAELoader", model_family="hunyuan_video")
    text = g.add("CLIPTextEncode", text="a red fox running through snow", clip=[clip, 0])
    negative = g.add("CLIPTextEncode", text="blurry", clip=[clip, 0])
    image = g.add("EmptyImage", width=WIDTH, height=HEIGHT, batch_size=1, color=0x3366AA)
    i2v = g.add("HunyuanImageToVideo", positive=[text, 0], vae=[vae, 0], width=WIDTH, height=HEIGHT,
                length=LENGTH, batch_size=1, guidance_type=guidance_type, start_image=[image, 0])
    positive = g.add("FluxGuidance", conditioning=[i2v, 0], guidance=6.0)
    model = g.add("SVGSparseAttention", model=[unet, 0],
                  **svg_settings(dense_warmup=0.2, dense_blocks=0, verbose=True))
    ks = g.add("KSampler", model=[model, 0], seed=SEED, steps=5, cfg=1.0, sampler_name="euler",
               scheduler="simple", positive=[positive, 0], negative=[negative, 0], latent_image=[i2v, 1],
               denoise=1.0)
    save = g.add("SaveLatent", samples=[ks, 0], filename_prefix=unique_prefix(f"hunyuan_i2v_{guidance_type[:2]}"))

    result = comfy_server.run(g.nodes, summaries=1)
    s = result.summaries[0]
    assert s["sparse_calls"] > 0, s["_line"]
    only_text_calls_missed(s)
    # the video's 4 frames of 16 x 16 tokens; "custom": the image's 16 x 16 tokens in front of them;
    # the text (its length set by the test encoder) after them
    (found,) = layouts(result)
    prefix = 256 if guidance_type == "custom" else 0
    assert found[:3] == (4, 256, prefix) and found[3] > 0, result.log
    assert load_latent(output_dir, result, save).shape == (1, 16, 4, 32, 32)

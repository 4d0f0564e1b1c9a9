"""API-format graphs for the integration tests (tiny models, test-double encoders)."""
from __future__ import annotations

from pathlib import Path

import torch
from safetensors.torch import load_file

from tiny_workflow import HEIGHT, LENGTH, MODELS, STEPS, WIDTH, unique_prefix

SEED = 7

SVG_DEFAULTS = {"sparsity": 0.75, "dense_warmup": 0.2, "dense_blocks": 1, "sampled_rows": 64,
                "backend": "auto", "profile_seed": 0, "verbose": False}


def svg_settings(**overrides) -> dict:
    unknown = set(overrides) - set(SVG_DEFAULTS)
    assert not unknown, unknown
    return {**SVG_DEFAULTS, **overrides}


class Graph:
    def __init__(self):
        self.nodes: dict[str, dict] = {}

    def add(self, class_type: str, **inputs) -> str:
        nid = str(len(self.nodes) + 1)
        self.nodes[nid] = {"class_type": class_type, "inputs": inputs}
        return nid

    def prompts(self, clip: str, positive: str = "a red fox running through snow",
                negative: str = "blurry, static") -> tuple:
        """Positive and negative CLIPTextEncode of one text encoder: ([id, 0], [id, 0])."""
        return ([self.add("CLIPTextEncode", text=positive, clip=[clip, 0]), 0],
                [self.add("CLIPTextEncode", text=negative, clip=[clip, 0]), 0])

    def ksampler(self, model: str, positive, negative, latent, steps: int, cfg: float) -> str:
        """KSampler (euler, simple, full denoise, the tests' seed); positive/negative/latent are
        [node, output] references."""
        return self.add("KSampler", model=[model, 0], seed=SEED, steps=steps, cfg=cfg, sampler_name="euler",
                        scheduler="simple", positive=positive, negative=negative, latent_image=latent,
                        denoise=1.0)


def sampling_graph(model_key: str, samplers: list, tag: str = "run", steps: int = STEPS):
    """One loaded model feeding len(samplers) KSamplers, each saving its latent.

    samplers: list of SVG settings dicts, or None for a sampler on the unpatched model.
    Returns (graph, [SaveLatent node id per sampler]).
    """
    spec = MODELS[model_key]
    g = Graph()
    unet = g.add("UNETLoader", unet_name=spec["file"], weight_dtype="default")
    clip = g.add("SVGTestCLIPLoader", model_family=spec["family"])
    pos = g.add("CLIPTextEncode", text="a red fox running through snow, tracking shot", clip=[clip, 0])
    neg = g.add("CLIPTextEncode", text="blurry, static, low quality", clip=[clip, 0])
    if spec["family"] == "hunyuan_video":
        # guidance-distilled: the guidance goes into the conditioning, cfg stays 1
        pos = g.add("FluxGuidance", conditioning=[pos, 0], guidance=6.0)
        cfg = 1.0
    else:
        cfg = 5.0
    positive, negative = [pos, 0], [neg, 0]
    if spec["i2v"]:
        vae = g.add("SVGTestVAELoader", model_family=spec["family"])
        image = g.add("EmptyImage", width=WIDTH, height=HEIGHT, batch_size=1, color=0x3366AA)
        vision = g.add("SVGTestCLIPVisionLoader")
        vout = g.add("CLIPVisionEncode", clip_vision=[vision, 0], image=[image, 0], crop="center")
        i2v = g.add("WanImageToVideo", positive=positive, negative=negative, vae=[vae, 0],
                    width=WIDTH, height=HEIGHT, length=LENGTH, batch_size=1,
                    clip_vision_output=[vout, 0], start_image=[image, 0])
        positive, negative, latent = [i2v, 0], [i2v, 1], [i2v, 2]
    else:
        latent = [g.add("EmptyHunyuanLatentVideo", width=WIDTH, height=HEIGHT, length=LENGTH,
                        batch_size=1), 0]
    saves = []
    for i, settings in enumerate(samplers):
        model = [unet, 0]
        if settings is not None:
            model = [g.add("SVGSparseAttention", model=model, **settings), 0]
        ks = g.add("KSampler", model=model, seed=SEED, steps=steps, cfg=cfg, sampler_name="euler",
                   scheduler="simple", positive=positive, negative=negative, latent_image=latent,
                   denoise=1.0)
        saves.append(g.add("SaveLatent", samples=[ks, 0],
                           filename_prefix=unique_prefix(f"{tag}_{model_key}_{i}")))
    return g.nodes, saves


def load_latent(output_dir: Path, result, save_node: str) -> torch.Tensor:
    files = result.output_files(save_node)
    assert len(files) == 1, f"SaveLatent {save_node} wrote {files}"
    _, subfolder, name = files[0]
    return load_file(str(Path(output_dir) / subfolder / name))["latent_tensor"]

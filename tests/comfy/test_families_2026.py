"""The video families of 2026 (issue #13 part 3), in-process, on the tiny checkpoints
scripts/tiny_models_2026.py defines, loaded through ComfyUI's own detection
(comfy.sd.load_diffusion_model_state_dict) of the tree in SVG_COMFYUI_DIR. A family the tree does
not detect (ComfyUI 0.3.75: LTX-2, Kandinsky 5, SCAIL, FlowRVS) is skipped with that reason.

Where the model REALLY puts its tokens is found by probing, independently of the adapters: the
same one-step sampling run is repeated with one latent element changed (or one reference /
pose / audio input), and the rows of the query of the first sparse attention call that change
are the tokens that element became (everything before a block's first attention is per token).
Each probe row is then compared with the row the layout SVG used for that call puts it at:
video token (frame f, position p) at prefix + f * frame_tokens + p; reference, motion and pose
tokens inside the prefix / suffix the layout keeps global. Every sparse call's layout is
recorded, and the dense calls' reasons are checked (audio, text, cross-attention).
"""
from __future__ import annotations

import dataclasses
import re
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import torch

from svg_pack.svg_attention import VideoLayout

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))
import make_tiny_models  # noqa: E402
import tiny_models_2026  # noqa: E402

_MODELS = {}


@pytest.fixture(scope="module", autouse=True)
def _release_models():
    """The tiny models are built once per module and dropped at its end (not at interpreter exit,
    when ComfyUI's ModelPatcher.__del__ can no longer run)."""
    yield
    _MODELS.clear()


def comfy_version(host) -> tuple:
    text = (host.path / "comfyui_version.py").read_text()
    return tuple(int(n) for n in re.search(r'"(\d+)\.(\d+)\.(\d+)"', text).groups())


def tiny(host, name):
    """The tiny checkpoint ``name`` as this ComfyUI loads it (state dict in memory, its detection)."""
    spec = tiny_models_2026.SPECS[name]
    why = tiny_models_2026.unavailable(spec)
    if why:
        pytest.skip(f"{name}: {why}")
    if name not in _MODELS:
        import comfy.sd
        sd = tiny_models_2026.build(spec, make_tiny_models._init_params)
        extra = {"metadata": spec["metadata"]} if "metadata" in spec else {}
        patcher = comfy.sd.load_diffusion_model_state_dict(sd, **extra)
        assert type(patcher.model.model_config).__name__ == spec["supported"]
        _MODELS[name] = patcher
    return _MODELS[name]


@dataclasses.dataclass
class Case:
    """One family's probe: the latent (a tensor, or [video, audio] for LTX-2), the conditioning
    entries, where latent element (t, h, w) lands (frame, position in frame), and the global
    inputs to perturb: name -> (function returning the perturbed cond extras, "prefix"/"suffix")."""

    latent: object
    cond: dict
    token_of: object
    globals: dict = dataclasses.field(default_factory=dict)
    text: tuple = (20, 4096)              # prompt tokens, width of the text encoder's output


class Spy:
    """Records (layout, query) of every sparse attention call of a run."""

    def __init__(self, host, monkeypatch):
        self.calls = []
        real = host.patch.sparse_attention

        def spy(q, k, v, layout, *args, **kwargs):
            self.calls.append((layout, q.detach().clone()))
            return real(q, k, v, layout, *args, **kwargs)

        monkeypatch.setattr(host.patch, "sparse_attention", spy)


def run(host, model, case: Case, spy: Spy, cond=None, element=None):
    """One 1-step sampling run (one model call, cfg 1), with latent ``element`` (an index into the
    video latent) raised where given; returns (first sparse call's layout, its query, all sparse
    calls' layouts, the run's summary)."""
    import comfy.nested_tensor
    import comfy.sample

    spy.calls.clear()
    latent = case.latent
    nested = isinstance(latent, (list, tuple))
    if nested:
        latent = comfy.nested_tensor.NestedTensor(tuple(t.clone() for t in latent))
    else:
        latent = latent.clone()
    noise = comfy.sample.prepare_noise(latent, 7)
    video_noise = noise.unbind()[0] if nested else noise
    video_latent = latent.unbind()[0] if nested else latent
    if element is not None:           # in both the noise and the latent: flow models start from
        video_noise[element] += 3.0   # the noise, FlowRVS from the latent
        video_latent[element] += 3.0
    positive = [[randn(1, *case.text, seed=1), dict(case.cond if cond is None else cond)]]
    out = comfy.sample.sample(model, noise, 1, 1.0, "euler", "simple", positive, positive, latent,
                              denoise=1.0, seed=7)
    assert torch.isfinite(out.unbind()[0] if nested else out).all()
    report = host.report(model)
    assert spy.calls, f"no sparse call: {report.summary}"
    first_layout, first_q = spy.calls[0]
    return first_layout, first_q, [layout for layout, _ in spy.calls], report.summary


def changed_rows(q0, q1) -> list:
    """Token rows (axis 2 of [B, H, N, D]) whose query changed."""
    diff = (q1.float() - q0.float()).abs().amax(dim=(0, 1, 3))
    return torch.nonzero(diff > 1e-4 * max(1.0, float(q0.float().abs().max()))).flatten().tolist()


def probe(host, name, case: Case, monkeypatch, video_points, expect_reasons=()):
    """Run the probes of one family; return the layouts of all sparse calls of the base run."""
    model = host.svg(tiny(host, name), dense_warmup=0.0, dense_blocks=0)
    spy = Spy(host, monkeypatch)
    layout, q0, layouts, summary = run(host, model, case, spy)
    assert summary["sparse_calls"] > 0
    for point in video_points:                       # (t, h, w) in the latent
        index = (0, 0) + tuple(point)
        layout1, q1, _, _ = run(host, model, case, spy, element=index)
        assert layout1 == layout
        frame, position = case.token_of(*point)
        want = layout.video_start + frame * layout.frame_tokens + position
        assert changed_rows(q0, q1) == [want], (point, layout, changed_rows(q0, q1))
    for what, (perturbed, region) in case.globals.items():
        _, q1, _, _ = run(host, model, case, spy, cond=perturbed())
        rows = changed_rows(q0, q1)
        assert rows, f"{what}: no query row changed"
        if region == "prefix":
            inside = all(r < layout.video_start for r in rows)
        else:
            inside = all(r >= layout.video_start + layout.video_tokens for r in rows)
        assert inside, (what, region, layout, rows[:5], rows[-5:])
    for reason in expect_reasons:
        assert any(re.search(reason, r) for r in summary["dense_reasons"]), summary["dense_reasons"]
    return layouts, summary


def randn(*shape, seed=0):
    return torch.randn(shape, generator=torch.Generator().manual_seed(seed))


def wan_token(t, h, w, width=32):
    return t, (h // 2) * (width // 2) + (w // 2)


WAN_LATENT = (1, 16, 4, 32, 32)   # 4 latent frames of 16 x 16 patches: 1024 video tokens
WAN_POINTS = [(0, 0, 0), (3, 31, 31), (1, 17, 6)]


# ----------------------------------------------------------------------------- Wan variants
def test_wan_vace_both_streams_on_the_video_grid(host, monkeypatch):
    """VACE: main blocks and the VACE context block attend over the video grid; with 2 main
    blocks and 1 VACE block, 3 sparse calls per model call, all one layout."""
    vace = randn(1, 32, 4, 32, 32, seed=3)
    case = Case(torch.zeros(WAN_LATENT), {"vace_frames": [vace], "vace_mask": [torch.ones(1, 64, 4, 32, 32)],
                                          "vace_strength": [1.0]}, wan_token)
    layouts, summary = probe(host, "svg_tiny_wan21_vace.safetensors", case, monkeypatch, WAN_POINTS)
    assert layouts == [VideoLayout(4, 256)] * 3, layouts


def test_wan_camera_video_only(host, monkeypatch):
    camera = randn(1, 24, 4, 256, 256, seed=4) * 0.1
    case = Case(torch.zeros(WAN_LATENT), {"camera_conditions": camera}, wan_token)
    layouts, _ = probe(host, "svg_tiny_wan21_camera.safetensors", case, monkeypatch, WAN_POINTS)
    assert {(l.prefix_tokens, l.suffix_tokens) for l in layouts} == {(0, 0)}


def test_wan_animate_video_only_with_pose(host, monkeypatch):
    case = Case(torch.zeros(WAN_LATENT), {"pose_video_latent": randn(1, 16, 3, 32, 32, seed=5)}, wan_token)
    layouts, _ = probe(host, "svg_tiny_wan22_animate.safetensors", case, monkeypatch, WAN_POINTS)
    assert {(l.num_frames, l.prefix_tokens, l.suffix_tokens) for l in layouts} == {(4, 0, 0)}


def test_wan_humo_reference_after_the_video(host, monkeypatch):
    ref = randn(1, 16, 1, 32, 32, seed=6)
    audio = torch.zeros(1, 4, 8, 5, 1280)     # one window per latent frame, as with real audio
    cond = {"reference_latents": [ref], "audio_embed": audio}
    case = Case(torch.zeros(WAN_LATENT), cond, wan_token, globals={
        "reference image": (lambda: dict(cond, reference_latents=[ref + 1.0]), "suffix")})
    layouts, summary = probe(host, "svg_tiny_wan21_humo.safetensors", case, monkeypatch, WAN_POINTS,
                             expect_reasons=[r"cross-attention"])
    assert {(l.prefix_tokens, l.suffix_tokens) for l in layouts} == {(0, 256)}


def test_wan_s2v_reference_and_motion_after_the_video(host, monkeypatch):
    if comfy_version(host) < (0, 19, 0):
        pytest.skip("ComfyUI 0.3.75's WanModel_S2V calls its blocks without transformer_options: "
                    "no attention override reaches them, the model runs unpatched (dense)")
    ref = randn(1, 16, 1, 32, 32, seed=7)
    motion = randn(1, 16, 19, 32, 32, seed=8)
    cond = {"reference_latents": [ref], "reference_motion": motion}
    case = Case(torch.zeros(WAN_LATENT), cond, wan_token, globals={
        "reference image": (lambda: dict(cond, reference_latents=[ref + 1.0]), "suffix"),
        "motion frames": (lambda: dict(cond, reference_motion=motion + 1.0), "suffix")})
    layouts, _ = probe(host, "svg_tiny_wan22_s2v.safetensors", case, monkeypatch, WAN_POINTS)
    # reference 16 x 16, motion: 1 x 16 x 16 + 1 x 8 x 8 + 4 x 4 x 4
    assert {(l.prefix_tokens, l.suffix_tokens) for l in layouts} == {(0, 256 + 256 + 64 + 64)}


def test_wan_scail_reference_frame_before_pose_after(host, monkeypatch):
    ref = randn(1, 16, 1, 32, 32, seed=9)
    pose = randn(1, 16, 4, 16, 16, seed=10)          # pose video at half resolution
    cond = {"reference_latents": [ref], "pose_video_latent": pose}
    case = Case(torch.zeros(WAN_LATENT), cond, wan_token, globals={
        "reference frame": (lambda: dict(cond, reference_latents=[ref + 1.0]), "prefix"),
        "pose video": (lambda: dict(cond, pose_video_latent=pose + 1.0), "suffix")})
    layouts, _ = probe(host, "svg_tiny_wan21_scail.safetensors", case, monkeypatch, WAN_POINTS)
    assert {(l.num_frames, l.prefix_tokens, l.suffix_tokens) for l in layouts} == {(4, 256, 4 * 8 * 8)}


def test_wan_flowrvs_video_only(host, monkeypatch):
    """FlowRVS is WanModel with IMG_TO_IMG_FLOW sampling (it starts from the latent, not noise):
    the plain Wan adapter maps it."""
    case = Case(randn(*WAN_LATENT, seed=11), {}, wan_token)
    layouts, _ = probe(host, "svg_tiny_wan21_flowrvs.safetensors", case, monkeypatch, WAN_POINTS)
    assert {(l.num_frames, l.prefix_tokens, l.suffix_tokens) for l in layouts} == {(4, 0, 0)}


# ----------------------------------------------------------------------------- LTX-2
def test_ltx2_video_stream_sparse_audio_dense(host, monkeypatch):
    """LTX-2: [video, audio] latents. attn1 is the video's own self-attention (5 frames of 16 x 16,
    patch 1): sparse on the video layout. The audio stream's self-attention (33 audio latent
    steps) and the audio <-> video cross-attentions stay dense, each with its reason; changing
    the audio changes no row of the video's first self-attention (audio is not in its sequence)."""
    name = "svg_tiny_ltx2_av.safetensors"
    video, audio = torch.zeros(1, 128, 5, 16, 16), randn(1, 8, 33, 16, seed=12)
    cond = {"unprocessed_ltxav_embeds": True, "frame_rate": 25.0}
    case = Case([video, audio], cond, lambda t, h, w: (t, h * 16 + w), text=(20, 64))
    layouts, summary = probe(host, name, case, monkeypatch, [(0, 0, 0), (4, 15, 15), (2, 3, 9)],
                             expect_reasons=[r"audio stream's self-attention \(33 audio tokens\)",
                                             r"cross-attention"])
    assert set(layouts) == {VideoLayout(5, 256)}
    # two blocks: each one video self-attention (sparse) and one audio self-attention (dense)
    assert summary["sparse_calls"] == 2
    assert summary["dense_reasons"][next(r for r in summary["dense_reasons"] if "audio stream" in r)] == 2

    model = host.svg(tiny(host, name), dense_warmup=0.0, dense_blocks=0)
    spy = Spy(host, monkeypatch)
    _, q0, _, _ = run(host, model, case, spy)
    louder = Case([video, audio * 2.0 + 1.0], cond, case.token_of, text=case.text)
    _, q1, _, _ = run(host, model, louder, spy)
    assert changed_rows(q0, q1) == []


def test_ltx2_audio_as_long_as_the_video_stays_dense(host, monkeypatch):
    """Audio with exactly as many tokens as the video's self-attention: the two cannot be told
    apart by length, so the whole model call stays dense, saying why."""
    name = "svg_tiny_ltx2_av.safetensors"
    model = host.svg(tiny(host, name), dense_warmup=0.0, dense_blocks=0)
    video, audio = torch.zeros(1, 128, 2, 16, 16), torch.zeros(1, 8, 512, 16)
    case = Case([video, audio], {"unprocessed_ltxav_embeds": True, "frame_rate": 25.0},
                lambda t, h, w: (t, h * 16 + w), text=(20, 64))
    spy = Spy(host, monkeypatch)
    with pytest.raises(AssertionError, match="no sparse call"):
        run(host, model, case, spy)
    summary = host.report(model).summary
    assert summary["sparse_calls"] == 0
    assert any("audio self-attention has as many tokens (512) as the video's" in r
               for r in summary["dense_reasons"]), summary


# ----------------------------------------------------------------------------- Kandinsky 5
def test_kandinsky5_visual_self_attention(host, monkeypatch):
    """Kandinsky 5: the visual blocks' self-attention over the video only (patch 1 x 2 x 2); the
    text blocks' self-attention (20 tokens) and the cross-attention stay dense."""
    case = Case(torch.zeros(WAN_LATENT), {"pooled_output": randn(1, 768, seed=13)}, wan_token,
                text=(20, 3584))
    layouts, summary = probe(host, "svg_tiny_kandinsky5_t2v.safetensors",
                             case, monkeypatch, WAN_POINTS,
                             expect_reasons=[r"not the video's self-attention: 20 tokens", r"cross-attention"])
    assert set(layouts) == {VideoLayout(4, 256)}
    assert summary["sparse_calls"] == 2


# ----------------------------------------------------------------------------- HunyuanVideo 1.5
HUNYUAN15 = ["svg_tiny_hunyuan_video15_t2v.safetensors", "svg_tiny_hunyuan_video15_sr.safetensors"]


def _text_first(host) -> bool:
    """ComfyUI puts HunyuanVideo's text before the video in joint attention since (at the latest)
    0.19.3 (comfy/ldm/hunyuan_video/model.py: torch.cat((txt, img), 1)); 0.3.75 put it after."""
    return comfy_version(host) >= (0, 19, 0)


@pytest.mark.parametrize("name", HUNYUAN15, ids=["t2v", "sr_distilled"])
def test_hunyuan_video15_text_and_vision_tokens_global(host, monkeypatch, name):
    """HunyuanVideo 1.5 (the HunyuanVideo class with SigLIP vision tokens, patch 1): the text
    side of the joint attention is the vision projection's 729 tokens and the 20 prompt tokens;
    0.3.75 appends it after the video, 0.19.3 puts it before. The super-resolution model differs
    only in its input channels (the upscaled latent, concatenated)."""
    vision = SimpleNamespace(last_hidden_state=randn(1, 729, 1152, seed=14))
    cond = {"clip_vision_output": vision, "pooled_output": None}   # 1.5 has no pooled CLIP vector
    region = "prefix" if _text_first(host) else "suffix"
    case = Case(torch.zeros(1, 32, 4, 16, 16), cond, lambda t, h, w: (t, h * 16 + w), text=(20, 3584),
                globals={"vision tokens": (lambda: {"pooled_output": None, "clip_vision_output": SimpleNamespace(
                    last_hidden_state=vision.last_hidden_state + randn(1, 729, 1152, seed=15))}, region)})
    layouts, _ = probe(host, name, case, monkeypatch, [(0, 0, 0), (3, 15, 15), (2, 5, 11)])
    text = 729 + 20
    want = VideoLayout(4, 256, prefix_tokens=text) if _text_first(host) else VideoLayout(4, 256, suffix_tokens=text)
    assert set(layouts) == {want}


def test_kandinsky5_video_as_long_as_the_text_stays_dense(host, monkeypatch):
    model = host.svg(tiny(host, "svg_tiny_kandinsky5_t2v.safetensors"), dense_warmup=0.0, dense_blocks=0)
    case = Case(torch.zeros(WAN_LATENT), {"pooled_output": randn(1, 768, seed=13)}, wan_token,
                text=(1024, 3584))
    with pytest.raises(AssertionError, match="no sparse call"):
        run(host, model, case, Spy(host, monkeypatch))
    reasons = host.report(model).summary["dense_reasons"]
    assert any("has as many tokens (1024) as the text" in r for r in reasons), reasons

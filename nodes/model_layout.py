"""Per model family: where the video tokens of a self-attention call are, from what ComfyUI's model
object and the diffusion model's inputs tell. One small adapter per family.

Each adapter turns one model call's arguments into a ``VideoGrid``; ``VideoGrid.layout_for(tokens)``
then maps one attention call's length onto a ``VideoLayout`` (or says why it cannot). Families are
chosen by ``isinstance`` on the diffusion model's class (never by file names); a model class this
ComfyUI does not have (CogVideoX before its port, Cosmos without torchvision) is simply skipped.

Most adapters read the DIFFUSION_MODEL call (``diffusion_model.forward``'s arguments, raw latent
first). Mochi's model calls no DIFFUSION_MODEL wrapper in ComfyUI 0.3.75, so its adapter reads the
APPLY_MODEL call instead (``BaseModel.apply_model(x, t, c_concat, c_crossattn, control,
transformer_options, **conds)``): ``hook = "apply_model"``.
"""
from __future__ import annotations

import dataclasses
import logging
import math
from dataclasses import dataclass

import torch

from ..svg_attention import VideoLayout

DIFFUSION_MODEL_HOOK = "diffusion_model"
APPLY_MODEL_HOOK = "apply_model"
log = logging.getLogger("svg_sparse_attention")


@dataclass(frozen=True)
class VideoGrid:
    """The video of one model call: frames x tokens per frame, plus the global tokens around it.

    prefix_tokens:  known global tokens before the video (Wan / HunyuanVideo reference image).
    suffix_tokens:  known global tokens after the video (LTXV guide frames, newer Wan in-context
                    latents).
    text_after:     the model appends further tokens after the video and the known suffix inside
                    joint attention, whatever their number (HunyuanVideo / Mochi text, Wan S2V and
                    HuMo reference/motion frames): all global.
    text_before:    the same, before the video and the known prefix (CogVideoX text).
    uses_grid_sizes: the model publishes its patchified grid as ``transformer_options["grid_sizes"]``
                    (newer ComfyUI's Wan); ``refined`` then takes frames and tokens per frame from it.
    cross_tokens:   lengths of the contexts this call's cross-attention attends to (text, CLIP
                    image). An attention call is told from self-attention by its key length; where
                    the self-attention's length equals one of these, the two cannot be told apart.
    """

    num_frames: int
    frame_tokens: int
    prefix_tokens: int = 0
    text_after: bool = False
    suffix_tokens: int = 0
    text_before: bool = False
    uses_grid_sizes: bool = False
    cross_tokens: tuple = ()

    def __post_init__(self):
        if self.text_after and self.text_before:
            raise ValueError("a grid takes extra tokens either before or after the video, not both")

    @property
    def video_tokens(self) -> int:
        return self.num_frames * self.frame_tokens

    def layout_for(self, tokens: int):
        """(VideoLayout, None) when a call of ``tokens`` tokens is this video's self-attention,
        else (None, why)."""
        known = self.prefix_tokens + self.video_tokens + self.suffix_tokens
        extra = tokens - known
        if extra == 0 or (extra > 0 and (self.text_after or self.text_before)):
            prefix = self.prefix_tokens + (extra if self.text_before else 0)
            suffix = self.suffix_tokens + (extra if self.text_after else 0)
            return VideoLayout(self.num_frames, self.frame_tokens, prefix, suffix), None
        where = " + text after" if self.text_after else " + text before" if self.text_before else ""
        return None, f"{tokens} tokens is not the video's {known}{where}"

    def refined(self, transformer_options) -> "VideoGrid":
        """This grid with frames and tokens per frame from ``transformer_options["grid_sizes"]``
        where the model publishes it (newer ComfyUI's Wan), else unchanged."""
        if not self.uses_grid_sizes or not transformer_options:
            return self
        sizes = transformer_options.get("grid_sizes")
        if sizes is None:
            return self
        try:
            frames, height, width = (int(s) for s in sizes)
        except (TypeError, ValueError) as e:
            log.debug(f"[SVG] grid_sizes {sizes!r} not understood ({e}); using the latent's grid")
            return self
        if frames == self.num_frames and height * width == self.frame_tokens:
            return self
        if frames < 1 or height * width < 1:
            return self
        return dataclasses.replace(self, num_frames=frames, frame_tokens=height * width)


def _latent(args, dims=5):
    x = args[0] if args else None
    if not isinstance(x, torch.Tensor) or x.dim() != dims:
        return None
    return x


def _arg(args, kwargs, index, name):
    """Argument ``name`` of a call made positionally up to ``index`` (the executor's order)."""
    if name in kwargs:
        return kwargs[name]
    return args[index] if len(args) > index else None


def _context_tokens(*contexts) -> tuple:
    """Token counts of cross-attention contexts [B, L, D] (others ignored)."""
    return tuple(sorted({int(c.shape[1]) for c in contexts if isinstance(c, torch.Tensor) and c.dim() == 3}))


def _strided_grid(x, patch_size):
    """(frames, tokens per frame) of a latent [B, C, T, H, W] patchified by a strided convolution
    (floor division), as HunyuanVideo, LTXV and Cosmos do."""
    pt, ph, pw = patch_size
    return x.shape[2] // pt, (x.shape[3] // ph) * (x.shape[4] // pw)


def _not_video(adapter, x_arg):
    what = "nothing" if x_arg is None else (
        f"a {x_arg.dim()}D tensor" if isinstance(x_arg, torch.Tensor) else type(x_arg).__name__)
    return f"{adapter.name}: the model input is {what}, not a 5D video latent [B, C, T, H, W]"


class _Adapter:
    family = "?"
    hook = DIFFUSION_MODEL_HOOK

    def __init__(self, diffusion_model):
        self.name = f"{self.family} ({type(diffusion_model).__name__})"


class WanAdapter(_Adapter):
    """Wan 2.1 / 2.2 (T2V, I2V, FLF2V, 5B TI2V, VACE, camera, Fun, Animate): video-only
    self-attention (text and CLIP-image features go through cross-attention), patch (1, 2, 2) after
    padding to whole patches. The reference image (``ref_conv`` + ``reference_latent``) is a token
    prefix; ``time_dim_concat`` appends frames; newer ComfyUI appends in-context latents
    (``context_latents``) after the video and publishes ``grid_sizes``.
    forward(x, timestep, context, clip_fea, time_dim_concat, transformer_options, **kwargs)."""

    family = "Wan"
    extra_after = False     # S2V / HuMo append reference (and motion) frames after the video

    def __init__(self, diffusion_model):
        super().__init__(diffusion_model)
        self.patch_size = tuple(diffusion_model.patch_size)
        self.has_ref_conv = getattr(diffusion_model, "ref_conv", None) is not None

    def _tokens(self, latent):
        pt, ph, pw = self.patch_size
        return math.ceil(latent.shape[-3] / pt) * math.ceil(latent.shape[-2] / ph) * math.ceil(latent.shape[-1] / pw)

    def grid(self, args, kwargs):
        x = _latent(args)
        if x is None:
            return None, _not_video(self, args[0] if args else None)
        pt, ph, pw = self.patch_size
        frames = math.ceil(x.shape[2] / pt)
        concat = _arg(args, kwargs, 4, "time_dim_concat")
        if isinstance(concat, torch.Tensor):
            frames += math.ceil(concat.shape[2] / pt)
        frame_tokens = math.ceil(x.shape[3] / ph) * math.ceil(x.shape[4] / pw)
        prefix = 0
        ref = kwargs.get("reference_latent")
        if self.has_ref_conv and isinstance(ref, torch.Tensor):
            prefix = math.ceil(ref.shape[-2] / ph) * math.ceil(ref.shape[-1] / pw)
        suffix = 0
        for lat in kwargs.get("context_latents") or ():
            if isinstance(lat, torch.Tensor) and lat.dim() == 5:
                suffix += self._tokens(lat)
        cross = _context_tokens(_arg(args, kwargs, 2, "context"), _arg(args, kwargs, 3, "clip_fea"))
        return VideoGrid(frames, frame_tokens, prefix, text_after=self.extra_after,
                         suffix_tokens=suffix, uses_grid_sizes=True, cross_tokens=cross), None


class HunyuanVideoAdapter(_Adapter):
    """HunyuanVideo (T2V, I2V concat and token-replace, 1.5): joint attention with the text (and
    1.5's byT5 / vision tokens) appended after the video, an additive key mask for text padding;
    ``ref_latent`` (the "custom" image guidance) is a token prefix; I2V "v1 (concat)" adds channels
    and "v2 (replace)" (``guiding_frame_index``) only changes the first frame's modulation, neither
    changes the tokens. Patch embedding by a strided conv (floor division).
    forward(x, timestep, context, y, txt_byt5, clip_fea, guidance, attention_mask,
    guiding_frame_index, ref_latent, ...)."""

    family = "HunyuanVideo"

    def __init__(self, diffusion_model):
        super().__init__(diffusion_model)
        self.patch_size = tuple(diffusion_model.patch_size)

    def grid(self, args, kwargs):
        x = _latent(args)
        if x is None or len(self.patch_size) != 3:
            return None, _not_video(self, args[0] if args else None)
        pt, ph, pw = self.patch_size
        frames, frame_tokens = _strided_grid(x, self.patch_size)
        ref = _arg(args, kwargs, 9, "ref_latent")
        prefix = 0
        if isinstance(ref, torch.Tensor) and ref.dim() == 5:
            prefix = (ref.shape[2] // pt) * (ref.shape[3] // ph) * (ref.shape[4] // pw)
        return VideoGrid(frames, frame_tokens, prefix, text_after=True), None


class LTXVAdapter(_Adapter):
    """LTX-Video: its own patchifier (patch (1, 1, 1) in the shipped models, frame-major tokens);
    attn1 is video self-attention, attn2 text cross-attention (stays dense). LTXVAddGuide appends
    the guide (keyframe) latents as whole frames at the end of the latent and passes their positions
    as ``keyframe_idxs`` [B, 3, K]: those K tokens are a global suffix.
    forward(x, timestep, context, attention_mask, frame_rate, transformer_options, keyframe_idxs)."""

    family = "LTXV"

    def __init__(self, diffusion_model):
        super().__init__(diffusion_model)
        self.patch_size = tuple(diffusion_model.patchifier.patch_size)

    def grid(self, args, kwargs):
        x = _latent(args)
        if x is None:
            return None, _not_video(self, args[0] if args else None)
        frames, frame_tokens = _strided_grid(x, self.patch_size)
        keyframes = _arg(args, kwargs, 6, "keyframe_idxs")
        guide = 0
        if isinstance(keyframes, torch.Tensor) and keyframes.dim() == 3:
            guide = int(keyframes.shape[2])
            if guide % frame_tokens or guide >= frames * frame_tokens:
                return None, (f"{self.name}: {guide} guide (keyframe) tokens are not whole frames of "
                              f"{frame_tokens} tokens before the end of {frames} frames")
        return VideoGrid(frames - guide // frame_tokens, frame_tokens, suffix_tokens=guide,
                         cross_tokens=_context_tokens(_arg(args, kwargs, 2, "context"))), None


class MochiAdapter(_Adapter):
    """Genmo Mochi: joint attention, the real prompt tokens (cropped to ``num_tokens``, no mask) after
    the video; patch 2 x 2 per latent frame. Its model calls no DIFFUSION_MODEL wrapper in ComfyUI
    0.3.75, so this reads the APPLY_MODEL call: apply_model(x, t, c_concat, c_crossattn, control,
    transformer_options, **conds) with x the raw latent (c_concat only adds channels)."""

    family = "Mochi"
    hook = APPLY_MODEL_HOOK

    def __init__(self, diffusion_model):
        super().__init__(diffusion_model)
        self.patch_size = int(diffusion_model.patch_size)

    def grid(self, args, kwargs):
        x = _latent(args)
        if x is None:
            return None, _not_video(self, args[0] if args else None)
        p = self.patch_size
        return VideoGrid(x.shape[2], (x.shape[3] // p) * (x.shape[4] // p), text_after=True), None


class CosmosAdapter(_Adapter):
    """Cosmos Predict2 (MiniTrainDIT) and Cosmos 1.0 (GeneralDIT): video-only self-attention over
    frame-major tokens (text through cross-attention; the padding mask is an extra channel, I2V's
    condition mask too), patch (patch_temporal, patch_spatial, patch_spatial).
    forward(x, timesteps, context, ...) with transformer_options in kwargs."""

    family = "Cosmos"

    def __init__(self, diffusion_model):
        super().__init__(diffusion_model)
        spatial = diffusion_model.patch_spatial
        spatial = spatial[0] if isinstance(spatial, (tuple, list)) else spatial
        self.patch_size = (int(diffusion_model.patch_temporal), int(spatial), int(spatial))

    def grid(self, args, kwargs):
        x = _latent(args)
        if x is None:
            return None, _not_video(self, args[0] if args else None)
        return VideoGrid(*_strided_grid(x, self.patch_size),
                         cross_tokens=_context_tokens(_arg(args, kwargs, 2, "context"))), None


class CosmosPredict2Adapter(CosmosAdapter):
    family = "Cosmos Predict2"


class CogVideoXAdapter(_Adapter):
    """CogVideoX 1.0 / 1.5 (newer ComfyUI, comfy/ldm/cogvideo): joint attention with the text
    (226 tokens in the shipped models) BEFORE the video; patch p x p (1.0: per latent frame; 1.5:
    also patch_size_t frames) after padding to whole patches; attention call
    optimized_attention(q, k, v [B, N, H*D], heads=..., transformer_options=...), no mask.
    forward(x, timestep, context, ofs, transformer_options)."""

    family = "CogVideoX"

    def __init__(self, diffusion_model):
        super().__init__(diffusion_model)
        self.patch_size = int(diffusion_model.patch_size)
        self.patch_size_t = int(getattr(diffusion_model, "patch_size_t", None) or 1)

    def grid(self, args, kwargs):
        x = _latent(args)
        if x is None:
            return None, _not_video(self, args[0] if args else None)
        p, pt = self.patch_size, self.patch_size_t
        frames = math.ceil(x.shape[2] / pt)
        frame_tokens = math.ceil(x.shape[3] / p) * math.ceil(x.shape[4] / p)
        return VideoGrid(frames, frame_tokens, text_before=True), None


def _family_classes():
    """(class, adapter) pairs this ComfyUI has, most specific first."""
    from . import model_layout_2026 as newer   # the 2026 families' adapters build on the ones here
    pairs = []

    def add(module, names, adapter):
        try:
            imported = __import__(module, fromlist=list(names))
        except Exception as e:  # not in this ComfyUI (or an optional dependency missing)
            log.debug(f"[SVG] no {adapter.family} adapter: {module} is not importable here ({e!r})")
            return
        for name in names:
            cls = getattr(imported, name, None)
            if isinstance(cls, type):
                pairs.append((cls, adapter))

    # the video families of 2026 (issue #13), each before the class it subclasses
    add("comfy.ldm.wan.model", ("VaceWanModel",), newer.WanVaceAdapter)
    add("comfy.ldm.wan.model", ("CameraWanModel",), newer.WanCameraAdapter)
    add("comfy.ldm.wan.model", ("WanModel_S2V",), newer.WanS2VAdapter)
    add("comfy.ldm.wan.model", ("HumoWanModel",), newer.WanHuMoAdapter)
    add("comfy.ldm.wan.model", ("SCAILWanModel",), newer.WanSCAILAdapter)
    add("comfy.ldm.wan.model_animate", ("AnimateWanModel",), newer.WanAnimateAdapter)
    add("comfy.ldm.lightricks.av_model", ("LTXAVModel",), newer.LTXAVAdapter)
    add("comfy.ldm.kandinsky5.model", ("Kandinsky5",), newer.Kandinsky5Adapter)
    add("comfy.ldm.wan.model", ("WanModel",), WanAdapter)
    add("comfy.ldm.hunyuan_video.model", ("HunyuanVideo",), HunyuanVideoAdapter)
    add("comfy.ldm.lightricks.model", ("LTXVModel",), LTXVAdapter)
    add("comfy.ldm.genmo.joint_model.asymm_models_joint", ("AsymmDiTJoint",), MochiAdapter)
    add("comfy.ldm.cosmos.predict2", ("MiniTrainDIT",), CosmosPredict2Adapter)
    add("comfy.ldm.cosmos.model", ("GeneralDIT",), CosmosAdapter)
    add("comfy.ldm.cogvideo.model", ("CogVideoXTransformer3DModel",), CogVideoXAdapter)
    return pairs


SUPPORTED = "Wan 2.1/2.2, HunyuanVideo, LTXV, LTX-2, Kandinsky 5, Mochi, Cosmos, CogVideoX"


def adapter_for(diffusion_model):
    """(adapter, None) for a supported model, else (None, why) naming the model class."""
    for cls, adapter in _family_classes():
        if isinstance(diffusion_model, cls):
            try:
                return adapter(diffusion_model), None
            except Exception as e:  # an attribute the adapter needs is missing or odd
                name = type(diffusion_model).__name__
                return None, (f"model class {name} looks like {adapter.family}, but its layout adapter "
                              f"could not read it: {e!r}")
    name = type(diffusion_model).__name__
    return None, f"model class {name} has no SVG layout adapter (supported: {SUPPORTED})"

"""Per model family: where the video tokens of a self-attention call are, from what ComfyUI's model
object and the diffusion model's inputs tell. One small adapter per family.

Each adapter turns one model call's arguments into a ``VideoGrid``; ``VideoGrid.layout_for(tokens,
options, published)`` then maps one attention call onto a ``VideoLayout`` (or says why it cannot).
Families are chosen by ``isinstance`` on the diffusion model's class (never by file names), the most
specific registered class first (its place in the model class's MRO, whatever the registration
order); a model class this ComfyUI does not have (CogVideoX before its port, Cosmos without
torchvision) is simply skipped.

Most adapters read the DIFFUSION_MODEL call (``diffusion_model.forward``'s arguments, raw latent
first). Mochi's model calls no DIFFUSION_MODEL wrapper in ComfyUI 0.3.75, so its adapter reads the
APPLY_MODEL call instead (``BaseModel.apply_model(x, t, c_concat, c_crossattn, control,
transformer_options, **conds)``): ``hook = "apply_model"``.

Layout verification: a layout we cannot verify never runs sparse
------------------------------------------------------------------
ComfyUI changes where tokens sit between versions (HunyuanVideo's joint attention put the text after
the video in 0.3.75 and before it in 0.19.3; LTXV's ``keyframe_idxs`` grew a last axis). So nothing
here assumes an order it cannot check against what the call carries. Two stages:

1. Per model call, ``adapter.grid(args, kwargs)`` checks the inputs it reads (5-D latent, known
   ``keyframe_idxs`` shapes [B, 3, K] or [B, 3, K, 2] in whole frames, ...) and returns
   ``(VideoGrid, None)`` or ``(None, reason)``: a reason makes the whole call dense, logged once.
2. Per attention call, ``VideoGrid.layout_for(tokens, options, published)`` checks the call itself:
   - the token count must be exactly the known prefix + video + known suffix, or longer only where
     the grid allows extra (text) tokens;
   - metadata the model publishes wins over inference: ``options["grid_sizes"]`` (newer Wan: its
     patchified frames x height x width) replaces the latent-derived grid when ``uses_grid_sizes``;
     ``video_slice`` names a published ``[start, end)`` of prefix + video + suffix inside the joint
     sequence (HunyuanVideo 0.19.3: ``img_slice``, from ``options`` in single blocks and, through
     ``published``, from the attn1 patch in double blocks: the adapter's ``layout_patches``); the layout is
     then read from it and checked against the counts;
   - where the model publishes no slice and its own code does not declare the order either,
     ``unverified`` holds the reason and the call runs dense with it;
   - anything unreadable (a grid_sizes that is not three sizes, a slice that is not two ints inside
     the sequence) is a reason too, never a guess.
   The override logs each distinct reason once per run and counts every dense call by reason.

For a new family: write ``grid`` to check every input it reads and return a VideoGrid whose fields
say what is known (``prefix_tokens``/``suffix_tokens``: counted global tokens; ``text_after``/
``text_before``: extra tokens whose count varies, at a position the model's code fixes;
``video_slice``/``unverified``: the position comes only from published metadata; ``layout_patches``
on the adapter: model patches through which the model publishes it, e.g.
``published_slice_patch`` for metadata only attn1 patches see); register the
class in ``_family_classes`` (``subclasses=False`` where a subclass may lay tokens out differently,
e.g. LTXV, whose subclass LTXAVModel adds an audio stream and has its own adapter in
model_layout_2026). Tests compare the layout each call used with where the model really put the
tokens (tests/comfy/test_token_order.py).
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
                    joint attention, whatever their number (HunyuanVideo 0.3.75 / Mochi text): all
                    global.
    text_before:    the same, before the video and the known prefix (CogVideoX text).
    uses_grid_sizes: the model publishes its patchified grid as ``transformer_options["grid_sizes"]``
                    (newer ComfyUI's Wan); frames and tokens per frame are then taken from it.
    cross_tokens:   lengths of the contexts this call's cross-attention attends to (text, CLIP
                    image). An attention call is told from self-attention by its key length; where
                    the self-attention's length equals one of these, the two cannot be told apart.
    video_slice:    name of the metadata the model publishes per attention call as ``[start, end)``
                    of the known prefix + video + known suffix inside the joint sequence
                    (HunyuanVideo 0.19.3: ``"img_slice"``); where present it fixes the layout.
    unverified:     why the position of the extra tokens is unknown where the call publishes no
                    ``video_slice``: such a call runs dense with this reason (None: ``text_after`` /
                    ``text_before`` is the model's own declared order).
    """

    num_frames: int
    frame_tokens: int
    prefix_tokens: int = 0
    text_after: bool = False
    suffix_tokens: int = 0
    text_before: bool = False
    uses_grid_sizes: bool = False
    cross_tokens: tuple = ()
    video_slice: str | None = None
    unverified: str | None = None

    def __post_init__(self):
        if self.text_after and self.text_before:
            raise ValueError("a grid takes extra tokens either before or after the video, not both")

    @property
    def video_tokens(self) -> int:
        return self.num_frames * self.frame_tokens

    @property
    def known_tokens(self) -> int:
        return self.prefix_tokens + self.video_tokens + self.suffix_tokens

    def layout_for(self, tokens: int, options=None, published=None):
        """(VideoLayout, None) when a self-attention call of ``tokens`` tokens, with the call's
        ``options`` (transformer_options) and ``published`` metadata (a dict, e.g. ``img_slice``
        from an attn1 patch), is this video's self-attention at a verified position, else
        (None, why): the reason the call runs dense, as logged."""
        grid, why = self.refined(options)
        if grid is None:
            return None, why
        known = grid.known_tokens
        extra = tokens - known
        open_ended = grid.text_after or grid.text_before or grid.video_slice is not None
        if extra < 0 or (extra > 0 and not open_ended):
            where = " + text after" if grid.text_after else " + text before" if grid.text_before else \
                " + extra tokens" if grid.video_slice else ""
            return None, f"not the video's self-attention: {tokens} tokens is not the video's {known}{where}"
        if grid.video_slice is not None:
            span = (published or {}).get(grid.video_slice)
            if span is None and options:
                span = options.get(grid.video_slice)
            if span is not None:
                return grid._layout_in_span(tokens, span)
            if grid.unverified is not None:
                return None, grid.unverified
        if extra and not (grid.text_after or grid.text_before):
            return None, f"not the video's self-attention: {tokens} tokens is not the video's {known}"
        prefix = grid.prefix_tokens + (extra if grid.text_before else 0)
        suffix = grid.suffix_tokens + (extra if grid.text_after else 0)
        return VideoLayout(grid.num_frames, grid.frame_tokens, prefix, suffix), None

    def _layout_in_span(self, tokens: int, span):
        try:
            start, end = (int(i) for i in span)
        except (TypeError, ValueError):
            return None, f"{self.video_slice} {span!r} is not [start, end): where the video sits cannot be checked"
        if not (0 <= start <= end <= tokens) or end - start != self.known_tokens:
            return None, (f"{self.video_slice} [{start}, {end}) of {tokens} tokens does not hold the video's "
                          f"{self.known_tokens} tokens")
        return VideoLayout(self.num_frames, self.frame_tokens, start + self.prefix_tokens,
                           tokens - end + self.suffix_tokens), None

    def refined(self, transformer_options):
        """(grid, None): this grid with frames and tokens per frame from
        ``transformer_options["grid_sizes"]`` where the model publishes it (newer ComfyUI's Wan),
        else unchanged; (None, why) when the published grid cannot be read."""
        if not self.uses_grid_sizes or not transformer_options:
            return self, None
        sizes = transformer_options.get("grid_sizes")
        if sizes is None:
            return self, None
        try:
            frames, height, width = (int(s) for s in sizes)
        except (TypeError, ValueError):
            return None, f"grid_sizes {sizes!r} is not (frames, height, width): the video grid cannot be checked"
        if frames < 1 or height < 1 or width < 1:
            return None, f"grid_sizes {tuple(sizes)!r} is not a video grid"
        if frames == self.num_frames and height * width == self.frame_tokens:
            return self, None
        return dataclasses.replace(self, num_frames=frames, frame_tokens=height * width), None


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


def published_slice_patch(call_key):
    """An attn1 patch (``ModelPatcher.set_model_attn1_patch``) that hands the ``img_slice`` a
    model publishes to its attn1 patches (HunyuanVideo 0.19.3's double blocks: ``extra_options``,
    a copy of the call's transformer_options) to the model call's state under ``call_key``, which
    the attention call right after reads (``call.published``). Changes nothing it is given."""

    def publish(q, k, v, pe=None, attn_mask=None, extra_options=None, **_):
        options = extra_options or {}
        call = options.get(call_key)
        span = options.get("img_slice")
        if call is not None and span is not None:
            call.publish("img_slice", span)
        return {}

    publish.svg_published_slice = True
    return publish


class _Adapter:
    family = "?"
    hook = DIFFUSION_MODEL_HOOK
    # (patch name, factory(call_key)) of the model patches through which the model hands the
    # adapter's layout metadata to SVG (apply_svg adds them to the patched clone)
    layout_patches = ()

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
        return VideoGrid(frames, frame_tokens, prefix,
                         suffix_tokens=suffix, uses_grid_sizes=True, cross_tokens=cross), None


class HunyuanVideoAdapter(_Adapter):
    """HunyuanVideo (T2V, I2V concat and token-replace): joint attention of the video and the text
    (and 1.5's byT5 / vision tokens), an additive key mask for text padding; ``ref_latent`` (the
    "custom" image guidance) is a token prefix of the video; I2V "v1 (concat)" adds channels and
    "v2 (replace)" (``guiding_frame_index``) only changes the first frame's modulation, neither
    changes the tokens. Patch embedding by a strided conv (floor division).
    forward(x, timestep, context, y, txt_byt5, clip_fea, guidance, attention_mask,
    guiding_frame_index, ref_latent, ...).

    Where the text sits differs by ComfyUI version, and is verified, never assumed:
    - 0.3.75: text AFTER the video; the model's double blocks declare it (``flipped_img_txt``
      True), its single blocks concatenate in the same order; no slice is published.
    - 0.19.3: text BEFORE the video (``torch.cat((txt, img), 1)``, padding mask on
      ``[:, 0, :txt_len]``); the model publishes ``img_slice = [txt_len, txt_len + img_len]``:
      in ``transformer_options`` for its single blocks and in the attn1 patches' ``extra_options``
      for its double blocks (``layout_patches``: the attn1 patch that reads it).
    A model that neither declares its order nor publishes the slice runs dense with the reason."""

    family = "HunyuanVideo"
    slice_key = "img_slice"
    layout_patches = (("attn1_patch", published_slice_patch),)

    def __init__(self, diffusion_model):
        super().__init__(diffusion_model)
        self.patch_size = tuple(diffusion_model.patch_size)
        declared = {getattr(block, "flipped_img_txt", None) for block in diffusion_model.double_blocks}
        self.text_after = declared == {True}
        self.unverified = None if self.text_after else (
            f"{self.name}: this call carries no {self.slice_key} and the model declares no text order "
            f"(flipped_img_txt), so where the text sits in its joint attention cannot be checked")

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
        return VideoGrid(frames, frame_tokens, prefix, text_after=self.text_after,
                         video_slice=self.slice_key, unverified=self.unverified), None


def keyframe_tokens(keyframes):
    """(K, None): the number of guide tokens LTXV's ``keyframe_idxs`` positions, for the shapes
    ComfyUI has used: [B, 3, K] (0.3.75) and [B, 3, K, 2] (0.19.3: start and end coordinates);
    (None, why) for any other shape."""
    if not isinstance(keyframes, torch.Tensor):
        return None, f"keyframe_idxs is {type(keyframes).__name__}, not a tensor"
    shape = tuple(keyframes.shape)
    if (len(shape) == 3 and shape[1] == 3) or (len(shape) == 4 and shape[1] == 3 and shape[3] == 2):
        return int(shape[2]), None
    return None, f"keyframe_idxs of shape {shape} is neither [B, 3, K] nor [B, 3, K, 2]"


class LTXVAdapter(_Adapter):
    """LTX-Video: its own patchifier (patch (1, 1, 1) in the shipped models, frame-major tokens);
    attn1 is video self-attention, attn2 text cross-attention (stays dense). LTXVAddGuide appends
    the guide (keyframe) latents as whole frames at the end of the latent; the model overwrites the
    positions of the last K tokens with ``keyframe_idxs`` ([B, 3, K] in 0.3.75, [B, 3, K, 2] in
    0.19.3): those K tokens are a global suffix. Any other keyframe shape, or K that is not whole
    frames, runs dense with the reason. Newer ComfyUI may drop masked guide tokens (negative
    denoise mask) before attention: the count check then fails and the call runs dense.
    forward(x, timestep, context, attention_mask, frame_rate, transformer_options, keyframe_idxs).
    Registered for LTXVModel only, not its subclasses: LTXAVModel (LTX-2) adds an audio stream
    (model_layout_2026.LTXAVAdapter)."""

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
        if keyframes is not None:
            guide, why = keyframe_tokens(keyframes)
            if why is not None:
                return None, f"{self.name}: {why}: where the guide tokens are cannot be checked"
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
    """(class, adapter, subclasses) triples this ComfyUI has. ``subclasses``: whether the adapter
    also covers subclasses of the class (False where a subclass may lay its tokens out otherwise).
    Order does not matter: ``adapter_for`` takes the most specific class."""
    from . import model_layout_2026 as newer   # the 2026 families' adapters build on the ones here
    triples = []

    def add(module, names, adapter, subclasses=True):
        try:
            imported = __import__(module, fromlist=list(names))
        except Exception as e:  # not in this ComfyUI (or an optional dependency missing)
            log.debug(f"[SVG] no {adapter.family} adapter: {module} is not importable here ({e!r})")
            return
        for name in names:
            cls = getattr(imported, name, None)
            if isinstance(cls, type):
                triples.append((cls, adapter, subclasses))

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
    add("comfy.ldm.lightricks.model", ("LTXVModel",), LTXVAdapter, subclasses=False)
    add("comfy.ldm.genmo.joint_model.asymm_models_joint", ("AsymmDiTJoint",), MochiAdapter)
    add("comfy.ldm.cosmos.predict2", ("MiniTrainDIT",), CosmosPredict2Adapter)
    add("comfy.ldm.cosmos.model", ("GeneralDIT",), CosmosAdapter)
    add("comfy.ldm.cogvideo.model", ("CogVideoXTransformer3DModel",), CogVideoXAdapter)
    return triples


SUPPORTED = "Wan 2.1/2.2, HunyuanVideo, LTXV, LTX-2, Kandinsky 5, Mochi, Cosmos, CogVideoX"


def adapter_for(diffusion_model):
    """(adapter, None) for a supported model, else (None, why) naming the model class. The most
    specific registered class in the model class's MRO decides."""
    mro = type(diffusion_model).__mro__
    name = type(diffusion_model).__name__
    best = None
    for cls, adapter, subclasses in _family_classes():
        if cls in mro and (best is None or mro.index(cls) < mro.index(best[0])):
            best = (cls, adapter, subclasses)
    if best is None:
        return None, f"model class {name} has no SVG layout adapter (supported: {SUPPORTED})"
    cls, adapter, subclasses = best
    if cls is not type(diffusion_model) and not subclasses:
        return None, (f"model class {name} is a subclass of {cls.__name__}, whose {adapter.family} layout "
                      f"adapter does not cover subclasses (their tokens may be laid out otherwise)")
    try:
        return adapter(diffusion_model), None
    except Exception as e:  # an attribute the adapter needs is missing or odd
        return None, (f"model class {name} looks like {adapter.family}, but its layout adapter "
                      f"could not read it: {e!r}")



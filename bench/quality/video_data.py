"""Procedural videos for the tiny Wan model: moving, rotating and pulsing shapes over textured,
optionally panning backgrounds. Batched torch, runs on the GPU as fast as on the CPU per element,
seeded by a ``torch.Generator``.

A video is float32 ``[T, 3, H, W]`` in [-1, 1] (a batch: ``[B, T, 3, H, W]``). Coordinates are
normalised: the frame spans [-1, 1] in both axes (square pixels, so H == W is the natural case but
not required). Every object follows one parametric motion, the same formula for all prompts::

    centre(t) = reflect(c0 + v t + R (cos(phi + w t), sin(phi + w t)))   # drift/bounce + orbit
    angle(t)  = a0 + spin t
    size(t)   = s0 (1 + A sin(pw t + pp))                                  # pulse

(``reflect`` folds the centre back into the frame: objects bounce off the walls), and the camera
pans with a constant velocity over the background and the objects' world. A prompt is a range for
each parameter, a shape mix and a number of objects, so the conditioning says which kind of motion
and which shapes to expect; the rest is random per video.

Prompts and their conditioning: ``PROMPTS`` names them; ``prompt_context(i)`` is a fixed,
deterministic pseudo-random "text embedding" ``[CONTEXT_TOKENS, 4096]`` (Wan's text_dim) for prompt
``i``; ``null_context()`` (zeros) is the unconditional / negative context.
"""
from __future__ import annotations

import math
import zlib
from dataclasses import dataclass

import torch

TEXT_DIM = 4096
CONTEXT_TOKENS = 8
SHAPES = ("circle", "square", "triangle", "ring")
MAX_OBJECTS = 4
UNCONDITIONAL_PROMPT = "(unconditional)"     # the null context's name in the bench nodes / graphs


@dataclass(frozen=True)
class Prompt:
    """Parameter ranges (lo, hi) of one prompt; speeds are per frame, in frame half-widths."""

    text: str
    objects: tuple[int, int]
    shapes: tuple[float, float, float, float]     # weights of SHAPES
    size: tuple[float, float] = (0.25, 0.4)
    speed: tuple[float, float] = (0.0, 0.0)
    orbit_radius: tuple[float, float] = (0.0, 0.0)
    orbit_speed: tuple[float, float] = (0.0, 0.0)
    spin: tuple[float, float] = (0.0, 0.0)
    pulse: tuple[float, float] = (0.0, 0.0)
    pan: tuple[float, float] = (0.0, 0.0)
    texture: tuple[float, float] = (0.0, 0.1)      # background texture contrast


PROMPTS: tuple[Prompt, ...] = (
    Prompt("bouncing balls", (1, 3), (1, 0, 0, 0.3), size=(0.22, 0.35), speed=(0.12, 0.25)),
    Prompt("spinning squares", (1, 2), (0, 1, 0, 0), size=(0.3, 0.45), speed=(0.0, 0.04), spin=(0.2, 0.45)),
    Prompt("drifting triangles", (1, 2), (0, 0, 1, 0), size=(0.35, 0.5), speed=(0.06, 0.14), spin=(0.05, 0.2)),
    Prompt("camera pan over a textured field", (0, 2), (1, 1, 1, 1), size=(0.2, 0.3),
           pan=(0.08, 0.2), texture=(0.3, 0.6)),
    Prompt("shapes orbiting the centre", (1, 2), (1, 1, 1, 0), size=(0.2, 0.3), orbit_radius=(0.3, 0.5),
           orbit_speed=(0.25, 0.5), spin=(0.0, 0.3)),
    Prompt("pulsing rings", (1, 2), (0.2, 0, 0, 1), size=(0.3, 0.45), speed=(0.0, 0.03), pulse=(0.2, 0.35)),
    Prompt("a busy scene with a moving camera", (2, 4), (1, 1, 1, 1), size=(0.18, 0.3), speed=(0.03, 0.15),
           spin=(0.0, 0.4), pulse=(0.0, 0.2), pan=(0.04, 0.12), texture=(0.1, 0.3)),
    Prompt("still shapes", (1, 3), (1, 1, 1, 1), size=(0.22, 0.38)),
)


def prompt_index(text_or_index) -> int:
    if isinstance(text_or_index, int):
        return text_or_index
    for i, p in enumerate(PROMPTS):
        if p.text == text_or_index:
            return i
    raise KeyError(f"unknown prompt {text_or_index!r}; known: {[p.text for p in PROMPTS]}")


def prompt_context(prompt, tokens: int = CONTEXT_TOKENS, dim: int = TEXT_DIM) -> torch.Tensor:
    """Deterministic pseudo-random context float32 [tokens, dim] for one prompt (text or index):
    standard normal, seeded by the CRC32 of the prompt's text."""
    text = PROMPTS[prompt_index(prompt)].text
    gen = torch.Generator().manual_seed(zlib.crc32(text.encode()))
    return torch.randn(tokens, dim, generator=gen)


def null_context(tokens: int = CONTEXT_TOKENS, dim: int = TEXT_DIM) -> torch.Tensor:
    """The unconditional context (prompt dropout in training, the negative in CFG): zeros."""
    return torch.zeros(tokens, dim)


def all_contexts(device=None) -> torch.Tensor:
    """[len(PROMPTS) + 1, CONTEXT_TOKENS, TEXT_DIM]: every prompt's context, then the null one."""
    return torch.stack([prompt_context(i) for i in range(len(PROMPTS))] + [null_context()]).to(device)


def _uniform(lo_hi: torch.Tensor, shape, gen, device) -> torch.Tensor:
    """lo_hi: [B, 2] -> uniform samples [B, *shape]."""
    u = torch.rand((lo_hi.shape[0], *shape), generator=gen, device=device)
    view = (lo_hi.shape[0],) + (1,) * len(shape)
    return lo_hi[:, 0].view(view) + u * (lo_hi[:, 1] - lo_hi[:, 0]).view(view)


def _table(field: str, prompts: torch.Tensor, device) -> torch.Tensor:
    return torch.tensor([getattr(p, field) for p in PROMPTS], dtype=torch.float32, device=device)[prompts]


def _reflect(x: torch.Tensor, lo: float, hi: float) -> torch.Tensor:
    """Fold x into [lo, hi] like a ball bouncing between two walls."""
    span = hi - lo
    y = torch.remainder(x - lo, 2 * span)
    return lo + span - (y - span).abs()


def _random_direction(shape, gen, device) -> torch.Tensor:
    ang = torch.rand(shape, generator=gen, device=device) * 2 * math.pi
    return torch.stack([ang.cos(), ang.sin()], dim=-1)


def _random_colors(shape, gen, device) -> torch.Tensor:
    """Saturated colours in [-1, 1]: a random hue, random value."""
    hue = torch.rand(shape, generator=gen, device=device)
    k = torch.tensor([0.0, 2.0 / 3.0, 1.0 / 3.0], device=device)
    rgb = 0.5 + 0.5 * torch.cos(2 * math.pi * (hue[..., None] + k))
    value = 0.6 + 0.4 * torch.rand(shape + (1,), generator=gen, device=device)
    return (rgb * value) * 2 - 1


def _sdf(kind: torch.Tensor, px: torch.Tensor, py: torch.Tensor, size: torch.Tensor) -> torch.Tensor:
    """Signed distance (negative inside) of each shape in its local frame; kind indexes SHAPES."""
    r = torch.sqrt(px * px + py * py)
    circle = r - size
    square = torch.maximum(px.abs(), py.abs()) - size * 0.85
    # equilateral triangle with circumradius ``size``: max of three half-plane distances
    tri = None
    for k in range(3):
        a = math.pi / 2 + k * 2 * math.pi / 3
        d = px * math.cos(a) + py * math.sin(a) - 0.5 * size
        tri = d if tri is None else torch.maximum(tri, d)
    ring = (r - size * 0.75).abs() - size * 0.25
    out = torch.where(kind == 0, circle, square)
    out = torch.where(kind == 2, tri, out)
    return torch.where(kind == 3, ring, out)


def generate_videos(prompts: torch.Tensor, frames: int, height: int, width: int,
                    generator: torch.Generator | None = None, device=None) -> torch.Tensor:
    """Videos float32 [B, T, 3, H, W] in [-1, 1] for prompt indices ``prompts`` (int [B]).

    All randomness comes from ``generator`` (on ``device``): the same generator state gives the
    same videos."""
    device = torch.device(device or (generator.device if generator is not None else "cpu"))
    gen = generator
    prompts = prompts.to(device)
    batch, k_max = prompts.shape[0], MAX_OBJECTS
    t = torch.arange(frames, device=device, dtype=torch.float32)
    ys = (torch.arange(height, device=device, dtype=torch.float32) + 0.5) / height * 2 - 1
    xs = (torch.arange(width, device=device, dtype=torch.float32) + 0.5) / width * 2 - 1
    pixel = 2.0 / min(height, width)

    # camera pan: [B, T, 2]
    pan_speed = _uniform(_table("pan", prompts, device), (), gen, device)
    pan = pan_speed[:, None, None] * _random_direction((batch,), gen, device)[:, None, :] * t[None, :, None]

    # background: base colour, a gradient and three coloured gratings, in world coordinates
    bx = xs[None, None, None, :] + pan[:, :, 0, None, None]          # [B, T, 1, W]
    by = ys[None, None, :, None] + pan[:, :, 1, None, None]          # [B, T, H, 1]
    base = _random_colors((batch,), gen, device) * 0.5                # [B, 3]
    grad = _random_colors((batch,), gen, device) * 0.25
    gdir = _random_direction((batch,), gen, device)
    contrast = _uniform(_table("texture", prompts, device), (), gen, device)
    field = base[:, None, :, None, None] + grad[:, None, :, None, None] * (
        gdir[:, 0, None, None, None, None] * bx[:, :, None] + gdir[:, 1, None, None, None, None] * by[:, :, None])
    for _ in range(3):
        freq = 1.5 + 4.5 * torch.rand(batch, generator=gen, device=device)          # cycles per frame
        d = _random_direction((batch,), gen, device) * (freq * math.pi)[:, None]
        phase = torch.rand(batch, generator=gen, device=device) * 2 * math.pi
        color = _random_colors((batch,), gen, device) * (contrast / 3)[:, None]
        wave = torch.sin(d[:, 0, None, None, None] * bx + d[:, 1, None, None, None] * by + phase[:, None, None, None])
        field = field + color[:, None, :, None, None] * wave[:, :, None]
    video = field.expand(batch, frames, 3, height, width).clone()

    # objects: [B, K] parameters
    lo, hi = _table("objects", prompts, device).unbind(-1)
    count = (lo + torch.rand(batch, generator=gen, device=device) * (hi - lo + 1)).floor().clamp(max=hi)
    active = torch.arange(k_max, device=device)[None, :] < count[:, None]
    weights = torch.tensor([p.shapes for p in PROMPTS], dtype=torch.float32, device=device)[prompts]
    kind = torch.multinomial(weights, k_max, replacement=True, generator=gen)          # [B, K]
    size = _uniform(_table("size", prompts, device), (k_max,), gen, device)
    start = (torch.rand(batch, k_max, 2, generator=gen, device=device) * 2 - 1) * 0.7
    vel = _uniform(_table("speed", prompts, device), (k_max,), gen, device)[..., None] * \
        _random_direction((batch, k_max), gen, device)
    orbit_r = _uniform(_table("orbit_radius", prompts, device), (k_max,), gen, device)
    orbit_w = _uniform(_table("orbit_speed", prompts, device), (k_max,), gen, device) * \
        torch.where(torch.rand(batch, k_max, generator=gen, device=device) < 0.5, -1.0, 1.0)
    orbit_p = torch.rand(batch, k_max, generator=gen, device=device) * 2 * math.pi
    spin = _uniform(_table("spin", prompts, device), (k_max,), gen, device) * \
        torch.where(torch.rand(batch, k_max, generator=gen, device=device) < 0.5, -1.0, 1.0)
    angle0 = torch.rand(batch, k_max, generator=gen, device=device) * 2 * math.pi
    pulse = _uniform(_table("pulse", prompts, device), (k_max,), gen, device)
    pulse_w = 0.4 + 0.6 * torch.rand(batch, k_max, generator=gen, device=device)
    pulse_p = torch.rand(batch, k_max, generator=gen, device=device) * 2 * math.pi
    color = _random_colors((batch, k_max), gen, device)
    # stripes only on circles (the one shape whose rotation would not show otherwise)
    stripe = ((torch.rand(batch, k_max, generator=gen, device=device) < 0.5) & (kind == 0)).float() * 0.35
    orbit_centre = (torch.rand(batch, k_max, 2, generator=gen, device=device) * 2 - 1) * 0.15
    start = torch.where(orbit_r[..., None] > 0, orbit_centre, start)

    tt = t[None, None, :]                                                       # [1, 1, T]
    ang = orbit_p[..., None] + orbit_w[..., None] * tt
    cx = start[..., 0, None] + vel[..., 0, None] * tt + orbit_r[..., None] * ang.cos()
    cy = start[..., 1, None] + vel[..., 1, None] * tt + orbit_r[..., None] * ang.sin()
    cx, cy = _reflect(cx, -0.9, 0.9), _reflect(cy, -0.9, 0.9)                   # [B, K, T]
    cx = cx - pan[:, None, :, 0]                                                  # world -> camera
    cy = cy - pan[:, None, :, 1]
    theta = angle0[..., None] + spin[..., None] * tt
    radius = size[..., None] * (1 + pulse[..., None] * torch.sin(pulse_w[..., None] * tt + pulse_p[..., None]))

    X = xs[None, None, :]                                                        # [1, 1, W]
    Y = ys[None, :, None]                                                        # [1, H, 1]
    for j in range(k_max):
        dx = X - cx[:, j, :, None, None]                                         # [B, T, 1, W]
        dy = Y - cy[:, j, :, None, None]                                         # [B, T, H, 1]
        c, s = theta[:, j].cos()[..., None, None], theta[:, j].sin()[..., None, None]
        lx, ly = c * dx + s * dy, -s * dx + c * dy                               # [B, T, H, W]
        rad = radius[:, j, :, None, None]
        dist = _sdf(kind[:, j, None, None, None], lx, ly, rad)
        cover = (0.5 - dist / pixel).clamp(0.0, 1.0) * active[:, j, None, None, None]
        # stripes in the object's own frame make rotation visible on round shapes too
        shade = 1.0 - stripe[:, j, None, None, None] * (0.5 + 0.5 * torch.sin(lx / rad * 3 * math.pi))
        obj = color[:, j, None, :, None, None] * shade[:, :, None]
        video = video + cover[:, :, None] * (obj - video)
    return video.clamp(-1.0, 1.0)


def sample_batch(batch: int, frames: int, height: int, width: int, generator: torch.Generator,
                 device=None, prompts: torch.Tensor | None = None):
    """(videos [B, T, 3, H, W], prompt indices [B]): prompts uniform over PROMPTS unless given."""
    device = torch.device(device or generator.device)
    if prompts is None:
        prompts = torch.randint(0, len(PROMPTS), (batch,), generator=generator, device=device)
    return generate_videos(prompts, frames, height, width, generator, device), prompts


def make_video(prompt, frames: int = 8, size: int = 64, seed: int = 0) -> torch.Tensor:
    """One video [T, 3, size, size] for a prompt (text or index), on the CPU."""
    gen = torch.Generator().manual_seed(seed)
    return generate_videos(torch.tensor([prompt_index(prompt)]), frames, size, size, gen)[0]

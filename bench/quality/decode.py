"""Latents of the tiny Wan model -> pixels, and animated strips (GIF / WebP) with Pillow.

    python -m bench.quality.decode latents.safetensors out.gif [--key latent] [--comfy-latent --comfyui PATH]

``latent_to_frames`` takes a model latent (the space the diffusion model works in); a latent that
came out of ComfyUI's sampler (``process_latent_out`` applied) goes through ``latent_space.from_comfy``
first (``comfy_latent_to_frames``). See latent_space.py for the map itself.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

try:
    from . import latent_space
except ImportError:  # run as a script
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import latent_space


def to_uint8(video: torch.Tensor) -> np.ndarray:
    """Video [..., T, 3, H, W] in [-1, 1] -> uint8 [..., T, H, W, 3] (rounded, clamped)."""
    x = ((video.detach().float().cpu().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)
    return x.movedim(-3, -1).numpy()


def latent_to_frames(latent: torch.Tensor) -> np.ndarray:
    """Model latent [..., 16, T, h, w] -> uint8 frames [..., T, 2h, 2w, 3]."""
    return to_uint8(latent_space.decode(latent.float()))


def comfy_latent_to_frames(latent: torch.Tensor, latent_format=None) -> np.ndarray:
    """ComfyUI latent [B, 16, T, h, w] (a sampler's output) -> uint8 frames [B, T, 2h, 2w, 3]."""
    return latent_to_frames(latent_space.from_comfy(latent.float(), latent_format))


def tile(videos, columns: int | None = None, gap: int = 2, upscale: int = 1) -> np.ndarray:
    """Several uint8 videos [N, T, H, W, 3] (same size) -> one [T, rows*(H+gap)-gap, ...] grid;
    one row (a strip) unless ``columns`` is given. ``upscale``: nearest-neighbour factor."""
    videos = np.asarray(videos)
    if videos.ndim == 4:
        videos = videos[None]
    if upscale > 1:
        videos = videos.repeat(upscale, axis=2).repeat(upscale, axis=3)
    n, t, h, w, _ = videos.shape
    columns = columns or n
    rows = -(-n // columns)
    canvas = np.full((t, rows * (h + gap) - gap, columns * (w + gap) - gap, 3), 255, np.uint8)
    for i in range(n):
        r, c = divmod(i, columns)
        canvas[:, r * (h + gap):r * (h + gap) + h, c * (w + gap):c * (w + gap) + w] = videos[i]
    return canvas


def write_animation(path, videos, fps: float = 8.0, columns: int | None = None, upscale: int = 2,
                    loop: int = 0) -> Path:
    """Write uint8 videos [N, T, H, W, 3] (or one [T, H, W, 3]) as one animated GIF or WebP
    (by the suffix of ``path``), tiled as a strip (or ``columns`` wide)."""
    from PIL import Image
    path = Path(path)
    frames = tile(videos, columns, upscale=upscale)
    images = [Image.fromarray(f) for f in frames]
    duration = int(round(1000 / fps))
    kind = path.suffix.lower()
    path.parent.mkdir(parents=True, exist_ok=True)
    if kind == ".gif":
        images[0].save(path, save_all=True, append_images=images[1:], duration=duration, loop=loop,
                       optimize=False, disposal=1)
    elif kind == ".webp":
        images[0].save(path, save_all=True, append_images=images[1:], duration=duration, loop=loop,
                       lossless=True)
    else:
        raise ValueError(f"write_animation writes .gif or .webp, not {path.name}")
    return path


def write_frame_strip(path, video, upscale: int = 2, gap: int = 2) -> Path:
    """One uint8 video [T, H, W, 3] as a still image with its frames side by side (PNG etc.)."""
    from PIL import Image
    video = np.asarray(video)
    strip = tile(video[:, None], columns=video.shape[0], gap=gap, upscale=upscale)[0]
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(strip).save(path)
    return path


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description="Decode latents of the tiny Wan model to an animation")
    ap.add_argument("latents", type=Path, help=".safetensors or .pt holding [B, 16, T, h, w] or [16, T, h, w]")
    ap.add_argument("out", type=Path, help=".gif or .webp")
    ap.add_argument("--key", default=None, help="tensor name in a .safetensors file (default: the first)")
    ap.add_argument("--comfy-latent", action="store_true",
                    help="the latent is ComfyUI's (process_latent_out applied): undo Wan21's normalisation")
    ap.add_argument("--comfyui", type=Path, help="ComfyUI tree (for --comfy-latent)")
    ap.add_argument("--fps", type=float, default=8.0)
    ap.add_argument("--upscale", type=int, default=2)
    a = ap.parse_args(argv)
    if a.latents.suffix == ".safetensors":
        from safetensors.torch import load_file
        tensors = load_file(str(a.latents))
        latent = tensors[a.key or next(iter(tensors))]
    else:
        latent = torch.load(a.latents, map_location="cpu")
    if latent.ndim == 4:
        latent = latent[None]
    if a.comfy_latent:
        if a.comfyui:
            sys.path.insert(0, str(a.comfyui))
        frames = comfy_latent_to_frames(latent)
    else:
        frames = latent_to_frames(latent)
    print(write_animation(a.out, frames, fps=a.fps, upscale=a.upscale))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""PSNR and SSIM of decoded videos against the dense video (plain torch, no extra packages).

Both take uint8 frames ``[..., H, W, 3]`` (any leading axes: frames, videos), compare in the
0-255 range, and return one number for the whole video:

- ``psnr``: ``10 log10(255^2 / MSE)`` with the MSE over every pixel and channel of the video
  (``inf`` when identical).
- ``ssim``: Wang et al. (2004) with an 11 x 11 Gaussian window (sigma 1.5), K1 = 0.01,
  K2 = 0.03, L = 255, computed on each colour channel of each frame over the valid window
  positions (no padding), averaged over positions, channels and frames.
"""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F


def _as_float(frames) -> torch.Tensor:
    x = torch.as_tensor(np.asarray(frames))
    if x.dtype != torch.uint8 or x.shape[-1] != 3:
        raise ValueError(f"need uint8 frames [..., H, W, 3], got {x.dtype} {tuple(x.shape)}")
    return x.to(torch.float64)


def psnr(test, reference) -> float:
    a, b = _as_float(test), _as_float(reference)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {tuple(a.shape)} vs {tuple(b.shape)}")
    mse = torch.mean((a - b) ** 2).item()
    return math.inf if mse == 0 else 10.0 * math.log10(255.0 ** 2 / mse)


def _gaussian_window(size: int = 11, sigma: float = 1.5) -> torch.Tensor:
    x = torch.arange(size, dtype=torch.float64) - (size - 1) / 2
    g = torch.exp(-x * x / (2 * sigma * sigma))
    g = g / g.sum()
    return (g[:, None] * g[None, :])[None, None]            # [1, 1, size, size]


def ssim(test, reference, window: int = 11, sigma: float = 1.5) -> float:
    a, b = _as_float(test), _as_float(reference)
    if a.shape != b.shape:
        raise ValueError(f"shapes differ: {tuple(a.shape)} vs {tuple(b.shape)}")
    h, w = a.shape[-3], a.shape[-2]
    if min(h, w) < window:
        raise ValueError(f"frames of {h} x {w} are smaller than the {window} x {window} window")
    # every (frame, channel) as one image: [N, 1, H, W]
    a = a.reshape(-1, h, w, 3).permute(0, 3, 1, 2).reshape(-1, 1, h, w)
    b = b.reshape(-1, h, w, 3).permute(0, 3, 1, 2).reshape(-1, 1, h, w)
    g = _gaussian_window(window, sigma)
    mu_a, mu_b = F.conv2d(a, g), F.conv2d(b, g)
    var_a = F.conv2d(a * a, g) - mu_a ** 2
    var_b = F.conv2d(b * b, g) - mu_b ** 2
    cov = F.conv2d(a * b, g) - mu_a * mu_b
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    value = ((2 * mu_a * mu_b + c1) * (2 * cov + c2)) / ((mu_a ** 2 + mu_b ** 2 + c1) * (var_a + var_b + c2))
    return value.mean().item()

"""The latent space of the tiny Wan model: a fixed, exactly invertible affine map of pixel patches.

Pixels -> model latent (what the diffusion model sees, i.e. ComfyUI's ``process_in`` side):

1. A video ``[T, 3, H, W]`` in [-1, 1] (H, W even) is cut into 1 x 2 x 2 patches (one frame, 2 x 2
   pixels); each patch is the 12-vector ``x`` ordered (channel, dy, dx).
2. ``y = M x`` with ``M`` = the first 12 columns of the 16 x 16 Sylvester-Hadamard matrix divided
   by 4: ``M^T M = I_12`` exactly (orthonormal columns), so ``x = M^T y`` recovers the pixels.
3. Centring per channel and ONE global scale, measured once on ``video_data``:
   ``z = (y - DATA_MEAN) / DATA_SCALE`` with ``DATA_SCALE`` the root mean square of the per-channel
   standard deviations ``DATA_STD`` (so ``z`` has unit mean square). One scale for all channels keeps
   the squared error in ``z`` proportional to the squared error in pixels (``M`` is orthonormal), so
   training spends its capacity where pixels change, as with a real VAE's single scaling factor; the
   fine 2 x 2 edge channels are small, the four 2 x 2 colour means large.

So a video ``[T, 3, H, W]`` maps to ``z`` ``[16, T, H/2, W/2]``; the Wan model (patch 1 x 2 x 2)
then sees ``T x H/4 x W/4`` tokens. Decoding is ``x = M^T (z * DATA_SCALE + DATA_MEAN)``: exact for
encoded latents, the least-squares patch for any other latent (the 4 directions of R^16 that no
pixel patch reaches are dropped).

ComfyUI: ``model.process_latent_in`` (Wan21's per-channel mean/std) turns a ComfyUI latent into the
model latent ``z``; ``process_latent_out`` is the inverse and is what a KSampler's output has been
through. ``to_comfy`` / ``from_comfy`` apply them (ComfyUI's ``comfy.latent_formats.Wan21`` or any
object with ``process_in`` / ``process_out``). Size convention against the stock nodes: a video of
``T`` frames at ``H x W`` pixels is the latent ``[16, T, H/2, W/2]``, which
``EmptyHunyuanLatentVideo(width=4 W, height=4 H, length=4 (T - 1) + 1)`` allocates (``Wan``'s own
convention is 4x in time and 8x in space; here one latent frame is one video frame and one latent
pixel is 2 x 2 video pixels).
"""
from __future__ import annotations

import torch

LATENT_CHANNELS = 16
PATCH_PIXELS = 12          # 3 colours x 2 x 2
SPATIAL = 2                # pixels per latent pixel, each axis

# Per-channel mean / std of y = M x over video_data (``python -m bench.quality.latent_space``:
# 4096 videos of 8 frames at 64 x 64, seed 1234, measured on the first version of the generator and
# kept fixed since: the trained weights depend on this map; the current generator gives values
# within 5%). M = H4 (x) H4 restricted to 3 colours, so the channels are colour mixes
# (0, 4, 8, 12: 2x2 means) times 2x2 patterns (the others: edges).
DATA_MEAN = (-0.3106, 0.0, -0.0001, 0.0, -0.1017, 0.0, 0.0, 0.0,
             -0.0964, 0.0001, 0.0, 0.0, 0.1125, 0.0, 0.0001, 0.0)
DATA_STD = (0.2391, 0.0240, 0.0240, 0.0088, 0.6467, 0.0546, 0.0546, 0.0222,
            0.6458, 0.0544, 0.0544, 0.0221, 0.6491, 0.0548, 0.0549, 0.0222)
DATA_SCALE = (sum(s * s for s in DATA_STD) / LATENT_CHANNELS) ** 0.5      # 0.2887


def hadamard(n: int = LATENT_CHANNELS) -> torch.Tensor:
    """Sylvester-Hadamard matrix of order n (a power of two), entries +-1, float64."""
    h = torch.ones(1, 1, dtype=torch.float64)
    while h.shape[0] < n:
        h = torch.cat([torch.cat([h, h], 1), torch.cat([h, -h], 1)], 0)
    if h.shape[0] != n:
        raise ValueError(f"n must be a power of two, got {n}")
    return h


def mixing_matrix(dtype=torch.float32, device=None) -> torch.Tensor:
    """M [16, 12] with orthonormal columns: latent y = M @ pixel patch x."""
    return (hadamard()[:, :PATCH_PIXELS] / 4.0).to(dtype=dtype, device=device)


def _stats(dtype, device):
    """(mean [16, 1, 1, 1], scale) of the map y -> z."""
    view = (LATENT_CHANNELS, 1, 1, 1)
    return torch.tensor(DATA_MEAN, dtype=dtype, device=device).view(view), DATA_SCALE


def patchify(video: torch.Tensor) -> torch.Tensor:
    """[..., T, 3, H, W] -> pixel patches [..., 12, T, H/2, W/2] (ordered channel, dy, dx)."""
    *lead, t, c, h, w = video.shape
    if c != 3 or h % SPATIAL or w % SPATIAL:
        raise ValueError(f"need [..., T, 3, H, W] with even H, W; got {tuple(video.shape)}")
    x = video.reshape(*lead, t, c, h // SPATIAL, SPATIAL, w // SPATIAL, SPATIAL)
    n = len(lead)
    x = x.permute(*range(n), n + 1, n + 3, n + 5, n, n + 2, n + 4)     # [..., c, dy, dx, T, h, w]
    return x.reshape(*lead, PATCH_PIXELS, t, h // SPATIAL, w // SPATIAL)


def unpatchify(patches: torch.Tensor) -> torch.Tensor:
    """Inverse of ``patchify``: [..., 12, T, h, w] -> [..., T, 3, 2h, 2w]."""
    *lead, p, t, h, w = patches.shape
    if p != PATCH_PIXELS:
        raise ValueError(f"need {PATCH_PIXELS} patch values, got {p}")
    x = patches.reshape(*lead, 3, SPATIAL, SPATIAL, t, h, w)
    n = len(lead)
    x = x.permute(*range(n), n + 3, n, n + 4, n + 1, n + 5, n + 2)     # [..., T, c, h, dy, w, dx]
    return x.reshape(*lead, t, 3, h * SPATIAL, w * SPATIAL)


def _mix(x: torch.Tensor, matrix: torch.Tensor) -> torch.Tensor:
    """Apply matrix [out, in] to the channel axis (-4) of [..., in, T, h, w]."""
    return torch.einsum("oi,...ithw->...othw", matrix, x)


def encode_raw(video: torch.Tensor) -> torch.Tensor:
    """y = M x (before standardisation): [..., T, 3, H, W] -> [..., 16, T, H/2, W/2]."""
    return _mix(patchify(video), mixing_matrix(video.dtype, video.device))


def encode(video: torch.Tensor) -> torch.Tensor:
    """Video [..., T, 3, H, W] in [-1, 1] -> model latent z [..., 16, T, H/2, W/2]."""
    mean, std = _stats(video.dtype, video.device)
    return (encode_raw(video) - mean) / std


def decode(latent: torch.Tensor) -> torch.Tensor:
    """Model latent z [..., 16, T, h, w] -> video [..., T, 3, 2h, 2w] (float, not clamped)."""
    mean, std = _stats(latent.dtype, latent.device)
    y = latent * std + mean
    return unpatchify(_mix(y, mixing_matrix(latent.dtype, latent.device).T))


def _wan21_format(latent_format):
    if latent_format is not None:
        return latent_format
    import comfy.latent_formats  # needs a ComfyUI tree on sys.path
    return comfy.latent_formats.Wan21()


def to_comfy(latent: torch.Tensor, latent_format=None) -> torch.Tensor:
    """Model latent -> ComfyUI latent (``process_out``); batched [B, 16, T, h, w]."""
    return _wan21_format(latent_format).process_out(latent)


def from_comfy(latent: torch.Tensor, latent_format=None) -> torch.Tensor:
    """ComfyUI latent (a KSampler's output) -> model latent (``process_in``)."""
    return _wan21_format(latent_format).process_in(latent)


def empty_latent_node_args(frames: int, height: int, width: int) -> dict:
    """EmptyHunyuanLatentVideo inputs that allocate the latent of a ``frames x height x width``
    video here: [1, 16, frames, height/2, width/2]."""
    return {"width": 4 * width, "height": 4 * height, "length": 4 * (frames - 1) + 1, "batch_size": 1}


def measure_stats(videos: int = 4096, frames: int = 8, size: int = 64, seed: int = 1234, batch: int = 256):
    """Per-channel mean / std of y = M x over generated videos (the source of DATA_MEAN / DATA_STD;
    DATA_SCALE follows from DATA_STD)."""
    try:
        from .video_data import sample_batch
    except ImportError:
        from video_data import sample_batch
    gen = torch.Generator().manual_seed(seed)
    total = torch.zeros(LATENT_CHANNELS, dtype=torch.float64)
    square = torch.zeros(LATENT_CHANNELS, dtype=torch.float64)
    count = 0
    for start in range(0, videos, batch):
        clips, _ = sample_batch(min(batch, videos - start), frames, size, size, gen)
        y = encode_raw(clips).double().transpose(0, 1).reshape(LATENT_CHANNELS, -1)
        total += y.sum(1)
        square += (y * y).sum(1)
        count += y.shape[1]
    mean = total / count
    return mean, (square / count - mean * mean).sqrt()


if __name__ == "__main__":
    m, s = measure_stats()
    print("DATA_MEAN = (" + ", ".join(f"{v:.4f}" for v in m.tolist()) + ")")
    print("DATA_STD = (" + ", ".join(f"{v:.4f}" for v in s.tolist()) + ")")

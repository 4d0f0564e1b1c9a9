"""Shared helpers of the kernel tests: layouts, inputs, naive N x N oracle."""
import math

import torch

from svg_pack.svg_attention import VideoLayout, head_order


def video_layout(F, P, pre, N):
    """The VideoLayout of N tokens: ``pre`` global tokens, F x P video tokens, the rest after."""
    return VideoLayout(F, P, pre, N - pre - F * P)


def make_qkv(B, H, N, D, dtype, device="cpu", seed=0, layout="bnhd", scale=1.0):
    """q, k, v as [B, H, N, D] views of ComfyUI-style [B, N, H*D] storage (strided)."""
    g = torch.Generator(device="cpu").manual_seed(seed)
    if layout == "bnhd":
        x = (torch.randn(3, B, N, H, D, generator=g) * scale).to(dtype=dtype, device=device)
        return [x[i].transpose(1, 2) for i in range(3)]
    x = (torch.randn(3, B, H, N, D, generator=g) * scale).to(dtype=dtype, device=device)
    return [x[i] for i in range(3)]


def naive_band(q, k, v, temporal, video_start, F, P, BS, w, key_bias=None, scale=None):
    """Dense N x N masked softmax (tiny sizes only); returns video rows [B, H, V, D] fp64 in token order."""
    B, H, N, D = q.shape
    V = F * P
    scale = 1.0 / math.sqrt(D) if scale is None else scale
    out = torch.zeros(B, H, N, D, dtype=torch.float64)
    for b in range(B):
        for h in range(H):
            t = bool(temporal[b, h])
            order = head_order(video_layout(F, P, video_start, N), t)
            pos = torch.full((N,), -1, dtype=torch.long)  # head-order index of each token, -1 global
            pos[order] = torch.arange(V)
            is_vid = pos >= 0
            mask = torch.zeros(N, N, dtype=torch.bool)
            qi = pos[:, None]
            kj = pos[None, :]
            mask = (~is_vid)[None, :] | ((qi // BS - kj // BS).abs() <= w)
            s = q[b, h].double() @ k[b, h].double().T * scale
            if key_bias is not None:
                kb = key_bias[b if key_bias.shape[0] > 1 else 0].double()
                s = s + torch.where(is_vid, torch.zeros_like(kb), kb)[None, :]
            s = s.masked_fill(~mask, float("-inf"))
            out[b, h] = torch.softmax(s, -1) @ v[b, h].double()
    return out[:, :, video_start:video_start + V]


def make_bias(B, N, video_start, V, kind="mixed"):
    """float32 [B, N] key bias: some global keys masked (-1e9 / -inf), video entries junk (unused)."""
    bias = torch.zeros(B, N)
    glob = torch.cat([torch.arange(video_start), torch.arange(video_start + V, N)])
    if glob.numel():
        bias[0, glob[-max(1, glob.numel() // 3):]] = -1e9
        if B > 1:
            bias[1, glob[:1]] = float("-inf")
            bias[1, glob[1:2]] = 0.5
    # video entries are not read by the kernels: poison them
    bias[:, video_start:video_start + V] = 1e4
    return bias

"""PSNR / SSIM of bench/quality/metrics.py against direct computations."""
import math

import numpy as np
import pytest

from svg_pack.bench.quality import metrics


def _frames(seed, shape=(2, 13, 14, 3)):
    return np.random.default_rng(seed).integers(0, 256, shape, dtype=np.uint8)


def test_psnr_matches_its_definition():
    a = _frames(0)
    assert metrics.psnr(a, a) == math.inf
    b = a.astype(np.int16) + 3
    b = np.clip(b, 0, 255).astype(np.uint8)
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    assert metrics.psnr(b, a) == pytest.approx(10 * math.log10(255 ** 2 / mse), rel=1e-12)


def _ssim_direct(a, b, window=11, sigma=1.5):
    """Loop over every valid window position of every (frame, channel): Wang et al. 2004."""
    x = np.arange(window) - (window - 1) / 2
    g = np.exp(-x * x / (2 * sigma * sigma))
    w = np.outer(g, g) / np.outer(g, g).sum()
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    vals = []
    for f in range(a.shape[0]):
        for c in range(3):
            p, q = a[f, :, :, c].astype(np.float64), b[f, :, :, c].astype(np.float64)
            for i in range(p.shape[0] - window + 1):
                for j in range(p.shape[1] - window + 1):
                    pw, qw = p[i:i + window, j:j + window], q[i:i + window, j:j + window]
                    mp, mq = (w * pw).sum(), (w * qw).sum()
                    vp, vq = (w * pw * pw).sum() - mp ** 2, (w * qw * qw).sum() - mq ** 2
                    cov = (w * pw * qw).sum() - mp * mq
                    vals.append((2 * mp * mq + c1) * (2 * cov + c2) / ((mp ** 2 + mq ** 2 + c1) * (vp + vq + c2)))
    return float(np.mean(vals))


def test_ssim_matches_a_direct_computation():
    a = _frames(1)
    noise = np.random.default_rng(2).normal(0, 20, a.shape)
    b = np.clip(a + noise, 0, 255).astype(np.uint8)
    assert metrics.ssim(a, a) == pytest.approx(1.0, abs=1e-12)
    got = metrics.ssim(b, a)
    assert got < 0.99
    assert got == pytest.approx(_ssim_direct(b, a), rel=1e-9)


def test_metrics_reject_bad_input():
    a = _frames(3)
    with pytest.raises(ValueError):
        metrics.psnr(a, a[:1])
    with pytest.raises(ValueError):
        metrics.ssim(a.astype(np.float32), a)
    with pytest.raises(ValueError):
        metrics.ssim(a[:, :8, :8], a[:, :8, :8])     # smaller than the window


def test_head_map_shares_reads_back_the_rendered_counts(tmp_path):
    """e2e_quality reads the profiler's per-head statistics back from the report node's head map:
    the shares it solves for equal the counts that were drawn."""
    import sys
    from pathlib import Path

    import torch
    from PIL import Image

    from svg_pack.svg_attention.report import render_head_map
    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "scripts"))
    from svg_pack.bench.quality import e2e_quality

    counts = torch.tensor([[[16, 0, 0]] * 4] + [[[4, 16 - k, k] for k in (0, 5, 11, 16)]] * 5)   # [6, 4, 3]
    image = render_head_map(counts, ("spatial", "temporal"), title="SVG: test")
    Image.fromarray(image.numpy()).save(tmp_path / "map.png")
    shares = e2e_quality.head_map_shares(tmp_path / "map.png", blocks=6, columns=4)
    np.testing.assert_allclose(shares, (counts / counts.sum(-1, keepdim=True)).numpy(), atol=0.02)

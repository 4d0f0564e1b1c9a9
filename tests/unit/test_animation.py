"""The main job's dense | SVG animation: videos at least 384 px a side (nearest neighbour), text
above and below them, never over them (bench/quality/animation.py)."""
import numpy as np
from PIL import Image, ImageSequence

from svg_pack.bench.quality import animation


def _video(seed, frames=8, side=64):
    return np.random.default_rng(seed).integers(0, 256, (frames, side, side, 3), dtype=np.uint8)


def _locate(frame: np.ndarray, video_frame: np.ndarray, k: int):
    """(y, x) where the k-times nearest-neighbour upscale of video_frame sits in frame."""
    big = video_frame.repeat(k, 0).repeat(k, 1)
    h, w = big.shape[:2]
    H, W = frame.shape[0] - h + 1, frame.shape[1] - w + 1
    corners = ((0, 0), (h - 1, w - 1), (0, w - 1), (h - 1, 0), (h // 2, w // 3))
    hit = np.ones((H, W), bool)
    for dy, dx in corners:   # cheap candidates first, then the full comparison
        hit &= (frame[dy:dy + H, dx:dx + W] == big[dy, dx]).all(-1)
    for y, x in zip(*np.nonzero(hit)):
        if np.array_equal(frame[y:y + h, x:x + w], big):
            return int(y), int(x)
    return None


def test_videos_upscaled_to_at_least_384_with_the_prompt_and_labels_outside(tmp_path):
    dense, sparse = _video(0), _video(1)
    # a 4-colour palette survives the GIF's 256-colour quantisation exactly
    palette = np.array([[0, 0, 0], [250, 30, 30], [30, 200, 40], [40, 60, 230]], np.uint8)
    dense, sparse = palette[dense[..., 0] % 4], palette[sparse[..., 0] % 4]
    path = animation.side_by_side([dense, sparse], ["dense", "SVG, sparsity 0.75"], tmp_path / "a.gif",
                                  title='"shapes orbiting the centre"', notes=["PSNR 30.0 dB", "CPU"])
    gif = Image.open(path)
    frames = [np.asarray(f.convert("RGB")) for f in ImageSequence.Iterator(gif)]
    assert len(frames) == 8
    k = animation.upscale_factor(64, 64, 384)
    assert k == 6
    where = [_locate(frames[3], v[3], k) for v in (dense, sparse)]
    assert None not in where, where
    (y0, x0), (y1, x1) = where
    assert y0 == y1 and x1 - x0 >= 384                       # side by side, no overlap
    ink = (frames[3].astype(int).sum(-1) < 200)
    assert ink[:y0].sum() > 500                               # prompt, frame counter, labels above
    assert ink[y0 + 384:].sum() > 100                         # notes below
    assert frames[0].shape[1] >= 2 * 384


def test_font_is_scalable():
    small, large = animation.font(12), animation.font(24)
    assert large.getbbox("Ag")[3] > small.getbbox("Ag")[3]

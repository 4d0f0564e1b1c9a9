"""The dense | SVG animation (the main job's picture, docs/images/main_job_side_by_side.gif).

Each video is upscaled with nearest neighbour to at least ``min_side`` pixels a side; the prompt is
written above, a label centred over each video, notes below; lines are spaced by the font's own
line height. The font is a TrueType font found on the system (DejaVu / Liberation Sans), else
Pillow's bundled scalable default (Pillow >= 10.1); nothing is downloaded.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np

FONT_FILES = (   # Debian: fonts-dejavu-core, fonts-liberation
    "/usr/share/fonts/truetype/dejavu/DejaVuSans{bold}.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSans-{regular_or_bold}.ttf",
    "/usr/share/fonts/truetype/liberation2/LiberationSans-{regular_or_bold}.ttf",
)
BACKGROUND, INK, GREY = (255, 255, 255), (20, 20, 20), (90, 90, 90)


def font(size: int, bold: bool = False):
    """A scalable font of ``size`` pixels: a system TrueType font, else Pillow's bundled one."""
    from PIL import ImageFont
    for pattern in FONT_FILES:
        path = Path(pattern.format(bold="-Bold" if bold else "",
                                   regular_or_bold="Bold" if bold else "Regular"))
        if path.is_file():
            return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size=size)


def upscale_factor(height: int, width: int, min_side: int) -> int:
    return max(1, math.ceil(min_side / min(height, width)))


def side_by_side(videos, labels, path: Path, title: str, notes=(), min_side: int = 384,
                 fps: float = 8.0, gap: int = 16) -> Path:
    """Animated GIF of uint8 videos [T, H, W, 3] (same size) side by side.

    ``title``: first line (the prompt); ``labels``: one per video, centred above it; ``notes``:
    lines under the videos (metrics, times). Returns ``path``.
    """
    from PIL import Image, ImageDraw
    videos = [np.asarray(v) for v in videos]
    if len(labels) != len(videos) or len({v.shape for v in videos}) != 1:
        raise ValueError("one label per video, all videos of one shape")
    frames, height, width, _ = videos[0].shape
    k = upscale_factor(height, width, min_side)
    big = [v.repeat(k, axis=1).repeat(k, axis=2) for v in videos]
    side_h, side_w = height * k, width * k

    size = max(16, side_w // 16)                      # 24 px at 384: legible at a glance
    title_font, label_font, note_font = font(size, bold=True), font(size), font(max(14, size * 3 // 4))
    line = lambda f: f.getbbox("Ag")[3] + max(4, f.size // 3)   # noqa: E731  (font line height)
    margin = gap
    canvas_w = len(videos) * side_w + (len(videos) + 1) * gap
    y_title = margin
    y_labels = y_title + line(title_font) + margin // 2             # the title line (prompt, frame counter)
    y_videos = y_labels + line(label_font)
    y_notes = y_videos + side_h + margin // 2
    canvas_h = y_notes + len(notes) * line(note_font) + margin // 2

    images = []
    for t in range(frames):
        canvas = Image.new("RGB", (canvas_w, canvas_h), BACKGROUND)
        draw = ImageDraw.Draw(canvas)
        draw.text((gap, y_title), title, font=title_font, fill=INK)
        draw.text((canvas_w - gap, y_title + title_font.size), f"frame {t + 1} of {frames}", font=note_font,
                  fill=GREY, anchor="rs")                           # right-aligned, on the title's baseline
        for i, (video, label) in enumerate(zip(big, labels)):
            x = gap + i * (side_w + gap)
            draw.text((x + side_w // 2, y_labels), label, font=label_font, fill=INK, anchor="mt")
            canvas.paste(Image.fromarray(video[t]), (x, y_videos))
        for j, note in enumerate(notes):
            draw.text((gap, y_notes + j * line(note_font)), note, font=note_font, fill=INK)
        images.append(canvas)
    path = Path(path)
    images[0].save(path, save_all=True, append_images=images[1:], duration=int(1000 / fps), loop=0)
    return path

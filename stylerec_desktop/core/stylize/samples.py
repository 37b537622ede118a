"""Synthetic, product-shot-like pictures for self-checks, parity tests and benchmarks (no files, no catalog).

A real product shot is a shaded object with texture on a near-white background; those are the statistics the
instance norms see, so we test and benchmark on that rather than on noise.
"""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFilter


def product_shot(size: int | tuple[int, int] = 512, seed: int = 0) -> Image.Image:
    """A shaded, patterned bag-like shape with a soft shadow on white; ``size`` is a side or ``(width, height)``."""
    width, height = (size, size) if isinstance(size, int) else size
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    cx, cy = width * 0.5, height * 0.55
    rx, ry = width * 0.3, height * 0.3
    # Body: vertical gradient (lighting) times a diagonal stripe pattern (fabric), in a saturated colour.
    hue = rng.uniform(0.2, 0.9, size=3).astype(np.float32)
    light = 0.55 + 0.45 * (1.0 - (yy - (cy - ry)) / (2 * ry)).clip(0, 1)
    stripes = 0.85 + 0.15 * np.sign(np.sin((xx + yy) * (2 * np.pi / max(12.0, width / 24))))
    body = hue[None, None, :] * (light * stripes)[..., None]
    inside = ((xx - cx) / rx) ** 2 + ((yy - cy) / ry) ** 2 <= 1.0
    inside &= yy >= cy - ry * 0.8  # a flat top, like a bag's opening
    shadow = np.exp(-(((xx - cx - rx * 0.1) / (rx * 1.1)) ** 2 + ((yy - cy - ry * 1.05) / (ry * 0.15)) ** 2))
    canvas = np.ones((height, width, 3), np.float32) * 0.97 - 0.25 * shadow[..., None]
    canvas[inside] = body[inside]
    image = Image.fromarray((canvas.clip(0, 1) * 255).astype(np.uint8))
    draw = ImageDraw.Draw(image)
    # A handle and a label: thin strokes and a sharp edge, the details style transfer must not wash away.
    line = max(2, width // 60)
    draw.arc((cx - rx * 0.6, cy - ry * 1.6, cx + rx * 0.6, cy - ry * 0.4), 180, 360, fill=(40, 30, 20), width=line)
    draw.rectangle((cx - rx * 0.3, cy, cx + rx * 0.3, cy + ry * 0.35), fill=(245, 240, 230), outline=(20, 20, 20))
    return image.filter(ImageFilter.GaussianBlur(radius=max(0.5, width / 1024)))


def painting(size: int = 256, seed: int = 1) -> Image.Image:
    """A colourful, high-contrast brush-stroke picture to use as a style image."""
    rng = np.random.default_rng(seed)
    image = Image.new("RGB", (size, size), tuple(int(v) for v in rng.integers(0, 80, 3)))
    draw = ImageDraw.Draw(image)
    palette = rng.integers(0, 256, size=(6, 3))
    for _ in range(220):
        x, y = rng.integers(0, size, 2)
        dx, dy = rng.integers(-size // 6, size // 6, 2)
        colour = tuple(int(v) for v in palette[rng.integers(0, len(palette))])
        width = int(rng.integers(2, max(3, size // 25)))
        draw.line((int(x), int(y), int(x + dx), int(y + dy)), fill=colour, width=width)
    return image.filter(ImageFilter.SMOOTH)

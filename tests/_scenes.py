"""Studio product shots drawn with PIL, with their exact ground-truth masks, for the mask and export tests."""

from __future__ import annotations

import numpy as np
from PIL import Image, ImageDraw, ImageFilter


def bottle_on_backdrop(
    size: int = 1024,
    colour: tuple[int, int, int] = (200, 40, 60),
    backdrop: tuple[int, int, int] = (255, 255, 255),
    shadow: float = 0.45,
    shift: tuple[int, int] = (0, 0),
) -> tuple[Image.Image, np.ndarray]:
    """A flat-coloured bottle-like product standing on a soft, wide grey floor shadow. Returns (image, truth)."""
    s = size / 1024
    dx, dy = shift
    image = Image.new("RGB", (size, size), backdrop)
    # The floor shadow is wider than the product and blurred over ~30 px, as under a softbox.
    shade = Image.new("L", (size, size), 0)
    ImageDraw.Draw(shade).ellipse(
        [int((260 + dx) * s), int((740 + dy) * s), int((780 + dx) * s), int((820 + dy) * s)], fill=int(255 * shadow)
    )
    shade = shade.filter(ImageFilter.GaussianBlur(28 * s))
    image = Image.composite(Image.new("RGB", (size, size), (90, 90, 92)), image, shade)
    truth = Image.new("L", (size, size), 0)
    draw = ImageDraw.Draw(truth)
    body = [int((330 + dx) * s), int((260 + dy) * s), int((700 + dx) * s), int((780 + dy) * s)]
    draw.rounded_rectangle(body, radius=int(60 * s), fill=255)
    draw.ellipse([int((380 + dx) * s), int((180 + dy) * s), int((650 + dx) * s), int((360 + dy) * s)], fill=255)
    image.paste(Image.new("RGB", (size, size), colour), mask=truth)
    return image, np.asarray(truth) > 127


def white_mug(backdrop: tuple[int, int, int] = (246, 244, 239)) -> tuple[Image.Image, np.ndarray]:
    """A white mug drawn with a thin grey outline on an off-white backdrop (1024 px). Returns (image, truth)."""
    image = Image.new("RGB", (1024, 1024), backdrop)
    truth = Image.new("L", (1024, 1024), 0)
    draw, fill = ImageDraw.Draw(image), ImageDraw.Draw(truth)
    body, handle, hole = [340, 300, 640, 720], [560, 400, 760, 620], [610, 460, 700, 560]
    fill.ellipse(handle, fill=255)
    fill.ellipse(hole, fill=0)
    fill.rectangle(body, fill=255)
    draw.ellipse(handle, fill=(255, 255, 255), outline=(150, 150, 150), width=5)
    draw.ellipse(hole, fill=backdrop, outline=(150, 150, 150), width=5)
    draw.rectangle(body, fill=(255, 255, 255), outline=(150, 150, 150), width=5)
    return image, np.asarray(truth) > 127


def full_bleed(size: int = 1024, seed: int = 0) -> Image.Image:
    """A photo-like texture to the edges: no backdrop at all."""
    rng = np.random.default_rng(seed)
    cells = (rng.random((size // 16, size // 16, 3)) * 255).astype(np.uint8)
    return Image.fromarray(cells).resize((size, size), Image.Resampling.BICUBIC)


def gradient_backdrop(size: int = 1024) -> np.ndarray:
    """A light grey studio sweep: brighter at the top, darker and slightly warm at the floor, vignetted corners."""
    y = np.linspace(0.0, 1.0, size, dtype=np.float32)[:, None]
    x = np.linspace(-1.0, 1.0, size, dtype=np.float32)[None, :]
    top, floor = np.array([250.0, 250.0, 250.0]), np.array([222.0, 220.0, 214.0])
    base = top * (1 - y[..., None]) + floor * y[..., None]
    vignette = 1.0 - 0.06 * (x**2 + (2 * y - 1) ** 2)[..., None]
    return np.clip(base * vignette, 0, 255).astype(np.uint8)


def iou(a: np.ndarray, b: np.ndarray) -> float:
    return float((a & b).sum() / max(1, (a | b).sum()))

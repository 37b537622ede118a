"""Photograph-like product shots with known masks: what a retailer's catalog photos look like, drawn by our code.

The drawn demo catalog (:mod:`.studio`) is clean: a flat sweep, products with crisp outlines, no sensor noise. Real
catalog photographs, which the product mask and the export framing must handle, differ in ways that break naive
image processing. :func:`photo_shot` reproduces them, deterministically by seed:

* an off-white backdrop with a vertical gradient and vignetting (corners a few percent darker), and a darker
  1-pixel border around the whole picture (about 17 levels darker, as some retailers' pipelines leave it);
* 2:3 portrait frames (360 x 540 by default), sensor noise, JPEG compression with 4:2:0 chroma subsampling;
* soft shadows under the product (blurred, offset drop shadows) and soft shading on the product (folds, rounded
  edges);
* kinds of product (:data:`KINDS`): an ordinary patterned ``garment``; a ``white`` product on the white backdrop;
  a ``small`` item covering about 5% of the frame (earrings, a hair clip); a ``close_up`` whose product runs off
  two or three edges of the frame (a sweater); a ``bag`` with a handle enclosing backdrop; a ``strappy`` dress
  whose straps enclose gaps of backdrop.

Each shot carries its truth: the product's coverage (anti-aliased alpha), its mask, and the clean backdrop (the
gradient and vignette alone, without border, shadow, noise or product) that export padding should match.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageDraw

KINDS = ("garment", "white", "small", "close_up", "bag", "strappy")
# Supersampling of the silhouettes: 4 x 4 sub-pixels give anti-aliased edges like a camera's.
_SUPER = 4
# How much darker the 1-pixel frame border is than the backdrop beside it (8-bit levels), as in the photos.
BORDER_DARKER = 17


@dataclass(frozen=True)
class PhotoShot:
    """One generated photograph and its truth.

    ``image`` is ``(H, W, 3)`` uint8 RGB after JPEG compression. ``alpha`` is the product's coverage ``(H, W)``
    float32 in 0..1 and ``mask`` is ``alpha >= 0.5``. ``backdrop`` is the clean backdrop ``(H, W, 3)`` float32 in
    0..255 (gradient and vignette only). ``kind`` is one of :data:`KINDS`; ``border`` is True when the picture
    has the darker 1-pixel frame.
    """

    image: np.ndarray
    alpha: np.ndarray
    backdrop: np.ndarray
    kind: str
    seed: int
    border: bool

    @property
    def mask(self) -> np.ndarray:
        return self.alpha >= 0.5


def _backdrop(width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    """Off-white sweep: a base colour, brighter at the top, and a vignette. ``(H, W, 3)`` float32 0..255."""
    base = np.array([rng.uniform(236, 250), 0.0, 0.0])
    base[1] = base[0] - rng.uniform(0, 4)
    base[2] = base[0] - rng.uniform(2, 10)  # warm off-white: a little less blue
    ys = np.linspace(-1.0, 1.0, height, dtype=np.float32)[:, None]
    xs = np.linspace(-1.0, 1.0, width, dtype=np.float32)[None, :]
    ramp = 1.0 + rng.uniform(0.005, 0.03) * -ys  # brighter at the top
    vignette = 1.0 - rng.uniform(0.02, 0.07) * (xs**2 + ys**2) / 2.0
    field = (ramp * vignette)[..., None] * base.astype(np.float32)
    return np.clip(field, 0.0, 255.0).astype(np.float32)


def _canvas(width: int, height: int) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    image = Image.new("L", (width * _SUPER, height * _SUPER), 0)
    return image, ImageDraw.Draw(image)


def _coverage(image: Image.Image) -> np.ndarray:
    return np.asarray(image.reduce(_SUPER), dtype=np.float32) / 255.0


def _blob(cx: float, cy: float, rx: float, ry: float, rng: np.random.Generator, wobble: float = 0.12) -> list:
    """A closed smooth outline (a few random harmonics on an ellipse), points in super-sampled pixels."""
    harmonics = [(k, rng.uniform(-wobble, wobble) / k, rng.uniform(0, 2 * math.pi)) for k in range(2, 5)]
    points = []
    for i in range(96):
        t = 2 * math.pi * i / 96
        r = 1.0 + sum(a * math.cos(k * t + p) for k, a, p in harmonics)
        points.append(((cx + rx * r * math.cos(t)) * _SUPER, (cy + ry * r * math.sin(t)) * _SUPER))
    return points


def _scaled(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    return [(x * _SUPER, y * _SUPER) for x, y in points]


def _garment(width: int, height: int, rng: np.random.Generator, fill_share: float = 0.75) -> np.ndarray:
    """A tee or dress outline, flat-lay, centred; its height about ``fill_share`` of the frame's."""
    image, draw = _canvas(width, height)
    h = height * fill_share
    top = (height - h) / 2
    cx = width / 2 + rng.uniform(-0.03, 0.03) * width
    shoulder = width * rng.uniform(0.18, 0.24)
    hem = width * rng.uniform(0.2, 0.36)
    sleeve = width * rng.uniform(0.08, 0.16)
    neck = width * 0.07
    outline = [
        (cx - neck, top), (cx - shoulder, top + 0.04 * h), (cx - shoulder - sleeve, top + 0.22 * h),
        (cx - shoulder - sleeve * 0.6, top + 0.3 * h), (cx - shoulder * 0.9, top + 0.24 * h),
        (cx - hem, top + h), (cx + hem, top + h), (cx + shoulder * 0.9, top + 0.24 * h),
        (cx + shoulder + sleeve * 0.6, top + 0.3 * h), (cx + shoulder + sleeve, top + 0.22 * h),
        (cx + shoulder, top + 0.04 * h), (cx + neck, top), (cx, top + 0.06 * h),
    ]  # fmt: skip
    draw.polygon(_scaled(outline), fill=255)
    return _coverage(image)


def _close_up(width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    """A sweater filling the frame from a wavy line across it down to the bottom: it runs off three edges."""
    image, draw = _canvas(width, height)
    level = height * rng.uniform(0.15, 0.4)
    xs = np.linspace(-2, width + 2, 40)
    wave = level + height * 0.04 * np.sin(xs / width * rng.uniform(2, 5) + rng.uniform(0, 6))
    outline = [(-2.0, height + 2.0), *zip(xs.tolist(), wave.tolist(), strict=True), (width + 2.0, height + 2.0)]
    draw.polygon(_scaled(outline), fill=255)
    return _coverage(image)


def _small(width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    """A pair of earrings or a single clip: about 5% of the frame in all."""
    image, draw = _canvas(width, height)
    area = width * height * rng.uniform(0.04, 0.06)
    cx, cy = width / 2 + rng.uniform(-0.1, 0.1) * width, height / 2 + rng.uniform(-0.1, 0.1) * height
    if rng.random() < 0.5:
        radius = math.sqrt(area / 2 / math.pi)
        for dx in (-1.4, 1.4):
            draw.polygon(_blob(cx + dx * radius, cy, radius, radius, rng, 0.05), fill=255)
    else:
        rx = math.sqrt(area / math.pi * 2.5)
        draw.polygon(_blob(cx, cy, rx, rx / 2.5, rng, 0.08), fill=255)
    return _coverage(image)


def _bag(width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    """A tote with a looped handle: the loop encloses a hole of backdrop."""
    image, draw = _canvas(width, height)
    cx = width / 2
    body_w, body_h = width * rng.uniform(0.5, 0.66), height * rng.uniform(0.32, 0.42)
    body_top = height * 0.42
    draw.polygon(_scaled([(cx - body_w / 2, body_top), (cx + body_w / 2, body_top),
                          (cx + body_w / 2 * 1.08, body_top + body_h), (cx - body_w / 2 * 1.08, body_top + body_h)]),
                 fill=255)  # fmt: skip
    loop_w, loop_h = body_w * rng.uniform(0.55, 0.75), height * rng.uniform(0.2, 0.26)
    strap = width * rng.uniform(0.035, 0.05)
    outer = (cx - loop_w / 2, body_top - loop_h, cx + loop_w / 2, body_top + loop_h * 0.4)
    draw.ellipse([c * _SUPER for c in outer], fill=255)
    inner = (outer[0] + strap, outer[1] + strap, outer[2] - strap, outer[3] - strap)
    draw.ellipse([c * _SUPER for c in inner], fill=0)
    # The body again, over the part of the loop's hole that fell on it: the hole shows only above the bag.
    draw.polygon(_scaled([(cx - body_w / 2, body_top), (cx + body_w / 2, body_top),
                          (cx + body_w / 2 * 1.08, body_top + body_h), (cx - body_w / 2 * 1.08, body_top + body_h)]),
                 fill=255)  # fmt: skip
    return _coverage(image)


def _strappy(width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    """A slip dress hanging from two thin straps: backdrop shows between the straps and above the neckline."""
    image, draw = _canvas(width, height)
    cx = width / 2
    top, bodice = height * 0.1, height * rng.uniform(0.3, 0.36)
    half_top, half_hem = width * rng.uniform(0.16, 0.2), width * rng.uniform(0.26, 0.34)
    draw.polygon(_scaled([(cx - half_top, bodice), (cx, bodice + height * 0.04), (cx + half_top, bodice),
                          (cx + half_hem, height * 0.9), (cx - half_hem, height * 0.9)]), fill=255)  # fmt: skip
    strap = max(3.0, width * 0.018) * _SUPER
    for side in (-1, 1):
        draw.line(_scaled([(cx + side * half_top * 0.8, top), (cx + side * half_top * 0.85, bodice + 2)]),
                  fill=255, width=round(strap))
    draw.line(_scaled([(cx - half_top * 0.8, top), (cx + half_top * 0.8, top)]), fill=255, width=round(strap))
    return _coverage(image)


def _white(width: int, height: int, rng: np.random.Generator) -> np.ndarray:
    """A sneaker-like low, wide shape (drawn white later)."""
    image, draw = _canvas(width, height)
    cx, cy = width / 2, height * rng.uniform(0.45, 0.55)
    draw.polygon(_blob(cx, cy, width * rng.uniform(0.3, 0.38), height * rng.uniform(0.1, 0.14), rng, 0.1), fill=255)
    return _coverage(image)


def _smooth_noise(height: int, width: int, cell: float, rng: np.random.Generator) -> np.ndarray:
    """Zero-mean, unit-ish smooth noise with features about ``cell`` pixels across."""
    small = rng.standard_normal((max(2, int(height / cell) + 2), max(2, int(width / cell) + 2))).astype(np.float32)
    return np.asarray(Image.fromarray(small).resize((width, height), Image.Resampling.BICUBIC), dtype=np.float32)


def _product_colours(kind: str, alpha: np.ndarray, backdrop: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """The product's pixels ``(H, W, 3)`` float32 0..255: a colour or white, a print, folds and rounded edges."""
    height, width = alpha.shape
    if kind == "white":
        # A white product a touch brighter than the off-white backdrop (its fabric is optically brightened).
        base = np.minimum(backdrop.mean(axis=(0, 1)) + rng.uniform(6, 12), 254.0)
        colours = np.broadcast_to(base.astype(np.float32), (height, width, 3)).copy()
    else:
        hue = rng.uniform(0, 1)
        main = np.array([0.5 + 0.45 * math.cos(2 * math.pi * (hue + k / 3)) for k in range(3)]) * 255
        main = main * rng.uniform(0.5, 1.0)
        second = 255 - main * rng.uniform(0.3, 0.9)
        ys, xs = np.mgrid[0:height, 0:width].astype(np.float32)
        period = rng.uniform(10, 30)
        if rng.random() < 0.5:
            print_ = (np.sin((xs * 0.7 + ys * 0.7) / period * 2 * math.pi) > 0.3).astype(np.float32)
        else:
            print_ = (np.sin(xs / period * 2 * math.pi) * np.sin(ys / period * 2 * math.pi) > 0.5).astype(np.float32)
        print_ = cv2.GaussianBlur(print_, (0, 0), 0.7)  # printed edges are a little soft, like a camera's
        colours = main[None, None, :] * (1 - print_[..., None]) + second[None, None, :] * print_[..., None]
    # Folds and rounded edges: soft light and dark waves, darker near the outline.
    folds = 1.0 + 0.06 * _smooth_noise(height, width, 40.0, rng)
    inside = cv2.GaussianBlur(alpha, (0, 0), 4.0)
    rounded = 1.0 - 0.12 * (1.0 - inside) ** 2
    return colours * (folds * rounded)[..., None]


def photo_shot(
    seed: int, kind: str | None = None, size: tuple[int, int] = (360, 540), quality: int | None = None
) -> PhotoShot:
    """One photograph-like product shot; the same ``seed`` (and arguments) always gives the same pixels.

    ``kind`` is one of :data:`KINDS` (None: chosen by the seed); ``size`` is ``(width, height)`` in pixels (the
    default is the 2:3 portrait frame of the issue's catalog); ``quality`` is the JPEG quality (None: 75..92 by
    seed). About 20 ms for the default size.
    """
    if kind is not None and kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r}; use one of {', '.join(KINDS)}")
    rng = np.random.default_rng([seed, 11])
    kind = kind or KINDS[int(rng.integers(len(KINDS)))]
    width, height = size
    backdrop = _backdrop(width, height, rng)
    draw = {"garment": _garment, "white": _white, "small": _small, "close_up": _close_up, "bag": _bag,
            "strappy": _strappy}[kind]  # fmt: skip
    alpha = draw(width, height, rng)
    product = _product_colours(kind, alpha, backdrop, rng)

    # Soft drop shadow: the silhouette moved down (light from above, a little to the left), widely blurred.
    shift = max(2, round(height * 0.012))
    shadow_src = Image.fromarray((alpha * 255).astype(np.uint8)).transform(
        (width, height), Image.Transform.AFFINE, (1, 0, -shift // 2, 0, 1, -shift)
    )
    shadow = cv2.GaussianBlur(np.asarray(shadow_src, np.float32) / 255.0, (0, 0), height * 0.015)
    depth = rng.uniform(0.12, 0.25)
    lit = backdrop * (1.0 - depth * shadow)[..., None]
    picture = lit * (1.0 - alpha[..., None]) + product * alpha[..., None]
    picture += rng.normal(0.0, 1.2, picture.shape).astype(np.float32)  # sensor noise
    border = bool(rng.random() < 0.8)
    if border:
        edge = np.zeros((height, width), dtype=bool)
        edge[0, :] = edge[-1, :] = edge[:, 0] = edge[:, -1] = True
        picture[edge] -= BORDER_DARKER
    pixels = np.clip(picture + 0.5, 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    jpeg_quality = quality if quality is not None else int(rng.integers(75, 93))
    Image.fromarray(pixels).save(buffer, "JPEG", quality=jpeg_quality, subsampling=2)
    image = np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))
    return PhotoShot(image=image, alpha=alpha, backdrop=backdrop, kind=kind, seed=seed, border=border)


def photo_set(count: int, seed: int = 0, size: tuple[int, int] = (360, 540)) -> list[PhotoShot]:
    """``count`` shots cycling through every kind (so any six in a row hold each kind once), deterministic."""
    return [photo_shot(seed * 100_003 + i, KINDS[i % len(KINDS)], size) for i in range(count)]

"""The photo studio: lighting helpers for silhouettes and the final composite on a light backdrop.

A silhouette describes a product as a stack of :class:`Layer` s (the patterned fabric, solid trims such as a sole
or a handle), each with its own tone (a brightness multiplier that carries its shading), plus seam lines and a
gloss highlight. :func:`photograph` lays the stack over a soft-grey studio sweep with a soft shadow beneath, the
way a catalog team would shoot it: product centred, evenly lit from the upper left.

Everything works on ``FRAME`` x ``FRAME`` float32 fields in 0..1. Smooth, low-frequency fields (blurs, folds)
are computed at reduced resolution and scaled up, which is invisible and several times faster.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Literal

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from stylerec_desktop.core.demo.patterns import PatternSpace

Field = np.ndarray  # (H, W) float32

FRAME = 512  # every demo product shot is FRAME x FRAME pixels
NEUTRAL = np.array([244, 242, 236], dtype=np.float32) / 255  # off-white of soles, laces, mug glaze
BACKDROP_TOP = np.array([250, 250, 250], dtype=np.float32) / 255
BACKDROP_BOTTOM = np.array([235, 235, 237], dtype=np.float32) / 255


@dataclass
class Layer:
    """One part of a product. ``colour`` None means the product's pattern; ``tone`` multiplies its brightness."""

    mask: Field
    colour: np.ndarray | None = None
    tone: Field | float = 1.0


@dataclass
class Drawing:
    """A product ready to photograph; see the module docstring.

    ``stance`` chooses the shadow: ``"flat"`` products lie on the sweep (a soft drop shadow of their outline),
    ``"floor"`` products stand on it (a contact shadow under their base). ``uv`` optionally bends the pattern
    coordinates (e.g. around a mug); ``texture`` is the strength of the fabric grain (0 for glazed ceramic).
    """

    layers: list[Layer]
    box: tuple[float, float, float, float]  # product extent in pixels: x0, y0, x1, y1
    stance: Literal["flat", "floor"]
    lines: Field | None = None
    gloss: Field | None = None
    uv: tuple[Field, Field] | None = None
    texture: float = 0.015


@cache
def grid() -> tuple[Field, Field]:
    """Pixel-centre coordinates ``(xs, ys)`` of the frame. Shared and read-only: never write into them."""
    ys, xs = np.mgrid[0:FRAME, 0:FRAME].astype(np.float32)
    xs.setflags(write=False)
    ys.setflags(write=False)
    return xs, ys


@cache
def _grain() -> Field:
    """A fixed tile of fabric grain (zero-mean noise). Products use shifted views of it; no per-shot sampling."""
    noise = np.random.default_rng(20260630).standard_normal((FRAME * 2, FRAME * 2)).astype(np.float32)
    # Blurred a little so it reads as woven texture rather than sensor noise, then rescaled to unit variance.
    tile = noise + 0.5 * (np.roll(noise, 1, axis=0) + np.roll(noise, 1, axis=1))
    tile = tile / tile.std()
    tile.setflags(write=False)
    return tile


@cache
def _backdrop() -> np.ndarray:
    t = np.linspace(0.0, 1.0, FRAME, dtype=np.float32)[:, None, None]
    sweep = np.broadcast_to(BACKDROP_TOP + (BACKDROP_BOTTOM - BACKDROP_TOP) * t, (FRAME, FRAME, 3)).copy()
    sweep.setflags(write=False)
    return sweep


@cache
def _backdrop_bytes() -> np.ndarray:
    sweep = (_backdrop() * 255.0 + 0.5).astype(np.uint8)
    sweep.setflags(write=False)
    return sweep


def extent(mask: Field, threshold: float = 0.05) -> tuple[float, float, float, float]:
    """Bounding box (x0, y0, x1, y1, in px) of where ``mask`` exceeds ``threshold``."""
    inked = mask > threshold
    rows = np.flatnonzero(inked.any(axis=1))
    cols = np.flatnonzero(inked.any(axis=0))
    return float(cols[0]), float(rows[0]), float(cols[-1] + 1), float(rows[-1] + 1)


def union(*masks: Field) -> Field:
    """Coverage of several overlapping parts together."""
    out = masks[0]
    for m in masks[1:]:
        out = out + m - out * m
    return out


def _upscale(small: np.ndarray) -> Field:
    return np.asarray(Image.fromarray(small).resize((FRAME, FRAME), Image.Resampling.BILINEAR))


def blur(mask: Field, radius: float) -> Field:
    """Gaussian blur of a 0..1 field, done at half resolution (the result is smooth, so nothing is lost)."""
    half = Image.fromarray(np.clip(mask * 255 + 0.5, 0, 255).astype(np.uint8)).reduce(2)
    small = np.asarray(half.filter(ImageFilter.GaussianBlur(radius / 2)), dtype=np.float32) / 255.0
    return _upscale(small)


def rounded(mask: Field, radius: float, depth: float) -> Field:
    """Tone that darkens toward the mask's outline, so a flat shape reads as padded or rounded.

    ``radius`` (px) is how far in the falloff reaches; ``depth`` is the darkening right at the edge. The tone
    is only meaningful on the mask; it is 1 well outside it.
    """
    x0, y0, x1, y1 = extent(mask, 0.0)
    # Work on the mask's own box plus the blur's reach, in even pixels for the half-resolution pass.
    pad = int(2 * radius) + 4
    r0, c0 = max(0, int(y0) - pad) & ~1, max(0, int(x0) - pad) & ~1
    r1, c1 = min(FRAME, int(y1) + pad + 1) & ~1, min(FRAME, int(x1) + pad + 1) & ~1
    part = mask[r0:r1, c0:c1]
    small = Image.fromarray((np.clip(part, 0.0, 1.0) * 255 + 0.5).astype(np.uint8)).reduce(2)
    soft = small.filter(ImageFilter.GaussianBlur(radius / 2)).resize((c1 - c0, r1 - r0), Image.Resampling.BILINEAR)
    inside = np.clip((np.asarray(soft, dtype=np.float32) / 255.0 - 0.5) * 2.0, 0.0, 1.0)
    tone = np.ones((FRAME, FRAME), dtype=np.float32)
    tone[r0:r1, c0:c1] = 1.0 - depth * (1.0 - inside) ** 2
    return tone


def smooth(fn: Callable[[Field, Field], Field], step: int = 8) -> Field:
    """A slowly varying field ``fn(xs, ys)`` (pixel coordinates), evaluated every ``step`` px and scaled up."""
    n = FRAME // step
    ys, xs = (np.mgrid[0:n, 0:n].astype(np.float32) + 0.5) * step - 0.5
    return _upscale(np.asarray(fn(xs, ys), dtype=np.float32))


def key_light(box: tuple[float, float, float, float], strength: float = 0.12) -> Field:
    """A gentle brightness ramp across the product from the upper left (the key light) to the lower right."""
    x0, y0, x1, y1 = box
    xs, ys = grid()
    t = 0.6 / max(1.0, y1 - y0) * (ys - y0) + 0.4 / max(1.0, x1 - x0) * (xs - x0)
    return 1.0 + strength * (0.5 - np.clip(t, 0.0, 1.0))


def folds(rng: np.random.Generator, strength: float = 0.05) -> Field:
    """Soft, low-frequency light and dark waves: the folds of fabric lying on a table."""
    waves = [(float(rng.uniform(0, np.pi)), float(rng.uniform(0.012, 0.022)), float(rng.uniform(0, 2 * np.pi)))
             for _ in range(2)]

    def field(xs: Field, ys: Field) -> Field:
        out = np.ones_like(xs)
        for angle, freq, phase in waves:
            out += strength * np.sin((xs * np.cos(angle) + ys * np.sin(angle)) * freq + phase)
        return out

    return smooth(field)


def _half(mask: Field) -> Image.Image:
    return Image.fromarray((np.clip(mask, 0.0, 1.0) * 255 + 0.5).astype(np.uint8)).reduce(2)


def _blurred_half(img: Image.Image, radius: float) -> np.ndarray:
    return np.asarray(img.filter(ImageFilter.GaussianBlur(radius / 2)), dtype=np.float32) / 255.0


def _shadow(drawing: Drawing, alpha: Field) -> Field:
    """How much each backdrop pixel is darkened (0..1) by the product's shadow; built at half resolution."""
    half = FRAME // 2
    if drawing.stance == "flat":
        # The outline shifted down-right (light from the upper left) and blurred: a soft drop shadow, plus a
        # tight dark rim where the product touches the table.
        small = _half(alpha)
        shifted = Image.new("L", (half, half), 0)
        shifted.paste(small, (3, 4))
        return _upscale(0.24 * _blurred_half(shifted, 10.0) + 0.1 * _blurred_half(small, 3.0))
    x0, y0, x1, y1 = (c / 2 for c in drawing.box)
    cx = (x0 + x1) / 2
    reach = (x1 - x0) / 2 * 0.92
    base = y1 - 1.5
    floor = Image.new("L", (half, half), 0)
    ImageDraw.Draw(floor).ellipse((cx - reach, base - 6, cx + reach, base + 6), fill=255)
    contact = Image.new("L", (half, half), 0)
    ImageDraw.Draw(contact).ellipse((cx - reach * 0.8, base - 2, cx + reach * 0.8, base + 2), fill=255)
    return _upscale(0.26 * _blurred_half(floor, 14.0) + 0.34 * _blurred_half(contact, 4.0))


def _centred(drawing: Drawing) -> Drawing:
    """The drawing moved so its box sits in the middle of the frame (standing products a little higher, so
    product and shadow together are centred)."""
    x0, y0, x1, y1 = drawing.box
    lift = 6.0 if drawing.stance == "floor" else 0.0
    dx = round(FRAME / 2 - (x0 + x1) / 2)
    dy = round(FRAME / 2 - lift - (y0 + y1) / 2)
    if not dx and not dy:
        return drawing

    def move(field: np.ndarray) -> np.ndarray:
        # Parts only move toward the centre, so what wraps round the frame edge is empty backdrop.
        return np.roll(field, (dy, dx), axis=(0, 1))

    return Drawing(
        layers=[
            Layer(move(part.mask), part.colour, move(part.tone) if isinstance(part.tone, np.ndarray) else part.tone)
            for part in drawing.layers
        ],
        box=(x0 + dx, y0 + dy, x1 + dx, y1 + dy),
        stance=drawing.stance,
        lines=None if drawing.lines is None else move(drawing.lines),
        gloss=None if drawing.gloss is None else move(drawing.gloss),
        uv=None if drawing.uv is None else (move(drawing.uv[0]), move(drawing.uv[1])),
        texture=drawing.texture,
    )


def coverage(drawing: Drawing) -> Field:
    """The product's true coverage in the shot :func:`photograph` makes of ``drawing``: ``(FRAME, FRAME)`` float32
    in 0..1, the union of its centred layers (what the mask of that shot should be, edge pixels partly covered)."""
    centred = _centred(drawing)
    return np.clip(union(*(layer.mask for layer in centred.layers)), 0.0, 1.0)


def photograph(drawing: Drawing, paint: Callable[[PatternSpace], np.ndarray], rng: np.random.Generator) -> np.ndarray:
    """Composite ``drawing`` into an RGB product shot, filling its pattern layers with ``paint``.

    ``paint`` gets the pattern coordinates of the product's bounding box and returns the pattern there as
    ``(h, w, 3)`` floats in 0..1; only that box is composited, the backdrop fills the rest. Returns
    ``(FRAME, FRAME, 3)`` uint8. Colours stay premultiplied by coverage throughout, so anti-aliased edges are clean.
    """
    drawing = _centred(drawing)
    x0, y0, x1, y1 = drawing.box
    crop = (slice(max(0, int(y0) - 2), min(FRAME, int(y1) + 3)), slice(max(0, int(x0) - 2), min(FRAME, int(x1) + 3)))
    u, v = drawing.uv if drawing.uv is not None else grid()
    pattern = paint(PatternSpace(u[crop], v[crop], drawing.box)).astype(np.float32, copy=False)

    colour = np.zeros_like(pattern)  # premultiplied
    alpha = np.zeros(pattern.shape[:2], dtype=np.float32)
    fabric = np.zeros_like(alpha)  # coverage by patterned (textile) parts, which alone get the weave texture
    for layer in drawing.layers:
        m = layer.mask[crop]
        # Most parts (cords, soles, handles) cover a small part of the shot: composite only their own box.
        rows = np.flatnonzero(m.any(axis=1))
        cols = np.flatnonzero(m.any(axis=0))
        if not len(rows):
            continue
        part = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
        m = m[part]
        fill = pattern[part] if layer.colour is None else layer.colour.astype(np.float32)
        tone = np.asarray(layer.tone, dtype=np.float32)
        weight = (tone[crop][part] if tone.ndim else tone) * m  # single-channel maths before touching RGB
        colour[part] *= (1.0 - m)[..., None]
        colour[part] += fill * weight[..., None]
        alpha[part] = alpha[part] * (1.0 - m) + m
        fabric[part] = fabric[part] * (1.0 - m) + (m if layer.colour is None else 0.0)
    finish = np.ones_like(alpha)  # weave texture and seam lines, folded into one multiplier
    if drawing.texture:
        oy, ox = rng.integers(0, FRAME, size=2).tolist()
        grain = _grain()[oy : oy + colour.shape[0], ox : ox + colour.shape[1]]
        finish += drawing.texture * grain * fabric
    if drawing.lines is not None:
        finish *= 1.0 - 0.45 * drawing.lines[crop]
    colour *= finish[..., None]
    if drawing.gloss is not None:
        colour += (drawing.gloss[crop] * alpha * 0.55)[..., None]
    np.clip(colour, 0.0, alpha[..., None], out=colour)

    full_alpha = np.zeros((FRAME, FRAME), dtype=np.float32)
    full_alpha[crop] = alpha
    shadow = _shadow(drawing, full_alpha)
    # Only rows and columns the shadow or the product touch need float work; the rest is the plain backdrop.
    rows = np.flatnonzero(shadow.max(axis=1) > 0.002)
    cols = np.flatnonzero(shadow.max(axis=0) > 0.002)
    r0, r1 = min(rows[0], crop[0].start), max(rows[-1] + 1, crop[0].stop)
    c0, c1 = min(cols[0], crop[1].start), max(cols[-1] + 1, crop[1].stop)
    region = _backdrop()[r0:r1, c0:c1] * (1.0 - shadow[r0:r1, c0:c1])[..., None]
    inner = (slice(crop[0].start - r0, crop[0].stop - r0), slice(crop[1].start - c0, crop[1].stop - c0))
    region[inner] *= (1.0 - alpha)[..., None]
    region[inner] += colour
    region *= 255.0
    region += 0.5  # round to nearest; every value is already within 0..255
    shot = _backdrop_bytes().copy()
    shot[r0:r1, c0:c1] = region.astype(np.uint8)
    return shot

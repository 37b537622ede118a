"""Anti-aliased coverage masks for product silhouettes.

Shapes are given in frame units (0..1 across the square product shot), drawn with Pillow on a canvas
``supersample`` times larger and box-filtered down, so every edge comes out smooth. Curves are polylines sampled
densely enough that the supersampled canvas never shows their corners.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np
from PIL import Image, ImageDraw

Point = tuple[float, float]


def bezier(p0: Point, p1: Point, p2: Point, p3: Point | None = None, steps: int = 24) -> list[Point]:
    """Points along a quadratic (``p3`` None) or cubic Bezier curve, both ends included."""
    out: list[Point] = []
    for i in range(steps + 1):
        t = i / steps
        s = 1.0 - t
        if p3 is None:
            x = s * s * p0[0] + 2 * s * t * p1[0] + t * t * p2[0]
            y = s * s * p0[1] + 2 * s * t * p1[1] + t * t * p2[1]
        else:
            x = s**3 * p0[0] + 3 * s * s * t * p1[0] + 3 * s * t * t * p2[0] + t**3 * p3[0]
            y = s**3 * p0[1] + 3 * s * s * t * p1[1] + 3 * s * t * t * p2[1] + t**3 * p3[1]
        out.append((x, y))
    return out


def arc(cx: float, cy: float, rx: float, ry: float, start: float, end: float, steps: int = 32) -> list[Point]:
    """Points on an elliptical arc from angle ``start`` to ``end`` (degrees, 0 = +x, 90 = +y i.e. down)."""
    out: list[Point] = []
    for i in range(steps + 1):
        a = math.radians(start + (end - start) * i / steps)
        out.append((cx + rx * math.cos(a), cy + ry * math.sin(a)))
    return out


def mirror(points: Sequence[Point], axis: float = 0.5) -> list[Point]:
    """The left-right mirror image of ``points`` about the vertical line x = ``axis``, in reverse order.

    Reversing keeps a half-outline drawn top-down on the left continuing bottom-up on the right.
    """
    return [(2 * axis - x, y) for x, y in reversed(points)]


class Sketch:
    """A coverage mask under construction: add shapes, then read :meth:`mask`.

    Shapes are recorded, not drawn at once: :meth:`mask` draws them on a supersampled canvas only as large as
    what they cover, so a shoelace costs a few kilobytes of canvas rather than the whole frame.
    """

    def __init__(self, size: int = 512, supersample: int = 4) -> None:
        self.size = size
        self.factor = supersample
        self.scale = size * supersample
        self._shapes: list[tuple[str, list[tuple[float, float]], int, int]] = []  # kind, points (px), fill, width
        self._bounds = [float(self.scale), float(self.scale), 0.0, 0.0]  # x0, y0, x1, y1 covered so far

    def _px(self, points: Iterable[Point], pad: float = 0.0) -> list[tuple[float, float]]:
        s = self.scale
        px = [(x * s, y * s) for x, y in points]
        b = self._bounds
        for x, y in px:
            b[0], b[1] = min(b[0], x - pad), min(b[1], y - pad)
            b[2], b[3] = max(b[2], x + pad), max(b[3], y + pad)
        return px

    def polygon(self, points: Sequence[Point], erase: bool = False) -> Sketch:
        self._shapes.append(("polygon", self._px(points), 0 if erase else 255, 0))
        return self

    def ellipse(self, box: tuple[float, float, float, float], erase: bool = False) -> Sketch:
        self._shapes.append(("ellipse", self._px([box[:2], box[2:]]), 0 if erase else 255, 0))
        return self

    def line(self, points: Sequence[Point], width: float, erase: bool = False) -> Sketch:
        """A polyline ``width`` frame units thick with round joints and round caps."""
        w = max(1, round(width * self.scale))
        self._shapes.append(("line", self._px(points, pad=w / 2 + 1), 0 if erase else 255, w))
        return self

    def dashed(self, points: Sequence[Point], width: float, dash: float, gap: float) -> Sketch:
        """A stitched line: dashes of ``dash`` frame units every ``dash + gap`` along the polyline."""
        pts = np.asarray(points, dtype=np.float64)
        seg = np.hypot(*np.diff(pts, axis=0).T)
        along = np.concatenate([[0.0], np.cumsum(seg)])
        start = 0.0
        while start < along[-1]:
            stop = min(start + dash, along[-1])
            ts = np.linspace(start, stop, 4)
            xs = np.interp(ts, along, pts[:, 0])
            ys = np.interp(ts, along, pts[:, 1])
            self.line(list(zip(xs.tolist(), ys.tolist(), strict=True)), width)
            start += dash + gap
        return self

    def mask(self) -> np.ndarray:
        """The coverage, ``(size, size)`` float32 in 0..1."""
        out = np.zeros((self.size, self.size), dtype=np.float32)
        f = self.factor
        # The covered region, snapped to whole output pixels and clipped to the frame.
        x0, y0 = (max(0, int(c // f)) for c in self._bounds[:2])
        x1, y1 = (min(self.size, int(c // f) + 2) for c in self._bounds[2:])
        if x1 <= x0 or y1 <= y0:
            return out
        canvas = Image.new("L", ((x1 - x0) * f, (y1 - y0) * f), 0)
        draw = ImageDraw.Draw(canvas)
        ox, oy = x0 * f, y0 * f
        for kind, points, fill, width in self._shapes:
            px = [(x - ox, y - oy) for x, y in points]
            if kind == "polygon":
                draw.polygon(px, fill=fill)
            elif kind == "ellipse":
                draw.ellipse((*px[0], *px[1]), fill=fill)
            else:
                draw.line(px, fill=fill, width=width, joint="curve")
                r = width / 2
                for x, y in (px[0], px[-1]):  # Pillow's lines have square ends; round them off
                    draw.ellipse((x - r, y - r, x + r, y + r), fill=fill)
        # reduce() is Pillow's dedicated box-filter shrink: the same pixels as resize(BOX), several times faster.
        out[y0:y1, x0:x1] = np.asarray(canvas.reduce(f), dtype=np.float32) / 255.0
        return out

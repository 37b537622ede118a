"""Surface patterns of the demo products, computed with numpy over whole images at once.

Every pattern is a function of pattern coordinates ``(u, v)`` (pixels of the 512 px product shot; a silhouette may
bend them, e.g. around a mug) rather than of the raster, so one pattern can be wrapped onto any shape. Edges are
anti-aliased analytically: each pattern computes a signed distance to its nearest edge in pixels and turns it into
coverage over about one pixel, which is cheaper than supersampling and leaves no jaggies.

Colours come in as a ``(K, 3)`` float array in 0..1 with the product's dominant (base) colour first and the other
palette colours after it, most contrasting first; every pattern keeps the base colour on most of the surface so
the product's ``colour`` attribute is honest.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PIL import Image

from stylerec_desktop.core.demo.palettes import luma

RGBField = np.ndarray  # (H, W, 3) float32 in 0..1
Field = np.ndarray  # (H, W) float32


@dataclass(frozen=True)
class PatternSpace:
    """Where a pattern is drawn: per-pixel coordinates and the product's extent in those coordinates."""

    u: Field
    v: Field
    box: tuple[float, float, float, float]  # x0, y0, x1, y1 of the product, in (u, v) units


PatternFn = Callable[[PatternSpace, np.ndarray, np.random.Generator], RGBField]


@dataclass(frozen=True)
class Pattern:
    """A named pattern; ``title`` is how it reads in a product title, ``words`` are descriptive tags."""

    name: str
    title: str
    words: tuple[str, ...]
    draw: PatternFn


# -- anti-aliasing helpers ------------------------------------------------------------------------------------


def _coverage(distance: Field, width: float = 1.0) -> Field:
    """Coverage 0..1 of a shape from the signed distance (px, positive inside) to its edge."""
    return np.clip(distance / width + 0.5, 0.0, 1.0)


def _mix(a: np.ndarray, b: np.ndarray, t: Field) -> RGBField:
    """Blend image ``a`` towards colour (or image) ``b`` by ``t`` per pixel; updates ``a`` in place when it is
    already a full image, which every pattern's running result is."""
    if a.ndim == 3:
        a += (b - a) * t[..., None]
        return a
    return a + (b - a) * t[..., None]


def _bands(t: Field, period: float, colours: np.ndarray, aa: float = 1.2) -> RGBField:
    """Equal-width bands along coordinate ``t`` cycling through ``colours`` (N, 3), anti-aliased at each border."""
    s = t / period
    k = np.floor(s)
    f = (s - k) * period  # position inside the band, px
    n = len(colours)
    idx = k.astype(np.int64) % n
    up = _coverage(f - period, aa)  # next band bleeding in over the upper border
    down = _coverage(-f, aa)  # previous band bleeding in over the lower border
    here = 1.0 - up - down
    return (
        colours[idx] * here[..., None]
        + colours[(idx + 1) % n] * up[..., None]
        + colours[(idx - 1) % n] * down[..., None]
    )


def _band_sign(t: Field, period: float, aa: float = 1.2) -> Field:
    """-1/+1 alternating every ``period`` along ``t``, passing smoothly through 0 over ``aa`` px at each line."""
    s = t / period
    k = np.floor(s)
    f = s - k
    dist = np.minimum(f, 1.0 - f) * period
    sign = 1.0 - 2.0 * np.mod(k, 2)
    return sign * np.clip(dist / (aa * 0.5), 0.0, 1.0)


def _value_noise(u: Field, v: Field, cell: float, rng: np.random.Generator) -> Field:
    """Smooth random field in 0..1 with features about ``cell`` px across (smoothstep-interpolated lattice)."""
    size = 64  # lattice wraps every 64 cells, far beyond one product shot
    lattice = rng.random((size, size), dtype=np.float32)
    x = u / cell
    y = v / cell
    x0 = np.floor(x)
    y0 = np.floor(y)
    fx = x - x0
    fy = y - y0
    fx = fx * fx * (3.0 - 2.0 * fx)
    fy = fy * fy * (3.0 - 2.0 * fy)
    i = x0.astype(np.int64) % size
    j = y0.astype(np.int64) % size
    i1 = (i + 1) % size
    j1 = (j + 1) % size
    top = lattice[j, i] + (lattice[j, i1] - lattice[j, i]) * fx
    bottom = lattice[j1, i] + (lattice[j1, i1] - lattice[j1, i]) * fx
    return top + (bottom - top) * fy


def _smooth_noise(space: PatternSpace, cell: float, rng: np.random.Generator, step: int = 4) -> Field:
    """:func:`_value_noise` sampled every ``step`` px and scaled up bilinearly: the field is smooth anyway."""
    h, w = space.u.shape
    coarse = _value_noise(space.u[::step, ::step], space.v[::step, ::step], cell, rng)
    # Pillow's bilinear resize maps pixel centres, so the coarse grid is scaled to cover the same extent.
    img = Image.fromarray(np.ascontiguousarray(coarse, dtype=np.float32))
    big = img.resize((coarse.shape[1] * step, coarse.shape[0] * step), Image.Resampling.BILINEAR)
    return np.asarray(big, dtype=np.float32)[:h, :w]


def _rotated(space: PatternSpace, rng: np.random.Generator, degrees: tuple[float, float]) -> PatternSpace:
    """The same space turned by a random angle, so scattered motifs do not line up in horizontal rows."""
    a = math.radians(float(rng.uniform(*degrees)))
    c, s = np.float32(math.cos(a)), np.float32(math.sin(a))
    return PatternSpace(c * space.u - s * space.v, s * space.u + c * space.v, space.box)


def _fill(space: PatternSpace, colour: np.ndarray) -> RGBField:
    return np.broadcast_to(colour.astype(np.float32), (*space.u.shape, 3)).copy()


def _darken(colour: np.ndarray, amount: float) -> np.ndarray:
    return colour * (1.0 - amount)


def _lighten(colour: np.ndarray, amount: float) -> np.ndarray:
    return colour + (1.0 - colour) * amount


@dataclass(frozen=True)
class _Cells:
    """A brick-offset grid of cells, one motif per cell: per pixel its offset from the cell centre and cell id.

    Alternate rows shift by half a cell so motifs do not line up in columns, which reads as hand-placed.
    Per-motif randomness lives in small per-cell tables (:meth:`per_cell`), so each pixel only looks values up.
    """

    dx: Field
    dy: Field
    index: np.ndarray  # (H, W) int: cell id in 0..WRAP*WRAP-1

    WRAP = 32  # cells repeat every 32 in each direction, far beyond one product shot

    @classmethod
    def make(cls, u: Field, v: Field, cell: float) -> _Cells:
        row = np.floor(v / cell)
        shifted = u / cell + 0.5 * np.mod(row, 2)
        col = np.floor(shifted)
        dx = (shifted - col - 0.5) * cell
        dy = (v / cell - row - 0.5) * cell
        index = (row.astype(np.int64) % cls.WRAP) * cls.WRAP + col.astype(np.int64) % cls.WRAP
        return cls(dx, dy, index)

    def per_cell(self, values: np.ndarray) -> Field:
        """Look up one value per cell (``values`` has WRAP*WRAP entries) for every pixel."""
        return np.take(values.astype(np.float32, copy=False), self.index)


# -- the patterns ---------------------------------------------------------------------------------------------


def solid(space: PatternSpace, colours: np.ndarray, rng: np.random.Generator) -> RGBField:
    return _fill(space, colours[0])


def stripes(space: PatternSpace, colours: np.ndarray, rng: np.random.Generator) -> RGBField:
    """Breton-style stripes: a wide base band, a contrasting stripe and sometimes a thin pin stripe."""
    direction = rng.choice(3, p=[0.6, 0.25, 0.15])
    t = (space.v, space.u, (space.u + space.v) * np.float32(0.7071))[direction]
    period = float(rng.uniform(26, 44))
    t = np.mod(t + rng.uniform(0, period), period)
    out = _fill(space, colours[0])
    width = period * float(rng.uniform(0.3, 0.42))
    start = 2.0
    out = _mix(out, colours[1], _coverage(np.minimum(t - start, start + width - t)))
    if len(colours) > 2 and rng.random() < 0.5:
        pin = max(2.5, period * 0.08)
        centre = (start + width + period) / 2
        out = _mix(out, colours[2], _coverage(pin / 2 - np.abs(t - centre)))
    return out


def checks(space: PatternSpace, colours: np.ndarray, rng: np.random.Generator) -> RGBField:
    """Gingham (two colours woven, the crossings darker) or a tartan of overlapping bands."""
    du, dv = rng.uniform(0, 60, size=2).tolist()
    u = space.u + du
    v = space.v + dv
    if rng.random() < 0.55:
        period = float(rng.uniform(24, 36))
        cu = (1.0 + _band_sign(u, period / 2)) / 2
        cv = (1.0 + _band_sign(v, period / 2)) / 2
        base = _lighten(colours[0], 0.15)
        return _mix(_fill(space, base), colours[1], (cu + cv) / 2)
    period = float(rng.uniform(64, 90))

    def sett(t: Field) -> RGBField:
        # One repeat of the tartan sett along one axis: base, a wide band, a narrow contrasting line.
        f = np.mod(t, period)
        layer = _fill(space, colours[0])
        wide = period * 0.36
        layer = _mix(layer, colours[1], _coverage(np.minimum(f - 4, 4 + wide - f)))
        line_at = 4 + wide + (period - wide) / 2
        line_colour = colours[2] if len(colours) > 2 else _lighten(colours[0], 0.6)
        return _mix(layer, line_colour, _coverage(2.0 - np.abs(f - line_at)))

    return 0.5 * (sett(u) + sett(v))


def dots(space: PatternSpace, colours: np.ndarray, rng: np.random.Generator) -> RGBField:
    """Polka dots on a hexagonal lattice; sometimes alternating dot colours row by row."""
    spacing = float(rng.uniform(30, 42))
    radius = spacing * float(rng.uniform(0.2, 0.3))
    h = spacing * math.sqrt(3.0) / 2
    u = space.u + rng.uniform(0, spacing)
    v = space.v + rng.uniform(0, 2 * h)
    # Two offset rectangular lattices together make the hexagonal one; take the nearer centre of each.
    ax = np.mod(u, spacing) - spacing / 2
    ay = np.mod(v, 2 * h) - h
    bx = np.mod(u + spacing / 2, spacing) - spacing / 2
    by = np.mod(v + h, 2 * h) - h
    da = np.sqrt(ax * ax + ay * ay)
    db = np.sqrt(bx * bx + by * by)
    out = _fill(space, colours[0])
    alternate = len(colours) > 2 and rng.random() < 0.35
    out = _mix(out, colours[1], _coverage(radius - da))
    return _mix(out, colours[2] if alternate else colours[1], _coverage(radius - db))


def floral(space: PatternSpace, colours: np.ndarray, rng: np.random.Generator) -> RGBField:
    """Scattered five/six-petal flowers with a contrasting heart, leaves and small buds between them."""
    cell = float(rng.uniform(58, 74))
    turned = _rotated(space, rng, (-30, 30))
    u = turned.u + rng.uniform(0, cell)
    v = turned.v + rng.uniform(0, cell)
    out = _fill(space, colours[0])

    # Buds sit on a lattice offset by half a cell, i.e. in the gaps the flowers leave.
    bx = np.mod(u, cell) - cell / 2
    by = np.mod(v + cell / 2, cell) - cell / 2
    bud_colour = colours[2] if len(colours) > 2 else colours[1]
    out = _mix(out, bud_colour, _coverage(cell * 0.06 - np.sqrt(bx * bx + by * by)))

    cells = _Cells.make(u, v, cell)
    n = _Cells.WRAP**2
    x = cells.dx - cells.per_cell((rng.random(n) - 0.5) * cell * 0.12)
    y = cells.dy - cells.per_cell((rng.random(n) - 0.5) * cell * 0.12)
    radius = cells.per_cell(cell * (0.27 + 0.08 * rng.random(n)))
    phase_table = rng.random(n) * 2 * np.pi
    phase = cells.per_cell(phase_table)
    d = np.sqrt(x * x + y * y)
    theta = np.arctan2(y, x)

    # Leaves: one elongated ellipse per flower poking out between two petals.
    cos_leaf = cells.per_cell(np.cos(phase_table + 0.6))
    sin_leaf = cells.per_cell(np.sin(phase_table + 0.6))
    lx = (x * cos_leaf + y * sin_leaf - radius * 0.95) / (radius * 0.55)
    ly = (y * cos_leaf - x * sin_leaf) / (radius * 0.22)
    leaf_colour = _darken(colours[-1] if len(colours) > 3 else colours[1], 0.25)
    out = _mix(out, leaf_colour, _coverage((1.0 - np.sqrt(lx * lx + ly * ly)) * radius * 0.22))

    half_petals = cells.per_cell(np.where(rng.random(n) < 0.5, 2.5, 3.0))
    edge = radius * (0.62 + 0.38 * np.sqrt(np.abs(np.cos(half_petals * (theta - phase)))))
    choices = max(1, min(2, len(colours) - 1))
    petal_colour = colours[1 + np.take(rng.integers(0, choices, size=n), cells.index)]
    out = _mix(out, petal_colour, _coverage(edge - d))
    # A darker vein ring inside the petals gives the flower depth at full size without muddying thumbnails.
    out = _mix(out, petal_colour * 0.82, _coverage(radius * 0.1 - np.abs(d - radius * 0.45)) * 0.6)
    heart = colours[3] if len(colours) > 3 else _darken(colours[0], 0.35)
    return _mix(out, heart, _coverage(radius * 0.2 - d))


def chevron(space: PatternSpace, colours: np.ndarray, rng: np.random.Generator) -> RGBField:
    """Zig-zag bands (base, accent, base, second accent)."""
    wave = float(rng.uniform(40, 60))
    amplitude = wave * float(rng.uniform(0.22, 0.32))
    band = float(rng.uniform(12, 18))
    tri = np.abs(np.mod(space.u / wave + rng.random(), 1.0) - 0.5) * 4.0 - 1.0  # -1..1 triangle wave
    w = space.v + amplitude * tri
    # Anti-aliasing in w-units must account for the slope of the zig-zag (w changes faster than v there).
    slope = 4.0 * amplitude / wave
    second = colours[2] if len(colours) > 2 else _lighten(colours[1], 0.5)
    seq = np.stack([colours[0], colours[1], colours[0], second]).astype(np.float32)
    return _bands(w + rng.uniform(0, 4 * band), band, seq, aa=1.2 * math.sqrt(1 + slope * slope))


def geometric(space: PatternSpace, colours: np.ndarray, rng: np.random.Generator) -> RGBField:
    """Equilateral triangles: 'up' triangles in the base colour, 'down' ones alternating accents per row."""
    side = float(rng.uniform(40, 58))
    h = side * math.sqrt(3.0) / 2
    o1, o2 = rng.uniform(0, 1, size=2).tolist()
    u = space.u
    v = space.v
    # Three families of lines 60 degrees apart; t0 = t1 + t2 keeps all three concurrent at lattice points.
    t1 = (-0.8660254 * u + 0.5 * v) / h + o1
    t2 = (0.8660254 * u + 0.5 * v) / h + o2
    t0 = t1 + t2
    # Crossing any edge flips exactly one sign, so the product two-colours the tiling; smooth signs anti-alias.
    parity = _band_sign(t0 * h, h) * _band_sign(t1 * h, h) * _band_sign(t2 * h, h)
    second = colours[2] if len(colours) > 2 else _darken(colours[1], 0.3)
    rows = _bands(t0 * h, h, np.stack([colours[1], second]).astype(np.float32))
    return _mix(_fill(space, colours[0]), rows, (1.0 - parity) / 2)


def camo(space: PatternSpace, colours: np.ndarray, rng: np.random.Generator) -> RGBField:
    """Woodland camouflage: blotches of each palette colour from thresholded smooth noise."""
    out = _fill(space, colours[0])
    su, sv = rng.uniform(0, 500, size=2).tolist()
    u = space.u + su
    v = space.v + sv
    layers = list(colours[1:4])
    thresholds = (0.55, 0.6, 0.66)[: len(layers)]
    for colour, threshold in zip(layers, thresholds, strict=False):
        moved = PatternSpace(u, v, space.box)
        n = 0.7 * _smooth_noise(moved, 46.0, rng) + 0.3 * _smooth_noise(moved, 17.0, rng)
        # Noise gradients are about 1/40 per px, so 0.02 noise-units is roughly one pixel of edge.
        out = _mix(out, colour, np.clip((n - threshold) / 0.02 + 0.5, 0.0, 1.0))
    return out


def gradient(space: PatternSpace, colours: np.ndarray, rng: np.random.Generator) -> RGBField:
    """Ombre across the product (top to bottom or diagonal) through two or three palette colours."""
    x0, y0, x1, y1 = space.box
    ty = (space.v - y0) / max(1.0, y1 - y0)
    diagonal = rng.random() < 0.4
    t = 0.5 * ty + 0.5 * (space.u - x0) / max(1.0, x1 - x0) if diagonal else ty
    t = np.clip(t, 0.0, 1.0)
    stops = [colours[0], colours[1]] if len(colours) < 3 or rng.random() < 0.5 else list(colours[:3])
    # The base colour holds the first 40% so it stays the dominant one.
    t = np.clip((t - 0.4) / 0.6, 0.0, 1.0)
    t = t * t * (3.0 - 2.0 * t)
    seg = t * (len(stops) - 1)
    k = np.minimum(np.floor(seg), len(stops) - 2)
    stop_arr = np.stack(stops).astype(np.float32)
    index = k.astype(np.int64)
    out = _mix(stop_arr[index], stop_arr[index + 1], seg - k)
    # A half-level of noise stops 8-bit banding from showing in the smooth ramp.
    return out + (rng.random(out.shape, dtype=np.float32) - 0.5) / 255


def leopard(space: PatternSpace, colours: np.ndarray, rng: np.random.Generator) -> RGBField:
    """Animal print: lumpy, broken rings (two or three dark arcs round a deeper centre) and small solid spots.

    The rings are deliberately irregular (uneven radius, two or three arcs of uneven length); evenly spaced
    arcs would read as flowers.
    """
    cell = float(rng.uniform(36, 44))
    turned = _rotated(space, rng, (15, 40))
    u = turned.u + rng.uniform(0, cell)
    v = turned.v + rng.uniform(0, cell)
    cells = _Cells.make(u, v, cell)
    n = _Cells.WRAP**2
    x = cells.dx - cells.per_cell((rng.random(n) - 0.5) * cell * 0.22)
    y = cells.dy - cells.per_cell((rng.random(n) - 0.5) * cell * 0.22)
    d = np.sqrt(x * x + y * y)
    theta = np.arctan2(y, x)
    phase = cells.per_cell(rng.random(n) * 2 * np.pi)
    lump = 1.0 + 0.16 * np.sin(2 * theta + phase) + 0.09 * np.sin(3 * theta - 2 * phase)
    r = cells.per_cell(cell * (0.2 + 0.1 * rng.random(n))) * lump
    arcs = cells.per_cell(np.where(rng.random(n) < 0.5, 2.0, 3.0))
    # Each arc is fattest in its middle and tapers to a gap; squaring the sine skews arcs to uneven lengths.
    along = np.mod((theta + phase + 0.5 * np.sin(theta + phase)) * arcs * np.float32(1 / (2 * np.pi)), 1.0)
    taper = np.sqrt(np.sin(np.float32(np.pi) * along))
    thickness = r * cells.per_cell(0.34 + 0.16 * rng.random(n))
    ring = thickness * (taper - 0.25) - np.abs(d - r)
    # Small solid spots in the gaps between rosettes, on the lattice offset by half a cell.
    sx = np.mod(u, cell) - cell / 2
    sy = np.mod(v + cell / 2, cell) - cell / 2
    spots = cell * 0.075 * (1.0 + 0.25 * np.sin(2 * np.arctan2(sy, sx) + 1.0)) - np.sqrt(sx * sx + sy * sy)
    base = colours[0]
    if luma(base) > 0.4:
        # Classic print: near-black rosettes with a slightly deeper, warmer centre.
        darkest = min(colours[1:], key=luma)
        ink, centre = _darken(darkest, 0.5), _darken(base, 0.15)
    else:
        # On a dark ground the rosettes must be lighter than it to show at all.
        ink, centre = colours[1], _lighten(base, 0.12)
    out = _mix(_fill(space, base), centre, _coverage(r * 0.85 - d))
    out = _mix(out, ink, _coverage(spots))
    return _mix(out, ink, _coverage(ring))


PATTERNS: tuple[Pattern, ...] = (
    Pattern("solid", "Solid", ("essential", "clean"), solid),
    Pattern("stripes", "Stripe", ("classic", "breton"), stripes),
    Pattern("checks", "Check", ("heritage", "preppy"), checks),
    Pattern("dots", "Polka Dot", ("playful", "retro"), dots),
    Pattern("floral", "Floral", ("romantic", "botanical"), floral),
    Pattern("chevron", "Chevron", ("graphic", "zigzag"), chevron),
    Pattern("geometric", "Geometric", ("graphic", "modern"), geometric),
    Pattern("camo", "Camo", ("utility", "streetwear"), camo),
    Pattern("gradient", "Ombre", ("fluid", "modern"), gradient),
    Pattern("leopard", "Leopard", ("wild", "statement"), leopard),
)

PATTERNS_BY_NAME: dict[str, Pattern] = {p.name: p for p in PATTERNS}

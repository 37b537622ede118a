"""Silhouettes of the accessories and homeware in the demo catalog: totes, mugs, cushions, sneakers and caps.

Standing objects are shot from a slightly raised front or side view with a contact shadow; the cushion lies flat.
Coordinates are frame units (0..1 across the shot); see :mod:`stylerec_desktop.core.demo.garments` for clothing.
"""

from __future__ import annotations

import numpy as np

from stylerec_desktop.core.demo.palettes import luma
from stylerec_desktop.core.demo.pen import Point, Sketch, arc, bezier
from stylerec_desktop.core.demo.studio import (
    FRAME,
    NEUTRAL,
    Drawing,
    Layer,
    blur,
    extent,
    grid,
    key_light,
    rounded,
    smooth,
    union,
)

SEAM = 0.0045  # seam line width in frame units (about 2 px)
CANVAS = np.array([226, 212, 186], dtype=np.float32) / 255  # undyed cotton webbing


def tote(colours: np.ndarray, rng: np.random.Generator) -> Drawing:
    """A canvas tote bag: two webbing handles (the back one in shadow), a stitched top hem, boxed strap ends."""
    top = float(rng.uniform(0.36, 0.4))
    bottom = 0.885
    half_top = float(rng.uniform(0.235, 0.255))
    half_bottom = half_top + float(rng.uniform(0.0, 0.02))
    r = 0.025
    outline: list[Point] = [(0.5 - half_top, top), (0.5 + half_top, top)]
    outline += bezier((0.5 + half_bottom, bottom - r), (0.5 + half_bottom, bottom), (0.5 + half_bottom - r, bottom))
    outline += bezier((0.5 - half_bottom + r, bottom), (0.5 - half_bottom, bottom), (0.5 - half_bottom, bottom - r))
    body = Sketch().polygon(outline).mask()

    pick = rng.random()
    strap_colour = CANVAS if pick < 0.4 else colours[0] if pick < 0.7 else colours[1]
    spread = float(rng.uniform(0.11, 0.135))
    rise = float(rng.uniform(0.27, 0.31))
    back = Sketch().line(
        bezier((0.5 - spread + 0.01, top + 0.01), (0.5 - spread, top - rise - 0.02),
               (0.5 + spread, top - rise - 0.02), (0.5 + spread - 0.01, top + 0.01)), 0.032).mask()
    front_pts = bezier((0.5 - spread, top + 0.075), (0.5 - spread - 0.01, top - rise),
                       (0.5 + spread + 0.01, top - rise), (0.5 + spread, top + 0.075))
    front = Sketch().line(front_pts, 0.034).mask()
    tabs = Sketch()
    seams = Sketch()
    for x in (0.5 - spread, 0.5 + spread):
        box = [(x - 0.022, top + 0.004), (x + 0.022, top + 0.004), (x + 0.022, top + 0.085), (x - 0.022, top + 0.085)]
        tabs.polygon(box)
        seams.line([*box, box[0]], SEAM * 0.7).line([box[0], box[2]], SEAM * 0.7).line([box[1], box[3]], SEAM * 0.7)
    seams.dashed([(0.5 - half_top + 0.01, top + 0.04), (0.5 + half_top - 0.01, top + 0.04)], SEAM * 0.8, 0.012, 0.007)
    seams.line([(0.5 - half_top, top + 0.003), (0.5 + half_top, top + 0.003)], SEAM)

    xs, ys = grid()
    hem = ((ys > top * FRAME) & (ys < (top + 0.045) * FRAME)).astype(np.float32)
    tone = rounded(body, 14.0, 0.3) * key_light(extent(body)) * (1.0 - 0.06 * hem)
    strap_tone = rounded(union(front, back), 3.0, 0.25)
    everything = union(body, back, front)
    return Drawing(
        layers=[
            Layer(back, strap_colour, strap_tone * 0.72),
            Layer(body, None, tone),
            Layer(tabs.mask(), strap_colour, tone * 1.02),
            Layer(front, strap_colour, strap_tone),
        ],
        box=extent(everything),
        stance="floor",
        lines=seams.mask() * everything,
        texture=0.02,
    )


def mug(colours: np.ndarray, rng: np.random.Generator) -> Drawing:
    """A glazed ceramic mug seen from slightly above: the pattern wraps round the cylinder, glossy highlight."""
    cx = 0.45
    r = float(rng.uniform(0.2, 0.22))
    top = 0.22
    bottom = float(rng.uniform(0.78, 0.8))
    ry = 0.035
    taper = 0.97
    outline = arc(cx, top, r, ry, 0, 180) + arc(cx, bottom, r * taper, ry, 180, 0)
    body = Sketch().polygon(outline).mask()
    rim = Sketch().ellipse((cx - r, top - ry, cx + r, top + ry)).mask()
    inset = 0.012
    inner = Sketch().ellipse((cx - r + inset, top - ry + inset * 0.4, cx + r - inset, top + ry - inset * 0.25)).mask()
    hy = (top + bottom) / 2 + 0.02
    handle = (
        Sketch()
        .ellipse((cx + r - 0.07, hy - 0.16, cx + r + 0.14, hy + 0.15))
        .ellipse((cx + r - 0.03, hy - 0.115, cx + r + 0.095, hy + 0.105), erase=True)
        .mask()
    )
    glaze = NEUTRAL if rng.random() < 0.6 else colours[0]
    handle_colour = colours[0] if rng.random() < 0.6 else glaze

    xs, ys = grid()
    cx_px, r_px, ry_px = cx * FRAME, r * FRAME, ry * FRAME
    s = np.clip((xs - cx_px) / r_px, -0.999, 0.999)
    depth = np.sqrt(1.0 - s * s)
    # Lambert shading of a vertical cylinder lit from the front left, plus a soft fall-off toward the base.
    diffuse = np.clip(s * -0.55 + depth * 0.83, 0.0, 1.0)
    height = np.clip((ys - top * FRAME) / ((bottom - top) * FRAME), 0.0, 1.0)
    tone = (0.62 + 0.42 * diffuse) * (1.0 - 0.08 * height * height)
    gloss = 0.55 * np.exp(-(((s + 0.52) / 0.075) ** 2)) + 0.12 * np.exp(-(((s - 0.86) / 0.05) ** 2))
    gloss = (gloss * body * (1.0 - 0.4 * height)).astype(np.float32)
    # Wrap the pattern: arc length round the cylinder across, and follow the ellipse of the rim down the side.
    u = (cx_px + r_px * np.arcsin(s)).astype(np.float32)
    v = (ys - ry_px * depth).astype(np.float32)
    inner_tone = 0.98 - 0.3 * np.clip((ys - (top - ry) * FRAME) / (2 * ry_px), 0.0, 1.0)
    lines = Sketch().line(arc(cx, top, r - 0.002, ry - 0.002, 0, 360, 64), SEAM * 0.6).mask()
    everything = union(body, rim, handle)
    return Drawing(
        layers=[
            Layer(handle, handle_colour, rounded(handle, 5.0, 0.45) * key_light(extent(handle), 0.2)),
            Layer(body, None, tone),
            Layer(rim, glaze, 1.02),
            Layer(inner, glaze, inner_tone),
        ],
        box=extent(everything),
        stance="floor",
        lines=lines * 0.6,
        gloss=gloss,
        uv=(u, v),
        texture=0.0,
    )


def cushion(colours: np.ndarray, rng: np.random.Generator) -> Drawing:
    """A square scatter cushion lying flat: plump centre, pinched corners, piped edge."""
    lo, hi = 0.16, 0.84
    pull = float(rng.uniform(0.035, 0.05))
    corners = [(lo, lo), (hi, lo), (hi, hi), (lo, hi)]
    controls = [(0.5, lo + pull), (hi - pull, 0.5), (0.5, hi - pull), (lo + pull, 0.5)]
    outline: list[Point] = []
    for i, corner in enumerate(corners):
        outline += bezier(corner, controls[i], corners[(i + 1) % 4], steps=20)[:-1]
    body = Sketch().polygon(outline).mask()
    piping = Sketch().line([*outline, outline[0]], 0.014).mask()
    piping_colour = colours[0] * 0.8 if rng.random() < 0.5 else colours[1]

    xs, ys = grid()
    c = FRAME / 2
    dx = (xs - c) / (c * (hi - lo))
    dy = (ys - c) / (c * (hi - lo))
    rho2 = np.clip(dx * dx + dy * dy, 0.0, 1.0)
    tone = rounded(body, 34.0, 0.42) * (1.06 - 0.14 * rho2) * key_light(extent(body), 0.16)
    # The stuffing bulges toward the camera: the pattern looks magnified in the middle, squeezed at the rim.
    squeeze = 0.9 + 0.1 * rho2
    u = (c + (xs - c) * squeeze).astype(np.float32)
    v = (c + (ys - c) * squeeze).astype(np.float32)
    creases = Sketch()
    for (x, y), (ox, oy) in zip(corners, [(1, 1), (-1, 1), (-1, -1), (1, -1)], strict=True):
        creases.line(bezier((x + ox * 0.01, y + oy * 0.01), (x + ox * 0.05, y + oy * 0.06),
                            (x + ox * 0.1, y + oy * 0.09)), 0.006)
    everything = union(body, piping)
    return Drawing(
        layers=[Layer(body, None, tone), Layer(piping, piping_colour, rounded(piping, 2.0, 0.2) * tone)],
        box=extent(everything),
        stance="flat",
        lines=creases.mask() * body * 0.5,
        uv=(u, v),
    )


def sneakers(colours: np.ndarray, rng: np.random.Generator) -> Drawing:
    """A low-top canvas sneaker in side view, toe to the right: rubber sole and toe cap, laces, padded collar."""
    upper_pts: list[Point] = [(0.14, 0.655)]
    upper_pts += bezier((0.14, 0.655), (0.125, 0.5), (0.15, 0.36), (0.2, 0.335))[1:]
    upper_pts += bezier((0.2, 0.335), (0.26, 0.345), (0.3, 0.41), (0.36, 0.405))[1:]
    upper_pts += bezier((0.36, 0.405), (0.385, 0.37), (0.395, 0.31), (0.435, 0.29))[1:]
    upper_pts += [(0.47, 0.31)]
    vamp = bezier((0.47, 0.31), (0.58, 0.38), (0.7, 0.46), (0.79, 0.5))
    upper_pts += vamp[1:]
    upper_pts += bezier((0.79, 0.5), (0.87, 0.53), (0.895, 0.6), (0.88, 0.655))[1:]
    upper = Sketch().polygon(upper_pts).mask()

    sole_pts: list[Point] = [(0.13, 0.635)]
    sole_pts += bezier((0.13, 0.635), (0.12, 0.72), (0.17, 0.735))[1:]
    sole_pts += [(0.8, 0.735)]
    sole_pts += bezier((0.8, 0.735), (0.87, 0.735), (0.9, 0.69), (0.89, 0.64))[1:]
    sole_pts += [(0.6, 0.645)]
    sole = Sketch().polygon(sole_pts).mask()
    toe = Sketch().ellipse((0.76, 0.52, 0.96, 0.72)).mask() * upper
    heel = Sketch().polygon([(0.1, 0.4), (0.158, 0.4), (0.152, 0.65), (0.1, 0.65)]).mask() * upper
    collar_curve = bezier((0.2, 0.335), (0.26, 0.345), (0.3, 0.41), (0.36, 0.405))
    collar = Sketch().line([(x, y + 0.012) for x, y in collar_curve], 0.03).mask() * upper
    accent = colours[1]
    trim = accent if abs(luma(accent) - luma(colours[0])) > 0.15 else colours[0] * 0.45

    eyelets = Sketch()
    laces = Sketch()
    lace_pts = bezier((0.46, 0.345), (0.56, 0.41), (0.66, 0.47), (0.73, 0.505), steps=5)
    for x, y in lace_pts[:5]:
        eyelets.ellipse((x - 0.008, y - 0.008, x + 0.008, y + 0.008))
        laces.line([(x, y), (x + 0.035, y - 0.045)], 0.014)
    seams = Sketch()
    seams.line(bezier((0.76, 0.655), (0.76, 0.56), (0.84, 0.52), (0.9, 0.55)), SEAM)
    seams.dashed(bezier((0.175, 0.52), (0.16, 0.45), (0.17, 0.38)), SEAM * 0.8, 0.01, 0.006)
    seams.dashed(bezier((0.44, 0.35), (0.56, 0.43), (0.66, 0.49), (0.76, 0.535)), SEAM * 0.8, 0.01, 0.006)
    seams.line([(0.14, 0.645), (0.885, 0.648)], SEAM)
    seams.line([(0.13, 0.712), (0.85, 0.712)], SEAM * 0.8)
    stripe = Sketch().line([(0.125, 0.672), (0.895, 0.674)], 0.011).mask() * sole

    xs, ys = grid()
    upper_tone = rounded(upper, 8.0, 0.3) * key_light(extent(upper))
    sole_tone = (1.0 - 0.12 * np.clip((ys - 0.64 * FRAME) / (0.1 * FRAME), 0.0, 1.0)) * rounded(sole, 3.0, 0.2)
    everything = union(upper, sole, laces.mask())
    lace_mask = laces.mask()
    return Drawing(
        layers=[
            Layer(upper, None, upper_tone),
            Layer(heel, trim, upper_tone),
            Layer(collar, trim, upper_tone * 0.8),
            Layer(toe, NEUTRAL, upper_tone * 1.02),
            Layer(sole, NEUTRAL, sole_tone),
            Layer(stripe, trim, sole_tone),
            Layer(eyelets.mask(), np.array([0.25, 0.25, 0.27], dtype=np.float32), 1.0),
            Layer(lace_mask, NEUTRAL, rounded(lace_mask, 2.0, 0.25)),
        ],
        box=extent(everything),
        stance="floor",
        lines=seams.mask() * everything,
        texture=0.02,
    )


def cap(colours: np.ndarray, rng: np.random.Generator) -> Drawing:
    """A six-panel baseball cap seen from the front and a little above: domed crown, top button, curved peak."""
    turn = float(rng.uniform(0.02, 0.06))  # how far the peak swings to the right, for a three-quarter look
    bottom_edge = bezier((0.2, 0.56), (0.5, 0.63), (0.8, 0.56), steps=24)
    crown_pts: list[Point] = bezier((0.2, 0.56), (0.18, 0.31), (0.33, 0.17), (0.5, 0.17))
    crown_pts += bezier((0.5, 0.17), (0.67, 0.17), (0.82, 0.31), (0.8, 0.56))[1:]
    crown_pts += list(reversed(bottom_edge))[1:]
    crown = Sketch().polygon(crown_pts).mask()
    outer = bezier((0.83, 0.55), (0.9 + turn, 0.86), (0.2 + turn, 0.9), (0.17, 0.55), steps=32)
    brim = Sketch().polygon(bottom_edge + outer[1:]).mask()
    button = Sketch().ellipse((0.47, 0.155, 0.53, 0.185)).mask()
    eyelets = Sketch()
    for x in (0.37, 0.63):
        eyelets.ellipse((x - 0.009, 0.29, x + 0.009, 0.304))
    seams = Sketch()
    seams.line([(0.5, 0.18), (0.5, 0.6)], SEAM)
    seams.line(bezier((0.49, 0.18), (0.34, 0.24), (0.27, 0.4), (0.29, 0.59)), SEAM)
    seams.line(bezier((0.51, 0.18), (0.66, 0.24), (0.73, 0.4), (0.71, 0.59)), SEAM)
    seams.line(bottom_edge, SEAM)
    for inset in (0.025, 0.045):
        rows = [(x + (0.5 - x) * inset * 2.2, y - inset * (y - 0.56) * 9) for x, y in outer]
        seams.dashed(rows, SEAM * 0.7, 0.009, 0.006)
    brim_colour = None if rng.random() < 0.6 else colours[0] if rng.random() < 0.5 else colours[1]

    xs, ys = grid()

    def dome(x: np.ndarray, y: np.ndarray) -> np.ndarray:
        # A dome lit from the upper left: brightest where its surface faces the key light.
        r2 = ((x / FRAME - 0.42) / 0.4) ** 2 + ((y / FRAME - 0.3) / 0.36) ** 2
        return 1.1 - 0.3 * np.clip(r2, 0.0, 1.0)

    crown_tone = rounded(crown, 22.0, 0.35) * smooth(dome)
    # The peak curves down toward the viewer: lit along its crest, darker at the tips and the front edge.
    x0, y0, x1, y1 = extent(brim)
    brim_tone = rounded(brim, 10.0, 0.3) * (1.08 - 0.3 * np.clip((ys - y0) / (y1 - y0), 0.0, 1.0))
    # The crown shades the peak just below its front edge.
    dropped = np.zeros_like(crown)
    dropped[10:] = crown[:-10]
    brim_tone = brim_tone * (1.0 - 0.3 * blur(dropped, 8.0))
    # The peak's front edge shows its thickness as a thin darker rim.
    rim = Sketch().line(outer, 0.012).mask() * brim
    everything = union(crown, brim)
    return Drawing(
        layers=[
            Layer(crown, None, crown_tone),
            Layer(brim, brim_colour, brim_tone),
            Layer(rim, brim_colour, brim_tone * 0.72),
            Layer(button, None, crown_tone * 0.85),
            Layer(eyelets.mask(), np.array([0.2, 0.2, 0.22], dtype=np.float32), 1.0),
        ],
        box=extent(everything),
        stance="floor",
        lines=seams.mask() * everything,
    )

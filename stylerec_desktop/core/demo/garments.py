"""Silhouettes of the clothing in the demo catalog, shot flat-lay from above: tees, dresses and hoodies.

Each function returns a :class:`~stylerec_desktop.core.demo.studio.Drawing` in frame units (0..1 across the
shot). Left halves of outlines are drawn once and mirrored so garments are symmetric; a little randomness in
sleeve length, width and neckline keeps a rack of the same garment from looking cloned.
"""

from __future__ import annotations

import math
from functools import cache

import numpy as np

from stylerec_desktop.core.demo.palettes import luma
from stylerec_desktop.core.demo.pen import Point, Sketch, bezier, mirror
from stylerec_desktop.core.demo.studio import (
    FRAME,
    NEUTRAL,
    Drawing,
    Layer,
    extent,
    folds,
    grid,
    key_light,
    rounded,
    smooth,
    union,
)

SEAM = 0.0045  # seam line width in frame units (about 2 px)


@cache
def _knit_ridges() -> np.ndarray:
    """Tone of knit ribbing (cuffs, waistbands): fine vertical ridges about 5 px apart."""
    xs, _ = grid()
    ridges = 1.0 - 0.1 * (0.5 + 0.5 * np.sin(xs * 1.3))
    ridges.setflags(write=False)
    return ridges


def _fabric_tone(mask: np.ndarray, rng: np.random.Generator, depth: float = 0.22) -> np.ndarray:
    """Shading shared by all garments: padded edges, the key light and a few soft folds."""
    return rounded(mask, 10.0, depth) * key_light(extent(mask)) * folds(rng, 0.03)


def tee(colours: np.ndarray, rng: np.random.Generator) -> Drawing:
    """A crew-neck T-shirt with ribbed collar, set-in short sleeves and stitched hems."""
    half_body = float(rng.uniform(0.19, 0.215))
    sleeve = float(rng.uniform(0.0, 0.03))
    dip = float(rng.uniform(0.065, 0.09))
    neck = (0.41, 0.155)
    shoulder = (0.5 - half_body - 0.01, 0.19)
    sleeve_top = (0.155 - sleeve, 0.37 + sleeve * 0.6)
    sleeve_bottom = (0.235 - sleeve, 0.445 + sleeve * 0.6)
    armpit = (0.5 - half_body + 0.005, 0.365)
    hem = (0.5 - half_body - 0.005, 0.855)
    left: list[Point] = [neck, shoulder, sleeve_top, sleeve_bottom, armpit]
    left += bezier(armpit, (armpit[0] + 0.01, 0.6), hem, steps=16)[1:]
    left += bezier(hem, (0.4, 0.865), (0.5, 0.862), steps=8)[1:]
    front_neck = bezier((0.59, 0.155), (0.56, 0.155 + dip * 1.3), (0.44, 0.155 + dip * 1.3), neck)
    back_neck = bezier(neck, (0.45, 0.17), (0.55, 0.17), (0.59, 0.155))
    body = Sketch().polygon(left + mirror(left)[1:] + front_neck[1:]).mask()
    inside = Sketch().polygon(back_neck + front_neck[1:]).mask()
    collar = Sketch().line(front_neck, 0.02).mask() * union(body, inside)

    seams = Sketch()
    for flip in (False, True):
        top, bottom, shoulder_pt, armpit_pt = (
            [(1 - x, y) for x, y in (sleeve_top, sleeve_bottom, shoulder, armpit)]
            if flip
            else [sleeve_top, sleeve_bottom, shoulder, armpit]
        )
        seams.line(bezier(shoulder_pt, (shoulder_pt[0] + (armpit_pt[0] - shoulder_pt[0]) * 0.2, 0.29), armpit_pt),
                   SEAM)
        # Sleeve hem stitching: the opening's edge moved 0.025 in toward the armhole, a little shorter.
        ix = (shoulder_pt[0] + armpit_pt[0] - top[0] - bottom[0]) / 2
        iy = (shoulder_pt[1] + armpit_pt[1] - top[1] - bottom[1]) / 2
        scale = 0.025 / math.hypot(ix, iy)
        ends = [(top[0] * (1 - t) + bottom[0] * t + ix * scale, top[1] * (1 - t) + bottom[1] * t + iy * scale)
                for t in (0.12, 0.88)]
        seams.dashed(ends, SEAM * 0.8, 0.012, 0.006)
    seams.dashed([(hem[0] + 0.015, 0.83), (0.5, 0.836), (1 - hem[0] - 0.015, 0.83)], SEAM * 0.8, 0.012, 0.006)
    seams.line(front_neck, SEAM * 0.8).line([(x, y + 0.02) for x, y in front_neck], SEAM * 0.8)

    tone = _fabric_tone(body, rng)
    return Drawing(
        layers=[
            Layer(inside, None, 0.62),
            Layer(body, None, tone),
            Layer(collar, colours[0], tone * 0.96),
        ],
        box=extent(union(body, inside)),
        stance="flat",
        lines=seams.mask() * union(body, inside),
    )


def dress(colours: np.ndarray, rng: np.random.Generator) -> Drawing:
    """A sleeveless A-line dress: thin straps, scoop neck, seamed waist and a flared skirt with soft folds."""
    flare = float(rng.uniform(0.15, 0.2))
    waist_y = float(rng.uniform(0.43, 0.47))
    hem_y = float(rng.uniform(0.86, 0.9))
    left: list[Point] = [(0.445, 0.205), (0.395, 0.205)]
    left += bezier((0.395, 0.205), (0.39, 0.28), (0.35, 0.295), (0.33, 0.3), steps=12)[1:]
    left += bezier((0.33, 0.3), (0.35, 0.38), (0.36, waist_y), steps=10)[1:]
    left += bezier((0.36, waist_y), (0.3, 0.62), (flare, hem_y), steps=16)[1:]
    left += bezier((flare, hem_y), (0.33, hem_y + 0.04), (0.5, hem_y + 0.045), steps=12)[1:]
    neckline = bezier((0.555, 0.205), (0.545, 0.3), (0.455, 0.3), (0.445, 0.205))
    body = Sketch().polygon(left + mirror(left)[1:] + neckline[1:]).mask()
    straps = Sketch().line([(0.42, 0.215), (0.43, 0.105)], 0.026).line([(0.58, 0.215), (0.57, 0.105)], 0.026)
    strap_mask = straps.mask()
    back = Sketch().polygon(bezier((0.43, 0.13), (0.46, 0.16), (0.54, 0.16), (0.57, 0.13)) + neckline).mask()

    count = float(rng.uniform(16, 22))
    phase = float(rng.uniform(0, 6.28))

    def pleats(xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        # Folds radiate from a point above the waist; they fade in below the waist seam.
        x, y = xs / FRAME, ys / FRAME
        angle = np.arctan2(x - 0.5, y - (waist_y - 0.25))
        below = np.clip((y - waist_y) / 0.12, 0.0, 1.0)
        return 1.0 + 0.09 * below * np.sin(angle * count + phase)

    tone = _fabric_tone(body, rng) * smooth(pleats, 4)

    seams = Sketch()
    seams.line(bezier((0.36, waist_y), (0.5, waist_y + 0.012), (0.64, waist_y)), SEAM)
    seams.dashed(bezier((flare + 0.02, hem_y - 0.022), (0.5, hem_y + 0.024), (1 - flare - 0.02, hem_y - 0.022)),
                 SEAM * 0.8, 0.012, 0.006)
    seams.line(neckline, SEAM * 0.8)
    layers = [Layer(back, None, 0.6), Layer(strap_mask, None, 0.95), Layer(body, None, tone)]
    if rng.random() < 0.35:
        sash = Sketch().polygon([(0.355, waist_y - 0.018), (0.645, waist_y - 0.018),
                                 (0.648, waist_y + 0.02), (0.352, waist_y + 0.02)]).mask() * body
        layers.append(Layer(sash, colours[1], tone))
    everything = union(body, strap_mask, back)
    return Drawing(layers=layers, box=extent(everything), stance="flat", lines=seams.mask() * everything)


def hoodie(colours: np.ndarray, rng: np.random.Generator) -> Drawing:
    """A pullover hoodie: hood lying behind the neck, long sleeves with ribbed cuffs, kangaroo pocket, drawcords."""
    half_body = float(rng.uniform(0.2, 0.22))
    drop = float(rng.uniform(0.0, 0.03))
    neck = (0.4, 0.2)
    shoulder = (0.5 - half_body - 0.02, 0.225)
    cuff_out = (0.115, 0.7 + drop)
    cuff_in = (0.205, 0.725 + drop)
    armpit = (0.5 - half_body + 0.005, 0.4)
    hem = (0.5 - half_body, 0.865)
    left: list[Point] = [neck, shoulder]
    left += bezier(shoulder, (0.2, 0.27), (0.14, 0.45), cuff_out, steps=20)[1:]
    left += [cuff_in]
    left += bezier(cuff_in, (0.23, 0.55), (0.27, 0.45), armpit, steps=14)[1:]
    left += [hem, (0.5, hem[1] + 0.004)]
    neckline = bezier((0.6, 0.2), (0.57, 0.275), (0.43, 0.275), neck)
    body = Sketch().polygon(left + mirror(left)[1:] + neckline[1:]).mask()
    hood = Sketch().ellipse((0.33, 0.06, 0.67, 0.34)).mask()
    lining = Sketch().polygon(bezier((0.4, 0.2), (0.41, 0.08), (0.59, 0.08), (0.6, 0.2)) + neckline[1:]).mask()

    rib = Sketch()
    rib.polygon([(hem[0] + 0.003, 0.805), (1 - hem[0] - 0.003, 0.805), (1 - hem[0], 0.87), (hem[0], 0.87)])
    for sign in (1, -1):
        rib.polygon([
            (0.5 + sign * (0.5 - cuff_out[0]), cuff_out[1]),
            (0.5 + sign * (0.5 - cuff_in[0]), cuff_in[1]),
            (0.5 + sign * (0.5 - cuff_in[0] + 0.008), cuff_in[1] - 0.065),
            (0.5 + sign * (0.5 - cuff_out[0] - 0.012), cuff_out[1] - 0.07),
        ])
    ribs = rib.mask() * body
    pocket = Sketch().polygon([(0.37, 0.6), (0.63, 0.6), (0.68, 0.79), (0.32, 0.79)]).mask()

    ridges = _knit_ridges()
    tone = _fabric_tone(body, rng)
    seams = Sketch()
    seams.line([(0.37, 0.6), (0.63, 0.6)], SEAM).line([(0.63, 0.6), (0.68, 0.79)], SEAM)
    seams.line([(0.37, 0.6), (0.32, 0.79)], SEAM).line(neckline, SEAM)
    seams.line(bezier((0.37, 0.6), (0.33, 0.66), (0.335, 0.72)), SEAM)
    seams.line(bezier((0.63, 0.6), (0.67, 0.66), (0.665, 0.72)), SEAM)
    seams.line([(hem[0], 0.805), (1 - hem[0], 0.805)], SEAM)
    seams.line(bezier(shoulder, (0.29, 0.3), armpit), SEAM).line(bezier(mirror([shoulder])[0], (0.71, 0.3),
                                                                      mirror([armpit])[0]), SEAM)
    cords = Sketch()
    cords.line(bezier((0.465, 0.265), (0.46, 0.33), (0.47, 0.42)), 0.009)
    cords.line(bezier((0.535, 0.265), (0.545, 0.34), (0.53, 0.44)), 0.009)
    cord_mask = cords.mask()
    tips = Sketch().line([(0.47, 0.42), (0.471, 0.445)], 0.012).line([(0.53, 0.44), (0.529, 0.465)], 0.012).mask()
    cord_colour = NEUTRAL if luma(colours[0]) < 0.7 else colours[1]
    everything = union(body, hood)
    return Drawing(
        layers=[
            Layer(hood, None, rounded(hood, 12.0, 0.3) * 0.93),
            Layer(body, None, tone),
            Layer(lining, None, rounded(lining, 14.0, 0.35) * 0.62),
            Layer(ribs, None, tone * ridges),
            Layer(pocket * body, None, tone * 1.02),
            Layer(cord_mask, cord_colour, 0.95),
            Layer(tips, colours[0] * 0.4, 1.0),
        ],
        box=extent(everything),
        stance="flat",
        lines=seams.mask() * everything,
    )

"""Automatic product masks for studio product shots and catalog photographs.

A catalog shot is a product on a plain, light backdrop: white, off-white, a pale colour, often with a gentle
gradient or vignette, a soft shadow under the product, JPEG noise, and sometimes a thin darker frame line around
the whole picture. :func:`analyse_product` separates the product from that backdrop with classical image
processing (no network; tens of milliseconds):

1. A frame line (1-2 px darker or lighter than the backdrop beside it, on at least three sides) is detected and
   left out of every later step: it is neither backdrop nor product.
2. The backdrop is found on the image border: the border is cut into segments, the plain ones (low spread) vote
   for the colour they share, weighted towards light, low-chroma colours (a studio backdrop), so a close-up whose
   product fills most of the border still finds the strip of backdrop above it instead of taking the product for
   the backdrop. A smooth surface per Lab channel (quadratic where the backdrop is seen on three sides or more,
   else linear or flat, so it does not swing where it was not seen) is fitted robustly to the border pixels that
   agree with that colour. Without enough plain border there is no backdrop: the whole image is returned, flagged.
3. Each pixel's colour distance to the backdrop model is thresholded (Otsu, clamped to a range set by the
   backdrop's measured noise, so a white product a few units brighter than an off-white backdrop still counts),
   with hysteresis so faint parts connected to clear ones are kept. Pixels that are only a *darker, neutral*
   version of the backdrop are shadow candidates and count by chroma alone: a soft floor shadow stays backdrop.
4. Sharp edges (Canny) are added, because a product's outline is crisp while a soft shadow's is not; this rescues
   grey products (which look like shadow by colour) and white products with a visible outline.
5. Morphological closing, the largest connected components (a pair of shoes is two), and hole filling; then
   enclosed regions that are not tiny and match the backdrop's colour within its own noise (a bag's handle loop,
   the gap between a dress's straps) are opened again as background.
6. The edge is refined at full resolution by local two-class matting on the full-resolution (shadow-aware)
   distance to the backdrop: in a band around the coarse outline each pixel's alpha is where its distance lies
   between the product's and the backdrop's beside it, so the outline snaps to where the colour changes, a soft
   shadow stays backdrop, and the matte is soft only as wide as the edge itself is soft (``ProductMask.alpha``;
   :mod:`stylerec_desktop.core.matting`).
7. A confidence (0..1) says how clearly the product stood out: how much of its outline lies on a real colour or
   edge step, how far its colour is from the backdrop, and how much of the border showed backdrop.

A cut-out with real transparency (an RGBA PNG) needs none of this: its alpha channel is the mask.

Known limits: a white product with no visible outline and the backdrop's exact colour cannot be told apart from it;
it comes back as ``found=False`` with the whole image as its mask and a reason. A white product whose shaded folds
are darker than the backdrop is found only in part (its folds read as shadow), with a confidence under
:data:`LOW_CONFIDENCE` and a reason saying so. An enclosed panel of exactly the backdrop's colour that is product
is opened as background, and light print that meets the outline can be notched or dropped.

The style engine uses :func:`product_mask` / :func:`soft_mask` (and may use :func:`product_matte`); export framing
uses :func:`analyse_product` for the product box, the frame line and the backdrop model (:meth:`ProductMask.
backdrop_at`).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np
from PIL import Image

from stylerec_desktop.core.matting import SHADOW_MIN_RATIO, refine_matte

# The mask is computed on a copy at most this many pixels on its longer side and scaled back up; the edge is then
# refined at full resolution. 512 px makes the whole analysis a few tens of milliseconds.
_WORK_SIDE = 512
# Width of the border strip (fraction of the shorter side) searched for the backdrop, and how many segments each
# side is cut into for the vote.
_BORDER_FRACTION = 0.02
_SEGMENTS_PER_SIDE = 8
# A border segment is plain when the typical Lab distance of its pixels from their median is under this.
_PLAIN_SPREAD = 3.0
# Two plain segments show the same backdrop when their median colours are within this Lab distance (a studio
# sweep's gradient and vignette change the colour by up to about this much across the frame).
_SAME_BACKDROP = 12.0
# Lab distance (roughly "just noticeable" x 4) within which a border pixel counts as matching the backdrop model.
_BORDER_TOLERANCE = 8.0
# The share of the border that must show backdrop for a backdrop to count as found. A close-up may show the
# backdrop only along one side and a bit of two others.
_MIN_BACKDROP_SHARE = 0.18
# Otsu finds the split between backdrop and product distances; clamping keeps it meaningful when one of the two
# barely exists. The lower clamp is this many times the backdrop's noise (the median residual of its border
# pixels), and never under the absolute floor: a JPEG's noise must not become product, a white product just
# brighter than the backdrop must.
_THRESHOLD_FLOOR, _THRESHOLD_NOISE, _THRESHOLD_MAX = 2.5, 3.5, 25.0
# Hysteresis: pixels above this share of the threshold are kept when they touch a pixel above the threshold.
_WEAK_SHARE = 0.6
# How far a shadow's chroma may stray from the backdrop's (Lab a/b units), plus a share of the lightness drop
# because a darkened tinted backdrop loses a little chroma too.
_SHADOW_CHROMA, _SHADOW_CHROMA_PER_L = 5.0, 0.15
# Canny thresholds on the 8-bit grey work image after a light blur. A soft shadow (blurred over ten or more
# pixels) stays far below the high threshold; a printed outline or a product edge is well above it.
_CANNY_LOW, _CANNY_HIGH = 30, 80
# Components smaller than this share of the largest one are dust, reflections or stray edges, not product.
_KEEP_SHARE = 0.15
# An enclosed region is background again when its median Lab distance to the backdrop model is under the larger of
# the floor and this many times the backdrop's noise (measured: handle loops and strap gaps 0.2-1.5, white soles
# and cream panels of products 3.5 and more), at least this share of it matches when shadows count by chroma, and
# it is larger than this share of the image (smaller holes are print or noise).
_HOLE_FLOOR, _HOLE_NOISE, _HOLE_MATCH_SHARE, _HOLE_MIN_SHARE = 2.0, 4.0, 0.8, 0.0008
# OpenCV's 8-bit Lab stores L * 255 / 100 and a, b offset by 128.
_LAB8_OFFSET = np.array([0.0, 128.0, 128.0], dtype=np.float32)
_LAB8_SCALE = np.array([100.0 / 255.0, 1.0, 1.0], dtype=np.float32)
# A product smaller than this share of the image is not a product found.
_MIN_PRODUCT_SHARE = 0.002
# The second look at a doubtful mask (see _second_look): Canny thresholds for the faint outline of a white product
# on white, and the margin (share of the found fragments' box) around them in which its edges are looked for.
_FAINT_CANNY = (12, 36)
_SECOND_LOOK_MARGIN = 0.5
# Below this confidence the product was found but its outline is doubtful, and the reason says so.
LOW_CONFIDENCE = 0.6


@dataclass(frozen=True)
class ProductMask:
    """What :func:`analyse_product` found.

    ``mask`` is ``(H, W)`` bool, True on the product. ``found`` is False when no product could be separated (no
    plain backdrop, or nothing stands out from it); ``mask`` is then all True so callers that stylize or frame
    "the product" act on the whole image, and ``reason`` says why in a sentence (it also explains a found mask
    of low ``confidence``). ``background`` is the backdrop's typical colour as 8-bit RGB (the median of the
    backdrop's border pixels, frame line left out), useful as a padding colour even when nothing was found.

    ``confidence`` is 0..1: 0 when nothing was found, under :data:`LOW_CONFIDENCE` when the outline is doubtful.
    ``alpha`` is the refined matte ``(H, W)`` float32 in 0..1 (soft only where the edge is), None when nothing was
    found. ``inset`` is the width in pixels of a frame line around the picture (0 when there is none).
    ``backdrop_grid`` is the fitted backdrop as a coarse ``(h, w, 3)`` float32 RGB 0..255 grid spanning the
    picture inside the frame line (corner pixel centres at the grid's corners), None without a plain backdrop;
    read it with :meth:`backdrop_at`. ``outline`` is the analysis's own mask ``(h, w)`` bool at its working
    resolution (inside the frame line), before the full-resolution edge step, and ``threshold`` the Lab distance
    that separated product from backdrop: with them :func:`matte_at` refines the same outline on the same picture
    at any other size (None / 0 for a cut-out or when nothing was found).
    """

    mask: np.ndarray
    found: bool
    background: tuple[int, int, int]
    reason: str = ""
    confidence: float = 1.0
    alpha: np.ndarray | None = field(default=None, repr=False)
    inset: int = 0
    backdrop_grid: np.ndarray | None = field(default=None, repr=False)
    outline: np.ndarray | None = field(default=None, repr=False)
    threshold: float = 0.0

    @property
    def bbox(self) -> tuple[int, int, int, int] | None:
        """The mask's bounding box, see :func:`mask_bbox`."""
        return mask_bbox(self.mask)

    def backdrop_at(self, xs: np.ndarray, ys: np.ndarray) -> np.ndarray:
        """The backdrop's colour at source pixel coordinates: ``xs`` ``(W',)`` and ``ys`` ``(H',)`` give an
        ``(H', W', 3)`` float32 RGB 0..255 grid. Coordinates outside the picture are clamped to its edge (inside
        the frame line), which continues the backdrop's gradient smoothly. Without a backdrop model, the flat
        ``background`` colour."""
        xs, ys = np.asarray(xs, np.float32), np.asarray(ys, np.float32)
        if self.backdrop_grid is None:
            return np.broadcast_to(np.asarray(self.background, np.float32), (len(ys), len(xs), 3)).copy()
        height, width = self.mask.shape
        grid_h, grid_w = self.backdrop_grid.shape[:2]
        lo = float(self.inset)
        gx = (np.clip(xs, lo, width - 1 - lo) - lo) / max(1.0, width - 1 - 2 * lo) * (grid_w - 1)
        gy = (np.clip(ys, lo, height - 1 - lo) - lo) / max(1.0, height - 1 - 2 * lo) * (grid_h - 1)
        map_x = np.ascontiguousarray(np.broadcast_to(gx[None, :], (len(ys), len(xs))))
        map_y = np.ascontiguousarray(np.broadcast_to(gy[:, None], (len(ys), len(xs))))
        return cv2.remap(self.backdrop_grid, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)


def _as_rgb_array(image: Image.Image | np.ndarray) -> np.ndarray:
    """``(H, W, 3)`` uint8 RGB from a PIL image or an array (grey, RGB or RGBA; uint8 or float 0..1)."""
    if isinstance(image, Image.Image):
        if image.mode != "RGB":
            image = image.convert("RGB")
        return np.asarray(image)
    array = np.asarray(image)
    if array.dtype != np.uint8:
        # Float images in this project are 0..1 (the style nets' convention).
        array = (np.clip(array.astype(np.float32), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    if array.ndim == 2:
        array = np.repeat(array[..., None], 3, axis=2)
    if array.ndim != 3 or array.shape[2] not in (3, 4):
        raise ValueError(f"expected an (H, W), (H, W, 3) or (H, W, 4) image, got shape {array.shape}")
    return np.ascontiguousarray(array[..., :3])


def _alpha(image: Image.Image | np.ndarray) -> np.ndarray | None:
    """The alpha channel ``(H, W)`` uint8 when the image has one that is not fully opaque, else None."""
    if isinstance(image, Image.Image):
        if "A" not in image.getbands() and "transparency" not in image.info:
            return None
        alpha = np.asarray(image.convert("RGBA").getchannel("A"))
    else:
        array = np.asarray(image)
        if array.ndim != 3 or array.shape[2] != 4:
            return None
        alpha = array[..., 3]
        if alpha.dtype != np.uint8:
            alpha = (np.clip(alpha.astype(np.float32), 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)
    return alpha if int(alpha.min()) < 250 else None


def _lab(rgb: np.ndarray) -> np.ndarray:
    """CIE Lab (L 0..100, a/b about -128..127) as float32.

    Converted in 8 bits, which OpenCV does with lookup tables about twice as fast as in float; the quantisation
    (under 1 unit) is far below every tolerance used here.
    """
    lab = cv2.cvtColor(rgb, cv2.COLOR_RGB2LAB).astype(np.float32)
    lab -= _LAB8_OFFSET
    lab *= _LAB8_SCALE
    return lab


def _lab_to_rgb(lab: np.ndarray) -> np.ndarray:
    """Float Lab ``(..., 3)`` to float32 RGB 0..255 (OpenCV's float conversion, sRGB D65)."""
    rgb = cv2.cvtColor(np.ascontiguousarray(lab, dtype=np.float32), cv2.COLOR_LAB2RGB)
    return np.clip(rgb * 255.0, 0.0, 255.0)


def _frame_inset(rgb: np.ndarray) -> int:
    """Width (0, 1 or 2 px) of a frame line around the picture: outer lines that differ from the pixels a few
    lines inside in the same direction (darker or lighter) along at least three sides."""
    height, width = rgb.shape[:2]
    if min(height, width) < 32:
        return 0

    def lines(depth: int) -> list[np.ndarray]:
        # Summed over the channels; only these lines are read, never the whole picture.
        picked = (rgb[depth, :], rgb[-1 - depth, :], rgb[:, depth], rgb[:, -1 - depth])
        return [line.astype(np.int16).sum(axis=1) for line in picked]

    inner = lines(4)
    inset = 0
    for depth in (0, 1):
        steps = [line - ref for line, ref in zip(lines(depth), inner, strict=True)]
        # Summed over three channels: 3 levels per channel is a step of 9. Most of a side must step the same way.
        signs = [np.sign(np.median(step)) for step in steps]
        framed = [
            sign != 0 and np.mean(step * sign >= 9) >= 0.7 for step, sign in zip(steps, signs, strict=True)
        ]
        if sum(framed) >= 3 and len({s for s, f in zip(signs, framed, strict=True) if f}) == 1:
            inset = depth + 1
        else:
            break
    return inset


def _design(xs: np.ndarray, ys: np.ndarray, terms: int) -> np.ndarray:
    """Surface terms of normalised coordinates: 1 (flat), 3 (plane) or 6 (quadratic: bends with gradients and
    vignettes, not with a product)."""
    columns = [np.ones_like(xs), xs, ys, xs * xs, xs * ys, ys * ys]
    return np.stack(columns[:terms], axis=1)


@dataclass(frozen=True)
class _Backdrop:
    model: np.ndarray  # (h, w, 3) Lab of the backdrop surface at work resolution
    coarse: np.ndarray  # (gh, gw, 3) Lab on a coarse grid over the work image
    share: float  # share of the border that fits the model
    noise: float  # median Lab residual of the border pixels that fit
    background: tuple[int, int, int]  # 8-bit RGB median of those pixels
    rgb_grid: np.ndarray  # (gh, gw, 3) float32 RGB 0..255 of the surface on the coarse grid


def _border_segments(height: int, width: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Border pixel coordinates ``(ys, xs)``, each pixel's segment number and side (0 top, 1 bottom, 2 left,
    3 right). Corner pixels belong to the top and bottom sides."""
    strip = max(2, round(min(height, width) * _BORDER_FRACTION))
    ys_all, xs_all, segment, side = [], [], [], []
    for number, (rows, cols, along) in enumerate(
        (
            (np.arange(strip), np.arange(width), "x"),
            (np.arange(height - strip, height), np.arange(width), "x"),
            (np.arange(strip, height - strip), np.arange(strip), "y"),
            (np.arange(strip, height - strip), np.arange(width - strip, width), "y"),
        )
    ):
        grid_y, grid_x = np.meshgrid(rows, cols, indexing="ij")
        yy, xx = grid_y.ravel(), grid_x.ravel()
        position = (xx / width) if along == "x" else ((yy - strip) / max(1, height - 2 * strip))
        ys_all.append(yy)
        xs_all.append(xx)
        segment.append(number * _SEGMENTS_PER_SIDE + np.minimum((position * _SEGMENTS_PER_SIDE).astype(int),
                                                                 _SEGMENTS_PER_SIDE - 1))  # fmt: skip
        side.append(np.full(yy.shape, number))
    return np.concatenate(ys_all), np.concatenate(xs_all), np.concatenate(segment), np.concatenate(side)


def _find_backdrop(lab: np.ndarray, rgb: np.ndarray) -> _Backdrop | None:
    """Vote for the backdrop among the border's plain segments and fit its surface; None without a backdrop."""
    height, width = lab.shape[:2]
    ys, xs, segment, side = _border_segments(height, width)
    # Every third border pixel is plenty for six coefficients and the segments' medians, and keeps this quick.
    ys, xs, segment, side = ys[::3], xs[::3], segment[::3], side[::3]
    values = lab[ys, xs].astype(np.float64)
    count = 4 * _SEGMENTS_PER_SIDE
    medians = np.zeros((count, 3))
    plain = np.zeros(count, dtype=bool)
    for number in range(count):
        part = values[segment == number]
        if len(part) < 4:
            continue
        medians[number] = np.median(part, axis=0)
        spread = float(np.median(np.linalg.norm(part - medians[number], axis=1)))
        plain[number] = spread < _PLAIN_SPREAD
    if not plain.any():
        return None
    # A studio backdrop is light and nearly neutral: the vote leans that way, so a plain dark or saturated
    # product filling most of the border does not outvote the strip of backdrop beside it.
    lightness = np.clip((medians[:, 0] - 40.0) / 50.0, 0.1, 1.0)
    chroma = np.hypot(medians[:, 1], medians[:, 2])
    neutral = np.clip(1.0 - (chroma - 15.0) / 30.0, 0.2, 1.0)
    agree = np.linalg.norm(medians[:, None, :] - medians[None, :, :], axis=2) < _SAME_BACKDROP
    votes = (agree & plain[None, :]).sum(axis=1) * lightness * neutral * plain
    chosen = agree[int(np.argmax(votes))] & plain
    start = np.isin(segment, np.flatnonzero(chosen))

    xn = xs / max(width - 1, 1) * 2.0 - 1.0
    yn = ys / max(height - 1, 1) * 2.0 - 1.0
    sides_seen = np.bincount(side[start], minlength=4) / np.maximum(1, np.bincount(side, minlength=4))
    # A quadratic needs the backdrop seen widely on three sides, a plane on two; seen less it would swing where
    # it was not seen (down a close-up's product, from a strip of backdrop along the top).
    if (sides_seen > 0.5).sum() >= 3:
        terms = 6
    elif (sides_seen > 0.5).sum() >= 2:
        terms = 3
    else:
        terms = 1
    design = _design(xn, yn, terms)
    keep = start
    coefficients = np.zeros((terms, 3))
    coefficients[0] = np.median(values[start], axis=0)
    # Iteratively trimmed least squares, starting from the voted segments, then refitted on the pixels of plain
    # segments near the current surface (a gradient's far end, first left out by the vote, joins; a textured
    # product's edge never does, so the surface cannot creep onto it). The small normal equations are solved
    # directly: far cheaper than lstsq.
    eligible = start | np.isin(segment, np.flatnonzero(plain))
    for _ in range(3):
        if keep.sum() < terms * 4:
            break
        kept = design[keep]
        try:
            coefficients = np.linalg.solve(kept.T @ kept, kept.T @ values[keep])
        except np.linalg.LinAlgError:
            break  # degenerate border (a few pixels wide image): keep the previous surface
        residual = np.linalg.norm(values - design @ coefficients, axis=1)
        keep = eligible & (residual < max(_BORDER_TOLERANCE * 0.5, float(np.median(residual[keep])) * 3.0))
    residual = np.linalg.norm(values - design @ coefficients, axis=1)
    fits = residual < _BORDER_TOLERANCE
    share = float(np.mean(fits))
    if share < _MIN_BACKDROP_SHARE:
        return None
    noise = float(np.median(residual[fits]))
    measured = np.median(rgb[ys[fits], xs[fits]].astype(np.float32), axis=0)
    red, green, blue = (int(v) for v in measured)
    # The surface is smooth, so evaluating it on a coarse grid and scaling up loses nothing and saves the cost
    # of six full-size multiply-adds per channel.
    grid_h, grid_w = min(height, 32), min(width, 32)
    gy, gx = np.meshgrid(np.linspace(-1.0, 1.0, grid_h), np.linspace(-1.0, 1.0, grid_w), indexing="ij")
    coarse = (_design(gx.ravel(), gy.ravel(), terms) @ coefficients).reshape(grid_h, grid_w, 3).astype(np.float32)
    model = cv2.resize(coarse, (width, height), interpolation=cv2.INTER_LINEAR)
    # The same surface in RGB for padding. The 8-bit Lab it was fitted in is off by up to a level in RGB; the
    # offset between the backdrop's measured median and the surface's median at the same pixels removes that,
    # so a flat backdrop pads with exactly its own colour.
    fitted = design[fits] @ coefficients
    offset = measured - np.median(_lab_to_rgb(fitted[None, :, :].astype(np.float32))[0], axis=0)
    rgb_grid = np.clip(_lab_to_rgb(coarse) + offset.astype(np.float32), 0.0, 255.0)
    return _Backdrop(model, coarse, share, noise, (red, green, blue), rgb_grid)


def _distances(lab: np.ndarray, model: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per pixel: the shadow-aware distance to the backdrop (darker neutral pixels count by chroma only) and the
    plain Lab distance. Both ``(H, W)`` float32."""
    delta = cv2.split(lab - model)
    d_light = delta[0]
    # OpenCV's magnitude is a few times faster than np.hypot on these float32 planes.
    d_chroma = cv2.magnitude(delta[1], delta[2])
    full = cv2.magnitude(d_light, d_chroma)
    # Shadow candidates: darker than the backdrop, not too dark, and of the backdrop's hue.
    shadow_like = (
        (d_light < 0)
        & (lab[..., 0] > model[..., 0] * SHADOW_MIN_RATIO)
        & (d_chroma < _SHADOW_CHROMA + _SHADOW_CHROMA_PER_L * -d_light)
    )
    return np.where(shadow_like, d_chroma, full), full


def _otsu(values: np.ndarray) -> float:
    """Otsu's threshold of non-negative distances, in the same units (via an 8-bit histogram of 0..64)."""
    scaled = np.clip(values * 4.0, 0, 255).astype(np.uint8)
    threshold, _ = cv2.threshold(scaled, 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)
    return float(threshold) / 4.0


def _hysteresis(distance: np.ndarray, threshold: float) -> np.ndarray:
    """Pixels above ``threshold``, plus the regions above ``_WEAK_SHARE`` of it that touch them."""
    strong = distance > threshold
    weak = (distance > threshold * _WEAK_SHARE).astype(np.uint8)
    count, labels = cv2.connectedComponents(weak, connectivity=8)
    if count <= 1:
        return strong
    anchored = np.zeros(count, dtype=bool)
    anchored[np.unique(labels[strong])] = True
    anchored[0] = False
    return anchored[labels]


def _fill_holes(mask: np.ndarray) -> np.ndarray:
    """Fill every region of False not connected to the image border."""
    height, width = mask.shape
    padded = np.zeros((height + 2, width + 2), dtype=np.uint8)
    padded[1:-1, 1:-1] = mask.astype(np.uint8) * 255
    flood = padded.copy()
    cv2.floodFill(flood, np.zeros((height + 4, width + 4), dtype=np.uint8), (0, 0), 128)
    return (flood[1:-1, 1:-1] != 128)


def _largest_components(mask: np.ndarray) -> np.ndarray:
    count, labels, stats, _ = cv2.connectedComponentsWithStats(mask.astype(np.uint8), connectivity=8)
    if count <= 1:
        return np.zeros_like(mask)
    areas = stats[1:, cv2.CC_STAT_AREA]
    keep = np.concatenate([[False], areas >= areas.max() * _KEEP_SHARE])
    return keep[labels]


def _fill_product_holes(
    mask: np.ndarray, distance: np.ndarray, full: np.ndarray, noise: float
) -> np.ndarray:
    """Fill the mask's holes, except those that show the backdrop (a handle's loop, the gap between straps).

    ``distance`` and ``full`` are the shadow-aware and the plain Lab distances to the backdrop model ``(H, W)``;
    ``noise`` the backdrop's noise level. A hole is backdrop when it is big enough to matter, its median plain
    distance is within the backdrop's own noise (a white sole or a cream print panel is a few units off, which is
    why this is much tighter than the product threshold), and most of it matches once a shadow falling into it
    (a handle's own shadow) is allowed for.
    """
    filled = _fill_holes(mask)
    holes = filled & ~mask
    if not holes.any():
        return filled
    count, labels, stats, _ = cv2.connectedComponentsWithStats(holes.astype(np.uint8), connectivity=4)
    tolerance = max(_HOLE_FLOOR, _HOLE_NOISE * noise)
    inside = labels[holes]
    areas = np.maximum(1, stats[:, cv2.CC_STAT_AREA])
    matching = np.bincount(inside, weights=distance[holes] < tolerance * 1.5, minlength=count) / areas
    candidates = (stats[:, cv2.CC_STAT_AREA] >= _HOLE_MIN_SHARE * mask.size) & (matching >= _HOLE_MATCH_SHARE)
    candidates[0] = False
    reopen = np.zeros(count, dtype=bool)
    for number in np.flatnonzero(candidates):
        reopen[number] = float(np.median(full[labels == number])) < tolerance
    return filled & ~reopen[labels]


def _confidence(
    mask: np.ndarray, distance: np.ndarray, edges: np.ndarray, threshold: float, backdrop_share: float
) -> float:
    """How clearly the product stands out, 0..1 (work resolution): the share of its outline on a colour step or
    an edge, its typical distance from the backdrop, and how much of the border showed the backdrop."""
    m = mask.astype(np.uint8)
    outline = (m > 0) & (cv2.erode(m, np.ones((3, 3), np.uint8), borderType=cv2.BORDER_REPLICATE) == 0)
    # The frame's own edge is not an outline the analysis had to find.
    outline[0, :] = outline[-1, :] = outline[:, 0] = outline[:, -1] = False
    if not outline.any():
        return 0.0
    near = np.ones((5, 5), np.uint8)
    stepped = (cv2.dilate(distance, near) - cv2.erode(distance, near)) > threshold
    supported = stepped | (cv2.dilate(edges.astype(np.uint8), near) > 0)
    on_edge = float(np.mean(supported[outline]))
    separation = float(np.clip((np.median(distance[mask]) / threshold - 1.0) / 2.0, 0.0, 1.0))
    seen = float(np.clip(backdrop_share / 0.5, 0.0, 1.0))
    return round(float((0.7 * on_edge + 0.3 * separation) * (0.5 + 0.5 * seen)), 3)


def _second_look(
    grey: np.ndarray,
    mask: np.ndarray,
    colour_fg: np.ndarray,
    distance: np.ndarray,
    full: np.ndarray,
    backdrop: _Backdrop,
    threshold: float,
    edges: np.ndarray,
    confidence: float,
) -> tuple[np.ndarray, np.ndarray, float]:
    """A doubtful mask looked at again with fainter edges, near what was found: ``(mask, edges, confidence)``.

    A white product on a white backdrop is found in fragments: its shaded folds are a darker, neutral version of
    the backdrop and count as shadow. Its outline, though, is a sharp step all round (a soft shadow's is not), just
    fainter than the first pass's Canny thresholds. Here the edges are taken at :data:`_FAINT_CANNY` within a margin
    around the fragments, closed over a wider gap and filled. The result is kept only when it holds what was found,
    stays clear of the picture's border and scores a higher confidence; otherwise the first mask stands.
    """
    box = mask_bbox(mask)
    if box is None:
        return mask, edges, confidence
    height, width = mask.shape
    left, top, right, bottom = box
    grow_x, grow_y = round((right - left) * _SECOND_LOOK_MARGIN), round((bottom - top) * _SECOND_LOOK_MARGIN)
    near = np.zeros_like(mask)
    near[max(0, top - grow_y) : bottom + grow_y, max(0, left - grow_x) : right + grow_x] = True
    faint = (cv2.Canny(grey, *_FAINT_CANNY) > 0) & near
    side = min(height, width)
    close_size = max(3, (side // 15) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (close_size, close_size))
    candidate = cv2.morphologyEx((mask | (colour_fg & near) | faint).astype(np.uint8), cv2.MORPH_CLOSE, kernel) > 0
    # Holes are filled outright: inside a white product's closed outline, its folds match the backdrop as closely
    # as a handle's loop would, so the backdrop-coloured-hole rule cannot tell them apart here.
    second = _fill_holes(_largest_components(candidate))
    second = cv2.morphologyEx(second.astype(np.uint8), cv2.MORPH_OPEN, np.ones((5, 5), np.uint8)) > 0
    border = np.concatenate([second[0], second[-1], second[:, 0], second[:, -1]])
    kept_share = float((second & mask).sum()) / max(1, int(mask.sum()))
    if kept_share < 0.9 or border.mean() > 0.05 or second.mean() > 0.6:
        return mask, edges, confidence
    again = _confidence(second, distance, edges | faint, threshold, backdrop.share)
    if again <= confidence:
        return mask, edges, confidence
    return second, edges | faint, again


def _whole(
    shape: tuple[int, int],
    background: tuple[int, int, int],
    reason: str,
    inset: int = 0,
    backdrop_grid: np.ndarray | None = None,
) -> ProductMask:
    return ProductMask(
        np.ones(shape, dtype=bool),
        found=False,
        background=background,
        reason=reason,
        confidence=0.0,
        inset=inset,
        backdrop_grid=backdrop_grid,
    )


def _median_rgb(pixels: np.ndarray) -> tuple[int, int, int]:
    """The per-channel median of ``(N, 3)`` 8-bit RGB pixels, as an RGB triple."""
    red, green, blue = (int(v) for v in np.median(pixels, axis=0))
    return red, green, blue


def _with_frame(values: np.ndarray, inset: int) -> np.ndarray:
    """A mask or matte of the picture inside the frame line, grown back to the whole image: the line takes the
    value of the pixel inside it (a product running off the edge runs over the line too)."""
    if not inset:
        return values
    return cv2.copyMakeBorder(values.astype(np.uint8) if values.dtype == bool else values, inset, inset, inset,
                              inset, cv2.BORDER_REPLICATE).astype(values.dtype)  # fmt: skip


def analyse_product(image: Image.Image | np.ndarray, second_look: bool = True) -> ProductMask:
    """Separate the product from a plain studio backdrop.

    ``image`` is a PIL image (any mode) or an array ``(H, W)``, ``(H, W, 3)`` or ``(H, W, 4)`` (uint8, or float
    in 0..1). An image with real transparency is masked by its alpha channel; an opaque one by the backdrop
    analysis above. Returns a :class:`ProductMask` with an ``(H, W)`` bool mask, its matte and a confidence.
    Takes 20-40 ms for a 1024 x 1024 shot on a 2-core CPU. Never raises for odd content: without a plain backdrop,
    or with nothing standing out from it, it returns the whole image with ``found=False`` and a reason.
    ``second_look`` False skips the second look at a doubtful mask (see :func:`_second_look`): the analysis of
    recipe version 2, which re-renders with it (``StyleOptions.mask_version``).
    """
    alpha = _alpha(image)
    if alpha is not None:
        mask = alpha >= 128
        if mask.mean() >= _MIN_PRODUCT_SHARE:
            # Transparent pixels have no colour worth sampling; cut-outs go on white, as load_image puts them.
            matte = alpha.astype(np.float32) / 255.0
            return ProductMask(mask, found=True, background=(255, 255, 255), alpha=matte)
    full_rgb = _as_rgb_array(image)
    full_h, full_w = full_rgb.shape[:2]
    if min(full_h, full_w) < 8:
        background = _median_rgb(full_rgb.reshape(-1, 3))
        return _whole((full_h, full_w), background, "The image is too small to find a product in.")
    inset = _frame_inset(full_rgb)
    rgb = full_rgb[inset : full_h - inset, inset : full_w - inset] if inset else full_rgb
    height, width = rgb.shape[:2]
    scale = min(1.0, _WORK_SIDE / max(height, width))
    work = rgb
    if scale < 1.0:
        size = (max(1, round(width * scale)), max(1, round(height * scale)))
        work = cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)
    lab = _lab(work)
    backdrop = _find_backdrop(lab, work)
    if backdrop is None:
        strip = max(1, round(min(work.shape[:2]) * _BORDER_FRACTION))
        edge = np.concatenate([work[:strip].reshape(-1, 3), work[-strip:].reshape(-1, 3)])
        background = _median_rgb(edge)
        return _whole((full_h, full_w), background, "The image has no plain background, so the whole image is used.",
                      inset=inset)  # fmt: skip
    grid = backdrop.rgb_grid

    distance, full = _distances(lab, backdrop.model)
    floor = max(_THRESHOLD_FLOOR, _THRESHOLD_NOISE * backdrop.noise)
    threshold = min(_THRESHOLD_MAX, max(floor, _otsu(distance)))
    colour_fg = _hysteresis(distance, threshold)

    grey = cv2.GaussianBlur(cv2.cvtColor(work, cv2.COLOR_RGB2GRAY), (3, 3), 0)
    edges = cv2.Canny(grey, _CANNY_LOW, _CANNY_HIGH) > 0
    side = min(lab.shape[:2])
    close_size = max(3, (side // 60) | 1)
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (close_size, close_size))
    candidate_u8 = (colour_fg | edges).astype(np.uint8)
    candidate = cv2.morphologyEx(candidate_u8, cv2.MORPH_CLOSE, kernel) > 0
    mask = _fill_product_holes(_largest_components(candidate), distance, full, backdrop.noise)
    # A small opening removes hairlines of edge pixels left dangling off the product (a thread, a crease in the
    # backdrop) without touching its body.
    mask = cv2.morphologyEx(mask.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)) > 0

    if mask.mean() < _MIN_PRODUCT_SHARE:
        return _whole((full_h, full_w), backdrop.background,
                      "Nothing stands out from the background (a white product on white?), so the whole image is "
                      "used.", inset=inset, backdrop_grid=grid)  # fmt: skip
    confidence = _confidence(mask, distance, edges, threshold, backdrop.share)
    if confidence < LOW_CONFIDENCE and second_look:
        mask, edges, confidence = _second_look(grey, mask, colour_fg, distance, full, backdrop, threshold, edges,
                                               confidence)  # fmt: skip
    matte = _with_frame(refine_matte(rgb, mask, grid, threshold, scale), inset)
    hard = matte >= 0.5
    if not hard.any():
        hard = _with_frame(cv2.resize(mask.astype(np.uint8), (width, height), interpolation=cv2.INTER_NEAREST) > 0,
                           inset)  # fmt: skip
    reason = ""
    if confidence < LOW_CONFIDENCE:
        reason = (f"The product's outline is uncertain (mask confidence {confidence:.2f}): check the mask, or use "
                  "a cut-out with transparency.")  # fmt: skip
    return ProductMask(hard, found=True, background=backdrop.background, reason=reason, confidence=confidence,
                       alpha=matte, outline=mask, threshold=threshold, inset=inset, backdrop_grid=grid)  # fmt: skip


def matte_at(found: ProductMask, image: Image.Image | np.ndarray) -> np.ndarray:
    """``found``'s product refined on ``image``, the same picture at another size (same aspect): ``(H, W)``
    float32 0..1.

    The decisions (where the backdrop is, which regions are product, which holes are backdrop, the confidence)
    stay those of ``found``; only the edge step runs again, at ``image``'s own resolution, so a 256 px preview
    and a 4096 px render of one picture get the same product with an edge as crisp as each size allows. All ones
    when nothing was found; a cut-out's alpha is resized.
    """
    rgb = _as_rgb_array(image)
    height, width = rgb.shape[:2]
    if found.alpha is None:
        return np.ones((height, width), np.float32)
    if found.alpha.shape == (height, width):
        return found.alpha
    if found.outline is None or found.backdrop_grid is None:
        how = cv2.INTER_AREA if width < found.alpha.shape[1] else cv2.INTER_LINEAR
        return np.clip(cv2.resize(found.alpha, (width, height), interpolation=how), 0.0, 1.0)
    # The frame line scales with the picture (a 1 px line in a 540 px photo is 2 px at 1080, half a pixel at 270).
    inset = min(2, round(found.inset * width / found.alpha.shape[1]))
    inner = rgb[inset : height - inset, inset : width - inset] if inset else rgb
    scale = found.outline.shape[1] / inner.shape[1]
    return _with_frame(refine_matte(inner, found.outline, found.backdrop_grid, found.threshold, scale), inset)


def product_mask(image: Image.Image | np.ndarray) -> np.ndarray:
    """The product's mask: ``(H, W)`` bool, True on the product (all True when none is found).

    See :func:`analyse_product` for the inputs accepted and for the ``found`` flag this short form drops.
    """
    return analyse_product(image).mask


def soft_mask(image_or_mask: Image.Image | np.ndarray, feather: float = 1.5) -> np.ndarray:
    """A feathered product mask: ``(H, W)`` float32 in 0..1.

    Pass an image (the mask is computed first) or a bool mask from :func:`product_mask`. ``feather`` is the
    Gaussian sigma in pixels of the full-size image; a pixel or two hides the staircase of a hard mask when a
    restyled product is blended back over its background. ``feather=0`` gives a hard 0/1 mask. This blurs the
    same amount everywhere; :func:`product_matte` is soft only where the product's edge is.
    """
    array = image_or_mask if isinstance(image_or_mask, np.ndarray) else None
    mask = array if array is not None and array.dtype == bool else product_mask(image_or_mask)
    soft: np.ndarray = mask.astype(np.float32)
    if feather > 0:
        soft = cv2.GaussianBlur(soft, (0, 0), sigmaX=float(feather))
    return np.clip(soft, 0.0, 1.0)


def mask_bbox(mask: np.ndarray) -> tuple[int, int, int, int] | None:
    """Bounding box ``(left, top, right, bottom)`` of the True pixels, right/bottom exclusive (PIL's convention).

    None when the mask is empty.
    """
    rows = np.flatnonzero(mask.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(mask.any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1]) + 1, int(rows[-1]) + 1


def product_matte(image: Image.Image | np.ndarray, second_look: bool = True) -> np.ndarray:
    """The product's refined matte: ``(H, W)`` float32 in 0..1, soft only as wide as the product's edge is soft.

    Unlike :func:`soft_mask`, which blurs the hard mask by a fixed amount everywhere, the matte follows the image:
    a crisp outline gives a one-pixel transition, a soft one (motion blur, fur) a wider one. All ones when no
    product is found (see :func:`analyse_product` for why, in its ``reason``).
    """
    result = analyse_product(image, second_look)
    if result.alpha is None:
        return result.mask.astype(np.float32)
    return result.alpha

"""The product mask a render uses, and what a render does when that mask is doubtful.

One analysis per picture, at a fixed resolution: the product is found (``core.masks.analyse_product``) on the
content brought to :data:`MASK_SIDE` px, whatever size the render is, and only the edge is refined at the output
size (``masks.matte_at``). A 256 px preview and a 1024 px render of one picture therefore protect the same product
and take the same decision below; before, each size found its own mask and a preview could show a product the
render cut differently.

:func:`doubtful_mask_fallback` is the one rule for a doubtful mask (confidence under ``masks.LOW_CONFIDENCE``)
that the command line, the Studio's preview and renders, and export restyles all follow: a "background only"
restyle the user did not ask for by name becomes a light whole-picture restyle with the product's colours kept,
because painting a wrong "background" would paint over the product. The sentence it returns says so and is
shown (Studio status line, CLI), recorded in the recipe (``fallback``) and written to an export's manifest.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Collection

import cv2
import numpy as np
from PIL import Image

from stylerec_desktop.core import masks
from stylerec_desktop.core.stylize.cache import RenderCache
from stylerec_desktop.core.stylize.options import StyleOptions

log = logging.getLogger(__name__)

# The analysis runs on the content with its longest side at this many pixels: the mask analysis's own working
# size (``masks._WORK_SIDE``), and the working resolution of the default style scale, so the two share one copy.
MASK_SIDE = 512
# Under a doubtful mask, a pixel this far (CIE76 Lab) from the backdrop model is not surely backdrop and is kept: a
# few times the backdrop's JPEG noise and gradient residue, well under a product's usual step from it.
_CLEAR_BACKDROP = 6.0


def working_copy(content: Image.Image, side: int, cache: RenderCache) -> Image.Image:
    """``content`` prepared for rendering with its longest side ``side`` px (``stylize.prepare_content``), once
    per cache."""
    from stylerec_desktop.core.stylize import prepare_content  # the package imports this module

    return cache.get(("working", side), lambda: prepare_content(content, side))


def product_analysis(content: Image.Image, cache: RenderCache | None = None) -> masks.ProductMask:
    """The product found on ``content`` at :data:`MASK_SIDE` px (once per cache): mask, matte, confidence."""
    cache = cache or RenderCache(content)
    return cache.get(("analysis",), lambda: masks.analyse_product(working_copy(content, MASK_SIDE, cache)))


def product_matte(content: Image.Image, picture: Image.Image, cache: RenderCache | None = None) -> np.ndarray:
    """The product's matte ``[H, W]`` float32 0..1 on ``picture`` (``content`` at some size), from the one analysis
    of ``content``; once per cache and size."""
    cache = cache or RenderCache(content)
    analysis = product_analysis(content, cache)
    return cache.get(("matte", picture.size), lambda: masks.matte_at(analysis, picture))


def protected_matte(content: Image.Image, picture: Image.Image, cache: RenderCache | None = None) -> np.ndarray:
    """What a background-only restyle keeps of ``picture`` (``content`` at some size): ``[H, W]`` float32 0..1.

    The product's matte; and when the mask is doubtful (a look or a mask chosen by name keeps background-only on
    such a picture), also every pixel that is not clearly the backdrop (Lab distance to the backdrop model over
    :data:`_CLEAR_BACKDROP`) and the convex hull of the parts found and what stands out beside them, grown a little
    and softened, so the look paints only what is surely backdrop and keeps the product where the mask is unsure.
    Without a backdrop model nothing is clearly backdrop: all ones."""
    cache = cache or RenderCache(content)
    analysis = product_analysis(content, cache)
    matte = product_matte(content, picture, cache)
    if analysis.found and analysis.confidence >= masks.LOW_CONFIDENCE:
        return matte
    if analysis.backdrop_grid is None:
        return np.ones_like(matte)

    def unsure() -> np.ndarray:
        working = np.asarray(working_copy(content, MASK_SIDE, cache))
        height, width = working.shape[:2]
        model = analysis.backdrop_at(np.arange(width), np.arange(height))
        model8 = np.clip(model + 0.5, 0, 255).astype(np.uint8)
        lab, lab_model = (cv2.cvtColor(a, cv2.COLOR_RGB2LAB).astype(np.float32) for a in (working, model8))
        lab[..., 0] *= 100.0 / 255.0  # OpenCV's 8-bit L runs 0..255
        lab_model[..., 0] *= 100.0 / 255.0
        far = (np.linalg.norm(lab - lab_model, axis=2) > _CLEAR_BACKDROP).astype(np.uint8)
        far = cv2.morphologyEx(far, cv2.MORPH_OPEN, np.ones((3, 3), np.uint8))  # noise specks are backdrop
        # A doubtful mask is often in fragments where the product meets the backdrop in colour (white folds on
        # white), with its outline and shadow standing out around them: the convex hull of the fragments and of
        # whatever stands out touching them is kept as well.
        found = analysis.mask.astype(np.uint8)
        reach = cv2.dilate(found, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (21, 21)))
        count, labels = cv2.connectedComponents(found | far.astype(np.uint8))
        touching = np.zeros(count, dtype=bool)
        touching[labels[reach > 0]] = True
        touching[0] = False
        points = cv2.findNonZero((touching[labels] | (found > 0)).astype(np.uint8))
        if points is not None:
            cv2.fillConvexPoly(far, cv2.convexHull(points), 1)
        far = cv2.dilate(far, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (5, 5)))
        return cv2.GaussianBlur(far.astype(np.float32), (0, 0), 1.5)

    kept = cache.get(("unsure",), unsure)
    how = cv2.INTER_AREA if picture.width < kept.shape[1] else cv2.INTER_LINEAR
    return np.maximum(matte, np.clip(cv2.resize(kept, picture.size, interpolation=how), 0.0, 1.0))


def doubtful_mask_fallback(
    content: Image.Image, options: StyleOptions, given: Collection[str] = (), cache: RenderCache | None = None
) -> tuple[StyleOptions, str]:
    """``options`` for rendering ``content``, and a sentence when a doubtful product mask changed them ("" else).

    Applies only to a "background only" restyle with a style scale (recipe version 2) whose mask the user did not
    choose by name: ``given`` names the settings the user set (``"mask"``, ``"strength"``, ``"preserve_colour"``);
    a given mask is kept as it is, a given strength or colour choice is kept in the fallback. The fallback is the
    "Subtle texture" setting: whole picture, strength ``looks.SAFE_PRODUCT_RESTYLE_STRENGTH``, colours kept.
    """
    from stylerec_desktop.core.stylize.looks import SAFE_PRODUCT_RESTYLE_STRENGTH  # looks reads this module back

    if "mask" in given or options.mask != "background" or options.style_scale is None or options.strength == 0.0:
        return options, ""
    found = product_analysis(content, cache)
    if found.found and found.confidence >= masks.LOW_CONFIDENCE:
        return options, ""
    changed: dict[str, object] = {"mask": "all"}
    if "strength" not in given:
        changed["strength"] = SAFE_PRODUCT_RESTYLE_STRENGTH
    if "preserve_colour" not in given:
        changed["preserve_colour"] = True
    safe = dataclasses.replace(options, **changed)  # type: ignore[arg-type]
    why = f"mask confidence {found.confidence:.2f}" if found.found else "no product found"
    log.info("%s under %.2f for a %dx%d picture: restyling the whole picture lightly instead of the background",
             why, masks.LOW_CONFIDENCE, *content.size)  # fmt: skip
    colours = "colours kept" if safe.preserve_colour else "colours from the style"
    return safe, (f"The product's outline is uncertain here ({why}), so the whole picture was restyled lightly "
                  f"(strength {safe.strength:g}, {colours}) instead of the background only; choose a mask to decide "
                  "yourself.")  # fmt: skip

"""How true a render stayed to the product: measured on every render, stored in its recipe, and used by export to
refuse or flag renders below a threshold.

Three numbers, against the original picture at the render's size (both measured at most ``MEASURE_SIDE`` px on the
longer side, so the figures do not depend on the output size):

- ``product_delta_e``: mean CIEDE2000 inside the product mask (0 = the product's colours unchanged; about 1 is just
  noticeable, 10 a clearly different shade, 25 and up a different colour).
- ``product_edge_ssim``: SSIM of the luminance edge maps (gradient magnitude) inside the product mask, at least
  the SSIM window's radius (5 px) from its outline, so a restyled backdrop beside an untouched product does not
  count as lost structure (1 = every seam and print where and as strong as it was; strokes painted over the print
  lower it).
- ``background_change``: mean CIEDE2000 outside the product mask (how much the rest of the picture changed).

All three are None when there is no product mask (no product found, so "the product" would be the whole frame).
``product_fidelity`` folds the first two into one 0..1 figure for a threshold: the edge SSIM (floored at 0) times
``1 - delta_e / 25`` (floored at 0): a render that keeps every edge but turns the product another colour (ΔE 25)
scores 0, as does one that keeps the colour but paints over the structure.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image

from stylerec_desktop.core import masks
from stylerec_desktop.core.stylize.metrics import delta_e_map, luminance, ssim_map

MEASURE_SIDE = 512
# Radius of SSIM's 11 x 11 window: edge SSIM is averaged only where the whole window lies on the product.
_SSIM_RADIUS = 5
# ΔE at which the colour factor of product_fidelity reaches 0: a different colour, not a shade of the same one.
_DIFFERENT_COLOUR = 25.0


@dataclass(frozen=True)
class Fidelity:
    """A render's fidelity to its product (see the module docstring); every field None without a product mask."""

    product_delta_e: float | None
    product_edge_ssim: float | None
    background_change: float | None

    @property
    def product_fidelity(self) -> float | None:
        """One 0..1 figure: edge SSIM x colour factor (None without a product mask)."""
        if self.product_delta_e is None or self.product_edge_ssim is None:
            return None
        colour = max(0.0, 1.0 - self.product_delta_e / _DIFFERENT_COLOUR)
        return max(0.0, self.product_edge_ssim) * colour

    def to_dict(self) -> dict[str, float | None]:
        """JSON-ready, rounded to 4 decimals (``product_fidelity`` included)."""

        def rounded(value: float | None) -> float | None:
            return None if value is None else round(float(value), 4)

        return {
            "product_delta_e": rounded(self.product_delta_e),
            "product_edge_ssim": rounded(self.product_edge_ssim),
            "background_change": rounded(self.background_change),
            "product_fidelity": rounded(self.product_fidelity),
        }


NO_PRODUCT = Fidelity(None, None, None)


def edge_map(rgb: np.ndarray) -> np.ndarray:
    """Luminance gradient magnitude of ``[H, W, 3]`` uint8 RGB: ``[H, W]`` float64, in 8-bit levels per pixel
    (Sobel divided by its weight 4, so a one-pixel step of 255 levels reads about 255)."""
    grey = luminance(rgb)
    gx = cv2.Sobel(grey, cv2.CV_64F, 1, 0, ksize=3) / 4.0
    gy = cv2.Sobel(grey, cv2.CV_64F, 0, 1, ksize=3) / 4.0
    return np.hypot(gx, gy)


def measure_fidelity(original: np.ndarray, render: np.ndarray, product: np.ndarray | None) -> Fidelity:
    """Fidelity of ``render`` to ``original`` (both ``[H, W, 3]`` uint8 RGB, one size) given the product mask
    ``product`` (``[H, W]`` bool, True on the product; None, empty or all-True: no product mask -> all None)."""
    if original.shape != render.shape:
        raise ValueError(f"original {original.shape} and render {render.shape} differ in size")
    if product is None or not product.any() or product.all():
        return NO_PRODUCT
    if product.shape != original.shape[:2]:
        raise ValueError(f"product mask {product.shape} does not match the pictures {original.shape[:2]}")
    delta_e = delta_e_map(original, render)
    edges = ssim_map(edge_map(original), edge_map(render), data_range=255.0)
    window = np.ones((2 * _SSIM_RADIUS + 1, 2 * _SSIM_RADIUS + 1), np.uint8)
    interior = cv2.erode(product.astype(np.uint8), window, borderType=cv2.BORDER_REPLICATE) > 0
    if not interior.any():  # a product thinner than the window (a strap, a chain): use all of it
        interior = product
    return Fidelity(
        product_delta_e=float(delta_e[product].mean()),
        product_edge_ssim=float(edges[interior].mean()),
        background_change=float(delta_e[~product].mean()),
    )


def render_fidelity(content: Image.Image, render: Image.Image) -> Fidelity:
    """Fidelity of a finished ``render`` to its ``content`` (any size; brought to the render's, then both to at
    most ``MEASURE_SIDE`` px). The product is found automatically (``masks.analyse_product``); when it cannot be,
    the result is :data:`NO_PRODUCT`."""
    from stylerec_desktop.core.stylize import prepare_content  # the package imports this module's neighbours

    width, height = render.size
    scale = min(1.0, MEASURE_SIDE / max(width, height))
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    original = np.asarray(prepare_content(content, None).resize(size, Image.Resampling.LANCZOS))
    result = np.asarray(render.convert("RGB").resize(size, Image.Resampling.LANCZOS))
    found = masks.analyse_product(original)
    if not found.found:
        return NO_PRODUCT
    return measure_fidelity(original, result, found.mask)

"""A textured plate for "background only" renders, so a plain studio backdrop comes out as a designed surface rather
than horizontal colour bands with a halo around the product.

Why the networks band: both normalise every feature map by its own mean and standard deviation (instance norm).
On a near-uniform backdrop that deviation is tiny, so whatever faint structure is there gets stretched to full
contrast. A studio sweep is a gentle vertical gradient stored in 8 bits, i.e. a staircase of one-level steps tens of
rows tall: after normalisation each step becomes a band, painted across the whole width. Near the product the
strongest structure is the product's outline, which the network echoes outwards as halos in the style's colours.

The fix: give the network something isotropic to paint and keep the product out of its sight. The plate is the
backdrop's smooth shape (its gradient and the soft shadow, estimated from the background pixels only, so the
product's colours do not leak into it) plus a band-limited noise texture a few times stronger than the 8-bit steps.
It is made at the style scale's working resolution from the seed, so the preview and the render get the same plate;
the stylized plate is then laid under the untouched product by the usual mask compositing.
"""

from __future__ import annotations

import cv2
import numpy as np

# Smoothing of the backdrop's shape, as a share of the working picture's longest side: broad enough to bridge the
# product's silhouette, narrow enough to keep a vignette and the shadow's position.
_SHAPE_SIGMA = 1.0 / 16.0
# The product mask is grown by this share of the side before the backdrop is sampled, so anti-aliased edge pixels
# (a blend of product and backdrop) do not tint the plate.
_GROW = 1.0 / 64.0
# Texture: octaves of blurred white noise (sigmas in working pixels), summed with these weights, scaled to this
# standard deviation (0..1 units; 0.04 is about 10 levels, several times the one-level steps that cause bands).
_OCTAVES = ((1.5, 0.35), (4.0, 0.4), (12.0, 0.25))
_TEXTURE_STD = 0.04


def _texture(shape: tuple[int, int], seed: int) -> np.ndarray:
    """Isotropic band-limited noise ``[H, W]`` float32 with zero mean and std ``_TEXTURE_STD``."""
    rng = np.random.default_rng(seed)
    field = np.zeros(shape, np.float32)
    for sigma, weight in _OCTAVES:
        octave = cv2.GaussianBlur(rng.standard_normal(shape).astype(np.float32), (0, 0), sigma)
        field += weight * octave / max(float(octave.std()), 1e-6)
    field -= field.mean()
    return field * (_TEXTURE_STD / max(float(field.std()), 1e-6))


def backdrop_plate(picture: np.ndarray, product: np.ndarray, seed: int = 0) -> np.ndarray:
    """The plate to stylize in place of ``picture`` for a background-only render.

    ``picture``: ``[H, W, 3]`` uint8 RGB (the working-resolution content); ``product``: ``[H, W]`` bool, True on
    the product. Returns ``[H, W, 3]`` uint8: the backdrop's smooth colour everywhere (under the product too) plus a
    grey texture made from ``seed``. A product mask covering everything (none found) gives the mean colour.
    """
    height, width = picture.shape[:2]
    side = max(height, width)
    grow = max(1, round(side * _GROW))
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * grow + 1, 2 * grow + 1))
    background = (cv2.dilate(product.astype(np.uint8), kernel) == 0).astype(np.float32)
    colour = picture.astype(np.float32) / 255.0
    if background.sum() < 16:
        background = np.ones_like(background)
    # Normalised convolution: a blur of the background pixels divided by a blur of their weights fills the
    # product's place with the surrounding backdrop's colour and leaves the backdrop's own shape (gradient, shadow).
    sigma = side * _SHAPE_SIGMA
    weight = cv2.GaussianBlur(background, (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
    blurred = cv2.GaussianBlur(colour * background[..., None], (0, 0), sigma, borderType=cv2.BORDER_REFLECT)
    mean = (colour * background[..., None]).sum(axis=(0, 1)) / background.sum()
    shape = np.where(weight[..., None] > 1e-3, blurred / np.maximum(weight, 1e-3)[..., None], mean)
    plate = shape + _texture((height, width), seed)[..., None]
    return (np.clip(plate, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)

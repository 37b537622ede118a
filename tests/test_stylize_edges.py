"""A product laid over a new, darker backdrop keeps no pale fringe of the old one (the soft edge is decontaminated)."""

from __future__ import annotations

import numpy as np
from PIL import Image

from stylerec_desktop.core.stylize import _apply_mask


def _disc_on_white(size: int = 96) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A dark red disc with an anti-aliased (4x supersampled) edge on a white backdrop: (picture, coverage, red)."""
    yy, xx = (np.mgrid[0 : size * 4, 0 : size * 4] + 0.5) / 4.0
    inside = ((yy - size / 2) ** 2 + (xx - size / 2) ** 2 < (size / 3) ** 2).astype(np.float32)
    alpha = inside.reshape(size, 4, size, 4).mean(axis=(1, 3))
    red = np.array([150.0, 20.0, 30.0], np.float32)
    picture = alpha[..., None] * red + (1.0 - alpha[..., None]) * 250.0
    return np.clip(picture + 0.5, 0, 255).astype(np.uint8), alpha, red


def test_the_soft_edge_on_a_dark_backdrop_has_no_pale_fringe() -> None:
    picture, alpha, red = _disc_on_white()
    dark = np.full_like(picture, 20)
    ideal = alpha[..., None] * red + (1.0 - alpha[..., None]) * 20.0  # the disc shot on the dark backdrop
    edge = (alpha > 0.05) & (alpha < 0.95)
    assert edge.sum() > 50
    plain = np.asarray(_apply_mask(Image.fromarray(picture), Image.fromarray(dark), alpha, "background"))
    swapped = np.asarray(_apply_mask(Image.fromarray(picture), Image.fromarray(dark), alpha, "background",
                                     decontaminate=True))  # fmt: skip
    plain_error = np.abs(plain.astype(np.float32) - ideal)[edge].mean(axis=1)
    swapped_error = np.abs(swapped.astype(np.float32) - ideal)[edge].mean(axis=1)
    assert plain_error.max() > 40  # the blend keeps a quarter of the white backdrop where alpha is 0.5
    assert swapped_error.max() < 3
    # Away from the edge nothing changes: the product exactly as shot, the backdrop exactly as restyled.
    assert np.array_equal(swapped[alpha == 1.0], picture[alpha == 1.0])
    assert np.array_equal(swapped[alpha == 0.0], dark[alpha == 0.0])

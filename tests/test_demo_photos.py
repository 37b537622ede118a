"""The photograph-like shot generator and the demo's true product coverage: the truths the mask figures rest on."""

from __future__ import annotations

import numpy as np
import pytest

from stylerec_desktop.core.demo.assortment import plan_assortment, product_coverage, render_product
from stylerec_desktop.core.demo.photos import BORDER_DARKER, KINDS, photo_set, photo_shot


def test_same_seed_same_pixels_and_every_kind_in_six() -> None:
    first, again = photo_shot(42), photo_shot(42)
    assert np.array_equal(first.image, again.image) and np.array_equal(first.alpha, again.alpha)
    assert not np.array_equal(photo_shot(43, first.kind).image, first.image)
    assert sorted(shot.kind for shot in photo_set(6)) == sorted(KINDS)
    with pytest.raises(ValueError, match="unknown kind"):
        photo_shot(1, "hat")


@pytest.mark.parametrize("kind", KINDS)
def test_each_kind_has_its_condition(kind: str) -> None:
    shot = photo_shot(7, kind)
    height, width = shot.image.shape[:2]
    assert (width, height) == (360, 540)  # 2:3 portrait
    share = shot.mask.mean()
    edges_touched = sum(bool(e.any()) for e in (shot.mask[0], shot.mask[-1], shot.mask[:, 0], shot.mask[:, -1]))
    if kind == "small":
        assert 0.03 < share < 0.07 and edges_touched == 0
    elif kind == "close_up":
        assert edges_touched >= 2 and share > 0.5
    else:
        assert edges_touched == 0
    if kind in ("bag", "strappy"):  # enclosed backdrop: holes inside the product's outline
        from scipy import ndimage

        assert (ndimage.binary_fill_holes(shot.mask) & ~shot.mask).sum() > 0.005 * shot.mask.size
    if kind == "white":
        product = shot.image[shot.mask].astype(float).mean(0)
        assert product.min() > 200  # a white product on the off-white backdrop
    # The true backdrop is off-white, darker toward the corners (vignette).
    clean = shot.backdrop
    assert clean.min() > 200 and clean[height // 2, width // 2].mean() > clean[0, 0].mean()


def test_the_frame_line_is_about_17_levels_darker_than_the_backdrop() -> None:
    shot = next(s for s in (photo_shot(seed, "garment", quality=95) for seed in range(10)) if s.border)
    line = shot.image[0, 20:-20].astype(float).mean()
    inside = shot.image[6, 20:-20].astype(float).mean()
    assert inside - line == pytest.approx(BORDER_DARKER, abs=4)


def test_demo_coverage_is_where_the_drawn_product_is() -> None:
    spec = plan_assortment(7, 40)[5]
    shot = render_product(spec, 7).astype(float)
    truth = product_coverage(spec, 7) >= 0.5
    assert 0.1 < truth.mean() < 0.8
    # Far outside the product the shot is the plain sweep (a vertical gradient: same colour along each row).
    from scipy import ndimage

    far = ~ndimage.binary_dilation(truth, iterations=40)
    rows = np.nonzero(far.all(axis=1))[0]
    assert len(rows) and np.ptp(shot[rows[0]], axis=0).max() <= 1
    # Inside, the product differs from that sweep clearly on most pixels.
    sweep = shot[rows[0]].mean(0)
    assert (np.abs(shot[truth] - sweep).sum(axis=1) > 30).mean() > 0.7

"""Automatic product masks on studio shots drawn with a known ground truth."""

from __future__ import annotations

import time

import numpy as np
import pytest
from _scenes import bottle_on_backdrop, full_bleed, gradient_backdrop, iou, white_mug
from PIL import Image, ImageDraw

from stylerec_desktop.core.masks import analyse_product, mask_bbox, product_mask, soft_mask


@pytest.mark.parametrize(
    "colour",
    [(200, 40, 60), (120, 120, 122), (25, 25, 25), (40, 90, 210)],
    ids=["red", "grey-like-the-shadow", "black", "blue"],
)
def test_product_with_soft_floor_shadow_on_white(colour: tuple[int, int, int]) -> None:
    image, truth = bottle_on_backdrop(colour=colour)
    result = analyse_product(image)
    assert result.found
    assert iou(result.mask, truth) > 0.95
    # The shadow spreads 40+ px beyond the product on both sides and below it; none of it may join the mask.
    left, top, right, bottom = mask_bbox(result.mask)
    t_left, t_top, t_right, t_bottom = mask_bbox(truth)
    assert abs(left - t_left) <= 4 and abs(right - t_right) <= 4 and abs(bottom - t_bottom) <= 4
    assert result.background == (255, 255, 255)


def test_white_mug_with_grey_outline_on_off_white() -> None:
    image, truth = white_mug()
    result = analyse_product(image)
    assert result.found
    assert iou(result.mask, truth) > 0.97
    assert result.mask[500, 490]  # inside the white body, a few units brighter than the backdrop
    assert not result.mask[510, 655]  # the handle's hole shows the backdrop: background, not product


def test_white_product_without_outline_on_white_falls_back_to_the_whole_image() -> None:
    image, _ = bottle_on_backdrop(colour=(253, 253, 253), shadow=0.0)
    result = analyse_product(image)
    assert not result.found
    assert result.mask.all()
    assert "white" in result.reason


def test_full_bleed_photo_has_no_plain_background_and_is_flagged() -> None:
    result = analyse_product(full_bleed())
    assert not result.found
    assert result.mask.all() and result.mask.shape == (1024, 1024)
    assert "no plain background" in result.reason


def test_gradient_and_vignetted_backdrop() -> None:
    backdrop = Image.fromarray(gradient_backdrop())
    truth_img = Image.new("L", backdrop.size, 0)
    ImageDraw.Draw(truth_img).ellipse([300, 250, 720, 830], fill=255)
    backdrop.paste(Image.new("RGB", backdrop.size, (90, 150, 80)), mask=truth_img)
    result = analyse_product(backdrop)
    assert result.found
    assert iou(result.mask, np.asarray(truth_img) > 127) > 0.95


def test_product_running_off_the_bottom_of_the_frame() -> None:
    image, truth = bottle_on_backdrop(shift=(0, 300))  # the lower 60 px of the product are cut off by the frame
    result = analyse_product(image)
    assert result.found
    assert iou(result.mask, truth) > 0.9


def test_a_pair_keeps_both_products_and_drops_dust() -> None:
    image = Image.new("RGB", (800, 600), (250, 250, 250))
    truth = Image.new("L", image.size, 0)
    draw = ImageDraw.Draw(truth)
    draw.ellipse([100, 200, 350, 450], fill=255)
    draw.ellipse([420, 210, 680, 460], fill=255)
    image.paste(Image.new("RGB", image.size, (30, 60, 160)), mask=truth)
    ImageDraw.Draw(image).rectangle([700, 50, 702, 52], fill=(0, 0, 0))  # a speck of dust on the backdrop
    mask = product_mask(image)
    assert iou(mask, np.asarray(truth) > 127) > 0.95
    assert not mask[51, 701]


def test_accepts_arrays_of_every_usual_kind() -> None:
    image, truth = bottle_on_backdrop(size=512)
    rgb = np.asarray(image)
    rgba = np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)])
    for variant in (rgb, rgba, rgb.astype(np.float32) / 255.0, image.convert("RGBA")):
        assert iou(product_mask(variant), truth) > 0.95
    grey = np.asarray(image.convert("L"))
    assert product_mask(grey).shape == grey.shape
    tiny = analyse_product(np.zeros((4, 4, 3), np.uint8))
    assert not tiny.found and tiny.mask.shape == (4, 4)


def test_transparent_cut_out_is_masked_by_its_alpha() -> None:
    _, truth = bottle_on_backdrop(size=512)
    cut_out = np.zeros((512, 512, 4), np.uint8)  # transparent black everywhere, as many PNG exporters write it
    cut_out[truth] = (250, 250, 250, 255)  # a white product: hopeless by colour, exact by alpha
    for variant in (cut_out, Image.fromarray(cut_out, "RGBA")):
        result = analyse_product(variant)
        assert result.found and iou(result.mask, truth) == 1.0
        assert result.background == (255, 255, 255)


def test_soft_mask_is_a_feathered_version_of_the_hard_one() -> None:
    image, _ = bottle_on_backdrop(size=512)
    hard = product_mask(image)
    soft = soft_mask(image, feather=2.0)
    assert soft.dtype == np.float32 and soft.shape == hard.shape
    assert soft.min() >= 0.0 and soft.max() <= 1.0
    assert np.all(soft[hard] > 0.0) and soft[256, 256] == pytest.approx(1.0)
    assert soft[5, 5] == pytest.approx(0.0)
    edge_values = soft[(soft > 0.01) & (soft < 0.99)]
    assert edge_values.size > 0  # really feathered
    assert np.array_equal(soft_mask(hard, feather=0) > 0.5, hard)


def test_mask_bbox() -> None:
    mask = np.zeros((50, 80), dtype=bool)
    assert mask_bbox(mask) is None
    mask[10:20, 30:45] = True
    assert mask_bbox(mask) == (30, 10, 45, 20)


@pytest.mark.timing
def test_fast_enough_for_1024_px() -> None:
    image, _ = bottle_on_backdrop()
    pixels = np.asarray(image)
    analyse_product(pixels)
    best = min(_timed(lambda: analyse_product(pixels)) for _ in range(5))
    # About 48 ms measured on the 2-core box at load 2 (23 ms before the full-resolution matting, same run);
    # the bound is looser because test runs share the machine with other jobs.
    assert best < 0.1


def _timed(action) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    action()
    return time.perf_counter() - start

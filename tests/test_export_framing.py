"""Product-aware framing: the product stays whole, centred, clear of the edges, in every ad format."""

from __future__ import annotations

import math
from dataclasses import replace

import numpy as np
import pytest
from _scenes import bottle_on_backdrop, full_bleed, gradient_backdrop
from PIL import Image, ImageDraw

from stylerec_desktop.core.export.framing import frame_for_preset, frame_product
from stylerec_desktop.core.export.presets import BUILTIN_PRESETS
from stylerec_desktop.core.masks import analyse_product, mask_bbox


def _shot(box: tuple[int, int, int, int], size: tuple[int, int] = (1024, 1024)) -> Image.Image:
    image = Image.new("RGB", size, (244, 242, 238))
    ImageDraw.Draw(image).rounded_rectangle(box, radius=12, fill=(30, 90, 170))
    return image


SHOTS = {
    "tall-bottle": (430, 120, 600, 900),
    "wide-sofa": (60, 420, 980, 700),
    "small-ring": (480, 480, 560, 540),
    "off-centre": (40, 600, 360, 990),
    "touching-edge": (700, 300, 1024, 800),
}


@pytest.mark.parametrize("preset_name", list(BUILTIN_PRESETS))
@pytest.mark.parametrize("shot", list(SHOTS))
def test_product_whole_centred_and_inside_every_frame(preset_name: str, shot: str) -> None:
    preset = BUILTIN_PRESETS[preset_name]
    framed = frame_for_preset(_shot(SHOTS[shot]), preset)
    assert framed.image.size == (preset.width, preset.height) and framed.image.mode == "RGB"
    left, top, right, bottom = framed.product_box
    margin_x, margin_y = preset.margin * preset.width, preset.margin * preset.height
    assert left >= margin_x - 2 and right <= preset.width - margin_x + 2
    assert top >= margin_y - 2 and bottom <= preset.height - margin_y + 2
    assert abs((left + right) / 2 - preset.width / 2) <= 2
    assert abs((top + bottom) / 2 - preset.height / 2) <= 2
    # The product really is where the box says: find it again in the output pixels (the mask works at 512 px,
    # so its own error grows with the frame size; a pixel of the source's mask is ``scale`` pixels out here).
    found = mask_bbox(analyse_product(framed.image).mask)
    assert found is not None
    tolerance = max(3, 2 * max(preset.width, preset.height) // 512, math.ceil(framed.scale) + 1)
    assert all(abs(a - b) <= tolerance for a, b in zip(found, framed.product_box, strict=True))
    if "upscale_limited" not in [w.code for w in framed.warnings]:
        # Not limited by enlargement: the product fills the frame on its limiting axis, however much it took.
        fill_x = (right - left) / (preset.width * (1 - 2 * preset.margin))
        fill_y = (bottom - top) / (preset.height * (1 - 2 * preset.margin))
        assert max(fill_x, fill_y) == pytest.approx(1.0, abs=0.01)


def test_upscale_is_limited_with_a_warning_and_padding() -> None:
    image = _shot((90, 80, 130, 150), size=(200, 200))
    framed = frame_product(image, 1080, 1080, margin=0.1, max_upscale=1.5)
    assert framed.scale == 1.5
    assert [w.code for w in framed.warnings] == ["upscale_limited"]
    assert "1.5x" in framed.warnings[0].message
    # The 200 px source shows 300 px wide in the middle; the rest is padding in the backdrop colour.
    pixels = np.asarray(framed.image)
    assert tuple(pixels[5, 5]) == (244, 242, 238) and tuple(pixels[540, 540]) == (30, 90, 170)
    left, top, right, bottom = framed.product_box
    # PIL draws the rectangle's end pixels too: 41 x 71 source pixels; the mask may add one pixel per side.
    assert right - left == pytest.approx(41 * 1.5, abs=4) and bottom - top == pytest.approx(71 * 1.5, abs=4)


def test_padding_colour_is_sampled_or_chosen() -> None:
    image, _ = bottle_on_backdrop(backdrop=(230, 236, 245))
    story = replace(BUILTIN_PRESETS["story"], max_upscale=1.5)  # limited, so the frame is padded
    sampled = frame_for_preset(image, story)
    assert tuple(np.asarray(sampled.image)[3, 3]) == (230, 236, 245)
    chosen = frame_for_preset(image, story, background=(255, 0, 255))
    assert tuple(np.asarray(chosen.image)[3, 3]) == (255, 0, 255)


def test_padding_continues_a_gradient_backdrop_without_a_seam() -> None:
    backdrop = Image.fromarray(gradient_backdrop())
    ImageDraw.Draw(backdrop).ellipse([300, 222, 724, 802], fill=(90, 150, 80))  # centred in the source
    pixels = {}
    for mode, colour in (("continued", None), ("flat", (236, 235, 232))):
        framed = frame_for_preset(backdrop, replace(BUILTIN_PRESETS["story"], max_upscale=1.5), background=colour)
        pixels[mode] = np.asarray(framed.image).astype(int)
    # The 1024 px source shows 1536 px tall in the 1920 px story, from about row 192: the largest step
    # between neighbouring rows around either edge of the source is the seam.
    def seam(image: np.ndarray, row: int) -> int:
        return int(np.abs(np.diff(image[row - 8 : row + 8], axis=0)).max())

    assert seam(pixels["flat"], 192) > 8  # the test can see a seam when there is one
    assert seam(pixels["continued"], 192) <= 3 and seam(pixels["continued"], 192 + 1536) <= 3


def test_a_product_cut_by_the_source_edge_is_not_smeared_into_the_padding() -> None:
    image, _ = bottle_on_backdrop(colour=(200, 40, 60), shift=(0, 300))
    framed = frame_for_preset(image, BUILTIN_PRESETS["story"])
    pixels = np.asarray(framed.image)
    left, _, right, bottom = framed.product_box
    below = pixels[bottom + 5 :, left:right].reshape(-1, 3).astype(int)
    assert below.size and np.abs(below - np.array([255, 255, 255])).max() <= 3  # backdrop white, not red streaks


def test_soft_shadow_does_not_shrink_the_product() -> None:
    image, truth = bottle_on_backdrop()
    framed = frame_for_preset(image, BUILTIN_PRESETS["square"])
    left, top, right, bottom = framed.product_box
    t_left, t_top, t_right, t_bottom = mask_bbox(truth)
    assert (bottom - top) / (t_bottom - t_top) == pytest.approx(framed.scale, rel=0.02)
    assert bottom - top == pytest.approx(1080 * 0.84, abs=6)


def test_without_a_product_the_whole_picture_is_fitted() -> None:
    framed = frame_for_preset(full_bleed(), BUILTIN_PRESETS["landscape"])
    assert [w.code for w in framed.warnings] == ["no_product"]
    assert framed.product_box == (286, 0, 914, 628)  # 1024 px scaled to 628, centred, nothing cropped
    assert framed.scale == pytest.approx(628 / 1024)

"""The Studio's live preview is the render: the same pixels with its per-picture cache as without, the same product
mask at every size, and one doubtful-mask rule for the preview, renders and export restyles."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from stylerec_desktop.core.demo.photos import photo_shot
from stylerec_desktop.core.export import ExportOptions, export_job, parse_presets
from stylerec_desktop.core.export.items import restyle_items_job
from stylerec_desktop.core.export.job import ExportItem
from stylerec_desktop.core.jobs import run_job
from stylerec_desktop.core.stylize import PresetBlend, RenderCache, StyleOptions, stylize
from stylerec_desktop.core.stylize.engines import ENGINES
from stylerec_desktop.core.stylize.looks import SAFE_PRODUCT_RESTYLE_STRENGTH
from stylerec_desktop.core.stylize.preview import Previewer
from stylerec_desktop.core.stylize.product_mask import doubtful_mask_fallback, product_analysis, product_matte
from stylerec_desktop.core.stylize.samples import product_shot

# Style scale 4: the network runs at 128 px, so each render here takes a fraction of a second.
STUDIO = StyleOptions(strength=1.0, mask="background", preserve_colour=False, style_scale=4.0, size=128, device="cpu")
PRESET = PresetBlend({7: 1.0})


@pytest.fixture
def bag(tmp_path: Path) -> Path:
    path = tmp_path / "bag.png"
    product_shot(300, seed=3).save(path)
    return path


@pytest.fixture
def white_on_white(tmp_path: Path) -> Path:
    path = tmp_path / "sneaker.png"
    Image.fromarray(photo_shot(2, "white").image).save(path)  # mask confidence ~0.3: doubtful
    return path


def test_every_control_change_previews_the_pixels_a_fresh_render_makes(bag: Path) -> None:
    previews = Previewer()
    original = Image.open(bag)
    changes = [STUDIO, dataclasses.replace(STUDIO, strength=0.6), dataclasses.replace(STUDIO, preserve_colour=True),
               dataclasses.replace(STUDIO, mask="all", strength=0.6), dataclasses.replace(STUDIO, mask="product"),
               STUDIO]  # fmt: skip
    for options in changes:
        shown, note = previews.preview(bag, PRESET, options)
        assert note == ""
        assert np.array_equal(np.asarray(shown), np.asarray(stylize(original, PRESET, options))), options


def test_a_strength_change_does_not_run_the_network_again(bag: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    engine = ENGINES["preset"]
    runs: list[tuple[int, int]] = []
    paint = type(engine).run

    def counted(self, content, source, options):  # type: ignore[no-untyped-def]
        runs.append(content.size)
        return (yield from paint(self, content, source, options))

    monkeypatch.setattr(type(engine), "run", counted)
    content = Image.open(bag)
    cache = RenderCache(content)
    for strength in (1.0, 0.8, 0.5):
        for mask in ("background", "all"):
            stylize(content, PRESET, dataclasses.replace(STUDIO, strength=strength, mask=mask), cache=cache)
    assert len(runs) == 2  # the backdrop plate once, the picture once; six previews
    with pytest.raises(ValueError, match="another picture"):
        stylize(content.copy(), PRESET, STUDIO, cache=cache)


def test_the_product_mask_agrees_between_preview_and_render_sizes(tmp_path: Path) -> None:
    shot = photo_shot(7, "bag")
    content = Image.fromarray(shot.image)
    cache = RenderCache(content)
    preview = product_matte(content, content.resize((171, 256), Image.LANCZOS), cache) >= 0.5
    render = product_matte(content, content.resize((683, 1024), Image.LANCZOS), cache) >= 0.5
    render_small = np.asarray(Image.fromarray(render.astype(np.uint8) * 255).resize((171, 256), Image.BOX)) >= 128
    overlap = (preview & render_small).sum() / (preview | render_small).sum()
    assert overlap > 0.97
    truth = np.asarray(Image.fromarray(shot.mask.astype(np.uint8) * 255).resize((683, 1024))) >= 128
    assert (render & truth).sum() / (render | truth).sum() > 0.95  # and it is the product


def test_a_doubtful_mask_falls_back_in_the_preview_as_in_the_render(white_on_white: Path) -> None:
    content = Image.open(white_on_white)
    assert product_analysis(content).confidence < 0.6
    shown, note = Previewer().preview(white_on_white, PRESET, STUDIO)
    assert "uncertain" in note and "choose a mask" in note
    light = dataclasses.replace(STUDIO, mask="all", strength=SAFE_PRODUCT_RESTYLE_STRENGTH, preserve_colour=True)
    assert np.array_equal(np.asarray(shown), np.asarray(stylize(content, PRESET, light)))
    # A mask the user chose by name is theirs; a strength they set is kept in the fallback.
    assert doubtful_mask_fallback(content, STUDIO, given={"mask"}) == (STUDIO, "")
    kept, _ = doubtful_mask_fallback(content, dataclasses.replace(STUDIO, strength=0.5), given={"strength"})
    assert kept.mask == "all" and kept.strength == 0.5


def test_an_export_restyle_falls_back_the_same_way_and_says_so(white_on_white: Path, bag: Path, tmp_path: Path) -> None:
    options = dataclasses.replace(STUDIO, size=None)
    items = [ExportItem("SNEAKER", image=white_on_white), ExportItem("BAG", image=bag)]
    restyled = run_job(restyle_items_job(items, PRESET, options, label="preset-7"))
    sneaker, kept_bag = restyled
    assert sneaker.recipe["options"]["mask"] == "all" and "uncertain" in sneaker.recipe["fallback"]
    assert kept_bag.recipe["options"]["mask"] == "background" and "fallback" not in kept_bag.recipe
    # The export writes the picture the preview showed (previewed at the export's render size).
    width, height = Image.open(white_on_white).size
    shown, _ = Previewer().preview(white_on_white, PRESET, dataclasses.replace(options, size=max(width, height)))
    assert np.array_equal(np.asarray(shown), np.asarray(sneaker.image))
    out = tmp_path / "out"
    result = run_job(export_job(restyled, parse_presets("square"), out, ExportOptions(workers=1)))
    # The sentence reaches the end result (message and log) and the manifest, for that picture only.
    assert any(w.startswith("SNEAKER") and sneaker.recipe["fallback"] in w for w in result.warnings)
    rows = {row["sku"]: row for row in json.loads((out / "manifest.json").read_text(encoding="utf-8"))["files"]}
    assert sneaker.recipe["fallback"] in rows["SNEAKER"]["warnings"]
    assert not any("restyled lightly" in w for w in rows["BAG"]["warnings"])
    # A mask given by the user is kept, doubtful or not.
    chosen = run_job(restyle_items_job(items[:1], PRESET, options, fallback={"mask"}))
    assert chosen[0].recipe["options"]["mask"] == "background" and "fallback" not in chosen[0].recipe


def test_a_look_on_a_doubtful_mask_keeps_the_whole_product() -> None:
    import cv2

    from stylerec_desktop.core.stylize.looks import look_named

    shot = photo_shot(2, "white")  # confidence ~0.3: the mask alone finds only part of the sneaker
    content = Image.fromarray(shot.image)
    look = look_named("Painterly backdrop")  # background only, chosen by name: no fallback
    render = np.asarray(stylize(content, look.source_or(None), look.options(device="cpu")))
    inner = cv2.erode(shot.mask.astype(np.uint8), np.ones((7, 7), np.uint8)) > 0
    changed = np.abs(render.astype(np.int16) - shot.image.astype(np.int16)).max(axis=2) > 8
    assert changed[inner].mean() < 0.01  # the product kept where the mask was unsure
    assert changed[~cv2.dilate(shot.mask.astype(np.uint8), np.ones((41, 41), np.uint8)).astype(bool)].mean() > 0.8


def test_a_studio_render_records_the_fallback_and_a_rerender_repeats_it(white_on_white: Path, tmp_path: Path) -> None:
    from stylerec_desktop.core.catalog import Catalog
    from stylerec_desktop.core.stylize.renders import render_into_catalog_job, rerender_into_catalog_job

    options = dataclasses.replace(STUDIO, size=None)
    with Catalog.create(tmp_path / "catalog") as catalog:
        stored = run_job(render_into_catalog_job(catalog, white_on_white, PRESET, options, fallback=()))
        assert stored.recipe["options"]["mask"] == "all" and "restyled lightly" in stored.recipe["fallback"]
        shown, _ = Previewer().preview(white_on_white, PRESET, dataclasses.replace(options, size=max(stored.size)))
        assert np.array_equal(np.asarray(shown), np.asarray(Image.open(stored.path).convert("RGB")))
        again = run_job(rerender_into_catalog_job(catalog, stored))
        assert again.sha256 == stored.sha256  # the recipe holds the settings used
        as_given = run_job(render_into_catalog_job(catalog, white_on_white, PRESET, options))
        assert as_given.recipe["options"]["mask"] == "background" and "fallback" not in as_given.recipe

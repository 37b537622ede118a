"""Measured fidelity: known pairs give known numbers, every render records them, and export refuses or flags
renders below the user's threshold."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
from _device import options_under_test
from PIL import Image, ImageDraw

from stylerec_desktop.cli import main
from stylerec_desktop.core.catalog import Catalog
from stylerec_desktop.core.export import read_manifest
from stylerec_desktop.core.jobs import run_job
from stylerec_desktop.core.stylize import PresetBlend
from stylerec_desktop.core.stylize.fidelity import measure_fidelity, render_fidelity
from stylerec_desktop.core.stylize.renders import RECIPE_SUFFIX, render_into_catalog_job
from stylerec_desktop.core.stylize.samples import product_shot

RED, SHIFTED = (200, 40, 60), (180, 60, 60)


def patch_on_backdrop(colour: tuple[int, int, int], backdrop: tuple[int, int, int] = (240, 240, 240)) -> np.ndarray:
    image = Image.new("RGB", (96, 80), backdrop)
    ImageDraw.Draw(image).rectangle((30, 20, 70, 60), fill=colour)
    return np.asarray(image)


KNOWN_MASK = np.zeros((80, 96), bool)
KNOWN_MASK[20:61, 30:71] = True


def test_an_identical_render_is_perfectly_faithful() -> None:
    shot = np.asarray(product_shot(160, seed=2))
    lower_half = np.arange(160)[:, None].repeat(160, 1) > 80
    fidelity = measure_fidelity(shot, shot.copy(), lower_half)
    assert fidelity.product_delta_e == 0.0 and fidelity.background_change == 0.0
    assert fidelity.product_edge_ssim == pytest.approx(1.0)
    assert fidelity.product_fidelity == pytest.approx(1.0)
    automatic = render_fidelity(Image.fromarray(shot), Image.fromarray(shot))
    assert automatic.to_dict() == {"product_delta_e": 0.0, "product_edge_ssim": 1.0, "background_change": 0.0,
                                   "product_fidelity": 1.0}  # fmt: skip


def test_a_known_colour_shift_gives_its_known_delta_e() -> None:
    from skimage.color import deltaE_ciede2000, rgb2lab

    lab = [rgb2lab(np.array([[colour]], np.uint8))[0, 0] for colour in (RED, SHIFTED)]
    expected = float(deltaE_ciede2000(*lab))
    fidelity = measure_fidelity(patch_on_backdrop(RED), patch_on_backdrop(SHIFTED), KNOWN_MASK)
    assert fidelity.product_delta_e == pytest.approx(expected, abs=0.02)
    assert expected == pytest.approx(4.19, abs=0.01)  # a visible shade difference, not another colour
    assert fidelity.background_change == 0.0
    assert fidelity.product_fidelity == pytest.approx(fidelity.product_edge_ssim * (1 - expected / 25), abs=1e-3)


def test_a_restyled_backdrop_counts_as_background_change_only() -> None:
    original = patch_on_backdrop(RED)
    render = patch_on_backdrop(RED, backdrop=(40, 90, 200))
    fidelity = measure_fidelity(original, render, KNOWN_MASK)
    assert fidelity.product_delta_e == 0.0
    assert fidelity.background_change > 40


def test_painting_over_the_print_lowers_edge_ssim() -> None:
    shot = np.asarray(product_shot(200, seed=1))
    product = np.asarray(Image.fromarray(shot).convert("L")) < 200
    smeared = shot.copy()
    smeared[product] = cv2.GaussianBlur(shot, (0, 0), 4)[product]
    fidelity = measure_fidelity(shot, smeared, product)
    assert fidelity.product_edge_ssim < 0.6
    assert fidelity.product_fidelity < 0.6


def test_no_product_mask_means_no_figures() -> None:
    flat = np.full((64, 64, 3), 230, np.uint8)
    assert measure_fidelity(flat, flat, None).to_dict() == dict.fromkeys(
        ("product_delta_e", "product_edge_ssim", "background_change", "product_fidelity"))  # fmt: skip
    assert render_fidelity(Image.fromarray(flat), Image.fromarray(flat)).product_fidelity is None


@pytest.fixture(scope="module")
def catalog_with_two_renders(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, float]]:
    """One faithful render (background only) and one that repaints the product (full strength)."""
    tmp_path = tmp_path_factory.mktemp("fidelity")
    content = tmp_path / "bag.png"
    product_shot(200, seed=3).save(content)
    folder, scores = tmp_path / "cat", {}
    with Catalog.create(folder) as catalog:
        for mask in ("background", "all"):
            options = options_under_test(mask=mask)
            stored = run_job(render_into_catalog_job(catalog, content, PresetBlend({7: 1.0}), options))
            sidecar = json.loads(stored.path.with_name(stored.path.stem + RECIPE_SUFFIX).read_text())
            assert sidecar["fidelity"] == stored.recipe["fidelity"]
            scores[stored.path.stem] = stored.recipe["fidelity"]["product_fidelity"]
    return folder, scores


def test_export_refuses_renders_below_the_minimum(
    catalog_with_two_renders: tuple[Path, dict[str, float]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, scores = catalog_with_two_renders
    good, bad = sorted(scores, key=scores.get, reverse=True)  # type: ignore[arg-type]
    # Background only keeps the product: near-perfect; full strength repaints it.
    assert scores[good] > 0.95 and scores[bad] < 0.3
    out = tmp_path / "out"
    code = main(["--catalog", str(folder), "export", "--renders", "--preset", "thumb", "--min-fidelity", "0.5",
                 "--out", str(out)])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 1
    assert f"failed: {bad}: refused: product fidelity below 0.5" in err
    _, rows = read_manifest(out)
    assert [row.sku for row in rows] == [good] and rows[0].product_fidelity == pytest.approx(scores[good])
    assert sorted(p.name for p in out.glob("*.jpg")) == [f"{good}_thumb.jpg"]


def test_export_flag_only_keeps_them_flagged_in_the_manifest(
    catalog_with_two_renders: tuple[Path, dict[str, float]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    folder, scores = catalog_with_two_renders
    out = tmp_path / "out"
    code = main(["--catalog", str(folder), "export", "--renders", "--preset", "thumb", "--min-fidelity", "0.5",
                 "--flag-only", "--out", str(out)])  # fmt: skip
    capsys.readouterr()
    assert code == 0
    with (out / "manifest.csv").open(encoding="utf-8-sig") as handle:
        flags = {row["sku"]: row["fidelity_flag"] for row in csv.DictReader(handle)}
    assert set(flags) == set(scores)
    for sku, score in scores.items():
        assert flags[sku].startswith("below 0.5") == (score < 0.5)


def test_flag_only_without_a_minimum_is_a_user_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with Catalog.create(tmp_path / "cat"):
        pass
    code = main(["--catalog", str(tmp_path / "cat"), "export", "--renders", "--preset", "thumb", "--flag-only",
                 "--out", str(tmp_path / "out")])  # fmt: skip
    assert code == 2 and "--flag-only goes with --min-fidelity" in capsys.readouterr().err


def test_the_gate_passes_untouched_products_and_flags_unmeasured_renders(tmp_path: Path) -> None:
    from stylerec_desktop.core.errors import UserError
    from stylerec_desktop.core.export import ExportItem
    from stylerec_desktop.core.export.fidelity import gate_by_fidelity

    picture = tmp_path / "p.png"
    product_shot(64).save(picture)
    untouched = ExportItem("P-1", image=picture)
    old_render = ExportItem("P-2", image=picture, recipe={"engine": "preset"})  # made before fidelity was recorded
    weak = ExportItem("P-3", image=picture, recipe={"fidelity": {"product_fidelity": 0.2}})
    gate = gate_by_fidelity([untouched, old_render, weak], 0.5)
    assert [item.sku for item in gate.kept] == ["P-1", "P-2"]
    assert gate.kept[0].fidelity_flag == "" and gate.kept[1].fidelity_flag == "not measured"
    assert [failure.sku for failure in gate.refused] == ["P-3"] and "P-2" in gate.warnings[0]
    with pytest.raises(UserError, match="between 0 and 1"):
        gate_by_fidelity([untouched], 1.5)

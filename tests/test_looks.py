"""Named looks and product-safe defaults as a merchandiser meets them: `stylerec looks`, `stylize --look`, the
defaults every restyle starts from, and renders named by what they are (strip, export file names)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from stylerec_desktop.cli import main
from stylerec_desktop.core import masks
from stylerec_desktop.core.catalog import Catalog
from stylerec_desktop.core.errors import UserError
from stylerec_desktop.core.export.items import render_items
from stylerec_desktop.core.jobs import run_job
from stylerec_desktop.core.privacy import TASTE_OF_A_CUSTOMER
from stylerec_desktop.core.stylize import PresetBlend, StyleOptions, stylize
from stylerec_desktop.core.stylize.fidelity import render_fidelity
from stylerec_desktop.core.stylize.looks import (
    LOOKS,
    describe_recipe,
    look_named,
    product_safe_options,
)
from stylerec_desktop.core.stylize.product_mask import product_matte
from stylerec_desktop.core.stylize.renders import render_into_catalog_job
from stylerec_desktop.core.stylize.samples import product_shot


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def shot(tmp_path: Path) -> Path:
    path = tmp_path / "bag.png"
    product_shot(160, seed=3).save(path)
    return path


def recipe(style: dict[str, object], engine: str = "preset", **options: object) -> dict[str, object]:
    return {"style": style, "engine": engine, "options": {"strength": 1.0, "mask": "all", "style_scale": 1.0,
                                                          "preserve_colour": False} | options}  # fmt: skip


def test_a_render_is_named_by_what_it_is() -> None:
    preset4 = {"kind": "preset", "weights": {"4": 1.0}}
    assert describe_recipe(recipe(preset4, strength=0.6, mask="background")) == "Preset 4 at 60%, background only"
    blend = {"kind": "preset", "weights": {"12": 0.25, "3": 0.75}}
    assert describe_recipe(recipe(blend, preserve_colour=True, style_scale=2.0)) == (
        "Presets 3 + 12 (75/25) at 100%, colours kept, strokes x2"
    )
    image = {"kind": "image", "path": "/x/starry.jpg", "sha256": "0", "sku": "TEE-0002", "label": "TEE-0002"}
    assert describe_recipe(recipe(image, "arbitrary", mask="product", strength=0.8)) == (
        "Style of TEE-0002 at 80%, product only"
    )
    painting = {"kind": "image", "path": "/x/starry.jpg", "sha256": "0", "sku": None, "label": ""}
    assert describe_recipe(recipe(painting, "colour")) == "Style of starry (colours only) at 100%"
    # The colour engine has no strokes: its scale is not part of the name.
    assert "strokes" not in describe_recipe(recipe(painting, "colour", style_scale=3.0))
    taste = {"kind": "vector", "vector": [0.0] * 100, "label": "C0005's taste", "customer": "C0005"}
    assert describe_recipe(recipe(taste, "arbitrary")) == "C0005's taste at 100%"
    assert describe_recipe(recipe(taste, "arbitrary"), include_customer_ids=False) == f"{TASTE_OF_A_CUSTOMER} at 100%"
    looked = recipe(preset4, mask="background") | {"look": "Painterly backdrop"}
    assert describe_recipe(looked) == "Painterly backdrop: Preset 4 at 100%, background only"


def test_colours_are_kept_by_default_whenever_the_product_is_restyled() -> None:
    assert product_safe_options(mask="all").preserve_colour and product_safe_options(mask="product").preserve_colour
    assert not product_safe_options(mask="background").preserve_colour
    assert not product_safe_options(mask="all", preserve_colour=False).preserve_colour  # what is given wins


def test_looks_are_found_by_name_and_a_wrong_name_lists_them() -> None:
    assert look_named("  painterly   BACKDROP ").name == "Painterly backdrop"
    with pytest.raises(UserError, match="Subtle texture"):
        look_named("Arbitrary #3")
    assert len({look.name for look in LOOKS}) == len(LOOKS) >= 3
    with pytest.raises(UserError, match="give a style image"):
        look_named("Your style, product kept").source_or(None)


def test_stylerec_looks_lists_every_look_and_the_defaults(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "looks", "--json")
    assert code == 0
    listed = json.loads(out)
    assert [row["name"] for row in listed["looks"]] == [look.name for look in LOOKS]
    safe = product_safe_options()
    assert listed["defaults"] == {"strength": safe.strength, "preserve_colour": safe.preserve_colour,
                                  "mask": safe.mask, "style_scale": safe.style_scale}  # fmt: skip
    painterly = next(row for row in listed["looks"] if row["name"] == "Painterly backdrop")
    assert painterly["settings"].startswith("Preset 7 at 100%, background only")
    code, out, _ = run(capsys, "looks")
    assert code == 0 and all(look.name in out for look in LOOKS)


def test_stylize_with_a_look_keeps_the_product_and_paints_the_backdrop(
    capsys: pytest.CaptureFixture[str], shot: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    code, stdout, err = run(capsys, "stylize", str(shot), "--look", "painterly backdrop", "--device", "cpu",
                            "--out", str(out), "--json")  # fmt: skip
    assert code == 0, err
    [item] = json.loads(stdout)["outputs"]
    assert item["name"] == "Painterly backdrop: Preset 7 at 100%, background only, strokes x2"
    written = json.loads(Path(item["output"]).with_name("bag.recipe.json").read_text())
    assert written["look"] == "Painterly backdrop"
    assert written["options"]["mask"] == "background" and written["options"]["style_scale"] == 2.0
    original = np.asarray(Image.open(shot).convert("RGB"), dtype=np.int16)
    render = np.asarray(Image.open(item["output"]).convert("RGB"), dtype=np.int16)
    product = masks.analyse_product(original.astype(np.uint8)).mask
    # The product as the render finds it (one analysis at a fixed size, the edge refined at this size), away from
    # its soft edge.
    picture = Image.open(shot).convert("RGB")
    inner = product_matte(picture, picture) > 0.999
    assert inner.sum() > 1000
    assert np.abs(render - original)[inner].max() == 0  # the product's pixels untouched
    assert np.abs(render - original)[~product].mean() > 10  # the backdrop visibly painted

    # A flag given with the look changes that setting only.
    code, stdout, err = run(capsys, "stylize", str(shot), "--look", "Painterly backdrop", "--strength", "0.5",
                            "--device", "cpu", "--out", str(tmp_path / "half"), "--json")  # fmt: skip
    assert code == 0, err
    assert json.loads(stdout)["outputs"][0]["name"].startswith("Painterly backdrop: Preset 7 at 50%, background only")


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--look", "Painterly backdrop", "--preset", "3"], "brings its own style"),
        (["--look", "Your style, product kept"], "give a style image"),
        (["--look", "Arbitrary #3"], "There is no look called"),
    ],
)
def test_stylize_look_mistakes_are_one_line_errors(
    capsys: pytest.CaptureFixture[str], shot: Path, tmp_path: Path, argv: list[str], message: str
) -> None:
    code, _, err = run(capsys, "stylize", str(shot), *argv, "--out", str(tmp_path / "o"))
    assert code == 2 and err.startswith("stylerec: error: ") and message in err
    assert not (tmp_path / "o").exists()  # nothing half-written


def test_stylize_without_settings_uses_the_product_safe_defaults(
    capsys: pytest.CaptureFixture[str], shot: Path, tmp_path: Path
) -> None:
    code, stdout, err = run(capsys, "stylize", str(shot), "--preset", "7", "--device", "cpu",
                            "--out", str(tmp_path / "o"), "--json")  # fmt: skip
    assert code == 0, err
    written = json.loads((tmp_path / "o" / "bag.recipe.json").read_text())
    safe = product_safe_options()
    assert {k: written["options"][k] for k in ("strength", "preserve_colour", "mask", "style_scale")} == {
        "strength": safe.strength, "preserve_colour": safe.preserve_colour, "mask": safe.mask,
        "style_scale": safe.style_scale,
    }  # fmt: skip
    # --no-preserve-colour turns the default off.
    code, stdout, err = run(capsys, "stylize", str(shot), "--preset", "7", "--no-preserve-colour", "--device", "cpu",
                            "--out", str(tmp_path / "p"), "--json")  # fmt: skip
    assert code == 0, err
    assert json.loads((tmp_path / "p" / "bag.recipe.json").read_text())["options"]["preserve_colour"] is False


def test_the_defaults_keep_the_product_truer_than_the_engines_plain_settings() -> None:
    """What the defaults are for: on a patterned product, the product-safe render keeps colour and print far better
    than strength 1 without colour preservation, and the restyle still shows."""
    content = product_shot(256, seed=5)
    source = PresetBlend({7: 1.0})
    plain = render_fidelity(content, stylize(content, source, StyleOptions(device="cpu")))
    safe_render = stylize(content, source, product_safe_options(device="cpu"))
    safe = render_fidelity(content, safe_render)
    assert safe.product_fidelity is not None and plain.product_fidelity is not None
    assert safe.product_fidelity > plain.product_fidelity + 0.2
    assert safe.product_delta_e < plain.product_delta_e / 2  # type: ignore[operator]
    assert safe.background_change > 2.0  # type: ignore[operator]  # still visibly restyled


def test_exported_renders_are_named_by_what_they_are(tmp_path: Path, shot: Path) -> None:
    with Catalog.create(tmp_path / "cat") as catalog:
        options = StyleOptions(strength=0.6, mask="background", size=96, device="cpu")
        stored = run_job(render_into_catalog_job(catalog, shot, PresetBlend({4: 1.0}), options))
        [item] = render_items(catalog, [stored])
    assert item.style == "Preset 4 at 60%, background only"


def test_stylize_mask_all_keeps_the_colours_by_default(
    capsys: pytest.CaptureFixture[str], shot: Path, tmp_path: Path
) -> None:
    code, _, err = run(capsys, "stylize", str(shot), "--preset", "7", "--mask", "all", "--size", "96",
                       "--device", "cpu", "--out", str(tmp_path / "o"))  # fmt: skip
    assert code == 0, err
    options = json.loads((tmp_path / "o" / "bag.recipe.json").read_text())["options"]
    assert options["mask"] == "all" and options["preserve_colour"] is True


def test_a_doubtful_mask_restyles_the_whole_picture_lightly_instead_of_the_background(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="stylerec_desktop.core.stylize.product_mask")
    from stylerec_desktop.core.demo.photos import photo_shot
    from stylerec_desktop.core.stylize.looks import SAFE_PRODUCT_RESTYLE_STRENGTH, product_safe_options_for

    white_on_white = Image.fromarray(photo_shot(4, "white").image)  # its mask confidence is under 0.6
    options, note = product_safe_options_for(white_on_white, size=128)
    assert options.mask == "all" and options.preserve_colour and options.strength == SAFE_PRODUCT_RESTYLE_STRENGTH
    assert "uncertain" in note and options.size == 128
    logged = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert any("restyling the whole picture lightly" in message for message in logged)
    # A mask chosen by the user is theirs; a clear product keeps the background-only default.
    assert product_safe_options_for(white_on_white, mask="background") == (product_safe_options(mask="background"), "")
    assert product_safe_options_for(product_shot(160, seed=3)) == (product_safe_options(), "")

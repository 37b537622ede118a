"""The typed Recipe reads every recipe version written so far and writes back exactly what it read; a damaged one
is refused with a sentence naming the field."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from stylerec_desktop.core.errors import UserError
from stylerec_desktop.core.stylize.options import PresetBlend, StyleImage, StyleOptions, StyleVector
from stylerec_desktop.core.stylize.recipe import (
    PresetStyleRecord,
    Recipe,
    VectorStyleRecord,
    make_recipe,
    recipe_options,
)

V1 = Path(__file__).parent / "data" / "recipe_v1"


def _v2_recipes(tmp_path: Path) -> list[dict[str, object]]:
    content, style = tmp_path / "bag.png", tmp_path / "style.png"
    Image.new("RGB", (40, 32), (200, 30, 30)).save(content)
    Image.new("RGB", (40, 40), (20, 30, 200)).save(style)
    taste = StyleVector(np.linspace(-1, 1, 100, dtype=np.float32), label="C0005's taste", customer_id="C0005")
    made = [
        make_recipe("preset", content, (40, 32), PresetBlend({12: 0.5, 3: 0.5}), StyleOptions(mask="background")),
        make_recipe("arbitrary", content, (40, 32), taste, StyleOptions(style_scale=1.5, seed=7), "BAG-1"),
        make_recipe("arbitrary", content, (40, 32), StyleImage(style), StyleOptions(strength=0.6), None, "ART-1",
                    look="Painterly backdrop"),  # fmt: skip
    ]
    made[0] = made[0].with_fidelity({"product_fidelity": 0.91, "product_delta_e": 2.5})
    # Through JSON text, as the catalog and the .recipe.json file hold them.
    return [json.loads(recipe.to_json()) for recipe in made]


def test_every_stored_version_reads_and_writes_back_unchanged(tmp_path: Path) -> None:
    stored = [json.loads(path.read_text()) for path in sorted(V1.glob("*.recipe.json"))]
    assert {r["recipe_version"] for r in stored} == {1} and len(stored) == 2
    stored += _v2_recipes(tmp_path)
    for data in stored:
        recipe = Recipe.from_json(json.dumps(data))
        assert recipe.to_dict() == data  # nothing lost, nothing added (a version-1 recipe gains no style scale)
        assert Recipe.from_json(recipe.to_json()) == recipe
    v1_preset = Recipe.from_json(stored[1])
    assert v1_preset.version == 1 and v1_preset.options.style_scale is None  # the version-1 pipeline
    assert v1_preset.style == PresetStyleRecord({3: 0.5, 12: 0.5}) and v1_preset.options.mask == "background"
    taste = Recipe.from_json(stored[3])
    assert isinstance(taste.style, VectorStyleRecord) and taste.style.customer == "C0005"
    assert taste.seed == 7 and taste.options.style_scale == 1.5 and taste.content.sku == "BAG-1"
    assert np.array_equal(np.asarray(taste.style_source().vector), np.linspace(-1, 1, 100, dtype=np.float32))
    assert Recipe.from_json(stored[4]).look == "Painterly backdrop"
    assert Recipe.from_json(stored[2]).fidelity == {"product_fidelity": 0.91, "product_delta_e": 2.5}


def test_render_options_pin_what_the_render_used(tmp_path: Path) -> None:
    data = json.loads((V1 / "preset_background.recipe.json").read_text())
    data["options"] |= {"device": "auto", "precision": "auto"}
    options = recipe_options(data)
    assert (options.device, options.precision, options.strength) == ("cpu", "fp32", 0.8)


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda r: r["content"].pop("sha256"), "content.sha256"),
        (lambda r: r["content"].update(size=[120]), "content.size"),
        (lambda r: r.pop("options"), "'options'"),
        (lambda r: r["options"].update(strength=3.0), "Strength must be between 0 and 1"),
        (lambda r: r["options"].update(brightness=1), "options.brightness"),
        (lambda r: r["style"].update(weights={"x": 1}), "style.weights"),
        (lambda r: r.update(engine=None), "'engine'"),
        (lambda r: r.update(threads="two"), "'threads'"),
        (lambda r: r.update(recipe_version="2"), "recipe_version"),
        (lambda r: r["style"].update(kind="hologram"), "Unknown style kind 'hologram'"),
        (lambda r: r.update(recipe_version=99), "newer StyleRec"),
    ],
)
def test_a_damaged_recipe_is_refused_naming_the_field(change: object, named: str) -> None:
    data = json.loads((V1 / "preset_background.recipe.json").read_text())
    change(data)  # type: ignore[operator]
    with pytest.raises(UserError, match=named.replace("(", r"\(")):
        Recipe.from_json(data)


def test_text_that_is_not_a_recipe_is_refused() -> None:
    with pytest.raises(UserError, match="not readable JSON"):
        Recipe.from_json("{not json")
    with pytest.raises(UserError, match="not a JSON object"):
        Recipe.from_json("[1, 2]")

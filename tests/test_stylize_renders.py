"""Renders are kept with their recipe and come back bit-identical from it; a changed input is refused."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
from _device import options_under_test
from PIL import Image

from stylerec_desktop.core.catalog import Catalog
from stylerec_desktop.core.errors import NotFound, UserError
from stylerec_desktop.core.jobs import run_job
from stylerec_desktop.core.stylize import PresetBlend, StyleImage, StyleOptions, StyleVector
from stylerec_desktop.core.stylize.recipe import png_bytes, rerender
from stylerec_desktop.core.stylize.renders import RECIPE_SUFFIX, render_into_catalog_job, rerender_into_catalog_job
from stylerec_desktop.core.stylize.samples import painting, product_shot


@pytest.fixture()
def catalog(tmp_path: Path) -> Catalog:
    with Catalog.create(tmp_path / "cat") as cat:
        yield cat  # type: ignore[misc]


@pytest.fixture()
def content_file(tmp_path: Path) -> Path:
    path = tmp_path / "bag.png"
    product_shot((200, 160), seed=3).save(path)
    return path


@pytest.mark.parametrize(
    ("engine", "source", "options"),
    [
        ("preset", PresetBlend({3: 0.5, 12: 0.5}), options_under_test(strength=0.8)),
        ("arbitrary", "painting", options_under_test(preserve_colour=True, mask="background")),
        ("arbitrary", "vector", options_under_test(seed=7)),
        ("colour", "painting", options_under_test(histogram=True)),
    ],
)
def test_rerender_reproduces_the_file_bit_for_bit(
    catalog: Catalog, content_file: Path, tmp_path: Path, engine: str, source: object, options: StyleOptions
) -> None:
    if source == "painting":
        style_path = tmp_path / "style.png"
        painting(128).save(style_path)
        source = StyleImage(style_path)
    elif source == "vector":
        source = StyleVector(np.random.default_rng(1).normal(size=100).astype(np.float32) * 0.3, label="taste")
    stored = run_job(render_into_catalog_job(catalog, content_file, source, options, engine=engine))  # type: ignore[arg-type]

    assert stored.path.is_file() and stored.path.parent == catalog.renders_dir
    assert hashlib.sha256(stored.path.read_bytes()).hexdigest() == stored.sha256
    assert stored.size == (200, 160) and stored.engine == engine
    sidecar = json.loads(stored.path.with_name(stored.path.stem + RECIPE_SUFFIX).read_text())
    assert sidecar == stored.recipe
    for key in ("engine", "content", "style", "options", "seed", "models", "app_version", "created", "dtype"):
        assert key in stored.recipe
    assert stored.recipe["content"]["sha256"] == hashlib.sha256(content_file.read_bytes()).hexdigest()  # type: ignore[index]
    assert stored.recipe["seed"] == options.seed
    if engine != "colour":
        assert stored.recipe["models"]  # the networks' hashes

    again = rerender(json.dumps(stored.recipe))
    assert hashlib.sha256(png_bytes(again)).hexdigest() == stored.sha256
    assert catalog.render(stored.id) == stored
    assert [r.id for r in catalog.renders(content_sha256=stored.content_sha256)] == [stored.id]


def test_a_changed_content_file_is_refused(catalog: Catalog, content_file: Path) -> None:
    stored = run_job(render_into_catalog_job(catalog, content_file, PresetBlend({1: 1.0}), options_under_test()))
    Image.new("RGB", (64, 64), "red").save(content_file)
    with pytest.raises(UserError, match="has changed"):
        rerender(stored.recipe)


def test_unknown_render_id_is_not_found(catalog: Catalog) -> None:
    with pytest.raises(NotFound):
        catalog.render(12345)
    assert catalog.renders() == []


def test_rerender_into_the_catalog_makes_a_new_identical_variant(
    catalog: Catalog, content_file: Path, tmp_path: Path
) -> None:
    style_path = tmp_path / "style.png"
    painting(96).save(style_path)
    first = run_job(
        render_into_catalog_job(
            catalog,
            content_file,
            StyleImage(style_path),
            options_under_test(strength=0.7),
            content_sku="BAG-3",
            style_sku="ART-1",
            product_id=None,
        )  # fmt: skip
    )
    again = run_job(rerender_into_catalog_job(catalog, first))
    assert again.id != first.id and again.path != first.path
    assert again.sha256 == first.sha256  # same machine, same recipe: the same pixels
    assert again.recipe["style"]["sku"] == "ART-1" and again.recipe["content"]["sku"] == "BAG-3"  # type: ignore[index]
    pinned = ("device", "precision")  # "auto" in the first recipe; the re-render pins what was actually used
    same = [{k: v for k, v in r.recipe["options"].items() if k not in pinned} for r in (first, again)]  # type: ignore[union-attr]
    assert same[0] == same[1] and again.recipe["dtype"] == first.recipe["dtype"]
    style_path.write_bytes(b"changed")
    with pytest.raises(UserError, match="changed since it was rendered"):
        run_job(rerender_into_catalog_job(catalog, first))

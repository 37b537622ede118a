"""Products x styles as one job: every cell rendered and kept, failures reported per cell, a contact sheet, cancel
between cells keeps what was finished."""

from __future__ import annotations

from pathlib import Path

import pytest
from _device import options_under_test
from PIL import Image

from stylerec_desktop.core.catalog import Catalog
from stylerec_desktop.core.errors import UserError
from stylerec_desktop.core.jobs import Cancelled, CancelToken, run_job
from stylerec_desktop.core.stylize import PresetBlend, StyleImage
from stylerec_desktop.core.stylize.matrix import MatrixContent, MatrixStyle, render_matrix_job
from stylerec_desktop.core.stylize.samples import painting, product_shot


@pytest.fixture()
def catalog(tmp_path: Path) -> Catalog:
    with Catalog.create(tmp_path / "cat") as cat:
        yield cat  # type: ignore[misc]


@pytest.fixture()
def contents(tmp_path: Path) -> list[MatrixContent]:
    paths = []
    for seed in (1, 2):
        path = tmp_path / f"shot-{seed}.png"
        product_shot((160, 128), seed=seed).save(path)
        paths.append(path)
    return [MatrixContent(paths[0], sku="BAG-1"), MatrixContent(paths[1])]


def test_every_cell_is_rendered_kept_and_on_the_sheet(
    catalog: Catalog, contents: list[MatrixContent], tmp_path: Path
) -> None:
    style_path = tmp_path / "style.png"
    painting(96).save(style_path)
    styles = [
        MatrixStyle(PresetBlend({3: 1.0}), "preset 3"),
        MatrixStyle(StyleImage(style_path), "painting", engine="colour"),
    ]
    steps: list[str] = []
    result = run_job(
        render_matrix_job(catalog, contents, styles, options_under_test()), lambda p: steps.append(p.message)
    )

    assert len(result.renders) == 2 and all(len(row) == 2 for row in result.renders)
    assert not result.failed
    assert [r.engine for r in result.renders[0]] == ["preset", "colour"]
    assert result.renders[0][0].recipe["content"]["sku"] == "BAG-1"
    assert {r.id for r in result.done} == {r.id for r in catalog.renders()}
    assert all(r.path.is_file() and r.size == (160, 128) for r in result.done)
    # one progress message per cell, in order, counting up to 4
    assert [m for m in steps if m.endswith("of 4)")][:1] == ["BAG-1 in preset 3 (1 of 4)"]
    assert any("shot-2.png in painting (4 of 4)" in m for m in steps)
    with Image.open(result.sheet) as sheet:
        assert sheet.width > 2 * 256 and sheet.height > 2 * 256  # two columns, two rows of 256 px cells


def test_a_failing_cell_is_reported_and_the_rest_rendered(catalog: Catalog, contents: list[MatrixContent]) -> None:
    missing = contents[1].path.with_name("gone.png")
    cells = [contents[0], MatrixContent(missing, sku="GONE-1")]
    result = run_job(
        render_matrix_job(catalog, cells, [MatrixStyle(PresetBlend({1: 1.0}), "preset 1")], options_under_test())
    )
    assert result.renders[0][0] is not None and result.renders[1][0] is None
    assert len(result.failed) == 1 and result.failed[0][:2] == ("GONE-1", "preset 1")
    assert "gone.png" in result.failed[0][2]
    assert len(catalog.renders()) == 1


def test_cancel_between_cells_keeps_the_finished_renders(catalog: Catalog, contents: list[MatrixContent]) -> None:
    token = CancelToken()
    styles = [MatrixStyle(PresetBlend({k: 1.0}), f"preset {k}") for k in (1, 2, 3)]

    def on_progress(progress: object) -> None:
        if progress.message.startswith("BAG-1 in preset 2"):  # type: ignore[attr-defined]
            token.cancel()

    with pytest.raises(Cancelled):
        run_job(render_matrix_job(catalog, contents, styles, options_under_test()), on_progress, token)
    kept = catalog.renders()
    assert len(kept) == 1 and kept[0].path.is_file()


def test_an_empty_batch_says_what_is_missing(catalog: Catalog, contents: list[MatrixContent]) -> None:
    with pytest.raises(UserError, match="at least one picture and one style"):
        run_job(render_matrix_job(catalog, contents, []))

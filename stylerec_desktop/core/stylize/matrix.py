"""A products x styles batch: every content picture rendered in every style, as one job with per-item progress,
kept in the catalog like single renders, plus a contact sheet of the whole matrix.

A failed cell (a missing file, a style the engine cannot take) is recorded and the rest goes on; cancelling stops
between cells (and between tiles inside one), and every render finished before that stays in the catalog with its
recipe. The contact sheet is written only when the matrix completes.

Example::

    contents = [MatrixContent(path, sku="TEE-1", product_id=1), MatrixContent(other_path)]
    styles = [MatrixStyle(PresetBlend({7: 1.0}), "preset 7"), MatrixStyle(taste, "C0022's taste")]
    result = run_job(render_matrix_job(catalog, contents, styles, StyleOptions(size=1024)))
    result.renders[0][1]     # TEE-1 in C0022's taste (a StoredRender, or None where it failed)
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from PIL import Image

from stylerec_desktop.core.catalog import Catalog, StoredRender
from stylerec_desktop.core.cluster import ClusterSpec
from stylerec_desktop.core.errors import UserError
from stylerec_desktop.core.jobs import Job, Progress, map_progress
from stylerec_desktop.core.safe_files import unique_path, write_atomic
from stylerec_desktop.core.stylize.options import StyleOptions, StyleSource
from stylerec_desktop.core.stylize.recipe import png_bytes
from stylerec_desktop.core.stylize.renders import render_into_catalog_job
from stylerec_desktop.core.stylize.sheet import contact_sheet

SHEET_CELL = 256
log = logging.getLogger(__name__)


def _always(step: Progress) -> Callable[[Progress], Progress]:
    """A progress mapping that reports every inner step of a cell's render as the cell's own ``step``."""
    return lambda _inner: step


@dataclass(frozen=True)
class MatrixContent:
    """One row of the matrix: a picture, and the catalog product it shows (if any)."""

    path: Path
    sku: str | None = None
    product_id: int | None = None

    @property
    def label(self) -> str:
        return self.sku or self.path.name


@dataclass(frozen=True)
class MatrixStyle:
    """One column: a style source, its label on the sheet, the product it was taken from (if any) and an engine
    (None: the natural one for the source)."""

    source: StyleSource
    label: str
    style_sku: str | None = None
    engine: str | None = None


@dataclass(frozen=True)
class MatrixResult:
    """``renders[row][column]`` (None where that cell failed), what failed and why, and the contact sheet."""

    renders: tuple[tuple[StoredRender | None, ...], ...]
    failed: tuple[tuple[str, str, str], ...]
    sheet: Path | None

    @property
    def done(self) -> list[StoredRender]:
        return [render for row in self.renders for render in row if render is not None]


def render_matrix_job(
    catalog: Catalog,
    contents: Sequence[MatrixContent],
    styles: Sequence[MatrixStyle],
    options: StyleOptions | None = None,
    fallback: Collection[str] | None = None,
    cluster: ClusterSpec | None = None,
) -> Job[MatrixResult]:
    """Render every content in every style (row by row); yields one Progress per cell (and the cell's own steps).

    ``fallback``: as for ``renders.render_into_catalog_job`` (the names of the settings the user set, so a picture
    with a doubtful product mask is rendered as every other render of it would be; None: ``options`` as given).
    ``cluster``: render on that Ray cluster (``stylize.cluster``; the renders are kept here, the same pixels)."""
    if not contents or not styles:
        raise UserError("A batch needs at least one picture and one style.")
    options = options or StyleOptions()
    total = len(contents) * len(styles)
    rows: list[tuple[StoredRender | None, ...]] = []
    failed: list[tuple[str, str, str]] = []
    if cluster is not None:
        from stylerec_desktop.core.stylize.cluster import render_matrix_on_cluster_job

        rows, failed = yield from render_matrix_on_cluster_job(catalog, contents, styles, options, fallback, cluster)
    for r, content in enumerate(contents if cluster is None else ()):
        row: list[StoredRender | None] = []
        for c, style in enumerate(styles):
            cell = r * len(styles) + c
            what = f"{content.label} in {style.label} ({cell + 1} of {total})"
            yield Progress(cell, total, what)
            job = render_into_catalog_job(
                catalog, content.path, style.source, options, style.engine, content.sku, style.style_sku,
                content.product_id, fallback=fallback,
            )  # fmt: skip
            step = Progress(cell, total, what)
            try:
                row.append((yield from map_progress(job, _always(step))))
            except (UserError, OSError) as error:
                failed.append((content.label, style.label, str(error)))
                row.append(None)
            except Exception as error:  # a bug in one cell: logged with its traceback, and the batch goes on
                log.exception("batch cell %s x %s failed", content.label, style.label)
                failed.append((content.label, style.label, f"internal error ({type(error).__name__}); see the log"))
                row.append(None)
        rows.append(tuple(row))
    yield Progress(total, total, "making the contact sheet")
    sheet = _write_sheet(catalog, contents, styles, rows) if any(any(row) for row in rows) else None
    return MatrixResult(tuple(rows), tuple(failed), sheet)


def _write_sheet(
    catalog: Catalog,
    contents: Sequence[MatrixContent],
    styles: Sequence[MatrixStyle],
    rows: Sequence[Sequence[StoredRender | None]],
) -> Path:
    pictures = []
    for row in rows:
        line: list[Image.Image | None] = []
        for render in row:
            if render is None:
                line.append(None)
                continue
            with Image.open(render.path) as opened:
                opened.draft("RGB", (SHEET_CELL, SHEET_CELL))
                opened.thumbnail((SHEET_CELL, SHEET_CELL))
                line.append(opened.convert("RGB"))
        pictures.append(line)
    sheet = contact_sheet(pictures, [s.label for s in styles], [c.label for c in contents], cell=SHEET_CELL)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    path = unique_path(catalog.renders_dir, f"{stamp}-matrix-{len(contents)}x{len(styles)}")
    write_atomic(path, png_bytes(sheet), make_folder=True)
    return path

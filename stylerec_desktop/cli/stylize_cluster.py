"""`stylerec stylize --cluster`: every INPUT x style rendered on a Ray cluster (core/stylize/cluster.py), written
here exactly as the single-machine command writes them: the catalog's render rows (with a catalog), and in --out one
PNG + shareable recipe per render, the report lines and the contact sheet."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from PIL import Image

from stylerec_desktop.cli.common import run
from stylerec_desktop.core.catalog import Catalog


def stylize_on_cluster(
    args: argparse.Namespace,
    catalog: Catalog | None,
    inputs: list[tuple[Path, str | None, int | None]],
    styles: list[tuple[Any, str | None, str]],
    options: Any,
    look_name: str | None,
    given: set[str] | None,
) -> tuple[list[dict[str, Any]], list[list[Image.Image | None]]]:
    """Render ``inputs`` x ``styles`` on ``args.cluster``; returns the report records in input x style order and
    the contact sheet's rows (original + renders; empty for a single render). The first bad input stops the batch
    with the sentence a single-machine run gives; the renders finished before it are kept."""
    from stylerec_desktop.cli.stylize import print_output, write_output
    from stylerec_desktop.core.stylize.cluster import RenderCell, RenderedCell, render_cells_job
    from stylerec_desktop.core.stylize.recipe import Recipe
    from stylerec_desktop.core.stylize.renders import keep_render, open_content

    out_dir = Path(args.out)
    several = len(styles) > 1
    cells, names, labels = [], [], []
    for path, sku, product_id in inputs:
        for source, style_sku, style_label in styles:
            cells.append(RenderCell(path, source, options, args.engine, sku, style_sku, product_id, look_name, given))
            names.append(f"{sku or path.stem}__{style_label}" if several else sku or path.stem)
            labels.append(f"{sku or path.name} in {style_label}")
    noted: set[Path] = set()

    def keep(index: int, rendered: RenderedCell) -> dict[str, Any]:
        """Runs here as each render arrives: the catalog row and files, then the --out files and the report line."""
        cell, recipe = cells[index], Recipe.from_json(rendered.recipe)
        render_id = None
        if catalog is not None:
            render_id = keep_render(catalog, rendered.png, recipe, rendered.size, cell.name, cell.product_id).id
        style_label = styles[index % len(styles)][2]
        result = write_output(args, out_dir / f"{names[index]}.png", rendered.png, recipe, render_id, style_label)
        result |= {"input": str(cell.content_path), "sku": cell.content_sku, "note": recipe.fallback,
                   "seconds": round(rendered.seconds, 3)}  # fmt: skip
        if recipe.fallback and cell.content_path not in noted and not args.json:
            noted.add(cell.content_path)
            print(f"{cell.content_path.name}: {recipe.fallback}")
        print_output(args, result)
        return result

    batch = run(render_cells_job(args.cluster, cells, keep, labels=labels, stop_on_error=True), args)
    results = [result for result in batch.results if result is not None]
    sheet_rows: list[list[Image.Image | None]] = []
    if len(results) > 1:
        for row, (path, _, _) in enumerate(inputs):
            line: list[Image.Image | None] = [open_content(path).convert("RGB")]
            for result in results[row * len(styles) : (row + 1) * len(styles)]:
                with Image.open(result["output"]) as written:
                    line.append(written.convert("RGB"))
            sheet_rows.append(line)
    return results, sheet_rows

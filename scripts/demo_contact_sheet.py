"""Draw the demo product shots and lay a sample of them out as one contact sheet PNG, to look at them at a glance.

    python scripts/demo_contact_sheet.py OUT.png [--folder DIR] [--seed 7] [--products 240] [--cols 8] [--rows 6]

Without ``--folder`` the demo files are generated into a temporary folder first (and the time it took is
printed). The sample takes the first products of every category, grouped by category.
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import time
from pathlib import Path

from PIL import Image

from stylerec_desktop.core.demo import generate_demo_files
from stylerec_desktop.core.jobs import run_job


def contact_sheet(folder: Path, out: Path, cols: int, rows: int, size: int) -> None:
    with (folder / "products.csv").open(encoding="utf-8") as stream:
        products = list(csv.DictReader(stream))
    by_category: dict[str, list[dict[str, str]]] = {}
    for product in products:
        by_category.setdefault(product["category"], []).append(product)
    # Round-robin over the categories, so the sheet shows each of them with consecutive (differently styled) SKUs.
    picked: list[dict[str, str]] = []
    while len(picked) < min(len(products), cols * rows):
        for items in by_category.values():
            if items and len(picked) < cols * rows:
                picked.append(items.pop(0))
    picked.sort(key=lambda p: p["sku"][:3])
    sheet = Image.new("RGB", (cols * size, rows * size), "white")
    for n, product in enumerate(picked):
        with Image.open(folder / "images" / product["image"]) as shot:
            thumb = shot.convert("RGB").resize((size, size), Image.Resampling.LANCZOS)
        sheet.paste(thumb, ((n % cols) * size, (n // cols) * size))
    sheet.save(out)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--folder", type=Path, help="existing demo files (default: generate them)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--products", type=int, default=240)
    parser.add_argument("--cols", type=int, default=8)
    parser.add_argument("--rows", type=int, default=6)
    parser.add_argument("--size", type=int, default=160, help="thumbnail size in pixels")
    args = parser.parse_args()
    if args.folder is not None:
        contact_sheet(args.folder, args.out, args.cols, args.rows, args.size)
        return
    with tempfile.TemporaryDirectory() as temp:
        start = time.perf_counter()
        run_job(generate_demo_files(Path(temp), seed=args.seed, n_products=args.products))
        print(f"Generated {args.products} products in {time.perf_counter() - start:.1f} s")
        contact_sheet(Path(temp), args.out, args.cols, args.rows, args.size)
    print(f"Wrote {args.out}")


if __name__ == "__main__":
    main()

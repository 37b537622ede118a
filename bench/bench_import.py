"""Import N products with their images into a fresh catalog and time it.

    python bench/bench_import.py [--products 10000] [--size 512] [--json]

The product images are generated once into bench/out/import-N/ (distinct 512x512 JPEGs: gradients with shapes
and noise, so no two files are alike) and reused by later runs; only the import itself is timed.
Goal (Foundation issue): 10,000 products with images in under 60 s on a 2-core machine.
"""

from __future__ import annotations

import argparse
import csv
import json
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from stylerec_desktop.core.catalog import Catalog
from stylerec_desktop.core.importers import import_products
from stylerec_desktop.core.jobs import run_job

OUT = Path(__file__).resolve().parent / "out"


def make_dataset(n: int, size: int) -> Path:
    folder = OUT / f"import-{n}-{size}"
    csv_path = folder / "products.csv"
    if csv_path.is_file():
        return csv_path
    images = folder / "images"
    images.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(1)
    ramp = np.linspace(0.0, 1.0, size, dtype=np.float32)
    categories = ["tees", "dresses", "totes", "mugs", "cushions", "sneakers"]
    rows = []
    for i in range(n):
        c0, c1 = rng.integers(0, 256, 3), rng.integers(0, 256, 3)
        t = ramp[None, :, None] if i % 2 else ramp[:, None, None]
        pixels = (c0 * (1 - t) + c1 * t).astype(np.uint8)
        pixels = np.broadcast_to(pixels, (size, size, 3)).copy()
        image = Image.fromarray(pixels)
        draw = ImageDraw.Draw(image)
        for _ in range(3):
            x, y = rng.integers(0, size - 64, 2)
            colour = tuple(int(v) for v in rng.integers(0, 256, 3))
            draw.ellipse([int(x), int(y), int(x) + 64, int(y) + 64], fill=colour)
        name = f"P{i:06d}.jpg"
        image.save(images / name, quality=88)
        rows.append(
            {
                "sku": f"P{i:06d}",
                "title": f"Bench product {i}",
                "category": categories[i % len(categories)],
                "brand": "Bench",
                "price": f"{10 + i % 90}.99",
                "currency": "USD",
                "in_stock": "true",
                "tags": "bench;generated",
                "image": f"images/{name}",
            }
        )
    tmp = csv_path.with_suffix(".tmp")
    with tmp.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    tmp.replace(csv_path)
    return csv_path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=10_000)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    t0 = time.perf_counter()
    csv_path = make_dataset(args.products, args.size)
    prepare_s = time.perf_counter() - t0

    workdir = Path(tempfile.mkdtemp(prefix="stylerec-bench-"))
    try:
        catalog = Catalog.create(workdir / "catalog")
        t0 = time.perf_counter()
        report = run_job(import_products(catalog, csv_path))
        import_s = time.perf_counter() - t0
        counts = catalog.counts()
        catalog.close()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    result = {
        "benchmark": "import_products",
        "products": args.products,
        "image_size": args.size,
        "imported": report.imported,
        "catalog_products": counts.products,
        "catalog_images": counts.images,
        "import_seconds": round(import_s, 2),
        "products_per_second": round(args.products / import_s, 1),
        "goal_seconds": 60,
        "dataset_prepare_seconds": round(prepare_s, 1),
        "machine": f"{platform.machine()} {platform.processor() or ''} python {platform.python_version()}".strip(),
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(
            f"Imported {report.imported} products with {counts.images} images in {import_s:.1f} s "
            f"({result['products_per_second']} products/s; goal < 60 s)"
        )
    return 0 if counts.products == args.products else 1


if __name__ == "__main__":
    sys.exit(main())

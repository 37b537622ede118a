"""Where the workstation becomes the limit of a cluster job (issue 14, docs/SCALING.md).

    python bench/bench_workstation_limits.py [--rows 8192] [--batches 16,64,256,1024] [--json]

- **Catalog writes**: the workstation alone writes the catalog, so a cluster indexes no faster than it can store
  feature rows. ``--rows`` rows of the current extractor's size (100 style + 1280 visual + palette + pattern, as
  ``ImageFeatures.to_blobs`` packs them) are written into a fresh catalog with ``Catalog.store_image_features``, one
  transaction per batch of each size in ``--batches`` (WAL, ``synchronous=NORMAL``, as the app opens it), each
  size in a catalog of its own. Reported: rows/s and bytes per row.
- **Image bytes**: what a worker is sent per picture when the cluster cannot read the images itself. scikit-image's
  four photographs (coffee, chelsea, astronaut, rocket; 300-512 px) encoded as JPEG quality 90 with Pillow: mean
  bytes and bits per pixel, and the bytes a 1024x1024 and a 2048x2048 product photo would take at that bit rate
  (an extrapolation, labelled as such: those sizes are not measured here); and the same for PNG, what a render
  comes back as.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

from stylerec_desktop.core.catalog import Catalog
from stylerec_desktop.core.recommend.features import (
    PALETTE_SIZE,
    PATTERN_DIM,
    STYLE_DIM,
    VISUAL_DIM,
    ImageFeatures,
    extractor_version,
)


def feature_write_rate(rows: int, batch: int, folder: Path, seed: int = 0) -> dict[str, float]:
    """Rows/s of ``store_image_features`` with ``batch`` rows per transaction into a fresh catalog."""
    rng = np.random.default_rng(seed)
    version = extractor_version()
    blobs = []
    for i in range(rows):
        features = ImageFeatures(
            rng.normal(size=STYLE_DIM).astype(np.float32),
            rng.random(VISUAL_DIM).astype(np.float32),
            rng.random((PALETTE_SIZE, 4)).astype(np.float32),
            rng.random(PATTERN_DIM).astype(np.float32),
        )
        blobs.append(features.to_blobs(f"{batch:08x}{i:056x}", version))
    row_bytes = sum(len(b.style) + len(b.visual) + len(b.palette) + len(b.pattern) + 64 for b in blobs) / rows
    catalog = Catalog.create(folder)
    try:
        started = time.perf_counter()
        for start in range(0, rows, batch):
            catalog.store_image_features(blobs[start : start + batch])
        seconds = time.perf_counter() - started
    finally:
        catalog.close()
    return {"batch": batch, "rows": rows, "seconds": seconds, "rows_per_second": rows / seconds,
            "bytes_per_row": row_bytes}  # fmt: skip


def photo_bytes() -> dict[str, float]:
    """Mean JPEG (quality 90) bytes and bits per pixel of scikit-image's four photographs."""
    from skimage import data

    sizes, png_sizes, pixels = [], [], []
    for name in ("coffee", "chelsea", "astronaut", "rocket"):
        image = Image.fromarray(getattr(data, name)())
        for fmt, options, into in (("JPEG", {"quality": 90}, sizes), ("PNG", {}, png_sizes)):
            buffer = io.BytesIO()
            image.save(buffer, fmt, **options)
            into.append(buffer.tell())
        pixels.append(image.width * image.height)
    bpp = 8 * sum(sizes) / sum(pixels)
    return {"mean_bytes": sum(sizes) / len(sizes), "bits_per_pixel": bpp,
            "extrapolated_1024_bytes": bpp * 1024**2 / 8, "extrapolated_2048_bytes": bpp * 2048**2 / 8,
            "png_bits_per_pixel": 8 * sum(png_sizes) / sum(pixels)}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=8192)
    parser.add_argument("--batches", default="16,64,256,1024")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    load_before = os.getloadavg()[0]
    folder = Path(tempfile.mkdtemp(prefix="bench-limits-"))
    writes = [feature_write_rate(args.rows, int(b), folder / f"catalog-{b}") for b in args.batches.split(",")]
    photos = photo_bytes()
    result = {"feature_writes": writes, "photos": photos, "load_average_before": load_before,
              "load_average_after": os.getloadavg()[0]}  # fmt: skip
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        print()
        return 0
    for w in writes:
        print(f"feature rows, {w['batch']:>5} per transaction: {w['rows_per_second']:,.0f} rows/s "
              f"({w['rows']:,} rows in {w['seconds']:.2f} s; {w['bytes_per_row']:,.0f} bytes per row)")  # fmt: skip
    print(f"JPEG q90 photographs: {photos['mean_bytes'] / 1024:.0f} KiB mean, {photos['bits_per_pixel']:.2f} bits "
          f"per pixel; at that rate 1024x1024 ~{photos['extrapolated_1024_bytes'] / 1024:.0f} KiB, 2048x2048 "
          f"~{photos['extrapolated_2048_bytes'] / 1024:.0f} KiB (extrapolated)")  # fmt: skip
    print(f"PNG (what stylize writes) of the same photographs: {photos['png_bits_per_pixel']:.1f} bits per pixel; "
          f"1024x1024 ~{photos['png_bits_per_pixel'] * 1024**2 / 8 / 2**20:.1f} MiB (extrapolated)")  # fmt: skip
    print(f"load average {load_before:.1f} -> {result['load_average_after']:.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Export N products x 4 ad presets (JPEG) and time it.

    python bench/bench_export.py [--products 200] [--presets square,portrait,story,landscape] [--workers 2] [--json]

The product shots are generated once into bench/out/export-N/ (distinct 1024x1024 JPEGs: a patterned product
with a soft floor shadow on a light studio backdrop with a gradient) and reused by later runs; only the export is
timed: load, mask, framing, sRGB, encoding with metadata, atomic writes, manifests. A second run into the same
folder times a resume in which every file is already complete (each one is re-hashed and skipped).
Goal (Export issue): 200 products x 4 presets (800 JPEG files) in under 60 s on a 2-core machine.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

from stylerec_desktop.core.export import ExportItem, ExportOptions, export_job, parse_presets
from stylerec_desktop.core.jobs import run_job

OUT = Path(__file__).resolve().parent / "out"
SIZE = 1024


def _product_shot(rng: np.random.Generator) -> Image.Image:
    """One synthetic studio shot: gradient backdrop, soft shadow, a patterned product of random shape and size."""
    top, bottom = rng.integers(236, 256, 3), rng.integers(222, 246, 3)
    ramp = np.linspace(0.0, 1.0, SIZE, dtype=np.float32)[:, None, None]
    backdrop = np.broadcast_to(top * (1 - ramp) + bottom * ramp, (SIZE, SIZE, 3)).astype(np.uint8)
    shot = Image.fromarray(np.ascontiguousarray(backdrop))
    w, h = int(rng.integers(260, 640)), int(rng.integers(260, 760))
    x0, y0 = int(rng.integers(60, SIZE - w - 60)), int(rng.integers(60, SIZE - h - 90))
    shadow = Image.new("L", shot.size, 0)
    ImageDraw.Draw(shadow).ellipse([x0 - 20, y0 + h - 30, x0 + w + 20, y0 + h + 30], fill=110)
    shot = Image.composite(Image.new("RGB", shot.size, (70, 70, 72)), shot, shadow.filter(ImageFilter.GaussianBlur(22)))
    mask = Image.new("L", shot.size, 0)
    draw = ImageDraw.Draw(mask)
    kind = int(rng.integers(0, 3))
    if kind == 0:
        draw.ellipse([x0, y0, x0 + w, y0 + h], fill=255)
    elif kind == 1:
        draw.rounded_rectangle([x0, y0, x0 + w, y0 + h], radius=int(min(w, h) * 0.2), fill=255)
    else:
        draw.polygon([(x0 + w // 2, y0), (x0 + w, y0 + h), (x0, y0 + h)], fill=255)
    colours = rng.integers(0, 220, (2, 3))
    stripes = (np.arange(SIZE)[None, :] + np.arange(SIZE)[:, None]) // int(rng.integers(12, 60)) % 2
    pattern = np.where(stripes[..., None] == 1, colours[0], colours[1]).astype(np.uint8)
    grain = rng.normal(0, 6, (SIZE, SIZE, 1))
    pattern = np.clip(pattern + grain, 0, 255).astype(np.uint8)
    shot.paste(Image.fromarray(pattern), mask=mask)
    return shot


def make_dataset(n: int) -> list[ExportItem]:
    folder = OUT / f"export-{n}"
    folder.mkdir(parents=True, exist_ok=True)
    categories = ["tees", "dresses", "totes", "mugs", "cushions", "sneakers"]
    items = []
    for i in range(n):
        path = folder / f"P{i:05d}.jpg"
        if not path.is_file():
            # One generator per image, so image i is the same whichever files already exist.
            _product_shot(np.random.default_rng([6, i])).save(path, quality=92)
        items.append(ExportItem(f"P{i:05d}", f"Bench product {i}", categories[i % 6], path))
    return items


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=200)
    parser.add_argument("--presets", default="square,portrait,story,landscape")
    parser.add_argument("--workers", type=int, default=max(1, min(4, os.cpu_count() or 1)))
    parser.add_argument("--keep", action="store_true", help="keep the exported files (in bench/out/export-run)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    items = make_dataset(args.products)
    prepare_s = time.perf_counter() - t0
    presets = parse_presets(args.presets)
    out_root = OUT if args.keep else Path(tempfile.mkdtemp(prefix="stylerec-bench-export-"))
    out_dir = out_root / "export-run"
    shutil.rmtree(out_dir, ignore_errors=True)
    options = ExportOptions(workers=args.workers)
    try:
        t0, c0 = time.perf_counter(), time.process_time()
        result = run_job(export_job(items, presets, out_dir, options))
        export_s, export_cpu_s = time.perf_counter() - t0, time.process_time() - c0
        t0 = time.perf_counter()
        resumed = run_job(export_job(items, presets, out_dir, options))
        resume_s = time.perf_counter() - t0
        total_bytes = sum(row.bytes for row in result.files)
    finally:
        if not args.keep:
            shutil.rmtree(out_root, ignore_errors=True)
    report = {
        "products": args.products,
        "presets": [p.name for p in presets],
        "files": len(result.files),
        "written": result.written,
        "failures": len(result.failures),
        "workers": args.workers,
        "export_s": round(export_s, 2),
        "files_per_s": round(len(result.files) / export_s, 1),
        # CPU seconds of all threads: what the export costs whatever else the machine is doing meanwhile.
        "export_cpu_s": round(export_cpu_s, 2),
        "load_average_1min": round(os.getloadavg()[0], 2) if hasattr(os, "getloadavg") else None,
        "resume_all_skipped_s": round(resume_s, 2),
        "resume_skipped": resumed.skipped,
        "mb_written": round(total_bytes / 1e6, 1),
        "dataset_prepare_s": round(prepare_s, 2),
        "goal_s": 60,
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}",
    }
    if args.json:
        print(json.dumps(report, indent=2))
    else:
        print(
            f"Exported {report['files']} files ({args.products} products x {len(presets)} presets, "
            f"{report['mb_written']} MB) in {report['export_s']} s = {report['files_per_s']} files/s "
            f"({report['export_cpu_s']} CPU s, {args.workers} workers, load {report['load_average_1min']}; "
            f"goal < 60 s). Resume with every file complete: {report['resume_all_skipped_s']} s"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

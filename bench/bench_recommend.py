"""Recommendation benchmarks: top-k latency and index memory for 100,000 products, and indexing throughput.

    python bench/bench_recommend.py [--products 100000] [--images 96] [--device cpu] [--json]

- **Top-k latency**: a synthetic index of ``--products`` products (random style/visual/palette/pattern vectors,
  20,000 synthetic customers with 10 interactions each for co-occurrence and popularity) and a customer with a
  24-item history in three tastes; ``recommend(k=10)`` timed 30 times after a warm-up, plain, with filters and with
  MMR diversity 0.3. Goal (issue 4): under 50 ms on a 2-core CPU.
- **Index memory**: ``StyleIndex.nbytes`` of that index (all matrices, the behaviour CSR arrays included).
- **Indexing throughput**: ``--images`` distinct 512x512 JPEG product shots (a garment silhouette filled with a random
  pattern on a light backdrop, like the demo's) in a fresh catalog, indexed with the real networks, batch 16. The
  networks are loaded before the clock starts; decoding, masks, palettes, patterns, both networks and the database
  writes are all timed. Repeated ``--repeats`` times on fresh catalogs; the median is reported.
  Goal (issue 4): >= 15 images/s on a 2-core CPU; >= 500 images/s on a GPU.
"""

from __future__ import annotations

import argparse
import json
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw

from stylerec_desktop.core.catalog import Catalog, ProductRecord
from stylerec_desktop.core.imaging import inspect_image
from stylerec_desktop.core.jobs import run_job
from stylerec_desktop.core.models.device import choose_device
from stylerec_desktop.core.recommend.behaviour import Behaviour
from stylerec_desktop.core.recommend.features import (
    PALETTE_SIZE,
    PATTERN_DIM,
    STYLE_DIM,
    VISUAL_DIM,
    FeatureExtractor,
)
from stylerec_desktop.core.recommend.index import StyleIndex
from stylerec_desktop.core.recommend.indexing import (
    PROCESS_POOL_ABOVE,
    default_workers,
    index_catalog,
    preparation_pool,
)
from stylerec_desktop.core.recommend.prepare import prepare_for_index
from stylerec_desktop.core.recommend.ranking import Filters, recommend
from stylerec_desktop.core.recommend.taste import customer_taste

NOW = datetime(2026, 6, 30, tzinfo=UTC)


def synthetic_index(n: int, seed: int = 0) -> StyleIndex:
    """``n`` products in 60 style clusters (so tastes and PCA have structure), with synthetic behaviour."""
    rng = np.random.default_rng(seed)
    clusters = rng.integers(0, 60, n)
    style = (rng.normal(size=(60, STYLE_DIM)) * 2)[clusters] + rng.normal(size=(n, STYLE_DIM))
    visual = np.maximum(rng.normal(size=(60, VISUAL_DIM))[clusters] + rng.normal(size=(n, VISUAL_DIM)), 0)
    lab = np.column_stack([rng.uniform(10, 95, n * PALETTE_SIZE), rng.uniform(-60, 60, (n * PALETTE_SIZE, 2))])
    share = rng.dirichlet(np.ones(PALETTE_SIZE), n).reshape(-1, 1)
    palettes = np.hstack([lab, share]).reshape(n, PALETTE_SIZE, 4)
    pattern = rng.random((n, PATTERN_DIM))
    categories = ["tees", "dresses", "totes", "mugs", "cushions", "sneakers", "caps", "hoodies"]
    index = StyleIndex.from_features(
        product_ids=np.arange(1, n + 1),
        skus=[f"SKU-{i:06d}" for i in range(n)],
        titles=[f"Product {i}" for i in range(n)],
        categories=[categories[i % len(categories)] for i in range(n)],
        prices=rng.uniform(5, 200, n).round(2).tolist(),
        in_stock=(rng.random(n) > 0.1).tolist(),
        style=style.astype(np.float32),
        visual=visual.astype(np.float32),
        palettes=palettes.astype(np.float32),
        pattern=pattern.astype(np.float32),
        extractor="bench",
        as_of=NOW,
    )
    users = np.repeat(np.arange(20_000), 10)
    items = rng.integers(0, n, len(users))
    weights = rng.choice([1.0, 2.0, 3.0, 5.0], len(users)).astype(np.float32)
    popularity = np.bincount(items, weights=weights, minlength=n).astype(np.float32)
    index.behaviour = Behaviour.from_pairs(users, items, weights, n, popularity)
    return index


def bench_topk(n: int, repeats: int = 30) -> dict[str, object]:
    started = time.perf_counter()
    index = synthetic_index(n)
    build_s = time.perf_counter() - started
    rng = np.random.default_rng(1)
    rows = np.concatenate([rng.choice(np.flatnonzero(index.style_raw[:, 0] > q), 8) for q in (-3, 0, 3)])
    events = [
        (int(index.product_ids[r]), kind, NOW.replace(day=1 + i % 28), 1)
        for i, (r, kind) in enumerate(zip(rows, ["view", "like", "cart", "purchase"] * 6, strict=False))
    ]
    taste = customer_taste(index, "bench", events, internal_id=3)
    cases = {
        "plain": {},
        "filters": {"filters": Filters(categories=("tees", "dresses"), max_price=120.0, in_stock_only=True)},
        "diversity_0.3": {"diversity": 0.3},
    }
    timings = {}
    for name, kwargs in cases.items():
        recommend(index, taste, k=10, **kwargs)  # warm-up
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter()
            recommend(index, taste, k=10, **kwargs)
            times.append((time.perf_counter() - t0) * 1000)
        times.sort()
        timings[name] = {"median_ms": statistics.median(times), "p95_ms": times[int(0.95 * (len(times) - 1))]}
    return {
        "products": n,
        "tastes": len(taste.tastes),
        "history_items": len(taste.items),
        "index_build_s": build_s,
        "index_memory_mb": index.nbytes / 2**20,
        "looks_dims": int(index.looks.shape[1]),
        "topk": timings,
    }


def _shot(rng: np.random.Generator, size: int = 512) -> Image.Image:
    """A product shot: a tee silhouette filled with random stripes/dots/checks in random colours."""
    base, accent = (tuple(int(c) for c in rng.integers(0, 256, 3)) for _ in range(2))
    surface = Image.new("RGB", (size, size), base)
    pen = ImageDraw.Draw(surface)
    period = int(rng.integers(20, 60))
    kind = int(rng.integers(0, 3))
    for a in range(0, size, period):
        for b in range(0, size, period):
            if kind == 0 and b == 0:
                pen.rectangle((0, a, size, a + period // 2), fill=accent)
            elif kind == 1:
                pen.ellipse((a, b, a + period // 2, b + period // 2), fill=accent)
            elif kind == 2 and (a // period + b // period) % 2:
                pen.rectangle((a, b, a + period - 1, b + period - 1), fill=accent)
    s = size / 160
    outline = [(50, 20), (110, 20), (145, 50), (128, 68), (115, 58), (115, 145), (45, 145), (45, 58), (32, 68),
               (15, 50)]  # fmt: skip
    mask = Image.new("L", (size, size), 0)
    ImageDraw.Draw(mask).polygon([(x * s, y * s) for x, y in outline], fill=255)
    shot = Image.new("RGB", (size, size), (246, 246, 244))
    shot.paste(surface, mask=mask)
    return shot


def bench_indexing(n_images: int, device: str, repeats: int, batch_size: int, workers: int | None) -> dict[str, object]:
    rng = np.random.default_rng(2)
    folder = Path(tempfile.mkdtemp(prefix="bench-index-"))
    images = folder / "images"
    images.mkdir()
    infos = []
    for i in range(n_images):
        path = images / f"p{i:05d}.jpg"
        _shot(rng).save(path, quality=90)
        infos.append(inspect_image(path))
    extractor = FeatureExtractor(choose_device(device))  # loaded before the clock starts
    threads = workers or default_workers()
    rates = []
    for run in range(repeats):
        catalog = Catalog.create(folder / f"catalog-{run}")
        catalog.upsert_products([ProductRecord(f"P{i}", f"Product {i}", "tees", images=(info,)) for i, info in
                                 enumerate(infos)])  # fmt: skip
        report = run_job(index_catalog(catalog, batch_size=batch_size, extractor=extractor, workers=threads))
        catalog.close()
        rates.append(report.images_per_second)
    # The two halves on their own: decoding + masks + palettes + patterns in the workers, and the networks.
    paths = [images / f"p{i:05d}.jpg" for i in range(n_images)]
    with preparation_pool(threads, processes=threads > PROCESS_POOL_ABOVE) as pool:
        list(pool.map(abs, range(threads)))  # workers started: this row is the steady rate
        start = time.perf_counter()
        prepared = list(pool.map(prepare_for_index, paths))
        prepare_rate = n_images / (time.perf_counter() - start)
    start = time.perf_counter()
    for i in range(0, n_images, batch_size):
        extractor.extract(prepared[i : i + batch_size])  # returns numpy arrays, so the device has finished
    network_rate = n_images / (time.perf_counter() - start)
    return {
        "images": n_images,
        "batch_size": batch_size,
        "workers": threads,
        "device": str(extractor.device),
        "dtype": str(extractor.dtype).removeprefix("torch."),
        "runs_images_per_s": rates,
        "median_images_per_s": statistics.median(rates),
        "prepare_only_images_per_s": prepare_rate,
        "networks_only_images_per_s": network_rate,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--images", type=int, default=96)
    parser.add_argument("--repeats", type=int, default=3, help="indexing runs (median reported)")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--workers", type=int, default=None, help="images prepared at once (default: the app's)")
    parser.add_argument("--skip-indexing", action="store_true")
    parser.add_argument("--skip-topk", action="store_true")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    result: dict[str, object] = {
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "torch_threads": torch.get_num_threads(),
    }
    if not args.skip_topk:
        result["recommend"] = bench_topk(args.products)
    if not args.skip_indexing:
        result["indexing"] = bench_indexing(args.images, args.device, args.repeats, args.batch_size, args.workers)
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        print()
        return 0
    if "recommend" in result:
        r = result["recommend"]
        print(f"{r['products']:,} products, index {r['index_memory_mb']:.0f} MB ({r['looks_dims']} dims per product), "
              f"built in {r['index_build_s']:.1f} s")  # fmt: skip
        for name, t in r["topk"].items():
            print(f"  recommend k=10 {name:<14} median {t['median_ms']:6.1f} ms   p95 {t['p95_ms']:6.1f} ms")
    if "indexing" in result:
        i = result["indexing"]
        runs = ", ".join(f"{x:.1f}" for x in i["runs_images_per_s"])
        print(
            f"indexing {i['images']} images on {i['device']} ({i['dtype']}), batch {i['batch_size']}: "
            f"median {i['median_images_per_s']:.1f} images/s (runs: {runs}); {i['workers']} workers"
        )
        print(f"  on their own: preparing {i['prepare_only_images_per_s']:.1f} images/s, "
              f"networks {i['networks_only_images_per_s']:.1f} images/s")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Batch recommendations benchmark: `recommend --all` for 1,000 customers on a 20,000-product catalog.

    python bench/bench_batch.py [--products 20000] [--customers 1000] [--format jsonl|csv] [--k 10] [--json]
                                [--cluster local[2]|auto|ray://HOST:PORT]

A catalog on disk, built synthetically before the clock starts: ``--products`` products in 8 categories, each with a
stored feature row of the current extractor (style and visual vectors drawn around 60 style clusters, so tastes and
the PCA have structure; random palettes and patterns; no image is decoded), and ``--customers`` customers, 95% of
them with 20 events (views, likes, carts, purchases over 90 days, 80% inside their own two style clusters, which
gives the co-occurrence real links) and 5% with none. The clock then times the batch job exactly as `stylerec
recommend --all --out FILE` runs it: the style index loaded from the catalog (cold cache), every customer's history
read, ranked (on ``--workers`` threads), explained and written to the file (atomically). Goal (issue 10): under
60 s on this 2-core CPU.

With ``--cluster`` the ranking runs on Ray tasks instead (issue 14, `recommend --all --cluster`): the cluster is
connected (or, ``local[N]``, started) once before the clock starts, its start time printed apart, and each timed
batch joins it, as a workstation that keeps a cluster up would; the file is then compared with a single-machine run's
(``identical``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np

from stylerec_desktop.core.catalog import Catalog, CustomerRecord, EventRecord, ImageInfo, ProductRecord
from stylerec_desktop.core.cluster import ClusterSpec, open_cluster, parse_cluster
from stylerec_desktop.core.jobs import run_job
from stylerec_desktop.core.recommend.batch import batch_workers, recommend_batch
from stylerec_desktop.core.recommend.batch_cluster import recommend_batch_on_cluster
from stylerec_desktop.core.recommend.features import (
    PALETTE_SIZE,
    PATTERN_DIM,
    STYLE_DIM,
    VISUAL_DIM,
    ImageFeatures,
    extractor_version,
)
from stylerec_desktop.core.recommend.service import IndexCache

NOW = datetime(2026, 6, 30, tzinfo=UTC)
CLUSTERS = 60
CATEGORIES = ["tees", "dresses", "totes", "mugs", "cushions", "sneakers", "caps", "hoodies"]
KINDS = ["view", "view", "view", "like", "cart", "purchase"]


def build_catalog(folder: Path, n_products: int, n_customers: int, seed: int = 0) -> tuple[Catalog, np.ndarray]:
    """The synthetic catalog (see the module docstring); returns it and each product's style cluster."""
    rng = np.random.default_rng(seed)
    clusters = rng.integers(0, CLUSTERS, n_products)
    style = (rng.normal(size=(CLUSTERS, STYLE_DIM)) * 2)[clusters] + rng.normal(size=(n_products, STYLE_DIM))
    visual = np.maximum(rng.normal(size=(CLUSTERS, VISUAL_DIM))[clusters] + rng.normal(size=(n_products, VISUAL_DIM)),
                        0)  # fmt: skip
    lab = np.column_stack([rng.uniform(10, 95, n_products * PALETTE_SIZE),
                           rng.uniform(-60, 60, (n_products * PALETTE_SIZE, 2))])  # fmt: skip
    share = rng.dirichlet(np.ones(PALETTE_SIZE), n_products).reshape(-1, 1)
    palettes = np.hstack([lab, share]).reshape(n_products, PALETTE_SIZE, 4).astype(np.float32)
    pattern = rng.random((n_products, PATTERN_DIM)).astype(np.float32)
    catalog = Catalog.create(folder)
    version = extractor_version()
    records, blobs = [], []
    for i in range(n_products):
        sha = f"{i:064x}"
        image = ImageInfo(folder / "images" / f"p{i}.jpg", sha, 512, 512)
        records.append(ProductRecord(f"SKU-{i:06d}", f"Product {i}", CATEGORIES[i % len(CATEGORIES)],
                                     price=round(float(rng.uniform(5, 200)), 2), images=(image,)))  # fmt: skip
        features = ImageFeatures(style[i].astype(np.float32), visual[i].astype(np.float32), palettes[i], pattern[i])
        blobs.append(features.to_blobs(sha, version))
    catalog.upsert_products(records)
    catalog.store_image_features(blobs)
    by_cluster = [np.flatnonzero(clusters == c) for c in range(CLUSTERS)]
    customers = [f"CUST-{c:05d}" for c in range(n_customers)]
    catalog.upsert_customers([CustomerRecord(c) for c in customers])
    events = []
    for c, customer in enumerate(customers):
        if c % 20 == 19:  # 5% with no history
            continue
        own = rng.choice(CLUSTERS, 2, replace=False)
        for e in range(20):
            pool = by_cluster[int(rng.choice(own))] if rng.random() < 0.8 else np.arange(n_products)
            product = int(rng.choice(pool))
            when = NOW - timedelta(days=float(rng.uniform(0, 90)), minutes=e)
            events.append(EventRecord(customer, f"SKU-{product:06d}", str(rng.choice(KINDS)), when))
    catalog.add_events(events)
    return catalog, clusters


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=20_000)
    parser.add_argument("--customers", type=int, default=1_000)
    parser.add_argument("--format", choices=("jsonl", "csv"), default="jsonl")
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--workers", type=int, default=None, help="ranking threads (default: the app's)")
    parser.add_argument("--repeats", type=int, default=1, help="batches timed one after the other on the same "
                        "catalog, each with a cold index cache")  # fmt: skip
    parser.add_argument("--cluster", default=None, help="rank on this Ray cluster (auto, ray://HOST:PORT, local[N])")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    folder = Path(tempfile.mkdtemp(prefix="bench-batch-"))
    started = time.perf_counter()
    catalog, _ = build_catalog(folder / "catalog", args.products, args.customers)
    build_s = time.perf_counter() - started
    if args.cluster:
        spec = parse_cluster(args.cluster)
        started = time.perf_counter()
        with open_cluster(spec) as session:
            print(f"{spec}: {session.describe()}, started in {time.perf_counter() - started:.1f} s", flush=True)
            for _ in range(args.repeats):
                _timed_batch(catalog, folder, args, build_s, spec)
    else:
        for _ in range(args.repeats):
            _timed_batch(catalog, folder, args, build_s)
    catalog.close()
    return 0


def _timed_batch(
    catalog: Catalog, folder: Path, args: argparse.Namespace, build_s: float, cluster: ClusterSpec | None = None
) -> None:
    load_before = os.getloadavg()
    out = folder / f"recommendations.{args.format}"
    ids = sorted(catalog.customer_external_ids().values())
    workers = args.workers or batch_workers()
    if cluster is None:
        report = run_job(recommend_batch(catalog, ids, out, k=args.k, cache=IndexCache(), workers=workers))
    else:
        report = run_job(recommend_batch_on_cluster(catalog, ids, out, cluster, k=args.k, cache=IndexCache()))
    load_after = os.getloadavg()[0]
    lines = out.read_text(encoding="utf-8").count("\n")
    identical = single_s = None
    if cluster is not None:  # the same batch on this machine right after (a paired figure): the same bytes?
        reference = folder / f"reference.{args.format}"
        single = run_job(recommend_batch(catalog, ids, reference, k=args.k, cache=IndexCache(), workers=workers))
        single_s = single.seconds
        identical = reference.read_bytes() == out.read_bytes()
    result = {
        "products": args.products,
        "customers": report.customers,
        "no_history": report.no_history,
        "k": args.k,
        "workers": str(cluster) if cluster else workers,
        "format": report.format,
        "catalog_build_s": build_s,
        "batch_s": report.seconds,
        "index_load_s": report.index_seconds,
        "per_customer_ms": 1000 * (report.seconds - report.index_seconds) / max(report.customers, 1),
        "file_lines": lines,
        "file_mb": out.stat().st_size / 2**20,
        "load_average_before": load_before[0],
        "load_average_after": load_after,
        "identical_to_single_machine": identical,
        "single_machine_right_after_s": single_s,
    }
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        print(flush=True)
        return
    print(
        f"{report.customers:,} customers ({report.no_history} without history) x {args.products:,} products, "
        f"k={args.k}, {report.format}, {result['workers']} workers: {report.seconds:.1f} s "
        f"(index load {report.index_seconds:.1f} s, "
        f"{result['per_customer_ms']:.1f} ms per customer); {lines} lines, {result['file_mb']:.1f} MB; "
        f"load average {load_before[0]:.1f} -> {load_after:.1f} (catalog built in {build_s:.0f} s)"
        + ("" if identical is None else f"; the same batch on this machine right after: {single_s:.1f} s "
           f"({workers} threads), file identical: {identical} (load {os.getloadavg()[0]:.1f})"),
        flush=True,
    )


if __name__ == "__main__":
    raise SystemExit(main())

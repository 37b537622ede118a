"""The style index at a million products: build memory, open time, top-10 latency and recall of the exact top-10.

    python bench/bench_index_scale.py --products 1000000 [--customers 70] [--repeats 3] [--folder DIR] [--reuse]
                                      [--json]

A synthetic catalog of ``--products`` products (60 style clusters; raw features drawn chunk by chunk from a seed,
as a catalog's rows are read, so they never exist all at once) goes through the real code, each stage in its own
process so its peak memory is its own:

1. **build**: :func:`~stylerec_desktop.core.recommend.index_build.build_index` (two passes over the chunks), the
   FAISS candidate structure when FAISS is installed, and :func:`~.index_store.save_index` into ``--folder``.
   Reported: wall time, peak RSS (VmHWM) and the RSS the interpreter had before (torch, numpy and FAISS loaded),
   and the index's own size (its files on disk). Goal (issue 14): peak RSS at most twice the index's size.
2. **open**: :func:`~.index_store.open_store` (manifest, CRC-32 of every file, memory maps, product names and row
   lookups) in a fresh process; then synthetic behaviour (20,000 customers x 10 events) as ``load_index`` would add
   it from the events. Goal: under 5 s.
3. **query**: ``--customers`` customers, each with 24 history items in three style clusters; for each, top-10
   plain, with filters (two categories, a price cap, in stock) and with MMR diversity 0.3, timed ``--repeats`` times
   through the candidates (p50 and p95 over every call); then the same rankings with the candidates switched off
   (every product scored exactly, the path below 50,000 products) as the reference: recall of the exact top-10
   (mean, min and 5th percentile over customers, and over every query of the three cases together with a 95%
   bootstrap interval) and the exact path's own time. Goal: p95 < 100 ms, recall >= 0.95. The wall times depend on
   the machine's load (reported); the CPU time per call (all threads) much less.

``--reuse`` skips the build when ``--folder`` already holds a store of ``--products`` products (the query stage is
then all that runs, minutes instead of tens of minutes at a million).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

NOW = datetime(2026, 6, 30, tzinfo=UTC)
CLUSTERS = 60
CATEGORIES = ["tees", "dresses", "totes", "mugs", "cushions", "sneakers", "caps", "hoodies"]
CHUNK = 4096


def _status(field: str) -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def clusters_of_chunk(start: int, m: int) -> np.ndarray:
    """The style cluster of the ``m`` rows from ``start`` (random, from the chunk's own seed: the query stage
    draws them again to find a cluster's rows)."""
    return np.random.default_rng(100_000 + start // CHUNK).integers(0, CLUSTERS, m)


def all_clusters(n: int) -> np.ndarray:
    return np.concatenate([clusters_of_chunk(s, min(CHUNK, n - s)) for s in range(0, n, CHUNK)])


def synthetic_source(n: int):  # noqa: ANN201 - a ChunkSource
    from stylerec_desktop.core.recommend.features import PALETTE_SIZE, PATTERN_DIM, STYLE_DIM, VISUAL_DIM
    from stylerec_desktop.core.recommend.index_build import FeatureChunk

    centres = np.random.default_rng(0)
    style_c = (centres.normal(size=(CLUSTERS, STYLE_DIM)) * 2).astype(np.float32)
    visual_c = centres.normal(size=(CLUSTERS, VISUAL_DIM)).astype(np.float32)
    lab_c = np.column_stack([centres.uniform(20, 90, CLUSTERS), centres.uniform(-50, 50, (CLUSTERS, 2))])

    def chunks() -> Iterator[FeatureChunk]:
        for start in range(0, n, CHUNK):
            rows = np.arange(start, min(n, start + CHUNK))
            m = len(rows)
            rng = np.random.default_rng(1 + start // CHUNK)
            c = clusters_of_chunk(start, m)
            lab = lab_c[c][:, None, :] + rng.normal(scale=12, size=(m, PALETTE_SIZE, 3))
            share = rng.dirichlet(np.ones(PALETTE_SIZE), m)[..., None]
            yield FeatureChunk(
                product_ids=rows + 1,
                skus=[f"SKU-{i:07d}" for i in rows],
                titles=[f"Product {i}" for i in rows],
                categories=[CATEGORIES[i % len(CATEGORIES)] for i in rows],
                prices=rng.uniform(5, 200, m).round(2).tolist(),
                in_stock=(rng.random(m) > 0.1).tolist(),
                groups=[f"G{i // 4}" if i % 3 == 0 else "" for i in rows],
                style=style_c[c] + rng.normal(size=(m, STYLE_DIM)).astype(np.float32),
                visual=np.maximum(visual_c[c] + rng.normal(size=(m, VISUAL_DIM)).astype(np.float32), 0),
                palettes=np.concatenate([lab, share], axis=2).astype(np.float32),
                pattern=rng.random((m, PATTERN_DIM)).astype(np.float32),
                image_keys=np.asarray([f"{i:064x}" for i in rows], "S64"),
            )

    return chunks


def stage_build(n: int, folder: Path) -> dict[str, object]:
    from stylerec_desktop.core.recommend import candidates

    if candidates.available():
        import faiss  # noqa: F401 - loaded before the baseline, like torch
    from stylerec_desktop.core.recommend.index_build import build_index
    from stylerec_desktop.core.recommend.index_store import save_index

    baseline = _status("VmRSS")
    started = time.perf_counter()
    index = build_index(synthetic_source(n), n, "bench", as_of=NOW)
    built = time.perf_counter()
    if candidates.available():
        index.candidates = candidates.CandidateIndex.build(index)
    ann = time.perf_counter()
    save_index(index, folder, {"extractor": "bench", "products": 0, "image_features": 0}, fitted_rows=n)
    saved = time.perf_counter()
    on_disk = sum(p.stat().st_size for p in folder.iterdir())
    ann_bytes = (folder / "candidates.faiss").stat().st_size if (folder / "candidates.faiss").exists() else 0
    return {
        "products": n,
        "build_s": built - started,
        "candidates_s": ann - built,
        "save_s": saved - ann,
        "baseline_rss_mb": baseline,
        "peak_rss_mb": _status("VmHWM"),
        "cpu_s": time.process_time(),
        "load_average": os.getloadavg()[0],
        "index_mb_on_disk": on_disk / 2**20,
        "candidates_mb_on_disk": ann_bytes / 2**20,
    }


def _behaviour(n: int):  # noqa: ANN202
    from stylerec_desktop.core.recommend.behaviour import Behaviour

    rng = np.random.default_rng(5)
    users = np.repeat(np.arange(20_000), 10)
    items = rng.integers(0, n, len(users))
    weights = rng.choice([1.0, 2.0, 3.0, 5.0], len(users)).astype(np.float32)
    popularity = np.bincount(items, weights=weights, minlength=n).astype(np.float32)
    return Behaviour.from_pairs(users, items, weights, n, popularity)


def stage_query(folder: Path, customers: int, repeats: int, exact: bool = True) -> dict[str, object]:
    from stylerec_desktop.core.recommend.index_store import open_store
    from stylerec_desktop.core.recommend.ranking import Filters, recommend
    from stylerec_desktop.core.recommend.taste import customer_taste

    baseline = _status("VmRSS")
    started, cpu_started = time.perf_counter(), time.process_time()
    index, _ = open_store(folder)
    opened, open_cpu = time.perf_counter(), time.process_time() - cpu_started
    index.behaviour = _behaviour(len(index))
    index.as_of = NOW
    with_behaviour = time.perf_counter()
    n = len(index)
    rng = np.random.default_rng(7)
    tastes = []
    clusters = all_clusters(n)
    for c in range(customers):
        picked = []
        for cluster in rng.choice(CLUSTERS, 3, replace=False):
            picked += rng.choice(np.flatnonzero(clusters == cluster), 8, replace=False).tolist()
        events = [(int(index.product_ids[r]), kind, NOW.replace(day=1 + i % 28), 1)
                  for i, (r, kind) in enumerate(zip(picked, ["view", "like", "cart", "purchase"] * 6, strict=False))]
        tastes.append(customer_taste(index, f"c{c}", events, internal_id=c))  # fmt: skip
    first_query = time.perf_counter()
    recommend(index, tastes[0], k=10)
    first_done = time.perf_counter()
    cases = {
        "plain": {},
        "filters": {"filters": Filters(categories=("tees", "dresses"), max_price=120.0, in_stock_only=True)},
        "diversity_0.3": {"diversity": 0.3},
    }
    result: dict[str, object] = {
        "products": n,
        "load_average": os.getloadavg()[0],
        "open_s": opened - started,
        "open_cpu_s": open_cpu,
        "behaviour_s": with_behaviour - opened,
        "first_query_s": first_done - first_query,
        "open_rss_mb": _status("VmRSS") - baseline,
        "candidates": index.candidates is not None,
    }
    approx: dict[str, list[list[str]]] = {}
    for name, kwargs in cases.items():
        times, cpu, lists = [], [], []
        for taste in tastes:
            for _ in range(repeats):
                t0, c0 = time.perf_counter(), time.process_time()
                ranked = recommend(index, taste, k=10, **kwargs)
                times.append((time.perf_counter() - t0) * 1000)
                cpu.append((time.process_time() - c0) * 1000)
            lists.append([x.sku for x in ranked])
        times.sort()
        cpu.sort()
        approx[name] = lists
        # CPU time of the process per call beside the wall time: on a shared machine the wall time is mostly
        # waiting for a core; the CPU time is what a call costs (all threads).
        result[name] = {"median_ms": statistics.median(times), "p95_ms": times[int(0.95 * (len(times) - 1))],
                        "cpu_median_ms": statistics.median(cpu), "cpu_p95_ms": cpu[int(0.95 * (len(cpu) - 1))],
                        "calls": len(times), "load_average": os.getloadavg()[0]}  # fmt: skip
    if not exact:
        result["peak_rss_mb"] = _status("VmHWM")
        return result
    kept = index.candidates
    index.candidates = None  # the exact path: every product scored
    for name, kwargs in cases.items():
        times, recalls = [], []
        for taste, found in zip(tastes, approx[name], strict=True):
            t0 = time.perf_counter()
            exact = [x.sku for x in recommend(index, taste, k=10, **kwargs)]
            times.append((time.perf_counter() - t0) * 1000)
            recalls.append(len(set(exact) & set(found)) / max(1, len(exact)))
        times.sort()
        entry = result[name]
        assert isinstance(entry, dict)
        entry.update({
            "recall_mean": float(np.mean(recalls)), "recall_min": float(np.min(recalls)),
            "recall_p5": float(np.percentile(recalls, 5)), "exact_median_ms": statistics.median(times),
            "exact_p95_ms": times[int(0.95 * (len(times) - 1))], "recalls": recalls,
        })  # fmt: skip
    index.candidates = kept
    pooled = [r for name in cases for r in result[name].pop("recalls")]  # type: ignore[union-attr]
    low, high = _bootstrap_interval(pooled)
    result["recall_all"] = {"mean": float(np.mean(pooled)), "queries": len(pooled), "ci95": [low, high]}
    result["peak_rss_mb"] = _status("VmHWM")
    return result


def _bootstrap_interval(values: list[float], draws: int = 5000) -> tuple[float, float]:
    """95% percentile-bootstrap interval of the mean of ``values`` (queries resampled with replacement)."""
    x = np.asarray(values, np.float64)
    means = x[np.random.default_rng(11).integers(0, len(x), (draws, len(x)))].mean(axis=1)
    return float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=1_000_000)
    parser.add_argument("--customers", type=int, default=70, help="x 3 cases = the queries of the recall")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--folder", type=Path, default=None, help="where the index is kept (default: a temp dir)")
    parser.add_argument("--stage", choices=["build", "query"], help=argparse.SUPPRESS)  # the child processes
    parser.add_argument("--reuse", action="store_true", help="keep the store already in --folder (no build)")
    parser.add_argument("--no-exact", action="store_true",
                        help="time the top-10s only (no exact reference, no recall): a short run for a quiet moment")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    folder = args.folder or Path(tempfile.mkdtemp(prefix="bench-scale-")) / "style-index"
    if args.stage == "build":
        json.dump(stage_build(args.products, folder), sys.stdout)
        return 0
    if args.stage == "query":
        json.dump(stage_query(folder, args.customers, args.repeats, exact=not args.no_exact), sys.stdout)
        return 0
    result = {}
    stages = ["build", "query"]
    if args.reuse and _stored_count(folder) == args.products:
        stages.remove("build")
    for stage in stages:
        done = subprocess.run(
            [sys.executable, __file__, "--stage", stage, "--products", str(args.products), "--customers",
             str(args.customers), "--repeats", str(args.repeats), "--folder", str(folder),
             *(["--no-exact"] if args.no_exact else [])],
            capture_output=True, text=True, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            print(f"{stage} failed:\n{done.stderr[-3000:]}", file=sys.stderr)
            return 1
        result[stage] = json.loads(done.stdout)
    if args.json:
        json.dump(result, sys.stdout, indent=2)
        print()
        return 0
    q = result["query"]
    if "build" in result:
        _print_build(result["build"])
    else:
        print(f"{args.products:,} products: the store in {folder} reused (not built)")
    _print_query(q)
    return 0


def _stored_count(folder: Path) -> int:
    try:
        return int(json.loads((folder / "manifest.json").read_text())["count"])
    except (OSError, ValueError, KeyError):
        return -1


def _print_build(b: dict) -> None:
    print(f"{b['products']:,} products: index {b['index_mb_on_disk']:.0f} MB on disk (candidates "
          f"{b['candidates_mb_on_disk']:.0f} MB); built in {b['build_s']:.1f} s + candidates {b['candidates_s']:.1f} s "
          f"+ saved {b['save_s']:.1f} s; peak RSS {b['peak_rss_mb']:.0f} MB (interpreter before: "
          f"{b['baseline_rss_mb']:.0f} MB) = {b['peak_rss_mb'] / b['index_mb_on_disk']:.2f}x the index, "
          f"{(b['peak_rss_mb'] - b['baseline_rss_mb']) / b['index_mb_on_disk']:.2f}x above the interpreter "
          f"(load {b['load_average']:.1f})")


def _print_query(q: dict) -> None:
    print(f"  opened in {q['open_s']:.2f} s (CPU {q['open_cpu_s']:.2f} s; + behaviour {q['behaviour_s']:.2f} s), "
          f"first top-10 {q['first_query_s'] * 1000:.0f} ms; candidates: {q['candidates']}")  # fmt: skip
    for name in ("plain", "filters", "diversity_0.3"):
        t = q[name]
        recall = (f"  recall of exact top-10 {t['recall_mean']:.3f} (min {t['recall_min']:.1f}, p5 "
                  f"{t['recall_p5']:.2f})  exact path median {t['exact_median_ms']:.0f} ms" if "recall_mean" in t
                  else "")  # fmt: skip
        print(f"  top-10 {name:<14} median {t['median_ms']:6.1f} ms  p95 {t['p95_ms']:6.1f} ms  (CPU "
              f"{t['cpu_median_ms']:.0f} / {t['cpu_p95_ms']:.0f} ms){recall}; load {t['load_average']:.1f}")
    if "recall_all" not in q:
        return
    r = q["recall_all"]
    print(f"  recall of the exact top-10 over all {r['queries']} queries: {r['mean']:.3f} (95% interval "
          f"{r['ci95'][0]:.3f}-{r['ci95'][1]:.3f})")


if __name__ == "__main__":
    raise SystemExit(main())

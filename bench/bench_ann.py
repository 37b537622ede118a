"""Approximate nearest-neighbour libraries as the style index's candidate generator: FAISS, USearch, hnswlib.

    python bench/bench_ann.py --products 100000 [--libraries faiss-ivf,usearch,hnswlib] [--queries 200] [--json]

Vectors shaped like the index's ``looks`` rows: 373 dims in four unit-length blocks (style 100, visual 128, colour
125, pattern 20) drawn around 60 style clusters, so every row has norm 2 and inner product ranks like cosine.
Queries shaped like a ranking's look query: a cluster's blocks, each scaled by a different weight (the blended score
weighs the blocks unequally), plus noise. Each library runs in its own process (clean memory figures):

- build time (s) and the memory it adds (RSS after the build minus before, MB; the vectors' own float32 copy
  that the caller holds is not counted);
- one query at a time (how the app asks), median and p95 ms over ``--queries`` queries, for a few search widths;
- recall of the exact top-10 (by inner product, numpy float32) within the library's top-10 and top-100:
  mean and the 5th percentile over queries.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

import numpy as np

BLOCKS = (100, 128, 125, 20)
DIM = sum(BLOCKS)
CHUNK = 50_000


def _unit_blocks(x: np.ndarray) -> np.ndarray:
    start = 0
    for width in BLOCKS:
        part = x[:, start : start + width]
        part /= np.maximum(np.linalg.norm(part, axis=1, keepdims=True), 1e-12)
        start += width
    return x


def looks(n: int, seed: int = 0) -> np.ndarray:
    """``(n, 373)`` float32 look-like rows (see the module docstring), built in chunks."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(60, DIM)).astype(np.float32) * 1.5
    out = np.empty((n, DIM), np.float32)
    for start in range(0, n, CHUNK):
        m = min(CHUNK, n - start)
        chunk = centres[rng.integers(0, 60, m)] + rng.normal(size=(m, DIM)).astype(np.float32)
        out[start : start + m] = _unit_blocks(chunk)
    return out


def queries(count: int, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    # The data's centres (looks() draws them first from seed 0), so queries land where products are.
    centres = np.random.default_rng(0).normal(size=(60, DIM)).astype(np.float32) * 1.5
    q = _unit_blocks(centres[rng.integers(0, 60, count)] + rng.normal(size=(count, DIM)).astype(np.float32))
    start = 0
    for width in BLOCKS:
        q[:, start : start + width] *= rng.uniform(0.2, 2.0, (count, 1)).astype(np.float32)
        start += width
    return q


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _exact_top(data: np.ndarray, q: np.ndarray, k: int) -> np.ndarray:
    out = np.empty((len(q), k), np.int64)
    for i in range(0, len(q), 16):
        scores = q[i : i + 16] @ data.T
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        out[i : i + 16] = top
    return out


def _run_one(library: str, n: int, count: int) -> dict[str, object]:
    data = looks(n)
    q = queries(count)
    exact = _exact_top(data, q, 10)
    before = _rss_mb()
    started = time.perf_counter()
    if library == "faiss-ivf":
        import faiss

        # As the app builds it (core/recommend/candidates.py): rows padded to 384 dims for FAISS's SIMD scan.
        padded = 384
        nlist = int(max(64, round(np.sqrt(n))))
        quantizer = faiss.IndexFlatIP(padded)
        index = faiss.IndexIVFScalarQuantizer(quantizer, padded, nlist, faiss.ScalarQuantizer.QT_8bit,
                                              faiss.METRIC_INNER_PRODUCT)  # fmt: skip

        def pad(v: np.ndarray) -> np.ndarray:
            return np.ascontiguousarray(np.pad(v, ((0, 0), (0, padded - DIM))))

        index.train(pad(data[:: max(1, n // (nlist * 40))]))
        for start in range(0, n, CHUNK):
            index.add(pad(data[start : start + CHUNK]))
        faiss.omp_set_num_threads(1)  # one query at a time, as the app searches
        widths = [8, 16, 32, 64]

        def search(v: np.ndarray, k: int, width: int) -> np.ndarray:
            index.nprobe = width
            return index.search(pad(v), k)[1]

        params = {"nlist": nlist, "quantizer": "SQ8, 384 dims", "width": "nprobe"}
    elif library == "faiss-hnsw":
        import faiss

        index = faiss.IndexHNSWSQ(DIM, faiss.ScalarQuantizer.QT_8bit, 16, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efConstruction = 64
        index.train(data[:: max(1, n // 20_000)])
        for start in range(0, n, CHUNK):
            index.add(data[start : start + CHUNK])
        widths = [32, 64, 128, 256]

        def search(v: np.ndarray, k: int, width: int) -> np.ndarray:
            index.hnsw.efSearch = max(width, k)
            return index.search(v, k)[1]

        params = {"M": 16, "efConstruction": 64, "quantizer": "SQ8", "width": "efSearch"}
    elif library == "usearch":
        from usearch.index import Index

        index = Index(ndim=DIM, metric="ip", dtype="i8", connectivity=16, expansion_add=64)
        for start in range(0, n, CHUNK):
            part = data[start : start + CHUNK]
            index.add(np.arange(start, start + len(part)), part, threads=2)
        widths = [32, 64, 128, 256]

        def search(v: np.ndarray, k: int, width: int) -> np.ndarray:
            index.expansion_search = max(width, k)
            return np.asarray(index.search(v, k).keys).reshape(len(v), -1)

        params = {"connectivity": 16, "expansion_add": 64, "dtype": "i8", "width": "expansion_search"}
    elif library == "hnswlib":
        import hnswlib

        index = hnswlib.Index(space="ip", dim=DIM)
        index.init_index(max_elements=n, ef_construction=64, M=16)
        index.set_num_threads(2)
        for start in range(0, n, CHUNK):
            part = data[start : start + CHUNK]
            index.add_items(part, np.arange(start, start + len(part)))
        index.set_num_threads(1)
        widths = [32, 64, 128, 256]

        def search(v: np.ndarray, k: int, width: int) -> np.ndarray:
            index.set_ef(max(width, k))
            return index.knn_query(v, k)[0].astype(np.int64)

        params = {"M": 16, "ef_construction": 64, "dtype": "float32", "width": "ef"}
    else:
        raise SystemExit(f"unknown library {library!r}")
    build_s = time.perf_counter() - started
    added_mb = _rss_mb() - before
    rows = []
    for width in widths:
        search(q[:1], 10, width)  # warm-up
        times, recall10, recall100 = [], [], []
        for i in range(count):
            t0 = time.perf_counter()
            found = search(q[i : i + 1], 10, width)[0]
            times.append((time.perf_counter() - t0) * 1000)
            recall10.append(len(set(found.tolist()) & set(exact[i].tolist())) / 10)
            wide = search(q[i : i + 1], 100, width)[0]
            recall100.append(len(set(wide.tolist()) & set(exact[i].tolist())) / 10)
        times.sort()
        rows.append({
            "width": width,
            "median_ms": statistics.median(times),
            "p95_ms": times[int(0.95 * (len(times) - 1))],
            "recall10_mean": float(np.mean(recall10)),
            "recall10_p5": float(np.percentile(recall10, 5)),
            "recall10_in_top100_mean": float(np.mean(recall100)),
            "recall10_in_top100_p5": float(np.percentile(recall100, 5)),
        })  # fmt: skip
    return {"library": library, "products": n, "build_s": build_s, "added_mb": added_mb, "params": params,
            "searches": rows}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--libraries", default="faiss-ivf,faiss-hnsw,usearch,hnswlib")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--one", help=argparse.SUPPRESS)  # run one library in this process (the child)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if args.one:
        json.dump(_run_one(args.one, args.products, args.queries), sys.stdout)
        return 0
    results = []
    for library in args.libraries.split(","):
        done = subprocess.run(
            [sys.executable, __file__, "--one", library, "--products", str(args.products), "--queries",
             str(args.queries)], capture_output=True, text=True, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            print(f"{library}: failed\n{done.stderr[-2000:]}", file=sys.stderr)
            continue
        result = json.loads(done.stdout)
        results.append(result)
        if not args.json:
            print(f"{library} on {result['products']:,} vectors: built in {result['build_s']:.1f} s, "
                  f"+{result['added_mb']:.0f} MB ({result['params']})", flush=True)  # fmt: skip
            for row in result["searches"]:
                print(f"  {result['params']['width']}={row['width']:<4} median {row['median_ms']:6.2f} ms  "
                      f"p95 {row['p95_ms']:6.2f} ms  recall@10 {row['recall10_mean']:.3f} (p5 "
                      f"{row['recall10_p5']:.2f})  top-10 within top-100 {row['recall10_in_top100_mean']:.3f} "
                      f"(p5 {row['recall10_in_top100_p5']:.2f})", flush=True)  # fmt: skip
    if args.json:
        json.dump(results, sys.stdout, indent=2)
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""Run every benchmark one after another (`make bench`); each prints its own figures.

    python bench/run_all.py [--only import,gui,export,stylize,scale,recommend,ranking,learned,batch,masks,search,
                             workspace]

Benchmarks share the machine's cores: run them on an otherwise idle machine, one at a time, as this does.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCHES = {
    "import": ["bench/bench_import.py"],
    "gui": ["scripts/gui_timings.py"],
    "export": ["bench/bench_export.py"],
    "stylize": ["bench/bench_stylize.py"],
    "cluster-render": ["bench/bench_cluster_render.py"],
    "scale": ["bench/bench_scale.py", "--photos"],
    "recommend": ["bench/bench_recommend.py"],
    "ranking": ["bench/bench_ranking.py"],
    "learned": ["bench/bench_learned.py"],
    "batch": ["bench/bench_batch.py"],
    "masks": ["bench/bench_masks.py"],
    "search": ["bench/bench_search.py"],
    "workspace": ["scripts/workspace_timings.py"],
    "index": ["bench/bench_index_scale.py", "--products", "1000000"],
    "ann": ["bench/bench_ann.py", "--products", "100000"],
    "cluster": ["bench/bench_cluster.py"],
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated subset of: " + ", ".join(BENCHES))
    args = parser.parse_args()
    names = args.only.split(",") if args.only else list(BENCHES)
    unknown = [n for n in names if n not in BENCHES]
    if unknown:
        parser.error(f"unknown benchmark(s): {', '.join(unknown)}")
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    failed = []
    for name in names:
        script = ROOT / BENCHES[name][0]
        if not script.is_file():
            print(f"== {name}: {script.relative_to(ROOT)} is not in this checkout, skipped", flush=True)
            continue
        print(f"== {name}: {' '.join(BENCHES[name])} (load average {os.getloadavg()[0]:.1f})", flush=True)
        t0 = time.perf_counter()
        code = subprocess.call([sys.executable, *BENCHES[name]], cwd=ROOT, env=env)
        print(f"== {name}: exit {code} after {time.perf_counter() - t0:.0f} s\n", flush=True)
        if code:
            failed.append(name)
    if failed:
        print("failed: " + ", ".join(failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())

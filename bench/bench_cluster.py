"""Indexing through a local Ray cluster against indexing on this machine alone: the cluster's overhead.

    python bench/bench_cluster.py [--images 1000] [--workers 2] [--batch-size 16] [--skip-cli] [--json]

``--images`` distinct 512x512 JPEG product shots (``bench_recommend``'s drawn tees), each run on a fresh catalog of
them. Goal (issue 14): going through ``--cluster local[2]`` (a head and two worker processes on this machine) costs
under 20% of the single-machine time, with identical results. Rows:

- **with start-up**: the cluster's start, job and stop against the networks' load and the job, in this process.
- **end to end** (``--skip-cli`` leaves them out): ``stylerec index`` and ``stylerec index --cluster local[N]`` as
  a user runs them, timed from process start to exit: everything counted (imports, loading the networks; for the
  cluster: starting it, each worker loading the networks, stopping it).
- **job only**: in this process. Single machine: the networks loaded before the clock starts, then the job. Cluster:
  the cluster started before the clock starts (its start and stop are reported on their own rows), then the job,
  which still includes each fresh worker process importing torch and loading the networks (its first task).
- **job on warm workers**: the same cluster's second job (on a second catalog), whose worker processes already
  hold the networks: what a running cluster costs per job.

The job rows also give the CPU seconds used by this process and everything under it (the cluster's processes), which
depend far less than wall time on what else runs on a shared machine. Each cluster catalog's stored feature blobs
are compared byte for byte with the single-machine catalog's.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch
from bench_recommend import _shot

from stylerec_desktop.core.catalog import Catalog, ImageInfo, ProductRecord
from stylerec_desktop.core.cluster import open_cluster, parse_cluster
from stylerec_desktop.core.imaging import inspect_image
from stylerec_desktop.core.jobs import run_job
from stylerec_desktop.core.recommend.features import FeatureExtractor, extractor_version
from stylerec_desktop.core.recommend.index_cluster import index_on_cluster
from stylerec_desktop.core.recommend.indexing import index_catalog

ROOT = Path(__file__).resolve().parents[1]


def make_images(folder: Path, n: int) -> list[ImageInfo]:
    folder.mkdir(parents=True)
    rng = np.random.default_rng(14)
    infos = []
    for i in range(n):
        path = folder / f"p{i:05d}.jpg"
        _shot(rng).save(path, quality=90)
        infos.append(inspect_image(path))
    return infos


def make_catalog(folder: Path, infos: list[ImageInfo]) -> Path:
    with Catalog.create(folder) as catalog:
        catalog.upsert_products([ProductRecord(f"P{i}", f"Product {i}", "tees", images=(info,)) for i, info in
                                 enumerate(infos)])  # fmt: skip
    return folder


def blobs(folder: Path) -> dict[str, tuple[bytes, bytes, bytes, bytes]]:
    with Catalog.open(folder) as catalog:
        return {r.features.sha256: (r.features.style, r.features.visual, r.features.palette, r.features.pattern)
                for r in catalog.product_feature_rows(extractor_version())}  # fmt: skip


def tree_cpu_seconds() -> float:
    """CPU seconds (user + system) used so far by this process and every live process under it (a local
    cluster's head, raylets and workers), with their finished children's: a figure that, unlike wall time, hardly
    depends on what else runs on the machine."""
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            parents[int(entry.name)] = int(fields[1])
            times[int(entry.name)] = sum(int(value) for value in fields[11:15]) / tick  # utime stime cutime cstime
    ours = {os.getpid()}
    grew = True
    while grew:
        before = len(ours)
        ours |= {pid for pid, parent in parents.items() if parent in ours}
        grew = len(ours) > before
    return sum(times.get(pid, 0.0) for pid in ours)


def cli_seconds(folder: Path, *extra: str) -> float:
    """Wall time of one ``stylerec index`` process (everything counted). No CPU figure: the cluster's workers are
    orphaned when it stops, so their CPU time never reaches this process."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "stylerec_desktop.cli", "--catalog", str(folder), "-q", "index",
                    "--device", "cpu", *extra], check=True, env=env, stdout=subprocess.DEVNULL)  # fmt: skip
    return time.perf_counter() - started


def same(reference: dict, other: dict) -> str:
    equal = sum(other.get(sha) == value for sha, value in reference.items())
    return f"{equal}/{len(reference)} rows identical" + ("" if len(other) == len(reference) else f", {len(other)} rows")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2, help="worker processes of the local cluster")
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--skip-cli", action="store_true", help="leave out the end-to-end command-line rows")
    parser.add_argument("--single-torch-threads", type=int, help="torch threads of the single-machine job (default: "
                        "torch's, one per core); the cluster's workers run one each")  # fmt: skip
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    spec = parse_cluster(f"local[{args.workers}]")
    work = Path(tempfile.mkdtemp(prefix="bench-cluster-"))
    started = time.perf_counter()
    infos = make_images(work / "images", args.images)
    print(f"{args.images} images drawn in {time.perf_counter() - started:.0f} s; load {os.getloadavg()[0]:.1f}",
          file=sys.stderr)  # fmt: skip
    result: dict[str, Any] = {"images": args.images, "batch_size": args.batch_size, "cluster": str(spec),
                                 "load_before": os.getloadavg()}  # fmt: skip
    single_dir = make_catalog(work / "single", infos)

    if args.single_torch_threads:
        torch.set_num_threads(args.single_torch_threads)
    result["single_torch_threads"] = torch.get_num_threads()
    started = time.perf_counter()
    extractor = FeatureExtractor()
    result["single_network_load_s"] = time.perf_counter() - started
    cpu = tree_cpu_seconds()
    report = run_job(index_catalog(Catalog.open(single_dir), batch_size=args.batch_size, extractor=extractor))
    result["single_job_s"] = report.seconds
    result["single_job_cpu_s"] = tree_cpu_seconds() - cpu
    reference = blobs(single_dir)
    print(f"single machine, job only: {report.seconds:.1f} s", file=sys.stderr)

    started = time.perf_counter()
    with open_cluster(spec) as session:
        result["cluster_start_s"] = time.perf_counter() - started
        result["cluster_describe"] = session.describe()
        for name in ("cluster_job_s", "cluster_warm_job_s"):
            folder = make_catalog(work / name, infos)
            cpu = tree_cpu_seconds()
            with Catalog.open(folder) as catalog:
                report = run_job(index_on_cluster(catalog, spec, device="cpu", batch_size=args.batch_size))
            result[name] = report.seconds
            result[name.removesuffix("_s") + "_cpu_s"] = tree_cpu_seconds() - cpu
            result[name.removesuffix("_s") + "_identical"] = same(reference, blobs(folder))
            print(f"{name}: {report.seconds:.1f} s, {result[name.removesuffix('_s') + '_identical']}",
                  file=sys.stderr)  # fmt: skip
        stopping = time.perf_counter()
    result["cluster_stop_s"] = time.perf_counter() - stopping

    if not args.skip_cli:
        for name, extra in (("cli_single_s", ()), ("cli_cluster_s", ("--cluster", str(spec)))):
            folder = make_catalog(work / name, infos)
            result[name] = cli_seconds(folder, "--batch-size", str(args.batch_size), *extra)
            result[name.removesuffix("_s") + "_identical"] = same(reference, blobs(folder))
            print(f"{name}: {result[name]:.1f} s", file=sys.stderr)
    result["load_after"] = os.getloadavg()

    def overhead(cluster: str, single: str) -> float:
        return 100.0 * (result[cluster] / result[single] - 1.0)

    result["overhead_job_pct"] = overhead("cluster_job_s", "single_job_s")
    result["overhead_warm_job_pct"] = overhead("cluster_warm_job_s", "single_job_s")
    result["overhead_job_cpu_pct"] = overhead("cluster_job_cpu_s", "single_job_cpu_s")
    result["overhead_warm_job_cpu_pct"] = overhead("cluster_warm_job_cpu_s", "single_job_cpu_s")
    # With start-up, from this process's rows: starting the cluster, its job and stopping it against loading the
    # networks and the job (torch's import is outside both).
    cluster_total = result["cluster_start_s"] + result["cluster_job_s"] + result["cluster_stop_s"]
    single_total = result["single_network_load_s"] + result["single_job_s"]
    result["overhead_with_startup_pct"] = 100.0 * (cluster_total / single_total - 1.0)
    if not args.skip_cli:
        result["overhead_end_to_end_pct"] = overhead("cli_cluster_s", "cli_single_s")
    if args.json:
        print(json.dumps(result, indent=2))
        return 0
    for key, value in result.items():
        print(f"{key:28} {value:.2f}" if isinstance(value, float) else f"{key:28} {value}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

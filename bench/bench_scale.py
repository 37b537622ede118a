"""Preview vs render: does the 256 px preview of a recipe look like its 1024 px render? And what do the two cost?

    .venv/bin/python bench/bench_scale.py [--products 20] [--runs 5] [--threads 2] [--photos] [--json out.json]

Agreement: every product (the demo generator's drawn products, 512 px; with ``--photos`` also scikit-image's
photographs, if it is installed) in five styles (presets 7 and 13, the blend 3:0.5+12:0.5, a painting as the style
image, and another product as the style image), rendered at 256 and at 1024 px from the original; the 1024 render
is downscaled to 256 (Lanczos) and compared with the preview: SSIM of luminance and mean CIEDE2000 (our own
``stylize.metrics``). Reported per style and overall as median and worst, for the style-scale pipeline (recipe
version 2, the default) and, with ``--compare-v1``, for the version-1 pipeline (network at the output size).

Speed: end-to-end ``stylize()`` (PIL in, PIL out) of a 1024 px product shot at 1024 px and at 256 px (the preview),
preset 7 (fp32 on the CPU) and a style image (auto precision: bf16 where the CPU has it), with and without a style
scale, runs interleaved, median of ``--runs`` after a warm-up. The machine is shared: the load average is printed
before and after, and timings taken under load are not final figures.
"""

# ruff: noqa: E402  (OMP_WAIT_POLICY must be set before torch is imported, as in bench_stylize.py)
from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse
import json
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from stylerec_desktop.core.demo.assortment import plan_assortment, render_product
from stylerec_desktop.core.stylize import PresetBlend, StyleImage, StyleOptions, StyleSource, stylize
from stylerec_desktop.core.stylize.metrics import mean_delta_e, ssim
from stylerec_desktop.core.stylize.samples import painting, product_shot

PREVIEW, RENDER = 256, 1024


def load_average() -> list[float]:
    return [round(v, 2) for v in os.getloadavg()]


def products(count: int, photos: bool) -> list[tuple[str, Image.Image]]:
    """``count`` drawn demo products (seed 11), plus scikit-image's photographs when asked and available."""
    specs = plan_assortment(11, count)
    chosen = [(spec.sku, Image.fromarray(render_product(spec, 11))) for spec in specs]
    if photos:
        try:
            from skimage import data
        except ImportError:
            print("scikit-image is not installed: no photographs")
        else:
            for name in ("coffee", "chelsea", "astronaut", "rocket"):
                chosen.append((f"photo:{name}", Image.fromarray(getattr(data, name)())))
    return chosen


def styles(items: list[tuple[str, Image.Image]]) -> list[tuple[str, StyleSource]]:
    other = items[-1][1] if items else painting(256, seed=5)
    return [
        ("preset 7", PresetBlend({7: 1.0})),
        ("preset 13", PresetBlend({13: 1.0})),
        ("preset 3+12", PresetBlend({3: 0.5, 12: 0.5})),
        ("painting", StyleImage(painting(256), label="painting")),
        ("product as style", StyleImage(other, label="product")),
    ]


def agreement(
    items: list[tuple[str, Image.Image]], style_list: list[tuple[str, StyleSource]], style_scale: float | None
) -> dict[str, object]:
    """Median and worst SSIM / ΔE of the downscaled render against the preview, per style and overall."""
    per_style: dict[str, dict[str, float]] = {}
    every_ssim, every_de = [], []
    for label, source in style_list:
        scores, colours = [], []
        for _name, content in items:
            preview = stylize(content, source, StyleOptions(size=PREVIEW, style_scale=style_scale, device="cpu"))
            render = stylize(content, source, StyleOptions(size=RENDER, style_scale=style_scale, device="cpu"))
            small = np.asarray(render.resize(preview.size, Image.LANCZOS))
            scores.append(ssim(np.asarray(preview), small))
            colours.append(mean_delta_e(np.asarray(preview), small))
        per_style[label] = {"ssim_median": statistics.median(scores), "ssim_worst": min(scores),
                            "delta_e_median": statistics.median(colours), "delta_e_worst": max(colours)}  # fmt: skip
        every_ssim += scores
        every_de += colours
        print(f"  {label:18s} SSIM median {per_style[label]['ssim_median']:.3f} worst {min(scores):.3f}   "
              f"ΔE median {per_style[label]['delta_e_median']:.2f} worst {max(colours):.2f}", flush=True)
    overall = {"ssim_median": statistics.median(every_ssim), "ssim_worst": min(every_ssim),
               "delta_e_median": statistics.median(every_de), "delta_e_worst": max(every_de),
               "pairs": len(every_ssim),
               "passing": sum(s >= 0.9 and d < 3.0 for s, d in zip(every_ssim, every_de, strict=True))}  # fmt: skip
    print(f"  {'all':18s} SSIM median {overall['ssim_median']:.3f} worst {overall['ssim_worst']:.3f}   "
          f"ΔE median {overall['delta_e_median']:.2f} worst {overall['delta_e_worst']:.2f}   "
          f"{overall['passing']}/{overall['pairs']} pairs pass (SSIM >= 0.9, ΔE < 3)", flush=True)
    return {"per_style": per_style, "overall": overall}


def timings(runs: int) -> list[dict[str, object]]:
    """Median ms of each (engine, size, pipeline), the cases of one engine interleaved run by run."""
    content = product_shot(RENDER, seed=2)
    cases: dict[str, StyleSource] = {"preset 7": PresetBlend({7: 1.0}), "arbitrary": StyleImage(painting(256))}
    rows = []
    for label, source in cases.items():
        variants: dict[str, Callable[[], object]] = {}
        for size in (RENDER, PREVIEW):
            for scale, pipeline in ((None, "v1 (network at output size)"), (1.0, "style scale 1")):
                options = StyleOptions(size=size, style_scale=scale, device="cpu")
                variants[f"{size}|{pipeline}"] = lambda o=options, s=source: stylize(content, s, o)
        times: dict[str, list[float]] = {key: [] for key in variants}
        for fn in variants.values():
            fn()  # warm-up: weights, oneDNN caches
        for run in range(runs):
            order = list(variants.items())
            for key, fn in order if run % 2 == 0 else order[::-1]:
                start = time.perf_counter()
                fn()
                times[key].append((time.perf_counter() - start) * 1000.0)
        for key, values in times.items():
            size, pipeline = key.split("|")
            rows.append({"case": label, "size": int(size), "pipeline": pipeline,
                         "median_ms": statistics.median(values)})  # fmt: skip
            print(f"  {label:10s} {size:>5s} px  {pipeline:30s} {statistics.median(values):7.0f} ms", flush=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--products", type=int, default=20)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--photos", action="store_true", help="add scikit-image's photographs (if installed)")
    parser.add_argument("--compare-v1", action="store_true", help="also measure agreement without a style scale")
    parser.add_argument("--skip-agreement", action="store_true")
    parser.add_argument("--skip-timing", action="store_true")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    report: dict[str, object] = {"threads": args.threads, "torch": torch.__version__, "load_before": load_average()}
    if not args.skip_agreement:
        items = products(args.products, args.photos)
        style_list = styles(items)
        print(f"agreement, {len(items)} pictures x {len(style_list)} styles, style scale 1 (load {load_average()})")
        report["agreement"] = agreement(items, style_list, 1.0)
        if args.compare_v1:
            print(f"agreement, version-1 pipeline (load {load_average()})")
            report["agreement_v1"] = agreement(items, style_list, None)
    if not args.skip_timing:
        print(f"timing, {args.threads} threads, median of {args.runs} (load {load_average()})")
        report["timing"] = timings(args.runs)
    report["load_after"] = load_average()
    print(f"load average before {report['load_before']}, after {report['load_after']}")
    if args.json is not None:
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()

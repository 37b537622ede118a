"""Product masks and export framing measured against known truths, before and after the current code.

    python bench/bench_masks.py [--photos 120] [--large 24] [--demo 48] [--before 50bcb04] [--export 24] [--json]

Masks: mean IoU and boundary F-score (DAVIS style, tolerance 0.75% of the diagonal; and at a strict 2 px, which
tells edges apart on large images) of ``analyse_product`` on
the photograph-like generator (``core/demo/photos.py``: off-white gradient backdrops with vignetting, a darker
1-px frame line, JPEG, white-on-white, small items, close-ups, handles and straps) and on the drawn demo products
(``core/demo``: their true coverage from ``product_coverage``, saved as the demo does, JPEG q90), per kind; the
count of empty and whole-frame masks where a product is present; the mean confidence of good and bad masks.
"Before" is ``core/masks.py`` as it was at the ``--before`` commit (read with ``git show``), run on the same
images; "after" is the working tree.

"Unrefined" is the current analysis without its full-resolution edge step (an ablation); the 1000 x 1500 set is
where that step matters, the mask being found at 512 px.

Framing: generator photos exported to ``square``, ``story``, ``landscape`` and ``web`` (through ``export_job``,
JPEG files on disk); in each file, each padded side's mean colour against the clean backdrop along the photo's
edge next to it (CIEDE2000), the worst case and the share of files within 3; the upscale factors reported in the
manifest.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from types import ModuleType

import cv2
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
# Ad formats the framing figure is measured in: the square and story, and two that pad a portrait photo.
PRESETS = "square,story,landscape,web"
sys.path.insert(0, str(ROOT / "tests"))

from _measures import boundary_f, ciede2000, iou, srgb_to_lab  # noqa: E402

from stylerec_desktop.core import masks as current_masks  # noqa: E402
from stylerec_desktop.core.demo.assortment import plan_assortment, product_coverage, render_product  # noqa: E402
from stylerec_desktop.core.demo.build import JPEG_QUALITY  # noqa: E402
from stylerec_desktop.core.demo.photos import photo_set  # noqa: E402


def _module_at(commit: str, path: str, name: str) -> ModuleType:
    """The file ``path`` as it was at ``commit``, imported as a fresh module ``name``."""
    source = subprocess.run(["git", "show", f"{commit}:{path}"], cwd=ROOT, check=True, capture_output=True,
                            text=True).stdout  # fmt: skip
    spec = importlib.util.spec_from_loader(name, loader=None)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules[name] = module  # dataclasses look their module up while the class is built
    exec(compile(source, f"{commit}:{path}", "exec"), module.__dict__)  # noqa: S102 - our own repository's file
    return module


def _without_refinement(image: np.ndarray):  # type: ignore[no-untyped-def]
    """The current analysis with the full-resolution edge step replaced by plain upsampling (an ablation)."""
    original = current_masks.refine_matte

    def upsampled(rgb, coarse, grid, threshold, scale):  # type: ignore[no-untyped-def]
        height, width = rgb.shape[:2]
        up = cv2.resize(coarse.astype(np.uint8) * 255, (width, height), interpolation=cv2.INTER_LINEAR)
        return (up >= 128).astype(np.float32)

    current_masks.refine_matte = upsampled
    try:
        return current_masks.analyse_product(image)
    finally:
        current_masks.refine_matte = original


def _demo_shots(count: int) -> list[tuple[str, np.ndarray, np.ndarray]]:
    """``count`` demo products spread over the assortment: (category, JPEG-decoded image, true mask)."""
    import io

    specs = plan_assortment(7, 240)
    chosen = specs[:: max(1, len(specs) // count)][:count]
    shots = []
    for spec in chosen:
        buffer = io.BytesIO()
        Image.fromarray(render_product(spec, 7)).save(buffer, "JPEG", quality=JPEG_QUALITY, subsampling=0)
        image = np.asarray(Image.open(io.BytesIO(buffer.getvalue())).convert("RGB"))
        shots.append((spec.category.name, image, product_coverage(spec, 7) >= 0.5))
    return shots


def _score(analyse, shots) -> dict:  # type: ignore[no-untyped-def]
    per_kind: dict[str, list[tuple[float, float, float]]] = defaultdict(list)
    empty = whole = not_found = 0
    confidences: list[tuple[float, float]] = []
    started = time.perf_counter()
    for kind, image, truth in shots:
        result = analyse(image)
        mask = result.mask
        per_kind[kind].append((iou(mask, truth), boundary_f(mask, truth), boundary_f(mask, truth, tolerance=2.0)))
        empty += int(not mask.any())
        whole += int(mask.mean() > 0.99)
        not_found += int(not result.found)
        confidences.append((getattr(result, "confidence", float("nan")), iou(mask, truth)))
    elapsed = (time.perf_counter() - started) / max(1, len(shots))
    every = [v for values in per_kind.values() for v in values] or [(float("nan"),) * 3]
    conf = np.array(confidences, dtype=float).reshape(-1, 2)
    good, bad = conf[conf[:, 1] >= 0.9, 0], conf[conf[:, 1] < 0.9, 0]
    return {
        "iou": float(np.mean([v[0] for v in every])),
        "boundary_f": float(np.mean([v[1] for v in every])),
        "boundary_f_2px": float(np.mean([v[2] for v in every])),
        "per_kind": {k: (float(np.mean([v[0] for v in vs])), float(np.mean([v[1] for v in vs])), len(vs))
                     for k, vs in sorted(per_kind.items())},  # fmt: skip
        "empty": empty,
        "whole_frame": whole,
        "not_found": not_found,
        "ms_per_image": elapsed * 1000,
        "confidence_good": float(good.mean()) if len(good) else None,
        "confidence_bad": float(bad.mean()) if len(bad) else None,
        "bad_masks": int(len(bad)),
        # How well the confidence tells them apart at the cut the mask reports a doubtful outline.
        "bad_flagged": int((bad < current_masks.LOW_CONFIDENCE).sum()),
        "good_flagged": int((good < current_masks.LOW_CONFIDENCE).sum()),
    }


def _framing(shots, presets: str) -> dict:  # type: ignore[no-untyped-def]
    """Export every photo; the padding's colour difference per padded side, and the upscale factors."""
    from stylerec_desktop.core.export import ExportOptions, export_job, frame_for_preset, parse_presets
    from stylerec_desktop.core.jobs import run_job

    chosen = parse_presets(presets)
    by_name = {p.name: p for p in chosen}
    worst: list[float] = []
    files = padded_files = 0
    upscales: list[float] = []
    warnings = 0
    with tempfile.TemporaryDirectory() as folder:
        sources = []
        for i, shot in enumerate(shots):
            path = Path(folder) / "src" / f"P{i:03d}.png"
            path.parent.mkdir(exist_ok=True)
            Image.fromarray(shot.image).save(path)
            sources.append((f"P{i:03d}", "", "", path))
        out = Path(folder) / "out"
        result = run_job(export_job(sources, chosen, out, ExportOptions(workers=2)))
        document = json.loads(result.manifest_json.read_text(encoding="utf-8"))
        for row in document["files"]:
            files += 1
            warnings += bool(row.get("warnings"))
            upscales.append(float(row.get("upscale") or 0.0))
            shot = shots[int(row["sku"][1:])]
            pixels = np.asarray(Image.open(out / row["path"]).convert("RGB")).astype(np.float64)
            # Where the photo lies in the file: the same framing the export did (it is deterministic).
            box = frame_for_preset(shot.image, by_name[row["preset"]]).content_box
            sides = _padded_sides(box, shot, pixels.shape[:2])
            if not sides:
                continue
            padded_files += 1
            differences = []
            for region, reference in sides:
                mean = pixels[region].reshape(-1, 3).mean(axis=0)
                differences.append(float(ciede2000(srgb_to_lab(mean), srgb_to_lab(reference))))
            worst.append(max(differences))
    worst_array = np.array(worst) if worst else np.zeros(1)
    return {
        "files": files,
        "padded_files": padded_files,
        "padding_de2000_worst": float(worst_array.max()),
        "padding_de2000_median": float(np.median(worst_array)),
        "padding_within_3": float(np.mean(worst_array <= 3.0)),
        "upscale_median": float(np.median(upscales)) if upscales else None,
        "upscale_max": float(np.max(upscales)) if upscales else None,
        "files_with_warnings": warnings,
    }


def _padded_sides(box, shot, shape: tuple[int, int]) -> list:  # type: ignore[no-untyped-def]
    """Each padded side of an exported file: (its pixel region, the clean backdrop's mean colour along the photo's
    edge next to it). ``box`` is where the photo lies in the file."""
    left, top, right, bottom = box
    height, width = shape
    clean = shot.backdrop
    # A few pixels away from the seam: the photo's resampled edge is not padding.
    sides = []
    if top > 4:
        sides.append((np.s_[: top - 3, left:right], clean[1:4].reshape(-1, 3).mean(axis=0)))
    if bottom < height - 4:
        sides.append((np.s_[bottom + 3 :, left:right], clean[-4:-1].reshape(-1, 3).mean(axis=0)))
    if left > 4:
        sides.append((np.s_[top:bottom, : left - 3], clean[:, 1:4].reshape(-1, 3).mean(axis=0)))
    if right < width - 4:
        sides.append((np.s_[top:bottom, right + 3 :], clean[:, -4:-1].reshape(-1, 3).mean(axis=0)))
    return sides


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--photos", type=int, default=120, help="generator photos (default 120: 20 of each kind)")
    parser.add_argument("--large", type=int, default=24, help="generator photos at 1000 x 1500 (default 24)")
    parser.add_argument("--demo", type=int, default=48, help="drawn demo products (default 48)")
    parser.add_argument("--before", default="50bcb04", help="commit whose core/masks.py is 'before'")
    parser.add_argument("--export", type=int, default=24, help="generator photos exported for framing (default 24)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    # The export's per-file warnings go to the log; here they are counted, not printed.
    logging.getLogger("stylerec_desktop").setLevel(logging.ERROR)
    photos = photo_set(args.photos, seed=1)
    photo_shots = [(p.kind, p.image, p.mask) for p in photos]
    # Large photos (1000 x 1500): the mask is found at 512 px, so here the full-resolution edge matters most.
    large = [(p.kind, p.image, p.mask) for p in photo_set(args.large, seed=2, size=(1000, 1500))]
    demo_shots = _demo_shots(args.demo)
    before = _module_at(args.before, "stylerec_desktop/core/masks.py", "masks_before")
    report: dict = {"load": os.getloadavg()[0], "before_commit": args.before}
    for name, shots in (("photos", photo_shots), ("large", large), ("demo", demo_shots)):
        report[name] = {
            "before": _score(before.analyse_product, shots),
            "after": _score(current_masks.analyse_product, shots),
            "unrefined": _score(_without_refinement, shots),
        }
    report["framing"] = _framing(photos[: args.export], PRESETS)
    report["load_after"] = os.getloadavg()[0]
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    print(f"load average (1 min) at start {report['load']:.2f}, at end {report['load_after']:.2f}; 'before' is "
          f"core/masks.py at {args.before}")  # fmt: skip
    sets = (("photos", f"{args.photos} generator photos, 360 x 540"), ("large", f"{args.large} generator photos, "
            "1000 x 1500"), ("demo", f"{args.demo} demo products, 512 x 512"))  # fmt: skip
    for name, label in sets:
        print(f"\n{label}:")
        for when in ("before", "after", "unrefined"):
            r = report[name][when]
            conf = ""
            if r["confidence_good"] is not None and not np.isnan(r["confidence_good"]):
                bad = f"{r['confidence_bad']:.2f}" if r["confidence_bad"] is not None else "-"
                conf = (f"; confidence good {r['confidence_good']:.2f} / bad {bad}; flagged (< "
                        f"{current_masks.LOW_CONFIDENCE}) {r['bad_flagged']} bad, {r['good_flagged']} good")
            print(f"  {when:9s} IoU {r['iou']:.3f}  boundary F {r['boundary_f']:.3f} "
                  f"(2 px: {r['boundary_f_2px']:.3f})  empty {r['empty']}  "
                  f"whole-frame {r['whole_frame']}  not found {r['not_found']}  IoU<0.9 {r['bad_masks']}  "
                  f"{r['ms_per_image']:.0f} ms/image{conf}")  # fmt: skip
            kinds = "  ".join(f"{k} {v[0]:.2f}/{v[1]:.2f}" for k, v in r["per_kind"].items())
            print(f"            per kind (IoU/F): {kinds}")
    f = report["framing"]
    print("\n'unrefined' is 'after' without the full-resolution edge step (an ablation).")
    print(f"\nframing: {f['files']} files ({PRESETS}) from {args.export} photos, {f['padded_files']} padded; "
          f"padding vs backdrop CIEDE2000 worst side per file: median {f['padding_de2000_median']:.2f}, worst "
          f"{f['padding_de2000_worst']:.2f}, within 3: {100 * f['padding_within_3']:.0f}%; upscale median "
          f"{f['upscale_median']:.2f}x, max {f['upscale_max']:.2f}x; files with warnings {f['files_with_warnings']}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

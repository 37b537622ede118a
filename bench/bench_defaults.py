"""Product-safe defaults, chosen by measuring: many products in several styles at a grid of settings.

    .venv/bin/python bench/bench_defaults.py [--drawn 4] [--shots 4] [--size 384] [--json out.json]
        [--strengths 0.2,0.3,0.4,0.6,0.8,1.0] [--masks all,background]

Products: the demo generator's drawn products (seed 11), the photo-like generator's shots (``core.demo.photos``,
one per kind up to ``--shots``) and scikit-image's real photographs (coffee cup, Chelsea the cat, the astronaut,
the rocket; CC0 / public domain, read from the installed package at run time). Styles: presets 7 and 13, a
painting as the style image, and a customer's taste (the mean style vector of three demo products, as
``recommend.service.taste_as_style`` makes it). Settings: strength x preserve colour x mask x style scale (the grid
below), every render through :func:`stylerec_desktop.core.stylize.stylize` at ``--size`` px.

Per render we record the fidelity the app records (``stylize.fidelity``: product ΔE, product edge SSIM, their
product_fidelity, and the background's ΔE) plus how much the style shows: ``texture`` = 1 - SSIM of the luminance
over the whole picture (0 = unchanged, ~0.5 and up = clearly repainted) and ``background_change`` (ΔE outside the
product). The product mask is found once per product (``masks.analyse_product``, as ``render_fidelity`` does).

The rule that picks the defaults (printed at the end): a setting is *product-safe* when, over every product and
style, its median product_fidelity is at least 0.80 and its 10th percentile at least 0.60; among the safe
settings of each mask mode, the one whose style shows most (median ``texture``, to two decimals; ties go to the larger
background ΔE, i.e. the style's colours showing, then to the higher 10th percentile of fidelity) wins. For the
photo-like shots the fidelity is also measured inside the generator's *true* mask (``truth_fidelity``): the app's
own figure uses the automatic mask, so it cannot see a part of the product the mask missed and the style painted.
The machine is shared: the load average is printed before and after; timings are not the point of this bench.
"""

# ruff: noqa: E402  (OMP_WAIT_POLICY must be set before torch is imported, as in bench_stylize.py)
from __future__ import annotations

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse
import itertools
import json
import time
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
import torch
from PIL import Image

from stylerec_desktop.core import masks
from stylerec_desktop.core.demo.assortment import plan_assortment, render_product
from stylerec_desktop.core.demo.photos import KINDS, photo_shot
from stylerec_desktop.core.stylize import (
    PresetBlend,
    StyleImage,
    StyleOptions,
    StyleSource,
    StyleVector,
    prepare_content,
    stylize,
)
from stylerec_desktop.core.stylize.engines import style_vector_of
from stylerec_desktop.core.stylize.fidelity import measure_fidelity
from stylerec_desktop.core.stylize.metrics import ssim
from stylerec_desktop.core.stylize.samples import painting

STRENGTHS = (0.2, 0.3, 0.4, 0.6, 0.8, 1.0)
PRESERVE = (False, True)
MASKS = ("all", "background")
SCALES = (1.0, 2.0)
REAL_PHOTOS = ("coffee", "chelsea", "astronaut", "rocket")
# The product-safe rule (see the module docstring).
SAFE_MEDIAN, SAFE_P10 = 0.80, 0.60


@dataclass(frozen=True)
class Product:
    """A picture to restyle; ``truth`` is the product's true mask ``[H, W]`` bool where the generator knows it."""

    name: str
    kind: str  # drawn | photo-like | photograph
    image: Image.Image
    truth: np.ndarray | None = None


def load_average() -> list[float]:
    return [round(v, 2) for v in os.getloadavg()]


def real_photographs() -> list[Product]:
    """scikit-image's photographs (see ``core.demo.real_photos`` for their sources and licences)."""
    from stylerec_desktop.core.demo.real_photos import real_photo

    return [Product(f"photo:{name}", "photograph", real_photo(name)) for name in REAL_PHOTOS]


def product_set(drawn: int, shots: int) -> list[Product]:
    chosen = [Product(spec.sku, "drawn", Image.fromarray(render_product(spec, 11)))
              for spec in plan_assortment(11, 40)[:: max(1, 40 // drawn)][:drawn]]  # fmt: skip
    for i, kind in enumerate(KINDS[:shots]):
        shot = photo_shot(100 + i, kind)
        chosen.append(Product(f"shot:{kind}", "photo-like", Image.fromarray(shot.image), shot.mask))
    return chosen + real_photographs()


def style_set() -> list[tuple[str, StyleSource]]:
    specs = plan_assortment(7, 12)
    taste = np.mean(
        [style_vector_of(Image.fromarray(render_product(spec, 7)), torch.device("cpu")).numpy() for spec in specs[:3]],
        axis=0,
    )
    return [
        ("preset 7", PresetBlend({7: 1.0})),
        ("preset 13", PresetBlend({13: 1.0})),
        ("painting", StyleImage(painting(256), label="painting")),
        ("customer taste", StyleVector(taste, label="a customer's taste")),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--drawn", type=int, default=4)
    parser.add_argument("--shots", type=int, default=4)
    parser.add_argument("--size", type=int, default=384)
    parser.add_argument("--json", type=Path)
    parser.add_argument("--strengths", default=",".join(map(str, STRENGTHS)), help="comma-separated, 0..1")
    parser.add_argument("--masks", default=",".join(MASKS), help="comma-separated: all, background")
    args = parser.parse_args()
    strengths = tuple(float(v) for v in args.strengths.split(","))
    mask_modes = tuple(args.masks.split(","))
    print(f"load average before: {load_average()}  torch threads {torch.get_num_threads()}")
    began = time.perf_counter()
    items = product_set(args.drawn, args.shots)
    styles = style_set()
    grid = list(itertools.product(mask_modes, PRESERVE, SCALES, strengths))
    rows = []
    for product in items:
        content = prepare_content(product.image, args.size)
        original = np.asarray(content)
        found = masks.analyse_product(original)
        if not found.found:
            print(f"{product.name}: no product found ({found.reason}); skipped")
            continue
        matte = masks.product_matte(content)
        truth = None
        if product.truth is not None:
            size = (original.shape[1], original.shape[0])
            truth = cv2.resize(product.truth.astype(np.uint8), size, interpolation=cv2.INTER_NEAREST) > 0
        for (style_name, source), (mask, preserve, scale, strength) in itertools.product(styles, grid):
            options = StyleOptions(strength=strength, preserve_colour=preserve, mask=mask, style_scale=scale,
                                   device="cpu")  # fmt: skip
            render = stylize(content, source, options, product_mask=lambda _image, m=matte: m)
            result = np.asarray(render)
            fidelity = measure_fidelity(original, result, found.mask)
            # The same measure inside the generator's true mask: what the automatic mask missed counts too.
            truth_fidelity = measure_fidelity(original, result, truth).product_fidelity if truth is not None else None
            rows.append({
                "product": product.name, "kind": product.kind, "style": style_name, "mask": mask,
                "preserve_colour": preserve, "style_scale": scale, "strength": strength,
                **fidelity.to_dict(), "texture": round(1.0 - ssim(original, result), 4),
                "truth_fidelity": None if truth_fidelity is None else round(truth_fidelity, 4),
            })  # fmt: skip
        print(f"{product.name}: {len(styles) * len(grid)} renders, {time.perf_counter() - began:.0f} s so far",
              flush=True)  # fmt: skip
    print(f"load average after: {load_average()}  ({time.perf_counter() - began:.0f} s in all)")
    summary = summarise(rows, mask_modes)
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "summary": summary}, indent=1))


def summarise(rows: list[dict[str, object]], mask_modes: tuple[str, ...] = MASKS) -> list[dict[str, object]]:
    """Per setting: median / 10th percentile of product_fidelity, median texture and background ΔE, and whether it
    is product-safe; printed as a Markdown table, followed by the choice per mask mode."""
    settings: dict[tuple, list[dict[str, object]]] = {}
    for row in rows:
        key = (row["mask"], row["preserve_colour"], row["style_scale"], row["strength"])
        settings.setdefault(key, []).append(row)
    table = []
    for (mask, preserve, scale, strength), group in sorted(settings.items()):
        fidelity = np.array([float(r["product_fidelity"]) for r in group])  # type: ignore[arg-type]
        table.append({
            "mask": mask, "preserve_colour": preserve, "style_scale": scale, "strength": strength, "n": len(group),
            "fidelity_median": round(float(np.median(fidelity)), 3),
            "fidelity_p10": round(float(np.percentile(fidelity, 10)), 3),
            "fidelity_worst": round(float(fidelity.min()), 3),
            "delta_e_median": round(float(np.median([r["product_delta_e"] for r in group])), 2),
            "texture_median": round(float(np.median([r["texture"] for r in group])), 3),
            "background_median": round(float(np.median([r["background_change"] for r in group])), 2),
            "truth_worst": round(min(float(r["truth_fidelity"]) for r in group if r["truth_fidelity"] is not None), 3),
        })  # fmt: skip
        table[-1]["safe"] = table[-1]["fidelity_median"] >= SAFE_MEDIAN and table[-1]["fidelity_p10"] >= SAFE_P10
    print("\n| mask | preserve colour | style scale | strength | fidelity median / p10 / worst | product ΔE median "
          "| style shows: texture median | background ΔE median | photo-like shots, true mask: worst "
          "| safe |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|---|---|")
    for t in table:
        print(f"| {t['mask']} | {'on' if t['preserve_colour'] else 'off'} | {t['style_scale']:g} | {t['strength']:g} "
              f"| {t['fidelity_median']:.2f} / {t['fidelity_p10']:.2f} / {t['fidelity_worst']:.2f} "
              f"| {t['delta_e_median']:.1f} | {t['texture_median']:.3f} | {t['background_median']:.1f} "
              f"| {t['truth_worst']:.2f} | {'yes' if t['safe'] else 'no'} |")  # fmt: skip
    for mask in mask_modes:
        safe = [t for t in table if t["mask"] == mask and t["safe"]]
        if not safe:
            print(f"\n{mask}: no setting is product-safe")
            continue
        # Style shown to two decimals first (finer differences are not visible), then how far the colours changed
        # (the style's colours showing), then the worse renders' fidelity.
        best = max(safe, key=lambda t: (round(t["texture_median"], 2), t["background_median"], t["fidelity_p10"]))
        print(f"\n{mask}: chosen preserve colour {'on' if best['preserve_colour'] else 'off'}, style scale "
              f"{best['style_scale']:g}, strength {best['strength']:g} (fidelity median {best['fidelity_median']:.2f}, "
              f"p10 {best['fidelity_p10']:.2f}; texture {best['texture_median']:.3f})")  # fmt: skip
    kinds = sorted({str(r["kind"]) for r in rows})
    print("\nBy kind of product at each mask's chosen setting is in the JSON rows; kinds measured: " + ", ".join(kinds))
    return table


if __name__ == "__main__":
    main()

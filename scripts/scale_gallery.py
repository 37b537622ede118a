"""Render the README's before/after pictures for style scale and "background only" into ``docs/gallery/``.

    python scripts/scale_gallery.py [--out docs/gallery] [--cell 200]

Two contact sheets from drawn demo products (seed 11; no catalog needed), a photo-like shot (``core.demo.photos``)
and a real photograph (scikit-image's coffee cup, CC0; see ``core.demo.real_photos``):

- ``background_before_after.jpg``: "background only" (``--mask background``) with preset 7 and a painting as the
  style, before (recipe version 1: the network on the picture itself, banding the studio backdrop) and after (the
  textured plate at the style scale).
- ``preview_vs_render.jpg``: one recipe (preset 7 at the product-safe defaults for that picture) as the 256 px
  preview and as the 1024 px render shown at the same size, before (version 1) and after (style scale 1): the
  preview now shows the render.

The product-safe default settings otherwise (``stylize.looks.product_safe_options``), not hand-picked ones.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from PIL import Image

from stylerec_desktop.core.demo.assortment import plan_assortment, render_product
from stylerec_desktop.core.demo.photos import photo_shot
from stylerec_desktop.core.demo.real_photos import real_photo
from stylerec_desktop.core.stylize import PresetBlend, StyleImage, stylize
from stylerec_desktop.core.stylize.looks import product_safe_options, product_safe_options_for
from stylerec_desktop.core.stylize.samples import painting
from stylerec_desktop.core.stylize.sheet import contact_sheet

JPEG_QUALITY = 78


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path("docs/gallery"))
    parser.add_argument("--cell", type=int, default=200)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    specs = [spec for spec in plan_assortment(11, 12) if spec.category.name in ("dresses", "mugs", "sneakers")][:3]
    shots = [(spec.sku, Image.fromarray(render_product(spec, 11))) for spec in specs]
    shots += [("shot-garment", Image.fromarray(photo_shot(3, "garment").image)), ("photo-coffee", real_photo("coffee"))]
    preset, paint = PresetBlend({7: 1.0}), StyleImage(painting(256), label="painting")

    rows = []
    for _sku, shot in shots:
        row = [shot]
        for source in (preset, paint):
            for scale in (None, 1.0):
                options = product_safe_options(mask="background", style_scale=scale, device="cpu")
                row.append(stylize(shot, source, options))
        rows.append(row)
    labels = ["original", "preset 7: before", "preset 7: after", "painting: before", "painting: after"]
    sheet = contact_sheet(rows, labels, [sku for sku, _ in shots], cell=args.cell)
    sheet.save(args.out / "background_before_after.jpg", quality=JPEG_QUALITY)

    rows = []
    for _sku, shot in shots:
        row = []
        for scale in (None, 1.0):
            for size in (256, 1024):
                # The defaults as `stylerec stylize` applies them to this picture (a doubtful mask: whole picture).
                options, _note = product_safe_options_for(shot, size=size, style_scale=scale, device="cpu")
                row.append(stylize(shot, preset, options))  # the sheet shrinks each to its cell, aspect kept
        rows.append(row)
    labels = ["before: 256 px preview", "before: 1024 px render", "after: 256 px preview", "after: 1024 px render"]
    sheet = contact_sheet(rows, labels, [sku for sku, _ in shots], cell=args.cell)
    sheet.save(args.out / "preview_vs_render.jpg", quality=JPEG_QUALITY)
    print(f"wrote {args.out / 'background_before_after.jpg'} and {args.out / 'preview_vs_render.jpg'}")


if __name__ == "__main__":
    main()

"""Render the README's style-transfer gallery into ``docs/gallery/``, at the product-safe defaults.

    python scripts/stylize_gallery.py [--out docs/gallery] [--size 384] [--cell 160]

Rows: three drawn demo products (seed 11: a tee, a tote, a mug), two of the photo-like generator's shots (a garment
and a white product on white; ``core.demo.photos``) and three real photographs from scikit-image (a coffee cup, the
astronaut's flight suit, Chelsea the cat; CC0 / public domain, see ``core.demo.real_photos``). Columns: the
original, then four styles at the *default settings* every restyle starts from (``stylize.looks
.product_safe_options_for``, as ``stylerec stylize`` applies them: nothing hand-picked per picture; a picture whose
product mask is doubtful gets the light whole-picture restyle they fall back to) — presets 7 and 13, a painting as
the style image, and a customer's taste (the mean style vector of three demo products) — then two named looks,
"Painterly backdrop" and "Seasonal colour", at their own saved settings.

Writes ``gallery.jpg`` (the contact sheet) and one full-size row per product, ``row-<name>.jpg`` (every render at
``--size`` px, to look at 1:1), and prints the time each column took. Deterministic on one torch/CPU.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from stylerec_desktop.core.demo.assortment import plan_assortment, render_product
from stylerec_desktop.core.demo.photos import photo_shot
from stylerec_desktop.core.demo.real_photos import real_photo
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
from stylerec_desktop.core.stylize.looks import look_named, product_safe_options_for
from stylerec_desktop.core.stylize.samples import painting
from stylerec_desktop.core.stylize.sheet import GAP, contact_sheet

JPEG_QUALITY = 80
DRAWN = ("tees", "totes", "mugs")
SHOTS = (("shot-garment", 3, "garment"), ("shot-white", 4, "white"))
PHOTOS = ("coffee", "astronaut", "chelsea")
LOOKS = ("Painterly backdrop", "Seasonal colour")


def products() -> list[tuple[str, Image.Image]]:
    specs = plan_assortment(11, 40)
    chosen = [next(s for s in specs if s.category.name == category) for category in DRAWN]
    rows = [(spec.sku, Image.fromarray(render_product(spec, 11))) for spec in chosen]
    rows += [(name, Image.fromarray(photo_shot(seed, kind).image)) for name, seed, kind in SHOTS]
    return rows + [(f"photo-{name}", real_photo(name)) for name in PHOTOS]


def customer_taste() -> StyleVector:
    """A stand-in customer's taste: the mean style vector of three demo products (as a taste is made)."""
    specs = plan_assortment(7, 12)[:3]
    vectors = [style_vector_of(Image.fromarray(render_product(s, 7)), torch.device("cpu")).numpy() for s in specs]
    return StyleVector(np.mean(vectors, axis=0), label="a customer's taste")


def save_jpeg(image: Image.Image, path: Path) -> None:
    image.convert("RGB").save(path, format="JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)


def row_strip(pictures: list[Image.Image]) -> Image.Image:
    """The row's pictures side by side at their own size (for looking at 1:1)."""
    height = max(p.height for p in pictures)
    strip = Image.new("RGB", (sum(p.width for p in pictures) + GAP * (len(pictures) - 1), height), "white")
    left = 0
    for picture in pictures:
        strip.paste(picture, (left, (height - picture.height) // 2))
        left += picture.width + GAP
    return strip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "docs" / "gallery")
    parser.add_argument("--size", type=int, default=384, help="render size in pixels (longest side)")
    parser.add_argument("--cell", type=int, default=144, help="thumbnail size on the contact sheet")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    columns: list[tuple[str, StyleSource, StyleOptions | None]] = [
        ("preset 7", PresetBlend({7: 1.0}), None),  # None: the defaults for each picture, as `stylerec stylize`
        ("preset 13", PresetBlend({13: 1.0}), None),
        ("painting", StyleImage(painting(256), label="painting"), None),
        ("a customer's taste", customer_taste(), None),
    ]
    for name in LOOKS:
        look = look_named(name)
        columns.append((f"look: {name}", look.source_or(None), look.options(size=args.size, device="cpu")))
    seconds = dict.fromkeys((label for label, _s, _o in columns), 0.0)
    rows, names = [], []
    for name, original in products():
        content = prepare_content(original, args.size)
        defaults, note = product_safe_options_for(content, size=args.size, device="cpu")
        if note:
            print(f"{name}: {note}")
        row = [content]
        for label, source, options in columns:
            began = time.perf_counter()
            row.append(stylize(content, source, options or defaults))
            seconds[label] += time.perf_counter() - began
        save_jpeg(row_strip(row), args.out / f"row-{name}.jpg")
        rows.append(row)
        names.append(name)
    sheet = contact_sheet(rows, ["original", *(label for label, _s, _o in columns)], names, cell=args.cell)
    save_jpeg(sheet, args.out / "gallery.jpg")
    for label, total in seconds.items():
        print(f"{label:32s} {1000 * total / len(rows):7.0f} ms per {args.size} px render (mean of {len(rows)})")
    files = sorted(args.out.glob("*.jpg"))
    print(f"{len(files)} files, {sum(f.stat().st_size for f in files) / 1024:.0f} KB in {args.out}")


if __name__ == "__main__":
    main()

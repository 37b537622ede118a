"""Render the README's style-transfer gallery from the built-in demo catalog into ``docs/gallery/``.

    python scripts/stylize_gallery.py [--out docs/gallery] [--size 384] [--cell 192]

Builds a small demo catalog in a temporary folder (seed 7, 40 products, 8 customers), takes one product from each of
four categories and restyles it five ways: two built-in presets, the arbitrary engine with another demo product's
picture as the style, the colour engine with the most colourful other product's colours (on the product only), and
a preset on the background only (the product mask keeps the product untouched). Writes one small JPEG per render
(``<sku>__<style>.jpg``) and a labelled contact sheet ``gallery.jpg`` (rows = products, columns = original + styles),
and prints the time each style took.

Everything is deterministic: the same torch/CPU gives the same pictures.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from stylerec_desktop.core.catalog import Catalog, Product
from stylerec_desktop.core.demo import build_demo_catalog
from stylerec_desktop.core.jobs import run_job
from stylerec_desktop.core.stylize import PresetBlend, StyleImage, StyleOptions, StyleSource, stylize
from stylerec_desktop.core.stylize.sheet import contact_sheet

PRODUCT_CATEGORIES = ("tees", "totes", "sneakers", "mugs")
# A patterned cushion's picture is the arbitrary engine's style (its texture); the colour engine takes the most
# colourful product of the categories not shown (a grey one would just desaturate every product).
TEXTURE_CATEGORY = "cushions"
COLOUR_CATEGORIES = ("cushions", "dresses", "hoodies", "caps")
JPEG_QUALITY = 80


@dataclass(frozen=True)
class GalleryStyle:
    """One column of the gallery: a label for people and file names, the source, the engine and its options."""

    label: str
    source: StyleSource
    engine: str
    options: StyleOptions


def first_of(catalog: Catalog, category: str, skip: int = 0) -> Product:
    """The ``skip``-th product (by sku) of a category that has a picture."""
    products = [p for p in catalog.products(category=category) if p.primary_image is not None]
    if len(products) <= skip:
        raise SystemExit(f"The demo catalog has too few {category} for the gallery; raise --products.")
    return products[skip]


def saturation(product: Product) -> float:
    """Mean HSV saturation of a product's picture, 0..255."""
    assert product.primary_image is not None
    with Image.open(product.primary_image.path) as opened:
        return float(np.asarray(opened.convert("HSV"))[..., 1].mean())


def most_colourful(catalog: Catalog, categories: tuple[str, ...]) -> Product:
    candidates = [p for c in categories for p in catalog.products(category=c) if p.primary_image is not None]
    return max(candidates, key=lambda p: (saturation(p), p.sku))


def gallery_styles(catalog: Catalog, size: int) -> list[GalleryStyle]:
    texture = first_of(catalog, TEXTURE_CATEGORY)
    colours = most_colourful(catalog, COLOUR_CATEGORIES)
    assert texture.primary_image is not None and colours.primary_image is not None
    # Presets at 0.8 rather than 1: at full strength the painting's strokes start to eat the product's own print.
    preset = StyleOptions(size=size, strength=0.8)
    return [
        GalleryStyle("preset 4", PresetBlend({4: 1.0}), "preset", preset),
        GalleryStyle("preset 0+13", PresetBlend({0: 0.5, 13: 0.5}), "preset", preset),
        GalleryStyle(
            f"arbitrary: {texture.sku}",
            StyleImage(texture.primary_image.path),
            "arbitrary",
            StyleOptions(size=size, strength=0.8),
        ),
        # Product only: Reinhard moves the whole picture's statistics, so the white studio background would turn
        # the style's tint (mint, here); the mask keeps it white.
        GalleryStyle(
            f"colour: {colours.sku}, product only",
            StyleImage(colours.primary_image.path),
            "colour",
            StyleOptions(size=size, mask="product"),
        ),
        GalleryStyle(
            "preset 14, background only", PresetBlend({14: 1.0}), "preset", StyleOptions(size=size, mask="background")
        ),
    ]


def file_label(label: str) -> str:
    """``"preset 3+17"`` -> ``"preset-3-17"``: safe in file names on every OS."""
    return "-".join("".join(c if c.isalnum() else " " for c in label.lower()).split())


def save_jpeg(image: Image.Image, path: Path) -> None:
    image.convert("RGB").save(path, format="JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)


def render_gallery(out: Path, size: int, cell: int, products: int) -> None:
    out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as temp:
        start = time.perf_counter()
        catalog = run_job(build_demo_catalog(Path(temp) / "catalog", seed=7, n_products=products, n_customers=8))
        print(f"demo catalog: {products} products in {time.perf_counter() - start:.1f} s")
        try:
            styles = gallery_styles(catalog, size)
            shown = [first_of(catalog, category) for category in PRODUCT_CATEGORIES]
            rows: list[list[Image.Image | None]] = []
            seconds = {style.label: 0.0 for style in styles}
            for product in shown:
                assert product.primary_image is not None
                with Image.open(product.primary_image.path) as opened:
                    original = opened.convert("RGB")
                row: list[Image.Image | None] = [original]
                save_jpeg(original.resize((size, size), Image.LANCZOS), out / f"{product.sku}__original.jpg")
                for style in styles:
                    begin = time.perf_counter()
                    picture = stylize(original, style.source, style.options, engine=style.engine)
                    seconds[style.label] += time.perf_counter() - begin
                    save_jpeg(picture, out / f"{product.sku}__{file_label(style.label)}.jpg")
                    row.append(picture)
                rows.append(row)
        finally:
            catalog.close()
    labels = [f"{p.sku} ({p.category})" for p in shown]
    sheet = contact_sheet(rows, ["original", *(s.label for s in styles)], labels, cell=cell)
    save_jpeg(sheet, out / "gallery.jpg")
    for label, total in seconds.items():
        print(f"{label:32s} {1000 * total / len(shown):7.0f} ms per {size}px render (mean of {len(shown)})")
    files = sorted(out.glob("*.jpg"))
    print(f"{len(files)} files, {sum(f.stat().st_size for f in files) / 1024:.0f} KB in {out}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "docs" / "gallery")
    parser.add_argument("--size", type=int, default=384, help="render size in pixels (longest side)")
    parser.add_argument("--cell", type=int, default=192, help="thumbnail size on the contact sheet")
    parser.add_argument("--products", type=int, default=40, help="demo catalog size")
    args = parser.parse_args()
    render_gallery(args.out, args.size, args.cell, args.products)


if __name__ == "__main__":
    main()

"""The demo assortment: which products exist, what they are called, what they cost, and how each is drawn.

Styles are spread evenly on purpose: every block of 70 products holds each (pattern, palette) pair once, every
block of 80 each (category, pattern) pair once, any 10 consecutive products show all patterns, and no
(category, pattern, palette) triple repeats within 560 products. A small demo catalog therefore still shows the
whole range, and shoppers with any taste find something to like.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from stylerec_desktop.core.demo import garments, goods
from stylerec_desktop.core.demo.palettes import PALETTES, Colour, Palette
from stylerec_desktop.core.demo.patterns import PATTERNS, Pattern
from stylerec_desktop.core.demo.studio import Drawing, coverage, photograph


@dataclass(frozen=True)
class Category:
    """A product category: its folder/category name, how titles name the item, SKU prefix, prices, makers."""

    name: str
    nouns: tuple[str, ...]
    sku_prefix: str
    price_range: tuple[int, int]  # whole dollars, inclusive low, exclusive high
    brands: tuple[str, ...]
    draw: Callable[[np.ndarray, np.random.Generator], Drawing]


CATEGORIES: tuple[Category, ...] = (
    Category("tees", ("Tee", "Crew Tee", "Relaxed Tee"), "TEE", (18, 42),
             ("Northbound Supply", "Marlowe & Finch", "Little Harbour"), garments.tee),
    Category("dresses", ("Dress", "Sundress", "Skater Dress"), "DRS", (45, 129),
             ("Marlowe & Finch", "Juniper Lane"), garments.dress),
    Category("hoodies", ("Hoodie", "Pullover Hoodie"), "HOD", (42, 89),
             ("Northbound Supply", "Fieldnote"), garments.hoodie),
    Category("totes", ("Tote", "Canvas Tote", "Market Tote"), "TOT", (16, 48),
             ("Little Harbour", "Fieldnote"), goods.tote),
    Category("mugs", ("Mug", "Ceramic Mug", "Coffee Mug"), "MUG", (12, 26),
             ("Kiln & Kettle",), goods.mug),
    Category("cushions", ("Cushion", "Throw Cushion", "Scatter Cushion"), "CSH", (22, 59),
             ("Kiln & Kettle", "Juniper Lane"), goods.cushion),
    Category("sneakers", ("Sneakers", "Low-Top Sneakers", "Canvas Sneakers"), "SNK", (55, 139),
             ("Stride Theory",), goods.sneakers),
    Category("caps", ("Cap", "Baseball Cap", "Six-Panel Cap"), "CAP", (18, 36),
             ("Northbound Supply", "Stride Theory"), goods.cap),
)


@dataclass(frozen=True)
class ProductSpec:
    """Everything about one demo product; ``colours`` is its palette reordered, dominant colour first."""

    index: int
    sku: str
    title: str
    category: Category
    brand: str
    price: str  # two decimals, as written to the CSV
    in_stock: bool
    tags: tuple[str, ...]
    pattern: Pattern
    palette: Palette
    colours: tuple[Colour, ...]

    @property
    def colour(self) -> str:
        """Name of the dominant colour."""
        return self.colours[0].name

    @property
    def image_path(self) -> str:
        """Path of the product shot relative to the images folder, with forward slashes."""
        return f"{self.category.name}/{self.sku}.jpg"


def _colour_order(palette: Palette, rng: np.random.Generator) -> tuple[Colour, ...]:
    """A random dominant colour, then the rest by contrast with it (most contrasting first, so motifs show)."""
    base = palette.colours[int(rng.integers(len(palette.colours)))]
    rest = [c for c in palette.colours if c is not base]
    jitter = rng.uniform(0.0, 0.08, size=len(rest))
    order = sorted(range(len(rest)), key=lambda i: -(abs(rest[i].luminance - base.luminance) + jitter[i]))
    return (base, *(rest[i] for i in order))


def _price(category: Category, rng: np.random.Generator) -> str:
    lo, hi = category.price_range
    cents = rng.choice([0.99, 0.5, 0.0], p=[0.7, 0.15, 0.15])
    return f"{int(rng.integers(lo, hi)) + cents:.2f}"


def plan_assortment(seed: int, n_products: int) -> list[ProductSpec]:
    """The ``n_products`` demo products for ``seed``, ordered by category then SKU."""
    rng = np.random.default_rng([seed, 1])
    patterns = [PATTERNS[i] for i in rng.permutation(len(PATTERNS))]
    palettes = [PALETTES[i] for i in rng.permutation(len(PALETTES))]
    categories = [CATEGORIES[i] for i in rng.permutation(len(CATEGORIES))]
    n_pat, n_pal = len(patterns), len(palettes)
    counters = {c.name: 0 for c in CATEGORIES}
    specs: list[ProductSpec] = []
    for i in range(n_products):
        # With i = n_pat * a + b and k = i + a: pattern b, palette k mod 7, category k mod 8. For each pattern,
        # a -> k is a bijection modulo 7 and modulo 8 (11 is coprime to both), which gives the spread above.
        k = i + i // n_pat
        pattern = patterns[i % n_pat]
        palette = palettes[k % n_pal]
        category = categories[k % len(categories)]
        counters[category.name] += 1
        colours = _colour_order(palette, rng)
        noun = category.nouns[int(rng.integers(len(category.nouns)))]
        if pattern.name == "solid":
            title = f"{colours[0].name.title()} {noun}"
        else:
            title = f"{palette.title} {pattern.title} {noun}"
        words = (pattern.words[int(rng.integers(len(pattern.words)))], palette.words[int(rng.integers(3))])
        specs.append(
            ProductSpec(
                index=i,
                sku=f"{category.sku_prefix}-{counters[category.name]:04d}",
                title=title,
                category=category,
                brand=category.brands[int(rng.integers(len(category.brands)))],
                price=_price(category, rng),
                in_stock=bool(rng.random() < 0.9),
                tags=(pattern.name, palette.name, *dict.fromkeys(words)),
                pattern=pattern,
                palette=palette,
                colours=colours,
            )
        )
    rank = {c.name: k for k, c in enumerate(CATEGORIES)}
    return sorted(specs, key=lambda s: (rank[s.category.name], s.sku))


def render_product(spec: ProductSpec, seed: int) -> np.ndarray:
    """The product shot of ``spec``: ``(512, 512, 3)`` uint8 RGB, the same pixels for the same seed."""
    # Each product has its own random stream, so one product's look never depends on how many came before.
    rng = np.random.default_rng([seed, 2, spec.index])
    colours = np.array([c.rgb for c in spec.colours], dtype=np.float32) / 255.0
    drawing = spec.category.draw(colours, rng)
    return photograph(drawing, lambda space: spec.pattern.draw(space, colours, rng), rng)


def product_coverage(spec: ProductSpec, seed: int) -> np.ndarray:
    """The true product coverage of :func:`render_product`'s shot: ``(512, 512)`` float32 in 0..1.

    The silhouette is drawn from the same random stream as the shot (the drawing comes first in it), so this is
    exact for that shot: the demo's ground truth for measuring product masks.
    """
    rng = np.random.default_rng([seed, 2, spec.index])
    colours = np.array([c.rgb for c in spec.colours], dtype=np.float32) / 255.0
    return coverage(spec.category.draw(colours, rng))

"""Named colour palettes of the demo catalog.

A palette is the colour story of a product: its pattern is drawn only with the palette's colours (and tints or
shades of them), so two products that share a palette look related even when their patterns differ. Every colour
has a name a merchandiser would use; the name of a product's dominant colour becomes its ``colour`` attribute.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

RGB = tuple[int, int, int]


def luma(rgb: Sequence[float]) -> float:
    """Relative lightness of a gamma-encoded RGB colour in 0..1 (Rec. 709 weights; good enough to rank
    contrast between two colours)."""
    return float(0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2])


@dataclass(frozen=True)
class Colour:
    """One named sRGB colour (0..255 per channel)."""

    name: str
    rgb: RGB

    @property
    def luminance(self) -> float:
        """Relative lightness 0..1, see :func:`luma`."""
        return luma(self.rgb) / 255.0


@dataclass(frozen=True)
class Palette:
    """A named set of 4-5 colours; ``title`` is how the palette reads in a product title."""

    name: str
    title: str
    colours: tuple[Colour, ...]
    words: tuple[str, ...]  # descriptive tags a merchandiser would attach to this colour story


def _c(name: str, r: int, g: int, b: int) -> Colour:
    return Colour(name, (r, g, b))


PALETTES: tuple[Palette, ...] = (
    Palette(
        "pastel",
        "Pastel",
        (
            _c("blush", 240, 178, 186),
            _c("mint", 166, 222, 196),
            _c("lavender", 190, 176, 230),
            _c("butter", 248, 226, 140),
            _c("powder blue", 160, 200, 236),
        ),
        ("soft", "dreamy", "spring"),
    ),
    Palette(
        "earth",
        "Earth",
        (
            _c("terracotta", 190, 98, 64),
            _c("olive", 112, 118, 62),
            _c("sand", 218, 192, 148),
            _c("walnut", 112, 74, 50),
            _c("sage", 150, 168, 134),
        ),
        ("natural", "warm", "organic"),
    ),
    Palette(
        "neon",
        "Neon",
        (
            _c("hot pink", 255, 40, 150),
            _c("lime", 150, 240, 30),
            _c("electric blue", 20, 110, 255),
            _c("neon orange", 255, 120, 20),
            _c("acid yellow", 250, 240, 40),
        ),
        ("bold", "bright", "party"),
    ),
    Palette(
        "monochrome",
        "Monochrome",
        (
            _c("black", 30, 30, 34),
            _c("charcoal", 78, 80, 86),
            _c("grey", 148, 150, 154),
            _c("silver", 200, 202, 206),
            _c("off-white", 242, 240, 234),
        ),
        ("minimal", "classic", "timeless"),
    ),
    Palette(
        "jewel",
        "Jewel",
        (
            _c("emerald", 10, 120, 88),
            _c("sapphire", 30, 60, 150),
            _c("ruby", 160, 22, 58),
            _c("amethyst", 112, 52, 142),
            _c("gold", 222, 166, 44),
        ),
        ("rich", "luxe", "evening"),
    ),
    Palette(
        "nautical",
        "Nautical",
        (
            _c("navy", 24, 42, 92),
            _c("sail white", 240, 242, 244),
            _c("signal red", 200, 38, 48),
            _c("sea blue", 56, 128, 190),
        ),
        ("coastal", "crisp", "summer"),
    ),
    Palette(
        "autumn",
        "Autumn",
        (
            _c("rust", 172, 72, 32),
            _c("mustard", 212, 160, 40),
            _c("burgundy", 112, 30, 46),
            _c("forest", 48, 82, 52),
            _c("pumpkin", 228, 122, 44),
        ),
        ("cosy", "warm", "harvest"),
    ),
)

PALETTES_BY_NAME: dict[str, Palette] = {p.name: p for p in PALETTES}

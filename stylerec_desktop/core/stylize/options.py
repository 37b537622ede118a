"""What a user asks for: the style source and the render options shared by every engine."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
from PIL import Image

from stylerec_desktop.core.errors import UserError
from stylerec_desktop.core.models.precision import PRECISIONS
from stylerec_desktop.core.stylize.scale import DEFAULT_STYLE_SCALE, MAX_STYLE_SCALE, MIN_STYLE_SCALE

MaskMode = Literal["all", "background", "product"]


@dataclass(frozen=True)
class StyleOptions:
    """Options for one render.

    - ``strength`` 0..1: how far towards the style (0 returns the content unchanged).
    - ``preserve_colour``: keep the content's colours, take only luminance (brushwork, shading) from the style.
    - ``size``: longest side of the output in pixels; None keeps the input's size.
    - ``seed``: recorded with the render; the feed-forward engines are deterministic, optimisation engines use it.
    - ``device`` auto|cpu|cuda|mps and ``precision`` auto|fp32|fp16|bf16 (see ``models.device.choose_dtype``: auto
      is fp16 on CUDA and, for networks that keep their quality in it, bf16 on CPUs with native bf16).
    - ``mask``: all (stylize everything), background (keep the product untouched), product (stylize only it).
    - ``histogram``: colour engine only; histogram matching on top of the Reinhard statistics.
    - ``tile``: largest tile side for high-resolution renders (None: automatic).
    - ``iterations``: gatys engine only; optimisation steps (None: the engine's default, 200).
    - ``style_scale`` 0.125..4: stroke size relative to the picture, the same at every output size (arbitrary and
      preset engines; see ``stylize.scale``): 1 paints strokes as the networks do on a 512 px picture, 2 twice as
      large. None is the recipe-version-1 behaviour: the network at the output size, strokes fixed in pixels, and
      "background only" stylizes the backdrop itself (kept so old recipes re-render as they did).
    - ``mask_version``: how the product is found for the mask modes (3: one analysis per picture at a fixed size,
      with a second look at a doubtful mask, and a new backdrop under the product's soft edge; 2: the analysis at
      the output size and a plain blend, as recipe version 2 rendered, kept so those recipes re-render as they did).
    """

    strength: float = 1.0
    preserve_colour: bool = False
    size: int | None = None
    seed: int = 0
    device: str = "auto"
    precision: str = "auto"
    mask: MaskMode = "all"
    histogram: bool = False
    tile: int | None = None
    iterations: int | None = None
    style_scale: float | None = DEFAULT_STYLE_SCALE
    mask_version: int = 3

    def __post_init__(self) -> None:
        if not 0.0 <= self.strength <= 1.0:
            raise UserError(f"Strength must be between 0 and 1, got {self.strength}.")
        if self.size is not None and self.size < 32:
            raise UserError(f"Output size must be at least 32 pixels, got {self.size}.")
        if self.mask not in ("all", "background", "product"):
            raise UserError(f"Mask mode must be all, background or product, got '{self.mask}'.")
        if self.precision not in PRECISIONS:
            raise UserError(f"Precision must be one of {', '.join(PRECISIONS)}, got '{self.precision}'.")
        if self.tile is not None and self.tile < 128:
            raise UserError(f"Tiles must be at least 128 pixels, got {self.tile}.")
        if self.mask_version not in (2, 3):
            raise UserError(f"Mask version must be 2 or 3, got {self.mask_version}.")
        if self.iterations is not None and not 1 <= self.iterations <= 10_000:
            raise UserError(f"Iterations must be between 1 and 10000, got {self.iterations}.")
        if self.style_scale is not None and not MIN_STYLE_SCALE <= self.style_scale <= MAX_STYLE_SCALE:
            raise UserError(
                f"Style scale must be between {MIN_STYLE_SCALE:g} and {MAX_STYLE_SCALE:g} (1 = strokes as on a "
                f"512 px picture, 2 = twice as large), got {self.style_scale:g}."
            )


@dataclass(frozen=True)
class StyleImage:
    """Any picture used as the style (a painting, another product). ``source`` is a path or a PIL image."""

    source: Path | str | Image.Image
    label: str = ""

    def load(self) -> Image.Image:
        if isinstance(self.source, Image.Image):
            return self.source.convert("RGB")
        path = Path(self.source)
        try:
            with Image.open(path) as image:
                return image.convert("RGB")
        except FileNotFoundError:
            raise UserError(f"Style image not found: {path}") from None
        except OSError as error:
            raise UserError(f"Cannot read style image {path}: {error}") from None


@dataclass(frozen=True, eq=False)
class StyleVector:
    """A 100-d style vector (from the style predictor, or e.g. a customer's taste: a weighted mean of several).

    ``customer_id`` names the customer when the vector is their taste: recorded in the catalog's recipe, and kept
    out of exported files unless the user includes customer ids (see :mod:`stylerec_desktop.core.privacy`).
    """

    vector: np.ndarray
    label: str = ""
    customer_id: str = ""

    def __post_init__(self) -> None:
        vector = np.asarray(self.vector, dtype=np.float32).reshape(-1)
        if vector.shape != (100,) or not np.isfinite(vector).all():
            raise UserError(f"A style vector needs 100 finite numbers, got shape {np.shape(self.vector)}.")
        object.__setattr__(self, "vector", vector)


@dataclass(frozen=True)
class PresetBlend:
    """One or more of the 26 built-in styles, ``{index: weight}`` (weights are normalised to sum to 1)."""

    weights: dict[int, float] = field(default_factory=lambda: {0: 1.0})

    @classmethod
    def parse(cls, text: str) -> PresetBlend:
        """``"7"`` or ``"3:0.5,12:0.5"`` (the CLI's ``--preset`` syntax)."""
        weights: dict[int, float] = {}
        try:
            for part in filter(None, (p.strip() for p in text.split(","))):
                index, _, weight = part.partition(":")
                weights[int(index)] = weights.get(int(index), 0.0) + (float(weight) if weight else 1.0)
        except ValueError:
            raise UserError(f"Bad preset '{text}'; use e.g. 7 or 3:0.5,12:0.5") from None
        return cls(weights)


StyleSource = StyleImage | StyleVector | PresetBlend

"""Named looks a merchandiser can ship without tuning, and names for what a render is.

A :class:`Look` is a saved recipe minus the content: engine, style source, strength, mask, preserve colour and
style scale. Its numbers come from ``bench/bench_defaults.py`` (products x styles x a grid of settings, scored by the
fidelity every render records; see BENCHMARKS.md, "Product-safe defaults"), not from taste alone.

:func:`describe_recipe` names a render by what it is ("Preset 4 at 60%, background only"), for the Studio's
variant strip and for export file names and manifests: a merchandiser reads the settings in the name instead of
"arbitrary #3".

>>> look = look_named("Painterly backdrop")            # doctest: +SKIP
>>> stylize(photo, look.source, look.options(size=1024), engine=look.engine)  # doctest: +SKIP
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from stylerec_desktop.core.errors import UserError
from stylerec_desktop.core.privacy import TASTE_OF_A_CUSTOMER
from stylerec_desktop.core.stylize.options import MaskMode, PresetBlend, StyleOptions, StyleSource
from stylerec_desktop.core.stylize.scale import DEFAULT_STYLE_SCALE

# The product-safe defaults, chosen by bench/bench_defaults.py's rule (a setting is safe when its median product
# fidelity is >= 0.80 and its 10th percentile >= 0.60 over 12 products x 4 styles; among safe ones the style that
# shows most wins). No whole-picture setting from strength 0.4 up was safe (median fidelity 0.33 and below: the
# style's light and dark strokes alone move the product's colour by ΔE 9+), so the default restyles the backdrop at
# full strength and keeps the product.
SAFE_STRENGTH = 1.0
SAFE_MASK: MaskMode = "background"
SAFE_STYLE_SCALE = DEFAULT_STYLE_SCALE
# Colours kept: on whenever the product itself is restyled (whole picture, product only: it halves the product's
# ΔE), off for the backdrop alone, where it would only turn a white sweep into a grey painting of the style.
SAFE_PRESERVE_COLOUR = True
# The strongest whole-picture (product restyle) setting the same rule calls safe, for the "Subtle texture" look.
SAFE_PRODUCT_RESTYLE_STRENGTH = 0.2


def preserve_colour_for(mask: MaskMode) -> bool:
    """Whether colours are kept by default for ``mask``: on when the product is restyled, off for the backdrop."""
    return SAFE_PRESERVE_COLOUR and mask != "background"


def product_safe_options(**changes: Any) -> StyleOptions:
    """The options a merchandiser can ship without tuning (the constants above), with ``changes`` on top (e.g.
    ``size=1024``, ``mask="all"``); colours kept follows the mask (:func:`preserve_colour_for`) unless given.
    :class:`StyleOptions`' own defaults stay the engines' plain ones (strength 1, whole picture, colours from the
    style), so code and recipes that name every option keep rendering as they did."""
    mask = changes.get("mask", SAFE_MASK)
    base = {"strength": SAFE_STRENGTH, "preserve_colour": preserve_colour_for(mask), "mask": mask,
            "style_scale": SAFE_STYLE_SCALE}  # fmt: skip
    return StyleOptions(**(base | changes))


def product_safe_options_for(picture: Image.Image, **changes: Any) -> tuple[StyleOptions, str]:
    """:func:`product_safe_options` for one picture, and a sentence when they had to change for it ("" otherwise).

    The default restyles the backdrop only, which is safe exactly as far as the product mask is right. When the
    mask is doubtful (a photograph with no plain backdrop, a white product on white) and no mask was asked for, the
    whole picture is restyled lightly instead, with the product's colours kept: the one rule every render follows,
    ``stylize.product_mask.doubtful_mask_fallback`` (a strength or colour setting given in ``changes`` still wins).
    """
    from stylerec_desktop.core.stylize.product_mask import doubtful_mask_fallback  # it reads this module back

    return doubtful_mask_fallback(picture, product_safe_options(**changes), given=changes.keys())


@dataclass(frozen=True)
class Look:
    """A named look: a style and the settings to render it with.

    ``source`` is the look's own style (a preset blend), or None for a look that takes the style the user gives
    (an image, a product, a customer's taste) and brings only its settings. ``engine`` None means the natural
    engine for the source. ``strength`` 0..1, ``style_scale`` 0.125..4 (see ``stylize.scale``)."""

    name: str
    description: str
    source: PresetBlend | None
    strength: float
    mask: MaskMode
    preserve_colour: bool
    style_scale: float
    engine: str | None = None

    def options(self, **changes: Any) -> StyleOptions:
        """The look's StyleOptions, with ``changes`` (size, seed, device, ...) on top."""
        return StyleOptions(strength=self.strength, mask=self.mask, preserve_colour=self.preserve_colour,
                            style_scale=self.style_scale, **changes)  # fmt: skip

    def source_or(self, given: StyleSource | None) -> StyleSource:
        """The style to render: the look's own, else ``given``; a look without a style and nothing given is a
        UserError saying what to add."""
        if self.source is not None:
            return self.source
        if given is None:
            raise UserError(f"The look “{self.name}” takes your style: give a style image, a product or a "
                            "customer's taste with it.")  # fmt: skip
        return given


LOOKS: tuple[Look, ...] = (
    Look("Subtle texture", "the whole picture with a faint brush texture; the product keeps its colours and print",
         PresetBlend({13: 1.0}), SAFE_PRODUCT_RESTYLE_STRENGTH, "all", True, 1.0),
    Look("Tonal backdrop", "the product untouched on a backdrop painted in shades of its own colour",
         PresetBlend({13: 1.0}), 1.0, "background", True, 1.0),
    Look("Painterly backdrop", "the product untouched on a colourful painted backdrop (large strokes)",
         PresetBlend({7: 1.0}), 1.0, "background", False, 2.0),
    Look("Seasonal colour", "the product untouched on an autumn backdrop of browns and reds",
         PresetBlend({10: 0.5, 20: 0.5}), 0.8, "background", False, 1.0),
    Look("Your style, product kept", "any style you give (image, product, customer's taste) on the backdrop only",
         None, 1.0, "background", False, 1.0),
)  # fmt: skip


def look_named(name: str) -> Look:
    """The look called ``name`` (case and spaces ignored); a UserError lists the looks there are."""
    wanted = " ".join(name.split()).casefold()
    for look in LOOKS:
        if look.name.casefold() == wanted:
            return look
    raise UserError(f"There is no look called “{name}”; choose one of: {', '.join(each.name for each in LOOKS)}.")


def _style_words(style: Mapping[str, Any] | None, include_customer_ids: bool) -> str:
    """The style part of a name: "Preset 4", "Presets 3 + 12 (50/50)", "Style of TEE-0002", "C0005's taste"."""
    from stylerec_desktop.core.export.items import is_customer_taste  # the export reads this module back

    if not style:
        return "Unknown style"
    kind = style.get("kind")
    if kind == "preset":
        weights = sorted(((int(k), float(v)) for k, v in dict(style.get("weights") or {}).items()),
                         key=lambda kv: (-kv[1], kv[0]))  # fmt: skip
        if len(weights) == 1:
            return f"Preset {weights[0][0]}"
        total = sum(w for _k, w in weights) or 1.0
        shares = "/".join(f"{round(100 * w / total)}" for _k, w in weights)
        return "Presets " + " + ".join(str(k) for k, _w in weights) + f" ({shares})"
    if kind == "vector":
        if is_customer_taste(style) and not include_customer_ids:
            return TASTE_OF_A_CUSTOMER
        return str(style.get("label") or "A style vector")
    if style.get("sku"):
        return f"Style of {style['sku']}"
    if style.get("label"):
        return str(style["label"])
    if style.get("path"):
        return f"Style of {Path(str(style['path'])).stem}"
    return "A style image"


_ENGINE_WORDS = {"colour": "colours only", "gatys": "Gatys"}
_MASK_WORDS = {"background": "background only", "product": "product only"}


def describe_recipe(recipe: Mapping[str, Any], include_customer_ids: bool = True) -> str:
    """What a render is, in a few words: ``"Preset 4 at 60%, background only"``, ``"Painterly backdrop: Preset 7
    at 100%, background only, strokes x2"``, ``"Style of TEE-0002 at 80%, colours kept"``.

    ``recipe`` is a render recipe (``stylize.recipe``). Parts: the look's name when the recipe records one, the
    style, the engine when it is not the style's usual one (colours only, Gatys), the strength, the mask, "colours
    kept" for preserve colour, and the stroke size when it is not the default. A customer's taste is "Taste of a
    customer" unless ``include_customer_ids`` (for names that leave the app)."""
    options = dict(recipe.get("options") or {})
    parts = [_style_words(recipe.get("style"), include_customer_ids)]
    engine = str(recipe.get("engine") or "")
    if engine in _ENGINE_WORDS:
        parts[0] += f" ({_ENGINE_WORDS[engine]})"
    parts[0] += f" at {round(100 * float(options.get('strength', 1.0)))}%"
    mask = str(options.get("mask", "all"))
    if mask in _MASK_WORDS:
        parts.append(_MASK_WORDS[mask])
    if options.get("preserve_colour"):
        parts.append("colours kept")
    scale = options.get("style_scale")
    if engine in ("arbitrary", "preset") and scale is not None and float(scale) != DEFAULT_STYLE_SCALE:
        parts.append(f"strokes x{float(scale):g}")
    text = ", ".join(parts)
    look = recipe.get("look")
    return f"{look}: {text}" if look else text


def describe_options(source_record: Mapping[str, Any], options: StyleOptions, engine: str, look: str = "") -> str:
    """:func:`describe_recipe` for settings not rendered yet (a style record as ``recipe["style"]`` holds it)."""
    recipe = {"style": source_record, "options": dataclasses.asdict(options), "engine": engine}
    return describe_recipe(recipe | ({"look": look} if look else {}))

"""Export presets: the pixel size, file format and encoder settings of one kind of output file.

The built-ins are the ad formats ad teams ask for most; :func:`parse_preset` also accepts a custom ``WxH`` and the
names of user-defined presets, which the GUI keeps in its settings as JSON (:func:`presets_to_json`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from stylerec_desktop.core.errors import UserError

FORMATS = ("jpeg", "png", "webp")
EXTENSIONS = {"jpeg": ".jpg", "png": ".png", "webp": ".webp"}
SUBSAMPLINGS = ("4:4:4", "4:2:0")
# Below 16 px nothing of a product is recognisable; above 16384 px the JPEG and WebP encoders refuse.
MIN_SIDE, MAX_SIDE = 16, 16384
# WebP's own hard limit per side.
_WEBP_MAX_SIDE = 16383
_NAME = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
_CUSTOM = re.compile(r"\s*(\d{1,5})\s*[xX]\s*(\d{1,5})\s*")
_FORMAT_ALIASES = {"jpg": "jpeg", "jpeg": "jpeg", "png": "png", "webp": "webp"}


@dataclass(frozen=True)
class ExportPreset:
    """One output kind: exactly ``width`` x ``height`` pixels in ``format``.

    ``quality`` (1..100) applies to JPEG and lossy WebP; ``progressive`` and ``subsampling`` to JPEG; ``lossless``
    to WebP. JPEGs are baseline by default: with optimised Huffman tables they come out about as small as
    progressive ones on studio shots and encode twice as fast.

    ``margin`` is the share of the frame's width/height left free on each side of the product; ``max_upscale`` is
    how far a small source may be enlarged before it is padded instead (the product fills the frame up to it, and
    every export reports the factor used); ``background`` is the padding colour as ``#rrggbb``, or None to
    continue the image's backdrop.
    """

    name: str
    width: int
    height: int
    format: str = "jpeg"
    quality: int = 90
    progressive: bool = False
    subsampling: str = "4:2:0"
    lossless: bool = False
    margin: float = 0.08
    # Beyond 4x a photo shows its pixels whatever the resampling; the product then stays smaller, with a warning.
    max_upscale: float = 4.0
    background: str | None = None

    def __post_init__(self) -> None:
        problems = _problems(self)
        if problems:
            raise UserError(f"Export preset {self.name!r} is not valid: {'; '.join(problems)}.")

    @property
    def extension(self) -> str:
        """The file name extension, with its dot: ``.jpg``, ``.png`` or ``.webp``."""
        return EXTENSIONS[self.format]

    @property
    def size(self) -> tuple[int, int]:
        return self.width, self.height

    def with_format(self, format: str) -> ExportPreset:
        """The same preset writing ``format`` (``jpeg``/``jpg``, ``png`` or ``webp``) instead."""
        return replace(self, format=_normalise_format(format))

    def background_rgb(self) -> tuple[int, int, int] | None:
        """``background`` as an RGB triple, or None when it is sampled from the image."""
        if self.background is None:
            return None
        value = self.background.lstrip("#")
        return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; :meth:`from_dict` reads it back."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ExportPreset:
        """Build a preset from :meth:`to_dict` output; unknown keys are ignored so older apps read newer settings.

        Raises :class:`UserError` when a value is missing or out of range.
        """
        known = {f.name for f in fields(cls)}
        values = {k: v for k, v in data.items() if k in known}
        for required in ("name", "width", "height"):
            if required not in values:
                raise UserError(f"An export preset in the settings has no {required!r}; edit or delete it.")
        if "format" in values:
            values["format"] = _normalise_format(str(values["format"]))
        try:
            return cls(**values)
        except TypeError as exc:  # e.g. a string where a number belongs, caught by the comparisons in _problems
            raise UserError(f"Export preset {values.get('name')!r} is not valid: {exc}.") from None


def _normalise_format(format: str) -> str:
    try:
        return _FORMAT_ALIASES[format.strip().lower()]
    except KeyError:
        raise UserError(f"Unknown image format {format!r}: use jpeg, png or webp.") from None


def _problems(preset: ExportPreset) -> list[str]:
    """Every reason ``preset`` is unusable, in words."""
    problems: list[str] = []
    if not isinstance(preset.name, str) or not _NAME.fullmatch(preset.name):
        problems.append("the name must be 1 to 40 lowercase letters, digits, '-' or '_'")
    for side in ("width", "height"):
        value = getattr(preset, side)
        if not isinstance(value, int) or isinstance(value, bool) or not MIN_SIDE <= value <= MAX_SIDE:
            problems.append(f"the {side} must be a whole number of pixels from {MIN_SIDE} to {MAX_SIDE}")
    if preset.format not in FORMATS:
        problems.append(f"the format must be one of {', '.join(FORMATS)}")
    elif preset.format == "webp" and not problems and max(preset.width, preset.height) > _WEBP_MAX_SIDE:
        problems.append(f"WebP images can be at most {_WEBP_MAX_SIDE} px on a side")
    if not isinstance(preset.quality, int) or not 1 <= preset.quality <= 100:
        problems.append("the quality must be from 1 to 100")
    if preset.subsampling not in SUBSAMPLINGS:
        problems.append(f"the chroma subsampling must be {' or '.join(SUBSAMPLINGS)}")
    if not isinstance(preset.margin, int | float) or not 0.0 <= preset.margin < 0.45:
        problems.append("the margin must be from 0 to 0.45 of the frame")
    if not isinstance(preset.max_upscale, int | float) or preset.max_upscale < 1.0:
        problems.append("the upscale limit must be at least 1.0")
    if preset.background is not None and not re.fullmatch(r"#[0-9a-fA-F]{6}", str(preset.background)):
        problems.append("the background colour must look like #rrggbb")
    return problems


BUILTIN_PRESETS: dict[str, ExportPreset] = {
    p.name: p
    for p in (
        ExportPreset("square", 1080, 1080),
        ExportPreset("portrait", 1080, 1350),
        ExportPreset("story", 1080, 1920),
        ExportPreset("landscape", 1200, 628),
        # The web product page zooms in, so it gets a higher quality and full chroma resolution.
        ExportPreset("web", 2000, 2000, quality=92, subsampling="4:4:4"),
        ExportPreset("thumb", 400, 400, quality=85),
    )
}


def parse_preset(spec: str, user_presets: Mapping[str, ExportPreset] | None = None) -> ExportPreset:
    """The preset ``spec`` names: a built-in, a user-defined one (they win over built-ins), or a custom ``WxH``.

    A custom size gets the built-in defaults and the name ``custom-WxH``. Raises :class:`UserError` for anything
    else, listing the names that exist.
    """
    key = spec.strip().lower()
    if user_presets and key in user_presets:
        return user_presets[key]
    if key in BUILTIN_PRESETS:
        return BUILTIN_PRESETS[key]
    custom = _CUSTOM.fullmatch(key)
    if custom:
        width, height = int(custom.group(1)), int(custom.group(2))
        return ExportPreset(f"custom-{width}x{height}", width, height)
    names = sorted({*BUILTIN_PRESETS, *(user_presets or {})})
    raise UserError(f"Unknown export preset {spec!r}: use one of {', '.join(names)}, or a size such as 1200x800.")


def parse_presets(
    specs: str | Iterable[str], user_presets: Mapping[str, ExportPreset] | None = None
) -> list[ExportPreset]:
    """Several presets from a comma-separated string (``"square,story"``) or a list of specs; duplicates dropped."""
    items = specs.split(",") if isinstance(specs, str) else list(specs)
    result: dict[str, ExportPreset] = {}
    for item in items:
        if item.strip():
            preset = parse_preset(item, user_presets)
            result.setdefault(preset.name, preset)
    if not result:
        raise UserError("No export preset given: name at least one, e.g. square.")
    return list(result.values())


def presets_to_json(presets: Iterable[ExportPreset]) -> str:
    """User-defined presets as a JSON document for the settings store."""
    return json.dumps({"version": 1, "presets": [p.to_dict() for p in presets]}, indent=2, sort_keys=True)


def presets_from_json(text: str) -> dict[str, ExportPreset]:
    """Read :func:`presets_to_json` output back, keyed by name. Raises :class:`UserError` on a broken document."""
    try:
        document = json.loads(text)
        entries = document["presets"]
        if not isinstance(entries, list):
            raise TypeError("'presets' is not a list")
    except (ValueError, KeyError, TypeError) as exc:
        raise UserError(f"The saved export presets cannot be read ({exc}); reset them in the export dialog.") from None
    presets = [ExportPreset.from_dict(entry) for entry in entries]
    return {p.name: p for p in presets}

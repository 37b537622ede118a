"""Render recipes: everything needed to make the same picture again, stored with every render.

A :class:`Recipe` is a frozen, typed value; :meth:`Recipe.to_json`/:meth:`Recipe.from_json` give and read its JSON
form (stored in the catalog's ``renders`` table and as a ``.recipe.json`` file next to the
render)::

    {"recipe_version": 2, "engine": "arbitrary", "style_scale": 1.0,
     "content": {"path": "...", "sha256": "...", "sku": "BAG-001" | None, "size": [w, h]},
     "style": {"kind": "image", "path": "...", "sha256": "...", "sku": None, "label": ""}
            | {"kind": "vector", "vector": [100 floats], "label": "customer C001"}
            | {"kind": "preset", "weights": {"7": 1.0}},
     "options": {... StyleOptions fields ...}, "seed": 0,
     "device": "cpu", "dtype": "bfloat16", "threads": 2,
     "models": {"style-transformer": "<sha256>", ...},
     "app_version": "0.1.0", "torch_version": "2.14.1", "created": "2026-...Z"}

:func:`rerender` reproduces the render from a recipe. The output is bit-identical on the same device type, dtype and
thread count (all recorded; float reductions are ordered by the thread split); the content and style files are
checked against their recorded sha256 first, so a changed input is an error rather than a quietly different picture.
The PNG files carry no time stamps or metadata, so the same pixels always make the same bytes.

Versions: 1 ran the networks at the output size (no ``style_scale`` in its options); 2 adds ``style_scale`` (also
copied to the top level, like ``seed``). A version-1 recipe is read with ``style_scale=None``, which selects the
version-1 pipeline, so it re-renders the pixels it made then. 3 adds ``options.mask_version`` (3: the product
found once per picture, a second look at a doubtful mask, a new backdrop under its soft edge); a version-2 recipe
is read with ``mask_version=2``, the version-2 mask path. A ``look`` (the named look the settings came from,
see ``stylize.looks``) may be recorded; like the name it gives, it is not read back. After a render, ``fidelity`` (see
``stylize.fidelity``) may be added; it describes the result and is not read back. So may ``fallback``, the sentence
saying a doubtful product mask changed the settings (``stylize.product_mask``); the options hold the ones used.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from stylerec_desktop import __version__
from stylerec_desktop.core.errors import UserError
from stylerec_desktop.core.models.device import choose_device, choose_dtype
from stylerec_desktop.core.models.weights import ARBITRARY_TRANSFORM, MULTISTYLE26, STYLE_PREDICTOR, Weights
from stylerec_desktop.core.safe_files import sha256_file
from stylerec_desktop.core.stylize.options import PresetBlend, StyleImage, StyleOptions, StyleSource, StyleVector
from stylerec_desktop.core.stylize.png import encode_png

RECIPE_VERSION = 3
# Options that did not exist in a recipe version, with the value that reproduces that version's pictures.
_ABSENT_BEFORE: dict[int, dict[str, object]] = {2: {"style_scale": None}, 3: {"mask_version": 2}}

# The weights each engine reads, recorded by hash so a later re-render can tell it would use other networks.
ENGINE_WEIGHTS: dict[str, tuple[Weights, ...]] = {
    "arbitrary": (STYLE_PREDICTOR, ARBITRARY_TRANSFORM),
    "preset": (MULTISTYLE26,),
    "colour": (),
}


def file_sha256(path: Path, what: str = "file") -> str:
    """Hex sha256 of a file's bytes. A missing or unreadable file is a UserError naming ``what`` and the path."""
    try:
        return sha256_file(Path(path))  # a device or FIFO would be read without end: refused
    except FileNotFoundError:
        raise UserError(f"The {what} {path} is not there (moved or deleted?): choose it again.") from None
    except OSError as error:
        raise UserError(f"Cannot read the {what} {path}: {error.strerror or error}.") from None


def png_bytes(image: Image.Image) -> bytes:
    """The image as PNG bytes with no metadata: a pure function of the pixels, so re-renders compare byte for byte
    (the banded encoder of ``stylize.png``, which a render job drives step by step so that it can be cancelled)."""
    return encode_png(image)


# -- the recipe as a typed value -----------------------------------------------------------------------------------


def _bad(field: str, wanted: str) -> UserError:
    return UserError(f"This recipe's '{field}' is missing or not {wanted}; the recipe file is damaged: make the "
                     "render again instead of re-rendering it.")  # fmt: skip


def _text(data: Mapping[str, Any], key: str, where: str, optional: bool = False) -> str | None:
    value = data.get(key)
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise _bad(where + key, "text")
    return value


def _number(data: Mapping[str, Any], key: str, where: str) -> float:
    value = data.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _bad(where + key, "a number")
    return float(value)


def _record(data: Mapping[str, Any], key: str, where: str = "") -> Mapping[str, Any]:
    value = data.get(key)
    if not isinstance(value, Mapping):
        raise _bad(where + key, "a record")
    return value


@dataclass(frozen=True)
class ContentRecord:
    """The picture a render was made from: its absolute ``path``, hex ``sha256`` of its bytes, catalog ``sku``
    (None for a loose file) and ``size`` (width, height in pixels)."""

    path: str
    sha256: str
    sku: str | None
    size: tuple[int, int]

    def to_dict(self) -> dict[str, object]:
        return {"path": self.path, "sha256": self.sha256, "sku": self.sku, "size": list(self.size)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ContentRecord:
        size = data.get("size")
        if not isinstance(size, list | tuple) or len(size) != 2 or not all(isinstance(v, int) for v in size):
            raise _bad("content.size", "a width and a height")
        return cls(str(_text(data, "path", "content.")), str(_text(data, "sha256", "content.")),
                   _text(data, "sku", "content.", optional=True), (int(size[0]), int(size[1])))  # fmt: skip


@dataclass(frozen=True)
class ImageStyleRecord:
    """A style picture by file: absolute ``path``, its ``sha256``, catalog ``sku`` (None for a loose file)."""

    path: str
    sha256: str
    sku: str | None = None
    label: str = ""

    def to_dict(self) -> dict[str, object]:
        return {"kind": "image", "path": self.path, "sha256": self.sha256, "sku": self.sku, "label": self.label}


@dataclass(frozen=True)
class VectorStyleRecord:
    """A 100-d style vector (e.g. a customer's taste, then ``customer`` names them; empty otherwise)."""

    vector: tuple[float, ...]
    label: str = ""
    customer: str = ""

    def to_dict(self) -> dict[str, object]:
        # float32 -> Python float is exact and JSON writes floats that read back to the same double, so the
        # vector survives the round trip bit for bit.
        record: dict[str, object] = {"kind": "vector", "vector": list(self.vector), "label": self.label}
        if self.customer:
            record["customer"] = self.customer  # so an export can tell a customer's taste and leave it out
        return record


@dataclass(frozen=True)
class PresetStyleRecord:
    """A blend of the 26 built-in styles, ``{index 0..25: weight}`` as given (the engine normalises)."""

    weights: dict[int, float]

    def to_dict(self) -> dict[str, object]:
        return {"kind": "preset", "weights": {str(k): float(v) for k, v in sorted(self.weights.items())}}


StyleRecord = ImageStyleRecord | VectorStyleRecord | PresetStyleRecord


def _style_from_dict(data: Mapping[str, Any]) -> StyleRecord:
    kind = data.get("kind")
    if kind == "preset":
        weights = _record(data, "weights", "style.")
        try:
            return PresetStyleRecord({int(k): float(v) for k, v in weights.items()})
        except (TypeError, ValueError):
            raise _bad("style.weights", "preset numbers with weights") from None
    if kind == "vector":
        vector = data.get("vector")
        if not isinstance(vector, list) or not all(isinstance(v, int | float) for v in vector):
            raise _bad("style.vector", "a list of numbers")
        return VectorStyleRecord(tuple(float(v) for v in vector), str(data.get("label") or ""),
                                 str(data.get("customer") or ""))  # fmt: skip
    if kind == "image":
        return ImageStyleRecord(str(_text(data, "path", "style.")), str(_text(data, "sha256", "style.")),
                                _text(data, "sku", "style.", optional=True), str(data.get("label") or ""))  # fmt: skip
    raise UserError(f"Unknown style kind '{kind}' in this recipe (made by a newer StyleRec?).")


def _style_record(source: StyleSource, style_sku: str | None) -> StyleRecord:
    if isinstance(source, PresetBlend):
        return PresetStyleRecord({int(k): float(v) for k, v in source.weights.items()})
    if isinstance(source, StyleVector):
        return VectorStyleRecord(tuple(float(v) for v in source.vector), source.label, source.customer_id)
    if isinstance(source.source, Image.Image):
        raise ValueError("a recipe needs the style image's file; save it first (see store.save_style_copy)")
    path = Path(source.source).resolve()
    return ImageStyleRecord(str(path), file_sha256(path, "style image"), style_sku, source.label)


# Top-level keys the typed fields stand for; anything else in a stored recipe is kept in ``Recipe.extra``.
_KNOWN_KEYS = frozenset({"recipe_version", "engine", "content", "style", "options", "seed", "style_scale", "device",
                         "dtype", "threads", "models", "app_version", "torch_version", "created", "look",
                         "fidelity"})  # fmt: skip
_OPTION_NAMES = frozenset(field.name for field in dataclasses.fields(StyleOptions))


@dataclass(frozen=True)
class Recipe:
    """Everything needed to make one render again (see the module docstring for the JSON form).

    ``options`` are the options as asked (device/precision may say ``auto``); ``device`` (cpu, cuda, mps),
    ``dtype`` (float32, float16, bfloat16) and ``threads`` are what the render actually used, and
    :meth:`render_options` pins them. ``version`` is the recipe version it was written as (1 or 2): a version-1
    recipe has ``options.style_scale`` None and writes no style scale back. ``look`` names the look the settings
    came from and ``fidelity`` is the measured result (``stylize.fidelity``); neither is read back by a re-render.
    ``extra`` keeps top-level keys this version does not know, so a recipe read and written again loses nothing.
    """

    engine: str
    content: ContentRecord
    style: StyleRecord
    options: StyleOptions
    device: str
    dtype: str
    threads: int | None
    models: dict[str, str]
    app_version: str
    torch_version: str
    created: str
    version: int = RECIPE_VERSION
    look: str | None = None
    fidelity: dict[str, Any] | None = None
    extra: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def seed(self) -> int:
        return self.options.seed

    def to_dict(self) -> dict[str, object]:
        """The JSON-able dict stored in the catalog and the ``.recipe.json`` file (the keys of its version)."""
        options = dataclasses.asdict(self.options)
        absent = [name for introduced, names in _ABSENT_BEFORE.items() if self.version < introduced for name in names]
        for name in absent:
            options.pop(name, None)
        data: dict[str, object] = {
            "recipe_version": self.version,
            "engine": self.engine,
            "content": self.content.to_dict(),
            "style": self.style.to_dict(),
            "options": options,
            "seed": self.options.seed,
            "style_scale": self.options.style_scale,
            "device": self.device,
            "dtype": self.dtype,
            "threads": self.threads,
            "models": dict(self.models),
            "app_version": self.app_version,
            "torch_version": self.torch_version,
            "created": self.created,
        }
        for name in absent:
            data.pop(name, None)
        if self.look:
            data["look"] = self.look
        if self.fidelity is not None:
            data["fidelity"] = dict(self.fidelity)
        data.update(self.extra)
        return data

    def to_json(self, indent: int | None = 2) -> str:
        """:meth:`to_dict` as JSON text, keys sorted (the form written beside each render)."""
        return json.dumps(self.to_dict(), indent=indent, sort_keys=True)

    @classmethod
    def from_json(cls, data: str | bytes | Mapping[str, Any]) -> Recipe:
        """Read a recipe of any version written so far (JSON text or its parsed dict).

        A malformed recipe (not JSON, a field missing or of the wrong type) is a :class:`UserError` naming the
        field; one written by a newer app is a UserError asking for an update.
        """
        if isinstance(data, str | bytes):
            try:
                data = json.loads(data)
            except ValueError as error:
                raise UserError(f"This recipe is not readable JSON ({error}); make the render again.") from None
        if not isinstance(data, Mapping):
            raise UserError("This recipe is not a JSON object; make the render again.")
        version = data.get("recipe_version", 1)
        if isinstance(version, bool) or not isinstance(version, int) or version < 1:
            raise _bad("recipe_version", "a whole number from 1")
        if version > RECIPE_VERSION:
            raise UserError("This recipe was written by a newer StyleRec Desktop; update the app to re-render it.")
        options = dict(_record(data, "options"))
        unknown = sorted(set(options) - _OPTION_NAMES)
        if unknown:
            raise UserError(f"This recipe's 'options.{unknown[0]}' is not an option this app knows (made by a "
                            "newer StyleRec?).")  # fmt: skip
        for introduced, absent in _ABSENT_BEFORE.items():
            if version < introduced:
                for name, value in absent.items():
                    options.setdefault(name, value)
        try:
            style_options = StyleOptions(**options)
        except (UserError, TypeError) as error:
            raise UserError(f"This recipe's 'options' are not valid: {error}") from None
        models = _record(data, "models")
        threads = data.get("threads")
        if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int)):
            raise _bad("threads", "a whole number")
        fidelity = data.get("fidelity")
        if fidelity is not None and not isinstance(fidelity, Mapping):
            raise _bad("fidelity", "a record")
        return cls(
            engine=str(_text(data, "engine", "")),
            content=ContentRecord.from_dict(_record(data, "content")),
            style=_style_from_dict(_record(data, "style")),
            options=style_options,
            device=str(data.get("device") or options.get("device") or "auto"),
            dtype=str(data.get("dtype") or "float32"),
            threads=threads,
            models={str(k): str(v) for k, v in models.items()},
            app_version=str(data.get("app_version") or ""),
            torch_version=str(data.get("torch_version") or ""),
            created=str(data.get("created") or ""),
            version=version,
            look=_text(data, "look", "", optional=True),
            fidelity=dict(fidelity) if fidelity is not None else None,
            extra={k: v for k, v in data.items() if k not in _KNOWN_KEYS},
        )

    @classmethod
    def coerce(cls, recipe: Recipe | str | bytes | Mapping[str, Any]) -> Recipe:
        """``recipe`` as a Recipe (already one, JSON text or its dict)."""
        return recipe if isinstance(recipe, Recipe) else cls.from_json(recipe)

    def with_fidelity(self, fidelity: Mapping[str, Any]) -> Recipe:
        return dataclasses.replace(self, fidelity=dict(fidelity))

    def with_fallback(self, note: str) -> Recipe:
        """This recipe with ``fallback``: the sentence saying a doubtful product mask changed the settings
        (``stylize.product_mask``; the options already hold the ones used). Not read back by a re-render."""
        return dataclasses.replace(self, extra={**self.extra, "fallback": note}) if note else self

    @property
    def fallback(self) -> str:
        return str(self.extra.get("fallback") or "")

    def render_options(self) -> StyleOptions:
        """The options with device and precision pinned to what the render actually used."""
        precision = {"float32": "fp32", "float16": "fp16", "bfloat16": "bf16"}.get(self.dtype, "fp32")
        return dataclasses.replace(self.options, device=self.device, precision=precision)

    def content_file(self) -> Path:
        """The content picture, checked to be there and unchanged (a UserError says which)."""
        return _checked(self.content.path, self.content.sha256, "content image")

    def style_source(self) -> StyleSource:
        """The style source this recipe describes (a style file checked against its recorded hash)."""
        style = self.style
        if isinstance(style, PresetStyleRecord):
            return PresetBlend(dict(style.weights))
        if isinstance(style, VectorStyleRecord):
            return StyleVector(np.asarray(style.vector, dtype=np.float32), label=style.label,
                               customer_id=style.customer)  # fmt: skip
        return StyleImage(_checked(style.path, style.sha256, "style image"), label=style.label)


def make_recipe(
    engine: str,
    content_path: Path,
    content_size: tuple[int, int],
    source: StyleSource,
    options: StyleOptions,
    content_sku: str | None = None,
    style_sku: str | None = None,
    look: str | None = None,
) -> Recipe:
    """The recipe of rendering the file ``content_path`` (``content_size`` = its width, height) with ``source``.
    ``look`` names the look (``stylize.looks``) the settings came from; it is recorded for names, not read back.

    Device and precision are recorded as *resolved* (``cpu``/``bfloat16``, not ``auto``), since auto may resolve
    differently on another machine.
    """
    device, dtype = resolved_device(engine, options)
    path = Path(content_path).resolve()
    return Recipe(
        engine=engine,
        content=ContentRecord(str(path), file_sha256(path, "content image"), content_sku,
                              (int(content_size[0]), int(content_size[1]))),  # fmt: skip
        style=_style_record(source, style_sku),
        options=options,
        device=device,
        dtype=dtype,
        threads=torch.get_num_threads(),
        models={w.name: w.sha256 for w in ENGINE_WEIGHTS.get(engine, ())},
        app_version=__version__,
        torch_version=torch.__version__,
        created=datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        look=look or None,
    )


def resolved_device(engine: str, options: StyleOptions) -> tuple[str, str]:
    """The device type (``cpu``, ``cuda``, ``mps``) and dtype name (``float32``, ``float16``, ``bfloat16``) that
    ``engine`` renders ``options`` with on this machine (``auto`` resolved)."""
    device = choose_device(options.device)
    dtype = choose_dtype(device, options.precision, auto_cpu_bf16=engine != "preset")
    if engine == "colour":
        dtype = torch.float32  # no network: recorded for completeness
    return device.type, str(dtype).removeprefix("torch.")


def _checked(path_text: str, sha256: str, what: str) -> Path:
    path = Path(path_text)
    if not path.is_file():
        raise UserError(f"The {what} of this render is gone: {path}. Restore the file to re-render it.")
    if file_sha256(path) != sha256:
        raise UserError(f"The {what} {path} has changed since it was rendered; re-rendering would not match.")
    return path


def checked_file(record: Mapping[str, Any], what: str) -> Path:
    """The file a recipe record (``content`` or an image ``style``) names, after checking it is there and unchanged
    (a UserError says which)."""
    return _checked(str(record["path"]), str(record["sha256"]), what)


def recipe_source(recipe: Recipe | Mapping[str, Any]) -> StyleSource:
    """The style source a recipe describes (style files checked against their recorded hash)."""
    return Recipe.coerce(recipe).style_source()


def recipe_options(recipe: Recipe | Mapping[str, Any]) -> StyleOptions:
    """The recipe's options with device and precision pinned to what was actually used."""
    return Recipe.coerce(recipe).render_options()


@contextmanager
def torch_threads(count: int | None) -> Iterator[None]:
    """Run the block with ``count`` intra-op threads (float reductions split by thread; bit-identity needs it)."""
    before = torch.get_num_threads()
    if count:
        torch.set_num_threads(int(count))
    try:
        yield
    finally:
        torch.set_num_threads(before)


def rerender(recipe: Recipe | Mapping[str, Any] | str) -> Image.Image:
    """Render again from a recipe (a Recipe, its dict or its JSON text); returns the picture.

    Raises a UserError when the recipe is malformed, the content or style file is missing or changed, or the
    recipe's engine is unknown.
    """
    from stylerec_desktop.core.stylize import ENGINES, stylize  # the package imports this module

    typed = Recipe.coerce(recipe)
    if typed.engine not in ENGINES:
        raise UserError(f"This recipe needs the '{typed.engine}' engine, which this installation does not have.")
    content_path = typed.content_file()
    with Image.open(content_path) as opened:
        opened.load()
        content = opened.copy()
    with torch_threads(typed.threads):
        return stylize(content, typed.style_source(), typed.render_options(), engine=typed.engine)

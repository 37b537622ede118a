"""Render recipes: everything needed to make the same picture again, stored with every render.

A recipe is a JSON-able dict (stored in the catalog's ``renders`` table and as a ``.recipe.json`` file next to the
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
version-1 pipeline, so it re-renders the pixels it made then. A ``look`` (the named look the settings came from,
see ``stylize.looks``) may be recorded; like the name it gives, it is not read back. After a render, ``fidelity`` (see
``stylize.fidelity``) may be added; it describes the result and is not read back.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
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
from stylerec_desktop.core.safe_files import open_regular_file, write_atomic
from stylerec_desktop.core.stylize.options import PresetBlend, StyleImage, StyleOptions, StyleSource, StyleVector
from stylerec_desktop.core.stylize.png import encode_png

RECIPE_VERSION = 2
# Options that did not exist in a recipe version, with the value that reproduces that version's pictures.
_ABSENT_BEFORE: dict[int, dict[str, object]] = {2: {"style_scale": None}}

# The weights each engine reads, recorded by hash so a later re-render can tell it would use other networks.
ENGINE_WEIGHTS: dict[str, tuple[Weights, ...]] = {
    "arbitrary": (STYLE_PREDICTOR, ARBITRARY_TRANSFORM),
    "preset": (MULTISTYLE26,),
    "colour": (),
}


def file_sha256(path: Path, what: str = "file") -> str:
    """Hex sha256 of a file's bytes. A missing or unreadable file is a UserError naming ``what`` and the path."""
    digest = hashlib.sha256()
    try:
        handle, _ = open_regular_file(Path(path))  # a device or FIFO would be read without end: refused
        with handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    except FileNotFoundError:
        raise UserError(f"The {what} {path} is not there (moved or deleted?): choose it again.") from None
    except OSError as error:
        raise UserError(f"Cannot read the {what} {path}: {error.strerror or error}.") from None
    return digest.hexdigest()


def png_bytes(image: Image.Image) -> bytes:
    """The image as PNG bytes with no metadata: a pure function of the pixels, so re-renders compare byte for byte
    (the banded encoder of ``stylize.png``, which a render job drives step by step so that it can be cancelled)."""
    return encode_png(image)


def unused_path(folder: Path, stem: str, suffix: str = ".png") -> Path:
    """``folder/stem.png``, or ``stem-2.png``, ``stem-3.png``... when taken: renders and contact sheets are named to
    the second, and the same picture (a re-render) or two batches of one shape can finish within one. A symbolic
    link, even a dangling one, counts as taken: a render is never written where a link is."""
    path, copy = folder / f"{stem}{suffix}", 1
    while os.path.lexists(path):
        copy += 1
        path = folder / f"{stem}-{copy}{suffix}"
    return path


def write_atomically(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary file in the same folder and a rename: readers (the GUI, an ad
    tool watching the folder) see the old file or the whole new one, never half of it.

    The folder is created when missing. ``path`` being a symbolic link is a :class:`UserError` naming it (see
    :mod:`stylerec_desktop.core.safe_files`), so a link planted in an output folder cannot redirect the write.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, data)


def _style_record(source: StyleSource, style_sku: str | None) -> dict[str, object]:
    if isinstance(source, PresetBlend):
        return {"kind": "preset", "weights": {str(k): float(v) for k, v in sorted(source.weights.items())}}
    if isinstance(source, StyleVector):
        # float32 -> Python float is exact and JSON writes floats that read back to the same double, so the
        # vector survives the round trip bit for bit.
        record: dict[str, object] = {"kind": "vector", "vector": [float(v) for v in source.vector],
                                     "label": source.label}  # fmt: skip
        if source.customer_id:
            record["customer"] = source.customer_id  # so an export can tell a customer's taste and leave it out
        return record
    if isinstance(source.source, Image.Image):
        raise ValueError("a recipe needs the style image's file; save it first (see store.save_style_copy)")
    path = Path(source.source).resolve()
    return {"kind": "image", "path": str(path), "sha256": file_sha256(path, "style image"), "sku": style_sku,
            "label": source.label}  # fmt: skip


def make_recipe(
    engine: str,
    content_path: Path,
    content_size: tuple[int, int],
    source: StyleSource,
    options: StyleOptions,
    content_sku: str | None = None,
    style_sku: str | None = None,
    look: str | None = None,
) -> dict[str, Any]:
    """The recipe of rendering the file ``content_path`` (``content_size`` = its width, height) with ``source``.
    ``look`` names the look (``stylize.looks``) the settings came from; it is recorded for names, not read back.

    Device and precision are recorded as *resolved* (``cpu``/``bfloat16``, not ``auto``), since auto may resolve
    differently on another machine.
    """
    device = choose_device(options.device)
    dtype = choose_dtype(device, options.precision, auto_cpu_bf16=engine != "preset")
    if engine == "colour":
        dtype = torch.float32  # no network: recorded for completeness
    path = Path(content_path).resolve()
    recipe: dict[str, object] = {
        "recipe_version": RECIPE_VERSION,
        "engine": engine,
        "content": {
            "path": str(path),
            "sha256": file_sha256(path, "content image"),
            "sku": content_sku,
            "size": list(content_size),
        },
        "style": _style_record(source, style_sku),
        "options": dataclasses.asdict(options),
        "seed": options.seed,
        "style_scale": options.style_scale,
        "device": device.type,
        "dtype": str(dtype).removeprefix("torch."),
        "threads": torch.get_num_threads(),
        "models": {w.name: w.sha256 for w in ENGINE_WEIGHTS.get(engine, ())},
        "app_version": __version__,
        "torch_version": torch.__version__,
        "created": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    if look:
        recipe["look"] = look
    return recipe


def checked_file(record: dict[str, object], what: str) -> Path:
    """The file a recipe record names, after checking it is there and unchanged (a UserError says which)."""
    path = Path(str(record["path"]))
    if not path.is_file():
        raise UserError(f"The {what} of this render is gone: {path}. Restore the file to re-render it.")
    if file_sha256(path) != record["sha256"]:
        raise UserError(f"The {what} {path} has changed since it was rendered; re-rendering would not match.")
    return path


def recipe_source(recipe: dict[str, object]) -> StyleSource:
    """The style source a recipe describes (style files checked against their recorded hash)."""
    style = recipe["style"]
    assert isinstance(style, dict)
    kind = style["kind"]
    if kind == "preset":
        return PresetBlend({int(k): float(v) for k, v in dict(style["weights"]).items()})
    if kind == "vector":
        return StyleVector(np.asarray(style["vector"], dtype=np.float32), label=str(style.get("label", "")),
                           customer_id=str(style.get("customer", "")))  # fmt: skip
    if kind == "image":
        return StyleImage(checked_file(style, "style image"), label=str(style.get("label", "")))
    raise UserError(f"Unknown style kind '{kind}' in this recipe (made by a newer StyleRec?).")


def _recipe_version(recipe: dict[str, object], default: int) -> int:
    """The recipe's ``recipe_version`` (``default`` when it has none); UserError when it is not a whole number."""
    value = recipe.get("recipe_version", default)
    if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
        return int(value)
    raise UserError(f"This recipe's version ({value!r}) is not a number: the recipe file is damaged.")


def recipe_options(recipe: dict[str, object]) -> StyleOptions:
    """The recipe's options with device and precision pinned to what was actually used."""
    stored = recipe["options"]
    if not isinstance(stored, dict):
        raise UserError("This recipe has no options: the recipe file is damaged.")
    options: dict[str, Any] = dict(stored)
    version = _recipe_version(recipe, 1)
    for introduced, absent in _ABSENT_BEFORE.items():
        if version < introduced:
            for name, value in absent.items():
                options.setdefault(name, value)
    dtype = str(recipe.get("dtype", "float32"))
    options["device"] = str(recipe.get("device", options.get("device", "auto")))
    options["precision"] = {"float32": "fp32", "float16": "fp16", "bfloat16": "bf16"}.get(dtype, "fp32")
    return StyleOptions(**options)


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


def rerender(recipe: dict[str, object] | str) -> Image.Image:
    """Render again from a recipe (a dict or its JSON text); returns the picture.

    Raises a UserError when the content or style file is missing or changed, or the recipe's engine is unknown.
    """
    from stylerec_desktop.core.stylize import ENGINES, stylize  # the package imports this module

    if isinstance(recipe, str):
        recipe = json.loads(recipe)
    assert isinstance(recipe, dict)
    if _recipe_version(recipe, 0) > RECIPE_VERSION:
        raise UserError("This recipe was written by a newer StyleRec Desktop; update the app to re-render it.")
    engine = str(recipe["engine"])
    if engine not in ENGINES:
        raise UserError(f"This recipe needs the '{engine}' engine, which this installation does not have.")
    content_record = recipe["content"]
    assert isinstance(content_record, dict)
    content_path = checked_file(content_record, "content image")
    with Image.open(content_path) as opened:
        opened.load()
        content = opened.copy()
    threads = recipe.get("threads")  # the intra-op thread count the render used (None: the default)
    with torch_threads(threads if isinstance(threads, int) else None):
        return stylize(content, recipe_source(recipe), recipe_options(recipe), engine=engine)

"""Renders kept in the catalog: the file under ``renders/``, its recipe beside it, and a row in the catalog.

>>> stored = run_job(render_into_catalog_job(catalog, Path("bag.jpg"), PresetBlend({7: 1.0})))  # doctest: +SKIP
>>> again = rerender(stored.recipe)                      # the same pixels, see recipe.py          # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import io
import logging
import re
import time
from collections.abc import Collection
from datetime import UTC, datetime
from pathlib import Path

from PIL import Image

from stylerec_desktop.core.catalog import Catalog, StoredRender
from stylerec_desktop.core.errors import UserError
from stylerec_desktop.core.jobs import Job, Progress
from stylerec_desktop.core.safe_files import unique_path, write_atomic
from stylerec_desktop.core.stylize import RenderCache, StyleImage, StyleOptions, StyleSource, stylize_job
from stylerec_desktop.core.stylize.engines import engine_for
from stylerec_desktop.core.stylize.fidelity import render_fidelity
from stylerec_desktop.core.stylize.png import encode_png_job
from stylerec_desktop.core.stylize.product_mask import doubtful_mask_fallback
from stylerec_desktop.core.stylize.recipe import Recipe, make_recipe, png_bytes

log = logging.getLogger(__name__)

RECIPE_SUFFIX = ".recipe.json"


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", text).strip("-")[:40] or "image"


def save_style_copy(catalog: Catalog, image: Image.Image) -> Path:
    """Keep a style picture that has no file of its own (a pasted image) under ``renders/styles/``, named by its
    content, so a recipe can point at it."""
    data = png_bytes(image.convert("RGB"))
    path = catalog.renders_dir / "styles" / f"{hashlib.sha256(data).hexdigest()[:16]}.png"
    if not path.exists():
        write_atomic(path, data, make_folder=True)
    return path


def render_into_catalog_job(
    catalog: Catalog,
    content_path: Path,
    source: StyleSource,
    options: StyleOptions | None = None,
    engine: str | None = None,
    content_sku: str | None = None,
    style_sku: str | None = None,
    product_id: int | None = None,
    look: str | None = None,
    fallback: Collection[str] | None = None,
) -> Job[StoredRender]:
    """Render ``content_path`` with ``source`` and keep it: PNG under ``renders/``, ``.recipe.json`` beside it, and a
    catalog row. The recipe carries the render's measured ``fidelity`` (see ``stylize.fidelity``) and ``look``, the
    named look its settings came from (if any). Yields the render's progress; returns the :class:`StoredRender`.

    ``fallback``: None renders ``options`` as they are (a re-render); a collection (the names of the settings the
    user set, possibly empty) applies the doubtful-mask rule first (``stylize.product_mask.doubtful_mask_fallback``)
    and records its sentence as the recipe's ``fallback``; the recipe holds the options actually used."""
    started = time.perf_counter()
    options = options or StyleOptions()
    chosen = engine_for(engine, source).name
    if isinstance(source, StyleImage) and isinstance(source.source, Image.Image):
        source = StyleImage(save_style_copy(catalog, source.source), label=source.label)
    content = open_content(Path(content_path))
    cache = RenderCache(content)
    note = ""
    if fallback is not None:
        options, note = doubtful_mask_fallback(content, options, fallback, cache)
    recipe = make_recipe(chosen, content_path, content.size, source, options, content_sku, style_sku, look)
    recipe = recipe.with_fallback(note)
    result = yield from stylize_job(content, source, options, engine=chosen, cache=cache)
    # Each finishing step is its own step of the job, so a cancel of a big render lands within about a second.
    yield Progress(0, None, "measuring the render")
    recipe = recipe.with_fidelity(render_fidelity(content, result).to_dict())
    data = yield from encode_png_job(result)  # the same bytes as png_bytes(result), a band of rows per step
    return keep_render(catalog, data, recipe, result.size, content_sku or Path(content_path).stem, product_id, started)


def keep_render(
    catalog: Catalog,
    data: bytes,
    recipe: Recipe,
    size: tuple[int, int],
    name: str,
    product_id: int | None = None,
    started: float | None = None,
) -> StoredRender:
    """Keep a finished render: ``data`` (its PNG bytes) under ``renders/`` with ``recipe`` beside it, each written
    atomically, and its catalog row. ``size`` is its (width, height) in pixels, ``name`` the sku or file stem its
    file is named after; ``started`` (a ``time.perf_counter()``) only times the log line. Used by the render on this
    machine and by the batch render on a cluster (whose workers render; this workstation writes)."""
    sha256 = hashlib.sha256(data).hexdigest()
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    stem = f"{stamp}-{_slug(name)}-{recipe.engine}-{sha256[:10]}"
    path = unique_path(catalog.renders_dir, stem)
    recipe_text = recipe.to_json(indent=2).encode()
    write_atomic(path, data, make_folder=True)
    write_atomic(path.with_name(path.stem + RECIPE_SUFFIX), recipe_text, make_folder=True)
    render_id = catalog.add_render(path, sha256, size, recipe.content.sha256, recipe.engine, recipe.to_dict(),
                                   product_id=product_id)  # fmt: skip
    took = f" in {time.perf_counter() - started:.1f} s" if started is not None else ""
    log.info("render %d of %s (%s, %dx%d) saved as %s%s", render_id, name, recipe.engine, *size, path.name, took)
    return catalog.render(render_id)


def open_content(path: Path, data: bytes | None = None) -> Image.Image:
    """The content picture at ``path`` decoded as stored (``data``: its bytes, read elsewhere, e.g. sent to a
    cluster worker; ``path`` then only names it). A missing file or one that is not a picture is a
    :class:`UserError` naming ``path``, the same sentence wherever the picture is decoded."""
    try:
        with Image.open(io.BytesIO(data) if data is not None else path) as opened:
            opened.load()
            return opened.copy()
    except (OSError, SyntaxError, ValueError) as error:  # PIL's "cannot identify", truncated data, bad headers
        raise _unreadable(path, error) from None


def _unreadable(path: Path, error: Exception) -> UserError:
    if isinstance(error, FileNotFoundError):
        return UserError(f"The content image {path} is not there (moved or deleted?): choose it again.")
    return UserError(f"The content image {path} cannot be read as a picture ({error}): choose another file.")


def content_size(path: Path) -> tuple[int, int]:
    """The (width, height) of the content picture at ``path`` from its header (nothing decoded); the errors of
    :func:`open_content`."""
    try:
        with Image.open(path) as opened:
            return opened.size
    except (OSError, SyntaxError, ValueError) as error:  # PIL's "cannot identify", truncated data, bad headers
        raise _unreadable(path, error) from None


def rerender_into_catalog_job(catalog: Catalog, render: StoredRender) -> Job[StoredRender]:
    """Make ``render`` again from its recipe and keep the result as a new render (same content, style, options,
    engine, device and precision). On the same machine the pixels are identical (compare the sha256); the content
    and style files are checked against their recorded hashes first, so a changed input is an error."""
    recipe = Recipe.from_json(render.recipe)
    return (
        yield from render_into_catalog_job(
            catalog,
            recipe.content_file(),
            recipe.style_source(),
            recipe.render_options(),
            recipe.engine,
            recipe.content.sku,
            getattr(recipe.style, "sku", None),  # a style picture from the catalog has one; other styles do not
            render.product_id,
            recipe.look,
        )
    )

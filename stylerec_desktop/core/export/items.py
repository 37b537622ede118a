"""Where export items come from: catalog products, stored renders, and products restyled on the way out.

Every builder returns :class:`ExportItem` s ready for :func:`~stylerec_desktop.core.export.job.export_job`. A
restyled item carries its render in memory (a PIL image) and the Style engine's recipe, translated by
:func:`provenance_recipe` into the keys the export's provenance reads.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from PIL import Image

from stylerec_desktop.core.catalog import Catalog, Product, StoredRender
from stylerec_desktop.core.cluster import ClusterSpec
from stylerec_desktop.core.errors import UserError
from stylerec_desktop.core.export.job import ExportItem
from stylerec_desktop.core.jobs import Job, Progress, map_progress
from stylerec_desktop.core.privacy import CUSTOMER_TASTE_NAME, TASTE_OF_A_CUSTOMER

# Recipe keys that differ between two renders of the same pixels (when, where): left out of the recipe id, so a
# re-run of the same export names the same recipe and resumes instead of rewriting every file.
_VOLATILE_KEYS = ("created", "path")
# How taste_as_style labels a customer's taste ("C0005's taste", "C0005's taste 2 (40%)"): recognises the tastes of
# renders recorded before recipes named the customer in a field of their own.
_TASTE_LABEL = re.compile(r".+'s taste( \d+ \(\d+%\))?")


def is_customer_taste(style: Mapping[str, Any] | None) -> bool:
    """Whether a recipe's ``style`` record is a customer's taste (a style vector naming a customer)."""
    if not style or style.get("kind") != "vector":
        return False
    return bool(style.get("customer")) or bool(_TASTE_LABEL.fullmatch(str(style.get("label") or "")))


def style_label(style: Mapping[str, Any] | None, include_customer_ids: bool = True) -> str:
    """A short human name for a recipe's ``style`` record: its label, the style sku, or the preset blend. A
    customer's taste is :data:`~stylerec_desktop.core.privacy.TASTE_OF_A_CUSTOMER` unless ``include_customer_ids``."""
    if not style:
        return ""
    if not include_customer_ids and is_customer_taste(style):
        return TASTE_OF_A_CUSTOMER
    if style.get("label"):
        return str(style["label"])
    if style.get("sku"):
        return str(style["sku"])
    if style.get("kind") == "preset":
        weights = dict(style.get("weights") or {})
        return "preset " + "+".join(f"{k}x{float(v):g}" for k, v in weights.items())
    if style.get("path"):
        return Path(str(style["path"])).stem
    return str(style.get("kind") or "")


def _stable(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {k: _stable(v) for k, v in value.items() if k not in _VOLATILE_KEYS}
    if isinstance(value, list | tuple):
        return [_stable(v) for v in value]
    return value


def provenance_recipe(
    recipe: Mapping[str, Any], label: str = "", include_customer_ids: bool = False
) -> dict[str, Any]:
    """The Style engine's ``recipe`` with the keys the export's provenance reads added: ``source`` (what the style
    was, in words: a customer's taste without their id unless ``include_customer_ids``), ``model_hashes`` (the
    networks' sha256) and a stable ``id`` (a hash of everything that decides the pixels, not of the time it was
    made; a hash, so it reveals no customer)."""
    result = dict(recipe)
    source = label or style_label(recipe.get("style"), include_customer_ids)
    if not include_customer_ids and is_customer_taste(recipe.get("style")):
        source = TASTE_OF_A_CUSTOMER
        result.pop("source", None)
        result.pop("style_source", None)
    result.setdefault("source", source)
    result.setdefault("model_hashes", dict(recipe.get("models") or {}))
    if not result.get("id"):
        canonical = json.dumps(_stable(dict(recipe)), sort_keys=True, separators=(",", ":"), default=str)
        result["id"] = hashlib.sha256(canonical.encode("utf-8")).hexdigest()[:16]
    return result


def _product_item(product: Product, segment: str | None = None) -> ExportItem:
    if product.primary_image is None:
        raise UserError(f"Product {product.sku} has no image to export.")
    return ExportItem(product.sku, product.title, product.category, product.primary_image.path, segment=segment)


def product_items(catalog: Catalog, skus: Iterable[str]) -> list[ExportItem]:
    """The primary image of each product, in the order given (duplicates dropped). Unknown skus raise NotFound."""
    return [_product_item(catalog.product_by_sku(sku)) for sku in dict.fromkeys(skus)]


def product_items_by_id(catalog: Catalog, product_ids: Iterable[int]) -> list[ExportItem]:
    """As :func:`product_items`, by catalog id (what the GUI's selection holds)."""
    return [_product_item(catalog.product(pid)) for pid in dict.fromkeys(product_ids)]


def render_items(
    catalog: Catalog, renders: Sequence[StoredRender] | None = None, include_customer_ids: bool = False
) -> list[ExportItem]:
    """Stored renders (default: every render in the catalog, oldest first) with their recipes, each named by what
    it is (``stylize.looks.describe_recipe``). A render in a customer's taste is described as "Taste of a
    customer" unless ``include_customer_ids``."""
    from stylerec_desktop.core.stylize.looks import describe_recipe

    chosen = list(renders) if renders is not None else sorted(catalog.renders(), key=lambda r: r.id)
    if not chosen:
        raise UserError("This catalog has no renders yet: make some with `stylerec stylize` or the Studio panel.")
    items = []
    for render in chosen:
        stored = render.recipe.get("content")
        content: dict[str, Any] = dict(stored) if isinstance(stored, dict) else {}
        product = catalog.product(render.product_id) if render.product_id is not None else None
        sku = product.sku if product else str(content.get("sku") or render.path.stem)
        recipe = provenance_recipe(render.recipe, include_customer_ids=include_customer_ids)
        items.append(
            ExportItem(
                sku=sku,
                title=product.title if product else "",
                category=product.category if product else "",
                image=render.path,
                # Named by what it is ("Preset 4 at 60%, background only"), for {style} in file names and the
                # manifest; the provenance's source still names the style alone.
                style=describe_recipe(render.recipe, include_customer_ids),
                recipe=recipe,
            )
        )
    return items


def restyle_items_job(
    items: Sequence[ExportItem],
    source: Any,
    options: Any = None,
    engine: str | None = None,
    label: str = "",
    segment: str | None = None,
    style_sku: str | None = None,
    include_customer_ids: bool = False,
    fallback: Collection[str] | None = (),
    cluster: ClusterSpec | None = None,
) -> Job[list[ExportItem]]:
    """Restyle every item's image with the Style engine ``source`` (a StyleImage, StyleVector or PresetBlend) and
    return new items holding the renders (in memory) and their recipes. ``label`` is the style's short name for
    file names (the ``{style}`` token); the manifest and the provenance name the style by the source's own label
    (e.g. "C0001's taste"), else by ``label``. A customer's taste (a StyleVector with a ``customer_id``) is
    described as "Taste of a customer", and a ``label`` holding their id becomes "customer-taste", unless
    ``include_customer_ids``. Yields one Progress per item; closing the generator cancels between items (and
    between the tiles of a render).

    ``fallback`` names the settings the user set (e.g. ``{"mask"}``): a picture whose product mask is doubtful is
    restyled as ``stylize.product_mask.doubtful_mask_fallback`` says, the same rule as the Studio and ``stylerec
    stylize``, and its sentence is kept in the item's recipe (``fallback``) and reaches the manifest's warnings.
    None renders ``options`` as they are on every picture.

    ``cluster``: render on that Ray cluster (``stylize.cluster``: the same pixels and recipes; the first picture
    that cannot be restyled stops it with the sentence a single-machine run gives).
    """
    from stylerec_desktop.core.stylize import RenderCache, StyleOptions, stylize_job
    from stylerec_desktop.core.stylize.engines import engine_for
    from stylerec_desktop.core.stylize.fidelity import render_fidelity
    from stylerec_desktop.core.stylize.product_mask import doubtful_mask_fallback
    from stylerec_desktop.core.stylize.recipe import make_recipe

    options = options or StyleOptions()
    chosen = engine_for(engine, source).name
    described = getattr(source, "label", "") or label or chosen
    customer_id = str(getattr(source, "customer_id", "") or "")
    if customer_id and not include_customer_ids:
        described = TASTE_OF_A_CUSTOMER
        if not label or customer_id.casefold() in label.casefold():
            label = CUSTOMER_TASTE_NAME
    label = label or described
    result: list[ExportItem] = []
    total = len(items)
    if cluster is not None:
        from stylerec_desktop.core.stylize.cluster import restyled_on_cluster_job

        renders = yield from restyled_on_cluster_job(cluster, items, source, options, chosen, style_sku, fallback)
        for item, (render, made) in zip(items, renders, strict=True):
            result.append(ExportItem(item.sku, item.title, item.category, render, style=label,
                                     recipe=provenance_recipe(made, described, include_customer_ids),
                                     segment=segment if segment is not None else item.segment))  # fmt: skip
    for done, item in enumerate(items if cluster is None else ()):
        yield Progress(done, total, f"Restyling {item.sku} ({label})")
        if isinstance(item.image, Image.Image):
            raise ValueError("restyle_items_job needs items whose image is a file (catalog products)")
        path = Path(str(item.image))
        with Image.open(path) as opened:
            opened.load()
            content = opened.copy()
        cache = RenderCache(content)
        used, note = (options, "") if fallback is None else doubtful_mask_fallback(content, options, fallback, cache)
        recipe = make_recipe(chosen, path, content.size, source, used, item.sku, style_sku)
        recipe = recipe.with_fallback(note)
        # Drive the render one step at a time so a cancel (close) lands between its tiles too.
        render = yield from within(stylize_job(content, source, used, engine=chosen, cache=cache), done, total)
        recipe = recipe.with_fidelity(render_fidelity(content, render).to_dict())
        result.append(
            ExportItem(
                item.sku,
                item.title,
                item.category,
                render,
                style=label,
                recipe=provenance_recipe(recipe.to_dict(), described, include_customer_ids),
                segment=segment if segment is not None else item.segment,
            )
        )
    yield Progress(total, total, f"Restyled {total} items ({label})")
    return result


def within(job: Job[Any], done: int, total: int | None) -> Job[Any]:
    """Run ``job`` as one step of a bigger job: its steps are reported as ``done`` of the outer ``total`` with
    their own message."""
    return map_progress(job, lambda step: Progress(done, total, step.message))

"""Style engine commands: stylize, models. The core lives in core/stylize and core/models."""

from __future__ import annotations

import argparse
import dataclasses
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

from stylerec_desktop.cli.common import add_cluster_option, open_catalog, print_json, run, table
from stylerec_desktop.core.catalog import Catalog
from stylerec_desktop.core.errors import UserError


def style_sources(args: argparse.Namespace, catalog: Catalog | None) -> list[tuple[Any, str | None, str]]:
    """(style source, style sku or None, label for file names) for every style flag, in the order given."""
    from stylerec_desktop.core.stylize import PresetBlend, StyleImage

    sources: list[tuple[Any, str | None, str]] = []
    for path in args.style_image or ():
        if not Path(path).is_file():
            raise UserError(f"Style image not found: {path}")
        sources.append((StyleImage(Path(path), label=Path(path).stem), None, Path(path).stem))
    for sku in args.style_sku or ():
        product = need_catalog(catalog, "--style-sku").product_by_sku(sku)
        if product.primary_image is None:
            raise UserError(f"Product {sku} has no image to take a style from.")
        sources.append((StyleImage(product.primary_image.path, label=sku), sku, sku))
    for text in args.preset or ():
        blend = PresetBlend.parse(text)
        sources.append((blend, None, "preset-" + "_".join(f"{k}x{v:g}" for k, v in blend.weights.items())))
    from stylerec_desktop.core.privacy import CUSTOMER_TASTE_NAME

    customers = list(dict.fromkeys(args.customer or ()))
    for number, customer_id in enumerate(customers, start=1):
        # The label names output files: a customer's id only when asked for (`--include-customer-ids`); else the
        # pseudonym export uses, numbered when several tastes are rendered at once.
        if args.include_customer_ids:
            label = customer_id
        else:
            label = CUSTOMER_TASTE_NAME if len(customers) == 1 else f"{CUSTOMER_TASTE_NAME}-{number}"
        sources.append((customer_style(need_catalog(catalog, "--customer"), customer_id), None, label))
    return sources


def need_catalog(catalog: Catalog | None, flag: str) -> Catalog:
    if catalog is None:
        raise UserError(f"{flag} needs a catalog; name it with --catalog DIR.")
    return catalog


def customer_style(catalog: Catalog, customer_id: str) -> Any:
    """A customer's taste as a 100-d style vector (needs the style index: `stylerec index`)."""
    from stylerec_desktop.core.recommend.service import INDEX_CACHE, taste_as_style, taste_of

    taste = taste_of(catalog, INDEX_CACHE.get(catalog), customer_id)
    if taste.is_empty:
        raise UserError(
            f"Customer {customer_id} has no taste yet: it is built from the style index of the products they "
            f"interacted with. Run `stylerec --catalog {catalog.folder} index` first."
        )
    return taste_as_style(taste)


def _stylize_inputs(args: argparse.Namespace, catalog: Catalog | None) -> list[tuple[Path, str | None, int | None]]:
    """(image path, sku or None, product id or None) for every INPUT: an image file, else a catalog sku."""
    inputs: list[tuple[Path, str | None, int | None]] = []
    for text in args.inputs:
        if Path(text).is_file():
            inputs.append((Path(text), None, None))
            continue
        if catalog is None:
            raise UserError(f"{text} is not an image file (and there is no catalog to look it up as a sku).")
        product = catalog.product_by_sku(text)
        if product.primary_image is None:
            raise UserError(f"Product {text} has no image to restyle.")
        inputs.append((product.primary_image.path, product.sku, product.id))
    return inputs


def _fidelity_words(fidelity: dict[str, Any]) -> str:
    """The render's fidelity in one short phrase for the console."""
    if fidelity.get("product_fidelity") is None:
        return "fidelity: no product found"
    return (
        f"product fidelity {fidelity['product_fidelity']:.2f} (colour ΔE {fidelity['product_delta_e']:.1f}, "
        f"edges {fidelity['product_edge_ssim']:.2f}; background ΔE {fidelity['background_change']:.1f})"
    )


def cmd_stylize(args: argparse.Namespace) -> int:
    import time

    from PIL import Image

    from stylerec_desktop.core.safe_files import write_atomic
    from stylerec_desktop.core.stylize import RenderCache, stylize_job
    from stylerec_desktop.core.stylize.engines import engine_for
    from stylerec_desktop.core.stylize.fidelity import render_fidelity
    from stylerec_desktop.core.stylize.product_mask import doubtful_mask_fallback
    from stylerec_desktop.core.stylize.recipe import Recipe, make_recipe, png_bytes
    from stylerec_desktop.core.stylize.renders import open_content, render_into_catalog_job
    from stylerec_desktop.core.stylize.sheet import contact_sheet

    options, look = stylize_options(args)
    needs_catalog = args.catalog or args.style_sku or args.customer or not all(Path(i).is_file() for i in args.inputs)
    catalog = open_catalog(args) if needs_catalog else None
    out_dir = Path(args.out)
    try:
        styles = style_sources(args, catalog)
        if look is not None and look.source is not None:
            if styles:
                raise UserError(f"The look “{look.name}” brings its own style; leave out --style-image, --style-sku, "
                                "--preset and --customer, or use the look “Your style, product kept”.")  # fmt: skip
            styles = [(look.source, None, file_label(look.name))]
        if look is not None and look.source is None and not styles:
            look.source_or(None)  # says which style to give
        if not styles:
            raise UserError("Give a style: --style-image FILE, --style-sku SKU, --preset N or --customer ID, or a "
                            "--look (`stylerec looks` lists them).")  # fmt: skip
        look_name = look.name if look is not None else None
        inputs = _stylize_inputs(args, catalog)
        several = len(styles) > 1
        given = picture_given(args, look)  # one rule for a doubtful product mask: the Studio's and the export's
        if args.cluster is not None:
            from stylerec_desktop.cli.stylize_cluster import stylize_on_cluster

            results, sheet_rows = stylize_on_cluster(args, catalog, inputs, styles, options, look_name, given)
        else:
            results, sheet_rows = [], []
            for path, sku, product_id in inputs:
                stem = sku or path.stem
                content = open_content(path)
                sheet_row: list[Image.Image | None] = [content.convert("RGB")]
                cache = RenderCache(content)
                used, note = (options, "") if given is None else doubtful_mask_fallback(content, options, given, cache)
                if note and not args.json:
                    print(f"{path.name}: {note}")
                for source, style_sku, style_label in styles:
                    engine = engine_for(args.engine, source).name
                    name = f"{stem}__{style_label}" if several else stem
                    start = time.perf_counter()
                    if catalog is not None:
                        job = render_into_catalog_job(catalog, path, source, options, engine, sku, style_sku,
                                                      product_id, look_name, fallback=given)  # fmt: skip
                        stored = run(job, args)
                        data, recipe, render_id = stored.path.read_bytes(), Recipe.from_json(stored.recipe), stored.id
                    else:
                        recipe = make_recipe(engine, path, content.size, source, used, sku, style_sku, look_name)
                        recipe = recipe.with_fallback(note)
                        rendered = run(stylize_job(content, source, used, engine, cache=cache), args)
                        recipe = recipe.with_fidelity(render_fidelity(content, rendered).to_dict())
                        data, render_id = png_bytes(rendered), None
                    result = write_output(args, out_dir / f"{name}.png", data, recipe, render_id, style_label)
                    results.append(result | {"input": str(path), "sku": sku, "note": note,
                                             "seconds": round(time.perf_counter() - start, 3)})  # fmt: skip
                    print_output(args, results[-1])
                    with Image.open(result["output"]) as written:
                        sheet_row.append(written.convert("RGB"))
                sheet_rows.append(sheet_row)
        sheet_path = None
        if len(results) > 1:
            row_labels = [sku or path.stem for path, sku, _ in inputs]
            sheet = contact_sheet(sheet_rows, ["original", *(style[2] for style in styles)], row_labels)
            sheet_path = out_dir / "contact_sheet.jpg"
            buffer = io.BytesIO()
            sheet.save(buffer, format="JPEG", quality=88)
            write_atomic(sheet_path, buffer.getvalue(), make_folder=True)
            if not args.json:
                print(f"{sheet_path}  contact sheet")
    finally:
        if catalog is not None:
            catalog.close()
    if args.json:
        print_json({"outputs": results, "contact_sheet": str(sheet_path) if sheet_path else None})
    return 0


def write_output(
    args: argparse.Namespace, target: Path, data: bytes, recipe: Any, render_id: int | None, style_label: str
) -> dict[str, Any]:
    """Write one render into --out: ``target`` (PNG ``data``) and its shareable recipe beside it, each atomically;
    returns its record for the report (output, size, name, engine, style, render id, style scale, fidelity)."""
    import json

    from PIL import Image

    from stylerec_desktop.core.privacy import shareable_recipe
    from stylerec_desktop.core.safe_files import write_atomic
    from stylerec_desktop.core.stylize.looks import describe_recipe
    from stylerec_desktop.core.stylize.renders import RECIPE_SUFFIX

    write_atomic(target, data, make_folder=True)
    shared = shareable_recipe(recipe.to_dict(), args.include_customer_ids)
    write_atomic(target.with_name(target.stem + RECIPE_SUFFIX), json.dumps(shared, indent=2, sort_keys=True),
                 make_folder=True)  # fmt: skip
    with Image.open(io.BytesIO(data)) as written:
        size = written.size
    return {"style": style_label, "engine": recipe.engine,
            "name": describe_recipe(recipe.to_dict(), args.include_customer_ids), "output": str(target),
            "size": list(size), "render_id": render_id, "style_scale": recipe.options.style_scale,
            "fidelity": dict(recipe.fidelity or {})}  # fmt: skip


def print_output(args: argparse.Namespace, result: dict[str, Any]) -> None:
    """One line per render in text mode: where, how big, what, how long, how faithful."""
    if not args.json:
        size = result["size"]
        print(f"{result['output']}  {size[0]}x{size[1]}  {result['name']}  {result['seconds']:.2f} s  "
              f"{_fidelity_words(result['fidelity'])}")  # fmt: skip


def file_label(text: str) -> str:
    """``"Painterly backdrop"`` -> ``"painterly-backdrop"``: a look's name as a file name part."""
    return "-".join("".join(c if c.isalnum() else " " for c in text.lower()).split())


def stylize_options(args: argparse.Namespace) -> tuple[Any, Any]:
    """The render options from the command line, and the look they start from (or None).

    Without ``--look``, the product-safe defaults (``stylize.looks.product_safe_options``) fill every setting not
    given (colours kept follows the mask: on when the product is restyled); with one, the look's settings do.
    Flags given on the command line win over both."""
    from stylerec_desktop.core.stylize.looks import look_named, product_safe_options

    look = look_named(args.look) if args.look else None
    given = {name: value for name, value in (("strength", args.strength), ("preserve_colour", args.preserve_colour),
             ("mask", args.mask), ("style_scale", args.style_scale)) if value is not None}  # fmt: skip
    common = {"size": args.size, "seed": args.seed, "device": args.device, "iterations": args.iterations}
    if look is None:
        return product_safe_options(**common, **given), None  # colours kept follows a --mask given
    return dataclasses.replace(look.options(**common), **given), look


def picture_given(args: argparse.Namespace, look: Any) -> set[str] | None:
    """The settings given on the command line that a doubtful product mask does not override, or None when the
    rule does not apply (a --look or a --mask was given: the user chose the mask)."""
    if look is not None or args.mask is not None:
        return None
    return {name for name, value in (("strength", args.strength), ("preserve_colour", args.preserve_colour),
            ("style_scale", args.style_scale)) if value is not None}  # fmt: skip


def cmd_looks(args: argparse.Namespace) -> int:
    from stylerec_desktop.core.stylize.looks import LOOKS, describe_options, product_safe_options

    def style_record(look: Any) -> dict[str, Any]:
        if look.source is None:
            return {"kind": "image", "label": "Your style"}
        return {"kind": "preset", "weights": {str(k): v for k, v in look.source.weights.items()}}

    rows = []
    for look in LOOKS:
        engine = look.engine or ("preset" if look.source is not None else "arbitrary")
        rows.append({"name": look.name, "description": look.description, "engine": engine,
                     "style": style_record(look), "strength": look.strength, "mask": look.mask,
                     "preserve_colour": look.preserve_colour, "style_scale": look.style_scale,
                     "settings": describe_options(style_record(look), look.options(), engine)})  # fmt: skip
    safe = product_safe_options()
    defaults = {"strength": safe.strength, "preserve_colour": safe.preserve_colour, "mask": safe.mask,
                "style_scale": safe.style_scale}  # fmt: skip
    if args.json:
        print_json({"looks": rows, "defaults": defaults})
        return 0
    cells = [(str(r["name"]), str(r["settings"]), str(r["description"])) for r in rows]
    print(table(cells, ("LOOK", "SETTINGS", "WHAT IT DOES")))
    print(
        f"\nWithout --look: strength {safe.strength:g}, colours kept {'on' if safe.preserve_colour else 'off'}, "
        f"mask {safe.mask}, style scale {safe.style_scale:g} (the product-safe defaults; see BENCHMARKS.md)."
    )
    return 0


def cmd_models(args: argparse.Namespace) -> int:
    from stylerec_desktop.core.models.weights import model_status
    from stylerec_desktop.core.stylize.gatys import fetch_vgg19, import_vgg19_weights, vgg19_status
    from stylerec_desktop.core.stylize.recipe import ENGINE_WEIGHTS

    if args.fetch:
        path = fetch_vgg19(progress=not args.quiet and not args.json)
        if not args.json:
            print(f"VGG19 weights downloaded to {path}")
    if args.import_vgg19:
        imported = import_vgg19_weights(args.import_vgg19)
        if not args.json:
            note = "torchvision's ImageNet file" if imported.official else "not torchvision's own file; it will work"
            print(f"VGG19 weights imported to {imported.path} (sha256 {imported.sha256[:12]}..., {note})")
    status = model_status()
    vgg = vgg19_status()
    engines = {engine: [w.name for w in needed] for engine, needed in ENGINE_WEIGHTS.items()}
    engines["gatys"] = [vgg.name]
    if args.json:
        print_json({
            "models": [{"name": s.weights.name, "state": s.state, "path": s.path, "package": s.weights.distribution,
                        "version": s.weights.version, "sha256": s.weights.sha256, "licence": s.weights.licence,
                        "description": s.weights.description, "message": s.message} for s in status]
            + [{"name": vgg.name, "state": vgg.state, "path": vgg.path, "package": "torchvision (torch hub cache)",
                "licence": "see torchvision's VGG19_Weights", "message": vgg.message}],
            "engines": engines,
        })  # fmt: skip
        return 0
    rows = [(s.weights.name, s.state, s.weights.distribution, s.message) for s in status]
    rows.append((vgg.name, vgg.state, "torchvision (torch hub cache)", "ok" if vgg.state == "present" else vgg.message))
    print(table(rows, ("NETWORK", "STATE", "PACKAGE", "NOTE")))
    print()
    print(table([(e, ", ".join(n) or "(no network)") for e, n in engines.items()], ("ENGINE", "NEEDS")))
    return 0


def add_commands(add: Callable[..., argparse.ArgumentParser]) -> None:
    p = add("stylize", cmd_stylize, "restyle product images (files or catalog skus) with a style image, product, "
            "preset blend or customer taste")  # fmt: skip
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="image file or catalog sku")
    p.add_argument("--style-image", action="append", metavar="FILE", help="any picture as the style (repeatable)")
    p.add_argument("--style-sku", action="append", metavar="SKU", help="a catalog product's image as the style")
    p.add_argument("--preset", action="append", metavar="N[:W],...", help="preset 0-25 or a blend: 7, 3:0.5,12:0.5")
    p.add_argument("--customer", action="append", metavar="ID", help="a customer's taste (needs `stylerec index`); "
                   "its outputs are named customer-taste[-N] and carry no customer id unless --include-customer-ids")
    p.add_argument("--include-customer-ids", action="store_true", help="name a --customer taste's outputs and "
                   "recipes by the customer's id (they may be published: ids are often emails or CRM numbers)")
    p.add_argument("--engine", choices=("arbitrary", "preset", "colour", "gatys"),
                   help="default: preset for --preset, arbitrary otherwise")  # fmt: skip
    p.add_argument("--look", metavar="NAME", help="start from a named look (`stylerec looks` lists them); flags "
                   "given as well change its settings")  # fmt: skip
    p.add_argument("--strength", type=float, help="0..1 (default: the product-safe default shown by `stylerec "
                   "looks`, or the look's)")  # fmt: skip
    p.add_argument("--preserve-colour", action=argparse.BooleanOptionalAction, default=None,
                   help="keep the product's colours, take only texture (default: the product-safe default, or the "
                   "look's)")  # fmt: skip
    p.add_argument("--mask", choices=("all", "background", "product"),
                   help="stylize everything, only the background (product untouched) or only the product "
                   "(default: the product-safe default, or the look's)")  # fmt: skip
    p.add_argument("--size", type=int, metavar="PX", help="longest side of the output (default: the input's size)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--style-scale", type=float, metavar="S",
                   help="stroke size relative to the picture, the same at every --size: 1 (default) = strokes as on "
                   "a 512 px picture, 2 = twice as large, 0.5 = half (arbitrary and preset engines)")  # fmt: skip
    p.add_argument("--iterations", type=int, metavar="N", help="gatys engine: optimisation steps (default 200)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"), default="auto")
    p.add_argument("--out", required=True, metavar="DIR", help="folder for the results (PNG + .recipe.json each)")
    p.add_argument("--json", action="store_true", help="print the outputs as one JSON object")
    add_cluster_option(p)

    p = add("looks", cmd_looks, "list the named looks (saved settings for `stylize --look`) and the defaults")
    p.add_argument("--json", action="store_true")

    p = add("models", cmd_models, "list the pretrained networks, their status, and which engine needs which")
    p.add_argument("--fetch", choices=("vgg19",), help="download ImageNet VGG19 for the gatys engine (needs internet)")
    p.add_argument("--import-vgg19", metavar="FILE", help="import a VGG19 weights file (vgg19-dcbb9e9d.pth) offline")
    p.add_argument("--json", action="store_true")

"""`stylerec`: every core capability from the command line, for automation, tests and batch servers.

User errors (a missing file, an unknown sku, a bad row) print one clear line on stderr and exit with code 2.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Callable, Sequence
from dataclasses import asdict, is_dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from stylerec_desktop import __version__
from stylerec_desktop.core.catalog import LATEST_VERSION, Catalog, Customer, Product
from stylerec_desktop.core.errors import UserError
from stylerec_desktop.core.jobs import Job, Progress, run_job
from stylerec_desktop.core.paths import default_catalog_dir

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130


# -- output helpers -----------------------------------------------------------------------------------------


def _jsonable(value: Any) -> Any:
    if is_dataclass(value) and not isinstance(value, type):
        return {k: _jsonable(v) for k, v in asdict(value).items()}
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return value


def _print_json(value: Any) -> None:
    json.dump(_jsonable(value), sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


class _ProgressLine:
    """A one-line progress display on stderr, only when stderr is a terminal (logs stay clean)."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled and sys.stderr.isatty()
        self._shown = False

    def __call__(self, progress: Progress) -> None:
        if not self.enabled:
            return
        percent = f"{100 * progress.fraction:5.1f}%" if progress.fraction is not None else "     "
        sys.stderr.write(f"\r\033[K{percent} {progress.message}"[:200])
        sys.stderr.flush()
        self._shown = True

    def done(self) -> None:
        if self._shown:
            sys.stderr.write("\r\033[K")
            sys.stderr.flush()


def _run(job: Job, args: argparse.Namespace) -> Any:
    line = _ProgressLine(enabled=not args.quiet)
    try:
        return run_job(job, on_progress=line)
    finally:
        line.done()


def _price(product: Product | Any) -> str:
    return "" if product.price is None else f"{product.price:.2f} {product.currency}"


def _table(rows: Sequence[Sequence[str]], header: Sequence[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(header, widths, strict=True)).rstrip()]
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(lines)


# -- commands -----------------------------------------------------------------------------------------------


def _catalog_dir(args: argparse.Namespace) -> Path:
    return Path(args.catalog).expanduser() if args.catalog else default_catalog_dir()


def _open(args: argparse.Namespace) -> Catalog:
    return Catalog.open(_catalog_dir(args))


def cmd_init(args: argparse.Namespace) -> int:
    folder = _catalog_dir(args)
    existed = Catalog.exists(folder)
    with Catalog.create(folder) as catalog:
        print(f"{'Opened existing' if existed else 'Created'} catalog in {catalog.folder}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from stylerec_desktop.core.demo import build_demo_catalog

    folder = _catalog_dir(args)
    if Catalog.exists(folder):
        with Catalog.open(folder) as existing:
            products = existing.counts().products
        if products:
            raise UserError(
                f"The catalog in {folder} already has {products} products; "
                "build the demo in a new folder with --catalog DIR."
            )
    catalog = _run(
        build_demo_catalog(folder, seed=args.seed, n_products=args.products, n_customers=args.customers), args
    )
    with catalog:
        counts = catalog.counts()
        if args.json:
            _print_json({"catalog": str(catalog.folder), "counts": counts})
        else:
            print(
                f"Demo catalog in {catalog.folder}: {counts.products} products in {counts.categories} "
                f"categories, {counts.customers} customers, {counts.events} events."
            )
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from stylerec_desktop.core.importers import ImportFailed, import_file

    with _open(args) as catalog:
        images = Path(args.images) if getattr(args, "images", None) else None
        try:
            report = _run(
                import_file(catalog, args.kind, Path(args.file), images_dir=images, skip_bad=args.skip_bad), args
            )
        except ImportFailed as failed:
            if args.json:
                _print_json({"ok": False, "report": failed.report})
            lines = str(failed).splitlines()
            print(f"stylerec: error: {lines[0]}", file=sys.stderr)
            for line in lines[1:]:
                print(f"  {line}", file=sys.stderr)
            return EXIT_USER_ERROR
        if args.json:
            _print_json({"ok": True, "report": report})
        else:
            print(report.summary())
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    with _open(args) as catalog:
        counts = catalog.counts()
        info = {
            "catalog": str(catalog.folder),
            "database": str(catalog.db_path),
            "thumbnails": str(catalog.thumbnails_dir),
            "renders": str(catalog.renders_dir),
            "schema_version": catalog.schema_version,
            "app_schema_version": LATEST_VERSION,
            "app_version": __version__,
            "counts": counts,
            "categories": dict(catalog.categories()),
        }
    if args.json:
        _print_json(info)
        return 0
    print(f"Catalog      {info['catalog']}")
    print(f"Database     {info['database']} (schema v{info['schema_version']})")
    print(f"Thumbnails   {info['thumbnails']}")
    print(f"Renders      {info['renders']}")
    print(f"Products     {counts.products} ({counts.images} images) in {counts.categories} categories")
    print(f"Customers    {counts.customers}")
    print(f"Events       {counts.events}")
    for name, n in info["categories"].items():
        print(f"  {name or '(none)':<20} {n}")
    return 0


def _product_dict(p: Product) -> dict[str, Any]:
    d = _jsonable(p)
    d["primary_image"] = str(p.primary_image.path) if p.primary_image else None
    return d


def cmd_products_list(args: argparse.Namespace) -> int:
    with _open(args) as catalog:
        if args.search:
            ids = catalog.search_product_ids(args.search, args.category)
            ids = ids[args.offset : args.offset + args.limit if args.limit else None]
            products = [catalog.product(i) for i in ids]
        else:
            products = catalog.products(limit=args.limit or None, offset=args.offset, category=args.category)
        if args.json:
            _print_json([_product_dict(p) for p in products])
            return 0
        rows = [(p.sku, p.title, p.category, _price(p), "yes" if p.in_stock else "no") for p in products]
        print(_table(rows, ("SKU", "TITLE", "CATEGORY", "PRICE", "IN STOCK")) if rows else "No products.")
    return 0


def cmd_products_show(args: argparse.Namespace) -> int:
    with _open(args) as catalog:
        p = catalog.product_by_sku(args.sku)
    if args.json:
        _print_json(_product_dict(p))
        return 0
    print(f"{p.sku}  {p.title}")
    print(f"  category   {p.category}")
    print(f"  brand      {p.brand}")
    print(f"  price      {_price(p) or 'unknown'}")
    print(f"  in stock   {'yes' if p.in_stock else 'no'}")
    print(f"  tags       {', '.join(p.tags)}")
    for key, value in sorted(p.attributes.items()):
        print(f"  {key:<10} {value}")
    for image in p.images:
        primary = " (primary)" if image.is_primary else ""
        print(f"  image      {image.path} {image.width}x{image.height}{primary}")
    return 0


def cmd_customers_list(args: argparse.Namespace) -> int:
    with _open(args) as catalog:
        customers = catalog.customers(args.search or "", limit=args.limit or None)
    if args.json:
        _print_json(customers)
        return 0
    rows = [(c.customer_id, c.name, c.email, c.country, str(c.event_count)) for c in customers]
    print(_table(rows, ("ID", "NAME", "EMAIL", "COUNTRY", "EVENTS")) if rows else "No customers.")
    return 0


def cmd_customers_show(args: argparse.Namespace) -> int:
    with _open(args) as catalog:
        customer: Customer = catalog.customer(args.customer_id)
        history = catalog.customer_history(args.customer_id, limit=args.history or None)
    if args.json:
        _print_json({"customer": customer, "history": history})
        return 0
    print(f"{customer.customer_id}  {customer.name}  <{customer.email}>  {customer.country}")
    print(f"  joined {customer.joined or 'unknown'}, {customer.event_count} events")
    rows = [(h.ts.strftime("%Y-%m-%d %H:%M"), h.kind, str(h.quantity), h.sku, h.title) for h in history]
    if rows:
        print(_table(rows, ("WHEN (UTC)", "KIND", "QTY", "SKU", "PRODUCT")))
    return 0


# == recommendations (issue 4): index, recommend, similar, evaluate ==========================================
# Handlers and parser entries of the style index and the recommender; the core lives in core/recommend.


def cmd_index(args: argparse.Namespace) -> int:
    from stylerec_desktop.core.recommend.indexing import index_catalog

    with _open(args) as catalog:
        report = _run(index_catalog(catalog, device=args.device, batch_size=args.batch_size), args)
    if args.json:
        _print_json({**_jsonable(report), "images_per_second": report.images_per_second})
    else:
        print(report.summary())
    return 0


def _because_dict(because: Any) -> dict[str, Any]:
    return {
        "sku": because.sku,
        "title": because.title,
        "kind": because.kind,
        "date": _jsonable(because.ts),
        "reasons": list(because.reasons),
        "similarity": because.similarity,
        "text": because.sentence(),
    }


def cmd_recommend(args: argparse.Namespace) -> int:
    from stylerec_desktop.core.recommend.ranking import Filters
    from stylerec_desktop.core.recommend.service import recommend_for_customer

    filters = Filters(
        categories=tuple(args.category or ()),
        min_price=args.min_price,
        max_price=args.max_price,
        in_stock_only=args.in_stock,
        include_purchased=args.include_purchased,
    )
    with _open(args) as catalog:
        result = recommend_for_customer(catalog, args.customer, k=args.k, filters=filters, diversity=args.diversity)
    if args.json:
        _print_json(
            {
                "customer": args.customer,
                "tastes": [
                    {"share": t.share, "items": [result.taste.items[i].sku for i in t.members]}
                    for t in result.taste.tastes
                ],
                "items": [
                    {
                        "sku": rec.sku,
                        "title": rec.title,
                        "score": rec.score,
                        "components": rec.components,
                        "because": [_because_dict(b) for b in why.because],
                        "palette_overlap": why.palette_overlap,
                        "shared_colours": [_jsonable(c) for c in why.shared_colours],
                        "taste": rec.taste,
                        "cold_start": rec.cold_start,
                    }
                    for rec, why in result.items
                ],
            }
        )
        return 0
    if result.taste.is_empty:
        print(f"{args.customer} has no history with indexed products yet; showing what is popular.")
    rows = [(str(i + 1), rec.sku, f"{rec.score:.2f}", rec.title, why.summary()) for i, (rec, why) in
            enumerate(result.items)]  # fmt: skip
    print(_table(rows, ("#", "SKU", "SCORE", "PRODUCT", "BECAUSE")) if rows else "No product passes the filters.")
    return 0


def cmd_similar(args: argparse.Namespace) -> int:
    from stylerec_desktop.core.recommend.service import INDEX_CACHE
    from stylerec_desktop.core.recommend.similar import similar_products

    with _open(args) as catalog:
        catalog.product_by_sku(args.sku)  # an unknown sku is a NotFound with the usual sentence
        index = INDEX_CACHE.get(catalog)
        neighbours = similar_products(index, args.sku, by=args.by, k=args.k, threshold=args.threshold)
    if args.json:
        _print_json({"sku": args.sku, "by": args.by, "items": [
            {"sku": n.sku, "title": n.title, "score": n.score, "components": n.components} for n in neighbours
        ]})  # fmt: skip
        return 0
    rows = [(str(i + 1), n.sku, f"{n.score:.3f}", n.title) for i, n in enumerate(neighbours)]
    print(_table(rows, ("#", "SKU", "SCORE", "PRODUCT")) if rows else "No product is that similar.")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from stylerec_desktop.core.recommend.evaluate import evaluate, report_dict

    with _open(args) as catalog:
        report = evaluate(catalog, test_days=args.test_days, k=args.k)
    if args.json:
        _print_json(report_dict(report))
        return 0
    print(
        f"Trained on events before {report.cutoff:%Y-%m-%d %H:%M} UTC, tested on the {report.test_purchases} "
        f"purchases of {report.customers} customers in the last {report.test_days} days (@{report.k}):"
    )
    print(report.table())
    if report.cold_start_purchases:
        print(f"cold rec = recall on the {report.cold_start_purchases} purchases of products with no earlier events")
    return 0


def _add_recommend_commands(add: Callable[..., argparse.ArgumentParser]) -> None:
    p = add("index", cmd_index, "compute the style features of every product image not indexed yet (resumable)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"), default="auto", help="where the networks run")
    p.add_argument("--batch-size", type=int, default=16, help="images per batch and per commit (default 16)")
    p.add_argument("--json", action="store_true", help="print the indexing report as JSON")

    p = add("recommend", cmd_recommend, "recommend products to a customer, each with the reason why")
    p.add_argument("--customer", required=True, metavar="ID", help="the customer's id")
    p.add_argument("--k", type=int, default=10, help="how many products (default 10)")
    p.add_argument("--include-purchased", action="store_true", help="also recommend products they already bought")
    p.add_argument("--category", action="append", help="only this category (repeat for several)")
    p.add_argument("--min-price", type=float)
    p.add_argument("--max-price", type=float)
    p.add_argument("--in-stock", action="store_true", help="only products in stock")
    p.add_argument("--diversity", type=float, default=0.0, help="0..1: how much to diversify the list (MMR)")
    p.add_argument("--json", action="store_true", help="print the recommendations as one JSON object")

    p = add("similar", cmd_similar, "products similar to a product by style, look or colour")
    p.add_argument("--sku", required=True)
    p.add_argument("--by", choices=("style", "visual", "colour", "blend"), default="blend")
    p.add_argument("--k", type=int, default=10, help="how many products (default 10)")
    p.add_argument("--threshold", type=float, help="only products at least this similar (-1..1)")
    p.add_argument("--json", action="store_true")

    p = add("evaluate", cmd_evaluate, "measure how well recommendations predict later purchases, against baselines")
    p.add_argument("--test-days", type=int, default=14, help="the last N days of events are the test (default 14)")
    p.add_argument("--k", type=int, default=10, help="list length evaluated (default 10)")
    p.add_argument("--json", action="store_true", help="print the figures as one JSON object")


# == end of recommendations ==================================================================================


# == style engine (issue 3): stylize, models ==================================================================
# Handlers and parser entries of the Style engine; the core lives in core/stylize and core/models.


def _stylize_style_sources(args: argparse.Namespace, catalog: Catalog | None) -> list[tuple[Any, str | None, str]]:
    """(style source, style sku or None, label for file names) for every style flag, in the order given."""
    from stylerec_desktop.core.stylize import PresetBlend, StyleImage

    sources: list[tuple[Any, str | None, str]] = []
    for path in args.style_image or ():
        if not Path(path).is_file():
            raise UserError(f"Style image not found: {path}")
        sources.append((StyleImage(Path(path), label=Path(path).stem), None, Path(path).stem))
    for sku in args.style_sku or ():
        product = _need_catalog(catalog, "--style-sku").product_by_sku(sku)
        if product.primary_image is None:
            raise UserError(f"Product {sku} has no image to take a style from.")
        sources.append((StyleImage(product.primary_image.path, label=sku), sku, sku))
    for text in args.preset or ():
        blend = PresetBlend.parse(text)
        sources.append((blend, None, "preset-" + "_".join(f"{k}x{v:g}" for k, v in blend.weights.items())))
    for customer_id in args.customer or ():
        sources.append((_customer_style(_need_catalog(catalog, "--customer"), customer_id), None, customer_id))
    return sources


def _need_catalog(catalog: Catalog | None, flag: str) -> Catalog:
    if catalog is None:
        raise UserError(f"{flag} needs a catalog; name it with --catalog DIR.")
    return catalog


def _customer_style(catalog: Catalog, customer_id: str) -> Any:
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
    inputs = []
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


def cmd_stylize(args: argparse.Namespace) -> int:
    import io
    import time

    from PIL import Image

    from stylerec_desktop.core.stylize import StyleOptions, stylize_job
    from stylerec_desktop.core.stylize.engines import engine_for
    from stylerec_desktop.core.stylize.recipe import make_recipe, png_bytes, write_atomically
    from stylerec_desktop.core.stylize.renders import RECIPE_SUFFIX, render_into_catalog_job
    from stylerec_desktop.core.stylize.sheet import contact_sheet

    options = StyleOptions(
        strength=args.strength, preserve_colour=args.preserve_colour, size=args.size, seed=args.seed,
        device=args.device, mask=args.mask, iterations=args.iterations,
    )  # fmt: skip
    needs_catalog = args.catalog or args.style_sku or args.customer or not all(Path(i).is_file() for i in args.inputs)
    catalog = _open(args) if needs_catalog else None
    out_dir = Path(args.out)
    try:
        styles = _stylize_style_sources(args, catalog)
        if not styles:
            raise UserError("Give a style: --style-image FILE, --style-sku SKU, --preset N or --customer ID.")
        inputs = _stylize_inputs(args, catalog)
        several = len(styles) > 1
        results, sheet_rows = [], []
        for path, sku, product_id in inputs:
            stem = sku or path.stem
            sheet_row: list[Image.Image | None] = [Image.open(path).convert("RGB")]
            for source, style_sku, style_label in styles:
                engine = engine_for(args.engine, source).name
                name = f"{stem}__{style_label}" if several else stem
                target = out_dir / f"{name}.png"
                start = time.perf_counter()
                if catalog is not None:
                    job = render_into_catalog_job(catalog, path, source, options, engine, sku, style_sku, product_id)
                    stored = _run(job, args)
                    data, recipe, render_id = stored.path.read_bytes(), stored.recipe, stored.id
                else:
                    with Image.open(path) as opened:
                        content = opened.copy()
                    recipe = make_recipe(engine, path, content.size, source, options, sku, style_sku)
                    data, render_id = png_bytes(_run(stylize_job(content, source, options, engine), args)), None
                write_atomically(target, data)
                write_atomically(target.with_name(name + RECIPE_SUFFIX), json.dumps(recipe, indent=2).encode())
                with Image.open(target) as written:
                    size = written.size
                    sheet_row.append(written.convert("RGB"))
                results.append({"input": str(path), "sku": sku, "style": style_label, "engine": engine,
                                "output": str(target), "size": list(size), "render_id": render_id,
                                "seconds": round(time.perf_counter() - start, 3)})  # fmt: skip
                if not args.json:
                    print(f"{target}  {size[0]}x{size[1]}  {engine}  {results[-1]['seconds']:.2f} s")
            sheet_rows.append(sheet_row)
        sheet_path = None
        if len(results) > 1:
            row_labels = [sku or path.stem for path, sku, _ in inputs]
            sheet = contact_sheet(sheet_rows, ["original", *(style[2] for style in styles)], row_labels)
            sheet_path = out_dir / "contact_sheet.jpg"
            buffer = io.BytesIO()
            sheet.save(buffer, format="JPEG", quality=88)
            write_atomically(sheet_path, buffer.getvalue())
            if not args.json:
                print(f"{sheet_path}  contact sheet")
    finally:
        if catalog is not None:
            catalog.close()
    if args.json:
        _print_json({"outputs": results, "contact_sheet": str(sheet_path) if sheet_path else None})
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
        _print_json({
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
    print(_table(rows, ("NETWORK", "STATE", "PACKAGE", "NOTE")))
    print()
    print(_table([(e, ", ".join(n) or "(no network)") for e, n in engines.items()], ("ENGINE", "NEEDS")))
    return 0


def _add_stylize_commands(add: Callable[..., argparse.ArgumentParser]) -> None:
    p = add("stylize", cmd_stylize, "restyle product images (files or catalog skus) with a style image, product, "
            "preset blend or customer taste")  # fmt: skip
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="image file or catalog sku")
    p.add_argument("--style-image", action="append", metavar="FILE", help="any picture as the style (repeatable)")
    p.add_argument("--style-sku", action="append", metavar="SKU", help="a catalog product's image as the style")
    p.add_argument("--preset", action="append", metavar="N[:W],...", help="preset 0-25 or a blend: 7, 3:0.5,12:0.5")
    p.add_argument("--customer", action="append", metavar="ID", help="a customer's taste (needs `stylerec index`)")
    p.add_argument("--engine", choices=("arbitrary", "preset", "colour", "gatys"),
                   help="default: preset for --preset, arbitrary otherwise")  # fmt: skip
    p.add_argument("--strength", type=float, default=1.0, help="0..1 (default 1)")
    p.add_argument("--preserve-colour", action="store_true", help="keep the product's colours, take only texture")
    p.add_argument("--mask", choices=("all", "background", "product"), default="all",
                   help="stylize everything, only the background (product untouched), or only the product")  # fmt: skip
    p.add_argument("--size", type=int, metavar="PX", help="longest side of the output (default: the input's size)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--iterations", type=int, metavar="N", help="gatys engine: optimisation steps (default 200)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"), default="auto")
    p.add_argument("--out", required=True, metavar="DIR", help="folder for the results (PNG + .recipe.json each)")
    p.add_argument("--json", action="store_true", help="print the outputs as one JSON object")

    p = add("models", cmd_models, "list the pretrained networks, their status, and which engine needs which")
    p.add_argument("--fetch", choices=("vgg19",), help="download ImageNet VGG19 for the gatys engine (needs internet)")
    p.add_argument("--import-vgg19", metavar="FILE", help="import a VGG19 weights file (vgg19-dcbb9e9d.pth) offline")
    p.add_argument("--json", action="store_true")


# == end of style engine ======================================================================================


# == export (issue 6): export, campaign sets =====================================================================
# Handlers and parser entries of the export for ad teams; the core lives in core/export.

_EXPORT_TEMPLATE_SEVERAL_STYLES = "{sku}_{style}_{preset}"


def _export_style_sources(args: argparse.Namespace, catalog: Catalog) -> list[tuple[Any, str | None, str]]:
    """The export's style flags read by the stylize command's own helper (export names them --style-*, because
    --preset and --customer mean other things here)."""
    flags = argparse.Namespace(
        style_image=args.style_image, style_sku=args.style_sku, preset=args.style_preset, customer=args.style_customer
    )
    return _stylize_style_sources(flags, catalog)


def _export_style_options(args: argparse.Namespace) -> Any:
    from stylerec_desktop.core.stylize import StyleOptions

    return StyleOptions(strength=args.strength, preserve_colour=args.preserve_colour, seed=args.seed,
                        device=args.device, mask=args.mask)  # fmt: skip


def _export_selection(args: argparse.Namespace) -> str:
    """Which products the export takes: sku, customer, renders or campaign. Raises UserError for a bad mix."""
    chosen = [name for name, given in (("customer", args.customer), ("renders", args.renders),
              ("campaign", args.campaign is not None)) if given]  # fmt: skip
    if args.sku and chosen not in ([], ["campaign"]):
        chosen.insert(0, "sku")
    if len(chosen) > 1:
        raise UserError(f"Choose one of --sku, --customer, --renders or --campaign, not {' and '.join(chosen)}.")
    selection = chosen[0] if chosen else ("sku" if args.sku else "")
    if not selection:
        raise UserError("Say what to export: --sku SKU..., --customer ID --top K, --renders or --campaign N.")
    if args.top is not None and selection not in ("customer", "campaign"):
        raise UserError("--top goes with --customer (how many recommendations) or --campaign (products per segment).")
    if args.top is not None and args.top < 1:
        raise UserError(f"--top must be at least 1, got {args.top}.")
    styled = args.style_image or args.style_sku or args.style_preset or args.style_customer
    if styled and selection in ("renders", "campaign"):
        what = "renders are exported as rendered" if selection == "renders" else "each segment's taste is the style"
        raise UserError(f"Style flags cannot be used with --{selection}: {what}.")
    return selection


def _campaign_segments(text: str) -> int | None:
    if text == "auto":
        return None
    try:
        return int(text)
    except ValueError:
        raise UserError(f"--campaign takes a number of segments (or nothing, to choose it), got {text!r}.") from None


def _print_export(result: Any, heading: str = "") -> None:
    where = f"{heading}: " if heading else ""
    print(f"{where}{len(result.files)} files in {result.out_dir} ({result.written} written, {result.skipped} "
          f"already complete); manifest {result.manifest_csv.name} + {result.manifest_json.name}"
          + (f"; zip {result.zip_path}" if result.zip_path else ""))  # fmt: skip
    for warning in result.warnings:
        print(f"  warning: {warning}", file=sys.stderr)
    for failure in result.failures:
        print(f"  failed: {failure.sku}: {failure.message}", file=sys.stderr)


def cmd_export(args: argparse.Namespace) -> int:
    from stylerec_desktop.core.export import ExportOptions, export_job, parse_presets, with_format
    from stylerec_desktop.core.export.items import product_items, render_items, restyle_items_job

    selection = _export_selection(args)
    presets = with_format(parse_presets(args.preset), args.format)
    if args.quality is not None:
        if not 1 <= args.quality <= 100:
            raise UserError(f"--quality must be 1 to 100, got {args.quality}.")
        presets = [dataclasses.replace(preset, quality=args.quality) for preset in presets]
    styles_given = args.style_image or args.style_sku or args.style_preset or args.style_customer
    several = len(args.style_image or ()) + len(args.style_sku or ()) + len(args.style_preset or ()) + len(
        args.style_customer or ()) > 1  # fmt: skip
    template = args.name or (_EXPORT_TEMPLATE_SEVERAL_STYLES if several else None)
    options = ExportOptions(zip=args.zip, **({"template": template} if template else {}))
    with _open(args) as catalog:
        if selection == "campaign":
            from stylerec_desktop.core.export.campaign import campaign_job

            job = campaign_job(catalog, presets, args.out, segments=_campaign_segments(args.campaign),
                               skus=args.sku or None, top=args.top or 4, style_options=_export_style_options(args),
                               export_options=options, seed=args.seed, engine=args.engine)  # fmt: skip
            campaign = _run(job, args)
            if args.json:
                _print_json(campaign.to_dict())
            else:
                seg = campaign.segmentation
                how = "chosen by silhouette" if seg.automatic else "as asked"
                left_out = f"; {len(seg.without_taste)} customers without a taste left out" if seg.without_taste else ""
                sizes = ", ".join(map(str, seg.sizes))
                print(f"{len(seg.segments)} customer segments ({how}), sizes {sizes}{left_out}")
                for segment in seg.segments:
                    _print_export(campaign.exports[segment.name], f"{segment.name} ({segment.size} customers)")
                print(f"Campaign summary: {campaign.campaign_file}")
            failed = any(r.failures for r in campaign.exports.values())
            return 1 if failed else 0
        if selection == "renders":
            items = render_items(catalog)
        elif selection == "customer":
            from stylerec_desktop.core.recommend.service import recommend_for_customer

            recommended = recommend_for_customer(catalog, args.customer, k=args.top or 10)
            if not recommended.items:
                raise UserError(f"No product can be recommended to {args.customer} (every product is filtered out).")
            items = product_items(catalog, [rec.sku for rec, _ in recommended.items])
        else:
            items = product_items(catalog, args.sku)
        if styles_given:
            restyled = []
            for source, style_sku, label in _export_style_sources(args, catalog):
                job = restyle_items_job(items, source, _export_style_options(args), args.engine, label,
                                        style_sku=style_sku)  # fmt: skip
                restyled += _run(job, args)
            items = restyled
        result = _run(export_job(items, presets, args.out, options), args)
    if args.json:
        _print_json(result.to_dict())
    else:
        _print_export(result)
    return 1 if result.failures else 0


def _add_export_commands(add: Callable[..., argparse.ArgumentParser]) -> None:
    p = add("export", cmd_export, "export products, recommendations, renders or campaign sets in ad formats, with "
            "manifests and provenance (exit 1 when some images failed)")  # fmt: skip
    p.add_argument("--sku", nargs="+", action="extend", metavar="SKU", help="these products (with --campaign: "
                   "the products of every segment)")  # fmt: skip
    p.add_argument("--customer", metavar="ID", help="the customer's top recommendations (--top K, default 10)")
    p.add_argument("--renders", action="store_true", help="every render stored in the catalog, with its recipe")
    p.add_argument("--campaign", nargs="?", const="auto", metavar="N", help="group customers by taste into N "
                   "segments (N omitted: chosen by silhouette, 2..6) and export each segment's products restyled in "
                   "its taste into segment-<n>/")  # fmt: skip
    p.add_argument("--top", type=int, metavar="K", help="with --customer: how many (default 10); with --campaign: "
                   "each segment's top K recommended products (default 4)")  # fmt: skip
    p.add_argument("--preset", required=True, metavar="NAME[,NAME...]", help="export presets: square, portrait, "
                   "story, landscape, web, thumb, or WxH (e.g. 1200x800)")  # fmt: skip
    p.add_argument("--format", choices=("jpeg", "jpg", "png", "webp"), help="file format of every preset")
    p.add_argument("--quality", type=int, metavar="1-100", help="JPEG / lossy WebP quality of every preset (default: "
                   "each preset's own, 85-92; PNG is lossless and ignores it)")  # fmt: skip
    p.add_argument("--name", metavar="TEMPLATE", help="file names: tokens {sku} {title} {category} {style} {preset} "
                   "{w} {h} {date} {seq} {segment} (default {sku}_{preset})")  # fmt: skip
    p.add_argument("--zip", action="store_true", help="also write a zip of the whole set")
    p.add_argument("--out", required=True, metavar="DIR", help="export folder (an interrupted export there resumes)")
    p.add_argument("--json", action="store_true", help="print the export summary as JSON")
    style = p.add_argument_group("restyle on the way out (as `stylerec stylize`; recorded in provenance + manifest)")
    style.add_argument("--style-image", action="append", metavar="FILE", help="any picture as the style")
    style.add_argument("--style-sku", action="append", metavar="SKU", help="a catalog product's image as the style")
    style.add_argument("--style-preset", action="append", metavar="N[:W],...", help="built-in style 0-25 or a blend "
                       "(stylize's --preset)")  # fmt: skip
    style.add_argument("--style-customer", action="append", metavar="ID", help="a customer's taste (stylize's "
                       "--customer; needs `stylerec index`)")  # fmt: skip
    style.add_argument("--engine", choices=("arbitrary", "preset", "colour", "gatys"),
                       help="default: preset for --style-preset, arbitrary otherwise")  # fmt: skip
    style.add_argument("--strength", type=float, default=1.0, help="0..1 (default 1)")
    style.add_argument("--preserve-colour", action="store_true", help="keep the product's colours")
    style.add_argument("--mask", choices=("all", "background", "product"), default="all")
    style.add_argument("--seed", type=int, default=0, help="seed of the renders and of the campaign's clustering")
    style.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"), default="auto")


# == end of export ================================================================================================


# -- parser -------------------------------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stylerec",
        description="StyleRec Desktop from the command line: catalogs, imports, style index and recommendations, "
        "restyling and export for ad teams.",
    )
    parser.add_argument("--version", action="version", version=f"stylerec {__version__}")
    parser.add_argument(
        "--catalog", metavar="DIR", help="catalog folder (default: $STYLEREC_CATALOG or the user data folder)"
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress line on stderr")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, handler: Callable[[argparse.Namespace], int], help: str, **kw: Any):
        p = sub.add_parser(name, help=help, description=help, **kw)
        p.set_defaults(handler=handler)
        return p

    add("init", cmd_init, "create an empty catalog (or check an existing one)")

    p = add("demo", cmd_demo, "build the built-in demo catalog (generated products, customers, histories)")
    p.add_argument("--seed", type=int, default=7, help="random seed; the same seed gives the same catalog")
    p.add_argument("--products", type=int, default=240, help="number of products (default 240)")
    p.add_argument("--customers", type=int, default=48, help="number of customers (default 48)")
    p.add_argument("--json", action="store_true", help="print the result as JSON")

    p = add("import", cmd_import, "import products, customers or events from a file")
    p.add_argument("kind", choices=("products", "customers", "events"))
    p.add_argument("file", help="CSV file (products also JSON Lines)")
    p.add_argument("--images", metavar="DIR", help="folder the image paths are relative to (products)")
    p.add_argument(
        "--skip-bad", action="store_true", help="import the good rows; write the bad ones to FILE.rejects.csv"
    )
    p.add_argument("--json", action="store_true", help="print the import report as JSON")

    p = add("info", cmd_info, "show the catalog's paths, schema version and counts")
    p.add_argument("--json", action="store_true")

    products = sub.add_parser("products", help="list or show products").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    p = products.add_parser("list", help="list products by sku")
    p.set_defaults(handler=cmd_products_list)
    p.add_argument("--category")
    p.add_argument("--search", help="words that must appear in the sku, title, brand or tags")
    p.add_argument("--limit", type=int, default=50, help="at most this many (0 = all; default 50)")
    p.add_argument("--offset", type=int, default=0)
    p.add_argument("--json", action="store_true")
    p = products.add_parser("show", help="show one product")
    p.set_defaults(handler=cmd_products_show)
    p.add_argument("sku")
    p.add_argument("--json", action="store_true")

    customers = sub.add_parser("customers", help="list or show customers").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    p = customers.add_parser("list", help="list customers by id")
    p.set_defaults(handler=cmd_customers_list)
    p.add_argument("--search", help="text in the id, name or email")
    p.add_argument("--limit", type=int, default=50, help="at most this many (0 = all; default 50)")
    p.add_argument("--json", action="store_true")
    p = customers.add_parser("show", help="show one customer and their history")
    p.set_defaults(handler=cmd_customers_show)
    p.add_argument("customer_id")
    p.add_argument("--history", type=int, default=20, help="newest events to show (0 = all; default 20)")
    p.add_argument("--json", action="store_true")
    _add_recommend_commands(add)
    _add_stylize_commands(add)
    _add_export_commands(add)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except UserError as exc:
        print(f"stylerec: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("stylerec: interrupted; nothing was left half-written.", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    raise SystemExit(main())

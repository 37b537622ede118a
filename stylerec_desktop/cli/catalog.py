"""Catalog commands: init, demo, import, info, products, customers."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from stylerec_desktop import __version__
from stylerec_desktop.cli.common import (
    EXIT_USER_ERROR,
    catalog_dir,
    jsonable,
    open_catalog,
    price,
    print_json,
    run,
    table,
)
from stylerec_desktop.core.catalog import LATEST_VERSION, Catalog, Customer, Product
from stylerec_desktop.core.errors import UserError


def cmd_init(args: argparse.Namespace) -> int:
    folder = catalog_dir(args)
    existed = Catalog.exists(folder)
    with Catalog.create(folder) as catalog:
        print(f"{'Opened existing' if existed else 'Created'} catalog in {catalog.folder}")
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    from stylerec_desktop.core.demo import build_demo_catalog
    from stylerec_desktop.core.demo.build import DEMO_CUSTOMERS

    folder = catalog_dir(args)
    if Catalog.exists(folder):
        with Catalog.open(folder) as existing:
            products = existing.counts().products
        if products:
            raise UserError(
                f"The catalog in {folder} already has {products} products; "
                "build the demo in a new folder with --catalog DIR."
            )
    customers = args.customers or DEMO_CUSTOMERS
    job = build_demo_catalog(folder, args.seed, args.products, customers, preference=args.preference)
    catalog = run(job, args)

    with catalog:
        counts = catalog.counts()
        if args.json:
            print_json({"catalog": str(catalog.folder), "counts": counts})
        else:
            print(
                f"Demo catalog in {catalog.folder}: {counts.products} products in {counts.categories} "
                f"categories, {counts.customers} customers, {counts.events} events."
            )
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    from stylerec_desktop.core.importers import ImportFailed, import_file

    with open_catalog(args) as catalog:
        images = Path(args.images) if getattr(args, "images", None) else None
        try:
            report = run(
                import_file(catalog, args.kind, Path(args.file), images_dir=images, skip_bad=args.skip_bad,
                            allow_outside_images=args.allow_outside_images), args  # fmt: skip
            )
        except ImportFailed as failed:
            if args.json:
                print_json({"ok": False, "report": failed.report})
            lines = str(failed).splitlines()
            print(f"stylerec: error: {lines[0]}", file=sys.stderr)
            for line in lines[1:]:
                print(f"  {line}", file=sys.stderr)
            return EXIT_USER_ERROR
        if args.json:
            print_json({"ok": True, "report": report})
        else:
            print(report.summary())
    return 0


def cmd_info(args: argparse.Namespace) -> int:
    with open_catalog(args) as catalog:
        counts = catalog.counts()
        categories = dict(catalog.categories())
        info = {
            "catalog": str(catalog.folder),
            "database": str(catalog.db_path),
            "thumbnails": str(catalog.thumbnails_dir),
            "renders": str(catalog.renders_dir),
            "schema_version": catalog.schema_version,
            "read_only": catalog.read_only,
            "app_schema_version": LATEST_VERSION,
            "app_version": __version__,
            "counts": counts,
            "categories": categories,
        }
    if args.json:
        print_json(info)
        return 0
    print(f"Catalog      {info['catalog']}")
    access = ", read-only: this user may read it but not change it" if catalog.read_only else ""
    print(f"Database     {info['database']} (schema v{info['schema_version']}{access})")
    print(f"Thumbnails   {info['thumbnails']}")
    print(f"Renders      {info['renders']}")
    print(f"Products     {counts.products} ({counts.images} images) in {counts.categories} categories")
    print(f"Customers    {counts.customers}")
    print(f"Events       {counts.events}")
    for name, n in categories.items():
        print(f"  {name or '(none)':<20} {n}")
    return 0


def _product_dict(p: Product) -> dict[str, Any]:
    d = jsonable(p)
    d["primary_image"] = str(p.primary_image.path) if p.primary_image else None
    return d


def cmd_products_list(args: argparse.Namespace) -> int:
    with open_catalog(args) as catalog:
        if args.search:
            ids = catalog.search_product_ids(args.search, args.category)
            ids = ids[args.offset : args.offset + args.limit if args.limit else None]
            products = [catalog.product(i) for i in ids]
        else:
            products = catalog.products(limit=args.limit or None, offset=args.offset, category=args.category)
        if args.json:
            print_json([_product_dict(p) for p in products])
            return 0
        rows = [(p.sku, p.title, p.category, price(p), "yes" if p.in_stock else "no") for p in products]
        print(table(rows, ("SKU", "TITLE", "CATEGORY", "PRICE", "IN STOCK")) if rows else "No products.")
    return 0


def cmd_products_show(args: argparse.Namespace) -> int:
    with open_catalog(args) as catalog:
        p = catalog.product_by_sku(args.sku)
        others = [sku for sku in catalog.group_skus(p.item_group_id) if sku != p.sku]
    if args.json:
        print_json(_product_dict(p))
        return 0
    print(f"{p.sku}  {p.title}")
    print(f"  category   {p.category}")
    print(f"  brand      {p.brand}")
    print(f"  price      {price(p) or 'unknown'}")
    print(f"  in stock   {'yes' if p.in_stock else 'no'}")
    print(f"  tags       {', '.join(p.tags)}")
    if p.item_group_id:
        also = f" (also {', '.join(others)})" if others else " (no other product in it)"
        print(f"  group      {p.item_group_id}{also}")
    for key, value in sorted(p.attributes.items()):
        print(f"  {key:<10} {value}")
    for image in p.images:
        primary = " (primary)" if image.is_primary else ""
        print(f"  image      {image.path} {image.width}x{image.height}{primary}")
    return 0


def cmd_customers_list(args: argparse.Namespace) -> int:
    with open_catalog(args) as catalog:
        customers = catalog.customers(args.search or "", limit=args.limit or None)
    if args.json:
        print_json(customers)
        return 0
    rows = [(c.customer_id, c.name, c.email, c.country, str(c.event_count)) for c in customers]
    print(table(rows, ("ID", "NAME", "EMAIL", "COUNTRY", "EVENTS")) if rows else "No customers.")
    return 0


def cmd_customers_show(args: argparse.Namespace) -> int:
    with open_catalog(args) as catalog:
        customer: Customer = catalog.customer(args.customer_id)
        history = catalog.customer_history(args.customer_id, limit=args.history or None)
    if args.json:
        print_json({"customer": customer, "history": history})
        return 0
    print(f"{customer.customer_id}  {customer.name}  <{customer.email}>  {customer.country}")
    print(f"  joined {customer.joined or 'unknown'}, {customer.event_count} events")
    rows = [(h.ts.strftime("%Y-%m-%d %H:%M"), h.kind, str(h.quantity), h.sku, h.title) for h in history]
    if rows:
        print(table(rows, ("WHEN (UTC)", "KIND", "QTY", "SKU", "PRODUCT")))
    return 0


def add_commands(sub: Any, add: Callable[..., argparse.ArgumentParser]) -> None:
    add("init", cmd_init, "create an empty catalog (or check an existing one)")

    p = add("demo", cmd_demo, "build the built-in demo catalog (generated products, customers, histories)")
    p.add_argument("--seed", type=int, default=7, help="random seed; the same seed gives the same catalog")
    p.add_argument("--products", type=int, default=240, help="number of products (default 240)")
    p.add_argument("--customers", type=int, help="number of customers (default 600)")
    p.add_argument("--preference", choices=("style", "silhouette", "pattern"), default="style",
                   help="what the generated shoppers' tastes follow: style (patterns and palettes), silhouette "
                   "(product shapes, any colour) or pattern (patterns, any colour or shape)")  # fmt: skip
    p.add_argument("--json", action="store_true", help="print the result as JSON")

    p = add("import", cmd_import, "import products, customers or events from a file")
    p.add_argument("kind", choices=("products", "customers", "events"))
    p.add_argument("file", help="CSV file (products also JSON Lines)")
    p.add_argument("--images", metavar="DIR", help="folder the image paths are relative to (products)")
    p.add_argument("--allow-outside-images", action="store_true", help="let image paths lead outside the images "
                   "folder (../ or absolute paths elsewhere); by default such a row is bad")  # fmt: skip
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

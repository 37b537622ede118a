"""Style index and recommendation commands: index, recommend, similar, evaluate. The core lives in
core/recommend."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from stylerec_desktop.cli.common import jsonable, open_catalog, print_json, run, table


def cmd_index(args: argparse.Namespace) -> int:
    from stylerec_desktop.core.recommend.indexing import index_catalog

    with open_catalog(args) as catalog:
        report = run(index_catalog(catalog, device=args.device, batch_size=args.batch_size), args)
    if args.json:
        print_json({**jsonable(report), "images_per_second": report.images_per_second})
    else:
        print(report.summary())
    return 0


def _because_dict(because: Any) -> dict[str, Any]:
    return {
        "sku": because.sku,
        "title": because.title,
        "kind": because.kind,
        "date": jsonable(because.ts),
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
    with open_catalog(args) as catalog:
        result = recommend_for_customer(catalog, args.customer, k=args.k, filters=filters, diversity=args.diversity)
    if args.json:
        print_json(
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
                        "shared_colours": [jsonable(c) for c in why.shared_colours],
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
    print(table(rows, ("#", "SKU", "SCORE", "PRODUCT", "BECAUSE")) if rows else "No product passes the filters.")
    return 0


def _similar_dicts(neighbours: list[Any]) -> list[dict[str, Any]]:
    return [{"sku": n.sku, "title": n.title, "score": n.score, "components": n.components} for n in neighbours]


def cmd_similar(args: argparse.Namespace) -> int:
    from stylerec_desktop.core.recommend.service import INDEX_CACHE
    from stylerec_desktop.core.recommend.similar import same_group_products, similar_products

    with open_catalog(args) as catalog:
        product = catalog.product_by_sku(args.sku)  # an unknown sku is a NotFound with the usual sentence
        index = INDEX_CACHE.get(catalog)
        same_group = same_group_products(index, args.sku, k=args.k)
        neighbours = [] if args.same_group else similar_products(
            index, args.sku, by=args.by, k=args.k, threshold=args.threshold
        )  # fmt: skip
    if args.same_group:
        if args.json:
            print_json({"sku": args.sku, "by": "colour", "item_group_id": product.item_group_id,
                        "items": _similar_dicts(same_group)})  # fmt: skip
            return 0
        if not product.item_group_id:
            print(f"{args.sku} is in no product group (its item_group_id is empty).")
            return 0
        rows = [(str(i + 1), n.sku, f"{n.score:.3f}", n.title) for i, n in enumerate(same_group)]
        print(f"Same product, other colours (group {product.item_group_id}), closest colour first:")
        print(table(rows, ("#", "SKU", "COLOUR", "PRODUCT")) if rows else "No other indexed product in the group.")
        return 0
    if args.json:
        print_json({"sku": args.sku, "by": args.by, "items": _similar_dicts(neighbours),
                    "same_group": _similar_dicts(same_group)})  # fmt: skip
        return 0
    rows = [(str(i + 1), n.sku, f"{n.score:.3f}", n.title) for i, n in enumerate(neighbours)]
    print(table(rows, ("#", "SKU", "SCORE", "PRODUCT")) if rows else "No product is that similar.")
    if same_group:
        print(f"Same product, other colours: {', '.join(n.sku for n in same_group)} (--same-group for scores)")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from stylerec_desktop.core.recommend.evaluate import evaluate, report_dict

    with open_catalog(args) as catalog:
        report = evaluate(catalog, test_days=args.test_days, k=args.k)
    if args.json:
        print_json(report_dict(report))
        return 0
    print(
        f"Trained on events before {report.cutoff:%Y-%m-%d %H:%M} UTC, tested on the {report.test_purchases} "
        f"purchases of {report.customers} customers in the last {report.test_days} days (@{report.k}):"
    )
    print(report.table())
    if report.cold_start_purchases:
        print(f"cold rec = recall on the {report.cold_start_purchases} purchases of products with no earlier events")
    return 0


def add_commands(add: Callable[..., argparse.ArgumentParser]) -> None:
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
    p.add_argument(
        "--same-group", action="store_true",
        help="only the other products of its group (item_group_id: the same product in other colours), "
        "closest colour first",
    )  # fmt: skip
    p.add_argument("--json", action="store_true")

    p = add("evaluate", cmd_evaluate, "measure how well recommendations predict later purchases, against baselines")
    p.add_argument("--test-days", type=int, default=14, help="the last N days of events are the test (default 14)")
    p.add_argument("--k", type=int, default=10, help="list length evaluated (default 10)")
    p.add_argument("--json", action="store_true", help="print the figures as one JSON object")

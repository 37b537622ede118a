"""Style index and recommendation commands: index, recommend, similar, evaluate. The core lives in
core/recommend."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from stylerec_desktop.cli.common import add_cluster_option, jsonable, open_catalog, print_json, run, table
from stylerec_desktop.core.errors import UserError


def cmd_index(args: argparse.Namespace) -> int:
    from stylerec_desktop.core.recommend.indexing import index_catalog

    with open_catalog(args) as catalog:
        if args.cluster is not None:
            from stylerec_desktop.core.recommend.index_cluster import index_on_cluster

            job = index_on_cluster(catalog, args.cluster, device=args.device, batch_size=args.batch_size)
        else:
            job = index_catalog(catalog, device=args.device, batch_size=args.batch_size)
        report = run(job, args)
    if args.json:
        print_json({**jsonable(report), "images_per_second": report.images_per_second})
    else:
        print(report.summary())
    return 0


def cmd_recommend(args: argparse.Namespace) -> int:
    from stylerec_desktop.core.recommend.batch import recommendations_json
    from stylerec_desktop.core.recommend.ranking import Filters
    from stylerec_desktop.core.recommend.service import recommend_for_customer

    filters = Filters(
        categories=tuple(args.category or ()),
        min_price=args.min_price,
        max_price=args.max_price,
        in_stock_only=args.in_stock,
        include_purchased=args.include_purchased,
    )
    if args.customer is None:
        return _recommend_batch(args, filters)
    if args.out is not None:
        raise UserError("--out writes a batch: use it with --all or --customers FILE (for one customer, --json).")
    if args.cluster is not None:
        raise UserError("--cluster runs a batch: use it with --all or --customers FILE (one customer is ranked here "
                        "in well under a second).")  # fmt: skip
    with open_catalog(args) as catalog:
        result = recommend_for_customer(catalog, args.customer, k=args.k, filters=filters, diversity=args.diversity)
    if args.json:
        print_json(recommendations_json(result))
        return 0
    if result.taste.is_empty:
        print(f"{args.customer} has no history with indexed products yet; showing what is popular.")
    rows = [(str(i + 1), rec.sku, f"{rec.score:.2f}", rec.title, why.summary()) for i, (rec, why) in
            enumerate(result.items)]  # fmt: skip
    print(table(rows, ("#", "SKU", "SCORE", "PRODUCT", "BECAUSE")) if rows else "No product passes the filters.")
    return 0


def _recommend_batch(args: argparse.Namespace, filters: Any) -> int:
    """``recommend --all`` / ``--customers FILE``: one list per customer into ``--out`` (see core/recommend/batch)."""
    from stylerec_desktop.core.recommend.batch import checked_customer_ids, read_customer_ids, recommend_batch

    if args.out is None:
        raise UserError("Name the file to write with --out FILE.jsonl or --out FILE.csv.")
    with open_catalog(args) as catalog:
        if args.all:
            customer_ids = sorted(catalog.customer_external_ids().values())
            if not customer_ids:
                raise UserError("This catalog has no customers yet: import them with `stylerec import customers FILE`.")
        else:
            path = Path(args.customers)
            customer_ids = checked_customer_ids(catalog, read_customer_ids(path), path.name)
        if args.cluster is not None:
            from stylerec_desktop.core.recommend.batch_cluster import recommend_batch_on_cluster

            job = recommend_batch_on_cluster(
                catalog, customer_ids, Path(args.out), args.cluster, k=args.k, filters=filters,
                diversity=args.diversity,
            )  # fmt: skip
        else:
            job = recommend_batch(
                catalog, customer_ids, Path(args.out), k=args.k, filters=filters, diversity=args.diversity
            )
        report = run(job, args)
    if args.json:
        print_json(report)
    else:
        print(report.summary())
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
        report = evaluate(
            catalog, test_days=args.test_days, k=args.k, folds=args.folds, seed=args.seed, learned=args.learned
        )
    if args.json:
        print_json(report_dict(report))
        return 0
    windows = "window" if report.folds == 1 else f"{report.folds} consecutive windows"
    print(
        f"Tested on {windows} of {report.test_days} days from {report.cutoff:%Y-%m-%d} (each trained only on the "
        f"events before it): {report.test_purchases} purchases of {report.customers} customers in "
        f"{report.customer_windows} customer-windows, @{report.k}, 95% intervals:"
    )
    print(report.table())
    if report.differences:
        print("stylerec minus each baseline on NDCG (paired):")
        print(report.differences_table())
    if report.cold_start_purchases:
        print(f"cold rec = recall on the {report.cold_start_purchases} purchases of products with no earlier events")
    if report.warning:
        print(f"warning: {report.warning}")
    return 0


def cmd_tune(args: argparse.Namespace) -> int:
    from stylerec_desktop.core.recommend.tune import reset_ranking, stored_ranking, summary, tune_job

    with open_catalog(args) as catalog:
        if args.reset:
            had = reset_ranking(catalog)
            if args.json:
                print_json({"reset": had})
            else:
                print("The tuned ranking was removed; the defaults apply." if had else "The ranking was not tuned.")
            return 0
        if args.show:
            tuned = stored_ranking(catalog)
            if args.json:
                print_json(tuned.to_dict() if tuned else None)
            else:
                print(summary(tuned) if tuned else "The ranking is not tuned for this catalog: the defaults apply.")
            return 0
        job = tune_job(
            catalog, args.folds, args.test_days, args.k, args.seed, held_out_folds=args.held_out, learned=args.learned,
            evidence_se=args.evidence_se,
        )
        tuned = run(job, args)
    if args.json:
        print_json(tuned.to_dict())
    else:
        print(summary(tuned))
    return 0


def add_commands(add: Callable[..., argparse.ArgumentParser]) -> None:
    p = add("index", cmd_index, "compute the style features of every product image not indexed yet (resumable)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda", "mps"), default="auto", help="where the networks run")
    p.add_argument("--batch-size", type=int, default=16, help="images per batch and per commit (default 16)")
    p.add_argument("--json", action="store_true", help="print the indexing report as JSON")
    add_cluster_option(p)

    p = add("recommend", cmd_recommend, "recommend products to a customer (or to many, into a file), with the why")
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument("--customer", metavar="ID", help="the customer's id")
    who.add_argument("--all", action="store_true", help="every customer of the catalog, into --out")
    who.add_argument(
        "--customers", metavar="FILE", help="the customers listed in FILE (one id per line, or a CSV with a "
        "customer_id column), into --out",
    )  # fmt: skip
    p.add_argument(
        "--out", metavar="FILE", help="with --all/--customers: write FILE.jsonl (one `recommend --json` object per "
        "customer) or FILE.csv (one row per customer and rank); written whole or not at all",
    )  # fmt: skip
    p.add_argument("--k", type=int, default=10, help="how many products (default 10)")
    p.add_argument("--include-purchased", action="store_true", help="also recommend products they already bought")
    p.add_argument("--category", action="append", help="only this category (repeat for several)")
    p.add_argument("--min-price", type=float)
    p.add_argument("--max-price", type=float)
    p.add_argument("--in-stock", action="store_true", help="only products in stock")
    p.add_argument("--diversity", type=float, default=0.0, help="0..1: how much to diversify the list (MMR)")
    p.add_argument("--json", action="store_true", help="print the recommendations (a batch: its report) as JSON")
    add_cluster_option(p)

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
    p.add_argument("--folds", type=int, default=4, help="consecutive test windows, each trained on what came before "
                   "(default 4)")  # fmt: skip
    p.add_argument("--test-days", type=int, default=14, help="days in each test window (default 14)")
    p.add_argument("--k", type=int, default=10, help="list length evaluated (default 10)")
    p.add_argument("--seed", type=int, default=0, help="seed of the bootstrap intervals")
    p.add_argument("--learned", action="store_true", help="also train the learned model for each window (on the "
                   "events before it) and evaluate it alone and in the blend")  # fmt: skip

    p.add_argument("--json", action="store_true", help="print the figures as one JSON object")

    p = add("tune", cmd_tune, "fit the ranking to this catalog's own history (weights and taste settings), checked "
            "on a later window the search never saw, and store it in the catalog")  # fmt: skip
    p.add_argument("--folds", type=int, default=3, help="validation windows the search scores (default 3)")
    p.add_argument("--held-out", type=int, default=2, metavar="N", help="later windows kept out of the search to "
                   "check its result against the defaults and the baselines (default 2)")  # fmt: skip
    p.add_argument("--test-days", type=int, default=14, help="days in each window (default 14)")
    p.add_argument("--k", type=int, default=10, help="list length optimised (NDCG@k; default 10)")
    p.add_argument("--seed", type=int, default=0, help="seed of the search; the same seed gives the same result")
    p.add_argument("--learned", action=argparse.BooleanOptionalAction, help="tune the learned model's weight too, "
                   "training one per window (default: when the catalog has a trained model)")  # fmt: skip
    p.add_argument("--evidence-se", type=float, default=0.0, metavar="E", help="move away from the defaults only "
                   "on evidence: each step must gain more than E standard errors on the search windows (default 0: "
                   "any gain; 2 is stricter, see BENCHMARKS.md)")  # fmt: skip
    p.add_argument("--reset", action="store_true", help="forget the tuned ranking; the defaults apply again")
    p.add_argument("--show", action="store_true", help="show the stored tuned ranking and its evidence")
    p.add_argument("--json", action="store_true", help="print the result as one JSON object")

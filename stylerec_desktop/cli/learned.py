"""The learned signal's command: `stylerec learn` trains the catalog's model and stores it in the catalog folder.
The core lives in core/recommend/learned.py."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from stylerec_desktop.cli.common import jsonable, open_catalog, print_json, run

if TYPE_CHECKING:  # the core (and torch) load only when a command runs
    from stylerec_desktop.core.recommend.learned import LearnedInfo


def cmd_learn(args: argparse.Namespace) -> int:
    from stylerec_desktop.core.recommend.learned import (
        LearnedSettings,
        load_model,
        model_path,
        save_model,
        settings_with,
        train_model_job,
    )

    if args.show:
        with open_catalog(args) as catalog:
            stored, path = load_model(catalog), model_path(catalog)
        if stored is None:
            if args.json:
                print_json(None)
            else:
                print(f"No learned model in this catalog yet ({path}): `stylerec learn` trains one.")
            return 0
        return _report(stored.info, path, args.json)
    changes = {} if args.epochs is None else {"epochs": args.epochs}
    settings = settings_with(LearnedSettings(), **changes)
    with open_catalog(args) as catalog:
        model = run(train_model_job(catalog, settings=settings, seed=args.seed, device=args.device), args)
        path = save_model(model, catalog)
    return _report(model.info, path, args.json)


def _report(info: LearnedInfo, path: Path, as_json: bool) -> int:
    if as_json:
        print_json({**jsonable(info), "path": str(path)})
        return 0
    print(
        f"Trained at {info.trained_at} on {info.events} events of {info.customers} customers with {info.products} "
        f"indexed products ({info.cold_products} without events, scored by their looks and attributes), up to "
        f"{info.data_until}, on {info.device} in {info.seconds:.1f} s."
    )
    v = info.validation
    if v is None:
        print(
            f"No customer bought anything in the validation window, so the {info.epochs} epochs were not chosen on "
            "held-out data."
        )
    else:
        print(
            f"Validation: the purchases of {v.customers} customers since {v.since} ({v.purchases} purchases), "
            f"trained only on the events before it: NDCG@{v.k} {v.ndcg:.3f} (best-sellers {v.popularity_ndcg:.3f}), "
            f"recall@{v.k} {v.recall:.3f} (best-sellers {v.popularity_recall:.3f}); best after {info.best_epoch} "
            f"of {info.epochs} epochs."
        )
        if v.purchases < 200:
            print(f"Only {v.purchases} validation purchases: these figures are rough.")
    print(f"Stored in {path}.")
    return 0


def add_commands(add: Callable[..., argparse.ArgumentParser]) -> None:
    p = add(
        "learn",
        cmd_learn,
        "train the learned recommendation model on this catalog's events, product looks and attributes, and store it",
    )
    p.add_argument("--epochs", type=int, help="most passes over the events (default 40; early stopping ends sooner)")
    p.add_argument("--seed", type=int, default=0, help="random seed: the same seed gives the same model on CPU")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto", help="where to train (default auto)")
    p.add_argument("--show", action="store_true", help="show the stored model's figures instead of training one")
    p.add_argument("--json", action="store_true", help="print what was trained and its validation figures as JSON")

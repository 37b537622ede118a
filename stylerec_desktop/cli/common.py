"""What every `stylerec` command shares: JSON output, the progress line, tables, opening the catalog."""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Sequence
from dataclasses import asdict, is_dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from stylerec_desktop.core.catalog import Catalog, Product
from stylerec_desktop.core.jobs import Job, Progress, run_job
from stylerec_desktop.core.paths import default_catalog_dir

EXIT_USER_ERROR = 2
EXIT_INTERRUPTED = 130

# -- output helpers -----------------------------------------------------------------------------------------


def jsonable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        # JSON has no Infinity or NaN (a catalog imported before prices were checked may hold one): null.
        return None
    if is_dataclass(value) and not isinstance(value, type):
        return {k: jsonable(v) for k, v in asdict(value).items()}
    if isinstance(value, dict):
        return {k: jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return value


def print_json(value: Any) -> None:
    json.dump(jsonable(value), sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")


class ProgressLine:
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


def run(job: Job, args: argparse.Namespace) -> Any:
    line = ProgressLine(enabled=not args.quiet)
    try:
        return run_job(job, on_progress=line)
    finally:
        line.done()


def price(product: Product | Any) -> str:
    return "" if product.price is None else f"{product.price:.2f} {product.currency}"


def table(rows: Sequence[Sequence[str]], header: Sequence[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(header, widths, strict=True)).rstrip()]
    lines += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths, strict=True)).rstrip() for r in rows]
    return "\n".join(lines)


def catalog_dir(args: argparse.Namespace) -> Path:
    return Path(args.catalog).expanduser() if args.catalog else default_catalog_dir()


def open_catalog(args: argparse.Namespace) -> Catalog:
    return Catalog.open(catalog_dir(args))


# -- running on a cluster -----------------------------------------------------------------------------------

CLUSTER_HELP = (
    "run the heavy work on a Ray cluster: auto (the cluster this machine belongs to), ray://HOST:PORT (a Ray Client "
    "address) or local[N] (N worker processes on this machine); the catalog is written here. Needs "
    "pip install 'stylerec-desktop[cluster]'"
)


def add_cluster_option(parser: argparse.ArgumentParser) -> None:
    """``--cluster auto|ray://HOST:PORT|local[N]``, checked as it is parsed (a bad value exits 2 with the forms)."""
    parser.add_argument("--cluster", metavar="WHERE", type=_cluster_value, default=None, help=CLUSTER_HELP)


def _cluster_value(text: str) -> Any:
    from stylerec_desktop.core.cluster import parse_cluster
    from stylerec_desktop.core.errors import UserError

    try:
        return parse_cluster(text)
    except UserError as error:
        raise argparse.ArgumentTypeError(str(error)) from error

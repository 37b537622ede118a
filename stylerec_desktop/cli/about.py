"""What this copy of StyleRec is and whether it works: ``--version [--verbose]``, ``licences``, ``self-test``."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from pathlib import Path

from stylerec_desktop.cli.common import print_json, table


def version_requested(argv: Sequence[str]) -> bool:
    """``--version`` among the options before the command (``stylerec --version``, ``stylerec -v --version``).

    Read before argparse so ``--version --verbose`` works whatever else ``--verbose``/``-v`` means to the parser
    (a logging level): beside ``--version`` it asks for the detailed facts."""
    for arg in argv:
        if arg == "--version":
            return True
        if not arg.startswith("-"):
            return False  # the command: a later --version belongs to it
    return False


def print_version(argv: Sequence[str]) -> int:
    from stylerec_desktop.core.about import version_text

    verbose = any(arg in ("--verbose", "-v", "-vv") for arg in argv)
    print(version_text(verbose))
    return 0


def cmd_licences(args: argparse.Namespace) -> int:
    from stylerec_desktop.core.about import component_version
    from stylerec_desktop.core.licences import SHIPPED, component_named, licence_document, licence_texts

    if args.name:
        print(licence_document(component_named(args.name)), end="")
        return 0
    if args.json:
        print_json([{"name": c.name, "version": component_version(c), "licence": c.licence, "note": c.note,
                     "texts": [title for title, _ in licence_texts(c)]} for c in SHIPPED])  # fmt: skip
        return 0
    rows = [(c.name, component_version(c), c.licence, str(len(licence_texts(c)))) for c in SHIPPED]
    print(table(rows, ("COMPONENT", "VERSION", "LICENCE", "TEXTS")))
    print("\n`stylerec licences NAME` prints a component's licence and notice texts in full.")
    return 0


def cmd_self_test(args: argparse.Namespace) -> int:
    from stylerec_desktop.gui.selftest import run_self_test

    return run_self_test(keep=Path(args.keep) if args.keep else None)


def add_commands(add: Callable[..., argparse.ArgumentParser]) -> None:
    p = add("licences", cmd_licences, "list the licences of every component the app ships, or print one in full")
    p.add_argument("name", nargs="?", help="a component (e.g. PyTorch, 'Qt 6', pillow) to print in full")
    p.add_argument("--json", action="store_true")

    p = add("self-test", cmd_self_test, "check this installation end to end: a demo catalog, the style index, a "
            "recommendation, the window offscreen, a preview per engine, an export, the weights' checksums; exit 0 "
            "only if all pass")  # fmt: skip
    p.add_argument("--keep", metavar="DIR", help="work in DIR and keep what was made (screenshots, previews, the "
                   "export) instead of a temporary folder")  # fmt: skip

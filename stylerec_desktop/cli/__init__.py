"""`stylerec`: every core capability from the command line, for automation, tests and batch servers.

One module per command group (catalog, recommend, stylize, export); this one builds the parser and maps errors.
User errors (a missing file, an unknown sku, a bad row) print one clear line on stderr and exit with code 2.
"""

from __future__ import annotations

import argparse
import logging
import sqlite3
import sys
from collections.abc import Callable, Sequence
from typing import Any

from stylerec_desktop import __version__
from stylerec_desktop.cli import about, catalog, export, learned, recommend, stylize
from stylerec_desktop.cli.common import EXIT_INTERRUPTED, EXIT_USER_ERROR
from stylerec_desktop.core.catalog import commit_count
from stylerec_desktop.core.errors import UserError, user_error_for


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stylerec",
        description="StyleRec Desktop from the command line: catalogs, imports, style index and recommendations, "
        "restyling and export for ad teams.",
    )
    # Handled in main() before parsing (see cli/about.py): with --verbose it prints the build, the versions of
    # Python/Qt/PyTorch, the device and the shipped licences.
    parser.add_argument("--version", action="store_true",
                        help=f"print the version ({__version__}) and exit; with --verbose, every detail")  # fmt: skip
    parser.add_argument(
        "--catalog", metavar="DIR", help="catalog folder (default: $STYLEREC_CATALOG or the user data folder)"
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress line on stderr")
    parser.add_argument(
        "-v",
        "--verbose",
        action="count",
        default=0,
        help="log what the work did on stderr: -v what happened (migrations, fallbacks, job outcomes), -vv details",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def add(name: str, handler: Callable[[argparse.Namespace], int], help: str, **kw: Any):
        p = sub.add_parser(name, help=help, description=help, **kw)
        p.set_defaults(handler=handler)
        return p

    catalog.add_commands(sub, add)
    recommend.add_commands(add)
    stylize.add_commands(add)
    export.add_commands(add)
    learned.add_commands(add)
    about.add_commands(add)
    return parser


# Warnings alone read as messages; with -v the lines say when and which part of the app spoke.
QUIET_LOG_FORMAT = "stylerec: %(levelname)s: %(message)s"
VERBOSE_LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def configure_logging(verbosity: int) -> None:
    """The core's log on stderr: warnings only by default, INFO with ``-v``, DEBUG with ``-vv``. Leaves logging
    alone when the process already set it up (the CLI called from a program or a test with its own handlers)."""
    root = logging.getLogger()
    if root.handlers:
        if verbosity:
            root.setLevel(logging.INFO if verbosity == 1 else logging.DEBUG)
        return
    level = {0: logging.WARNING, 1: logging.INFO}.get(verbosity, logging.DEBUG)
    logging.basicConfig(level=level, format=VERBOSE_LOG_FORMAT if verbosity else QUIET_LOG_FORMAT, stream=sys.stderr)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command. The one place that maps errors for the command line: errors the user can act on (their
    own, a full disk, a locked or read-only catalog, a damaged database; see ``core.errors.user_error_for``) print
    ``stylerec: error: ...`` and exit 2; anything else is a bug and keeps its traceback."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    if about.version_requested(arguments):
        return about.print_version(arguments)
    parser = build_parser()
    args = parser.parse_args(arguments)
    configure_logging(args.verbose)
    commits = commit_count()
    try:
        return args.handler(args)
    except (UserError, sqlite3.Error, OSError) as exc:
        explained = user_error_for(exc, args.catalog)
        if explained is None:
            raise
        print(f"stylerec: error: {explained}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        # Say what really happened: a Ctrl-C that lands after a commit (the import's, say) has not undone it.
        if commit_count() > commits:
            print(f"stylerec: interrupted after `{args.command}` had saved its changes to the catalog: they "
                  "are kept (`stylerec info` shows the counts); nothing was left half-written.",
                  file=sys.stderr)  # fmt: skip
        else:
            print("stylerec: interrupted before anything was saved to the catalog; nothing was left half-written.",
                  file=sys.stderr)  # fmt: skip
        return EXIT_INTERRUPTED

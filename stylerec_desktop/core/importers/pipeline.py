"""The steps every import shares: read, check every row, refuse or set the bad rows aside, write in one go.

Each kind (products, customers, events) supplies a :class:`Kind`: its columns, a checker that turns source rows
into catalog records plus row errors, and the catalog call that writes a batch of records.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Generator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar

from stylerec_desktop.core.catalog import Catalog
from stylerec_desktop.core.errors import UserError
from stylerec_desktop.core.importers import values
from stylerec_desktop.core.importers.report import ImportFailed, ImportReport, RowError
from stylerec_desktop.core.importers.source import REJECT_COLUMNS, SourceFile, SourceRow, is_jsonl, read_source
from stylerec_desktop.core.jobs import Job, Progress, Throttle
from stylerec_desktop.core.safe_files import atomic_text_file
from stylerec_desktop.core.spreadsheet_cells import formula_safe

R = TypeVar("R")
# Records per catalog call inside the import's transaction: each batch is followed by a progress step, which is
# also where a cancel takes effect, so batches stay small enough to answer Cancel within a fraction of a second.
WRITE_BATCH = 250

Checked = Generator[Progress, None, tuple[list[R], list[RowError]]]


@dataclass(frozen=True)
class ImportContext:
    """What a checker may need besides the rows: the catalog (to look keys up) and the images folder (resolved),
    and whether image paths may lead outside it."""

    catalog: Catalog
    images_dir: Path
    allow_outside_images: bool = False


@dataclass(frozen=True)
class Kind(Generic[R]):
    """What an importer of one kind of record supplies to :func:`run_import`."""

    name: str  # plural, as in messages: "products"
    required: tuple[str, ...]
    optional: tuple[str, ...]
    jsonl: bool  # whether JSON Lines files are accepted
    check: Callable[[SourceFile, ImportContext], Checked[R]]
    write: Callable[[Catalog, Sequence[R]], int]
    jsonl_only: tuple[str, ...] = ()  # columns with a meaning only in JSON Lines (an "attributes" object)
    # Folds the checked records that are one catalog record into one; returns them and how many rows were folded.
    combine: Callable[[list[R]], tuple[list[R], int]] | None = None

    def canonical(self, jsonl: bool) -> dict[str, str]:
        """Lower-case column name -> canonical name, for case-insensitive matching of known columns."""
        names = self.required + self.optional + (self.jsonl_only if jsonl else ())
        return {name.lower(): name for name in names}

    def known(self, jsonl: bool) -> frozenset[str]:
        return frozenset(self.canonical(jsonl).values())


class RowFields:
    """Parses the fields of one row, collecting a :class:`RowError` for each bad one instead of stopping."""

    def __init__(self, source: SourceFile, row: SourceRow, errors: list[RowError]) -> None:
        self.source = source
        self.row = row
        self.errors = errors
        self.ok = True

    def get(self, column: str, parse: Callable[..., Any], *args: Any) -> Any:
        """``parse(value, *args)``; on :class:`~values.BadValue` records the error and returns None."""
        try:
            return parse(self.row.values.get(column), *args)
        except values.BadValue as bad:
            self.fail(column, bad.problem, bad.expected)
            return None

    def fail(self, column: str, problem: str, expected: str) -> None:
        self.ok = False
        self.errors.append(RowError(self.row.row, self.source.column(column), problem, expected))

    def check_unique(self, column: str, key: str, first_rows: dict[str, int]) -> None:
        """Flags a key seen on an earlier row of the same file: which of the two should win is the user's call,
        so neither silently does."""
        if key in first_rows:
            self.fail(column, f"{values.quoted(key)} is a duplicate of row {first_rows[key]}", f"each {column} once")
        else:
            first_rows[key] = self.row.row

    def free_attributes(self, known: frozenset[str]) -> dict[str, str]:
        """Every column that is not a known one, as text; empty cells left out."""
        found = {}
        for name, value in self.row.values.items():
            if name not in known and not values.is_empty(value):
                found[name] = values.text(value)
        return found


class Ticker:
    """Progress for a loop over ``total`` items, at most every few hundredths of a second (see Throttle)."""

    def __init__(self, what: str, total: int) -> None:
        self.what = what
        self.total = total
        self._throttle = Throttle()

    def tick(self, done: int) -> Progress | None:
        """A progress step to yield now, or None when the last one was too recent (the final one always)."""
        if self._throttle.ready() or done >= self.total:
            return Progress(done, self.total, f"{self.what} {done}/{self.total}")
        return None


def _open_source(path: Path, kind: Kind[Any]) -> SourceFile:
    jsonl = is_jsonl(path)
    if jsonl and not kind.jsonl:
        raise UserError(f"{path.name}: {kind.name} can only be imported from CSV files, not JSON Lines.")
    source = read_source(path, kind.canonical(jsonl))
    if jsonl:
        return source  # JSON objects may each have other keys: missing ones are per-row errors
    missing = [name for name in kind.required if name not in source.names]
    header_errors = list(source.header_errors)
    header_errors += [
        RowError(source.header_row, name, "is missing from the header", f"a column named {name}") for name in missing
    ]
    if not header_errors:
        return source
    found = ", ".join(source.cells_header) or "none"
    problem = f"has no {_and(missing)} column" if missing else "repeats a column in its header"
    headline = (
        f"{path.name} cannot be imported as {kind.name}: its header {problem}, so nothing was imported. "
        f"Found columns: {found}. Expected: {', '.join(kind.required)} (required) and optionally "
        f"{', '.join(kind.optional)}; any other column is kept as a free attribute."
    )
    report = ImportReport(kind.name, path, rows=len(source.rows), errors=header_errors)
    raise ImportFailed(report, headline)


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def rejects_path_for(path: Path) -> Path:
    return path.with_name(f"{path.stem}.rejects.csv")


def write_rejects(source: SourceFile, errors: list[RowError]) -> Path:
    """Write the bad rows to ``<stem>.rejects.csv`` beside the input; returns its path.

    Columns: ``row, column, problem, expected`` (several problems of one row joined by ``; ``), then the row's
    original columns (for JSON Lines: the original line, in a ``json`` column). One line per bad row, in file
    order, so the file can be fixed and imported again as it is. Written atomically. Every cell is made
    formula-safe as the export manifest's are (a bad row is often exactly the one with a ``=HYPERLINK(...)``
    in it); reading a rejects file back undoes that (see :func:`source.read_csv`).
    """
    by_row: dict[int, list[RowError]] = {}
    for error in errors:
        by_row.setdefault(error.row, []).append(error)
    target = rejects_path_for(source.path)
    try:
        # utf-8-sig: with the byte-order mark Excel shows accents right; our importer accepts it too.
        with atomic_text_file(target, encoding="utf-8-sig", newline="") as stream:
            writer = csv.writer(stream)
            writer.writerow([formula_safe(cell) for cell in (*REJECT_COLUMNS, *source.cells_header)])
            for row in source.rows:
                problems = by_row.get(row.row)
                if problems:
                    cells = [
                        row.row,
                        "; ".join(p.column for p in problems if p.column),
                        "; ".join(p.problem for p in problems),
                        "; ".join(p.expected for p in problems),
                        *row.cells,
                    ]
                    writer.writerow([formula_safe(cell) for cell in cells])
    except OSError as exc:
        raise UserError(
            f"Cannot write the rejects file {target}: {exc.strerror or exc}. "
            "Copy the import file to a folder you can write to and import it from there."
        ) from exc
    return target


def _write(catalog: Catalog, kind: Kind[R], records: list[R]) -> Job[int]:
    """Write ``records`` in batches; returns how many records the catalog says it stored (inserted or updated)."""
    total = len(records)
    stored = 0
    # One transaction for the whole import, held open across the progress steps: if the driver closes this
    # generator (Cancel), GeneratorExit leaves the with block and the catalog rolls back to before the import.
    # The connection is per thread, so the job must be driven by one thread from start to end.
    with catalog.transaction():
        yield Progress(0, total, f"Writing {kind.name} 0/{total}")
        for start in range(0, total, WRITE_BATCH):
            batch = records[start : start + WRITE_BATCH]
            stored += kind.write(catalog, batch)
            done = start + len(batch)
            yield Progress(done, total, f"Writing {kind.name} {done}/{total}")
    return stored


def run_import(
    catalog: Catalog,
    path: Path,
    kind: Kind[R],
    skip_bad: bool,
    images_dir: Path | None = None,
    allow_outside_images: bool = False,
) -> Job[ImportReport]:
    """The import job of ``kind`` from ``path``: see :mod:`stylerec_desktop.core.importers` for the rules.

    ``images_dir`` defaults to the folder of ``path``; image paths must lead inside it unless
    ``allow_outside_images``.
    """
    path = Path(path)
    yield Progress(0, None, f"Reading {path.name}")
    source = _open_source(path, kind)
    report = ImportReport(kind.name, path, rows=len(source.rows))
    images = Path(images_dir if images_dir is not None else path.parent).resolve()
    context = ImportContext(catalog, images, allow_outside_images)
    records, errors = yield from kind.check(source, context)
    if kind.combine is not None:
        records, report.merged = kind.combine(records)
    # Stable sort: within a row, errors stay in column order, image problems after the plain fields.
    report.errors = sorted(source.errors + errors, key=lambda error: error.row)
    if report.errors:
        if not skip_bad:
            raise ImportFailed(report)
        yield Progress(0, None, f"Writing the bad rows to {rejects_path_for(path).name}")
        report.rejects_path = write_rejects(source, report.errors)
    # What the catalog reports stored, not what was read: the two differ when rows were combined.
    report.imported = (yield from _write(catalog, kind, records)) if records else 0
    return report

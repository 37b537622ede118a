"""What an import tells the user: per-row errors, the final report, and the error that refuses a bad file."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from stylerec_desktop.core.errors import UserError

# str(ImportFailed) lists at most this many errors: enough to see the pattern, short enough for a dialog or a
# terminal. The report itself keeps all of them.
MAX_LISTED_ERRORS = 50


@dataclass(frozen=True)
class RowError:
    """One thing wrong with one row.

    ``row`` is the number a user sees: in a CSV the line the row starts on, so the header is row 1 and the first
    data row is row 2 (the same as a spreadsheet's row number); in JSON Lines the line number. ``column`` is
    empty when the problem is the row as a whole (a malformed JSON line, too many values).
    """

    row: int
    column: str
    problem: str
    expected: str

    def describe(self) -> str:
        """``row 7, column price: 'abc' is not a number (expected a decimal >= 0, e.g. 19.99)``."""
        where = f"row {self.row}, column {self.column}" if self.column else f"row {self.row}"
        return f"{where}: {self.problem} (expected {self.expected})"


@dataclass
class ImportReport:
    """The outcome of one import.

    ``rows`` counts the data rows read (blank lines not included), ``imported`` the records written to the
    catalog (new or updated), ``merged`` the good rows that were folded into an earlier row's record rather than
    stored apart (events: a repeated purchase adds to the quantity), so ``imported + merged + bad rows == rows``;
    ``errors`` every problem found (a row may have several), ``rejects_path`` the CSV the bad rows went to
    (only with ``skip_bad``, and only when there were bad rows).
    """

    kind: str
    source: Path
    rows: int = 0
    imported: int = 0
    merged: int = 0
    errors: list[RowError] = field(default_factory=list)
    rejects_path: Path | None = None

    @property
    def bad_rows(self) -> int:
        """How many distinct rows have at least one error."""
        return len({error.row for error in self.errors})

    def summary(self) -> str:
        """One line, e.g. ``Imported 238 of 240 products from products.csv; 2 bad rows written to ...``, or for
        combined rows ``Imported 90 events from 100 rows of events.csv (10 rows repeated ...)``."""
        if self.merged:
            were = "was" if self.merged == 1 else "were"
            text = (
                f"Imported {self.imported} {self.kind} from {self.rows} rows of {self.source.name} "
                f"({_plural(self.merged, 'row')} repeated an earlier row's customer, sku, kind and time and {were} "
                "added to its quantity)"
            )
        else:
            text = f"Imported {self.imported} of {self.rows} {self.kind} from {self.source.name}"
        bad = self.bad_rows
        if bad and self.rejects_path is not None:
            text += f"; {_plural(bad, 'bad row')} written to {self.rejects_path.name}"
        elif bad:
            text += f"; {_plural(bad, 'bad row')} skipped"
        return text


class ImportFailed(UserError):
    """A file was refused as a whole: nothing was imported. ``report.errors`` holds every problem found.

    ``str()`` starts with one line saying what happened and what to do, then one line per error (capped at
    :data:`MAX_LISTED_ERRORS`, with a count of the rest).
    """

    def __init__(self, report: ImportReport, headline: str | None = None) -> None:
        self.report = report
        #: The same for an app with its own buttons: what happened, and no command-line advice.
        self.interactive_message = (
            f"{report.source.name} has {_plural(report.bad_rows, 'bad row')}, so nothing was imported. Fix them "
            "and import again, or import the good rows from the report."
            if headline is None
            else headline
        )
        if headline is None:
            rejects = report.source.with_name(f"{report.source.stem}.rejects.csv").name
            headline = (
                f"{report.source.name} has {_plural(report.bad_rows, 'bad row')}, so nothing was imported. "
                f"Fix the rows listed below and import again, or use --skip-bad to import the good rows "
                f"and write the bad ones to {rejects}."
            )
        lines = [headline]
        lines += [error.describe() for error in report.errors[:MAX_LISTED_ERRORS]]
        if len(report.errors) > MAX_LISTED_ERRORS:
            lines.append(f"... and {len(report.errors) - MAX_LISTED_ERRORS} more")
        super().__init__("\n".join(lines))


def _plural(count: int, noun: str) -> str:
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"

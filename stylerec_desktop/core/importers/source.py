"""Reading an import file into numbered rows: CSV (any line ending, optional BOM) or JSON Lines.

This layer knows nothing about products or customers; it only turns bytes into ``{column: value}`` rows with
the row numbers a user sees, and refuses files that cannot be read at all with a :class:`UserError`.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stylerec_desktop.core.errors import UserError
from stylerec_desktop.core.importers.report import RowError
from stylerec_desktop.core.safe_files import open_regular_file
from stylerec_desktop.core.spreadsheet_cells import undo_formula_safe

JSONL_SUFFIXES = (".jsonl", ".ndjson")
# The columns a rejects file adds. A user may fix a rejects file and import it as it is, so when all four
# are in a header they are dropped rather than turned into free attributes.
REJECT_COLUMNS = ("row", "column", "problem", "expected")
# Enough of a file to read its header or first JSON object, for recognising a dropped file quickly.
_PEEK_BYTES = 1 << 20
# The whole file is read and parsed in memory (every row is checked before anything is written), which takes
# several times its size; 512 MB is millions of rows, far more than a catalog team's exports.
MAX_IMPORT_BYTES = 512 << 20


@dataclass
class SourceRow:
    """One data row. ``values`` maps column names (known columns by their canonical lower-case name, the
    others as written) to the value: text for CSV, any JSON value for JSON Lines. ``cells`` is the row as it
    was in the file, for the rejects CSV."""

    row: int
    values: dict[str, Any]
    cells: list[str]
    broken: bool = False  # could not be read as a row (its error is in SourceFile.errors): no field checks


@dataclass
class SourceFile:
    """A parsed import file.

    ``names`` maps canonical column names to the spelling in the file's header (for error messages);
    ``cells_header`` heads ``SourceRow.cells`` in a rejects file; ``errors`` holds rows that could not be read
    as rows at all (their ``SourceRow`` is still listed, so counts and rejects include it); ``header_errors``
    the problems of a CSV header (on ``header_row``, the first non-blank line).
    """

    path: Path
    is_jsonl: bool
    rows: list[SourceRow] = field(default_factory=list)
    names: dict[str, str] = field(default_factory=dict)
    cells_header: list[str] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    header_row: int = 1
    header_errors: list[RowError] = field(default_factory=list)

    def column(self, canonical: str) -> str:
        """The column's name as the user wrote it."""
        return self.names.get(canonical, canonical)


def is_jsonl(path: Path) -> bool:
    return path.suffix.lower() in JSONL_SUFFIXES


def _read_bytes(path: Path, limit: int | None = None) -> bytes:
    """The file's bytes, or its first ``limit`` bytes. Only a regular file is opened (see
    :func:`open_regular_file`); without ``limit`` one larger than :data:`MAX_IMPORT_BYTES` is refused."""
    try:
        stream, size = open_regular_file(path)
        with stream:
            if limit is not None:
                return stream.read(limit)
            # Read one byte past the limit: a file still growing since it was measured is caught too.
            data = stream.read(MAX_IMPORT_BYTES + 1) if size <= MAX_IMPORT_BYTES else b""
            if size > MAX_IMPORT_BYTES or len(data) > MAX_IMPORT_BYTES:
                raise UserError(
                    f"{path} is larger than {MAX_IMPORT_BYTES >> 20} MB, more than one import reads: split it into "
                    "smaller files (keep the header row in each) and import them one after another."
                )
            return data
    except FileNotFoundError:
        raise UserError(f"{path} does not exist. Check the file name and folder.") from None
    except IsADirectoryError:
        raise UserError(f"{path} is a folder; choose the file to import inside it.") from None
    except OSError as exc:
        raise UserError(f"Cannot read {path}: {exc.strerror or exc}.") from exc


def _decode(path: Path, data: bytes) -> str:
    try:
        text = data.decode("utf-8-sig")  # -sig: Excel's "CSV UTF-8" starts with a byte-order mark
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise UserError(
            f"{path} is not UTF-8 text (line {line} has the byte 0x{data[exc.start]:02x}). "
            "Save it as UTF-8 (in Excel: 'CSV UTF-8') and import again."
        ) from None
    if not text.strip():
        raise UserError(f"{path} is empty. Expected a header row followed by one row per record.")
    return text


def _delimiter(header_line: str) -> str:
    """Comma, unless the header clearly uses semicolons or tabs (what spreadsheets export in some locales)."""
    counts = {delimiter: header_line.count(delimiter) for delimiter in (",", ";", "\t")}
    best = max(counts, key=lambda d: counts[d])
    return best if counts[best] > counts[","] else ","


def _records(text: str) -> Iterable[tuple[int, list[str]]]:
    """CSV records with the line each starts on. Quoted values may span lines, so the line is tracked."""
    first_line = next((line for line in text.splitlines() if line.strip()), "")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_delimiter(first_line))
    start = 1
    for cells in reader:
        yield start, cells
        start = reader.line_num + 1


def read_csv(path: Path, text: str, canonical: dict[str, str]) -> SourceFile:
    """Parse CSV ``text``. ``canonical`` maps lower-case known column names to their canonical names;
    header cells match it case-insensitively, other columns keep their name as written. Header problems
    (a column twice) go to ``header_errors``; the caller decides, knowing the kind's required columns."""
    source = SourceFile(path, is_jsonl=False)
    records = _records(text)
    try:
        header_row, header = next(((n, c) for n, c in records if any(x.strip() for x in c)), (1, []))
        source.header_row = header_row
        names = [cell.strip() for cell in header]
        drop_rejects = set(REJECT_COLUMNS) <= {name.lower() for name in names}
        if drop_rejects:
            # A rejects file we wrote: its cells were made formula-safe (see pipeline.write_rejects); undo that so
            # it imports as the original rows did.
            names = [undo_formula_safe(name) for name in names]
        keys: list[str | None] = []
        seen: dict[str, int] = {}
        for index, name in enumerate(names):
            if not name or (drop_rejects and name.lower() in REJECT_COLUMNS):
                keys.append(None)  # unnamed columns carry nothing we could name; see REJECT_COLUMNS
                continue
            key = canonical.get(name.lower(), name)
            if key in seen:
                source.header_errors.append(
                    RowError(
                        header_row,
                        name,
                        f"appears twice in the header (columns {seen[key] + 1} and {index + 1})",
                        "each column once",
                    )
                )
            seen[key] = index
            source.names[key] = name
            keys.append(key)
        kept = [index for index, key in enumerate(keys) if key is not None]
        source.cells_header = [names[index] for index in kept]
        for row, cells in records:
            if not any(cell.strip() for cell in cells):
                continue  # blank lines and the ",,,," rows spreadsheets leave at the end
            if drop_rejects:
                cells = [undo_formula_safe(cell) for cell in cells]
            values = {key: cell for key, cell in zip(keys, cells, strict=False) if key is not None}
            extra = [cell for cell in cells[len(keys) :] if cell.strip()]
            source.rows.append(SourceRow(row, values, [cells[i] if i < len(cells) else "" for i in kept] + extra))
            if extra:
                source.rows[-1].broken = True
                source.errors.append(
                    RowError(
                        row,
                        "",
                        f"has {len(keys) + len(extra)} values but the header has {len(keys)} columns",
                        "one value per header column; put values that contain commas in double quotes",
                    )
                )
    except csv.Error as exc:
        raise UserError(f"{path} is not a readable CSV file: {exc}. Check its quoting.") from None
    return source


def read_jsonl(path: Path, text: str, canonical: dict[str, str]) -> SourceFile:
    """Parse JSON Lines ``text``: one object per non-blank line; a bad line is a row error, not a failure."""
    source = SourceFile(path, is_jsonl=True, cells_header=["json"])
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.rstrip("\r")
        if not line.strip():
            continue
        row = SourceRow(number, {}, [line])
        source.rows.append(row)
        problem = ""
        try:
            value = json.loads(line)
            # "\ud800" is valid JSON but half a character, which no UTF-8 text (nor the catalog) can hold.
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except json.JSONDecodeError as exc:
            problem = f"is not valid JSON ({exc.msg} at character {exc.colno})"
        except UnicodeEncodeError:
            problem = "holds a \\u escape of half a character (a lone surrogate such as \\ud800)"
        except (ValueError, RecursionError):
            # Python's own limits: integers over 4,300 digits, and nesting deeper than its recursion limit.
            problem = "holds a number too long or values nested too deep to read"
        if not problem and not isinstance(value, dict):
            problem = f"is a JSON {type(value).__name__}, not an object"
        if problem:
            row.broken = True
            source.errors.append(RowError(number, "", problem, _ONE_OBJECT))
            continue
        row.values = {canonical.get(str(key).strip().lower(), str(key).strip()): item for key, item in value.items()}
    return source


_ONE_OBJECT = 'one JSON object per line, e.g. {"sku": "TEE-1", "title": "Tee", "category": "tees"}'


def read_source(path: Path, canonical: dict[str, str]) -> SourceFile:
    """Read and parse the whole file at ``path`` (JSON Lines by its suffix, CSV otherwise)."""
    text = _decode(path, _read_bytes(path))
    return read_jsonl(path, text, canonical) if is_jsonl(path) else read_csv(path, text, canonical)


def peek_columns(path: Path) -> list[str]:
    """The header's column names (or the first JSON object's keys), reading only the start of the file."""
    data = _read_bytes(path, _PEEK_BYTES)
    text = data.decode("utf-8-sig", errors="replace")
    if not text.strip():
        return []
    if is_jsonl(path):
        for line in text.split("\n"):
            if line.strip():
                try:
                    value = json.loads(line)
                except json.JSONDecodeError:
                    return []
                return [str(key).strip() for key in value] if isinstance(value, dict) else []
        return []
    try:
        for _, cells in _records(text):
            if any(cell.strip() for cell in cells):
                return [cell.strip() for cell in cells]
    except csv.Error:
        pass  # not a CSV we can read: nothing to recognise
    return []

"""The export manifest: one row per file, as ``manifest.csv`` (for spreadsheets and ad tools) and
``manifest.json`` (for scripts, and for resuming an interrupted export); plus an optional zip of the whole set.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
import zipfile
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from stylerec_desktop.core.export.writers import atomic_file, write_atomic

MANIFEST_CSV = "manifest.csv"
MANIFEST_JSON = "manifest.json"
MANIFEST_KIND = "stylerec-export-manifest"
MANIFEST_VERSION = 1
# Already-compressed image formats gain nothing from deflate, and storing them makes the zip fast.
_STORED_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}


@dataclass(frozen=True)
class ManifestRow:
    """One exported file. ``path`` is relative to the export folder with ``/`` separators; ``bytes`` its size.

    ``input_key`` fingerprints everything the file was made from (source pixels, preset, provenance), so a
    resumed export can tell a finished file from one made with other settings; it is in the JSON manifest only.
    ``upscale`` is how much the source was enlarged (output px per source px; under 1 when shrunk) and
    ``warnings`` what the user should know about this file (a list in the JSON, joined by " | " in the CSV).
    """

    path: str
    sku: str
    preset: str
    width: int
    height: int
    format: str
    bytes: int
    sha256: str
    style_source: str = ""
    recipe_id: str = ""
    segment: str = ""
    input_key: str = ""
    upscale: float = 0.0
    warnings: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        # Read back from JSON the warnings are a list; rows stay hashable and comparable as tuples.
        object.__setattr__(self, "warnings", tuple(self.warnings))


def _csv_value(row: ManifestRow, column: str) -> Any:
    value = getattr(row, column)
    return " | ".join(value) if column == "warnings" else value


CSV_COLUMNS = tuple(f.name for f in fields(ManifestRow) if f.name != "input_key")


def manifest_csv_bytes(rows: Iterable[ManifestRow]) -> bytes:
    """``manifest.csv`` content: UTF-8 with a BOM (so Excel shows non-ASCII titles right), CRLF line ends."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow([_csv_safe(_csv_value(row, c)) for c in CSV_COLUMNS])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def _csv_safe(value: Any) -> Any:
    # A cell starting with = + - @ is run as a formula by spreadsheet apps ("CSV injection"); a sku or style
    # name from a supplier must not be able to do that on the ad team's machine. Paths never start so (see
    # naming.safe_part), so they stay usable as they are.
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


def manifest_json_bytes(rows: Iterable[ManifestRow], export: Mapping[str, Any]) -> bytes:
    """``manifest.json`` content: ``export`` (settings of the whole export) and ``files`` (the rows)."""
    document = {
        "kind": MANIFEST_KIND,
        "version": MANIFEST_VERSION,
        "export": dict(export),
        "files": [asdict(row) for row in rows],
    }
    return (json.dumps(document, indent=2, ensure_ascii=False, sort_keys=False) + "\n").encode("utf-8")


def write_manifests(out_dir: Path, rows: list[ManifestRow], export: Mapping[str, Any]) -> tuple[Path, Path]:
    """Write ``manifest.csv`` and ``manifest.json`` into ``out_dir`` atomically; return their paths."""
    csv_path, json_path = out_dir / MANIFEST_CSV, out_dir / MANIFEST_JSON
    write_atomic(csv_path, manifest_csv_bytes(rows))
    write_atomic(json_path, manifest_json_bytes(rows, export))
    return csv_path, json_path


def read_manifest(out_dir: Path) -> tuple[dict[str, Any], list[ManifestRow]]:
    """The export settings and rows of ``out_dir/manifest.json``; empty when it is missing or unreadable.

    Unreadable is not an error: the manifest only lets an export skip finished files, so without it the files
    are simply made again.
    """
    try:
        document = json.loads((out_dir / MANIFEST_JSON).read_text(encoding="utf-8"))
        if document.get("kind") != MANIFEST_KIND:
            return {}, []
        known = {f.name for f in fields(ManifestRow)}
        rows = [ManifestRow(**{k: v for k, v in entry.items() if k in known}) for entry in document["files"]]
        return dict(document.get("export") or {}), rows
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return {}, []


def write_zip(out_dir: Path, rows: list[ManifestRow], zip_path: Path, date: tuple[int, int, int]) -> Path:
    """Zip the exported files and both manifests into ``zip_path`` atomically.

    Entries are in manifest order with the export's ``date`` (year, month, day) as their time stamp, so the same
    export always gives a byte-identical zip.
    """
    names = [row.path for row in rows] + [MANIFEST_CSV, MANIFEST_JSON]
    # Streamed into the temporary file entry by entry: a large web-size set would not fit in memory twice.
    with atomic_file(zip_path) as stream, zipfile.ZipFile(stream, "w") as archive:
        for name in names:
            info = zipfile.ZipInfo(name, date_time=(*date, 0, 0, 0))
            info.compress_type = (
                zipfile.ZIP_STORED if Path(name).suffix.lower() in _STORED_SUFFIXES else zipfile.ZIP_DEFLATED
            )
            info.external_attr = 0o644 << 16
            with (out_dir / name).open("rb") as source, archive.open(info, "w") as entry:
                shutil.copyfileobj(source, entry, 1 << 20)
    return zip_path

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

from stylerec_desktop.core.export.naming import inside
from stylerec_desktop.core.export.writers import atomic_file, write_atomic
from stylerec_desktop.core.safe_files import open_regular_file, read_own_file
from stylerec_desktop.core.spreadsheet_cells import formula_safe

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
    ``product_fidelity`` is the render's measured fidelity to its product, 0..1 (None for an untouched product
    image or a render without a measure); ``fidelity_flag`` says why a render kept by ``--flag-only`` is doubtful
    (below the threshold, or not measured), empty otherwise.
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
    product_fidelity: float | None = None
    fidelity_flag: str = ""
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
        # A sku or style name from a supplier must not run as a formula on the ad team's machine. Paths never
        # start with a formula character (see naming.safe_part), so they stay usable as they are.
        writer.writerow([formula_safe(_csv_value(row, c)) for c in CSV_COLUMNS])
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


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
    are simply made again. A manifest that is a symbolic link, a FIFO or a device is a :class:`UserError`
    naming it (it is never followed or opened).
    """
    try:
        data = read_own_file(out_dir / MANIFEST_JSON)
        if data is None:
            return {}, []
        document = json.loads(data.decode("utf-8"))
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
            # A file swapped for a link (or a FIFO) since it was written is refused, not zipped.
            source, _ = open_regular_file(inside(out_dir, name), follow_links=False)
            with source, archive.open(info, "w") as entry:
                shutil.copyfileobj(source, entry, 1 << 20)
    return zip_path

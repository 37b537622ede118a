"""Manifests: CSV a spreadsheet opens safely, JSON read back for resuming, reproducible zips."""

from __future__ import annotations

import csv
import io
from pathlib import Path

from stylerec_desktop.core.export.manifest import (
    CSV_COLUMNS,
    ManifestRow,
    manifest_csv_bytes,
    read_manifest,
    write_manifests,
    write_zip,
)

ROW = ManifestRow("a/x.jpg", "=HYPERLINK(\"http://evil\")", "square", 1080, 1080, "jpeg", 12, "0" * 64,
                  style_source="@SUM(1)", recipe_id="r1", segment="Été", input_key="k")


def test_csv_has_bom_header_and_no_formulas() -> None:
    data = manifest_csv_bytes([ROW])
    assert data.startswith("\ufeff".encode())
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert tuple(rows[0]) == CSV_COLUMNS and "input_key" not in rows[0]
    record = dict(zip(rows[0], rows[1], strict=True))
    assert record["sku"].startswith("'=") and record["style_source"] == "'@SUM(1)"
    assert record["path"] == "a/x.jpg" and record["segment"] == "Été"


def test_json_manifest_round_trips_and_garbage_reads_as_empty(tmp_path: Path) -> None:
    write_manifests(tmp_path, [ROW], {"date": "2024-05-01"})
    export, rows = read_manifest(tmp_path)
    assert export == {"date": "2024-05-01"} and rows == [ROW]
    (tmp_path / "manifest.json").write_text("{broken")
    assert read_manifest(tmp_path) == ({}, [])
    assert read_manifest(tmp_path / "missing") == ({}, [])


def test_zip_is_byte_identical_when_made_twice(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x.jpg").write_bytes(b"jpeg bytes")
    write_manifests(tmp_path, [ROW], {})
    first = write_zip(tmp_path, [ROW], tmp_path / "one.zip", (2024, 5, 1)).read_bytes()
    second = write_zip(tmp_path, [ROW], tmp_path / "two.zip", (2024, 5, 1)).read_bytes()
    assert first == second

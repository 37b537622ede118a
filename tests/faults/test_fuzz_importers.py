"""Every importer, fed generated files (CSV and JSON Lines, text from all of Unicode, invalid UTF-8, extreme numbers
and dates, deep nesting): it imports, or refuses with a UserError; never another exception. A refused file leaves
the catalog exactly as it was, and the database passes SQLite's integrity check after every case."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fault_cases import accepted, case, count_outside_writes

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from stylerec_desktop.core.catalog import Catalog, CustomerRecord, ProductRecord  # noqa: E402
from stylerec_desktop.core.errors import UserError  # noqa: E402
from stylerec_desktop.core.importers import import_file, rejects_path_for  # noqa: E402
from stylerec_desktop.core.jobs import run_job  # noqa: E402

COLUMNS = {
    "products": ("sku", "title", "category", "brand", "price", "currency", "in_stock", "tags", "image", "attributes"),
    "customers": ("customer_id", "name", "email", "country", "joined"),
    "events": ("customer_id", "sku", "kind", "timestamp", "quantity"),
}
# Cells that have broken a parser somewhere: huge and non-finite numbers, far dates, wildcards, formulas, paths.
NASTY = ["", " ", "1e400", "-1e400", "nan", "inf", "-0", "99999999999999999999", "9" * 5000, "0x10", "1_000",
         "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00", "2024-02-30T00:00:00Z", "2024-06-01T12:00:00Z",
         "%", "_", '"', "'", "\\", "=HYPERLINK(\"x\")", "../outside.jpg", "/dev/zero", "view", "purchase", "true",
         "C0001", "SKU-1", "\x00", "\ud800", "café", "a" * 10_000, "[", "{}", "[1,2]", "T-1"]  # fmt: skip
cells = st.one_of(st.sampled_from(NASTY), st.text(max_size=40), st.integers().map(str), st.floats().map(repr))
names = st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs")), min_size=1, max_size=30)
# Values each column takes when right, so that many generated files are valid and reach the writing code (a
# fuzzer that only ever produces refusals proves little about the catalog).
VALID = {
    "sku": names, "title": names, "category": names, "brand": names, "name": names, "customer_id": names,
    "price": st.floats(0, 1e6).map(lambda v: f"{v:.2f}"), "currency": st.sampled_from(["USD", "EUR", "JPY"]),
    "in_stock": st.sampled_from(["true", "false", "1", "0", "yes"]), "tags": st.lists(names, max_size=3).map(",".join),
    "image": st.just(""), "attributes": st.just(""), "email": st.emails(), "country": st.sampled_from(["FR", "US"]),
    "joined": st.dates().map(lambda d: d.isoformat()),
    "kind": st.sampled_from(["view", "like", "cart", "purchase"]),
    "timestamp": st.datetimes(timezones=st.just(dt.UTC)).map(lambda t: t.isoformat()),
    "quantity": st.integers(1, 10**25).map(str),
}  # fmt: skip
REFERS = {"events": {"customer_id": st.just("C0001"), "sku": st.just("SKU-1")}}


def column_cells(kind: str, column: str) -> st.SearchStrategy[str]:
    """A cell of ``column``: usually a right value, sometimes anything at all."""
    right = REFERS.get(kind, {}).get(column, VALID[column])
    return st.one_of(*[right] * 9, cells)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20) | st.sampled_from(NASTY),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)


@pytest.fixture(scope="module")
def catalog() -> Iterator[Catalog]:
    """One catalog for every case of a module (Hypothesis runs many cases per test), holding a product and a
    customer so that events can refer to them."""
    with tempfile.TemporaryDirectory(prefix="stylerec-fuzz-") as folder:
        catalog = Catalog.create(Path(folder) / "catalog")
        catalog.upsert_products([ProductRecord("SKU-1", "Mug", "home")])
        catalog.upsert_customers([CustomerRecord("C0001", "Ann Lee", "ann@example.com")])
        yield catalog
        catalog.close()


def _snapshot(catalog: Catalog) -> str:
    """A digest of every row a user could see (products, images, customers, events)."""
    digest = hashlib.sha256()
    for table in ("products", "product_images", "customers", "events"):
        for row in catalog.db.execute(f"SELECT * FROM {table} ORDER BY 1"):
            digest.update(repr(row).encode("utf-8", "surrogatepass"))
    return digest.hexdigest()


def _import(catalog: Catalog, kind: str, data: bytes, suffix: str, tally: str, skip_bad: bool = False) -> None:
    """Import ``data`` as a file and check the promises; raises AssertionError (or the unexpected error)."""
    before = _snapshot(catalog)
    with tempfile.TemporaryDirectory(prefix="stylerec-fuzz-file-") as folder:
        path = Path(folder) / f"{kind}{suffix}"
        path.write_bytes(data)
        (Path(folder) / "images").mkdir()
        beside = sorted(Path(folder).rglob("*"))
        try:
            run_job(import_file(catalog, kind, path, images_dir=Path(folder) / "images", skip_bad=skip_bad))
            refused = False
        except UserError as exc:
            assert str(exc).strip(), "a refusal must say why"
            refused = True
        # The import reads its file and the images folder and writes only into the catalog's folder, and, with
        # --skip-bad, the rejects file the user asked for beside the input (a new regular file, never a link).
        rejects = rejects_path_for(path)
        if skip_bad and rejects.exists():
            assert not rejects.is_symlink() and rejects.is_file()
            rejects.unlink()
        after = sorted(Path(folder).rglob("*"))
        count_outside_writes(tally, len(set(after) ^ set(beside)) + (path.read_bytes() != data))
        assert after == beside and path.read_bytes() == data, "the import wrote beside its input file"
    assert catalog.db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    if refused:
        assert _snapshot(catalog) == before, "a refused import changed the catalog"
    else:
        accepted(tally)


def _csv_bytes(header: list[str], rows: list[list[str]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    # Lone surrogates cannot be UTF-8: written as their raw bytes they make an invalid file, which is a case too.
    return buffer.getvalue().encode("utf-8", "surrogatepass")


@st.composite
def csv_files(draw: st.DrawFn, kind: str) -> bytes:
    names = COLUMNS[kind]
    header = draw(st.lists(st.sampled_from(names), min_size=1, max_size=len(names), unique=True))
    if draw(st.booleans()):
        header = [n for n in names if n != "attributes"]  # often a complete header, so rows get checked
    row = st.tuples(*(column_cells(kind, column) for column in header)).map(list)
    rows = draw(st.lists(row, max_size=6))
    return _csv_bytes(header, rows)


@st.composite
def jsonl_files(draw: st.DrawFn) -> bytes:
    lines = []
    for _ in range(draw(st.integers(0, 5))):
        record = {n: draw(st.one_of(column_cells("products", n), json_values))
                  for n in COLUMNS["products"] if n in ("sku", "title", "category") or draw(st.booleans())}  # fmt: skip
        lines.append(json.dumps(record, ensure_ascii=draw(st.booleans())))
    if draw(st.integers(0, 4)) == 0:
        lines.append(draw(st.sampled_from(["[" * 100_000, "{" + '"a":' * 50, "1" * 5000, '{"sku": "\\ud800"}'])))
    return "\n".join(lines).encode("utf-8", "surrogatepass")


@pytest.mark.parametrize("kind", ["products", "customers", "events"])
@given(data=st.data())
def test_csv_imports_import_or_refuse_cleanly(catalog: Catalog, kind: str, data: st.DataObject) -> None:
    generated, skip_bad = data.draw(csv_files(kind)), data.draw(st.booleans())
    with case(f"fuzz: {kind} CSV"):
        _import(catalog, kind, generated, ".csv", f"fuzz: {kind} CSV", skip_bad)


@given(data=jsonl_files(), skip_bad=st.booleans())
def test_jsonl_product_imports_import_or_refuse_cleanly(catalog: Catalog, data: bytes, skip_bad: bool) -> None:
    with case("fuzz: products JSON Lines"):
        _import(catalog, "products", data, ".jsonl", "fuzz: products JSON Lines", skip_bad)


@given(data=st.binary(max_size=300))
def test_random_bytes_are_refused_cleanly(catalog: Catalog, data: bytes) -> None:
    with case("fuzz: random bytes as a products CSV"):
        _import(catalog, "products", data, ".csv", "fuzz: random bytes as a products CSV")

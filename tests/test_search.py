"""Search finds what a person typed (issue 15 item 6): tags matched as text, accents and case folded, SQL wildcards
and JSON punctuation taken literally; a catalog made before schema v9 is migrated and searchable."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
import sqlite_utils

from stylerec_desktop.cli import main
from stylerec_desktop.core.catalog import Catalog, CustomerRecord, ProductRecord
from stylerec_desktop.core.catalog.schema import MIGRATIONS


def _skus(catalog: Catalog, text: str) -> list[str]:
    return sorted(catalog.product(i).sku for i in catalog.search_product_ids(text))


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    catalog = Catalog.create(tmp_path / "catalog")
    catalog.upsert_products([
        ProductRecord("A-1", "Café Crème Mug", "home", brand="Maison", tags=("café", "cup")),
        ProductRecord("B-2", "Linen Dress", "women", brand="Nord", tags=("summer", "linen")),
        ProductRecord("C-3", "50% off scarf", "women", tags=("sale_item",)),
        ProductRecord("D-4", "Straße Boots", "shoes", brand="Ünter", tags=("winter", "leather")),
    ])  # fmt: skip
    catalog.upsert_customers([
        CustomerRecord("C0001", "Zoë Martín", "zoe@example.com"),
        CustomerRecord("C0002", "Ann Lee", "ann_lee@example.com"),
        CustomerRecord("C0003", "Bo Chen", "bo@example.com"),
    ])  # fmt: skip
    return catalog


def test_accents_and_case_are_folded(catalog: Catalog) -> None:
    assert _skus(catalog, "cafe") == ["A-1"]
    assert _skus(catalog, "CRÈME mug") == ["A-1"]
    assert _skus(catalog, "creme") == ["A-1"]
    assert _skus(catalog, "strasse") == ["D-4"]  # ß folds to ss
    assert _skus(catalog, "unter") == ["D-4"]  # brand
    assert _skus(catalog, "ＬＩＮＥＮ") == ["B-2"]  # full-width letters (NFKD)
    assert _skus(catalog, "ug") == ["A-1"]  # short words too (they scan instead of using the trigram index)
    assert [c.customer_id for c in catalog.customers("zoe martin")] == ["C0001"]


@pytest.mark.parametrize("text", ['"', "[", "]", ",", '", "', "\\", "%", "_", "*", "NEAR", "a OR b"])
def test_punctuation_and_wildcards_match_only_themselves(catalog: Catalog, text: str) -> None:
    expected = {"%": ["C-3"], "_": ["C-3"]}.get(text, [])  # "50% off", "sale_item"; nothing else holds these
    assert _skus(catalog, text) == expected


def test_tags_are_matched_as_text(catalog: Catalog) -> None:
    assert _skus(catalog, "summer") == ["B-2"]
    assert _skus(catalog, "sale_item") == ["C-3"]
    assert _skus(catalog, "sale%item") == []  # a literal %, not "anything"
    assert _skus(catalog, "winter leather") == ["D-4"]
    assert _skus(catalog, "summer leather") == []  # every word must match


def test_edits_keep_search_in_step(catalog: Catalog) -> None:
    mug = catalog.product_by_sku("A-1")
    catalog.update_product(mug.id, title="Espresso Cup", tags=["crème brûlée"])
    assert _skus(catalog, "mug") == [] and _skus(catalog, "cafe") == []
    assert _skus(catalog, "espresso") == ["A-1"] and _skus(catalog, "brulee") == ["A-1"]
    catalog.upsert_products([ProductRecord("A-1", "Tea Pot", "home")])
    assert _skus(catalog, "espresso") == [] and _skus(catalog, "tea") == ["A-1"]
    catalog.upsert_customers([CustomerRecord("C0001", "Zoe Renamed", "z@example.com")])
    assert [c.customer_id for c in catalog.customers("renamed")] == ["C0001"]


def test_customers_list_search_for_a_wildcard_returns_only_real_matches(
    catalog: Catalog, capsys: pytest.CaptureFixture[str]
) -> None:
    folder = str(catalog.folder)
    catalog.close()
    for text, expected in (("%", []), ("_", ["C0002"]), ("ann_", ["C0002"]), ("zoë", ["C0001"])):
        assert main(["--catalog", folder, "customers", "list", "--search", text, "--json"]) == 0
        assert [c["customer_id"] for c in json.loads(capsys.readouterr().out)] == expected, text


def test_a_v7_catalog_is_migrated_and_found_by_its_tags(tmp_path: Path) -> None:
    folder = tmp_path / "old"
    folder.mkdir()
    db = sqlite_utils.Database(sqlite3.connect(folder / "catalog.sqlite"))
    for step in MIGRATIONS[:7]:
        step(db)
    db.execute("PRAGMA user_version = 7")
    # As the app before v9 wrote them: tags as ASCII-escaped JSON.
    db.execute(
        "INSERT INTO products (sku, title, category, tags, created_at, updated_at) "
        "VALUES ('OLD-1', 'Mug', 'home', ?, 'now', 'now')",
        (json.dumps(["café", "größe"]),),
    )
    db.execute("INSERT INTO customers (customer_id, name, email) VALUES ('C9', 'Renée', 'r@example.com')")
    db.conn.commit()
    db.conn.close()
    assert "caf\\u00e9" in json.dumps(["café"])  # the escaped form the old search could not find
    with Catalog.open(folder) as catalog:
        assert catalog.schema_version == 9
        assert _skus(catalog, "cafe") == _skus(catalog, "GROSSE") == _skus(catalog, "café") == ["OLD-1"]
        assert _skus(catalog, '"') == []
        assert catalog.product_by_sku("OLD-1").tags == ("café", "größe")
        assert [c.customer_id for c in catalog.customers("renee")] == ["C9"]
        stored = catalog.db.execute("SELECT tags FROM products").fetchone()[0]
    assert "café" in stored  # stored as text now

"""Product groups (issue 10, item 5): ``item_group_id`` imported from CSV and JSON Lines, stored (schema v7, an
older catalog migrated), carried by the style index, and "Same product, other colours" in Similar (core and CLI)."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import numpy as np
import pytest
from feature_catalog import FakeProduct, build_feature_catalog

from stylerec_desktop.cli import main
from stylerec_desktop.core.catalog import LATEST_VERSION, Catalog, ProductRecord
from stylerec_desktop.core.catalog import schema as catalog_schema
from stylerec_desktop.core.importers import ImportFailed, import_products
from stylerec_desktop.core.jobs import run_job
from stylerec_desktop.core.recommend.service import INDEX_CACHE
from stylerec_desktop.core.recommend.similar import same_group_products, similar_to_product

NAVY, ROYAL, BLACK, RED = (30.0, 10.0, -40.0), (45.0, 15.0, -55.0), (10.0, 0.0, 0.0), (50.0, 65.0, 45.0)
# Dress D1 in four colours (one look), dress D2 in two, and a tee in no group that is navy like D1's navy.
PRODUCTS = [
    FakeProduct("D1-NAVY", NAVY, look=1, group="D1"),
    FakeProduct("D1-RED", RED, look=1, group="D1"),
    FakeProduct("D1-ROYAL", ROYAL, look=1, group="D1"),
    FakeProduct("D1-BLACK", BLACK, look=1, group="D1"),
    FakeProduct("D2-RED", RED, look=2, group="D2"),
    FakeProduct("D2-NAVY", NAVY, look=2, group="D2"),
    FakeProduct("TEE-NAVY", NAVY, look=3, category="tees"),
]


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


# -- import -----------------------------------------------------------------------------------------------------


def test_csv_and_jsonl_import_groups_and_empty_means_none(tmp_path: Path) -> None:
    catalog = Catalog.create(tmp_path / "catalog")
    csv_file = _write(
        tmp_path / "products.csv",
        "sku,title,category,item_group_id\nD-RED,Red dress,dresses,DRESS-7\nD-BLUE,Blue dress,dresses,DRESS-7\n"
        "TEE,Tee,tees,\n",
    )
    report = run_job(import_products(catalog, csv_file))
    assert report.imported == 3
    assert catalog.product_by_sku("D-RED").item_group_id == "DRESS-7"
    assert catalog.product_by_sku("TEE").item_group_id == ""
    assert "item_group_id" not in catalog.product_by_sku("D-RED").attributes  # a known column, not a free one
    assert catalog.group_skus("DRESS-7") == ["D-BLUE", "D-RED"]
    assert catalog.group_skus("") == []

    jsonl = _write(
        tmp_path / "products.jsonl",
        '{"sku": "D-GREEN", "title": "Green dress", "category": "dresses", "item_group_id": "DRESS-7"}\n'
        '{"sku": "CAP", "title": "Cap", "category": "caps", "item_group_id": 104}\n'
        '{"sku": "TEE", "title": "Tee", "category": "tees", "item_group_id": ""}\n',
    )
    run_job(import_products(catalog, jsonl))
    assert catalog.group_skus("DRESS-7") == ["D-BLUE", "D-GREEN", "D-RED"]
    assert catalog.product_by_sku("CAP").item_group_id == "104"  # feeds often number their groups
    assert catalog.product_by_sku("TEE").item_group_id == ""


def test_a_file_without_the_column_keeps_the_groups_it_does_not_mention(tmp_path: Path) -> None:
    catalog = Catalog.create(tmp_path / "catalog")
    run_job(import_products(catalog, _write(tmp_path / "a.csv", "sku,title,category,item_group_id\nD1,Dress,d,G1\n")))
    # a price update from another system knows nothing of groups: the group stays, the price changes
    update = _write(tmp_path / "b.csv", "sku,title,category,price\nD1,Dress,d,30\nD2,New,d,5\n")
    run_job(import_products(catalog, update))
    assert (catalog.product_by_sku("D1").item_group_id, catalog.product_by_sku("D1").price) == ("G1", 30.0)
    assert catalog.product_by_sku("D2").item_group_id == ""  # new, and the file gave no group
    # the column present but empty takes the product out of its group
    run_job(import_products(catalog, _write(tmp_path / "c.csv", "sku,title,category,item_group_id\nD1,Dress,d,\n")))
    assert catalog.product_by_sku("D1").item_group_id == ""
    # the API the same way: None keeps, "" clears
    catalog.upsert_products([ProductRecord("D2", "New", "d", item_group_id="G2")])
    catalog.upsert_products([ProductRecord("D2", "New", "d")])
    assert catalog.product_by_sku("D2").item_group_id == "G2"


def test_a_group_id_with_a_line_break_is_a_bad_row_and_nothing_is_written(tmp_path: Path) -> None:
    catalog = Catalog.create(tmp_path / "catalog")
    jsonl = _write(
        tmp_path / "products.jsonl",
        '{"sku": "A", "title": "A", "category": "c", "item_group_id": "G1"}\n'
        '{"sku": "B", "title": "B", "category": "c", "item_group_id": "two\\nlines"}\n'
        '{"sku": "C", "title": "C", "category": "c", "item_group_id": ["G1"]}\n',
    )
    with pytest.raises(ImportFailed) as failed:
        run_job(import_products(catalog, jsonl))
    message = str(failed.value)
    assert "row 2, column item_group_id" in message and "not a usable group id" in message
    assert "row 3, column item_group_id" in message and "not a group id" in message
    assert catalog.counts().products == 0


def test_products_show_names_the_group_and_its_other_members(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    build_feature_catalog(tmp_path / "catalog", PRODUCTS).close()
    assert main(["--catalog", str(tmp_path / "catalog"), "products", "show", "D2-RED"]) == 0
    assert "group      D2 (also D2-NAVY)" in capsys.readouterr().out
    assert main(["--catalog", str(tmp_path / "catalog"), "products", "show", "TEE-NAVY", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["item_group_id"] == ""


# -- migration --------------------------------------------------------------------------------------------------


def test_a_v6_catalog_is_migrated_with_every_product_in_no_group(tmp_path: Path) -> None:
    folder = tmp_path / "old"
    folder.mkdir()
    db_path = folder / "catalog.sqlite"
    import sqlite_utils

    old = sqlite_utils.Database(sqlite3.connect(db_path))
    for version, step in enumerate(catalog_schema.MIGRATIONS[:6], start=1):
        step(old)
        old.execute(f"PRAGMA user_version = {version}")
    old.execute(
        "INSERT INTO products (sku, title, category, created_at, updated_at) VALUES ('OLD-1', 'Old', 'tees', 'x', 'x')"
    )
    old.conn.commit()
    old.conn.close()

    with Catalog.open(folder) as catalog:
        assert catalog.schema_version == LATEST_VERSION
        assert catalog.product_by_sku("OLD-1").item_group_id == ""
        indexes = {row[1] for row in catalog.db.execute("PRAGMA index_list(products)")}
        assert "idx_products_item_group" in indexes
        catalog.upsert_products([ProductRecord("OLD-1", "Old", "tees", item_group_id="G")])
        assert catalog.group_skus("G") == ["OLD-1"]


# -- the index and Similar --------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    return build_feature_catalog(tmp_path_factory.mktemp("groups") / "catalog", PRODUCTS)


def test_index_group_codes_and_group_rows(catalog: Catalog) -> None:
    index = INDEX_CACHE.get(catalog)
    assert index.group_codes.shape == (len(PRODUCTS),) and index.group_codes.dtype == np.int32
    assert index.group_names == ["D1", "D2"]
    codes = {sku: int(index.group_codes[index.row(sku)]) for sku in index.skus}
    assert codes["TEE-NAVY"] == -1
    assert codes["D1-NAVY"] == codes["D1-RED"] == codes["D1-BLACK"] == codes["D1-ROYAL"] != codes["D2-RED"]
    members = [index.skus[r] for r in index.group_rows(index.row("D1-RED"))]
    assert sorted(members) == ["D1-BLACK", "D1-NAVY", "D1-RED", "D1-ROYAL"]
    assert [index.skus[r] for r in index.group_rows(index.row("TEE-NAVY"))] == ["TEE-NAVY"]
    marked = index.shares_group([index.row("D2-RED"), index.row("TEE-NAVY")])
    assert sorted(index.skus[r] for r in np.flatnonzero(marked)) == ["D2-NAVY", "D2-RED"]
    assert not index.shares_group([index.row("TEE-NAVY")]).any()


def test_same_product_other_colours_come_closest_colour_first(catalog: Catalog) -> None:
    index = INDEX_CACHE.get(catalog)
    others = same_group_products(index, "D1-NAVY")
    assert [o.sku for o in others] == ["D1-ROYAL", "D1-BLACK", "D1-RED"]
    assert [o.score for o in others] == sorted((o.score for o in others), reverse=True)
    assert all(o.score == o.components["colour"] for o in others)
    # the navy tee matches the navy dress's colour exactly but is another product: not a variant
    assert "TEE-NAVY" not in {o.sku for o in others}
    assert [o.sku for o in same_group_products(index, "D2-RED")] == ["D2-NAVY"]
    assert same_group_products(index, "TEE-NAVY") == []
    assert [o.sku for o in same_group_products(index, "D1-NAVY", k=1)] == ["D1-ROYAL"]


def test_similar_answer_carries_the_group_with_tiles(catalog: Catalog) -> None:
    navy = catalog.product_by_sku("D1-NAVY")
    answer = similar_to_product(catalog, navy.id, by="visual", k=3)
    assert [o.sku for o in answer.same_group] == ["D1-ROYAL", "D1-BLACK", "D1-RED"]
    assert all(answer.tile(o.product_id) is not None for o in answer.same_group)
    tee = catalog.product_by_sku("TEE-NAVY")
    assert similar_to_product(catalog, tee.id, k=3).same_group == ()


def test_cli_similar_same_group(catalog: Catalog, capsys: pytest.CaptureFixture) -> None:
    folder = str(catalog.folder)
    assert main(["--catalog", folder, "similar", "--sku", "D1-NAVY", "--same-group", "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["item_group_id"] == "D1"
    assert [i["sku"] for i in result["items"]] == ["D1-ROYAL", "D1-BLACK", "D1-RED"]
    assert main(["--catalog", folder, "similar", "--sku", "D1-NAVY", "--same-group"]) == 0
    out = capsys.readouterr().out
    assert "Same product, other colours (group D1)" in out and out.index("D1-ROYAL") < out.index("D1-RED")
    assert main(["--catalog", folder, "similar", "--sku", "TEE-NAVY", "--same-group"]) == 0
    assert "in no product group" in capsys.readouterr().out
    assert main(["--catalog", folder, "similar", "--sku", "D2-RED", "--k", "3"]) == 0
    assert "Same product, other colours: D2-NAVY" in capsys.readouterr().out

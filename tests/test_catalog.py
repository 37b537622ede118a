"""The catalog API: schema, upserts, transactions, reads."""

from __future__ import annotations

import gc
import sqlite3
import threading
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from stylerec_desktop.core.catalog import (
    LATEST_VERSION,
    Catalog,
    CustomerRecord,
    EventRecord,
    ImageInfo,
    ProductRecord,
)
from stylerec_desktop.core.errors import CatalogError, NotFound, UserError


def _image(folder: Path, name: str) -> ImageInfo:
    return ImageInfo(folder / name, name.encode().hex().ljust(64, "0")[:64], 640, 480)


def _seed(catalog: Catalog) -> None:
    folder = catalog.folder
    catalog.upsert_products(
        [
            ProductRecord("TEE-1", "Striped Tee", "tees", price=19.5, tags=("stripes",),
                          images=(_image(folder, "a.jpg"), _image(folder, "b.jpg"))),
            ProductRecord("MUG-1", "Dotty Mug", "mugs", brand="Kiln & Co", price=12.0, in_stock=False),
            ProductRecord("TOTE-1", "100% Cotton_Tote", "totes", attributes={"pattern": "solid"}),
        ]
    )  # fmt: skip
    catalog.upsert_customers([CustomerRecord("C1", "Ann"), CustomerRecord("C2", "Bo", email="bo@example.com")])
    t0 = datetime(2026, 3, 1, 12, tzinfo=UTC)
    catalog.add_events(
        [
            EventRecord("C1", "TEE-1", "view", t0),
            EventRecord("C1", "TEE-1", "purchase", t0 + timedelta(hours=1), quantity=2),
            EventRecord("C1", "MUG-1", "like", t0 + timedelta(days=1)),
            EventRecord("C2", "MUG-1", "view", t0),
        ]
    )


@pytest.fixture
def catalog(tmp_path: Path):
    with Catalog.create(tmp_path / "cat") as cat:
        _seed(cat)
        yield cat


def _dump(catalog: Catalog) -> list:
    db = catalog.db
    return [
        db.execute(f"SELECT * FROM {t} ORDER BY id").fetchall()
        for t in ("products", "product_images", "customers", "events")
    ]


def _without_updated_at(product_row: tuple) -> tuple:
    return product_row[:11] + product_row[12:]  # column 11 of products is updated_at


def test_new_catalog_is_at_latest_schema_in_wal_mode(tmp_path: Path) -> None:
    with Catalog.create(tmp_path / "new") as cat:
        assert cat.schema_version == LATEST_VERSION
        assert cat.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert cat.thumbnails_dir.is_dir() and cat.renders_dir.is_dir()
        assert cat.counts().products == 0


def test_open_missing_catalog_says_how_to_create_one(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="stylerec .*init"):
        Catalog.open(tmp_path / "nowhere")


def test_catalog_from_a_newer_app_is_refused(tmp_path: Path) -> None:
    Catalog.create(tmp_path / "c").close()
    conn = sqlite3.connect(tmp_path / "c" / "catalog.sqlite")
    conn.execute(f"PRAGMA user_version = {LATEST_VERSION + 1}")
    conn.close()
    with pytest.raises(CatalogError, match="newer StyleRec"):
        Catalog.open(tmp_path / "c")


def test_a_file_that_is_not_a_database_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / "catalog.sqlite").write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(CatalogError, match="not a readable StyleRec catalog"):
        Catalog.open(tmp_path / "c")


def test_upserts_are_idempotent(catalog: Catalog) -> None:
    before = _dump(catalog)
    _seed(catalog)
    after = _dump(catalog)
    # updated_at changes on re-import; everything else is identical
    strip = [[_without_updated_at(row) for row in after[0]], *after[1:]]
    assert strip == [[_without_updated_at(row) for row in before[0]], *before[1:]]
    assert catalog.counts().events == 4


def test_product_fields_round_trip(catalog: Catalog) -> None:
    tee = catalog.product_by_sku("TEE-1")
    assert (tee.title, tee.category, tee.price, tee.tags) == ("Striped Tee", "tees", 19.5, ("stripes",))
    assert [i.path.name for i in tee.images] == ["a.jpg", "b.jpg"]
    assert tee.primary_image is not None and tee.primary_image.path.name == "a.jpg"
    mug = catalog.product_by_sku("MUG-1")
    assert mug.in_stock is False and mug.brand == "Kiln & Co" and mug.images == ()
    assert catalog.product_by_sku("TOTE-1").attributes == {"pattern": "solid"}


def test_images_are_replaced_by_a_new_list_and_kept_when_none_given(catalog: Catalog) -> None:
    folder = catalog.folder
    catalog.upsert_products([ProductRecord("TEE-1", "Striped Tee", "tees", images=(_image(folder, "c.jpg"),))])
    assert [i.path.name for i in catalog.product_by_sku("TEE-1").images] == ["c.jpg"]
    catalog.upsert_products([ProductRecord("TEE-1", "Striped Tee v2", "tees", price=21.0)])
    tee = catalog.product_by_sku("TEE-1")
    assert tee.title == "Striped Tee v2" and [i.path.name for i in tee.images] == ["c.jpg"]


def test_paths_inside_the_catalog_are_stored_relative(catalog: Catalog, tmp_path: Path) -> None:
    stored = catalog.db.execute("SELECT path FROM product_images ORDER BY id").fetchall()
    assert stored == [("a.jpg",), ("b.jpg",)]
    outside = _image(tmp_path, "outside.jpg")
    catalog.upsert_products([ProductRecord("X-1", "X", "misc", images=(outside,))])
    assert catalog.product_by_sku("X-1").images[0].path == outside.path


def test_a_failed_transaction_leaves_the_catalog_exactly_as_it_was(catalog: Catalog) -> None:
    before = _dump(catalog)
    with pytest.raises(RuntimeError), catalog.transaction():
        catalog.upsert_customers([CustomerRecord("C9", "Nine")])
        catalog.upsert_products([ProductRecord("NEW-1", "New", "tees")])
        raise RuntimeError("power cut")
    assert _dump(catalog) == before


def test_events_with_unknown_keys_write_nothing(catalog: Catalog) -> None:
    before = _dump(catalog)
    now = datetime(2026, 4, 1, tzinfo=UTC)
    with pytest.raises(NotFound, match="NOPE"):
        catalog.add_events([EventRecord("C2", "TEE-1", "like", now), EventRecord("C2", "NOPE", "like", now)])
    with pytest.raises(NotFound, match="C404"):
        catalog.add_events([EventRecord("C404", "TEE-1", "like", now)])
    assert _dump(catalog) == before


def test_timestamps_are_stored_in_utc(catalog: Catalog) -> None:
    plus2 = timezone(timedelta(hours=2))
    catalog.add_events([EventRecord("C2", "TEE-1", "cart", datetime(2026, 5, 1, 14, tzinfo=plus2))])
    newest = catalog.customer_history("C2")[0]
    assert newest.kind == "cart" and newest.ts == datetime(2026, 5, 1, 12, tzinfo=UTC)


def test_history_is_newest_first_with_product_data(catalog: Catalog) -> None:
    history = catalog.customer_history("C1")
    assert [(h.kind, h.sku) for h in history] == [("like", "MUG-1"), ("purchase", "TEE-1"), ("view", "TEE-1")]
    assert history[1].quantity == 2 and history[1].image_path is not None
    assert catalog.customer_history("C1", limit=1)[0].sku == "MUG-1"
    with pytest.raises(NotFound):
        catalog.customer_history("nobody")


def test_search_matches_words_anywhere_and_escapes_wildcards(catalog: Catalog) -> None:
    def skus(text: str, category: str | None = None) -> list[str]:
        tiles = catalog.product_tiles(catalog.search_product_ids(text, category))
        return sorted(t.sku for t in tiles.values())

    assert skus("") == ["MUG-1", "TEE-1", "TOTE-1"]
    assert skus("tee") == ["TEE-1"]
    assert skus("kiln") == ["MUG-1"]  # brand
    assert skus("STRIPES") == ["TEE-1"]  # tags, any case
    assert skus("100%") == ["TOTE-1"] and skus("cotton_") == ["TOTE-1"]
    assert skus("1%") == [] and skus("_x") == [] and skus("n_t") == ["TOTE-1"]  # % and _ are literal, not wildcards
    assert skus("", "mugs") == ["MUG-1"]
    assert skus("tee", "mugs") == []


def test_ids_come_back_ordered_by_title(catalog: Catalog) -> None:
    titles = [catalog.product(i).title for i in catalog.search_product_ids()]
    assert titles == sorted(titles, key=str.lower)


def test_customers_are_searchable_and_carry_event_counts(catalog: Catalog) -> None:
    assert [(c.customer_id, c.event_count) for c in catalog.customers()] == [("C1", 3), ("C2", 1)]
    assert [c.customer_id for c in catalog.customers("example.com")] == ["C2"]
    assert catalog.customer("C2").email == "bo@example.com"


def test_customers_sort_by_name_activity_and_last_event(catalog: Catalog) -> None:
    catalog.upsert_customers([CustomerRecord("C0", "cy"), CustomerRecord("C3", "")])
    catalog.add_events([EventRecord("C2", "TEE-1", "view", datetime(2027, 1, 1, tzinfo=UTC))])

    def order(by: str) -> list[str]:
        return [c.customer_id for c in catalog.customers(order=by)]

    assert order("id") == ["C0", "C1", "C2", "C3"]
    assert order("name") == ["C1", "C2", "C0", "C3"]  # Ann, Bo, cy (case aside), then the one with no name
    assert order("activity") == ["C1", "C2", "C0", "C3"]  # 3 events, 2, then none (by id)
    assert order("recent") == ["C2", "C1", "C0", "C3"]  # C2's event of 2027 is the newest; no events last
    assert catalog.customer("C2").last_event == datetime(2027, 1, 1, tzinfo=UTC)
    assert catalog.customer("C3").last_event is None
    with pytest.raises(UserError, match="sorted by id, name, activity, recent"):
        catalog.customers(order="age")


def test_categories_with_counts(catalog: Catalog) -> None:
    assert catalog.categories() == [("mugs", 1), ("tees", 1), ("totes", 1)]


def test_each_thread_reads_on_its_own_connection_while_another_writes(catalog: Catalog) -> None:
    seen: list[int] = []
    errors: list[BaseException] = []

    def reader() -> None:
        try:
            for _ in range(20):
                seen.append(catalog.counts().products)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=reader) for _ in range(3)]
    for t in threads:
        t.start()
    catalog.upsert_products([ProductRecord(f"N-{i}", f"N {i}", "tees") for i in range(200)])
    for t in threads:
        t.join()
    assert errors == []
    assert set(seen) <= {3, 203} and len(seen) == 60
    assert catalog.counts().products == 203


def test_closing_never_pulls_a_connection_from_under_another_threads_query(catalog: Catalog) -> None:
    """close() on one thread while a worker is halfway through reading rows (a job the app stops at quit, a test's
    clean-up): the worker finishes its query on its own connection, which is closed once it lets go; an idle
    thread gets a fresh connection at its next use, and its old one goes. (Closing a connection under a running
    query crashed the process.)"""
    halfway, closed, release = threading.Event(), threading.Event(), threading.Event()
    got: list[int] = []
    errors: list[BaseException] = []

    def reader() -> None:
        try:
            rows = catalog.db.execute(
                "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000) SELECT i FROM n"
            )
            got.append(next(rows)[0])
            halfway.set()
            closed.wait(10)
            got.extend(row[0] for row in rows)
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    idle_counts: list[int] = []

    def idle() -> None:
        catalog.counts()
        halfway.set()
        release.wait(10)
        idle_counts.append(catalog.counts().products)  # after the close: on a new connection

    idler = threading.Thread(target=idle)
    idler.start()
    assert halfway.wait(10)
    halfway.clear()
    worker = threading.Thread(target=reader)
    worker.start()
    assert halfway.wait(10)
    assert catalog.open_connections() == 3  # this thread's (the fixture wrote), the idle thread's, the reader's
    catalog.close()
    gc.collect()
    assert catalog.open_connections() == 2  # the reader's, held by its half-read rows, and the idle thread's
    closed.set()
    worker.join(10)
    assert errors == [] and got == list(range(1, 5001))
    gc.collect()
    assert catalog.open_connections() == 1  # the reader let go of its connection as it ended
    release.set()
    idler.join(10)
    assert idle_counts == [3]
    gc.collect()
    assert catalog.open_connections() == 0


def test_a_write_begun_before_another_thread_closes_the_catalog_commits_on_its_own_connection(catalog: Catalog) -> None:
    """A write job inside its transaction when the catalog is closed elsewhere (a quit that did not wait for it):
    the transaction's later statements stay on its connection, so they neither wait on its own lock nor miss its
    own writes, and it commits whole."""
    inside, closed = threading.Event(), threading.Event()
    errors: list[BaseException] = []
    seen: list[int] = []

    def writer() -> None:
        try:
            with catalog.transaction():
                catalog.upsert_products([ProductRecord("TX-1", "First", "tees")])
                inside.set()
                closed.wait(10)
                catalog.upsert_products([ProductRecord("TX-2", "Second", "tees")])
                seen.append(catalog.counts().products)  # its own writes, not yet committed
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    thread = threading.Thread(target=writer)
    thread.start()
    assert inside.wait(10)
    catalog.close()
    closed.set()
    thread.join(30)
    assert errors == [] and seen == [5]
    assert {"TX-1", "TX-2"} <= {p.sku for p in catalog.products()}  # committed, read on a new connection


def test_closing_with_the_other_threads_idle_closes_every_connection_and_folds_the_log_back(catalog: Catalog) -> None:
    """At quit the app's workers have stopped: close(others_idle=True) closes their connections too, at once, and
    the last one to close folds the write-ahead log into the database (no -wal file is left)."""
    catalog.upsert_products([ProductRecord("WAL-1", "Logged", "tees")])
    readers = [threading.Thread(target=catalog.counts) for _ in range(2)]
    for t in readers:
        t.start()
    for t in readers:
        t.join()
    wal = catalog.db_path.with_name(catalog.db_path.name + "-wal")
    assert wal.exists() and catalog.open_connections() == 3
    catalog.close(others_idle=True)
    assert catalog.open_connections() == 0 and not wal.exists()


def test_update_product_writes_the_fields_and_returns_what_undoes_it(catalog: Catalog) -> None:
    tee = catalog.product_by_sku("TEE-1")
    tags = ["stripes", " navy ", "", "navy"]
    before = catalog.update_product(tee.id, title=" Striped Tee II ", category="tops", price=24.499, stock=0, tags=tags)
    assert before == {
        "title": "Striped Tee", "category": "tees", "price": 19.5, "stock": None, "in_stock": True,
        "tags": ("stripes",),
    }  # fmt: skip
    edited = catalog.product(tee.id)
    assert (edited.title, edited.category, edited.price) == ("Striped Tee II", "tops", 24.499)  # as given
    assert edited.tags == ("stripes", "navy")
    assert edited.stock == 0 and edited.in_stock is False  # a count of 0 is out of stock
    assert catalog.search_product_ids("navy") == [tee.id]
    assert catalog.categories() == [("mugs", 1), ("tops", 1), ("totes", 1)]
    # Passing the previous values back restores the product exactly, images and untouched fields included.
    assert catalog.update_product(tee.id, **before)["stock"] == 0
    assert catalog.product(tee.id) == tee


def test_update_product_refuses_bad_values_and_writes_nothing(catalog: Catalog) -> None:
    mug = catalog.product_by_sku("MUG-1")
    before = _dump(catalog)
    for bad, message in (
        ({"title": "   "}, "needs a title"),
        ({"price": -0.01}, "cannot be negative"),
        ({"price": float("nan")}, "not a price"),
        ({"stock": -1}, "cannot be negative"),
        ({"stock": 2.5}, "whole number"),
        ({"price": 5.0, "title": ""}, "needs a title"),  # one bad field: none of them is written
    ):
        with pytest.raises(UserError, match=message):
            catalog.update_product(mug.id, **bad)
    with pytest.raises(NotFound):
        catalog.update_product(9999, price=1.0)
    with pytest.raises(TypeError, match="sku"):
        catalog.update_product(mug.id, sku="NEW")
    assert _dump(catalog) == before
    assert catalog.update_product(mug.id, price=None) == {"price": 12.0}  # no price is allowed
    assert catalog.product(mug.id).price is None


def test_an_import_that_contradicts_a_counted_stock_forgets_the_count(catalog: Catalog) -> None:
    tee = catalog.product_by_sku("TEE-1")
    catalog.update_product(tee.id, stock=7)
    catalog.upsert_products([ProductRecord("TEE-1", "Striped Tee", "tees", in_stock=True)])
    assert catalog.product(tee.id).stock == 7  # still in stock: the count stands
    catalog.upsert_products([ProductRecord("TEE-1", "Striped Tee", "tees", in_stock=False)])
    assert (catalog.product(tee.id).stock, catalog.product(tee.id).in_stock) == (None, False)


def test_revisions_move_with_every_change_to_their_table(catalog: Catalog) -> None:
    """Caches over the catalog (the recommender's index) compare these instead of counting rows."""
    from stylerec_desktop.core.catalog import ImageFeatureBlobs

    start = catalog.revisions()
    assert set(start) == {"products", "events", "image_features"}
    tee = catalog.product_by_sku("TEE-1")
    catalog.update_product(tee.id, price=21.0)
    after_edit = catalog.revisions()
    assert after_edit["products"] > start["products"]
    assert (after_edit["events"], after_edit["image_features"]) == (start["events"], start["image_features"])
    catalog.add_events([EventRecord("C1", "MUG-1", "cart", datetime(2026, 3, 1, tzinfo=UTC))])
    assert catalog.revisions()["events"] > after_edit["events"]
    assert tee.primary_image is not None
    blob = ImageFeatureBlobs(tee.primary_image.sha256, "test", b"s", b"v", b"p", b"t")
    catalog.store_image_features([blob])
    assert catalog.revisions()["image_features"] > after_edit["image_features"]
    before = catalog.revisions()["products"]
    catalog.update_product(tee.id, price=21.0)  # a write that changes nothing still moves it: cheap and safe
    assert catalog.revisions()["products"] > before
    with Catalog.open(catalog.folder) as other:  # another connection (another process) sees the same numbers
        assert other.revisions() == catalog.revisions()

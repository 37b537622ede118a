"""A catalog the user may only read (issue 15 item 5): `info` and `products list` work, writing says it is
read-only and changes nothing.

Tests run as root, for whom chmod denies nothing. Two honest ways instead: the catalog opened with an explicit
read-only flag (SQLite's ``mode=ro``, which refuses writes whoever runs it), and the real thing, a database file and
folder made immutable with ``chattr +i`` (refused even to root; skipped where the file system or the user cannot
set the flag)."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from stylerec_desktop.cli import main
from stylerec_desktop.core.catalog import Catalog, CustomerRecord, ProductRecord
from stylerec_desktop.core.errors import CatalogReadOnly


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    folder = tmp_path / "catalog"
    with Catalog.create(folder) as catalog:
        catalog.upsert_products([ProductRecord("RO-1", "Café Mug", "home", tags=("café",)),
                                 ProductRecord("RO-2", "Linen Dress", "women")])  # fmt: skip
        catalog.upsert_customers([CustomerRecord("C1", "Ann", "ann@example.com")])
    return folder


def test_an_explicitly_read_only_catalog_reads_and_refuses_writes(folder: Path) -> None:
    before = _digest(folder / "catalog.sqlite")
    with Catalog.open(folder, read_only=True) as catalog:
        assert catalog.read_only
        assert catalog.counts().products == 2
        assert [catalog.product(i).sku for i in catalog.search_product_ids("cafe")] == ["RO-1"]
        with pytest.raises(CatalogReadOnly, match="read-only"):
            catalog.upsert_products([ProductRecord("RO-3", "New", "home")])
        with pytest.raises(CatalogReadOnly, match="read-only"):
            catalog.update_product(catalog.product_by_sku("RO-1").id, title="Changed")
        # Even a write that bypassed the catalog's API is refused by SQLite itself.
        with pytest.raises(Exception, match="readonly|read-only"):
            catalog.db.execute("UPDATE products SET title = 'x'")
    assert _digest(folder / "catalog.sqlite") == before
    with Catalog.open(folder) as catalog:
        assert not catalog.read_only and catalog.product_by_sku("RO-1").title == "Café Mug"


@pytest.fixture
def immutable(folder: Path) -> Iterator[Path]:
    """The catalog folder and its database made immutable (chattr +i): even root may not write them."""
    targets = [folder / "catalog.sqlite", folder]
    for extra in ("catalog.sqlite-wal", "catalog.sqlite-shm"):
        assert not (folder / extra).exists()  # closed cleanly: SQLite removed them
    if shutil.which("chattr") is None:
        pytest.skip("chattr is not installed")
    done = []
    try:
        for target in targets:
            result = subprocess.run(["chattr", "+i", str(target)], capture_output=True, text=True)
            if result.returncode != 0:
                pytest.skip(f"chattr +i is not allowed here: {result.stderr.strip()}")
            done.append(target)
        yield folder
    finally:
        for target in done:
            subprocess.run(["chattr", "-i", str(target)], check=True)


def test_a_catalog_the_user_may_not_write_opens_read_only(
    immutable: Path, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    with pytest.raises(PermissionError):  # the premise: this user really cannot write there
        (immutable / "probe").write_text("x")
    assert main(["--catalog", str(immutable), "info", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["read_only"] is True and info["counts"]["products"] == 2
    assert main(["--catalog", str(immutable), "info"]) == 0
    assert "read-only" in capsys.readouterr().out
    assert main(["--catalog", str(immutable), "products", "list", "--search", "cafe", "--json"]) == 0
    assert [p["sku"] for p in json.loads(capsys.readouterr().out)] == ["RO-1"]
    csv = tmp_path / "more.csv"
    csv.write_text("sku,title,category\nRO-9,Scarf,women\n")
    assert main(["--catalog", str(immutable), "import", "products", str(csv)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("stylerec: error: ") and "read-only" in err and "Restore it from a backup" not in err
    assert sorted(p.name for p in immutable.iterdir()) == ["catalog.sqlite", "renders", "thumbnails"]


def test_thumbnails_of_a_read_only_catalog_go_to_the_user_cache(immutable: Path) -> None:
    from PIL import Image

    from stylerec_desktop.core.thumbnail_cache import ensure_thumbnail

    picture = immutable.parent / "picture.png"
    Image.new("RGB", (64, 48), (200, 10, 10)).save(picture)
    with Catalog.open(immutable) as catalog:
        assert catalog.read_only and not catalog.thumbnails_dir.is_relative_to(immutable)
        thumb = ensure_thumbnail(catalog.thumbnails_dir, picture, "a" * 64, size=32)
    with Image.open(thumb) as made:
        assert max(made.size) == 32

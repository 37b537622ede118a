"""The `stylerec` command as scripts use it: exit codes, stderr lines, JSON output."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from stylerec_desktop.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def files(tmp_path: Path) -> Path:
    """A tiny import set: 3 products with images, 2 customers, 4 events."""
    folder = tmp_path / "src"
    (folder / "img").mkdir(parents=True)
    for i, colour in enumerate(["navy", "tomato", "gold"]):
        Image.new("RGB", (64, 48), colour).save(folder / "img" / f"p{i}.png")
    (folder / "products.csv").write_text(
        "sku,title,category,price,tags,image,pattern\n"
        "TEE-1,Navy Tee,tees,19.99,navy;plain,img/p0.png,solid\n"
        "MUG-1,Tomato Mug,mugs,9.50,,img/p1.png,solid\n"
        "TOTE-1,Gold Tote,totes,,gold,img/p2.png,dots\n",
        encoding="utf-8",
    )
    (folder / "customers.csv").write_text(
        "customer_id,name,email,country\nC1,Ann Lee,ann@example.com,DE\nC2,Bo Kim,,US\n", encoding="utf-8"
    )
    (folder / "events.csv").write_text(
        "customer_id,sku,kind,timestamp,quantity\n"
        "C1,TEE-1,view,2026-03-01T10:00:00Z,1\n"
        "C1,TEE-1,purchase,2026-03-01T10:05:00Z,2\n"
        "C1,MUG-1,like,2026-03-02T09:00:00+02:00,\n"
        "C2,TOTE-1,cart,2026-03-03,1\n",
        encoding="utf-8",
    )
    return folder


@pytest.fixture
def catalog_dir(tmp_path: Path, files: Path, capsys: pytest.CaptureFixture[str]) -> str:
    cat = str(tmp_path / "cat")
    assert run(capsys, "--catalog", cat, "init")[0] == 0
    for kind in ("products", "customers", "events"):
        code, _, err = run(capsys, "--catalog", cat, "import", kind, str(files / f"{kind}.csv"))
        assert code == 0, err
    return cat


def test_init_creates_and_info_reports(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    cat = str(tmp_path / "new")
    code, out, _ = run(capsys, "--catalog", cat, "init")
    assert code == 0 and "Created catalog" in out
    code, out, _ = run(capsys, "--catalog", cat, "info", "--json")
    info = json.loads(out)
    assert info["schema_version"] >= 1 and info["counts"]["products"] == 0
    assert Path(info["database"]).is_file()


def test_imports_land_and_show_up_in_listings(capsys: pytest.CaptureFixture[str], catalog_dir: str) -> None:
    code, out, _ = run(capsys, "--catalog", catalog_dir, "info", "--json")
    counts = json.loads(out)["counts"]
    assert counts == {"products": 3, "images": 3, "customers": 2, "events": 4, "categories": 3}

    code, out, _ = run(capsys, "--catalog", catalog_dir, "products", "list", "--json")
    assert code == 0
    assert [p["sku"] for p in json.loads(out)] == ["MUG-1", "TEE-1", "TOTE-1"]

    code, out, _ = run(capsys, "--catalog", catalog_dir, "products", "show", "TEE-1", "--json")
    tee = json.loads(out)
    assert tee["price"] == 19.99 and tee["tags"] == ["navy", "plain"] and tee["attributes"] == {"pattern": "solid"}
    assert Path(tee["primary_image"]).name == "p0.png"

    code, out, _ = run(capsys, "--catalog", catalog_dir, "customers", "show", "C1", "--json")
    shown = json.loads(out)
    assert shown["customer"]["name"] == "Ann Lee"
    assert [(h["kind"], h["sku"], h["ts"]) for h in shown["history"]] == [
        ("like", "MUG-1", "2026-03-02T07:00:00Z"),
        ("purchase", "TEE-1", "2026-03-01T10:05:00Z"),
        ("view", "TEE-1", "2026-03-01T10:00:00Z"),
    ]


def test_human_output_is_a_readable_table(capsys: pytest.CaptureFixture[str], catalog_dir: str) -> None:
    code, out, _ = run(capsys, "--catalog", catalog_dir, "products", "list", "--category", "tees")
    lines = out.splitlines()
    assert code == 0 and lines[0].split() == ["SKU", "TITLE", "CATEGORY", "PRICE", "IN", "STOCK"]
    assert "TEE-1" in lines[1] and "19.99 USD" in lines[1] and len(lines) == 2
    code, out, _ = run(capsys, "--catalog", catalog_dir, "customers", "list")
    assert "Ann Lee" in out and "Bo Kim" in out


def test_reimport_is_idempotent(capsys: pytest.CaptureFixture[str], catalog_dir: str, files: Path) -> None:
    for kind in ("products", "customers", "events"):
        assert run(capsys, "--catalog", catalog_dir, "import", kind, str(files / f"{kind}.csv"))[0] == 0
    code, out, _ = run(capsys, "--catalog", catalog_dir, "info", "--json")
    assert json.loads(out)["counts"]["events"] == 4 and json.loads(out)["counts"]["products"] == 3


def test_a_bad_file_exits_2_lists_each_bad_row_and_imports_nothing(
    capsys: pytest.CaptureFixture[str], catalog_dir: str, files: Path
) -> None:
    bad = files / "more.csv"
    bad.write_text(
        "sku,title,category,price,image\nNEW-1,Fine,tees,5,\nNEW-2,Broken,tees,abc,\n,No sku,tees,1,\n",
        encoding="utf-8",
    )
    code, _, err = run(capsys, "--catalog", catalog_dir, "import", "products", str(bad))
    assert code == 2
    lines = err.splitlines()
    assert lines[0].startswith("stylerec: error:")
    assert any("row 3" in line and "price" in line for line in lines[1:])
    assert any("row 4" in line and "sku" in line for line in lines[1:])
    code, out, _ = run(capsys, "--catalog", catalog_dir, "products", "list", "--json")
    assert "NEW-1" not in out

    code, out, _ = run(capsys, "--catalog", catalog_dir, "import", "products", str(bad), "--skip-bad", "--json")
    report = json.loads(out)["report"]
    assert code == 0 and report["imported"] == 1 and len(report["errors"]) == 2
    assert (files / "more.rejects.csv").is_file()


@pytest.mark.parametrize(
    ("argv", "needle"),
    [
        (["products", "show", "NOPE-1"], "NOPE-1"),
        (["customers", "show", "C404"], "C404"),
        (["import", "products", "/no/such/file.csv"], "file.csv"),
    ],
)
def test_user_errors_are_one_line_on_stderr_with_exit_2(
    capsys: pytest.CaptureFixture[str], catalog_dir: str, argv: list[str], needle: str
) -> None:
    code, out, err = run(capsys, "--catalog", catalog_dir, *argv)
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and err.startswith("stylerec: error:") and needle in err


def test_missing_catalog_says_how_to_make_one(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "--catalog", str(tmp_path / "none"), "info")
    assert code == 2 and "stylerec --catalog" in err and "init" in err


def test_console_script_is_installed_and_exits_2(tmp_path: Path) -> None:
    exe = shutil.which("stylerec", path=str(Path(sys.executable).parent))
    assert exe is not None
    result = subprocess.run([exe, "--catalog", str(tmp_path / "x"), "info"], capture_output=True, text=True)
    assert result.returncode == 2 and "No catalog" in result.stderr


def test_demo_builds_a_small_catalog_and_refuses_a_full_one(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, catalog_dir: str
) -> None:
    cat = str(tmp_path / "demo")
    code, out, err = run(capsys, "--catalog", cat, "demo", "--products", "14", "--customers", "4", "--json")
    assert code == 0, err
    counts = json.loads(out)["counts"]
    assert counts["products"] == 14 and counts["customers"] == 4 and counts["events"] > 0
    code, _, err = run(capsys, "--catalog", catalog_dir, "demo")
    assert code == 2 and "already has 3 products" in err

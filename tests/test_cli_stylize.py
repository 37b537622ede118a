"""`stylerec stylize` and `stylerec models` as scripts use them: files and skus in, one PNG (+ recipe) per input
and style out at the input's size, a contact sheet for several, renders recorded in the catalog, exit code 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from stylerec_desktop.cli import main
from stylerec_desktop.core.catalog import Catalog
from stylerec_desktop.core.stylize.samples import painting, product_shot


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def pictures(tmp_path: Path) -> Path:
    folder = tmp_path / "pictures"
    folder.mkdir()
    product_shot((180, 120), seed=1).save(folder / "bag.png")
    product_shot(128, seed=2).save(folder / "tote.jpg", quality=92)
    painting(128).save(folder / "painting.png")
    return folder


@pytest.fixture
def catalog_dir(tmp_path: Path, pictures: Path, capsys: pytest.CaptureFixture[str]) -> str:
    (pictures / "products.csv").write_text(
        "sku,title,category,image\nBAG-1,Striped Bag,bags,bag.png\nTOTE-1,Tote,bags,tote.jpg\n", encoding="utf-8"
    )
    (pictures / "customers.csv").write_text("customer_id,name\nC1,Ann\n", encoding="utf-8")
    cat = str(tmp_path / "cat")
    assert run(capsys, "--catalog", cat, "init")[0] == 0
    code, _, err = run(capsys, "--catalog", cat, "import", "products", str(pictures / "products.csv"))
    assert code == 0, err
    assert run(capsys, "--catalog", cat, "import", "customers", str(pictures / "customers.csv"))[0] == 0
    return cat


def test_files_times_styles_give_one_file_each_and_a_contact_sheet(
    capsys: pytest.CaptureFixture[str], pictures: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    code, stdout, err = run(
        capsys, "stylize", str(pictures / "bag.png"), str(pictures / "tote.jpg"),
        "--style-image", str(pictures / "painting.png"), "--preset", "3:0.5,12:0.5", "--device", "cpu",
        "--out", str(out), "--json",
    )  # fmt: skip
    assert code == 0, err
    report = json.loads(stdout)
    assert len(report["outputs"]) == 4
    sizes = {"bag": (180, 120), "tote": (128, 128)}
    for item in report["outputs"]:
        path = Path(item["output"])
        with Image.open(path) as image:
            assert image.size == sizes[Path(item["input"]).stem]  # the input's pixel size
        recipe = json.loads(path.with_name(path.stem + ".recipe.json").read_text())
        assert recipe["engine"] == item["engine"]
    assert {item["engine"] for item in report["outputs"]} == {"arbitrary", "preset"}
    assert Path(report["contact_sheet"]).is_file()
    assert not list(out.glob(".stylerec-tmp-*"))  # atomic writes leave no temporaries


def test_one_style_names_the_file_after_the_input_and_size_resizes(
    capsys: pytest.CaptureFixture[str], pictures: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    code, stdout, err = run(capsys, "stylize", str(pictures / "bag.png"), "--preset", "7", "--size", "90",
                            "--strength", "0.5", "--preserve-colour", "--out", str(out))  # fmt: skip
    assert code == 0, err
    with Image.open(out / "bag.png") as image:
        assert image.size == (90, 60)
    assert "bag.png" in stdout and not (out / "contact_sheet.jpg").exists()


def test_skus_render_into_the_catalog_with_recipes(
    capsys: pytest.CaptureFixture[str], catalog_dir: str, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    code, stdout, err = run(capsys, "--catalog", catalog_dir, "stylize", "BAG-1", "--style-sku", "TOTE-1",
                            "--mask", "background", "--device", "cpu", "--out", str(out), "--json")  # fmt: skip
    assert code == 0, err
    [item] = json.loads(stdout)["outputs"]
    assert item["sku"] == "BAG-1" and item["render_id"] is not None
    with Catalog.open(catalog_dir) as catalog:
        stored = catalog.render(item["render_id"])
        assert stored.product_id == catalog.product_by_sku("BAG-1").id
    assert stored.path.read_bytes() == Path(item["output"]).read_bytes()
    assert stored.recipe["style"]["sku"] == "TOTE-1"  # type: ignore[index]
    assert stored.recipe["options"]["mask"] == "background"  # type: ignore[index]


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--preset", "99"], "preset index must be 0 to 25"),
        ([], "Give a style"),
        (["--preset", "1", "--engine", "gatys"], "gatys"),
        (["--style-image", "no-such-style.png"], "Style image not found"),
        (["--customer", "C1"], "stylerec index"),
    ],
)
def test_user_errors_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str], catalog_dir: str, tmp_path: Path, argv: list[str], message: str
) -> None:
    code, _, err = run(capsys, "--catalog", catalog_dir, "stylize", "BAG-1", *argv, "--out", str(tmp_path / "o"))
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("stylerec: error: ") and message in err


def test_an_unknown_input_without_catalog_is_a_user_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, "--catalog", str(tmp_path / "none"), "stylize", "nope.png", "--preset", "1",
                       "--out", str(tmp_path / "o"))  # fmt: skip
    assert code == 2 and "No catalog" in err


def test_models_lists_networks_and_what_each_engine_needs(capsys: pytest.CaptureFixture[str]) -> None:
    code, stdout, _ = run(capsys, "models", "--json")
    assert code == 0
    report = json.loads(stdout)
    assert {m["name"]: m["state"] for m in report["models"]}["style-transformer"] == "present"
    assert report["engines"]["preset"] == ["multistyle-26"] and report["engines"]["colour"] == []
    code, stdout, _ = run(capsys, "models")
    assert code == 0 and "multistyle-26" in stdout and "ENGINE" in stdout


@pytest.mark.parametrize("include_ids", [False, True])
def test_a_customers_taste_names_no_customer_unless_asked(
    capsys: pytest.CaptureFixture[str], catalog_dir: str, pictures: Path, tmp_path: Path, include_ids: bool
) -> None:
    """Renders in a customer's taste leave the app: their file names and recipes carry no customer id (ids are
    often emails or CRM numbers) unless ``--include-customer-ids``; the pixels do not depend on it."""
    (pictures / "events.csv").write_text(
        "customer_id,sku,kind,timestamp,quantity\nC1,BAG-1,purchase,2026-01-02T10:00:00,1\n", encoding="utf-8"
    )
    assert run(capsys, "--catalog", catalog_dir, "import", "events", str(pictures / "events.csv"))[0] == 0
    assert run(capsys, "--catalog", catalog_dir, "index", "--device", "cpu")[0] == 0
    out = tmp_path / ("with-ids" if include_ids else "default")
    extra = ["--include-customer-ids"] if include_ids else []
    code, stdout, err = run(capsys, "--catalog", catalog_dir, "stylize", "TOTE-1", "--customer", "C1",
                            "--preset", "7", "--size", "96", "--device", "cpu", "--out", str(out), *extra)  # fmt: skip
    assert code == 0, err
    names = sorted(p.name for p in out.iterdir())
    taste_label = "C1" if include_ids else "customer-taste"
    suffixes = (".png", ".recipe.json")
    expected = [f"TOTE-1__{label}{suffix}" for label in (taste_label, "preset-7x1") for suffix in suffixes]
    assert names == [*expected, "contact_sheet.jpg"]
    taste = next(p for p in out.glob("*.recipe.json") if "preset" not in p.name)
    recipe = json.loads(taste.read_text(encoding="utf-8"))
    assert len(recipe["style"]["vector"]) == 100
    text = taste.read_text(encoding="utf-8") + stdout
    if include_ids:
        assert recipe["style"]["customer"] == "C1"
    else:
        assert "C1" not in text and "Ann" not in text
        assert recipe["style"]["label"] == "Taste of a customer"

"""`stylerec export` as ad-team scripts use it: skus, a customer's recommendations, stored renders or a campaign in,
files in every preset out, read back (size, ICC, XMP provenance, manifest sha256); user errors exit 2 with one line."""

from __future__ import annotations

import hashlib
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image

from stylerec_desktop.cli import main
from stylerec_desktop.core.catalog import Catalog
from stylerec_desktop.core.export import read_manifest, read_xmp
from stylerec_desktop.core.jobs import run_job


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def catalog_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from stylerec_desktop.core.demo import build_demo_catalog
    from stylerec_desktop.core.recommend.indexing import index_catalog

    folder = tmp_path_factory.mktemp("cli-export") / "catalog"
    catalog = run_job(build_demo_catalog(folder, seed=7, n_products=30, n_customers=12))
    run_job(index_catalog(catalog))
    catalog.close()
    yield str(folder)


def _skus(catalog_dir: str, n: int) -> list[str]:
    with Catalog.open(Path(catalog_dir)) as catalog:
        return [p.sku for p in catalog.products(limit=n)]


def _check_files(folder: Path) -> list:
    """Every manifest row's file: on disk with the recorded sha256, the preset's size, sRGB ICC and XMP."""
    _, rows = read_manifest(folder)
    assert rows
    for row in rows:
        data = (folder / row.path).read_bytes()
        assert hashlib.sha256(data).hexdigest() == row.sha256 and len(data) == row.bytes
        with Image.open(folder / row.path) as image:
            assert image.size == (row.width, row.height)
            assert image.info.get("icc_profile")
            assert read_xmp(image.info["xmp"])["sku"] == row.sku
    return rows


def test_export_skus_in_several_presets(capsys: pytest.CaptureFixture[str], catalog_dir: str, tmp_path: Path) -> None:
    skus = _skus(catalog_dir, 2)
    code, out, _ = run(capsys, "--catalog", catalog_dir, "export", "--sku", *skus, "--preset", "square,thumb",
                       "--format", "png", "--zip", "--out", str(tmp_path), "--json")  # fmt: skip
    assert code == 0
    result = json.loads(out)
    assert result["files"] == result["written"] == 4 and result["failures"] == []
    rows = _check_files(tmp_path)
    assert [(r.sku, r.preset, r.format) for r in rows] == [(s, p, "png") for s in skus for p in ("square", "thumb")]
    assert all(r.recipe_id == "" for r in rows)  # untouched catalog images claim no AI
    with zipfile.ZipFile(result["zip"]) as archive:
        assert {r.path for r in rows} | {"manifest.csv", "manifest.json"} <= set(archive.namelist())
    code, out, _ = run(capsys, "--catalog", catalog_dir, "export", "--sku", *skus, "--preset", "square,thumb",
                       "--format", "png", "--out", str(tmp_path), "--json")  # fmt: skip
    assert json.loads(out)["skipped"] == 4  # the same export again resumes: nothing rewritten


def test_export_a_customers_top_k_restyled(
    capsys: pytest.CaptureFixture[str], catalog_dir: str, tmp_path: Path
) -> None:
    code, out, _ = run(capsys, "--catalog", catalog_dir, "export", "--customer", "C0001", "--top", "2",
                       "--preset", "thumb", "--style-preset", "7", "--out", str(tmp_path), "--json")  # fmt: skip
    assert code == 0, out
    rows = _check_files(tmp_path)
    assert len(rows) == 2 and all(r.recipe_id for r in rows)
    assert all("preset" in r.style_source for r in rows)
    with Image.open(tmp_path / rows[0].path) as image:
        xmp = read_xmp(image.info["xmp"])
    assert xmp["engine"] == "preset" and xmp["recipeId"] == rows[0].recipe_id
    assert xmp["digital_source_type"].endswith("compositeWithTrainedAlgorithmicMedia")


def test_export_stored_renders_with_their_recipes(
    capsys: pytest.CaptureFixture[str], catalog_dir: str, tmp_path: Path
) -> None:
    from stylerec_desktop.core.stylize import PresetBlend
    from stylerec_desktop.core.stylize.renders import render_into_catalog_job

    with Catalog.open(Path(catalog_dir)) as catalog:
        product = catalog.product_by_sku(_skus(catalog_dir, 1)[0])
        stored = run_job(render_into_catalog_job(catalog, product.primary_image.path, PresetBlend({3: 1.0}),
                                                 content_sku=product.sku, product_id=product.id))  # fmt: skip
    code, out, err = run(capsys, "--catalog", catalog_dir, "export", "--renders", "--preset", "thumb",
                         "--out", str(tmp_path))  # fmt: skip
    assert code == 0, err
    assert "1 files" in out
    [row] = _check_files(tmp_path)
    assert row.sku == product.sku and row.recipe_id
    with Image.open(tmp_path / row.path) as image:
        xmp = read_xmp(image.info["xmp"])
    assert xmp["engine"] == "preset" == stored.engine
    assert json.loads(xmp["modelHashes"]) == stored.recipe["models"]


def test_export_a_campaign(capsys: pytest.CaptureFixture[str], catalog_dir: str, tmp_path: Path) -> None:
    code, out, err = run(capsys, "--catalog", catalog_dir, "export", "--campaign", "2", "--top", "1",
                         "--preset", "thumb", "--out", str(tmp_path), "--json")  # fmt: skip
    assert code == 0, err
    result = json.loads(out)
    # Without --include-customer-ids only a count of the customers left out (no ids).
    assert result["segments"] == 2 and sum(result["sizes"]) + result["without_taste"] == 12
    for name in ("segment-1", "segment-2"):
        rows = _check_files(tmp_path / name)
        assert {r.segment for r in rows} == {name}
    assert (tmp_path / "campaign.json").is_file()


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--sku", "CAP-0001", "--renders"], "not sku and renders"),
        (["--sku", "NOPE"], "NOPE"),
        (["--sku", "CAP-0001", "--top", "3"], "--top goes with"),
        (["--renders", "--style-preset", "7"], "Style flags cannot be used with --renders"),
        (["--campaign", "x"], "number of segments"),
        (["--campaign", "40"], "segments"),
        ([], "Say what to export"),
        (["--sku", "CAP-0001", "--name", "../{sku}"], "template"),
    ],
)
def test_user_errors_exit_2_with_one_line(
    capsys: pytest.CaptureFixture[str], catalog_dir: str, tmp_path: Path, args: list[str], words: str
) -> None:
    code, out, err = run(capsys, "--catalog", catalog_dir, "export", *args, "--preset", "thumb", "--out", str(tmp_path))
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("stylerec: error:") and words in err, err
    assert not list(tmp_path.glob("*.jpg"))


def test_unknown_preset_is_a_user_error(capsys: pytest.CaptureFixture[str], catalog_dir: str, tmp_path: Path) -> None:
    code, _, err = run(capsys, "--catalog", catalog_dir, "export", "--sku", "CAP-0001", "--preset", "square,bogus",
                       "--out", str(tmp_path))  # fmt: skip
    assert code == 2 and "bogus" in err and "1200x800" in err


def test_quality_overrides_the_presets_jpeg_quality(
    capsys: pytest.CaptureFixture[str], catalog_dir: str, tmp_path: Path
) -> None:
    sku = _skus(catalog_dir, 1)[0]
    tables = {}
    for quality in (40, 95):
        out = tmp_path / f"q{quality}"
        code, _, err = run(capsys, "--catalog", catalog_dir, "export", "--sku", sku, "--preset", "square",
                           "--quality", str(quality), "--out", str(out))  # fmt: skip
        assert code == 0, err
        [row] = _check_files(out)
        with Image.open(out / row.path) as image:
            tables[quality] = sum(sum(table) for table in image.quantization.values())
    assert tables[40] > 3 * tables[95]  # coarser quantisation: the quality number reached the encoder
    code, _, err = run(capsys, "--catalog", catalog_dir, "export", "--sku", sku, "--preset", "square",
                       "--quality", "101", "--out", str(tmp_path / "bad"))  # fmt: skip
    assert code == 2 and "--quality must be 1 to 100" in err


@pytest.mark.parametrize("link", [".stylerec-export-journal.jsonl", "{sku}_thumb.jpg", "sub/"])
def test_links_in_the_export_folder_are_refused_with_exit_2(
    capsys: pytest.CaptureFixture[str], catalog_dir: str, tmp_path: Path, link: str
) -> None:
    [sku] = _skus(catalog_dir, 1)
    out = tmp_path / "out"
    out.mkdir()
    victim = tmp_path / "other.txt"
    victim.write_bytes(b"not the export's\n")
    name = link.format(sku=sku).rstrip("/")
    if link.endswith("/"):  # a folder the template makes, linked elsewhere
        (out / name).symlink_to(tmp_path, target_is_directory=True)
    else:
        (out / name).symlink_to(victim)
    code, out_text, err = run(capsys, "--catalog", catalog_dir, "export", "--sku", sku, "--preset", "thumb",
                              "--name", "sub/{sku}_{preset}" if link.endswith("/") else "{sku}_{preset}",
                              "--out", str(out))  # fmt: skip
    assert code == 2 and out_text == ""
    assert err.startswith("stylerec: error: ") and f"{out / name} is a symbolic link" in err
    assert "Traceback" not in err
    assert victim.read_bytes() == b"not the export's\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["other.txt", "out"]


def test_a_linked_campaign_segment_folder_is_refused_before_rendering(
    capsys: pytest.CaptureFixture[str], catalog_dir: str, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    out.mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (out / "segment-1").symlink_to(elsewhere, target_is_directory=True)
    code, _, err = run(capsys, "--catalog", catalog_dir, "export", "--campaign", "2", "--top", "1",
                       "--preset", "thumb", "--out", str(out))  # fmt: skip
    assert code == 2 and f"stylerec: error: {out / 'segment-1'} is a symbolic link" in err
    assert list(elsewhere.iterdir()) == [] and sorted(p.name for p in out.iterdir()) == ["segment-1"]

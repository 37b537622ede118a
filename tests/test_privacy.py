"""Customer privacy in exports: no customer id, name or email in any default export (skus, a customer's
recommendations restyled in their taste, stored renders in a customer's taste, campaigns), found by
`stylerec privacy-check`; with the opt-ins (--include-customer-ids, --audience-files) the check finds them."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image, PngImagePlugin

from stylerec_desktop.cli import main
from stylerec_desktop.core.catalog import Catalog
from stylerec_desktop.core.export import read_manifest, read_xmp
from stylerec_desktop.core.jobs import run_job
from stylerec_desktop.core.privacy import (
    TASTE_OF_A_CUSTOMER,
    PersonRecord,
    hashed_email,
    normalise_email,
    scan_folder,
)

CUSTOMER = "C0001"


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def catalog_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    from stylerec_desktop.core.demo import build_demo_catalog
    from stylerec_desktop.core.recommend.indexing import index_catalog

    folder = tmp_path_factory.mktemp("privacy") / "catalog"
    catalog = run_job(build_demo_catalog(folder, seed=7, n_products=24, n_customers=10))
    run_job(index_catalog(catalog))
    catalog.close()
    yield str(folder)


@pytest.fixture(scope="module")
def customer(catalog_dir: str) -> PersonRecord:
    with Catalog.open(Path(catalog_dir)) as catalog:
        found = catalog.customer(CUSTOMER)
    assert found.name and "@" in found.email  # the demo's customers have both, so the check has them to find
    return PersonRecord(found.customer_id, found.name, found.email)


def _check(capsys: pytest.CaptureFixture[str], catalog_dir: str, folder: Path) -> tuple[int, list[dict]]:
    code, out, err = run(capsys, "--catalog", catalog_dir, "privacy-check", str(folder), "--json")
    return code, json.loads(out)["findings"]


def test_email_normalisation_follows_the_ad_platforms() -> None:
    assert normalise_email("  Jane.Doe+ads@GMail.com ") == "janedoe@gmail.com"
    assert normalise_email("j.o.e@googlemail.com") == "joe@googlemail.com"
    # Other domains: only trimmed and lower-cased (their dots and plus parts may be different mailboxes).
    assert normalise_email(" Jane.Doe+ads@Example.COM") == "jane.doe+ads@example.com"
    assert hashed_email("Jane.Doe@gmail.com ") == hashlib.sha256(b"janedoe@gmail.com").hexdigest()


def test_the_check_reads_file_names_image_metadata_and_zips(tmp_path: Path, customer: PersonRecord) -> None:
    exif = Image.Exif()
    exif[0x010E] = f"shot for {customer.email}"
    Image.new("RGB", (8, 8)).save(tmp_path / "a.jpg", exif=exif)
    text = PngImagePlugin.PngInfo()
    text.add_text("Comment", f"made for {customer.name.upper()}")  # any case
    Image.new("RGB", (8, 8)).save(tmp_path / "b.png", pnginfo=text)
    (tmp_path / f"{customer.customer_id}_thumb.txt").write_text("nothing inside")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("list.csv", f"audience\n{hashed_email(customer.email)}\n")
    (tmp_path / "set.zip").write_bytes(buffer.getvalue())
    # Look-alikes that are not this customer: an id inside a longer word, a hash of something else.
    (tmp_path / "clean.txt").write_text(f"X{customer.customer_id}1 {hashlib.sha256(b'x').hexdigest()}")
    findings = scan_folder(tmp_path, [customer])
    found = {(f.path, f.where, f.kind) for f in findings}
    assert found == {
        ("a.jpg", "EXIF", "email"),
        ("b.png", "text Comment", "name"),
        (f"{customer.customer_id}_thumb.txt", "file name", "customer id"),
        ("set.zip!list.csv", "text", "hashed email"),
    }
    assert {f.customer_id for f in findings} == {customer.customer_id}


def test_default_exports_of_every_kind_carry_no_customer_identifier(
    capsys: pytest.CaptureFixture[str], catalog_dir: str, tmp_path: Path
) -> None:
    from stylerec_desktop.core.recommend.service import INDEX_CACHE, taste_as_style, taste_of
    from stylerec_desktop.core.stylize.renders import render_into_catalog_job

    with Catalog.open(Path(catalog_dir)) as catalog:
        product = catalog.products(limit=1)[0]
        taste = taste_as_style(taste_of(catalog, INDEX_CACHE.get(catalog), CUSTOMER))
        run_job(render_into_catalog_job(catalog, product.primary_image.path, taste,
                                         content_sku=product.sku, product_id=product.id))  # fmt: skip
    common = ("--preset", "thumb", "--zip")
    exports = {
        "skus": ["--sku", product.sku],
        "recommendations": ["--customer", CUSTOMER, "--top", "2", "--style-customer", CUSTOMER,
                            "--name", "{sku}_{style}_{preset}"],  # fmt: skip
        "renders": ["--renders"],
        "campaign": ["--campaign", "2", "--top", "1"],
    }
    for kind, flags in exports.items():
        out = tmp_path / kind
        code, _, err = run(capsys, "--catalog", catalog_dir, "export", *flags, *common, "--out", str(out))
        assert code == 0, (kind, err)
        assert "privacy check: no customer id, name or email" in err  # export ran the check itself
        assert _check(capsys, catalog_dir, out) == (0, []), kind
    _, rows = read_manifest(tmp_path / "recommendations")
    assert {r.style_source for r in rows} == {TASTE_OF_A_CUSTOMER}
    assert all("customer-taste" in r.path for r in rows)
    with Image.open(tmp_path / "recommendations" / rows[0].path) as image:
        xmp = read_xmp(image.info["xmp"])
    assert xmp["styleSource"] == TASTE_OF_A_CUSTOMER and TASTE_OF_A_CUSTOMER in xmp["description"]
    _, rows = read_manifest(tmp_path / "renders")
    assert TASTE_OF_A_CUSTOMER in {r.style_source for r in rows}
    campaign = json.loads((tmp_path / "campaign" / "campaign.json").read_text())
    assert campaign["customer_ids_included"] is False
    assert all("customers" not in s for s in campaign["segments"])


def test_with_the_opt_ins_the_check_finds_what_was_asked_for(
    capsys: pytest.CaptureFixture[str], catalog_dir: str, tmp_path: Path, customer: PersonRecord
) -> None:
    out = tmp_path / "named"
    code, _, err = run(capsys, "--catalog", catalog_dir, "export", "--customer", CUSTOMER, "--top", "1",
                       "--style-customer", CUSTOMER, "--name", "{sku}_{style}_{preset}",
                       "--preset", "thumb", "--include-customer-ids", "--out", str(out))  # fmt: skip
    assert code == 0, err
    assert "privacy check: " in err and "customer identifiers" in err
    code, findings = _check(capsys, catalog_dir, out)
    assert code == 1
    places = {(f["where"], f["kind"], f["customer_id"]) for f in findings}
    assert {("file name", "customer id", CUSTOMER), ("XMP", "customer id", CUSTOMER),
            ("EXIF", "customer id", CUSTOMER), ("text", "customer id", CUSTOMER)} <= places  # fmt: skip

    out = tmp_path / "audiences"
    code, stdout, err = run(capsys, "--catalog", catalog_dir, "export", "--campaign", "2", "--top", "1",
                            "--preset", "thumb", "--audience-files", "--out", str(out),
                            "--json")  # fmt: skip
    assert code == 0, err
    result = json.loads(stdout)
    audience = Path(result["results"]["segment-1"]["audience_file"])
    lines = audience.read_text().splitlines()
    assert lines[0] == "Email" and len(lines) > 1 and all(len(h) == 64 for h in lines[1:])
    with Catalog.open(Path(catalog_dir)) as catalog:
        emails = {c.email for c in catalog.customers("", limit=None)}
    assert not any(email in audience.read_text() for email in emails)  # never a raw email
    code, findings = _check(capsys, catalog_dir, out)
    assert code == 1 and {f["kind"] for f in findings} == {"hashed email"}
    assert {f["path"] for f in findings} == {p.name for p in out.glob("segment-*-audience.csv")}
    assert result["privacy_findings"] and "customers" not in result["results"]["segment-1"]


def test_audience_files_only_with_a_campaign(
    capsys: pytest.CaptureFixture[str], catalog_dir: str, tmp_path: Path
) -> None:
    code, _, err = run(capsys, "--catalog", catalog_dir, "export", "--sku", "X", "--audience-files",
                       "--preset", "thumb", "--out", str(tmp_path))  # fmt: skip
    assert code == 2 and "--audience-files goes with --campaign" in err
    code, _, err = run(capsys, "--catalog", catalog_dir, "privacy-check", str(tmp_path / "nope"))
    assert code == 2 and "is not a folder" in err

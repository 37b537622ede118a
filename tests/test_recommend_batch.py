"""Batch recommendations (issue 10, item 7): `stylerec recommend --all | --customers FILE --out FILE.jsonl|.csv`,
one list per customer from one index load, the same lists as `recommend`, written whole or not at all."""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from feature_catalog import FakeProduct, build_feature_catalog

from stylerec_desktop.cli import main
from stylerec_desktop.core.catalog import Catalog, CustomerRecord, EventRecord
from stylerec_desktop.core.errors import UserError
from stylerec_desktop.core.export.writers import is_temp_name
from stylerec_desktop.core.jobs import Cancelled, CancelToken, Progress, run_job
from stylerec_desktop.core.recommend import batch
from stylerec_desktop.core.recommend.batch import read_customer_ids, recommend_batch

T0 = datetime(2026, 3, 1, tzinfo=UTC)
COLOURS = [(30.0, 10.0, -40.0), (50.0, 65.0, 45.0), (85.0, -5.0, 60.0), (10.0, 0.0, 0.0)]
CUSTOMERS = ["C01", "C02", "C03", "C04", "C05", "NEW"]  # NEW has no events


@pytest.fixture(scope="module")
def catalog_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("batch") / "catalog"
    products = [FakeProduct(f"P{look:02d}-{c}", COLOURS[c], look=look) for look in range(8) for c in range(4)]
    catalog = build_feature_catalog(folder, products)
    catalog.upsert_customers([CustomerRecord(c) for c in CUSTOMERS])
    events = []
    for n, customer in enumerate(CUSTOMERS[:5]):
        for day in range(4):  # each buys and views things of "their" look, so their lists differ
            events.append(EventRecord(customer, f"P{n:02d}-{day % 4}", "purchase" if day % 2 else "view",
                                      T0 + timedelta(days=day)))  # fmt: skip
    catalog.add_events(events)
    catalog.close()
    return folder


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_jsonl_holds_for_each_customer_what_recommend_json_prints(
    catalog_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "all.jsonl"
    code, stdout, _ = run(capsys, "--catalog", str(catalog_dir), "recommend", "--all", "--k", "4", "--out", str(out))
    assert code == 0 and "for 6 customers" in stdout and "1 without history" in stdout
    lines = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert [line["customer"] for line in lines] == CUSTOMERS
    for line in lines:
        code, single, _ = run(capsys, "--catalog", str(catalog_dir), "recommend", "--customer", line["customer"],
                              "--k", "4", "--json")  # fmt: skip
        assert code == 0 and json.loads(single) == line
    assert all(len(line["items"]) == 4 for line in lines)
    assert [line["no_history"] for line in lines] == [False] * 5 + [True]
    assert lines[0]["items"][0]["sku"].startswith("P00-")  # C01 shops look 0: their list starts there
    assert lines[0]["items"] != lines[1]["items"]
    assert lines[-1]["items"][0]["because"] == []  # popular products for NEW, no history to point at


def test_csv_has_one_row_per_customer_and_rank(catalog_dir: Path, tmp_path: Path) -> None:
    out_csv, out_jsonl = tmp_path / "recs.csv", tmp_path / "recs.jsonl"
    with Catalog.open(catalog_dir) as catalog:
        ids = ["C03", "NEW"]
        steps: list[Progress] = []
        report = run_job(recommend_batch(catalog, ids, out_csv, k=3), steps.append)
        run_job(recommend_batch(catalog, ids, out_jsonl, k=3))
    assert (report.customers, report.no_history, report.format) == (2, 1, "csv")
    assert steps[0].message == "Loading the style index" and (steps[-1].done, steps[-1].total) == (2, 2)
    assert [s.done for s in steps] == sorted(s.done for s in steps)
    with out_csv.open(encoding="utf-8", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert list(rows[0]) == ["customer_id", "rank", "sku", "title", "score", "because", "no_history"]
    assert [(r["customer_id"], r["rank"]) for r in rows] == [("C03", "1"), ("C03", "2"), ("C03", "3"),
                                                             ("NEW", "1"), ("NEW", "2"), ("NEW", "3")]  # fmt: skip
    expected = [json.loads(line) for line in out_jsonl.read_text(encoding="utf-8").splitlines()]
    for row, item in zip(rows, [i for e in expected for i in e["items"]], strict=True):
        assert row["sku"] == item["sku"] and float(row["score"]) == pytest.approx(item["score"], abs=1e-6)
    c03 = [r for r in rows if r["customer_id"] == "C03"]
    assert all("they bought on" in r["because"] or "they viewed on" in r["because"] for r in c03)
    assert {r["no_history"] for r in c03} == {"false"} and rows[-1]["no_history"] == "true"
    assert rows[-1]["because"].startswith("popular with shoppers")


def test_customers_file_plain_or_csv_and_unknown_ids_are_named(
    catalog_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    plain = tmp_path / "ids.txt"
    plain.write_text("C02\n\nC05\nC02\n", encoding="utf-8")
    assert read_customer_ids(plain) == ["C02", "C05"]
    crm = tmp_path / "crm.csv"
    crm.write_text("\ufeffemail,Customer_ID\na@x.org,C04\nb@x.org,C01\n", encoding="utf-8")
    assert read_customer_ids(crm) == ["C04", "C01"]
    out = tmp_path / "some.jsonl"
    code, _, _ = run(capsys, "--catalog", str(catalog_dir), "-q", "recommend", "--customers", str(crm), "--out",
                     str(out))  # fmt: skip
    assert code == 0 and [json.loads(x)["customer"] for x in out.read_text().splitlines()] == ["C04", "C01"]

    bad = tmp_path / "bad.txt"
    bad.write_text("C01\nGHOST-7\nC02\n", encoding="utf-8")
    missing_out = tmp_path / "never.jsonl"
    code, _, err = run(capsys, "--catalog", str(catalog_dir), "recommend", "--customers", str(bad), "--out",
                       str(missing_out))  # fmt: skip
    assert code == 2 and err.startswith("stylerec: error: ")
    assert "'GHOST-7'" in err and "bad.txt" in err and "nothing was written" in err
    assert not missing_out.exists()

    for argv, words in [
        (["--all"], "--out"),
        (["--all", "--out", str(tmp_path / "x.xlsx")], ".jsonl"),
        (["--customer", "C01", "--out", str(tmp_path / "x.jsonl")], "--all or --customers"),
        (["--customers", str(tmp_path / "nope.txt"), "--out", str(tmp_path / "x.csv")], "does not exist"),
    ]:
        code, _, err = run(capsys, "--catalog", str(catalog_dir), "recommend", *argv)
        assert code == 2 and words in err, (argv, err)
    assert not list(tmp_path.glob("x.*"))


def _leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if is_temp_name(p.name)]


def test_cancel_leaves_no_file_and_keeps_an_older_one(catalog_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "recs.jsonl"
    token = CancelToken()

    def cancel_once_recommending(step: Progress) -> None:
        if step.message.startswith("Recommended for"):
            token.cancel()

    with Catalog.open(catalog_dir) as catalog, pytest.raises(Cancelled):
        run_job(recommend_batch(catalog, CUSTOMERS, out), cancel_once_recommending, token)
    assert not out.exists() and _leftovers(tmp_path) == []

    out.write_text("yesterday's list\n", encoding="utf-8")
    token = CancelToken()
    with Catalog.open(catalog_dir) as catalog, pytest.raises(Cancelled):
        run_job(recommend_batch(catalog, CUSTOMERS, out), cancel_once_recommending, token)
    assert out.read_text(encoding="utf-8") == "yesterday's list\n" and _leftovers(tmp_path) == []


@pytest.mark.parametrize("workers", [1, 2])
def test_a_failure_midway_leaves_no_file(
    catalog_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, workers: int
) -> None:
    real = batch.recommend_in_index
    calls: list[str] = []

    def fail_for_c03(catalog: Catalog, index: object, customer_id: str, **kwargs: object) -> object:
        calls.append(customer_id)
        if customer_id == "C03":
            raise UserError("the disk is full")
        return real(catalog, index, customer_id, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(batch, "recommend_in_index", fail_for_c03)
    out = tmp_path / "recs.csv"
    with Catalog.open(catalog_dir) as catalog, pytest.raises(UserError, match="disk is full"):
        run_job(recommend_batch(catalog, CUSTOMERS, out, workers=workers))
    assert "C03" in calls and not out.exists() and _leftovers(tmp_path) == []


def test_several_workers_write_what_one_writes(catalog_dir: Path, tmp_path: Path) -> None:
    ids = CUSTOMERS * 12  # 72 lists, more than the 64 workers may hold ahead of the writer: still in order
    with Catalog.open(catalog_dir) as catalog:
        one = run_job(recommend_batch(catalog, ids, tmp_path / "one.jsonl", k=3, workers=1))
        three = run_job(recommend_batch(catalog, ids, tmp_path / "three.jsonl", k=3, workers=3))
        assert len(catalog._connections) == 1  # the workers closed theirs
    assert one.customers == three.customers == 72
    assert (tmp_path / "one.jsonl").read_bytes() == (tmp_path / "three.jsonl").read_bytes()

"""`stylerec index / recommend / similar / evaluate` as scripts use them: the JSON contract and exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from recommend_support import add_customer, build_catalog, taste_histories

from stylerec_desktop.cli import main


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def catalog_dir(tmp_path_factory: pytest.TempPathFactory) -> str:
    folder = tmp_path_factory.mktemp("cli")
    catalog = build_catalog(folder, variants=2)
    for customer_id, _taste, events in taste_histories(24, days=40):
        add_customer(catalog, customer_id, events)
    add_customer(catalog, "NAVY", [("stripes-navy-0", "purchase", 2), ("stripes-navy-1", "like", 3)])
    catalog.close()
    return str(folder / "catalog")


@pytest.fixture(scope="module")
def indexed(catalog_dir: str) -> str:
    assert main(["--catalog", catalog_dir, "-q", "index", "--device", "cpu", "--batch-size", "8"]) == 0
    return catalog_dir


def test_index_reports_and_is_resumable(indexed: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--catalog", indexed, "index", "--device", "cpu", "--json")
    assert code == 0
    report = json.loads(out)
    assert report["indexed"] == 0 and report["already_indexed"] == report["total_images"] == 36


def test_recommend_json_contract(indexed: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--catalog", indexed, "recommend", "--customer", "NAVY", "--k", "5", "--json")
    assert code == 0
    result = json.loads(out)
    assert result["customer"] == "NAVY"
    items = result["items"]
    assert len(items) == 5
    assert [i["score"] for i in items] == sorted((i["score"] for i in items), reverse=True)
    assert set(items[0]["components"]) == {"style", "visual", "colour", "pattern", "neighbour", "group",
                                            "behaviour", "popularity", "learned"}
    assert items[0]["sku"].startswith("stripes-navy") or "navy" in items[0]["sku"]
    because = items[0]["because"][0]
    assert because["sku"] in {"stripes-navy-0", "stripes-navy-1"}
    assert because["kind"] in {"purchase", "like"} and because["date"].startswith("2026-03-0")
    assert "stripes-navy-0" not in {i["sku"] for i in items}  # bought: left out by default
    code, out, _ = run(
        capsys, "--catalog", indexed, "recommend", "--customer", "NAVY", "--k", "5", "--include-purchased", "--json"
    )
    assert "stripes-navy-0" in {i["sku"] for i in json.loads(out)["items"]}


def test_recommend_text_and_user_errors(indexed: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--catalog", indexed, "recommend", "--customer", "NAVY", "--k", "3")
    assert code == 0 and "BECAUSE" in out and "they bought on" in out
    code, _, err = run(capsys, "--catalog", indexed, "recommend", "--customer", "NOBODY")
    assert code == 2 and "NOBODY" in err
    code, _, err = run(capsys, "--catalog", indexed, "recommend", "--customer", "NAVY", "--diversity", "2")
    assert code == 2 and "between 0 and 1" in err


def test_similar_json_sorted_and_unknown_sku(indexed: str, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--catalog", indexed, "similar", "--sku", "checks-earth-0", "--by", "colour", "--json")
    assert code == 0
    result = json.loads(out)
    assert result["sku"] == "checks-earth-0" and len(result["items"]) == 10
    scores = [i["score"] for i in result["items"]]
    assert scores == sorted(scores, reverse=True)
    assert all("earth" in i["sku"] for i in result["items"][:5])
    code, _, err = run(capsys, "--catalog", indexed, "similar", "--sku", "NOPE")
    assert code == 2 and "NOPE" in err


def test_evaluate_json_contract(indexed: str, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ("--catalog", indexed, "evaluate", "--folds", "2", "--test-days", "8", "--k", "5")
    code, out, _ = run(capsys, *argv, "--json")
    assert code == 0
    result = json.loads(out)
    assert result["k"] == 5 and result["cutoff"].endswith("Z") and result["folds"] == 2
    assert len(result["cutoffs"]) == 2 and result["customer_windows"] >= result["customers"] > 0
    assert set(result["methods"]) == {"stylerec", "popularity", "cooccurrence", "visual_knn"}
    for metrics in result["methods"].values():
        assert set(metrics) >= {"ndcg", "recall", "hit_rate", "mrr", "coverage", "gini", "novelty", "ci"}
        assert 0.0 <= metrics["ndcg"] <= 1.0 and 0.0 <= metrics["gini"] <= 1.0
        for name in ("ndcg", "recall", "hit_rate"):
            lo, hi = metrics["ci"][name]
            assert 0.0 <= lo <= metrics[name] <= hi <= 1.0
    assert set(result["differences"]) == {"popularity", "cooccurrence", "visual_knn"}
    for diff in result["differences"].values():
        mean, lo, hi = diff["ndcg"]
        assert lo <= mean <= hi
    # a few dozen test purchases: the report says the differences cannot be trusted
    assert result["test_purchases"] < 200 and "noise" in result["warning"]
    code, out, _ = run(capsys, *argv)
    assert code == 0 and "stylerec" in out and "popularity" in out and "warning:" in out and "[" in out
    code, _, err = run(capsys, "--catalog", indexed, "evaluate", "--folds", "9", "--test-days", "8")
    assert code == 2 and "--folds" in err


def test_commands_on_an_unindexed_catalog_say_what_to_do(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    catalog = build_catalog(tmp_path, variants=1)
    add_customer(catalog, "C1", [("dots-navy-0", "purchase", 1)])
    catalog.close()
    code, _, err = run(capsys, "--catalog", str(tmp_path / "catalog"), "recommend", "--customer", "C1")
    assert code == 2 and "stylerec index" in err

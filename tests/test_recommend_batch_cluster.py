"""Batch recommendations on a Ray cluster (issue 14, item 1): `stylerec recommend --all --cluster local[2]` writes
the very file a single-machine batch writes, in customer order, and a cancelled run leaves no file.

One local cluster (a head and two worker processes) is started for the whole module (about 5 s here); every job
below joins it instead of starting its own.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from feature_catalog import FakeProduct, build_feature_catalog

from stylerec_desktop.cli import main
from stylerec_desktop.core.catalog import Catalog, CustomerRecord, EventRecord
from stylerec_desktop.core.cluster import ClusterSession, open_cluster, parse_cluster, run_tasks
from stylerec_desktop.core.cluster.engine import _file_sha256
from stylerec_desktop.core.errors import UserError
from stylerec_desktop.core.jobs import Cancelled, CancelToken, Progress, run_job
from stylerec_desktop.core.recommend.batch import recommend_batch
from stylerec_desktop.core.recommend.batch_cluster import chunk_size, recommend_batch_on_cluster
from stylerec_desktop.core.recommend.ranking import Filters
from stylerec_desktop.core.recommend.taste import events_from_history

pytest.importorskip("ray")

T0 = datetime(2026, 3, 1, tzinfo=UTC)
COLOURS = [(30.0, 10.0, -40.0), (50.0, 65.0, 45.0), (85.0, -5.0, 60.0), (10.0, 0.0, 0.0)]
CATEGORIES = ["dresses", "totes"]
LOCAL = parse_cluster("local[2]")
# 40 customers, listed out of alphabetical order so "customer order" is the list's order, not a sort; every 8th
# has no history (they get the popular products).
CUSTOMERS = [f"C{(n * 7) % 40:02d}" for n in range(40)]


@pytest.fixture(scope="module")
def catalog_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("batch-cluster") / "catalog"
    products = [FakeProduct(f"P{look:02d}-{c}", COLOURS[c], look=look, category=CATEGORIES[look % 2])
                for look in range(12) for c in range(4)]  # fmt: skip
    catalog = build_feature_catalog(folder, products)
    catalog.upsert_customers([CustomerRecord(c) for c in sorted(CUSTOMERS)])
    rng = np.random.default_rng(3)
    events = []
    for n in range(40):
        if n % 8 == 7:
            continue
        for day in range(6):  # mostly their own two looks, so the lists differ from customer to customer
            look = (n + day % 2 * 5) % 12 if rng.random() < 0.8 else int(rng.integers(12))
            kind = ("view", "like", "cart", "purchase")[int(rng.integers(4))]
            events.append(EventRecord(f"C{n:02d}", f"P{look:02d}-{int(rng.integers(4))}", kind,
                                      T0 + timedelta(days=day, hours=n)))  # fmt: skip
    catalog.add_events(events)
    catalog.close()
    return folder


@pytest.fixture(scope="module")
def cluster() -> Iterator[ClusterSession]:
    with open_cluster(LOCAL) as session:
        yield session


def single_machine(catalog_dir: Path, out: Path, **options: object) -> bytes:
    with Catalog.open(catalog_dir) as catalog:
        run_job(recommend_batch(catalog, CUSTOMERS, out, **options))  # type: ignore[arg-type]
    return out.read_bytes()


def test_the_cluster_writes_the_single_machine_file(
    catalog_dir: Path, tmp_path: Path, cluster: ClusterSession
) -> None:
    options = {"k": 5, "filters": Filters(categories=("dresses",)), "diversity": 0.3}
    expected = single_machine(catalog_dir, tmp_path / "here.jsonl", **options)
    steps: list[Progress] = []
    out = tmp_path / "cluster.jsonl"
    with Catalog.open(catalog_dir) as catalog:
        job = recommend_batch_on_cluster(catalog, CUSTOMERS, out, LOCAL, **options)  # type: ignore[arg-type]
        report = run_job(job, steps.append)
    assert out.read_bytes() == expected
    lines = [json.loads(line) for line in expected.decode("utf-8").splitlines()]
    assert [line["customer"] for line in lines] == CUSTOMERS  # the order given, not the order tasks finished in
    assert sum(line["no_history"] for line in lines) == 5 and all(len(line["items"]) == 5 for line in lines)
    assert (report.customers, report.no_history, report.empty) == (40, 5, 0)
    # After the connecting step, the first thing said is where it runs, and every later step says it too.
    assert steps[1].message == "Running on 2 Ray workers, 0 GPUs (local[2])"
    assert all("running on 2 Ray workers" in s.message for s in steps[2:])
    assert [s.done for s in steps] == sorted(s.done for s in steps) and steps[-1].done == 40
    assert chunk_size(40, cluster.cpus) < 40  # several tasks: the order above was really reassembled


def test_cli_csv_through_the_cluster_matches_the_cli_without_it(
    catalog_dir: Path, tmp_path: Path, cluster: ClusterSession, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = tmp_path / "customers.txt"
    ids.write_text("\n".join(CUSTOMERS) + "\n", encoding="utf-8")
    here, there = tmp_path / "here.csv", tmp_path / "there.csv"
    common = ["--catalog", str(catalog_dir), "recommend", "--customers", str(ids), "--k", "3", "--in-stock"]
    assert main([*common, "--out", str(here)]) == 0
    assert main([*common, "--out", str(there), "--cluster", "local[2]"]) == 0
    out = capsys.readouterr().out
    assert "Wrote recommendations for 40 customers" in out
    assert there.read_bytes() == here.read_bytes()
    assert len(there.read_text(encoding="utf-8").splitlines()) == 1 + 40 * 3


def test_cancel_on_the_cluster_leaves_no_file_and_keeps_an_older_one(
    catalog_dir: Path, tmp_path: Path, cluster: ClusterSession
) -> None:
    out = tmp_path / "recs.jsonl"
    out.write_text("yesterday's list\n", encoding="utf-8")
    token = CancelToken()
    seen: list[str] = []

    def cancel_once_recommending(step: Progress) -> None:
        seen.append(step.message)
        if step.message.startswith("Recommended for"):
            token.cancel()

    with Catalog.open(catalog_dir) as catalog, pytest.raises(Cancelled):
        run_job(recommend_batch_on_cluster(catalog, CUSTOMERS, out, LOCAL), cancel_once_recommending, token)
    assert seen[-1].startswith("Recommended for") and not seen[-1].startswith("Recommended for 40 ")
    assert out.read_text(encoding="utf-8") == "yesterday's list\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["recs.jsonl"]
    assert cluster.ray.is_initialized()  # a job that joined the cluster leaves it running for the next


def test_histories_read_per_chunk_are_the_ones_recommend_reads(catalog_dir: Path) -> None:
    with Catalog.open(catalog_dir) as catalog:
        read = catalog.events_of_customers([*CUSTOMERS, "NOBODY"])
        assert list(read) == sorted(CUSTOMERS) and "NOBODY" not in read
        for customer_id in CUSTOMERS:
            internal, events = read[customer_id]
            assert internal == catalog.customer(customer_id).id
            assert events == events_from_history(catalog.customer_history(customer_id))  # same events, same order
        assert sum(1 for c in CUSTOMERS if not read[c][1]) == 5


def test_cluster_is_for_batches_only(catalog_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--catalog", str(catalog_dir), "recommend", "--customer", "C01", "--cluster", "local[2]"]) == 2
    assert "stylerec: error: --cluster runs a batch: use it with --all or --customers" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["--catalog", str(catalog_dir), "recommend", "--all", "--out", "x.jsonl", "--cluster", "local[0]"])
    assert exit_info.value.code == 2 and "1 to 64 worker processes" in capsys.readouterr().err


def test_a_second_job_joins_the_open_cluster_and_the_last_one_closes_it(
    cluster: ClusterSession, tmp_path: Path
) -> None:
    """Two jobs at once (the GUI's index and export): the second joins the first's cluster, its end does not stop
    the cluster under the first, and asking for another cluster meanwhile is refused with a sentence. (The tasks
    run a function of the package: the workers cannot import this test module.)"""
    files = [tmp_path / f"{n}.txt" for n in range(3)]
    for n, path in enumerate(files):
        path.write_text("x" * n)
    expected = [hashlib.sha256(path.read_bytes()).hexdigest() for path in files]
    with open_cluster(LOCAL) as second:
        assert second is cluster
        assert [sha for _, sha in sorted(run_tasks(second, _file_sha256, [str(p) for p in files]))] == expected
    assert cluster.ray.is_initialized()
    assert [sha for _, sha in sorted(run_tasks(cluster, _file_sha256, [str(p) for p in files]))] == expected
    with (
        pytest.raises(UserError, match=r"Another job is running on the Ray cluster local\[2\]"),
        open_cluster(parse_cluster("local[3]")),
    ):
        pass

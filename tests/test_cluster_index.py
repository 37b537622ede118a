"""`stylerec index --cluster`: on a local Ray cluster (a head and two worker processes, CPU only) the catalog gets
the same feature blobs as a single-machine run, each written once, even when a worker is killed mid-task; bad
images are reported; a cancel leaves whole batches and a rerun finishes; without Ray the option says what to do."""

from __future__ import annotations

import builtins
import importlib.util
import json
import os
import signal
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from recommend_support import build_catalog

from stylerec_desktop.cli import main
from stylerec_desktop.core.catalog import Catalog, ImageFeatureBlobs
from stylerec_desktop.core.cluster import ClusterSession, open_cluster, parse_cluster
from stylerec_desktop.core.jobs import Cancelled, CancelToken, Progress, run_job
from stylerec_desktop.core.recommend import index_cluster
from stylerec_desktop.core.recommend.features import extractor_version
from stylerec_desktop.core.recommend.index_cluster import index_on_cluster
from stylerec_desktop.core.recommend.indexing import index_catalog
from stylerec_desktop.core.recommend.prepare import prepare_for_index

needs_ray = pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="needs the [cluster] extra (Ray)")
LOCAL = parse_cluster("local[2]")
BATCH = 2  # 20 images in 10 tasks: enough tasks in flight to kill a worker in the middle of the job
VERSION = extractor_version()
#: Ray titles a worker process after the task function it is running (``ray::IDLE`` between tasks).
TASK_TITLE = b"ray::index_batch_on_worker"


def stored(catalog: Catalog) -> dict[str, ImageFeatureBlobs]:
    return {row.features.sha256: row.features for row in catalog.product_feature_rows(VERSION)}


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, ImageFeatureBlobs]:
    """The single-machine blobs of the 20-image drawn catalog, same batches."""
    with build_catalog(tmp_path_factory.mktemp("single"), variants=1) as catalog:
        report = run_job(index_catalog(catalog, batch_size=BATCH))
        assert report.indexed == 20
        return stored(catalog)


@pytest.fixture(scope="module")
def cluster() -> Iterator[ClusterSession]:
    """One local cluster for the module (starting one takes seconds): the jobs join it instead of starting their own."""
    if importlib.util.find_spec("ray") is None:
        pytest.skip("needs the [cluster] extra (Ray)")
    with open_cluster(LOCAL) as session:
        yield session


class WriteSpy:
    """Counts each image's rows as the job writes them (the real write still happens)."""

    def __init__(self, catalog: Catalog, monkeypatch: pytest.MonkeyPatch) -> None:
        self.writes: Counter[str] = Counter()
        real = catalog.store_image_features

        def store(rows: Any) -> int:
            self.writes.update(row.sha256 for row in rows)
            return real(rows)

        monkeypatch.setattr(catalog, "store_image_features", store)


def _title(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


def _descendants_running_a_task() -> list[int]:
    """Pids of this test's own Ray worker processes (descendants of this process) that are running a task now."""
    parents: dict[int, int] = {}
    titles: dict[int, bytes] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            titles[int(entry.name)] = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])
    ours = os.getpid()

    def descends(pid: int) -> bool:
        for _ in range(16):
            pid = parents.get(pid, 0)
            if pid == ours:
                return True
            if pid <= 1:
                return False
        return False

    return [pid for pid, title in titles.items() if title.startswith(TASK_TITLE) and descends(pid)]


@needs_ray
def test_a_worker_killed_mid_task_loses_nothing_and_each_image_is_written_once(
    cluster: ClusterSession, reference: dict[str, ImageFeatureBlobs], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    results: list[index_cluster.IndexTaskResult] = []
    real_run_tasks = index_cluster.run_tasks

    def watched_run_tasks(*args: Any, **kwargs: Any) -> Iterator[Any]:
        for position, result in real_run_tasks(*args, **kwargs):
            results.append(result)
            yield position, result

    monkeypatch.setattr(index_cluster, "run_tasks", watched_run_tasks)
    messages: list[str] = []
    killed: list[int] = []

    def on_progress(progress: Progress) -> None:
        messages.append(progress.message)
        if progress.done > 0 and not killed:  # one batch is in: kill a worker that is in the middle of another
            deadline = time.monotonic() + 10
            while not killed and time.monotonic() < deadline:
                for pid in _descendants_running_a_task():
                    # Looked at again right before the kill: the scan of /proc takes a while, the task may be over.
                    if _title(pid).startswith(TASK_TITLE):
                        os.kill(pid, signal.SIGKILL)
                        killed.append(pid)
                        break
                else:
                    time.sleep(0.005)

    with build_catalog(tmp_path, variants=1) as catalog:
        spy = WriteSpy(catalog, monkeypatch)
        report = run_job(index_on_cluster(catalog, LOCAL, batch_size=BATCH), on_progress)
        assert killed, "no worker process was found running a task"
        assert messages[0].startswith("Running on 2 Ray workers, 0 GPUs")
        assert report.indexed == 20 and report.failed == ()
        assert max(result.attempt for result in results) >= 1  # the killed worker's task ran again elsewhere
        assert spy.writes == Counter(reference.keys())  # every image written, and exactly once
        assert stored(catalog) == reference  # byte for byte the single-machine blobs


@needs_ray
def test_a_corrupt_image_sent_as_bytes_is_reported_like_on_one_machine(
    cluster: ClusterSession, reference: dict[str, ImageFeatureBlobs], tmp_path: Path
) -> None:
    with build_catalog(tmp_path, variants=1) as catalog:
        sha, path = catalog.images_to_index(VERSION)[3]
        path.write_bytes(path.read_bytes()[:300])  # truncated after import: the catalog still lists it
        expected = prepare_for_index(path)
        assert isinstance(expected, str)
        report = run_job(index_on_cluster(catalog, LOCAL, batch_size=BATCH, send_bytes=True))
        assert report.failed == ((str(path), expected),)
        assert report.indexed == 19
        assert stored(catalog) == {k: v for k, v in reference.items() if k != sha}


@needs_ray
def test_cancel_leaves_whole_batches_and_a_rerun_does_the_rest(
    cluster: ClusterSession, reference: dict[str, ImageFeatureBlobs], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with build_catalog(tmp_path, variants=1) as catalog:
        work = [sha for sha, _path in catalog.images_to_index(VERSION)]
        batches = [set(work[i : i + BATCH]) for i in range(0, len(work), BATCH)]
        token = CancelToken()

        def on_progress(progress: Progress) -> None:
            if progress.done >= 2 * BATCH:
                token.cancel()

        with pytest.raises(Cancelled):
            run_job(index_on_cluster(catalog, LOCAL, batch_size=BATCH), on_progress, token)
        first = stored(catalog)
        assert 2 * BATCH <= len(first) < 20
        assert all(batch <= first.keys() or not batch & first.keys() for batch in batches)  # whole batches only

        spy = WriteSpy(catalog, monkeypatch)
        report = run_job(index_on_cluster(catalog, LOCAL, batch_size=BATCH))
        assert report.indexed == 20 - len(first) and report.already_indexed == len(first)
        assert not spy.writes.keys() & first.keys()  # what the first run wrote was not redone
        assert stored(catalog) == reference


@needs_ray
def test_the_cli_indexes_on_the_cluster(
    cluster: ClusterSession, reference: dict[str, ImageFeatureBlobs], tmp_path: Path, capsys: pytest.CaptureFixture
) -> None:
    build_catalog(tmp_path, variants=1).close()
    argv = ["--catalog", str(tmp_path / "catalog"), "-q", "index", "--cluster", "local[2]", "--batch-size", "4"]
    assert main([*argv, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["indexed"] == 20
    with Catalog.open(tmp_path / "catalog") as catalog:
        assert stored(catalog) == reference
    # a cluster without GPUs cannot run --device cuda: said before any work
    build_catalog(tmp_path / "again", variants=1).close()
    assert main(["--catalog", str(tmp_path / "again" / "catalog"), "-q", "index", "--cluster", "local[2]",
                 "--device", "cuda"]) == 2  # fmt: skip
    assert "has no GPUs" in capsys.readouterr().err


def test_without_ray_the_option_says_how_to_install_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture
) -> None:
    build_catalog(tmp_path, variants=1).close()
    real_import = builtins.__import__

    def no_ray(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "ray" or name.startswith("ray."):
            raise ImportError("No module named 'ray'")
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_ray)
    assert main(["--catalog", str(tmp_path / "catalog"), "index", "--cluster", "local[2]"]) == 2
    assert "pip install 'stylerec-desktop[cluster]'" in capsys.readouterr().err
    with Catalog.open(tmp_path / "catalog") as catalog:
        assert catalog.image_feature_counts(VERSION)[0] == 0


class _GpuCluster:
    """What ``_placement`` reads of a session: its GPU total and Ray's node list (two GPU nodes and a CPU node)."""

    spec = parse_cluster("ray://head:10001")
    gpus = 3

    class ray:  # noqa: N801 - stands in for the ray module
        @staticmethod
        def nodes() -> list[dict[str, Any]]:
            return [
                {"Alive": True, "Resources": {"CPU": 16.0, "GPU": 1.0}},
                {"Alive": True, "Resources": {"CPU": 12.0, "GPU": 2.0}},
                {"Alive": True, "Resources": {"CPU": 64.0}},
                {"Alive": False, "Resources": {"CPU": 1.0, "GPU": 1.0}},  # a dead node does not count
            ]


def test_on_a_gpu_cluster_each_task_takes_one_gpu_and_the_cpus_every_gpu_node_can_give() -> None:
    placement = index_cluster._placement(_GpuCluster(), "auto")  # type: ignore[arg-type]
    assert (placement.device, placement.num_gpus, placement.num_cpus) == ("cuda", 1, 6)
    assert index_cluster._placement(_GpuCluster(), "cpu") == index_cluster._Placement("cpu", 1, 0)  # type: ignore[arg-type]


def test_a_task_carries_several_batches_only_when_there_are_plenty() -> None:
    assert index_cluster.batches_per_task(10, 2) == 1  # this file's jobs: one batch per task
    assert index_cluster.batches_per_task(63, 2) == 7  # 1,000 images in batches of 16 on local[2]: 9 tasks
    assert index_cluster.batches_per_task(100_000, 2) == index_cluster.MAX_BATCHES_PER_TASK
    assert index_cluster.batches_per_task(5, 0) == 1


@needs_ray
def test_tasks_of_several_batches_store_the_same_rows_and_report_failures_in_work_list_order(
    cluster: ClusterSession, reference: dict[str, ImageFeatureBlobs], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Grouped batches (5 per task here) still run the single machine's passes and write each image once; an image
    the workstation cannot read and one the worker cannot decode are listed in work-list order."""
    monkeypatch.setattr(index_cluster, "TASKS_PER_SLOT", 1)
    assert index_cluster.batches_per_task(10, 2) == 5
    with build_catalog(tmp_path, variants=1) as catalog:
        work = catalog.images_to_index(VERSION)
        (bad_sha, truncated), (gone_sha, missing) = work[3], work[12]
        truncated.write_bytes(truncated.read_bytes()[:300])
        missing.unlink()
        expected = [(str(path), prepare_for_index(path)) for path in (truncated, missing)]
        assert all(isinstance(reason, str) for _path, reason in expected)
        spy = WriteSpy(catalog, monkeypatch)
        report = run_job(index_on_cluster(catalog, LOCAL, batch_size=BATCH, send_bytes=True))
        assert report.failed == tuple(expected)
        assert report.indexed == 18
        assert spy.writes == Counter(k for k in reference if k not in (bad_sha, gone_sha))
        assert stored(catalog) == {k: v for k, v in reference.items() if k not in (bad_sha, gone_sha)}

"""`stylerec stylize --cluster` and `stylerec export --cluster` on a local Ray cluster (a head and two worker
processes, CPU only): with a worker process SIGKILLed in the middle of a task, every render and every export file is
there, written once, and byte for byte what a single-machine run writes; a bad picture gets the single-machine
sentence; a cancel leaves only whole files, and the export resumes from them."""

from __future__ import annotations

import builtins
import importlib.util
import json
import os
import signal
import threading
import time
from collections import Counter
from collections.abc import Iterator
from hashlib import sha256
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from stylerec_desktop.cli import main
from stylerec_desktop.core.catalog import Catalog
from stylerec_desktop.core.cluster import ClusterSession, open_cluster, parse_cluster
from stylerec_desktop.core.export import cluster as export_cluster
from stylerec_desktop.core.export import export_job, parse_presets
from stylerec_desktop.core.export.items import product_items
from stylerec_desktop.core.export.job import JOURNAL_NAME
from stylerec_desktop.core.jobs import Cancelled, CancelToken, Progress, run_job
from stylerec_desktop.core.safe_files import is_temp_name
from stylerec_desktop.core.stylize import PresetBlend, StyleImage
from stylerec_desktop.core.stylize import renders as stored_renders
from stylerec_desktop.core.stylize.looks import product_safe_options
from stylerec_desktop.core.stylize.matrix import MatrixContent, MatrixStyle, render_matrix_job
from stylerec_desktop.core.stylize.samples import painting, product_shot

LOCAL = parse_cluster("local[2]")
SKUS = ("BAG-1", "BAG-2", "BAG-3")


@pytest.fixture(scope="module")
def cluster() -> Iterator[ClusterSession]:
    """One local cluster for the module (starting one takes seconds): every job and command here joins it."""
    if importlib.util.find_spec("ray") is None:
        pytest.skip("needs the [cluster] extra (Ray)")
    with open_cluster(LOCAL) as session:
        yield session


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def catalog_dir(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> Path:
    """A catalog of three small product shots, and a painting beside it as a style picture."""
    pictures = tmp_path / "pictures"
    pictures.mkdir()
    for number, sku in enumerate(SKUS):
        product_shot((200, 150), seed=number).save(pictures / f"{sku}.png")
    painting(128).save(tmp_path / "painting.png")
    rows = "".join(f"{sku},Bag {sku},bags,{sku}.png\n" for sku in SKUS)
    (pictures / "products.csv").write_text("sku,title,category,image\n" + rows, encoding="utf-8")
    folder = tmp_path / "catalog"
    assert cli(capsys, "--catalog", str(folder), "init")[0] == 0
    assert cli(capsys, "--catalog", str(folder), "import", "products", str(pictures / "products.csv"))[0] == 0
    return folder


class WorkerKiller:
    """SIGKILLs, once, a Ray worker process of this test (a descendant of this process) that is running ``task``
    (Ray titles a worker after the function it runs, ``ray::IDLE`` between tasks), from a background thread."""

    def __init__(self, task: str) -> None:
        self.title = f"ray::{task}".encode()
        self.killed: int | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._hunt, daemon=True)

    def __enter__(self) -> WorkerKiller:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join()

    def _hunt(self) -> None:
        deadline = time.monotonic() + 120
        while not self._stop.is_set() and time.monotonic() < deadline:
            running = self._running()
            if running:
                os.kill(running[0], signal.SIGKILL)
                self.killed = running[0]
                return
            time.sleep(0.005)

    def _running(self) -> list[int]:
        parents: dict[int, int] = {}
        found = []
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                # The parent pid is the 2nd field after the process name, which may hold spaces and brackets.
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
                if (entry / "cmdline").read_bytes().startswith(self.title):
                    found.append(int(entry.name))
            except (OSError, ValueError, IndexError):
                continue
        return [pid for pid in found if self._descends(pid, parents)]

    @staticmethod
    def _descends(pid: int, parents: dict[int, int]) -> bool:
        for _ in range(16):
            pid = parents.get(pid, 0)
            if pid == os.getpid():
                return True
            if pid <= 1:
                return False
        return False


def digests(folder: Path) -> dict[str, str]:
    return {path.name: sha256(path.read_bytes()).hexdigest() for path in sorted(folder.iterdir()) if path.is_file()}


def outputs_of(folder: Path) -> tuple[dict[str, str], dict[str, dict[str, Any]]]:
    """A stylize --out folder: the pictures' digests (renders and contact sheet), and the recipes without the time
    each render was made."""
    recipes = {path.name: json.loads(path.read_text()) for path in folder.glob("*.recipe.json")}
    for recipe in recipes.values():
        recipe.pop("created")
    return {name: digest for name, digest in digests(folder).items() if name not in recipes}, recipes


def no_temporaries(folder: Path) -> bool:
    return not [path for path in folder.rglob("*") if is_temp_name(path.name)]


def test_stylize_with_a_worker_killed_renders_every_cell_once_with_the_single_machine_pixels(
    cluster: ClusterSession, catalog_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    styles = ("--preset", "3", "--style-image", str(tmp_path / "painting.png"))
    base = ("--catalog", str(catalog_dir), "stylize", *SKUS, *styles, "--device", "cpu", "--json")
    code, out, err = cli(capsys, *base, "--out", str(tmp_path / "single"))
    assert code == 0, err
    single = json.loads(out)["outputs"]
    with Catalog.open(catalog_dir) as catalog:
        before = {render.id for render in catalog.renders()}

    kept: Counter[str] = Counter()
    keep = stored_renders.keep_render

    def counted_keep(catalog: Catalog, data: bytes, *args: Any, **kwargs: Any) -> Any:
        kept[sha256(data).hexdigest()] += 1
        return keep(catalog, data, *args, **kwargs)

    monkeypatch.setattr(stored_renders, "keep_render", counted_keep)
    with WorkerKiller("render_task") as killer:
        code, out, err = cli(capsys, *base, "--out", str(tmp_path / "cluster"), "--cluster", "local[2]")
    assert code == 0, err
    assert killer.killed is not None, "no worker process was found running a render"
    outputs = json.loads(out)["outputs"]
    assert [(o["sku"], o["style"]) for o in outputs] == [(o["sku"], o["style"]) for o in single]
    assert outputs_of(tmp_path / "cluster") == outputs_of(tmp_path / "single")  # renders, contact sheet, recipes
    with Catalog.open(catalog_dir) as catalog:
        new = [render for render in catalog.renders() if render.id not in before]
    assert len(new) == 6 and len({render.path for render in new}) == 6
    assert all(count == 1 for count in kept.values()) and len(kept) == 6  # each render kept once
    assert Counter(render.sha256 for render in new) == Counter(
        sha256(Path(o["output"]).read_bytes()).hexdigest() for o in single
    )
    assert all(sha256(render.path.read_bytes()).hexdigest() == render.sha256 for render in new)
    assert no_temporaries(catalog_dir) and no_temporaries(tmp_path / "cluster")


def test_export_with_a_worker_killed_writes_every_file_once_as_one_machine_does(
    cluster: ClusterSession, catalog_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    export = ("--catalog", str(catalog_dir), "export", "--sku", *SKUS, "--preset", "story,square", "--json")
    code, out, err = cli(capsys, *export, "--out", str(tmp_path / "single"))
    assert code == 0, err
    written: Counter[str] = Counter()
    write = export_cluster._write_file

    def counted_write(out_dir: Path, path: str, data: bytes) -> None:
        written[path] += 1
        write(out_dir, path, data)

    monkeypatch.setattr(export_cluster, "_write_file", counted_write)
    with WorkerKiller("export_item_task") as killer:
        code, out, err = cli(capsys, *export, "--out", str(tmp_path / "cluster"), "--cluster", "local[2]")
    assert code == 0, err
    assert killer.killed is not None, "no worker process was found exporting an item"
    report = json.loads(out)
    assert report["written"] == report["files"] == 6 and not report["failures"]
    manifest = json.loads((tmp_path / "cluster" / "manifest.json").read_text())
    assert written == Counter(row["path"] for row in manifest["files"])  # each file written once
    assert len(written) == 6
    assert digests(tmp_path / "cluster") == digests(tmp_path / "single")  # files and manifests, byte for byte
    assert not (tmp_path / "cluster" / JOURNAL_NAME).exists()


def test_each_folder_is_checked_a_picture_in_one_the_workers_cannot_read_travels_as_bytes(
    cluster: ClusterSession, catalog_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """The product pictures are on storage the workers read (a local cluster shares this disk): their paths are
    sent. The style picture is in a folder the workers are made not to see: its bytes are sent, and the renders are
    still the single machine's."""
    from stylerec_desktop.core.stylize import cluster as stylize_cluster

    private = tmp_path / "private"
    private.mkdir()
    painting(96).save(private / "style.png")
    base = ("--catalog", str(catalog_dir), "stylize", *SKUS[:2], "--style-image", str(private / "style.png"),
            "--device", "cpu", "--json")  # fmt: skip
    code, out, err = cli(capsys, *base, "--out", str(tmp_path / "single"))
    assert code == 0, err
    real_sees = ClusterSession.sees_file
    checked: list[Path] = []

    def sees(session: ClusterSession, path: Path, sha: str) -> bool:
        checked.append(path.parent)
        return path.parent != private and real_sees(session, path, sha)

    monkeypatch.setattr(ClusterSession, "sees_file", sees)
    sent: list[tuple[bool, bool]] = []
    real_item = stylize_cluster._Payloads.__getitem__

    def item(payloads: Any, index: int) -> Any:
        task = real_item(payloads, index)
        sent.append((task.content is not None, task.style_image is not None))
        return task

    monkeypatch.setattr(stylize_cluster._Payloads, "__getitem__", item)
    code, out, err = cli(capsys, *base, "--out", str(tmp_path / "cluster"), "--cluster", "local[2]")
    assert code == 0, err
    assert sorted(sent) == [(False, True), (False, True)]  # content by path, the style picture's bytes
    assert checked.count(private) == 1 and len(checked) == len(set(checked))  # one check per folder
    assert outputs_of(tmp_path / "cluster") == outputs_of(tmp_path / "single")


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small indexed demo catalog: customers with histories, for a campaign's segments."""
    from stylerec_desktop.core.demo import build_demo_catalog
    from stylerec_desktop.core.recommend.indexing import index_catalog

    folder = tmp_path_factory.mktemp("cluster-campaign") / "catalog"
    catalog = run_job(build_demo_catalog(folder, seed=7, n_products=30, n_customers=12))
    run_job(index_catalog(catalog))
    catalog.close()
    return folder


def test_a_campaign_on_the_cluster_writes_the_single_machine_files(
    cluster: ClusterSession, demo_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """`export --campaign --cluster`: each segment restyled and framed on the workers, every file and manifest (and
    campaign.json) byte for byte the single machine's."""
    from stylerec_desktop.core.stylize import cluster as stylize_cluster

    campaign = ("--catalog", str(demo_dir), "export", "--campaign", "2", "--top", "1", "--preset", "thumb,square",
                "--json")  # fmt: skip
    code, out, err = cli(capsys, *campaign, "--out", str(tmp_path / "single"))
    assert code == 0, err
    restyles: list[int] = []
    real_restyle = stylize_cluster.restyled_on_cluster_job

    def counted_restyle(*args: Any, **kwargs: Any) -> Any:
        restyles.append(len(args[1]))
        return real_restyle(*args, **kwargs)

    monkeypatch.setattr(stylize_cluster, "restyled_on_cluster_job", counted_restyle)
    written: Counter[str] = Counter()
    write = export_cluster._write_file
    monkeypatch.setattr(export_cluster, "_write_file",
                        lambda out_dir, path, data: (written.update([f"{out_dir.name}/{path}"]),
                                                     write(out_dir, path, data))[1])  # fmt: skip
    code, out, err = cli(capsys, *campaign, "--out", str(tmp_path / "cluster"), "--cluster", "local[2]")
    assert code == 0, err
    assert json.loads(out)["segments"] == 2
    assert restyles == [1, 1]  # each segment's product restyled on the cluster
    assert sorted(written) == [f"segment-{n}/{name}" for n in (1, 2) for name in sorted(
        digests(tmp_path / "single" / f"segment-{n}")) if not name.startswith("manifest.")]  # fmt: skip
    assert set(written.values()) == {1}
    assert digests(tmp_path / "cluster") == digests(tmp_path / "single")  # campaign.json
    for segment in ("segment-1", "segment-2"):
        assert digests(tmp_path / "cluster" / segment) == digests(tmp_path / "single" / segment)


def test_a_bad_picture_gets_the_single_machine_sentence(
    cluster: ClusterSession, catalog_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    truncated = tmp_path / "truncated.png"
    product_shot(160, seed=9).save(truncated)
    truncated.write_bytes(truncated.read_bytes()[:400])  # the header reads; the pixels do not
    stylize = ("stylize", str(truncated), "--preset", "3", "--device", "cpu")
    one = cli(capsys, *stylize, "--out", str(tmp_path / "a"))
    many = cli(capsys, *stylize, "--out", str(tmp_path / "b"), "--cluster", "local[2]")
    assert one[0] == many[0] == 2
    assert one[2] == many[2] and "truncated.png cannot be read as a picture" in one[2]

    broken = catalog_dir.parent / "pictures" / "BAG-2.png"
    broken.write_bytes(broken.read_bytes()[:400])  # damaged after import: the catalog still lists it
    export = ("--catalog", str(catalog_dir), "export", "--sku", *SKUS, "--preset", "thumb", "--json")
    one = cli(capsys, *export, "--out", str(tmp_path / "c"))
    many = cli(capsys, *export, "--out", str(tmp_path / "d"), "--cluster", "local[2]")
    assert one[0] == many[0] == 1
    failures = [json.loads(out)["failures"] for out in (one[1], many[1])]
    assert failures[0] == failures[1] and failures[0][0]["sku"] == "BAG-2"


def test_cancel_keeps_whole_files_only_and_the_export_resumes(
    cluster: ClusterSession, catalog_dir: Path, tmp_path: Path
) -> None:
    pictures = catalog_dir.parent / "pictures"
    contents = [MatrixContent(pictures / f"{sku}.png", sku=sku) for sku in SKUS]
    styles = [MatrixStyle(PresetBlend({1: 1.0}), "preset 1"), MatrixStyle(StyleImage(tmp_path / "painting.png"), "p")]
    token = CancelToken()
    messages: list[str] = []

    def cancel_after_the_first(step: Progress) -> None:
        messages.append(step.message)
        if step.done >= 1:
            token.cancel()

    with Catalog.open(catalog_dir) as catalog:
        job = render_matrix_job(catalog, contents, styles, product_safe_options(device="cpu"), (), cluster=LOCAL)
        with pytest.raises(Cancelled):
            run_job(job, cancel_after_the_first, token)
        assert messages[0] == "Rendering 6 pictures running on 2 Ray workers, 0 GPUs (local[2])"
        kept = catalog.renders()
        assert 1 <= len(kept) < 6
        for render in kept:  # each a whole PNG with the bytes its row records
            assert sha256(render.path.read_bytes()).hexdigest() == render.sha256
            with Image.open(render.path) as picture:
                picture.load()
        pngs = [path for path in catalog.renders_dir.glob("*.png")]
        assert len(pngs) == len(kept) and no_temporaries(catalog.renders_dir)
        items = product_items(catalog, SKUS)

    presets = parse_presets("story,square")
    token = CancelToken()
    out = tmp_path / "export"
    messages.clear()
    with pytest.raises(Cancelled):
        run_job(export_job(items, presets, out, cluster=LOCAL), cancel_after_the_first, token)
    assert messages[0] == "Exporting 3 items x 2 presets running on 2 Ray workers, 0 GPUs (local[2])"
    assert no_temporaries(out)
    journal = [json.loads(line) for line in (out / JOURNAL_NAME).read_text().splitlines()[1:]]
    assert journal and all(sha256((out / row["path"]).read_bytes()).hexdigest() == row["sha256"] for row in journal)
    resumed = run_job(export_job(items, presets, out, cluster=LOCAL))
    assert resumed.skipped == len(journal) and resumed.written == 6 - len(journal)
    reference = run_job(export_job(items, presets, tmp_path / "reference"))
    assert resumed.files == reference.files


def test_without_ray_the_option_says_how_to_install_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    real_import = builtins.__import__

    def no_ray(name: str, *args: Any, **kwargs: Any) -> Any:
        if name == "ray" or name.startswith("ray."):
            raise ImportError("No module named 'ray'")
        return real_import(name, *args, **kwargs)

    product_shot(96, seed=1).save(tmp_path / "bag.png")
    monkeypatch.setattr(builtins, "__import__", no_ray)
    code, _, err = cli(capsys, "stylize", str(tmp_path / "bag.png"), "--preset", "3", "--out", str(tmp_path / "out"),
                       "--cluster", "local[2]")  # fmt: skip
    assert code == 2 and "pip install 'stylerec-desktop[cluster]'" in err
    assert not (tmp_path / "out").exists()  # nothing rendered, nothing written

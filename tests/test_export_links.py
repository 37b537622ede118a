"""Symbolic links planted in an export folder never redirect a write, FIFOs never hang it, a damaged journal
does not break it, and a full disk leaves no temporary file.

Each attack: a link where the export writes (journal, an image, a folder of the template, a manifest, the zip)
pointing at a file inside or outside the folder, or nowhere. Each must be refused with a message naming the link,
before any file is written, and leave the link's target byte for byte as it was.
"""

from __future__ import annotations

import errno
import io
import os
import signal
from pathlib import Path

import pytest
from PIL import Image

from stylerec_desktop.core import safe_files
from stylerec_desktop.core.errors import UserError
from stylerec_desktop.core.export import ExportItem, ExportOptions, export_job, parse_presets
from stylerec_desktop.core.export.job import JOURNAL_NAME
from stylerec_desktop.core.jobs import run_job
from stylerec_desktop.core.safe_files import unique_path, write_atomic

pytestmark = pytest.mark.skipif(os.name == "nt", reason="symbolic links need privileges on Windows")

SECRET = b"the user's own file, which no export may touch\n"


def _items(folder: Path, count: int = 2) -> list[ExportItem]:
    folder.mkdir(parents=True, exist_ok=True)
    items = []
    for i in range(count):
        path = folder / f"p{i}.png"
        Image.new("RGB", (96, 128), (40 * i + 30, 90, 160)).save(path)
        items.append(ExportItem(f"CAP-000{i + 1}", f"Cap {i}", "caps", path))
    return items


def _victim(folder: Path, name: str = "victim.txt") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    victim = folder / name
    victim.write_bytes(SECRET)
    return victim


def _written_images(out: Path) -> list[str]:
    return sorted(p.name for p in out.rglob("*") if p.suffix in (".jpg", ".png") and not p.is_symlink())


@pytest.mark.parametrize("where", ["outside", "inside"])
def test_a_linked_journal_is_refused_and_its_target_untouched(tmp_path: Path, where: str) -> None:
    out = tmp_path / "out"
    out.mkdir()
    victim = _victim(tmp_path / "elsewhere" if where == "outside" else out)
    (out / JOURNAL_NAME).symlink_to(victim)
    with pytest.raises(UserError, match=f"{JOURNAL_NAME} is a symbolic link.*delete the link"):
        run_job(export_job(_items(tmp_path / "src"), parse_presets("thumb"), out))
    assert victim.read_bytes() == SECRET
    assert (out / JOURNAL_NAME).is_symlink()  # the user's link is not ours to delete either
    assert _written_images(out) == []  # refused before any work


@pytest.mark.parametrize("target", ["other.txt", "../elsewhere/victim.txt", "missing.jpg"])
def test_a_linked_output_file_is_refused(tmp_path: Path, target: str) -> None:
    out = tmp_path / "out"
    out.mkdir()
    _victim(out, "other.txt")
    victim = _victim(tmp_path / "elsewhere")
    (out / "CAP-0001_thumb.jpg").symlink_to(target)  # relative, as `ln -s other.txt CAP-0001_thumb.jpg` makes
    with pytest.raises(UserError, match="CAP-0001_thumb.jpg is a symbolic link"):
        run_job(export_job(_items(tmp_path / "src"), parse_presets("thumb"), out))
    assert (out / "other.txt").read_bytes() == SECRET and victim.read_bytes() == SECRET
    assert not (out / "missing.jpg").exists()  # a dangling link is not followed to create its target
    assert _written_images(out) == []


@pytest.mark.parametrize("inside_out", [True, False])
def test_a_linked_folder_of_the_template_is_refused(tmp_path: Path, inside_out: bool) -> None:
    out = tmp_path / "out"
    out.mkdir()
    real = out / "real-folder" if inside_out else tmp_path / "elsewhere"
    real.mkdir()
    (out / "caps").symlink_to(real, target_is_directory=True)
    options = ExportOptions(template="{category}/{sku}_{preset}")
    with pytest.raises(UserError, match=f"{out / 'caps'} is a symbolic link"):
        run_job(export_job(_items(tmp_path / "src"), parse_presets("thumb"), out, options))
    assert list(real.iterdir()) == []


@pytest.mark.parametrize("name", ["manifest.json", "manifest.csv", "out.zip"])
def test_linked_manifests_and_zip_are_refused(tmp_path: Path, name: str) -> None:
    out = tmp_path / "out"
    out.mkdir()
    victim = _victim(tmp_path / "elsewhere")
    (out / name).symlink_to(victim)
    with pytest.raises(UserError, match=f"{name} is a symbolic link"):
        run_job(export_job(_items(tmp_path / "src"), parse_presets("thumb"), out, ExportOptions(zip=True)))
    assert victim.read_bytes() == SECRET
    assert _written_images(out) == []


def test_a_finished_file_swapped_for_a_link_is_refused_on_resume(tmp_path: Path) -> None:
    out = tmp_path / "out"
    items = _items(tmp_path / "src")
    first = run_job(export_job(items, parse_presets("thumb"), out))
    victim = _victim(tmp_path / "elsewhere")
    swapped = out / first.files[0].path
    swapped.unlink()
    swapped.symlink_to(victim)
    with pytest.raises(UserError, match="is a symbolic link"):
        run_job(export_job(items, parse_presets("thumb"), out))
    assert victim.read_bytes() == SECRET


def test_the_chosen_folder_itself_may_be_a_link(tmp_path: Path) -> None:
    real = tmp_path / "big-disk" / "exports"
    real.mkdir(parents=True)
    chosen = tmp_path / "exports"
    chosen.symlink_to(real, target_is_directory=True)
    result = run_job(export_job(_items(tmp_path / "src"), parse_presets("thumb"), chosen))
    assert result.written == 2
    assert _written_images(real) == ["CAP-0001_thumb.jpg", "CAP-0002_thumb.jpg"]


def test_render_writes_refuse_links_and_skip_their_names(tmp_path: Path) -> None:
    victim = _victim(tmp_path / "elsewhere")
    renders = tmp_path / "renders"
    renders.mkdir()
    (renders / "shot.png").symlink_to(tmp_path / "nowhere.png")  # dangling
    assert unique_path(renders, "shot") == renders / "shot-2.png"
    (renders / "sheet.jpg").symlink_to(victim)
    with pytest.raises(UserError, match="sheet.jpg is a symbolic link"):
        write_atomic(renders / "sheet.jpg", b"jpeg bytes", make_folder=True)
    assert victim.read_bytes() == SECRET
    assert not (tmp_path / "nowhere.png").exists()


class _DiskFillsUp(io.RawIOBase):
    """A file that takes ``room`` bytes and then fails every write with ENOSPC, as a full disk does."""

    def __init__(self, fd: int, room: int) -> None:
        self._fd = fd
        self._room = room

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._fd

    def write(self, data: bytes) -> int:  # type: ignore[override]
        if len(data) > self._room:
            raise OSError(errno.ENOSPC, "No space left on device")
        self._room -= len(data)
        return os.write(self._fd, data)

    def close(self) -> None:
        if not self.closed:
            os.close(self._fd)
        super().close()


@pytest.mark.parametrize("full_at", ["manifest.json", ".zip"])
def test_a_full_disk_leaves_no_temporary_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, full_at: str) -> None:
    real_create = safe_files.create_new_file

    def create(path: Path) -> io.BufferedWriter:
        if not path.name.endswith(full_at):
            return real_create(path)
        stream = real_create(path)
        fd = os.dup(stream.fileno())
        stream.close()
        # Buffered like a real file: the small manifest fails only at flush, and again when closed.
        return io.BufferedWriter(_DiskFillsUp(fd, room=100))

    monkeypatch.setattr(safe_files, "create_new_file", create)
    out = tmp_path / "out"
    items = _items(tmp_path / "src")
    with pytest.raises(UserError, match="is full"):
        run_job(export_job(items, parse_presets("thumb,square"), out, ExportOptions(zip=True)))
    assert [p.name for p in out.rglob("*") if safe_files.is_temp_name(p.name)] == []
    assert not (out / "manifest.json").exists() or full_at == ".zip"
    monkeypatch.undo()
    resumed = run_job(export_job(items, parse_presets("thumb,square"), out, ExportOptions(zip=True)))
    assert resumed.skipped == 4 and resumed.zip_path is not None and resumed.zip_path.stat().st_size > 0


def test_a_fifo_as_source_image_fails_that_item_without_hanging(tmp_path: Path) -> None:
    items = _items(tmp_path / "src")
    fifo = tmp_path / "src" / "pipe.jpg"
    os.mkfifo(fifo)

    def stuck(signum: int, frame: object) -> None:
        raise AssertionError("the export opened the FIFO and waits for a writer")

    signal.signal(signal.SIGALRM, stuck)  # fail rather than hang the test run
    signal.alarm(20)
    try:
        result = run_job(export_job([*items, ExportItem("PIPE", image=fifo)], parse_presets("thumb"), tmp_path / "o"))
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
    assert result.written == 2
    assert [(f.sku, "named pipe (FIFO)" in f.message) for f in result.failures] == [("PIPE", True)]


@pytest.mark.parametrize("name", [JOURNAL_NAME, "manifest.json"])
def test_a_fifo_in_place_of_the_exports_own_files_is_refused_without_hanging(tmp_path: Path, name: str) -> None:
    out = tmp_path / "out"
    out.mkdir()
    os.mkfifo(out / name)

    def stuck(signum: int, frame: object) -> None:
        raise AssertionError(f"the export opened the FIFO {name}")

    signal.signal(signal.SIGALRM, stuck)
    signal.alarm(20)
    try:
        with pytest.raises(UserError, match=f"{name} is a named pipe \\(FIFO\\) where StyleRec keeps a file"):
            run_job(export_job(_items(tmp_path / "src"), parse_presets("thumb"), out))
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
    assert _written_images(out) == []


def test_a_journal_with_damaged_bytes_costs_only_its_damaged_lines(tmp_path: Path) -> None:
    out = tmp_path / "out"
    items = _items(tmp_path / "src")
    job = export_job(items, parse_presets("thumb"), out, ExportOptions(workers=1))
    next(job)
    next(job)  # one item finished and journalled
    job.close()
    journal = out / JOURNAL_NAME
    journal.write_bytes(journal.read_bytes() + b"\xff\xfe\x00garbage \x80\x81\n")
    result = run_job(export_job(items, parse_presets("thumb"), out))
    assert (result.skipped, result.written) == (1, 1)
    assert not journal.exists()  # finished: everything is in the manifest now

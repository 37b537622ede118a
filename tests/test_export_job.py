"""The export job end to end: files read back, manifests verified, resume, cancel, kill -9, disk errors."""

from __future__ import annotations

import csv
import errno
import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import zipfile
from pathlib import Path

import pytest
from _icc import matrix_profile
from _scenes import bottle_on_backdrop
from PIL import Image, ImageCms

from stylerec_desktop.core import safe_files
from stylerec_desktop.core.errors import UserError
from stylerec_desktop.core.export import (
    ExportItem,
    ExportOptions,
    ExportPreset,
    export_job,
    parse_presets,
    read_xmp,
)
from stylerec_desktop.core.export import job as job_module
from stylerec_desktop.core.export import writers as writers_module
from stylerec_desktop.core.export.job import JOURNAL_NAME
from stylerec_desktop.core.export.manifest import CSV_COLUMNS
from stylerec_desktop.core.jobs import run_job
from stylerec_desktop.core.masks import analyse_product

RECIPE = {"engine": "arbitrary", "source": "Starry night", "options": {"strength": 0.7}, "seed": 3,
          "model_hashes": {"transformer": "f" * 64}}
COLOURS = [(200, 40, 60), (40, 90, 210), (30, 30, 30), (120, 120, 122), (230, 180, 20), (20, 140, 90)]


def _make_sources(folder: Path, count: int = 6, size: int = 512) -> list[ExportItem]:
    folder.mkdir(parents=True, exist_ok=True)
    items = []
    for i in range(count):
        image, _ = bottle_on_backdrop(size=size, colour=COLOURS[i % len(COLOURS)], shift=(-120 + 40 * (i % 7), 0))
        path = folder / f"p{i}.jpg"
        image.save(path, quality=92)
        items.append(ExportItem(f"SKU-{i}", f"Bottle {i}", "bottles", path, style="catalog"))
    return items


def _tagged_source(folder: Path) -> Path:
    """A product shot in Adobe RGB, stored sideways with EXIF orientation 6 and a camera make."""
    image, _ = bottle_on_backdrop(size=512)
    exif = Image.Exif()
    exif[0x010F] = "Canon"
    exif[0x0112] = 6
    path = folder / "tagged.jpg"
    image.transpose(Image.Transpose.ROTATE_90).save(path, quality=92, icc_profile=matrix_profile(), exif=exif)
    return path


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _image_files(folder: Path) -> dict[str, str]:
    """Relative path -> sha256 of every file under ``folder`` except the journal."""
    return {
        p.relative_to(folder).as_posix(): _sha(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != JOURNAL_NAME
    }


def _icc_description(image: Image.Image) -> str:
    return ImageCms.getProfileDescription(ImageCms.ImageCmsProfile(io.BytesIO(image.info["icc_profile"])))


PRESETS = [
    *parse_presets("square,story,landscape"),
    ExportPreset("thumb-png", 400, 400, format="png"),
    ExportPreset("web-webp", 800, 800, format="webp", quality=80),
]


def test_exported_files_read_back_right(tmp_path: Path) -> None:
    items = _make_sources(tmp_path / "src", 4)
    render, _ = bottle_on_backdrop(size=512, colour=(150, 60, 200))
    items.append(ExportItem("R-1", "Bottle restyled", image=render, style="Starry night", recipe=RECIPE,
                            segment="bold"))
    out = tmp_path / "out"
    progress = []
    result = run_job(export_job(items, PRESETS, out, ExportOptions(template="{category}/{sku}_{preset}", zip=True)),
                     on_progress=progress.append)
    assert result.written == 25 and result.skipped == 0 and not result.failures
    assert progress[-1].done == progress[-1].total == 5
    assert [row.path for row in result.files[:2]] == ["bottles/SKU-0_square.jpg", "bottles/SKU-0_story.jpg"]
    for row in result.files:
        path = out / row.path
        preset = next(p for p in PRESETS if p.name == row.preset)
        with Image.open(path) as image:
            image.load()
            assert image.size == (preset.width, preset.height) == (row.width, row.height)
            assert "sRGB" in _icc_description(image)
            xmp = read_xmp(image.info["xmp"])
            assert xmp["sku"] == row.sku
            if row.sku == "R-1":
                assert xmp["digital_source_type"].endswith("/compositeWithTrainedAlgorithmicMedia")
                assert xmp["styleSource"] == row.style_source == "Starry night" and row.segment == "bold"
                assert row.recipe_id and xmp["recipeId"] == row.recipe_id
            else:
                assert "digital_source_type" not in xmp  # untouched catalog photos claim no AI
            # The product is whole: found again in the output, clear of every edge.
            found = analyse_product(image)
            assert found.found
            left, top, right, bottom = found.bbox
            assert left > 0 and top > 0 and right < preset.width and bottom < preset.height
        assert row.bytes == path.stat().st_size and row.sha256 == _sha(path)

    with open(out / "manifest.csv", newline="", encoding="utf-8-sig") as stream:
        csv_rows = list(csv.DictReader(stream))
    assert tuple(csv_rows[0]) == CSV_COLUMNS
    assert [(r["path"], r["sha256"], int(r["bytes"])) for r in csv_rows] == [
        (r.path, r.sha256, r.bytes) for r in result.files
    ]
    document = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert [f["sha256"] for f in document["files"]] == [_sha(out / f["path"]) for f in document["files"]]
    assert not (out / JOURNAL_NAME).exists()

    assert result.zip_path == out / "out.zip"
    with zipfile.ZipFile(result.zip_path) as archive:
        assert archive.namelist() == [r.path for r in result.files] + ["manifest.csv", "manifest.json"]
        assert all(archive.read(r.path) == (out / r.path).read_bytes() for r in result.files)


def test_colour_profile_and_orientation_of_the_source_are_honoured(tmp_path: Path) -> None:
    source = _tagged_source(tmp_path)
    item = ExportItem("T-1", image=source)
    square = parse_presets("square")
    stripped = run_job(export_job([item], square, tmp_path / "a"))
    kept = run_job(export_job([item], square, tmp_path / "b", ExportOptions(keep_metadata=True)))
    with Image.open(tmp_path / "a" / stripped.files[0].path) as image:
        assert "sRGB" in _icc_description(image)
        exif = image.getexif()
        assert 0x010F not in exif and "T-1" in exif[0x010E]
        # Upright again: the bottle is taller than wide, as shot, although the file stored it sideways.
        left, top, right, bottom = analyse_product(image).bbox
        assert bottom - top > right - left
    with Image.open(tmp_path / "b" / kept.files[0].path) as image:
        exif = image.getexif()
        assert exif[0x010F] == "Canon" and exif.get(0x0112, 1) == 1
    # Converted from Adobe RGB: the red is not the same numbers as in the source file.
    assert stripped.files[0].sha256 != run_job(
        export_job([ExportItem("T-1", image=Image.open(source).convert("RGB"))], square, tmp_path / "c")
    ).files[0].sha256


def test_resume_skips_complete_files_and_redoes_damaged_ones(tmp_path: Path) -> None:
    items = _make_sources(tmp_path / "src", 4)
    presets = parse_presets("thumb,landscape")
    out = tmp_path / "out"
    first = run_job(export_job(items, presets, out))
    before = _image_files(out)
    untouched = out / first.files[0].path
    mtime = untouched.stat().st_mtime_ns
    (out / first.files[1].path).unlink()
    damaged = out / first.files[2].path
    damaged.write_bytes(damaged.read_bytes()[:100])
    again = run_job(export_job(items, presets, out))
    assert (again.written, again.skipped) == (2, 6)
    assert _image_files(out) == before
    assert untouched.stat().st_mtime_ns == mtime
    # Other settings make other files: nothing may be skipped then.
    lower = [ExportPreset(p.name, p.width, p.height, quality=60) for p in presets]
    changed = run_job(export_job(items, lower, out))
    assert (changed.written, changed.skipped) == (8, 0)


def test_cancel_leaves_only_complete_files_and_resume_completes_the_same_set(tmp_path: Path) -> None:
    items = _make_sources(tmp_path / "src", 6)
    presets = parse_presets("thumb,square")
    reference = run_job(export_job(items, presets, tmp_path / "ref"))
    out = tmp_path / "out"
    job = export_job(items, presets, out, ExportOptions(workers=2))
    next(job)
    next(job)  # one item finished
    job.close()  # what run_job does on cancel
    leftovers = [p.name for p in out.rglob("*") if writers_module.is_temp_name(p.name)]
    assert leftovers == []
    assert not (out / "manifest.json").exists()
    for path in out.glob("*.jpg"):
        with Image.open(path) as image:
            image.load()  # every file present is complete
    resumed = run_job(export_job(items, presets, out))
    assert resumed.skipped >= 2
    assert _image_files(out) == _image_files(tmp_path / "ref")
    assert [r.sha256 for r in resumed.files] == [r.sha256 for r in reference.files]


def test_result_summary_is_json_ready(tmp_path: Path) -> None:
    items = _make_sources(tmp_path / "src", 1)
    summary = run_job(export_job(items, parse_presets("thumb"), tmp_path / "out")).to_dict()
    assert json.loads(json.dumps(summary))["written"] == 1 and summary["zip"] is None


def test_a_missing_image_fails_that_item_only(tmp_path: Path) -> None:
    items = _make_sources(tmp_path / "src", 2)
    # A plain tuple in the documented order works as well as an ExportItem.
    mixed = [items[0], ("GONE", "Lost", "bottles", tmp_path / "src" / "missing.jpg", "", None, None), items[1]]
    result = run_job(export_job(mixed, parse_presets("thumb"), tmp_path / "out"))
    assert [f.sku for f in result.failures] == ["GONE"] and "missing.jpg" in result.failures[0].message
    assert [r.sku for r in result.files] == ["SKU-0", "SKU-1"]


def test_duplicate_names_get_suffixes(tmp_path: Path) -> None:
    items = _make_sources(tmp_path / "src", 2)
    twins = [ExportItem("A/B", image=items[0].image), ExportItem("a\\b", image=items[1].image)]
    result = run_job(export_job(twins, parse_presets("thumb"), tmp_path / "out"))
    assert [r.path for r in result.files] == ["A_B_thumb.jpg", "a_b_thumb-2.jpg"]


def test_full_disk_is_a_clear_error_and_leaves_no_partial_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    items = _make_sources(tmp_path / "src", 4)
    out = tmp_path / "out"
    calls = {"n": 0}
    real_fsync = os.fsync

    def fsync_until_full(fd: int) -> None:
        calls["n"] += 1
        if calls["n"] > 3:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", fsync_until_full)
    with pytest.raises(UserError, match=f"{out}.*full"):
        run_job(export_job(items, parse_presets("thumb,square"), out, ExportOptions(workers=1)))
    monkeypatch.setattr(os, "fsync", real_fsync)
    assert [p.name for p in out.rglob("*") if writers_module.is_temp_name(p.name)] == []
    for path in out.glob("*.jpg"):
        with Image.open(path) as image:
            image.load()
    resumed = run_job(export_job(items, parse_presets("thumb,square"), out))
    assert resumed.skipped >= 2 and resumed.written + resumed.skipped == 8


def test_unwritable_folder_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    items = _make_sources(tmp_path / "src", 1)
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with pytest.raises(UserError, match="a-file/out"):
        run_job(export_job(items, parse_presets("thumb"), blocker / "out"))

    def read_only(*args: object, **kwargs: object) -> None:
        raise OSError(errno.EROFS, "Read-only file system")

    # A folder that refuses new files (what a read-only mount or missing permission looks like to the app);
    # the check before any work catches it.
    monkeypatch.setattr(job_module.tempfile, "mkstemp", read_only)
    with pytest.raises(UserError, match=f"{tmp_path / 'ro'} cannot be written to"):
        run_job(export_job(items, parse_presets("thumb"), tmp_path / "ro"))
    monkeypatch.undo()
    # And when it happens only once the images are being written.
    monkeypatch.setattr(safe_files, "create_new_file", read_only)
    with pytest.raises(UserError, match=f"{tmp_path / 'ro2'} cannot be written to"):
        run_job(export_job(items, parse_presets("thumb"), tmp_path / "ro2"))
    assert not (tmp_path / "ro2" / "manifest.json").exists()


@pytest.mark.skipif(os.name == "nt" or os.geteuid() == 0, reason="root and Windows ignore folder permissions")
def test_read_only_folder_by_permissions(tmp_path: Path) -> None:
    items = _make_sources(tmp_path / "src", 1)
    out = tmp_path / "ro"
    out.mkdir()
    out.chmod(0o555)
    try:
        with pytest.raises(UserError, match="cannot be written to"):
            run_job(export_job(items, parse_presets("thumb"), out))
    finally:
        out.chmod(0o755)


_EXPORT_SCRIPT = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from stylerec_desktop.core.export import ExportItem, ExportOptions, export_job, parse_presets
    from stylerec_desktop.core.jobs import run_job

    src, out = Path(sys.argv[1]), Path(sys.argv[2])
    items = [ExportItem(p.stem.upper(), p.stem, image=p) for p in sorted(src.glob("*.jpg"))]
    run_job(export_job(items, parse_presets("thumb,landscape,square"), out, ExportOptions(workers=2)))
    """
)


@pytest.mark.slow
def test_kill_9_then_resume_gives_exactly_the_uninterrupted_set(tmp_path: Path) -> None:
    _make_sources(tmp_path / "src", 40, size=384)
    script = tmp_path / "export.py"
    script.write_text(_EXPORT_SCRIPT)
    command = [sys.executable, str(script), str(tmp_path / "src")]
    subprocess.run([*command, str(tmp_path / "whole")], check=True, timeout=300)

    out = tmp_path / "killed"
    process = subprocess.Popen([*command, str(out)])
    deadline = time.monotonic() + 120
    def finished_files() -> list[Path]:  # temporary files (hidden names) are work in progress, not results
        return [p for p in out.glob("*.jpg") if not writers_module.is_temp_name(p.name)]

    while time.monotonic() < deadline and len(finished_files()) < 12:
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)
    assert process.returncode == -signal.SIGKILL
    assert not (out / "manifest.json").exists(), "the export finished before it could be killed"
    finished = finished_files()
    assert 12 <= len(finished) < 120
    for path in finished:  # whatever has a real name is whole
        with Image.open(path) as image:
            image.load()

    subprocess.run([*command, str(out)], check=True, timeout=300)
    assert _image_files(out) == _image_files(tmp_path / "whole")  # same names, same sha256, same manifests
    assert [p.name for p in out.iterdir() if writers_module.is_temp_name(p.name)] == []

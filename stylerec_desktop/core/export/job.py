"""The export job: items x presets -> framed, colour-managed, named files with manifests, resumable and safe.

An *item* is anything with a picture and a sku: a catalog product today, a render of the style engine (a PIL image
plus its recipe) later, or a render for one customer segment of a campaign. Each item is loaded and masked once and
framed into every preset; items are processed on a small thread pool (PIL and OpenCV release the GIL while they
resize and encode).

Safety: every file is written under a temporary name and renamed when complete, so a crash or a cancel never
leaves a partial file under a real name. Each finished file is noted in a journal beside the files; a later run of
the same export into the same folder skips every file that is on disk, was made from the same inputs and still
has the recorded SHA-256. Names and bytes are deterministic, so an interrupted-and-resumed export is identical to
an uninterrupted one.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import errno
import hashlib
import io
import json
import logging
import os
import tempfile
import threading
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np
from PIL import Image

from stylerec_desktop.core.cluster import ClusterSpec
from stylerec_desktop.core.errors import UserError
from stylerec_desktop.core.export.framing import frame_for_preset
from stylerec_desktop.core.export.manifest import (
    MANIFEST_CSV,
    MANIFEST_JSON,
    ManifestRow,
    read_manifest,
    write_manifests,
    write_zip,
)
from stylerec_desktop.core.export.naming import (
    DEFAULT_TEMPLATE,
    NameAllocator,
    NameFields,
    NameTemplate,
    inside,
    safe_part,
)
from stylerec_desktop.core.export.presets import ExportPreset
from stylerec_desktop.core.export.writers import (
    TEMP_PREFIX,
    Provenance,
    build_exif,
    build_xmp,
    encode_image,
    fsync_folder,
    is_temp_name,
    to_srgb,
    write_atomic,
)
from stylerec_desktop.core.imaging import load_image, load_image_data
from stylerec_desktop.core.jobs import Job, Progress
from stylerec_desktop.core.masks import analyse_product
from stylerec_desktop.core.safe_files import (
    NotARegularFile,
    check_own_file,
    make_folders,
    open_no_follow,
    read_own_file,
    sha256_file,
)

log = logging.getLogger(__name__)

JOURNAL_NAME = ".stylerec-export-journal.jsonl"
# Bump when framing, masks or encoding change what a file looks like, so resumed exports redo old files.
# 2: backdrop-model padding, frame lines cropped, close-ups cropped within the photo, enlargement up to 4x.
RENDER_VERSION = 2
_WHITE = (255, 255, 255)


@dataclass(frozen=True)
class ExportItem:
    """One picture to export: ``(sku, title, category, image, style, recipe, segment)``.

    ``image`` is a file path or a PIL image (a render); ``style`` is a label for names and the manifest;
    ``recipe`` is the style engine's record of how a render was made (None for an untouched catalog image);
    ``segment`` names the customer segment of a campaign set; ``fidelity_flag`` a doubt about the render's
    fidelity to its product, written to the manifest (see ``export.fidelity``). Plain tuples in that order are
    accepted too.
    """

    sku: str
    title: str = ""
    category: str = ""
    image: Path | str | Image.Image | None = None
    style: str = ""
    recipe: Mapping[str, Any] | None = None
    segment: str | None = None
    fidelity_flag: str = ""

    @property
    def product_fidelity(self) -> float | None:
        """The render's measured 0..1 fidelity to its product from its recipe (None: not a render, or none)."""
        measured = dict((self.recipe or {}).get("fidelity") or {})
        value = measured.get("product_fidelity")
        return None if value is None else float(value)

    def __post_init__(self) -> None:
        if self.image is None:
            raise TypeError(f"ExportItem {self.sku!r} needs an image (a path or a PIL image)")


@dataclass(frozen=True)
class ExportOptions:
    """Settings of one export as a whole.

    ``template``: file names (see :mod:`naming`). ``keep_metadata``: copy the source's EXIF (else only our
    description is written). ``background``: padding colour for every preset, overriding the presets' own and
    the sampled one. ``zip``: also write ``<folder name>.zip`` of the whole set. ``date``: the ``{date}`` token
    (default: the date the export was first started, kept when it is resumed). ``workers``: encoding threads.
    """

    template: str = DEFAULT_TEMPLATE
    keep_metadata: bool = False
    background: tuple[int, int, int] | None = None
    zip: bool = False
    date: dt.date | None = None
    workers: int = field(default_factory=lambda: max(1, min(4, os.cpu_count() or 1)))


@dataclass(frozen=True)
class ExportFailure:
    """An item that could not be exported (its image is missing or broken); the others still were."""

    sku: str
    message: str


@dataclass(frozen=True)
class ExportResult:
    """What an export did. ``files`` are the manifest rows in export order (items x presets)."""

    out_dir: Path
    files: tuple[ManifestRow, ...]
    written: int
    skipped: int
    failures: tuple[ExportFailure, ...]
    warnings: tuple[str, ...]
    manifest_csv: Path
    manifest_json: Path
    zip_path: Path | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready summary (the CLI's ``--json``); the per-file rows are in ``manifest.json``."""
        return {
            "out_dir": str(self.out_dir),
            "files": len(self.files),
            "written": self.written,
            "skipped": self.skipped,
            "failures": [asdict(f) for f in self.failures],
            "warnings": list(self.warnings),
            "manifest_csv": str(self.manifest_csv),
            "manifest_json": str(self.manifest_json),
            "zip": str(self.zip_path) if self.zip_path else None,
        }


@dataclass(frozen=True)
class _PlannedFile:
    path: str  # relative, "/"-separated
    preset: ExportPreset


@dataclass(frozen=True)
class _ItemTask:
    index: int
    item: ExportItem
    provenance: Provenance
    files: tuple[_PlannedFile, ...]


@dataclass
class _ItemOutcome:
    index: int
    rows: list[ManifestRow]
    written: int = 0
    skipped: int = 0
    warnings: list[str] = field(default_factory=list)
    failure: ExportFailure | None = None


class _Stopped(Exception):
    """The export was cancelled while a worker was between two files."""


def _disk_error(folder: Path, exc: OSError) -> UserError:
    reason = exc.strerror or str(exc)
    if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
        return UserError(
            f"The disk holding the export folder {folder} is full. Free some space and export again: "
            "the files already finished are kept and will be skipped."
        )
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return UserError(
            f"The export folder {folder} cannot be written to ({reason}). Choose another folder, or ask for "
            "write permission to this one."
        )
    return UserError(f"Writing to the export folder {folder} failed ({reason}). Check the disk and try again.")


def _prepare_folder(out_dir: Path) -> None:
    """Create ``out_dir`` and prove it is writable before any work is done."""
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        # A uniquely named probe (two exports may start at once), with the temporary-file prefix so that a crash
        # right here still leaves nothing a later run would not clean up.
        handle, probe = tempfile.mkstemp(prefix=TEMP_PREFIX + "probe-", dir=out_dir)
        os.close(handle)
        os.unlink(probe)
    except OSError as exc:
        raise _disk_error(out_dir, exc) from exc


def _remove_stale_temp_files(folders: Iterable[Path]) -> None:
    """Delete temporary files a crashed export (``kill -9``, power cut) left in the folders this export uses."""
    for folder in folders:
        with contextlib.suppress(OSError), os.scandir(folder) as entries:
            for entry in entries:
                if is_temp_name(entry.name) and entry.is_file(follow_symlinks=False):
                    with contextlib.suppress(OSError):
                        os.unlink(entry.path)


def _read_journal(out_dir: Path) -> tuple[str | None, dict[str, ManifestRow]]:
    """The date and finished files recorded by an interrupted run of an export into ``out_dir``.

    A journal that is a symbolic link or not a regular file is refused (:class:`UserError`), not read; one
    with damaged bytes loses only its damaged lines (their files are made again).
    """
    rows: dict[str, ManifestRow] = {}
    date = None
    try:
        data = read_own_file(out_dir / JOURNAL_NAME)
    except OSError:
        data = None
    if data is None:
        return None, rows
    lines = data.decode("utf-8", errors="replace").splitlines()
    for line in lines:
        try:
            entry = json.loads(line)
            if "date" in entry and len(entry) == 1:
                date = str(entry["date"])
            else:
                row = ManifestRow(**entry)
                rows[row.path] = row
        except (ValueError, TypeError):
            continue  # the last line of a killed run may be cut short
    return date, rows


def _source_key(image: Path | Image.Image) -> str:
    """A fingerprint of the source pixels: the file's SHA-256, or a hash of a PIL image's mode, size and pixels."""
    digest = hashlib.sha256()
    if isinstance(image, Image.Image):
        digest.update(f"{image.mode}:{image.size}:".encode())
        digest.update(image.tobytes())
        digest.update(image.info.get("icc_profile") or b"")
        return digest.hexdigest()
    return sha256_file(image)  # a device or FIFO in the catalog is refused: it would be read without end


def _input_key(source: str, preset: ExportPreset, xmp: bytes, options: ExportOptions) -> str:
    parts = {
        "render_version": RENDER_VERSION,
        "source": source,
        "preset": preset.to_dict(),
        "xmp": hashlib.sha256(xmp).hexdigest(),
        "keep_metadata": options.keep_metadata,
        "background": list(options.background) if options.background else None,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode("utf-8")).hexdigest()


def _file_matches(path: Path, row: ManifestRow) -> bool:
    """Whether ``path`` is on disk with exactly the size and SHA-256 that ``row`` records."""
    try:
        if path.stat().st_size != row.bytes:
            return False
        return sha256_file(path) == row.sha256
    except (OSError, NotARegularFile):  # something else where the file was: not ours, so not a match
        return False


def _load_source(
    image: Path | Image.Image, data: bytes | None = None
) -> tuple[Image.Image, bytes | None, bytes | None]:
    """The source as upright RGB, plus its embedded ICC profile and EXIF (orientation already applied). ``data``:
    a file's bytes read elsewhere (sent to a cluster worker); ``image`` then only names it."""
    if isinstance(image, Image.Image):
        icc, exif = image.info.get("icc_profile"), image.info.get("exif")
        picture = image
        if picture.mode in ("RGBA", "LA", "PA") or (picture.mode == "P" and "transparency" in picture.info):
            # Renders with transparency are composited over white, as catalog images are on loading.
            rgba = picture.convert("RGBA")
            picture = Image.new("RGB", rgba.size, _WHITE)
            picture.paste(rgba, mask=rgba.getchannel("A"))
        return picture.convert("RGB"), icc, exif
    # Validates the file and applies EXIF orientation; raises ImageError.
    picture = load_image(image) if data is None else load_image_data(data, Path(image).resolve())
    header = io.BytesIO(data) if data is not None else image
    with contextlib.suppress(OSError), Image.open(header) as opened:  # header only: the ICC profile
        icc = opened.info.get("icc_profile")
        return picture, icc, picture.info.get("exif")
    return picture, None, picture.info.get("exif")


def _plan(
    items: Sequence[ExportItem], presets: Sequence[ExportPreset], template: NameTemplate, date: str
) -> list[_ItemTask]:
    allocator = NameAllocator()
    tasks = []
    for index, item in enumerate(items):
        provenance = Provenance.for_item(item.sku, item.title, item.style, item.recipe, item.segment)
        files = []
        for preset in presets:
            fields = NameFields(
                sku=item.sku,
                title=item.title,
                category=item.category,
                style=item.style,
                preset=preset.name,
                w=preset.width,
                h=preset.height,
                date=date,
                seq=index + 1,
                segment=item.segment or "",
            )
            files.append(_PlannedFile(allocator.allocate(template.render(fields), preset.extension), preset))
        tasks.append(_ItemTask(index, item, provenance, tuple(files)))
    return tasks


def _check_item(
    task: _ItemTask, out_dir: Path, options: ExportOptions, previous: Mapping[str, ManifestRow]
) -> tuple[_ItemOutcome, list[tuple[_PlannedFile, str]], Path | Image.Image, str]:
    """The item's outcome so far (its files already finished and unchanged: skipped; or why it failed), the files
    still to make with their input keys, its source (a path or a PIL image) and the source's fingerprint (a file's
    SHA-256; "" when it could not be read). Reads the source to hash it."""
    outcome = _ItemOutcome(task.index, [])
    item = task.item
    source = item.image if isinstance(item.image, Image.Image) else Path(str(item.image))
    xmp = build_xmp(task.provenance)
    try:
        source_key = _source_key(source)
    except OSError as exc:
        outcome.failure = ExportFailure(item.sku, f"The image {source} cannot be read ({exc.strerror or exc}).")
        return outcome, [], source, ""
    except NotARegularFile as exc:
        outcome.failure = ExportFailure(item.sku, str(exc))
        return outcome, [], source, ""
    todo: list[tuple[_PlannedFile, str]] = []
    for planned in task.files:
        key = _input_key(source_key, planned.preset, xmp, options)
        done = previous.get(planned.path)
        if done is not None and done.input_key == key and _file_matches(inside(out_dir, planned.path), done):
            # Same pixels; the fidelity columns follow this export's threshold, not the last one's.
            outcome.rows.append(
                dataclasses.replace(done, product_fidelity=item.product_fidelity, fidelity_flag=item.fidelity_flag)
            )
            outcome.skipped += 1
            # A resumed export reports what the finished file's first run warned about, as an uninterrupted one.
            outcome.warnings.extend(f"{item.sku} ({planned.preset.name}): {message}" for message in done.warnings)
        else:
            todo.append((planned, key))
    return outcome, todo, source, source_key


def _encode_files(
    task: _ItemTask,
    source: Path | Image.Image,
    todo: Sequence[tuple[_PlannedFile, str]],
    options: ExportOptions,
    outcome: _ItemOutcome,
    stop: threading.Event,
    data: bytes | None = None,
) -> Iterator[tuple[str, bytes]]:
    """Frame and encode each file of ``todo``: yields ``(relative path, file bytes)`` and adds its manifest row and
    warnings to ``outcome`` (a source that cannot be loaded is ``outcome.failure``). Writes nothing: the caller
    does (a thread of this machine, or the workstation for a cluster worker). ``data``: the source file's bytes."""
    item = task.item
    try:
        picture, icc, source_exif = _load_source(source, data)
    except UserError as exc:
        outcome.failure = ExportFailure(item.sku, str(exc))
        return
    picture, note = to_srgb(picture, icc)
    if note:
        outcome.warnings.append(f"{item.sku}: {note}")
    product = analyse_product(picture)
    pixels = np.asarray(picture)  # once, not once per preset
    xmp = build_xmp(task.provenance)
    for planned, key in todo:
        if stop.is_set():
            raise _Stopped
        preset = planned.preset
        framed = frame_for_preset(pixels, preset, product, options.background)
        # A doubtful product mask that changed a restyle's settings is a warning about every file made from it.
        fallback = str((item.recipe or {}).get("fallback") or "")
        file_warnings = (*((fallback,) if fallback else ()), *(w.message for w in framed.warnings))
        outcome.warnings.extend(f"{item.sku} ({preset.name}): {message}" for message in file_warnings)
        exif = build_exif(task.provenance, preset.size, source_exif if options.keep_metadata else None)
        encoded = encode_image(framed.image, preset, xmp=xmp, exif=exif)
        outcome.rows.append(
            ManifestRow(
                path=planned.path,
                sku=item.sku,
                preset=preset.name,
                width=preset.width,
                height=preset.height,
                format=preset.format,
                bytes=len(encoded),
                sha256=hashlib.sha256(encoded).hexdigest(),
                style_source=task.provenance.style_source,
                recipe_id=task.provenance.recipe_id,
                segment=item.segment or "",
                product_fidelity=item.product_fidelity,
                fidelity_flag=item.fidelity_flag,
                input_key=key,
                upscale=round(framed.scale, 3),
                warnings=file_warnings,
            )
        )
        outcome.written += 1
        yield planned.path, encoded


def _write_file(out_dir: Path, path: str, data: bytes) -> None:
    """Write one export file atomically at ``path`` (relative, "/"-separated) under ``out_dir``."""
    make_folders(out_dir, PurePosixPath(path).parts[:-1])  # refuses a folder that is a link
    write_atomic(inside(out_dir, path), data, sync_folder=False)


def _in_preset_order(outcome: _ItemOutcome, task: _ItemTask) -> _ItemOutcome:
    """Rows in preset order whatever mix of skipped and written files the item had."""
    order = {planned.path: i for i, planned in enumerate(task.files)}
    outcome.rows.sort(key=lambda row: order[row.path])
    return outcome


def _export_item(
    task: _ItemTask,
    out_dir: Path,
    options: ExportOptions,
    previous: Mapping[str, ManifestRow],
    stop: threading.Event,
) -> _ItemOutcome:
    """Export one item in every preset (runs on a worker thread). Disk errors propagate as ``OSError``."""
    outcome, todo, source, _ = _check_item(task, out_dir, options, previous)
    if outcome.failure is not None or not todo:
        return outcome
    for path, data in _encode_files(task, source, todo, options, outcome, stop):
        _write_file(out_dir, path, data)
    return _in_preset_order(outcome, task)


def _valid_text(text: str) -> str:
    """``text`` with any lone surrogate (not text: e.g. an undecodable byte smuggled in by a file name) replaced by
    U+FFFD, so that names, manifests and metadata can be written as UTF-8; valid text comes back unchanged."""
    return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace")


def _valid_text_fields(item: ExportItem) -> ExportItem:
    """``item`` with every text field :func:`_valid_text`."""
    fields = {"sku": item.sku, "title": item.title, "category": item.category, "style": item.style,
              "segment": item.segment}  # fmt: skip
    cleaned = {name: _valid_text(value) for name, value in fields.items() if isinstance(value, str)}
    changed: dict[str, Any] = {name: value for name, value in cleaned.items() if value != fields[name]}
    return dataclasses.replace(item, **changed) if changed else item


def export_job(
    items: Iterable[ExportItem | tuple[Any, ...]],
    presets: Sequence[ExportPreset],
    out_dir: Path | str,
    options: ExportOptions | None = None,
    cluster: ClusterSpec | None = None,
) -> Job[ExportResult]:
    """Export every item in every preset into ``out_dir``; a generator job (see :mod:`stylerec_desktop.core.jobs`).

    ``cluster``: frame and encode the files on that Ray cluster (``export.cluster``); this machine still writes
    every file, the journal and the manifests, so the result is the same and resumes the same.

    Yields :class:`Progress` per item and returns an :class:`ExportResult`. Files are named by
    ``options.template``; ``manifest.csv`` and ``manifest.json`` list them. Running the same export again into
    the same folder resumes it: finished files are checked (SHA-256) and skipped. Closing the generator (cancel)
    stops after the files in progress, removes temporary files and keeps the finished ones for a resume.

    Raises :class:`UserError` naming the folder when it cannot be created or written, or the disk is full, and
    for a bad template. An item whose image is missing or broken does not stop the export: it is listed in
    ``failures``. Nothing is written outside ``out_dir``: a symbolic link inside it where the export would write
    (a file or folder name it uses, the journal, a manifest, the zip) is a :class:`UserError` naming the link,
    raised before any file is written; ``out_dir`` itself may be a link (the caller chose it).
    """
    started = time.perf_counter()
    options = options or ExportOptions()
    out_dir = Path(out_dir).expanduser().absolute()
    export_items = [_valid_text_fields(item if isinstance(item, ExportItem) else ExportItem(*item)) for item in items]
    presets = list(presets)
    if not presets:
        raise UserError("Choose at least one export preset.")
    if len({p.name for p in presets}) != len(presets):
        raise UserError("Each export preset may be chosen only once.")
    template = NameTemplate(options.template)
    _prepare_folder(out_dir)
    zip_path = out_dir / f"{safe_part(out_dir.name)}.zip" if options.zip else None
    for own_file in (JOURNAL_NAME, MANIFEST_CSV, MANIFEST_JSON, *([zip_path.name] if zip_path else [])):
        check_own_file(out_dir / own_file)  # a link or a FIFO there is refused before any work
    journal_date, journal_rows = _read_journal(out_dir)
    date = (options.date.isoformat() if options.date else None) or journal_date or dt.date.today().isoformat()
    _, manifest_rows = read_manifest(out_dir)
    previous = {row.path: row for row in manifest_rows} | journal_rows
    tasks = _plan(export_items, presets, template, date)
    # inside() refuses links on every planned path now, before any work, rather than half-way through.
    folders = {out_dir} | {inside(out_dir, f.path).parent for task in tasks for f in task.files}
    _remove_stale_temp_files(folders)

    total = len(tasks)
    outcomes: dict[int, _ItemOutcome] = {}
    stop = threading.Event()
    journal_path = out_dir / JOURNAL_NAME
    pool = ThreadPoolExecutor(max_workers=max(1, options.workers), thread_name_prefix="export")
    journal = None
    try:
        try:
            # Non-blocking: a FIFO put there since the check fails (ENXIO) instead of waiting for a reader.
            append = os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_NONBLOCK", 0)
            journal = os.fdopen(open_no_follow(journal_path, append), "a", encoding="utf-8")
            if journal_date is None:
                journal.write(json.dumps({"date": date}) + "\n")
        except OSError as exc:
            raise _disk_error(out_dir, exc) from exc
        opened_journal = journal

        def record(outcome: _ItemOutcome) -> None:
            """Keep an item's outcome and note its finished files in the journal (what a resumed run skips)."""
            outcomes[outcome.index] = outcome
            try:
                for row in outcome.rows:
                    opened_journal.write(json.dumps(asdict(row)) + "\n")
                opened_journal.flush()
            except OSError as exc:
                raise _disk_error(out_dir, exc) from exc

        if cluster is not None:
            from stylerec_desktop.core.export.cluster import export_on_cluster_job

            try:
                yield from export_on_cluster_job(cluster, tasks, len(presets), out_dir, options, previous, record)
            except OSError as exc:  # writing a file here (a picture that cannot be read is the item's failure)
                raise _disk_error(out_dir, exc) from exc
        else:
            yield Progress(0, total, f"Exporting {total} items x {len(presets)} presets")
        pending: set[Future[_ItemOutcome]] = set()
        queue = iter(tasks if cluster is None else ())
        # A small window of submitted items keeps every worker busy without holding all images in memory.
        window = max(2, 2 * max(1, options.workers))
        exhausted = False
        while pending or not exhausted:
            while not exhausted and len(pending) < window:
                task = next(queue, None)
                if task is None:
                    exhausted = True
                    break
                pending.add(pool.submit(_export_item, task, out_dir, options, previous, stop))
            if not pending:
                break
            finished, pending = wait(pending, return_when=FIRST_COMPLETED)
            for future in finished:
                try:
                    record(future.result())
                except OSError as exc:
                    raise _disk_error(out_dir, exc) from exc
            done = len(outcomes)
            yield Progress(done, total, f"Exported {done} of {total} items")
    finally:
        # Runs on success, on error and on cancel (GeneratorExit at a yield): stop the workers between files,
        # wait for the file each is writing (it is either completed or its temporary file removed), and drop
        # anything a worker could not clean up.
        stop.set()
        pool.shutdown(wait=True, cancel_futures=True)
        if journal is not None:
            journal.close()
        _remove_stale_temp_files(folders)

    rows = [row for index in sorted(outcomes) for row in outcomes[index].rows]
    failures = tuple(f for f in (outcomes[i].failure for i in sorted(outcomes)) if f is not None)
    warnings = tuple(w for index in sorted(outcomes) for w in outcomes[index].warnings)
    # The app's log (the GUI's log window, the CLI's log file) keeps every warning with the export it came from.
    for warning in warnings:
        log.warning("export to %s: %s", out_dir, warning)
    export_info = {
        "date": date,
        "template": options.template,
        "presets": [p.to_dict() for p in presets],
        "keep_metadata": options.keep_metadata,
        "background": list(options.background) if options.background else None,
        "items": total,
        "failed": [asdict(f) for f in failures],
    }
    try:
        for folder in folders:
            fsync_folder(folder)
        csv_path, json_path = write_manifests(out_dir, rows, export_info)
        if zip_path is not None:
            write_zip(out_dir, rows, zip_path, _date_tuple(date))
        # Everything is in the manifest now, which is what a later run reads to skip files.
        journal_path.unlink(missing_ok=True)
    except OSError as exc:
        raise _disk_error(out_dir, exc) from exc
    yield Progress(total, total, "Export finished")
    log.info("export to %s: %d items x %d presets, %d files written, %d skipped (already there), %d failed, in %.1f s",
             out_dir, total, len(presets), sum(o.written for o in outcomes.values()),
             sum(o.skipped for o in outcomes.values()), len(failures), time.perf_counter() - started)  # fmt: skip
    return ExportResult(
        out_dir=out_dir,
        files=tuple(rows),
        written=sum(o.written for o in outcomes.values()),
        skipped=sum(o.skipped for o in outcomes.values()),
        failures=failures,
        warnings=warnings,
        manifest_csv=csv_path,
        manifest_json=json_path,
        zip_path=zip_path,
    )


def _date_tuple(date: str) -> tuple[int, int, int]:
    try:
        day = dt.date.fromisoformat(date)
    except ValueError:
        day = dt.date(1980, 1, 1)  # the earliest date a zip can store
    return day.year, day.month, day.day


def with_format(presets: Iterable[ExportPreset], format: str | None) -> list[ExportPreset]:
    """``presets`` all switched to ``format`` (the CLI's ``--format``); unchanged when ``format`` is None."""
    return [p if format is None else p.with_format(format) for p in presets]


"""The on-disk thumbnail cache: small JPEGs named by the SHA-256 of the image they were made from.

Naming by content means a thumbnail never goes stale (a changed image has another hash), two products sharing
one image share one thumbnail, and no index is needed. Safe to call from several worker threads (or processes)
at once: a thumbnail appears on disk complete or not at all.
"""

from __future__ import annotations

import contextlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

from stylerec_desktop.core.imaging import ImageError, load_image
from stylerec_desktop.core.safe_files import atomic_file

_SHA256 = re.compile(r"[0-9a-f]{64}")
_THUMBNAIL_NAME = re.compile(r"[0-9a-f]{64}_[0-9]+\.jpg")
_JPEG_QUALITY = 88  # thumbnails of product shots: no visible blocking on flat studio backgrounds


def thumbnail_path(thumbs_dir: Path, sha256: str, size: int) -> Path:
    """Where the ``size`` px thumbnail of the image with hash ``sha256`` lives: ``thumbs_dir/ab/<sha256>_<size>.jpg``.

    The two-character sub-folder keeps any one folder to a few hundred files even for 100,000 products,
    which file managers and some file systems handle far better than one huge folder.
    """
    if not _SHA256.fullmatch(sha256):
        # A hash from the catalog is always 64 lowercase hex digits; anything else would let a caller write
        # outside thumbs_dir, so it is a programming error.
        raise ValueError(f"not a lowercase SHA-256 hex digest: {sha256!r}")
    if size < 1:
        raise ValueError(f"thumbnail size must be >= 1, got {size}")
    return Path(thumbs_dir) / sha256[:2] / f"{sha256}_{size}.jpg"


def ensure_thumbnail(thumbs_dir: Path, image_path: Path, sha256: str, size: int = 256) -> Path:
    """Return the cached thumbnail of ``image_path``, making it first if there is none.

    The thumbnail keeps the image's aspect ratio with its longer side ``size`` px (smaller images are not
    blown up); EXIF orientation, CMYK and transparency are handled as in
    :func:`~stylerec_desktop.core.imaging.load_image`. ``sha256`` is the image's hash as the catalog stores it;
    the cache trusts it and does not rehash the file. Raises :class:`ImageError` for an unusable image.
    """
    target = thumbnail_path(thumbs_dir, sha256, size)
    if target.is_file():
        return target
    picture = load_image(image_path, max_side=size)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ImageError(
            target, f"cannot be created ({exc.strerror or exc})", "a writable thumbnail folder", "write"
        ) from exc
    try:
        # Atomic, so a reader (or a second worker racing on the same thumbnail) sees no file or a whole one; not
        # fsynced: a cache rebuilt when lost, and thousands of fsyncs would slow a big catalog's first view.
        with atomic_file(target, durable=False) as stream:
            picture.save(stream, format="JPEG", quality=_JPEG_QUALITY)
    except OSError as exc:
        raise ImageError(
            target, f"cannot be written ({exc.strerror or exc})", "free space in the catalog folder", "write"
        ) from exc
    return target


@dataclass(frozen=True)
class CacheUsage:
    """How many thumbnail files, and how many bytes on disk, a cache holds (or an operation removed)."""

    files: int = 0
    bytes: int = 0


def _thumbnail_files(thumbs_dir: Path) -> list[tuple[Path, os.stat_result]]:
    """Every thumbnail in the cache with its ``stat``. Only files named like thumbnails count (and are ever removed):
    whatever else someone put in the folder is left alone."""
    found: list[tuple[Path, os.stat_result]] = []
    root = Path(thumbs_dir)
    if not root.is_dir():
        return found
    for folder in root.iterdir():
        if not folder.is_dir() or len(folder.name) != 2:
            continue
        for path in folder.iterdir():
            if _THUMBNAIL_NAME.fullmatch(path.name):
                with contextlib.suppress(FileNotFoundError):  # removed by another process meanwhile
                    found.append((path, path.stat()))
    return found


def cache_usage(thumbs_dir: Path) -> CacheUsage:
    """Files and bytes of the thumbnails in ``thumbs_dir`` (a walk of the folder: run it off the GUI thread)."""
    files = _thumbnail_files(thumbs_dir)
    return CacheUsage(len(files), sum(stat.st_size for _, stat in files))


def _remove(files: list[tuple[Path, os.stat_result]]) -> CacheUsage:
    removed = CacheUsage()
    for path, stat in files:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()
            removed = CacheUsage(removed.files + 1, removed.bytes + stat.st_size)
    return removed


def clear_thumbnails(thumbs_dir: Path) -> CacheUsage:
    """Remove every thumbnail in ``thumbs_dir``; they are made again when next shown. Returns what was removed."""
    return _remove(_thumbnail_files(thumbs_dir))


def trim_thumbnails(thumbs_dir: Path, max_bytes: int) -> CacheUsage:
    """Remove the oldest thumbnails until the cache holds at most ``max_bytes``. Returns what was removed.

    Oldest by modification time, which is when a thumbnail was made (reading one never touches it): thumbnails of
    products nobody has looked at since they were imported go first.
    """
    if max_bytes < 0:
        raise ValueError(f"max_bytes must be >= 0, got {max_bytes}")
    files = sorted(_thumbnail_files(thumbs_dir), key=lambda entry: entry[1].st_mtime_ns)
    excess = sum(stat.st_size for _, stat in files) - max_bytes
    doomed: list[tuple[Path, os.stat_result]] = []
    for path, stat in files:
        if excess <= 0:
            break
        doomed.append((path, stat))
        excess -= stat.st_size
    return _remove(doomed)

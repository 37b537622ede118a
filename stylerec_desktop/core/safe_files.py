"""The app's one file-helper module. Writing files where the user said, and nowhere else: atomic writes (bytes or
text, fsync, temporary file in the same folder) that never follow a symbolic link; reading only regular files (a
device or a pipe named as an input would otherwise be read forever); the sha256 of a file read in chunks; and a
free name for a new file (:func:`unique_path`).

A folder the app writes into (an export folder, a stylize ``--out``) may hold links someone else put there: a link
named like a file the app is about to write, pointing at a file elsewhere, would otherwise make the app overwrite
or append to that file. So every file is created new under a random temporary name with ``O_EXCL`` (which never
follows a link, dangling or not) and ``O_NOFOLLOW``, then renamed over its real name (a rename replaces a link
itself, never its target); and a real name, or a folder between the chosen folder and it, that is a link is refused
up front with a :class:`UserError` naming it. The folder the user chose may itself be a link: they chose it.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import os
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, TextIO

from stylerec_desktop.core.errors import UserError

# Every temporary file starts so; a later run deletes any that a crash left behind.
TEMP_PREFIX = ".stylerec-tmp-"
# Not on Windows, which has no symbolic-link following on open to turn off; the lstat checks still apply there.
O_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_O_BINARY = getattr(os, "O_BINARY", 0)
_NEW_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | O_NOFOLLOW | _O_BINARY
# Opening a FIFO for reading waits for a writer; with O_NONBLOCK it returns at once and is refused by fstat.
_O_NONBLOCK = getattr(os, "O_NONBLOCK", 0)
_SPECIAL_KINDS = (
    (stat.S_ISFIFO, "named pipe (FIFO)"),
    (stat.S_ISCHR, "device"),
    (stat.S_ISBLK, "device"),
    (stat.S_ISSOCK, "socket"),
)


class NotARegularFile(UserError):
    """An input path that names a device, a named pipe or a socket rather than a file saved on disk.

    ``kind`` is the short name of what it is ("device", "named pipe (FIFO)", "socket"), for messages that name
    the path their own way.
    """

    def __init__(self, path: Path, kind: str) -> None:
        self.path = path
        self.kind = kind
        super().__init__(
            f"{path} is a {kind}, not a file: StyleRec reads only files saved on disk (a device or pipe could be "
            "read without end). Choose the file itself."
        )


def _special_kind(mode: int) -> str:
    return next((name for test, name in _SPECIAL_KINDS if test(mode)), "special file")


def link_refused(path: Path) -> UserError:
    """The error for a symbolic link found where the app was about to write (or read back) its own file."""
    return UserError(
        f"{path} is a symbolic link. StyleRec never writes through a link (it could overwrite a file somewhere "
        "else): delete the link, or choose another folder."
    )


def refuse_link(path: Path) -> None:
    """Raise :func:`link_refused` when ``path`` is a symbolic link (a dangling one too); nothing to do otherwise."""
    if os.path.islink(path):
        raise link_refused(path)


def is_temp_name(name: str) -> bool:
    """Whether ``name`` is one of the temporary files :func:`atomic_file` makes (and may leave after a crash)."""
    return name.startswith(TEMP_PREFIX)


def check_own_file(path: Path) -> bool:
    """Whether the app's own file ``path`` (a journal, a manifest) exists; a :class:`UserError` naming it when
    it is a symbolic link, or a device, FIFO or socket (reading or appending to one of those would block or
    write elsewhere). ``path``'s folder is taken as checked."""
    try:
        info = os.lstat(path)
    except FileNotFoundError:
        return False
    if stat.S_ISLNK(info.st_mode):
        raise link_refused(path)
    if not stat.S_ISREG(info.st_mode):
        kind = "folder" if stat.S_ISDIR(info.st_mode) else _special_kind(info.st_mode)
        raise UserError(f"{path} is a {kind} where StyleRec keeps a file of its own: delete it, or choose another "
                        "folder.")  # fmt: skip
    return True


def read_own_file(path: Path) -> bytes | None:
    """The bytes of the app's own file ``path``, None when there is none; see :func:`check_own_file` for what is
    refused. Opened without following links and without blocking, so a swap after the check is refused too."""
    if not check_own_file(path):
        return None
    try:
        fd = os.open(path, os.O_RDONLY | O_NOFOLLOW | _O_NONBLOCK | _O_BINARY)
    except FileNotFoundError:
        return None
    except OSError:
        check_own_file(path)  # names a link or special file that appeared since; else the OSError stands
        raise
    with os.fdopen(fd, "rb") as stream:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode):
            raise NotARegularFile(path, _special_kind(info.st_mode))
        return stream.read()


def open_no_follow(path: Path, flags: int, mode: int = 0o666) -> int:
    """``os.open(path, flags | O_NOFOLLOW)``; a link at ``path`` is a :class:`UserError` naming it.

    Returns the file descriptor. Other ``OSError`` (missing, no permission, disk full) propagate as they are.
    """
    refuse_link(path)  # also where O_NOFOLLOW does not exist
    try:
        return os.open(path, flags | O_NOFOLLOW | _O_BINARY, mode)
    except OSError as exc:
        # ELOOP is what O_NOFOLLOW gives for a link made between the check above and the open.
        if os.path.islink(path):
            raise link_refused(path) from exc
        raise


def create_new_file(path: Path) -> BinaryIO:
    """A new file at ``path`` open for binary writing; ``FileExistsError`` when anything is there, a link too.

    ``O_EXCL`` makes the creation fail rather than follow a link (dangling or not) planted at ``path``.
    """
    return os.fdopen(os.open(path, _NEW_FILE_FLAGS, 0o666), "wb")


@contextlib.contextmanager
def atomic_file(path: Path, *, sync_folder: bool = True, durable: bool = True) -> Iterator[BinaryIO]:
    """Open a file to be written that appears at ``path`` only when the ``with`` block ends without error.

    The bytes go to a new temporary file in the same folder, are flushed to the disk (fsync) and the file is then
    renamed over ``path`` (atomic on one file system), so ``path`` is never seen partly written, even after a
    crash. With ``sync_folder`` the folder is fsynced too, so the rename itself survives a power cut; a caller
    writing many files into one folder can pass False and call :func:`fsync_folder` once at the end. On any
    error (a full disk included), or when the block is left by cancellation, the temporary file is removed and
    the error re-raised. ``path`` being a symbolic link is a :class:`UserError` (see the module docstring).
    ``durable=False`` skips both fsyncs, for caches that are rebuilt when lost (thumbnails): the rename is still
    atomic, only a power cut may lose the file.
    """
    refuse_link(path)
    temp = path.with_name(f"{TEMP_PREFIX}{uuid.uuid4().hex[:12]}-{path.name}")
    stream = create_new_file(temp)
    try:
        yield stream
        stream.flush()
        if durable:
            os.fsync(stream.fileno())
        stream.close()
        os.replace(temp, path)
    except BaseException:
        # On a full disk, close() flushes the buffered bytes again and fails again: it must not stop the removal.
        with contextlib.suppress(OSError):
            stream.close()
        with contextlib.suppress(OSError):
            temp.unlink()
        raise
    if sync_folder and durable:
        fsync_folder(path.parent)


@contextlib.contextmanager
def atomic_text_file(
    path: Path, *, encoding: str = "utf-8", newline: str | None = None, sync_folder: bool = True
) -> Iterator[TextIO]:
    """:func:`atomic_file` for text: a text stream (``encoding``, ``newline`` as :func:`open` takes them)."""
    with atomic_file(path, sync_folder=sync_folder) as binary:
        text = io.TextIOWrapper(binary, encoding=encoding, newline=newline)
        try:
            yield text
            text.flush()
        finally:
            text.detach()  # the binary stream stays open for atomic_file to fsync, close and rename


def write_atomic(
    path: Path, data: bytes | str, *, sync_folder: bool = True, make_folder: bool = False, encoding: str = "utf-8"
) -> None:
    """Write ``data`` (bytes, or text written in ``encoding``) to ``path`` through :func:`atomic_file` (see there
    for the guarantees): readers (the GUI, an ad tool watching the folder) see the old file or the whole new one,
    never half of it. ``make_folder`` creates the missing folders above ``path`` first."""
    if make_folder:
        path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_file(path, sync_folder=sync_folder) as stream:
        stream.write(data.encode(encoding) if isinstance(data, str) else data)


def sha256_stream(stream: BinaryIO, chunk_bytes: int = 1 << 20) -> str:
    """Hex sha256 of what is left to read in ``stream``, read ``chunk_bytes`` at a time (memory stays flat)."""
    digest = hashlib.sha256()
    for chunk in iter(lambda: stream.read(chunk_bytes), b""):
        digest.update(chunk)
    return digest.hexdigest()


def sha256_file(path: Path, *, follow_links: bool = True) -> str:
    """Hex sha256 of the file ``path``, read in 1 MiB chunks. Only a regular file is read (see
    :func:`open_regular_file`: a device or FIFO is :class:`NotARegularFile`); a missing or unreadable file raises
    the ``OSError`` for the caller to word."""
    stream, _ = open_regular_file(path, follow_links=follow_links)
    with stream:
        return sha256_stream(stream)


def unique_path(folder: Path, stem: str, suffix: str = ".png") -> Path:
    """``folder/stem.png``, or ``stem-2.png``, ``stem-3.png``... when taken (renders and contact sheets are named to
    the second, and two can finish within one). A symbolic link, even a dangling one, counts as taken: a new file
    is never written where a link is."""
    path, copy = folder / f"{stem}{suffix}", 1
    while os.path.lexists(path):
        copy += 1
        path = folder / f"{stem}-{copy}{suffix}"
    return path


def fsync_folder(folder: Path) -> None:
    """Make the renames done in ``folder`` durable (fsync of the folder itself)."""
    # Windows cannot open a folder for fsync (and NTFS journals the rename itself); elsewhere it can fail on some
    # network file systems, where there is nothing better to do than carry on.
    if os.name == "nt":
        return
    with contextlib.suppress(OSError):
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def make_folders(root: Path, relative_parts: tuple[str, ...]) -> Path:
    """Create ``root/part1/part2/...`` folder by folder, refusing any of them that is a symbolic link.

    ``root`` itself is the user's choice and is not checked; it must exist. Returns the deepest folder. A part
    that exists as a file is a :class:`UserError` too (the app would otherwise fail later with a bare OSError).
    """
    folder = root
    for part in relative_parts:
        folder = folder / part
        try:
            info = os.lstat(folder)
        except FileNotFoundError:
            with contextlib.suppress(FileExistsError):  # another writer may make it at the same moment
                os.mkdir(folder)
            info = os.lstat(folder)
        if stat.S_ISLNK(info.st_mode):
            raise link_refused(folder)
        if not stat.S_ISDIR(info.st_mode):
            raise UserError(f"{folder} is a file where a folder is needed: move it away, or choose another folder.")
    return folder


def open_regular_file(path: Path, *, follow_links: bool = True) -> tuple[BinaryIO, int]:
    """Open ``path`` for reading only if it is a regular file; returns the stream and the file's size in bytes.

    The type is checked with ``stat`` before the open, so a device is never opened and a FIFO never blocks;
    and again on the open file (a file swapped for a FIFO in between is opened non-blocking and refused).
    Raises :class:`NotARegularFile`; ``IsADirectoryError``, ``FileNotFoundError`` and other ``OSError`` as
    ``open`` would. Links are followed by default: an input file is the user's choice, wherever it lives; with
    ``follow_links=False`` (reading back a file the app wrote) a link is a :class:`UserError` naming it.
    """
    if not follow_links:
        refuse_link(path)
    info = os.stat(path, follow_symlinks=follow_links)
    if stat.S_ISDIR(info.st_mode):
        raise IsADirectoryError(errno.EISDIR, "Is a directory", str(path))
    if not stat.S_ISREG(info.st_mode):
        raise NotARegularFile(path, _special_kind(info.st_mode))
    no_follow = 0 if follow_links else O_NOFOLLOW
    fd = os.open(path, os.O_RDONLY | _O_NONBLOCK | _O_BINARY | no_follow)
    try:
        opened = os.fstat(fd)
        if not stat.S_ISREG(opened.st_mode):
            raise NotARegularFile(path, _special_kind(opened.st_mode))
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb"), opened.st_size

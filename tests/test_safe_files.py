"""The one file-helper module: atomic text and byte writes that leave the old file or the whole new one, the sha256
of a file read in chunks, and a free name for a new file."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest

from stylerec_desktop.core.errors import UserError
from stylerec_desktop.core.safe_files import (
    NotARegularFile,
    atomic_text_file,
    is_temp_name,
    sha256_file,
    unique_path,
    write_atomic,
)


def test_text_is_written_whole_or_not_at_all(tmp_path: Path) -> None:
    target = tmp_path / "rejects.csv"
    target.write_text("old\n", encoding="utf-8")
    with atomic_text_file(target, encoding="utf-8-sig", newline="") as stream:
        stream.write("sku,problem\r\nTÖTE-1,price\r\n")
        assert target.read_text(encoding="utf-8") == "old\n"  # nothing shows until the block ends
    assert target.read_bytes() == "\ufeffsku,problem\r\nTÖTE-1,price\r\n".encode()
    with pytest.raises(RuntimeError), atomic_text_file(target) as stream:
        stream.write("half")
        raise RuntimeError("disk gone")
    assert target.read_bytes().startswith(b"\xef\xbb\xbfsku")  # the old file stands
    assert not any(is_temp_name(p.name) for p in tmp_path.iterdir())  # and no temporary file is left


def test_write_atomic_takes_text_makes_folders_and_refuses_a_link(tmp_path: Path) -> None:
    write_atomic(tmp_path / "a" / "b" / "log.txt", "héllo", make_folder=True)
    assert (tmp_path / "a" / "b" / "log.txt").read_bytes() == "héllo".encode()
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text("keep me")
    (tmp_path / "link.txt").symlink_to(elsewhere)
    with pytest.raises(UserError, match="symbolic link"):
        write_atomic(tmp_path / "link.txt", b"x")
    assert elsewhere.read_text() == "keep me"


def test_sha256_of_a_file_in_chunks(tmp_path: Path) -> None:
    data = os.urandom(3 * (1 << 20) + 17)  # more than one chunk, not a whole number of them
    path = tmp_path / "big.bin"
    path.write_bytes(data)
    assert sha256_file(path) == hashlib.sha256(data).hexdigest()
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    with pytest.raises(NotARegularFile):  # refused at once, never read without end
        sha256_file(fifo)
    with pytest.raises(FileNotFoundError):
        sha256_file(tmp_path / "missing.bin")


def test_unique_path_skips_taken_names_and_links(tmp_path: Path) -> None:
    assert unique_path(tmp_path, "shot") == tmp_path / "shot.png"
    (tmp_path / "shot.png").write_bytes(b"")
    (tmp_path / "shot-2.png").symlink_to(tmp_path / "nowhere.png")  # dangling: still taken
    assert unique_path(tmp_path, "shot") == tmp_path / "shot-3.png"
    assert unique_path(tmp_path, "sheet", ".jpg") == tmp_path / "sheet.jpg"

"""Running `stylerec` as a separate process, for the fault suite: to completion, or killed (SIGKILL) after a delay;
and snapshots of what a user would compare (rows, files) to check a resumed run against an uninterrupted one."""

from __future__ import annotations

import hashlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH", "")]))
    return env


def stylerec(catalog: Path, *argv: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """Run ``stylerec --catalog CATALOG -q ARGV`` to its end."""
    return subprocess.run([sys.executable, "-m", "stylerec_desktop.cli", "--catalog", str(catalog), "-q", *argv],
                          capture_output=True, text=True, env=env(), timeout=timeout)  # fmt: skip


def killed_after(catalog: Path, delay: float, *argv: str) -> bool:
    """Start ``stylerec`` and kill it with SIGKILL after ``delay`` seconds; True when it was still running (so the
    kill interrupted it), False when it had already finished."""
    process = subprocess.Popen([sys.executable, "-m", "stylerec_desktop.cli", "--catalog", str(catalog), "-q", *argv],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env())  # fmt: skip
    deadline = time.monotonic() + delay
    while time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.005)
    running = process.poll() is None
    if running:
        os.kill(process.pid, signal.SIGKILL)
    process.wait()
    return running


def timed(catalog: Path, *argv: str) -> float:
    """Seconds an uninterrupted run takes (checked to succeed)."""
    start = time.perf_counter()
    result = stylerec(catalog, *argv)
    assert result.returncode == 0, result.stderr
    return time.perf_counter() - start


def integrity(catalog: Path) -> str:
    with sqlite3.connect(catalog / "catalog.sqlite") as conn:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]


def rows(catalog: Path, sql: str) -> list[tuple]:
    conn = sqlite3.connect(catalog / "catalog.sqlite")
    try:
        return conn.execute(sql).fetchall()
    finally:
        conn.close()


def files(folder: Path) -> dict[str, str]:
    """Relative path -> SHA-256 of every file under ``folder`` (hidden ones included)."""
    return {
        path.relative_to(folder).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }

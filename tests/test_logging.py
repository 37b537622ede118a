"""The log a user reads later: job outcomes with counts and times, catalog upgrades, and `stylerec -v` / `-vv`."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from collections.abc import Generator
from pathlib import Path

import pytest
from PIL import Image

from stylerec_desktop.cli import main
from stylerec_desktop.core.errors import UserError
from stylerec_desktop.core.jobs import Job, Progress, logged_outcome, run_job

log = logging.getLogger("tests.outcome")


def _counting(steps: int, fail_at: int | None = None) -> Generator[Progress, None, int]:
    for step in range(steps):
        if step == fail_at:
            raise ValueError("the disk went away")
        yield Progress(step + 1, steps)
    return steps


def test_a_job_outcome_is_logged_finished_cancelled_or_failed(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="tests.outcome")
    assert run_job(logged_outcome(_counting(3), log, "counting", lambda n: f"{n} counted")) == 3

    cancelled = logged_outcome(_counting(5), log, "long count", str)
    next(cancelled)
    cancelled.close()

    with pytest.raises(ValueError, match="disk went away"):
        run_job(logged_outcome(_counting(5, fail_at=2), log, "doomed count", str))

    def refused() -> Job[int]:
        yield Progress(0, 1)
        raise UserError("The disk holding the catalog is full.")

    with pytest.raises(UserError):
        run_job(logged_outcome(refused(), log, "import", str))

    lines = [(r.levelno, r.getMessage()) for r in caplog.records if r.name == "tests.outcome"]
    # A bug is a warning; an error the user is told about anyway is information for the log.
    assert [level for level, _ in lines] == [logging.INFO, logging.INFO, logging.WARNING, logging.INFO]
    assert lines[0][1].startswith("counting finished in ") and lines[0][1].endswith(" s: 3 counted")
    assert lines[1][1].startswith("long count cancelled after ")
    assert lines[2][1].startswith("doomed count failed after ") and lines[2][1].endswith("the disk went away")


def _products(folder: Path) -> Path:
    (folder / "img").mkdir(parents=True)
    for i, colour in enumerate(["navy", "tomato"]):
        Image.new("RGB", (64, 48), colour).save(folder / "img" / f"p{i}.png")
    path = folder / "products.csv"
    path.write_text(
        "sku,title,category,image\nTEE-1,Navy Tee,tees,img/p0.png\nMUG-1,Tomato Mug,mugs,img/p1.png\n"
        "BAD-1,,mugs,img/p1.png\n",
        encoding="utf-8",
    )
    return path


def test_import_and_export_say_what_they_did(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, capsys: pytest.CaptureFixture[str]
) -> None:
    caplog.set_level(logging.INFO, logger="stylerec_desktop")
    catalog = str(tmp_path / "cat")
    assert main(["--catalog", catalog, "init"]) == 0
    products = _products(tmp_path / "src")
    assert main(["--catalog", catalog, "import", "products", str(products), "--skip-bad"]) == 0
    out = tmp_path / "out"
    assert main(["--catalog", catalog, "export", "--sku", "TEE-1", "MUG-1", "--preset", "square,thumb",
                 "--out", str(out)]) == 0  # fmt: skip
    capsys.readouterr()
    messages = [r.getMessage() for r in caplog.records if r.levelno == logging.INFO]
    assert any(m.startswith(f"catalog {Path(catalog).resolve()}") and "created at schema v" in m for m in messages)
    imported = [m for m in messages if m.startswith("import of products from ")]
    assert len(imported) == 1 and "3 rows read, 2 imported, 0 merged, 1 problem, bad rows in " in imported[0], imported
    exported = [m for m in messages if m.startswith(f"export to {out}")]
    assert len(exported) == 1 and "2 items x 2 presets, 4 files written" in exported[0], exported
    assert len(list(out.rglob("*.jpg"))) == 4  # the log's count is the files on disk


def _cli(*argv: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    return subprocess.run([sys.executable, "-m", "stylerec_desktop.cli", *argv], capture_output=True, text=True,
                          env=env, timeout=120)  # fmt: skip


def test_verbose_flags_choose_what_the_cli_logs(tmp_path: Path) -> None:
    """Quiet by default; ``-v`` (or ``--verbose``) adds what happened; ``-vv`` the details."""
    quiet = _cli("--catalog", str(tmp_path / "a"), "init")
    assert quiet.returncode == 0 and quiet.stderr == ""
    verbose = _cli("--verbose", "--catalog", str(tmp_path / "b"), "init")
    assert verbose.returncode == 0 and "INFO stylerec_desktop.core.catalog.schema" in verbose.stderr
    assert "created at schema v" in verbose.stderr and "DEBUG" not in verbose.stderr
    details = _cli("-vv", "--catalog", str(tmp_path / "c"), "init")
    assert details.returncode == 0 and "DEBUG stylerec_desktop.core.catalog.schema" in details.stderr
    assert "schema step to v1 done" in details.stderr

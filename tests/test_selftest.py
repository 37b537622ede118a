"""`stylerec self-test`: the end-to-end check a bundle runs after it is built (and a user runs when in doubt)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from stylerec_desktop.core import selftest
from stylerec_desktop.core.selftest import CheckFailed

ROOT = Path(__file__).resolve().parents[1]
CHECKS = ["weights checksums", "demo catalog", "style index", "recommendations", "main window", "style engines",
          "preview: arbitrary", "preview: preset", "preview: colour", "preview: gatys", "export"]  # fmt: skip


@pytest.mark.slow
def test_self_test_passes_here_and_leaves_what_it_made_when_asked(tmp_path: Path) -> None:
    """About 20 s on an idle 2-core machine: a 12-product demo, its index, the window, three previews, an export."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "stylerec_desktop.cli", "self-test", "--keep", str(tmp_path)],
                          env=env, capture_output=True, text=True, timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    outcomes = {line[8:34].strip(): line[:7].strip() for line in lines[1:-1] if line[:7].strip()}
    assert list(outcomes) == CHECKS
    for name, outcome in outcomes.items():
        # Only Gatys may be skipped, and only without its optional VGG19.
        assert outcome == "ok" or (name == "preview: gatys" and outcome == "skipped"), (name, outcome)
    assert lines[-1].startswith("self-test passed: 11 checks")
    with Image.open(tmp_path / "window.png") as shot:
        assert shot.size == (1280, 800)
    for engine in ("arbitrary", "preset", "colour"):
        with Image.open(tmp_path / f"preview-{engine}.png") as preview:
            assert max(preview.size) == selftest.PREVIEW_SIDE
    (exported,) = (tmp_path / "export").glob("*.jpg")
    with Image.open(exported) as picture:
        assert picture.size == (400, 500)


def test_a_failed_check_fails_the_self_test_and_says_which(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from stylerec_desktop.gui.selftest import run_self_test

    def bad_weights() -> tuple[None, str]:
        raise CheckFailed("style-transformer: mismatch (file differs)")

    def no_disk(folder: Path) -> tuple[object, str]:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(selftest, "check_weights", bad_weights)
    monkeypatch.setattr(selftest, "check_demo", no_disk)
    out = io.StringIO()
    assert run_self_test(out, keep=tmp_path) == 1
    lines = out.getvalue().splitlines()
    assert lines[1].startswith("FAILED  weights checksums") and "style-transformer: mismatch" in lines[1]
    assert lines[2].startswith("FAILED  demo catalog") and "OSError: [Errno 28] No space left" in lines[2]
    assert lines[-1].startswith("self-test FAILED: 2 of 2 checks (weights checksums, demo catalog)")


def test_the_start_timing_hook_reports_the_first_paint_and_ends_the_app(tmp_path: Path) -> None:
    """packaging/start_timing.py relies on it, for the bundle and the checkout alike."""
    from stylerec_desktop.core.catalog import Catalog

    Catalog.create(tmp_path / "catalog").close()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "QT_QPA_PLATFORM": "offscreen"}
    catalog = str(tmp_path / "catalog")
    command = [sys.executable, "-m", "stylerec_desktop", "--catalog", catalog, "--quit-after-first-paint"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert [line for line in done.stdout.splitlines() if line.startswith("FIRST_PAINT ")]

"""The core's errors as the window tells them: no command-line advice, the menu that does the same instead."""

from __future__ import annotations

from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from stylerec_desktop.core.catalog import Catalog
from stylerec_desktop.core.errors import UserError
from stylerec_desktop.gui.jobs import JobRunner, JobState
from stylerec_desktop.gui.text import for_people


@pytest.mark.parametrize(
    ("core", "window"),
    [
        ("No product with sku 'X-1' in this catalog. `stylerec products list` shows them.",
         "No product with sku 'X-1' in this catalog. Search products (Ctrl+F) finds them."),
        ("No customer 'C9' in this catalog. `stylerec customers list` shows them.",
         "No customer 'C9' in this catalog. Find a customer (Ctrl+K) finds them."),
        ("No product images are indexed yet: run `stylerec index` first.",
         "No product images are indexed yet: choose Catalog ▸ Index styles first."),
        ("No catalog in /data/c. Create one with `stylerec --catalog /data/c init` or a demo with "
         "`stylerec --catalog /data/c demo`.",
         "No catalog in /data/c. Create one with File ▸ New catalog or build the demo from the start page."),
        ("No CUDA GPU is available to PyTorch here; use --device cpu (or auto).",
         "No CUDA GPU is available to PyTorch here; choose Automatic or CPU in Settings ▸ Processing."),
        ("Gatys needs ImageNet VGG19 weights (vgg19.pth, 548 MB). On a computer with internet run "
         "`stylerec models --fetch vgg19` or import the file with `stylerec models --import-vgg19 FILE`.",
         "Gatys needs ImageNet VGG19 weights (vgg19.pth, 548 MB). Download them or import the file in Settings ▸ "
         "Models."),
        # Advice the window has no counterpart for goes; a message that is nothing else stays as it is.
        ("The export folder is full. Try `stylerec export --resume` later.", "The export folder is full."),
        ("--top must be at least 1, got 0.", "top must be at least 1, got 0."),
        ("Too few purchases. The default ranking stays; try more --folds or longer --test-days.",
         "Too few purchases. The default ranking stays; try more test windows or longer test windows."),
        ("The price must be a number.", "The price must be a number."),
    ],
)  # fmt: skip
def test_command_line_advice_becomes_the_windows_own(core: str, window: str) -> None:
    assert for_people(core) == window


def test_a_job_that_cannot_find_a_sku_says_so_without_the_command_line(
    qtbot: QtBot, runner: JobRunner, catalog_dir: Path
) -> None:
    catalog = Catalog.open(catalog_dir)
    try:
        handle = runner.submit("Look up a product", lambda: catalog.product_by_sku("NO-SUCH-SKU"))
        qtbot.waitUntil(lambda: handle.info.state.finished, timeout=5000)
    finally:
        catalog.close()
    assert handle.info.state is JobState.FAILED
    assert isinstance(handle.info.exception, UserError) and "`stylerec" in str(handle.info.exception)
    assert handle.info.error.startswith("No product with sku 'NO-SUCH-SKU' in this catalog.")
    assert "stylerec" not in handle.info.error and "Ctrl+F" in handle.info.error

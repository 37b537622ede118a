"""``python -m stylerec_desktop.gui.panels.studio [--catalog PATH]``: the studio alone, on the catalog's first
product."""

from __future__ import annotations

from PySide6.QtWidgets import QWidget

from stylerec_desktop.core.catalog import Catalog
from stylerec_desktop.gui.jobs import JobRunner
from stylerec_desktop.gui.panels._standalone import run_panel
from stylerec_desktop.gui.panels.studio.panel import StudioPanel
from stylerec_desktop.gui.thumbnails import ThumbnailLoader


def _build(catalog: Catalog, runner: JobRunner, thumbnails: ThumbnailLoader) -> QWidget:
    panel = StudioPanel(runner)
    panel.set_catalog(catalog)
    first = catalog.products(limit=1)
    if first:
        panel.set_products([first[0].id])
    panel.renderFinished.connect(lambda render: print("rendered", render.path))
    return panel


if __name__ == "__main__":  # not when a tool walks the package's modules
    raise SystemExit(run_panel("Stylization studio", _build, size=(900, 820)))

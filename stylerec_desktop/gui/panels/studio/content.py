"""What the studio restyles: the content pictures (catalog products' images or files from outside the catalog), and
how their pictures are read for the preview and the strip, off the GUI thread."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from PIL import Image
from PySide6.QtGui import QImage

if TYPE_CHECKING:
    from stylerec_desktop.core.stylize.preview import Previewer

PREVIEW_SIDE = 256
#: The most pictures the studio takes at once (each render is a job and a row in the jobs panel; a whole-catalog
#: selection is a batch for the CLI, `stylerec stylize`).
MAX_CONTENTS = 200
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".bmp")


@dataclass(frozen=True)
class Content:
    """One picture to restyle: a catalog product's primary image, or a file from outside the catalog."""

    path: Path
    sku: str | None = None
    product_id: int | None = None
    title: str = ""

    @property
    def label(self) -> str:
        return self.sku or self.path.name


def image_files(paths: list[Path]) -> list[Path]:
    """The picture files among ``paths``, by extension (no disk access: this runs on the GUI thread; the render
    job reports an unreadable one by name)."""
    return [p for p in paths if p.suffix.lower() in IMAGE_SUFFIXES]


_previewer_lock = threading.Lock()
_previewers: list[Previewer] = []


def previewer() -> Previewer:
    """The previews' per-picture work, kept across control changes (core ``stylize.preview``: the working copy,
    the product analysis, the plate and the network's painting); made on first use, on a worker, because
    core.stylize loads torch."""
    from stylerec_desktop.core.stylize.preview import Previewer

    with _previewer_lock:
        if not _previewers:
            _previewers.append(Previewer())
        return _previewers[0]


def to_qimage(image: Image.Image) -> QImage:
    """A PIL picture as a QImage (RGB, a copy that owns its pixels): made on a worker, shown on the GUI thread."""
    rgb = image.convert("RGB")
    data = rgb.tobytes()
    return QImage(data, rgb.width, rgb.height, rgb.width * 3, QImage.Format.Format_RGB888).copy()


def escape(text: str) -> str:
    """``text`` safe inside a rich-text label (a file or product name may hold ``<`` or ``&``)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

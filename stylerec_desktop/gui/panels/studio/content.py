"""What the studio restyles: the content pictures (catalog products' images or files from outside the catalog), and
how their pictures are read for the preview and the strip, off the GUI thread."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from PIL import Image
from PySide6.QtGui import QImage

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


_previews_lock = threading.Lock()
_preview_contents: dict[tuple[Path, int], Image.Image] = {}


def preview_content(path: Path, side: int = PREVIEW_SIDE) -> Image.Image:
    """The content image with its longest side ``side`` px, decoded once per file and side (on a worker)."""
    with _previews_lock:
        cached = _preview_contents.get((path, side))
    if cached is None:
        from stylerec_desktop.core.stylize import prepare_content

        with Image.open(path) as opened:
            cached = prepare_content(opened, side)
        with _previews_lock:
            if len(_preview_contents) > 32:
                _preview_contents.clear()
            _preview_contents[(path, side)] = cached
    return cached


def preview_source_side(style_scale: float | None) -> int:
    """How large the preview's content must be: the network runs at the style scale's working resolution, and
    it must see the same pixels as a full render does (a 256 px copy enlarged to 512 would be a softer picture)."""
    from stylerec_desktop.core.stylize.scale import working_side

    return PREVIEW_SIDE if style_scale is None else max(PREVIEW_SIDE, working_side(style_scale))


def to_qimage(image: Image.Image) -> QImage:
    """A PIL picture as a QImage (RGB, a copy that owns its pixels): made on a worker, shown on the GUI thread."""
    rgb = image.convert("RGB")
    data = rgb.tobytes()
    return QImage(data, rgb.width, rgb.height, rgb.width * 3, QImage.Format.Format_RGB888).copy()


def escape(text: str) -> str:
    """``text`` safe inside a rich-text label (a file or product name may hold ``<`` or ``&``)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

"""Render the app icon's PNG sizes (and a light/dark preview sheet) from resources/icons/stylerec-desktop.svg.

    QT_QPA_PLATFORM=offscreen python scripts/render_icons.py            # PNGs into stylerec_desktop/resources/icons
    QT_QPA_PLATFORM=offscreen python scripts/render_icons.py --preview build/icon-preview.png

Uses QtSvg from PySide6 (already a dependency), so no extra tool is needed. The SVG is copied beside the PNGs so the
installed package carries the scalable icon too.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor, QFont, QGuiApplication, QImage, QPainter
from PySide6.QtSvg import QSvgRenderer

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from stylerec_desktop.resources import ICON_NAME, ICON_SIZES  # noqa: E402

SOURCE = ROOT / "resources" / "icons" / f"{ICON_NAME}.svg"
TARGET = ROOT / "stylerec_desktop" / "resources" / "icons"


def render(renderer: QSvgRenderer, size: int) -> QImage:
    """The icon at ``size`` x ``size`` px on a transparent background, antialiased."""
    image = QImage(size, size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    return image


def preview(renderer: QSvgRenderer, path: Path) -> None:
    """16, 32, 64 and 256 px on a light and a dark panel, each small size also magnified 8x/4x to see its pixels."""
    sizes = (16, 32, 64, 256)
    sheet = QImage(1240, 760, QImage.Format.Format_ARGB32)
    sheet.fill(QColor("#FFFFFF"))
    painter = QPainter(sheet)
    for row, (panel, text) in enumerate((("#F3F3F3", "#202020"), ("#202124", "#E8E8E8"))):
        top = row * 380
        painter.fillRect(0, top, 1240, 380, QColor(panel))
        painter.setPen(QColor(text))
        painter.setFont(QFont("Sans", 10))
        x = 20
        for size in sizes:
            icon = render(renderer, size)
            painter.drawImage(x, top + 40, icon)
            painter.drawText(x, top + 30, f"{size} px")
            if size <= 64:  # magnified copy, nearest-neighbour, to judge the real pixels
                big = icon.scaled(128, 128, mode=Qt.TransformationMode.FastTransformation)
                painter.drawImage(x, top + 40 + size + 20, big)
                x += 150
            else:
                x += size + 30
    painter.end()
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(str(path))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--preview", type=Path, help="also write a light/dark preview sheet here")
    args = parser.parse_args()
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841  (QImage text needs fonts)
    renderer = QSvgRenderer(str(SOURCE))
    if not renderer.isValid():
        print(f"render_icons: cannot read {SOURCE}", file=sys.stderr)
        return 1
    TARGET.mkdir(parents=True, exist_ok=True)
    for size in ICON_SIZES:
        out = TARGET / f"{ICON_NAME}-{size}.png"
        if not render(renderer, size).save(str(out)):
            print(f"render_icons: cannot write {out}", file=sys.stderr)
            return 1
    shutil.copyfile(SOURCE, TARGET / SOURCE.name)
    print(f"{len(ICON_SIZES)} PNGs and the SVG in {TARGET}")
    if args.preview:
        preview(renderer, args.preview)
        print(f"preview: {args.preview}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

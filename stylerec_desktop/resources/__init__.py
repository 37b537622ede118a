"""Files the app needs at run time that are not code: the app icon (PNG sizes and the SVG), licence texts.

They are package data, found through :mod:`importlib.resources`, so a source checkout, an installed wheel and the
PyInstaller bundle (which keeps the package layout) all find them the same way. The desktop-integration files that
only an installer uses (``.desktop`` entry, AppStream metainfo, the icon's source) live in the top-level
``resources/`` folder; ``scripts/render_icons.py`` renders the icon from there into ``icons/`` here.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

ICON_NAME = "stylerec-desktop"
# The sizes desktops ask for (freedesktop hicolor theme, Windows .ico, macOS .icns all draw from these).
ICON_SIZES = (16, 32, 48, 64, 128, 256, 512)


def resources_folder() -> Path:
    """This package's folder on disk. The app is never installed zipped, so this is a real path."""
    return Path(str(importlib.resources.files(__name__)))


def icon_png(size: int) -> Path:
    """The app icon, ``size`` x ``size`` pixels (one of :data:`ICON_SIZES`), as a PNG file."""
    if size not in ICON_SIZES:
        raise ValueError(f"no {size} px icon; sizes are {ICON_SIZES}")
    return resources_folder() / "icons" / f"{ICON_NAME}-{size}.png"


def icon_svg() -> Path:
    """The app icon as scalable SVG (a copy of ``resources/icons/stylerec-desktop.svg``)."""
    return resources_folder() / "icons" / f"{ICON_NAME}.svg"

"""Windows .ico and macOS .icns of the app icon, from the PNGs in stylerec_desktop/resources/icons (Pillow writes
both on any system). Used by the Windows and macOS builds; writes into build/icons/.

    python packaging/make_icons.py
"""

from __future__ import annotations

import sys
from pathlib import Path

from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from stylerec_desktop.resources import ICON_NAME, ICON_SIZES, icon_png  # noqa: E402


def main() -> int:
    out = ROOT / "build" / "icons"
    out.mkdir(parents=True, exist_ok=True)
    largest = Image.open(icon_png(max(ICON_SIZES))).convert("RGBA")
    # .ico: Windows picks 16-256; each size from our own rendering of it, not a downscale of 512.
    frames = [Image.open(icon_png(s)).convert("RGBA") for s in ICON_SIZES if s <= 256]
    frames[-1].save(out / f"{ICON_NAME}.ico", sizes=[f.size for f in frames], append_images=frames[:-1])
    largest.save(out / f"{ICON_NAME}.icns")
    print(f"{out / (ICON_NAME + '.ico')}, {out / (ICON_NAME + '.icns')}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

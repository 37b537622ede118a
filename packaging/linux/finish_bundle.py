"""After PyInstaller: put the licences and the desktop files into the bundle, and check the licence list.

    build/package-venv/bin/python packaging/linux/finish_bundle.py dist/StyleRec build/pyinstaller/StyleRec

Run with the build environment's Python: it reads that environment's installed packages (their ``.dist-info``) to
learn which distribution each bundled module came from. It fails (exit 1, naming them) when the bundle holds a
distribution that ``stylerec_desktop/core/licences.py`` does not list, so the About box cannot miss one.
"""

from __future__ import annotations

import ast
import importlib.metadata
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from stylerec_desktop.core.licences import _LICENCE_FILE, SHIPPED, interpreter_licence, normalise  # noqa: E402
from stylerec_desktop.resources import ICON_NAME, ICON_SIZES  # noqa: E402

# Build tools and what only they need (in the build environment, never in the bundle), and StyleRec itself (a
# checkout's egg-info can make it look installed).
NOT_THIRD_PARTY = {"pip", "setuptools", "wheel", "pyinstaller", "pyinstaller-hooks-contrib", "altgraph", "packaging",
                   "stylerec-desktop"}


def bundled_top_names(internal: Path, workdir: Path) -> set[str]:
    """Top-level module/folder names in the bundle: files under ``_internal`` plus the modules in the PYZ archive
    (pure-Python modules live only there)."""
    names = {p.name.split(".")[0] for p in internal.iterdir()}
    for toc in workdir.glob("PYZ-*.toc"):
        _archive, entries = ast.literal_eval(toc.read_text(encoding="utf-8"))  # (archive path, [(name, src, kind)])
        for entry in entries:
            names.add(str(entry[0]).split(".")[0])
    return names


def distribution_tops(dist: importlib.metadata.Distribution) -> set[str]:
    tops = set()
    for file in dist.files or ():
        first = file.parts[0] if file.parts else ""
        if first and not first.endswith((".dist-info", ".data")) and first not in ("..", "bin", "__pycache__"):
            tops.add(first.split(".")[0])
    return tops


def strip_torch(internal: Path) -> int:
    """Strip the debug symbols of torch's own libraries (90 MB of the CPU build). Only these: the other wheels'
    libraries were rewritten by patchelf (auditwheel), and strip leaves those unloadable. Returns bytes saved."""
    strip = shutil.which("strip")
    if strip is None or not sys.platform.startswith("linux"):
        return 0
    saved = 0
    for library in sorted((internal / "torch" / "lib").glob("lib*.so*")):
        before = library.stat().st_size
        subprocess.run([strip, "--strip-unneeded", str(library)], check=True)
        saved += before - library.stat().st_size
    return saved


def main() -> int:
    bundle, workdir = Path(sys.argv[1]), Path(sys.argv[2])
    internal = bundle / "_internal"
    saved = strip_torch(internal)
    present = bundled_top_names(internal, workdir)
    listed = {normalise(d) for c in SHIPPED for d in c.distributions}
    licences = internal / "stylerec_desktop" / "resources" / "licences"
    licences.mkdir(parents=True, exist_ok=True)
    shipped, unlisted = [], []
    for dist in importlib.metadata.distributions():
        name = normalise(dist.metadata["Name"])
        if name in NOT_THIRD_PARTY or not distribution_tops(dist) & present:
            continue
        shipped.append(f"{name}=={dist.version}")
        if name not in listed:
            unlisted.append(name)
        target = licences / name
        for file in dist.files or ():
            inside = str(file).split(".dist-info/", 1)[1] if ".dist-info/" in str(file) else ""
            if inside and _LICENCE_FILE.search(inside):
                (target / inside).parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(Path(str(file.locate())), target / inside)
    python_licence = interpreter_licence()
    if python_licence is None:
        print("finish_bundle: this Python has no LICENSE.txt to ship", file=sys.stderr)
        return 1
    shutil.copyfile(python_licence, licences / "Python-LICENSE.txt")
    (licences / "SHIPPED.txt").write_text("\n".join(sorted(shipped)) + "\n", encoding="utf-8")
    if unlisted:
        print(f"finish_bundle: the bundle ships {', '.join(sorted(unlisted))}, which core/licences.py SHIPPED does "
              "not list: add them (name, licence) or exclude them in packaging/stylerec.spec", file=sys.stderr)
        return 1

    # Desktop integration, laid out as under ~/.local/share, for install.sh.
    share = bundle / "share"
    for size in ICON_SIZES:
        icon_dir = share / "icons" / "hicolor" / f"{size}x{size}" / "apps"
        icon_dir.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(ROOT / "stylerec_desktop" / "resources" / "icons" / f"{ICON_NAME}-{size}.png",
                        icon_dir / f"{ICON_NAME}.png")  # fmt: skip
    scalable = share / "icons" / "hicolor" / "scalable" / "apps"
    scalable.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ROOT / "resources" / "icons" / f"{ICON_NAME}.svg", scalable / f"{ICON_NAME}.svg")
    (share / "applications").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ROOT / "resources" / f"{ICON_NAME}.desktop", share / "applications" / f"{ICON_NAME}.desktop")
    (share / "metainfo").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(ROOT / "resources" / "io.stylerec.Desktop.metainfo.xml",
                    share / "metainfo" / "io.stylerec.Desktop.metainfo.xml")  # fmt: skip
    for script in ("stylerec", "install.sh", "uninstall.sh"):
        shutil.copyfile(ROOT / "packaging" / "linux" / script, bundle / script)
        (bundle / script).chmod(0o755)
    shutil.copyfile(ROOT / "CHANGELOG.md", bundle / "CHANGELOG.md")
    print(f"finish_bundle: {len(shipped)} distributions shipped, every one listed; licences in {licences}; "
          f"torch's libraries stripped ({saved / 2**20:.0f} MB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

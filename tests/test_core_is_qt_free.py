"""The core must run headless on a batch server: importing any of it must not pull in Qt."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import stylerec_desktop.core

CORE = Path(stylerec_desktop.core.__file__).parent


def test_no_core_source_imports_qt_or_sqlite_utils_outside_catalog() -> None:
    offenders = []
    for source in CORE.rglob("*.py"):
        tree = ast.parse(source.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module]
            for name in names:
                top = name.split(".")[0]
                if top in {"PySide6", "shiboken6", "PyQt5", "PyQt6"}:
                    offenders.append(f"{source.relative_to(CORE)} imports {name}")
                if top == "sqlite_utils" and "catalog" not in source.relative_to(CORE).parts:
                    offenders.append(f"{source.relative_to(CORE)} imports sqlite_utils outside the catalog")
    assert offenders == []


def test_importing_every_core_module_loads_no_qt() -> None:
    code = (
        "import pkgutil, sys, stylerec_desktop.core as core\n"
        "for m in pkgutil.walk_packages(core.__path__, 'stylerec_desktop.core.'):\n"
        "    __import__(m.name)\n"
        "bad = [n for n in sys.modules if n.split('.')[0] in ('PySide6', 'shiboken6')]\n"
        "print(len(list(pkgutil.walk_packages(core.__path__, 'stylerec_desktop.core.'))))\n"
        "assert not bad, bad\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.strip()) >= 5  # the walk really found the core's modules


def test_sqlite_utils_is_only_imported_by_the_catalog_package() -> None:
    root = CORE.parent
    offenders = [
        str(p.relative_to(root))
        for p in root.rglob("*.py")
        if "sqlite_utils" in p.read_text(encoding="utf-8") and "catalog" not in p.relative_to(root).parts
    ]
    assert offenders == []

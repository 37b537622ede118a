"""Import rules of the core, read from the source (no module is imported, so this takes well under a second).

The rules, as the code keeps them today:

1. The core never imports the GUI or the command line (``stylerec_desktop.gui``, ``stylerec_desktop.cli``) nor Qt
   (``PySide6``, ``shiboken6``): it runs headless on batch servers and under the CLI.
2. The core's packages (``catalog``, ``export``, ``stylize``, ``importers``, ``models``, ``recommend``, ``demo``)
   use each other only through their *public modules*: a module whose name has no leading underscore, and only its
   names without one. A ``_private`` module or name is its package's own business.
3. The catalog package is one exception to 2, made stricter: from outside it, only the package itself
   (``stylerec_desktop.core.catalog``, the ``Catalog`` facade and its records) is public. The modules behind it
   (``catalog.py``, ``schema.py``, ``search.py``...) are how the SQL is laid out today and move when it is split.
   Its tests may still reach inside; the rule is for the application's code.

Relative imports are not used in the core; a relative import would slip past these checks, so it is refused too.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import stylerec_desktop.core

CORE = Path(stylerec_desktop.core.__file__).parent
PACKAGES = sorted(p.name for p in CORE.iterdir() if (p / "__init__.py").is_file())
FORBIDDEN_TOPS = {"PySide6", "shiboken6", "PyQt5", "PyQt6"}


def _imports(source: Path) -> Iterator[tuple[int, str, list[str], int]]:
    """``(line, module, imported names, relative level)`` of every import statement in ``source``."""
    for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name, [], 0
        elif isinstance(node, ast.ImportFrom):
            yield node.lineno, node.module or "", [alias.name for alias in node.names], node.level


def rule_breaks(core: Path) -> list[str]:
    """Every import under ``core`` that breaks a rule of the module docstring, as ``"file:line: why"``."""
    packages = {p.name for p in core.iterdir() if (p / "__init__.py").is_file()}
    found = []
    for source in sorted(core.rglob("*.py")):
        where = source.relative_to(core)
        own_package = where.parts[0] if len(where.parts) > 1 else None
        for line, module, names, level in _imports(source):
            at = f"{where}:{line}"
            if level:
                found.append(f"{at}: relative import (spell it from stylerec_desktop.core)")
                continue
            parts = module.split(".")
            if parts[0] in FORBIDDEN_TOPS or parts[:2] in (["stylerec_desktop", "gui"], ["stylerec_desktop", "cli"]):
                found.append(f"{at}: the core imports {module}")
                continue
            if parts[:2] != ["stylerec_desktop", "core"] or len(parts) < 3 or parts[2] not in packages:
                continue
            target = parts[2]
            if target == own_package:
                continue
            inside = parts[3:]
            if target == "catalog" and inside:
                found.append(f"{at}: imports {module}; use the catalog package itself (stylerec_desktop.core.catalog)")
            if any(part.startswith("_") for part in inside):
                found.append(f"{at}: imports the private module {module}")
            private_names = [n for n in names if n.startswith("_")]
            if private_names:
                found.append(f"{at}: imports private {', '.join(private_names)} from {module}")
    return found


def test_the_core_keeps_its_import_rules() -> None:
    assert len(PACKAGES) >= 5  # the walk really sees the core's packages
    assert rule_breaks(CORE) == []


def test_the_rules_catch_what_they_forbid(tmp_path: Path) -> None:
    """A core with one breach of each rule: each is reported, and the allowed imports beside them are not."""
    core = tmp_path / "core"
    for package in ("catalog", "stylize", "models"):
        (core / package).mkdir(parents=True)
        (core / package / "__init__.py").write_text("")
    (core / "jobs.py").write_text("from stylerec_desktop.gui.jobs import JobRunner\nimport PySide6.QtCore\n")
    (core / "stylize" / "renders.py").write_text(
        "from stylerec_desktop.core.catalog import Catalog\n"  # allowed: the facade
        "from stylerec_desktop.core.catalog.catalog import StoredRender\n"  # rule 3
        "from stylerec_desktop.core.models.device import choose_device\n"  # allowed: a public module
        "from stylerec_desktop.core.models.device import _glibc\n"  # rule 2: a private name
        "from stylerec_desktop.core.models._cache import cache\n"  # rule 2: a private module
        "from stylerec_desktop.core.stylize._tiles import tiles\n"  # allowed: its own package
        "from . import options\n"  # relative
    )
    found = rule_breaks(core)
    assert [entry.split(":")[0] + ":" + entry.split(":")[1] for entry in found] == [
        "jobs.py:1",
        "jobs.py:2",
        "stylize/renders.py:2",
        "stylize/renders.py:4",
        "stylize/renders.py:5",
        "stylize/renders.py:7",
    ], found

"""What this copy of StyleRec is: version, build (commit, date), the versions it runs on, the device, the licences.

One list of facts for Help ▸ About and ``stylerec --version --verbose``, so the two cannot disagree. Qt-free: the
GUI passes the Qt version it runs (``qVersion()``); the command line reads PySide6's own.

Build information is looked for in this order:

1. ``stylerec_desktop/_build_info.py``, written by ``packaging/write_build_info.py`` when a bundle or wheel is
   made (``make package``); it is not in git.
2. ``git describe`` / ``git log`` when the package runs from a checkout (a ``.git`` beside the package folder).
3. ``unknown``.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import platform
import subprocess
from dataclasses import dataclass
from pathlib import Path

from stylerec_desktop import __version__
from stylerec_desktop.core.licences import SHIPPED, Component, licences_folder, normalise

UNKNOWN = "unknown"


@dataclass(frozen=True)
class BuildInfo:
    """``commit``: ``git describe`` text (e.g. ``5c0f44b`` or ``5c0f44b-dirty``); ``date``: ISO 8601 UTC of the
    commit (bundle: of the build); ``source``: where these came from: ``package``, ``git`` or ``unknown``."""

    commit: str
    date: str
    source: str


def _from_generated_module() -> BuildInfo | None:
    try:
        module = importlib.import_module("stylerec_desktop._build_info")
    except ImportError:
        return None
    return BuildInfo(str(module.COMMIT), str(module.DATE), "package")


def _git(args: list[str], cwd: Path) -> str | None:
    try:
        done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None if done.returncode == 0 else None


def _from_checkout() -> BuildInfo | None:
    root = Path(__file__).resolve().parents[2]
    # Only our own checkout: an installed package inside someone else's git tree must not report their commit.
    if not (root / ".git").exists() or not (root / "pyproject.toml").is_file():
        return None
    commit = _git(["describe", "--always", "--dirty", "--abbrev=10"], root)
    date = _git(["log", "-1", "--format=%cI"], root)
    if commit is None:
        return None
    return BuildInfo(commit, date or UNKNOWN, "git")


_build_info: BuildInfo | None = None


def build_info() -> BuildInfo:
    """This copy's build (cached: ``git`` runs at most once per process)."""
    global _build_info
    if _build_info is None:
        _build_info = _from_generated_module() or _from_checkout() or BuildInfo(UNKNOWN, UNKNOWN, UNKNOWN)
    return _build_info


def distribution_version(distribution: str) -> str | None:
    """The installed version of a distribution (pip's name), or None when it is not installed. The bundle has no
    ``.dist-info`` folders: there the list written at build time (``licences/SHIPPED.txt``) answers."""
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return _bundled_versions().get(normalise(distribution))


_bundled: dict[str, str] | None = None


def _bundled_versions() -> dict[str, str]:
    """``{normalised name: version}`` from the bundle's ``SHIPPED.txt`` (``name==version`` lines); empty elsewhere."""
    global _bundled
    if _bundled is None:
        path = licences_folder() / "SHIPPED.txt"
        lines = path.read_text(encoding="utf-8").splitlines() if path.is_file() else []
        _bundled = {normalise(n): v for n, _, v in (line.partition("==") for line in lines) if v}
    return _bundled


def component_version(component: Component) -> str:
    """The version of a shipped component as installed here; ``not installed`` when it is absent."""
    if not component.distributions:  # the interpreter
        return platform.python_version()
    for name in component.distributions:
        version = distribution_version(name)
        if version is not None:
            return version
    return "not installed"


def pyside_version() -> str:
    """PySide6's version, read without importing Qt (the command line stays Qt-free)."""
    for name in ("PySide6-Essentials", "PySide6"):
        version = distribution_version(name)
        if version is not None:
            return version
    return "not installed"


def torch_version() -> str:
    """PyTorch's version as it reports itself (``2.14.1+cu130``, ``2.13.0+cpu``): the build variant matters."""
    try:
        import torch
    except ImportError:
        return "not installed"
    return str(torch.__version__)


def device_in_use(preference: str = "auto") -> str:
    """The device the networks run on for ``preference`` (``auto`` picks CUDA, then MPS, then CPU), in words, e.g.
    ``cuda (NVIDIA H100)`` or ``cpu (8 threads)``. An unavailable preference is said, not raised."""
    try:
        import torch

        from stylerec_desktop.core.models.device import choose_device
    except ImportError:
        return "unknown (PyTorch is not installed)"
    try:
        device = choose_device(preference)
    except Exception as exc:  # a UserError for an absent accelerator: report it as the fact it is
        return f"{preference}: {exc}"
    if device.type == "cuda":
        return f"cuda ({torch.cuda.get_device_name(device)})"
    if device.type == "cpu":
        return f"cpu ({torch.get_num_threads()} threads)"
    return device.type


def facts(qt_version: str | None = None, device_preference: str = "auto") -> list[tuple[str, str]]:
    """``(label, value)`` pairs, in the order About shows them: version, build, Python, Qt, PySide6, PyTorch, the
    operating system, the device. ``qt_version`` is the running Qt's (``qVersion()``); None uses PySide6's own
    version, which is the Qt release it was built with."""
    info = build_info()
    return [
        ("Version", __version__),
        ("Build", f"{info.commit} ({info.date})" if info.source != UNKNOWN else UNKNOWN),
        ("Python", f"{platform.python_version()} ({platform.python_implementation()})"),
        ("Qt", qt_version or pyside_version()),
        ("PySide6", pyside_version()),
        ("PyTorch", torch_version()),
        ("System", f"{platform.system()} {platform.release()} {platform.machine()}"),
        ("Device", device_in_use(device_preference)),
    ]


def licence_rows() -> list[tuple[str, str, str]]:
    """``(component, version, licence)`` for every shipped component, in :data:`SHIPPED` order."""
    return [(c.name, component_version(c), c.licence) for c in SHIPPED]


def version_text(verbose: bool, qt_version: str | None = None) -> str:
    """``stylerec --version`` (one line) or, ``verbose``, every fact and every shipped licence, as plain text."""
    if not verbose:
        return f"stylerec {__version__}"
    lines = [f"StyleRec Desktop {__version__}"]
    lines += [f"  {label + ':':<10} {value}" for label, value in facts(qt_version)[1:]]
    lines.append("Licences of the components it ships (`stylerec licences NAME` prints one in full):")
    rows = licence_rows()
    width = max(len(name) for name, _, _ in rows)
    lines += [f"  {name:<{width}}  {version:<14} {licence}" for name, version, licence in rows]
    return "\n".join(lines)

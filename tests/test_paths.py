"""Where things live, and how a path is shown to a person."""

from __future__ import annotations

from pathlib import Path

import pytest

from stylerec_desktop.core.paths import default_catalog_dir, display_path


def test_a_path_under_home_is_shown_from_the_tilde_and_others_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "maria"
    monkeypatch.setenv("HOME", str(home))
    assert display_path(home / "StyleRec" / "Spring campaign") == "~/StyleRec/Spring campaign"
    assert display_path(home) == "~"
    assert display_path(tmp_path / "shared" / "catalog") == str(tmp_path / "shared" / "catalog")
    assert display_path(tmp_path / "mariabeth") == str(tmp_path / "mariabeth")  # a sibling, not a child


def test_the_catalog_named_by_the_environment_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("STYLEREC_CATALOG", "~/cat")
    assert default_catalog_dir() == tmp_path / "cat"

"""The --cluster value and the engine's behaviour without a cluster (the Ray runs are in test_cluster.py)."""

from __future__ import annotations

import builtins
import types
from pathlib import Path

import pytest

from stylerec_desktop.core.cluster import ClusterSpec, parse_cluster, ray_module
from stylerec_desktop.core.errors import UserError


@pytest.mark.parametrize(
    ("text", "spec"),
    [
        ("auto", ClusterSpec("auto")),
        ("local", ClusterSpec("local", workers=2)),
        ("local[3]", ClusterSpec("local", workers=3)),
        ("ray://head.example:10001", ClusterSpec("address", address="ray://head.example:10001")),
        ("ray://10.0.0.5:10001", ClusterSpec("address", address="ray://10.0.0.5:10001")),
        (" ray://[::1]:10001 ", ClusterSpec("address", address="ray://[::1]:10001")),
    ],
)
def test_cluster_values_parse(text: str, spec: ClusterSpec) -> None:
    assert parse_cluster(text) == spec
    assert parse_cluster(str(spec)) == spec


@pytest.mark.parametrize("text", ["", "ray", "local[0]", "local[65]", "local[x]", "http://head:8265", "ray://head",
                                  "ray://head:99999", "ray://he ad:1"])  # fmt: skip
def test_bad_cluster_values_say_what_is_accepted(text: str) -> None:
    with pytest.raises(UserError, match=r"--cluster|local cluster|port"):
        parse_cluster(text)


def test_without_ray_the_message_says_how_to_install_it(monkeypatch: pytest.MonkeyPatch) -> None:
    real_import = builtins.__import__

    def no_ray(name: str, *args: object, **kwargs: object) -> object:
        if name == "ray" or name.startswith("ray."):
            raise ImportError("No module named 'ray'")
        return real_import(name, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(builtins, "__import__", no_ray)
    with pytest.raises(UserError, match=r"stylerec-desktop\[cluster\]"):
        ray_module()


def test_a_session_checks_each_folder_once_and_sends_bytes_past_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    """Shared storage is mounted per folder: the first file asked about decides for its folder, for every job of
    the session; past MAX_CHECKED_FOLDERS folders no more checks run and the bytes are sent."""
    from stylerec_desktop.core.cluster import ClusterSession
    from stylerec_desktop.core.cluster.engine import MAX_CHECKED_FOLDERS

    asked: list[Path] = []

    def sees(_session: ClusterSession, path: Path, _sha: str) -> bool:
        asked.append(path)
        return path.parent.name != "private"

    monkeypatch.setattr(ClusterSession, "sees_file", sees)
    session = ClusterSession(parse_cluster("local[2]"), ray=types.ModuleType("ray"))
    assert session.reads_folder_of(Path("/shared/a.jpg"), "1") and session.reads_folder_of(Path("/shared/b.jpg"), "2")
    assert not session.reads_folder_of(Path("/home/me/private/style.png"), "3")
    assert not session.reads_folder_of(Path("/home/me/private/other.png"), "4")
    assert asked == [Path("/shared/a.jpg"), Path("/home/me/private/style.png")]
    for n in range(MAX_CHECKED_FOLDERS):
        session.reads_folder_of(Path(f"/many/{n}/a.jpg"), "5")
    assert len(asked) == MAX_CHECKED_FOLDERS
    assert not session.reads_folder_of(Path("/one/more/a.jpg"), "6") and len(asked) == MAX_CHECKED_FOLDERS
    assert session.reads_folder_of(Path("/shared/c.jpg"), "7")  # a folder checked before still counts

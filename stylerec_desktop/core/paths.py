"""Where things live on the user's machine."""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

APP_NAME = "StyleRec"


def default_catalog_dir() -> Path:
    """The catalog used when none is named: ``$STYLEREC_CATALOG`` or ``<user data dir>/catalog``."""
    env = os.environ.get("STYLEREC_CATALOG")
    if env:
        return Path(env).expanduser()
    return Path(platformdirs.user_data_dir(APP_NAME, appauthor=False)) / "catalog"


def log_dir() -> Path:
    """Where the app writes its log files: ``<user log dir>`` (``~/.local/state/StyleRec/log`` on Linux)."""
    return Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))


def read_only_thumbnails_dir(catalog_folder: Path) -> Path:
    """Where thumbnails of a catalog this user may only read are cached (its own ``thumbnails/`` cannot be written):
    ``<user cache dir>/thumbnails/<hash of the catalog's path>``, one folder per catalog."""
    import hashlib

    key = hashlib.sha256(str(catalog_folder.resolve()).encode("utf-8")).hexdigest()[:16]
    return Path(platformdirs.user_cache_dir(APP_NAME, appauthor=False)) / "thumbnails" / key


def display_path(path: Path) -> str:
    """``path`` as a person reads it: under the home folder as ``~/...`` (shorter, and the same for every user)."""
    try:
        return str(Path("~") / path.relative_to(Path.home()))
    except (ValueError, RuntimeError):  # not under home, or no home folder known
        return str(path)

"""How the GUI writes people and things in sentences (rich text, escaped)."""

from __future__ import annotations

import re
from html import escape

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics


def person(name: str, customer_id: str, metrics: QFontMetrics, id_width: int = 140) -> str:
    """A customer as people read them, escaped for rich text: "Ana Silva (C0005)", the id elided in the middle when
    it is wider than ``id_width`` px (hashed ids run to 64 characters); the id alone when they have no name."""
    short_id = escape(metrics.elidedText(customer_id, Qt.TextElideMode.ElideMiddle, id_width))
    return f"{escape(name)} ({short_id})" if name.strip() else short_id


# The command-line options a core message may name, as the GUI's controls call them.
_OPTION_WORDS = {
    "--folds": "test windows",
    "--test-days": "test windows",
    "--held-out": "held-out windows",
    "--k": "top k",
}
_OPTION_ASIDE = re.compile(r"\s*\((--[a-z-]+)\)")
_OPTION = re.compile(r"--[a-z-]+")


def without_cli_flags(text: str) -> str:
    """A core message for the GUI: asides naming an option ("more windows (--folds)") dropped, other options
    replaced by what the GUI calls them ("try more --folds" -> "try more test windows")."""
    text = _OPTION_ASIDE.sub("", text)
    return _OPTION.sub(lambda m: _OPTION_WORDS.get(m.group(0), m.group(0).lstrip("-")), text)

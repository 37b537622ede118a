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


# (pattern, replacement) in order; each replaces a piece of command-line advice with the GUI's way to do it.
_GUI_WAYS: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(pattern), replacement)
    for pattern, replacement in (
        (r"(?:run )?`stylerec (?:--catalog \S+ )?index`", "choose Catalog ▸ Index styles"),
        (r"Create one with `stylerec (?:--catalog \S+ )?init`", "Create one with File ▸ New catalog"),
        (r"a demo with `stylerec (?:--catalog \S+ )?demo`", "build the demo from the start page"),
        (r"`stylerec products list` shows them\.", "Search products (Ctrl+F) finds them."),
        (r"`stylerec customers list` shows them\.", "Find a customer (Ctrl+K) finds them."),
        (r"`stylerec stylize` or the Studio panel", "the Studio"),
        (r"[Oo]n a computer with internet run `stylerec models --fetch vgg19` or import the file with "
         r"`stylerec models --import-vgg19 FILE`", "Download them or import the file in Settings ▸ Models"),
        (r"with `stylerec models --import-vgg19 FILE`", "in Settings ▸ Models (Import file…)"),
        (r"\(stylerec tune, or Tune for this catalog\)", "(Catalog ▸ Tune recommendations for this catalog)"),
        (r"; use --device cpu \(or auto\)\.", "; choose Automatic or CPU in Settings ▸ Processing."),
    )
)
# A command left after the replacements: the GUI has no counterpart, so its sentence goes.
_CLI_COMMAND = re.compile(r"`stylerec[^`]*`")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z`(])")


def for_people(message: str) -> str:
    """A core error sentence told for the window. The core writes one wording for both faces ("No product with sku
    'X' in this catalog. `stylerec products list` shows them."); the CLI prints it as it is. Here its commands
    become the menu or panel that does the same (``"run `stylerec index` first"`` -> ``"choose Catalog ▸ Index
    styles first"``), a sentence around a command the window has no counterpart for is left out (unless it is the
    only one), and options are named as the GUI's controls call them (:func:`without_cli_flags`)."""
    for pattern, replacement in _GUI_WAYS:
        message = pattern.sub(replacement, message)
    sentences = _SENTENCE_END.split(message.strip())
    kept = [s for s in sentences if not _CLI_COMMAND.search(s)]
    return without_cli_flags(" ".join(kept) if kept else message)

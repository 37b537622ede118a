"""CSV cells that a spreadsheet app opens as text, never as a formula ("CSV injection").

A cell starting with ``=``, ``+``, ``-`` or ``@`` (or a tab or carriage return, which some apps skip before
looking) is run as a formula by Excel, LibreOffice and Google Sheets: a sku or title from a supplier's file must
not be able to do that on the machine of whoever opens a file we write. Such a cell gets a leading apostrophe,
which those apps show as text. Every CSV the app writes for people (the export manifest, an import's rejects
file) goes through :func:`formula_safe`; the importer undoes it with :func:`undo_formula_safe` when it reads a
rejects file back.
"""

from __future__ import annotations

from typing import Any

_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def formula_safe(value: Any) -> Any:
    """``value`` with a leading ``'`` when it is text a spreadsheet would run as a formula; else unchanged."""
    if isinstance(value, str) and value[:1] in _FORMULA_STARTS:
        return "'" + value
    return value


def undo_formula_safe(text: str) -> str:
    """The cell :func:`formula_safe` was given: the added ``'`` removed, anything else unchanged.

    (A cell that was ``'=x`` to begin with reads back as ``=x``; no real sku or title was seen to start so.)
    """
    if text[:1] == "'" and text[1:2] in _FORMULA_STARTS:
        return text[1:]
    return text

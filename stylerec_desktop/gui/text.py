"""How the GUI writes people and things in sentences (rich text, escaped)."""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetrics


def person(name: str, customer_id: str, metrics: QFontMetrics, id_width: int = 140) -> str:
    """A customer as people read them, escaped for rich text: "Ana Silva (C0005)", the id elided in the middle when
    it is wider than ``id_width`` px (hashed ids run to 64 characters); the id alone when they have no name."""
    short_id = escape(metrics.elidedText(customer_id, Qt.TextElideMode.ElideMiddle, id_width))
    return f"{escape(name)} ({short_id})" if name.strip() else short_id

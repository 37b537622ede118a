"""The look: Qt's Fusion style with a light palette, and the few colours the panels share."""

from __future__ import annotations

from PySide6.QtGui import QColor, QFont, QPalette
from PySide6.QtWidgets import QApplication

ACCENT = QColor("#2f6fed")
CARD_BORDER = QColor("#dde1e6")
CARD_HOVER_BORDER = QColor("#b9c0c8")
MUTED_TEXT = QColor("#5f6b7a")
SKELETON = QColor("#e9ecef")

#: Badge colours of the four event kinds, chosen to be told apart by people with the common colour blindnesses
#: (blue/orange/magenta/green differ in lightness too).
EVENT_COLOURS = {
    "view": QColor("#5c7cfa"),
    "like": QColor("#d6336c"),
    "cart": QColor("#e8590c"),
    "purchase": QColor("#2b8a3e"),
}

_STYLE_SHEET = """
QDockWidget::title { padding: 6px 8px; background: #eceff3; font-weight: 600; }
QListView#productGrid, QListView#historyList { background: #f6f7f9; border: none; }
QListView#customerList::item { padding: 5px 6px; }
QLabel[role="heading"] { font-size: 15px; font-weight: 600; }
QLabel[role="muted"] { color: #5f6b7a; }
QFrame#jobRow { background: #ffffff; border: 1px solid #e3e6ea; border-radius: 6px; }
QLabel#jobsBadge { background: #2f6fed; color: white; border-radius: 9px; padding: 1px 8px; font-weight: 600; }
"""


def light_palette() -> QPalette:
    palette = QPalette()
    colours = {
        QPalette.ColorRole.Window: "#f6f7f9",
        QPalette.ColorRole.WindowText: "#1f2328",
        QPalette.ColorRole.Base: "#ffffff",
        QPalette.ColorRole.AlternateBase: "#f1f3f5",
        QPalette.ColorRole.ToolTipBase: "#ffffff",
        QPalette.ColorRole.ToolTipText: "#1f2328",
        QPalette.ColorRole.PlaceholderText: "#8a94a0",
        QPalette.ColorRole.Text: "#1f2328",
        QPalette.ColorRole.Button: "#fbfbfc",
        QPalette.ColorRole.ButtonText: "#1f2328",
        QPalette.ColorRole.BrightText: "#ffffff",
        QPalette.ColorRole.Highlight: ACCENT.name(),
        QPalette.ColorRole.HighlightedText: "#ffffff",
        QPalette.ColorRole.Link: ACCENT.name(),
        QPalette.ColorRole.Mid: "#c9ced4",
        QPalette.ColorRole.Midlight: "#e3e6ea",
        QPalette.ColorRole.Dark: "#9aa3ad",
        QPalette.ColorRole.Light: "#ffffff",
    }
    for role, colour in colours.items():
        palette.setColor(role, QColor(colour))
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText, QPalette.ColorRole.ButtonText):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#9aa3ad"))
    return palette


def apply(app: QApplication) -> None:
    """Fusion + the light palette + a short style sheet for the dock titles and cards."""
    app.setStyle("Fusion")
    app.setPalette(light_palette())
    font = QFont(app.font())
    if font.pointSizeF() < 10:
        font.setPointSizeF(10)
        app.setFont(font)
    app.setStyleSheet(_STYLE_SHEET)

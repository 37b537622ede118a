"""The look: Qt's Fusion style with a light or a dark palette, and the named colours the panels and painters share.

Each theme is one :class:`Colours`; its palette (:func:`palette`) and style sheet (:func:`style_sheet`) are built
from it, so the two never disagree. The app follows the OS colour scheme unless the user picked a theme in
View ▸ Theme (:class:`ThemeController`, saved in the settings).

Painters ask :func:`colours` when they paint, never at import, so a switch repaints in the new theme. Rich text
that carries colours is set through :func:`set_rich_text`, which builds it again when the theme changes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from enum import StrEnum

from PySide6.QtCore import QEvent, QObject, QRectF, QSettings, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QColor, QFont, QGuiApplication, QPainter, QPalette
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QMenu,
    QProxyStyle,
    QStyle,
    QStyleFactory,
    QStyleOption,
    QWidget,
)
from shiboken6 import Shiboken


class Scheme(StrEnum):
    """The two themes."""

    LIGHT = "light"
    DARK = "dark"


class ThemeChoice(StrEnum):
    """What the user picked in View ▸ Theme."""

    SYSTEM = "system"
    LIGHT = "light"
    DARK = "dark"


@dataclass(frozen=True)
class Colours:
    """The named colours of one theme. Treat the QColors as read-only."""

    scheme: Scheme
    # Qt palette roles
    window: QColor
    base: QColor
    alternate_base: QColor
    text: QColor
    muted_text: QColor  # secondary text: sku, dates, hints
    placeholder_text: QColor
    disabled_text: QColor
    button: QColor
    accent: QColor  # selection rings, score text, links
    highlight: QColor  # selected rows and filled accents, under highlighted_text
    highlighted_text: QColor
    mid: QColor
    midlight: QColor
    dark: QColor
    light: QColor
    shadow: QColor
    # the app's own surfaces
    dock_title: QColor
    list_background: QColor  # behind the product cards and the history rows
    card: QColor
    card_selected: QColor
    card_border: QColor
    card_hover_border: QColor
    skeleton: QColor  # grey bars of a card whose data is on its way
    track: QColor  # the empty part of score bars, the image placeholder's ground
    placeholder_ink: QColor
    broken_ink: QColor
    rule: QColor  # separator lines
    chip: QColor  # tag chips
    chip_text: QColor
    success: QColor
    danger: QColor
    warning: QColor
    badge_text: QColor  # text on the event-kind pills
    #: Badge colours of the four event kinds, chosen to be told apart by people with the common colour blindnesses
    #: (blue/magenta/orange/green differ in lightness too).
    events: Mapping[str, QColor]
    #: The ranking signals' bar colours (``widgets.SIGNAL_NAMES`` gives their names).
    signals: Mapping[str, QColor]


def _colours(scheme: Scheme, events: dict[str, str], signals: dict[str, str], **named: str) -> Colours:
    return Colours(
        scheme=scheme,
        events={kind: QColor(hex_) for kind, hex_ in events.items()},
        signals={name: QColor(hex_) for name, hex_ in signals.items()},
        **{name: QColor(hex_) for name, hex_ in named.items()},
    )


LIGHT = _colours(
    Scheme.LIGHT,
    window="#f6f7f9",
    base="#ffffff",
    alternate_base="#f1f3f5",
    text="#1f2328",
    muted_text="#5f6b7a",
    placeholder_text="#8a94a0",
    disabled_text="#9aa3ad",
    button="#fbfbfc",
    accent="#2f6fed",
    highlight="#2f6fed",
    highlighted_text="#ffffff",
    mid="#c9ced4",
    midlight="#e3e6ea",
    dark="#9aa3ad",
    light="#ffffff",
    shadow="#000000",
    dock_title="#eceff3",
    list_background="#f6f7f9",
    card="#ffffff",
    card_selected="#eef3ff",
    card_border="#dde1e6",
    card_hover_border="#b9c0c8",
    skeleton="#e9ecef",
    track="#f1f3f5",
    placeholder_ink="#c4cad1",
    broken_ink="#d9a3a3",
    rule="#e3e6ea",
    chip="#eceff3",
    chip_text="#33404d",
    success="#2b8a3e",
    danger="#c92a2a",
    warning="#8a6d00",
    badge_text="#ffffff",
    events={"view": "#5c7cfa", "like": "#d6336c", "cart": "#e8590c", "purchase": "#2b8a3e"},
    signals={
        "style": "#7048e8",
        "visual": "#1c7ed6",
        "colour": "#e8590c",
        "pattern": "#0ca678",
        "neighbour": "#3b5bdb",
        "group": "#0b7285",
        "behaviour": "#d6336c",
        "popularity": "#868e96",
        "learned": "#f59f00",
    },
)

# Dark: grey surfaces (not black, so cards and borders can sit a step lighter), softer text, and the accent and
# data colours one step lighter than in the light theme so they keep their contrast on the dark ground. The event
# pills get dark text, which reads better than white on those lighter fills.
DARK = _colours(
    Scheme.DARK,
    window="#1f2124",
    base="#26292d",
    alternate_base="#2c2f34",
    text="#e4e7eb",
    muted_text="#a3acb7",
    placeholder_text="#7d8793",
    disabled_text="#69717b",
    button="#2a2d32",
    accent="#6d9cff",
    highlight="#3567d8",
    highlighted_text="#ffffff",
    mid="#4a4f56",
    midlight="#3a3e44",
    dark="#15171a",
    light="#454a51",
    shadow="#0b0c0d",
    dock_title="#2b2e33",
    list_background="#1f2124",
    card="#2a2d32",
    card_selected="#263a63",
    card_border="#454a52",
    card_hover_border="#6a717b",
    skeleton="#383c42",
    track="#383c42",
    placeholder_ink="#5f6670",
    broken_ink="#a86a6a",
    rule="#3d4147",
    chip="#3d4148",
    chip_text="#dde2e8",
    success="#5cc46f",
    danger="#ff7070",
    warning="#f0b429",
    badge_text="#16181b",
    events={"view": "#8ca0ff", "like": "#f06595", "cart": "#ff922b", "purchase": "#51cf66"},
    signals={
        "style": "#9c7cff",
        "visual": "#4dabf7",
        "colour": "#ff922b",
        "pattern": "#38d9a9",
        "neighbour": "#748ffc",
        "group": "#3bc9db",
        "behaviour": "#f06595",
        "popularity": "#adb5bd",
        "learned": "#ffc078",
    },
)

THEMES = {Scheme.LIGHT: LIGHT, Scheme.DARK: DARK}

_current: Colours = LIGHT
_style: QStyle | None = None  # the style apply() installed (Qt deletes it when another replaces it)


def colours() -> Colours:
    """The colours of the theme shown now (light until :func:`apply` says otherwise)."""
    return _current


class LiveColours(Mapping[str, QColor]):
    """A read-only mapping into the current theme's colours (``theme.EVENT_COLOURS["like"]``), for code that keeps
    the mapping itself: each lookup reads the theme shown at that moment."""

    def __init__(self, pick: Callable[[Colours], Mapping[str, QColor]]) -> None:
        self._pick = pick

    def __getitem__(self, key: str) -> QColor:
        return self._pick(_current)[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._pick(_current))

    def __len__(self) -> int:
        return len(self._pick(_current))


EVENT_COLOURS = LiveColours(lambda c: c.events)



# -- palette and style sheet -------------------------------------------------------------------------------------


def palette(c: Colours) -> QPalette:
    """The Qt palette of a theme."""
    result = QPalette()
    roles = {
        QPalette.ColorRole.Window: c.window,
        QPalette.ColorRole.WindowText: c.text,
        QPalette.ColorRole.Base: c.base,
        QPalette.ColorRole.AlternateBase: c.alternate_base,
        QPalette.ColorRole.ToolTipBase: c.base,
        QPalette.ColorRole.ToolTipText: c.text,
        QPalette.ColorRole.PlaceholderText: c.placeholder_text,
        QPalette.ColorRole.Text: c.text,
        QPalette.ColorRole.Button: c.button,
        QPalette.ColorRole.ButtonText: c.text,
        QPalette.ColorRole.BrightText: c.highlighted_text,
        QPalette.ColorRole.Highlight: c.highlight,
        QPalette.ColorRole.HighlightedText: c.highlighted_text,
        QPalette.ColorRole.Link: c.accent,
        QPalette.ColorRole.LinkVisited: c.accent,
        QPalette.ColorRole.Mid: c.mid,
        QPalette.ColorRole.Midlight: c.midlight,
        QPalette.ColorRole.Dark: c.dark,
        QPalette.ColorRole.Light: c.light,
        QPalette.ColorRole.Shadow: c.shadow,
    }
    for role, colour in roles.items():
        result.setColor(role, colour)
    for role in (QPalette.ColorRole.Text, QPalette.ColorRole.WindowText, QPalette.ColorRole.ButtonText):
        result.setColor(QPalette.ColorGroup.Disabled, role, c.disabled_text)
    return result


def style_sheet(c: Colours) -> str:
    """The app's style sheet for a theme: dock titles, card-like frames, and the label roles the panels use
    (``setProperty("role", "muted")``; see :func:`set_role`)."""
    signal_rules = "".join(
        f'QLabel[signal="{name}"] {{ color: {colour.name()}; font-weight: 600; }}\n'
        for name, colour in c.signals.items()
    )
    return f"""
QDockWidget::title {{ padding: 6px 8px; background: {c.dock_title.name()}; font-weight: 600; }}
QListView#productGrid, QListView#historyList {{ background: {c.list_background.name()}; border: none; }}
QListView#customerList::item {{ padding: 5px 6px; }}
QLabel[role="heading"] {{ font-size: 15px; font-weight: 600; }}
QLabel[role="price"] {{ font-size: 15px; font-weight: 600; }}
QLabel[role="muted"] {{ color: {c.muted_text.name()}; }}
QLabel[role="error"] {{ color: {c.danger.name()}; }}
QLabel[role="success"] {{ color: {c.success.name()}; }}
QLabel[role="warning"] {{ color: {c.warning.name()}; }}
QLineEdit[invalid="true"] {{ border: 1px solid {c.danger.name()}; border-radius: 3px; }}
QLabel#productImage {{ background: {c.card.name()}; border: 1px solid {c.card_border.name()}; border-radius: 6px; }}
QLabel#studioPreview {{ background: {c.track.name()}; border: 1px solid {c.card_border.name()}; }}
QFrame#rule {{ color: {c.rule.name()}; }}
QFrame#jobRow {{ background: {c.card.name()}; border: 1px solid {c.card_border.name()}; border-radius: 6px; }}
QPushButton#jobsBadge {{
    background: {c.highlight.name()}; color: {c.highlighted_text.name()}; border-radius: 9px;
    padding: 1px 10px; font-weight: 600;
}}
{signal_rules}"""


def set_role(widget: QWidget, role: str) -> None:
    """Give ``widget`` a style-sheet role (``"muted"``, ``"error"``, ``"success"``, or ``""`` for none) and restyle
    it now (Qt applies a changed property only when the widget is polished again)."""
    if widget.property("role") == role:
        return
    widget.setProperty("role", role)
    style = widget.style()
    style.unpolish(widget)
    style.polish(widget)


class _RichText(QObject):
    """Builds its label's rich text again when the theme changes, unless the label was given other text since."""

    def __init__(self, label: QLabel) -> None:
        super().__init__(label)
        self.build: Callable[[Colours], str] | None = None
        self.built_text = ""
        self.built_for: Colours | None = None
        label.installEventFilter(self)

    def show(self, label: QLabel, build: Callable[[Colours], str]) -> None:
        self.build = build
        self.built_for = _current
        self.built_text = build(_current)
        label.setText(self.built_text)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if (
            event.type() in (QEvent.Type.PaletteChange, QEvent.Type.StyleChange)
            and self.build is not None
            and self.built_for is not _current
            and isinstance(watched, QLabel)
        ):
            if watched.text() == self.built_text:
                self.show(watched, self.build)
            else:
                self.build = None  # the label shows something else now
        return False


def set_rich_text(label: QLabel, build: Callable[[Colours], str]) -> None:
    """Set ``label``'s text to ``build(colours())`` now, and again with the new colours whenever the theme
    changes (for rich text with inline colours, which a palette change alone cannot reach)."""
    helper = label.findChild(_RichText, options=Qt.FindChildOption.FindDirectChildrenOnly)
    if helper is None:
        helper = _RichText(label)
    helper.show(label, build)


def muted(text: str) -> Callable[[Colours], str]:
    """A :func:`set_rich_text` builder: ``text`` (already escaped) in the muted colour."""
    return lambda c: f"<span style='color:{c.muted_text.name()}'>{text}</span>"


def danger(text: str) -> Callable[[Colours], str]:
    """A :func:`set_rich_text` builder: ``text`` (already escaped) in the error colour."""
    return lambda c: f"<span style='color:{c.danger.name()}'>{text}</span>"


# -- applying ----------------------------------------------------------------------------------------------------


def scheme_for(choice: ThemeChoice, system: Qt.ColorScheme) -> Scheme:
    """The theme to show for the user's choice and the OS colour scheme (light when the OS does not say)."""
    if choice is ThemeChoice.LIGHT:
        return Scheme.LIGHT
    if choice is ThemeChoice.DARK:
        return Scheme.DARK
    return Scheme.DARK if system == Qt.ColorScheme.Dark else Scheme.LIGHT


def system_scheme() -> Qt.ColorScheme:
    return QGuiApplication.styleHints().colorScheme()


class _FusionStyle(QProxyStyle):
    """Fusion, with check boxes and radio buttons outlined in a colour that shows on a dark window too (Fusion
    outlines them a shade darker than the window, which vanishes on a dark one)."""

    def __init__(self) -> None:
        super().__init__(QStyleFactory.create("Fusion"))

    def drawPrimitive(
        self, element: QStyle.PrimitiveElement, option: QStyleOption, painter: QPainter, widget: QWidget | None = None
    ) -> None:
        super().drawPrimitive(element, option, painter, widget)
        if element not in _INDICATORS or _current.scheme is not Scheme.DARK:
            return
        state = option.state
        if not state & QStyle.StateFlag.State_Enabled:
            colour = _current.midlight
        elif state & QStyle.StateFlag.State_MouseOver:
            colour = _current.accent
        else:
            colour = _current.card_hover_border
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(colour)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        box = QRectF(option.rect).adjusted(0.5, 0.5, -0.5, -0.5)  # on the pixels Fusion's own outline covers
        if element is QStyle.PrimitiveElement.PE_IndicatorRadioButton:
            painter.drawEllipse(box)
        else:
            painter.drawRoundedRect(box, 1.0, 1.0)
        painter.restore()


_INDICATORS = (QStyle.PrimitiveElement.PE_IndicatorCheckBox, QStyle.PrimitiveElement.PE_IndicatorRadioButton)


def apply(app: QApplication, scheme: Scheme | None = None) -> None:
    """Fusion, the palette and the style sheet of ``scheme`` (default: the OS colour scheme's), and a
    readable minimum font size."""
    global _current, _style
    chosen = THEMES[scheme if scheme is not None else scheme_for(ThemeChoice.SYSTEM, system_scheme())]
    if _style is None or not Shiboken.isValid(_style):  # not yet, or someone set another style since
        _style = _FusionStyle()
        app.setStyle(_style)
    font = QFont(app.font())
    if font.pointSizeF() < 10:
        font.setPointSizeF(10)
        app.setFont(font)
    if chosen is _current and app.styleSheet():
        return  # already shown: re-polishing every widget for nothing takes a noticeable moment
    _current = chosen
    app.setPalette(palette(chosen))
    app.setStyleSheet(style_sheet(chosen))


class ThemeController(QObject):
    """The theme the user chose in View ▸ Theme, saved under ``appearance/theme`` in ``settings``.

    With :attr:`ThemeChoice.SYSTEM` it follows the OS colour scheme, at start and whenever the OS switches.
    :attr:`changed` carries the :class:`Scheme` shown after each switch.
    """

    SETTING = "appearance/theme"

    changed = Signal(str)

    def __init__(self, settings: QSettings, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._settings = settings
        try:
            self._choice = ThemeChoice(str(settings.value(self.SETTING, ThemeChoice.SYSTEM.value)))
        except ValueError:
            self._choice = ThemeChoice.SYSTEM
        self._system = system_scheme()
        self.actions: dict[ThemeChoice, QAction] = {}
        QGuiApplication.styleHints().colorSchemeChanged.connect(self._on_system_changed)
        self._apply()

    def choice(self) -> ThemeChoice:
        return self._choice

    def scheme(self) -> Scheme:
        return scheme_for(self._choice, self._system)

    def set_choice(self, choice: ThemeChoice) -> None:
        """Show the theme for ``choice`` and remember it."""
        self._choice = choice
        self._settings.setValue(self.SETTING, choice.value)
        if choice in self.actions:
            self.actions[choice].setChecked(True)
        self._apply()

    def add_menu(self, menu: QMenu) -> QMenu:
        """A Theme submenu of ``menu``: Follow system / Light / Dark, the current one checked."""
        submenu = menu.addMenu("&Theme")
        group = QActionGroup(submenu)
        group.setExclusive(True)
        for choice, text in (
            (ThemeChoice.SYSTEM, "Follow &system"),
            (ThemeChoice.LIGHT, "&Light"),
            (ThemeChoice.DARK, "&Dark"),
        ):
            action = QAction(text, submenu, checkable=True)
            action.setChecked(choice is self._choice)
            action.triggered.connect(lambda _checked=False, choice=choice: self.set_choice(choice))
            group.addAction(action)
            submenu.addAction(action)
            self.actions[choice] = action
        return submenu

    def _on_system_changed(self, scheme: Qt.ColorScheme) -> None:
        self._system = scheme
        if self._choice is ThemeChoice.SYSTEM:
            self._apply()

    def _apply(self) -> None:
        app = QApplication.instance()
        if not isinstance(app, QApplication):
            return
        before = colours()
        apply(app, self.scheme())
        if colours() is not before:
            self.changed.emit(self.scheme().value)

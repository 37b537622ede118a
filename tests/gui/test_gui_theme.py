"""Light and dark themes: the palette, what the painters draw, following the OS colour scheme, the saved choice,
and colours that stay readable in both."""

from __future__ import annotations

from collections.abc import Iterator
from itertools import combinations

import pytest
from gui_helpers import wait_idle
from PySide6.QtCore import QRect, QSettings, Qt
from PySide6.QtGui import QColor, QGuiApplication, QImage, QPainter, QPalette
from PySide6.QtWidgets import QApplication, QCheckBox, QLabel, QStyle, QStyleOptionButton, QStyleOptionViewItem
from pytestqt.qtbot import QtBot

from stylerec_desktop.gui import theme
from stylerec_desktop.gui.delegates import ProductTileDelegate
from stylerec_desktop.gui.item_models import TileRole
from stylerec_desktop.gui.main_window import MainWindow
from stylerec_desktop.gui.theme import DARK, LIGHT, Scheme, ThemeChoice, ThemeController


@pytest.fixture(autouse=True)
def _light_afterwards(qapp: QApplication) -> Iterator[None]:
    """The other tests expect the light theme: put it back whatever a test switched to."""
    yield
    theme.apply(qapp, Scheme.LIGHT)


def _window_colour() -> QColor:
    return QApplication.palette().color(QPalette.ColorRole.Window)


def _painted_card(window: MainWindow) -> QImage:
    """The first product's card as the grid's delegate paints it now."""
    grid = window.catalog_panel.grid
    index = window.catalog_panel.model.index(0)
    assert index.data(TileRole) is not None
    delegate = grid.itemDelegate()
    assert isinstance(delegate, ProductTileDelegate)
    size = delegate.tile_size(grid.font())
    image = QImage(size, QImage.Format.Format_ARGB32)
    image.fill(Qt.GlobalColor.transparent)
    option = QStyleOptionViewItem()
    option.initFrom(grid)
    option.rect = QRect(0, 0, size.width(), size.height())
    option.font = grid.font()
    painter = QPainter(image)
    delegate.paint(painter, option, index)
    painter.end()
    return image


def _card_fill(image: QImage) -> QColor:
    # Left of the thumbnail, half-way down: inside the card's border, outside the picture and the text.
    return image.pixelColor(4, image.height() // 2)


def test_switching_the_theme_repaints_the_palette_the_cards_and_the_grid(qtbot: QtBot, window: MainWindow) -> None:
    assert window.theme.choice() is ThemeChoice.SYSTEM  # offscreen, the OS says nothing: light
    assert _window_colour() == LIGHT.window
    assert _card_fill(_painted_card(window)) == LIGHT.card

    window.theme.actions[ThemeChoice.DARK].trigger()  # View ▸ Theme ▸ Dark
    assert window.theme.scheme() is Scheme.DARK
    assert _window_colour() == DARK.window
    dark_card = _painted_card(window)
    assert _card_fill(dark_card) == DARK.card
    # The title is painted in the theme's text colour: some pixel of the card is that light text colour now.
    text_rows = range(dark_card.height() - 40, dark_card.height())
    assert any(dark_card.pixelColor(x, y) == DARK.text for x in range(dark_card.width()) for y in text_rows)
    # The grid's own background (between the cards) follows too.
    grid = window.catalog_panel.grid
    grid.viewport().repaint()
    background = grid.viewport().grab().toImage().pixelColor(grid.viewport().width() - 2, 2)
    assert background == DARK.list_background

    window.theme.actions[ThemeChoice.LIGHT].trigger()
    assert _window_colour() == LIGHT.window
    assert _card_fill(_painted_card(window)) == LIGHT.card


def test_the_theme_picked_is_saved_and_used_next_time(qtbot: QtBot, window: MainWindow, tmp_path) -> None:
    window.theme.set_choice(ThemeChoice.DARK)
    assert window.theme.actions[ThemeChoice.DARK].isChecked()
    assert not window.theme.actions[ThemeChoice.SYSTEM].isChecked()
    theme.apply(QApplication.instance(), Scheme.LIGHT)  # as at the next start, before the window's settings load
    settings = QSettings(str(tmp_path / "window.ini"), QSettings.Format.IniFormat)
    assert settings.value(ThemeController.SETTING) == "dark"
    controller = ThemeController(settings)
    assert controller.choice() is ThemeChoice.DARK and _window_colour() == DARK.window


def test_following_the_system_switches_when_the_os_scheme_changes(qtbot: QtBot, window: MainWindow) -> None:
    hints = QGuiApplication.styleHints()
    assert window.theme.choice() is ThemeChoice.SYSTEM
    # The offscreen platform cannot switch its scheme: send the change Qt would send.
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Dark)
    assert _window_colour() == DARK.window
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Light)
    assert _window_colour() == LIGHT.window
    # A theme picked by hand stays whatever the OS does.
    window.theme.set_choice(ThemeChoice.LIGHT)
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Dark)
    assert _window_colour() == LIGHT.window
    window.theme.set_choice(ThemeChoice.SYSTEM)  # back to following: the OS said dark last
    assert _window_colour() == DARK.window
    hints.colorSchemeChanged.emit(Qt.ColorScheme.Unknown)


@pytest.mark.parametrize(
    ("choice", "system", "shown"),
    [
        (ThemeChoice.SYSTEM, Qt.ColorScheme.Dark, Scheme.DARK),
        (ThemeChoice.SYSTEM, Qt.ColorScheme.Light, Scheme.LIGHT),
        (ThemeChoice.SYSTEM, Qt.ColorScheme.Unknown, Scheme.LIGHT),
        (ThemeChoice.LIGHT, Qt.ColorScheme.Dark, Scheme.LIGHT),
        (ThemeChoice.DARK, Qt.ColorScheme.Light, Scheme.DARK),
    ],
)
def test_the_scheme_shown_for_each_choice(choice: ThemeChoice, system: Qt.ColorScheme, shown: Scheme) -> None:
    assert theme.scheme_for(choice, system) is shown


def test_rich_text_with_colours_is_rebuilt_when_the_theme_changes(qtbot: QtBot, qapp: QApplication) -> None:
    theme.apply(qapp, Scheme.LIGHT)
    hint, replaced = QLabel(), QLabel()
    qtbot.addWidget(hint)
    qtbot.addWidget(replaced)
    theme.set_rich_text(hint, theme.muted("Pick a customer."))
    theme.set_rich_text(replaced, theme.muted("Loading…"))
    replaced.setText("<b>Ann</b>")  # the panel moved on: its old hint must not come back
    assert LIGHT.muted_text.name() in hint.text()
    theme.apply(qapp, Scheme.DARK)
    assert DARK.muted_text.name() in hint.text() and "Pick a customer." in hint.text()
    assert replaced.text() == "<b>Ann</b>"


def test_an_empty_check_box_has_a_visible_frame_in_the_dark_theme(qtbot: QtBot, qapp: QApplication) -> None:
    """Fusion's own frame is darker than the window, which hides it on a dark one."""
    theme.apply(qapp, Scheme.DARK)
    box = QCheckBox("In stock")
    qtbot.addWidget(box)
    box.show()
    image = box.grab().toImage()
    option = QStyleOptionButton()
    box.initStyleOption(option)
    indicator = box.style().subElementRect(QStyle.SubElement.SE_CheckBoxIndicator, option, box)
    edge = [image.pixelColor(indicator.left(), y) for y in range(indicator.top() + 2, indicator.bottom() - 1)]
    assert min(_contrast(colour, DARK.window) for colour in edge) >= 1.8


def _contrast(a: QColor, b: QColor) -> float:
    """WCAG 2 contrast ratio."""

    def luminance(colour: QColor) -> float:
        def channel(value: float) -> float:
            return value / 12.92 if value <= 0.03928 else ((value + 0.055) / 1.055) ** 2.4

        return 0.2126 * channel(colour.redF()) + 0.7152 * channel(colour.greenF()) + 0.0722 * channel(colour.blueF())

    high, low = sorted((luminance(a), luminance(b)), reverse=True)
    return (high + 0.05) / (low + 0.05)


@pytest.mark.parametrize("colours", [LIGHT, DARK], ids=["light", "dark"])
def test_both_themes_stay_readable(colours: theme.Colours) -> None:
    for ground in (colours.window, colours.base, colours.card, colours.card_selected):
        assert _contrast(colours.text, ground) >= 7
        assert _contrast(colours.muted_text, ground) >= 4.5  # sku, dates, hints (WCAG AA for body text)
    assert _contrast(colours.accent, colours.card) >= 4.5  # the score line on recommendation cards
    assert _contrast(colours.highlighted_text, colours.highlight) >= 4.5
    for state in (colours.success, colours.danger, colours.warning):
        assert _contrast(state, colours.base) >= 4
    # Card borders visible on the grid's background, and cards told from it.
    assert _contrast(colours.card_border, colours.list_background) >= 1.2
    assert colours.card != colours.list_background or _contrast(colours.card_border, colours.card) >= 1.3
    # Event badges: readable text on each, each visible on a card, and no two kinds alike.
    for colour in colours.events.values():
        assert _contrast(colours.badge_text, colour) >= 3.5
        assert _contrast(colour, colours.card) >= 3
    for a, b in combinations(colours.events.values(), 2):
        assert abs(a.hueF() - b.hueF()) > 0.08 or abs(a.lightnessF() - b.lightnessF()) > 0.15


def test_a_switch_redraws_the_customer_header_and_the_image_placeholders(qtbot: QtBot, window: MainWindow) -> None:
    window.customers_panel.choose(window.catalog().customers()[0].customer_id)
    wait_idle(qtbot, window.runner)
    window.theme.set_choice(ThemeChoice.DARK)
    header = window.customers_panel.header_label.text()
    assert DARK.muted_text.name() in header and LIGHT.muted_text.name() not in header
    placeholder = window.thumbnails.placeholder(64).toImage()
    assert placeholder.pixelColor(1, 1) == DARK.track

"""A work-around for Qt 6's dock layout: with two groups of tabbed docks, ``QMainWindow`` shows a stray copy of the
second group's tab bar at a stale place (seen with PySide6 6.x, offscreen and on X11). The real bar sits at the left
edge of its docks; a visible bar of the window that lines up with none of its docks is the stray copy, and is hidden
whenever the window is shown or its docks move."""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt, QTimer
from PySide6.QtWidgets import QDockWidget, QMainWindow, QTabBar


def hide_stray_tab_bars(window: QMainWindow) -> int:
    """Hide the stray tab bars of ``window``; returns how many were hidden."""
    hidden = 0
    docks = [dock for dock in window.findChildren(QDockWidget) if dock.isVisible() and not dock.isFloating()]
    for bar in window.findChildren(QTabBar, options=Qt.FindChildOption.FindDirectChildrenOnly):
        if not bar.isVisible():
            continue
        titles = {bar.tabText(i) for i in range(bar.count())}
        mine = [dock for dock in docks if dock.windowTitle() in titles]
        # A bar of a group whose docks are all closed is left to Qt: hiding it made the layout show it again,
        # and the two took turns for ever (the GUI thread at 94% CPU, starving the workers).
        if mine and not any(abs(dock.geometry().left() - bar.geometry().left()) <= 2 for dock in mine):
            bar.hide()
            hidden += 1
    return hidden


class StrayTabBarFix(QObject):
    """Installed on a main window: re-checks its tab bars after each show, resize and dock layout change."""

    def __init__(self, window: QMainWindow) -> None:
        super().__init__(window)
        self._window = window
        window.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._window and event.type() in (
            QEvent.Type.Show,
            QEvent.Type.Resize,
            QEvent.Type.LayoutRequest,
        ):
            QTimer.singleShot(0, self._check)
        return False

    def _check(self) -> None:
        hide_stray_tab_bars(self._window)

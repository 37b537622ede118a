"""Painting that survives a profiler: a paint event's frame held past its return (as a thread sampling the GUI
thread's stack with ``sys._current_frames()`` holds it) must not keep its QPainter active.

Before, the painter ended only when Python dropped it: the sampler's reference kept it active after Qt closed the
paint event ("QBackingStore::endPaint() called with active painter"), and the sampler thread ended it later while the
GUI thread painted; scripts/workspace_timings.py --explain then segfaulted in the next ``QPainter::drawText``.
"""

from __future__ import annotations

import sys
from types import FrameType
from typing import Any

from PySide6.QtGui import QColor, QPainter
from pytestqt.qtbot import QtBot

from stylerec_desktop.gui.widgets import ScoreBars, SwatchStrip


def test_a_held_paint_frame_leaves_no_painter_active(qtbot: QtBot) -> None:
    strip = SwatchStrip(height=20)
    strip.set_colours([("#204080", 0.5), ("#e0a020", 0.5)])
    strip.resize(200, 20)
    bars = ScoreBars()
    bars.set_components({"style": 0.8, "colour": -0.3})
    bars.resize(200, 60)
    for widget in (strip, bars):
        qtbot.addWidget(widget)

    held: list[FrameType] = []

    def hold_paint_frames(frame: FrameType, event: str, _arg: Any) -> None:
        if event == "return" and frame.f_code.co_name == "paintEvent":
            held.append(frame)  # what a stack sampler's reference does: the frame outlives the call

    sys.setprofile(hold_paint_frames)
    try:
        shots = [widget.grab().toImage() for widget in (strip, bars)]
    finally:
        sys.setprofile(None)

    painters = [frame.f_locals["painter"] for frame in held if isinstance(frame.f_locals.get("painter"), QPainter)]
    assert len(painters) == 2  # both paint events ran, and their frames are still held
    assert not any(painter.isActive() for painter in painters)
    # ...and they painted: the strip's halves in its two colours.
    assert shots[0].pixelColor(50, 10) == QColor("#204080") and shots[0].pixelColor(150, 10) == QColor("#e0a020")

"""Font zoom for the whole window (View → Zoom in / out / Actual size; Ctrl+plus, Ctrl+minus, Ctrl+0):
the application font scaled from the size it started with, in steps, kept in the settings.

Widgets that set a font of their own (the ladder's monospace, the header's large price, bold buttons)
re-read ``QApplication.font()`` when the window tells them the zoom changed; the rest follow Qt's
application font by themselves.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import QApplication

STEPS = (70, 80, 90, 100, 110, 125, 140, 160, 180, 200)  # percent of the starting size
DEFAULT = 100
_BASE = "marketMonitorBasePointSize"  # an application property: a second window must not compound


def clamp(percent: int) -> int:
    """The nearest step to ``percent`` (a settings file may say anything)."""
    return min(STEPS, key=lambda s: abs(s - percent))


def step(percent: int, direction: int) -> int:
    """One step in or out from ``percent`` (stays at the ends)."""
    i = STEPS.index(clamp(percent)) + direction
    return STEPS[max(0, min(len(STEPS) - 1, i))]


def base_point_size(app: QApplication) -> float:
    base = app.property(_BASE)
    if not isinstance(base, float) or base <= 0:
        size = app.font().pointSizeF()
        base = size if size > 0 else 9.0
        app.setProperty(_BASE, base)
    return base


def apply(app: QApplication, percent: int) -> int:
    """Scale the application font to ``percent`` of its starting size; returns the step used."""
    percent = clamp(percent)
    font = app.font()
    font.setPointSizeF(base_point_size(app) * percent / 100)
    app.setFont(font)
    return percent


def factor(app: QApplication) -> float:
    """The current font size against the starting one (1.0 unzoomed)."""
    return app.font().pointSizeF() / base_point_size(app)


def scale_plot(plot: Any, left_width: int) -> None:
    """A pyqtgraph plot's tick text at the application font, its fixed left axis widened to match."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    item = plot.getPlotItem()
    for name in ("left", "bottom"):
        axis = item.getAxis(name)
        axis.setTickFont(app.font())
        axis.label.setFont(app.font())
    item.getAxis("left").setWidth(round(left_width * factor(app)))

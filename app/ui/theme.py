"""Dark and light themes: one palette for Qt widgets and the matching colours for pyqtgraph items."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication


@dataclass(frozen=True, slots=True)
class Theme:
    name: str
    window: str
    base: str
    alt_base: str
    text: str
    dim_text: str
    highlight: str
    grid: str
    bid: str  # buy side / up
    ask: str  # sell side / down
    bid_fill: str  # translucent area under the bid depth curve
    ask_fill: str
    flash_up: str  # a cell that just ticked up
    flash_down: str
    warn: str  # stale, gaps, simulated-data marker
    mid: str


DARK = Theme(
    name="dark",
    window="#1e2127",
    base="#16181d",
    alt_base="#1b1e24",
    text="#d7dae0",
    dim_text="#8a9099",
    highlight="#2f5d8a",
    grid="#3a3f4a",
    bid="#3fbf7f",
    ask="#e5534b",
    bid_fill="#3fbf7f55",
    ask_fill="#e5534b55",
    flash_up="#1f5c3a",
    flash_down="#6b2622",
    warn="#e0a030",
    mid="#c8c8c8",
)

LIGHT = Theme(
    name="light",
    window="#f3f4f6",
    base="#ffffff",
    alt_base="#f6f7f9",
    text="#1d2026",
    dim_text="#6b717b",
    highlight="#a9c8ec",
    grid="#d0d4da",
    bid="#16884f",
    ask="#c73b33",
    bid_fill="#16884f44",
    ask_fill="#c73b3344",
    flash_up="#c9efd9",
    flash_down="#f6d0cd",
    warn="#b86e00",
    mid="#555a63",
)

THEMES = {t.name: t for t in (DARK, LIGHT)}
_current: Theme = DARK


def current() -> Theme:
    return _current


def qcolor(text: str) -> QColor:
    """``#rrggbb`` or ``#rrggbbaa`` (alpha last, as the theme writes it) to a QColor."""
    if len(text) == 9:
        color = QColor(text[:7])
        color.setAlpha(int(text[7:], 16))
        return color
    return QColor(text)


def style_plot(plot: Any, t: Theme) -> None:
    """A pyqtgraph PlotWidget's background and axes in the theme's colours."""
    import pyqtgraph as pg

    plot.setBackground(qcolor(t.base))
    item = plot.getPlotItem()
    for name in ("left", "bottom"):
        axis = item.getAxis(name)
        axis.setPen(pg.mkPen(t.grid))
        axis.setTextPen(pg.mkPen(t.dim_text))
    # No grid: pyqtgraph draws it with the axis, so every data update would redraw the axis text too
    # (measured: most of a frame's paint time).


def apply(app: QApplication, name: str) -> Theme:
    """Set the application palette; widgets that draw their own colours re-read ``current()``."""
    global _current
    theme = _current = THEMES.get(name, DARK)
    app.setStyle("Fusion")  # the same look on every desktop, and it honours the palette fully
    pal = QPalette()
    roles = {
        QPalette.ColorRole.Window: theme.window,
        QPalette.ColorRole.WindowText: theme.text,
        QPalette.ColorRole.Base: theme.base,
        QPalette.ColorRole.AlternateBase: theme.alt_base,
        QPalette.ColorRole.Text: theme.text,
        QPalette.ColorRole.Button: theme.window,
        QPalette.ColorRole.ButtonText: theme.text,
        QPalette.ColorRole.Highlight: theme.highlight,
        QPalette.ColorRole.HighlightedText: theme.text,
        QPalette.ColorRole.ToolTipBase: theme.base,
        QPalette.ColorRole.ToolTipText: theme.text,
        QPalette.ColorRole.PlaceholderText: theme.dim_text,
    }
    for role, color in roles.items():
        pal.setColor(role, QColor(color))
    for role in (
        QPalette.ColorRole.Text,
        QPalette.ColorRole.WindowText,
        QPalette.ColorRole.ButtonText,
    ):  # disabled controls must look disabled
        pal.setColor(QPalette.ColorGroup.Disabled, role, QColor(theme.dim_text))
    app.setPalette(pal)
    return theme

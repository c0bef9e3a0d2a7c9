"""Themes: one palette for Qt widgets and the matching colours for pyqtgraph items. The palettes are data,
``resources/themes/*.json`` (bundled with the binary), checked field by field when first loaded."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication

from app.resources import resource_path

DEFAULT = "dark"
_COLOUR = re.compile(r"#[0-9a-fA-F]{6}([0-9a-fA-F]{2})?")


class ThemeError(Exception):
    """A theme file is missing or malformed; the message names the file and the field."""


@dataclass(frozen=True, slots=True)
class Theme:
    name: str
    label: str
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


COLOUR_FIELDS = tuple(f.name for f in fields(Theme) if f.name not in ("name", "label"))


def load_theme(path: Path) -> Theme:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ThemeError(f"{path}: cannot read the theme: {exc}") from None
    colours = doc.get("colors") if isinstance(doc, dict) else None
    if not isinstance(colours, dict):
        raise ThemeError(f"{path}: expected an object with a 'colors' object")
    name = doc.get("name", path.stem)
    label = doc.get("label", str(name).capitalize())
    if not isinstance(name, str) or not name or not isinstance(label, str):
        raise ThemeError(f"{path}: 'name' and 'label' must be non-empty text")
    missing = [key for key in COLOUR_FIELDS if key not in colours]
    unknown = sorted(set(colours) - set(COLOUR_FIELDS))
    if missing or unknown:
        raise ThemeError(f"{path}: missing colours {missing}, unknown colours {unknown}")
    for key in COLOUR_FIELDS:
        value = colours[key]
        if not isinstance(value, str) or not _COLOUR.fullmatch(value):
            raise ThemeError(f"{path}: colour {key!r} is {value!r}, expected #rrggbb or #rrggbbaa")
    return Theme(name=name, label=label, **{key: colours[key] for key in COLOUR_FIELDS})


def load_themes(folder: Path) -> dict[str, Theme]:
    """Every ``*.json`` theme in ``folder``, by name; the default theme must be among them."""
    loaded = {t.name: t for t in map(load_theme, sorted(folder.glob("*.json")))}
    if DEFAULT not in loaded:
        raise ThemeError(f"{folder}: no {DEFAULT!r} theme (found: {sorted(loaded) or 'none'})")
    return loaded


_themes: dict[str, Theme] | None = None
_current: Theme | None = None


def themes() -> dict[str, Theme]:
    """The bundled themes, loaded on first use."""
    global _themes
    if _themes is None:
        _themes = load_themes(resource_path("themes"))
    return _themes


def named(name: str) -> Theme:
    """The theme called ``name``, or the default one if there is none by that name."""
    available = themes()
    return available.get(name, available[DEFAULT])


def current() -> Theme:
    return _current if _current is not None else named(DEFAULT)


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
    theme = _current = named(name)
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

"""What every live table shares: column definitions, the read-only model plumbing, theme colours read at
paint time, and the trading-style ``QTableView`` they are shown in.

A model subclass only says what a cell's text, colour and tooltip are (``cell``, ``tone``, ``tooltip``);
row bookkeeping and signals stay in the subclass, because batching them is the whole point of each one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QColor, QFont, QFontDatabase
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QWidget

from app.ui import theme
from app.ui.column_fit import keep_numbers_whole

Index = QModelIndex | QPersistentModelIndex
ROW_HEIGHT = 20
CELL_PADDING = 2  # px each side of a cell's text, on top of the style's own margin
_RIGHT = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
_LEFT = Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter
_CENTER = Qt.AlignmentFlag.AlignCenter
# Tones name a Theme colour; resolved at data() time, so a theme switch needs no model work.
BUY, SELL, WARN, DIM = "bid", "ask", "warn", "dim_text"
RawRole = Qt.ItemDataRole.UserRole  # the row's underlying object (Trade, Fill, ...) for tests and actions


@dataclass(frozen=True, slots=True)
class Column:
    title: str
    sample: str  # typical widest text: the column starts as wide as this (or its title)
    numeric: bool = False  # numbers are right-aligned so their digits line up
    tip: str = ""
    centered: bool = False  # short words between numbers (sides): apart from both neighbours

    @property
    def alignment(self) -> Qt.AlignmentFlag:
        if self.numeric:
            return _RIGHT
        return _CENTER if self.centered else _LEFT


class TableModel(QAbstractTableModel):
    """A read-only table over ``columns``; subclasses implement ``row_count``, ``cell`` and friends."""

    columns: tuple[Column, ...] = ()

    # ---------------------------------------------------------------- what subclasses say

    def row_count(self) -> int:
        raise NotImplementedError

    def cell(self, row: int, col: int) -> str:
        raise NotImplementedError

    def tone(self, row: int, col: int) -> str | None:
        """A Theme colour name for the cell's text, or None for the palette's."""
        return None

    def tooltip(self, row: int, col: int) -> str | None:
        return None

    def raw(self, row: int) -> object:
        return None

    # ---------------------------------------------------------------- Qt

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802 (Qt's names)
        return 0 if parent.isValid() else self.row_count()

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.columns)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row, col = index.row(), index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self.cell(row, col)
        if role == Qt.ItemDataRole.ForegroundRole:
            name = self.tone(row, col)
            return None if name is None else tone_color(name)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return self.columns[col].alignment
        if role == Qt.ItemDataRole.ToolTipRole:
            return self.tooltip(row, col)
        if role == RawRole:
            return self.raw(row)
        return None

    def headerData(  # noqa: N802
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(self.columns):
            return None
        column = self.columns[section]
        if role == Qt.ItemDataRole.DisplayRole:
            return column.title
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return column.alignment
        if role == Qt.ItemDataRole.ToolTipRole:
            return column.tip or None
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable | Qt.ItemFlag.ItemNeverHasChildren

    def column_texts(self, col: int) -> list[str]:
        """Every row's text in one column, top to bottom (tests and copy actions)."""
        return [self.cell(row, col) for row in range(self.row_count())]


_colors: dict[tuple[str, str], QColor] = {}


def tone_color(name: str) -> QColor:
    """The current theme's colour ``name``, one QColor per (theme, name) for the whole run."""
    current = theme.current()
    key = (current.name, name)
    color = _colors.get(key)
    if color is None:
        color = _colors[key] = theme.qcolor(getattr(current, name))
    return color


def table_font(base: QFont | None = None) -> QFont:
    """The application font with tabular (equal-width) digits, so right-aligned numbers line up by place.
    Fonts without the OpenType feature ignore it; DejaVu Sans, Qt's fallback, has tabular digits anyway."""
    font = QFont(base) if base is not None else QFontDatabase.systemFont(QFontDatabase.SystemFont.GeneralFont)
    font.setFeature(QFont.Tag("tnum"), 1)
    return font


def make_table_view(model: TableModel, parent: QWidget | None = None) -> QTableView:
    """A compact, read-only, row-selecting table for live data."""
    view = QTableView(parent)
    view.setModel(model)
    view.setFont(table_font(view.font()))
    view.setShowGrid(False)
    view.setAlternatingRowColors(True)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setWordWrap(False)
    view.setCornerButtonEnabled(False)
    # A right-aligned number followed by a left-aligned word ran together ("0.00266806Buy"): pad cells.
    view.setStyleSheet(f"QTableView::item {{ padding: 0px {CELL_PADDING}px; }}")
    view.setHorizontalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
    view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
    rows = view.verticalHeader()
    rows.hide()
    # Fixed heights: the view never measures rows, which keeps big, fast tables cheap.
    rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
    rows.setDefaultSectionSize(ROW_HEIGHT)
    rows.setMinimumSectionSize(ROW_HEIGHT)
    header = view.horizontalHeader()
    header.setHighlightSections(False)
    header.setStretchLastSection(True)
    header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
    header.setMinimumSectionSize(24)
    metrics = view.fontMetrics()
    for col, column in enumerate(model.columns):
        text = metrics.horizontalAdvance(column.sample) + 2 * CELL_PADDING + 10  # + the style's margins
        title = metrics.horizontalAdvance(column.title) + 16
        view.setColumnWidth(col, max(text, title))
    keep_numbers_whole(view)
    return view

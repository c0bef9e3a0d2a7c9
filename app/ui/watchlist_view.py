"""The watchlist's table view: the state word beside each market's name, a column chooser on the header,
compact mode, and the sorted order held still while the pointer is over the rows (so a click lands on the
market it was aimed at). The model (app/ui/watchlist_model.py) keeps the data; the window keeps the
settings and the row menu.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QPoint, QRect, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetrics, QPainter, QResizeEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QMenu,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QWidget,
)

from app.ui import theme
from app.ui.column_fit import keep_numbers_whole
from app.ui.table_base import Index
from app.ui.watchlist_model import (
    C_AGE,
    C_CLOSE,
    C_MARKET,
    C_PROB,
    C_STATUS,
    C_VENUE,
    C_VOL,
    COLUMNS,
    COMPACT,
    MARK_ROLE,
    TONES,
    WORD_ROLE,
    Mark,
    WatchlistModel,
)

ALERT_MARGIN = 12  # px kept free at the cell's right edge for the armed-alert mark (alerts_controller)
WIDTHS = (56, 196, 80, 80, 80, 78, 84, 64, 58, 74, 50)  # the columns' starting widths, Status stretches
STRETCH_MIN = 120  # the stretching last column needs at least this to say anything
# Narrow list: the first of these give way so the prices stay on screen (the state rides on the name).
SQUEEZE_ORDER = (C_VENUE, C_AGE, C_CLOSE, C_PROB, C_VOL, C_STATUS)


class WordDelegate(QStyledItemDelegate):
    """The market cell: the name (with its state dot), then the state's word in a small coloured tag right
    after it; when both do not fit, the name is elided, never the word."""

    def width_needed(self, view: QTableView, index: Index) -> int:
        """The cell's width with nothing elided: the dot, the name, its word's tag, the alert mark."""
        opt = QStyleOptionViewItem()
        view.initViewItemOption(opt)
        self.initStyleOption(opt, index)
        width = opt.decorationSize.width() + 8 + QFontMetrics(opt.font).horizontalAdvance(opt.text) + 6
        word = index.data(WORD_ROLE)
        if word:
            tag_font = QFont(opt.font)
            tag_font.setBold(True)
            tag_font.setPointSizeF(max(6.0, opt.font.pointSizeF() * 0.78))
            width += QFontMetrics(tag_font).horizontalAdvance(word) + 8 + 6
        return width + ALERT_MARGIN

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        word = index.data(WORD_ROLE)
        if not word:
            super().paint(painter, option, index)
            return
        mark = index.data(MARK_ROLE)
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        tag_font = QFont(opt.font)
        tag_font.setBold(True)
        tag_font.setPointSizeF(max(6.0, opt.font.pointSizeF() * 0.78))
        tag_metrics = QFontMetrics(tag_font)
        tag_w = tag_metrics.horizontalAdvance(word) + 8
        rect = option.rect
        name_room = rect.width() - tag_w - ALERT_MARGIN - 6
        text_left = rect.left() + opt.decorationSize.width() + 8  # the style's margins around the dot
        name_w = QFontMetrics(opt.font).horizontalAdvance(opt.text)
        if text_left + name_w > rect.left() + name_room:  # no room: the name gives way
            shrunk = QStyleOptionViewItem(option)
            shrunk.rect = QRect(rect.left(), rect.top(), max(0, name_room), rect.height())
            super().paint(painter, shrunk, index)
            x = rect.left() + max(0, name_room) + 4
        else:
            super().paint(painter, option, index)
            x = text_left + name_w + 6
        height = min(rect.height() - 4, tag_metrics.height() + 2)
        tag = QRect(x, rect.top() + (rect.height() - height) // 2, tag_w, height)
        tone = TONES.get(mark, "warn") if isinstance(mark, Mark) else "warn"
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(theme.qcolor(getattr(theme.current(), tone)))
        painter.drawRoundedRect(tag, 3, 3)
        painter.setPen(QColor("#000000"))
        painter.setFont(tag_font)
        painter.drawText(tag, int(Qt.AlignmentFlag.AlignCenter), word)
        painter.restore()


class WatchlistView(QTableView):
    """The watchlist table. ``columns_changed`` says the user hid or showed a column (titles hidden)."""

    columns_changed = Signal(list)
    compact_toggled = Signal(bool)
    hold_changed = Signal()  # the pointer entered or left the rows: the window shows whether order is held

    def __init__(self, model: WatchlistModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("watchlistTable")
        self.setModel(model)
        self.watch_model = model
        self.hidden: set[str] = set()
        self.compact = False
        self.squeezed: set[str] = set()  # chosen columns left out for want of room (narrow window)
        self._natural: dict[int, int] = {}  # each column's width when last shown, not stretched
        self.setSortingEnabled(True)
        self.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # watchlist order until a header is clicked
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setAlternatingRowColors(True)
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.verticalHeader().hide()
        self.verticalHeader().setDefaultSectionSize(22)
        self.names = WordDelegate(self)
        self.setItemDelegateForColumn(C_MARKET, self.names)
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)  # the window's row menu
        header = self.horizontalHeader()
        header.setSectionsMovable(True)
        header.setStretchLastSection(True)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setHighlightSections(False)
        header.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        header.customContextMenuRequested.connect(self._header_menu)
        for col, width in enumerate(WIDTHS):
            self.setColumnWidth(col, width)
        # The name cell also holds a dot, a word and the alert mark: its delegate measures it.
        self.fit = keep_numbers_whole(
            self, measure={C_MARKET: lambda ix: self.names.width_needed(self, ix)}, on_widened=self._fit_width
        )

    # ------------------------------------------------------------------ columns

    def column_chosen(self, col: int) -> bool:
        """Shown by the user's choice (the column chooser and compact mode), room permitting."""
        if col == C_MARKET:
            return True  # the name carries the state: it is never hidden
        return COLUMNS[col] not in self.hidden and (not self.compact or col in COMPACT)

    def column_visible(self, col: int) -> bool:
        return self.column_chosen(col) and COLUMNS[col] not in self.squeezed

    def set_columns(self, hidden: set[str], compact: bool) -> None:
        self.hidden, self.compact = set(hidden) - {COLUMNS[C_MARKET]}, compact
        self._fit_width()

    def _fit_width(self) -> None:
        """Where the chosen columns do not all fit, the least read give way (``SQUEEZE_ORDER``) rather
        than pushing the prices off-screen; they come back when the list is wide enough again."""
        room = self.viewport().width()
        chosen = [c for c in range(len(COLUMNS)) if self.column_chosen(c)]
        header = self.horizontalHeader()
        shown = [c for c in range(len(COLUMNS)) if not self.isColumnHidden(c)]
        stretched = max(shown, key=header.visualIndex) if shown else -1

        def width(col: int) -> int:
            # A hidden column measures 0 and the stretching one takes the room left: count what each
            # needs, as last seen while shown (the fit may have widened it).
            now = self.columnWidth(col)
            if now > 0 and col != stretched:
                self._natural[col] = now
            if col == stretched:
                return max(STRETCH_MIN, self._natural.get(col, 0))
            return self._natural.get(col, WIDTHS[col] if col < len(WIDTHS) else STRETCH_MIN)

        squeezed: set[str] = set()
        total = sum(width(c) for c in chosen)
        for col in SQUEEZE_ORDER:
            if total <= room or room <= 0:
                break
            if col in chosen:
                squeezed.add(COLUMNS[col])
                total -= width(col)
        self.squeezed = squeezed
        for col in range(len(COLUMNS)):
            hide = not self.column_visible(col)
            if self.isColumnHidden(col) != hide:
                self.setColumnHidden(col, hide)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt's name)
        super().resizeEvent(event)
        self._fit_width()

    def toggle_column(self, title: str) -> None:
        if title in self.hidden:
            self.hidden.discard(title)
        else:
            self.hidden.add(title)
        self.set_columns(self.hidden, self.compact)
        self.columns_changed.emit(sorted(self.hidden))

    def fill_column_menu(self, menu: QMenu) -> None:
        """Show or hide each column (Market always shows), compact mode, and every column back."""
        for col, title in enumerate(COLUMNS):
            if col == C_MARKET:
                continue
            action = menu.addAction(f"{title} (no room: widen the list)" if title in self.squeezed else title)
            action.setObjectName(f"column_{title}")
            action.setCheckable(True)
            action.setChecked(title not in self.hidden)
            action.setEnabled(not self.compact or col in COMPACT)  # compact hides the rest anyway
            action.triggered.connect(lambda _c=False, t=title: self.toggle_column(t))
        menu.addSeparator()
        compact = menu.addAction("Compact (key columns only)")
        compact.setObjectName("column_compact")
        compact.setCheckable(True)
        compact.setChecked(self.compact)
        compact.triggered.connect(lambda on: self.compact_toggled.emit(bool(on)))
        every = menu.addAction("Show all columns")
        every.setObjectName("column_all")
        every.triggered.connect(self.show_all_columns)

    def show_all_columns(self) -> None:
        self.set_columns(set(), False)
        self.columns_changed.emit([])
        self.compact_toggled.emit(False)

    def _header_menu(self, pos: QPoint) -> None:
        header = self.horizontalHeader()
        menu = QMenu(header)
        menu.setObjectName("columnsMenu")
        self.fill_column_menu(menu)
        menu.popup(header.mapToGlobal(pos))

    # ------------------------------------------------------------------ holding the order under the pointer

    def event(self, e: QEvent) -> bool:
        if e.type() == QEvent.Type.Enter:
            self.watch_model.hold("pointer", True)
            self.hold_changed.emit()
        elif e.type() == QEvent.Type.Leave:
            self.watch_model.hold("pointer", False)
            self.hold_changed.emit()
        return super().event(e)


def on_rows_menu(view: WatchlistView, build: Callable[[int, QMenu], None]) -> None:
    """A right-click on a row selects it and opens the menu ``build`` fills for that row."""

    def opened(pos: QPoint) -> None:
        index = view.indexAt(pos)
        if not index.isValid():
            return
        view.setCurrentIndex(view.watch_model.index(index.row(), 0))
        menu = QMenu(view)
        menu.setObjectName("watchlistRowMenu")
        build(index.row(), menu)
        menu.popup(view.viewport().mapToGlobal(pos))

    view.customContextMenuRequested.connect(opened)

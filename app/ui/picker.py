"""Watchlist → Add market…: a searchable table of what the venues list (title, close time, 24 h volume,
state), filled as the lists arrive. A market that has closed or settled since the list was read says so,
with its result (from the lifecycle feed, through ``state_of``); a search that matches nothing says so.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.core.instruments import Venue
from app.launch.catalog import MarketInfo
from app.ui import format as fmt
from app.ui import theme
from app.user.settings import MarketRef

SEARCH_ROLE = Qt.ItemDataRole.UserRole + 1
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_LEFT = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
COLUMNS = ("Venue", "Market", "Title", "Closes", "24 h volume", "State")
P_VENUE, P_MARKET, P_TITLE, P_CLOSES, P_VOLUME, P_STATE = range(len(COLUMNS))
OPEN_WORDS = frozenset({"", "open", "active", "initialized", "online"})  # trading as usual: no state shown
ENDED_WORDS = frozenset({"closed", "determined", "settled", "finalized"})

# (venue, market) -> the market's state as the live feeds know it now ("" when they know nothing new).
StateOf = Callable[[Venue, str], str]


def _no_news(_venue: Venue, _market: str) -> str:
    return ""


class MarketListModel(QAbstractTableModel):
    def __init__(self) -> None:
        super().__init__()
        self.items: list[MarketInfo] = []
        self.watched: set[tuple[Venue, str]] = set()
        self.state_of: StateOf = _no_news

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.items)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(  # noqa: N802
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation is Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        if orientation is Qt.Orientation.Horizontal and role == Qt.ItemDataRole.TextAlignmentRole:
            return _RIGHT if section == P_VOLUME else _LEFT
        return None

    def state(self, info: MarketInfo) -> str:
        """The live word first (it is newer than the list), else what the list said, if not plain open."""
        live = self.state_of(info.venue, info.market)
        if live:
            return live
        status = info.status.lower()
        return "" if status in OPEN_WORDS else status.replace("_", " ")

    def ended(self, info: MarketInfo) -> bool:
        return self.state(info).split(" ", 1)[0] in ENDED_WORDS

    def cell(self, info: MarketInfo, col: int) -> str:
        if col == P_VENUE:
            return fmt.venue_name(info.venue)
        if col == P_MARKET:
            return info.market
        if col == P_TITLE:
            detail = " — ".join(t for t in (info.title, info.subtitle) if t and t != info.market)
            return detail + ("   ✓ in watchlist" if (info.venue, info.market) in self.watched else "")
        if col == P_CLOSES:
            if info.close_time is None:
                return ""
            if self.ended(info):
                return fmt.when(info.close_time)
            return f"{fmt.when(info.close_time)} (in {fmt.countdown(info.close_time - time.time())})"
        if col == P_VOLUME:
            return "" if info.volume is None else fmt.volume(info.volume)
        return self.state(info)

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if not index.isValid():
            return None
        info = self.items[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self.cell(info, col)
        if role == SEARCH_ROLE:
            return f"{info.venue.value} {info.search_text()}"
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _RIGHT if col == P_VOLUME else _LEFT
        if role == Qt.ItemDataRole.ForegroundRole:
            t = theme.current()
            if self.ended(info):  # no more trading: the whole row steps back, its state stands out
                return QColor(t.warn) if col == P_STATE else QColor(t.dim_text)
            if col == P_STATE and self.state(info):
                return QColor(t.warn)
            return QColor(t.dim_text) if col in (P_VENUE, P_CLOSES) else None
        if role == Qt.ItemDataRole.ToolTipRole:
            text = info.title or info.market
            state = self.state(info)
            return f"{text}\n{state.capitalize()}" if state else text
        return None

    def extend(self, items: list[MarketInfo]) -> None:
        if not items:
            return
        start = len(self.items)
        self.beginInsertRows(QModelIndex(), start, start + len(items) - 1)
        self.items.extend(items)
        self.endInsertRows()


class _Search(QSortFilterProxyModel):
    """Every word typed must appear (in any order) in venue, ticker, title or subtitle."""

    def __init__(self) -> None:
        super().__init__()
        self.words: list[str] = []
        self.venue: Venue | None = None

    def set_query(self, text: str, venue: Venue | None) -> None:
        self.beginFilterChange()
        self.words = text.lower().split()
        self.venue = venue
        self.endFilterChange()

    def filterAcceptsRow(self, row: int, parent: QModelIndex | QPersistentModelIndex) -> bool:  # noqa: N802
        model = self.sourceModel()
        assert isinstance(model, MarketListModel)
        info = model.items[row]
        if self.venue is not None and info.venue is not self.venue:
            return False
        if not self.words:
            return True
        text = model.data(model.index(row, 0), SEARCH_ROLE)
        return all(w in text for w in self.words)


class MarketPicker(QDialog):
    """Choose one or more markets. ``chosen()`` gives them after ``exec()`` returns Accepted."""

    def __init__(
        self,
        watched: set[tuple[Venue, str]],
        parent: QWidget | None = None,
        *,
        state_of: StateOf = _no_news,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("Add market")
        self.resize(900, 540)
        self.model = MarketListModel()
        self.model.watched = watched
        self.model.state_of = state_of
        self.proxy = _Search()
        self.proxy.setSourceModel(self.model)

        self.search = QLineEdit()
        self.search.setPlaceholderText("Search ticker or title, e.g. btc 97000  or  eth/usd")
        self.search.setClearButtonEnabled(True)
        self.venue = QComboBox()
        self.venue.addItem("Both venues", None)
        for v in Venue:
            self.venue.addItem(v.value.capitalize(), v)
        self.view = QTableView()
        self.view.setObjectName("pickerTable")
        self.view.setModel(self.proxy)
        self.view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setShowGrid(False)
        self.view.setWordWrap(False)
        self.view.setAlternatingRowColors(True)
        self.view.verticalHeader().hide()
        rows = self.view.verticalHeader()
        rows.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # fast with tens of thousands of rows
        rows.setDefaultSectionSize(self.view.fontMetrics().height() + 6)
        header = self.view.horizontalHeader()
        header.setHighlightSections(False)
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        metrics = self.view.fontMetrics()
        for col, sample in enumerate(
            (
                "Kraken",
                "KXBTCD-26DEC03-T97500",
                "Bitcoin above $97,500 at 5pm? — ",
                "2026-12-03 17:00 UTC (in 23h 59m)",
                "1,234,567",
            )
        ):
            self.view.setColumnWidth(col, metrics.horizontalAdvance(sample) + 18)
        self.view.doubleClicked.connect(lambda _ix: self.accept())
        self.nothing = QLabel()
        self.nothing.setObjectName("pickerNothing")
        self.nothing.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.nothing.setWordWrap(True)
        self.results = QStackedWidget()
        self.results.addWidget(self.view)
        self.results.addWidget(self.nothing)
        self.status = QLabel("Loading the venues' market lists…")
        self.status.setObjectName("pickerStatus")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.add_button = buttons.addButton("Add", QDialogButtonBox.ButtonRole.AcceptRole)
        self.add_button.setEnabled(False)
        # A Kalshi market stands for its event too: its strike board opens instead of adding anything.
        self.board_button = buttons.addButton(
            "Strike board for its event", QDialogButtonBox.ButtonRole.ActionRole
        )
        self.board_button.setObjectName("pickerBoard")
        self.board_button.setEnabled(False)
        self.board_button.clicked.connect(self._board)
        self.board_ref: MarketRef | None = None
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)

        top = QHBoxLayout()
        top.addWidget(self.search, 1)
        top.addWidget(self.venue)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.results, 1)
        layout.addWidget(self.status)
        layout.addWidget(buttons)

        self.search.textChanged.connect(self._filter)
        self.venue.currentIndexChanged.connect(self._filter)
        self.view.selectionModel().selectionChanged.connect(self._selection)
        self.search.returnPressed.connect(self._enter)
        self._counts: dict[Venue, str] = {}
        self._show_results()
        self.search.setFocus()

    def add_markets(self, venue: Venue, items: list[MarketInfo], *, done: bool = True) -> None:
        self.model.extend(items)
        count = sum(1 for i in self.model.items if i.venue is venue)
        self._counts[venue] = f"{venue.value.capitalize()} {count:,}{'' if done else '…'}"
        self._show_status()

    def venue_failed(self, venue: Venue, message: str) -> None:
        self._counts[venue] = f"{venue.value.capitalize()}: {message}"
        self._show_status()

    def _show_status(self) -> None:
        self.status.setText("Markets listed: " + "   ".join(self._counts.values()))
        self._show_results()

    def _filter(self) -> None:
        self.proxy.set_query(self.search.text(), self.venue.currentData())
        if self.proxy.rowCount() and not self.view.selectionModel().hasSelection():
            self.view.setCurrentIndex(self.proxy.index(0, 0))
        self._show_results()

    def _show_results(self) -> None:
        """The table, or a sentence saying why it is empty (nothing matches, or nothing listed yet)."""
        if self.proxy.rowCount():
            self.results.setCurrentWidget(self.view)
            return
        query = self.search.text().strip()
        venue = self.venue.currentData()
        where = f"on {fmt.venue_name(venue)}" if isinstance(venue, Venue) else "on either venue"
        if not self.model.items:
            text = "No markets listed yet." if self._counts else "Loading the venues' market lists…"
        elif query:
            text = f"No market {where} matches “{query}”.\nTry fewer words, part of a ticker, or both venues."
        else:
            text = f"No markets listed {where}."
        self.nothing.setText(text)
        self.results.setCurrentWidget(self.nothing)

    def _selection(self) -> None:
        self.add_button.setEnabled(self.view.selectionModel().hasSelection())
        chosen = self.chosen()
        self.board_button.setEnabled(len(chosen) == 1 and chosen[0].venue is Venue.KALSHI)

    def _board(self) -> None:
        chosen = self.chosen()
        if len(chosen) == 1 and chosen[0].venue is Venue.KALSHI:
            self.board_ref = chosen[0]
            self.reject()  # nothing is added; the window opens the board

    def _enter(self) -> None:
        if self.proxy.rowCount():
            if not self.view.selectionModel().hasSelection():
                self.view.setCurrentIndex(self.proxy.index(0, 0))
            self.accept()

    def chosen(self) -> list[MarketRef]:
        out = []
        for ix in sorted(self.view.selectionModel().selectedRows(), key=lambda i: i.row()):
            info = self.model.items[self.proxy.mapToSource(ix).row()]
            out.append(MarketRef(info.venue, info.market))
        return out

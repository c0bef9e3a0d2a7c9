"""Watchlist → Add market…: a searchable list of what the venues list, filled as the lists arrive."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QPersistentModelIndex,
    QSortFilterProxyModel,
    Qt,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QVBoxLayout,
    QWidget,
)

from app.core.instruments import Venue
from app.launch.catalog import MarketInfo
from app.user.settings import MarketRef

SEARCH_ROLE = Qt.ItemDataRole.UserRole + 1


class MarketListModel(QAbstractListModel):
    def __init__(self) -> None:
        super().__init__()
        self.items: list[MarketInfo] = []
        self.watched: set[tuple[Venue, str]] = set()

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.items)

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if not index.isValid():
            return None
        info = self.items[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            on = "  ✓ in watchlist" if (info.venue, info.market) in self.watched else ""
            detail = " — ".join(t for t in (info.title, info.subtitle) if t and t != info.market)
            return f"{info.venue.value.capitalize():7} {info.market}{'   ' + detail if detail else ''}{on}"
        if role == SEARCH_ROLE:
            return f"{info.venue.value} {info.search_text()}"
        if role == Qt.ItemDataRole.ToolTipRole:
            return info.title or info.market
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
        text = model.data(model.index(row), SEARCH_ROLE)
        return all(w in text for w in self.words)


class MarketPicker(QDialog):
    """Choose one or more markets. ``chosen()`` gives them after ``exec()`` returns Accepted."""

    def __init__(self, watched: set[tuple[Venue, str]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Add market")
        self.resize(720, 520)
        self.model = MarketListModel()
        self.model.watched = watched
        self.proxy = _Search()
        self.proxy.setSourceModel(self.model)

        self.search = QLineEdit()
        self.search.setPlaceholderText("Search ticker or title, e.g. btc 97000  or  eth/usd")
        self.search.setClearButtonEnabled(True)
        self.venue = QComboBox()
        self.venue.addItem("Both venues", None)
        for v in Venue:
            self.venue.addItem(v.value.capitalize(), v)
        self.view = QListView()
        self.view.setModel(self.proxy)
        self.view.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.view.setUniformItemSizes(True)  # fast with tens of thousands of rows
        self.view.doubleClicked.connect(lambda _ix: self.accept())
        self.status = QLabel("Loading the venues' market lists…")
        self.status.setObjectName("pickerStatus")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.add_button = buttons.addButton("Add", QDialogButtonBox.ButtonRole.AcceptRole)
        self.add_button.setEnabled(False)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)

        top = QHBoxLayout()
        top.addWidget(self.search, 1)
        top.addWidget(self.venue)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.status)
        layout.addWidget(buttons)

        self.search.textChanged.connect(self._filter)
        self.venue.currentIndexChanged.connect(self._filter)
        self.view.selectionModel().selectionChanged.connect(self._selection)
        self.search.returnPressed.connect(self._enter)
        self._counts: dict[Venue, str] = {}
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

    def _filter(self) -> None:
        self.proxy.set_query(self.search.text(), self.venue.currentData())
        if self.proxy.rowCount() and not self.view.selectionModel().hasSelection():
            self.view.setCurrentIndex(self.proxy.index(0, 0))

    def _selection(self) -> None:
        self.add_button.setEnabled(self.view.selectionModel().hasSelection())

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

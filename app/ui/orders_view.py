"""The Orders view: the orders behind each price of a Kraken market (its level-3 book), a dock beside the
depth ladder.

Per level: the price, how many orders stand there, their total, and the queue of their sizes, first to
fill on the left, newest last. The user's own resting orders (known from the executions feed, matched
by order id) are marked in their queue, and the line above the table says, in large type, where the
first of them stands: its place in the queue and the size that must trade at that price before it fills.

``OrdersController`` wires it to the window: it asks the engine's level3 link for the selected Kraken
market only (a level3 subscription costs the rate counter; one market at a time stays far below it).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, QTimer
from PySide6.QtGui import QBrush, QFont
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QLabel, QTableView, QVBoxLayout, QWidget

from app.core.instruments import Venue
from app.core.level3 import Level3Book, QueuePlace, RestingOrder
from app.core.numbers import from_scaled
from app.core.store import MarketStore
from app.ui import format as fmt
from app.ui import theme as themes
from app.ui.table_base import ROW_HEIGHT, table_font

LEVELS = 10  # a side: the level3 subscription's depth
COLUMNS = ("Price", "Orders", "Size", "Queue (first to fill … newest)")
PRICE, COUNT, SIZE, QUEUE = range(4)
QUEUE_SHOWN = 8  # sizes written out per level; the rest are counted ("… 5 more …")
OPEN_STATUSES = frozenset({"new", "pending_new", "partially_filled"})
Index = QModelIndex | QPersistentModelIndex
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_LEFT = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)


def queue_text(sizes: list[str], own: set[int]) -> str:
    """The sizes in queue order, the user's in brackets; a long queue keeps its head, its tail and the
    user's own, and counts what it leaves out."""
    keep = set(range(min(3, len(sizes)))) | set(range(max(0, len(sizes) - (QUEUE_SHOWN - 3)), len(sizes)))
    keep |= own
    parts: list[str] = []
    skipped = 0
    for i, size in enumerate(sizes):
        if i not in keep:
            skipped += 1
            continue
        if skipped:
            parts.append(f"… {skipped} more …")
            skipped = 0
        parts.append(f"[{size}]" if i in own else size)
    return " · ".join(parts)


class OrdersModel(QAbstractTableModel):
    """Asks above (best ask last), bids below (best first), as the depth ladder stands."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.rows: list[
            tuple[bool, tuple[str, str, str, str], bool, str | None]
        ] = []  # is_bid, cells, own, tip

    def set_rows(self, rows: list[tuple[bool, tuple[str, str, str, str], bool, str | None]]) -> None:
        if len(rows) != len(self.rows):
            self.beginResetModel()
            self.rows = rows
            self.endResetModel()
            return
        if rows != self.rows:
            self.rows = rows
            self.dataChanged.emit(self.index(0, 0), self.index(len(rows) - 1, len(COLUMNS) - 1))

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802  # Qt's names
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        is_bid, cells, own, tip = self.rows[index.row()]
        col = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return cells[col]
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _LEFT if col == QUEUE else _RIGHT
        t = themes.current()
        if role == Qt.ItemDataRole.ForegroundRole and col == PRICE:
            return QBrush(themes.qcolor(t.bid if is_bid else t.ask))
        if role == Qt.ItemDataRole.BackgroundRole and own:
            color = themes.qcolor(t.highlight)
            color.setAlpha(90)
            return QBrush(color)
        if role == Qt.ItemDataRole.FontRole and own:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.ToolTipRole:
            return tip
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:  # noqa: N802
        if orientation == Qt.Orientation.Horizontal and role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        return None


class OrdersView(QWidget):
    """The selected market's level-3 book, or a sentence saying why there is none."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.venue: Venue | None = None
        self.market: str | None = None
        self.available = False  # a level3 link runs (Kraken credentials, or the simulator)
        self._centred = False
        self.summary = QLabel()
        self.summary.setObjectName("ordersSummary")
        big = self.summary.font()
        big.setPointSizeF(big.pointSizeF() * 1.5)
        big.setBold(True)
        self.summary.setFont(big)
        self.summary.setWordWrap(True)
        self.detail = QLabel()
        self.detail.setWordWrap(True)
        self.model = OrdersModel(self)
        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(ROW_HEIGHT)
        self.table.setFont(table_font())
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setShowGrid(False)
        header = self.table.horizontalHeader()
        for col in (PRICE, COUNT, SIZE):
            header.setSectionResizeMode(col, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(QUEUE, QHeaderView.ResizeMode.Stretch)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.summary)
        layout.addWidget(self.detail)
        layout.addWidget(self.table, 1)
        self._show_empty("Select a Kraken market to see the orders behind each price.")

    def set_market(self, venue: Venue | None, market: str | None) -> None:
        if (venue, market) != (self.venue, self.market):
            self._centred = False  # a new market opens on its best prices, as the ladder does
        self.venue, self.market = venue, market

    def _centre(self, best_bid_row: int) -> None:
        if best_bid_row < self.model.rowCount():
            index = self.model.index(best_bid_row, 0)
            self.table.scrollTo(index, QAbstractItemView.ScrollHint.PositionAtCenter)

    def _show_empty(self, text: str) -> None:
        self.summary.setText("Orders")
        self.detail.setText(text)
        self.model.set_rows([])

    def refresh(self, store: MarketStore) -> None:
        venue, market = self.venue, self.market
        if venue is not Venue.KRAKEN or market is None:
            self._show_empty("Orders are shown for Kraken markets (Kraken's level3 channel).")
            return
        if not self.available and not store.level3_books[venue]:  # a replay may carry them without a link
            self._show_empty("The orders behind each price need Kraken credentials (File → Credentials…).")
            return
        book = store.level3_book(venue, market)
        if book is None or not book.has_snapshot:
            self._show_empty(f"Waiting for {market}'s orders…")
            return
        own = own_orders(store, book)
        self.model.set_rows(_rows(book, own))
        if not self._centred:  # the best bid mid-view, the best ask just above it; then the user scrolls
            self._centred = True
            # After the table has laid the new rows out (a reset re-lays them on the next turn).
            best_bid_row = min(LEVELS, len(book.asks))
            QTimer.singleShot(0, lambda: self._centre(best_bid_row))
        places = [p for oid in own if (p := book.place_of(oid)) is not None]
        self.summary.setText(_summary(book, places))
        bids, asks = book.bids.order_count(), book.asks.order_count()
        state = f"  ·  STALE: {book.stale_reason}" if book.stale else ""
        self.detail.setText(
            f"{market}: {bids:,} bid orders, {asks:,} ask orders in the top {LEVELS} levels{state}"
        )


def own_orders(store: MarketStore, book: Level3Book) -> list[str]:
    """The user's open orders (from the executions feed) that rest in this book, by order id."""
    return [
        order_id
        for (venue, order_id), update in store.orders.items()
        if venue is book.venue and update.status in OPEN_STATUSES and order_id in book
    ]


def _size(book: Level3Book, units: int) -> str:
    return fmt.size(Venue.KRAKEN, from_scaled(units, book.size_decimals))


def _price(book: Level3Book, units: int) -> str:
    return fmt.price(Venue.KRAKEN, from_scaled(units, book.price_decimals))


def _rows(book: Level3Book, own: list[str]) -> list[tuple[bool, tuple[str, str, str, str], bool, str | None]]:
    mine = set(own)

    def row(
        is_bid: bool, price: int, queue: list[RestingOrder]
    ) -> tuple[bool, tuple[str, str, str, str], bool, str | None]:
        sizes = [_size(book, o.size) for o in queue]
        marked = {i for i, o in enumerate(queue) if o.order_id in mine}
        total = sum(o.size for o in queue)
        tip = None
        if marked:
            first = min(marked)
            ahead = sum(o.size for o in queue[:first])
            tip = f"your order: #{first + 1} of {len(queue)} at this price, {_size(book, ahead)} ahead of it"
        cells = (_price(book, price), f"{len(queue):,}", _size(book, total), queue_text(sizes, marked))
        return (is_bid, cells, bool(marked), tip)

    asks = [row(False, p, q) for p, q in book.asks.levels(LEVELS)]
    bids = [row(True, p, q) for p, q in book.bids.levels(LEVELS)]
    return list(reversed(asks)) + bids


def _summary(book: Level3Book, places: list[QueuePlace]) -> str:
    if not places:
        return "No orders of yours rest here"
    best = min(places, key=lambda p: (p.position, p.size_ahead))
    side = "bid" if best.is_bid else "ask"
    more = f"  (+{len(places) - 1} more)" if len(places) > 1 else ""
    return (
        f"Your {side} {_price(book, best.price)}: #{best.position} of {best.level_orders}, "
        f"{_size(book, best.size_ahead)} ahead{more}"
    )


class OrdersController:
    """The Orders dock's side of the window: which market, and asking the level3 link for it."""

    def __init__(self, spawn: Callable[[Coroutine[Any, Any, Any], str], Any]) -> None:
        self.view = OrdersView()
        self._spawn = spawn
        self.engine: Any = None  # the running StreamEngine, when there is one

    def set_engine(self, engine: Any) -> None:
        self.engine = engine
        self.view.available = engine is not None and engine.level3_link() is not None
        self._follow()

    def set_market(self, venue: Venue | None, market: str | None) -> None:
        self.view.set_market(venue, market)
        self._follow()

    def _follow(self) -> None:
        engine = self.engine
        if engine is None or engine.level3_link() is None:
            return
        view = self.view
        wanted = [view.market] if view.venue is Venue.KRAKEN and view.market else []
        self._spawn(engine.watch_level3(wanted), "updating the orders subscription")

    def refresh(self, store: MarketStore) -> None:
        self.view.refresh(store)

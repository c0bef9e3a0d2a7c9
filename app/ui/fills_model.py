"""The user's own fills on both venues, newest first.

The store's ``fills`` is an insertion-ordered dict that only appends (duplicates are dropped there) and
forgets its oldest beyond a limit, so a count of what was seen breaks once it is full. The model keeps
the key of the newest fill it took instead and walks the dict backwards to it: only new fills are read.

Rows are ordered by fill time, not arrival: fills fetched over REST after a reconnect can be older than
live ones that came first. Usually every new fill is the newest, which is one insert at the top.
"""

from __future__ import annotations

from bisect import bisect_right
from itertools import count

from PySide6.QtCore import QModelIndex

from app.core.events import Fill, TakerSide
from app.core.instruments import Venue
from app.core.store import MarketStore
from app.ui import format as fmt
from app.ui.table_base import BUY, DIM, SELL, Column, TableModel

FILL_ROWS = 5000

TIME, VENUE, MARKET, SIDE, PRICE, SIZE, FEE, LIQUIDITY, ORDER = range(9)
_FAR_FUTURE = 1 << 62  # a fill without a time sorts as the newest (it has just arrived)

FillKey = tuple[Venue, str]
SortKey = tuple[int, int]  # (-time, -arrival): ascending = newest first


class FillsModel(TableModel):
    columns = (
        Column("Time", "00:00:00.000"),
        Column("Venue", "Kraken"),
        Column("Market", "KXBTCD-26DEC0317-T96499.99"),
        Column("Side", "Sell", tip="Kalshi: Yes = towards YES (bought YES or sold NO)", centered=True),
        Column("Price", "000,000.00", numeric=True),
        Column("Size", "0,000.00000000", numeric=True),
        Column("Fee", "0.00000000", numeric=True, tip="Kalshi in dollars; Kraken in the fee currency"),
        Column("Liq.", "Maker", tip="Maker (resting order) or taker (crossed the spread)", centered=True),
        Column("Order", "OBY3WN-UAIEP-UUHQFH"),
    )

    def __init__(self, limit: int = FILL_ROWS) -> None:
        super().__init__()
        self.limit = limit
        self._rows: list[Fill] = []
        self._keys: list[SortKey] = []  # parallel to _rows, for bisect
        self._last: FillKey | None = None  # the newest store key taken so far
        self._arrival = count()

    def refresh(self, store: MarketStore) -> int:
        """Take fills that arrived since the last call (only when the store says there are some).
        Returns how many rows were added."""
        if not store.fills_changed and (self._last is not None or not store.fills):
            return 0
        store.fills_changed = False
        if self._last is not None and self._last not in store.fills:
            return self._reload(store)  # so many arrived that the one we knew was dropped
        fresh: list[Fill] = []
        for key in reversed(store.fills):
            if key == self._last:
                break
            fresh.append(store.fills[key])
            if len(fresh) >= self.limit:
                break  # older ones would be cut anyway
        if not fresh:
            return 0
        self._last = next(reversed(store.fills))
        self._insert(list(reversed(fresh)))  # oldest first, so arrival numbers follow the store
        return len(fresh)

    def clear(self) -> None:
        """Forget every row: the data source changed (a profile switch), and old fills must not look
        like the new account's."""
        self.beginResetModel()
        self._rows, self._keys, self._last = [], [], None
        self.endResetModel()

    def _reload(self, store: MarketStore) -> int:
        self.beginResetModel()
        self._rows, self._keys = [], []
        fills = list(store.fills.values())[-self.limit :]
        keyed = sorted(((self._sort_key(f), f) for f in fills), key=_first)
        self._keys = [k for k, _ in keyed]
        self._rows = [f for _, f in keyed]
        self._last = next(reversed(store.fills), None)
        self.endResetModel()
        return len(self._rows)

    def _sort_key(self, fill: Fill) -> SortKey:
        ts = fill.ts_ms if fill.ts_ms is not None else _FAR_FUTURE
        return (-ts, -next(self._arrival))

    def _insert(self, fills: list[Fill]) -> None:
        keyed = sorted(((self._sort_key(f), f) for f in fills), key=_first)
        # Group by insertion point in the current rows; positions only grow along the sorted list.
        groups: list[tuple[int, list[tuple[SortKey, Fill]]]] = []
        for item in keyed:
            pos = bisect_right(self._keys, item[0])
            if groups and groups[-1][0] == pos:
                groups[-1][1].append(item)
            else:
                groups.append((pos, [item]))
        for pos, block in reversed(groups):  # bottom-up, so earlier positions stay valid
            self.beginInsertRows(QModelIndex(), pos, pos + len(block) - 1)
            self._keys[pos:pos] = [k for k, _ in block]
            self._rows[pos:pos] = [f for _, f in block]
            self.endInsertRows()
        if len(self._rows) > self.limit:
            self.beginRemoveRows(QModelIndex(), self.limit, len(self._rows) - 1)
            del self._rows[self.limit :], self._keys[self.limit :]
            self.endRemoveRows()

    # ---------------------------------------------------------------- cells

    def row_count(self) -> int:
        return len(self._rows)

    def fill_at(self, row: int) -> Fill:
        return self._rows[row]

    def fill_ids(self) -> list[tuple[Venue, str]]:
        """The shown fills' (venue, fill id), top to bottom."""
        return [(f.venue, f.fill_id) for f in self._rows]

    def raw(self, row: int) -> object:
        return self._rows[row]

    def cell(self, row: int, col: int) -> str:
        fill = self._rows[row]
        venue = fill.venue
        if col == TIME:
            return fmt.clock(fill.ts_ms)
        if col == VENUE:
            return fmt.venue_name(venue)
        if col == MARKET:
            return fill.market
        if col == SIDE:
            return fmt.side(venue, fill.side)
        if col == PRICE:
            return fmt.price(venue, fill.price)
        if col == SIZE:
            return fmt.size(venue, fill.size)
        if col == FEE:
            return fmt.money(fill.fee) if venue is Venue.KALSHI else fmt.decimal_text(fill.fee)
        if col == LIQUIDITY:
            return fmt.DASH if fill.is_taker is None else ("Taker" if fill.is_taker else "Maker")
        return fill.order_id or fmt.DASH

    def tone(self, row: int, col: int) -> str | None:
        if col in (SIDE, PRICE, SIZE):
            return BUY if self._rows[row].side is TakerSide.BUY else SELL
        if col in (TIME, FEE, ORDER):
            return DIM
        return None

    def tooltip(self, row: int, col: int) -> str | None:
        fill = self._rows[row]
        parts = [f"fill {fill.fill_id}", f"order {fill.order_id}" if fill.order_id else ""]
        if fill.position_after is not None and fill.venue is Venue.KALSHI:
            parts.append(f"position after: {fmt.contracts(fill.position_after)}")
        if fill.venue is Venue.KALSHI:
            parts.append(f"YES price {fmt.probability(fill.price)}")
        return "\n".join(p for p in parts if p)


def _first(item: tuple[SortKey, Fill]) -> SortKey:
    return item[0]

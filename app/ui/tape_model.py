"""The public trade tape of one market, newest first.

The store keeps each market's last trades in a capped deque plus a running count (``trades_seen``); the
difference between that count and the one at the last refresh is how many trades are new, and they are
the deque's last ones. They go in with one ``beginInsertRows`` per refresh, however many arrived.
"""

from __future__ import annotations

from itertools import islice

from PySide6.QtCore import QModelIndex

from app.core.events import TakerSide, Trade
from app.core.instruments import Venue
from app.core.store import MarketStore
from app.ui import format as fmt
from app.ui.table_base import BUY, DIM, SELL, Column, TableModel

TAPE_ROWS = 500

TIME, PRICE, SIZE, SIDE = range(4)


class TradeTapeModel(TableModel):
    columns = (
        Column("Time", "00:00:00.000"),
        Column("Price", "000,000.00", numeric=True),
        Column("Size", "0,000.00000000", numeric=True),
        Column("Side", "Sell", tip="The aggressor (taker). Kalshi: Yes = bought YES or sold NO"),
    )

    def __init__(self, limit: int = TAPE_ROWS) -> None:
        super().__init__()
        self.limit = limit
        self.venue: Venue | None = None
        self.market: str | None = None
        self._rows: list[Trade] = []  # newest first
        self._seen = 0  # the market's trades_seen at the last refresh
        # Kalshi decimals seen so far (cents, contracts): whole values are padded to them, so a
        # sub-cent market's column reads 87.0¢ above 87.5¢ and the decimal points line up.
        self._price_places = 0
        self._size_places = 0

    def set_market(self, venue: Venue | None, market: str | None) -> None:
        """Show another market (or none); its current tape arrives with the next ``refresh``."""
        if (venue, market) == (self.venue, self.market):
            return
        self.beginResetModel()
        self.venue, self.market = venue, market
        self._rows = []
        self._seen = 0
        self._price_places = self._size_places = 0
        self.endResetModel()

    def clear(self) -> None:
        """Forget the rows but keep the market: the data source changed, the new store's tape follows."""
        self.beginResetModel()
        self._rows, self._seen = [], 0
        self._price_places = self._size_places = 0
        self.endResetModel()

    def refresh(self, store: MarketStore) -> int:
        """Take the trades that arrived since the last call. Returns how many rows were added."""
        if self.venue is None or self.market is None:
            return 0
        state = store.markets.get((self.venue, self.market))
        if state is None:
            return 0
        new = state.trades_seen - self._seen
        if new <= 0:
            return 0
        self._seen = state.trades_seen
        tape = state.tape
        if new > len(tape) and self._rows:
            # More arrived than the capped deque holds: some were never seen here, so the shown tape
            # would have a hole between old and new rows. Start over from the store's tape.
            self.beginResetModel()
            self._rows = list(islice(reversed(tape), self.limit))
            self._widen(self._rows)
            self.endResetModel()
            return len(self._rows)
        fresh = list(islice(reversed(tape), min(new, self.limit)))
        if not fresh:
            return 0
        overflow = len(self._rows) + len(fresh) - self.limit
        if overflow > 0:  # drop the oldest first, so the view never holds more than the cap
            keep = len(self._rows) - overflow
            self.beginRemoveRows(QModelIndex(), keep, len(self._rows) - 1)
            del self._rows[keep:]
            self.endRemoveRows()
        widened = self._widen(fresh)
        self.beginInsertRows(QModelIndex(), 0, len(fresh) - 1)
        self._rows[0:0] = fresh
        self.endInsertRows()
        if widened and len(self._rows) > len(fresh):  # older rows now get the extra decimals too
            self.dataChanged.emit(self.index(len(fresh), PRICE), self.index(len(self._rows) - 1, SIZE))
        return len(fresh)

    def _widen(self, trades: list[Trade]) -> bool:
        """Note the decimals Kalshi trades need; True if the column's decimals grew."""
        if self.venue is not Venue.KALSHI or not trades:
            return False
        price = fmt.cent_places(t.price for t in trades)
        size = fmt.column_places(t.size for t in trades)
        if price <= self._price_places and size <= self._size_places:
            return False
        self._price_places = max(price, self._price_places)
        self._size_places = max(size, self._size_places)
        return True

    # ---------------------------------------------------------------- cells

    def row_count(self) -> int:
        return len(self._rows)

    def trade_at(self, row: int) -> Trade:
        return self._rows[row]

    def raw(self, row: int) -> object:
        return self._rows[row]

    def cell(self, row: int, col: int) -> str:
        trade = self._rows[row]
        if col == TIME:
            return fmt.clock(trade.ts_ms)
        if col == PRICE:
            return fmt.price(trade.venue, trade.price, self._price_places)
        if col == SIZE:
            return fmt.size(trade.venue, trade.size, self._size_places)
        return fmt.side(trade.venue, trade.taker_side)

    def tone(self, row: int, col: int) -> str | None:
        if col == TIME:
            return DIM
        side = self._rows[row].taker_side
        if side is None:
            return None
        return BUY if side is TakerSide.BUY else SELL

    def tooltip(self, row: int, col: int) -> str | None:
        trade = self._rows[row]
        if col == PRICE and trade.venue is Venue.KALSHI:
            return f"YES {fmt.cents(trade.price)} = {fmt.probability(trade.price)}; trade {trade.trade_id}"
        return f"trade {trade.trade_id}" if trade.trade_id else None

"""File → Export and each table's right-click "Export as CSV…": every table of the window as a file a
spreadsheet opens, in the shapes ``app/core/export.py`` writes (exact decimal text, ISO 8601 times with the
date and zone, a header row; Parquet for a ``.parquet`` name when pyarrow is there).

What is written is the data behind a table, not its display text: the watchlist's prices exact (Kalshi in
dollars, as the API gives them), not ``87¢``; positions' values to the last digit, not ``$1,234.57``.
"""

from __future__ import annotations

import time
from decimal import Decimal
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from app.core.export import COLUMNS, ExportError, decimal_text, fill_row, iso_time, trade_row, write_table
from app.core.instruments import Venue
from app.core.store import MarketStore

Table = tuple[tuple[str, ...], list[tuple[str, ...]]]

WATCHLIST_COLUMNS = (
    "venue",
    "market",
    "bid",
    "ask",
    "last",
    "change",
    "volume_24h",
    "spread",
    "probability",
    "close_time",
    "status",
)
POSITION_COLUMNS = (
    "venue",
    "market_or_asset",
    "position",
    "mark",
    "value_usd",
    "cost",
    "unrealized_pnl_usd",
    "realized_pnl",
    "fees",
)
# The docks whose table gets a right-click "Export" (the watchlist and the Alerts log have their own menus).
DOCK_EXPORTS = {
    "tape": "export_trades",
    "fills": "export_fills",
    "positions": "export_positions",
    "health": "export_health",
}
ALERT_COLUMNS = (
    "received_time",
    "exchange_time",
    "market",
    "rule",
    "value",
    "shown",
    "trade_id",
    "acknowledged",
    "replay",
)


def _text(value: Decimal | None) -> str:
    return decimal_text(value)


def watchlist_table(window: Any) -> Table:
    """The watchlist's markets in the order on screen, their live values exact."""
    store: MarketStore = window.store
    model = window.watch_model
    rows: list[tuple[str, ...]] = []
    for row in model.rows:
        ref = row.ref
        state = store.markets.get((ref.venue, ref.market))
        book = store.book(ref.venue, ref.market)
        bid = ask = None
        if book is not None and not book.stale:
            bid, ask = book.best_bid_price(), book.best_ask_price()
        elif state is not None:
            bid, ask = state.bid, state.ask
        spread = prob = None
        if bid is not None and ask is not None:
            spread = ask - bid
            prob = (bid + ask) / 2 if ref.venue is Venue.KALSHI else None
        info = model.info.get((ref.venue, ref.market))
        closes = info.close_time if info is not None else None
        rows.append(
            (
                ref.venue.value,
                ref.market,
                _text(bid),
                _text(ask),
                _text(state.last if state is not None else None),
                _text(state.change if state is not None else None),
                _text(state.volume if state is not None else None),
                _text(spread),
                _text(prob),
                iso_time(None if closes is None else int(closes * 1000)),
                row.text[-1],  # the status in words, as the row says it
            )
        )
    return WATCHLIST_COLUMNS, rows


def positions_table(window: Any) -> Table:
    """Positions and balances with their marks, and the account total, exact."""
    model = window.positions_model
    model.refresh(window.store)  # a hidden tab is not refreshed by the timer: bring it up to date first
    rows = [tuple(view.export or view.cells) for view in model.views()]
    return POSITION_COLUMNS, rows


def health_table(window: Any) -> Table:
    model = window.health_model
    # A hidden tab is not refreshed by the timer: its rows can be minutes old.
    model.refresh(window.store, window.running.engine if window.running is not None else None, force=True)
    columns = tuple(_snake(c.title) for c in model.columns)
    stamp = iso_time(int(time.time() * 1000))
    rows = [(*(view.export or view.cells),) for view in model.views()]
    return ("time", *columns), [(stamp, *r) for r in rows]


def _snake(title: str) -> str:
    """A column title as a CSV header a script can name: ``Msg/s`` -> ``msg_per_s``."""
    return title.lower().replace("/", "_per_").replace(".", "").replace(" ", "_")


def alerts_table(window: Any) -> Table:
    """The Alerts log, oldest first (the dock shows the newest first)."""
    entries = list(window.alerts.log.entries)[::-1]
    rows: list[tuple[str, ...]] = []
    for entry in entries:
        f = entry.firing
        rows.append(
            (
                iso_time(f.received_ms),
                iso_time(f.ts_ms),
                f.market,
                f.rule.text,
                f.value,
                f.shown,
                f.trade_id or "",
                "yes" if entry.acknowledged else "no",
                "yes" if entry.replay else "no",
            )
        )
    return ALERT_COLUMNS, rows


class TableExports(QObject):
    """The handlers of File → Export; each returns the rows written, or None when nothing was."""

    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window

    def export_trades(self, path: str | None = None) -> int | None:
        """The selected market's tape, oldest first, in the shape of ``replay --csv trades``."""
        w = self.window
        ref = w.selected
        if ref is None:
            w.statusBar().showMessage("Select a market to export its trades", 8_000)
            return None
        state = w.store.markets.get((ref.venue, ref.market))
        rows = [trade_row(t) for t in (state.tape if state is not None else [])]
        name = f"{ref.venue.value}-{ref.market.replace('/', '-')}-trades.csv"
        return self.write("Export trades", name, (COLUMNS["trades"], rows), path)

    def export_fills(self, path: str | None = None) -> int | None:
        """Your fills, oldest first, in the shape of ``replay --csv fills``."""
        rows = [fill_row(f) for f in self.window.store.fills.values()]
        return self.write("Export fills", "fills.csv", (COLUMNS["fills"], rows), path)

    def export_watchlist_table(self, path: str | None = None) -> int | None:
        name = f"watchlist-{self.window.settings.watchlist().name}.csv".replace("/", "-")
        return self.write("Export watchlist table", name, watchlist_table(self.window), path)

    def export_positions(self, path: str | None = None) -> int | None:
        return self.write("Export positions", "positions.csv", positions_table(self.window), path)

    def export_health(self, path: str | None = None) -> int | None:
        return self.write("Export health", "health.csv", health_table(self.window), path)

    def export_alerts_log(self, path: str | None = None) -> int | None:
        return self.write("Export alerts log", "alerts-log.csv", alerts_table(self.window), path)

    def write(self, title: str, name: str, table: Table, path: str | None) -> int | None:
        w = self.window
        if path is None:
            path, _ = QFileDialog.getSaveFileName(
                w, title, str(Path.home() / name), "CSV (*.csv);;Parquet (*.parquet)"
            )
            if not path:
                return None
        columns, rows = table
        try:
            count = write_table(path, columns, rows)
        except ExportError as exc:
            QMessageBox.warning(w, title, str(exc))
            return None
        w.statusBar().showMessage(f"{count:,} rows written to {path}", 8_000)
        return count


def on_right_click(view: QWidget, *actions: QAction) -> None:
    """A table's right-click menu: these actions (a view with its own menu adds them there instead)."""
    view.setContextMenuPolicy(Qt.ContextMenuPolicy.ActionsContextMenu)
    for action in actions:
        view.addAction(action)


def install(window: Any) -> TableExports:
    return TableExports(window)

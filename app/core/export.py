"""Tables out of the app: CSV (always) or Parquet (when ``pyarrow`` is importable; never a dependency).

Every value is text as the app holds it: exact decimals (``0.10000000`` stays so, never a float),
times in ISO 8601 with the date and the zone (UTC, ``2026-12-03T07:13:01.123+00:00``), a header row.
``RecordingExport`` turns a replay's events into the trades, books (top of book after each change) or
fills table; the window's tables write through ``write_table`` too. Imports no Qt.
"""

from __future__ import annotations

import csv
import importlib
import importlib.util
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from app.core.book import OrderBook
from app.core.events import BookChange, BookSnapshot, Event, Fill, Trade
from app.core.instruments import Venue
from app.core.numbers import format_decimal, format_scaled
from app.core.times import exchange_ms

KINDS = ("trades", "books", "fills")
COLUMNS: dict[str, tuple[str, ...]] = {
    "trades": ("time", "market", "price", "size", "side", "trade_id"),
    "books": ("time", "market", "bid", "bid_size", "ask", "ask_size"),
    "fills": ("time", "market", "side", "price", "size", "fee", "liquidity", "fill_id", "order_id"),
}


class ExportError(Exception):
    """The table cannot be written; the message is one sentence for the user."""


class _Received(Protocol):
    rx_ms: int | None


def iso_time(ms: int | None) -> str:
    """Unix milliseconds -> ISO 8601 with date and zone; empty when unknown."""
    if ms is None:
        return ""
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")


def decimal_text(value: Any) -> str:
    return "" if value is None else format_decimal(value)


def parquet_available() -> bool:
    return importlib.util.find_spec("pyarrow") is not None


def wants_parquet(path: str | Path) -> bool:
    return str(path).lower().endswith(".parquet")


def check_target(path: str | Path) -> None:
    """Refuse early what cannot be written: Parquet without pyarrow, a folder that does not exist."""
    target = Path(path)
    if wants_parquet(target) and not parquet_available():
        raise ExportError(
            f"{target}: Parquet needs the pyarrow package (pip install pyarrow); name the file .csv for CSV"
        )
    if not target.parent.is_dir():
        raise ExportError(f"{target}: no such folder {target.parent}")


def write_table(path: str | Path, columns: Sequence[str], rows: Iterable[Sequence[str]]) -> int:
    """Write ``rows`` (text cells) under ``columns`` as CSV, or Parquet for a ``.parquet`` name.
    Returns the number of rows written."""
    check_target(path)
    try:
        if wants_parquet(path):
            pa = importlib.import_module("pyarrow")  # optional: looked up only when asked for
            pq = importlib.import_module("pyarrow.parquet")
            listed = [list(r) for r in rows]
            arrays = {c: pa.array([r[i] for r in listed], pa.string()) for i, c in enumerate(columns)}
            pq.write_table(pa.table(arrays), str(path))
            return len(listed)
        count = 0
        with open(path, "w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(columns)
            for row in rows:
                writer.writerow(row)
                count += 1
        return count
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {exc.strerror or exc}") from None


def _side(value: Any) -> str:
    return "" if value is None else str(value)


def trade_row(ev: Trade, rx_ms: int | None = None) -> tuple[str, ...]:
    """One trade in the ``trades`` shape (the exchange's time, else the receive time)."""
    return (
        iso_time(ev.ts_ms if ev.ts_ms is not None else rx_ms),
        ev.market,
        format_decimal(ev.price),
        format_decimal(ev.size),
        _side(ev.taker_side),
        ev.trade_id,
    )


def fill_row(ev: Fill, rx_ms: int | None = None) -> tuple[str, ...]:
    """One of the user's fills in the ``fills`` shape."""
    liquidity = "" if ev.is_taker is None else ("taker" if ev.is_taker else "maker")
    return (
        iso_time(ev.ts_ms if ev.ts_ms is not None else rx_ms),
        ev.market,
        _side(ev.side),
        format_decimal(ev.price),
        format_decimal(ev.size),
        decimal_text(ev.fee),
        liquidity,
        ev.fill_id,
        ev.order_id,
    )


class RecordingExport:
    """Collects one table's rows from a replay's events, in recording order; written by ``finish``.

    Trades and fills seen twice (a reconnect's snapshot repeats recent ones) keep their first row."""

    def __init__(self, what: str, path: str | Path, venue: Venue, books: dict[str, OrderBook]) -> None:
        if what not in KINDS:
            raise ExportError(f"--csv {what!r}: choose trades, books or fills")
        check_target(path)
        self.what = what
        self.path = Path(path)
        self.venue = venue
        self.books = books
        self.rows: list[tuple[str, ...]] = []
        self._seen: set[tuple[str, str]] = set()
        self._touch: dict[str, tuple[int | None, int | None, int | None, int | None]] = {}

    def take(self, entry: _Received, events: list[Event]) -> None:
        what = self.what
        for ev in events:
            kind = type(ev)
            if what == "trades" and kind is Trade:
                assert isinstance(ev, Trade)
                key = (ev.market, ev.trade_id)
                if key in self._seen:
                    continue
                self._seen.add(key)
                self.rows.append(trade_row(ev, entry.rx_ms))
            elif what == "fills" and kind is Fill:
                assert isinstance(ev, Fill)
                key = (ev.market, ev.fill_id)
                if key in self._seen:
                    continue
                self._seen.add(key)
                self.rows.append(fill_row(ev, entry.rx_ms))
            elif what == "books" and (kind is BookChange or kind is BookSnapshot):
                assert isinstance(ev, BookChange | BookSnapshot)
                self._book_row(ev, entry.rx_ms)

    def _book_row(self, ev: BookChange | BookSnapshot, rx_ms: int | None) -> None:
        """A row when the best bid or ask (price or size) moved: the book after the whole frame."""
        book = self.books.get(ev.market)
        if book is None or not book.has_snapshot or book.stale:
            return
        bid, ask = book.best_bid(), book.best_ask()
        touch = (*(bid or (None, None)), *(ask or (None, None)))
        if self._touch.get(ev.market) == touch:
            return
        self._touch[ev.market] = touch
        pd, sd = book.price_decimals, book.size_decimals
        ts = ev.ts if isinstance(ev, BookChange) else None
        ms = exchange_ms(ts) if ts is not None else None
        self.rows.append(
            (
                iso_time(ms if ms is not None else rx_ms),
                ev.market,
                "" if bid is None else format_scaled(bid[0], pd),
                "" if bid is None else format_scaled(bid[1], sd),
                "" if ask is None else format_scaled(ask[0], pd),
                "" if ask is None else format_scaled(ask[1], sd),
            )
        )

    def finish(self) -> int:
        return write_table(self.path, COLUMNS[self.what], self.rows)

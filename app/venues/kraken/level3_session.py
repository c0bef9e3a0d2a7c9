"""The level-3 books of one Kraken connection, without the socket (docs/protocol-kraken-level3.md §4-5).

A snapshot replaces a symbol's book; an update's order events are applied in message order, then each
side is truncated to the subscribed depth, then the CRC32 over every order of the top 10 levels is
checked. A mismatch, or an event for an order the book does not hold, marks that symbol's book stale and
asks, once, for a re-subscribe of that symbol only (the same narrow recovery as the level-2 book); the
stream layer decides when to send it.

Numbers become integer units at the pair's precision: from the ``instrument`` channel when known, else
the most decimals seen on the wire (Kraken writes its full precision), refined if a finer one appears.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from app.core.events import (
    ChecksumResult,
    Event,
    Level3Change,
    Level3Snapshot,
    Malformed,
    OrderEvent,
    OrderEventKind,
    RecoveryAction,
    RecoveryKind,
    Subscribed,
    Unsubscribed,
)
from app.core.instruments import Instrument, Venue
from app.core.level3 import Level3Book, RestingOrder
from app.core.numbers import NumberError, PrecisionError, decimals_of, to_scaled
from app.venues.kraken.checksum import level3_checksum
from app.venues.kraken.level3 import CHANNEL, DEPTHS, Level3Frame, RawOrder

V = Venue.KRAKEN
MAX_DECIMALS = 18  # as for the level-2 book: Kraken writes at most 10


def _decimals(orders: list[RawOrder]) -> tuple[int, int]:
    pd = qd = 0
    for order in orders:
        pd = max(pd, decimals_of(order.price))
        qd = max(qd, decimals_of(order.qty))
    return pd, qd


def _units(order: RawOrder, pd: int, sd: int) -> tuple[int, int]:
    price, size = to_scaled(order.price, pd), to_scaled(order.qty, sd)
    if price <= 0 or size < 0:
        raise NumberError(f"order {order.order_id}: a price at or below zero or a negative quantity")
    return price, size


class Level3Session:
    def __init__(
        self,
        default_depth: int = 10,
        books: dict[str, Level3Book] | None = None,
        instruments: dict[str, Instrument] | None = None,
        ignored: set[str] | None = None,
    ) -> None:
        if default_depth not in DEPTHS:
            raise ValueError(f"level3 depth must be one of {DEPTHS}")
        self.default_depth = default_depth
        self.books: dict[str, Level3Book] = {} if books is None else books
        self.instruments: dict[str, Instrument] = {} if instruments is None else instruments
        self.ignored: set[str] = set() if ignored is None else ignored
        self.depths: dict[str, int] = {}
        self.checksum_ok: Counter[str] = Counter()
        self.checksum_failed: Counter[str] = Counter()
        self._resync_pending: set[str] = set()

    def depth(self, symbol: str) -> int:
        return self.depths.get(symbol, self.default_depth)

    # --- subscriptions -----------------------------------------------------------------------

    def on_command_sent(self, command: dict[str, Any]) -> None:
        params = command.get("params")
        if command.get("method") != "subscribe" or not isinstance(params, dict):
            return
        symbols, depth = params.get("symbol"), params.get("depth", 10)
        if params.get("channel") == CHANNEL and depth in DEPTHS and isinstance(symbols, list):
            for symbol in symbols:
                self.depths[str(symbol)] = depth

    def subscribed(self, ev: Subscribed) -> None:
        depth = ev.params.get("depth")
        if ev.market and depth in DEPTHS:
            self.depths[ev.market] = depth
            book = self.books.get(ev.market)
            if book is not None:
                book.depth = depth

    def unsubscribed(self, ev: Unsubscribed) -> None:
        book = self.books.get(ev.market or "")
        if book is not None:
            book.mark_stale("unsubscribed")

    # --- frames ------------------------------------------------------------------------------

    def apply(self, frame: Level3Frame) -> list[Event]:
        if frame.market in self.ignored:  # being unsubscribed: frames still in flight are dropped
            return []
        try:
            return self._apply(frame)
        except NumberError as exc:
            # Orders are converted before anything is applied: the book is intact but misses this frame.
            out: list[Event] = [Malformed(V, f"bad level3 order: {exc}", "", frame.market)]
            book = self.books.get(frame.market)
            if book is not None and book.has_snapshot:
                out.extend(self._resync(book, f"bad level3 order: {exc}"))
            return out

    def _scale_for(self, symbol: str, orders: list[RawOrder]) -> tuple[int, int]:
        pd, qd = _decimals(orders)
        inst = self.instruments.get(symbol)
        if inst is None:
            if max(pd, qd) > MAX_DECIMALS:
                raise NumberError(f"an order with {max(pd, qd)} decimals")
            return pd, qd
        if pd > inst.price_decimals or qd > inst.size_decimals:
            raise NumberError(
                f"an order off the pair's grid ({pd} price / {qd} size decimals; the pair has "
                f"{inst.price_decimals} / {inst.size_decimals})"
            )
        return inst.price_decimals, inst.size_decimals

    def _apply(self, frame: Level3Frame) -> list[Event]:
        symbol = frame.market
        book = self.books.get(symbol)
        if frame.snapshot:
            pd, sd = self._scale_for(symbol, frame.bids + frame.asks)
            bids = [RestingOrder(o.order_id, *_units(o, pd, sd), o.ts) for o in frame.bids]
            asks = [RestingOrder(o.order_id, *_units(o, pd, sd), o.ts) for o in frame.asks]
            if book is None:
                book = self.books[symbol] = Level3Book(V, symbol, pd, sd, self.depth(symbol))
            else:
                book.price_decimals, book.size_decimals = pd, sd
                book.depth = self.depth(symbol)
            book.apply_snapshot(bids, asks)
            self._resync_pending.discard(symbol)
            event: Event = Level3Snapshot(
                V, symbol, book.bids.order_count(), book.asks.order_count(), frame.checksum
            )
            return self._verified(book, event, frame.checksum)
        if book is None or not book.has_snapshot:
            # Kraken never re-snapshots by itself: an update with no snapshot under it is useless.
            if book is None:
                book = self.books[symbol] = Level3Book(V, symbol, 0, 0, self.depth(symbol))
            return self._resync(book, "update before snapshot")
        bid_events, ask_events = self._events(book, frame)
        problems = book.apply_events(bid_events, ask_events)
        event = Level3Change(V, symbol, bid_events, ask_events, frame.checksum, frame.timestamp)
        if problems:
            extra = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            return [event, *self._resync(book, problems[0] + extra)]
        return self._verified(book, event, frame.checksum)

    def _events(self, book: Level3Book, frame: Level3Frame) -> tuple[list[OrderEvent], list[OrderEvent]]:
        """The frame's orders at the book's scale; a finer number than seen so far (precision still
        inferred) moves the book to it first. Converted before the book changes."""
        orders = frame.bids + frame.asks
        pd, sd = book.price_decimals, book.size_decimals
        try:
            for order in orders:
                _units(order, pd, sd)
        except PrecisionError:
            need_p, need_q = _decimals(orders)
            inst = self.instruments.get(book.market)
            if inst is not None:
                raise NumberError(
                    f"an order off the pair's grid ({need_p} price / {need_q} size decimals; the pair has "
                    f"{inst.price_decimals} / {inst.size_decimals})"
                ) from None
            if max(need_p, need_q) > MAX_DECIMALS:
                raise NumberError(f"an order with {max(need_p, need_q)} decimals") from None
            book.rescale(max(pd, need_p), max(sd, need_q))
            pd, sd = book.price_decimals, book.size_decimals

        def convert(raw: list[RawOrder]) -> list[OrderEvent]:
            out = []
            for o in raw:
                price, size = _units(o, pd, sd)
                out.append(OrderEvent(o.kind or OrderEventKind.ADD, o.order_id, price, size, o.ts))
            return out

        return convert(frame.bids), convert(frame.asks)

    def _verified(self, book: Level3Book, event: Event, checksum: int | None) -> list[Event]:
        symbol = book.market
        if checksum is None or symbol in self._resync_pending:
            return [event]
        computed = level3_checksum(book)
        if computed == checksum:
            self.checksum_ok[symbol] += 1
            return [event]
        self.checksum_failed[symbol] += 1
        out: list[Event] = [event, ChecksumResult(V, symbol, False, checksum, computed, CHANNEL)]
        out.extend(self._resync(book, f"level3 checksum mismatch: expected {checksum}, computed {computed}"))
        return out

    def _resync(self, book: Level3Book, reason: str) -> list[Event]:
        book.mark_stale(reason)
        symbol = book.market
        if symbol in self._resync_pending:
            return []
        self._resync_pending.add(symbol)
        depth = book.depth or self.default_depth
        return [
            RecoveryAction(V, RecoveryKind.RESUBSCRIBE, reason, [symbol], None, CHANNEL, {"depth": depth})
        ]

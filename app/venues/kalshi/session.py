"""The protocol state of one Kalshi connection, without the socket.

Feed it every received frame (``on_frame``) and every command sent (``on_command_sent``); it decodes,
checks ``seq`` per sid, keeps the books, and says what repair is needed as ``RecoveryAction`` events.
Sids are per connection: make a new session for every connection, and hand it the same ``books`` dict
so books survive (marked stale) across reconnects.
"""

from __future__ import annotations

from typing import Any

import msgspec

from app.core.book import OrderBook
from app.core.events import (
    Ack,
    BookChange,
    BookSnapshot,
    ClientCommand,
    ErrorEvent,
    Event,
    Malformed,
    RecoveryAction,
    RecoveryKind,
    SequenceGap,
    Subscribed,
    Unsubscribed,
)
from app.core.instruments import KALSHI_ONE, KALSHI_PRICE_DECIMALS, KALSHI_SIZE_DECIMALS, Venue
from app.core.numbers import to_scaled
from app.venues import wire
from app.venues.kalshi.commands import Channel
from app.venues.kalshi.decode import KalshiDecoder
from app.venues.kalshi.sequence import SeqTracker

V = Venue.KALSHI
BOOK_CHANNEL = Channel.ORDERBOOK_DELTA.value
_DELTA_MARK_STR = '"orderbook_delta"'
_DELTA_MARK = _DELTA_MARK_STR.encode()
_BOOK_TYPES = ("orderbook_delta", "orderbook_snapshot")


class _DeltaMsg(msgspec.Struct):
    market_ticker: str
    price_dollars: str
    delta_fp: str
    side: str
    ts_ms: int | None = None


class _DeltaFrame(msgspec.Struct):
    type: str
    sid: int
    seq: int
    msg: _DeltaMsg


_delta_decoder = msgspec.json.Decoder(_DeltaFrame)  # unknown fields (market_id, ts ...) are skipped


class KalshiSession:
    def __init__(self, use_yes_price: bool = False, books: dict[str, OrderBook] | None = None) -> None:
        self.decoder = KalshiDecoder(use_yes_price)
        self.seq = SeqTracker()
        self.books: dict[str, OrderBook] = {} if books is None else books
        self.sid_channel: dict[int, str] = {}
        self.sid_markets: dict[int, set[str]] = {}
        self._pending: dict[int, tuple[list[str], list[str] | None]] = {}  # cmd id -> channels, markets
        self._resync_pending: set[str] = set()

    @property
    def use_yes_price(self) -> bool:
        return self.decoder.use_yes_price

    # --- outgoing ----------------------------------------------------------------------------

    def on_command_sent(self, command: dict[str, Any]) -> None:
        """Remember what a command asked for, so its acknowledgement can be tied to markets."""
        cid = command.get("id")
        params = command.get("params")
        if command.get("cmd") != "subscribe" or type(cid) is not int or not isinstance(params, dict):
            return
        channels = params.get("channels")
        if not isinstance(channels, list):
            return
        names = [str(c) for c in channels]
        markets: list[str] | None = None
        if isinstance(params.get("market_ticker"), str):
            markets = [params["market_ticker"]]
        elif isinstance(params.get("market_tickers"), list):
            markets = [str(m) for m in params["market_tickers"]]
        self._pending[cid] = (names, markets)
        if BOOK_CHANNEL in names and isinstance(params.get("use_yes_price"), bool):
            self.decoder.use_yes_price = params["use_yes_price"]

    # --- incoming ----------------------------------------------------------------------------

    def on_frame(self, frame: str | bytes) -> list[Event]:
        # The hot path: an orderbook_delta decodes straight into a small struct (no dict of every field).
        if _DELTA_MARK_STR in frame if isinstance(frame, str) else _DELTA_MARK in frame:
            events = self._fast_delta(frame)
            if events is not None:
                return events
        try:
            obj = wire.parse(frame)
        except wire.FrameError as exc:
            return [Malformed(V, f"not JSON: {exc}", wire.excerpt(frame))]
        return self.on_message(obj)

    def on_message(self, obj: Any) -> list[Event]:
        out: list[Event] = []
        if isinstance(obj, dict):
            sid, seq = obj.get("sid"), obj.get("seq")
            if type(sid) is int and type(seq) is int:
                expected = self.seq.check(sid, seq)
                if expected is not None:
                    self._gap(sid, expected, seq, out)
        events = self.decoder.decode_obj(obj)
        for ev in events:
            kind = type(ev)
            if kind is BookChange:
                self._apply_change(ev, out)  # type: ignore[arg-type]
            elif kind is BookSnapshot:
                self._apply_snapshot(ev)  # type: ignore[arg-type]
            elif kind is ClientCommand and isinstance(obj, dict):
                self.on_command_sent(obj)
            elif kind is Subscribed:
                self._subscribed(ev)  # type: ignore[arg-type]
            elif kind is Ack:
                self._ack(ev)  # type: ignore[arg-type]
            elif kind is Unsubscribed:
                self._unsubscribed(ev)  # type: ignore[arg-type]
            elif kind is ErrorEvent:
                self._error(ev, out)  # type: ignore[arg-type]
            elif kind is Malformed:
                self._unreadable(ev, obj, out)  # type: ignore[arg-type]
        if out:
            return events + out
        return events

    def _unreadable(self, ev: Malformed, obj: Any, out: list[Event]) -> None:
        """A book frame that could not be applied: the book misses it, so it needs a snapshot."""
        if ev.market and isinstance(obj, dict) and obj.get("type") in _BOOK_TYPES:
            book = self.book(ev.market)
            book.mark_stale(ev.reason)
            sid = obj.get("sid")
            self._request_snapshot(
                sid if type(sid) is int else None, [book.market], "unreadable book frame", out
            )

    def _fast_delta(self, frame: str | bytes) -> list[Event] | None:
        """A current-format delta, or None to take the general path (legacy fields, odd values)."""
        try:
            d = _delta_decoder.decode(frame)
            msg = d.msg
            price = to_scaled(msg.price_dollars, KALSHI_PRICE_DECIMALS)
            delta = to_scaled(msg.delta_fp, KALSHI_SIZE_DECIMALS)
        except (msgspec.ValidationError, msgspec.DecodeError, ValueError, RecursionError):
            return None  # the general path says what is wrong
        if d.type != "orderbook_delta" or msg.side not in ("yes", "no") or not msg.market_ticker:
            return None
        if not 0 < price < KALSHI_ONE:
            return None  # the general path names the problem
        out: list[Event] = []
        expected = self.seq.check(d.sid, d.seq)
        if expected is not None:
            self._gap(d.sid, expected, d.seq, out)
        if msg.side == "yes":
            ev = BookChange(V, msg.market_ticker, [(price, delta)], [], True, None, d.sid, d.seq, msg.ts_ms)
        else:
            ask = price if self.decoder.use_yes_price else KALSHI_ONE - price
            ev = BookChange(V, msg.market_ticker, [], [(ask, delta)], True, None, d.sid, d.seq, msg.ts_ms)
        self._apply_change(ev, out)
        return [ev, *out] if out else [ev]

    # --- books -------------------------------------------------------------------------------

    def book(self, market: str) -> OrderBook:
        book = self.books.get(market)
        if book is None:
            book = self.books[market] = OrderBook(V, market, KALSHI_PRICE_DECIMALS, KALSHI_SIZE_DECIMALS)
        return book

    def _track(self, sid: int | None, market: str) -> None:
        if sid is not None:
            markets = self.sid_markets.get(sid)
            if markets is None:
                self.sid_markets[sid] = {market}
            elif market not in markets:
                markets.add(market)
            if sid not in self.sid_channel:
                self.sid_channel[sid] = BOOK_CHANNEL

    def _apply_snapshot(self, ev: BookSnapshot) -> None:
        self._track(ev.sid, ev.market)
        self.book(ev.market).apply_snapshot(ev.bids, ev.asks)
        self._resync_pending.discard(ev.market)

    def _apply_change(self, ev: BookChange, out: list[Event]) -> None:
        market = ev.market
        book = self.books.get(market) or self.book(market)
        self._track(ev.sid, market)
        if not book.has_snapshot:
            # A delta with no snapshot to apply it to: keep it off the book, ask for the snapshot.
            self._request_snapshot(ev.sid, [market], "delta before snapshot", out)
            return
        if not book.apply_change(ev.bids, ev.asks, True):
            book.mark_stale("a level went below zero")
            self._request_snapshot(ev.sid, [market], "a level went below zero", out)

    def _request_snapshot(self, sid: int | None, markets: list[str], reason: str, out: list[Event]) -> None:
        wanted = [m for m in markets if m not in self._resync_pending]
        if not wanted:
            return
        self._resync_pending.update(wanted)
        if sid is not None and self.sid_channel.get(sid, BOOK_CHANNEL) == BOOK_CHANNEL:
            out.append(RecoveryAction(V, RecoveryKind.RESNAPSHOT, reason, sorted(wanted), sid, BOOK_CHANNEL))
        else:
            out.append(RecoveryAction(V, RecoveryKind.RESUBSCRIBE, reason, sorted(wanted), sid, BOOK_CHANNEL))

    def _gap(self, sid: int, expected: int, got: int, out: list[Event]) -> None:
        channel = self.sid_channel.get(sid)
        markets = sorted(self.sid_markets.get(sid, ()))
        out.append(SequenceGap(V, sid, expected, got, channel, markets))
        if channel in (None, BOOK_CHANNEL) and markets:
            for market in markets:
                self.book(market).mark_stale(f"seq gap on sid {sid}: expected {expected}, got {got}")
            self._resync_pending.difference_update(markets)  # a new gap needs a new snapshot
            self._request_snapshot(sid, markets, f"seq gap on sid {sid}", out)
        # Trade and lifecycle sids have no snapshot: the gap is counted and the stream re-anchors.

    # --- subscriptions -----------------------------------------------------------------------

    def _subscribed(self, ev: Subscribed) -> None:
        if ev.sid is None:
            return
        self.seq.expect_new(ev.sid)
        self.sid_channel[ev.sid] = ev.channel
        pending = self._pending.get(ev.req_id) if ev.req_id is not None else None
        if pending is not None and pending[1] is not None:
            self.sid_markets[ev.sid] = set(pending[1])

    def _ack(self, ev: Ack) -> None:
        if ev.sid is not None and ev.markets is not None:
            self.sid_markets[ev.sid] = set(ev.markets)
        if ev.subscriptions:
            for channel, sid in ev.subscriptions:
                self.sid_channel.setdefault(sid, channel)

    def _unsubscribed(self, ev: Unsubscribed) -> None:
        if ev.sid is not None:
            self.seq.forget(ev.sid)
            self.sid_channel.pop(ev.sid, None)
            self.sid_markets.pop(ev.sid, None)

    def _error(self, ev: ErrorEvent, out: list[Event]) -> None:
        if not ev.terminal:
            return
        channel = self.sid_channel.get(ev.sid) if ev.sid is not None else None
        markets = sorted(self.sid_markets.get(ev.sid, ())) if ev.sid is not None else list(ev.markets)
        if channel in (None, BOOK_CHANNEL):
            for market in markets:
                if market in self.books:
                    self.books[market].mark_stale(ev.message)
        if ev.sid is not None:  # the subscription is gone on the server: nothing more comes on that sid
            self._unsubscribed(Unsubscribed(V, ev.sid))
        out.append(RecoveryAction(V, RecoveryKind.RESUBSCRIBE, ev.message, markets, ev.sid, channel))

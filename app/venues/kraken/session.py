"""The protocol state of one Kraken connection, without the socket.

Books follow protocol/kraken.md §4.1: a snapshot replaces the book; an update's levels are applied in
message order (absolute sizes, 0 deletes), then each side is truncated to the subscribed depth, then the
CRC32 of the top 10 levels is checked. A mismatch marks that symbol's book stale and asks, once, for a
re-subscribe of that symbol only; the stream layer decides when to send it.

Checksums are computed at the pair's precision. It comes from the ``instrument`` channel (or
``set_instrument``, fed from REST AssetPairs); until then it is inferred from the most decimals seen on
the wire, which Kraken always writes in full (``0.10000000``).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from app.core.book import OrderBook
from app.core.events import (
    BookChange,
    BookSnapshot,
    ChecksumResult,
    ClientCommand,
    Event,
    InstrumentUpdate,
    Level,
    Malformed,
    RecoveryAction,
    RecoveryKind,
    SequenceGap,
    Subscribed,
    Unsubscribed,
)
from app.core.instruments import Instrument, Venue
from app.core.level3 import Level3Book
from app.core.numbers import NumberError, PrecisionError, to_scaled_levels
from app.venues import wire
from app.venues.kraken.checksum import ChecksumCache
from app.venues.kraken.commands import BOOK_DEPTHS
from app.venues.kraken.decode import MAX_SIDE_LEVELS, BookFrame, KrakenDecoder, RawLevel, max_decimals
from app.venues.kraken.level3 import CHANNEL as LEVEL3
from app.venues.kraken.level3 import Level3Frame
from app.venues.kraken.level3_session import Level3Session

V = Venue.KRAKEN
SEQUENCED = ("executions", "balances")
MAX_DECIMALS = 18  # Kraken prices and sizes have at most 10; a book never rescales past this
_SIDE_TYPES = (list, tuple)  # a side absent from an update reads as the empty tuple


class KrakenSession:
    def __init__(
        self,
        default_depth: int = 10,
        books: dict[str, OrderBook] | None = None,
        instruments: dict[str, Instrument] | None = None,
        level3_books: dict[str, Level3Book] | None = None,
    ) -> None:
        if default_depth not in BOOK_DEPTHS:
            raise ValueError(f"book depth must be one of {BOOK_DEPTHS}")
        self.decoder = KrakenDecoder()
        self.default_depth = default_depth
        self.books: dict[str, OrderBook] = {} if books is None else books
        self.instruments: dict[str, Instrument] = {} if instruments is None else instruments
        self.depths: dict[str, int] = {}
        self.ignored: set[str] = set()  # symbols the client has stopped watching
        self.checksum_ok: Counter[str] = Counter()
        self.checksum_failed: Counter[str] = Counter()
        self._resync_pending: set[str] = set()
        self._sequence: dict[str, int] = {}
        self._checksums = ChecksumCache()
        # The level3 channel's books (its own host, docs/protocol-kraken-level3.md): the same session
        # takes its frames, so one recording of both sockets replays through one session.
        self.level3 = Level3Session(10, level3_books, self.instruments, self.ignored)

    def set_instrument(self, instrument: Instrument) -> None:
        self.instruments[instrument.symbol] = instrument

    # --- outgoing ----------------------------------------------------------------------------

    def on_command_sent(self, command: dict[str, Any]) -> None:
        self.level3.on_command_sent(command)
        params = command.get("params")
        if command.get("method") != "subscribe" or not isinstance(params, dict):
            return
        symbols = params.get("symbol")
        if (
            params.get("channel") == "book"
            and params.get("depth") in BOOK_DEPTHS
            and isinstance(symbols, list)
        ):
            for symbol in symbols:
                self.depths[str(symbol)] = params["depth"]

    # --- incoming ----------------------------------------------------------------------------

    def on_frame(self, frame: str | bytes) -> list[Event]:
        try:
            obj = wire.parse(frame)
        except wire.FrameError as exc:
            # Kraken's proxy says "CloudFlare WebSocket proxy restarting" as bare text; a close follows.
            looks_json = frame[:1] in ("{", "[", b"{", b"[")
            reason = f"not JSON: {exc}" if looks_json else "non-JSON text frame"
            return [Malformed(V, reason, wire.excerpt(frame))]
        if type(obj) is dict and obj.get("channel") == "book" and obj.get("type") == "update":
            events = self._update_fast(obj)
            if events is not None:
                return events
        return self.on_message(obj)

    def _update_fast(self, obj: dict[str, Any]) -> list[Event] | None:
        """The hot path: one pair's update on a book with a snapshot, every level written at the
        book's scales (what Kraken sends). None for anything else, which takes the general path
        (decoder, validation, rescaling, error reports); nothing is changed before that decision."""
        data = obj.get("data")
        if type(data) is not list or len(data) != 1 or type(data[0]) is not dict:
            return None
        item = data[0]
        symbol, checksum = item.get("symbol"), item.get("checksum")
        if type(symbol) is not str or type(checksum) is not int or symbol in self.ignored:
            return None
        book = self.books.get(symbol)
        if book is None or not book.has_snapshot:
            return None
        raw_bids, raw_asks = item.get("bids", ()), item.get("asks", ())
        if (
            type(raw_bids) not in _SIDE_TYPES
            or type(raw_asks) not in _SIDE_TYPES
            or len(raw_bids) > MAX_SIDE_LEVELS
            or len(raw_asks) > MAX_SIDE_LEVELS
        ):
            return None
        pd, sd = book.price_decimals, book.size_decimals
        try:
            bids = (
                to_scaled_levels([(lvl["price"], lvl["qty"]) for lvl in raw_bids], pd, sd) if raw_bids else []
            )
            asks = (
                to_scaled_levels([(lvl["price"], lvl["qty"]) for lvl in raw_asks], pd, sd) if raw_asks else []
            )
        except (NumberError, KeyError, TypeError):
            return None
        book.apply_change(bids, asks, additive=False)
        ts = item.get("timestamp")
        event = BookChange(V, symbol, bids, asks, False, checksum, ts=ts if type(ts) is str else None)
        return self._verified(book, event, bool(bids), bool(asks), checksum)

    def on_message(self, obj: Any) -> list[Event]:
        items = self.decoder.decode_obj(obj)
        if len(items) == 1 and type(items[0]) is BookFrame:  # the hot path: one book per message
            return self._book(items[0])
        out: list[Event] = []
        for item in items:
            kind = type(item)
            if kind is BookFrame:
                out.extend(self._book(item))
                continue
            if kind is Level3Frame:
                out.extend(self.level3.apply(item))
                continue
            out.append(item)
            if kind is Subscribed:
                if item.channel == LEVEL3:
                    self.level3.subscribed(item)
                else:
                    self._subscribed(item)
            elif kind is Unsubscribed:
                if item.channel == LEVEL3:
                    self.level3.unsubscribed(item)
                else:
                    self._unsubscribed(item)
            elif kind is InstrumentUpdate:
                for inst in item.instruments:
                    self.instruments[inst.symbol] = inst
            elif kind is ClientCommand and isinstance(obj, dict):
                self.on_command_sent(obj)
        if isinstance(obj, dict) and obj.get("channel") in SEQUENCED:
            self._check_sequence(obj, out)
        return out

    # --- books -------------------------------------------------------------------------------

    def depth(self, symbol: str) -> int:
        return self.depths.get(symbol, self.default_depth)

    def _scale_for(self, symbol: str, levels: list[RawLevel]) -> tuple[int, int]:
        wire_pd, wire_qd = max_decimals(levels)
        inst = self.instruments.get(symbol)
        if inst is None:
            return wire_pd, wire_qd
        if wire_pd > inst.price_decimals or wire_qd > inst.size_decimals:
            raise NumberError(
                f"a level off the pair's grid ({wire_pd} price / {wire_qd} size decimals; the pair has "
                f"{inst.price_decimals} / {inst.size_decimals})"
            )
        return inst.price_decimals, inst.size_decimals

    def _convert(self, book: OrderBook, levels: list[RawLevel]) -> list[Level]:
        pd, sd = book.price_decimals, book.size_decimals
        try:
            return to_scaled_levels(levels, pd, sd)
        except PrecisionError:
            need_p, need_q = max_decimals(levels)
            inst = self.instruments.get(book.market)
            if inst is not None and (need_p > inst.price_decimals or need_q > inst.size_decimals):
                # The pair's precision is known: a finer number is off its grid, not a new precision.
                raise NumberError(
                    f"a level off the pair's grid ({need_p} price / {need_q} size decimals; the pair has "
                    f"{inst.price_decimals} / {inst.size_decimals})"
                ) from None
            if max(need_p, need_q) > MAX_DECIMALS:
                raise NumberError(f"a level with {max(need_p, need_q)} decimals") from None
            # Finer than the book so far (precision inferred from the wire, before `instrument` said it).
            book.rescale(max(pd, need_p), max(sd, need_q))
            pd, sd = book.price_decimals, book.size_decimals
            return to_scaled_levels(levels, pd, sd)

    def _book(self, frame: BookFrame) -> list[Event]:
        if frame.market in self.ignored:  # being unsubscribed: frames still in flight are dropped
            return []
        try:
            return self._apply_book(frame)
        except NumberError as exc:
            # Levels are converted before anything is applied, so the book is intact, but it misses this
            # frame: re-sync it rather than wait for the next checksum to say so.
            out: list[Event] = [Malformed(V, f"bad book level: {exc}", "", frame.market)]
            book = self.books.get(frame.market)
            if book is not None and book.has_snapshot:
                out.extend(self._resync(book, f"bad book level: {exc}"))
            return out

    def _apply_book(self, frame: BookFrame) -> list[Event]:
        symbol = frame.market
        book = self.books.get(symbol)
        if frame.snapshot:
            pd, sd = self._scale_for(symbol, frame.bids + frame.asks)
            if max(pd, sd) > MAX_DECIMALS:
                raise NumberError(f"a level with {max(pd, sd)} decimals")
            # Converted before the old book is touched: a bad level leaves it as it was.
            bids = to_scaled_levels(frame.bids, pd, sd)
            asks = to_scaled_levels(frame.asks, pd, sd)
            if book is None:
                book = self.books[symbol] = OrderBook(V, symbol, pd, sd, self.depth(symbol), level_text=True)
            else:
                book.clear("snapshot")
                book.price_decimals, book.size_decimals = pd, sd
                book.depth = self.depth(symbol)
            book.apply_snapshot(bids, asks)
            self._resync_pending.discard(symbol)
            bids_changed = asks_changed = True
            event: Event = BookSnapshot(
                V,
                symbol,
                book.top_bids(),
                book.top_asks(),
                book.price_decimals,
                book.size_decimals,
                frame.checksum,
            )
        else:
            if book is None or not book.has_snapshot:
                # Kraken never re-snapshots by itself: an update with no snapshot under it is useless.
                if book is None:
                    book = self.books[symbol] = OrderBook(
                        V, symbol, 0, 0, self.depth(symbol), level_text=True
                    )
                return self._resync(book, "update before snapshot")
            scale = book.price_decimals, book.size_decimals
            bids = self._convert(book, frame.bids) if frame.bids else []
            asks = self._convert(book, frame.asks) if frame.asks else []
            if scale != (book.price_decimals, book.size_decimals):
                self._checksums.forget(symbol)
            book.apply_change(bids, asks, additive=False)
            bids_changed, asks_changed = bool(bids), bool(asks)
            event = BookChange(V, symbol, bids, asks, False, frame.checksum, ts=frame.timestamp)
        return self._verified(book, event, bids_changed, asks_changed, frame.checksum)

    def _verified(
        self, book: OrderBook, event: Event, bids_changed: bool, asks_changed: bool, checksum: int | None
    ) -> list[Event]:
        """The message's event, after comparing the book's CRC32 with the one Kraken sent."""
        symbol = book.market
        if checksum is None or symbol in self._resync_pending:
            self._checksums.forget(symbol)
            return [event]
        computed = self._checksums.checksum(book, bids_changed, asks_changed)
        if computed == checksum:
            self.checksum_ok[symbol] += 1
            return [event]
        self.checksum_failed[symbol] += 1
        out: list[Event] = [event, ChecksumResult(V, symbol, False, checksum, computed)]
        out.extend(self._resync(book, f"checksum mismatch: expected {checksum}, computed {computed}"))
        return out

    def _resync(self, book: OrderBook, reason: str) -> list[Event]:
        book.mark_stale(reason)
        symbol = book.market
        if symbol in self._resync_pending:
            return []
        self._resync_pending.add(symbol)
        depth = book.depth or self.default_depth
        return [RecoveryAction(V, RecoveryKind.RESUBSCRIBE, reason, [symbol], None, "book", {"depth": depth})]

    # --- subscriptions -----------------------------------------------------------------------

    def _subscribed(self, ev: Subscribed) -> None:
        depth = ev.params.get("depth")
        if ev.channel == "book" and ev.market and depth in BOOK_DEPTHS:
            self.depths[ev.market] = depth
            book = self.books.get(ev.market)
            if book is not None:
                book.depth = depth

    def _unsubscribed(self, ev: Unsubscribed) -> None:
        if ev.channel == "book" and ev.market in self.books:
            self.books[ev.market].mark_stale("unsubscribed")
        if ev.channel in SEQUENCED:
            self._sequence.pop(ev.channel, None)

    def _check_sequence(self, obj: dict[str, Any], out: list[Event]) -> None:
        channel, seq = obj["channel"], obj.get("sequence")
        if type(seq) is not int:
            return
        last = self._sequence.get(channel)
        self._sequence[channel] = seq
        if obj.get("type") == "snapshot" or last is None or seq == last + 1:
            return
        out.append(SequenceGap(V, None, last + 1, seq, channel))
        out.append(RecoveryAction(V, RecoveryKind.RESUBSCRIBE, f"{channel} sequence gap", [], None, channel))

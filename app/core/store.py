"""The market store: per-market state built from core events, what changed since the last read, and
health counters per subscription. No Qt, no I/O; the stream engine feeds it, the window pulls from it.

The books themselves live in ``store.books[venue]``; the engine hands that dict to each venue session,
so the session applies book events in place and the store only notes that the market changed.
"""

from __future__ import annotations

import contextlib
import time
from collections import OrderedDict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from app.core.book import OrderBook
from app.core.budget import Budget
from app.core.events import (
    Balance,
    BookChange,
    BookSnapshot,
    Candle,
    ChecksumResult,
    ErrorEvent,
    Event,
    Fill,
    IndexValue,
    InstrumentUpdate,
    Level3Change,
    Level3Snapshot,
    Lifecycle,
    Malformed,
    OrderUpdate,
    Position,
    RecoveryAction,
    SequenceGap,
    Ticker,
    Trade,
    Unknown,
)
from app.core.feeds import STALE_AFTER_S, Feed, feed_of
from app.core.instruments import Venue
from app.core.level3 import Level3Book

# Memory stays flat all day (issue 13): every history is capped per market AND in total, because a
# day of watchlist switching leaves hundreds of markets behind, each still holding its own full history.
TAPE_LIMIT = 500  # trades kept per market (the tape view shows the newest; more is never scrolled to)
TAPE_TOTAL = 40_000  # trades kept over all markets (~17 MB); the busiest tapes give way first
TAPE_FLOOR = 100  # ...but no tape is trimmed below this many
CANDLE_LIMIT = 720  # OHLC bars kept per market (12 h of 1-minute bars)
CANDLE_TOTAL = 50_000  # bars over all markets (~20 MB): 70 markets with a full 12 h
CANDLE_FLOOR = 120  # ...but no market keeps fewer than its last 2 h
# The user's fills kept (oldest dropped first): what the Fills view shows (its 5,000 rows); telling a
# repeat from a new fill needs only the last few seconds' (the catch-up overlap).
FILLS_LIMIT = 5_000
ORDERS_LIMIT = 5_000  # order updates kept, by order id (least recently updated dropped first)
STATUSES_LIMIT = 20_000  # lifecycle statuses of markets with no other state (Kalshi sends every market's)
RATE_WINDOW_S = 5.0

Key = tuple[Venue, str]


class MarketHook(Protocol):
    """Watches one market's data as the store applies it (the alert engine's per-market index). Called
    after the store and the book took the event in, so what it reads is already current."""

    def book(self, ev: BookChange | BookSnapshot) -> None: ...

    def trade(self, ev: Trade) -> None: ...

    def ticker(self, ev: Ticker) -> None: ...


class StoreWatcher(Protocol):
    """Watches the rarer events: the user's new fills (never a repeat), positions, balances, lifecycle,
    instruments, and a venue's connection dropping."""

    def event(self, venue: Venue, ev: Event) -> None: ...

    def venue_down(self, venue: Venue, reason: str) -> None: ...


@dataclass(slots=True)
class Health:
    """One feed's health (per venue and ``Feed``: book, ticker, trade, fills, positions, ...)."""

    messages: int = 0
    last_data: float | None = None  # monotonic seconds
    gaps: int = 0
    checksum_failures: int = 0
    resyncs: int = 0
    reconnects: int = 0
    errors: int = 0
    malformed: int = 0
    unknown: int = 0
    last_problem: str | None = None  # the newest error, malformed or unknown frame, in words
    _recent: deque[tuple[int, int]] = field(default_factory=deque)  # (whole second, messages)
    _second: int = 0  # the newest whole second, counted outside the deque on the hot path
    _current: int = 0

    def count(self, now: float, n: int = 1) -> None:
        self.messages += n
        self.last_data = now
        second = int(now)
        if second == self._second:  # the hot path: same second, one addition
            self._current += n
            return
        recent = self._recent
        if self._second:
            recent.append((self._second, self._current))
        self._second, self._current = second, n
        while recent and recent[0][0] <= second - RATE_WINDOW_S:
            recent.popleft()

    def rate(self, now: float) -> float:
        """Messages per second over the last few whole seconds."""
        cutoff = int(now) - RATE_WINDOW_S
        recent = [*self._recent, (self._second, self._current)]
        return sum(n for s, n in recent if s > cutoff) / RATE_WINDOW_S

    def age(self, now: float) -> float | None:
        return None if self.last_data is None else now - self.last_data

    def as_dict(self, now: float, feed: Feed | None = None) -> dict[str, object]:
        age = self.age(now)
        limit = None if feed is None else STALE_AFTER_S.get(feed)
        return {
            "stale": limit is not None and (age is None or age > limit),
            "messages": self.messages,
            "rate": round(self.rate(now), 1),
            "age_s": None if age is None else round(age, 3),
            "gaps": self.gaps,
            "checksum_failures": self.checksum_failures,
            "resyncs": self.resyncs,
            "reconnects": self.reconnects,
            "errors": self.errors,
            "malformed": self.malformed,
            "unknown": self.unknown,
            "last_problem": self.last_problem,
        }

    def problem(self, text: str) -> None:
        """Count an error and keep its words for the Health view."""
        self.errors += 1
        self.last_problem = text


@dataclass(slots=True)
class Outcome:
    """How a Kalshi market ended (its lifecycle's ``determined`` and ``settled`` messages)."""

    result: str | None = None  # "yes", "no", "scalar", ... as Kalshi writes it
    value: Decimal | None = None  # settlement value per contract, dollars
    determined_at: float | None = None  # Unix seconds
    settled_at: float | None = None


ENDED = frozenset({"closed", "determined", "settled"})  # no more trading: countdowns stop


@dataclass(slots=True)
class MarketState:
    venue: Venue
    market: str
    bid: Decimal | None = None
    ask: Decimal | None = None
    bid_size: Decimal | None = None
    ask_size: Decimal | None = None
    last: Decimal | None = None
    volume: Decimal | None = None
    change: Decimal | None = None
    change_pct: Decimal | None = None
    open_interest: Decimal | None = None
    status: str | None = None  # lifecycle: open, paused, closed, determined, settled
    outcome: Outcome | None = None  # once determined
    tape: deque[Trade] = field(default_factory=lambda: deque(maxlen=TAPE_LIMIT))
    trades_seen: int = 0
    # Venue OHLC bars by begin time (a bar is re-sent as it fills in; the newest copy wins).
    candles: OrderedDict[str, Candle] = field(default_factory=OrderedDict)


class MarketStore:
    def __init__(self, fills_limit: int = FILLS_LIMIT) -> None:
        self.fills_limit = fills_limit
        self.books: dict[Venue, dict[str, OrderBook]] = {v: {} for v in Venue}
        # Order-by-order books (Kraken's level3), fed by their own link's session in place, as books are.
        self.level3_books: dict[Venue, dict[str, Level3Book]] = {v: {} for v in Venue}
        self.markets: dict[Key, MarketState] = {}
        self.fills: OrderedDict[tuple[Venue, str], Fill] = OrderedDict()
        self.positions: dict[Key, Position] = {}
        self.balances: dict[tuple[Venue, str], Balance] = {}
        self.orders: OrderedDict[tuple[Venue, str], OrderUpdate] = OrderedDict()
        self.indices: dict[str, tuple[IndexValue, float]] = {}  # index id -> latest, when it came
        self.health: dict[tuple[Venue, Feed], Health] = {}
        self.changed: set[Key] = set()
        self.fills_changed = False
        self.duplicate_fills = 0
        self._now = time.monotonic
        self._book_health: dict[Venue, Health] = {}
        self.tape_budget = Budget(TAPE_TOTAL, TAPE_FLOOR)
        self.candle_budget = Budget(CANDLE_TOTAL, CANDLE_FLOOR)
        self._statuses: OrderedDict[Key, str] = OrderedDict()  # lifecycle of markets with no state yet
        self._outcomes: OrderedDict[Key, Outcome] = OrderedDict()  # ... and how those ended (the picker)
        # What watches the applied events (the alert engine): markets without a hook cost one dict lookup.
        self.hooks: dict[Key, MarketHook] = {}
        self.watcher: StoreWatcher | None = None

    # ------------------------------------------------------------------ reading

    def market(self, venue: Venue, market: str) -> MarketState:
        key = (venue, market)
        state = self.markets.get(key)
        if state is None:
            state = self.markets[key] = MarketState(venue, market, status=self._statuses.pop(key, None))
        return state

    def book(self, venue: Venue, market: str) -> OrderBook | None:
        return self.books[venue].get(market)

    def level3_book(self, venue: Venue, market: str) -> Level3Book | None:
        return self.level3_books[venue].get(market)

    def take_changes(self) -> set[Key]:
        """Markets changed since the last call (the window's 20-30 Hz pull)."""
        changed, self.changed = self.changed, set()
        return changed

    def health_of(self, venue: Venue, feed: Feed) -> Health:
        key = (venue, feed)
        health = self.health.get(key)
        if health is None:
            health = self.health[key] = Health()
        return health

    # ------------------------------------------------------------------ writing

    def apply(self, venue: Venue, events: Iterable[Event]) -> None:
        """Apply one frame's events (already applied to the books by the venue session)."""
        now = self._now()
        hooks = self.hooks
        for ev in events:
            if type(ev) is BookChange or type(ev) is BookSnapshot:  # the hot path: keep it short
                key = (venue, ev.market)
                self.changed.add(key)
                book_health = self._book_health.get(venue)
                if book_health is None:
                    book_health = self._book_health[venue] = self.health_of(venue, Feed.BOOK)
                book_health.count(now)
                hook = hooks.get(key)
                if hook is not None:
                    hook.book(ev)
            elif isinstance(ev, Ticker):
                self._ticker(ev)
                self.health_of(venue, Feed.TICKER).count(now)
                hook = hooks.get((venue, ev.market))
                if hook is not None:
                    hook.ticker(ev)
            elif isinstance(ev, Trade):
                state = self.market(venue, ev.market)
                tape = state.tape
                grows = len(tape) < TAPE_LIMIT
                tape.append(ev)
                if grows and self.tape_budget.grew():
                    self.tape_budget.trim([m.tape for m in self.markets.values()])
                state.trades_seen += 1
                state.last = ev.price
                self.changed.add((venue, ev.market))
                self.health_of(venue, Feed.TRADE).count(now)
                hook = hooks.get((venue, ev.market))
                if hook is not None:
                    hook.trade(ev)
            elif isinstance(ev, Fill):
                self.add_fills([ev])
                self.health_of(venue, Feed.FILLS).count(now)
            elif isinstance(ev, Position):
                self.positions[(venue, ev.market)] = ev
                self.changed.add((venue, ev.market))
                self.health_of(venue, Feed.POSITIONS).count(now)
                if self.watcher is not None:
                    self.watcher.event(venue, ev)
            elif isinstance(ev, Balance):
                self.balances[(venue, ev.asset)] = ev
                self.health_of(venue, Feed.POSITIONS).count(now)
                if self.watcher is not None:
                    self.watcher.event(venue, ev)
            elif isinstance(ev, OrderUpdate):
                key = (venue, ev.order_id)
                self.orders[key] = ev
                self.orders.move_to_end(key)
                if len(self.orders) > ORDERS_LIMIT:
                    self.orders.popitem(last=False)
            elif isinstance(ev, Candle):
                candles = self.market(venue, ev.market).candles
                grows = ev.begin not in candles
                if grows and len(candles) >= CANDLE_LIMIT:
                    candles.popitem(last=False)
                    grows = False
                candles[ev.begin] = ev
                if grows and self.candle_budget.grew():
                    self.candle_budget.trim([m.candles for m in self.markets.values()])
                self.changed.add((venue, ev.market))
                self.health_of(venue, Feed.OHLC).count(now)
            elif isinstance(ev, Lifecycle):
                close_ts = ev.detail.get("close_ts")
                if (
                    ev.event_type == "close_date_updated"
                    and isinstance(close_ts, int)
                    and close_ts <= time.time()
                ):
                    ev.status = "closed"  # an early close: the venue moved the close time to now
                if ev.scope == "market" and ev.status is not None:
                    self._lifecycle(venue, ev.market, ev.status)
                    if ev.event_type in ("determined", "settled"):
                        self._outcome(venue, ev.market, ev.detail)
                self.health_of(venue, Feed.LIFECYCLE).count(now)
                if self.watcher is not None:
                    self.watcher.event(venue, ev)
            elif isinstance(ev, IndexValue):
                self.indices[ev.index_id] = (ev, now)
                self.health_of(venue, Feed.INDEX).count(now)
            elif isinstance(ev, SequenceGap):
                self.health_of(venue, feed_of(ev.channel)).gaps += 1
            elif isinstance(ev, Level3Change | Level3Snapshot):
                self.changed.add((venue, ev.market))
                self.health_of(venue, Feed.LEVEL3).count(now)
            elif isinstance(ev, ChecksumResult) and not ev.ok:
                self.health_of(venue, feed_of(ev.channel)).checksum_failures += 1
                self.changed.add((venue, ev.market))
            elif isinstance(ev, RecoveryAction):
                self.health_of(venue, feed_of(ev.channel)).resyncs += 1
                for market in ev.markets:
                    self.changed.add((venue, market))
            elif isinstance(ev, ErrorEvent):
                self.health_of(venue, Feed.CONNECTION).problem(ev.message)
            elif isinstance(ev, Malformed):
                health = self.health_of(venue, Feed.CONNECTION)
                health.malformed += 1
                health.last_problem = ev.reason
            elif isinstance(ev, Unknown):
                health = self.health_of(venue, Feed.CONNECTION)
                health.unknown += 1
                health.last_problem = f"a frame of unknown type {ev.type[:40]!r}"
            elif isinstance(ev, InstrumentUpdate) and self.watcher is not None:
                self.watcher.event(venue, ev)  # tick sizes, for the prices rules are written in

    def _lifecycle(self, venue: Venue, market: str, status: str) -> None:
        key = (venue, market)
        state = self.markets.get(key)
        if state is not None:
            state.status = status
            self.changed.add(key)
            return
        # Kalshi's lifecycle channel covers every market it lists: keep only the word for the rest, so a
        # day of it does not build thousands of market states with empty tapes.
        self._statuses[key] = status
        self._statuses.move_to_end(key)
        if len(self._statuses) > STATUSES_LIMIT:
            self._statuses.popitem(last=False)

    def _outcome(self, venue: Venue, market: str, detail: dict[str, object]) -> None:
        key = (venue, market)
        state = self.markets.get(key)
        if state is not None:
            outcome = state.outcome = state.outcome or Outcome()
        else:  # unwatched: kept as small as its status word, and as bounded
            outcome = self._outcomes.get(key) or Outcome()
            self._outcomes[key] = outcome
            self._outcomes.move_to_end(key)
            if len(self._outcomes) > STATUSES_LIMIT:
                self._outcomes.popitem(last=False)
        result, value = detail.get("result"), detail.get("settlement_value")
        if isinstance(result, str) and result:
            outcome.result = result
        if isinstance(value, str):  # fixed-point dollars text, "1.0000" (protocol/kalshi.md §7)
            with contextlib.suppress(ArithmeticError):  # unreadable: the result alone is still shown
                outcome.value = Decimal(value)
        for field_name, name in (("determination_ts", "determined_at"), ("settled_ts", "settled_at")):
            ts = detail.get(field_name)
            if isinstance(ts, int | float) and not isinstance(ts, bool):
                setattr(outcome, name, float(ts))

    def index(self, index_id: str) -> tuple[IndexValue, float] | None:
        """A settlement index's latest value and its age in seconds (None before the first)."""
        entry = self.indices.get(index_id)
        return None if entry is None else (entry[0], self._now() - entry[1])

    def outcome(self, venue: Venue, market: str) -> Outcome | None:
        """How a Kalshi market ended, watched or not (None while it has not)."""
        state = self.markets.get((venue, market))
        found = state.outcome if state is not None else None
        return found or self._outcomes.get((venue, market))  # watched after it ended: the kept one

    def status(self, venue: Venue, market: str) -> str | None:
        state = self.markets.get((venue, market))
        return state.status if state is not None else self._statuses.get((venue, market))

    def _ticker(self, ev: Ticker) -> None:
        state = self.market(ev.venue, ev.market)
        for name in (
            "bid",
            "ask",
            "bid_size",
            "ask_size",
            "last",
            "volume",
            "change",
            "change_pct",
            "open_interest",
        ):
            value = getattr(ev, name)
            if value is not None:
                setattr(state, name, value)
        self.changed.add((ev.venue, ev.market))

    def add_fills(self, fills: Iterable[Fill]) -> int:
        """Merge fills, dropping ones already known (by venue + fill id). Returns how many were new."""
        added = 0
        for fill in fills:
            key = (fill.venue, fill.fill_id)
            if key in self.fills:
                self.duplicate_fills += 1
                continue
            self.fills[key] = fill
            added += 1
            if len(self.fills) > self.fills_limit:
                self.fills.popitem(last=False)
            if self.watcher is not None:
                self.watcher.event(fill.venue, fill)
        if added:
            self.fills_changed = True
        return added

    def mark_level3_stale(self, venue: Venue, reason: str) -> None:
        """A venue's level-3 connection dropped: those books are suspect, the level-2 ones are not."""
        for market, book in self.level3_books[venue].items():
            book.mark_stale(reason)
            self.changed.add((venue, market))

    def mark_books_stale(self, venue: Venue, reason: str) -> None:
        """Every book of a venue is suspect (its connection dropped): not live until re-snapshotted."""
        for market, book in self.books[venue].items():
            book.mark_stale(reason)
            self.changed.add((venue, market))
        if self.watcher is not None:
            self.watcher.venue_down(venue, reason)

    # ------------------------------------------------------------------ reporting

    def report(self, venue: Venue, market: str, levels: int | None = None) -> dict[str, object]:
        """One market in the shape of ``replay --json`` plus the quote fields."""
        book = self.book(venue, market)
        state = self.markets.get((venue, market))
        bids, asks = book.levels_as_decimals(levels) if book is not None else ([], [])
        return {
            "venue": venue.value,
            "market": market,
            "best_bid": str(bids[0][0]) if bids else None,
            "best_ask": str(asks[0][0]) if asks else None,
            "bids": [[str(p), str(s)] for p, s in bids],
            "asks": [[str(p), str(s)] for p, s in asks],
            "stale": book.stale if book is not None else True,
            "stale_reason": (book.stale_reason if book is not None else "no book yet") or None,
            "crossed": book.is_crossed() if book is not None else False,
            "last": None if state is None or state.last is None else str(state.last),
            "volume": None if state is None or state.volume is None else str(state.volume),
            "trades": 0 if state is None else state.trades_seen,
            "status": self.status(venue, market),
        }

    def health_report(self) -> dict[str, dict[str, object]]:
        now = self._now()
        return {f"{v.value}/{k}": h.as_dict(now, k) for (v, k), h in sorted(self.health.items())}

"""One market's rules, as the store's hook for that market (``core.store.MarketHook``): the hot path.

Every book event of a market with rules costs a stale check and a look at the best bid and ask; only if
they moved are the values recomputed, and then only the rules whose levels the move crossed are looked at
(bisect over the sorted levels of each value), so a hundred rules on one market cost about what one does.
A book that is stale (a gap, a failed checksum, a dropped connection) is not looked at; the snapshot that
repairs it is a baseline, which fires nothing unless a rule says ``initial`` (``alerts.policy``).
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections import deque
from collections.abc import Callable
from decimal import Decimal
from fractions import Fraction
from typing import Any, Protocol

from app.alerts.conditions import Condition, Level, Number, Pair, PairBeyond, PairLevel, exact
from app.alerts.policy import Arm, decide
from app.alerts.rules import Kind, Op, PriceField, Rule
from app.alerts.ticks import Ticks
from app.alerts.units import plain, price_shown, price_text
from app.alerts.windows import Rolling
from app.core.book import OrderBook
from app.core.events import BookChange, BookSnapshot, Ticker, Trade
from app.core.instruments import Venue
from app.core.numbers import from_scaled
from app.core.store import MarketStore
from app.core.times import exchange_ms

# The values a book gives, by code: best bid, best ask, bid + ask (a mid, doubled to stay whole), the
# spread in units, the spread in ticks.
BID, ASK, MID2, SPREAD, SPREAD_TICKS = range(5)
TRADE_IDS_KEPT = 2_000  # a replayed trade snapshot holds at most the last 50 (Kraken) or 100
Event = BookChange | BookSnapshot | Trade | Ticker | None


class Entry:
    """One rule on one market (or on one venue): its arm and what it keeps between events."""

    __slots__ = ("arm", "cond", "market", "out", "prev", "rolling", "rule", "since", "venue")

    def __init__(self, rule: Rule, venue: Venue | None, market: str | None) -> None:
        self.rule, self.venue, self.market = rule, venue, market
        self.arm = Arm()
        self.cond: Condition | None = None
        self.rolling = Rolling(rule.window_s or 0.0) if rule.kind in (Kind.VOLUME, Kind.MOVE) else None
        self.prev: Decimal | None = None  # move: the trade price before this one
        self.since: float | None = None  # stale, down: when it began (monotonic), while it lasts
        self.out = False  # stale, down: this outage fired (so its end fires "back")

    @property
    def where(self) -> str:
        if self.venue is None:
            return "*"
        return self.venue.value if self.market is None else f"{self.venue.value}:{self.market}"


class AlertEngine(Protocol):
    """What a market's watch needs of the engine (``alerts.engine.AlertEngine``)."""

    store: MarketStore
    ticks: Ticks
    clock: Callable[[], float]
    wall: Callable[[], float]

    def band(self, rule: Rule, venue: Venue, market: str) -> Decimal: ...

    def fire(self, entry: Entry, value: str, shown: str, ev: Event, *, up: bool = True) -> object: ...

    def window_trade(self, e: Entry, ev: Trade) -> None: ...

    def back(self, e: Entry, now: float) -> None: ...

    @property
    def venue_clock(self) -> dict[Venue, float]: ...  # when each venue's data was last live


Value = Number | Pair  # book units, a Fraction, or a ratio kept as a pair
Show = Callable[[Rule, Any, "Event"], tuple[str, str]]


# Exact Fractions compare slowly; their index holds floats, and a range looked up in it is widened by this
# much, so it can only find more candidates than the exact levels would (each is then checked exactly).
WIDEN = 1e-9
INF = float("inf")


class FieldWatch:
    """Every entry watching one value of one market, indexed by the levels where their state can change."""

    __slots__ = ("engine", "entries", "fuzzy", "key", "levels", "owners", "show", "value", "zhi", "zlo")

    def __init__(self, engine: AlertEngine, entries: list[Entry], show: Show) -> None:
        self.engine, self.entries, self.show = engine, entries, show
        self.value: Value | None = None
        self.key: int | float | Fraction = 0  # the value's place among the levels
        # The open interval of keys around the current one that holds no level: a new value whose key
        # lies inside it crosses nothing, so the market's watch skips ``update`` (the hot path's test).
        # Empty until there is a value.
        self.zlo: float | int = INF
        self.zhi: float | int = -INF
        pairs = sorted(
            ((level, i) for i, e in enumerate(entries) for level in _levels(e)), key=lambda p: p[0]
        )
        self.fuzzy = any(type(level) is Fraction for level, _ in pairs)
        # Fractions index as floats; whole book units stay ints (exact, and the commonest case).
        self.levels: list[int | float] = [float(p[0]) if self.fuzzy else int(p[0]) for p in pairs]
        self.owners = [entries[p[1]] for p in pairs]

    def update(
        self, value: Value | None, baseline: bool, ev: Event, key: int | float | Fraction | None = None
    ) -> None:
        """A new value (``key``: its place among the levels, for a pair; else the value itself)."""
        if value is None:
            return  # an empty side: nothing to compare until it fills again
        old, self.value = self.value, value
        old_key = self.key
        if key is None:
            assert not isinstance(value, tuple)
            key = value
        self.key = new_key = key
        self._zone()
        if old is None or baseline:
            candidates = self.entries
            baseline = True
        elif old == value:
            return
        else:
            lo, hi = (old_key, new_key) if old_key < new_key else (new_key, old_key)
            if self.fuzzy:
                lo, hi = float(lo), float(hi)
                lo, hi = lo - _widen(lo), hi + _widen(hi)
            i, j = bisect_left(self.levels, lo), bisect_right(self.levels, hi)
            if i == j:
                return
            candidates = list(dict.fromkeys(self.owners[i:j]))  # a rule with two levels in range: once
        engine = self.engine
        now, wall = engine.clock(), engine.wall()
        for e in candidates:
            cond = e.cond
            assert cond is not None
            if decide(
                e.rule, e.arm, cond.cond(value), cond.rearm(value), baseline=baseline, now=now, wall=wall
            ):
                text, shown = self.show(e.rule, value, ev)
                engine.fire(e, text, shown, ev, up=_rising(e.rule, value))

    def _zone(self) -> None:
        """The levels just below and above the current key, as ``update`` would find them: any key
        strictly between them makes ``update``'s range from the current key hold no level. A key on a
        level has no zone (every move from it is looked at)."""
        levels, key = self.levels, self.key
        if self.fuzzy:
            k = float(key)
            i, j = bisect_left(levels, k - _widen(k)), bisect_right(levels, k + _widen(k))
            if i != j:
                self.zlo, self.zhi = INF, -INF
                return
            lo = levels[i - 1] if i else -INF
            hi = levels[i] if i < len(levels) else INF
            # ``update`` widens the new key too: keep twice the widening clear of each level.
            self.zlo, self.zhi = lo + 2 * _widen(lo), hi - 2 * _widen(hi)
            return
        i, j = bisect_left(levels, key), bisect_right(levels, key)
        if i != j:
            self.zlo, self.zhi = INF, -INF
            return
        self.zlo = levels[i - 1] if i else -INF
        self.zhi = levels[i] if i < len(levels) else INF


def _widen(x: float) -> float:
    return abs(x) * WIDEN + WIDEN if x not in (INF, -INF) else 0.0


def _levels(e: Entry) -> tuple[Number, ...]:
    assert e.cond is not None
    return e.cond.levels()


def _rising(rule: Rule, value: Value) -> bool:
    if rule.op is Op.BELOW:
        return False
    if rule.op is Op.BEYOND and isinstance(value, tuple):
        return value[0] > value[1]
    return True


class MarketWatch:
    __slots__ = (
        "ask",
        "bid",
        "books",
        "clock",
        "depth",
        "engine",
        "entries",
        "last",
        "last_live",
        "market",
        "order",
        "outage",
        "scale",
        "seen",
        "stale",
        "tick_band",
        "touch",
        "tracks_live",
        "venue",
        "venue_live",
        "windows",
        "zones",
    )

    def __init__(self, engine: AlertEngine, venue: Venue, market: str, before: MarketWatch | None) -> None:
        self.engine, self.venue, self.market = engine, venue, market
        self.books = engine.store.books[venue]
        self.entries: list[Entry] = []
        self.touch: list[tuple[int, FieldWatch]] = []
        self.depth: list[tuple[int, FieldWatch]] = []
        # The touch watches by value code (None where no rule looks at it), for the hot path's zone test.
        self.zones: list[FieldWatch | None] = [None] * 5
        self.tick_band: tuple[int | float, int | float, int] = (INF, -INF, 1)  # bids in (lo, hi): this tick
        self.clock = engine.clock
        self.last: FieldWatch | None = None
        self.windows: list[Entry] = []
        self.stale: list[Entry] = []
        self.venue_live = False  # a venue-wide stale rule counts this market's data as the venue's
        self.tracks_live = False
        self.outage = False  # a stale entry here fired: the next live data is its "back"
        self.bid: int | None = None
        self.ask: int | None = None
        self.scale = -1  # the book's price decimals the touch values were built for
        # What outlives a rebuild of the index (a rule added or removed): when data was last live, and
        # the trade ids already seen (a replayed trade snapshot must not count twice).
        self.last_live: float = before.last_live if before is not None else engine.clock()
        self.seen: set[str] = before.seen if before is not None else set()
        self.order: deque[str] = before.order if before is not None else deque()

    # ------------------------------------------------------------------ building

    def build(self) -> None:
        """Sort the entries into the values they watch (the book-derived ones wait for a book's scale)."""
        self.windows = [e for e in self.entries if e.rule.kind in (Kind.VOLUME, Kind.MOVE)]
        self.stale = [e for e in self.entries if e.rule.kind is Kind.STALE]
        self.tracks_live = bool(self.stale) or self.venue_live
        for e in self.windows:
            rule = e.rule
            assert rule.value is not None
            band = rule.band or Decimal(0)
            e.cond = Level(True, Fraction(rule.value), Fraction(band), strict=True)
        last = [e for e in self.entries if e.rule.field is PriceField.LAST]
        for e in last:
            rule = e.rule
            assert rule.value is not None
            band = self.engine.band(rule, self.venue, self.market)
            e.cond = Level(rule.op is Op.ABOVE, Fraction(rule.value), Fraction(band), strict=False)
        self.last = FieldWatch(self.engine, last, self._show_trade) if last else None
        self.scale = -1
        self.touch, self.depth = [], []
        self.zones = [None] * 5

    def _rescale(self, book: OrderBook) -> None:
        """(Re)build the book-derived values at the book's price scale."""
        scale = self.scale = book.price_decimals
        groups: dict[int, list[Entry]] = {}
        depth: dict[int, list[Entry]] = {}
        for e in self.entries:
            rule = e.rule
            if rule.kind is Kind.PRICE and rule.field is not PriceField.LAST:
                code = {PriceField.BID: BID, PriceField.ASK: ASK}.get(rule.field, MID2)  # type: ignore[arg-type]
                groups.setdefault(code, []).append(e)
            elif rule.kind is Kind.SPREAD:
                groups.setdefault(SPREAD_TICKS if rule.ticks else SPREAD, []).append(e)
            elif rule.kind is Kind.IMBALANCE:
                depth.setdefault(rule.levels, []).append(e)
            else:
                continue
            e.cond = self._condition(e, scale)
        self.touch = [
            (code, FieldWatch(self.engine, es, self._shower(code))) for code, es in sorted(groups.items())
        ]
        self.depth = [(n, FieldWatch(self.engine, es, _show_ratio)) for n, es in sorted(depth.items())]
        self.zones = [None] * 5
        for code, fw in self.touch:
            self.zones[code] = fw
        self.tick_band = (INF, -INF, 1)

    def _condition(self, e: Entry, scale: int) -> Condition:
        rule = e.rule
        assert rule.value is not None
        if rule.kind is Kind.IMBALANCE:
            ratio, band = Fraction(rule.value), Fraction(rule.band or 0)
            if rule.op is Op.BEYOND:
                return PairBeyond(ratio, band)
            return PairLevel(rule.op is Op.ABOVE, ratio, band)
        if rule.kind is Kind.SPREAD and rule.ticks:
            band = Fraction(rule.band) if rule.band is not None else Fraction(1)
            return PairLevel(True, Fraction(rule.value), band)
        factor = Fraction(10**scale) * (2 if rule.field in (PriceField.MID, PriceField.PROB) else 1)
        level = exact(Fraction(rule.value) * factor)
        units = exact(Fraction(self.engine.band(rule, self.venue, self.market)) * factor)
        if rule.kind is Kind.SPREAD:
            return Level(True, level, units, strict=True)
        return Level(rule.op is Op.ABOVE, level, units, strict=False)

    # ------------------------------------------------------------------ the hook (per frame)

    def book(self, ev: BookChange | BookSnapshot) -> None:
        book = self.books.get(self.market)
        if book is None or book.stale_reason is not None:
            return
        if self.tracks_live:
            now = self.last_live = self.clock()
            if self.venue_live:
                self.engine.venue_clock[self.venue] = now
            if self.outage:
                self._back(now)
        if type(ev) is BookSnapshot or book.price_decimals != self.scale:
            self.prime(book, ev)
            return
        bid, ask = book.touch()
        if (bid != self.bid or ask != self.ask) and self.touch:
            self.bid, self.ask = bid, ask
            if not self._inside(bid, ask):
                self._touch_moved(bid, ask, book, ev)
        for n, fw in self.depth:
            b, a = book.bids.top_size(n), book.asks.top_size(n)
            if b and a:
                ratio = b / a
                if not fw.zlo < ratio < fw.zhi:  # else no level lies between the last ratio and this one
                    fw.update((b, a), False, ev, ratio)

    def _inside(self, bid: int | None, ask: int | None) -> bool:
        """Whether the new touch leaves every touch value inside its zone: nothing can have crossed."""
        if bid is None or ask is None:
            return False
        fb, fa, fm, fs, ft = self.zones
        if fb is not None and not fb.zlo < bid < fb.zhi:
            return False
        if fa is not None and not fa.zlo < ask < fa.zhi:
            return False
        if fm is not None and not fm.zlo < bid + ask < fm.zhi:
            return False
        if fs is not None and not fs.zlo < ask - bid < fs.zhi:
            return False
        if ft is not None:
            lo, hi, tick = self.tick_band
            return lo < bid < hi and ft.zlo < (ask - bid) / tick < ft.zhi
        return True

    def _touch_moved(self, bid: int | None, ask: int | None, book: OrderBook, ev: Event) -> None:
        for code, fw in self.touch:
            if code == SPREAD_TICKS:
                self._spread_ticks(fw, bid, ask, book, baseline=False, ev=ev)
            else:
                fw.update(self._value(code, bid, ask), False, ev)

    def prime(self, book: OrderBook | None = None, ev: Event = None, last: Decimal | None = None) -> None:
        """A baseline from the book as it is now (a snapshot, a new rule, a new scale) and, for a new rule,
        the last trade price the store knows: fires nothing but an ``initial`` rule's."""
        if last is not None and self.last is not None and self.last.value is None:
            self.last.update(Fraction(last), True, None)
        book = book or self.books.get(self.market)
        if book is None or book.stale_reason is not None:
            return
        if book.price_decimals != self.scale:
            self._rescale(book)
        bid, ask = self.bid, self.ask = book.touch()
        for code, fw in self.touch:
            if code == SPREAD_TICKS:
                self._spread_ticks(fw, bid, ask, book, baseline=True, ev=ev)
            else:
                fw.update(self._value(code, bid, ask), True, ev)
        for n, fw in self.depth:
            pair = (book.bids.top_size(n), book.asks.top_size(n))
            if pair[0] and pair[1]:
                fw.update(pair, True, ev, pair[0] / pair[1])

    def trade(self, ev: Trade) -> None:
        if self.last is None and not self.windows:
            return
        trade_id = ev.trade_id
        if trade_id:
            if trade_id in self.seen:
                return  # already counted (a trade snapshot replayed after a reconnect)
            self.seen.add(trade_id)
            self.order.append(trade_id)
            if len(self.order) > TRADE_IDS_KEPT:
                self.seen.discard(self.order.popleft())
        last = self.last
        if last is not None:
            price = float(ev.price)  # the zone keeps twice the index's widening clear of float error
            if not last.zlo < price < last.zhi:
                last.update(Fraction(ev.price), False, ev)
        for e in self.windows:
            self.engine.window_trade(e, ev)

    def ticker(self, ev: Ticker) -> None:
        # The last price before any trade arrives: a baseline, so the first trade is a real comparison.
        if self.last is not None and self.last.value is None and ev.last is not None:
            self.last.update(Fraction(ev.last), True, ev)

    def _back(self, now: float) -> None:
        self.outage = False
        for e in self.stale:
            if e.since is not None:
                self.engine.back(e, now)

    # ------------------------------------------------------------------ values

    @staticmethod
    def _value(code: int, bid: int | None, ask: int | None) -> int | None:
        if code == BID:
            return bid
        if code == ASK:
            return ask
        if bid is None or ask is None:
            return None
        return bid + ask if code == MID2 else ask - bid

    def _spread_ticks(
        self, fw: FieldWatch, bid: int | None, ask: int | None, book: OrderBook, *, baseline: bool, ev: Event
    ) -> None:
        if bid is not None and ask is not None:
            lo, hi, tick = self.tick_band
            if not lo < bid < hi:
                lo, hi, tick = self.tick_band = self._tick_units(bid, book.price_decimals)
            fw.update((ask - bid, tick), baseline, ev, (ask - bid) / tick)

    def _tick_units(self, bid: int, scale: int) -> tuple[int | float, int | float, int]:
        """The grid step at the bid in book units, and the bids (exclusive bounds) that share it."""
        lo, hi, tick = self.engine.ticks.band_at(self.venue, self.market, from_scaled(bid, scale))
        if tick is None:
            return -INF, INF, 100 if self.venue is Venue.KALSHI and scale == 4 else 1  # 1c; one wire unit
        return _units(lo, scale, -INF), _units(hi, scale, INF), max(1, int(tick.scaleb(scale)))

    def _shower(self, code: int) -> Show:
        venue = self.venue

        def show(rule: Rule, value: Any, ev: Event) -> tuple[str, str]:
            if code == SPREAD_TICKS:
                ticks = _fraction_text(Fraction(*value))
                return ticks, f"spread {ticks} ticks"
            dollars = Decimal(int(value)).scaleb(-self.scale)  # book units are ints
            if code == MID2:
                dollars /= 2
            return _price_show(rule, venue, dollars)

        return show

    def _show_trade(self, rule: Rule, value: Any, ev: Event) -> tuple[str, str]:
        # The trade's own price text (exact as the venue wrote it); only a ticker baseline has none.
        price = ev.price if isinstance(ev, Trade) else Decimal(value.numerator) / Decimal(value.denominator)
        return _price_show(rule, self.venue, price)


def _units(dollars: Decimal | None, scale: int, unbounded: float) -> int | float:
    """A band's bound in book units (rounded outward never matters: bounds are exclusive and on the grid)."""
    return unbounded if dollars is None else int(dollars.scaleb(scale))


def _price_show(rule: Rule, venue: Venue, dollars: Decimal) -> tuple[str, str]:
    text = price_text(venue, dollars)
    if rule.field is PriceField.PROB:
        return text, f"prob {text}%"
    word = "spread" if rule.kind is Kind.SPREAD else str(rule.field)
    return text, f"{word} {price_shown(venue, dollars)}"


def _fraction_text(value: Fraction, places: int = 4) -> str:
    if value.denominator == 1:
        return str(value.numerator)
    return plain((Decimal(value.numerator) / Decimal(value.denominator)).quantize(Decimal(1).scaleb(-places)))


def _show_ratio(rule: Rule, value: Any, ev: Event) -> tuple[str, str]:
    text = _fraction_text(Fraction(*value))
    return text, f"imbalance {text}"


def event_ms(ev: Event) -> int | None:
    """The exchange's time of the event that fired a rule."""
    if ev is None or type(ev) is BookSnapshot:
        return None
    if type(ev) is BookChange:
        return exchange_ms(ev.ts)
    return ev.ts_ms  # type: ignore[union-attr]

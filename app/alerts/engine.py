"""The alert engine: the rules, their index by market (the store's hooks), the venue-wide rules, the
timers (stale, down, expiry) and the firings.

    engine = AlertEngine(store)          # hooks itself into the store
    engine.watch(Venue.KALSHI, markets)  # what VENUE:* and * rules cover
    engine.add(grammar.parse("kalshi:KXCPI-26NOV21-T0.1 bid above 55c once"))
    engine.listeners.append(print_it)    # each Firing as it happens
    engine.tick()                        # a few times a second: stale feeds, expiries

The store calls ``MarketWatch`` hooks for markets with rules and ``event``/``venue_down`` for the rarer
events; markets without rules cost it one dict lookup per event. Rules on one market are indexed by
(venue, market); changing a rule rebuilds the index, keeping every rule's arm.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterable
from decimal import Decimal
from fractions import Fraction

from app.alerts.firing import Firing
from app.alerts.grammar import RuleError
from app.alerts.policy import decide
from app.alerts.rules import ALL, Kind, Mode, Rule
from app.alerts.ticks import Ticks
from app.alerts.units import plain, price_shown, price_text
from app.alerts.watch import Entry, Event, MarketWatch, event_ms
from app.core.events import (
    Balance,
    BookChange,
    BookSnapshot,
    Fill,
    InstrumentUpdate,
    Lifecycle,
    Position,
    TakerSide,
    Trade,
)
from app.core.events import Event as CoreEvent
from app.core.instruments import Venue
from app.core.store import MarketStore

LOG_LIMIT = 1_000  # firings kept (the window's Alerts log shows these)
FILL_SLACK_MS = 1_000  # a fill stamped this much before a rule was armed still counts (whole-second stamps)
KALSHI_CENT = Decimal("0.01")
ON_MARKETS = frozenset({Kind.PRICE, Kind.SPREAD, Kind.IMBALANCE, Kind.VOLUME, Kind.MOVE})
Key = tuple[Venue, str]


class AlertEngine:
    def __init__(
        self,
        store: MarketStore,
        ticks: Ticks | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        wall: Callable[[], float] = time.time,
        log_limit: int = LOG_LIMIT,
    ) -> None:
        self.store = store
        self.ticks = ticks or Ticks()
        self.clock, self.wall = clock, wall
        self.rules: dict[str, Rule] = {}
        self.watched: dict[Venue, list[str]] = {v: [] for v in Venue}
        self.log: deque[Firing] = deque(maxlen=log_limit)
        self.listeners: list[Callable[[Firing], None]] = []
        self.problems: list[tuple[Rule, str]] = []  # rules set aside while running (off their grid)
        self._entries: dict[tuple[str, Venue | None, str | None], Entry] = {}
        self._armed_ms: dict[str, int] = {}  # rule id -> when it was armed (fills before it don't fire)
        self._venue_stale: list[Entry] = []
        self._down: list[Entry] = []
        self._fills: list[Entry] = []
        self._holdings: list[Entry] = []
        self._statuses: list[Entry] = []
        self.venue_clock: dict[Venue, float] = {}  # when each venue's data was last live (monotonic)
        self._held: dict[tuple[Venue, str], Decimal] = {}  # positions and balances last seen
        self._status: dict[Key, str] = {}
        self._dirty = False  # a rule finished: index again at the next tick
        store.watcher = self

    # ------------------------------------------------------------------ rules

    def add(self, rule: Rule) -> Rule:
        """Arm a rule. ``RuleError`` if its market's grid is known and the rule's level is off it."""
        problem = self._grid_problem(rule)
        if problem is not None:
            raise RuleError(problem)
        self.rules[rule.id] = rule
        self._armed_ms.setdefault(rule.id, int(self.wall() * 1000))
        self._rebuild()
        return rule

    def extend(self, rules: Iterable[Rule]) -> list[tuple[Rule, str]]:
        """Arm several; those that can't be armed come back with the reason (the rest are armed)."""
        refused = []
        for rule in rules:
            try:
                self.add(rule)
            except RuleError as exc:
                refused.append((rule, str(exc)))
        return refused

    def set_rules(self, rules: Iterable[Rule]) -> list[tuple[Rule, str]]:
        """Arm exactly these (the window's list after an edit): arms of rules kept stay as they were;
        those off their market's grid come back with the reason, unarmed."""
        self.rules = {}
        refused = []
        for rule in rules:
            problem = self._grid_problem(rule)
            if problem is not None:
                refused.append((rule, problem))
                continue
            self.rules[rule.id] = rule
            self._armed_ms.setdefault(rule.id, int(self.wall() * 1000))
        self._rebuild()
        return refused

    def _grid_problem(self, rule: Rule) -> str | None:
        t = rule.target
        if t.single and t.venue is not None and t.market is not None:
            return self.ticks.problem(rule, t.venue, t.market)
        return None

    def remove(self, rule_id: str) -> None:
        self.rules.pop(rule_id, None)
        self._armed_ms.pop(rule_id, None)
        self._rebuild()

    def changed(self) -> None:
        """A rule was enabled, disabled or edited in place: index again."""
        self._rebuild()

    def watch(self, venue: Venue, markets: list[str]) -> None:
        """The venue's watched markets, which ``VENUE:*`` and ``*`` rules cover."""
        self.watched[venue] = list(dict.fromkeys(markets))
        self._rebuild()

    def detach(self) -> None:
        self.store.hooks = {}
        self.store.watcher = None

    def armed_on(self, venue: Venue, market: str) -> list[Rule]:
        """The active rules that look at this market (the window marks it)."""
        return [r for r in self.rules.values() if r.active and r.target.covers(venue, market)]

    # ------------------------------------------------------------------ the index

    def _markets_of(self, rule: Rule) -> list[Key]:
        t = rule.target
        if t.single:
            assert t.venue is not None and t.market is not None
            return [(t.venue, t.market)]
        venues = [t.venue] if t.venue is not None else list(Venue)
        return [(v, m) for v in venues for m in self.watched[v]]

    def _entry(
        self,
        rule: Rule,
        venue: Venue | None,
        market: str | None,
        keep: set[tuple[str, Venue | None, str | None]],
    ) -> Entry:
        key = (rule.id, venue, market)
        keep.add(key)
        entry = self._entries.get(key)
        if entry is None or entry.rule is not rule:
            entry = self._entries[key] = Entry(rule, venue, market)
        return entry

    def _rebuild(self) -> None:
        before = self.store.hooks
        hooks: dict[Key, MarketWatch] = {}
        keep: set[tuple[str, Venue | None, str | None]] = set()
        self._venue_stale, self._down, self._fills, self._holdings, self._statuses = [], [], [], [], []

        def watch_of(key: Key) -> MarketWatch:
            watch = hooks.get(key)
            if watch is None:
                old = before.get(key)
                watch = hooks[key] = MarketWatch(
                    self, key[0], key[1], old if isinstance(old, MarketWatch) else None
                )
            return watch

        for rule in self.rules.values():
            if not rule.active:
                continue
            t, kind = rule.target, rule.kind
            venues = [t.venue] if t.venue is not None else list(Venue)
            if kind in ON_MARKETS or (kind is Kind.STALE and t.market is not None):
                for key in self._markets_of(rule):
                    watch_of(key).entries.append(self._entry(rule, key[0], key[1], keep))
            elif kind is Kind.STALE:
                for venue in venues:
                    self._venue_stale.append(self._entry(rule, venue, None, keep))
                    self.venue_clock.setdefault(venue, self.clock())
                    for market in self.watched[venue]:
                        watch_of((venue, market)).venue_live = True
            elif kind is Kind.DOWN:
                self._down.extend(self._entry(rule, v, None, keep) for v in venues)
            else:
                entry = self._entry(rule, t.venue, t.market, keep)
                {Kind.FILL: self._fills, Kind.POSITION: self._holdings, Kind.STATUS: self._statuses}[
                    kind
                ].append(entry)
        for gone in [k for k in self._entries if k not in keep]:
            del self._entries[gone]
        for watch in hooks.values():
            watch.build()
        self._held = {(v, m): p.position for (v, m), p in self.store.positions.items()}
        self._held.update({(v, a): b.balance for (v, a), b in self.store.balances.items()})
        self._status = {k: s.status for k, s in self.store.markets.items() if s.status is not None}
        self.store.hooks = hooks  # type: ignore[assignment]
        for (venue, market), watch in hooks.items():
            state = self.store.markets.get((venue, market))
            watch.prime(last=state.last if state is not None else None)

    def band(self, rule: Rule, venue: Venue, market: str) -> Decimal:
        """A price rule's re-arm band in dollars: the rule's own, else one tick of the market."""
        if rule.band is not None:
            return rule.band
        if rule.kind is Kind.SPREAD:  # a distance, not a price: the grid's usual step
            tick = self.ticks.coarsest(venue, market)
        else:
            tick = self.ticks.tick_at(venue, market, rule.value)
        if tick is not None:
            return tick
        if venue is Venue.KALSHI:
            return KALSHI_CENT
        book = self.store.books[venue].get(market)
        return Decimal(1).scaleb(-book.price_decimals) if book is not None else Decimal(0)

    # ------------------------------------------------------------------ firing

    def fire(
        self,
        entry: Entry,
        value: str,
        shown: str,
        ev: Event | CoreEvent,
        *,
        up: bool = True,
        state: str | None = None,
        ts_ms: int | None = None,
        trade_id: str | None = None,
        market: str | None = None,
    ) -> Firing:
        rule = entry.rule
        wall = self.wall()
        if ts_ms is None and isinstance(ev, Trade | BookChange | BookSnapshot):
            ts_ms = event_ms(ev)
        if trade_id is None and isinstance(ev, Trade):
            trade_id = ev.trade_id or None
        firing = Firing(
            rule, market or entry.where, value, shown, ts_ms, int(wall * 1000), trade_id, up, state
        )
        rule.fired += 1
        rule.last_fired_at = wall
        if rule.mode is Mode.ONCE:
            rule.done = True  # indexed out at the next tick; its other entries already see it inactive
            self._dirty = True
        self.log.append(firing)
        for listener in self.listeners:
            listener(firing)
        return firing

    def window_trade(self, e: Entry, ev: Trade) -> None:
        """A volume or move rule sees a trade: the window just before it (time has passed), then with it."""
        rolling, cond, rule = e.rolling, e.cond, e.rule
        assert rolling is not None and cond is not None
        ts = ev.ts_ms if ev.ts_ms is not None else int(self.wall() * 1000)
        rolling.evict(ts)
        now, wall = self.clock(), self.wall()
        if rule.kind is Kind.VOLUME:
            before = Fraction(rolling.total)
            decide(rule, e.arm, cond.cond(before), cond.rearm(before), baseline=False, now=now, wall=wall)
            rolling.add(ts, ev.price, ev.size)
            after = Fraction(rolling.total)
            if decide(rule, e.arm, cond.cond(after), cond.rearm(after), baseline=False, now=now, wall=wall):
                text = plain(rolling.total)
                self.fire(e, text, f"volume {text} in {plain(Decimal(str(rule.window_s)))} s", ev)
            return
        moved = rolling.move(e.prev, rule.direction)
        decide(rule, e.arm, cond.cond(moved), cond.rearm(moved), baseline=False, now=now, wall=wall)
        rolling.add(ts, ev.price, ev.size)
        e.prev = ev.price
        moved = rolling.move(ev.price, rule.direction)
        if decide(rule, e.arm, cond.cond(moved), cond.rearm(moved), baseline=False, now=now, wall=wall):
            text = plain((Decimal(moved.numerator) / Decimal(moved.denominator)).quantize(Decimal("0.0001")))
            rose = rolling.move(ev.price, "up") >= rolling.move(ev.price, "down")
            self.fire(e, text, f"moved {'up' if rose else 'down'} {text}%", ev, up=rose)

    def back(self, e: Entry, now: float) -> None:
        """A stale or down entry sees live data again: re-armed, and "back" if it fired."""
        since, fired = e.since, e.out
        e.since, e.out = None, False
        e.arm.armed = True
        if since is not None and fired:
            text = plain(Decimal(now - since).quantize(Decimal("0.1")))
            self.fire(e, text, f"back after {text} s", None, up=True, state="back")

    # ------------------------------------------------------------------ the store's watcher

    def event(self, venue: Venue, ev: CoreEvent) -> None:
        if isinstance(ev, Fill):
            self._fill(ev)
        elif isinstance(ev, Position):
            self._holding(venue, ev.market, ev.position, ev)
        elif isinstance(ev, Balance):
            self._holding(venue, ev.asset, ev.balance, ev)
        elif isinstance(ev, Lifecycle):
            self._lifecycle(venue, ev)
            self._learn(venue, ev)
        elif isinstance(ev, InstrumentUpdate):
            self._learn(venue, ev)

    def venue_down(self, venue: Venue, reason: str) -> None:
        """The venue's connection dropped (or another attempt failed): the same outage until it is back."""
        now = self.clock()
        for e in self._down:
            if e.venue is venue and e.since is None:
                e.since = now
                if not e.rule.window_s:
                    self._down_fires(e, now, reason)

    def _down_fires(self, e: Entry, now: float, reason: str = "") -> None:
        assert e.since is not None
        if decide(e.rule, e.arm, True, False, baseline=False, now=now, wall=self.wall()):
            e.out = True
            text = plain(Decimal(now - e.since).quantize(Decimal("0.1")))
            self.fire(e, text, f"down{': ' + reason if reason else ''}", None, up=False, state="down")

    def _fill(self, fill: Fill) -> None:
        for e in self._fills:
            rule = e.rule
            if not rule.active or not rule.target.covers(fill.venue, fill.market):
                continue
            if fill.ts_ms is not None and fill.ts_ms < self._armed_ms.get(rule.id, 0) - FILL_SLACK_MS:
                continue  # history a catch-up or an executions snapshot brought, from before the rule
            e.arm.armed = True  # each fill is an event of its own
            if decide(rule, e.arm, True, False, baseline=False, now=self.clock(), wall=self.wall()):
                text = price_text(fill.venue, fill.price)
                side = "bought" if fill.side is TakerSide.BUY else "sold"
                self.fire(
                    e,
                    text,
                    f"fill: {side} {plain(fill.size)} at {price_shown(fill.venue, fill.price)}",
                    fill,
                    ts_ms=fill.ts_ms,
                    trade_id=fill.fill_id,
                    up=fill.side is TakerSide.BUY,
                    market=f"{fill.venue.value}:{fill.market}",
                )

    def _holding(self, venue: Venue, name: str, amount: Decimal, ev: Position | Balance) -> None:
        key = (venue, name)
        old = self._held.get(key)
        self._held[key] = amount
        if old is None or old == amount:
            return  # the first one seen is where it stands, not a change; a repeat (REST reload) neither
        for e in self._holdings:
            rule, t = e.rule, e.rule.target
            if not rule.active or (t.venue is not None and t.venue is not venue):
                continue
            held = t.market.partition("/")[0] if t.market not in (None, ALL) else None  # kraken:BTC/USD: BTC
            if t.market not in (None, ALL) and name not in (t.market, held):
                continue
            e.arm.armed = True
            if decide(rule, e.arm, True, False, baseline=False, now=self.clock(), wall=self.wall()):
                text = plain(amount)
                what = "position" if isinstance(ev, Position) else f"{name} balance"
                self.fire(
                    e,
                    text,
                    f"{what} {plain(old)} -> {text}",
                    ev,
                    up=amount > old,
                    market=f"{venue.value}:{name}",
                    ts_ms=ev.ts_ms if isinstance(ev, Balance) else None,
                )

    def _lifecycle(self, venue: Venue, ev: Lifecycle) -> None:
        if ev.scope != "market" or ev.status is None:
            return
        key = (venue, ev.market)
        old = self._status.get(key)
        self._status[key] = ev.status
        if old == ev.status:
            return  # a repeat of what is known: not a change
        for e in self._statuses:
            rule, t = e.rule, e.rule.target
            if not rule.active or t.venue is not venue:
                continue
            if t.market == ALL and ev.market not in self.watched[venue]:
                continue
            if t.market not in (None, ALL) and t.market != ev.market:
                continue
            if rule.statuses and ev.status not in rule.statuses:
                continue
            e.arm.armed = True
            if decide(rule, e.arm, True, False, baseline=False, now=self.clock(), wall=self.wall()):
                ts = ev.detail.get(_STATUS_TS.get(ev.event_type, ""))
                self.fire(
                    e,
                    ev.status,
                    f"status {old or '?'} -> {ev.status}",
                    ev,
                    up=ev.status == "open",
                    market=f"{venue.value}:{ev.market}",
                    ts_ms=ts * 1000 if isinstance(ts, int) and not isinstance(ts, bool) else None,
                )

    def _learn(self, venue: Venue, ev: CoreEvent) -> None:
        """A market's price grid arrived: rules off it are set aside, with the reason."""
        markets = self.ticks.learn(venue, ev)
        if not markets:
            return
        refused = False
        for rule in list(self.rules.values()):
            t = rule.target
            if rule.active and t.single and t.venue is venue and t.market in markets:
                assert t.market is not None
                problem = self.ticks.problem(rule, venue, t.market)
                if problem is not None:
                    rule.enabled = False
                    self.problems.append((rule, problem))
                    refused = True
        if refused:
            self._rebuild()

    # ------------------------------------------------------------------ timers

    def tick(self, now: float | None = None) -> None:
        """Stale feeds, venues down long enough and back, expiries, finished rules (a few times a second)."""
        now = self.clock() if now is None else now
        wall = self.wall()
        expired = [r for r in self.rules.values() if r.active and r.expired(wall)]
        for rule in expired:
            rule.done = True
        if expired or self._dirty:
            self._dirty = False
            self._rebuild()
        for watch in self.store.hooks.values():
            if isinstance(watch, MarketWatch):
                for e in watch.stale:
                    self._stale_check(e, now, now - watch.last_live)
                    if e.since is not None:
                        watch.outage = True  # its next live data says "back"
        for e in self._venue_stale:
            assert e.venue is not None
            seen = self.venue_clock.get(e.venue, now)
            if e.since is not None and seen > e.since:
                self.back(e, seen)  # data came back since the outage began (seen at this tick)
            else:
                self._stale_check(e, now, now - seen)
        for e in self._down:
            assert e.venue is not None
            if e.since is None:
                continue
            if self._venue_up(e.venue):
                self.back(e, now)
            elif e.rule.window_s and not e.out and now - e.since >= e.rule.window_s:
                self._down_fires(e, now)

    def _stale_check(self, e: Entry, now: float, age: float) -> None:
        rule = e.rule
        assert rule.window_s is not None
        if e.since is not None or age < rule.window_s:
            return
        e.since = now - age  # the outage, whether or not a cooldown lets it fire
        if decide(rule, e.arm, True, False, baseline=False, now=now, wall=self.wall()):
            e.out = True
            text = plain(Decimal(age).quantize(Decimal("0.1")))
            self.fire(e, text, f"stale: no live data for {text} s", None, up=False, state="stale")

    def _venue_up(self, venue: Venue) -> bool:
        return any(not book.stale for book in self.store.books[venue].values())


_STATUS_TS = {"determined": "determination_ts", "settled": "settled_ts", "close_date_updated": "close_ts"}

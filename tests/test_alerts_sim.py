"""Alert rules against the real simulator over real sockets, compared with the simulator's own log.

The simulator runs with its clock stopped; the test steps the market itself, and a step listener (the
simulator's log) records after every step the top of each book it touched, every trade, every position
and lifecycle change. For each rule an oracle written here, independently of the engine, walks that log
and says where the rule must fire; the engine must fire exactly there (same exchange timestamps, same
values), once for "once", re-armed for "every", and never again because of a forced reconnect or a
resync. Levels are picked from a dry run of a twin market with the same seed, so every rule is crossed.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import os
import time
from collections import defaultdict, deque
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from app.alerts.engine import AlertEngine
from app.alerts.firing import Firing
from app.alerts.grammar import parse
from app.cli.bench import truth as truth_check
from app.core.feeds import Feed
from app.core.instruments import Venue
from app.core.times import parse_time_ms
from app.launch.grids import sim_ticks
from app.sim.catalog import snap_down, tick_at
from app.sim.events import (
    KalshiDelta,
    KalshiLifecycle,
    KalshiPositionChanged,
    KalshiTrade,
    KrakenBook,
    KrakenTrade,
    SimEvent,
)
from app.sim.faults import FaultSpec
from app.sim.market import SimConfig, SimMarket
from app.sim.server import SimOptions, Simulator
from app.sim.units import CONTRACT, DOLLAR
from app.stream.engine import StreamEngine
from app.stream.kalshi_link import KalshiCredentials, KalshiLink
from app.stream.kraken_link import KrakenCredentials, KrakenLink

DEPTH = 10
SEED = 21
N_KALSHI = 4
N_PAIRS = 2
STEPS = 3000
Levels = list[tuple[int, int]]


# ---------------------------------------------------------------------- the simulator's log


@dataclass
class Point:
    """A book's top after a step that touched it (``baseline``: what a (re)connect's snapshot showed)."""

    ts_ms: int | None
    bids: Levels
    asks: Levels
    baseline: bool = False


@dataclass
class TradeRow:
    trade_id: str
    price: int  # units (Kalshi 1/10 000 dollar; Kraken the pair's price precision)
    size: int
    ts_ms: int


@dataclass
class Log:
    market: SimMarket
    books: dict[str, list[Point]] = field(default_factory=dict)
    trades: dict[str, list[TradeRow]] = field(default_factory=lambda: defaultdict(list))
    positions: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    lifecycle: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))

    def __post_init__(self) -> None:
        self.rebase()

    def top(self, name: str) -> tuple[Levels, Levels]:
        if name in self.market.kalshi:
            m = self.market.kalshi[name]
            return m.yes.top(DEPTH), [(DOLLAR - p, s) for p, s in m.no.top(DEPTH)]
        state = self.market.kraken[name]
        return state.bids.top(DEPTH), state.asks.top(DEPTH)

    def rebase(self) -> None:
        """Every book as a (re)connect's snapshot shows it now."""
        for name in [*self.market.kalshi, *self.market.kraken]:
            self.books.setdefault(name, []).append(Point(None, *self.top(name), baseline=True))

    def saw(self, events: list[SimEvent]) -> None:
        touched: dict[str, int | None] = {}
        for ev in events:
            if isinstance(ev, KalshiDelta):
                touched[ev.market] = ev.ts_ms
            elif isinstance(ev, KrakenBook):
                touched[ev.pair] = parse_time_ms(ev.ts)
            elif isinstance(ev, KalshiTrade):
                self.trades[ev.market].append(TradeRow(ev.trade_id, ev.yes_price, ev.count, ev.ts_ms))
            elif isinstance(ev, KrakenTrade):
                for t in ev.trades:
                    ts = parse_time_ms(t["timestamp"])
                    assert ts is not None
                    self.trades[ev.pair].append(TradeRow(str(t["trade_id"]), t["price"], t["qty"], ts))
            elif isinstance(ev, KalshiPositionChanged):
                self.positions[ev.market].append(self.market.kalshi[ev.market].position.position)
            elif isinstance(ev, KalshiLifecycle):
                self.lifecycle[ev.market].append(ev.event_type)
        for name, ts in touched.items():
            if name in self.books:
                self.books[name].append(Point(ts, *self.top(name)))


def twin_log(steps: int = STEPS, lifecycle_share: float = 0.0) -> Log:
    """A dry run of the same seeded market, to pick levels the real run is sure to cross."""
    twin = SimMarket(
        SimConfig(
            seed=SEED,
            kalshi_markets=N_KALSHI,
            kraken_pairs=N_PAIRS,
            lifecycle_share=lifecycle_share,
            strike_boards=False,  # N_KALSHI markets that wander and come back, not the boards' trends
        )
    )
    log = Log(twin)
    for _ in range(steps):
        log.saw(twin.step())
    return log


# ---------------------------------------------------------------------- the oracle


def expected(
    points: Sequence[tuple[int | None, Any, bool]],
    cond: Callable[[Any], bool],
    rearm: Callable[[Any], bool],
    *,
    once: bool = False,
    initial: bool = False,
) -> list[tuple[int | None, Any]]:
    """Where a rule fires on a walk of (ts, value, baseline): a false-to-true change while armed; a
    baseline never fires (unless ``initial`` and armed); re-armed once ``rearm`` holds."""
    armed, out = True, []
    for ts, value, baseline in points:
        if value is None:
            continue
        if cond(value):
            if armed:
                armed = False
                if not baseline or initial:
                    out.append((ts, value))
                    if once:
                        return out
        elif rearm(value):
            armed = True
    return out


def reach(level: Any, band: Any, up: bool) -> tuple[Callable[[Any], bool], Callable[[Any], bool]]:
    """A price rule: true at the level or past it; re-armed ``band`` back (with none: once false)."""
    if up:
        return (lambda v: v >= level), (lambda v: v <= level - band if band else v < level)
    return (lambda v: v <= level), (lambda v: v >= level + band if band else v > level)


def wider(level: Any, band: Any) -> tuple[Callable[[Any], bool], Callable[[Any], bool]]:
    return (lambda v: v > level), (lambda v: v <= level - band if band else v <= level)


def walk(points: list[Point], value: Callable[[Point], Any]) -> list[tuple[int | None, Any, bool]]:
    return [(p.ts_ms, value(p), p.baseline) for p in points]


def bid(p: Point) -> int | None:
    return p.bids[0][0] if p.bids else None


def ask(p: Point) -> int | None:
    return p.asks[0][0] if p.asks else None


def mid2(p: Point) -> int | None:
    return p.bids[0][0] + p.asks[0][0] if p.bids and p.asks else None


def spread(p: Point) -> int | None:
    return p.asks[0][0] - p.bids[0][0] if p.bids and p.asks else None


def imbalance(n: int) -> Callable[[Point], Fraction | None]:
    def value(p: Point) -> Fraction | None:
        b, a = sum(s for _, s in p.bids[:n]), sum(s for _, s in p.asks[:n])
        return Fraction(b, a) if b and a else None

    return value


def plain(d: Decimal) -> str:
    text = format(d, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def cents(units: int | Fraction) -> str:
    """Kalshi price units (1/10 000 dollar) as the cents text a firing carries."""
    f = Fraction(units)
    return plain(Decimal(f.numerator) / Decimal(f.denominator) / 100)


def busiest(log: Log, names: Sequence[str]) -> str:
    return max(names, key=lambda n: len({bid(p) for p in log.books[n]}))


def median_of(values: Sequence[Any]) -> Any:
    distinct = sorted({v for v in values if v is not None})
    return distinct[len(distinct) // 2]


# ---------------------------------------------------------------------- the rig


@dataclass
class Rig:
    sim: Simulator
    engine: StreamEngine
    alerts: AlertEngine
    log: Log
    kalshi: KalshiLink
    kraken: KrakenLink
    fired: list[Firing]

    def of(self, text: str) -> list[Firing]:
        return [f for f in self.fired if f.rule.text == text]


@asynccontextmanager
async def rig(lifecycle_share: float = 0.0, private: bool = False) -> AsyncIterator[Rig]:
    options = SimOptions(
        seed=SEED,
        rate=0,
        markets=N_KALSHI,
        kraken_pairs=N_PAIRS,
        lifecycle_share=lifecycle_share,
        strike_boards=False,
    )
    async with Simulator(options) as sim:
        log = Log(sim.market)
        sim.step_listeners.append(log.saw)
        engine = StreamEngine()
        markets, symbols = list(sim.market.kalshi), list(sim.market.kraken)
        kalshi = KalshiLink(
            sim.urls["kalshi_ws"],
            sim.urls["kalshi_rest"],
            engine.store,
            markets,
            credentials=KalshiCredentials("alerts-test", ed25519.Ed25519PrivateKey.generate()),
        )
        kraken = KrakenLink(
            sim.urls["kraken_ws"],
            sim.urls["kraken_rest"],
            engine.store,
            symbols,
            depth=DEPTH,
            credentials=KrakenCredentials("alerts-test", base64.b64encode(os.urandom(64)).decode())
            if private
            else None,
        )
        engine.add(kalshi)
        engine.add(kraken)
        alerts = AlertEngine(engine.store, sim_ticks(sim.market))
        alerts.watch(Venue.KALSHI, markets)
        alerts.watch(Venue.KRAKEN, symbols)
        fired: list[Firing] = []
        alerts.listeners.append(fired.append)
        engine.start()
        try:
            await engine.wait_live()
            r = Rig(sim, engine, alerts, log, kalshi, kraken, fired)
            await settle(r)
            yield r
        finally:
            await engine.stop()


async def settle(r: Rig, timeout: float = 20.0) -> None:
    """Until every frame is delivered and every watched book equals the simulator's (ticking the timers)."""
    deadline = time.monotonic() + timeout
    while True:
        r.alerts.tick()
        if (
            r.sim.pending_frames() == 0
            and not truth_check.flags(r.engine)
            and not truth_check.wrong_books(r.sim, r.engine, DEPTH)
        ):
            await asyncio.sleep(0.05)  # frames written but not yet read
            if r.sim.pending_frames() == 0 and not truth_check.wrong_books(r.sim, r.engine, DEPTH):
                r.alerts.tick()
                return
        assert time.monotonic() < deadline, (truth_check.flags(r.engine), r.sim.pending_frames())
        await asyncio.sleep(0.02)


async def drive(r: Rig, steps: int, batch: int = 10) -> None:
    for i in range(steps):
        r.sim.step(1)
        if i % batch == batch - 1:
            await asyncio.sleep(0.001)
    await settle(r)


def add(r: Rig, text: str) -> str:
    r.alerts.add(parse(text))
    return text


def got(r: Rig, text: str) -> list[tuple[int | None, str]]:
    return [(f.ts_ms, f.value) for f in r.of(text)]


def kalshi_band(log: Log, market: str, level: int) -> int:
    return tick_at(log.market.kalshi[market].listing.ranges, level)


# ---------------------------------------------------------------------- book values


@pytest.mark.asyncio
async def test_book_levels_fire_exactly_where_the_truth_crosses() -> None:
    twin = twin_log()
    async with rig() as r:
        m = busiest(twin, list(r.sim.market.kalshi))
        p = busiest(twin, list(r.sim.market.kraken))
        pair = r.sim.market.kraken[p].pair
        pd, inc = pair.price_precision, pair.price_increment
        kb = median_of([bid(x) for x in twin.books[m]])
        ka = median_of([ask(x) for x in twin.books[m]])
        # A mid level on the market's grid (a mid may sit half a tick between two prices; the rule's text
        # can't go finer than Kalshi's 0.01c).
        km = 2 * snap_down(
            r.sim.market.kalshi[m].listing.ranges, median_of([mid2(x) for x in twin.books[m]]) // 2
        )
        rb = median_of([bid(x) for x in twin.books[p]])
        ra = median_of([ask(x) for x in twin.books[p]])
        rm = median_of([mid2(x) for x in twin.books[p]])
        k_band2 = 2 * kalshi_band(twin, m, ka)
        rules = {
            add(r, f"kalshi:{m} bid above {cents(kb)}c"): (bid, *reach(kb, kalshi_band(twin, m, kb), True)),
            add(r, f"kalshi:{m} ask below {cents(ka)}c band {cents(k_band2)}c"): (
                ask,
                *reach(ka, k_band2, False),
            ),
            add(r, f"kalshi:{m} mid above {cents(Fraction(km, 2))}c once"): (
                mid2,
                *reach(km, 2 * kalshi_band(twin, m, km // 2), True),
            ),
            add(r, f"kalshi:{m} prob below {cents(Fraction(km, 2))}%"): (
                mid2,
                *reach(km, 2 * kalshi_band(twin, m, km // 2), False),
            ),
            add(r, f"kraken:{p} bid above {Decimal(rb).scaleb(-pd)}"): (bid, *reach(rb, inc, True)),
            add(r, f"kraken:{p} ask below {Decimal(ra).scaleb(-pd)} every"): (ask, *reach(ra, inc, False)),
            add(r, f"kraken:{p} mid below {Decimal(rm).scaleb(-pd) / 2} once"): (
                mid2,
                *reach(rm, 2 * inc, False),
            ),
        }
        await drive(r, STEPS)
        for text, (value, cond, rearm) in rules.items():
            name = m if text.startswith("kalshi") else p
            want = expected(walk(r.log.books[name], value), cond, rearm, once=text.endswith("once"))
            if name == m:
                shown = [(ts, cents(Fraction(v, 2) if value is mid2 else v)) for ts, v in want]
            else:
                scale = Decimal(1).scaleb(-pd)
                shown = [
                    (ts, format((Decimal(v) / 2 if value is mid2 else Decimal(v)) * scale, "f"))
                    for ts, v in want
                ]
            assert len(want) >= 1, f"{text}: the truth never crossed"
            assert got(r, text) == shown, text
        for text in rules:
            if text.endswith("once"):
                assert len(r.of(text)) == 1 and parse(text).mode.value == "once"
                assert next(rule for rule in r.alerts.rules.values() if rule.text == text).done


@pytest.mark.asyncio
async def test_spread_and_imbalance_fire_where_the_truth_says() -> None:
    twin = twin_log()
    async with rig() as r:
        m = busiest(twin, list(r.sim.market.kalshi))
        p = busiest(twin, list(r.sim.market.kraken))
        ranges = r.sim.market.kalshi[m].listing.ranges
        inc = r.sim.market.kraken[p].pair.price_increment

        def kalshi_ticks(x: Point) -> Fraction | None:
            s = spread(x)
            return None if s is None else Fraction(s, tick_at(ranges, x.bids[0][0]))

        def kraken_ticks(x: Point) -> Fraction | None:
            s = spread(x)
            return None if s is None else Fraction(s, inc)

        ks = median_of([spread(x) for x in twin.books[m]])
        kt = int(median_of([kalshi_ticks(x) for x in twin.books[m]]))
        rt = int(median_of([kraken_ticks(x) for x in twin.books[p]]))
        ratio = Decimal(str(round(float(median_of([imbalance(3)(x) for x in twin.books[m]])), 2)))
        beyond = Decimal(str(round(float(max(ratio, 1 / ratio)) * 1.2, 2)))
        abs_band = max(step.step for step in ranges)  # a spread re-arms a usual tick back
        rules = {
            add(r, f"kalshi:{m} spread above {cents(ks)}c"): (spread, *wider(ks, abs_band), cents),
            add(r, f"kalshi:{m} spread above {kt} ticks"): (kalshi_ticks, *wider(kt, 1), str),
            add(r, f"kraken:{p} spread above {rt} ticks band 0"): (kraken_ticks, *wider(rt, 0), str),
            add(r, f"kalshi:{m} imbalance top 3 above {ratio}"): (
                imbalance(3),
                lambda v: v > Fraction(ratio),
                lambda v: v <= Fraction(ratio),
                ratio_text,
            ),
            add(r, f"kalshi:{m} imbalance top 3 beyond {beyond}"): (
                imbalance(3),
                lambda v: v > Fraction(beyond) or v < 1 / Fraction(beyond),
                lambda v: not (v > Fraction(beyond) or v < 1 / Fraction(beyond)),
                ratio_text,
            ),
        }
        await drive(r, STEPS)
        for text, (value, cond, rearm, show) in rules.items():
            name = m if text.startswith("kalshi") else p
            want = expected(walk(r.log.books[name], value), cond, rearm)
            assert len(want) >= 1, f"{text}: the truth never crossed"
            assert got(r, text) == [(ts, show(v)) for ts, v in want], text


def ratio_text(v: Fraction) -> str:
    if v.denominator == 1:
        return str(v.numerator)
    return plain((Decimal(v.numerator) / Decimal(v.denominator)).quantize(Decimal("0.0001")))


# ---------------------------------------------------------------------- trades


def kraken_price(r: Rig, p: str, units: int) -> str:
    return format(Decimal(units).scaleb(-r.sim.market.kraken[p].pair.price_precision), "f")


WINDOWS_S = ("0.05", "0.2", "1")  # the feed's pace is the wall clock's: one of them sees rises and falls


@pytest.mark.asyncio
async def test_last_volume_and_move_fire_on_the_trades_the_truth_lists() -> None:
    twin = twin_log()
    async with rig() as r:
        m = max(r.sim.market.kalshi, key=lambda n: len(twin.trades[n]))
        p = max(r.sim.market.kraken, key=lambda n: len(twin.trades[n]))
        start_last = r.sim.market.kraken[p].last  # the ticker's last before any trade: Kraken's baseline
        kl = median_of([t.price for t in twin.trades[m]])
        rl = median_of([t.price for t in twin.trades[p]])
        kv = Decimal(3 * median_of([t.size for t in twin.trades[m]])) / CONTRACT
        moves = [
            abs(Fraction(b.price - a.price, a.price)) * 100
            for a, b in zip(twin.trades[p], twin.trades[p][1:], strict=False)
        ]
        pct = Decimal(str(round(float(median_of([x for x in moves if x])) * 2, 4)))
        last_k = add(r, f"kalshi:{m} last above {cents(kl)}c")
        last_r = add(r, f"kraken:{p} last below {kraken_price(r, p, rl)}")
        volumes = {w: add(r, f"kalshi:{m} volume above {kv} in {w}s") for w in WINDOWS_S}
        move_rules = {w: add(r, f"kraken:{p} move {pct}% in {w}s") for w in WINDOWS_S}
        await drive(r, STEPS)
        k_trades, r_trades = r.log.trades[m], r.log.trades[p]
        # last: Kalshi's first trade is the baseline (no last before it); Kraken's is the ticker's.
        k_walk = [(t.ts_ms, t.price, i == 0) for i, t in enumerate(k_trades)]
        want = expected(k_walk, *reach(kl, kalshi_band(r.log, m, kl), True))
        assert len(want) >= 1
        assert got(r, last_k) == [(ts, cents(v)) for ts, v in want]
        ids = {(t.ts_ms, t.price): t.trade_id for t in k_trades}
        assert [f.trade_id for f in r.of(last_k)] == [ids[w] for w in want]
        inc = r.sim.market.kraken[p].pair.price_increment
        r_walk = [(None, start_last, True)] + [(t.ts_ms, t.price, False) for t in r_trades]
        want = expected(r_walk, *reach(rl, inc, False))
        assert len(want) >= 1
        assert got(r, last_r) == [(ts, kraken_price(r, p, v)) for ts, v in want]
        level = Fraction(kv) * CONTRACT
        fired = 0
        for w, text in volumes.items():
            # The window (ts - T, ts] just before each trade (time has passed), then with it.
            window_ms = float(w) * 1000
            walk_v: list[tuple[int | None, Any, bool]] = []
            for i, t in enumerate(k_trades):
                before = sum(u.size for u in k_trades[:i] if u.ts_ms > t.ts_ms - window_ms)
                walk_v += [(t.ts_ms, before, False), (t.ts_ms, before + t.size, False)]
            want = expected(walk_v, lambda v: v > level, lambda v: v <= level)
            assert got(r, text) == [(ts, plain(Decimal(v) / CONTRACT)) for ts, v in want], text
            fired += len(want)
        assert fired >= 2

        def moved(price: int | None, window: list[TradeRow]) -> Fraction:
            if price is None or not window:
                return Fraction(0)
            low, high = min(u.price for u in window), max(u.price for u in window)
            return max(Fraction(price - low, low), Fraction(high - price, high)) * 100

        fired = 0
        for w, text in move_rules.items():
            # The price against the window's lowest and highest, before and with each trade.
            window_ms = float(w) * 1000
            walk_m: list[tuple[int | None, Any, bool]] = []
            for i, t in enumerate(r_trades):
                window = [u for u in r_trades[:i] if u.ts_ms > t.ts_ms - window_ms]
                previous = r_trades[i - 1].price if i else None
                walk_m += [
                    (t.ts_ms, moved(previous, window), False),
                    (t.ts_ms, moved(t.price, [*window, t]), False),
                ]
            want = expected(walk_m, lambda v: v > Fraction(pct), lambda v: v <= Fraction(pct))
            two = Decimal("0.0001")
            assert got(r, text) == [
                (ts, plain((Decimal(v.numerator) / Decimal(v.denominator)).quantize(two))) for ts, v in want
            ], text
            fired += len(want)
        assert fired >= 2


# ---------------------------------------------------------------------- reconnects and resyncs


async def reconnect(r: Rig, venue: str) -> None:
    """Drop every connection of ``venue`` at the server, wait until its books are back and equal."""
    sim_venue = r.sim.kalshi if venue == "kalshi" else r.sim.kraken
    link = r.kalshi if venue == "kalshi" else r.kraken
    before = link.connects
    for conn in list(sim_venue.conns.values()):
        conn.outbox.abort("test: forced reconnect")
    deadline = time.monotonic() + 20
    while link.connects == before or truth_check.flags(r.engine):
        assert time.monotonic() < deadline, truth_check.flags(r.engine)
        await asyncio.sleep(0.02)
    await settle(r)
    r.log.rebase()


@pytest.mark.asyncio
async def test_reconnects_and_resyncs_never_fire_again() -> None:
    """Rules that fired and are still true survive forced reconnects without a second firing; an
    ``initial`` rule fires on a snapshot only if it was armed; the walk with the reconnects' baselines in
    it is exactly what fired."""
    twin = twin_log()
    async with rig() as r:
        m = busiest(twin, list(r.sim.market.kalshi))
        p = busiest(twin, list(r.sim.market.kraken))
        inc = r.sim.market.kraken[p].pair.price_increment
        pd = r.sim.market.kraken[p].pair.price_precision
        kb = median_of([bid(x) for x in twin.books[m]])
        ra = median_of([ask(x) for x in twin.books[p]])
        k_every = add(r, f"kalshi:{m} bid above {cents(kb)}c")
        k_once = add(r, f"kalshi:{m} bid above {cents(kb)}c once")
        k_initial = add(r, f"kalshi:{m} bid below {cents(kb)}c initial")
        r_every = add(r, f"kraken:{p} ask below {Decimal(ra).scaleb(-pd)}")
        band = kalshi_band(twin, m, kb)
        for _ in range(4):
            # Step until both rules' conditions hold (each has fired or is about to), then reconnect.
            for _ in range(STEPS):
                r.sim.step(1)
                kp, rp = r.log.books[m][-1], r.log.books[p][-1]
                if bid(kp) is not None and bid(kp) >= kb and ask(rp) is not None and ask(rp) <= ra:  # type: ignore[operator]
                    break
            await settle(r)
            fired = len(r.fired)
            await reconnect(r, "kalshi")
            await reconnect(r, "kraken")
            new = [f for f in r.fired[fired:] if f.rule.text != k_initial]
            assert new == [], [f.line() for f in new]
            await drive(r, 300)
        assert r.kalshi.reconnects >= 4 and r.kraken.reconnects >= 4
        want = expected(walk(r.log.books[m], bid), *reach(kb, band, True))
        assert len(want) >= 2 and got(r, k_every) == [(ts, cents(v)) for ts, v in want]
        assert got(r, k_once) == [(ts, cents(v)) for ts, v in want[:1]]
        want = expected(walk(r.log.books[m], bid), *reach(kb, band, False), initial=True)
        assert got(r, k_initial) == [(ts, cents(v)) for ts, v in want]
        want = expected(walk(r.log.books[p], ask), *reach(ra, inc, False))
        assert got(r, r_every) == [(ts, format(Decimal(v).scaleb(-pd), "f")) for ts, v in want]


@pytest.mark.asyncio
async def test_a_resync_after_a_sequence_gap_is_a_baseline() -> None:
    """Kalshi frames lost (a seq gap): the book goes stale, is re-snapshotted, and that snapshot fires
    nothing; every firing is one the truth's walk (with the snapshot as a baseline) has."""
    twin = twin_log()
    async with rig() as r:
        m = busiest(twin, list(r.sim.market.kalshi))
        kb = median_of([bid(x) for x in twin.books[m]])
        text = add(r, f"kalshi:{m} bid above {cents(kb)}c")
        points = r.log.books[m]
        delta_steps: deque[int] = deque(maxlen=2)  # len(points) before each of the last two delta steps
        conn_health = r.engine.store.health_of(Venue.KALSHI, Feed.CONNECTION)
        gaps = 0
        r.sim.set_faults([FaultSpec.parse("skip-seq:every=40,venue=kalshi")])
        for _ in range(1500):
            before = len(points)
            touched = sum(len(r.log.books[k]) for k in r.sim.market.kalshi)
            r.sim.step(1)
            if sum(len(r.log.books[k]) for k in r.sim.market.kalshi) > touched:
                delta_steps.append(before)
            # A marker frame after the step: once the client counts it, it has read everything before it.
            seen = conn_health.malformed
            r.sim.inject("kalshi", "marker")
            while conn_health.malformed == seen:
                await asyncio.sleep(0.001)
            book = r.engine.store.books[Venue.KALSHI].get(m)
            if book is not None and book.stale:
                # The gap: the lost delta was the sid's previous one, and this step's was applied to a
                # stale book; the client saw neither. Once repaired, the snapshot is a baseline.
                gaps += 1
                del points[delta_steps[0] :]
                r.sim.set_faults([])
                await settle(r)
                r.log.rebase()
                r.sim.set_faults([FaultSpec.parse("skip-seq:every=40,venue=kalshi")])
        r.sim.set_faults([])
        await settle(r)
        assert gaps >= 3 and r.engine.store.health_of(Venue.KALSHI, Feed.BOOK).gaps >= gaps
        want = expected(walk(r.log.books[m], bid), *reach(kb, kalshi_band(twin, m, kb), True))
        assert len(want) >= 1
        assert got(r, text) == [(ts, cents(v)) for ts, v in want]


# ---------------------------------------------------------------------- feeds, fills, positions, lifecycle


@pytest.mark.asyncio
async def test_down_and_stale_fire_once_per_outage_and_come_back() -> None:
    async with rig() as r:
        p = next(iter(r.sim.market.kraken))
        down = add(r, "kraken down")
        market_stale = add(r, f"kraken:{p} stale 0.6")
        venue_stale = add(r, "kraken stale 0.6")
        kalshi_down = add(r, "kalshi down 30")  # never down that long: never fires
        r.sim.options.rate = 600.0  # data flows, so only an outage is stale
        await asyncio.sleep(0.5)
        for _ in range(3):
            await reconnect(r, "kraken")
            await asyncio.sleep(0.5)
        r.sim.set_faults([FaultSpec.parse("stall:every=1.5,seconds=1.2,venue=kraken")])
        deadline = time.monotonic() + 10
        while r.sim.faults.count("stall", "kraken") < 2 and time.monotonic() < deadline:
            r.alerts.tick()
            await asyncio.sleep(0.05)
        for _ in range(26):  # the second stall runs its 1.2 s; the third would begin at 1.5 s
            r.alerts.tick()
            await asyncio.sleep(0.05)
        r.sim.set_faults([])  # ends a stall under way: one begun in the last 0.6 s never turns stale
        off = time.time()
        for _ in range(20):
            r.alerts.tick()
            await asyncio.sleep(0.05)
        r.sim.options.rate = 0.0
        await settle(r)
        stall_times = [f.ts for f in r.sim.faults.log if f.kind == "stall" and f.venue == "kraken"]
        stalls = len(stall_times)
        full = sum(1 for ts in stall_times if ts <= off - 0.9)  # lasted past the 0.6 s threshold and a tick
        assert [f.state for f in r.of(down)] == ["down", "back"] * 3
        assert [f.market for f in r.of(down)] == ["kraken"] * 6
        # Each stall and each forced reconnect is one outage of the pair's data: stale, then back.
        for text in (market_stale, venue_stale):
            states = [f.state for f in r.of(text)]
            assert states == ["stale", "back"] * (len(states) // 2), states
            assert full <= len(states) // 2 <= stalls + 3, (full, stalls, states)
        assert r.of(kalshi_down) == []


@pytest.mark.asyncio
async def test_every_fill_fires_once_through_dropped_connections() -> None:
    async with rig(private=True) as r:
        k_fill, r_fill, any_fill = add(r, "kalshi fill"), add(r, "kraken fill"), add(r, "* fill")
        m = next(iter(r.sim.market.kalshi))
        one = add(r, f"kalshi:{m} fill once")
        r.sim.options.rate = 800.0
        r.sim.set_faults([FaultSpec.parse("drop:every=0.8")])
        await asyncio.sleep(3.0)
        r.sim.set_faults([])
        r.sim.options.rate = 0.0
        deadline = time.monotonic() + 20
        while not (
            truth_check.check_fills(r.sim, r.engine.store, Venue.KALSHI).ok
            and truth_check.check_fills(r.sim, r.engine.store, Venue.KRAKEN).ok
        ):
            assert time.monotonic() < deadline
            await asyncio.sleep(0.1)
        await settle(r)
        assert r.sim.faults.count("drop") >= 2
        kalshi_ids = [f.trade_id for f in r.of(k_fill)]
        kraken_ids = [f.trade_id for f in r.of(r_fill)]
        assert sorted(kalshi_ids) == sorted(truth_check.truth_fills(r.sim, Venue.KALSHI)) and kalshi_ids
        assert sorted(kraken_ids) == sorted(truth_check.truth_fills(r.sim, Venue.KRAKEN)) and kraken_ids
        assert sorted(f.trade_id or "" for f in r.of(any_fill)) == sorted(kalshi_ids + kraken_ids)
        first = next(f for f in r.sim.market.kalshi_fills if f.market == m)
        assert [f.trade_id for f in r.of(one)] == [first.trade_id]
        by_id = {f.trade_id: f for f in r.sim.market.kalshi_fills}
        for f in r.of(k_fill):
            assert (
                f.value == cents(by_id[f.trade_id or ""].yes_price)
                and f.market == f"kalshi:{by_id[f.trade_id or ''].market}"
            )


@pytest.mark.asyncio
async def test_position_changes_fire_as_the_account_moves() -> None:
    async with rig(private=True) as r:
        text = add(r, "kalshi position")
        await drive(r, STEPS)
        want: list[tuple[str, str]] = []
        for market, values in r.log.positions.items():
            # The first position a market reports is where it stands (a baseline); then each change.
            want += [
                (f"kalshi:{market}", plain(Decimal(b) / CONTRACT))
                for a, b in itertools.pairwise(values)
                if a != b
            ]
        have = [(f.market, f.value) for f in r.of(text)]
        assert len(want) >= 3 and sorted(have) == sorted(want)


LIFECYCLE_STATUS = {
    "deactivated": "paused",
    "activated": "open",
    "close_date_updated": "closed",
    "determined": "determined",
    "settled": "settled",
}


@pytest.mark.asyncio
async def test_lifecycle_changes_fire_as_the_simulator_logs_them() -> None:
    async with rig(lifecycle_share=0.05) as r:
        watched = list(r.sim.market.kalshi)[:N_KALSHI]
        every = add(r, "kalshi:* status")
        ended = add(r, "kalshi status closed,settled")
        await drive(r, 2500)
        want = [
            (f"kalshi:{m}", LIFECYCLE_STATUS[e])
            for m in watched
            for e in r.log.lifecycle[m]
            if e in LIFECYCLE_STATUS
        ]
        have = [(f.market, f.value) for f in r.of(every)]
        assert len(want) >= 3
        assert sorted(have) == sorted(want)
        for m in watched:  # in order per market
            assert [v for k, v in have if k == f"kalshi:{m}"] == [v for k, v in want if k == f"kalshi:{m}"]
        every_market = [
            (f"kalshi:{m}", LIFECYCLE_STATUS[e])
            for m, events in r.log.lifecycle.items()
            for e in events
            if LIFECYCLE_STATUS.get(e) in ("closed", "settled")
        ]
        assert sorted((f.market, f.value) for f in r.of(ended)) == sorted(every_market)

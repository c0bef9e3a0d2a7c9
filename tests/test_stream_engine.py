"""The stream engine against the real simulator over real sockets.

Each scenario runs the simulator for a few seconds (optionally with one fault), lets the market freeze,
switches the faults off, waits for both links to settle and then checks the engine's store against the
simulator's ground truth: every watched book equal and live, every fill held exactly once, and the
recovery counters agreeing with what the simulator logged.
"""

from __future__ import annotations

import asyncio
import base64
import os
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from decimal import Decimal

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from app.cli.bench import truth
from app.core.book import OrderBook
from app.core.events import (
    BookChange,
    BookSnapshot,
    Fill,
    Malformed,
    SequenceGap,
    TakerSide,
    Ticker,
    Trade,
    Unknown,
)
from app.core.instruments import Venue
from app.core.store import TAPE_LIMIT, MarketStore
from app.sim.faults import FaultSpec
from app.sim.server import SimOptions, Simulator
from app.stream.connection import InsecureURLError, check_url
from app.stream.engine import StreamEngine
from app.stream.kalshi_link import KalshiCredentials, KalshiLink
from app.stream.kraken_link import KrakenCredentials, KrakenLink
from app.stream.state import ConnState

DEPTH = 10
SYMBOLS = ("BTC/USD", "ETH/USD", "DOGE/USD")
SETTLE_S = 25.0
POLL_S = 0.1


def kalshi_credentials() -> KalshiCredentials:
    return KalshiCredentials("engine-test-key", ed25519.Ed25519PrivateKey.generate())


def kraken_credentials() -> KrakenCredentials:
    return KrakenCredentials("engine-test-key", base64.b64encode(os.urandom(64)).decode())


@dataclass
class Rig:
    sim: Simulator
    engine: StreamEngine
    kalshi: KalshiLink
    kraken: KrakenLink


@asynccontextmanager
async def rig(
    *,
    faults: Sequence[str] = (),
    rate: float = 1000.0,
    duration: float = 2.5,
    seed: int = 11,
    n_markets: int = 8,
    symbols: Sequence[str] = SYMBOLS,
    kalshi_retry_s: float | None = None,
    unlisted_kalshi: Sequence[str] = (),
) -> AsyncIterator[Rig]:
    options = SimOptions(seed=seed, rate=rate, duration=duration, faults=[FaultSpec.parse(f) for f in faults])
    async with Simulator(options) as sim:
        engine = StreamEngine()
        markets = list(sim.market.kalshi)[:n_markets]
        markets[1:1] = unlisted_kalshi  # among the good ones, as an imported watchlist would have it
        kalshi = KalshiLink(
            sim.urls["kalshi_ws"],
            sim.urls["kalshi_rest"],
            engine.store,
            markets,
            credentials=kalshi_credentials(),
        )
        if kalshi_retry_s is not None:
            kalshi.rejected_retry_s = kalshi_retry_s
        kraken = KrakenLink(
            sim.urls["kraken_ws"],
            sim.urls["kraken_rest"],
            engine.store,
            list(symbols),
            depth=DEPTH,
            credentials=kraken_credentials(),
        )
        engine.add(kalshi)
        engine.add(kraken)
        engine.start()
        try:
            yield Rig(sim, engine, kalshi, kraken)
        finally:
            await engine.stop()


# ---------------------------------------------------------------------- comparisons with the truth


def wrong_books(r: Rig) -> dict[str, str]:
    """Watched markets whose book is missing, stale or different from the simulator's; empty if none."""
    return truth.wrong_books(r.sim, r.engine, DEPTH)


def fills_of(store: MarketStore, venue: Venue) -> list[str]:
    return truth.held_fills(store, venue)


def kalshi_truth_fills(sim: Simulator) -> set[str]:
    return truth.truth_fills(sim, Venue.KALSHI)


def kraken_truth_fills(sim: Simulator) -> set[str]:
    return truth.truth_fills(sim, Venue.KRAKEN)


def settled(r: Rig) -> bool:
    store = r.engine.store
    return (
        all(link.state is ConnState.LIVE for link in r.engine.links)
        and r.sim.pending_frames() == 0
        and not wrong_books(r)
        and set(fills_of(store, Venue.KALSHI)) == kalshi_truth_fills(r.sim)
        and set(fills_of(store, Venue.KRAKEN)) == kraken_truth_fills(r.sim)
    )


async def freeze_and_settle(r: Rig, fault_kinds: Sequence[str] = (), timeout: float = SETTLE_S) -> float:
    """Wait for the market to freeze and every fault to have fired once, switch the faults off, then
    wait until the engine has caught up. Returns the seconds it took after the faults went off."""
    await asyncio.wait_for(r.sim.frozen.wait(), 15)
    deadline = time.monotonic() + 10
    while any(r.sim.faults.count(kind) == 0 for kind in fault_kinds) and time.monotonic() < deadline:
        await asyncio.sleep(POLL_S)
    for kind in fault_kinds:
        assert r.sim.faults.count(kind) >= 1, f"fault {kind} never fired"
    r.sim.faults.set([])
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if settled(r):
            break
        await asyncio.sleep(POLL_S)
    await asyncio.sleep(0.3)  # anything still in flight (a late duplicate, a late gap) lands now
    return time.monotonic() - start


def assert_converged(r: Rig) -> None:
    store = r.engine.store
    status = r.engine.status()
    for link in r.engine.links:
        assert link.state is ConnState.LIVE, status
        states = [t.state for t in link.transitions]
        last_connecting = max(i for i, s in enumerate(states) if s is ConnState.CONNECTING)
        assert ConnState.LIVE in states[last_connecting:], status
    assert r.sim.pending_frames() == 0
    assert wrong_books(r) == {}
    for market in r.kalshi.markets:
        report = store.report(Venue.KALSHI, market)
        assert report["stale"] is False and report["crossed"] is False

    kalshi_fills = fills_of(store, Venue.KALSHI)
    truth = kalshi_truth_fills(r.sim)
    assert truth, "the simulator made no Kalshi fills: the scenario checks nothing"
    assert set(kalshi_fills) == truth
    assert len(kalshi_fills) == len(truth)
    kraken_fills = fills_of(store, Venue.KRAKEN)
    ktruth = kraken_truth_fills(r.sim)
    assert ktruth, "the simulator made no Kraken executions: the scenario checks nothing"
    assert set(kraken_fills) == ktruth
    assert len(kraken_fills) == len(ktruth)


def health(store: MarketStore, venue: Venue, attr: str, kind: str | None = None) -> int:
    """A health counter for one kind, or summed over every kind of the venue."""
    if kind is not None:
        return int(getattr(store.health_of(venue, kind), attr))
    return sum(int(getattr(h, attr)) for (v, _), h in store.health.items() if v is venue)


async def probe_sequenced_sids(link: KalshiLink) -> None:
    await link.send(link.commands.subscribe(["orderbook_delta", "trade"], link.markets), expect_ack=True)
    await link.send(link.commands.subscribe(["market_lifecycle_v2"], None), expect_ack=True)


# ---------------------------------------------------------------------- 1. convergence under faults


@pytest.mark.asyncio
async def test_engine_without_faults_matches_the_truth() -> None:
    async with rig() as r:
        await asyncio.wait_for(r.engine.wait_live(), 10)
        await freeze_and_settle(r)
        assert_converged(r)
        store = r.engine.store
        for link in (r.kalshi, r.kraken):
            assert link.connects == 1 and link.reconnects == 0
            assert link.frames > 100
        for counter in ("gaps", "checksum_failures", "resyncs", "reconnects", "malformed", "unknown"):
            assert health(store, Venue.KALSHI, counter) == 0, counter
            assert health(store, Venue.KRAKEN, counter) == 0, counter
        assert r.kalshi.fill_catchups == 1
        assert r.kraken.tokens_fetched == 1
        assert not r.kraken.unverified
        status = r.engine.status()
        assert status["kalshi"]["state"] == "live" and status["kraken"]["state"] == "live"
        assert status["kraken"]["checksum_unverified"] == []


FAULT_CASES = [
    "drop:every=1.5",
    "skip-seq:every=40,venue=kalshi",
    "bad-checksum:every=25,venue=kraken",
    "malformed:every=30",
    "non-json:every=30",
    "unknown-type:every=30",
    "stall:every=1.2,seconds=0.5",
    "stall:every=2,seconds=11,venue=kraken",
    "refuse:status=503,count=1",
    "throttle:rate=3000",
    "burst:size=1500,every=0.7",
]
# Kraken's executions snapshot holds only the last 50: a venue refused for 5 s must not miss more.
RATES = {"refuse:status=503,count=1": 500.0}


@pytest.mark.asyncio
@pytest.mark.parametrize("fault", FAULT_CASES)
async def test_engine_recovers_from_fault(fault: str) -> None:
    spec = FaultSpec.parse(fault)
    async with rig(faults=[fault], rate=RATES.get(fault, 1000.0)) as r:
        await freeze_and_settle(r, [spec.kind])
        assert_converged(r)
        sim, store = r.sim, r.engine.store
        links = {"kalshi": r.kalshi, "kraken": r.kraken}
        venues = {"kalshi": Venue.KALSHI, "kraken": Venue.KRAKEN}
        for name, link in links.items():
            # the store's connection health counts exactly the link's reconnects
            assert health(store, venues[name], "reconnects", "connection") == link.reconnects

        if spec.kind == "drop":
            for name, link in links.items():
                dropped = sim.faults.count("drop", name)
                assert dropped >= 1
                assert link.reconnects >= dropped
                assert link.connects == link.reconnects + 1
        elif spec.kind == "skip-seq":
            skipped = sim.faults.count("skip-seq", "kalshi")
            assert skipped >= 3
            # A lost last frame on a trade or lifecycle sid only shows when that sid next gets a seq:
            # re-subscribe each sequenced channel (an idempotent `ok` uses up a seq), as the link's own
            # quiet probe does for the book.
            await probe_sequenced_sids(r.kalshi)
            deadline = time.monotonic() + 3
            while health(store, Venue.KALSHI, "gaps") < skipped and time.monotonic() < deadline:
                await asyncio.sleep(POLL_S)
            # every lost frame shows as exactly one gap (book, trade or lifecycle sid)
            assert health(store, Venue.KALSHI, "gaps") == skipped, store.health_report()
            assert health(store, Venue.KALSHI, "gaps", "book") >= 1
            assert health(store, Venue.KALSHI, "resyncs", "book") >= 1
            assert health(store, Venue.KRAKEN, "gaps") == 0
            assert r.kalshi.connects == 1  # repaired in place, no reconnect
        elif spec.kind == "bad-checksum":
            bad = sim.faults.count("bad-checksum", "kraken")
            assert bad >= 3
            failures = health(store, Venue.KRAKEN, "checksum_failures", "book")
            # A symbol awaiting its resync snapshot is not checked (its book is already known bad), so
            # a second bad checksum inside that window is not counted again.
            assert 1 <= failures <= bad
            assert health(store, Venue.KRAKEN, "resyncs", "book") >= failures
            assert sum(r.kraken.session.checksum_failed.values()) == failures
            assert sum(r.kraken.session.checksum_ok.values()) > 10 * failures
            assert r.kraken.connects == 1
            assert not r.kraken.unverified
        elif spec.kind in ("malformed", "non-json", "unknown-type"):
            attr = "unknown" if spec.kind == "unknown-type" else "malformed"
            for name, link in links.items():
                injected = sim.faults.count(spec.kind, name)
                assert injected >= 3
                assert health(store, venues[name], attr, "connection") == injected
                other = "malformed" if attr == "unknown" else "unknown"
                assert health(store, venues[name], other) == 0
                assert link.connects == 1
        elif fault == "stall:every=1.2,seconds=0.5":
            for name, link in links.items():
                assert sim.faults.count("stall", name) >= 1
                assert link.connects == 1, "a short stall must not cost a reconnect"
        elif spec.kind == "stall":  # 11 s on Kraken: the idle watchdog must reconnect
            assert sim.faults.count("stall", "kraken") >= 1
            assert sim.faults.count("stall", "kalshi") == 0
            assert r.kraken.reconnects >= 1
            assert any("no data for" in t.reason for t in r.kraken.transitions)
            assert r.kalshi.connects == 1
            assert r.kraken.tokens_fetched == r.kraken.connects  # a fresh token for every connect
        elif spec.kind == "refuse":
            assert sim.faults.count("refuse") == 1
            refused = [name for name in links if sim.faults.count("refuse", name)]
            assert len(refused) == 1
            link = links[refused[0]]
            assert link.reconnects >= 1
            assert any("HTTP 503" in t.reason for t in link.transitions)
            assert not any(t.state is ConnState.CREDENTIALS_REJECTED for t in link.transitions)
        elif spec.kind == "throttle":
            for name, link in links.items():
                assert sim.faults.count("throttle", name) >= 1
                assert link.connects == 1
        elif spec.kind == "burst":
            assert sim.faults.count("burst") >= 2
            for link in links.values():
                assert link.connects == 1
        else:  # pragma: no cover - a new case must say what it checks
            pytest.fail(f"no checks for {fault}")


# ---------------------------------------------------------------------- 2. credentials rejected


@pytest.mark.asyncio
async def test_rejected_credentials_wait_before_retrying() -> None:
    async with rig(faults=["refuse:status=401,count=1,venue=kalshi"], duration=1.5) as r:
        await asyncio.wait_for(r.kraken.reached_live.wait(), 10)
        deadline = time.monotonic() + 5
        while r.kalshi.state is not ConnState.CREDENTIALS_REJECTED and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        assert r.kalshi.state is ConnState.CREDENTIALS_REJECTED
        assert "401" in r.kalshi.transitions[-1].reason
        await asyncio.sleep(3.0)
        assert r.sim.kalshi.handshakes == 1  # no hammering with rejected credentials
        assert r.kalshi.state is ConnState.CREDENTIALS_REJECTED
        assert not r.kalshi.reached_live.is_set()
        assert r.kalshi.connects == 1
        assert r.engine.status()["kalshi"]["state"] == "credentials-rejected"
        assert r.kraken.state is ConnState.LIVE  # the other venue is unaffected


@pytest.mark.asyncio
async def test_rejected_credentials_retry_when_asked_to() -> None:
    async with rig(faults=["refuse:status=401,count=1,venue=kalshi"], duration=1.5, kalshi_retry_s=0.2) as r:
        await asyncio.wait_for(r.engine.wait_live(), 10)
        states = [t.state for t in r.kalshi.transitions]
        rejected = states.index(ConnState.CREDENTIALS_REJECTED)
        assert ConnState.LIVE in states[rejected:]
        assert "401" in r.kalshi.transitions[rejected].reason
        assert r.sim.kalshi.handshakes == 2
        assert r.kalshi.connects == 2 and r.kalshi.reconnects == 1
        await freeze_and_settle(r)
        assert_converged(r)


# ---------------------------------------------------------------------- 3. watchlist edits


def kalshi_sub_markets(sim: Simulator) -> dict[str, set[str] | None]:
    (conn,) = sim.kalshi.conns.values()
    return {s.channel: None if s.markets is None else set(s.markets) for s in conn.subs.values()}


def kraken_sub_symbols(sim: Simulator) -> dict[str, set[str]]:
    (conn,) = sim.kraken.conns.values()
    out: dict[str, set[str]] = {}
    for channel, symbol in conn.subs:
        if symbol is not None:
            out.setdefault(channel, set()).add(symbol)
    return out


@pytest.mark.asyncio
async def test_watchlist_edits_without_reconnecting() -> None:
    async with rig(n_markets=4, symbols=["BTC/USD", "ETH/USD"], duration=2.5) as r:
        await asyncio.wait_for(r.engine.wait_live(), 10)
        everything = list(r.sim.market.kalshi)
        assert {"DOGE/USD", "SOL/USD"} <= set(r.sim.market.kraken)
        # While the market runs: markets added to a live subscription get snapshots, then deltas.
        assert await r.engine.watch(Venue.KALSHI, everything[:7]) == (everything[4:7], [])
        assert await r.engine.watch(Venue.KRAKEN, ["BTC/USD", "ETH/USD", "DOGE/USD"]) == (["DOGE/USD"], [])
        await freeze_and_settle(r)
        assert wrong_books(r) == {}
        assert kalshi_sub_markets(r.sim)["orderbook_delta"] == set(everything[:7])
        assert kraken_sub_symbols(r.sim)["book"] == {"BTC/USD", "ETH/USD", "DOGE/USD"}

        # Then add and remove at once (no frames in flight: removal races are a separate test).
        new_k = [*everything[2:6], everything[8]]
        new_x = ["ETH/USD", "DOGE/USD", "SOL/USD"]
        added, removed = await r.engine.watch(Venue.KALSHI, new_k)
        assert added == [everything[8]] and removed == [*everything[:2], everything[6]]
        added, removed = await r.engine.watch(Venue.KRAKEN, new_x)
        assert added == ["SOL/USD"] and removed == ["BTC/USD"]
        assert r.kalshi.markets == new_k and r.kraken.markets == new_x
        await freeze_and_settle(r)

        store = r.engine.store
        assert r.kalshi.connects == 1 and r.kraken.connects == 1
        assert r.sim.kalshi.handshakes == 1 and r.sim.kraken.handshakes == 1
        assert wrong_books(r) == {}  # every watched book (old and new) equals the truth, live
        subs = kalshi_sub_markets(r.sim)
        for channel in ("orderbook_delta", "ticker", "trade"):
            assert subs[channel] == set(new_k), channel
        xsubs = kraken_sub_symbols(r.sim)
        for channel in ("book", "ticker", "trade"):
            assert xsubs[channel] == set(new_x), channel
        assert set(store.books[Venue.KALSHI]) == set(new_k)
        assert set(store.books[Venue.KRAKEN]) == set(new_x)


@pytest.mark.asyncio
async def test_a_market_the_venue_does_not_list_is_refused_alone() -> None:
    """Issue 19 item 1: Kalshi refuses a whole subscribe that names an unknown ticker, and Kraken each
    unknown pair: the unknown market is set aside with the venue's words and every other market streams,
    at connect and when added to a live subscription."""
    symbols = ["BTC/USD", "DOGE/XYZ", "ETH/USD"]
    async with rig(n_markets=3, symbols=symbols, unlisted_kalshi=["NOT-A-MARKET"], duration=3) as r:
        await asyncio.wait_for(r.engine.wait_live(), 10)
        everything = list(r.sim.market.kalshi)
        await r.engine.watch(Venue.KALSHI, [*r.kalshi.markets, "ALSO-NOT-LISTED", everything[5]])
        await r.engine.watch(Venue.KRAKEN, [*symbols, "NOPE/USD", "SOL/USD"])
        await freeze_and_settle(r)
        assert wrong_books(r) == {}  # every listed market live and equal to the truth
        assert set(r.kalshi.refused) == {"NOT-A-MARKET", "ALSO-NOT-LISTED"}
        assert "Invalid parameter" in r.kalshi.refused["NOT-A-MARKET"]
        assert set(r.kraken.refused) == {"DOGE/XYZ", "NOPE/USD"}
        assert "Currency pair not supported" in r.kraken.refused["DOGE/XYZ"]
        assert set(r.kalshi.streamed) == {*everything[:3], everything[5]}
        assert kalshi_sub_markets(r.sim)["orderbook_delta"] == set(r.kalshi.streamed)
        assert kraken_sub_symbols(r.sim)["book"] == {"BTC/USD", "ETH/USD", "SOL/USD"}
        for link in r.engine.links:  # wanted and acknowledged agree once the refused are set aside
            assert all(e["in_sync"] for e in link.registry().values()), link.registry()
            assert link.unsynced() == []
        assert not r.engine.store.books[Venue.KALSHI].get("NOT-A-MARKET")
        # Removed and added again, a refused market is tried again (and refused again).
        await r.engine.watch(Venue.KALSHI, everything[:3])
        assert "NOT-A-MARKET" not in r.kalshi.refused
        await r.engine.watch(Venue.KALSHI, [*everything[:3], "NOT-A-MARKET"])
        deadline = time.monotonic() + 5
        while "NOT-A-MARKET" not in r.kalshi.refused and time.monotonic() < deadline:
            await asyncio.sleep(POLL_S)
        assert "NOT-A-MARKET" in r.kalshi.refused


async def stall_then_edit(r: Rig, venue: str) -> str:
    """Hold the venue's frames (a stall fault) so deltas for a market are queued when it is removed;
    returns that market."""
    r.sim.faults.set([FaultSpec.parse(f"stall:every=0.05,seconds=0.8,venue={venue}")])
    deadline = time.monotonic() + 3
    while r.sim.faults.count("stall", venue) == 0 and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    r.sim.faults.set([])  # the stall under way continues
    await asyncio.sleep(0.4)  # book frames pile up in the simulator's send queue
    if venue == "kalshi":
        gone = r.kalshi.markets[0]
        (conn,) = r.sim.kalshi.conns.values()
        queued = [f for f in conn.outbox.queue if "orderbook_delta" in f and gone in f]
        assert queued, "no book frames queued for the market to remove"
        await r.engine.watch(Venue.KALSHI, r.kalshi.markets[1:])
    else:
        gone = r.kraken.markets[0]
        (xconn,) = r.sim.kraken.conns.values()
        queued = [f for f in xconn.outbox.queue if '"channel":"book"' in f and gone in f]
        assert queued, "no book frames queued for the symbol to remove"
        await r.engine.watch(Venue.KRAKEN, r.kraken.markets[1:])
    assert gone not in r.engine.store.books[Venue.KALSHI if venue == "kalshi" else Venue.KRAKEN]
    return gone


@pytest.mark.asyncio
async def test_kalshi_removed_market_stays_removed_with_deltas_in_flight() -> None:
    async with rig(n_markets=6, duration=2.0) as r:
        await asyncio.wait_for(r.engine.wait_live(), 10)
        await asyncio.sleep(0.3)
        gone = await stall_then_edit(r, "kalshi")
        await freeze_and_settle(r)
        assert kalshi_sub_markets(r.sim)["orderbook_delta"] == set(r.kalshi.markets)
        assert wrong_books(r) == {}
        assert r.kalshi.connects == 1
        book = r.engine.store.books[Venue.KALSHI].get(gone)
        assert book is None, f"removed market is back: stale={book.stale}"


@pytest.mark.asyncio
async def test_kraken_removed_symbol_stays_removed_with_updates_in_flight() -> None:
    async with rig(n_markets=4, duration=2.0) as r:
        await asyncio.wait_for(r.engine.wait_live(), 10)
        await asyncio.sleep(0.3)
        gone = await stall_then_edit(r, "kraken")
        await freeze_and_settle(r)
        assert wrong_books(r) == {}
        assert r.kraken.connects == 1
        assert kraken_sub_symbols(r.sim)["book"] == set(r.kraken.markets)
        assert gone not in r.engine.store.books[Venue.KRAKEN]


# ---------------------------------------------------------------------- 4. the market store


def _fill(fill_id: str, venue: Venue = Venue.KALSHI) -> Fill:
    return Fill(venue, "MKT", fill_id, "order-1", Decimal("0.42"), Decimal("3"), TakerSide.BUY, ts_ms=1)


def test_store_take_changes_returns_each_change_once() -> None:
    store = MarketStore()
    key = (Venue.KRAKEN, "BTC/USD")
    store.apply(Venue.KRAKEN, [Ticker(Venue.KRAKEN, "BTC/USD", bid=Decimal("100"), ask=Decimal("101"))])
    store.apply(Venue.KRAKEN, [BookChange(Venue.KRAKEN, "ETH/USD", [(1, 1)], [], additive=False)])
    assert store.take_changes() == {key, (Venue.KRAKEN, "ETH/USD")}
    assert store.take_changes() == set()
    store.apply(Venue.KRAKEN, [Ticker(Venue.KRAKEN, "BTC/USD", bid=Decimal("99"))])
    assert store.take_changes() == {key}
    state = store.markets[key]
    assert state.bid == Decimal("99") and state.ask == Decimal("101")  # None fields keep the old value
    assert store.health_of(Venue.KRAKEN, "ticker").messages == 2
    assert store.health_of(Venue.KRAKEN, "book").messages == 1


def test_store_tape_is_capped() -> None:
    store = MarketStore()
    n = TAPE_LIMIT + 25
    trades = [
        Trade(Venue.KALSHI, "MKT", f"t{i}", Decimal("0.5"), Decimal(i + 1), TakerSide.SELL) for i in range(n)
    ]
    store.apply(Venue.KALSHI, trades)
    state = store.markets[(Venue.KALSHI, "MKT")]
    assert len(state.tape) == TAPE_LIMIT
    assert state.tape[0].trade_id == f"t{n - TAPE_LIMIT}" and state.tape[-1].trade_id == f"t{n - 1}"
    assert state.trades_seen == n
    assert state.last == Decimal("0.5")
    assert store.health_of(Venue.KALSHI, "trade").messages == n


def test_store_fills_dedupe() -> None:
    store = MarketStore()
    assert store.add_fills([_fill("a"), _fill("b")]) == 2
    assert store.fills_changed
    store.fills_changed = False
    assert store.add_fills([_fill("a")]) == 0
    assert store.duplicate_fills == 1
    assert not store.fills_changed
    store.apply(Venue.KALSHI, [_fill("b"), _fill("c")])  # over the socket: same dedupe
    assert store.duplicate_fills == 2
    assert list(store.fills) == [(Venue.KALSHI, "a"), (Venue.KALSHI, "b"), (Venue.KALSHI, "c")]
    assert store.add_fills([_fill("a", Venue.KRAKEN)]) == 1  # ids are per venue
    assert len(store.fills) == 4


def test_store_counts_recovery_events() -> None:
    store = MarketStore()
    store.apply(
        Venue.KALSHI,
        [
            SequenceGap(Venue.KALSHI, 1, 5, 7, "orderbook_delta", ["MKT"]),
            SequenceGap(Venue.KALSHI, 3, 5, 7, "trade", []),
            Malformed(Venue.KALSHI, "not JSON", "{"),
            Unknown(Venue.KALSHI, "mood", None, {}),
        ],
    )
    assert store.health_of(Venue.KALSHI, "book").gaps == 1
    assert store.health_of(Venue.KALSHI, "trade").gaps == 1
    assert store.health_of(Venue.KALSHI, "connection").malformed == 1
    assert store.health_of(Venue.KALSHI, "connection").unknown == 1
    report = store.health_report()
    assert report["kalshi/book"]["gaps"] == 1 and report["kalshi/connection"]["unknown"] == 1


def test_store_report_fields() -> None:
    store = MarketStore()
    empty = store.report(Venue.KALSHI, "NOPE")
    assert empty["stale"] is True and empty["stale_reason"] == "no book yet"
    assert empty["bids"] == [] and empty["best_bid"] is None and empty["trades"] == 0

    book = store.books[Venue.KALSHI]["MKT"] = OrderBook(Venue.KALSHI, "MKT", 4, 2)
    book.apply_snapshot([(4200, 1000), (4100, 250)], [(4500, 300)])
    store.apply(Venue.KALSHI, [BookSnapshot(Venue.KALSHI, "MKT", [], [], 4, 2)])
    store.apply(Venue.KALSHI, [Trade(Venue.KALSHI, "MKT", "t1", Decimal("0.43"), Decimal("2"), None)])
    store.apply(Venue.KALSHI, [Ticker(Venue.KALSHI, "MKT", volume=Decimal("1234"))])
    report = store.report(Venue.KALSHI, "MKT")
    assert report == {
        "venue": "kalshi",
        "market": "MKT",
        "best_bid": "0.4200",
        "best_ask": "0.4500",
        "bids": [["0.4200", "10.00"], ["0.4100", "2.50"]],
        "asks": [["0.4500", "3.00"]],
        "stale": False,
        "stale_reason": None,
        "crossed": False,
        "last": "0.43",
        "volume": "1234",
        "trades": 1,
        "status": None,
    }
    assert store.report(Venue.KALSHI, "MKT", levels=1)["bids"] == [["0.4200", "10.00"]]
    store.mark_books_stale(Venue.KALSHI, "disconnected")
    assert store.report(Venue.KALSHI, "MKT")["stale_reason"] == "disconnected"


# ---------------------------------------------------------------------- 5. insecure URLs


def test_plain_ws_to_a_remote_host_is_refused() -> None:
    store = MarketStore()
    with pytest.raises(InsecureURLError):
        KalshiLink(
            "ws://example.com/trade-api/ws/v2",
            "https://example.com",
            store,
            [],
            credentials=kalshi_credentials(),
        )
    with pytest.raises(InsecureURLError):
        KrakenLink("ws://10.0.0.5:8080/v2", "https://example.com", store, ["BTC/USD"])
    with pytest.raises(InsecureURLError):
        check_url("https://example.com/ws")
    # wss:// anywhere and ws:// on loopback are fine
    check_url("wss://example.com/trade-api/ws/v2")
    for host in ("127.0.0.1", "localhost", "[::1]"):
        check_url(f"ws://{host}:9000/v2")
    KrakenLink("wss://ws.kraken.com/v2", "https://api.kraken.com", store, ["BTC/USD"])

"""The level3 link against the simulator over real sockets: the live order-by-order book equals the
simulator's, a bad checksum re-subscribes that symbol only and the book comes back right, and the store's
Health counts level3 on its own row."""

from __future__ import annotations

import asyncio
import base64
import os
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest

from app.core.feeds import Feed
from app.core.instruments import Venue
from app.sim.faults import FaultSpec
from app.sim.server import SimOptions, Simulator
from app.stream.engine import StreamEngine
from app.stream.kraken_level3_link import LEVEL3_DEPTH, KrakenLevel3Link
from app.stream.kraken_link import KrakenCredentials, KrakenLink
from app.stream.state import ConnState

SYMBOLS = ["BTC/USD", "ETH/USD"]
SETTLE_S = 20.0


def credentials() -> KrakenCredentials:
    return KrakenCredentials("level3-test-key", base64.b64encode(os.urandom(64)).decode())


@dataclass
class Rig:
    sim: Simulator
    engine: StreamEngine
    book: KrakenLink
    level3: KrakenLevel3Link


@asynccontextmanager
async def rig(
    faults: Sequence[str] = (), duration: float = 2.5, level3: Sequence[str] = SYMBOLS
) -> AsyncIterator[Rig]:
    options = SimOptions(
        seed=5,
        rate=600,
        duration=duration,
        kraken_pairs=3,
        markets=2,
        faults=[FaultSpec.parse(f) for f in faults],
    )
    async with Simulator(options) as sim:
        engine = StreamEngine()
        creds = credentials()
        book = KrakenLink(
            sim.urls["kraken_ws"], sim.urls["kraken_rest"], engine.store, SYMBOLS, credentials=creds
        )
        l3 = KrakenLevel3Link(
            sim.urls["kraken_l3_ws"],
            sim.urls["kraken_rest"],
            engine.store,
            list(level3),
            credentials=creds,
            instruments=book.session.instruments,
            nonces=book.nonces,
        )
        engine.add(book)
        engine.add(l3)
        engine.start()
        try:
            yield Rig(sim, engine, book, l3)
        finally:
            await engine.stop()


def wrong_level3(r: Rig) -> dict[str, str]:
    """Level-3 books missing, stale or unlike the simulator's top levels, order by order; empty if none."""
    out: dict[str, str] = {}
    for symbol in r.level3.streamed:
        book = r.engine.store.level3_book(Venue.KRAKEN, symbol)
        orders = r.sim.kraken.level3.orders.get(symbol)
        if book is None or orders is None:
            out[symbol] = "missing"
            continue
        if book.stale:
            out[symbol] = f"stale: {book.stale_reason}"
            continue
        for name in ("bids", "asks"):
            mine = [(p, [(o.order_id, o.size) for o in q]) for p, q in getattr(book, name).levels()]
            truth = [(p, [(o.order_id, o.qty) for o in q]) for p, q in orders.side(name).top(LEVEL3_DEPTH)]
            if mine != truth:
                out[symbol] = f"{name} differ"
        # ... and the level-3 book, summed per price, is the level-2 book the other link keeps
        level2 = r.engine.store.book(Venue.KRAKEN, symbol)
        if level2 is None or (book.top_bids(), book.top_asks()) != (level2.top_bids(10), level2.top_asks(10)):
            out.setdefault(symbol, "unlike the level-2 book")
    return out


async def settle(r: Rig) -> None:
    await asyncio.wait_for(r.sim.frozen.wait(), 15)
    r.sim.faults.set([])
    deadline = time.monotonic() + SETTLE_S
    while time.monotonic() < deadline:
        live = all(link.state is ConnState.LIVE for link in r.engine.links)
        if live and r.sim.pending_frames() == 0 and not wrong_level3(r):
            return
        await asyncio.sleep(0.1)


@pytest.mark.asyncio
async def test_live_level3_book_equals_the_simulators() -> None:
    async with rig() as r:
        await settle(r)
        assert wrong_level3(r) == {}
        store = r.engine.store
        health = store.health_of(Venue.KRAKEN, Feed.LEVEL3)
        assert health.messages > 50  # snapshots and updates, counted on the level3 row
        assert health.checksum_failures == 0 and health.resyncs == 0
        assert sum(r.level3.session.level3.checksum_ok.values()) == health.messages
        assert r.level3.registry()["level3"]["in_sync"] is True
        assert r.engine.level3_link() is r.level3
        # The level-2 link's books are untouched by this one.
        assert store.book(Venue.KRAKEN, "BTC/USD") is not None
        assert not store.books[Venue.KRAKEN]["BTC/USD"].stale


@pytest.mark.asyncio
async def test_bad_checksum_resubscribes_that_symbol_and_recovers() -> None:
    async with rig(faults=["bad-checksum:every=40,venue=kraken"], duration=3.0) as r:
        await settle(r)
        assert wrong_level3(r) == {}
        health = r.engine.store.health_of(Venue.KRAKEN, Feed.LEVEL3)
        assert health.checksum_failures >= 1
        assert health.resyncs >= 1
        assert r.level3.book_repairs.sent >= 1
        assert r.level3.reconnects == 0  # repaired in place, by re-subscribing
        # Only level3 unsubscribes were sent on the level3 socket, each for a single symbol.
        assert all(link.state is ConnState.LIVE for link in r.engine.links)


@pytest.mark.asyncio
async def test_watch_level3_adds_and_removes_without_reconnecting() -> None:
    async with rig(level3=[], duration=2.0) as r:
        await asyncio.wait_for(r.level3.reached_live.wait(), 10)
        added, removed = await r.engine.watch_level3(["BTC/USD"])
        assert (added, removed) == (["BTC/USD"], [])
        await settle(r)
        assert wrong_level3(r) == {}
        await r.engine.watch_level3([])
        assert r.engine.store.level3_book(Venue.KRAKEN, "BTC/USD") is None
        assert r.level3.reconnects == 0


def test_level3_url_is_the_docs_host_and_can_be_overridden(monkeypatch: pytest.MonkeyPatch) -> None:
    from app.core.instruments import Environment
    from app.venues.kraken import endpoints

    monkeypatch.delenv(endpoints.LEVEL3_URL_ENV, raising=False)
    assert endpoints.level3_ws_url(Environment.LIVE) == "wss://ws-l3.kraken.com/v2"
    assert endpoints.level3_ws_url(Environment.BETA) is None  # no beta level3 host is documented
    monkeypatch.setenv(endpoints.LEVEL3_URL_ENV, "wss://ws-auth.kraken.com/v2")
    assert endpoints.level3_ws_url(Environment.LIVE) == "wss://ws-auth.kraken.com/v2"

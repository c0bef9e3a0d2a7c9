"""The subscription registry (desired vs acknowledged, per channel) and the quiet-sid probe that makes a
lost last frame on any sequenced Kalshi channel visible, against the simulator."""

from __future__ import annotations

import asyncio
import base64
import os
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from app.core.instruments import Venue
from app.sim.faults import FaultSpec
from app.sim.server import SimOptions, Simulator
from app.stream.engine import StreamEngine
from app.stream.kalshi_link import KalshiCredentials, KalshiLink
from app.stream.kraken_link import KrakenCredentials, KrakenLink


@asynccontextmanager
async def _engine(
    options: SimOptions, markets: int = 4, **kalshi: Any
) -> AsyncIterator[tuple[Simulator, StreamEngine]]:
    async with Simulator(options) as sim:
        engine = StreamEngine()
        tickers = list(sim.market.kalshi)[:markets]
        creds = KalshiCredentials("registry-test", ed25519.Ed25519PrivateKey.generate())
        engine.add(
            KalshiLink(
                sim.urls["kalshi_ws"],
                sim.urls["kalshi_rest"],
                engine.store,
                tickers,
                credentials=creds,
                **kalshi,
            )
        )
        kcreds = KrakenCredentials("registry-test", base64.b64encode(os.urandom(64)).decode())
        engine.add(
            KrakenLink(
                sim.urls["kraken_ws"],
                sim.urls["kraken_rest"],
                engine.store,
                ["BTC/USD", "ETH/USD"],
                credentials=kcreds,
            )
        )
        engine.start()
        try:
            yield sim, engine
        finally:
            await engine.stop()


async def _until(check: object, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


def _in_sync(engine: StreamEngine) -> bool:
    return all(row["in_sync"] for st in engine.status().values() for row in st["subscriptions"].values())


@pytest.mark.asyncio
async def test_registry_agrees_with_the_server_at_start_and_after_edits() -> None:
    async with _engine(SimOptions(seed=3, rate=300)) as (sim, engine):
        await engine.wait_live()
        await _until(lambda: _in_sync(engine))
        kalshi = engine.status()["kalshi"]["subscriptions"]
        assert set(kalshi) == {
            "orderbook_delta",
            "ticker",
            "trade",
            "fill",
            "market_positions",
            "market_lifecycle_v2",
            "cfbenchmarks_value",  # the settlement indices, for the strike board
        }
        kraken = engine.status()["kraken"]["subscriptions"]
        assert set(kraken) == {"book", "ticker", "trade", "ohlc", "instrument", "executions", "balances"}
        assert kraken["book"]["acknowledged"] == ["BTC/USD", "ETH/USD"]

        tickers = list(sim.market.kalshi)
        await engine.watch(Venue.KALSHI, tickers[2:6])
        await engine.watch(Venue.KRAKEN, ["ETH/USD", "SOL/USD"])
        await _until(lambda: _in_sync(engine))
        status = engine.status()
        assert status["kalshi"]["subscriptions"]["orderbook_delta"]["acknowledged"] == sorted(tickers[2:6])
        assert status["kraken"]["subscriptions"]["trade"]["acknowledged"] == ["ETH/USD", "SOL/USD"]
        # What the simulator holds for this connection says the same.
        (conn,) = sim.kalshi.conns.values()
        book_sub = next(s for s in conn.subs.values() if s.channel == "orderbook_delta")
        assert book_sub.markets == set(tickers[2:6])
        index_sub = next(s for s in conn.subs.values() if s.channel == "cfbenchmarks_value")
        assert index_sub.markets == {"BRTI", "ETHUSD_RTI"}
        assert engine.link(Venue.KALSHI).connects == 1 and engine.link(Venue.KRAKEN).connects == 1
        # Once stopped, nothing is acknowledged any more: the registry must not claim a dead link in sync.
        await engine.stop()
        for link in ("kalshi", "kraken"):
            subs = engine.status()[link]["subscriptions"]
            assert all(not s["acknowledged"] and not s["in_sync"] for s in subs.values())


@pytest.mark.asyncio
async def test_quiet_probe_reveals_every_lost_sequenced_frame() -> None:
    """Lost frames on the book and trade sids are all detected, including the last ones before the
    market froze, because the idle link re-subscribes (an ``ok`` uses up a seq on each sid)."""
    options = SimOptions(
        seed=7, rate=800, duration=2.0, faults=[FaultSpec.parse("skip-seq:every=23,venue=kalshi")]
    )
    # No settlement indices: a frozen simulator stops their once-a-second ticks, which in life never go
    # quiet (a stopped index is flagged stale instead), so the loss of their last tick would stay unseen.
    async with _engine(options, markets=6, indices=()) as (sim, engine):
        link = engine.link(Venue.KALSHI)
        assert isinstance(link, KalshiLink)
        link.quiet_probe_s = 0.5
        await sim.frozen.wait()
        sim.faults.set([])  # no more losses once frozen, so the count below is final
        await _until(lambda: link.probes >= 2 and sim.pending_frames() == 0, timeout=10)
        store = engine.store

        await asyncio.sleep(0.3)
        gaps = sum(store.health_of(Venue.KALSHI, feed).gaps for feed in ("book", "trade", "lifecycle"))
        assert gaps == sim.faults.count("skip-seq", "kalshi") > 0
        assert link.state.value == "live" and link.connects == 1
        # The gaps the probe revealed are repaired (at once, or after the backoff of a flapping book).
        await _until(lambda: all(not engine.store.books[Venue.KALSHI][m].stale for m in link.markets), 10)


@pytest.mark.asyncio
async def test_health_flags_a_silent_feed_stale() -> None:
    async with _engine(SimOptions(seed=3, rate=300)) as (_sim, engine):
        await engine.wait_live()
        await _until(lambda: engine.store.health_of(Venue.KRAKEN, "book").messages > 0)
        health = engine.store.health_report()
        assert health["kraken/book"]["stale"] is False
        engine.store.health_of(Venue.KRAKEN, "book").last_data = time.monotonic() - 61
        assert engine.store.health_report()["kraken/book"]["stale"] is True

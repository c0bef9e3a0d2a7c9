"""Hostile frames cost one frame: the real engine against the real simulator, each frame injected into the
live socket. Each gets a counted error named in Health, the link stays up (except for a frame over the size
limit, which aiohttp can only refuse by closing: the link reconnects and Health says why), and afterwards
every book is live and equal to the simulator's truth."""

from __future__ import annotations

import asyncio
import base64
import json
import os
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from app.cli.bench import truth
from app.core.feeds import Feed
from app.core.instruments import Venue
from app.sim.server import SimOptions, Simulator
from app.stream.engine import StreamEngine
from app.stream.kalshi_link import KalshiCredentials, KalshiLink
from app.stream.kraken_link import KrakenCredentials, KrakenLink

LIMIT = 8 << 20  # the links' frame limit in this test (the real one is 64 MiB)


@dataclass
class Rig:
    sim: Simulator
    engine: StreamEngine
    kalshi: KalshiLink
    kraken: KrakenLink


@asynccontextmanager
async def rig() -> AsyncIterator[Rig]:
    async with Simulator(SimOptions(seed=21, rate=300)) as sim:
        engine = StreamEngine()
        kalshi = KalshiLink(
            sim.urls["kalshi_ws"],
            sim.urls["kalshi_rest"],
            engine.store,
            list(sim.market.kalshi)[:3],
            credentials=KalshiCredentials("hostile", ed25519.Ed25519PrivateKey.generate()),
        )
        kraken = KrakenLink(
            sim.urls["kraken_ws"],
            sim.urls["kraken_rest"],
            engine.store,
            ["BTC/USD", "ETH/USD"],
            credentials=KrakenCredentials("hostile", base64.b64encode(os.urandom(64)).decode()),
        )
        for link in (kalshi, kraken):
            link.max_frame = LIMIT
            engine.add(link)
        engine.start()
        try:
            await until(lambda: not truth.flags(engine), 20)
            yield Rig(sim, engine, kalshi, kraken)
        finally:
            await engine.stop()


async def until(check: Callable[[], object], timeout: float, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"condition not met in time {what}"
        await asyncio.sleep(0.05)


def kraken_update(price: str, qty: str = "0.5") -> str:
    # Numbers as JSON numbers, as Kraken writes them (the decoder keeps their text).
    level = f'{{"price":{price},"qty":{qty}}}'
    return (
        '{"channel":"book","type":"update","data":[{"symbol":"BTC/USD","bids":[' + level + "],"
        '"asks":[],"checksum":12345,"timestamp":"2026-12-02T10:00:00.000000Z"}]}'
    )


def kalshi_delta(market: str, price: str) -> str:
    msg = {"market_ticker": market, "price_dollars": price, "delta_fp": "5.00", "side": "yes"}
    return json.dumps({"type": "orderbook_delta", "sid": 999, "seq": 1, "msg": msg})


DEEP = "[" * 10_000 + "]" * 10_000
DIGITS = "9" * 10_000


def cases(r: Rig) -> list[tuple[str, Venue, str, str]]:
    """(name, venue, frame, words Health must name) for every hostile kind."""
    market = r.kalshi.markets[0]
    many = ",".join(f'{{"price":{100 + i}.5,"qty":1.0}}' for i in range(100_000))
    kalshi_many = ",".join(f'["0.{i % 9999 + 1:04d}","1.00"]' for i in range(100_000))
    return [
        ("nesting 10,000 deep", Venue.KRAKEN, DEEP, "nested too deep"),
        ("nesting 10,000 deep", Venue.KALSHI, DEEP, "nested too deep"),
        ("a number of 10,000 digits", Venue.KRAKEN, kraken_update("1." + DIGITS), "10,002 characters"),
        (
            "an integer of 10,000 digits",
            Venue.KALSHI,
            '{"type":"ticker","sid":5,"msg":{"price":' + DIGITS + "}}",
            "Integer value out of range",
        ),
        ("a Kalshi price of 10,000 digits", Venue.KALSHI, kalshi_delta(market, "0." + DIGITS), "characters"),
        (
            "a snapshot of 100,000 levels",
            Venue.KRAKEN,
            '{"channel":"book","type":"snapshot","data":[{"symbol":"BTC/USD","bids":['
            + many
            + '],"asks":[],"checksum":1}]}',
            "100,000 levels",
        ),
        (
            "a Kalshi snapshot of 100,000 levels",
            Venue.KALSHI,
            json.dumps(
                {"type": "orderbook_snapshot", "sid": 999, "seq": 2, "msg": {"market_ticker": market}}
            )[:-2]
            + ',"yes_dollars_fp":['
            + kalshi_many
            + "]}}",
            "100,000 levels",
        ),
        (
            "a Kraken price off the pair's grid",
            Venue.KRAKEN,
            kraken_update("97000.123"),
            "off the pair's grid",
        ),
        (
            "a Kalshi price off the $0.0001 grid",
            Venue.KALSHI,
            kalshi_delta(market, "0.45001"),
            "off the $0.0001 grid",
        ),
        ("a Kalshi price above $1", Venue.KALSHI, kalshi_delta(market, "1.2000"), "outside the $0-$1 range"),
    ]


@pytest.mark.asyncio
async def test_each_hostile_frame_is_named_counted_and_costs_nothing_else() -> None:
    async with rig() as r:
        store = r.engine.store
        links = {Venue.KALSHI: r.kalshi, Venue.KRAKEN: r.kraken}
        for name, venue, frame, words in cases(r):
            health = store.health_of(venue, Feed.CONNECTION)
            before = health.malformed + health.errors
            connects = links[venue].connects
            assert r.sim.inject(venue.value, frame) == 1
            await until(lambda h=health, b=before: h.malformed + h.errors > b, 10, name)
            assert health.malformed + health.errors == before + 1, name  # one frame, one count
            assert words in (health.last_problem or ""), (name, health.last_problem)
            assert links[venue].connects == connects, f"{name} cost a reconnect"
            # The feed goes on: every book is live again (a book that missed the frame is re-synced).
            await until(lambda: not truth.flags(r.engine), 15, f"{name}: {truth.flags(r.engine)}")
        r.sim.freeze()
        await until(lambda: r.sim.pending_frames() == 0, 10)
        await asyncio.sleep(0.5)
        assert truth.wrong_books(r.sim, r.engine) == {}


@pytest.mark.asyncio
async def test_a_frame_over_the_size_limit_reconnects_and_says_why() -> None:
    async with rig() as r:
        health = r.engine.store.health_of(Venue.KRAKEN, Feed.CONNECTION)
        connects = r.kraken.connects
        r.sim.inject("kraken", '{"channel":"heartbeat","pad":"' + "x" * (LIMIT + 10) + '"}')
        await until(lambda: r.kraken.connects > connects, 15)
        assert health.last_problem == "a frame over the 8 MiB limit"
        assert any("a frame over the 8 MiB limit" in t.reason for t in r.kraken.transitions)
        await until(lambda: not truth.flags(r.engine), 15)
        assert r.kalshi.connects == 1  # the other venue never noticed

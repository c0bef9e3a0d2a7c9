"""Kraken book depth per symbol, against the real simulator over real sockets: a symbol asked for at 100
gets 100 levels a side (equal to the simulator's book) while the others stay at 10, its checksums keep
verifying over the top 10 as the market moves, it goes back to 10 (and on to 1000) by unsubscribing at the
old depth and subscribing at the new, keeps its depth across a reconnect, and a depth Kraken does not
offer is refused in words."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import pytest

from app.cli.bench.truth import kraken_truth
from app.core.instruments import Venue
from app.sim.server import SimOptions, Simulator
from app.stream.engine import StreamEngine
from app.stream.kraken_link import KrakenLink

BTC, ETH = "BTC/USD", "ETH/USD"


async def until(pred: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        await asyncio.sleep(0.02)


@pytest.mark.asyncio
async def test_each_symbol_streams_at_its_own_depth_and_switches_back() -> None:
    async with Simulator(SimOptions(seed=3, rate=400, duration=6.0)) as sim:
        engine = StreamEngine()
        link = engine.add(
            KrakenLink(sim.urls["kraken_ws"], sim.urls["kraken_rest"], engine.store, [BTC, ETH])
        )
        assert isinstance(link, KrakenLink)
        engine.start()
        try:
            await engine.wait_live(10)
            books = engine.store.books[Venue.KRAKEN]

            def live_at(symbol: str, depth: int) -> bool:
                book = books.get(symbol)
                return (
                    book is not None
                    and not book.stale
                    and book.depth == depth
                    and len(book.bids) == len(book.asks) == depth
                )

            await until(lambda: live_at(BTC, 10) and live_at(ETH, 10))
            await engine.watch(Venue.KRAKEN, [BTC, ETH], {BTC: 100})
            await until(lambda: live_at(BTC, 100))
            assert live_at(ETH, 10) and link.depth_of(ETH) == 10
            # The market moves on under the deeper book: every checksum (over the top 10) still agrees.
            verified = link.session.checksum_ok[BTC]
            await until(lambda: link.session.checksum_ok[BTC] > verified + 20 or sim.frozen.is_set())
            await sim.frozen.wait()
            await until(lambda: books[BTC].levels_as_decimals() == kraken_truth(sim, BTC, 100))
            assert len(books[BTC].bids) == 100

            await engine.watch(Venue.KRAKEN, [BTC, ETH], {})  # back to the default
            await until(
                lambda: live_at(BTC, 10) and books[BTC].levels_as_decimals() == kraken_truth(sim, BTC, 10)
            )
            await engine.watch(Venue.KRAKEN, [BTC, ETH], {BTC: 1000, ETH: 1000})
            # The simulator's frozen book holds a little under 1000 a side after trading: all of it comes.
            for symbol in (BTC, ETH):
                await until(
                    lambda symbol=symbol: (
                        books[symbol].depth == 1000
                        and not books[symbol].stale
                        and books[symbol].levels_as_decimals() == kraken_truth(sim, symbol, 1000)
                    )
                )
                assert len(books[symbol].bids) > 900
            assert engine.store.health_of(Venue.KRAKEN, "book").checksum_failures == 0
            assert sum(link.session.checksum_failed.values()) == 0
            assert link.registry()["book"]["in_sync"]

            # After a reconnect every book is subscribed again at the depth it was wanted at.
            connects = link.connects
            assert link._ws is not None
            await link._ws.close()  # the connection drops
            await until(lambda: link.connects > connects and link.state.value == "live", 30)
            for symbol in (BTC, ETH):
                await until(
                    lambda symbol=symbol: (
                        not books[symbol].stale
                        and books[symbol].depth == 1000
                        and books[symbol].levels_as_decimals() == kraken_truth(sim, symbol, 1000)
                    ),
                    30,
                )

            with pytest.raises(ValueError, match="book depth 50 is not offered; use one of 10, 25, 100"):
                await engine.watch(Venue.KRAKEN, [BTC, ETH], {BTC: 50})
            assert link.depth_of(BTC) == 1000  # the refused change left everything as it was
        finally:
            await engine.stop()

"""The strike board against the real simulator: its rows are the simulator's markets of the event, with
strikes from the REST strike fields; the spot it is read against is the Kraken book's mid."""

from __future__ import annotations

import itertools
from decimal import Decimal

import aiohttp
import pytest

from app.core.strikes import (
    BoardKind,
    ProbabilitySource,
    StrikeRow,
    board_rows,
    kind_of,
    nearest,
    underlying_of,
)
from app.launch.catalog import event_of, kalshi_event_markets
from app.sim.server import SimOptions, Simulator

UNIT = Decimal("0.0001")  # the simulator's Kalshi price unit, dollars


async def _board(sim: Simulator, series: str) -> tuple[str, list[StrikeRow]]:
    event = next(
        m.listing.event_ticker for m in sim.market.kalshi.values() if m.listing.series_ticker == series
    )
    async with aiohttp.ClientSession() as http:
        markets = await kalshi_event_markets(http, sim.urls["kalshi_rest"], event)
    return event, board_rows(markets)


@pytest.mark.asyncio
@pytest.mark.parametrize("series", ["KXBTCD", "KXBTC", "KXETHD", "KXETH"])
async def test_rows_are_the_simulators_markets_of_the_event(series: str) -> None:
    async with Simulator(SimOptions(rate=0)) as sim:
        sim.step(5000)
        event, rows = await _board(sim, series)
        truth = [m for m in sim.market.kalshi.values() if m.listing.event_ticker == event]
    assert {r.market for r in rows} == {m.ticker for m in truth} and len(rows) == len(truth) >= 15
    by_ticker = {m.ticker: m for m in truth}
    for row in rows:
        m = by_ticker[row.market]
        listing = m.listing
        assert row.strike.strike_type == listing.strike_type
        assert row.strike.floor == (Decimal(listing.floor_strike) if listing.floor_strike else None)
        assert row.strike.cap == (Decimal(listing.cap_strike) if listing.cap_strike else None)
        assert row.bid == (m.yes_bid() * UNIT if m.yes_bid() else None)
        assert row.ask == (m.yes_ask() * UNIT if m.yes_ask() < 10_000 else None)
        assert row.volume == Decimal(m.volume) / 100 and row.open_interest == Decimal(m.open_interest) / 100
        assert row.close_time == m.close_ts
        p, source = row.probability()
        if row.bid is not None and row.ask is not None:
            assert (p, source) == ((row.bid + row.ask) / 2, ProbabilitySource.MID)
    positions = [r.strike.position for r in rows]
    assert positions == sorted(positions)  # type: ignore[type-var]
    ranged = series in ("KXBTC", "KXETH")
    assert kind_of(rows) is (BoardKind.RANGE if ranged else BoardKind.THRESHOLD)
    assert underlying_of(event) == ("BTC/USD" if series.startswith("KXBTC") else "ETH/USD")
    assert event_of(rows[0].market) == event
    if not ranged:  # "above K" falls as K rises (up to the spread of each book)
        mids = [r.probability()[0] for r in rows if r.probability()[1] is ProbabilitySource.MID]
        assert all(a >= b - Decimal("0.05") for a, b in itertools.pairwise(mids))  # type: ignore[operator]


@pytest.mark.asyncio
async def test_nearest_strike_to_the_kraken_mid() -> None:
    async with Simulator(SimOptions(rate=0)) as sim:
        sim.step(3000)
        _, threshold = await _board(sim, "KXBTCD")
        _, ranged = await _board(sim, "KXBTC")
        book = sim.kraken_book("BTC/USD", 1)
    spot = (Decimal(book["bids"][0][0]) + Decimal(book["asks"][0][0])) / 2
    i = nearest(threshold, spot)
    assert i is not None
    gaps = [abs(r.strike.position - spot) for r in threshold if r.strike.position is not None]
    assert abs(threshold[i].strike.position - spot) == min(gaps)  # type: ignore[operator]
    j = nearest(ranged, spot)
    assert j is not None
    band = ranged[j].strike
    assert band.floor is not None and band.cap is not None and band.floor <= spot <= band.cap
    assert nearest(threshold, None) is None and nearest([], spot) is None

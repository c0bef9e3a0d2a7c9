"""History and marks over REST, against the real simulator: Kraken ``OHLC`` and ``Ticker``, Kalshi
``candlesticks`` and ``markets/{ticker}``, read by the launch floor's clients (app/launch/history.py,
marks.py, catalog.py) exactly as the window reads them. Expected values come from the simulator's state.
"""

from __future__ import annotations

import itertools
import time
from decimal import Decimal

import aiohttp
import pytest

from app.core.instruments import Venue
from app.launch.catalog import CatalogError, kalshi_market
from app.launch.history import COARSE_MIN, kalshi_candles, kalshi_series, kraken_ohlc, market_history
from app.launch.marks import kalshi_marks, kraken_marks
from app.sim.catalog import valid_price
from app.sim.server import SimOptions, Simulator

PRICE_UNITS = Decimal(10_000)  # Kalshi price units per dollar


def _begin(candle: object) -> float:
    from datetime import datetime

    return datetime.fromisoformat(candle.begin.replace("Z", "+00:00")).timestamp()  # type: ignore[attr-defined]


@pytest.mark.asyncio
async def test_kraken_history_is_a_day_of_bars_equal_to_the_simulators() -> None:
    async with Simulator(SimOptions(rate=0)) as sim, aiohttp.ClientSession() as http:
        rest = sim.urls["kraken_rest"]
        history = await market_history(http, Venue.KRAKEN, rest, "BTC/USD")
        now = time.time()
        minute, coarse = history.minute, history.coarse
        assert 700 <= len(minute) <= 720  # Kraken keeps 720 bars an interval
        starts = [_begin(c) for c in minute]
        assert starts == sorted(set(starts)) and all(b - a == 60 for a, b in itertools.pairwise(starts))
        assert now - starts[-1] < 180 and now - starts[0] > 11.5 * 3600
        assert _begin(coarse[0]) <= now - 86_400 + COARSE_MIN * 60 and len(coarse) >= 96
        state = sim.market.kraken["BTC/USD"]
        truth = {c.begin_s: c for c in state.candles[1]}
        scale = Decimal(10) ** state.pair.price_precision
        for c in minute:
            t = truth[int(_begin(c))]
            assert (c.open, c.high, c.low, c.close) == tuple(
                Decimal(v) / scale for v in (t.open, t.high, t.low, t.close)
            )
            assert c.low <= min(c.open, c.close) <= max(c.open, c.close) <= c.high
        assert minute[-1].close == Decimal(state.pair.mid) / scale  # history ends where the market opens
        # One outlier wick in the day (the chart must not let it flatten the rest): far out of its bar.
        day = coarse + minute
        wicks = [max(c.high - max(c.open, c.close), min(c.open, c.close) - c.low) / c.close for c in day]
        assert sum(1 for w in wicks if w > Decimal("0.03")) >= 1
        assert sorted(wicks)[len(wicks) // 2] < Decimal("0.002")
        # Polling with since: only newer bars; bad arguments answer in Kraken's words.
        newer = await kraken_ohlc(http, rest, "BTC/USD", 1, starts[-3])
        assert [_begin(c) for c in newer] == starts[-2:]
        with pytest.raises(CatalogError, match="Invalid arguments"):
            await kraken_ohlc(http, rest, "BTC/USD", 7)
        with pytest.raises(CatalogError, match="Unknown asset pair"):
            await kraken_ohlc(http, rest, "NOPE/USD")


@pytest.mark.asyncio
async def test_kalshi_candlesticks_cover_the_day_and_take_in_live_prints() -> None:
    async with Simulator(SimOptions(rate=0)) as sim, aiohttp.ClientSession() as http:
        rest = sim.urls["kalshi_rest"]
        ticker, market = next(iter(sim.market.kalshi.items()))
        assert kalshi_series(ticker) == market.listing.series_ticker
        history = await market_history(http, Venue.KALSHI, rest, ticker)
        candles = history.minute
        assert 500 <= len(candles) <= 1440 and not history.coarse  # a print in about half the minutes
        traded = {m.begin_s: m for m in market.minutes if m.close is not None}
        assert {int(_begin(c)) for c in candles} == {b for b in traded if b + 60 >= time.time() - 86_400}
        for c in candles:
            m = traded[int(_begin(c))]
            assert (c.open, c.high, c.low, c.close) == tuple(
                Decimal(v or 0) / PRICE_UNITS for v in (m.open, m.high, m.low, m.close)
            )
            assert all(valid_price(market.listing.ranges, int(p * PRICE_UNITS)) for p in (c.open, c.close))
            assert 0 < c.low <= c.high < 1
        # Live prints land in the current minute's candle.
        before = market.volume
        while market.volume == before:
            sim.step(50)
        fresh = await kalshi_candles(http, rest, ticker, (time.time() - 120, time.time() + 60))
        assert fresh and fresh[-1].close * PRICE_UNITS == market.last_price
        # Hourly candles aggregate the same prints; a wrong series is 404, a bad period 400.
        hourly = await kalshi_candles(http, rest, ticker, (time.time() - 86_400, time.time() + 3600), 60)
        assert 20 <= len(hourly) <= 26 and max(c.high for c in hourly) == max(c.high for c in candles + fresh)
        async with http.get(
            f"{rest}/series/NOPE/markets/{ticker}/candlesticks", params={"start_ts": "1"}
        ) as r:
            assert r.status == 404
        with pytest.raises(CatalogError, match="HTTP 400"):
            await kalshi_candles(http, rest, ticker, (0, time.time()), 5)


@pytest.mark.asyncio
async def test_market_details_and_marks_equal_the_books() -> None:
    async with Simulator(SimOptions(rate=0)) as sim, aiohttp.ClientSession() as http:
        sim.step(2000)
        ticker, market = next(iter(sim.market.kalshi.items()))
        details = await kalshi_market(http, sim.urls["kalshi_rest"], ticker)
        assert details.title == market.listing.title and details.subtitle == market.listing.yes_sub_title
        assert market.listing.yes_sub_title in details.rules_primary
        assert details.close_time == market.close_ts
        assert details.last_price == Decimal(market.last_price) / PRICE_UNITS
        day_ago = market.price_before(int(time.time()) - 86_400)
        assert day_ago and details.previous_price == Decimal(day_ago) / PRICE_UNITS
        with pytest.raises(CatalogError, match="404"):
            await kalshi_market(http, sim.urls["kalshi_rest"], "NOT-A-MARKET")

        tickers = list(sim.market.kalshi)[:5]
        marks = await kalshi_marks(http, sim.urls["kalshi_rest"], tickers)
        for t in tickers:
            m = sim.market.kalshi[t]
            assert marks[t] == Decimal(m.yes_bid() + m.yes_ask()) / 2 / PRICE_UNITS

        pairs = ["BTC/USD", "DOGE/USD", "ETH/BTC"]
        kraken = await kraken_marks(http, sim.urls["kraken_rest"], pairs)
        for pair in pairs:
            state = sim.market.kraken[pair]
            best = (state.bids.best() or 0) + (state.asks.best() or 0)
            assert kraken[pair] == Decimal(best) / 2 / Decimal(10) ** state.pair.price_precision

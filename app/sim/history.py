"""The day before the simulator started: seeded 1-minute bars for every Kraken pair and Kalshi market,
ending at the price the market opens at, so a client that asks for history when it opens a chart (Kraken
REST OHLC, Kalshi candlesticks) draws one at once, as it would against the real venues.

History has its own random stream (``random.Random(seed * 104729 + 3)``), so the live market's steps are
the same for a seed as they were before history existed. One bar a market carries an outlier wick (a
fat-finger print, as real tapes have now and then), so a chart has something to be robust against.
Prices are integer units on the market's own grid; nothing here reads the clock.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass

DAY_MINUTES = 24 * 60
MINUTES = DAY_MINUTES + 60  # a day and an hour: "a day ago" is known from the first minute on


@dataclass(slots=True)
class Bar:
    """One minute (or, aggregated, one period) of trading. ``trades == 0``: no print, the prices are the
    quote's mid (Kalshi sends such periods with empty price fields)."""

    begin_s: int
    open: int
    high: int
    low: int
    close: int
    volume: int  # size units
    trades: int


def walk(
    rng: random.Random,
    *,
    end_price: int,
    end_s: int,
    step: float,
    low: int,
    high: int,
    snap: Callable[[int], int],
    size: Callable[[], int],
    trade_share: float = 1.0,
    outlier: float = 0.0,
    minutes: int = MINUTES,
) -> list[Bar]:
    """``minutes`` 1-minute bars ending at ``end_s`` (a minute boundary) whose last close is ``end_price``.

    The path is walked backwards from ``end_price`` with steps of standard deviation ``step`` (price
    units), pulled back inside ``[low, high]``; ``snap`` puts a price on the grid. ``trade_share`` of the
    minutes have prints. ``outlier`` (price units) lengthens one bar's wick by that much, up or down.
    """
    path: list[float] = [float(end_price)]
    for _ in range(minutes):
        prev = path[-1] + rng.gauss(0.0, step)
        if prev < low or prev > high:  # reflect off the bounds instead of sticking to them
            prev = 2 * (low if prev < low else high) - prev
        path.append(min(high, max(low, prev)))
    path.reverse()
    bars: list[Bar] = []
    first_s = end_s - minutes * 60
    for i in range(minutes):
        o, c = snap(round(path[i])), snap(round(path[i + 1]))
        if i == minutes - 1:
            c = end_price
        wick_up, wick_down = abs(rng.gauss(0.0, step / 2)), abs(rng.gauss(0.0, step / 2))
        h = min(high, snap(round(max(o, c) + wick_up)))
        lo = max(low, snap(round(min(o, c) - wick_down)))
        h, lo = max(h, o, c), min(lo, o, c)
        trades = 1 + int(rng.expovariate(0.3)) if rng.random() < trade_share else 0
        volume = sum(size() for _ in range(trades))
        bars.append(Bar(first_s + 60 * i, o, h, lo, c, volume, trades))
    if outlier and minutes > 60:
        bar = bars[rng.randrange(30, minutes - 30)]
        if rng.random() < 0.5:
            bar.high = min(high, snap(round(bar.high + outlier)))
        else:
            bar.low = max(low, snap(round(bar.low - outlier)))
        bar.trades = max(1, bar.trades)
        bar.volume = bar.volume or size()
    return bars

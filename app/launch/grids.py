"""The simulator's price grids for the alert engine, so a rule off its market's tick is refused before
anything connects (for a real venue the engine learns them from the stream)."""

from __future__ import annotations

from decimal import Decimal

from app.alerts.ticks import Ticks
from app.sim.market import SimMarket

KALSHI_UNITS = 4  # the simulator's Kalshi prices are in 1/10 000 dollar


def sim_ticks(market: SimMarket, ticks: Ticks | None = None) -> Ticks:
    ticks = ticks or Ticks()
    for ticker, listed in market.kalshi.items():
        ticks.set_kalshi(
            ticker,
            [
                (
                    Decimal(r.start).scaleb(-KALSHI_UNITS),
                    Decimal(r.end).scaleb(-KALSHI_UNITS),
                    Decimal(r.step).scaleb(-KALSHI_UNITS),
                )
                for r in listed.listing.ranges
            ],
        )
    for symbol, state in market.kraken.items():
        pair = state.pair
        ticks.set_kraken(symbol, Decimal(pair.price_increment).scaleb(-pair.price_precision))
    return ticks

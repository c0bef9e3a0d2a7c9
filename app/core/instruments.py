"""Venues and instruments: what a market is and how finely it is priced."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum


class Venue(StrEnum):
    KALSHI = "kalshi"
    KRAKEN = "kraken"


# Kalshi: prices are *_dollars with up to 4 decimals (sub-cent ticks exist), sizes *_fp with 2.
KALSHI_PRICE_DECIMALS = 4
KALSHI_SIZE_DECIMALS = 2
KALSHI_ONE = 10**KALSHI_PRICE_DECIMALS  # $1.00 in price units: YES + NO prices sum to this


@dataclass(frozen=True, slots=True)
class Instrument:
    """A tradable market on one venue.

    ``price_decimals``/``size_decimals`` are the wire precisions (Kraken's price_precision and
    qty_precision, which its checksum formats with); ``tick`` is the smallest price step where the
    venue says it (Kraken price_increment, Kalshi price_ranges), else None.
    """

    venue: Venue
    symbol: str
    price_decimals: int
    size_decimals: int
    tick: Decimal | None = None
    lot: Decimal | None = None
    base: str = ""
    quote: str = ""
    title: str = ""
    status: str = ""

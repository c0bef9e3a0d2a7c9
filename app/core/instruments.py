"""Venues, their environments and instruments: where a market is and how finely it is priced."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum


class Venue(StrEnum):
    KALSHI = "kalshi"
    KRAKEN = "kraken"


class Environment(StrEnum):
    """Where a profile connects a venue: the embedded simulator, nowhere, or one of the venue's own."""

    SIM = "sim"  # the embedded exchange simulator (app/sim)
    OFF = "off"  # the venue is left out
    PRODUCTION = "production"  # Kalshi
    DEMO = "demo"  # Kalshi
    LIVE = "live"  # Kraken
    BETA = "beta"  # Kraken

    @property
    def is_real(self) -> bool:
        """A venue's own servers (needs the network; credentials live in the keyring per environment)."""
        return self not in (Environment.SIM, Environment.OFF)


# Each venue's environments, in the order a user picks from.
ENVIRONMENTS: dict[Venue, tuple[Environment, ...]] = {
    Venue.KALSHI: (Environment.SIM, Environment.PRODUCTION, Environment.DEMO, Environment.OFF),
    Venue.KRAKEN: (Environment.SIM, Environment.LIVE, Environment.BETA, Environment.OFF),
}


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

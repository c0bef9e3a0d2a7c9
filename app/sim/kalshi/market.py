"""One simulated Kalshi market: its listing, YES/NO bid books, stats, lifecycle and the user's position."""

from __future__ import annotations

from dataclasses import dataclass, field

from app.sim.catalog import KalshiListing
from app.sim.ladder import Ladder
from app.sim.units import DOLLAR

# Lifecycle as the exchange keeps it; REST shows these as `status`.
OPEN, PAUSED, CLOSED, DETERMINED, SETTLED = "active", "inactive", "closed", "determined", "finalized"


@dataclass(slots=True)
class KalshiPosition:
    position: int = 0  # size units, + YES / - NO
    cost_micros: int = 0  # what the open position cost, 1e-6 dollars
    realized_micros: int = 0
    fees_micros: int = 0
    volume: int = 0  # size units traded by the user
    traded_micros: int = 0  # what those trades cost in total


@dataclass(slots=True)
class KalshiMarket:
    listing: KalshiListing
    open_ts: int
    close_ts: int
    status: str = OPEN
    yes: Ladder = field(default_factory=lambda: Ladder(descending=True))  # YES bids
    no: Ladder = field(default_factory=lambda: Ladder(descending=True))  # NO bids, NO-leg prices
    fair: int = 0
    last_price: int = 0
    previous_price: int = 0
    last_trade_size: int = 0
    volume: int = 0  # size units
    open_interest: int = 0
    dollar_volume: int = 0  # whole dollars
    result: str = ""
    settlement_value: int | None = None
    determination_ts: int | None = None
    settled_ts: int | None = None
    position: KalshiPosition = field(default_factory=KalshiPosition)

    @property
    def ticker(self) -> str:
        return self.listing.ticker

    @property
    def trading(self) -> bool:
        return self.status == OPEN

    def yes_bid(self) -> int:
        return self.yes.best() or 0

    def yes_ask(self) -> int:
        """Best YES ask = $1 - best NO bid (protocol/kalshi.md §8); $1.00 when there is none."""
        no = self.no.best()
        return DOLLAR - no if no is not None else DOLLAR

    def yes_bid_size(self) -> int:
        best = self.yes.best()
        return self.yes.get(best) if best is not None else 0

    def yes_ask_size(self) -> int:
        best = self.no.best()
        return self.no.get(best) if best is not None else 0

    def book(self, side: str) -> Ladder:
        return self.yes if side == "yes" else self.no

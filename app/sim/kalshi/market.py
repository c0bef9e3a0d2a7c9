"""One simulated Kalshi market: its listing, YES/NO bid books, stats, lifecycle and the user's position."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from app.sim.catalog import KalshiListing, snap_down, tick_at
from app.sim.history import Bar
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


MINUTES_KEPT = 2 * 24 * 60  # 1-minute records a market keeps for candlesticks: two days


@dataclass(slots=True)
class Minute:
    """One minute of a Kalshi market for its candlesticks: the YES prints (None without any) and the
    YES quote at the minute's end."""

    begin_s: int
    open: int | None
    high: int | None
    low: int | None
    close: int | None
    volume: int  # size units
    bid: int
    ask: int
    open_interest: int


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
    last_trade_size: int = 0
    volume: int = 0  # size units
    open_interest: int = 0
    dollar_volume: int = 0  # whole dollars
    result: str = ""
    settlement_value: int | None = None
    determination_ts: int | None = None
    settled_ts: int | None = None
    position: KalshiPosition = field(default_factory=KalshiPosition)
    minutes: deque[Minute] = field(default_factory=lambda: deque(maxlen=MINUTES_KEPT))

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

    def backfill(self, bars: list[Bar]) -> None:
        """The day before the simulator started (app/sim/history.py); the last print is its close."""
        ranges = self.listing.ranges
        for bar in bars:
            tick = tick_at(ranges, bar.close)
            bid = max(tick, snap_down(ranges, bar.close - tick))
            ask = min(DOLLAR - tick, bid + 2 * tick)
            minute = Minute(bar.begin_s, None, None, None, None, bar.volume, bid, ask, self.open_interest)
            if bar.trades:
                minute.open, minute.high, minute.low, minute.close = bar.open, bar.high, bar.low, bar.close
            self.minutes.append(minute)
        traded = [b for b in bars if b.trades]
        if traded:
            self.last_price = traded[-1].close

    def record_trade(self, yes_price: int, count: int, ts_s: int) -> None:
        """A print, into this minute's record (after the book and open interest moved)."""
        begin = ts_s - ts_s % 60
        bid, ask = self.yes_bid(), self.yes_ask()
        m = self.minutes[-1] if self.minutes else None
        if m is None or m.begin_s != begin:
            self.minutes.append(
                Minute(begin, yes_price, yes_price, yes_price, yes_price, count, bid, ask, self.open_interest)
            )
            return
        if m.open is None or m.high is None or m.low is None:
            m.open = m.high = m.low = yes_price
        m.high, m.low, m.close = max(m.high, yes_price), min(m.low, yes_price), yes_price
        m.volume += count
        m.bid, m.ask, m.open_interest = bid, ask, self.open_interest

    def quote_before(self, ts_s: int) -> tuple[int, int] | None:
        """The YES bid and ask at the end of the last minute kept that began at or before ``ts_s``."""
        found = None
        for m in self.minutes:
            if m.begin_s > ts_s:
                break
            found = (m.bid, m.ask)
        return found

    def volume_since(self, ts_s: int) -> int:
        """Size units traded in the minutes that began at or after ``ts_s``."""
        return sum(m.volume for m in self.minutes if m.begin_s >= ts_s)

    def price_before(self, ts_s: int) -> int | None:
        """The last YES print at or before ``ts_s`` that the minutes kept still know."""
        found = None
        for m in self.minutes:
            if m.begin_s > ts_s:
                break
            if m.close is not None:
                found = m.close
        return found

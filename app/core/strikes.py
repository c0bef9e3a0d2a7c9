"""A Kalshi strike board: one event's markets as one row per strike, beside its underlying's spot.

Strikes come from Kalshi's REST fields (``strike_type``, ``floor_strike``, ``cap_strike``), never from the
ticker: ``greater`` is "above floor", ``less`` "below cap", ``between`` "floor to cap". Prices are dollars
(Decimal, as the store keeps Kalshi quotes); the implied probability is the mid of the YES bid and ask
when both stand, else the last trade. No Qt, no I/O: the window feeds it REST objects and live quotes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any

from app.core.times import epoch

# Kalshi's crypto series and the Kraken pair each follows (KXBTCD, KXBTC, KXBTC15M ... -> BTC/USD).
UNDERLYINGS: tuple[tuple[str, str], ...] = (("KXBTC", "BTC/USD"), ("KXETH", "ETH/USD"))
# The CF Benchmarks real-time index each pair's events settle on (Kalshi's cfbenchmarks_value index_id).
SETTLEMENT_INDEX: dict[str, str] = {"BTC/USD": "BRTI", "ETH/USD": "ETHUSD_RTI"}


class BoardKind(Enum):
    THRESHOLD = "threshold"  # "above K" markets: P(finish above K), falling as K rises
    RANGE = "range"  # bands partitioning the outcomes: a histogram


class ProbabilitySource(Enum):
    MID = "mid"  # of the YES bid and ask
    LAST = "last"  # the last trade, when one side of the book is empty


@dataclass(frozen=True, slots=True)
class Strike:
    strike_type: str  # "greater" | "less" | "between" (others are shown but not plotted)
    floor: Decimal | None
    cap: Decimal | None

    @property
    def position(self) -> Decimal | None:
        """Where the strike sits on the price axis: the floor, the cap of a "below", a band's middle."""
        if self.floor is not None and self.cap is not None:
            return (self.floor + self.cap) / 2
        return self.floor if self.floor is not None else self.cap

    def label(self) -> str:
        if self.strike_type == "between" and self.floor is not None and self.cap is not None:
            return f"{_money(self.floor)} – {_money(self.cap)}"
        if self.strike_type in ("greater", "greater_or_equal") and self.floor is not None:
            return f"above {_money(self.floor)}"
        if self.strike_type in ("less", "less_or_equal") and self.cap is not None:
            return f"below {_money(self.cap)}"
        edge = self.floor if self.floor is not None else self.cap
        return _money(edge) if edge is not None else self.strike_type or "?"


@dataclass(frozen=True, slots=True)
class StrikeRow:
    market: str
    strike: Strike
    bid: Decimal | None = None  # YES, dollars
    ask: Decimal | None = None
    last: Decimal | None = None
    volume: Decimal | None = None  # contracts
    open_interest: Decimal | None = None
    close_time: float | None = None  # Unix seconds

    def probability(self) -> tuple[Decimal | None, ProbabilitySource | None]:
        """The implied YES probability (0..1) and what it was taken from."""
        if self.bid is not None and self.ask is not None and 0 < self.bid <= self.ask < 1:
            return (self.bid + self.ask) / 2, ProbabilitySource.MID
        if self.last is not None and 0 < self.last < 1:
            return self.last, ProbabilitySource.LAST
        return None, None

    def seconds_to_close(self, now: float) -> float | None:
        return None if self.close_time is None else max(0.0, self.close_time - now)

    def with_quote(
        self,
        bid: Decimal | None,
        ask: Decimal | None,
        last: Decimal | None,
        volume: Decimal | None,
        open_interest: Decimal | None,
    ) -> StrikeRow:
        """The row with live values where the stream has them (REST's values stay where it has not)."""
        return replace(
            self,
            bid=bid if bid is not None else self.bid,
            ask=ask if ask is not None else self.ask,
            last=last if last is not None else self.last,
            volume=volume if volume is not None else self.volume,
            open_interest=open_interest if open_interest is not None else self.open_interest,
        )


def _money(value: Decimal) -> str:
    text = f"{value:,.2f}"
    return "$" + (text[:-3] if text.endswith(".00") else text)


def _decimal(value: Any) -> Decimal | None:
    if value is None or isinstance(value, bool) or value == "":
        return None
    try:
        out = Decimal(str(value))  # a JSON number's shortest text: 97249.99 stays 97249.99
    except InvalidOperation:
        return None
    return out if out.is_finite() else None


def strike_of(market: Mapping[str, Any]) -> Strike | None:
    """The strike of one ``GET /markets`` object; None when it has no strike fields."""
    kind = market.get("strike_type")
    floor, cap = _decimal(market.get("floor_strike")), _decimal(market.get("cap_strike"))
    if not isinstance(kind, str) or (floor is None and cap is None):
        return None
    return Strike(kind, floor, cap)


def board_rows(markets: Iterable[Mapping[str, Any]]) -> list[StrikeRow]:
    """One row per market with a strike, lowest strike first (a "below" tail before the bands)."""
    rows: list[StrikeRow] = []
    for m in markets:
        strike = strike_of(m)
        if strike is None or not m.get("ticker"):
            continue
        rows.append(
            StrikeRow(
                str(m["ticker"]),
                strike,
                _price(m.get("yes_bid_dollars")),
                _price(m.get("yes_ask_dollars")),
                _price(m.get("last_price_dollars")),
                _decimal(m.get("volume_fp")),
                _decimal(m.get("open_interest_fp")),
                epoch(m.get("close_time")),
            )
        )
    rows.sort(key=_order)
    return rows


def _order(row: StrikeRow) -> tuple[Decimal, int]:
    s = row.strike
    position = s.position if s.position is not None else Decimal(0)
    rank = 0 if s.strike_type.startswith("less") else 2 if s.floor is not None and s.cap is None else 1
    return (s.cap if rank == 0 and s.cap is not None else position, rank)


def _price(value: Any) -> Decimal | None:
    """A ``*_dollars`` quote; "0.0000" (Kalshi's "no bid") and $1.00 ("no ask") are no quote."""
    price = _decimal(value)
    return price if price is not None and 0 < price < 1 else None


def kind_of(rows: Iterable[StrikeRow]) -> BoardKind:
    """A board with any band is a range board; otherwise a threshold board."""
    return BoardKind.RANGE if any(r.strike.strike_type == "between" for r in rows) else BoardKind.THRESHOLD


def underlying_of(series_or_ticker: str) -> str | None:
    """The Kraken pair a crypto series follows (``KXBTCD-26DEC0317`` -> ``BTC/USD``); None for others."""
    head = series_or_ticker.upper()
    for prefix, pair in UNDERLYINGS:
        if head.startswith(prefix):
            return pair
    return None


def nearest(rows: list[StrikeRow], spot: Decimal | None) -> int | None:
    """The index of the row whose strike lies nearest ``spot`` (for a range board: the band holding it)."""
    if spot is None or not rows:
        return None
    for i, row in enumerate(rows):
        s = row.strike
        if (
            s.strike_type == "between"
            and s.floor is not None
            and s.cap is not None
            and s.floor <= spot <= s.cap
        ):
            return i
    best: int | None = None
    gap: Decimal | None = None
    for i, row in enumerate(rows):
        position = row.strike.position
        if position is None:
            continue
        d = abs(position - spot)
        if gap is None or d < gap:
            best, gap = i, d
    return best


def curve(rows: list[StrikeRow]) -> list[tuple[Decimal, Decimal, Decimal | None]]:
    """What the plot draws: (left edge, right edge, probability) per row with a position, in order. A
    threshold's edges are its floor (both); a band's its floor and cap; a tail's its one edge."""
    out: list[tuple[Decimal, Decimal, Decimal | None]] = []
    for row in rows:
        s = row.strike
        p, _ = row.probability()
        if s.floor is not None and s.cap is not None:
            out.append((s.floor, s.cap, p))
        elif s.floor is not None:
            out.append((s.floor, s.floor, p))
        elif s.cap is not None:
            out.append((s.cap, s.cap, p))
    return out

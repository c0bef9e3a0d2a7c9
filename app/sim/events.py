"""What one step of the simulated market did, before any venue turns it into frames.

The market model emits these; each venue's server renders them per subscription. Prices and sizes
are integer units (see ``units``). Kalshi NO-side prices are NO-leg prices, as the exchange keeps
them; a ``use_yes_price`` subscription converts on the way out.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(slots=True)
class KalshiDelta:
    market: str
    side: str  # "yes" | "no"
    price: int  # NO side: NO-leg price
    delta: int  # signed size units
    ts_ms: int
    client_order_id: str | None = None  # set when the simulated user caused it


@dataclass(slots=True)
class KalshiTrade:
    market: str
    trade_id: str
    yes_price: int
    count: int
    taker_outcome: str  # "yes" | "no"
    ts_ms: int


@dataclass(slots=True)
class KalshiTickerChanged:
    market: str


@dataclass(slots=True)
class KalshiLifecycle:
    market: str
    event_type: str  # created | deactivated | activated | close_date_updated | determined | settled
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class KalshiEventCreated:
    event_ticker: str


@dataclass(slots=True)
class KalshiFill:
    """One fill of the simulated user, as the exchange records it (REST and the ``fill`` channel)."""

    trade_id: str
    order_id: str
    market: str
    is_taker: bool
    outcome: str  # "yes" | "no": the side the user bought (or sold)
    action: str  # "buy" | "sell"
    yes_price: int
    count: int
    fee_micros: int  # fee in 1e-6 dollars
    post_position: int
    ts_ms: int
    client_order_id: str = ""


@dataclass(slots=True)
class KalshiUserOrder:
    order_id: str
    market: str
    status: str  # resting | canceled | executed
    outcome: str
    action: str
    yes_price: int
    initial: int
    filled: int
    taker_cost_micros: int
    maker_cost_micros: int
    taker_fees_micros: int
    maker_fees_micros: int
    client_order_id: str
    created_ts_ms: int
    updated_ts_ms: int


@dataclass(slots=True)
class KalshiPositionChanged:
    market: str


@dataclass(slots=True)
class KalshiIndexValue:
    """One CF Benchmarks index value as Kalshi relays it (``cfbenchmarks_value``), in cents."""

    index_id: str  # "BRTI", "ETHUSD_RTI"
    value: int  # cents
    avg_60s: int  # the mean of the last ``window`` values, 1e-8 dollars
    window: int
    window_start_ms: int
    ts_ms: int


@dataclass(slots=True)
class KrakenBook:
    """Levels touched by one step on one pair, with what they held before (0: absent)."""

    pair: str
    touched: list[tuple[str, int, int]]  # (side "bids"|"asks", price, old qty)
    old_bounds: dict[int, tuple[int | None, int | None]]  # depth -> (bid boundary, ask boundary)
    ts: str


@dataclass(slots=True)
class KrakenTrade:
    pair: str
    trades: list[dict[str, Any]]  # side, price (units), qty (units), ord_type, trade_id, timestamp


@dataclass(slots=True)
class KrakenBbo:
    pair: str


@dataclass(slots=True)
class KrakenExecution:
    report: dict[str, Any]  # wire-ready except prices/qty, which are (units, decimals) tuples


@dataclass(slots=True)
class KrakenLedger:
    entries: list[dict[str, Any]]


SimEvent = (
    KalshiDelta
    | KalshiTrade
    | KalshiTickerChanged
    | KalshiLifecycle
    | KalshiEventCreated
    | KalshiFill
    | KalshiUserOrder
    | KalshiPositionChanged
    | KalshiIndexValue
    | KrakenBook
    | KrakenTrade
    | KrakenBbo
    | KrakenExecution
    | KrakenLedger
)

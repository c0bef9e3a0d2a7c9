"""Venue-neutral events that the codecs produce and the store consumes.

Plain slotted dataclasses with machine-string enums; display text belongs to the UI. Prices and sizes are
exact ``Decimal``s, except in book events, whose levels are integer units at the book's scale (see
``core.numbers``) because they sit on the hot path. Kalshi prices are in YES terms throughout.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any

from app.core.instruments import Instrument, Venue

Level = tuple[int, int]  # (price units, size units) at the book's scale


class TakerSide(StrEnum):
    BUY = "buy"  # Kalshi: taker bought YES (or sold NO)
    SELL = "sell"


class RecoveryKind(StrEnum):
    RESNAPSHOT = "resnapshot"  # Kalshi: update_subscription get_snapshot on the sid
    RESUBSCRIBE = "resubscribe"  # unsubscribe + subscribe (Kraken book) or subscribe again (Kalshi)
    RECONNECT = "reconnect"


@dataclass(slots=True)
class Ticker:
    venue: Venue
    market: str
    bid: Decimal | None = None
    ask: Decimal | None = None
    bid_size: Decimal | None = None
    ask_size: Decimal | None = None
    last: Decimal | None = None
    volume: Decimal | None = None
    change: Decimal | None = None  # absolute 24 h change where the venue gives it
    change_pct: Decimal | None = None
    open_interest: Decimal | None = None
    high: Decimal | None = None
    low: Decimal | None = None
    vwap: Decimal | None = None
    ts_ms: int | None = None


@dataclass(slots=True)
class Trade:
    venue: Venue
    market: str
    trade_id: str
    price: Decimal
    size: Decimal
    taker_side: TakerSide | None
    ts_ms: int | None = None
    seq: int | None = None


@dataclass(slots=True)
class Fill:
    """One of the user's own executions; ``fill_id`` is unique per venue (dedupe key)."""

    venue: Venue
    market: str
    fill_id: str
    order_id: str
    price: Decimal
    size: Decimal
    side: TakerSide  # Kalshi: BUY = towards YES (buy yes / sell no)
    is_taker: bool | None = None
    fee: Decimal | None = None
    position_after: Decimal | None = None
    ts_ms: int | None = None


@dataclass(slots=True)
class Position:
    venue: Venue
    market: str
    position: Decimal  # Kalshi: + YES contracts, - NO contracts
    cost: Decimal | None = None
    realized_pnl: Decimal | None = None
    fees_paid: Decimal | None = None
    volume: Decimal | None = None


@dataclass(slots=True)
class Balance:
    venue: Venue
    asset: str
    balance: Decimal
    change: Decimal | None = None
    ts_ms: int | None = None


@dataclass(slots=True)
class OrderUpdate:
    venue: Venue
    market: str
    order_id: str
    status: str
    side: TakerSide | None = None
    price: Decimal | None = None
    filled: Decimal | None = None
    remaining: Decimal | None = None
    ts_ms: int | None = None


@dataclass(slots=True)
class Lifecycle:
    """A market or event changed state (Kalshi lifecycle channels; Kraken pair status)."""

    venue: Venue
    market: str  # market ticker, or event ticker when scope == "event"
    event_type: str  # the venue's word: created, activated, deactivated, determined, settled, ...
    status: str | None = None  # normalised: open, paused, closed, determined, settled
    scope: str = "market"  # market | event | multivariate
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Candle:
    venue: Venue
    market: str
    interval_min: int
    begin: str
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    vwap: Decimal | None = None
    trades: int | None = None


@dataclass(slots=True)
class InstrumentUpdate:
    venue: Venue
    instruments: list[Instrument]


@dataclass(slots=True)
class BookSnapshot:
    """Replaces a book whole (never merged). Levels best first, integer units."""

    venue: Venue
    market: str
    bids: list[Level]
    asks: list[Level]
    price_decimals: int
    size_decimals: int
    checksum: int | None = None
    sid: int | None = None
    seq: int | None = None


@dataclass(slots=True)
class BookChange:
    """Level changes of one message, in message order. ``additive``: sizes are deltas (Kalshi),
    else absolute sizes where 0 removes the level (Kraken)."""

    venue: Venue
    market: str
    bids: list[Level]
    asks: list[Level]
    additive: bool
    checksum: int | None = None
    sid: int | None = None
    seq: int | None = None
    # The exchange's time as sent (Kalshi ``ts_ms``, Kraken RFC 3339 text), read with
    # ``core.times.exchange_ms`` only when something needs it (an alert firing): never parsed per frame.
    ts: int | str | None = None


class OrderEventKind(StrEnum):
    """What happened to one resting order (Kraken's level3 ``event``)."""

    ADD = "add"
    MODIFY = "modify"  # the remaining size changed (a partial fill)
    DELETE = "delete"  # filled or cancelled


@dataclass(slots=True)
class OrderEvent:
    """One order's change in a level-3 update, integer units at the book's scale."""

    kind: OrderEventKind
    order_id: str
    price: int
    size: int
    ts: str | None = None  # the order's time as sent (RFC 3339): when it was inserted or amended


@dataclass(slots=True)
class Level3Snapshot:
    """A level-3 (order by order) book was replaced whole; the book itself is ``core.level3``."""

    venue: Venue
    market: str
    bid_orders: int
    ask_orders: int
    checksum: int | None = None


@dataclass(slots=True)
class Level3Change:
    """One level-3 update's order events per side, in message order."""

    venue: Venue
    market: str
    bids: list[OrderEvent]
    asks: list[OrderEvent]
    checksum: int | None = None
    ts: str | None = None


@dataclass(slots=True)
class Subscribed:
    venue: Venue
    channel: str
    sid: int | None = None
    req_id: int | None = None
    market: str | None = None  # Kraken acknowledges per symbol
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class Unsubscribed:
    venue: Venue
    sid: int | None = None
    req_id: int | None = None
    channel: str | None = None
    market: str | None = None


@dataclass(slots=True)
class Ack:
    """A command succeeded (Kalshi ``ok``: update_subscription / list_subscriptions; Kraken pong)."""

    venue: Venue
    req_id: int | None = None
    sid: int | None = None
    markets: list[str] | None = None
    subscriptions: list[tuple[str, int]] | None = None  # list_subscriptions: (channel, sid)
    kind: str = "ok"


@dataclass(slots=True)
class ErrorEvent:
    """The venue refused something. ``terminal``: the subscription is gone and must be re-made."""

    venue: Venue
    message: str
    code: int | None = None
    req_id: int | None = None
    sid: int | None = None
    markets: list[str] = field(default_factory=list)
    terminal: bool = False
    method: str | None = None


@dataclass(slots=True)
class Status:
    venue: Venue
    system: str  # Kraken: online | maintenance | cancel_only | post_only
    connection_id: int | None = None
    version: str | None = None


@dataclass(slots=True)
class Heartbeat:
    venue: Venue


@dataclass(slots=True)
class ClientCommand:
    """A client->server command found in a recording (fixtures keep both directions)."""

    venue: Venue
    name: str
    req_id: int | None = None


@dataclass(slots=True)
class Notice:
    """Something the venue sent that carries no market data but is worth showing (RFQs, index values,
    order-group changes, non-JSON proxy text)."""

    venue: Venue
    kind: str
    market: str | None = None
    text: str = ""
    detail: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class IndexValue:
    """A settlement index's value as Kalshi relays it (``cfbenchmarks_value``: CF Benchmarks' BRTI,
    ETHUSD_RTI...), in dollars. What Kalshi's crypto events settle on; never a Kraken price."""

    venue: Venue
    index_id: str
    value: Decimal
    ts_ms: int | None = None  # the index's own time, when given
    avg_60s: Decimal | None = None  # the 60 s average the settlement uses, when given


@dataclass(slots=True)
class Unknown:
    """A well-formed frame of a type this codec does not know. Kept, counted, never fatal."""

    venue: Venue
    type: str
    market: str | None = None
    raw: Any = None


@dataclass(slots=True)
class Malformed:
    """A frame that could not be decoded (bad JSON, wrong field types). Counted, never fatal."""

    venue: Venue
    reason: str
    text: str = ""
    market: str | None = None


@dataclass(slots=True)
class SequenceGap:
    venue: Venue
    sid: int | None  # Kalshi sid; None for Kraken's per-channel sequence
    expected: int
    got: int
    channel: str | None = None
    markets: list[str] = field(default_factory=list)


@dataclass(slots=True)
class ChecksumResult:
    venue: Venue
    market: str
    ok: bool
    expected: int
    computed: int
    channel: str | None = None  # None: the book; "level3": the order-by-order book


@dataclass(slots=True)
class RecoveryAction:
    """What the stream layer should send to repair state; the codec never sends anything itself."""

    venue: Venue
    kind: RecoveryKind
    reason: str
    markets: list[str] = field(default_factory=list)
    sid: int | None = None
    channel: str | None = None
    params: dict[str, Any] = field(default_factory=dict)


Event = (
    Ticker
    | Trade
    | Fill
    | Position
    | Balance
    | OrderUpdate
    | Lifecycle
    | Candle
    | InstrumentUpdate
    | BookSnapshot
    | BookChange
    | Level3Snapshot
    | Level3Change
    | Subscribed
    | Unsubscribed
    | Ack
    | ErrorEvent
    | Status
    | Heartbeat
    | ClientCommand
    | Notice
    | IndexValue
    | Unknown
    | Malformed
    | SequenceGap
    | ChecksumResult
    | RecoveryAction
)

"""Strict, independent models of every server->client WebSocket frame shape in the protocol documents.

Written ONLY from the shared protocol documents, never from the application code, so that it is an
independent check of whatever produces frames (the exchange simulator, captured fixtures):

* Kalshi current format: ``protocol/kalshi.md`` §3 (envelope, value conventions), §5 (responses and
  error codes), §6 (channels and field tables), §7.4 (which types carry ``seq``).
* Kalshi legacy integer-cent format: seed doc ``000`` (the original login/bearer-era WebSocket page).
* Kraken spot WebSocket v2: ``protocol/kraken.md`` §2 (request/response envelope) and §3 (channels).

Entry points:

* :func:`validate_kalshi` (``legacy=True`` selects the seed-doc namespace) and :func:`validate_kraken`
  return the frame *kind* (see :data:`KALSHI_KINDS`, :data:`KALSHI_LEGACY_KINDS`, :data:`KRAKEN_KINDS`)
  and raise :class:`ShapeError` when the frame does not match.
* :func:`check_kraken_book_precision` additionally checks the *raw text* of every book price/qty.

Rules used throughout:

* Every struct forbids unknown fields, so an invented or stale field fails.
* Optional fields default to ``UNSET`` (not ``None``): an optional field may be absent, but an explicit
  ``null`` fails unless the document says the field is nullable.
* Fields the documents say were *observed missing* on the wire are optional even where the schema says
  required (Kalshi ticker ``dollar_volume``/``dollar_open_interest``/``time``/``ts_ms``, trade
  ``is_block_trade``; Kraken ticker/book ``timestamp``, status ``connection_id``).
* Cross-field rules (price ranges, yes+no=1, sorted Kraken snapshots, ...) are checked in
  ``__post_init__``; msgspec turns the ``ValueError`` into a ``ValidationError`` carrying the JSON path.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Annotated, Any, Final, Literal

import msgspec
from msgspec import UNSET, Meta, UnsetType

__all__ = [
    "KALSHI_KINDS",
    "KALSHI_LEGACY_KINDS",
    "KRAKEN_KINDS",
    "ShapeError",
    "check_kraken_book_precision",
    "validate_kalshi",
    "validate_kraken",
]


class ShapeError(ValueError):
    """A frame does not match the documented protocol shape."""


class _Strict(msgspec.Struct, forbid_unknown_fields=True):
    """Base of every model: unknown fields are an error (inherited by all subclasses)."""


# ---------------------------------------------------------------------------------------------------
# Shared scalar types
# ---------------------------------------------------------------------------------------------------

# Kalshi §3: "*_dollars fixed-point strings, up to 4 decimals"; "*_fp ... always emit 2 decimals".
DOLLARS_RE: Final = r"^-?\d+\.\d{1,4}$"
# fee_cost ("0.010000") and the user_order cost/fee fields ("taker_fill_cost_dollars (6 dp)") use 6 dp.
DOLLARS6_RE: Final = r"^-?\d+\.\d{1,6}$"
PRICE_RE: Final = r"^\d+\.\d{1,4}$"  # a price is a non-negative *_dollars value
FP_RE: Final = r"^\d+\.\d{2}$"
SIGNED_FP_RE: Final = r"^-?\d+\.\d{2}$"
# RFC 3339 UTC text as it appears on both wires (Kraken has up to 9 fraction digits).
RFC3339_RE: Final = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$"

Dollars = Annotated[str, Meta(pattern=DOLLARS_RE)]
Dollars6 = Annotated[str, Meta(pattern=DOLLARS6_RE)]
Price = Annotated[str, Meta(pattern=PRICE_RE)]
Fp = Annotated[str, Meta(pattern=FP_RE)]
SignedFp = Annotated[str, Meta(pattern=SIGNED_FP_RE)]
Rfc3339 = Annotated[str, Meta(pattern=RFC3339_RE)]
NonEmptyStr = Annotated[str, Meta(min_length=1)]

Sid = Annotated[int, Meta(ge=1)]  # "sid int >= 1"
Seq = Annotated[int, Meta(ge=1)]  # "seq int >= 1"
CmdId = Annotated[int, Meta(ge=0)]  # "id int >= 0"
NonNegInt = Annotated[int, Meta(ge=0)]
PosInt = Annotated[int, Meta(ge=1)]
UInt32 = Annotated[int, Meta(ge=0, le=0xFFFFFFFF)]

YesNo = Literal["yes", "no"]
BidAsk = Literal["bid", "ask"]


def _dec(text: str) -> Decimal:
    return Decimal(text)


def _check_price_in(text: str, name: str, *, lo: str = "0", hi: str = "1", inclusive: bool = False) -> None:
    value = _dec(text)
    low, high = Decimal(lo), Decimal(hi)
    ok = low <= value <= high if inclusive else low < value < high
    if not ok:
        bounds = f"[{lo}, {hi}]" if inclusive else f"({lo}, {hi})"
        raise ValueError(f"{name}={text!r} is outside {bounds}")


# ===================================================================================================
# Kalshi, current format (protocol/kalshi.md §3, §5, §6)
# ===================================================================================================

KalshiChannel = Literal[
    # §4.1: the 13 current subscribe channel names.
    "orderbook_delta",
    "ticker",
    "trade",
    "fill",
    "market_positions",
    "market_lifecycle_v2",
    "multivariate_market_lifecycle",
    "communications",
    "order_group_updates",
    "user_orders",
    "cfbenchmarks_value",
    "cfbenchmarks_value_5hz",
    "pyth_value",
]

# §5.1: enum [1,2,3,4,5,7,8,9,10,11,12,13,14,15,18..28]; 6, 16 and 17 are retired ("Not emitted").
KALSHI_ERROR_CODES: Final = frozenset({1, 2, 3, 4, 5, 7, 8, 9, 10, 11, 12, 13, 14, 15, *range(18, 29)})
KALSHI_RETIRED_ERROR_CODES: Final = frozenset({6, 16, 17})


# --- control frames (§5) ---------------------------------------------------------------------------


class KalshiChannelSid(_Strict):
    channel: KalshiChannel
    sid: Sid


class KalshiSubscribed(_Strict):
    """``subscribed``: R type, msg{channel, sid}; O id. No top-level sid/seq."""

    type: Literal["subscribed"]
    msg: KalshiChannelSid
    id: CmdId | UnsetType = UNSET
    sending_ts_ms: NonNegInt | UnsetType = UNSET


class KalshiUnsubscribed(_Strict):
    """``unsubscribed``: R type, sid, seq; O id. No msg."""

    type: Literal["unsubscribed"]
    sid: Sid
    seq: Seq
    id: CmdId | UnsetType = UNSET
    sending_ts_ms: NonNegInt | UnsetType = UNSET


class KalshiOkMarkets(_Strict):
    # Both lists may be omitted (``skip_ticker_ack``: "OK responses omit the market_tickers/market_ids").
    market_tickers: list[str] | UnsetType = UNSET
    market_ids: list[str] | UnsetType = UNSET


class KalshiOk(_Strict):
    """``ok`` answering update_subscription (or a repeat subscribe): msg{market_tickers, market_ids}.

    sid and seq are required: §7.4 rule 2 says ``ok`` consumes a seq on its sid (real: ``seq`` 108).
    (§11 item 8 leaves open whether an ``ok`` on an unsequenced channel carries seq; the brief for these
    models requires it.) The cfbenchmarks/pyth ``ok`` (msg{index_ids}/{underlying_tickers}) is out of
    scope and fails on the unknown msg field.
    """

    type: Literal["ok"]
    sid: Sid
    seq: Seq
    msg: KalshiOkMarkets
    id: CmdId | UnsetType = UNSET
    sending_ts_ms: NonNegInt | UnsetType = UNSET


class KalshiOkListSubscriptions(_Strict):
    """``ok`` answering list_subscriptions: R type, msg = [{channel, sid}]; O id. No sid/seq."""

    type: Literal["ok"]
    msg: list[KalshiChannelSid]
    id: CmdId | UnsetType = UNSET
    sending_ts_ms: NonNegInt | UnsetType = UNSET


class KalshiErrorBody(_Strict):
    code: int
    msg: NonEmptyStr
    market_ticker: str | UnsetType = UNSET
    market_tickers: list[str] | UnsetType = UNSET

    def __post_init__(self) -> None:
        if self.code in KALSHI_RETIRED_ERROR_CODES:
            raise ValueError(f"error code {self.code} is retired (§5.1: 'Not emitted')")
        if self.code not in KALSHI_ERROR_CODES:
            raise ValueError(f"error code {self.code} is not in the current code set")


class KalshiError(_Strict):
    """``error``: R type, msg{code, msg}; O id, sid (scoped), seq (scoped, sequenced channel)."""

    type: Literal["error"]
    msg: KalshiErrorBody
    id: CmdId | UnsetType = UNSET
    sid: Sid | UnsetType = UNSET
    seq: Seq | UnsetType = UNSET
    sending_ts_ms: NonNegInt | UnsetType = UNSET

    def __post_init__(self) -> None:
        # seq is only "Present on subscription-scoped errors on sequenced channels": no seq without sid.
        # A scoped error on an unsequenced channel (ticker, fill, ...) has sid but no seq.
        if self.seq is not UNSET and self.sid is UNSET:
            raise ValueError("error carries seq but no sid (seq is only on subscription-scoped errors)")


# --- orderbook_delta channel (§6.1) ----------------------------------------------------------------


def _check_levels(levels: list[tuple[Price, Fp]] | UnsetType, name: str) -> None:
    if levels is UNSET:
        return
    if not levels:
        # "This key will not exist if there are no Yes offers" -> present means non-empty.
        raise ValueError(f"{name} is present but empty (an empty side is an absent key)")
    seen: set[Decimal] = set()
    for price, size in levels:
        _check_price_in(price, f"{name} price")
        p = _dec(price)
        if p in seen:
            raise ValueError(f"{name} lists price {price} twice")
        seen.add(p)
        if _dec(size) <= 0:
            raise ValueError(f"{name} level {price} has non-positive size {size}")


class KalshiSnapshotBody(_Strict):
    market_ticker: NonEmptyStr
    market_id: str  # R; real demo frames carry "" [PA][HP]
    yes_dollars_fp: list[tuple[Price, Fp]] | UnsetType = UNSET
    no_dollars_fp: list[tuple[Price, Fp]] | UnsetType = UNSET

    def __post_init__(self) -> None:
        _check_levels(self.yes_dollars_fp, "yes_dollars_fp")
        _check_levels(self.no_dollars_fp, "no_dollars_fp")


class KalshiOrderbookSnapshot(_Strict):
    """R type, sid, seq, msg; O id (a get_snapshot reply). No timestamp on snapshots."""

    type: Literal["orderbook_snapshot"]
    sid: Sid
    seq: Seq
    msg: KalshiSnapshotBody
    id: CmdId | UnsetType = UNSET
    sending_ts_ms: NonNegInt | UnsetType = UNSET


class KalshiDeltaBody(_Strict):
    market_ticker: NonEmptyStr
    market_id: str
    price_dollars: Price
    delta_fp: SignedFp
    side: YesNo
    client_order_id: str | UnsetType = UNSET
    subaccount: int | UnsetType = UNSET
    ts: Rfc3339 | UnsetType = UNSET  # deprecated; RFC3339 *string* on this channel only
    ts_ms: NonNegInt | UnsetType = UNSET

    def __post_init__(self) -> None:
        _check_price_in(self.price_dollars, "price_dollars")
        if _dec(self.delta_fp) == 0:
            raise ValueError("delta_fp is zero (a delta must change the level)")


class KalshiOrderbookDelta(_Strict):
    """R type, sid, seq, msg. No id."""

    type: Literal["orderbook_delta"]
    sid: Sid
    seq: Seq
    msg: KalshiDeltaBody
    sending_ts_ms: NonNegInt | UnsetType = UNSET


# --- ticker (§6.2) ---------------------------------------------------------------------------------


class KalshiTickerBody(_Strict):
    market_id: str
    market_ticker: NonEmptyStr
    price_dollars: Price
    yes_bid_dollars: Price  # "0.0000" when there is no bid [TAPE]
    yes_ask_dollars: Price
    volume_fp: Fp
    open_interest_fp: Fp
    yes_bid_size_fp: Fp
    yes_ask_size_fp: Fp
    last_trade_size_fp: Fp
    ts: NonNegInt  # R, deprecated, Unix seconds
    # Schema-required but observed missing ([HP] demo ticker; [3P-RS] ts_ms) -> optional (§6.2, G11).
    dollar_volume: int | UnsetType = UNSET
    dollar_open_interest: int | UnsetType = UNSET
    ts_ms: NonNegInt | UnsetType = UNSET
    time: Rfc3339 | UnsetType = UNSET

    def __post_init__(self) -> None:
        for name in ("price_dollars", "yes_bid_dollars", "yes_ask_dollars"):
            _check_price_in(getattr(self, name), name, inclusive=True)


class KalshiTicker(_Strict):
    """R type, sid, msg. No seq (§7.4 rule 5), no id."""

    type: Literal["ticker"]
    sid: Sid
    msg: KalshiTickerBody
    sending_ts_ms: NonNegInt | UnsetType = UNSET


# --- trade (§6.3) ----------------------------------------------------------------------------------


class KalshiTradeBody(_Strict):
    trade_id: NonEmptyStr
    market_ticker: NonEmptyStr
    yes_price_dollars: Price
    no_price_dollars: Price
    count_fp: Fp
    taker_side: YesNo  # deprecated, still sent
    taker_outcome_side: YesNo
    taker_book_side: BidAsk
    ts: NonNegInt
    ts_ms: NonNegInt
    is_block_trade: bool | UnsetType = UNSET  # R in schema; absent in a 2026-08-17 capture [PA]

    def __post_init__(self) -> None:
        _check_price_in(self.yes_price_dollars, "yes_price_dollars")
        _check_price_in(self.no_price_dollars, "no_price_dollars")
        if _dec(self.yes_price_dollars) + _dec(self.no_price_dollars) != 1:
            raise ValueError("no_price_dollars must equal 1 - yes_price_dollars")
        if _dec(self.count_fp) <= 0:
            raise ValueError("count_fp must be positive")
        # "taker_book_side bid/ask: bid == yes, ask == no"
        if (self.taker_book_side == "bid") != (self.taker_outcome_side == "yes"):
            raise ValueError("taker_book_side must be bid for yes / ask for no")


class KalshiTrade(_Strict):
    """R type, sid, seq, msg."""

    type: Literal["trade"]
    sid: Sid
    seq: Seq
    msg: KalshiTradeBody
    sending_ts_ms: NonNegInt | UnsetType = UNSET


# --- fill (§6.4) -----------------------------------------------------------------------------------


class KalshiFillBody(_Strict):
    trade_id: NonEmptyStr
    order_id: NonEmptyStr
    market_ticker: NonEmptyStr
    exchange_index: int
    is_taker: bool
    side: YesNo  # deprecated
    yes_price_dollars: Price
    count_fp: Fp
    fee_cost: Dollars6  # fixed-point dollars without the _dollars suffix, e.g. "0.010000"
    action: Literal["buy", "sell", "sell_partial", "sell_to_close", ""]  # deprecated
    post_position_fp: SignedFp
    purchased_side: YesNo  # deprecated
    outcome_side: YesNo
    book_side: BidAsk
    ts: NonNegInt
    ts_ms: NonNegInt
    client_order_id: str | UnsetType = UNSET
    subaccount: int | UnsetType = UNSET

    def __post_init__(self) -> None:
        _check_price_in(self.yes_price_dollars, "yes_price_dollars")
        if _dec(self.count_fp) <= 0:
            raise ValueError("count_fp must be positive")


class KalshiFill(_Strict):
    """R type, sid, msg. No seq."""

    type: Literal["fill"]
    sid: Sid
    msg: KalshiFillBody
    sending_ts_ms: NonNegInt | UnsetType = UNSET


# --- market_positions -> market_position (§6.5) ----------------------------------------------------


class KalshiPositionBody(_Strict):
    user_id: NonEmptyStr
    market_ticker: NonEmptyStr
    position_fp: SignedFp  # + YES, - NO
    position_cost_dollars: Dollars
    realized_pnl_dollars: Dollars
    fees_paid_dollars: Dollars
    position_fee_cost_dollars: Dollars
    volume_fp: Fp
    subaccount: int | UnsetType = UNSET


class KalshiMarketPosition(_Strict):
    """R type, sid, msg. No seq."""

    type: Literal["market_position"]
    sid: Sid
    msg: KalshiPositionBody
    sending_ts_ms: NonNegInt | UnsetType = UNSET


# --- user_orders -> user_order (§6.6) --------------------------------------------------------------


class KalshiUserOrderBody(_Strict):
    order_id: NonEmptyStr
    user_id: NonEmptyStr
    ticker: NonEmptyStr  # NOT market_ticker on this channel
    exchange_index: int
    status: Literal["resting", "canceled", "executed", "unknown"]
    side: YesNo  # deprecated
    is_yes: bool  # deprecated
    outcome_side: YesNo
    book_side: BidAsk
    yes_price_dollars: Price  # 4 dp
    fill_count_fp: Fp
    remaining_count_fp: Fp
    initial_count_fp: Fp
    # The doc gives 6 dp for taker_fill_cost_dollars; the official example also writes the other three
    # cost/fee fields with 6 dp ("0.000000"), so all four accept up to 6 dp.
    taker_fill_cost_dollars: Dollars6
    maker_fill_cost_dollars: Dollars6
    taker_fees_dollars: Dollars6
    maker_fees_dollars: Dollars6
    client_order_id: str
    created_time: Rfc3339 | None  # deprecated, string|null
    created_ts_ms: NonNegInt | None  # int|null
    order_group_id: str | UnsetType = UNSET
    self_trade_prevention_type: Literal["taker_at_cross", "maker"] | UnsetType = UNSET
    last_update_time: Rfc3339 | UnsetType = UNSET  # deprecated
    expiration_time: Rfc3339 | UnsetType = UNSET  # deprecated
    expiration_ts_ms: NonNegInt | UnsetType = UNSET
    last_updated_ts_ms: NonNegInt | UnsetType = UNSET
    last_update_reason: (
        Literal[
            "Decrease",
            "Amend",
            "MarginCancel",
            "SelfTradeCancel",
            "ExpiryCancel",
            "CloseCancel",
            "HaltCancel",
            "Trade",
            "PostOnlyCrossCancel",
            "ReduceOnlyCancel",
        ]
        | UnsetType
    ) = UNSET
    subaccount_number: Annotated[int, Meta(ge=0, le=63)] | UnsetType = UNSET

    def __post_init__(self) -> None:
        _check_price_in(self.yes_price_dollars, "yes_price_dollars")
        if (self.book_side == "bid") != (self.outcome_side == "yes"):
            raise ValueError("book_side must be bid for yes / ask for no")


class KalshiUserOrder(_Strict):
    """R type, sid, msg. No seq."""

    type: Literal["user_order"]
    sid: Sid
    msg: KalshiUserOrderBody
    sending_ts_ms: NonNegInt | UnsetType = UNSET


# --- market_lifecycle_v2 channel (§6.8) ------------------------------------------------------------

KalshiPriceLevelStructure = Literal[
    "banded_centi_cent",
    "",
    "linear_cent",
    "deci_cent",
    "tapered_deci_cent",
    "center_whole_edge_half_cent",
    "center_whole_edge_quint_cent",
    "center_half_edge_half_cent",
    "center_half_edge_quint_cent",
    "center_half_edge_deci_cent",
    "center_quint_edge_quint_cent",
    "center_quint_edge_deci_cent",
    "center_centi_edge_centi_cent",
    "center_deci_edge_centi_cent",
]


class KalshiPriceRange(_Strict):
    start: Price
    end: Price
    step: Price

    def __post_init__(self) -> None:
        start, end, step = _dec(self.start), _dec(self.end), _dec(self.step)
        if not (0 <= start < end <= 1) or step <= 0:
            raise ValueError(f"price range {self.start}..{self.end} step {self.step} is not valid")


class KalshiAdditionalMetadata(_Strict):
    name: str
    title: str
    yes_sub_title: str
    no_sub_title: str
    rules_primary: str
    rules_secondary: str
    can_close_early: bool
    event_ticker: NonEmptyStr
    expected_expiration_ts: int
    strike_type: str | UnsetType = UNSET
    floor_strike: float | UnsetType = UNSET  # number (the 2026-03 transitional spec had a string)
    cap_strike: float | UnsetType = UNSET
    custom_strike: dict[str, Any] | UnsetType = UNSET


# "when present" column of §6.8: which optional fields each event_type may carry.
_LIFECYCLE_FIELDS: Final[dict[str, frozenset[str]]] = {
    "created": frozenset(
        {
            "exchange_index",
            "open_ts",
            "close_ts",
            "additional_metadata",
            "price_level_structure",
            "price_ranges",
        }
    ),
    "deactivated": frozenset({"is_deactivated"}),
    "activated": frozenset({"is_deactivated"}),
    "close_date_updated": frozenset({"close_ts"}),
    "determined": frozenset({"determination_ts", "result", "settlement_value"}),
    "settled": frozenset({"settled_ts"}),
    "price_level_structure_updated": frozenset({"price_level_structure", "price_ranges"}),
}


class KalshiLifecycleBody(_Strict):
    market_ticker: NonEmptyStr
    event_type: Literal[
        "created",
        "deactivated",
        "activated",
        "close_date_updated",
        "determined",
        "settled",
        "price_level_structure_updated",
    ]
    exchange_index: int | UnsetType = UNSET
    open_ts: NonNegInt | UnsetType = UNSET
    close_ts: NonNegInt | UnsetType = UNSET
    determination_ts: NonNegInt | UnsetType = UNSET
    settled_ts: NonNegInt | UnsetType = UNSET
    result: str | UnsetType = UNSET
    settlement_value: Price | UnsetType = UNSET
    is_deactivated: bool | UnsetType = UNSET
    additional_metadata: KalshiAdditionalMetadata | UnsetType = UNSET
    price_level_structure: KalshiPriceLevelStructure | UnsetType = UNSET
    price_ranges: list[KalshiPriceRange] | UnsetType = UNSET

    def __post_init__(self) -> None:
        allowed = _LIFECYCLE_FIELDS[self.event_type]
        for name in self.__struct_fields__:
            if name in ("market_ticker", "event_type"):
                continue
            if getattr(self, name) is not UNSET and name not in allowed:
                raise ValueError(f"field {name!r} is not carried by event_type {self.event_type!r}")
        if self.price_ranges is not UNSET and self.price_level_structure is UNSET:
            raise ValueError("price_ranges comes with price_level_structure")
        if self.settlement_value is not UNSET:
            _check_price_in(self.settlement_value, "settlement_value", inclusive=True)


class KalshiMetadataUpdatedBody(_Strict):
    """The ``event_type: "metadata_updated"`` variant of ``market_lifecycle_v2``."""

    event_type: Literal["metadata_updated"]
    market_ticker: NonEmptyStr
    strike_type: str | UnsetType = UNSET
    floor_strike: float | UnsetType = UNSET
    cap_strike: float | UnsetType = UNSET
    custom_strike: dict[str, Any] | UnsetType = UNSET
    yes_sub_title: str | UnsetType = UNSET


class KalshiMarketLifecycleV2(_Strict):
    type: Literal["market_lifecycle_v2"]
    sid: Sid
    seq: Seq
    msg: KalshiLifecycleBody
    sending_ts_ms: NonNegInt | UnsetType = UNSET


class KalshiMarketMetadataUpdated(_Strict):
    type: Literal["market_lifecycle_v2"]
    sid: Sid
    seq: Seq
    msg: KalshiMetadataUpdatedBody
    sending_ts_ms: NonNegInt | UnsetType = UNSET


class KalshiEventLifecycleBody(_Strict):
    event_ticker: NonEmptyStr
    exchange_index: int
    title: str
    subtitle: str  # the Jan-2026 schema's sub_title is gone
    collateral_return_type: Literal["MECNET", "DIRECNET", ""]
    series_ticker: NonEmptyStr
    strike_date: int | UnsetType = UNSET
    strike_period: str | UnsetType = UNSET


class KalshiEventLifecycle(_Strict):
    type: Literal["event_lifecycle"]
    sid: Sid
    seq: Seq
    msg: KalshiEventLifecycleBody
    sending_ts_ms: NonNegInt | UnsetType = UNSET


class KalshiEventFeeUpdateBody(_Strict):
    event_ticker: NonEmptyStr
    fee_type_override: (
        Literal[
            "quadratic",
            "quadratic_with_maker_fees",
            "quadratic_with_combo_maker_fees",
            "flat",
            "margin_market_maker_program_fees",
        ]
        | None
    )
    fee_multiplier_override: float | None


class KalshiEventFeeUpdate(_Strict):
    """Delivered on the market_lifecycle_v2 channel (§6.8), so it is sequenced."""

    type: Literal["event_fee_update"]
    sid: Sid
    seq: Seq
    msg: KalshiEventFeeUpdateBody
    sending_ts_ms: NonNegInt | UnsetType = UNSET


_KALSHI_MODELS: Final[dict[str, type[_Strict]]] = {
    "subscribed": KalshiSubscribed,
    "unsubscribed": KalshiUnsubscribed,
    "ok": KalshiOk,
    "ok.list_subscriptions": KalshiOkListSubscriptions,
    "error": KalshiError,
    "orderbook_snapshot": KalshiOrderbookSnapshot,
    "orderbook_delta": KalshiOrderbookDelta,
    "ticker": KalshiTicker,
    "trade": KalshiTrade,
    "fill": KalshiFill,
    "market_position": KalshiMarketPosition,
    "user_order": KalshiUserOrder,
    "market_lifecycle_v2": KalshiMarketLifecycleV2,
    "market_lifecycle_v2.metadata_updated": KalshiMarketMetadataUpdated,
    "event_lifecycle": KalshiEventLifecycle,
    "event_fee_update": KalshiEventFeeUpdate,
}
KALSHI_KINDS: Final = frozenset(_KALSHI_MODELS)

# Current message types these models deliberately do not cover (§6 channels outside the monitor's scope).
_KALSHI_OUT_OF_SCOPE: Final = frozenset(
    {
        "order_group_updates",
        "multivariate_market_lifecycle",
        "rfq_created",
        "rfq_deleted",
        "quote_created",
        "quote_accepted",
        "quote_executed",
        "cfbenchmarks_value",
        "cfbenchmarks_value_indexlist",
        "cfbenchmarks_value_5hz",
        "cfbenchmarks_value_5hz_indexlist",
        "pyth_value",
        "pyth_value_underlying_list",
    }
)
# §6 "Removed channels" and the Jan-2026 list_subscriptions reply type (§4.4).
_KALSHI_REMOVED: Final = frozenset(
    {"ticker_v2", "multivariate_lookup", "market_lifecycle", "list_subscriptions"}
)


# ===================================================================================================
# Kalshi, legacy integer-cent format (seed doc 000)
# ===================================================================================================

Cents = Annotated[int, Meta(ge=1, le=99)]  # "Between 1 and 99 (inclusive)"

KalshiLegacyChannel = Literal["orderbook_delta", "ticker", "trade", "fill", "market_lifecycle"]


class KalshiLegacyChannelSid(_Strict):
    channel: KalshiLegacyChannel
    sid: Sid


class KalshiLegacySubscribed(_Strict):
    type: Literal["subscribed"]
    msg: KalshiLegacyChannelSid
    id: CmdId | UnsetType = UNSET


class KalshiLegacyUnsubscribed(_Strict):
    """``{"sid": 2, "type": "unsubscribed"}`` (no seq in the seed doc)."""

    type: Literal["unsubscribed"]
    sid: Sid
    id: CmdId | UnsetType = UNSET


class KalshiLegacyOk(_Strict):
    """The seed doc's ok carries ``market_tickers`` at the top level (no msg)."""

    type: Literal["ok"]
    sid: Sid
    seq: Seq
    market_tickers: list[str]
    id: CmdId | UnsetType = UNSET


class KalshiLegacyErrorBody(_Strict):
    code: PosInt  # the seed doc shows 6 "Already subscribed" and 8 "Unknown channel name"
    msg: NonEmptyStr


class KalshiLegacyError(_Strict):
    type: Literal["error"]
    msg: KalshiLegacyErrorBody
    id: CmdId | UnsetType = UNSET


class KalshiLegacySnapshotBody(_Strict):
    market_ticker: NonEmptyStr
    # [[price in cents, number of resting contracts]]; each key absent when that side has no offers.
    yes: list[tuple[Cents, PosInt]] | UnsetType = UNSET
    no: list[tuple[Cents, PosInt]] | UnsetType = UNSET

    def __post_init__(self) -> None:
        for name in ("yes", "no"):
            levels = getattr(self, name)
            if levels is UNSET:
                continue
            if not levels:
                raise ValueError(f"{name} is present but empty (an empty side is an absent key)")
            prices = [p for p, _ in levels]
            if len(set(prices)) != len(prices):
                raise ValueError(f"{name} lists a price twice")


class KalshiLegacyOrderbookSnapshot(_Strict):
    type: Literal["orderbook_snapshot"]
    sid: Sid
    seq: Seq
    msg: KalshiLegacySnapshotBody


class KalshiLegacyDeltaBody(_Strict):
    market_ticker: NonEmptyStr
    price: Cents
    delta: int
    side: YesNo

    def __post_init__(self) -> None:
        if self.delta == 0:
            raise ValueError("delta is zero")


class KalshiLegacyOrderbookDelta(_Strict):
    type: Literal["orderbook_delta"]
    sid: Sid
    seq: Seq
    msg: KalshiLegacyDeltaBody


class KalshiLegacyTickerBody(_Strict):
    market_ticker: NonEmptyStr
    price: Cents
    yes_bid: Cents
    yes_ask: Cents
    volume: NonNegInt
    open_interest: NonNegInt
    dollar_volume: NonNegInt
    dollar_open_interest: NonNegInt
    ts: NonNegInt


class KalshiLegacyTicker(_Strict):
    type: Literal["ticker"]
    sid: Sid
    msg: KalshiLegacyTickerBody


class KalshiLegacyTradeBody(_Strict):
    market_ticker: NonEmptyStr
    yes_price: Cents
    no_price: Cents
    count: PosInt
    taker_side: YesNo
    ts: NonNegInt

    def __post_init__(self) -> None:
        if self.yes_price + self.no_price != 100:
            raise ValueError("yes_price + no_price must be 100 cents")


class KalshiLegacyTrade(_Strict):
    type: Literal["trade"]
    sid: Sid
    msg: KalshiLegacyTradeBody


class KalshiLegacyFillBody(_Strict):
    trade_id: NonEmptyStr
    order_id: NonEmptyStr
    market_ticker: NonEmptyStr
    is_taker: bool
    side: YesNo
    yes_price: Cents
    no_price: Cents
    count: PosInt
    action: Literal["buy", "sell"]
    ts: NonNegInt

    def __post_init__(self) -> None:
        if self.yes_price + self.no_price != 100:
            raise ValueError("yes_price + no_price must be 100 cents")


class KalshiLegacyFill(_Strict):
    type: Literal["fill"]
    sid: Sid
    msg: KalshiLegacyFillBody


class KalshiLegacyLifecycleBody(_Strict):
    market_ticker: NonEmptyStr
    open_ts: NonNegInt
    close_ts: NonNegInt
    is_deactivated: bool
    determination_ts: NonNegInt | UnsetType = UNSET  # "will not exist before the market is determined"
    settled_ts: NonNegInt | UnsetType = UNSET
    result: str | UnsetType = UNSET


class KalshiLegacyMarketLifecycle(_Strict):
    type: Literal["market_lifecycle"]
    sid: Sid
    msg: KalshiLegacyLifecycleBody


_KALSHI_LEGACY_MODELS: Final[dict[str, type[_Strict]]] = {
    "subscribed": KalshiLegacySubscribed,
    "unsubscribed": KalshiLegacyUnsubscribed,
    "ok": KalshiLegacyOk,
    "error": KalshiLegacyError,
    "orderbook_snapshot": KalshiLegacyOrderbookSnapshot,
    "orderbook_delta": KalshiLegacyOrderbookDelta,
    "ticker": KalshiLegacyTicker,
    "trade": KalshiLegacyTrade,
    "fill": KalshiLegacyFill,
    "market_lifecycle": KalshiLegacyMarketLifecycle,
}
KALSHI_LEGACY_KINDS: Final = frozenset(_KALSHI_LEGACY_MODELS)


# ===================================================================================================
# Kraken spot WebSocket v2 (protocol/kraken.md §2, §3)
# ===================================================================================================

KrakenChannel = Literal["ticker", "trade", "book", "ohlc", "instrument", "executions", "balances"]
BOOK_DEPTHS: Final = frozenset({10, 25, 100, 500, 1000})
OHLC_INTERVALS: Final = frozenset({1, 5, 15, 30, 60, 240, 1440, 10080, 21600})
Number = float  # "float" in the docs = a JSON number (int or float literal); a string fails

_SYMBOL_CHANNELS: Final = frozenset({"ticker", "trade", "book", "ohlc"})
# Effective options each channel's ack may echo (§2.4 params table, §3.9 ack fields).
_ACK_OPTIONS: Final[dict[str, frozenset[str]]] = {
    "ticker": frozenset({"event_trigger", "snapshot"}),
    "trade": frozenset({"snapshot"}),
    "book": frozenset({"depth", "snapshot"}),
    "ohlc": frozenset({"interval", "snapshot"}),
    "instrument": frozenset({"snapshot", "include_tokenized_assets", "execution_venue"}),
    "executions": frozenset(
        {
            "snap_orders",
            "snap_trades",
            "order_status",
            "ratecounter",
            "users",
            "rebased",
            "snapshot",
            "snapshot_trades",
            "maxratecount",
        }
    ),
    "balances": frozenset({"snapshot", "users", "rebased"}),
}


# --- method responses (§2.2, §3.8) -----------------------------------------------------------------


class KrakenAckResult(_Strict):
    channel: KrakenChannel
    symbol: NonEmptyStr | UnsetType = UNSET  # a string, one ack per symbol; absent on instrument/private
    depth: int | UnsetType = UNSET
    snapshot: bool | UnsetType = UNSET
    interval: int | UnsetType = UNSET
    event_trigger: Literal["bbo", "trades"] | UnsetType = UNSET
    include_tokenized_assets: bool | UnsetType = UNSET
    execution_venue: Literal["international", "bitnomial-exchange"] | UnsetType = UNSET
    snap_orders: bool | UnsetType = UNSET
    snap_trades: bool | UnsetType = UNSET
    order_status: bool | UnsetType = UNSET
    ratecounter: bool | UnsetType = UNSET
    users: str | UnsetType = UNSET
    rebased: bool | UnsetType = UNSET
    snapshot_trades: bool | UnsetType = UNSET  # deprecated executions option
    maxratecount: int | UnsetType = UNSET  # executions ack only
    warnings: list[str] | UnsetType = UNSET

    def __post_init__(self) -> None:
        if self.channel in _SYMBOL_CHANNELS:
            if self.symbol is UNSET:
                raise ValueError(f"{self.channel} ack must carry result.symbol")
        elif self.symbol is not UNSET:
            raise ValueError(f"{self.channel} ack has no symbol")
        allowed = _ACK_OPTIONS[self.channel] | {"channel", "symbol", "warnings"}
        for name in self.__struct_fields__:
            if getattr(self, name) is not UNSET and name not in allowed:
                raise ValueError(f"result.{name} does not belong to a {self.channel} ack")
        if self.channel == "book" and self.depth not in BOOK_DEPTHS:
            raise ValueError(f"book ack depth {self.depth!r} is not one of {sorted(BOOK_DEPTHS)}")
        if self.channel == "ohlc" and self.interval not in OHLC_INTERVALS:
            raise ValueError(f"ohlc ack interval {self.interval!r} is not one of {sorted(OHLC_INTERVALS)}")


class KrakenAck(_Strict):
    """Successful subscribe/unsubscribe reply: one per symbol."""

    method: Literal["subscribe", "unsubscribe"]
    result: KrakenAckResult
    success: bool
    time_in: Rfc3339
    time_out: Rfc3339
    req_id: int | UnsetType = UNSET

    def __post_init__(self) -> None:
        if self.success is not True:
            raise ValueError("an ack with a result must have success true")


class KrakenPongResult(_Strict):
    warnings: list[str] | UnsetType = UNSET


class KrakenPong(_Strict):
    """``{"method":"pong","req_id":101,"time_in":"…","time_out":"…"}``; may carry result.warnings."""

    method: Literal["pong"]
    time_in: Rfc3339
    time_out: Rfc3339
    req_id: int | UnsetType = UNSET
    result: KrakenPongResult | UnsetType = UNSET
    success: bool | UnsetType = UNSET

    def __post_init__(self) -> None:
        if self.success is False:
            raise ValueError("a failed ping is an error reply, not a pong")


class KrakenErrorReply(_Strict):
    """``success:false`` reply: ``error`` is a string; per-symbol failures carry a top-level ``symbol``
    and no ``result``. ``method`` echoes the request (unsubscribe-not-found echoes ``subscribe``;
    ``Malformed request`` comes with ``"method":"error"``)."""

    method: Literal["subscribe", "unsubscribe", "ping", "pong", "error"]
    success: bool
    error: NonEmptyStr
    time_in: Rfc3339
    time_out: Rfc3339
    req_id: int | UnsetType = UNSET
    symbol: NonEmptyStr | UnsetType = UNSET

    def __post_init__(self) -> None:
        if self.success is not False:
            raise ValueError("an error reply must have success false")


# --- data frames (§2.3, §3) ------------------------------------------------------------------------

SnapshotOrUpdate = Literal["snapshot", "update"]


class KrakenStatusData(_Strict):
    system: Literal["online", "maintenance", "cancel_only", "post_only"]
    api_version: Literal["v2"]
    version: NonEmptyStr
    connection_id: NonNegInt | UnsetType = UNSET  # can exceed 2**53; absent on a maintenance frame [OBS]


class KrakenStatus(_Strict):
    channel: Literal["status"]
    type: Literal["update"]
    data: Annotated[list[KrakenStatusData], Meta(min_length=1, max_length=1)]


class KrakenHeartbeat(_Strict):
    """``{"channel":"heartbeat"}`` — nothing else."""

    channel: Literal["heartbeat"]


class KrakenTickerData(_Strict):
    symbol: NonEmptyStr
    bid: Number
    bid_qty: Number
    ask: Number
    ask_qty: Number
    last: Number
    volume: Number
    vwap: Number
    low: Number
    high: Number
    change: Number
    change_pct: Number
    timestamp: Rfc3339 | UnsetType = UNSET  # documented, missing from 2024 captures [OBS]


class KrakenTicker(_Strict):
    channel: Literal["ticker"]
    type: SnapshotOrUpdate
    data: Annotated[list[KrakenTickerData], Meta(min_length=1, max_length=1)]


class KrakenTradeData(_Strict):
    symbol: NonEmptyStr
    side: Literal["buy", "sell"]
    price: Number
    qty: Number
    ord_type: Literal["limit", "market"]
    trade_id: NonNegInt
    timestamp: Rfc3339

    def __post_init__(self) -> None:
        if self.price <= 0 or self.qty <= 0:
            raise ValueError("trade price and qty must be positive")


class KrakenTrade(_Strict):
    channel: Literal["trade"]
    type: SnapshotOrUpdate
    data: list[KrakenTradeData]


class KrakenLevel(_Strict):
    price: Number
    qty: Number

    def __post_init__(self) -> None:
        if self.price <= 0:
            raise ValueError(f"book price {self.price} must be positive")
        if self.qty < 0:
            raise ValueError(f"book qty {self.qty} must not be negative")


class KrakenBookData(_Strict):
    symbol: NonEmptyStr
    bids: list[KrakenLevel]
    asks: list[KrakenLevel]
    checksum: UInt32
    timestamp: Rfc3339 | UnsetType = UNSET  # absent from snapshots in 2023-2024 captures [OBS]


class KrakenBook(_Strict):
    channel: Literal["book"]
    type: SnapshotOrUpdate
    data: Annotated[list[KrakenBookData], Meta(min_length=1, max_length=1)]

    def __post_init__(self) -> None:
        if self.type != "snapshot":
            return  # updates: changed levels only, any order, the same price may repeat
        book = self.data[0]
        for side, levels, descending in (("bids", book.bids, True), ("asks", book.asks, False)):
            prices = [lvl.price for lvl in levels]
            # "snapshot: best first": bids strictly descending, asks strictly ascending.
            if prices != sorted(set(prices), reverse=descending):
                raise ValueError(f"snapshot {side} are not strictly best-first")
            if any(lvl.qty == 0 for lvl in levels):
                raise ValueError(f"snapshot {side} contain a zero-qty level")
        if book.bids and book.asks and book.bids[0].price >= book.asks[0].price:
            raise ValueError("snapshot book is crossed (best bid >= best ask)")


class KrakenCandle(_Strict):
    symbol: NonEmptyStr
    open: Number
    high: Number
    low: Number
    close: Number
    vwap: Number
    trades: NonNegInt  # "the docs say float; the wire shows an integer"
    volume: Number
    interval_begin: Rfc3339
    interval: int
    timestamp: Rfc3339  # deprecated (interval end), present in every documented example

    def __post_init__(self) -> None:
        if self.interval not in OHLC_INTERVALS:
            raise ValueError(f"interval {self.interval} is not one of {sorted(OHLC_INTERVALS)}")
        if not (self.low <= min(self.open, self.close) and max(self.open, self.close) <= self.high):
            raise ValueError("candle open/close lie outside low..high")


class KrakenOhlc(_Strict):
    channel: Literal["ohlc"]
    type: SnapshotOrUpdate
    timestamp: Rfc3339  # top-level message time (docs' examples, [OBS])
    data: list[KrakenCandle]


class KrakenAsset(_Strict):
    id: NonEmptyStr
    status: Literal[
        "depositonly", "disabled", "enabled", "fundingtemporarilydisabled", "withdrawalonly", "workinprogress"
    ]
    precision: NonNegInt
    precision_display: NonNegInt
    borrowable: bool
    collateral_value: Number
    margin_rate: Number | UnsetType = UNSET  # only meaningful for borrowable assets
    multiplier: Number | UnsetType = UNSET  # tokenised assets


class KrakenPair(_Strict):
    symbol: NonEmptyStr
    base: NonEmptyStr
    quote: NonEmptyStr
    status: Literal[
        "online",
        "cancel_only",
        "delisted",
        "limit_only",
        "maintenance",
        "post_only",
        "reduce_only",
        "work_in_progress",
    ]
    price_precision: NonNegInt
    qty_precision: NonNegInt
    price_increment: Number
    qty_increment: Number
    qty_min: Number
    cost_precision: NonNegInt
    cost_min: Number
    marginable: bool
    has_index: bool
    tick_size: Number | UnsetType = UNSET  # deprecated, replaced by price_increment
    margin_initial: Number | UnsetType = UNSET  # marginable pairs only
    position_limit_long: Number | UnsetType = UNSET
    position_limit_short: Number | UnsetType = UNSET


class KrakenInstrumentData(_Strict):
    assets: list[KrakenAsset]
    pairs: list[KrakenPair]


class KrakenInstrument(_Strict):
    """``data`` is an OBJECT here, not an array."""

    channel: Literal["instrument"]
    type: SnapshotOrUpdate
    data: KrakenInstrumentData


class KrakenFee(_Strict):
    asset: NonEmptyStr
    qty: Number


class KrakenTriggers(_Strict):
    reference: Literal["index", "last"] | UnsetType = UNSET
    price: Number | UnsetType = UNSET
    price_type: Literal["static", "pct", "quote"] | UnsetType = UNSET
    actual_price: Number | UnsetType = UNSET
    peak_price: Number | UnsetType = UNSET
    last_price: Number | UnsetType = UNSET
    status: Literal["triggered", "untriggered"] | UnsetType = UNSET
    timestamp: Rfc3339 | UnsetType = UNSET


class KrakenContingent(_Strict):
    order_type: str | UnsetType = UNSET
    trigger_price: Number | UnsetType = UNSET
    trigger_price_type: Literal["static", "pct", "quote"] | UnsetType = UNSET
    limit_price: Number | UnsetType = UNSET
    limit_price_type: Literal["static", "pct", "quote"] | UnsetType = UNSET


class KrakenExecution(_Strict):
    """One execution report. "Which fields appear depends on exec_type", so beyond the identity and
    event fields every documented field is optional (but an undocumented field still fails)."""

    order_id: NonEmptyStr
    exec_type: Literal[
        "pending_new",
        "new",
        "trade",
        "filled",
        "iceberg_refill",
        "canceled",
        "expired",
        "amended",
        "restated",
        "status",
    ]
    timestamp: Rfc3339
    order_status: (
        Literal["pending_new", "new", "partially_filled", "filled", "canceled", "expired"] | UnsetType
    ) = UNSET
    # identity
    cl_ord_id: str | UnsetType = UNSET
    order_userref: int | UnsetType = UNSET
    ord_ref_id: str | UnsetType = UNSET
    ext_ord_id: str | UnsetType = UNSET
    ext_exec_id: str | UnsetType = UNSET
    exec_id: str | UnsetType = UNSET
    trade_id: int | UnsetType = UNSET
    symbol: str | UnsetType = UNSET
    side: Literal["buy", "sell"] | UnsetType = UNSET
    user: str | UnsetType = UNSET
    sender_sub_id: str | UnsetType = UNSET
    # order
    order_type: (
        Literal[
            "limit",
            "market",
            "iceberg",
            "stop-loss",
            "stop-loss-limit",
            "take-profit",
            "take-profit-limit",
            "trailing-stop",
            "trailing-stop-limit",
            "settle-position",
        ]
        | UnsetType
    ) = UNSET
    order_qty: Number | UnsetType = UNSET
    cash_order_qty: Number | UnsetType = UNSET
    display_qty: Number | UnsetType = UNSET
    display_qty_remain: Number | UnsetType = UNSET
    limit_price: Number | UnsetType = UNSET
    limit_price_type: Literal["static", "pct", "quote"] | UnsetType = UNSET
    time_in_force: Literal["GTC", "GTD", "IOC"] | UnsetType = UNSET
    effective_time: Rfc3339 | UnsetType = UNSET
    expire_time: Rfc3339 | UnsetType = UNSET
    post_only: bool | UnsetType = UNSET
    reduce_only: bool | UnsetType = UNSET
    margin: bool | UnsetType = UNSET
    no_mpp: bool | UnsetType = UNSET
    fee_ccy_pref: Literal["fcib", "fciq"] | UnsetType = UNSET
    amended: bool | UnsetType = UNSET
    # fill and progress
    last_qty: Number | UnsetType = UNSET
    last_price: Number | UnsetType = UNSET
    cost: Number | UnsetType = UNSET
    liquidity_ind: Literal["t", "m"] | UnsetType = UNSET
    cum_qty: Number | UnsetType = UNSET
    cum_cost: Number | UnsetType = UNSET
    avg_price: Number | UnsetType = UNSET
    fees: list[KrakenFee] | UnsetType = UNSET
    fee_usd_equiv: Number | UnsetType = UNSET
    margin_borrow: bool | UnsetType = UNSET
    liquidated: bool | UnsetType = UNSET
    position_status: Literal["opened", "closing", "closed"] | UnsetType = UNSET
    # triggers / contingent
    triggers: KrakenTriggers | UnsetType = UNSET
    contingent: KrakenContingent | UnsetType = UNSET
    # other
    reason: str | UnsetType = UNSET
    # deprecated, still sent [OBS]
    cancel_reason: str | UnsetType = UNSET
    stop_price: Number | UnsetType = UNSET
    trigger: str | UnsetType = UNSET
    triggered_price: Number | UnsetType = UNSET


class KrakenExecutions(_Strict):
    channel: Literal["executions"]
    type: SnapshotOrUpdate
    data: list[KrakenExecution]
    sequence: PosInt


class KrakenWallet(_Strict):
    type: Literal["spot", "earn"]
    id: Literal["main", "flex", "bonded", "flexible", "liquid", "locked", "closed"]
    balance: Number


class KrakenBalanceSnapshotEntry(_Strict):
    asset: NonEmptyStr
    asset_class: NonEmptyStr
    balance: Number
    wallets: list[KrakenWallet]  # may be empty [OBS]
    user: str | UnsetType = UNSET


class KrakenBalanceUpdateEntry(_Strict):
    ledger_id: NonEmptyStr
    ref_id: NonEmptyStr
    timestamp: Rfc3339
    type: Literal[
        "deposit",
        "withdrawal",
        "trade",
        "margin",
        "adjustment",
        "rollover",
        "credit",
        "transfer",
        "settled",
        "staking",
        "sale",
        "reserve",
        "conversion",
        "dividend",
        "reward",
        "creator_fee",
    ]
    category: NonEmptyStr
    asset: NonEmptyStr
    asset_class: NonEmptyStr
    wallet_type: Literal["spot", "earn"]
    wallet_id: NonEmptyStr
    amount: Number
    fee: Number
    balance: Number
    subtype: str | UnsetType = UNSET
    user: str | UnsetType = UNSET


class KrakenBalancesSnapshot(_Strict):
    channel: Literal["balances"]
    type: Literal["snapshot"]
    data: list[KrakenBalanceSnapshotEntry]
    sequence: PosInt


class KrakenBalancesUpdate(_Strict):
    channel: Literal["balances"]
    type: Literal["update"]
    data: list[KrakenBalanceUpdateEntry]
    sequence: PosInt


_KRAKEN_DATA_MODELS: Final[dict[str, type[_Strict]]] = {
    "status": KrakenStatus,
    "ticker": KrakenTicker,
    "trade": KrakenTrade,
    "book": KrakenBook,
    "ohlc": KrakenOhlc,
    "instrument": KrakenInstrument,
    "executions": KrakenExecutions,
}

KRAKEN_KINDS: Final = frozenset(
    {
        "subscribe.ack",
        "unsubscribe.ack",
        "pong",
        "subscribe.error",
        "unsubscribe.error",
        "ping.error",
        "pong.error",
        "error",
        "heartbeat",
        "status.update",
        *(
            f"{ch}.{t}"
            for ch in _SYMBOL_CHANNELS | {"instrument", "executions", "balances"}
            for t in ("snapshot", "update")
        ),
    }
)


# ===================================================================================================
# Entry points
# ===================================================================================================


def _load(text: str | bytes, venue: str) -> dict[str, Any]:
    try:
        obj = msgspec.json.decode(text)
    except (msgspec.DecodeError, UnicodeEncodeError) as exc:
        raise ShapeError(f"{venue}: frame is not JSON: {exc} (text starts {str(text)[:60]!r})") from exc
    if not isinstance(obj, dict):
        raise ShapeError(f"{venue}: frame is JSON {type(obj).__name__}, not an object")
    return obj


def _decode(text: str | bytes, model: type[_Strict], venue: str, kind: str) -> None:
    try:
        msgspec.json.decode(text, type=model)
    except msgspec.ValidationError as exc:
        raise ShapeError(f"{venue} {kind!r} frame does not match {model.__name__}: {exc}") from exc


def validate_kalshi(text: str | bytes, *, legacy: bool = False) -> str:
    """Validate one Kalshi server->client text frame; return its kind or raise :class:`ShapeError`.

    ``legacy=False``: the current fixed-point format (kinds: :data:`KALSHI_KINDS`).
    ``legacy=True``: the seed doc's integer-cent format (kinds: :data:`KALSHI_LEGACY_KINDS`).
    """
    venue = "kalshi-legacy" if legacy else "kalshi"
    obj = _load(text, venue)
    if "cmd" in obj:
        raise ShapeError(f"{venue}: this is a client->server command, not a server frame")
    msg_type = obj.get("type")
    if not isinstance(msg_type, str):
        raise ShapeError(f"{venue}: frame has no string 'type' discriminator")
    if legacy:
        legacy_model = _KALSHI_LEGACY_MODELS.get(msg_type)
        if legacy_model is None:
            raise ShapeError(f"{venue}: type {msg_type!r} is not in the legacy seed doc")
        _decode(text, legacy_model, venue, msg_type)
        return msg_type
    if msg_type in _KALSHI_OUT_OF_SCOPE:
        raise ShapeError(f"{venue}: type {msg_type!r} belongs to a channel out of scope of these models")
    if msg_type in _KALSHI_REMOVED:
        raise ShapeError(f"{venue}: type {msg_type!r} is removed / pre-current (protocol §6, §4.4)")
    kind = msg_type
    if msg_type == "ok" and isinstance(obj.get("msg"), list):
        kind = "ok.list_subscriptions"
    elif msg_type == "market_lifecycle_v2":
        body = obj.get("msg")
        if isinstance(body, dict) and body.get("event_type") == "metadata_updated":
            kind = "market_lifecycle_v2.metadata_updated"
    model = _KALSHI_MODELS.get(kind)
    if model is None:
        raise ShapeError(f"{venue}: unknown message type {msg_type!r}")
    _decode(text, model, venue, kind)
    return kind


def validate_kraken(text: str | bytes) -> str:
    """Validate one Kraken v2 server->client text frame; return its kind (:data:`KRAKEN_KINDS`)."""
    venue = "kraken"
    obj = _load(text, venue)
    if "method" in obj:
        method = obj["method"]
        if "params" in obj or (method == "ping" and "success" not in obj):
            raise ShapeError(f"{venue}: this is a client->server request, not a server frame")
        if obj.get("success") is False:
            kind = "error" if method == "error" else f"{method}.error"
            _decode(text, KrakenErrorReply, venue, kind)
            return kind
        if method == "pong":
            _decode(text, KrakenPong, venue, "pong")
            return "pong"
        if method in ("subscribe", "unsubscribe"):
            kind = f"{method}.ack"
            _decode(text, KrakenAck, venue, kind)
            return kind
        raise ShapeError(
            f"{venue}: method {method!r} is not a documented response (order entry is out of scope)"
        )
    if "channel" in obj:
        channel = obj["channel"]
        if channel == "heartbeat":
            _decode(text, KrakenHeartbeat, venue, "heartbeat")
            return "heartbeat"
        frame_type = obj.get("type")
        if not isinstance(frame_type, str):
            raise ShapeError(f"{venue}: {channel!r} frame has no string 'type'")
        kind = f"{channel}.{frame_type}"
        if channel == "balances":
            model: type[_Strict] | None = (
                KrakenBalancesSnapshot if frame_type == "snapshot" else KrakenBalancesUpdate
            )
        else:
            model = _KRAKEN_DATA_MODELS.get(channel) if isinstance(channel, str) else None
        if model is None:
            raise ShapeError(f"{venue}: channel {channel!r} is not a documented v2 channel")
        _decode(text, model, venue, kind)
        return kind
    raise ShapeError(f"{venue}: frame has neither 'method' nor 'channel'")


def _check_number_text(raw: Any, decimals: int, where: str) -> None:
    text = str(raw) if isinstance(raw, int) and not isinstance(raw, bool) else raw
    pattern = r"\d+" if decimals == 0 else rf"\d+\.\d{{{decimals}}}"
    if not isinstance(text, str) or re.fullmatch(pattern, text) is None:
        raise ShapeError(f"kraken book: {where} wire text {text!r} does not have exactly {decimals} decimals")


def check_kraken_book_precision(text: str | bytes, *, price_precision: int, qty_precision: int) -> str:
    """Validate a Kraken ``book`` frame and check that the raw wire text of every level's price and qty has
    exactly the pair's ``price_precision`` / ``qty_precision`` decimals (live frames do, §2.3 and §4.2,
    e.g. ``0.10000000``; the checksum is computed from that text). Returns the kind."""
    kind = validate_kraken(text)
    if not kind.startswith("book."):
        raise ShapeError(f"kraken: expected a book frame, got {kind!r}")
    # Untyped decode keeping every JSON float literal as its exact text.
    raw = msgspec.json.Decoder(float_hook=str).decode(text)
    for entry in raw["data"]:
        for side in ("bids", "asks"):
            for i, level in enumerate(entry[side]):
                _check_number_text(level["price"], price_precision, f"{side}[{i}].price")
                _check_number_text(level["qty"], qty_precision, f"{side}[{i}].qty")
    return kind

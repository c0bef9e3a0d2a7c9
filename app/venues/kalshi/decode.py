"""Kalshi server frames -> core events (protocol/kalshi.md §5-6).

Current frames carry ``*_dollars`` price strings (up to 4 decimals) and ``*_fp`` size strings; frames of
the original protocol carry integer cents and integer counts. Both decode to the same events. Book
levels come out in YES terms: YES bids are bids; NO bids become YES asks at ``1 - price`` (or at
``price`` when the subscription used ``use_yes_price``, whose NO levels are already YES prices).

``decode_obj`` is a function of one parsed frame and the ``use_yes_price`` setting; sequence and book
state live in ``session.KalshiSession``.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

from app.core.events import (
    Ack,
    BookChange,
    BookSnapshot,
    ClientCommand,
    ErrorEvent,
    Event,
    Fill,
    IndexValue,
    Level,
    Lifecycle,
    Malformed,
    Notice,
    OrderUpdate,
    Position,
    Subscribed,
    TakerSide,
    Ticker,
    Trade,
    Unknown,
    Unsubscribed,
)
from app.core.instruments import KALSHI_ONE, KALSHI_PRICE_DECIMALS, KALSHI_SIZE_DECIMALS, Venue
from app.core.numbers import PrecisionError, to_decimal, to_scaled
from app.venues import wire
from app.venues.kalshi.errors import TERMINAL_CODES, describe
from app.venues.wire import excerpt_of

V = Venue.KALSHI
PD = KALSHI_PRICE_DECIMALS
SD = KALSHI_SIZE_DECIMALS
_CENTS_TO_UNITS = 10 ** (PD - 2)  # legacy integer cents -> 1/10000 dollar units
_COUNT_TO_UNITS = 10**SD
# A side can hold at most one level per price between $0.0001 and $0.9999; more is not a Kalshi book.
MAX_SIDE_LEVELS = KALSHI_ONE - 1
_CENT = Decimal("0.01")
_CENTI_CENT = Decimal("0.0001")
_ONE = Decimal(1)
_ZERO = Decimal(0)

LIFECYCLE_STATUS = {
    "created": "created",
    "activated": "open",
    "deactivated": "paused",
    "close_date_updated": None,
    "determined": "determined",
    "settled": "settled",
    "price_level_structure_updated": None,
    "metadata_updated": None,
}

NOTICE_TYPES = frozenset(
    {
        "order_group_updates",
        "event_fee_update",
        "rfq_created",
        "rfq_deleted",
        "quote_created",
        "quote_accepted",
        "quote_executed",
        "cfbenchmarks_value_indexlist",
        "cfbenchmarks_value_5hz_indexlist",
        "pyth_value",
        "pyth_value_underlying_list",
    }
)


class DecodeError(ValueError):
    pass


def _price(msg: dict[str, Any], dollars_key: str, cents_key: str) -> Decimal | None:
    """A price from its ``*_dollars`` string, else from legacy integer cents."""
    value = msg.get(dollars_key)
    if value is not None:
        return to_decimal(value)
    cents = msg.get(cents_key)
    if cents is None:
        return None
    return to_decimal(cents) * _CENT


def _count(msg: dict[str, Any], fp_key: str, legacy_key: str) -> Decimal | None:
    value = msg.get(fp_key)
    if value is None:
        value = msg.get(legacy_key)
    return None if value is None else to_decimal(value)


def _money(msg: dict[str, Any], dollars_key: str, centi_cents_key: str) -> Decimal | None:
    """Money on market_position: ``*_dollars`` now; the original protocol used centi-cents."""
    value = msg.get(dollars_key)
    if value is not None:
        return to_decimal(value)
    legacy = msg.get(centi_cents_key)
    return None if legacy is None else to_decimal(legacy) * _CENTI_CENT


def _ts_ms(msg: dict[str, Any]) -> int | None:
    ts_ms = msg.get("ts_ms")
    if type(ts_ms) is int:
        return ts_ms
    ts = msg.get("ts")
    if type(ts) is int:  # seconds on ticker/trade/fill (an RFC 3339 string on orderbook_delta)
        return ts * 1000
    return None


def _market(msg: dict[str, Any]) -> str:
    market = msg.get("market_ticker") or msg.get("ticker")
    if not isinstance(market, str) or not market:
        raise DecodeError("no market_ticker")
    return market


def _direction(
    outcome: object, book_side: object, legacy_side: object, action: object = None
) -> TakerSide | None:
    """Direction towards YES: outcome side yes / book side bid / (yes, buy) or (no, sell) -> BUY."""
    if outcome in ("yes", "no"):
        return TakerSide.BUY if outcome == "yes" else TakerSide.SELL
    if book_side in ("bid", "ask"):
        return TakerSide.BUY if book_side == "bid" else TakerSide.SELL
    if legacy_side in ("yes", "no"):
        towards_yes = legacy_side == "yes"
        if action == "sell":
            towards_yes = not towards_yes
        return TakerSide.BUY if towards_yes else TakerSide.SELL
    return None


class KalshiDecoder:
    """Decodes parsed Kalshi frames. ``use_yes_price`` must match what the book subscription sent."""

    def __init__(self, use_yes_price: bool = False) -> None:
        self.use_yes_price = use_yes_price
        self._handlers: dict[str, Callable[[dict[str, Any]], list[Event]]] = {
            "orderbook_delta": self._delta,
            "orderbook_snapshot": self._snapshot,
            "ticker": self._ticker,
            "trade": self._trade,
            "fill": self._fill,
            "market_position": self._position,
            "market_lifecycle_v2": self._lifecycle,
            "multivariate_market_lifecycle": self._lifecycle,
            "market_lifecycle": self._lifecycle,  # v1, gone from the current API; same fields
            "event_lifecycle": self._event_lifecycle,
            "user_order": self._user_order,
            "cfbenchmarks_value": self._index,
            "cfbenchmarks_value_5hz": self._index,
            "subscribed": self._subscribed,
            "unsubscribed": self._unsubscribed,
            "ok": self._ok,
            "list_subscriptions": self._ok,  # the Jan-2026 reply form
            "error": self._error,
        }

    def decode_obj(self, obj: Any) -> list[Event]:
        """One parsed frame -> events. Never raises: bad frames become ``Malformed``."""
        if not isinstance(obj, dict):
            return [Malformed(V, "frame is not a JSON object", excerpt_of(obj))]
        kind = obj.get("type")
        if not isinstance(kind, str):
            if "cmd" in obj:
                req_id = obj.get("id")
                return [ClientCommand(V, str(obj["cmd"]), req_id if type(req_id) is int else None)]
            return [Malformed(V, "frame has no type", excerpt_of(obj))]
        handler = self._handlers.get(kind)
        try:
            if handler is not None:
                return handler(obj)
            if kind in NOTICE_TYPES:
                return [self._notice(kind, obj)]
        except (ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
            return [
                Malformed(
                    V,
                    f"bad {kind} frame: {exc.__class__.__name__}: {exc}",
                    excerpt_of(obj),
                    _safe_market(obj),
                )
            ]
        return [Unknown(V, kind, _safe_market(obj), obj)]

    # --- books -------------------------------------------------------------------------------

    def _no_to_ask(self, price: int) -> int:
        return price if self.use_yes_price else KALSHI_ONE - price

    def _levels(self, msg: dict[str, Any], side: str) -> list[Level]:
        """Snapshot levels of one side: ``{side}_dollars_fp`` ([["0.4500","12.00"]]), the transitional
        ``{side}_dollars`` ([["0.450", 12]]) or legacy ``{side}`` ([[45, 12]] cents/count)."""
        levels = msg.get(side + "_dollars_fp")
        if levels is None:
            levels = msg.get(side + "_dollars")
        if levels is not None:
            _check_side(levels, side)
            return [(_book_price(p), to_scaled(q, SD)) for p, q in levels]
        legacy = msg.get(side)
        if legacy is None:
            return []  # an empty side is absent from the snapshot
        _check_side(legacy, side)
        out = []
        for p, q in legacy:
            if type(p) is not int or type(q) is not int:
                raise DecodeError(f"legacy {side} level must be [cents, count] integers")
            out.append((_in_range(p * _CENTS_TO_UNITS), q * _COUNT_TO_UNITS))
        return out

    def _snapshot(self, obj: dict[str, Any]) -> list[Event]:
        msg = obj["msg"]
        market = _market(msg)
        bids = self._levels(msg, "yes")
        bids.sort(reverse=True)  # never trust array order (protocol/kalshi.md §8)
        no_to_ask = self._no_to_ask
        asks = sorted((no_to_ask(p), q) for p, q in self._levels(msg, "no"))
        return [
            BookSnapshot(
                V, market, bids, asks, PD, SD, None, _opt_int(obj.get("sid")), _opt_int(obj.get("seq"))
            )
        ]

    def _delta(self, obj: dict[str, Any]) -> list[Event]:
        msg = obj["msg"]
        market = msg.get("market_ticker")
        if type(market) is not str or not market:
            raise DecodeError("no market_ticker")
        price_text = msg.get("price_dollars")
        if price_text is not None:
            price = _book_price(price_text)
        else:
            cents = msg["price"]
            if type(cents) is not int:
                raise DecodeError("legacy price must be integer cents")
            price = _in_range(cents * _CENTS_TO_UNITS)
        delta_text = msg.get("delta_fp")
        delta = to_scaled(delta_text if delta_text is not None else msg["delta"], SD)
        side = msg["side"]
        sid, seq = obj.get("sid"), obj.get("seq")
        if type(sid) is not int:
            sid = None
        if type(seq) is not int:
            seq = None
        ts = _ts_ms(msg)
        if side == "yes":
            return [BookChange(V, market, [(price, delta)], [], True, None, sid, seq, ts)]
        if side == "no":
            return [BookChange(V, market, [], [(self._no_to_ask(price), delta)], True, None, sid, seq, ts)]
        raise DecodeError(f"side must be yes or no, not {side!r}")

    # --- market data -------------------------------------------------------------------------

    def _ticker(self, obj: dict[str, Any]) -> list[Event]:
        msg = obj["msg"]
        bid = _price(msg, "yes_bid_dollars", "yes_bid")
        ask = _price(msg, "yes_ask_dollars", "yes_ask")
        if ask is None:
            no_bid = _price(msg, "no_bid_dollars", "no_bid")  # the Jan-2026 schema
            ask = None if no_bid is None else _ONE - no_bid
        # "0.0000" is how Kalshi says there is no bid; a YES ask of 0 or 1 is no ask either.
        if bid is not None and bid <= _ZERO:
            bid = None
        if ask is not None and (ask <= _ZERO or ask >= _ONE):
            ask = None
        last = _price(msg, "price_dollars", "price")
        if last is not None and last <= _ZERO:  # nothing trades at 0: the market has not traded yet
            last = None
        return [
            Ticker(
                V,
                _market(msg),
                bid=bid,
                ask=ask,
                bid_size=_count(msg, "yes_bid_size_fp", "yes_bid_size"),
                ask_size=_count(msg, "yes_ask_size_fp", "yes_ask_size"),
                last=last,
                volume=_count(msg, "volume_fp", "volume"),
                open_interest=_count(msg, "open_interest_fp", "open_interest"),
                ts_ms=_ts_ms(msg),
            )
        ]

    def _trade(self, obj: dict[str, Any]) -> list[Event]:
        msg = obj["msg"]
        price = _price(msg, "yes_price_dollars", "yes_price")
        if price is None:
            no_price = _price(msg, "no_price_dollars", "no_price")
            if no_price is None:
                raise DecodeError("trade without a price")
            price = _ONE - no_price
        size = _count(msg, "count_fp", "count")
        if size is None:
            raise DecodeError("trade without a count")
        taker = _direction(msg.get("taker_outcome_side"), msg.get("taker_book_side"), msg.get("taker_side"))
        trade_id = msg.get("trade_id")
        seq = obj.get("seq")
        return [
            Trade(
                V,
                _market(msg),
                str(trade_id) if trade_id is not None else "",
                price,
                size,
                taker,
                _ts_ms(msg),
                seq if type(seq) is int else None,
            )
        ]

    # --- the user's own ----------------------------------------------------------------------

    def _fill(self, obj: dict[str, Any]) -> list[Event]:
        msg = obj["msg"]
        price = _price(msg, "yes_price_dollars", "yes_price")
        size = _count(msg, "count_fp", "count")
        if price is None or size is None:
            raise DecodeError("fill without price or count")
        side = _direction(
            msg.get("outcome_side"),
            msg.get("book_side"),
            msg.get("purchased_side") or msg.get("side"),
            None if msg.get("purchased_side") else msg.get("action"),
        )
        if side is None:
            raise DecodeError("fill without a side")
        fee = msg.get("fee_cost")
        taker = msg.get("is_taker")
        return [
            Fill(
                V,
                _market(msg),
                fill_id=str(msg["trade_id"]),
                order_id=str(msg.get("order_id", "")),
                price=price,
                size=size,
                side=side,
                is_taker=taker if isinstance(taker, bool) else None,
                fee=None if fee is None else to_decimal(fee),
                position_after=_count(msg, "post_position_fp", "post_position"),
                ts_ms=_ts_ms(msg),
            )
        ]

    def _position(self, obj: dict[str, Any]) -> list[Event]:
        msg = obj["msg"]
        position = _count(msg, "position_fp", "position")
        if position is None:
            raise DecodeError("market_position without a position")
        return [
            Position(
                V,
                _market(msg),
                position=position,
                cost=_money(msg, "position_cost_dollars", "position_cost"),
                realized_pnl=_money(msg, "realized_pnl_dollars", "realized_pnl"),
                fees_paid=_money(msg, "fees_paid_dollars", "fees_paid"),
                volume=_count(msg, "volume_fp", "volume"),
            )
        ]

    def _user_order(self, obj: dict[str, Any]) -> list[Event]:
        msg = obj["msg"]
        is_yes = msg.get("is_yes")
        legacy_side = msg.get("side") if not isinstance(is_yes, bool) else ("yes" if is_yes else "no")
        ts = msg.get("last_updated_ts_ms") or msg.get("created_ts_ms")
        return [
            OrderUpdate(
                V,
                _market(msg),
                order_id=str(msg["order_id"]),
                status=str(msg.get("status", "unknown")),
                side=_direction(msg.get("outcome_side"), msg.get("book_side"), legacy_side),
                price=_price(msg, "yes_price_dollars", "yes_price"),
                filled=_count(msg, "fill_count_fp", "fill_count"),
                remaining=_count(msg, "remaining_count_fp", "remaining_count"),
                ts_ms=ts if type(ts) is int else None,
            )
        ]

    # --- lifecycle ---------------------------------------------------------------------------

    def _lifecycle(self, obj: dict[str, Any]) -> list[Event]:
        msg = obj["msg"]
        event_type = msg.get("event_type")
        if not isinstance(event_type, str):
            raise DecodeError("lifecycle without event_type")
        scope = "multivariate" if obj["type"] == "multivariate_market_lifecycle" else "market"
        if event_type in ("deactivated", "activated") and isinstance(msg.get("is_deactivated"), bool):
            status: str | None = "paused" if msg["is_deactivated"] else "open"
        else:
            status = LIFECYCLE_STATUS.get(event_type)
        detail = {k: v for k, v in msg.items() if k not in ("market_ticker", "event_type")}
        return [Lifecycle(V, _market(msg), event_type, status, scope, detail)]

    def _event_lifecycle(self, obj: dict[str, Any]) -> list[Event]:
        msg = obj["msg"]
        event = msg["event_ticker"]
        if not isinstance(event, str):
            raise DecodeError("event_lifecycle without event_ticker")
        detail = {k: v for k, v in msg.items() if k != "event_ticker"}
        if "sub_title" in detail and "subtitle" not in detail:  # the Jan-2026 name
            detail["subtitle"] = detail.pop("sub_title")
        return [Lifecycle(V, event, "event_lifecycle", None, "event", detail)]

    def _index(self, obj: dict[str, Any]) -> list[Event]:
        """A CF Benchmarks value (protocol/kalshi.md §6.11): the 5 Hz channel gives ``value_usd``; the
        1/s one only the index's own JSON text in ``data`` (``{"id", "time", "value"}``)."""
        msg = obj["msg"]
        index_id = msg["index_id"]
        if not isinstance(index_id, str) or not index_id:
            raise DecodeError("no index_id")
        value, ts = msg.get("value_usd"), msg.get("source_ts_ms")
        data = msg.get("data")
        if isinstance(data, str) and (value is None or ts is None):
            try:
                inner = wire.parse(data)
            except wire.FrameError as exc:
                raise DecodeError(f"index data is not JSON: {exc}") from None
            if isinstance(inner, dict):
                value = inner.get("value") if value is None else value
                ts = inner.get("time") if ts is None else ts
        if not isinstance(value, str | int):
            raise DecodeError("no index value")
        avg = msg.get("avg_60s_data")
        avg_value = avg.get("value") if isinstance(avg, dict) else None
        return [
            IndexValue(
                V,
                index_id,
                to_decimal(value),
                ts if type(ts) is int else None,
                to_decimal(avg_value) if isinstance(avg_value, str) else None,
            )
        ]

    def _notice(self, kind: str, obj: dict[str, Any]) -> Notice:
        msg = obj.get("msg")
        if not isinstance(msg, dict):
            raise DecodeError("no msg object")
        market = msg.get("market_ticker")
        return Notice(V, kind, market if isinstance(market, str) else None, "", msg)

    # --- control -----------------------------------------------------------------------------

    def _subscribed(self, obj: dict[str, Any]) -> list[Event]:
        msg = obj["msg"]
        sid = msg["sid"]
        if type(sid) is not int:
            raise DecodeError("subscribed without an integer sid")
        req_id = obj.get("id")
        return [Subscribed(V, str(msg["channel"]), sid, req_id if type(req_id) is int else None)]

    def _unsubscribed(self, obj: dict[str, Any]) -> list[Event]:
        sid = obj.get("sid")
        req_id = obj.get("id")
        return [Unsubscribed(V, sid if type(sid) is int else None, req_id if type(req_id) is int else None)]

    def _ok(self, obj: dict[str, Any]) -> list[Event]:
        req_id = obj.get("id")
        sid = obj.get("sid")
        msg = obj.get("msg")
        rid = req_id if type(req_id) is int else None
        sid_ = sid if type(sid) is int else None
        subs = msg if isinstance(msg, list) else obj.get("subscriptions")
        if isinstance(subs, list):
            pairs = [(str(s["channel"]), int(s["sid"])) for s in subs]
            return [Ack(V, rid, sid_, None, pairs, "list_subscriptions")]
        body = msg if isinstance(msg, dict) else obj
        tickers = body.get("market_tickers")
        markets = [str(t) for t in tickers] if isinstance(tickers, list) else None
        return [Ack(V, rid, sid_, markets)]

    def _error(self, obj: dict[str, Any]) -> list[Event]:
        msg = obj.get("msg")
        if not isinstance(msg, dict):
            raise DecodeError("error without msg")
        code = msg.get("code")
        code_ = code if type(code) is int else None
        text = msg.get("msg")
        markets: list[str] = []
        if isinstance(msg.get("market_ticker"), str):
            markets.append(msg["market_ticker"])
        if isinstance(msg.get("market_tickers"), list):
            markets.extend(str(t) for t in msg["market_tickers"])
        req_id, sid = obj.get("id"), obj.get("sid")
        return [
            ErrorEvent(
                V,
                describe(code_, text if isinstance(text, str) else None),
                code_,
                req_id if type(req_id) is int else None,
                sid if type(sid) is int else None,
                markets,
                terminal=code_ in TERMINAL_CODES,
            )
        ]


def _opt_int(value: object) -> int | None:
    return value if type(value) is int else None


def _check_side(levels: object, side: str) -> None:
    if not isinstance(levels, list):
        raise DecodeError(f"{side} levels must be a list")
    if len(levels) > MAX_SIDE_LEVELS:
        raise DecodeError(
            f"{side} side of {len(levels):,} levels: a Kalshi side has at most {MAX_SIDE_LEVELS:,}"
        )


def _book_price(text: object) -> int:
    """A dollar price in units, on the book's 4-decimal grid and strictly between $0 and $1."""
    try:
        return _in_range(to_scaled(text, PD))
    except PrecisionError:
        raise DecodeError(f"price {str(text)[:40]!r} is off the $0.0001 grid") from None


def _in_range(price: int) -> int:
    if not 0 < price < KALSHI_ONE:
        raise DecodeError("price outside the $0-$1 range")
    return price


def _safe_market(obj: dict[str, Any]) -> str | None:
    msg = obj.get("msg")
    if isinstance(msg, dict):
        market = msg.get("market_ticker") or msg.get("ticker")
        if isinstance(market, str):
            return market
    return None

"""Kraken v2 frames -> core events (protocol/kraken.md §2-3).

Numbers arrive as JSON numbers carrying the engine's full precision (``0.10000000``) or, per Kraken's own
SDK, sometimes as strings; ``wire.parse`` hands both over as exact text. Book frames come out as
``BookFrame``s with the level text untouched: turning them into integer units needs the pair's
precision, which ``session.KrakenSession`` owns.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from app.core.events import (
    Ack,
    Balance,
    Candle,
    ClientCommand,
    ErrorEvent,
    Event,
    Fill,
    Heartbeat,
    InstrumentUpdate,
    Malformed,
    OrderUpdate,
    Status,
    Subscribed,
    TakerSide,
    Ticker,
    Trade,
    Unknown,
    Unsubscribed,
)
from app.core.instruments import Instrument, Venue
from app.core.numbers import decimals_of, opt_decimal, to_decimal
from app.core.times import parse_time_ms
from app.venues.kraken.level3 import decode_level3
from app.venues.wire import excerpt_of

V = Venue.KRAKEN
RawLevel = tuple[str | int, str | int]
MAX_SIDE_LEVELS = 1000  # Kraken's deepest book subscription


@dataclass(slots=True)
class BookFrame:
    """One symbol's part of a ``book`` message, levels as exact wire text, in message order."""

    market: str
    snapshot: bool
    bids: list[RawLevel]
    asks: list[RawLevel]
    checksum: int | None
    timestamp: str | None = None  # RFC 3339 text, kept unparsed (see BookChange.ts)


class DecodeError(ValueError):
    pass


def _side(value: object) -> TakerSide | None:
    return TakerSide.BUY if value == "buy" else TakerSide.SELL if value == "sell" else None


def _symbol(item: dict[str, Any]) -> str:
    symbol = item.get("symbol")
    if not isinstance(symbol, str) or not symbol:
        raise DecodeError("no symbol")
    return symbol


def _raw_levels(levels: object) -> list[RawLevel]:
    if levels is None:
        return []
    if not isinstance(levels, list):
        raise DecodeError("book levels must be a list")
    if len(levels) > MAX_SIDE_LEVELS:
        raise DecodeError(
            f"a book side of {len(levels):,} levels (the deepest subscription is {MAX_SIDE_LEVELS:,})"
        )
    out: list[RawLevel] = []
    for lvl in levels:
        price, qty = lvl["price"], lvl["qty"]
        if type(price) not in (str, int) or type(qty) not in (str, int):
            raise DecodeError("book level price/qty must be numbers")
        out.append((price, qty))
    return out


def instrument_from_pair(pair: dict[str, Any]) -> Instrument:
    """A v2 ``instrument`` pair; ``price_precision``/``qty_precision`` are what the checksum uses."""
    pp, qp = pair["price_precision"], pair["qty_precision"]
    if type(pp) is not int or type(qp) is not int:
        raise DecodeError("price_precision and qty_precision must be integers")
    return Instrument(
        V,
        _symbol(pair),
        pp,
        qp,
        tick=opt_decimal(pair.get("price_increment", pair.get("tick_size"))),
        lot=opt_decimal(pair.get("qty_increment")),
        base=str(pair.get("base", "")),
        quote=str(pair.get("quote", "")),
        status=str(pair.get("status", "")),
    )


class KrakenDecoder:
    def __init__(self) -> None:
        self._channels: dict[str, Callable[[dict[str, Any]], list[Any]]] = {
            "book": self._book,
            "ticker": self._ticker,
            "trade": self._trade,
            "heartbeat": self._heartbeat,  # a method, not a lambda: sessions pickle (replay checkpoints)
            "status": self._status,
            "ohlc": self._ohlc,
            "instrument": self._instrument,
            "executions": self._executions,
            "balances": self._balances,
            "level3": decode_level3,
        }

    def _heartbeat(self, obj: dict[str, Any]) -> list[Any]:
        return [Heartbeat(V)]

    def decode_obj(self, obj: Any) -> list[Any]:
        """One parsed frame -> core events and ``BookFrame``s. Never raises."""
        if not isinstance(obj, dict):
            return [Malformed(V, "frame is not a JSON object", excerpt_of(obj))]
        try:
            channel = obj.get("channel")
            if isinstance(channel, str):
                handler = self._channels.get(channel)
                if handler is None:
                    return [Unknown(V, channel, None, obj)]
                return handler(obj)
            if isinstance(obj.get("method"), str):
                return self._response(obj)
        except (ValueError, KeyError, TypeError, AttributeError, IndexError) as exc:
            kind = obj.get("channel") or obj.get("method")
            return [Malformed(V, f"bad {kind} frame: {exc.__class__.__name__}: {exc}", excerpt_of(obj))]
        return [Unknown(V, "?", None, obj)]

    # --- responses ---------------------------------------------------------------------------

    def _response(self, obj: dict[str, Any]) -> list[Any]:
        method = obj["method"]
        req_id = obj.get("req_id")
        rid = req_id if type(req_id) is int else None
        if method == "pong":
            return [Ack(V, rid, kind="pong")]
        if "success" not in obj and "result" not in obj and "error" not in obj:
            return [ClientCommand(V, method, rid)]  # our own request, as a recording keeps it
        result = obj.get("result")
        if obj.get("success") is True and isinstance(result, dict):
            channel = str(result.get("channel", ""))
            symbol = result.get("symbol")
            market = symbol if isinstance(symbol, str) else None
            if method == "unsubscribe":
                return [Unsubscribed(V, None, rid, channel, market)]
            if method == "subscribe":
                params = {k: v for k, v in result.items() if k not in ("warnings", "maxratecount")}
                return [Subscribed(V, channel, None, rid, market, params)]
            return [Ack(V, rid, kind=method)]
        # success false, missing or not a bool: an error (Kraken's own SDK treats it so).
        error = obj.get("error")
        symbol = obj.get("symbol")
        if isinstance(result, dict) and not isinstance(symbol, str):
            symbol = result.get("symbol")
        markets = [symbol] if isinstance(symbol, str) else []
        message = f"Kraken {method} error: {error}" if error else f"Kraken {method} failed"
        return [ErrorEvent(V, message, None, rid, None, markets, terminal=False, method=method)]

    # --- market data -------------------------------------------------------------------------

    def _book(self, obj: dict[str, Any]) -> list[Any]:
        snapshot = obj.get("type") == "snapshot"
        out = []
        for item in obj["data"]:
            checksum = item.get("checksum")
            if checksum is not None and type(checksum) is not int:
                raise DecodeError("checksum must be an integer")
            out.append(
                BookFrame(
                    _symbol(item),
                    snapshot,
                    _raw_levels(item.get("bids")),
                    _raw_levels(item.get("asks")),
                    checksum,
                    ts if isinstance(ts := item.get("timestamp"), str) else None,
                )
            )
        return out

    def _ticker(self, obj: dict[str, Any]) -> list[Any]:
        out = []
        for t in obj["data"]:
            out.append(
                Ticker(
                    V,
                    _symbol(t),
                    bid=opt_decimal(t.get("bid")),
                    ask=opt_decimal(t.get("ask")),
                    bid_size=opt_decimal(t.get("bid_qty")),
                    ask_size=opt_decimal(t.get("ask_qty")),
                    last=opt_decimal(t.get("last")),
                    volume=opt_decimal(t.get("volume")),
                    change=opt_decimal(t.get("change")),
                    change_pct=opt_decimal(t.get("change_pct")),
                    high=opt_decimal(t.get("high")),
                    low=opt_decimal(t.get("low")),
                    vwap=opt_decimal(t.get("vwap")),
                    ts_ms=parse_time_ms(t.get("timestamp")),
                )
            )
        return out

    def _trade(self, obj: dict[str, Any]) -> list[Any]:
        return [
            Trade(
                V,
                _symbol(t),
                str(t.get("trade_id", "")),
                to_decimal(t["price"]),
                to_decimal(t["qty"]),
                _side(t.get("side")),
                parse_time_ms(t.get("timestamp")),
            )
            for t in obj["data"]
        ]

    def _status(self, obj: dict[str, Any]) -> list[Any]:
        out = []
        for s in obj["data"]:
            cid = s.get("connection_id")
            out.append(
                Status(
                    V,
                    str(s.get("system", "unknown")),
                    cid if type(cid) is int else None,
                    s.get("version") if isinstance(s.get("version"), str) else None,
                )
            )
        return out

    def _ohlc(self, obj: dict[str, Any]) -> list[Any]:
        out = []
        for c in obj["data"]:
            trades = c.get("trades")
            out.append(
                Candle(
                    V,
                    _symbol(c),
                    int(c["interval"]),
                    str(c.get("interval_begin", "")),
                    to_decimal(c["open"]),
                    to_decimal(c["high"]),
                    to_decimal(c["low"]),
                    to_decimal(c["close"]),
                    to_decimal(c["volume"]),
                    opt_decimal(c.get("vwap")),
                    trades if type(trades) is int else None,
                )
            )
        return out

    def _instrument(self, obj: dict[str, Any]) -> list[Any]:
        data = obj["data"]
        if not isinstance(data, dict):
            raise DecodeError("instrument data must be an object")
        return [InstrumentUpdate(V, [instrument_from_pair(p) for p in data.get("pairs", [])])]

    # --- the user's own ----------------------------------------------------------------------

    def _executions(self, obj: dict[str, Any]) -> list[Any]:
        out: list[Event] = []
        for r in obj["data"]:
            symbol = r.get("symbol")
            market = symbol if isinstance(symbol, str) else ""
            side = _side(r.get("side"))
            ts = parse_time_ms(r.get("timestamp"))
            if r.get("exec_id") is not None and r.get("last_qty") is not None and side is not None:
                fees = r.get("fees")
                fee: Decimal | None = None
                if isinstance(fees, list) and fees:
                    fee = sum((to_decimal(f["qty"]) for f in fees), Decimal(0))
                liquidity = r.get("liquidity_ind")
                out.append(
                    Fill(
                        V,
                        market,
                        str(r["exec_id"]),
                        str(r.get("order_id", "")),
                        to_decimal(r["last_price"]),
                        to_decimal(r["last_qty"]),
                        side,
                        is_taker=None if liquidity not in ("t", "m") else liquidity == "t",
                        fee=fee,
                        ts_ms=ts,
                    )
                )
            status = r.get("order_status")
            if isinstance(status, str) and r.get("order_id") is not None:
                order_qty = opt_decimal(r.get("order_qty"))
                cum_qty = opt_decimal(r.get("cum_qty"))
                out.append(
                    OrderUpdate(
                        V,
                        market,
                        str(r["order_id"]),
                        status,
                        side,
                        opt_decimal(r.get("limit_price")),
                        cum_qty,
                        None if order_qty is None or cum_qty is None else order_qty - cum_qty,
                        ts,
                    )
                )
        return out

    def _balances(self, obj: dict[str, Any]) -> list[Any]:
        return [
            Balance(
                V,
                str(b["asset"]),
                to_decimal(b["balance"]),
                opt_decimal(b.get("amount")),
                parse_time_ms(b.get("timestamp")),
            )
            for b in obj["data"]
        ]


def max_decimals(levels: list[RawLevel]) -> tuple[int, int]:
    """The most decimals written for prices and for quantities in some levels (precision inference)."""
    pd = qd = 0
    for price, qty in levels:
        pd = max(pd, decimals_of(price))
        qd = max(qd, decimals_of(qty))
    return pd, qd

"""Kraken v2 ``level3`` frames -> ``Level3Frame``s (docs/protocol-kraken-level3.md §4).

A frame is ``{"channel":"level3","type":"snapshot"|"update","data":[{symbol, checksum, timestamp,
bids, asks}]}``; each side lists orders (``order_id``, ``limit_price``, ``order_qty``, ``timestamp``), and
in an update each carries its ``event`` (add, modify, delete). Prices and quantities stay the exact wire
text (``wire.parse`` keeps a JSON number's digits): turning them into integer units needs the pair's
precision, which ``level3_session.Level3Session`` owns. Example, from Kraken's channel page::

    {"channel":"level3","type":"update","data":[{"checksum":2841398499,"symbol":"MATIC/USD","bids":[],
     "asks":[{"event":"delete","order_id":"OOIATY-6EIWY-ACVIUN","limit_price":0.5636,
              "order_qty":302.89736033,"timestamp":"2023-10-06T18:21:00.097010033Z"}]}]}
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.core.events import OrderEventKind

CHANNEL = "level3"
DEPTHS = (10, 100, 1000)
# Far above any real level: a depth-1000 book of a busy pair holds a few thousand orders a side.
MAX_SIDE_ORDERS = 50_000
_KINDS = {kind.value: kind for kind in OrderEventKind}


class Level3DecodeError(ValueError):
    """A level3 frame that does not have the documented shape."""


@dataclass(slots=True)
class RawOrder:
    """One order as sent: the numbers are the exact wire text (or a JSON int)."""

    order_id: str
    price: str | int
    qty: str | int
    ts: str | None
    kind: OrderEventKind | None  # None in a snapshot


@dataclass(slots=True)
class Level3Frame:
    """One symbol's part of a ``level3`` message, orders in message order."""

    market: str
    snapshot: bool
    bids: list[RawOrder]
    asks: list[RawOrder]
    checksum: int | None
    timestamp: str | None = None


def _orders(value: object, snapshot: bool) -> list[RawOrder]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise Level3DecodeError("a level3 side must be a list of orders")
    if len(value) > MAX_SIDE_ORDERS:
        raise Level3DecodeError(f"a level3 side of {len(value):,} orders")
    out: list[RawOrder] = []
    for item in value:
        if not isinstance(item, dict):
            raise Level3DecodeError("a level3 order must be an object")
        order_id, price, qty = item.get("order_id"), item.get("limit_price"), item.get("order_qty")
        if not isinstance(order_id, str) or not order_id:
            raise Level3DecodeError("a level3 order without an order_id")
        if (
            not isinstance(price, str | int)
            or not isinstance(qty, str | int)
            or type(price) is bool
            or type(qty) is bool
        ):
            raise Level3DecodeError(f"order {order_id}: limit_price and order_qty must be numbers")
        ts = item.get("timestamp")
        kind: OrderEventKind | None = None
        if not snapshot:
            event = item.get("event")
            kind = _KINDS.get(event) if isinstance(event, str) else None
            if kind is None:
                raise Level3DecodeError(
                    f"order {order_id}: event must be add, modify or delete, not {event!r}"
                )
        out.append(RawOrder(order_id, price, qty, ts if isinstance(ts, str) else None, kind))
    return out


def decode_level3(obj: dict[str, Any]) -> list[Level3Frame]:
    """A parsed ``level3`` message -> one frame per symbol; ``Level3DecodeError`` for a bad shape."""
    kind = obj.get("type")
    if kind not in ("snapshot", "update"):
        raise Level3DecodeError(f"level3 type must be snapshot or update, not {kind!r}")
    snapshot = kind == "snapshot"
    data = obj.get("data")
    if not isinstance(data, list):
        raise Level3DecodeError("level3 data must be a list")
    out: list[Level3Frame] = []
    for item in data:
        if not isinstance(item, dict):
            raise Level3DecodeError("a level3 book must be an object")
        symbol = item.get("symbol")
        if not isinstance(symbol, str) or not symbol:
            raise Level3DecodeError("a level3 book without a symbol")
        checksum = item.get("checksum")
        if checksum is not None and (type(checksum) is not int or not 0 <= checksum < 2**32):
            raise Level3DecodeError("level3 checksum must be an unsigned 32-bit integer")
        ts = item.get("timestamp")
        out.append(
            Level3Frame(
                symbol,
                snapshot,
                _orders(item.get("bids"), snapshot),
                _orders(item.get("asks"), snapshot),
                checksum,
                ts if isinstance(ts, str) else None,
            )
        )
    return out

"""Kraken v2 frames and REST bodies, rendered from the simulated market (protocol/kraken.md §2-§5).

Prices and quantities go out as JSON numbers carrying the pair's full precision (``0.10000000``), as
the live wire does; they are written from integer units as raw JSON text, never through floats.
"""

from __future__ import annotations

import time
import zlib
from typing import Any

import msgspec

from app.sim.catalog import ASSETS, KrakenPair
from app.sim.events import KrakenBook
from app.sim.kraken.market import Candle, KrakenPairState
from app.sim.market import ledger_decimals, rfc3339
from app.sim.units import fixed

Raw = msgspec.Raw
encode = msgspec.json.Encoder().encode
API_VERSION = "v2"
SERVICE_VERSION = "2.0.10"


def num(units: int, decimals: int) -> msgspec.Raw:
    """A JSON number with exactly ``decimals`` decimals."""
    return Raw(fixed(units, decimals).encode())


def _nano_stamp(seconds: int) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds)) + ".000000000Z"


# ---------------------------------------------------------------------------------------- book


def checksum(state: KrakenPairState) -> int:
    """CRC32 of the top 10 asks (ascending) then bids (descending), each level as
    price text + qty text at the pair's precision with the ``.`` and leading zeros removed (§4.2)."""
    pd, qd = state.pair.price_precision, state.pair.qty_precision
    cache = state.level_text  # top levels change slowly: remember each level's text

    def level(price: int, qty: int) -> str:
        text = cache.get((price, qty))
        if text is None:
            if len(cache) > 50_000:
                cache.clear()
            text = cache[(price, qty)] = fixed(price, pd).replace(".", "").lstrip("0") + fixed(
                qty, qd
            ).replace(".", "").lstrip("0")
        return text

    text = "".join(level(p, q) for p, q in state.asks.top(10)) + "".join(
        level(p, q) for p, q in state.bids.top(10)
    )
    return zlib.crc32(text.encode("ascii")) & 0xFFFFFFFF


def _levels(pair: KrakenPair, levels: list[tuple[int, int]]) -> list[dict[str, msgspec.Raw]]:
    pd, qd = pair.price_precision, pair.qty_precision
    return [{"price": num(p, pd), "qty": num(q, qd)} for p, q in levels]


def book_snapshot(state: KrakenPairState, depth: int, crc: int) -> dict[str, Any]:
    return {
        "channel": "book",
        "type": "snapshot",
        "data": [
            {
                "symbol": state.symbol,
                "bids": _levels(state.pair, state.bids.top(depth)),
                "asks": _levels(state.pair, state.asks.top(depth)),
                "checksum": crc,
                "timestamp": rfc3339(),
            }
        ],
    }


def book_changes(state: KrakenPairState, event: KrakenBook, depth: int) -> tuple[list[tuple[int, int]], ...]:
    """What a depth-``depth`` subscriber must be told so that its truncated book equals our top ``depth``.

    Levels that leave the window because they were deleted go out with qty 0; levels pushed out by a
    better insert are not sent (the client truncates them); levels that enter the window because one
    inside it went away are sent as the refill (protocol/kraken.md §4.1).
    """
    bid_bound, ask_bound = event.old_bounds[depth]
    out: dict[str, list[tuple[int, int]]] = {"bids": [], "asks": []}
    seen: set[tuple[str, int]] = set()
    for side, price, old_qty in event.touched:
        if (side, price) in seen:
            continue
        seen.add((side, price))
        ladder = state.side(side)
        bound = bid_bound if side == "bids" else ask_bound
        was_inside = old_qty > 0 and (bound is None or (price >= bound if side == "bids" else price <= bound))
        qty = ladder.get(price)
        if qty and ladder.rank(price) < depth:
            if not was_inside or qty != old_qty:
                out[side].append((price, qty))
        elif qty == 0 and was_inside:
            out[side].append((price, 0))
    for side in ("bids", "asks"):
        bound = bid_bound if side == "bids" else ask_bound
        if bound is None:
            continue  # the window held every level before: nothing untouched can enter it
        ladder = state.side(side)
        start = ladder.rank(bound) + (1 if ladder.get(bound) else 0)
        for rank in range(start, min(depth, len(ladder))):
            price = ladder.price_at(rank)
            if (side, price) not in seen:
                out[side].append((price, ladder.get(price)))
    return out["bids"], out["asks"]


def book_update(
    state: KrakenPairState, bids: list[tuple[int, int]], asks: list[tuple[int, int]], crc: int, ts: str
) -> dict[str, Any]:
    return {
        "channel": "book",
        "type": "update",
        "data": [
            {
                "symbol": state.symbol,
                "bids": _levels(state.pair, bids),
                "asks": _levels(state.pair, asks),
                "checksum": crc,
                "timestamp": ts,
            }
        ],
    }


# ---------------------------------------------------------------------------------------- market data


def ticker(state: KrakenPairState, kind: str) -> dict[str, Any]:
    pair = state.pair
    pd, qd = pair.price_precision, pair.qty_precision
    bid, ask = state.bids.best() or 0, state.asks.best() or 0
    change = state.last - state.open_price
    pct = (change * 10_000 // state.open_price) if state.open_price else 0  # hundredths of a percent
    return {
        "channel": "ticker",
        "type": kind,
        "data": [
            {
                "symbol": pair.symbol,
                "bid": num(bid, pd),
                "bid_qty": num(state.bids.get(bid), qd),
                "ask": num(ask, pd),
                "ask_qty": num(state.asks.get(ask), qd),
                "last": num(state.last, pd),
                "volume": num(state.volume, qd),
                "vwap": num(state.vwap(), pd),
                "low": num(state.low, pd),
                "high": num(state.high, pd),
                "change": num(change, pd),
                "change_pct": num(pct, 2),
                "timestamp": rfc3339(),
            }
        ],
    }


def trades(state: KrakenPairState, rows: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    pd, qd = state.pair.price_precision, state.pair.qty_precision
    return {
        "channel": "trade",
        "type": kind,
        "data": [
            {
                "symbol": state.symbol,
                "side": t["side"],
                "price": num(t["price"], pd),
                "qty": num(t["qty"], qd),
                "ord_type": t["ord_type"],
                "trade_id": t["trade_id"],
                "timestamp": t["timestamp"],
            }
            for t in rows
        ],
    }


def _candle(state: KrakenPairState, c: Candle, minutes: int) -> dict[str, Any]:
    pd, qd = state.pair.price_precision, state.pair.qty_precision
    return {
        "symbol": state.symbol,
        "open": num(c.open, pd),
        "high": num(c.high, pd),
        "low": num(c.low, pd),
        "close": num(c.close, pd),
        "vwap": num(c.cost // c.volume if c.volume else c.close, pd),
        "trades": c.trades,
        "volume": num(c.volume, qd),
        "interval_begin": _nano_stamp(c.begin_s),
        "interval": minutes,
        "timestamp": _nano_stamp(c.begin_s + minutes * 60),
    }


def ohlc(state: KrakenPairState, minutes: int, kind: str, count: int = 1) -> dict[str, Any] | None:
    candles = list(state.candles.get(minutes, ()))[-count:]
    if not candles and kind == "update":
        return None
    return {
        "channel": "ohlc",
        "type": kind,
        "timestamp": rfc3339(),
        "data": [_candle(state, c, minutes) for c in candles],
    }


def instrument(states: list[KrakenPairState]) -> dict[str, Any]:
    used = {s.pair.base_asset for s in states} | {s.pair.quote_asset for s in states}
    assets = []
    for key in sorted(used):
        ident, decimals, display = ASSETS.get(key, (key, 8, 4))
        assets.append(
            {
                "id": ident,
                "status": "enabled",
                "precision": decimals,
                "precision_display": display,
                "borrowable": False,
                "collateral_value": num(100, 2),
                "margin_rate": num(0, 2),
            }
        )
    pairs = []
    for s in states:
        p = s.pair
        pairs.append(
            {
                "symbol": p.symbol,
                "base": p.base,
                "quote": p.quote,
                "status": s.status,
                "qty_precision": p.qty_precision,
                "qty_increment": num(1, p.qty_precision),
                "price_precision": p.price_precision,
                "cost_precision": p.cost_precision,
                "marginable": False,
                "has_index": True,
                "cost_min": num(50, 2),
                "tick_size": num(p.price_increment, p.price_precision),
                "price_increment": num(p.price_increment, p.price_precision),
                "qty_min": num(p.qty_min, p.qty_precision),
            }
        )
    return {"channel": "instrument", "type": "snapshot", "data": {"assets": assets, "pairs": pairs}}


def status(connection_id: int, system: str = "online") -> dict[str, Any]:
    return {
        "channel": "status",
        "type": "update",
        "data": [
            {
                "api_version": API_VERSION,
                "connection_id": connection_id,
                "system": system,
                "version": SERVICE_VERSION,
            }
        ],
    }


def _numbers(value: Any) -> Any:
    """Execution/ledger records keep numbers as (units, decimals) until they go on the wire."""
    if isinstance(value, tuple):
        return num(*value)
    if isinstance(value, list):
        return [_numbers(v) for v in value]
    if isinstance(value, dict):
        return {k: _numbers(v) for k, v in value.items()}
    return value


def executions(reports: list[dict[str, Any]], kind: str, sequence: int) -> dict[str, Any]:
    return {
        "channel": "executions",
        "type": kind,
        "data": [_numbers(r) for r in reports],
        "sequence": sequence,
    }


def balances_snapshot(balances: dict[str, int], sequence: int) -> dict[str, Any]:
    rows = []
    for asset, units in sorted(balances.items()):
        decimals = ledger_decimals(asset)
        rows.append(
            {
                "asset": asset,
                "asset_class": "currency",
                "balance": num(units, decimals),
                "wallets": [{"type": "spot", "id": "main", "balance": num(units, decimals)}],
            }
        )
    return {"channel": "balances", "type": "snapshot", "data": rows, "sequence": sequence}


def balances_update(entries: list[dict[str, Any]], sequence: int) -> dict[str, Any]:
    return {
        "channel": "balances",
        "type": "update",
        "data": [_numbers(e) for e in entries],
        "sequence": sequence,
    }


# ---------------------------------------------------------------------------------------- REST


def asset_pair(state: KrakenPairState) -> dict[str, Any]:
    p = state.pair
    return {
        "altname": p.altname,
        "wsname": p.wsname,
        "aclass_base": "currency",
        "base": p.base_asset,
        "aclass_quote": "currency",
        "quote": p.quote_asset,
        "lot": "unit",
        "cost_decimals": p.cost_precision,
        "pair_decimals": p.price_precision,
        "lot_decimals": p.qty_precision,
        "lot_multiplier": 1,
        "leverage_buy": [],
        "leverage_sell": [],
        "fees": [],
        "fees_maker": [],
        "fee_volume_currency": "ZUSD",
        "margin_call": 80,
        "margin_stop": 40,
        "ordermin": fixed(p.qty_min, p.qty_precision).rstrip("0").rstrip("."),
        "costmin": "0.5",
        "tick_size": fixed(p.price_increment, p.price_precision),
        "status": state.status,
        "execution_venue": "international",
    }


def asset_info(key: str) -> dict[str, Any]:
    _ident, decimals, display = ASSETS.get(key, (key, 8, 4))
    # Kraken's old four-letter X-keys drop the X for the altname (XXBT -> XBT, XXDG -> XDG); ZUSD stays.
    altname = key[1:] if len(key) == 4 and key.startswith("X") else key
    return {
        "aclass": "currency",
        "altname": altname,
        "decimals": decimals,
        "display_decimals": display,
        "collateral_value": 1.0,
        "status": "enabled",
    }


def epoch(stamp_text: str) -> float:
    """RFC 3339 (as this module writes it) -> unix seconds."""
    from datetime import datetime

    return datetime.fromisoformat(stamp_text.replace("Z", "+00:00")).timestamp()


def history_trade(report: dict[str, Any], pair: KrakenPair) -> dict[str, Any]:
    """One execution as REST TradesHistory shows it: strings for amounts, the REST pair name."""

    def text(value: tuple[int, int]) -> str:
        return fixed(*value)

    return {
        "ordertxid": report["order_id"],
        "postxid": "",
        "pair": pair.rest_key,
        "time": epoch(report["timestamp"]),
        "type": report["side"],
        "ordertype": report["order_type"],
        "price": text(report["last_price"]),
        "cost": text(report["cost"]),
        "fee": text(report["fees"][0]["qty"]),
        "vol": text(report["last_qty"]),
        "margin": "0.00000",
        "misc": "",
        "trade_id": report["trade_id"],
        "maker": report["liquidity_ind"] == "m",
    }


def depth(state: KrakenPairState, count: int) -> dict[str, list[list[Any]]]:
    """REST Depth: ``[price, volume, timestamp]`` rows, best first, at full precision."""
    pd, qd = state.pair.price_precision, state.pair.qty_precision
    now = int(time.time())
    return {
        "asks": [[fixed(p, pd), fixed(q, qd), now] for p, q in state.asks.top(count)],
        "bids": [[fixed(p, pd), fixed(q, qd), now] for p, q in state.bids.top(count)],
    }


def ohlc_rows(state: KrakenPairState, minutes: int, since: int) -> tuple[list[list[Any]], int]:
    """REST OHLC: ``[time, open, high, low, close, vwap, volume, count]`` rows newer than ``since``,
    oldest first, the newest (still filling) last; and ``last``, the begin of the newest committed one."""
    pd, qd = state.pair.price_precision, state.pair.qty_precision
    candles = list(state.candles.get(minutes, ()))
    rows = [
        [
            c.begin_s,
            fixed(c.open, pd),
            fixed(c.high, pd),
            fixed(c.low, pd),
            fixed(c.close, pd),
            fixed(c.cost // c.volume if c.volume else c.close, pd),
            fixed(c.volume, qd),
            c.trades,
        ]
        for c in candles
        if c.begin_s > since
    ]
    last = candles[-2].begin_s if len(candles) > 1 else (candles[0].begin_s if candles else 0)
    return rows, last


def rest_ticker(state: KrakenPairState) -> dict[str, Any]:
    """REST Ticker: ask/bid ``[price, whole lot volume, lot volume]``, last ``[price, lot volume]``,
    and the day's volume, vwap, trades, low, high (each ``[today, last 24 h]``) and today's open."""
    pd, qd = state.pair.price_precision, state.pair.qty_precision
    bid, ask = state.bids.best(), state.asks.best()

    def quote(price: int | None, ladder_qty: int) -> list[str]:
        size = fixed(ladder_qty, qd)
        return [fixed(price or 0, pd), size.split(".")[0], size]

    last = state.recent[-1]["qty"] if state.recent else 0
    day = [fixed(state.volume, qd)] * 2
    return {
        "a": quote(ask, state.asks.get(ask) if ask is not None else 0),
        "b": quote(bid, state.bids.get(bid) if bid is not None else 0),
        "c": [fixed(state.last, pd), fixed(last, qd)],
        "v": day,
        "p": [fixed(state.vwap(), pd)] * 2,
        "t": [state.next_trade_id - 1] * 2,
        "l": [fixed(state.low, pd)] * 2,
        "h": [fixed(state.high, pd)] * 2,
        "o": fixed(state.open_price, pd),
    }

"""Kalshi frames and REST bodies, rendered from the simulated market (protocol/kalshi.md §3-§8).

Current format: prices as ``*_dollars`` strings (4 decimals), sizes as ``*_fp`` strings (2 decimals).
``legacy=True`` renders the pre-2026 integer format of the first WebSocket doc: cents and whole
contracts (``price``, ``delta``, ``yes``/``no`` arrays ...). NO-side book prices are NO-leg unless the
subscription asked for ``use_yes_price``, which reports them as the YES price (1 - p).
"""

from __future__ import annotations

import time
from typing import Any

from app.sim.catalog import KalshiListing
from app.sim.events import (
    KalshiDelta,
    KalshiFill,
    KalshiIndexValue,
    KalshiLifecycle,
    KalshiTrade,
    KalshiUserOrder,
)
from app.sim.kalshi.market import CLOSED, DETERMINED, OPEN, PAUSED, SETTLED, KalshiMarket
from app.sim.units import CONTRACT, DOLLAR, contracts, dollars, fixed

CENT = DOLLAR // 100


def _iso_ms(ts_ms: int, digits: int = 6) -> str:
    """RFC 3339 with a fraction: Kalshi writes microseconds on deltas and tickers, ms on REST fills."""
    fraction = f"{ts_ms % 1000:03d}".ljust(digits, "0")
    return _iso(ts_ms / 1000)[:-1] + f".{fraction}Z"


def _iso(seconds: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(seconds))


def _book_price(side: str, price: int, use_yes_price: bool) -> int:
    return DOLLAR - price if side == "no" and use_yes_price else price


def _levels(market: KalshiMarket, side: str, use_yes_price: bool, legacy: bool) -> list[list[Any]]:
    # Ascending by reported price, like the REST book (clients must not rely on order anyway).
    rows = sorted((_book_price(side, p, use_yes_price), s) for p, s in market.book(side).top())
    if legacy:
        return [[p // CENT, s // CONTRACT] for p, s in rows]
    return [[dollars(p), contracts(s)] for p, s in rows]


def snapshot_msg(market: KalshiMarket, use_yes_price: bool, legacy: bool) -> dict[str, Any]:
    """``orderbook_snapshot`` payload; an empty side's key is left out."""
    msg: dict[str, Any] = {"market_ticker": market.ticker}
    if not legacy:
        msg["market_id"] = market.listing.market_id
    for side in ("yes", "no"):
        if len(market.book(side)):
            key = side if legacy else f"{side}_dollars_fp"
            msg[key] = _levels(market, side, use_yes_price, legacy)
    return msg


def delta_msg(event: KalshiDelta, market_id: str, use_yes_price: bool, legacy: bool) -> dict[str, Any]:
    price = _book_price(event.side, event.price, use_yes_price)
    if legacy:
        return {
            "market_ticker": event.market,
            "price": price // CENT,
            "delta": event.delta // CONTRACT,
            "side": event.side,
        }
    msg: dict[str, Any] = {
        "market_ticker": event.market,
        "market_id": market_id,
        "price_dollars": dollars(price),
        "delta_fp": contracts(event.delta),
        "side": event.side,
        "ts": _iso_ms(event.ts_ms),
        "ts_ms": event.ts_ms,
    }
    if event.client_order_id:
        msg["client_order_id"] = event.client_order_id
    return msg


def ticker_msg(market: KalshiMarket, legacy: bool) -> dict[str, Any] | None:
    """None in the legacy format while a quote can't be said in 1..99 cents (no trade yet, empty side)."""
    ts_ms = int(time.time() * 1000)
    notional_oi = market.open_interest * market.last_price // (DOLLAR * CONTRACT)
    if legacy:
        if not all(CENT <= p <= 99 * CENT for p in (market.last_price, market.yes_bid(), market.yes_ask())):
            return None
        return {
            "market_ticker": market.ticker,
            "price": market.last_price // CENT,
            "yes_bid": market.yes_bid() // CENT,
            "yes_ask": market.yes_ask() // CENT,
            "volume": market.volume // CONTRACT,
            "open_interest": market.open_interest // CONTRACT,
            "dollar_volume": market.dollar_volume,
            "dollar_open_interest": notional_oi,
            "ts": ts_ms // 1000,
        }
    return {
        "market_ticker": market.ticker,
        "market_id": market.listing.market_id,
        "price_dollars": dollars(market.last_price),
        "yes_bid_dollars": dollars(market.yes_bid()),
        "yes_ask_dollars": dollars(market.yes_ask()),
        "volume_fp": contracts(market.volume),
        "open_interest_fp": contracts(market.open_interest),
        "dollar_volume": market.dollar_volume,
        "dollar_open_interest": notional_oi,
        "yes_bid_size_fp": contracts(market.yes_bid_size()),
        "yes_ask_size_fp": contracts(market.yes_ask_size()),
        "last_trade_size_fp": contracts(market.last_trade_size),
        "ts": ts_ms // 1000,
        "ts_ms": ts_ms,
        "time": _iso_ms(ts_ms),
    }


def trade_msg(trade: KalshiTrade, legacy: bool) -> dict[str, Any]:
    no_price = DOLLAR - trade.yes_price
    if legacy:
        return {
            "market_ticker": trade.market,
            "yes_price": trade.yes_price // CENT,
            "no_price": no_price // CENT,
            "count": trade.count // CONTRACT,
            "taker_side": trade.taker_outcome,
            "ts": trade.ts_ms // 1000,
        }
    return {
        "trade_id": trade.trade_id,
        "market_ticker": trade.market,
        "yes_price_dollars": dollars(trade.yes_price),
        "no_price_dollars": dollars(no_price),
        "count_fp": contracts(trade.count),
        "taker_side": trade.taker_outcome,
        "taker_outcome_side": trade.taker_outcome,
        "taker_book_side": "bid" if trade.taker_outcome == "yes" else "ask",
        "is_block_trade": False,
        "ts": trade.ts_ms // 1000,
        "ts_ms": trade.ts_ms,
    }


def fill_msg(fill: KalshiFill, legacy: bool) -> dict[str, Any]:
    if legacy:
        return {
            "trade_id": fill.trade_id,
            "order_id": fill.order_id,
            "market_ticker": fill.market,
            "is_taker": fill.is_taker,
            "side": _contract_side(fill.outcome, fill.action),
            "yes_price": fill.yes_price // CENT,
            "no_price": (DOLLAR - fill.yes_price) // CENT,
            "count": fill.count // CONTRACT,
            "action": fill.action,
            "ts": fill.ts_ms // 1000,
        }
    return {
        "trade_id": fill.trade_id,
        "order_id": fill.order_id,
        "client_order_id": fill.client_order_id,
        "market_ticker": fill.market,
        "exchange_index": 0,
        "is_taker": fill.is_taker,
        "side": _contract_side(fill.outcome, fill.action),
        "yes_price_dollars": dollars(fill.yes_price),
        "count_fp": contracts(fill.count),
        "fee_cost": fixed(fill.fee_micros, 6),
        "action": fill.action,
        "post_position_fp": contracts(fill.post_position),
        "purchased_side": _contract_side(fill.outcome, fill.action),
        "outcome_side": fill.outcome,
        "book_side": _book_side(fill.outcome),
        "ts": fill.ts_ms // 1000,
        "ts_ms": fill.ts_ms,
    }


def _book_side(outcome: str) -> str:
    # outcome_side is the direction (buy YES and sell NO are both "yes"); bid = yes, ask = no (§6.3).
    return "bid" if outcome == "yes" else "ask"


def _contract_side(outcome: str, action: str) -> str:
    """The deprecated ``side``: the contract bought or sold (selling YES is a NO-ward trade)."""
    return outcome if action == "buy" else ("no" if outcome == "yes" else "yes")


def _micros_to_dollars(micros: int) -> str:
    return dollars(micros // 100)


def position_msg(market: KalshiMarket, user_id: str, legacy: bool) -> dict[str, Any]:
    pos = market.position
    if legacy:  # the old feed's money fields were centi-cents (1/10 000 dollar)
        return {
            "user_id": user_id,
            "market_ticker": market.ticker,
            "position": pos.position // CONTRACT,
            "position_cost": pos.cost_micros // 100,
            "realized_pnl": pos.realized_micros // 100,
            "fees_paid": pos.fees_micros // 100,
            "volume": pos.volume // CONTRACT,
        }
    return {
        "user_id": user_id,
        "market_ticker": market.ticker,
        "position_fp": contracts(pos.position),
        "position_cost_dollars": _micros_to_dollars(pos.cost_micros),
        "realized_pnl_dollars": _micros_to_dollars(pos.realized_micros),
        "fees_paid_dollars": _micros_to_dollars(pos.fees_micros),
        "position_fee_cost_dollars": _micros_to_dollars(pos.fees_micros),
        "volume_fp": contracts(pos.volume),
    }


def user_order_msg(order: KalshiUserOrder, user_id: str) -> dict[str, Any]:
    return {
        "order_id": order.order_id,
        "user_id": user_id,
        "ticker": order.market,
        "exchange_index": 0,
        "status": order.status,
        "side": _contract_side(order.outcome, order.action),
        "is_yes": _contract_side(order.outcome, order.action) == "yes",
        "outcome_side": order.outcome,
        "book_side": _book_side(order.outcome),
        "yes_price_dollars": dollars(order.yes_price),
        "fill_count_fp": contracts(order.filled),
        "remaining_count_fp": contracts(order.initial - order.filled),
        "initial_count_fp": contracts(order.initial),
        "taker_fill_cost_dollars": fixed(order.taker_cost_micros, 6),
        "maker_fill_cost_dollars": fixed(order.maker_cost_micros, 6),
        "taker_fees_dollars": fixed(order.taker_fees_micros, 6),
        "maker_fees_dollars": fixed(order.maker_fees_micros, 6),
        "client_order_id": order.client_order_id,
        "created_time": _iso(order.created_ts_ms / 1000),
        "created_ts_ms": order.created_ts_ms,
        "last_updated_ts_ms": order.updated_ts_ms,
        "last_update_reason": "Trade",
    }


def _ranges(market: KalshiMarket) -> list[dict[str, str]]:
    return [
        {"start": dollars(r.start), "end": dollars(r.end), "step": dollars(r.step)}
        for r in market.listing.ranges
    ]


def strike_fields(listing: KalshiListing) -> dict[str, Any]:
    """``strike_type`` with ``floor_strike`` and/or ``cap_strike``, numbers as Kalshi sends them."""
    out: dict[str, Any] = {"strike_type": listing.strike_type}
    if listing.floor_strike is not None:
        out["floor_strike"] = float(listing.floor_strike)
    if listing.cap_strike is not None:
        out["cap_strike"] = float(listing.cap_strike)
    return out


def lifecycle_msg(event: KalshiLifecycle, market: KalshiMarket, legacy: bool) -> dict[str, Any]:
    """``market_lifecycle_v2`` payload (legacy: the v1 ``market_lifecycle`` shape)."""
    if legacy:
        msg: dict[str, Any] = {
            "market_ticker": market.ticker,
            "open_ts": market.open_ts,
            "close_ts": market.close_ts,
            "is_deactivated": market.status == PAUSED,
        }
        if market.determination_ts is not None:
            msg["determination_ts"] = market.determination_ts
            msg["result"] = market.result
        if market.settled_ts is not None:
            msg["settled_ts"] = market.settled_ts
        return msg
    msg = {"market_ticker": market.ticker, "event_type": event.event_type}
    fields = event.fields
    if event.event_type == "created":
        listing = market.listing
        msg.update(
            {
                "exchange_index": 0,
                "open_ts": market.open_ts,
                "close_ts": market.close_ts,
                "additional_metadata": {
                    "name": listing.title,
                    "title": listing.title,
                    "yes_sub_title": listing.yes_sub_title,
                    "no_sub_title": listing.no_sub_title,
                    "rules_primary": f"Resolves YES if {listing.yes_sub_title}.",
                    "rules_secondary": "",
                    "can_close_early": True,
                    "event_ticker": listing.event_ticker,
                    "expected_expiration_ts": market.close_ts + 3600,
                    **strike_fields(listing),
                },
                "price_level_structure": listing.structure,
                "price_ranges": _ranges(market),
            }
        )
    elif event.event_type == "close_date_updated":
        msg["close_ts"] = fields["close_ts"]
    elif event.event_type == "determined":
        msg["determination_ts"] = fields["determination_ts"]
        msg["result"] = fields["result"]
        msg["settlement_value"] = dollars(fields["settlement_value"])
    elif event.event_type == "settled":
        msg["settled_ts"] = fields["settled_ts"]
    elif event.event_type in ("deactivated", "activated"):
        msg["is_deactivated"] = fields["is_deactivated"]
    return msg


def index_msg(event: KalshiIndexValue) -> dict[str, Any]:
    """``cfbenchmarks_value`` payload, in the shape of Kalshi's AsyncAPI example (protocol/kalshi.md §6.11
    names the channel; the fields are the documented example's): the value itself is inside ``data``, a
    JSON text from CF Benchmarks, beside the 60 s average the settlement uses."""
    value = fixed(event.value, 2)
    data = f'{{"type":"value","id":"{event.index_id}","time":{event.ts_ms},"value":"{value}"}}'
    return {
        "index_id": event.index_id,
        "received_at": event.ts_ms,
        "data": data,
        "avg_60s_data": {
            "value": fixed(event.avg_60s, 8),
            "window_size": event.window,
            "window_start_ts_ms": event.window_start_ms,
            "window_end_ts_exclusive": event.ts_ms + 1,
        },
    }


def event_lifecycle_msg(event_ticker: str, series_ticker: str, title: str) -> dict[str, Any]:
    return {
        "event_ticker": event_ticker,
        "exchange_index": 0,
        "title": title,
        "subtitle": "",
        "collateral_return_type": "",
        "series_ticker": series_ticker,
    }


# ---------------------------------------------------------------------------------------- REST

STATUS_FILTERS = {
    "unopened": ("initialized",),
    "open": (OPEN,),
    "paused": (PAUSED,),
    "closed": (CLOSED, DETERMINED),
    "settled": (SETTLED,),
}


def market_object(market: KalshiMarket) -> dict[str, Any]:
    listing = market.listing
    yes_bid, yes_ask = market.yes_bid(), market.yes_ask()
    day_ago = int(time.time()) - 86_400
    # Kalshi's previous_* are the values a day ago; with nothing kept from then, today's.
    before_bid, before_ask = market.quote_before(day_ago) or (yes_bid, yes_ask)
    obj: dict[str, Any] = {
        "ticker": market.ticker,
        "event_ticker": listing.event_ticker,
        "market_type": "binary",
        "title": listing.title,
        "subtitle": listing.yes_sub_title,
        "yes_sub_title": listing.yes_sub_title,
        "no_sub_title": listing.no_sub_title,
        "created_time": _iso(market.open_ts - 86_400),
        "updated_time": _iso(time.time()),
        "open_time": _iso(market.open_ts),
        "close_time": _iso(market.close_ts),
        "latest_expiration_time": _iso(market.close_ts + 7 * 86_400),
        "settlement_timer_seconds": 1800,
        "status": market.status,
        "notional_value_dollars": dollars(DOLLAR),
        "yes_bid_dollars": dollars(yes_bid),
        "yes_ask_dollars": dollars(yes_ask),
        "no_bid_dollars": dollars(DOLLAR - yes_ask),
        "no_ask_dollars": dollars(DOLLAR - yes_bid),
        "yes_bid_size_fp": contracts(market.yes_bid_size()),
        "yes_ask_size_fp": contracts(market.yes_ask_size()),
        "last_price_dollars": dollars(market.last_price),
        "previous_yes_bid_dollars": dollars(before_bid),
        "previous_yes_ask_dollars": dollars(before_ask),
        "previous_price_dollars": dollars(market.price_before(day_ago) or 0),  # 0: no print before then
        "volume_fp": contracts(market.volume),
        "volume_24h_fp": contracts(market.volume_since(day_ago)),
        "open_interest_fp": contracts(market.open_interest),
        "liquidity_dollars": "0.0000",
        "result": market.result,
        "can_close_early": True,
        "fractional_trading_enabled": True,
        "expiration_value": "",
        "rules_primary": f"If {listing.yes_sub_title}, the market resolves to Yes.",
        "rules_secondary": "",
        "price_level_structure": listing.structure,
        "price_ranges": _ranges(market),
        **strike_fields(listing),
    }
    if market.settlement_value is not None:
        obj["settlement_value_dollars"] = dollars(market.settlement_value)
    return obj


def orderbook_body(market: KalshiMarket, depth: int) -> dict[str, Any]:
    """REST book: bids only, ascending (best last), NO side in NO-leg prices; ``depth`` best levels."""
    book: dict[str, Any] = {}
    for side in ("yes", "no"):
        levels = market.book(side).top(depth or None)
        book[f"{side}_dollars"] = [[dollars(p), contracts(s)] for p, s in reversed(levels)]
    return {"orderbook_fp": book}


def fill_object(fill: KalshiFill) -> dict[str, Any]:
    return {
        "fill_id": fill.trade_id,
        "trade_id": fill.trade_id,
        "order_id": fill.order_id,
        "client_order_id": fill.client_order_id,
        "ticker": fill.market,
        "market_ticker": fill.market,
        "side": _contract_side(fill.outcome, fill.action),
        "action": fill.action,
        "outcome_side": fill.outcome,
        "book_side": _book_side(fill.outcome),
        "count_fp": contracts(fill.count),
        "yes_price_dollars": dollars(fill.yes_price),
        "no_price_dollars": dollars(DOLLAR - fill.yes_price),
        "is_taker": fill.is_taker,
        "fee_cost": fixed(fill.fee_micros, 6),
        "created_time": _iso_ms(fill.ts_ms, 3),
        "ts": fill.ts_ms // 1000,
    }


def position_object(market: KalshiMarket) -> dict[str, Any]:
    pos = market.position
    return {
        "ticker": market.ticker,
        "total_traded_dollars": _micros_to_dollars(pos.traded_micros),
        "position_fp": contracts(pos.position),
        "market_exposure_dollars": _micros_to_dollars(pos.cost_micros),
        "realized_pnl_dollars": _micros_to_dollars(pos.realized_micros),
        "resting_orders_count": 0,
        "fees_paid_dollars": _micros_to_dollars(pos.fees_micros),
        "last_updated_ts": _iso(time.time()),
    }


CANDLE_PERIODS = (1, 60, 1440)  # minutes Kalshi's candlesticks come in


def candlesticks(market: KalshiMarket, start_ts: int, end_ts: int, period: int) -> list[dict[str, Any]]:
    """The market's candlesticks of ``period`` minutes whose end lies in ``[start_ts, end_ts]``: the YES
    bid and ask over the period, the prints (``price``, null fields for a period without one, with the
    last earlier print as ``previous``), volume and open interest at the end."""
    span = period * 60
    groups: dict[int, list[Any]] = {}
    for m in market.minutes:
        groups.setdefault(m.begin_s - m.begin_s % span, []).append(m)
    out: list[dict[str, Any]] = []
    previous: int | None = None
    for begin, minutes in groups.items():
        prints = [m for m in minutes if m.close is not None]
        end = begin + span
        if start_ts <= end <= end_ts:
            price: dict[str, str | None] = dict.fromkeys(
                ("open_dollars", "low_dollars", "high_dollars", "close_dollars", "mean_dollars"), None
            )
            if prints:
                price = {
                    "open_dollars": dollars(prints[0].open),
                    "low_dollars": dollars(min(m.low for m in prints)),
                    "high_dollars": dollars(max(m.high for m in prints)),
                    "close_dollars": dollars(prints[-1].close),
                    "mean_dollars": dollars(sum(m.close for m in prints) // len(prints)),
                }
            price["previous_dollars"] = dollars(previous) if previous is not None else None
            out.append(
                {
                    "end_period_ts": end,
                    "yes_bid": _spread_of([m.bid for m in minutes]),
                    "yes_ask": _spread_of([m.ask for m in minutes]),
                    "price": price,
                    "volume_fp": contracts(sum(m.volume for m in minutes)),
                    "open_interest_fp": contracts(minutes[-1].open_interest),
                }
            )
        if prints:
            previous = prints[-1].close
    return out


def _spread_of(values: list[int]) -> dict[str, str]:
    return {
        "open_dollars": dollars(values[0]),
        "low_dollars": dollars(min(values)),
        "high_dollars": dollars(max(values)),
        "close_dollars": dollars(values[-1]),
    }

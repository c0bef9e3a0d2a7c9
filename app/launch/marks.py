"""Mark prices for holdings whose market is not watched (so no live book says what they are worth):
Kalshi ``GET /markets?tickers=...`` and Kraken ``GET /0/public/Ticker``, the mid of the best bid and ask
(the last price when one side is empty). The window asks every few seconds for what it lacks. No Qt.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

import aiohttp

from app.launch.catalog import CatalogError, get_json

TICKER_PATH = "/0/public/Ticker"
KALSHI_BATCH = 100  # tickers a request


def _decimal(value: Any) -> Decimal | None:
    try:
        return Decimal(str(value)) if value not in (None, "") else None
    except (InvalidOperation, ValueError):
        return None


def _mid(bid: Decimal | None, ask: Decimal | None, last: Decimal | None) -> Decimal | None:
    if bid and ask:
        return (bid + ask) / 2
    return last if last else (bid or ask)


async def kalshi_marks(http: aiohttp.ClientSession, rest_url: str, tickers: list[str]) -> dict[str, Decimal]:
    """YES mark per ticker (dollars); a settled market is marked at its settlement value."""
    out: dict[str, Decimal] = {}
    for i in range(0, len(tickers), KALSHI_BATCH):
        batch = tickers[i : i + KALSHI_BATCH]
        params = {"tickers": ",".join(batch), "limit": str(len(batch))}
        body = await get_json(http, rest_url.rstrip("/") + "/markets", params)
        for m in (body.get("markets") if isinstance(body, dict) else None) or []:
            settled = _decimal(m.get("settlement_value_dollars"))
            bid, ask = _decimal(m.get("yes_bid_dollars")), _decimal(m.get("yes_ask_dollars"))
            if ask is not None and ask >= 1:
                ask = None  # no NO bids: Kalshi writes the ask as $1.00
            mark = settled if settled is not None else _mid(bid, ask, _decimal(m.get("last_price_dollars")))
            if mark is not None:
                out[str(m.get("ticker"))] = mark
    return out


async def kraken_marks(http: aiohttp.ClientSession, rest_url: str, pairs: list[str]) -> dict[str, Decimal]:
    """Mid per pair (v2 names, ``BTC/USD``) in its quote currency; pairs Kraken does not know are left
    out."""
    if not pairs:
        return {}
    body = await get_json(http, rest_url.rstrip("/") + TICKER_PATH, {"pair": ",".join(pairs)})
    if not isinstance(body, dict) or body.get("error"):
        raise CatalogError(f"Kraken refused Ticker for {', '.join(pairs)}: {body.get('error')}")
    out: dict[str, Decimal] = {}
    result = body.get("result") or {}
    for pair in pairs:
        row = result.get(pair)
        if not isinstance(row, dict):
            continue
        mark = _mid(
            _decimal((row.get("b") or [None])[0]),
            _decimal((row.get("a") or [None])[0]),
            _decimal((row.get("c") or [None])[0]),
        )
        if mark is not None:
            out[pair] = mark
    return out

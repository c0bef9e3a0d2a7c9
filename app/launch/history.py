"""Price history for a chart that opens: Kraken REST ``OHLC`` and Kalshi ``candlesticks``, as the core
``Candle`` events the live ohlc channel gives (oldest first), so the chart draws both the same way.

Kraken keeps 720 bars an interval, which is 12 h of 1-minute bars: a day also needs its 15-minute bars.
Kalshi gives 1-minute candlesticks for a whole day in one request (up to 5,000). A Kalshi period without
a print has empty price fields and is left out: a candle is what traded. No Qt.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

import aiohttp

from app.core.events import Candle
from app.core.instruments import Venue
from app.launch.catalog import CatalogError, get_json

DAY_S = 86_400
COARSE_MIN = 15  # the bars that cover what the 1-minute ones do not (Kraken's 720-bar limit)
OHLC_PATH = "/0/public/OHLC"


@dataclass(slots=True)
class History:
    """A market's recent past: 1-minute bars, and coarser ones for what they do not reach back to."""

    minute: list[Candle] = field(default_factory=list)
    coarse: list[Candle] = field(default_factory=list)


def _iso(unix_s: float) -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(unix_s))


def _number(value: Any) -> Decimal | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None


async def kraken_ohlc(
    http: aiohttp.ClientSession, rest_url: str, pair: str, interval: int = 1, since: float = 0
) -> list[Candle]:
    """``pair`` (v2 name, ``BTC/USD``) at ``interval`` minutes, bars beginning after ``since``."""
    params = {"pair": pair, "interval": str(interval)}
    if since:
        params["since"] = str(int(since))
    body = await get_json(http, rest_url.rstrip("/") + OHLC_PATH, params)
    if not isinstance(body, dict) or body.get("error"):
        errors = body.get("error") if isinstance(body, dict) else body
        raise CatalogError(f"Kraken refused OHLC for {pair}: {errors}")
    result = body.get("result") or {}
    rows = next((v for k, v in result.items() if k != "last" and isinstance(v, list)), [])
    out = []
    for row in rows:
        if not isinstance(row, list) or len(row) < 8:
            continue
        begin, o, h, lo, c, vwap, volume = (_number(x) for x in row[:7])
        if None in (begin, o, h, lo, c, volume):
            continue
        assert begin is not None and o is not None and h is not None and lo is not None
        assert c is not None and volume is not None
        trades = row[7] if isinstance(row[7], int) else None
        out.append(
            Candle(Venue.KRAKEN, pair, interval, _iso(float(begin)), o, h, lo, c, volume, vwap, trades)
        )
    return out


def kalshi_series(ticker: str) -> str:
    """A market's series is the first part of its ticker (``KXBTCD-26NOV21-T97500`` -> ``KXBTCD``)."""
    return ticker.split("-", 1)[0]


def _dollars(obj: Any, name: str) -> Decimal | None:
    """``name`` of a candlestick's price object: ``*_dollars`` text, or the old integer cents."""
    if not isinstance(obj, dict):
        return None
    text = obj.get(f"{name}_dollars")
    if isinstance(text, str):
        return _number(text)
    cents = obj.get(name)
    return Decimal(cents) / 100 if isinstance(cents, int) and not isinstance(cents, bool) else None


async def kalshi_candles(
    http: aiohttp.ClientSession, rest_url: str, ticker: str, span: tuple[float, float], period: int = 1
) -> list[Candle]:
    """The market's candlesticks of ``period`` minutes (1, 60 or 1440) ending within ``span`` (Unix
    seconds, start and end)."""
    start_s, end_s = span
    params = {"start_ts": str(int(start_s)), "end_ts": str(int(end_s)), "period_interval": str(period)}
    url = f"{rest_url.rstrip('/')}/series/{kalshi_series(ticker)}/markets/{ticker}/candlesticks"
    body = await get_json(http, url, params)
    out = []
    for row in (body.get("candlesticks") if isinstance(body, dict) else None) or []:
        end = row.get("end_period_ts") if isinstance(row, dict) else None
        if not isinstance(end, int):
            continue
        price = row.get("price")
        o, h, lo, c = (_dollars(price, n) for n in ("open", "high", "low", "close"))
        if o is None or h is None or lo is None or c is None:
            continue  # no print in this period
        volume = _number(row.get("volume_fp")) or _number(row.get("volume")) or Decimal(0)
        begin = _iso(end - period * 60)
        out.append(Candle(Venue.KALSHI, ticker, period, begin, o, h, lo, c, volume, _dollars(price, "mean")))
    return out


async def market_history(
    http: aiohttp.ClientSession, venue: Venue, rest_url: str, market: str, now: float | None = None
) -> History:
    """The last day of ``market``: what a chart shows the moment it opens."""
    now = time.time() if now is None else now
    if venue is Venue.KALSHI:
        return History(minute=await kalshi_candles(http, rest_url, market, (now - DAY_S, now + 60)))
    minute = await kraken_ohlc(http, rest_url, market, 1, now - DAY_S)
    coarse = await kraken_ohlc(http, rest_url, market, COARSE_MIN, now - DAY_S - COARSE_MIN * 60)
    return History(minute=minute, coarse=coarse)

"""What each venue lists: the market picker's choices and the watchlist's titles and close times, and one
Kalshi market's details for the window's header (its question, rules, close and result).

Kalshi ``GET /markets`` (paged by cursor, open markets only), ``GET /markets/{ticker}``, and Kraken
``GET /0/public/AssetPairs`` (with ``Ticker`` for every pair's 24 h volume, when it answers).
Qt-free and async; the window runs it on the qasync loop and shows progress while it pages.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from app.core.instruments import Venue
from app.core.times import epoch
from app.stream import net_errors
from app.stream.kraken_link import v2_symbol
from app.venues.kraken.endpoints import ASSET_PAIRS_PATH

TIMEOUT = aiohttp.ClientTimeout(total=20)
KALSHI_PAGE = 1000
KALSHI_MAX = 20_000  # the picker searches locally; Kalshi lists tens of thousands of open markets


class CatalogError(RuntimeError):
    """The venue's market list could not be read; the message says why in plain words."""


@dataclass(frozen=True, slots=True)
class MarketInfo:
    venue: Venue
    market: str
    title: str = ""
    subtitle: str = ""
    status: str = ""
    close_time: float | None = None  # epoch seconds
    volume: Decimal | None = None  # traded in the last 24 h: Kalshi contracts, Kraken base currency
    previous_price: Decimal | None = None  # Kalshi: the last price about 24 h ago (0: none by then)
    last_price: Decimal | None = None  # Kalshi: the last price when listed

    def search_text(self) -> str:
        return f"{self.market} {self.title} {self.subtitle}".lower()


async def get_json(http: aiohttp.ClientSession, url: str, params: dict[str, str] | None = None) -> Any:
    """The JSON body of a GET; any failure is a ``CatalogError`` in words."""
    try:
        async with http.get(url, params=params, timeout=TIMEOUT) as response:
            if response.status != 200:
                raise CatalogError(f"{url} answered HTTP {response.status}")
            return await response.json(content_type=None)
    except TimeoutError:
        raise CatalogError(f"{url} did not answer in {TIMEOUT.total:.0f} s") from None
    except (aiohttp.ClientConnectorError, aiohttp.ClientSSLError) as exc:
        raise CatalogError(net_errors.in_words(exc, urlsplit(url).hostname or url)) from None
    except (aiohttp.ClientError, ValueError) as exc:
        raise CatalogError(f"{url}: {exc}") from None


async def kalshi_markets(
    http: aiohttp.ClientSession,
    rest_url: str,
    *,
    progress: Callable[[int], None] | None = None,
    limit: int = KALSHI_MAX,
) -> list[MarketInfo]:
    out: list[MarketInfo] = []
    cursor = ""
    while len(out) < limit:
        params = {"status": "open", "limit": str(KALSHI_PAGE)}
        if cursor:
            params["cursor"] = cursor
        body = await get_json(http, rest_url.rstrip("/") + "/markets", params)
        out.extend(_kalshi_info(m) for m in body.get("markets") or [])
        if progress is not None:
            progress(len(out))
        cursor = str(body.get("cursor") or "")
        if not cursor:
            break
    return out


def _kalshi_info(m: dict[str, Any]) -> MarketInfo:
    return MarketInfo(
        Venue.KALSHI,
        str(m["ticker"]),
        str(m.get("title") or ""),
        str(m.get("yes_sub_title") or m.get("subtitle") or ""),
        str(m.get("status") or ""),
        epoch(m.get("close_time")),
        _count(m.get("volume_24h_fp"), m.get("volume_24h"), m.get("volume_fp"), m.get("volume")),
        _dollars(m.get("previous_price_dollars")),
        _dollars(m.get("last_price_dollars")),
    )


TICKERS_PER_REQUEST = 100


async def kalshi_infos(http: aiohttp.ClientSession, rest_url: str, tickers: list[str]) -> list[MarketInfo]:
    """Named markets afresh (``GET /markets?tickers=``, 100 a request): the watchlist's 24 h change base
    (``previous_price_dollars``, ``volume_24h_fp``), refreshed every few minutes."""
    out: list[MarketInfo] = []
    for start in range(0, len(tickers), TICKERS_PER_REQUEST):
        chunk = tickers[start : start + TICKERS_PER_REQUEST]
        params = {"tickers": ",".join(chunk), "limit": str(TICKERS_PER_REQUEST)}
        body = await get_json(http, rest_url.rstrip("/") + "/markets", params)
        out.extend(
            _kalshi_info(m) for m in body.get("markets") or [] if isinstance(m, dict) and m.get("ticker")
        )
    return out


async def kraken_pairs(http: aiohttp.ClientSession, rest_url: str) -> list[MarketInfo]:
    body = await get_json(http, rest_url.rstrip("/") + ASSET_PAIRS_PATH)
    if body.get("error"):
        raise CatalogError("Kraken refused: " + ", ".join(map(str, body["error"])))
    volumes = await _kraken_volumes(http, rest_url)
    out = []
    for key, info in (body.get("result") or {}).items():
        wsname = info.get("wsname")
        if not wsname:
            continue  # dark-pool and other pairs without a WebSocket name
        symbol = v2_symbol(str(wsname))
        status = str(info.get("status") or "online")
        out.append(MarketInfo(Venue.KRAKEN, symbol, symbol, "", status, None, volumes.get(str(key))))
    out.sort(key=lambda m: m.market)
    return out


async def _kraken_volumes(http: aiohttp.ClientSession, rest_url: str) -> dict[str, Decimal]:
    """Every pair's 24 h volume by REST key (``Ticker`` without ``pair`` covers them all); the picker
    only loses a column if this fails, so a failure is an empty answer."""
    try:
        body = await get_json(http, rest_url.rstrip("/") + "/0/public/Ticker")
    except CatalogError:
        return {}
    result = body.get("result") if isinstance(body, dict) else None
    out: dict[str, Decimal] = {}
    for key, row in (result or {}).items():
        volume = row.get("v") if isinstance(row, dict) else None
        value = _count(volume[1]) if isinstance(volume, list) and len(volume) > 1 else None
        if value is not None:
            out[str(key)] = value
    return out


def _count(*values: Any) -> Decimal | None:
    """The first of ``values`` that reads as a number (fixed-point text, or a legacy integer)."""
    for value in values:
        if isinstance(value, bool) or value is None or value == "":
            continue
        try:
            return Decimal(str(value))
        except ArithmeticError:
            continue
    return None


@dataclass(frozen=True, slots=True)
class MarketDetails:
    """One Kalshi market as ``GET /markets/{ticker}`` describes it (the header's question and rules)."""

    market: str
    title: str
    subtitle: str
    status: str
    rules_primary: str
    rules_secondary: str
    close_time: float | None
    expiration_time: float | None
    last_price: Decimal | None
    previous_price: Decimal | None  # the last price a day ago: the 24 h change's base
    result: str
    settlement_value: Decimal | None


def _dollars(value: Any) -> Decimal | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        return Decimal(value)
    except ArithmeticError:
        return None


async def kalshi_market(http: aiohttp.ClientSession, rest_url: str, ticker: str) -> MarketDetails:
    body = await get_json(http, f"{rest_url.rstrip('/')}/markets/{ticker}")
    m = body.get("market") if isinstance(body, dict) else None
    if not isinstance(m, dict):
        raise CatalogError(f"Kalshi sent no market for {ticker}")
    return MarketDetails(
        ticker,
        str(m.get("title") or ""),
        str(m.get("yes_sub_title") or m.get("subtitle") or ""),
        str(m.get("status") or ""),
        str(m.get("rules_primary") or ""),
        str(m.get("rules_secondary") or ""),
        epoch(m.get("close_time")),
        epoch(m.get("expected_expiration_time") or m.get("latest_expiration_time")),
        _dollars(m.get("last_price_dollars")),
        _dollars(m.get("previous_price_dollars")),
        str(m.get("result") or ""),
        _dollars(m.get("settlement_value_dollars")),
    )


async def kalshi_event_markets(
    http: aiohttp.ClientSession, rest_url: str, event_ticker: str
) -> list[dict[str, Any]]:
    """Every market of one Kalshi event as ``GET /markets?event_ticker=`` lists it (the strike board's
    source: the strike fields, quotes, volume, open interest, close time)."""
    out: list[dict[str, Any]] = []
    cursor = ""
    while True:
        params = {"event_ticker": event_ticker, "limit": str(KALSHI_PAGE)}
        if cursor:
            params["cursor"] = cursor
        body = await get_json(http, rest_url.rstrip("/") + "/markets", params)
        out.extend(m for m in (body.get("markets") or []) if isinstance(m, dict))
        cursor = str(body.get("cursor") or "")
        if not cursor or len(out) >= KALSHI_MAX:
            return out


def event_of(ticker: str) -> str:
    """A Kalshi market's event: its ticker without the last part (``KXBTC-26DEC0317-B97125`` ->
    ``KXBTC-26DEC0317``). Kalshi's REST names it too (``event_ticker``); this is for a bare ticker."""
    return ticker.rpartition("-")[0] or ticker

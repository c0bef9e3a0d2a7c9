"""The simulated Kalshi REST API under ``/trade-api/v2``: markets, events, order books, candlesticks, the
account's fills and positions, exchange status; cursor paging, and errors in Kalshi's
``{"error": {...}}`` shape.

Bodies are ``wire.py``'s; the portfolio endpoints want the same signed headers as the WebSocket
handshake (401 otherwise). Nothing here knows a WebSocket connection or sends a frame.
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from app.sim.kalshi import wire as kw
from app.sim.market import SimMarket
from app.sim.signatures import KalshiPublicKey, kalshi_headers_problem
from app.sim.units import contracts, dollars

REST_PREFIX = "/trade-api/v2"

Handler = Callable[[web.Request], Awaitable[web.Response]]


class BadQueryError(ValueError):
    """A query parameter Kalshi would answer with 400 ``bad_request``; the message is the body's."""


class KalshiRest:
    """Kalshi's REST handlers, reading the shared market."""

    def __init__(self, market: SimMarket, public_key: KalshiPublicKey | None = None) -> None:
        self.market = market
        self.public_key = public_key

    def add_routes(self, app: web.Application) -> None:
        routes: list[tuple[str, Handler]] = [
            ("/markets", self.get_markets),
            ("/markets/{ticker}", self.get_market),
            ("/markets/{ticker}/orderbook", self.get_orderbook),
            ("/series/{series_ticker}/markets/{ticker}/candlesticks", self.get_candlesticks),
            ("/events", self.get_events),
            ("/portfolio/fills", self._signed(self.get_fills)),
            ("/portfolio/positions", self._signed(self.get_positions)),
            ("/exchange/status", self.get_exchange_status),
        ]
        for path, handler in routes:
            app.router.add_get(REST_PREFIX + path, _bad_query_is_400(handler))

    def _signed(self, handler: Handler) -> Handler:
        """``handler`` behind the signed-headers check (the portfolio is the account's)."""

        async def signed(request: web.Request) -> web.Response:
            problem = kalshi_headers_problem(request.headers, request.method, request.path, self.public_key)
            if problem is not None:
                return auth_error(problem)
            return await handler(request)

        return signed

    async def get_markets(self, request: web.Request) -> web.Response:
        q = request.query
        limit, offset = _paging(q, 100, 1000)
        status = q.get("status")
        if status is not None and status not in kw.STATUS_FILTERS:
            raise BadQueryError(f"invalid status filter {status!r}")
        tickers = set(filter(None, q.get("tickers", "").split(","))) or None
        markets = [
            m
            for m in self.market.kalshi.values()
            if (status is None or m.status in kw.STATUS_FILTERS[status])
            and (tickers is None or m.ticker in tickers)
            and q.get("event_ticker", m.listing.event_ticker) == m.listing.event_ticker
            and q.get("series_ticker", m.listing.series_ticker) == m.listing.series_ticker
        ]
        page, cursor = _page(markets, offset, limit)
        return web.json_response({"markets": [kw.market_object(m) for m in page], "cursor": cursor})

    async def get_market(self, request: web.Request) -> web.Response:
        market = self.market.kalshi.get(request.match_info["ticker"])
        if market is None:
            return error_response(404, "not_found", "market not found")
        return web.json_response({"market": kw.market_object(market)})

    async def get_orderbook(self, request: web.Request) -> web.Response:
        market = self.market.kalshi.get(request.match_info["ticker"])
        if market is None:
            return error_response(404, "not_found", "market not found")
        depth = _int_param(request.query, "depth", 0, -(10**9), 100)
        return web.json_response(kw.orderbook_body(market, max(0, depth)))

    async def get_candlesticks(self, request: web.Request) -> web.Response:
        """``start_ts``, ``end_ts`` (unix seconds) and ``period_interval`` (1, 60 or 1440 minutes) are
        required; at most 5,000 candlesticks a request, as Kalshi allows."""
        market = self.market.kalshi.get(request.match_info["ticker"])
        if market is None or market.listing.series_ticker != request.match_info["series_ticker"]:
            return error_response(404, "not_found", "market not found")
        q = request.query
        for name in ("start_ts", "end_ts", "period_interval"):
            if not q.get(name):
                raise BadQueryError(f"{name} is required")
        start, end = _int_param(q, "start_ts", 0, 0, 2**40), _int_param(q, "end_ts", 0, 0, 2**40)
        period = _int_param(q, "period_interval", 1, 1, 1440)
        if period not in kw.CANDLE_PERIODS:
            raise BadQueryError("period_interval must be 1, 60 or 1440")
        if end < start or (end - start) // (period * 60) > 5000:
            raise BadQueryError("the range must hold at most 5000 candlesticks")
        return web.json_response(
            {"ticker": market.ticker, "candlesticks": kw.candlesticks(market, start, end, period)}
        )

    async def get_events(self, request: web.Request) -> web.Response:
        q = request.query
        limit, offset = _paging(q, 200, 200)
        nested = q.get("with_nested_markets") == "true"
        events: dict[str, list[Any]] = {}
        for m in self.market.kalshi.values():
            if q.get("series_ticker", m.listing.series_ticker) == m.listing.series_ticker:
                events.setdefault(m.listing.event_ticker, []).append(m)
        rows = []
        chosen, cursor = _page(list(events.items()), offset, limit)
        for ticker, markets in chosen:
            listing = markets[0].listing
            row: dict[str, Any] = {
                "event_ticker": ticker,
                "series_ticker": listing.series_ticker,
                "title": listing.title,
                "sub_title": "",
                "category": listing.category,
                "collateral_return_type": "",
                "mutually_exclusive": any(m.listing.strike_type == "between" for m in markets),
                "available_on_brokers": False,
            }
            if nested:
                row["markets"] = [kw.market_object(m) for m in markets]
            rows.append(row)
        return web.json_response({"events": rows, "cursor": cursor})

    async def get_fills(self, request: web.Request) -> web.Response:
        q = request.query
        limit, offset = _paging(q, 100, 1000)
        min_ts = _int_param(q, "min_ts", 0, 0, 2**63)
        max_ts = _int_param(q, "max_ts", 2**63, 0, 2**63)
        fills = [
            f
            for f in reversed(self.market.kalshi_fills)  # newest first
            if min_ts <= f.ts_ms // 1000 <= max_ts
            and q.get("ticker", f.market) == f.market
            and q.get("order_id", f.order_id) == f.order_id
        ]
        page, cursor = _page(fills, offset, limit)
        return web.json_response({"fills": [kw.fill_object(f) for f in page], "cursor": cursor})

    async def get_positions(self, request: web.Request) -> web.Response:
        q = request.query
        limit, offset = _paging(q, 100, 1000)
        held = [
            m
            for m in self.market.kalshi.values()
            if m.position.volume
            and q.get("ticker", m.ticker) == m.ticker
            and q.get("event_ticker", m.listing.event_ticker) == m.listing.event_ticker
        ]
        page, cursor = _page(held, offset, limit)
        events: dict[str, list[Any]] = {}
        for m in page:
            events.setdefault(m.listing.event_ticker, []).append(m)
        event_rows = [
            {
                "event_ticker": event,
                "total_cost_dollars": dollars(sum(m.position.cost_micros for m in ms) // 100),
                "total_cost_shares_fp": contracts(sum(abs(m.position.position) for m in ms)),
                "event_exposure_dollars": dollars(sum(m.position.cost_micros for m in ms) // 100),
                "realized_pnl_dollars": dollars(sum(m.position.realized_micros for m in ms) // 100),
                "fees_paid_dollars": dollars(sum(m.position.fees_micros for m in ms) // 100),
            }
            for event, ms in events.items()
        ]
        return web.json_response(
            {
                "market_positions": [kw.position_object(m) for m in page],
                "event_positions": event_rows,
                "cursor": cursor,
            }
        )

    async def get_exchange_status(self, request: web.Request) -> web.Response:
        return web.json_response({"exchange_active": True, "trading_active": True})


def error_response(status: int, code: str, message: str) -> web.Response:
    """Kalshi's HTTP error body (the WebSocket handshake's refusals answer in it too)."""
    return web.json_response(
        {"error": {"code": code, "message": message, "service": "exchange"}}, status=status
    )


def auth_error(details: str) -> web.Response:
    """401 for missing or wrong signed headers, on REST and on the WebSocket handshake alike."""
    return web.json_response(
        {"error": {"code": "authentication_error", "message": "authentication_error", "details": details}},
        status=401,
    )


def _bad_query_is_400(handler: Handler) -> Handler:
    async def answered(request: web.Request) -> web.Response:
        try:
            return await handler(request)
        except BadQueryError as exc:
            return error_response(400, "bad_request", str(exc))

    return answered


def _paging(query: Any, default_limit: int, max_limit: int) -> tuple[int, int]:
    """``limit`` and the offset ``cursor`` points at."""
    return _int_param(query, "limit", default_limit, 1, max_limit), _cursor(query.get("cursor", ""))


def _int_param(query: Any, name: str, default: int, low: int, high: int) -> int:
    text = query.get(name)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise BadQueryError(f"{name} must be an integer") from None
    if not low <= value <= high:
        raise BadQueryError(f"{name} must be between {low} and {high}")
    return value


def _page(rows: list[Any], offset: int, limit: int) -> tuple[list[Any], str]:
    """One page of ``rows`` and the cursor of the next ("" on the last page)."""
    more = offset + limit < len(rows)
    return rows[offset : offset + limit], _make_cursor(offset + limit) if more else ""


def _make_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"sim:{offset}".encode()).decode()


def _cursor(text: str) -> int:
    if not text:
        return 0
    try:
        tag, _, number = base64.urlsafe_b64decode(text.encode()).decode().partition(":")
        if tag != "sim":
            raise ValueError
        return int(number)
    except (ValueError, UnicodeDecodeError):
        raise BadQueryError("invalid cursor") from None

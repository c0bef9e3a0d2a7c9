"""The simulated Kraken REST API under ``/0/``: public AssetPairs, Assets, Depth, OHLC, Ticker and
SystemStatus; the private GetWebSocketsToken and TradesHistory behind API-Key / API-Sign and a rising nonce.

Errors go out as Kraken sends them: HTTP 200 with ``{"error": ["EQuery:..."]}``. The tokens issued
here are the ones the WebSocket's private channels accept (``ws.py`` reads the same dict). Nothing
here knows a WebSocket connection or sends a frame.
"""

from __future__ import annotations

import base64
import binascii
import secrets
import time
from dataclasses import dataclass

import msgspec
from aiohttp import web

from app.sim.kraken import wire as kw
from app.sim.kraken.market import OHLC_INTERVALS, KrakenPairState
from app.sim.market import SimMarket, rfc3339
from app.sim.signatures import kraken_api_sign

TOKEN_TTL = 900.0
TRADES_PAGE = 50  # TradesHistory returns 50 results a page

_decode = msgspec.json.Decoder().decode


@dataclass(slots=True)
class Token:
    expires: float
    used: bool = False


class KrakenRest:
    """Kraken's REST handlers, reading the shared market; issues the WebSocket tokens."""

    def __init__(
        self, market: SimMarket, tokens: dict[str, Token], api_key: str | None, api_secret: str | None
    ) -> None:
        self.market = market
        self.tokens = tokens
        self.api_key = api_key
        self.api_secret = api_secret
        self._nonces: dict[str, int] = {}

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get("/0/public/AssetPairs", self.get_asset_pairs)
        app.router.add_get("/0/public/Assets", self.get_assets)
        app.router.add_get("/0/public/Depth", self.get_depth)
        app.router.add_get("/0/public/OHLC", self.get_ohlc)
        app.router.add_get("/0/public/Ticker", self.get_ticker)
        app.router.add_get("/0/public/SystemStatus", self.get_system_status)
        app.router.add_post("/0/private/GetWebSocketsToken", self.post_token)
        app.router.add_post("/0/private/TradesHistory", self.post_trades_history)

    def _pairs_for(self, names: str | None) -> list[tuple[str, KrakenPairState]] | None:
        """Requested pairs with the result key Kraken uses for each; None if one is unknown."""
        states = list(self.market.kraken.values())
        if not names:
            return [(s.pair.rest_key, s) for s in states]
        out = []
        for raw in names.split(","):
            name = raw.strip()
            state = next((s for s in states if name in (s.pair.rest_key, s.pair.altname, s.symbol)), None)
            if state is None:
                return None
            # A slashed v2 name is echoed as the key; legacy names get the legacy key.
            out.append((name if "/" in name else state.pair.rest_key, state))
        return out

    async def get_asset_pairs(self, request: web.Request) -> web.Response:
        pairs = self._pairs_for(request.query.get("pair"))
        if pairs is None:
            return web.json_response({"error": ["EQuery:Unknown asset pair"]})
        return web.json_response({"error": [], "result": {k: kw.asset_pair(s) for k, s in pairs}})

    async def get_assets(self, request: web.Request) -> web.Response:
        keys = sorted(
            {s.pair.base_asset for s in self.market.kraken.values()}
            | {s.pair.quote_asset for s in self.market.kraken.values()}
        )
        wanted = request.query.get("asset")
        if wanted:
            chosen = []
            for name in wanted.split(","):
                key = next((k for k in keys if name in (k, kw.asset_info(k)["altname"])), None)
                if key is None:
                    return web.json_response({"error": ["EQuery:Unknown asset"]})
                chosen.append(key)
            keys = chosen
        return web.json_response({"error": [], "result": {k: kw.asset_info(k) for k in keys}})

    async def get_depth(self, request: web.Request) -> web.Response:
        pairs = self._pairs_for(request.query.get("pair") or "?")
        if pairs is None or len(pairs) != 1:
            return web.json_response({"error": ["EQuery:Unknown asset pair"]})
        try:
            count = int(request.query.get("count", "100"))
        except ValueError:
            return web.json_response({"error": ["EGeneral:Invalid arguments:count"]})
        if not 1 <= count <= 500:
            return web.json_response({"error": ["EGeneral:Invalid arguments:count"]})
        key, state = pairs[0]
        return web.json_response({"error": [], "result": {key: kw.depth(state, count)}})

    async def get_ohlc(self, request: web.Request) -> web.Response:
        """Up to 720 bars of one pair at ``interval`` minutes (default 1), newer than ``since``."""
        pairs = self._pairs_for(request.query.get("pair") or "?")
        if pairs is None or len(pairs) != 1:
            return web.json_response({"error": ["EQuery:Unknown asset pair"]})
        try:
            interval = int(request.query.get("interval", "1"))
            since = int(float(request.query.get("since", "0") or 0))
        except ValueError:
            return web.json_response({"error": ["EGeneral:Invalid arguments"]})
        if interval not in OHLC_INTERVALS:
            return web.json_response({"error": ["EGeneral:Invalid arguments"]})
        key, state = pairs[0]
        rows, last = kw.ohlc_rows(state, interval, since)
        return web.json_response({"error": [], "result": {key: rows, "last": last}})

    async def get_ticker(self, request: web.Request) -> web.Response:
        pairs = self._pairs_for(request.query.get("pair"))
        if pairs is None:
            return web.json_response({"error": ["EQuery:Unknown asset pair"]})
        return web.json_response({"error": [], "result": {k: kw.rest_ticker(s) for k, s in pairs}})

    async def get_system_status(self, request: web.Request) -> web.Response:
        return web.json_response(
            {"error": [], "result": {"status": "online", "timestamp": rfc3339()[:19] + "Z"}}
        )

    async def post_token(self, request: web.Request) -> web.Response:
        body = await request.text()
        problem = self._token_problem(request, body)
        if problem is not None:
            return web.json_response({"error": [problem]})
        token = base64.b64encode(secrets.token_bytes(32)).decode().rstrip("=")
        self.tokens[token] = Token(expires=time.monotonic() + TOKEN_TTL)
        return web.json_response({"error": [], "result": {"token": token, "expires": int(TOKEN_TTL)}})

    async def post_trades_history(self, request: web.Request) -> web.Response:
        """The account's trades, newest first, 50 a page (``ofs``), after ``start`` (unix seconds)."""
        body = await request.text()
        problem = self._token_problem(request, body)
        if problem is not None:
            return web.json_response({"error": [problem]})
        form = dict(part.partition("=")[::2] for part in body.split("&") if part)
        try:
            start = float(form.get("start", "0") or 0)
            ofs = int(form.get("ofs", "0") or 0)
        except ValueError:
            return web.json_response({"error": ["EGeneral:Invalid arguments"]})
        rows = [
            r for r in reversed(self.market.kraken_account.executions) if kw.epoch(r["timestamp"]) > start
        ]
        page = rows[ofs : ofs + TRADES_PAGE]
        trades = {r["exec_id"]: kw.history_trade(r, self.market.kraken[r["symbol"]].pair) for r in page}
        return web.json_response({"error": [], "result": {"trades": trades, "count": len(rows)}})

    def _token_problem(self, request: web.Request, body: str) -> str | None:
        key = request.headers.get("API-Key", "")
        sign = request.headers.get("API-Sign", "")
        if not key:
            return "EAPI:Invalid key"
        if self.api_key is not None and key != self.api_key:
            return "EAPI:Invalid key"
        nonce = _nonce_of(body, request.headers.get("Content-Type", ""))
        if nonce is None:
            return "EAPI:Invalid nonce"
        try:
            raw = base64.b64decode(sign, validate=True)
        except (binascii.Error, ValueError):
            return "EAPI:Invalid signature"
        if self.api_secret is not None:
            expected = kraken_api_sign(self.api_secret, request.path, str(nonce), body)
            if not secrets.compare_digest(sign, expected):
                return "EAPI:Invalid signature"
        elif len(raw) != 64:
            return "EAPI:Invalid signature"
        if nonce <= self._nonces.get(key, 0):
            return "EAPI:Invalid nonce"
        self._nonces[key] = nonce
        return None


def _nonce_of(body: str, content_type: str) -> int | None:
    """The nonce from a form or JSON body."""
    value: object = None
    if "json" in content_type:
        try:
            parsed = _decode(body)
        except msgspec.DecodeError:
            return None
        value = parsed.get("nonce") if isinstance(parsed, dict) else None
    else:
        for part in body.split("&"):
            name, _, text = part.partition("=")
            if name == "nonce":
                value = text
    try:
        nonce = int(str(value))
    except ValueError:
        return None
    return nonce if nonce > 0 else None

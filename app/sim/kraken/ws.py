"""The simulated Kraken exchange: WebSocket ``/v2`` (public and private) and REST ``/0/...``.

Behaviour follows protocol/kraken.md: ``status`` on connect, one ack per symbol, 1 Hz heartbeats
once subscribed, book frames whose CRC32 covers the top 10 levels at the pair's precision, and
errors worded as Kraken words them (``Currency pair not supported``, ``Already subscribed``, ...).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import itertools
import secrets
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec
from aiohttp import web

from app.sim.events import KrakenBbo, KrakenBook, KrakenExecution, KrakenLedger, KrakenTrade, SimEvent
from app.sim.faults import Faults
from app.sim.kraken import wire as kw
from app.sim.kraken.market import BOOK_DEPTHS, OHLC_INTERVALS, KrakenPairState
from app.sim.market import SimMarket, rfc3339
from app.sim.outbox import Outbox
from app.sim.signatures import kraken_api_sign
from app.sim.wsframe import text_frame

WS_PATH = "/v2"
TOKEN_TTL = 900.0
TRADES_PAGE = 50  # TradesHistory returns 50 results a page
PUBLIC = ("ticker", "trade", "book", "ohlc", "instrument")
PRIVATE = ("executions", "balances")
ALLOWED_PARAMS = {
    "ticker": {"channel", "symbol", "event_trigger", "snapshot"},
    "trade": {"channel", "symbol", "snapshot"},
    "book": {"channel", "symbol", "depth", "snapshot"},
    "ohlc": {"channel", "symbol", "interval", "snapshot"},
    "instrument": {"channel", "snapshot", "include_tokenized_assets", "execution_venue"},
    "executions": {
        "channel",
        "token",
        "snap_orders",
        "snap_trades",
        "order_status",
        "ratecounter",
        "users",
        "rebased",
        "snapshot",
        "snapshot_trades",
    },
    "balances": {"channel", "token", "snapshot", "users", "rebased"},
}
NON_JSON_NOTICE = "CloudFlare WebSocket proxy restarting"
MAX_RATE_COUNT = 180

_decode = msgspec.json.Decoder().decode


def _frame(obj: dict[str, Any]) -> str:
    return kw.encode(obj).decode()


@dataclass(slots=True)
class KrakenSub:
    channel: str
    symbol: str | None  # None: instrument / private channels
    depth: int = 10
    interval: int = 1
    event_trigger: str = "trades"
    snapshot: bool = True
    sequence: int = 0  # executions / balances


@dataclass(slots=True)
class KrakenConn:
    id: int
    outbox: Outbox
    subs: dict[tuple[str, str | None], KrakenSub] = field(default_factory=dict)
    blasting: bool = False


@dataclass(slots=True)
class _Token:
    expires: float
    used: bool = False


class KrakenVenue:
    """Kraken's side of the simulator, sharing the market and the fault switchboard."""

    def __init__(
        self,
        market: SimMarket,
        faults: Faults,
        *,
        api_key: str | None = None,
        api_secret: str | None = None,
        blast: int = 0,
        pause: Callable[[], Awaitable[None]] | None = None,
        resume: Callable[[], None] | None = None,
    ) -> None:
        self.market = market
        self.faults = faults
        self.api_key = api_key
        self.api_secret = api_secret
        self.blast = blast
        self._pause, self._resume = pause, resume
        self.conns: dict[int, KrakenConn] = {}
        self._ids = itertools.count(1)
        self.tokens: dict[str, _Token] = {}
        self._nonces: dict[str, int] = {}
        self.handshakes = 0
        self.connection_base = 2**53 + (market.config.seed << 20)  # beyond 2**53, as real ids are (G19)

    # ------------------------------------------------------------------ routes

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get(WS_PATH, self.ws_handler)
        app.router.add_get("/0/public/AssetPairs", self.rest_asset_pairs)
        app.router.add_get("/0/public/Assets", self.rest_assets)
        app.router.add_get("/0/public/Depth", self.rest_depth)
        app.router.add_get("/0/public/SystemStatus", self.rest_system_status)
        app.router.add_post("/0/private/GetWebSocketsToken", self.rest_token)
        app.router.add_post("/0/private/TradesHistory", self.rest_trades_history)

    # ------------------------------------------------------------------ WebSocket

    async def ws_handler(self, request: web.Request) -> web.StreamResponse:
        conn_id = next(self._ids)
        self.handshakes += 1
        refused = self.faults.refuse("kraken", conn_id)
        if refused is not None:
            return web.Response(status=refused, text=f"simulated refusal (HTTP {refused})\n")
        ws = web.WebSocketResponse(autoping=True, compress=False, max_msg_size=1 << 20)
        await ws.prepare(request)
        conn = KrakenConn(conn_id, Outbox(ws, request, conn_id, "kraken", self.faults))
        self.conns[conn_id] = conn
        conn.outbox.put(_frame(kw.status(self.connection_base + conn_id)))
        try:
            await conn.outbox.serve(lambda text: self.on_request(conn, text), self._heartbeats(conn))
        finally:
            self.conns.pop(conn_id, None)
        return ws

    async def _heartbeats(self, conn: KrakenConn) -> None:
        """``{"channel":"heartbeat"}`` about once a second while subscribed and otherwise quiet."""
        while not conn.outbox.closed:
            await asyncio.sleep(1.0)
            quiet = time.monotonic() - conn.outbox.last_sent >= 0.95
            if conn.subs and quiet and not conn.outbox.queue and not conn.blasting:
                conn.outbox.put('{"channel":"heartbeat"}')

    def _reply(
        self,
        conn: KrakenConn,
        method: str,
        req_id: Any,
        time_in: str,
        *,
        result: dict[str, Any] | None = None,
        error: str | None = None,
        symbol: str | None = None,
    ) -> None:
        body: dict[str, Any] = {"method": method}
        if req_id is not None:
            body["req_id"] = req_id
        if error is None:
            if result is not None:
                body["result"] = result
            body["success"] = True
        else:
            body["error"] = error
            body["success"] = False
            if symbol is not None:
                body["symbol"] = symbol
        body["time_in"] = time_in
        body["time_out"] = rfc3339()
        conn.outbox.put(_frame(body))

    # ------------------------------------------------------------------ requests

    def on_request(self, conn: KrakenConn, text: str) -> None:
        time_in = rfc3339()
        try:
            request = _decode(text)
        except (msgspec.DecodeError, UnicodeDecodeError):
            request = None
        if not isinstance(request, dict) or not isinstance(request.get("method"), str):
            return self._reply(conn, "error", None, time_in, error="Malformed request")
        method, req_id = request["method"], request.get("req_id")
        if req_id is not None and type(req_id) is not int:
            return self._reply(conn, method, None, time_in, error="EGeneral:Invalid arguments:req_id")
        extra = set(request) - {"method", "params", "req_id"}
        if extra:
            field_name = sorted(extra)[0]
            return self._reply(
                conn,
                method,
                req_id,
                time_in,
                error=f"Unsupported field: '{field_name}' for the given msg type: {method}",
            )
        if method == "ping":
            if "params" in request:
                return self._reply(
                    conn,
                    method,
                    req_id,
                    time_in,
                    error="Unsupported field: 'params' for the given msg type: ping",
                )
            body: dict[str, Any] = {"method": "pong"}
            if req_id is not None:
                body["req_id"] = req_id
            body["time_in"], body["time_out"] = time_in, rfc3339()
            conn.outbox.put(_frame(body))
            return None
        if method not in ("subscribe", "unsubscribe"):
            return self._reply(conn, method, req_id, time_in, error="Unsupported event")
        params = request.get("params")
        if not isinstance(params, dict) or not isinstance(params.get("channel"), str):
            return self._reply(conn, method, req_id, time_in, error="EGeneral:Invalid arguments")
        channel = params["channel"]
        if channel == "status" and method == "subscribe":
            conn.outbox.put(_frame(kw.status(self.connection_base + conn.id)))
            return self._reply(conn, method, req_id, time_in, error="Symbol(s) not found")
        if channel not in ALLOWED_PARAMS:
            return self._reply(conn, method, req_id, time_in, error="Subscription name invalid")
        unknown = sorted(set(params) - ALLOWED_PARAMS[channel])
        if unknown:
            return self._reply(
                conn,
                method,
                req_id,
                time_in,
                error=f"Unsupported field: '{unknown[0]}' for the given msg type: {method}",
            )
        if channel in PRIVATE:
            return self._private(conn, method, req_id, time_in, channel=channel, params=params)
        if channel == "instrument":
            return self._instrument(conn, method, req_id, time_in, params)
        return self._market_channel(conn, method, req_id, time_in, channel=channel, params=params)

    def _market_channel(
        self,
        conn: KrakenConn,
        method: str,
        req_id: Any,
        time_in: str,
        *,
        channel: str,
        params: dict[str, Any],
    ) -> None:
        symbols = params.get("symbol")
        if not isinstance(symbols, list) or not symbols or not all(isinstance(s, str) for s in symbols):
            return self._reply(conn, method, req_id, time_in, error="EGeneral:Invalid arguments:symbol")
        snapshot = params.get("snapshot", channel != "trade")
        depth = params.get("depth", 10)
        interval = params.get("interval", 1)
        trigger = params.get("event_trigger", "trades")
        for symbol in dict.fromkeys(symbols):
            if channel == "book" and depth not in BOOK_DEPTHS:
                self._reply(
                    conn, method, req_id, time_in, error="Subscription depth not supported", symbol=symbol
                )
                continue
            if channel == "ohlc" and interval not in OHLC_INTERVALS:
                self._reply(
                    conn,
                    method,
                    req_id,
                    time_in,
                    error="Subscription ohlc interval not supported",
                    symbol=symbol,
                )
                continue
            if channel == "ticker" and trigger not in ("bbo", "trades"):
                self._reply(
                    conn,
                    method,
                    req_id,
                    time_in,
                    error="EGeneral:Invalid arguments:event_trigger",
                    symbol=symbol,
                )
                continue
            state = self.market.kraken.get(symbol)
            if state is None:
                self._reply(
                    conn,
                    method,
                    req_id,
                    time_in,
                    error=f"Currency pair not supported {symbol}",
                    symbol=symbol,
                )
                continue
            key = (channel, symbol)
            existing = conn.subs.get(key)
            result: dict[str, Any] = {"channel": channel, "symbol": symbol}
            if channel == "book":
                result["depth"] = depth
            elif channel == "ohlc":
                result["interval"] = interval
            elif channel == "ticker":
                result["event_trigger"] = trigger
            if method == "unsubscribe":
                # The not-found reply names method "subscribe": a real quirk (protocol/kraken.md G14).
                if (
                    existing is None
                    or (channel == "book" and existing.depth != depth)
                    or (channel == "ohlc" and existing.interval != interval)
                ):
                    self._reply(
                        conn, "subscribe", req_id, time_in, error="Subscription Not Found", symbol=symbol
                    )
                    continue
                del conn.subs[key]
                self._reply(conn, method, req_id, time_in, result=result)
                continue
            if existing is not None:
                self._reply(conn, method, req_id, time_in, error="Already subscribed", symbol=symbol)
                continue
            sub = KrakenSub(
                channel,
                symbol,
                depth=depth,
                interval=interval,
                event_trigger=trigger,
                snapshot=snapshot is not False,
            )
            conn.subs[key] = sub
            result["snapshot"] = sub.snapshot
            self._reply(conn, method, req_id, time_in, result=result)
            self._initial(conn, sub, state)

    def _initial(self, conn: KrakenConn, sub: KrakenSub, state: KrakenPairState) -> None:
        out = conn.outbox
        if sub.channel == "book":
            if sub.snapshot:
                out.put(_frame(kw.book_snapshot(state, sub.depth, kw.checksum(state))))
            if self.blast and not conn.blasting:
                conn.blasting = True
                asyncio.get_running_loop().create_task(self._blast(conn, sub, state))
        elif not sub.snapshot:
            return
        elif sub.channel == "ticker":
            out.put(_frame(kw.ticker(state, "snapshot")))
        elif sub.channel == "trade":
            out.put(_frame(kw.trades(state, list(state.recent), "snapshot")))
        elif sub.channel == "ohlc":
            frame = kw.ohlc(state, sub.interval, "snapshot", count=10)
            if frame is not None:
                out.put(_frame(frame))

    def _instrument(
        self, conn: KrakenConn, method: str, req_id: Any, time_in: str, params: dict[str, Any]
    ) -> None:
        key = ("instrument", None)
        if method == "unsubscribe":
            if conn.subs.pop(key, None) is None:
                return self._reply(conn, "subscribe", req_id, time_in, error="Subscription Not Found")
            return self._reply(conn, method, req_id, time_in, result={"channel": "instrument"})
        if key in conn.subs:
            return self._reply(conn, method, req_id, time_in, error="Already subscribed")
        snapshot = params.get("snapshot", True) is not False
        conn.subs[key] = KrakenSub("instrument", None, snapshot=snapshot)
        self._reply(
            conn,
            method,
            req_id,
            time_in,
            result={
                "channel": "instrument",
                "snapshot": snapshot,
                "warnings": ["tick_size is deprecated, use price_increment"],
            },
        )
        if snapshot:
            conn.outbox.put(_frame(kw.instrument(list(self.market.kraken.values()))))

    def _private(
        self,
        conn: KrakenConn,
        method: str,
        req_id: Any,
        time_in: str,
        *,
        channel: str,
        params: dict[str, Any],
    ) -> None:
        token = params.get("token")
        if not isinstance(token, str) or not token:
            return self._reply(conn, method, req_id, time_in, error="Token(s) not found")
        known = self.tokens.get(token)
        if known is None or (not known.used and time.monotonic() > known.expires):
            return self._reply(conn, method, req_id, time_in, error="EAPI:Invalid token")
        known.used = True  # once used by a live subscription, the token stays valid (§5.1)
        key = (channel, None)
        if method == "unsubscribe":
            if conn.subs.pop(key, None) is None:
                return self._reply(conn, "subscribe", req_id, time_in, error="Subscription Not Found")
            return self._reply(conn, method, req_id, time_in, result={"channel": channel})
        if key in conn.subs:
            return self._reply(conn, method, req_id, time_in, error="Already subscribed")
        account = self.market.kraken_account
        if channel == "executions":
            snap_trades = params.get("snap_trades", params.get("snapshot_trades", False)) is True
            snap_orders = params.get("snap_orders", True) is not False
            sub = KrakenSub(channel, None)
            conn.subs[key] = sub
            self._reply(
                conn,
                method,
                req_id,
                time_in,
                result={
                    "channel": channel,
                    "maxratecount": MAX_RATE_COUNT,
                    "snap_orders": snap_orders,
                    "snap_trades": snap_trades,
                },
            )
            if snap_orders or snap_trades:
                sub.sequence += 1
                recent = account.executions[-50:] if snap_trades else []  # we rest no open orders
                conn.outbox.put(_frame(kw.executions(recent, "snapshot", sub.sequence)))
            return None
        snapshot = params.get("snapshot", True) is not False
        sub = KrakenSub(channel, None, snapshot=snapshot)
        conn.subs[key] = sub
        self._reply(conn, method, req_id, time_in, result={"channel": channel, "snapshot": snapshot})
        if snapshot:
            sub.sequence += 1
            conn.outbox.put(_frame(kw.balances_snapshot(account.balances, sub.sequence)))
        return None

    # ------------------------------------------------------------------ market events

    def dispatch(self, events: Sequence[SimEvent]) -> None:
        if not self.conns:
            return
        for event in events:
            if isinstance(event, KrakenBook):
                self._book(event)
            elif isinstance(event, KrakenTrade):
                self._fan_out("trade", event)
                self._fan_out("ticker", event)  # the default event_trigger "trades"
                self._fan_out("ohlc", event)
            elif isinstance(event, KrakenBbo):
                self._fan_out("ticker", event)  # event_trigger "bbo"
            elif isinstance(event, KrakenExecution | KrakenLedger):
                self._private_out(event)

    def _body(self, channel: str, event: KrakenTrade | KrakenBbo, sub: KrakenSub) -> dict[str, Any] | None:
        state = self.market.kraken[event.pair]
        if channel == "ticker":
            wanted = "trades" if isinstance(event, KrakenTrade) else "bbo"
            return kw.ticker(state, "update") if sub.event_trigger == wanted else None
        if not isinstance(event, KrakenTrade):
            return None
        if channel == "trade":
            return kw.trades(state, event.trades, "update")
        return kw.ohlc(state, sub.interval, "update")

    def _fan_out(self, channel: str, event: KrakenTrade | KrakenBbo) -> None:
        # Rendered once per distinct subscription option (ticker trigger, ohlc interval), then shared.
        cache: dict[object, str | None] = {}
        for conn in list(self.conns.values()):
            sub = conn.subs.get((channel, event.pair))
            if sub is None or conn.blasting:
                continue
            key = (sub.event_trigger, sub.interval)
            if key not in cache:
                body = self._body(channel, event, sub)
                cache[key] = _frame(body) if body is not None else None
            text = cache[key]
            if text is not None:
                self._data(conn, text)

    def _private_out(self, event: KrakenExecution | KrakenLedger) -> None:
        channel = "executions" if isinstance(event, KrakenExecution) else "balances"
        for conn in list(self.conns.values()):
            sub = conn.subs.get((channel, None))
            if sub is None or conn.blasting:
                continue
            sub.sequence += 1  # per subscription, as Kraken counts it
            if isinstance(event, KrakenExecution):
                body = kw.executions([event.report], "update", sub.sequence)
            else:
                body = kw.balances_update(event.entries, sub.sequence)
            self._data(conn, _frame(body))

    def _book(self, event: KrakenBook) -> None:
        state = self.market.kraken[event.pair]
        crc: int | None = None
        rendered: dict[int, str | None] = {}
        for conn in list(self.conns.values()):
            sub = conn.subs.get(("book", event.pair))
            if sub is None or conn.blasting:
                continue
            if sub.depth not in rendered:
                bids, asks = kw.book_changes(state, event, sub.depth)
                if not bids and not asks:
                    rendered[sub.depth] = None
                else:
                    crc = kw.checksum(state) if crc is None else crc
                    rendered[sub.depth] = _frame(kw.book_update(state, bids, asks, crc, event.ts))
            text = rendered[sub.depth]
            if text is None:
                continue
            if crc is not None and self.faults.frame("bad-checksum", "kraken", conn.id):
                text = text.replace(f'"checksum":{crc}', f'"checksum":{(crc + 1) & 0xFFFFFFFF}')
            self._data(conn, text)

    def _data(self, conn: KrakenConn, text: str) -> None:
        outbox = conn.outbox
        if outbox.closed:
            return
        if outbox.full:  # a reader this slow loses the connection rather than the data silently
            self.faults.note("overflow", "kraken", conn.id, "send buffer full")
            outbox.abort("overflow")
            return
        outbox.put(text)
        if self.faults.frame("malformed", "kraken", conn.id):
            outbox.put(text[: max(1, len(text) // 2)])
        if self.faults.frame("non-json", "kraken", conn.id):
            outbox.put(NON_JSON_NOTICE)
        if self.faults.frame("unknown-type", "kraken", conn.id):
            outbox.put('{"channel":"mood","type":"update","data":[{"mood":"exuberant"}]}')

    # ------------------------------------------------------------------ blast mode

    async def _blast(self, conn: KrakenConn, sub: KrakenSub, state: KrakenPairState) -> None:
        if self._pause is not None:
            await self._pause()
        try:
            outbox = conn.outbox
            while outbox.queue and not outbox.closed:
                await asyncio.sleep(0.001)
            built = time.perf_counter()
            frames: list[bytes] = []
            applied: list[SimEvent] = []
            for event in self.market.blast_kraken(state.symbol, self.blast, sub.depth):
                applied.append(event)
                bids, asks = kw.book_changes(state, event, sub.depth)
                body = kw.book_update(state, bids, asks, kw.checksum(state), event.ts)
                frames.append(text_frame(kw.encode(body)))
            build_s = time.perf_counter() - built
            seconds = await outbox.write_raw(frames)
            conn.blasting = True
            self.dispatch(applied)  # other subscribers see the same changes
            rate = len(frames) / seconds if seconds > 0 else float("inf")
            self.faults.note(
                "blast",
                "kraken",
                conn.id,
                f"{len(frames)} frames in {seconds:.3f}s = {rate:,.0f}/s (built in {build_s:.2f}s)",
            )
        finally:
            conn.blasting = False
            if self._resume is not None:
                self._resume()

    # ------------------------------------------------------------------ REST

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

    async def rest_asset_pairs(self, request: web.Request) -> web.Response:
        pairs = self._pairs_for(request.query.get("pair"))
        if pairs is None:
            return web.json_response({"error": ["EQuery:Unknown asset pair"]})
        return web.json_response({"error": [], "result": {k: kw.asset_pair(s) for k, s in pairs}})

    async def rest_assets(self, request: web.Request) -> web.Response:
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

    async def rest_depth(self, request: web.Request) -> web.Response:
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

    async def rest_system_status(self, request: web.Request) -> web.Response:
        return web.json_response(
            {"error": [], "result": {"status": "online", "timestamp": rfc3339()[:19] + "Z"}}
        )

    async def rest_token(self, request: web.Request) -> web.Response:
        body = await request.text()
        problem = self._token_problem(request, body)
        if problem is not None:
            return web.json_response({"error": [problem]})
        token = base64.b64encode(secrets.token_bytes(32)).decode().rstrip("=")
        self.tokens[token] = _Token(expires=time.monotonic() + TOKEN_TTL)
        return web.json_response({"error": [], "result": {"token": token, "expires": int(TOKEN_TTL)}})

    async def rest_trades_history(self, request: web.Request) -> web.Response:
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

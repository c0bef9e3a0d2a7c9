"""The simulated Kalshi exchange: WebSocket ``/trade-api/ws/v2`` and REST ``/trade-api/v2``.

Behaviour follows protocol/kalshi.md: signed handshake (401 without it), ``{"id","cmd","params"}``
commands, one ``subscribed`` per channel, ``seq`` per sid counting snapshots, deltas, ``ok``,
``unsubscribed`` and scoped errors, error codes for bad commands, a ``heartbeat`` ping every 10 s.
"""

from __future__ import annotations

import asyncio
import base64
import itertools
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
from aiohttp import web

from app.sim.events import (
    KalshiDelta,
    KalshiEventCreated,
    KalshiFill,
    KalshiLifecycle,
    KalshiPositionChanged,
    KalshiTickerChanged,
    KalshiTrade,
    KalshiUserOrder,
    SimEvent,
)
from app.sim.faults import Faults
from app.sim.kalshi import wire as kw
from app.sim.market import SimMarket
from app.sim.outbox import Outbox
from app.sim.signatures import KalshiPublicKey, kalshi_headers_problem
from app.sim.units import contracts, dollars
from app.sim.wsframe import text_frame

WS_PATH = "/trade-api/ws/v2"
REST_PREFIX = "/trade-api/v2"
USER_ID = "5c1f0e4a-7d2b-4c1e-9a33-5f0d8e2b7c61"
SERVED = (
    "orderbook_delta",
    "ticker",
    "trade",
    "fill",
    "market_positions",
    "market_lifecycle_v2",
    "user_orders",
)
# Valid channel names the simulator accepts but has no data for.
QUIET = (
    "multivariate_market_lifecycle",
    "communications",
    "order_group_updates",
    "cfbenchmarks_value",
    "cfbenchmarks_value_5hz",
    "pyth_value",
)
LEGACY_CHANNELS = ("orderbook_delta", "ticker", "trade", "fill", "market_lifecycle")
SEQUENCED = {
    "orderbook_delta",
    "trade",
    "market_lifecycle_v2",
    "market_lifecycle",
    "multivariate_market_lifecycle",
    "communications",
    "order_group_updates",
    "cfbenchmarks_value",
    "cfbenchmarks_value_5hz",
    "pyth_value",
}
MARKET_FILTERED = {"orderbook_delta", "ticker", "trade", "fill", "market_positions", "user_orders"}
UPDATABLE = {
    "orderbook_delta": ("add_markets", "delete_markets", "get_snapshot"),
    "ticker": ("add_markets", "delete_markets"),
    "fill": ("add_markets", "delete_markets"),
    "user_orders": ("add_markets", "delete_markets"),
    "trade": ("add_markets", "delete_markets"),
    "market_positions": ("add_markets", "delete_markets"),
}
ERRORS = {
    1: "Unable to process message",
    2: "Params required",
    3: "Channels required",
    4: "Subscription IDs required",
    5: "Unknown command",
    7: "Unknown subscription ID",
    8: "Unknown channel name",
    11: "Invalid parameter",
    12: "Exactly one subscription ID is required",
    13: "Unsupported action",
    14: "Market Ticker required",
    15: "Action required",
    25: "Subscription buffer overflow",
}
NON_JSON_NOTICE = "upstream connect error or disconnect/reset before headers. reset reason: overflow"

_encode = msgspec.json.Encoder().encode
_decode = msgspec.json.Decoder().decode


class CommandError(Exception):
    def __init__(self, code: int, sub: KalshiSub | None = None, **extra: Any) -> None:
        super().__init__(ERRORS[code])
        self.code = code
        self.sub = sub
        self.extra = extra


@dataclass(slots=True)
class KalshiSub:
    sid: int
    channel: str
    markets: set[str] | None  # None: every market
    use_yes_price: bool = False
    skip_ticker_ack: bool = False
    seq: int = 0

    legacy: bool = False
    blasted: bool = False

    @property
    def sequenced(self) -> bool:
        # The first doc numbered only the order book; current Kalshi also numbers trades and lifecycle.
        return self.channel == "orderbook_delta" if self.legacy else self.channel in SEQUENCED

    def wants(self, ticker: str) -> bool:
        return self.markets is None or ticker in self.markets


class KalshiConn:
    def __init__(self, conn_id: int, outbox: Outbox) -> None:
        self.id = conn_id
        self.outbox = outbox
        self.subs: dict[int, KalshiSub] = {}
        self.next_sid = 1
        self.blasting = False


class KalshiVenue:
    """Kalshi's side of the simulator, sharing the market and the fault switchboard."""

    def __init__(
        self,
        market: SimMarket,
        faults: Faults,
        *,
        public_key: KalshiPublicKey | None = None,
        legacy: bool = False,
        ping_interval: float = 10.0,
        blast: int = 0,
        pause: Callable[[], Awaitable[None]] | None = None,
        resume: Callable[[], None] | None = None,
    ) -> None:
        self.market = market
        self.faults = faults
        self.public_key = public_key
        self.legacy = legacy
        self.ping_interval = ping_interval
        self.blast = blast
        self._pause, self._resume = pause, resume
        self.conns: dict[int, KalshiConn] = {}
        self._ids = itertools.count(1)
        self.handshakes = 0

    # ------------------------------------------------------------------ routes

    def add_routes(self, app: web.Application) -> None:
        app.router.add_get(WS_PATH, self.ws_handler)
        app.router.add_get(REST_PREFIX + "/markets", self.rest_markets)
        app.router.add_get(REST_PREFIX + "/markets/{ticker}", self.rest_market)
        app.router.add_get(REST_PREFIX + "/markets/{ticker}/orderbook", self.rest_orderbook)
        app.router.add_get(REST_PREFIX + "/events", self.rest_events)
        app.router.add_get(REST_PREFIX + "/portfolio/fills", self.rest_fills)
        app.router.add_get(REST_PREFIX + "/portfolio/positions", self.rest_positions)
        app.router.add_get(REST_PREFIX + "/exchange/status", self.rest_exchange_status)

    # ------------------------------------------------------------------ WebSocket

    async def ws_handler(self, request: web.Request) -> web.StreamResponse:
        conn_id = next(self._ids)
        self.handshakes += 1
        refused = self.faults.refuse("kalshi", conn_id)
        if refused is not None:
            return _error_response(
                refused, "service_unavailable" if refused == 503 else "refused", "simulated refusal"
            )
        problem = kalshi_headers_problem(request.headers, "GET", request.path, self.public_key)
        if problem is not None:
            return _auth_error(problem)
        ws = web.WebSocketResponse(autoping=True, compress=False, max_msg_size=1 << 20)
        await ws.prepare(request)
        conn = KalshiConn(conn_id, Outbox(ws, request, conn_id, "kalshi", self.faults))
        self.conns[conn_id] = conn
        try:
            await conn.outbox.serve(lambda text: self.on_command(conn, text), self._pinger(conn))
        finally:
            self.conns.pop(conn_id, None)
        return ws

    async def _pinger(self, conn: KalshiConn) -> None:
        while True:
            await asyncio.sleep(self.ping_interval)
            if conn.outbox.closed:
                return
            if not conn.outbox.stalled:
                try:
                    await conn.outbox.ws.ping(b"heartbeat")
                except (ConnectionError, RuntimeError):
                    return

    # ------------------------------------------------------------------ frames

    def _frame(
        self,
        type_: str,
        sub: KalshiSub | None,
        msg: bytes | None,
        *,
        cmd_id: int | None = None,
        seq: int | None = None,
    ) -> str:
        parts = [b'{"type":"', type_.encode(), b'"']
        if cmd_id:
            parts += [b',"id":', str(cmd_id).encode()]
        if sub is not None:
            parts += [b',"sid":', str(sub.sid).encode()]
        if seq is not None:
            parts += [b',"seq":', str(seq).encode()]
        if msg is not None:
            parts += [b',"msg":', msg]
        if not self.legacy:
            parts += [b',"sending_ts_ms":', str(time.time_ns() // 1_000_000).encode()]
        parts.append(b"}")
        return b"".join(parts).decode()

    def _send(
        self,
        conn: KalshiConn,
        type_: str,
        sub: KalshiSub | None,
        msg: bytes | None,
        *,
        cmd_id: int | None = None,
        data: bool = False,
    ) -> None:
        """Queue one frame. ``data`` frames may be hit by frame faults and can overflow the buffer."""
        outbox = conn.outbox
        if outbox.closed:
            return
        seq = None
        if sub is not None and (sub.sequenced or type_ in ("ok", "unsubscribed", "error")):
            sub.seq += 1
            seq = sub.seq
        if data and sub is not None:
            if outbox.full:
                self._overflow(conn, sub)
                return
            if seq is not None and self.faults.frame("skip-seq", "kalshi", conn.id):
                return  # lost on the way: the seq is used up, the client sees a gap
        text = self._frame(type_, sub, msg, cmd_id=cmd_id, seq=seq)
        outbox.put(text)
        if data:
            self._extra_frames(conn, sub, text)

    def _extra_frames(self, conn: KalshiConn, sub: KalshiSub | None, text: str) -> None:
        faults, outbox = self.faults, conn.outbox
        if faults.frame("malformed", "kalshi", conn.id):
            outbox.put(text[: max(1, len(text) // 2)])
        if faults.frame("non-json", "kalshi", conn.id):
            outbox.put(NON_JSON_NOTICE)
        if faults.frame("unknown-type", "kalshi", conn.id):
            outbox.put(self._frame("market_mood", sub, b'{"mood":"exuberant"}'))

    def _overflow(self, conn: KalshiConn, sub: KalshiSub) -> None:
        """Error 25, terminal: the subscription is gone and data was lost (protocol/kalshi.md §5.1)."""
        conn.subs.pop(sub.sid, None)
        sub.seq += 1
        conn.outbox.put(self._frame("error", sub, _error_msg(25), seq=sub.seq))
        self.faults.note("overflow", "kalshi", conn.id, f"sid {sub.sid}")

    def _error(self, conn: KalshiConn, err: CommandError, cmd_id: int | None) -> None:
        sub = None if self.legacy else err.sub  # the first doc's errors name no subscription
        msg = _error_msg(err.code, **err.extra)
        if sub is not None:
            self._send(conn, "error", sub, msg, cmd_id=cmd_id)
        else:
            conn.outbox.put(self._frame("error", None, msg, cmd_id=cmd_id))

    # ------------------------------------------------------------------ commands

    def on_command(self, conn: KalshiConn, text: str) -> None:
        try:
            command = _decode(text)
        except (msgspec.DecodeError, UnicodeDecodeError):
            return self._error(conn, CommandError(1), None)
        cmd_id = command.get("id") if isinstance(command, dict) else None
        if not isinstance(command, dict) or (cmd_id is not None and (type(cmd_id) is not int or cmd_id < 0)):
            return self._error(conn, CommandError(1), None)
        try:
            cmd = command.get("cmd")
            params = command.get("params")
            if params is not None and not isinstance(params, dict):
                raise CommandError(1)
            if cmd == "subscribe":
                self._subscribe(conn, cmd_id, params)
            elif cmd == "unsubscribe":
                self._unsubscribe(conn, cmd_id, params)
            elif cmd == "update_subscription":
                self._update(conn, cmd_id, params)
            elif cmd == "list_subscriptions":
                listing = [{"channel": s.channel, "sid": s.sid} for s in conn.subs.values()]
                conn.outbox.put(self._frame("ok", None, _encode(listing), cmd_id=cmd_id))
            else:
                raise CommandError(5)
        except CommandError as err:
            self._error(conn, err, cmd_id)

    def _tickers(self, params: dict[str, Any], channel: str, *, single_ok: bool = True) -> list[str] | None:
        one, many = params.get("market_ticker"), params.get("market_tickers")
        ids = params.get("market_id"), params.get("market_ids")
        if one is not None and many is not None:
            raise CommandError(11)
        if any(v is not None for v in ids):
            if channel != "ticker" or one is not None or many is not None:
                raise CommandError(11)
            wanted = [ids[0]] if ids[0] is not None else ids[1]
            if not isinstance(wanted, list) or not all(isinstance(i, str) for i in wanted):
                raise CommandError(11)
            by_id = {m.listing.market_id: m.ticker for m in self.market.kalshi.values()}
            missing = [i for i in wanted if i not in by_id]
            if missing:
                raise CommandError(11, market_tickers=missing)
            return [by_id[i] for i in wanted]
        if one is not None:
            if not single_ok or not isinstance(one, str):
                raise CommandError(11 if isinstance(one, str) else 1)
            tickers = [one]
        elif many is not None:
            if not isinstance(many, list) or not many or not all(isinstance(t, str) for t in many):
                raise CommandError(11)
            tickers = list(dict.fromkeys(many))
        else:
            return None
        unknown = [t for t in tickers if t not in self.market.kalshi]
        if unknown:
            raise CommandError(11, market_tickers=unknown)
        return tickers

    def _subscribe(self, conn: KalshiConn, cmd_id: int | None, params: dict[str, Any] | None) -> None:
        if params is None:
            raise CommandError(2)
        channels = params.get("channels")
        if not isinstance(channels, list) or not channels:
            raise CommandError(3)
        valid = set(LEGACY_CHANNELS) if self.legacy else set(SERVED) | set(QUIET)
        if not all(isinstance(c, str) and c in valid for c in channels):
            raise CommandError(8)
        for channel in dict.fromkeys(channels):
            filtered = channel in MARKET_FILTERED
            tickers = self._tickers(params, channel, single_ok=channel != "user_orders") if filtered else None
            if channel == "orderbook_delta" and tickers is None:
                raise CommandError(14)
            existing = next((s for s in conn.subs.values() if s.channel == channel), None)
            if existing is not None:
                self._resubscribe(conn, cmd_id, existing, tickers)
                continue
            sub = KalshiSub(
                conn.next_sid,
                channel,
                set(tickers) if tickers is not None else None,
                use_yes_price=params.get("use_yes_price") is True,
                skip_ticker_ack=params.get("skip_ticker_ack") is True,
                legacy=self.legacy,
            )
            conn.next_sid += 1
            conn.subs[sub.sid] = sub
            ack = _encode({"channel": channel, "sid": sub.sid})
            conn.outbox.put(self._frame("subscribed", None, ack, cmd_id=cmd_id))
            self._initial(conn, sub, tickers or [], params.get("send_initial_snapshot") is True)

    def _initial(
        self,
        conn: KalshiConn,
        sub: KalshiSub,
        tickers: list[str],
        ticker_snapshot: bool,
        cmd_id: int | None = None,
    ) -> None:
        if sub.channel == "orderbook_delta":
            for ticker in tickers:
                market = self.market.kalshi[ticker]
                msg = _encode(kw.snapshot_msg(market, sub.use_yes_price, self.legacy))
                self._send(conn, "orderbook_snapshot", sub, msg, cmd_id=cmd_id)
            if self.blast and tickers and not sub.blasted and not conn.blasting:  # once per new subscription
                sub.blasted = conn.blasting = True
                asyncio.get_running_loop().create_task(self._blast(conn, sub, tickers))
        elif sub.channel == "ticker" and ticker_snapshot:
            for ticker in tickers:
                body = kw.ticker_msg(self.market.kalshi[ticker], self.legacy)
                if body is not None:
                    self._send(conn, "ticker", sub, _encode(body))

    def _resubscribe(
        self, conn: KalshiConn, cmd_id: int | None, sub: KalshiSub, tickers: list[str] | None
    ) -> None:
        """Subscribe is idempotent: known tickers change nothing, new ones are added (with snapshots)."""
        added: list[str] = []
        if tickers is not None and sub.markets is not None:
            added = [t for t in tickers if t not in sub.markets]
            sub.markets.update(added)
        self._ok(conn, cmd_id, sub)
        self._initial(conn, sub, added, False)

    def _ok(self, conn: KalshiConn, cmd_id: int | None, sub: KalshiSub) -> None:
        body: dict[str, Any] = {}
        if not sub.skip_ticker_ack and sub.markets is not None:
            body["market_tickers"] = sorted(sub.markets)
            if sub.channel == "ticker" and not self.legacy:
                body["market_ids"] = [self.market.kalshi[t].listing.market_id for t in sorted(sub.markets)]
        if self.legacy:  # the first doc's ok: the list at the top level, no msg
            sub.seq += 1
            frame: dict[str, Any] = {"id": cmd_id, "sid": sub.sid, "seq": sub.seq, "type": "ok", **body}
            if not cmd_id:
                del frame["id"]
            conn.outbox.put(_encode(frame).decode())
            return
        self._send(conn, "ok", sub, _encode(body), cmd_id=cmd_id)

    def _unsubscribe(self, conn: KalshiConn, cmd_id: int | None, params: dict[str, Any] | None) -> None:
        if params is None:
            raise CommandError(2)
        sids = params.get("sids")
        if not isinstance(sids, list) or not sids or not all(type(s) is int for s in sids):
            raise CommandError(4)
        for sid in sids:
            sub = conn.subs.pop(sid, None)
            if sub is None:
                self._error(conn, CommandError(7), cmd_id)
                continue
            if self.legacy:  # the first doc's reply: {"sid": 2, "type": "unsubscribed"}
                conn.outbox.put(self._frame("unsubscribed", sub, None))
                continue
            sub.seq += 1
            conn.outbox.put(self._frame("unsubscribed", sub, None, cmd_id=cmd_id, seq=sub.seq))

    def _update(self, conn: KalshiConn, cmd_id: int | None, params: dict[str, Any] | None) -> None:
        if params is None:
            raise CommandError(2)
        sid, sids = params.get("sid"), params.get("sids")
        if (sid is None) == (sids is None):
            raise CommandError(12)
        if sids is not None:
            if not isinstance(sids, list) or len(sids) != 1:
                raise CommandError(12)
            sid = sids[0]
        if type(sid) is not int:
            raise CommandError(12)
        sub = conn.subs.get(sid)
        if sub is None:
            raise CommandError(7)
        action = params.get("action")
        if action is None:
            raise CommandError(15)
        if action not in UPDATABLE.get(sub.channel, ()):
            raise CommandError(13, sub)
        if action == "get_snapshot":
            if params.get("market_ticker") is not None or params.get("market_tickers") is None:
                raise CommandError(14, sub)
            tickers = self._tickers(params, sub.channel) or []
            for ticker in tickers:  # answered with snapshots carrying the command id, seq continues
                msg = _encode(kw.snapshot_msg(self.market.kalshi[ticker], sub.use_yes_price, self.legacy))
                # The legacy format keeps today's commands but the old shapes: snapshots had no id.
                self._send(conn, "orderbook_snapshot", sub, msg, cmd_id=None if self.legacy else cmd_id)
            return
        changed = self._tickers(params, sub.channel)
        if not changed:
            raise CommandError(14, sub)
        if sub.markets is None:
            sub.markets = set()
        if action == "add_markets":
            added = [t for t in changed if t not in sub.markets]
            sub.markets.update(added)
            self._ok(conn, cmd_id, sub)
            self._initial(conn, sub, added, params.get("send_initial_snapshot") is True)
        else:
            sub.markets.difference_update(changed)
            self._ok(conn, cmd_id, sub)

    # ------------------------------------------------------------------ market events

    def dispatch(self, events: Sequence[SimEvent]) -> None:
        """Render one market step for every subscription that wants it."""
        if not self.conns:
            return
        for event in events:
            route = self._route(event)
            if route is not None:
                self._fan_out(*route, event)

    def _route(self, event: SimEvent) -> tuple[str, str | None, str] | None:
        """(channel, market filter, message type) for an event; None when Kalshi has no such message."""
        if isinstance(event, KalshiDelta):
            return "orderbook_delta", event.market, "orderbook_delta"
        if isinstance(event, KalshiTrade):
            return "trade", event.market, "trade"
        if isinstance(event, KalshiTickerChanged):
            return "ticker", event.market, "ticker"
        if isinstance(event, KalshiLifecycle):
            channel = "market_lifecycle" if self.legacy else "market_lifecycle_v2"
            return channel, None, channel
        if isinstance(event, KalshiEventCreated) and not self.legacy:
            return "market_lifecycle_v2", None, "event_lifecycle"
        if isinstance(event, KalshiFill):
            return "fill", event.market, "fill"
        if isinstance(event, KalshiUserOrder):
            return "user_orders", event.market, "user_order"
        if isinstance(event, KalshiPositionChanged):
            return "market_positions", event.market, "market_position"
        return None

    def _body(self, event: SimEvent, use_yes_price: bool) -> dict[str, Any] | None:
        legacy = self.legacy
        if isinstance(event, KalshiDelta):
            market_id = self.market.kalshi[event.market].listing.market_id
            return kw.delta_msg(event, market_id, use_yes_price, legacy)
        if isinstance(event, KalshiTrade):
            return kw.trade_msg(event, legacy)
        if isinstance(event, KalshiTickerChanged):
            return kw.ticker_msg(self.market.kalshi[event.market], legacy)
        if isinstance(event, KalshiLifecycle):
            return kw.lifecycle_msg(event, self.market.kalshi[event.market], legacy)
        if isinstance(event, KalshiEventCreated):
            listing = next(
                m.listing for m in self.market.kalshi.values() if m.listing.event_ticker == event.event_ticker
            )
            return kw.event_lifecycle_msg(listing.event_ticker, listing.series_ticker, listing.title)
        if isinstance(event, KalshiFill):
            return kw.fill_msg(event, legacy)
        if isinstance(event, KalshiUserOrder):
            return kw.user_order_msg(event, USER_ID)
        if isinstance(event, KalshiPositionChanged):
            return kw.position_msg(self.market.kalshi[event.market], USER_ID, legacy)
        return None

    def _fan_out(self, channel: str, ticker: str | None, type_: str, event: SimEvent) -> None:
        # Rendered once per price scale, then shared by every subscription that wants it.
        cache: dict[bool, bytes | None] = {}
        for conn in list(self.conns.values()):
            if conn.blasting:
                continue
            for sub in list(conn.subs.values()):
                if sub.channel != channel or (ticker is not None and not sub.wants(ticker)):
                    continue
                key = sub.use_yes_price and channel == "orderbook_delta"
                if key not in cache:
                    body = self._body(event, key)
                    cache[key] = _encode(body) if body is not None else None
                msg = cache[key]
                if msg is not None:
                    self._send(conn, type_, sub, msg, data=True)

    # ------------------------------------------------------------------ blast mode

    async def _blast(self, conn: KalshiConn, sub: KalshiSub, tickers: list[str]) -> None:
        """Pre-build ``blast`` deltas on the subscribed markets and write them straight to the socket."""
        if self._pause is not None:
            await self._pause()
        try:
            outbox = conn.outbox
            while outbox.queue and not outbox.closed:  # the snapshots go first
                await asyncio.sleep(0.001)
            built = time.perf_counter()
            deltas = self.market.blast_kalshi(tickers, self.blast)
            frames = []
            for event in deltas:
                msg = _encode(
                    kw.delta_msg(
                        event,
                        self.market.kalshi[event.market].listing.market_id,
                        sub.use_yes_price,
                        self.legacy,
                    )
                )
                sub.seq += 1
                frames.append(text_frame(self._frame("orderbook_delta", sub, msg, seq=sub.seq).encode()))
            build_s = time.perf_counter() - built
            seconds = await outbox.write_raw(frames)
            self.dispatch_to_others(conn, deltas)
            rate = len(frames) / seconds if seconds > 0 else float("inf")
            self.faults.note(
                "blast",
                "kalshi",
                conn.id,
                f"{len(frames)} frames in {seconds:.3f}s = {rate:,.0f}/s (built in {build_s:.2f}s)",
            )
        finally:
            conn.blasting = False
            if self._resume is not None:
                self._resume()

    def dispatch_to_others(self, skip: KalshiConn, events: Sequence[SimEvent]) -> None:
        skip.blasting = True
        try:
            self.dispatch(events)
        finally:
            skip.blasting = False

    # ------------------------------------------------------------------ REST

    def _auth_problem(self, request: web.Request) -> str | None:
        return kalshi_headers_problem(request.headers, request.method, request.path, self.public_key)

    async def rest_markets(self, request: web.Request) -> web.Response:
        q = request.query
        try:
            limit = _int_param(q, "limit", 100, 1, 1000)
            offset = _cursor(q.get("cursor", ""))
        except ValueError as exc:
            return _error_response(400, "bad_request", str(exc))
        status = q.get("status")
        if status is not None and status not in kw.STATUS_FILTERS:
            return _error_response(400, "bad_request", f"invalid status filter {status!r}")
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

    async def rest_market(self, request: web.Request) -> web.Response:
        market = self.market.kalshi.get(request.match_info["ticker"])
        if market is None:
            return _error_response(404, "not_found", "market not found")
        return web.json_response({"market": kw.market_object(market)})

    async def rest_orderbook(self, request: web.Request) -> web.Response:
        market = self.market.kalshi.get(request.match_info["ticker"])
        if market is None:
            return _error_response(404, "not_found", "market not found")
        try:
            depth = _int_param(request.query, "depth", 0, -(10**9), 100)
        except ValueError as exc:
            return _error_response(400, "bad_request", str(exc))
        return web.json_response(kw.orderbook_body(market, max(0, depth)))

    async def rest_events(self, request: web.Request) -> web.Response:
        q = request.query
        try:
            limit = _int_param(q, "limit", 200, 1, 200)
            offset = _cursor(q.get("cursor", ""))
        except ValueError as exc:
            return _error_response(400, "bad_request", str(exc))
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
                "mutually_exclusive": False,
                "available_on_brokers": False,
            }
            if nested:
                row["markets"] = [kw.market_object(m) for m in markets]
            rows.append(row)
        return web.json_response({"events": rows, "cursor": cursor})

    async def rest_fills(self, request: web.Request) -> web.Response:
        problem = self._auth_problem(request)
        if problem is not None:
            return _auth_error(problem)
        q = request.query
        try:
            limit = _int_param(q, "limit", 100, 1, 1000)
            offset = _cursor(q.get("cursor", ""))
            min_ts = _int_param(q, "min_ts", 0, 0, 2**63)
            max_ts = _int_param(q, "max_ts", 2**63, 0, 2**63)
        except ValueError as exc:
            return _error_response(400, "bad_request", str(exc))
        fills = [
            f
            for f in reversed(self.market.kalshi_fills)  # newest first
            if min_ts <= f.ts_ms // 1000 <= max_ts
            and q.get("ticker", f.market) == f.market
            and q.get("order_id", f.order_id) == f.order_id
        ]
        page, cursor = _page(fills, offset, limit)
        return web.json_response({"fills": [kw.fill_object(f) for f in page], "cursor": cursor})

    async def rest_positions(self, request: web.Request) -> web.Response:
        problem = self._auth_problem(request)
        if problem is not None:
            return _auth_error(problem)
        q = request.query
        try:
            limit = _int_param(q, "limit", 100, 1, 1000)
            offset = _cursor(q.get("cursor", ""))
        except ValueError as exc:
            return _error_response(400, "bad_request", str(exc))
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

    async def rest_exchange_status(self, request: web.Request) -> web.Response:
        return web.json_response({"exchange_active": True, "trading_active": True})


def _error_msg(code: int, **extra: Any) -> bytes:
    return _encode({"code": code, "msg": ERRORS[code], **extra})


def _error_response(status: int, code: str, message: str) -> web.Response:
    return web.json_response(
        {"error": {"code": code, "message": message, "service": "exchange"}}, status=status
    )


def _auth_error(details: str) -> web.Response:
    return web.json_response(
        {"error": {"code": "authentication_error", "message": "authentication_error", "details": details}},
        status=401,
    )


def _int_param(query: Any, name: str, default: int, low: int, high: int) -> int:
    text = query.get(name)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        raise ValueError(f"{name} must be an integer") from None
    if not low <= value <= high:
        raise ValueError(f"{name} must be between {low} and {high}")
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
        raise ValueError("invalid cursor") from None

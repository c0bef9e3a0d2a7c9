"""The simulated Kalshi WebSocket ``/trade-api/ws/v2``: commands, subscriptions and the feed.

Behaviour follows protocol/kalshi.md: signed handshake (401 without it), ``{"id","cmd","params"}``
commands, one ``subscribed`` per channel, ``seq`` per sid counting snapshots, deltas, ``ok``,
``unsubscribed`` and scoped errors, error codes for bad commands, a ``heartbeat`` ping every 10 s.
The session loop and blast runner are ``app.sim.session``'s; the REST endpoints are ``rest.py``'s.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
from aiohttp import web

from app.sim.events import (
    KalshiDelta,
    KalshiEventCreated,
    KalshiFill,
    KalshiIndexValue,
    KalshiLifecycle,
    KalshiPositionChanged,
    KalshiTickerChanged,
    KalshiTrade,
    KalshiUserOrder,
    SimEvent,
)
from app.sim.kalshi import wire as kw
from app.sim.kalshi.rest import auth_error, error_response
from app.sim.outbox import Outbox
from app.sim.session import Conn, Shared, WsSession
from app.sim.signatures import KalshiPublicKey, kalshi_headers_problem

WS_PATH = "/trade-api/ws/v2"
USER_ID = "5c1f0e4a-7d2b-4c1e-9a33-5f0d8e2b7c61"
SERVED = (
    "orderbook_delta",
    "ticker",
    "trade",
    "fill",
    "market_positions",
    "market_lifecycle_v2",
    "user_orders",
    "cfbenchmarks_value",
)
# Valid channel names the simulator accepts but has no data for.
QUIET = (
    "multivariate_market_lifecycle",
    "communications",
    "order_group_updates",
    "cfbenchmarks_value_5hz",
    "pyth_value",
)
LEGACY_CHANNELS = ("orderbook_delta", "ticker", "trade", "fill", "market_lifecycle")
# Every channel numbers its frames (``seq``) but these four (protocol/kalshi.md §6).
UNSEQUENCED = {"ticker", "fill", "market_positions", "user_orders"}
SEQUENCED = {*SERVED, *QUIET, *LEGACY_CHANNELS} - UNSEQUENCED
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
    24: "Index IDs required",
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


class KalshiConn(Conn[int, KalshiSub]):
    def __init__(self, conn_id: int, outbox: Outbox) -> None:
        super().__init__(conn_id, outbox)
        self.next_sid = 1


class KalshiWs(WsSession[KalshiConn, KalshiSub]):
    """Kalshi's WebSocket: one client's commands in, its subscriptions' frames out."""

    venue = "kalshi"
    non_json_notice = NON_JSON_NOTICE

    def __init__(
        self, shared: Shared, public_key: KalshiPublicKey | None, legacy: bool, ping_interval: float
    ) -> None:
        super().__init__(shared)
        self.public_key = public_key
        self.legacy = legacy
        self.ping_interval = ping_interval

    # ------------------------------------------------------------------ connection

    def refusal(self, status: int) -> web.Response:
        return error_response(
            status, "service_unavailable" if status == 503 else "refused", "simulated refusal"
        )

    def handshake_problem(self, request: web.Request) -> web.Response | None:
        # The string to sign names "GET", the upgrade request's method (protocol/kalshi.md §2.3).
        problem = kalshi_headers_problem(request.headers, "GET", request.path, self.public_key)
        return auth_error(problem) if problem is not None else None

    def new_conn(self, conn_id: int, outbox: Outbox) -> KalshiConn:
        return KalshiConn(conn_id, outbox)

    async def keepalive(self, conn: KalshiConn) -> None:
        """A ``heartbeat`` ping every ``ping_interval`` seconds, unless a stall fault holds the socket."""
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
            self.fault_frames(conn, text, sub)

    def unknown_frame(self, sub: KalshiSub | None) -> str:
        return self._frame("market_mood", sub, b'{"mood":"exuberant"}')

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

    def on_text(self, conn: KalshiConn, text: str) -> None:
        """One command: ``subscribe``, ``unsubscribe``, ``update_subscription`` or ``list_subscriptions``."""
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

    @staticmethod
    def _index_ids(params: dict[str, Any]) -> list[str] | None:
        """``index_ids`` (e.g. ``["BRTI"]``, or ``["all"]``: None, every index); error 24 without."""
        ids = params.get("index_ids")
        if not isinstance(ids, list) or not ids or not all(isinstance(i, str) for i in ids):
            raise CommandError(24)
        return None if "all" in ids else list(dict.fromkeys(ids))

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
            if channel == "cfbenchmarks_value":
                tickers = self._index_ids(params)
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
                sub.blasted = True
                self.start_blast(conn, lambda: self._blast_frames(sub, tickers))
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
        if isinstance(event, KalshiIndexValue) and not self.legacy:
            return "cfbenchmarks_value", event.index_id, "cfbenchmarks_value"
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
        if isinstance(event, KalshiIndexValue):
            return kw.index_msg(event)
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

    def _blast_frames(self, sub: KalshiSub, tickers: list[str]) -> tuple[list[bytes], Sequence[SimEvent]]:
        """``blast`` deltas on the subscribed markets, applied to the market, and their frames' JSON."""
        deltas = self.market.blast_kalshi(tickers, self.blast)
        payloads = []
        for event in deltas:
            market_id = self.market.kalshi[event.market].listing.market_id
            msg = _encode(kw.delta_msg(event, market_id, sub.use_yes_price, self.legacy))
            sub.seq += 1
            payloads.append(self._frame("orderbook_delta", sub, msg, seq=sub.seq).encode())
        return payloads, deltas


def _error_msg(code: int, **extra: Any) -> bytes:
    return _encode({"code": code, "msg": ERRORS[code], **extra})

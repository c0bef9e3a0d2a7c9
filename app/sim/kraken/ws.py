"""The simulated Kraken WebSocket ``/v2`` (public and private channels): requests and the feed.

Behaviour follows protocol/kraken.md: ``status`` on connect, one ack per symbol, 1 Hz heartbeats
once subscribed, book frames whose CRC32 covers the top 10 levels at the pair's precision, and
errors worded as Kraken words them (``Currency pair not supported``, ``Already subscribed``, ...).
The session loop and blast runner are ``app.sim.session``'s; the REST endpoints (and the tokens the
private channels want) are ``rest.py``'s.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import msgspec
from aiohttp import web

from app.sim.events import KrakenBbo, KrakenBook, KrakenExecution, KrakenLedger, KrakenTrade, SimEvent
from app.sim.kraken import wire as kw
from app.sim.kraken.market import BOOK_DEPTHS, OHLC_INTERVALS, KrakenPairState
from app.sim.kraken.rest import Token
from app.sim.market import rfc3339
from app.sim.outbox import Outbox
from app.sim.session import Conn, Shared, WsSession

WS_PATH = "/v2"
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


class KrakenConn(Conn[tuple[str, str | None], KrakenSub]):
    """A client whose subscriptions are keyed by (channel, symbol); symbol None for the others."""


@dataclass(slots=True)
class _Asked:
    """A request being answered: the connection it came on, its ``method`` and ``req_id``, and when it
    arrived (``time_in``), which every reply to it repeats."""

    conn: KrakenConn
    method: str
    req_id: Any
    time_in: str

    def reply(self, method: str, **fields: Any) -> None:
        body: dict[str, Any] = {"method": method}
        if self.req_id is not None:
            body["req_id"] = self.req_id
        body.update(fields)
        body["time_in"], body["time_out"] = self.time_in, rfc3339()
        self.conn.outbox.put(_frame(body))

    def ok(self, result: dict[str, Any]) -> None:
        self.reply(self.method, result=result, success=True)

    def fail(self, error: str, symbol: str | None = None, method: str | None = None) -> None:
        fields: dict[str, Any] = {"error": error, "success": False}
        if symbol is not None:
            fields["symbol"] = symbol
        self.reply(method or self.method, **fields)

    def not_found(self, symbol: str | None = None) -> None:
        # Named method "subscribe" even when answering an unsubscribe: a real quirk (protocol/kraken.md G14).
        self.fail("Subscription Not Found", symbol, "subscribe")


class KrakenWs(WsSession[KrakenConn, KrakenSub]):
    """Kraken's WebSocket: one client's requests in, its subscriptions' frames out."""

    venue = "kraken"
    non_json_notice = NON_JSON_NOTICE

    def __init__(self, shared: Shared, tokens: dict[str, Token]) -> None:
        super().__init__(shared)
        self.tokens = tokens  # issued by GetWebSocketsToken, wanted by the private channels
        # Connection ids beyond 2**53, as real ones are (protocol/kraken.md G19).
        self.connection_base = 2**53 + (shared.market.config.seed << 20)
        # Told every step this session sees, blasts included, before anything is sent.
        self.followers: list[Callable[[Sequence[SimEvent]], None]] = []

    # ------------------------------------------------------------------ connection

    def refusal(self, status: int) -> web.Response:
        return web.Response(status=status, text=f"simulated refusal (HTTP {status})\n")

    def new_conn(self, conn_id: int, outbox: Outbox) -> KrakenConn:
        return KrakenConn(conn_id, outbox)

    def greet(self, conn: KrakenConn) -> None:
        conn.outbox.put(_frame(kw.status(self.connection_base + conn.id)))

    async def keepalive(self, conn: KrakenConn) -> None:
        """``{"channel":"heartbeat"}`` about once a second while subscribed and otherwise quiet."""
        while not conn.outbox.closed:
            await asyncio.sleep(1.0)
            quiet = time.monotonic() - conn.outbox.last_sent >= 0.95
            if conn.subs and quiet and not conn.outbox.queue and not conn.blasting:
                conn.outbox.put('{"channel":"heartbeat"}')

    # ------------------------------------------------------------------ requests

    def on_text(self, conn: KrakenConn, text: str) -> None:
        """One request: ``ping``, ``subscribe`` or ``unsubscribe``."""
        time_in = rfc3339()
        try:
            request = _decode(text)
        except (msgspec.DecodeError, UnicodeDecodeError):
            request = None
        if not isinstance(request, dict) or not isinstance(request.get("method"), str):
            return _Asked(conn, "error", None, time_in).fail("Malformed request")
        method, req_id = request["method"], request.get("req_id")
        if req_id is not None and type(req_id) is not int:
            return _Asked(conn, method, None, time_in).fail("EGeneral:Invalid arguments:req_id")
        ask = _Asked(conn, method, req_id, time_in)
        extra = set(request) - {"method", "params", "req_id"}
        if extra:
            return ask.fail(f"Unsupported field: '{sorted(extra)[0]}' for the given msg type: {method}")
        if method == "ping":
            if "params" in request:
                return ask.fail("Unsupported field: 'params' for the given msg type: ping")
            return ask.reply("pong")
        if method not in ("subscribe", "unsubscribe"):
            return ask.fail("Unsupported event")
        params = request.get("params")
        if not isinstance(params, dict) or not isinstance(params.get("channel"), str):
            return ask.fail("EGeneral:Invalid arguments")
        channel = params["channel"]
        if channel == "status" and method == "subscribe":
            conn.outbox.put(_frame(kw.status(self.connection_base + conn.id)))
            return ask.fail("Symbol(s) not found")
        self.route(ask, channel, params)
        return None

    def route(self, ask: _Asked, channel: str, params: dict[str, Any]) -> None:
        """A subscribe or unsubscribe of ``channel``, its envelope already checked."""
        if channel not in ALLOWED_PARAMS:
            return ask.fail("Subscription name invalid")
        unknown = sorted(set(params) - ALLOWED_PARAMS[channel])
        if unknown:
            return ask.fail(f"Unsupported field: '{unknown[0]}' for the given msg type: {ask.method}")
        if channel in PRIVATE:
            return self._private(ask, channel, params)
        if channel == "instrument":
            return self._instrument(ask, params)
        return self._market_channel(ask, channel, params)

    def _market_channel(self, ask: _Asked, channel: str, params: dict[str, Any]) -> None:
        conn, method = ask.conn, ask.method
        symbols = params.get("symbol")
        if not isinstance(symbols, list) or not symbols or not all(isinstance(s, str) for s in symbols):
            return ask.fail("EGeneral:Invalid arguments:symbol")
        snapshot = params.get("snapshot", channel != "trade")
        depth = params.get("depth", 10)
        interval = params.get("interval", 1)
        trigger = params.get("event_trigger", "trades")
        for symbol in dict.fromkeys(symbols):
            if channel == "book" and depth not in BOOK_DEPTHS:
                ask.fail("Subscription depth not supported", symbol)
                continue
            if channel == "ohlc" and interval not in OHLC_INTERVALS:
                ask.fail("Subscription ohlc interval not supported", symbol)
                continue
            if channel == "ticker" and trigger not in ("bbo", "trades"):
                ask.fail("EGeneral:Invalid arguments:event_trigger", symbol)
                continue
            state = self.market.kraken.get(symbol)
            if state is None:
                ask.fail(f"Currency pair not supported {symbol}", symbol)
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
                if (
                    existing is None
                    or (channel == "book" and existing.depth != depth)
                    or (channel == "ohlc" and existing.interval != interval)
                ):
                    ask.not_found(symbol)
                    continue
                del conn.subs[key]
                ask.ok(result)
                continue
            if existing is not None:
                ask.fail("Already subscribed", symbol)
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
            ask.ok(result)
            self._initial(conn, sub, state)

    def _initial(self, conn: KrakenConn, sub: KrakenSub, state: KrakenPairState) -> None:
        out = conn.outbox
        if sub.channel == "book":
            if sub.snapshot:
                out.put(_frame(kw.book_snapshot(state, sub.depth, kw.checksum(state))))
            if self.blast and not conn.blasting:
                self.start_blast(conn, lambda: self._blast_frames(sub, state))
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

    def _answer_existing(self, ask: _Asked, channel: str) -> bool:
        """Answer an unsubscribe from ``channel`` (one without symbols), or a subscribe to it when it is
        there already; False when it is a new subscription, for the caller to make."""
        subs = ask.conn.subs
        if ask.method == "unsubscribe":
            if subs.pop((channel, None), None) is None:
                ask.not_found()
            else:
                ask.ok({"channel": channel})
            return True
        if (channel, None) in subs:
            ask.fail("Already subscribed")
            return True
        return False

    def _instrument(self, ask: _Asked, params: dict[str, Any]) -> None:
        if self._answer_existing(ask, "instrument"):
            return
        snapshot = params.get("snapshot", True) is not False
        ask.conn.subs["instrument", None] = KrakenSub("instrument", None, snapshot=snapshot)
        ask.ok(
            {
                "channel": "instrument",
                "snapshot": snapshot,
                "warnings": ["tick_size is deprecated, use price_increment"],
            }
        )
        if snapshot:
            ask.conn.outbox.put(_frame(kw.instrument(list(self.market.kraken.values()))))

    def token_problem(self, token: object) -> str | None:
        """Kraken's words for a missing or unknown WebSocket token, or None for a good one (marked used:
        once used by a live subscription, the token stays valid, §5.1)."""
        if not isinstance(token, str) or not token:
            return "Token(s) not found"
        known = self.tokens.get(token)
        if known is None or (not known.used and time.monotonic() > known.expires):
            return "EAPI:Invalid token"
        known.used = True
        return None

    def _private(self, ask: _Asked, channel: str, params: dict[str, Any]) -> None:
        problem = self.token_problem(params.get("token"))
        if problem is not None:
            return ask.fail(problem)
        if self._answer_existing(ask, channel):
            return None
        conn, account = ask.conn, self.market.kraken_account
        if channel == "executions":
            snap_trades = params.get("snap_trades", params.get("snapshot_trades", False)) is True
            snap_orders = params.get("snap_orders", True) is not False
            sub = KrakenSub(channel, None)
            conn.subs[channel, None] = sub
            ask.ok(
                {
                    "channel": channel,
                    "maxratecount": MAX_RATE_COUNT,
                    "snap_orders": snap_orders,
                    "snap_trades": snap_trades,
                }
            )
            if snap_orders or snap_trades:
                sub.sequence += 1
                resting = list(account.open_orders.values()) if snap_orders else []
                recent = account.executions[-50:] if snap_trades else []
                conn.outbox.put(_frame(kw.executions(resting + recent, "snapshot", sub.sequence)))
            return None
        snapshot = params.get("snapshot", True) is not False
        sub = KrakenSub(channel, None, snapshot=snapshot)
        conn.subs[channel, None] = sub
        ask.ok({"channel": channel, "snapshot": snapshot})
        if snapshot:
            sub.sequence += 1
            conn.outbox.put(_frame(kw.balances_snapshot(account.balances, sub.sequence)))
        return None

    # ------------------------------------------------------------------ market events

    def dispatch(self, events: Sequence[SimEvent]) -> None:
        for follower in self.followers:  # the level3 endpoint's orders follow every book change
            follower(events)
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
        self.fault_frames(conn, text, None)

    def unknown_frame(self, sub: KrakenSub | None) -> str:
        return '{"channel":"mood","type":"update","data":[{"mood":"exuberant"}]}'

    # ------------------------------------------------------------------ blast mode

    def _blast_frames(self, sub: KrakenSub, state: KrakenPairState) -> tuple[list[bytes], Sequence[SimEvent]]:
        """``blast`` book changes on the pair, each applied then rendered (its checksum needs the book
        as it stands after that change), and the changes themselves."""
        payloads: list[bytes] = []
        applied: list[SimEvent] = []
        for event in self.market.blast_kraken(state.symbol, self.blast, sub.depth):
            applied.append(event)
            bids, asks = kw.book_changes(state, event, sub.depth)
            payloads.append(kw.encode(kw.book_update(state, bids, asks, kw.checksum(state), event.ts)))
        return payloads, applied

"""One supervised WebSocket connection: connect, subscribe, read, recover, reconnect, forever.

Venue specifics (handshake headers, session, commands) live in ``VenueLink`` (stream/link.py) and its
subclasses ``KalshiLink`` and ``KrakenLink``. The read loop is the hot path: frame -> session (decode,
seq/checksum, book) -> store.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import ssl
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import aiohttp

from app.core.events import Ack, ErrorEvent, Event, Malformed, RecoveryAction, Subscribed, Unsubscribed
from app.core.feeds import Feed
from app.core.instruments import Venue
from app.core.store import MarketStore
from app.stream import net_errors
from app.stream.backoff import Backoff
from app.stream.recorder import Recorder
from app.stream.state import ConnState, Transition
from app.venues.wire import excerpt

MAX_FRAME = 64 << 20  # Kalshi allows 64 MiB messages; big snapshots and acks exceed the 1 MiB default
ACK_TIMEOUT_S = 10.0
REST_TIMEOUT = aiohttp.ClientTimeout(total=15)
REJECTED_RETRY_S = 60.0  # after a 401/403: try again this rarely (a key may be re-enabled), never hammer
TIMER_S = 0.5  # how often timers (acks, idle, pings, probes) are checked
YIELD_S = 0.004  # the read loop hands the event loop back at least this often during a burst
_CONTROL = frozenset({RecoveryAction, Subscribed, Unsubscribed, ErrorEvent, Ack})
LOOPBACK = {"127.0.0.1", "::1", "localhost"}
TRANSITIONS_KEPT = 500  # a link's history (the Health tab's last reasons); oldest fifth dropped past it


class InsecureURLError(ValueError):
    """A non-loopback host over plain ws:// (credentials and data would travel in clear text)."""


def check_url(url: str) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss"):
        raise InsecureURLError(f"{url}: not a WebSocket URL")
    if parts.scheme == "ws" and (parts.hostname or "") not in LOOPBACK:
        raise InsecureURLError(f"{url}: use wss:// for a non-loopback host")


class Connection:
    venue: Venue

    def __init__(
        self,
        url: str,
        store: MarketStore,
        *,
        backoff: Backoff | None = None,
        recorder: Recorder | None = None,
        ssl_context: ssl.SSLContext | None = None,
        on_state: Callable[[Connection, Transition], None] | None = None,
        name: str | None = None,
    ) -> None:
        check_url(url)
        self.name = name or self.venue.value  # a venue can have two links (Kraken's private host)
        self.url = url
        self.store = store
        self.backoff = backoff or Backoff()
        self.recorder = recorder
        self.ssl_context = ssl_context
        self.on_state = on_state
        self.state = ConnState.IDLE
        self.transitions: list[Transition] = [Transition(ConnState.IDLE, "created")]
        self.connects = 0
        self.reconnects = 0
        self.last_error_detail: str | None = None  # the newest network failure, technically (tooltips)
        self.frames = 0
        self.live_since: float | None = None
        self.last_frame: float | None = None
        self._ws: aiohttp.ClientWebSocketResponse | None = None
        self.http: aiohttp.ClientSession | None = None
        self._stopping = asyncio.Event()
        self._pending_acks: dict[Any, float] = {}  # request id -> deadline
        self._task: asyncio.Task[None] | None = None
        self.reached_live = asyncio.Event()
        self._drop_reason: str | None = None
        self.rejected_retry_s = REJECTED_RETRY_S
        self.retry_at: float | None = None  # monotonic time of the next attempt while waiting

    # ------------------------------------------------------------------ life cycle

    def start(self) -> asyncio.Task[None]:
        self._task = asyncio.create_task(self.run(), name=f"{self.name}-connection")
        return self._task

    async def stop(self) -> None:
        self._stopping.set()
        if self._ws is not None:
            await self._ws.close()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._set(ConnState.CLOSED, "stopped")

    def _set(self, state: ConnState, reason: str) -> None:
        if state is self.state and state is not ConnState.BACKING_OFF:
            return
        self.state = state
        transition = Transition(state, reason)
        self._remember(transition)
        if state is ConnState.LIVE:
            self.live_since = time.monotonic()
            self.reached_live.set()
        elif state is not ConnState.CLOSED:
            self.reached_live.clear()
        if self.on_state is not None:
            self.on_state(self, transition)

    def note(self, text: str) -> None:
        """Something worth a line in the link's history without a change of state (a failed REST call)."""
        self._remember(Transition(self.state, text))

    def _remember(self, transition: Transition) -> None:
        self.transitions.append(transition)
        if len(self.transitions) > TRANSITIONS_KEPT:
            del self.transitions[: TRANSITIONS_KEPT // 5]

    async def run(self) -> None:
        timeout = aiohttp.ClientTimeout(total=None, connect=10, sock_connect=10)
        async with aiohttp.ClientSession(timeout=timeout) as http:
            self.http = http  # one pooled session for the link's WebSocket and REST calls
            while not self._stopping.is_set():
                reason, minimum = await self._connect_once(http)
                if self._stopping.is_set():
                    break
                self.reconnects += 1
                self.store.health_of(self.venue, Feed.CONNECTION).reconnects += 1
                self.books_lost(f"disconnected: {reason}")
                delay = self.backoff.next_delay(minimum)
                self.retry_at = time.monotonic() + delay  # the window counts down to it
                if self.state is not ConnState.CREDENTIALS_REJECTED:
                    self._set(ConnState.BACKING_OFF, f"{reason}; retrying in {math.ceil(delay)} s")
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stopping.wait(), delay)

    async def _connect_once(self, http: aiohttp.ClientSession) -> tuple[str, float]:
        """One connection's life. Returns why it ended and the least wait before the next attempt."""
        self.retry_at = None
        self._set(ConnState.CONNECTING, "reconnecting" if self.connects else "starting")
        try:
            headers = await self.prepare()
            self.backoff.record_connect()
            self.connects += 1
            async with http.ws_connect(
                self.url,
                headers=headers,
                max_msg_size=self.max_frame,
                heartbeat=self.ping_interval,  # our pings; no pong in half the interval closes the link
                autoping=True,  # the venue's pings are answered at once
                compress=0,
                ssl=self.ssl_context or True,
                timeout=aiohttp.ClientWSTimeout(ws_receive=None, ws_close=2.0),
            ) as ws:
                self._ws = ws
                self._pending_acks.clear()
                await self.opened(ws)
                return await self._read(ws), 0.0
        except aiohttp.WSServerHandshakeError as exc:
            if exc.status in (401, 403):
                self._set(ConnState.CREDENTIALS_REJECTED, f"HTTP {exc.status}: credentials rejected")
                return f"credentials rejected (HTTP {exc.status})", self.rejected_retry_s
            # Maintenance or overload: not faster than every 5 s (both venues ask for that).
            return f"handshake refused (HTTP {exc.status})", 5.0 if exc.status in (429, 503) else 0.0
        except AuthError as exc:
            self._set(ConnState.CREDENTIALS_REJECTED, str(exc))
            return str(exc), self.rejected_retry_s
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            self.last_error_detail = net_errors.detail(exc)
            return net_errors.in_words(exc, urlsplit(self.url).hostname or self.url), 0.0
        except (ValueError, KeyError, TypeError) as exc:  # a garbled REST reply (token call): retry later
            return f"bad reply from the venue: {type(exc).__name__}: {exc}"[:200], 5.0
        finally:
            self._ws = None

    async def _read(self, ws: aiohttp.ClientWebSocketResponse) -> str:
        """The hot loop: one await per frame, nothing else. Timers run beside it (``_timers``)."""
        store, venue = self.store, self.venue
        session_frame = self.on_frame
        apply = store.apply
        receive = ws.receive
        timers = asyncio.create_task(self._timers(ws))
        monotonic = time.monotonic
        text, binary = aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY
        live = ConnState.LIVE
        yielded = monotonic()
        try:
            while True:
                message = await receive()
                kind = message.type
                if kind is not text and kind is not binary:
                    if kind is aiohttp.WSMsgType.ERROR:
                        data = message.data  # aiohttp puts a protocol error here, others on the socket
                        return self._socket_error(data if isinstance(data, BaseException) else ws.exception())
                    return self._drop_reason or f"closed by the server (code {ws.close_code})"
                frame = message.data
                now = self.last_frame = monotonic()
                self.frames += 1
                recorder = self.recorder  # looked up per frame: File → Record switches it at run time
                if recorder is not None:
                    recorder.frame(venue.value, self.connects, frame, self.name)
                try:
                    events = session_frame(frame)
                except Exception as exc:  # a codec bug must cost one frame, never the link
                    events = [
                        Malformed(
                            venue, f"could not decode: {type(exc).__name__}: {exc}"[:200], excerpt(frame)
                        )
                    ]
                apply(venue, events)
                for ev in events:
                    if type(ev) in _CONTROL:  # rare: skip the isinstance chain on data frames
                        if isinstance(ev, RecoveryAction):
                            await self.recover(ev)
                        else:
                            if isinstance(ev, Subscribed | ErrorEvent | Ack):
                                self.ack_received(ev.req_id)  # answered, either way
                            self.on_control(ev)
                if self.state is not live and self.is_live():
                    self.backoff.succeeded()
                    self._set(ConnState.LIVE, "subscribed and receiving")
                if now - yielded > YIELD_S:
                    # Queued frames don't suspend receive(): give the loop (timers, the window) a turn.
                    yielded = now
                    await asyncio.sleep(0)
        finally:
            timers.cancel()

    def _socket_error(self, exc: BaseException | None) -> str:
        if isinstance(exc, aiohttp.WebSocketError) and exc.code == aiohttp.WSCloseCode.MESSAGE_TOO_BIG:
            # The stream cannot skip one frame: the link reconnects, and Health names why.
            reason = f"a frame over the {self.max_frame >> 20} MiB limit"
            self.store.health_of(self.venue, Feed.CONNECTION).problem(reason)
            return reason
        return f"socket error: {exc}"

    async def _timers(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        """Ack deadlines, the idle watchdog, pings and probes; closes the socket when one says so."""
        self._drop_reason = None
        while True:
            await asyncio.sleep(TIMER_S)
            problem = self.check_timers()
            if problem is not None:
                self._drop_reason = problem
                await ws.close(code=1000, message=problem[:100].encode())
                return

    def check_timers(self) -> str | None:
        """Why the connection must be dropped now (ack or data timeout), or None."""
        now = time.monotonic()
        for req, deadline in list(self._pending_acks.items()):
            if now > deadline:
                return f"subscription {req} not acknowledged in {ACK_TIMEOUT_S:.0f}s"
        if self.idle_limit and self.last_frame is not None and now - self.last_frame > self.idle_limit:
            return f"no data for {now - self.last_frame:.1f}s"
        return self.periodic(now)

    def rest(self) -> aiohttp.ClientSession:
        """The link's HTTP session (it exists while ``run`` does)."""
        if self.http is None or self.http.closed:
            raise ValueError("the link is not running")
        return self.http

    async def send(self, command: dict[str, Any], *, expect_ack: bool = False) -> None:
        ws = self._ws
        if ws is None or ws.closed:
            return
        self.sent_command(command)
        if self.recorder is not None:
            self.recorder.sent(self.venue.value, self.connects, command, self.name)
        if expect_ack:
            key = command.get("id", command.get("req_id"))
            self._pending_acks[key] = time.monotonic() + ACK_TIMEOUT_S
        await ws.send_str(self.encode(command))

    def ack_received(self, key: Any) -> None:
        self._pending_acks.pop(key, None)

    # ------------------------------------------------------------------ venue hooks

    max_frame = MAX_FRAME
    ping_interval: float | None = 20.0
    idle_limit: float | None = None  # seconds without any frame before the link counts as dead

    async def prepare(self) -> dict[str, str]:
        return {}

    async def opened(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        raise NotImplementedError

    def books_lost(self, reason: str) -> None:
        """The connection dropped: the books it fed are suspect until re-snapshotted."""
        self.store.mark_books_stale(self.venue, reason)

    def on_frame(self, frame: str | bytes) -> list[Event]:
        raise NotImplementedError

    def encode(self, command: dict[str, Any]) -> str:
        raise NotImplementedError

    def sent_command(self, command: dict[str, Any]) -> None:
        pass

    async def recover(self, action: RecoveryAction) -> None:
        pass

    def is_live(self) -> bool:
        return not self._pending_acks

    def on_control(self, ev: Event) -> None:
        """A subscription acknowledgement, refusal or cancellation arrived (for the registry)."""

    def registry(self) -> dict[str, dict[str, object]]:
        """Per channel: what the client wants, what the server acknowledged, and whether they agree."""
        return {}

    def periodic(self, now: float) -> str | None:
        return None


class AuthError(Exception):
    """Credentials were refused before the WebSocket (e.g. Kraken's token call said EAPI:Invalid key)."""

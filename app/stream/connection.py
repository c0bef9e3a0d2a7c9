"""One supervised WebSocket connection: connect, subscribe, read, recover, reconnect, forever.

Venue specifics (handshake headers, session, commands) live in the subclasses ``KalshiLink`` and
``KrakenLink``. The read loop is the hot path: frame -> session (decode, seq/checksum, book) -> store.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import websockets
from websockets.asyncio.client import ClientConnection

from app.core.events import ErrorEvent, Event, RecoveryAction, Subscribed
from app.core.instruments import Venue
from app.core.store import MarketStore
from app.stream.backoff import Backoff
from app.stream.recorder import Recorder
from app.stream.state import ConnState, Transition

MAX_FRAME = 64 << 20  # Kalshi allows 64 MiB messages; big snapshots and acks exceed the 1 MiB default
ACK_TIMEOUT_S = 10.0
TIMER_S = 0.5  # how often timers (acks, idle, pings, probes) are checked while data flows
LOOPBACK = {"127.0.0.1", "::1", "localhost"}


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
    ) -> None:
        check_url(url)
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
        self.frames = 0
        self.live_since: float | None = None
        self.last_frame: float | None = None
        self._ws: ClientConnection | None = None
        self._stopping = asyncio.Event()
        self._pending_acks: dict[Any, float] = {}  # request id -> deadline
        self._task: asyncio.Task[None] | None = None
        self.reached_live = asyncio.Event()

    # ------------------------------------------------------------------ life cycle

    def start(self) -> asyncio.Task[None]:
        self._task = asyncio.create_task(self.run(), name=f"{self.venue.value}-connection")
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
        self.transitions.append(transition)
        if len(self.transitions) > 500:
            del self.transitions[:100]
        if state is ConnState.LIVE:
            self.live_since = time.monotonic()
            self.reached_live.set()
        elif state is not ConnState.CLOSED:
            self.reached_live.clear()
        if self.on_state is not None:
            self.on_state(self, transition)

    async def run(self) -> None:
        while not self._stopping.is_set():
            minimum = 0.0
            reason = "connection lost"
            self._set(ConnState.CONNECTING, "reconnecting" if self.connects else "starting")
            try:
                headers = await self.prepare()
                self.backoff.record_connect()
                self.connects += 1
                async with websockets.connect(
                    self.url,
                    additional_headers=headers,
                    max_size=MAX_FRAME,
                    open_timeout=10,
                    ping_interval=self.ping_interval,
                    ping_timeout=self.ping_interval,
                    close_timeout=2,
                    ssl=self.ssl_context if self.url.startswith("wss") else None,
                    compression=None,
                    max_queue=64,
                ) as ws:
                    self._ws = ws
                    self._pending_acks.clear()
                    await self.opened(ws)
                    reason = await self._read(ws)
            except websockets.InvalidStatus as exc:
                status = exc.response.status_code
                if status in (401, 403):
                    self._set(ConnState.CREDENTIALS_REJECTED, f"HTTP {status}: credentials rejected")
                    minimum = 60.0
                    reason = f"credentials rejected (HTTP {status})"
                else:
                    minimum = (
                        5.0 if status in (429, 503) else 0.0
                    )  # maintenance / overload: not faster than 5 s
                    reason = f"handshake refused (HTTP {status})"
            except AuthError as exc:
                self._set(ConnState.CREDENTIALS_REJECTED, str(exc))
                minimum, reason = 60.0, str(exc)
            except (websockets.ConnectionClosed, OSError, TimeoutError, websockets.InvalidHandshake) as exc:
                reason = f"{type(exc).__name__}: {exc}"[:200]
            finally:
                self._ws = None
            if self._stopping.is_set():
                break
            self.reconnects += 1
            self.store.health_of(self.venue, "connection").reconnects += 1
            self.store.mark_books_stale(self.venue, f"disconnected: {reason}")
            delay = self.backoff.next_delay(minimum)
            if self.state is not ConnState.CREDENTIALS_REJECTED:
                self._set(ConnState.BACKING_OFF, f"{reason}; retry in {delay:.1f}s")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay)

    async def _read(self, ws: ClientConnection) -> str:
        """The hot loop. Returns why it ended (the socket raises when it closes)."""
        store, venue, recorder = self.store, self.venue, self.recorder
        session_frame = self.on_frame
        recv = ws.recv
        next_check = time.monotonic() + TIMER_S
        while True:
            try:
                frame = await asyncio.wait_for(recv(), self.recv_timeout())
            except TimeoutError:
                frame = None
            now = time.monotonic()
            if now >= next_check or frame is None:
                next_check = now + TIMER_S
                problem = self.check_timers()
                if problem is not None:
                    await ws.close(code=1000, reason=problem[:100])
                    return problem
            if frame is None:
                continue
            self.last_frame = now
            self.frames += 1
            if recorder is not None:
                recorder.frame(venue.value, self.connects, frame)
            events = session_frame(frame)
            store.apply(venue, events)
            for ev in events:
                if isinstance(ev, RecoveryAction):
                    await self.recover(ev)
                elif isinstance(ev, Subscribed | ErrorEvent):
                    self.ack_received(ev.req_id)  # answered, either way
            if self.state is not ConnState.LIVE and self.is_live():
                self.backoff.succeeded()
                self._set(ConnState.LIVE, "subscribed and receiving")

    def recv_timeout(self) -> float:
        return 1.0

    def check_timers(self) -> str | None:
        """Why the connection must be dropped now (ack or data timeout), or None."""
        now = time.monotonic()
        for req, deadline in list(self._pending_acks.items()):
            if now > deadline:
                return f"subscription {req} not acknowledged in {ACK_TIMEOUT_S:.0f}s"
        if self.idle_limit and self.last_frame is not None and now - self.last_frame > self.idle_limit:
            return f"no data for {now - self.last_frame:.1f}s"
        return self.periodic(now)

    async def send(self, command: dict[str, Any], *, expect_ack: bool = False) -> None:
        ws = self._ws
        if ws is None:
            return
        self.sent_command(command)
        if expect_ack:
            key = command.get("id", command.get("req_id"))
            self._pending_acks[key] = time.monotonic() + ACK_TIMEOUT_S
        await ws.send(self.encode(command))

    def ack_received(self, key: Any) -> None:
        self._pending_acks.pop(key, None)

    # ------------------------------------------------------------------ venue hooks

    ping_interval: float | None = 20.0
    idle_limit: float | None = None  # seconds without any frame before the link counts as dead

    async def prepare(self) -> dict[str, str]:
        return {}

    async def opened(self, ws: ClientConnection) -> None:
        raise NotImplementedError

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

    def periodic(self, now: float) -> str | None:
        return None


class AuthError(Exception):
    """Credentials were refused before the WebSocket (e.g. Kraken's token call said EAPI:Invalid key)."""

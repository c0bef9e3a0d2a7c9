"""Frames waiting for one simulated client, and the task that writes them (with stall and throttle)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import deque
from collections.abc import Callable, Coroutine
from typing import Any

from aiohttp import WSMsgType, web

from app.sim.faults import Faults, FaultSpec

OUTBOX_LIMIT = 200_000  # frames; beyond this the client is reading too slowly


class Outbox:
    """One client's send queue. ``put`` never blocks the market; ``run`` drains it to the socket."""

    def __init__(
        self, ws: web.WebSocketResponse, request: web.Request, conn: int, venue: str, faults: Faults
    ) -> None:
        self.ws = ws
        self.request = request
        self.conn = conn
        self.venue = venue
        self.faults = faults
        self.queue: deque[str | bytes] = deque()
        self.wake = asyncio.Event()
        self.stalled_until = 0.0
        self._stall_over = asyncio.Event()
        self.closed = False
        self.sent = 0
        self.last_sent = time.monotonic()
        self.connected_at = time.monotonic()
        self.throttled = False

    def __len__(self) -> int:
        return len(self.queue)

    @property
    def full(self) -> bool:
        return len(self.queue) >= OUTBOX_LIMIT

    def put(self, frame: str | bytes) -> None:
        self.queue.append(frame)
        self.wake.set()

    @property
    def stalled(self) -> bool:
        return time.monotonic() < self.stalled_until

    def end_stall(self) -> None:
        """Faults were switched off: a stall under way ends now, not when it was due to."""
        self.stalled_until = 0.0
        self._stall_over.set()

    def abort(self, why: str) -> None:
        """Cut the TCP connection without a closing handshake (what a dropped link looks like)."""
        if self.closed:
            return
        self.closed = True
        transport = self.request.transport
        if transport is not None:
            transport.abort()
        self.wake.set()

    async def run(self) -> None:
        ws = self.ws
        queue = self.queue
        while not self.closed and not ws.closed:
            if not queue:
                self.wake.clear()
                await self.wake.wait()
                continue
            if self.stalled:
                self._stall_over.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stall_over.wait(), self.stalled_until - time.monotonic())
                continue
            throttle = self.faults.active("throttle", self.venue)
            if throttle is not None and throttle.rate:
                if not self.throttled:
                    self.throttled = True
                    self.faults.record(throttle, self.venue, self.conn, f"{throttle.rate:g} frames/s")
                await asyncio.sleep(1.0 / throttle.rate)
            if self.faults.drop_now(self.venue, self.conn):
                self.abort("random drop")
                return
            frame = queue.popleft()
            try:
                if isinstance(frame, bytes):
                    await ws.send_bytes(frame)
                else:
                    await ws.send_str(frame)
            except (ConnectionError, RuntimeError):
                self.closed = True
                return
            self.sent += 1
            self.last_sent = time.monotonic()

    async def fault_timers(self) -> None:
        """Timed faults on this connection: ``drop:every=S`` and ``stall:every=S,seconds=S``."""
        last_drop = time.monotonic()
        last_stall: dict[FaultSpec, float] = {}  # per stall spec: short stalls and long ones run together
        while not self.closed and not self.ws.closed:
            await asyncio.sleep(0.05)
            now = time.monotonic()
            drop = self.faults.active("drop", self.venue)
            if drop is not None and drop.every and now - last_drop >= drop.every:
                last_drop = now
                self.faults.record(drop, self.venue, self.conn, f"after {drop.every:g}s")
                self.abort("drop fault")
                return
            for stall in self.faults.all_active("stall", self.venue):
                since = last_stall.setdefault(stall, now)
                if stall.every and now - since >= stall.every and not self.stalled:
                    last_stall[stall] = now
                    self.stalled_until = now + (stall.seconds or 3.0)
                    self.faults.record(stall, self.venue, self.conn, f"{stall.seconds or 3.0:g}s")

    async def serve(self, on_text: Callable[[str], None], *helpers: Coroutine[Any, Any, None]) -> None:
        """Drive one client until it goes: the writer, the timed faults and ``helpers`` run beside the
        read loop; text and binary frames both go to ``on_text``."""
        tasks = [asyncio.create_task(c) for c in (self.run(), self.fault_timers(), *helpers)]
        try:
            async for message in self.ws:
                if message.type == WSMsgType.TEXT:
                    on_text(message.data)
                elif message.type == WSMsgType.BINARY:  # accepted like text
                    on_text(message.data.decode("utf-8", "replace"))
                elif message.type == WSMsgType.ERROR:
                    break
        finally:
            self.closed = True
            self.wake.set()
            for task in tasks:
                task.cancel()

    async def write_raw(self, frames: list[bytes], chunk: int = 2048) -> float:
        """Blast mode: write pre-built frames to the transport in chunks, pausing while its buffer is
        full. Returns the seconds it took."""
        transport = self.request.transport
        if transport is None:
            return 0.0
        start = time.perf_counter()
        for i in range(0, len(frames), chunk):
            if self.closed or transport.is_closing():
                break
            transport.write(b"".join(frames[i : i + chunk]))
            while transport.get_write_buffer_size() > 4 << 20 and not transport.is_closing():
                await asyncio.sleep(0.0005)
        while transport.get_write_buffer_size() and not transport.is_closing():
            await asyncio.sleep(0.0005)
        self.sent += len(frames)
        return time.perf_counter() - start

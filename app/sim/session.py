"""The WebSocket session both simulated venues run, written once; each venue's ``ws.py`` fills it in.

Here: accepting a connection (the ``refuse`` fault, then the venue's handshake check), one ``Outbox``
per connection, the read loop handing every text frame to the venue beside the venue's keep-alive
task, forgetting the connection when it goes; blast mode (pre-built frames written straight to the
socket while the market clock is held); and the frame faults that may follow a data frame.

Not here: any frame, command or error a venue sends. Those come from the subclass's hooks, so this
module never names a channel, a field or a venue.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable, Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, TypeVar

from aiohttp import web

from app.sim.events import SimEvent
from app.sim.faults import Faults
from app.sim.market import SimMarket
from app.sim.outbox import Outbox
from app.sim.wsframe import text_frame

K = TypeVar("K")  # how a connection keys its subscriptions
S = TypeVar("S")  # a subscription


@dataclass(frozen=True, slots=True)
class Shared:
    """What both venues' sessions share: the market, the fault switchboard and blast mode's settings."""

    market: SimMarket
    faults: Faults
    blast: int = 0  # frames written straight to each new book subscription (0: off)
    pause: Callable[[], Awaitable[None]] | None = None  # holds the market clock during a blast
    resume: Callable[[], None] | None = None


class Conn(Generic[K, S]):
    """One client connection: its outbox and subscriptions, and whether a blast owns its socket."""

    def __init__(self, conn_id: int, outbox: Outbox) -> None:
        self.id = conn_id
        self.outbox = outbox
        self.subs: dict[K, S] = {}
        self.blasting = False  # fan-out skips it: a blast is writing to the socket directly


C = TypeVar("C", bound=Conn[Any, Any])


class WsSession(ABC, Generic[C, S]):
    """One venue's WebSocket endpoint: the session loop and blast runner, around the venue's hooks."""

    venue: ClassVar[str]  # the name faults are switched and recorded under
    non_json_notice: ClassVar[str]  # what the venue's proxy sends instead of JSON (the non-json fault)

    def __init__(self, shared: Shared) -> None:
        self.market = shared.market
        self.faults = shared.faults
        self.blast = shared.blast
        self._pause, self._resume = shared.pause, shared.resume
        self.conns: dict[int, C] = {}
        self._ids = itertools.count(1)
        self.handshakes = 0

    # ------------------------------------------------------------------ the venue's hooks

    @abstractmethod
    def refusal(self, status: int) -> web.Response:
        """The answer to a handshake the ``refuse`` fault turns away."""

    def handshake_problem(self, request: web.Request) -> web.Response | None:
        """The answer to a handshake the venue rejects (say, unsigned); None to accept it."""
        return None

    @abstractmethod
    def new_conn(self, conn_id: int, outbox: Outbox) -> C: ...

    def greet(self, conn: C) -> None:
        """Frames a client gets on connecting, before it has said anything."""

    @abstractmethod
    def on_text(self, conn: C, text: str) -> None:
        """One text frame from the client (binary frames arrive decoded)."""

    @abstractmethod
    def keepalive(self, conn: C) -> Coroutine[Any, Any, None]:
        """The venue's pinger or heartbeat, run beside the read loop while the client stays."""

    @abstractmethod
    def dispatch(self, events: Sequence[SimEvent]) -> None:
        """Send one market step to every subscription that wants it, skipping blasting connections."""

    @abstractmethod
    def unknown_frame(self, sub: S | None) -> str:
        """A well-formed frame of a type the protocol does not document (the unknown-type fault)."""

    # ------------------------------------------------------------------ the session loop

    async def handler(self, request: web.Request) -> web.StreamResponse:
        conn_id = next(self._ids)
        self.handshakes += 1
        refused = self.faults.refuse(self.venue, conn_id)
        if refused is not None:
            return self.refusal(refused)
        rejected = self.handshake_problem(request)
        if rejected is not None:
            return rejected
        ws = web.WebSocketResponse(autoping=True, compress=False, max_msg_size=1 << 20)
        await ws.prepare(request)
        conn = self.new_conn(conn_id, Outbox(ws, request, conn_id, self.venue, self.faults))
        self.conns[conn_id] = conn
        self.greet(conn)
        try:
            await conn.outbox.serve(lambda text: self.on_text(conn, text), self.keepalive(conn))
        finally:
            self.conns.pop(conn_id, None)
        return ws

    def fault_frames(self, conn: C, text: str, sub: S | None) -> None:
        """The frame faults that may follow data frame ``text``: half of it, a non-JSON notice, a frame
        of an unknown type (asked in this order, as each ask counts towards its fault's ``every``)."""
        faults, outbox, venue = self.faults, conn.outbox, self.venue
        if faults.frame("malformed", venue, conn.id):
            outbox.put(text[: max(1, len(text) // 2)])
        if faults.frame("non-json", venue, conn.id):
            outbox.put(self.non_json_notice)
        if faults.frame("unknown-type", venue, conn.id):
            outbox.put(self.unknown_frame(sub))

    # ------------------------------------------------------------------ blast mode

    def start_blast(self, conn: C, build: Callable[[], tuple[list[bytes], Sequence[SimEvent]]]) -> None:
        """Blast ``conn`` once its queued frames are out: ``build`` applies the burst to the market and
        returns each frame's JSON and the events applied (the other clients get those as usual)."""
        conn.blasting = True
        asyncio.get_running_loop().create_task(self._blast(conn, build))

    async def _blast(self, conn: C, build: Callable[[], tuple[list[bytes], Sequence[SimEvent]]]) -> None:
        if self._pause is not None:
            await self._pause()
        try:
            outbox = conn.outbox
            while outbox.queue and not outbox.closed:  # the snapshots go first
                await asyncio.sleep(0.001)
            built = time.perf_counter()
            payloads, applied = build()
            frames = [text_frame(payload) for payload in payloads]
            build_s = time.perf_counter() - built
            seconds = await outbox.write_raw(frames)
            conn.blasting = True  # still: the blasted client has these changes already
            self.dispatch(applied)  # other subscribers see the same changes
            rate = len(frames) / seconds if seconds > 0 else float("inf")
            self.faults.note(
                "blast",
                self.venue,
                conn.id,
                f"{len(frames)} frames in {seconds:.3f}s = {rate:,.0f}/s (built in {build_s:.2f}s)",
            )
        finally:
            conn.blasting = False
            if self._resume is not None:
                self._resume()

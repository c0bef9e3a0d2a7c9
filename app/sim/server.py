"""The simulator as one object: market clock, both venues' servers, faults and ground truth.

    async with Simulator(SimOptions(seed=7, rate=500, duration=5)) as sim:
        sim.urls      # {"kalshi_ws": "ws://127.0.0.1:.../trade-api/ws/v2", ...}
        await sim.frozen.wait()
        sim.kalshi_book("KXBTCD-26NOV21-T96000")   # the truth a client must equal

Each venue listens on its own port and serves its WebSocket and REST paths there, plus ``/sim/*``
control endpoints for tests in another process (status, faults, truth).
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any

from aiohttp import web

from app.sim.events import SimEvent
from app.sim.faults import FaultRecord, Faults, FaultSpec, FaultSpecError
from app.sim.kalshi import ws as kalshi_ws
from app.sim.kalshi.rest import REST_PREFIX as KALSHI_REST_PREFIX
from app.sim.kalshi.venue import KalshiVenue
from app.sim.kraken import ws as kraken_ws
from app.sim.kraken.level3_ws import L3_WS_PATH
from app.sim.kraken.venue import KrakenVenue
from app.sim.market import LIFECYCLE_SHARE, SimConfig, SimMarket
from app.sim.session import Shared
from app.sim.signatures import load_kalshi_public_key
from app.sim.units import fixed

TICK_S = 0.01  # the market clock's resolution


@dataclass(slots=True)
class SimOptions:
    host: str = "127.0.0.1"
    kalshi_port: int = 0
    kraken_port: int = 0
    seed: int = 1
    rate: float = 200.0  # market steps per second (each step sends one or a few frames)
    markets: int = 24  # Kalshi markets
    kraken_pairs: int = 10
    duration: float | None = None  # then the market freezes and keeps serving
    legacy_kalshi: bool = False
    kalshi_public_key_pem: bytes | None = None
    kraken_key: str | None = None
    kraken_secret: str | None = None
    tls_cert: str | None = None
    tls_key: str | None = None
    faults: list[FaultSpec] = field(default_factory=list)
    blast: int = 0  # frames written straight to each new book subscription
    kalshi_ping_interval: float = 10.0
    # Share of Kalshi steps that pause or close a market (default one in 3,000); a short test
    # run raises it so lifecycle frames always show up.
    lifecycle_share: float = LIFECYCLE_SHARE
    history: bool = True  # a day of 1-minute bars before the start (REST OHLC and candlesticks)
    strike_boards: bool = True  # the BTC and ETH strike events (app/sim/catalog.py BOARDS)


class Simulator:
    def __init__(self, options: SimOptions | None = None, on_fault: Any = None) -> None:
        self.options = opts = options or SimOptions()
        self.market = SimMarket(
            SimConfig(
                seed=opts.seed,
                kalshi_markets=opts.markets,
                kraken_pairs=opts.kraken_pairs,
                legacy_kalshi=opts.legacy_kalshi,
                lifecycle_share=opts.lifecycle_share,
                history=opts.history,
                strike_boards=opts.strike_boards,
            )
        )
        self.faults = Faults(opts.faults, seed=opts.seed, on_record=on_fault)
        public_key = (
            load_kalshi_public_key(opts.kalshi_public_key_pem) if opts.kalshi_public_key_pem else None
        )
        self._paused = 0
        shared = Shared(self.market, self.faults, blast=opts.blast, pause=self._pause, resume=self._resume)
        self.kalshi = KalshiVenue(
            shared,
            public_key=public_key,
            legacy=opts.legacy_kalshi,
            ping_interval=opts.kalshi_ping_interval,
        )
        self.kraken = KrakenVenue(shared, api_key=opts.kraken_key, api_secret=opts.kraken_secret)
        self.frozen = asyncio.Event()
        self.started_at = 0.0
        self.urls: dict[str, str] = {}
        self._runners: list[web.AppRunner] = []
        self._clock: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()
        self._idle.set()
        # Called with each step's events, the market already moved by them and nothing sent yet: the
        # simulator's own log of what happened, for tests that compare a client's view with it.
        self.step_listeners: list[Callable[[list[SimEvent]], None]] = []

    # ------------------------------------------------------------------ life cycle

    async def start(self) -> dict[str, str]:
        opts = self.options
        context = None
        if opts.tls_cert:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(opts.tls_cert, opts.tls_key)
        ws, http = ("wss", "https") if context else ("ws", "http")
        host = f"[{opts.host}]" if ":" in opts.host else opts.host
        kalshi_port = await self._serve(self.kalshi.add_routes, opts.kalshi_port, context)
        kraken_port = await self._serve(self.kraken.add_routes, opts.kraken_port, context)
        self.urls = {
            "kalshi_ws": f"{ws}://{host}:{kalshi_port}{kalshi_ws.WS_PATH}",
            "kalshi_rest": f"{http}://{host}:{kalshi_port}{KALSHI_REST_PREFIX}",
            "kraken_ws": f"{ws}://{host}:{kraken_port}{kraken_ws.WS_PATH}",
            "kraken_l3_ws": f"{ws}://{host}:{kraken_port}{L3_WS_PATH}",
            "kraken_rest": f"{http}://{host}:{kraken_port}",
        }
        self.started_at = time.monotonic()
        self._clock = asyncio.create_task(self._run_clock())
        return self.urls

    async def _serve(self, add_routes: Any, port: int, context: ssl.SSLContext | None) -> int:
        app = web.Application()
        add_routes(app)
        app.router.add_get("/sim/status", self._status)
        app.router.add_get("/sim/faults", self._get_faults)
        app.router.add_post("/sim/faults", self._set_faults)
        app.router.add_get("/sim/truth", self._truth)
        runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.5)
        await runner.setup()
        site = web.TCPSite(runner, self.options.host, port, ssl_context=context, reuse_address=True)
        await site.start()
        self._runners.append(runner)
        server = site._server  # aiohttp keeps the bound asyncio server here; port 0 needs the real port
        assert server is not None
        sockets = getattr(server, "sockets", None) or []
        return int(sockets[0].getsockname()[1])

    async def stop(self) -> None:
        if self._clock is not None:
            self._clock.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._clock
        for outbox in [c.outbox for c in self.kalshi.conns.values()] + [
            c.outbox for c in self.kraken.conns.values()
        ]:
            outbox.abort("server stopping")
        for runner in self._runners:
            await runner.cleanup()
        self._runners.clear()

    async def __aenter__(self) -> Simulator:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    # ------------------------------------------------------------------ the market clock

    async def _pause(self) -> None:
        """Hold the clock (blast mode writes a pre-built burst) until every pauser resumes."""
        self._paused += 1
        self._idle.clear()

    def _resume(self) -> None:
        self._paused = max(0, self._paused - 1)
        if not self._paused:
            self._idle.set()

    def step(self, count: int = 1) -> None:
        """Advance the market ``count`` steps and send what they did (tests may call this directly)."""
        market, kalshi, kraken = self.market, self.kalshi, self.kraken
        for _ in range(count):
            events = market.step()
            if events:
                for listener in self.step_listeners:
                    listener(events)
                kalshi.dispatch(events)
                kraken.dispatch(events)

    def _send(self, events: list[SimEvent]) -> None:
        """Events made outside a step (the index values): logged and sent like a step's."""
        if events:
            for listener in self.step_listeners:
                listener(events)
            self.kalshi.dispatch(events)
            self.kraken.dispatch(events)

    def freeze(self) -> None:
        self.frozen.set()

    def inject(self, venue: str, frame: str | bytes) -> int:
        """Send ``frame`` as it is to every client of ``venue`` (hostile-frame tests); returns how many."""
        conns = (self.kalshi if venue == "kalshi" else self.kraken).conns.values()
        for conn in conns:
            conn.outbox.put(frame)
        return len(conns)

    def set_faults(self, specs: list[FaultSpec]) -> None:
        """Replace the active faults; with none left, a stall under way ends at once too."""
        self.faults.set(specs)
        if not specs:
            for venue in (self.kalshi, self.kraken):
                for conn in venue.conns.values():
                    conn.outbox.end_stall()

    async def _run_clock(self) -> None:
        opts = self.options
        owed = 0.0
        last = time.monotonic()
        next_burst = last
        next_index = last
        while not self.frozen.is_set():
            await asyncio.sleep(TICK_S)
            await self._idle.wait()
            now = time.monotonic()
            if opts.duration is not None and now - self.started_at >= opts.duration:
                self.freeze()
                break
            owed += opts.rate * (now - last)
            last = now
            burst = self.faults.active("burst", "kalshi") or self.faults.active("burst", "kraken")
            if burst is not None and burst.every and now >= next_burst + burst.every:
                next_burst = now
                self.faults.record(burst, burst.venue or "both", None, f"{burst.size} steps")
                owed += burst.size or 0
            steps = int(owed)
            owed -= steps
            self.step(steps)
            if now >= next_index:  # Kalshi relays the CF Benchmarks indices about once a second
                next_index = now + 1.0
                self._send(self.market.index_tick(time.time_ns() // 1_000_000))

    # ------------------------------------------------------------------ truth and status

    def kalshi_book(self, ticker: str) -> dict[str, list[tuple[str, str]]]:
        """A market's book as the exchange holds it: bids per side, best first, NO side in NO-leg prices."""
        market = self.market.kalshi[ticker]
        return {
            side: [(fixed(p, 4), fixed(s, 2)) for p, s in market.book(side).top()] for side in ("yes", "no")
        }

    def kraken_book(self, symbol: str, depth: int = 10) -> dict[str, list[tuple[str, str]]]:
        state = self.market.kraken[symbol]
        pd, qd = state.pair.price_precision, state.pair.qty_precision
        return {
            side: [(fixed(p, pd), fixed(q, qd)) for p, q in state.side(side).top(depth)]
            for side in ("bids", "asks")
        }

    def pending_frames(self) -> int:
        """Frames queued for clients and not yet written (0 once every client is caught up)."""
        kalshi = sum(len(c.outbox) for c in self.kalshi.conns.values())
        return kalshi + sum(len(c.outbox) for c in self.kraken.conns.values())

    def status(self) -> dict[str, Any]:
        return {
            "frozen": self.frozen.is_set(),
            "steps": self.market.steps,
            "seed": self.options.seed,
            "uptime_s": round(time.monotonic() - self.started_at, 3),
            "connections": {"kalshi": len(self.kalshi.conns), "kraken": len(self.kraken.conns)},
            "handshakes": {"kalshi": self.kalshi.handshakes, "kraken": self.kraken.handshakes},
            "pending_frames": self.pending_frames(),
            "faults": self.faults.snapshot(),
        }

    async def _status(self, request: web.Request) -> web.Response:
        return web.json_response(self.status())

    async def _get_faults(self, request: web.Request) -> web.Response:
        return web.json_response(
            {**self.faults.snapshot(), "log": [_record(r) for r in self.faults.log[-1000:]]}
        )

    async def _set_faults(self, request: web.Request) -> web.Response:
        try:
            body = await request.json()
            specs = [FaultSpec.parse(text) for text in body.get("faults", [])]
        except (ValueError, FaultSpecError, AttributeError) as exc:
            return web.json_response({"error": str(exc)}, status=400)
        self.set_faults(specs)
        return web.json_response(self.faults.snapshot())

    async def _truth(self, request: web.Request) -> web.Response:
        venue, market = request.query.get("venue", ""), request.query.get("market", "")
        try:
            if venue == "kalshi":
                return web.json_response(self.kalshi_book(market))
            if venue == "kraken":
                return web.json_response(self.kraken_book(market, int(request.query.get("depth", "10"))))
        except (KeyError, ValueError):
            return web.json_response({"error": f"unknown market {market!r}"}, status=404)
        return web.json_response({"error": "venue must be kalshi or kraken"}, status=400)


def _record(rec: FaultRecord) -> dict[str, Any]:
    return {"fault": rec.kind, "venue": rec.venue, "conn": rec.conn, "detail": rec.detail, "ts": rec.ts}

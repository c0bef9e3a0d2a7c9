"""A test driver: the foundation codecs on a real ``websockets`` connection to the simulator.

It does what each fault needs and no more: reconnect after a drop or refusal, ``get_snapshot`` on a
Kalshi gap, unsubscribe + subscribe on a Kraken checksum mismatch. Once the market is frozen and the
feed has gone quiet, it probes each Kalshi book sid with an idempotent re-subscribe (an ``ok`` uses up a
``seq``, so a lost final delta shows as a gap) and stops when nothing is left to repair.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import websockets
from cryptography.hazmat.primitives.asymmetric import ed25519

from app.core.book import OrderBook
from app.core.events import Malformed, RecoveryAction, RecoveryKind, SequenceGap, Unknown
from app.sim.server import Simulator
from app.venues.kalshi.auth import auth_headers
from app.venues.kalshi.commands import KalshiCommands
from app.venues.kalshi.session import KalshiSession
from app.venues.kraken.commands import KrakenCommands
from app.venues.kraken.session import KrakenSession

QUIET_S = 0.3


@dataclass
class FeedResult:
    books: dict[str, OrderBook]
    frames: list[str] = field(default_factory=list)
    counts: Counter[str] = field(default_factory=Counter)  # connects, reconnects, refused, recoveries ...


def _quiet_and_frozen(sim: Simulator, last_frame: float, conns: dict[int, Any], received: int) -> bool:
    """The market is frozen, nothing is queued, and every frame the server wrote on this client's
    connection has arrived (frames in socket buffers don't show as queued; counting them does)."""
    written = sum(c.outbox.sent for c in conns.values())
    return (
        sim.frozen.is_set()
        and sim.pending_frames() == 0
        and written == received
        and time.monotonic() - last_frame > QUIET_S
    )


async def run_kalshi(
    sim: Simulator,
    markets: list[str],
    *,
    use_yes_price: bool = True,
    channels: tuple[str, ...] = ("orderbook_delta", "ticker", "trade"),
    key: ed25519.Ed25519PrivateKey | None = None,
    key_id: str = "sim-test-key",
    timeout: float = 60.0,
    keep_frames: bool = True,
) -> FeedResult:
    key = key or ed25519.Ed25519PrivateKey.generate()
    books: dict[str, OrderBook] = {}
    result = FeedResult(books)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result.counts["connects"] += 1
        try:
            async with websockets.connect(
                sim.urls["kalshi_ws"],
                additional_headers=auth_headers(key_id, key),
                max_size=None,
                open_timeout=5,
            ) as ws:
                session = KalshiSession(use_yes_price, books)
                commands = KalshiCommands(use_yes_price)

                async def send(
                    command: dict[str, Any],
                    session: KalshiSession = session,
                    ws: Any = ws,
                    commands: KalshiCommands = commands,
                ) -> None:
                    session.on_command_sent(command)
                    await ws.send(commands.encode(command))

                global_channels = [c for c in channels if c.startswith("market_lifecycle")]
                await send(commands.subscribe([c for c in channels if c not in global_channels], markets))
                if global_channels:
                    await send(commands.subscribe(global_channels, None))
                last_frame = time.monotonic()
                probed = False
                received = 0
                while time.monotonic() < deadline:
                    try:
                        frame = await asyncio.wait_for(ws.recv(), 0.1)
                    except TimeoutError:
                        if _quiet_and_frozen(sim, last_frame, sim.kalshi.conns, received):
                            if probed:
                                return result
                            await send(commands.subscribe(["orderbook_delta"], markets))
                            probed = True
                            last_frame = time.monotonic()
                        continue
                    last_frame = time.monotonic()
                    received += 1
                    text = frame if isinstance(frame, str) else frame.decode("utf-8", "replace")
                    if keep_frames:
                        result.frames.append(text)
                    for event in session.on_frame(frame):
                        if isinstance(event, Malformed):
                            result.counts["malformed"] += 1
                        elif isinstance(event, Unknown):
                            result.counts["unknown"] += 1
                        elif isinstance(event, SequenceGap):
                            result.counts["gaps"] += 1
                        elif isinstance(event, RecoveryAction):
                            result.counts[event.kind.value] += 1
                            probed = False  # something was repaired: probe again once quiet
                            if event.kind is RecoveryKind.RESNAPSHOT and event.sid is not None:
                                await send(commands.get_snapshot(event.sid, event.markets))
                            else:
                                await send(
                                    commands.subscribe(
                                        [event.channel or "orderbook_delta"], event.markets or markets
                                    )
                                )
        except websockets.InvalidStatus as exc:
            result.counts[f"refused_{exc.response.status_code}"] += 1
            await asyncio.sleep(0.1)
        except (websockets.ConnectionClosed, OSError, TimeoutError):
            result.counts["dropped"] += 1
            await asyncio.sleep(0.1)
    raise TimeoutError(f"the Kalshi feed did not settle in {timeout}s: {dict(result.counts)}")


async def run_kraken(
    sim: Simulator,
    symbols: list[str],
    *,
    depth: int = 10,
    timeout: float = 60.0,
    keep_frames: bool = True,
    channels: tuple[str, ...] = ("book", "ticker", "trade"),
) -> FeedResult:
    books: dict[str, OrderBook] = {}
    result = FeedResult(books)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result.counts["connects"] += 1
        try:
            async with websockets.connect(sim.urls["kraken_ws"], max_size=None, open_timeout=5) as ws:
                session = KrakenSession(depth, books)
                commands = KrakenCommands()

                async def send(
                    command: dict[str, Any],
                    session: KrakenSession = session,
                    ws: Any = ws,
                    commands: KrakenCommands = commands,
                ) -> None:
                    session.on_command_sent(command)
                    await ws.send(commands.encode(command))

                await send(commands.subscribe("instrument"))
                for channel in channels:
                    extra: dict[str, Any] = {"depth": depth} if channel == "book" else {}
                    if channel == "ticker":
                        extra["event_trigger"] = "bbo"
                    if channel == "ohlc":
                        extra["interval"] = 1
                    await send(commands.subscribe(channel, symbols, **extra))
                last_frame = time.monotonic()
                received = 0
                while time.monotonic() < deadline:
                    try:
                        frame = await asyncio.wait_for(ws.recv(), 0.1)
                    except TimeoutError:
                        if _quiet_and_frozen(sim, last_frame, sim.kraken.conns, received) and not any(
                            b.stale for b in books.values()
                        ):
                            return result
                        continue
                    received += 1
                    text = frame if isinstance(frame, str) else frame.decode("utf-8", "replace")
                    if text != '{"channel":"heartbeat"}':
                        last_frame = time.monotonic()
                    if keep_frames:
                        result.frames.append(text)
                    for event in session.on_frame(frame):
                        if isinstance(event, Malformed):
                            result.counts["malformed"] += 1
                        elif isinstance(event, Unknown):
                            result.counts["unknown"] += 1
                        elif isinstance(event, RecoveryAction) and event.channel == "book":
                            result.counts[event.kind.value] += 1
                            for symbol in event.markets:
                                await send(commands.unsubscribe("book", [symbol], depth=depth))
                                await send(commands.subscribe("book", [symbol], depth=depth, snapshot=True))
        except websockets.InvalidStatus as exc:
            result.counts[f"refused_{exc.response.status_code}"] += 1
            await asyncio.sleep(0.1)
        except (websockets.ConnectionClosed, OSError, TimeoutError):
            result.counts["dropped"] += 1
            await asyncio.sleep(0.1)
    raise TimeoutError(f"the Kraken feed did not settle in {timeout}s: {dict(result.counts)}")

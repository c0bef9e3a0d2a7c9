"""``market-monitor stream``: the engine headless, with a compact live view or a final JSON report."""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import json
import os
import signal
import sys
import time
from typing import IO, Any

from cryptography.hazmat.primitives.asymmetric import ed25519

from app.core.instruments import Venue
from app.stream.engine import StreamEngine
from app.stream.kalshi_link import KalshiCredentials, KalshiLink
from app.stream.kraken_link import KrakenCredentials, KrakenLink
from app.stream.recorder import Recorder

DEFAULT_KRAKEN = ["BTC/USD", "ETH/USD", "SOL/USD"]
DEFAULT_KALSHI_COUNT = 6


def _split_markets(markets: list[str]) -> dict[Venue, list[str]]:
    """``BTC/USD`` is a Kraken pair; anything else a Kalshi ticker. ``kalshi:``/``kraken:`` force it."""
    out: dict[Venue, list[str]] = {Venue.KALSHI: [], Venue.KRAKEN: []}
    for text in markets:
        venue_name, sep, name = text.partition(":")
        if sep and venue_name in ("kalshi", "kraken"):
            out[Venue(venue_name)].append(name)
        else:
            out[Venue.KRAKEN if "/" in text else Venue.KALSHI].append(text)
    return out


async def _run(args: argparse.Namespace, out: IO[str]) -> int:
    from app.sim.server import SimOptions, Simulator

    venues = [Venue(v) for v in (args.venue or ["kalshi", "kraken"])]
    sim = Simulator(SimOptions(seed=args.seed, rate=args.rate))
    await sim.start()
    recorder_file = open(args.record, "w", encoding="utf-8") if args.record else None  # noqa: SIM115
    recorder = Recorder(recorder_file) if recorder_file is not None else None
    engine = StreamEngine()
    wanted = _split_markets(args.markets or [])
    unknown = [m for m in wanted[Venue.KALSHI] if m not in sim.market.kalshi]
    unknown += [m for m in wanted[Venue.KRAKEN] if m not in sim.market.kraken]
    if unknown:
        print(
            f"market-monitor stream: error: the simulator lists no market {', '.join(unknown)}",
            file=sys.stderr,
        )
        await sim.stop()
        return 2
    if Venue.KALSHI in venues:
        markets = wanted[Venue.KALSHI] or list(sim.market.kalshi)[:DEFAULT_KALSHI_COUNT]
        creds = KalshiCredentials("market-monitor-sim", ed25519.Ed25519PrivateKey.generate())
        engine.add(
            KalshiLink(
                sim.urls["kalshi_ws"],
                sim.urls["kalshi_rest"],
                engine.store,
                creds,
                markets,
                recorder=recorder,
            )
        )
    if Venue.KRAKEN in venues:
        symbols = wanted[Venue.KRAKEN] or DEFAULT_KRAKEN
        kcreds = KrakenCredentials("market-monitor-sim", base64.b64encode(os.urandom(64)).decode())
        engine.add(
            KrakenLink(
                sim.urls["kraken_ws"],
                sim.urls["kraken_rest"],
                engine.store,
                symbols,
                depth=args.depth,
                credentials=kcreds,
                recorder=recorder,
            )
        )
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):
            loop.add_signal_handler(sig, stop.set)
    engine.start()
    started = time.monotonic()
    try:
        while not stop.is_set():
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 1.0)
            if not args.json:
                _live_view(engine, out)
            if args.duration is not None and time.monotonic() - started >= args.duration:
                break
    finally:
        await engine.stop()
        await sim.stop()
        if recorder_file is not None:
            recorder_file.close()
    if args.json:
        for link in engine.links:
            for market in _watched(link):
                print(json.dumps(engine.store.report(link.venue, market)), file=out)
        print(json.dumps({"health": engine.store.health_report(), "links": engine.status()}), file=out)
    return 0


def _watched(link: Any) -> list[str]:
    return list(link.markets) if isinstance(link, KalshiLink) else list(link.symbols)


def _live_view(engine: StreamEngine, out: IO[str]) -> None:
    store = engine.store
    now = time.monotonic()
    lines = [time.strftime("%H:%M:%S")]
    for link in engine.links:
        book = store.health_of(link.venue, "book")
        conn = store.health_of(link.venue, "connection")
        age = book.age(now)
        lines.append(
            f"  {link.venue.value:6} {link.state.value:20} {book.rate(now):>8.0f} msg/s  "
            f"age {'-' if age is None else f'{age:.1f}s':>6}  gaps {book.gaps}  "
            f"ck-fail {book.checksum_failures}  resyncs {book.resyncs}  reconnects {conn.reconnects}"
        )
        for market in _watched(link)[:8]:
            r = store.report(link.venue, market, 1)
            flag = " STALE: " + str(r["stale_reason"]) if r["stale"] else ""
            lines.append(
                f"    {market[:30]:30} {r['best_bid'] or '-':>12} / {r['best_ask'] or '-':<12}{flag}"
            )
    print("\n".join(lines), file=out, flush=True)


def run(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_run(args, sys.stdout))
    except OSError as exc:
        print(f"market-monitor stream: error: {exc.strerror or exc}", file=sys.stderr)
        return 1

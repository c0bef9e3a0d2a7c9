"""``market-monitor stream``: the engine headless, with a compact live view or a final JSON report."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
import time
from typing import IO, Any

from app.core.instruments import Venue
from app.stream.engine import StreamEngine
from app.stream.kalshi_link import KalshiLink
from app.stream.recorder import Recorder

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
    from app.launch.launcher import launch
    from app.sim.market import SimConfig, SimMarket
    from app.sim.server import SimOptions
    from app.user import settings as settings_mod
    from app.user.secret_store import SecretStore

    if args.profile:
        saved = settings_mod.load()
        try:
            profile = saved.profile(args.profile)
        except KeyError:
            names = ", ".join(p.name for p in saved.profiles)
            print(
                f"market-monitor stream: error: no profile {args.profile!r} (saved: {names})", file=sys.stderr
            )
            return 2
        watchlist = saved.watchlist()
        wanted = {v: watchlist.of(v) for v in Venue}
    else:
        profile = settings_mod.Profile(settings_mod.SIM_PROFILE)
        wanted = {Venue.KALSHI: [], Venue.KRAKEN: []}
    if args.venue:
        keep = {Venue(v) for v in args.venue}
        profile = settings_mod.Profile(
            profile.name,
            profile.kalshi if Venue.KALSHI in keep else "off",
            profile.kraken if Venue.KRAKEN in keep else "off",
        )
    if args.markets:
        wanted = _split_markets(args.markets)
    options = SimOptions(seed=args.seed, rate=args.rate)
    if profile.uses_sim:
        # Check the names before starting anything: the simulator lists a fixed, seeded catalogue.
        listed = SimMarket(SimConfig(seed=options.seed, kalshi_markets=options.markets))
        if profile.kalshi == "sim" and not wanted[Venue.KALSHI]:
            wanted[Venue.KALSHI] = list(listed.kalshi)[:DEFAULT_KALSHI_COUNT]
        if profile.kraken == "sim" and not wanted[Venue.KRAKEN]:
            wanted[Venue.KRAKEN] = list(settings_mod.DEFAULT_KRAKEN)
        unknown = [m for m in wanted[Venue.KALSHI] if profile.kalshi == "sim" and m not in listed.kalshi]
        unknown += [m for m in wanted[Venue.KRAKEN] if profile.kraken == "sim" and m not in listed.kraken]
        if unknown:
            print(
                f"market-monitor stream: error: the simulator lists no market {', '.join(unknown)}",
                file=sys.stderr,
            )
            return 2
    recorder_file = open(args.record, "w", encoding="utf-8") if args.record else None  # noqa: SIM115
    recorder = Recorder(recorder_file) if recorder_file is not None else None
    started_ok = False
    try:
        running = await launch(
            profile,
            SecretStore(),
            wanted,
            sim_options=options,
            depth=args.depth,
            link_options={"recorder": recorder} if recorder is not None else None,
        )
        started_ok = True
        for venue, problem in running.problems.items():
            print(f"market-monitor stream: {venue.value}: {problem}", file=sys.stderr)
        if not running.engine.links:
            print("market-monitor stream: error: no venue can start with this profile", file=sys.stderr)
            await running.stop()
            return 1
        engine = running.engine
        from app.stream.engine import tune_gc

        tune_gc()
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
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
            await running.stop()
    finally:
        if recorder_file is not None:
            recorder_file.close()
    assert started_ok
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

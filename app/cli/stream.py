"""``market-monitor stream``: the engine headless, with a compact live view or a final JSON report."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
import time
from typing import IO

from app.core.feeds import Feed
from app.core.instruments import Environment, Venue
from app.stream.engine import StreamEngine
from app.stream.recorder import Recorder

DEFAULT_KALSHI_COUNT = 6


async def _run(args: argparse.Namespace, out: IO[str]) -> int:
    from app.launch.launcher import launch
    from app.sim.market import SimConfig, SimMarket
    from app.sim.server import SimOptions
    from app.user.secret_store import SecretStore
    from app.user.settings import DEFAULT_KRAKEN, SIM_PROFILE, MarketRef, Profile, load

    if args.profile:
        saved = load()
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
        profile = Profile(SIM_PROFILE)
        wanted = {Venue.KALSHI: [], Venue.KRAKEN: []}
    if args.venue:
        profile = profile.only({Venue(v) for v in args.venue})
    if args.markets:
        # ``BTC/USD`` is a Kraken pair, anything else a Kalshi ticker; ``kalshi:``/``kraken:`` force it.
        try:
            refs = [MarketRef.parse(text) for text in args.markets]
        except ValueError as exc:
            print(f"market-monitor stream: error: {exc}", file=sys.stderr)
            return 2
        wanted = {v: [r.market for r in refs if r.venue is v] for v in Venue}
    options = SimOptions(seed=args.seed, rate=args.rate)
    if profile.uses_sim:
        # Check the names before starting anything: the simulator lists a fixed, seeded catalogue.
        listed = SimMarket(SimConfig(seed=options.seed, kalshi_markets=options.markets))
        catalogue = {Venue.KALSHI: list(listed.kalshi), Venue.KRAKEN: list(listed.kraken)}
        defaults = {
            Venue.KALSHI: catalogue[Venue.KALSHI][:DEFAULT_KALSHI_COUNT],
            Venue.KRAKEN: list(DEFAULT_KRAKEN),
        }
        unknown: list[str] = []
        for venue in Venue:
            if profile.env(venue) is Environment.SIM:
                wanted[venue] = wanted[venue] or list(defaults[venue])
                unknown += [m for m in wanted[venue] if m not in catalogue[venue]]
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
            key_hint="market-monitor credentials set {venue} {env} ...",  # a terminal user has no menu
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
            for market in link.markets:
                print(json.dumps(engine.store.report(link.venue, market)), file=out)
        print(json.dumps({"health": engine.store.health_report(), "links": engine.status()}), file=out)
    return 0


def _live_view(engine: StreamEngine, out: IO[str]) -> None:
    store = engine.store
    now = time.monotonic()
    lines = [time.strftime("%H:%M:%S")]
    for link in engine.links:
        book = store.health_of(link.venue, Feed.BOOK)
        conn = store.health_of(link.venue, Feed.CONNECTION)
        age = book.age(now)
        lines.append(
            f"  {link.venue.value:6} {link.state.value:20} {book.rate(now):>8.0f} msg/s  "
            f"age {'-' if age is None else f'{age:.1f}s':>6}  gaps {book.gaps}  "
            f"ck-fail {book.checksum_failures}  resyncs {book.resyncs}  reconnects {conn.reconnects}"
        )
        for market in link.markets[:8]:
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

"""``market-monitor stream``: the engine headless, with a compact live view or a final JSON report, and
``--alert RULE`` firings as they happen (one line each; with ``--json`` one JSON object each)."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import signal
import sys
import time
from typing import IO, TYPE_CHECKING

from app.alerts.engine import AlertEngine
from app.alerts.firing import Firing
from app.alerts.grammar import RuleError, parse
from app.alerts.rules import Rule
from app.alerts.ticks import Ticks
from app.core.change import kalshi_day_change
from app.core.feeds import Feed
from app.core.instruments import Environment, Venue
from app.core.store import RATE_WINDOW_S, MarketStore
from app.stream.engine import StreamEngine
from app.stream.recorder import Recorder
from app.venues.replay import level3_report

if TYPE_CHECKING:
    from app.launch.catalog import MarketInfo

DEFAULT_KALSHI_COUNT = 6
ALERT_TICK_S = 0.25  # how often stale feeds, outages and expiries are looked at


def _error(text: str) -> int:
    print(f"market-monitor stream: error: {text}", file=sys.stderr)
    return 2


def _rules(texts: list[str]) -> list[Rule] | str:
    """The ``--alert`` rules, or the one line saying what is wrong with the first bad one."""
    rules = []
    for text in texts:
        try:
            rules.append(parse(text))
        except RuleError as exc:
            return f"--alert {text!r}: {exc}"
    return rules


async def _run(args: argparse.Namespace, out: IO[str]) -> int:
    from app.launch.grids import sim_ticks
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
    rules = _rules(args.alert or [])
    if isinstance(rules, str):
        return _error(rules)
    named: dict[Venue, list[str]] = {v: [] for v in Venue}  # a rule's market is streamed too
    for rule in rules:
        venue, market = rule.target.venue, rule.target.market
        if venue is not None and profile.env(venue) is Environment.OFF:
            return _error(
                f"--alert {rule.text!r}: {venue.value} is not streamed with this profile and --venue"
            )
        if rule.target.single and market is not None and venue is not None:
            named[venue].append(market)
    ticks = Ticks()
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
        wanted = {v: list(dict.fromkeys(wanted[v] + named[v])) for v in Venue}
        for venue in Venue:
            if profile.env(venue) is Environment.SIM:
                unknown += [m for m in wanted[venue] if m not in catalogue[venue]]
        if unknown:
            print(
                f"market-monitor stream: error: the simulator lists no market {', '.join(unknown)}",
                file=sys.stderr,
            )
            return 2
        sim_ticks(listed, ticks)
        for rule in rules:  # a level off its market's grid is refused before anything starts
            t = rule.target
            if t.single and t.venue is not None and t.market is not None:
                problem = ticks.problem(rule, t.venue, t.market)
                if problem is not None:
                    return _error(f"--alert {rule.text!r}: {problem}")
    wanted = {v: list(dict.fromkeys(wanted[v] + named[v])) for v in Venue}
    store = MarketStore()
    alerts = AlertEngine(store, ticks) if rules else None
    if alerts is not None:
        alerts.listeners.append(lambda f: _print_firing(f, out, args.json))
    recorder = (
        Recorder.create(args.record, {"kalshi": {"use_yes_price": True}, "kraken": {"depth": args.depth}})
        if args.record
        else None
    )
    started_ok = False
    try:
        running = await launch(
            profile,
            SecretStore(),
            wanted,
            store=store,
            sim_options=options,
            depth=args.depth,
            link_options={"recorder": recorder} if recorder is not None else None,
            key_hint="market-monitor credentials set {venue} {env} ...",  # a terminal user has no menu
            level3=wanted[Venue.KRAKEN] if args.level3 else None,
        )
        started_ok = True
        for venue, problem in running.problems.items():
            print(f"market-monitor stream: {venue.value}: {problem}", file=sys.stderr)
        if args.level3 and running.engine.has(Venue.KRAKEN) and running.engine.level3_link() is None:
            print(
                "market-monitor stream: kraken: level3 needs Kraken credentials: not streamed",
                file=sys.stderr,
            )
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
        infos: dict[str, MarketInfo] = {}  # the Kalshi markets' REST rows, for --json's 24 h change
        timer = None
        if alerts is not None:
            for venue in Venue:
                if engine.has(venue):
                    alerts.watch(venue, engine.link(venue).markets)
            alerts.extend(rules)
            timer = asyncio.create_task(_alert_timer(alerts))
        try:
            while not stop.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), 1.0)
                if not args.json:
                    _live_view(engine, out)
                if args.duration is not None and time.monotonic() - started >= args.duration:
                    break
            if args.json:
                infos = await _kalshi_infos(running.urls.get(Venue.KALSHI), engine)
        finally:
            if timer is not None:
                timer.cancel()
            await running.stop()
    finally:
        if recorder is not None:
            recorder.close()
    assert started_ok
    if args.json:
        level3 = engine.level3_link()
        for link in engine.links:
            if link is level3:
                continue  # its markets are the Kraken link's: their lines carry the level-3 book
            for market in link.markets:
                report = engine.store.report(link.venue, market)
                book = engine.store.level3_book(link.venue, market)
                if book is not None and book.has_snapshot:
                    report["level3"] = level3_report(book)
                report.update(_day_change(engine.store, link.venue, market, infos.get(market)))
                print(json.dumps(report), file=out)
        print(json.dumps({"health": engine.store.health_report(), "links": engine.status()}), file=out)
    return 0


async def _kalshi_infos(rest_url: str | None, engine: StreamEngine) -> dict[str, MarketInfo]:
    """The streamed Kalshi markets' ``GET /markets`` rows: their change's base (``previous_price``)."""
    if rest_url is None or not engine.has(Venue.KALSHI) or not engine.link(Venue.KALSHI).markets:
        return {}
    import aiohttp

    from app.launch.catalog import CatalogError, kalshi_infos

    async with aiohttp.ClientSession() as http:
        try:
            rows = await kalshi_infos(http, rest_url, list(engine.link(Venue.KALSHI).markets))
        except CatalogError as exc:
            print(f"market-monitor stream: kalshi: no 24 h change: {exc}", file=sys.stderr)
            return {}
    return {r.market: r for r in rows}


def _day_change(
    store: MarketStore, venue: Venue, market: str, info: MarketInfo | None
) -> dict[str, str | None]:
    """``change`` and ``previous_price``, exact decimal text or null: Kalshi's last minus its REST
    ``previous_price_dollars`` (null with no trade in 24 h); Kraken's ticker change, and the last minus it."""
    state = store.markets.get((venue, market))
    last = state.last if state is not None else None
    if venue is Venue.KALSHI:
        previous = info.previous_price if info is not None else None
        live = last if last is not None else (info.last_price if info is not None else None)
        change, _ = kalshi_day_change(live, previous, info.volume if info is not None else None)
    else:
        change = state.change if state is not None else None
        previous = last - change if last is not None and change is not None else None
    return {
        "change": None if change is None else str(change),
        "previous_price": None if previous is None else str(previous),
    }


def _print_firing(firing: Firing, out: IO[str], as_json: bool) -> None:
    print(firing.json_line() if as_json else firing.line(), file=out, flush=True)


async def _alert_timer(alerts: AlertEngine) -> None:
    """Timers (stale feeds, outages, expiries), and rules the stream showed to be off their grid."""
    told = 0
    while True:
        await asyncio.sleep(ALERT_TICK_S)
        alerts.tick()
        for rule, problem in alerts.problems[told:]:
            print(f"market-monitor stream: --alert {rule.text!r} set aside: {problem}", file=sys.stderr)
        told = len(alerts.problems)


def _live_view(engine: StreamEngine, out: IO[str]) -> None:
    store = engine.store
    now = time.monotonic()
    lines = [time.strftime("%H:%M:%S")]
    level3 = engine.level3_link()
    for link in engine.links:
        book = store.health_of(link.venue, Feed.LEVEL3 if link is level3 else Feed.BOOK)
        conn = store.health_of(link.venue, Feed.CONNECTION)
        age = book.age(now)
        lines.append(
            f"  {link.venue.value:6} {link.state.value:20} "
            f"{book.rate(now):>8.0f} msg/s over {RATE_WINDOW_S:g} s  "
            f"age {'-' if age is None else f'{age:.1f}s':>6}  gaps {book.gaps}  "
            f"ck-fail {book.checksum_failures}  resyncs {book.resyncs}  reconnects {conn.reconnects}"
        )
        shown = link.markets[:8] if link is not level3 else []
        width = max([30] + [len(m) for m in shown])  # names whole, however long
        for market in shown:
            r = store.report(link.venue, market, 1)
            flag = " STALE: " + str(r["stale_reason"]) if r["stale"] else ""
            lines.append(
                f"    {market:{width}} {r['best_bid'] or '-':>12} / {r['best_ask'] or '-':<12}{flag}"
            )
        if shown and len(link.markets) > len(shown):
            lines.append(f"    … and {len(link.markets) - len(shown)} more")
    print("\n".join(lines), file=out, flush=True)


def run(args: argparse.Namespace) -> int:
    try:
        return asyncio.run(_run(args, sys.stdout))
    except OSError as exc:
        print(f"market-monitor stream: error: {exc.strerror or exc}", file=sys.stderr)
        return 1

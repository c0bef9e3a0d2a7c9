"""Socket -> decode -> book -> store throughput of the stream engine: ``market-monitor bench --stream``.

The simulator runs in another process in blast mode (pre-built frames written straight to the socket);
the engine runs here with every check on (Kalshi seq, Kraken CRC32, books, store, health). Prints
messages/s from the first blasted frame to the last one applied, event-loop lag p50/p99 while it ran,
CPU seconds and peak memory. Beside the Kraken case, a bare loop on the same blast (aiohttp receive and
msgspec decode, nothing else) gives this run's floor: the engine's figure is read against it, since
this machine's speed varies from run to run.

With ``--alerts N`` every case runs twice, without rules and with N armed alert rules over the case's
markets (levels around their books, so they fire as the blast moves them), and prints both rates: the
cost of alerts on the hot path (issue 14 asks for it to stay within 5 %).
"""

from __future__ import annotations

import asyncio
import json
import resource
import statistics
import subprocess
import time
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

import aiohttp
import msgspec
from cryptography.hazmat.primitives.asymmetric import ed25519

from app.alerts.engine import AlertEngine
from app.alerts.grammar import parse
from app.alerts.rules import Rule
from app.alerts.units import plain
from app.core.events import BookChange, Event
from app.core.feeds import Feed
from app.core.instruments import Venue
from app.core.store import MarketStore
from app.launch.grids import sim_ticks
from app.resources import self_command
from app.sim.catalog import snap_down, tick_at
from app.sim.market import SimConfig, SimMarket
from app.stream.connection import Connection
from app.stream.kalshi_link import KalshiCredentials, KalshiLink
from app.stream.kraken_link import KrakenLink


class _TimedStore(MarketStore):
    """The real store, noting when the first and the n-th book change arrived."""

    def __init__(self, wanted: int) -> None:
        super().__init__()
        self.wanted = wanted
        self.changes = 0
        self.first = 0.0
        self.done = asyncio.Event()
        self.last = 0.0
        self.first_cpu = self.last_cpu = 0.0

    def apply(self, venue: Venue, events: Iterable[Event]) -> None:
        events = list(events)
        super().apply(venue, events)
        for ev in events:
            if type(ev) is BookChange:
                self.changes += 1
                if self.changes == 1:
                    self.first = time.perf_counter()
                    self.first_cpu = time.process_time()
                if self.changes >= self.wanted and not self.done.is_set():
                    self.last = time.perf_counter()
                    self.last_cpu = time.process_time()
                    self.done.set()


async def _lag_probe(samples: list[float], stop: asyncio.Event, period: float = 0.005) -> None:
    loop = asyncio.get_running_loop()
    while not stop.is_set():
        start = loop.time()
        await asyncio.sleep(period)
        samples.append(max(0.0, loop.time() - start - period))


def _start_sim(messages: int, markets: int, pairs: int) -> tuple[subprocess.Popen[str], dict[str, str]]:
    proc = subprocess.Popen(
        [
            *self_command(),
            "sim",
            "--rate",
            "0",
            "--blast",
            str(messages),
            "--markets",
            str(markets),
            "--kraken-pairs",
            str(pairs),
            "--quiet",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    return proc, json.loads(proc.stdout.readline())


def bench_rules(venue: Venue, names: list[str], count: int, sim_markets: int) -> list[Rule]:
    """``count`` rules spread over ``names`` as a trader's watchlist would hold them: price levels 3 to 12
    ticks outside each book as the simulator (seed 1, as the bench starts it) lists it, on every field;
    spreads in ticks, imbalances (with a cooldown) and a stale watch. Armed, and now and then fired."""
    twin = SimMarket(SimConfig(seed=1, kalshi_markets=sim_markets, kraken_pairs=2))
    rules: list[Rule] = []
    for i in range(count):
        name = names[i % len(names)]
        k = 3 + (i // len(names)) % 10  # ticks away from the touch
        target = f"{venue.value}:{name}"
        if venue is Venue.KALSHI:
            m = twin.kalshi[name]
            ranges = m.listing.ranges
            bid, ask = m.yes_bid(), m.yes_ask()
            step = tick_at(ranges, bid)
            under = snap_down(ranges, max(bid - k * step, step))
            over = snap_down(ranges, min(ask + k * step, 10_000 - step))
            low, high = (f"{plain(Decimal(x) / 100)}c" for x in (under, over))
        else:
            state = twin.kraken[name]
            pair = state.pair
            bid, ask = state.bids.best() or pair.mid, state.asks.best() or pair.mid
            low, high = (
                format(Decimal(x).scaleb(-pair.price_precision), "f")
                for x in (bid - k * pair.price_increment, ask + k * pair.price_increment)
            )
        text = (
            f"{target} bid below {low}",
            f"{target} bid above {high}",
            f"{target} ask above {high}",
            f"{target} ask below {low} once",
            f"{target} mid above {high}",
            f"{target} mid below {low}",
            f"{target} last above {high}",
            f"{target} spread above {4 + k % 4} ticks",
            f"{target} imbalance top 5 beyond {3 + k} cooldown 30s",
            f"{target} stale 60",
        )[i % 10]
        rules.append(parse(text))
    return rules


async def _case(venue: Venue, messages: int, markets: int, alerts: int = 0) -> dict[str, Any]:
    proc, urls = _start_sim(messages, max(markets, 4), 2)
    store = _TimedStore(messages)
    engine: AlertEngine | None = None
    link: Connection
    try:
        if venue is Venue.KALSHI:
            from urllib.request import urlopen

            with urlopen(urls["kalshi_rest"] + f"/markets?limit={markets}", timeout=10) as response:
                tickers = [m["ticker"] for m in json.loads(response.read())["markets"]]
            creds = KalshiCredentials("bench", ed25519.Ed25519PrivateKey.generate())
            if alerts:
                engine = _armed(store, venue, tickers, alerts, max(markets, 4))
            link = KalshiLink(
                urls["kalshi_ws"],
                urls["kalshi_rest"],
                store,
                tickers,
                credentials=creds,
                private=False,
                lifecycle=False,
            )
        else:
            if alerts:
                engine = _armed(store, venue, ["BTC/USD"], alerts, max(markets, 4))
            link = KrakenLink(urls["kraken_ws"], urls["kraken_rest"], store, ["BTC/USD"], depth=10)
        samples: list[float] = []
        stop = asyncio.Event()
        cpu0 = time.process_time()
        link.start()
        await asyncio.wait_for(link.reached_live.wait(), 30)
        lag = asyncio.create_task(_lag_probe(samples, stop))
        await asyncio.wait_for(store.done.wait(), 600)
        stop.set()
        await lag
        cpu = store.last_cpu - store.first_cpu  # CPU spent while the measured frames streamed
        del cpu0
        seconds = store.last - store.first
        books = store.books[venue]
        checks_ok = all(not b.stale for b in books.values())
        health = store.health_of(venue, Feed.BOOK)
        await link.stop()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    samples.sort()
    return {
        "case": f"{venue.value}, {markets} market{'s' if markets > 1 else ''}",
        "messages": messages,
        "per_s": round((messages - 1) / seconds) if seconds > 0 else None,
        "loop_lag_p50_ms": round(statistics.median(samples) * 1000, 2) if samples else None,
        "loop_lag_p99_ms": round(samples[int(len(samples) * 0.99) - 1] * 1000, 2) if samples else None,
        "cpu_s": round(cpu, 2),
        "cpu_share": round(cpu / seconds, 2) if seconds > 0 else None,
        "gaps": health.gaps,
        "checksum_failures": health.checksum_failures,
        "books_live": checks_ok,
        "alert_rules": len(engine.rules) if engine is not None else 0,
        "alerts_fired": len(engine.log) if engine is not None else 0,
    }


async def _bare_kraken(messages: int) -> dict[str, Any]:
    """aiohttp receive + msgspec decode of the same blasted Kraken stream: the floor under the engine."""
    proc, urls = _start_sim(messages, 4, 2)
    decode = msgspec.json.Decoder().decode
    try:
        async with aiohttp.ClientSession() as http, http.ws_connect(urls["kraken_ws"], max_msg_size=0) as ws:
            subscribe = {"channel": "book", "symbol": ["BTC/USD"], "depth": 10}
            await ws.send_str(json.dumps({"method": "subscribe", "params": subscribe}))
            books = 0
            first = 0.0
            while books <= messages:  # the snapshot, then ``messages`` updates
                obj = decode((await ws.receive()).data)
                if obj.get("channel") == "book":
                    books += 1
                    if books == 2:
                        first = time.perf_counter()
            seconds = time.perf_counter() - first
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    return {"case": "kraken, bare loop", "messages": messages, "per_s": round((messages - 1) / seconds)}


def _armed(store: MarketStore, venue: Venue, names: list[str], count: int, sim_markets: int) -> AlertEngine:
    twin = SimMarket(SimConfig(seed=1, kalshi_markets=sim_markets, kraken_pairs=2))
    engine = AlertEngine(store, sim_ticks(twin), log_limit=100_000)
    engine.watch(venue, names)
    refused = engine.extend(bench_rules(venue, names, count, sim_markets))
    assert not refused, refused  # every level is on its market's grid
    return engine


def run(
    messages: int = 300_000, spread_markets: int = 200, echo: bool = True, alerts: int = 0
) -> dict[str, Any]:
    cases = [
        (Venue.KALSHI, messages, 1),
        (Venue.KRAKEN, messages, 1),
        (Venue.KALSHI, messages, spread_markets),
    ]
    results = []
    for venue, n, markets in cases:
        results.append(asyncio.run(_case(venue, n, markets)))
        if alerts:
            armed = asyncio.run(_case(venue, n, markets, alerts))
            armed["case"] += f", {alerts} alert rules"
            bare, with_rules = results[-1]["per_s"], armed["per_s"]
            armed["vs_no_rules"] = round(with_rules / bare, 3) if bare and with_rules else None
            results.append(armed)
    kraken_last = max(i for i, r in enumerate(results) if r["case"].startswith("kraken"))
    results.insert(kraken_last + 1, asyncio.run(_bare_kraken(messages)))
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    figures = {"cases": results, "peak_rss_mb": round(peak_mb, 1)}
    if echo:
        print(
            f"stream engine, socket -> decode -> book -> store, simulator blast in another process "
            f"({messages:,} frames per case):"
        )
        for r in results:
            if "cpu_share" not in r:
                print(f"  {r['case']:22} {r['per_s']:>9,} msg/s   (aiohttp receive + msgspec decode only)")
                continue
            print(
                f"  {r['case']:38} {r['per_s']:>9,} msg/s   loop lag p50 {r['loop_lag_p50_ms']} ms "
                f"p99 {r['loop_lag_p99_ms']} ms   cpu {r['cpu_share']:.0%} of wall   gaps {r['gaps']} "
                f"checksum failures {r['checksum_failures']}   books live {r['books_live']}"
                + (
                    f"   fired {r['alerts_fired']}, {r['vs_no_rules']:.1%} of the rate without rules"
                    if r["alert_rules"] and r.get("vs_no_rules") is not None
                    else ""
                )
            )
        print(f"  peak memory {figures['peak_rss_mb']} MB")
    return figures

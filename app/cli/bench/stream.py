"""Socket -> decode -> book -> store throughput of the stream engine: ``market-monitor bench --stream``.

The simulator runs in another process in blast mode (pre-built frames written straight to the socket);
the engine runs here with every check on (Kalshi seq, Kraken CRC32, books, store, health). Prints
messages/s from the first blasted frame to the last one applied, event-loop lag p50/p99 while it ran,
CPU seconds and peak memory. Beside the Kraken case, a bare loop on the same blast (aiohttp receive and
msgspec decode, nothing else) gives this run's floor: the engine's figure is read against it, since
this machine's speed varies from run to run.
"""

from __future__ import annotations

import asyncio
import json
import resource
import statistics
import subprocess
import time
from collections.abc import Iterable
from typing import Any

import aiohttp
import msgspec
from cryptography.hazmat.primitives.asymmetric import ed25519

from app.core.events import BookChange, Event
from app.core.feeds import Feed
from app.core.instruments import Venue
from app.core.store import MarketStore
from app.resources import self_command
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


async def _case(venue: Venue, messages: int, markets: int) -> dict[str, Any]:
    proc, urls = _start_sim(messages, max(markets, 4), 2)
    store = _TimedStore(messages)
    link: Connection
    try:
        if venue is Venue.KALSHI:
            from urllib.request import urlopen

            with urlopen(urls["kalshi_rest"] + f"/markets?limit={markets}", timeout=10) as response:
                tickers = [m["ticker"] for m in json.loads(response.read())["markets"]]
            creds = KalshiCredentials("bench", ed25519.Ed25519PrivateKey.generate())
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


def run(messages: int = 300_000, spread_markets: int = 200, echo: bool = True) -> dict[str, Any]:
    cases = [
        (Venue.KALSHI, messages, 1),
        (Venue.KRAKEN, messages, 1),
        (Venue.KALSHI, messages, spread_markets),
    ]
    results = [asyncio.run(_case(venue, n, markets)) for venue, n, markets in cases]
    results.insert(2, asyncio.run(_bare_kraken(messages)))
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
                f"  {r['case']:22} {r['per_s']:>9,} msg/s   loop lag p50 {r['loop_lag_p50_ms']} ms "
                f"p99 {r['loop_lag_p99_ms']} ms   cpu {r['cpu_share']:.0%} of wall   gaps {r['gaps']} "
                f"checksum failures {r['checksum_failures']}   books live {r['books_live']}"
            )
        print(f"  peak memory {figures['peak_rss_mb']} MB")
    return figures

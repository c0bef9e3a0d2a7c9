"""The real window under load: ``market-monitor bench --gui``.

The simulator runs in another process (paced, not blast), serving Kalshi and Kraken markets; the window
runs here, offscreen, with every one of those markets in its watchlist and one selected (ladder, chart,
tape live). For a measured stretch it prints messages/s reaching the store beside the rate asked for,
event-loop lag p50/p99 (a 5 ms sleeper's overshoot), frames painted per second (paint events of the
viewports that show data: watchlist, ladder, depth chart, price chart), CPU share and peak memory.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from app.resources import self_command

KALSHI_SHARE = 0.75  # of the markets; the rest are Kraken pairs (the 10 real ones, then SIMnnn/USD)
STEPS_PER_MESSAGE = 0.52  # measured: each simulator step sends ~1.9 frames over a 200-market watchlist


def _start_sim(markets: int, pairs: int, rate: float) -> tuple[subprocess.Popen[str], dict[str, str]]:
    command = [*self_command(), "sim", "--markets", str(markets), "--kraken-pairs", str(pairs)]
    proc = subprocess.Popen([*command, "--rate", str(rate), "--quiet"], stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    return proc, json.loads(proc.stdout.readline())


def run(seconds: float = 10.0, markets: int = 200, target: int = 20_000, echo: bool = True) -> dict[str, Any]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import qasync
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    kalshi = max(1, round(markets * KALSHI_SHARE))
    pairs = max(1, markets - kalshi)
    proc, urls = _start_sim(kalshi, pairs, target * STEPS_PER_MESSAGE)
    try:
        with asyncio.Runner(loop_factory=qasync.QEventLoop) as runner:
            figures = runner.run(_measure(app, urls, kalshi, pairs, seconds))
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    figures.update(markets=markets, target_per_s=target)
    if echo:
        print(
            f"window under load, offscreen: {kalshi} Kalshi + {pairs} Kraken markets in the watchlist, "
            f"simulator in another process, measured for {seconds:.0f} s:"
        )
        print(
            f"  {figures['messages_per_s']:,} msg/s into the store (asked {target:,})"
            f"   loop lag p50 {figures['loop_lag_p50_ms']} ms"
            f" p99 {figures['loop_lag_p99_ms']} ms   {figures['frames_per_s']} frames painted/s"
            f" ({', '.join(f'{k} {v}' for k, v in figures['paints_per_s'].items())})"
            f"   cpu {figures['cpu_share']:.0%} of one core"
            f"   peak memory {figures['peak_rss_mb']} MB"
        )
        lat = figures["latency_ms"]
        print(
            f"  data to screen: ladder p50 {lat['ladder']['p50']} ms p99 {lat['ladder']['p99']} ms,"
            f" watchlist p50 {lat['watchlist']['p50']} ms p99 {lat['watchlist']['p99']} ms"
            f"   first paint with data {figures['first_data_paint_s']} s from start"
        )
    return figures


async def _measure(app: Any, urls: dict[str, str], kalshi: int, pairs: int, seconds: float) -> dict[str, Any]:
    from PySide6.QtCore import QEvent, QObject

    from app.core.instruments import Venue
    from app.launch.catalog import kalshi_markets, kraken_pairs
    from app.ui.window import MainWindow
    from app.user.secret_store import SecretStore
    from app.user.settings import MarketRef, Settings

    async with aiohttp.ClientSession() as http:
        listed = await kalshi_markets(http, urls["kalshi_rest"])
        listed_pairs = await kraken_pairs(http, urls["kraken_rest"])
    settings = Settings(first_run=False)
    wl = settings.watchlist()
    for info in [*listed[:kalshi], *listed_pairs[:pairs]]:
        wl.add(MarketRef(info.venue, info.market))

    class PaintCounter(QObject):
        """Counts paints per viewport, and how long data waited for one: a change applied to the store
        starts a clock for the watchlist (any market) and the ladder (the selected market); the next
        paint of that viewport stops it. That is data-to-screen latency, less the socket's share."""

        def __init__(self) -> None:
            super().__init__()
            self.counts: dict[str, int] = {}
            self.waiting: dict[str, float] = {}  # viewport -> when the oldest unpainted change arrived
            self.latency: dict[str, list[float]] = {"watchlist": [], "ladder": []}
            self.first_data_paint: float | None = None

        def changed(self, selected: bool) -> None:
            now = time.perf_counter()
            self.waiting.setdefault("watchlist", now)
            if selected:
                self.waiting.setdefault("ladder", now)

        def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
            if event.type() == QEvent.Type.Paint:
                name = watched.objectName() or "?"
                self.counts[name] = self.counts.get(name, 0) + 1
                since = self.waiting.pop(name, None)
                if since is not None:
                    self.latency[name].append(time.perf_counter() - since)
                    if name == "ladder" and self.first_data_paint is None:
                        self.first_data_paint = time.perf_counter()
            return False

    with tempfile.TemporaryDirectory() as config:
        win = MainWindow(settings, SecretStore(), config_dir=Path(config), sim_urls=urls)
        counter = PaintCounter()
        for name, widget in win.paint_targets().items():
            widget.setObjectName(name)
            widget.installEventFilter(counter)
        win.resize(1600, 1000)
        win.show()
        started = time.perf_counter()
        first = MarketRef(Venue.KALSHI, listed[0].market)
        win.select(first)
        _watch_applies(counter, first)
        win.start()
        from app.stream.engine import tune_gc

        tune_gc()  # as the app does
        try:
            deadline = time.monotonic() + 30
            while not (win.running and win.has_market_data()):
                if time.monotonic() > deadline:
                    raise RuntimeError("no market data reached the window within 30 s")
                await asyncio.sleep(0.05)
            while counter.first_data_paint is None and time.monotonic() < deadline:
                await asyncio.sleep(0.01)
            first_paint = (counter.first_data_paint or time.perf_counter()) - started
            await asyncio.sleep(2.0)  # warm up: snapshots in, caches filled
            store = win.store
            messages0 = sum(h.messages for h in store.health.values())
            counter.counts.clear()
            for waits in counter.latency.values():
                waits.clear()
            cpu0, wall0 = time.process_time(), time.perf_counter()
            samples: list[float] = []
            loop = asyncio.get_running_loop()
            end = wall0 + seconds
            while time.perf_counter() < end:
                start = loop.time()
                await asyncio.sleep(0.005)
                samples.append(max(0.0, loop.time() - start - 0.005))
            wall = time.perf_counter() - wall0
            cpu = time.process_time() - cpu0
            messages = sum(h.messages for h in win.store.health.values()) - messages0
            paints = dict(counter.counts)
            latency = {name: sorted(waits) for name, waits in counter.latency.items()}
        finally:
            await win.shutdown()
            win.close()
    samples.sort()
    frames = paints.get("watchlist", 0)
    return {
        "seconds": round(wall, 2),
        "messages_per_s": round(messages / wall),
        "loop_lag_p50_ms": round(statistics.median(samples) * 1000, 1),
        "loop_lag_p99_ms": round(samples[max(0, int(len(samples) * 0.99) - 1)] * 1000, 1),
        "frames_per_s": round(frames / wall, 1),
        "watchlist_paints_per_s": round(paints.get("watchlist", 0) / wall, 1),
        "paints_per_s": {k: round(v / wall, 1) for k, v in sorted(paints.items())},
        "cpu_share": round(cpu / wall, 2),
        "first_data_paint_s": round(first_paint, 2),
        "latency_ms": {name: _percentiles(waits) for name, waits in latency.items()},
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
    }


def _watch_applies(counter: Any, selected: Any) -> None:
    """Start the counter's clocks whenever a store applies a change. The class is wrapped, not one
    store: the window makes a new store for each source, before its links start reading."""
    from app.core.store import MarketStore

    apply = MarketStore.apply

    def timed(store: MarketStore, venue: Any, events: Any) -> None:
        events = list(events)
        apply(store, venue, events)
        if events:
            markets = {getattr(e, "market", None) for e in events}
            counter.changed(venue is selected.venue and selected.market in markets)

    MarketStore.apply = timed  # type: ignore[method-assign,assignment]


def _percentiles(samples: list[float]) -> dict[str, float | None]:
    if not samples:
        return {"p50": None, "p99": None}
    return {
        "p50": round(statistics.median(samples) * 1000, 1),
        "p99": round(samples[max(0, int(len(samples) * 0.99) - 1)] * 1000, 1),
    }

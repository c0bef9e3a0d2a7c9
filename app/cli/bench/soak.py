"""``market-monitor bench --soak``: the window for a long while under a steady feed, and its memory.

The simulator runs in another process at ``target`` msg/s over ``markets`` markets, all in the watchlist;
the window runs here, offscreen, as the app runs it (the collector tuned and run on the Qt thread), and a
different market is selected every few seconds (ladder, chart and tape follow it). RSS is sampled every
10 s; after the warm-up the least-squares slope says whether memory levels off. ``--trace`` adds
tracemalloc's biggest growths between the end of the warm-up and the end (slow; to find a leak).

Targets (issue 13): a slope of at most 0.5 MB a minute after the first 5 minutes, and at most 250 MB
after 60 minutes. Runs of 10 minutes or more exit 1 when they miss them; shorter ones only print.
"""

from __future__ import annotations

import asyncio
import json
import os
import resource
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

import aiohttp

from app.cli.bench.gui import KALSHI_SHARE, STEPS_PER_MESSAGE, _start_sim

SAMPLE_S = 10.0
SWITCH_S = 4.0
SLOPE_LIMIT_MB_MIN = 0.5
RSS_LIMIT_MB = 250.0
_PAGE = os.sysconf("SC_PAGE_SIZE")


def rss_mb() -> float:
    with open("/proc/self/statm", encoding="ascii") as fh:
        return int(fh.read().split()[1]) * _PAGE / 1e6


def slope_mb_per_min(samples: list[tuple[float, float]]) -> float | None:
    """Least-squares slope of (minutes, MB) samples."""
    if len(samples) < 3:
        return None
    n = len(samples)
    mx = sum(t for t, _ in samples) / n
    my = sum(m for _, m in samples) / n
    var = sum((t - mx) ** 2 for t, _ in samples)
    return sum((t - mx) * (m - my) for t, m in samples) / var if var else None


def run(
    minutes: float, markets: int = 500, target: int = 2000, trace: bool = False, echo: bool = True
) -> int:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import qasync
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    kalshi = max(1, round(markets * KALSHI_SHARE))
    pairs = max(1, markets - kalshi)
    proc, urls = _start_sim(kalshi, pairs, target * STEPS_PER_MESSAGE)
    warmup = min(5.0, minutes / 3)
    try:
        with asyncio.Runner(loop_factory=qasync.QEventLoop) as runner:
            figures = runner.run(
                _soak(
                    app,
                    urls,
                    kalshi=kalshi,
                    pairs=pairs,
                    minutes=minutes,
                    warmup=warmup,
                    trace=trace,
                    echo=echo,
                )
            )
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    samples = [(t, m) for t, m in figures["samples"] if t >= warmup]
    slope = slope_mb_per_min(samples)
    final = figures["samples"][-1][1] if figures["samples"] else None
    judged = minutes >= 10
    ok = not judged or (
        slope is not None
        and slope <= SLOPE_LIMIT_MB_MIN
        and (minutes < 60 or (final is not None and final <= RSS_LIMIT_MB))
    )
    figures.update(
        minutes=minutes,
        markets=markets,
        target_per_s=target,
        warmup_min=round(warmup, 2),
        slope_mb_per_min=None if slope is None else round(slope, 3),
        final_rss_mb=final,
        peak_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        judged=judged,
        ok=ok,
    )
    if echo:
        print(
            f"  after the {warmup:g}-minute warm-up: slope "
            f"{'-' if slope is None else f'{slope:+.2f}'} MB/min (target <= {SLOPE_LIMIT_MB_MIN}), "
            f"final RSS {final} MB (target <= {RSS_LIMIT_MB:g} at 60 min), "
            f"{figures['messages_per_s']:,} msg/s on average, {figures['selections']} selections"
        )
        print(f"  links: {figures['links']}\n  held at the end: {figures['held']}")
        for line in figures.get("growth", []):
            print(f"    {line}")
        print(f"  result: {'OK' if ok else 'FAILED'}{'' if judged else ' (shorter than 10 min: not judged)'}")
    else:
        print(json.dumps(figures))
    return 0 if ok else 1


async def _soak(
    app: Any,
    urls: dict[str, str],
    *,
    kalshi: int,
    pairs: int,
    minutes: float,
    warmup: float,
    trace: bool,
    echo: bool,
) -> dict[str, Any]:
    from app.cli.window import collect_on_main_thread
    from app.launch.catalog import kalshi_markets, kraken_pairs
    from app.stream.engine import tune_gc
    from app.ui.window import MainWindow
    from app.user.secret_store import SecretStore
    from app.user.settings import MarketRef, Settings

    async with aiohttp.ClientSession() as http:
        listed = await kalshi_markets(http, urls["kalshi_rest"])
        listed_pairs = await kraken_pairs(http, urls["kraken_rest"])
    settings = Settings(first_run=False)
    refs = [MarketRef(info.venue, info.market) for info in [*listed[:kalshi], *listed_pairs[:pairs]]]
    for ref in refs:
        settings.watchlist().add(ref)
    samples: list[tuple[float, float]] = []
    growth: list[str] = []
    selections = 0
    with tempfile.TemporaryDirectory() as config:
        win = MainWindow(settings, SecretStore(), config_dir=Path(config), sim_urls=urls)
        win.resize(1600, 1000)
        win.show()
        win.start()
        tune_gc()
        gc_timer = collect_on_main_thread()  # as the app does
        if echo:
            print(
                f"soak: the window offscreen for {minutes:g} min, {kalshi} Kalshi + {pairs} Kraken markets, "
                f"a new market selected every {SWITCH_S:g} s; RSS every {SAMPLE_S:g} s:"
            )
        try:
            start = time.monotonic()
            messages0 = 0
            next_sample = next_switch = start
            baseline: tracemalloc.Snapshot | None = None
            while (now := time.monotonic()) - start < minutes * 60:
                if now >= next_switch:
                    next_switch = now + SWITCH_S
                    win.select(refs[selections % len(refs)])
                    selections += 1
                if now >= next_sample:
                    next_sample = now + SAMPLE_S
                    elapsed = (now - start) / 60
                    samples.append((round(elapsed, 2), round(rss_mb(), 1)))
                    if not messages0:
                        messages0 = sum(h.messages for h in win.store.health.values())
                    if echo:
                        print(f"    {elapsed:6.1f} min  {samples[-1][1]:7.1f} MB", flush=True)
                    if trace and baseline is None and elapsed >= warmup:
                        tracemalloc.start(5)
                        baseline = tracemalloc.take_snapshot()
                await asyncio.sleep(0.25)
            messages = sum(h.messages for h in win.store.health.values()) - messages0
            running = win.running
            links = {
                link.name: {
                    "connects": link.connects,
                    "fill_catchups": link.fill_catchups,
                    "fills_fetched": link.fills_fetched,
                }
                for link in (running.engine.links if running else [])
            }
            held = {
                "fills": len(win.store.fills),
                "trades_in_tapes": sum(len(m.tape) for m in win.store.markets.values()),
                "orders": len(win.store.orders),
                "market_states": len(win.store.markets),
            }
            if baseline is not None:
                diff = tracemalloc.take_snapshot().compare_to(baseline, "lineno")
                traced = sum(stat.size_diff for stat in diff) / 1e6
                # Python objects against RSS: what the heap does not explain is Qt's or fragmentation.
                growth = [f"Python heap grew {traced:+.1f} MB while traced", *(str(st) for st in diff[:15])]
                tracemalloc.stop()
        finally:
            del gc_timer
            await win.shutdown()
            win.close()
    wall = max(1.0, minutes * 60 - SAMPLE_S)
    return {
        "samples": samples,
        "messages_per_s": round(messages / wall),
        "selections": selections,
        "growth": growth,
        "links": links,
        "held": held,
    }

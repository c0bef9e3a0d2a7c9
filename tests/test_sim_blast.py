"""Blast mode: pre-built frames written straight to the socket must still be a correct feed (contiguous
seq, valid checksums, books equal to the truth), and the benchmark command prints its figures."""

from __future__ import annotations

import asyncio
import json
import subprocess

import pytest

from app.cli.bench.truth import kalshi_truth_in_yes_terms, kraken_truth
from app.sim.server import SimOptions, Simulator
from tests.command import COMMAND
from tests.simclient import run_kalshi, run_kraken

SCRIPT = COMMAND


@pytest.mark.asyncio
async def test_blasted_books_equal_truth() -> None:
    async with Simulator(SimOptions(seed=12, rate=0, duration=0.5, blast=20_000)) as sim:
        market = next(iter(sim.market.kalshi))
        kalshi, kraken = await asyncio.gather(
            run_kalshi(sim, [market], channels=("orderbook_delta",)),
            run_kraken(sim, ["BTC/USD"], depth=10, channels=("book",)),
        )
        assert kalshi.books[market].levels_as_decimals() == kalshi_truth_in_yes_terms(sim, market)
        assert kraken.books["BTC/USD"].levels_as_decimals() == kraken_truth(sim, "BTC/USD", 10)
        blasts = [r for r in sim.faults.log if r.kind == "blast"]
    assert {r.venue for r in blasts} == {"kalshi", "kraken"} and all(
        "20000 frames" in r.detail for r in blasts
    )
    assert kalshi.counts["gaps"] == 0 and kraken.counts["resubscribe"] == 0  # every seq and checksum held
    assert sum('"type":"orderbook_delta"' in f for f in kalshi.frames) == 20_000
    assert sum('"channel":"book","type":"update"' in f for f in kraken.frames) == 20_000


def test_bench_sim_blast_prints_figures() -> None:
    result = subprocess.run(
        [SCRIPT, "bench", "--sim-blast", "--messages", "20000", "--json"],
        capture_output=True,
        check=False,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    figures = json.loads(result.stdout)
    assert figures["messages"] == 20_000
    for venue in ("kalshi", "kraken"):
        assert figures[f"{venue}_client_per_s"] > 0
        assert figures[f"{venue}_server"].startswith("20000 frames in ")

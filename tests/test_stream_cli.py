"""``market-monitor stream`` as a user runs it: a live view, a final JSON report in the shape of
``replay --json``, and a recording that ``replay`` reads back to the same books."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

SCRIPT = shutil.which("market-monitor") or str(Path(sys.executable).with_name("market-monitor"))


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SCRIPT, "stream", *args], capture_output=True, text=True, check=False, timeout=90)


def test_live_view_shows_each_venue_live_with_quotes() -> None:
    result = _run("--duration", "2.5", "--markets", "BTC/USD", "KXCPI-26NOV21-T0.1")
    assert result.returncode == 0, result.stderr
    last = result.stdout.strip().split("\n")[-4:]
    assert " live " in last[0] and "kalshi" in last[0]
    assert "KXCPI-26NOV21-T0.1" in last[1] and " / " in last[1] and "STALE" not in last[1]
    assert " live " in last[2] and "kraken" in last[2]
    assert "BTC/USD" in last[3] and "STALE" not in last[3]


def test_json_report_and_recording_replay_to_the_same_book(tmp_path: Path) -> None:
    record = tmp_path / "frames.jsonl"
    result = _run(
        "--duration",
        "2",
        "--json",
        "--venue",
        "kraken",
        "--markets",
        "ETH/USD",
        "--record",
        str(record),
        "--rate",
        "400",
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    report, health = lines[0], lines[-1]
    assert report["market"] == "ETH/USD" and report["stale"] is False and len(report["bids"]) == 10
    assert health["links"]["kraken"]["state"] == "closed"
    assert health["health"]["kraken/book"]["messages"] >= 1 and health["health"]["kraken/book"]["gaps"] == 0
    replayed = subprocess.run(
        [SCRIPT, "replay", str(record), "--venue", "kraken", "--json"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert replayed.returncode == 0, replayed.stderr
    books = {r["market"]: r for r in map(json.loads, replayed.stdout.splitlines())}
    assert books["ETH/USD"]["bids"] == report["bids"] and books["ETH/USD"]["asks"] == report["asks"]
    assert books["ETH/USD"]["checksum_failed"] == 0 and books["ETH/USD"]["checksum_ok"] >= 1


def test_unknown_market_is_a_one_line_error() -> None:
    result = _run("--duration", "1", "--markets", "NOPE-1")
    assert result.returncode == 2
    assert result.stderr.strip() == "market-monitor stream: error: the simulator lists no market NOPE-1"

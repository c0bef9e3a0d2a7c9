"""``market-monitor stream`` as a user runs it: a live view, a final JSON report in the shape of
``replay --json``, and a recording that ``replay`` reads back to the same books."""

from __future__ import annotations

import gzip
import json
import subprocess
from pathlib import Path

from app.sim.market import SimConfig, SimMarket
from tests.command import COMMAND

SCRIPT = COMMAND
# Simulator tickers carry today's date: take one from the catalogue rather than writing it down.
CPI = next(t for t in SimMarket(SimConfig(seed=1)).kalshi if t.startswith("KXCPI") and t.endswith("-T0.1"))


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([SCRIPT, "stream", *args], capture_output=True, text=True, check=False, timeout=90)


def test_live_view_shows_each_venue_live_with_quotes() -> None:
    result = _run("--duration", "2.5", "--markets", "BTC/USD", CPI)
    assert result.returncode == 0, result.stderr
    last = result.stdout.strip().split("\n")[-4:]
    assert " live " in last[0] and "kalshi" in last[0]
    assert " msg/s over 5 s " in last[0] and " msg/s over 5 s " in last[2]  # the rate says its window
    assert CPI in last[1] and " / " in last[1] and "STALE" not in last[1]
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


def _profile_env(tmp_path: Path, profiles: list[dict[str, str]], markets: list[str]) -> dict[str, str]:
    import os

    settings = {
        "format": 1,
        "watchlists": [{"name": "Mine", "markets": markets}],
        "active_watchlist": "Mine",
        "profiles": profiles,
        "active_profile": profiles[0]["name"],
    }
    (tmp_path / "settings.json").write_text(json.dumps(settings), encoding="utf-8")
    return {**os.environ, "MARKET_MONITOR_CONFIG_DIR": str(tmp_path)}


def test_profile_streams_the_saved_watchlist_of_its_venues(tmp_path: Path) -> None:
    env = _profile_env(
        tmp_path,
        [{"name": "Crypto only", "kalshi": "off", "kraken": "sim"}],
        ["kraken:SOL/USD", f"kalshi:{CPI}"],
    )
    result = subprocess.run(
        [SCRIPT, "stream", "--profile", "Crypto only", "--duration", "2", "--json"],
        capture_output=True,
        text=True,
        check=False,
        timeout=90,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    markets = [line["market"] for line in lines[:-1]]
    assert markets == ["SOL/USD"]  # Kalshi is off in this profile, so the Kalshi market is not streamed
    assert lines[0]["stale"] is False and lines[0]["best_bid"]
    assert set(lines[-1]["links"]) == {"kraken"}


def test_profile_without_credentials_says_what_is_missing_and_connects_nowhere(tmp_path: Path) -> None:
    env = _profile_env(
        tmp_path, [{"name": "Live", "kalshi": "production", "kraken": "off"}], [f"kalshi:{CPI}"]
    )
    # An empty in-memory keyring: nothing saved, and never the developer's real keyring.
    env["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    result = subprocess.run(
        [SCRIPT, "stream", "--profile", "Live", "--duration", "1"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        env=env,
    )
    assert result.returncode == 1
    assert "Kalshi production needs an API key" in result.stderr
    # A terminal user is pointed at the command, not at a menu they do not have.
    assert "market-monitor credentials set kalshi production" in result.stderr
    assert "File →" not in result.stderr
    assert "no venue can start" in result.stderr


def test_unknown_profile_is_a_usage_error_naming_the_saved_ones(tmp_path: Path) -> None:
    env = _profile_env(tmp_path, [{"name": "Simulator", "kalshi": "sim", "kraken": "sim"}], [])
    result = subprocess.run(
        [SCRIPT, "stream", "--profile", "Nope"],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
        env=env,
    )
    assert result.returncode == 2
    assert "no profile 'Nope'" in result.stderr and "Simulator" in result.stderr


def test_level3_stream_records_and_replays_to_the_same_order_book(tmp_path: Path) -> None:
    """``stream --level3`` reports the orders behind each price; its recording (no token in it) replays
    to the same level-3 book, every level3 checksum verifying, order counts and queues per level."""
    record = tmp_path / "level3.jsonl.gz"
    result = _run(
        "--duration",
        "2",
        "--json",
        "--venue",
        "kraken",
        "--markets",
        "BTC/USD",
        "--level3",
        "--record",
        str(record),
        "--rate",
        "400",
    )
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    (report,) = lines[:-1]  # one line per market, whatever the links
    health = lines[-1]
    level3 = report["level3"]
    assert level3["stale"] is False and len(level3["bids"]) == 10 and len(level3["asks"]) == 10
    for lvl in level3["bids"] + level3["asks"]:
        assert lvl["orders"] == len(lvl["queue"]) >= 1
    # Summed per price, the level-3 book is the level-2 one.
    assert [[lvl["price"], lvl["size"]] for lvl in level3["bids"]] == report["bids"]
    assert health["health"]["kraken/level3"]["messages"] >= 1
    assert health["links"]["kraken-level3"]["subscriptions"]["level3"]["desired"] == ["BTC/USD"]
    replayed = subprocess.run(
        [SCRIPT, "replay", str(record), "--venue", "kraken", "--json"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert replayed.returncode == 0, replayed.stderr
    books = {r["market"]: r for r in map(json.loads, replayed.stdout.splitlines())}
    again = books["BTC/USD"]["level3"]
    assert again["checksum_failed"] == 0 and again["checksum_ok"] >= 1
    assert {k: again[k] for k in ("bids", "asks", "orders")} == {
        k: level3[k] for k in ("bids", "asks", "orders")
    }
    assert b'"token"' not in gzip.decompress(record.read_bytes())  # the WebSocket token never reaches disk


def test_json_reports_each_markets_24h_change_and_previous_price() -> None:
    """Kalshi: last minus GET /markets previous_price_dollars (exact text), null with no trade in 24 h;
    Kraken: its ticker's change, and the last minus it."""
    import time
    from decimal import Decimal

    twin = SimMarket(SimConfig(seed=1))  # the same seed: the same day of history before the start
    tail = next(  # a board's deep tail: no print all day
        m
        for m in twin.kalshi.values()
        if m.listing.underlying and not m.volume_since(int(time.time()) - 86_400)
    )
    result = _run("--duration", "2", "--json", "--markets", CPI, tail.ticker, "BTC/USD")
    assert result.returncode == 0, result.stderr
    reports = {r["market"]: r for r in map(json.loads, result.stdout.splitlines()) if "market" in r}
    cpi = reports[CPI]
    day_ago = int(time.time()) - 86_400
    market = twin.kalshi[CPI]
    candidates = {market.price_before(day_ago + d) for d in (-120, -60, 0, 60)}  # the run's minute may differ
    assert Decimal(cpi["previous_price"]) * 10_000 in candidates
    assert (
        cpi["previous_price"].count(".") == 1 and len(cpi["previous_price"].split(".")[1]) == 4
    )  # exact text
    if cpi["last"] is not None:  # else the change is against REST's last (no print in these 2 s)
        assert Decimal(cpi["change"]) == Decimal(cpi["last"]) - Decimal(cpi["previous_price"])
    assert reports[tail.ticker]["change"] is None  # no trade in 24 h: nothing to compare
    btc = reports["BTC/USD"]
    assert btc["change"] is not None and btc["previous_price"] is not None
    assert Decimal(btc["last"]) - Decimal(btc["change"]) == Decimal(btc["previous_price"])

"""`market-monitor replay` end to end, through the installed console script."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from tests.command import COMMAND
from tests.conftest import DATA

EXE = COMMAND


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([EXE, *args], check=False, capture_output=True, text=True, input=stdin, timeout=60)


@pytest.mark.parametrize(
    ("name", "symbol", "ok", "depth"),
    [
        ("kraken-book-sequence-1.jsonl", "BTC/USD", 53, 10),
        ("kraken-book-sequence-2.jsonl", "MINA/GBP", 30, 25),
        ("kraken-book-sequence-3.jsonl", "BTC/USD", 510, 10),
        ("kraken-book-sequence-4.jsonl", "ETH/USD", 2, 10),
    ],
)
def test_kraken_sequences_replay_clean(name: str, symbol: str, ok: int, depth: int) -> None:
    """One JSON object per market; every checksum verified; levels best first as decimal strings."""
    proc = run("replay", str(DATA / name), "--venue", "kraken", "--json")
    assert proc.returncode == 0, proc.stderr
    (report,) = [json.loads(line) for line in proc.stdout.splitlines()]
    assert report["venue"] == "kraken" and report["market"] == symbol
    assert (report["checksum_ok"], report["checksum_failed"], report["errors"]) == (ok, 0, 0)
    bids, asks = report["bids"], report["asks"]
    assert len(bids) == len(asks) == depth
    assert [float(p) for p, _ in bids] == sorted((float(p) for p, _ in bids), reverse=True)
    assert [float(p) for p, _ in asks] == sorted(float(p) for p, _ in asks)
    assert report["best_bid"] == bids[0][0] and report["best_ask"] == asks[0][0]
    assert not report["stale"] and not report["crossed"]
    assert all(isinstance(x, str) for level in bids + asks for x in level)


def test_exact_text_recording_equals_object_recording(tmp_path: Path) -> None:
    """A recording that keeps the exact frame text under 'frame' replays to the same books as the
    fixture's parsed objects under 'raw' (sequence 1 is verbatim wire text)."""
    lines = (DATA / "kraken-book-sequence-1.jsonl").read_text().splitlines()
    recording = tmp_path / "rec.jsonl"
    with recording.open("w") as fh:
        for line in lines:
            raw_text = line[line.index('"raw": ') + 7 : -1]  # the frame exactly as captured
            fh.write(json.dumps({"frame": raw_text, "t": 0, "conn": 1}) + "\n")
    a = run("replay", str(recording), "--venue", "kraken", "--json")
    b = run("replay", str(DATA / "kraken-book-sequence-1.jsonl"), "--venue", "kraken", "--json")
    assert a.returncode == b.returncode == 0
    assert a.stdout == b.stdout


def test_kalshi_replay_in_yes_terms() -> None:
    """Kalshi books print in YES terms with 4-decimal prices; --depth limits the levels shown."""
    frames = [
        {
            "type": "orderbook_snapshot",
            "sid": 1,
            "seq": 1,
            "msg": {
                "market_ticker": "FED-23DEC-T3.00",
                "market_id": "",
                "yes_dollars_fp": [["0.0800", "300.00"], ["0.2200", "333.00"]],
                "no_dollars_fp": [["0.5400", "20.00"], ["0.5600", "146.00"]],
            },
        },
        {
            "type": "orderbook_delta",
            "sid": 1,
            "seq": 2,
            "msg": {
                "market_ticker": "FED-23DEC-T3.00",
                "market_id": "",
                "price_dollars": "0.2200",
                "delta_fp": "-33.00",
                "side": "yes",
            },
        },
    ]
    stdin = "\n".join(json.dumps(f) for f in frames)
    proc = run("replay", "-", "--venue", "kalshi", "--json", "--depth", "1", stdin=stdin)
    assert proc.returncode == 0, proc.stderr
    (report,) = [json.loads(line) for line in proc.stdout.splitlines()]
    assert report["bids"] == [["0.2200", "300.00"]] and report["asks"] == [["0.4400", "146.00"]]
    assert report["messages"] == 2 and report["seq_gaps"] == 0


def test_kalshi_fixture_files_replay() -> None:
    for name in ("kalshi.jsonl", "kalshi-samples.jsonl"):
        proc = run("replay", str(DATA / name), "--venue", "kalshi", "--json")
        assert proc.returncode == 0, proc.stderr
        reports = [json.loads(line) for line in proc.stdout.splitlines()]
        assert reports and all(r["venue"] == "kalshi" for r in reports)


def test_human_table() -> None:
    proc = run("replay", str(DATA / "kraken-book-sequence-2.jsonl"), "--venue", "kraken")
    assert proc.returncode == 0
    assert "MINA/GBP" in proc.stdout and "93 frames, 1 markets" in proc.stdout


@pytest.mark.parametrize(
    "args",
    [
        ("replay", "/nonexistent/file.jsonl", "--venue", "kraken"),
        ("replay", str(DATA / "kraken.jsonl"), "--venue", "binance"),
        ("replay", str(DATA / "kraken.jsonl")),
        ("replay", str(DATA / "kraken.jsonl"), "--venue", "kraken", "--depth", "27"),
        ("replay", str(DATA / "kraken.jsonl"), "--venue", "kraken", "--depth", "ten"),
        ("replay", str(DATA), "--venue", "kraken"),
    ],
)
def test_bad_input_gets_one_line_and_no_traceback(args: tuple[str, ...]) -> None:
    proc = run(*args)
    assert proc.returncode != 0
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1, proc.stderr


def test_unreadable_line(tmp_path: Path) -> None:
    """A line that is not JSON is named, counted and skipped; --strict stops there instead."""
    good = (DATA / "kraken-book-sequence-4.jsonl").read_text()
    path = tmp_path / "broken.jsonl"
    path.write_text(good + '{"channel": "book", "trunc\n')
    proc = run("replay", str(path), "--venue", "kraken", "--json")
    assert proc.returncode == 0 and json.loads(proc.stdout)["checksum_ok"] == 2
    assert proc.stderr.strip() == (
        f"market-monitor replay: {path} line 4: damaged (not a JSON object: cut off or garbled), skipped"
    )
    proc = run("replay", str(path), "--venue", "kraken", "--json", "--strict")
    assert proc.returncode == 1 and "line 4" in proc.stderr and "Traceback" not in proc.stderr
    proc = run("replay", str(path), "--venue", "kraken")
    assert "1 damaged lines skipped" in proc.stdout


def test_a_venue_with_nothing_in_the_file_is_said_with_the_venue_it_holds(tmp_path: Path) -> None:
    """Issue 19 (also): ``--venue kraken`` on a Kalshi recording says so, naming what the file holds."""
    lines = (DATA / "kalshi.jsonl").read_text().splitlines()
    path = tmp_path / "kalshi-only.jsonl"
    # The fixture's lines as a recording keeps them: each frame with its venue.
    recorded = [json.dumps({**json.loads(line), "venue": "kalshi"}) for line in lines if line]
    path.write_text("\n".join(recorded) + "\n")
    proc = run("replay", str(path), "--venue", "kraken")
    assert proc.returncode == 1 and proc.stdout == ""
    frames = sum(1 for line in lines if line)
    assert proc.stderr.strip() == (
        f"market-monitor replay: no kraken market data in {path} (it holds {frames:,} kalshi frames: "
        "try --venue kalshi)"
    )
    assert run("replay", str(path), "--venue", "kalshi").returncode == 0


def test_long_market_names_are_never_cut_in_the_table(tmp_path: Path) -> None:
    proc = run("replay", str(DATA / "kalshi.jsonl"), "--venue", "kalshi")
    assert proc.returncode == 0, proc.stderr
    names = [
        json.loads(line)["market"]
        for line in run(
            "replay", str(DATA / "kalshi.jsonl"), "--venue", "kalshi", "--json"
        ).stdout.splitlines()
    ]
    rows = proc.stdout.splitlines()[1:-1]
    assert [row.split()[0] for row in rows] == names  # whole, however long

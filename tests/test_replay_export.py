"""``market-monitor replay FILE --venue V --csv trades|books|fills OUT`` on a recording made from the
simulator: the tables equal what the recording's raw frames say, read here independently of the codecs."""

from __future__ import annotations

import csv
import gzip
import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from app.core.export import COLUMNS, parquet_available
from app.sim.market import SimConfig, SimMarket
from tests.command import COMMAND

KALSHI = [t for t in SimMarket(SimConfig(seed=1)).kalshi if t.startswith(("KXBTCD", "KXFED"))][:4]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([COMMAND, *args], capture_output=True, text=True, check=False, timeout=90)


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("export") / "session.jsonl.gz"
    proc = run(
        "stream", "--duration", "3", "--json", "--markets", "BTC/USD", "ETH/USD", "XRP/USD", *KALSHI,
        "--record", str(path), "--rate", "400",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    return path


def _frames(path: Path) -> list[tuple[str, dict[str, object], int]]:
    """(venue, frame with numbers as their exact text, rx_ms) for every frame received."""
    out = []
    with gzip.open(path, "rt") as fh:
        for line in fh:
            obj = json.loads(line)
            if "frame" in obj:
                out.append((obj["venue"], json.loads(obj["frame"], parse_float=str), obj["rx_ms"]))
    return out


def _ms_iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat(timespec="milliseconds")


def expected_trades(path: Path, venue: str) -> list[list[str]]:
    rows, seen = [], set()
    for v, frame, _rx in _frames(path):
        if v != venue:
            continue
        if venue == "kalshi" and frame.get("type") == "trade":
            msg = frame["msg"]
            assert isinstance(msg, dict)
            trades = [
                (
                    _ms_iso(msg["ts_ms"]), msg["market_ticker"], msg["yes_price_dollars"], msg["count_fp"],
                    "buy" if msg["taker_side"] == "yes" else "sell", msg["trade_id"],
                )
            ]  # fmt: skip
        elif venue == "kraken" and frame.get("channel") == "trade":
            data = frame["data"]
            assert isinstance(data, list)
            trades = [
                (
                    _ms_iso(int(datetime.fromisoformat(t["timestamp"]).timestamp() * 1000)), t["symbol"],
                    t["price"], t["qty"], t["side"], str(t["trade_id"]),
                )
                for t in data
            ]  # fmt: skip
        else:
            continue
        for t in trades:
            if (t[1], t[5]) not in seen:
                seen.add((t[1], t[5]))
                rows.append([str(x) for x in t])
    return rows


def read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="", encoding="utf-8") as fh:
        header, *rows = list(csv.reader(fh))
    return header, rows


@pytest.mark.parametrize("venue", ["kalshi", "kraken"])
def test_trades_csv_is_the_recordings_trades_in_order(recording: Path, tmp_path: Path, venue: str) -> None:
    out = tmp_path / "trades.csv"
    proc = run("replay", str(recording), "--venue", venue, "--csv", "trades", str(out))
    assert proc.returncode == 0, proc.stderr
    header, rows = read_csv(out)
    assert header == ["time", "market", "price", "size", "side", "trade_id"]
    expected = expected_trades(recording, venue)
    assert len(expected) >= 3, "the simulator printed too few trades to compare"
    assert rows == expected
    assert proc.stderr.strip() == f"{len(rows)} trades rows written to {out}"
    for row in rows:  # a date, a time and a zone a spreadsheet can read
        assert datetime.fromisoformat(row[0]).utcoffset() is not None and row[0][4] == "-"


def test_books_csv_ends_on_the_final_books(recording: Path, tmp_path: Path) -> None:
    """The top of book after each change; each market's last row is its final book's touch."""
    out = tmp_path / "books.csv"
    proc = run("replay", str(recording), "--venue", "kraken", "--csv", "books", str(out))
    assert proc.returncode == 0, proc.stderr
    header, rows = read_csv(out)
    assert tuple(header) == COLUMNS["books"]
    replayed = run("replay", str(recording), "--venue", "kraken", "--json").stdout.splitlines()
    final = {r["market"]: r for r in map(json.loads, replayed) if r["bids"]}  # (trades name other pairs)
    last = {row[1]: row for row in rows}
    assert set(last) == set(final)
    for market, row in last.items():
        bids, asks = final[market]["bids"], final[market]["asks"]
        assert row[2:] == [bids[0][0], bids[0][1], asks[0][0], asks[0][1]], market
    consecutive = {}
    for row in rows:  # a row only when the touch moved
        assert consecutive.get(row[1]) != row[2:]
        consecutive[row[1]] = row[2:]


def test_fills_csv_is_the_users_fills(recording: Path, tmp_path: Path) -> None:
    out = tmp_path / "fills.csv"
    proc = run("replay", str(recording), "--venue", "kalshi", "--csv", "fills", str(out))
    assert proc.returncode == 0, proc.stderr
    header, rows = read_csv(out)
    assert tuple(header) == COLUMNS["fills"]
    fills = [f["msg"] for v, f, _ in _frames(recording) if v == "kalshi" and f.get("type") == "fill"]
    assert fills and [r[7] for r in rows] == list(dict.fromkeys(m["trade_id"] for m in fills))  # type: ignore[index]
    by_id = {m["trade_id"]: m for m in fills}  # type: ignore[index]
    for row in rows:
        msg = by_id[row[7]]
        assert (row[1], row[4], row[5]) == (msg["market_ticker"], msg["count_fp"], msg["fee_cost"])
        assert row[6] == ("taker" if msg["is_taker"] else "maker")


def test_parquet_when_pyarrow_is_there_and_a_sentence_when_not(recording: Path, tmp_path: Path) -> None:
    out = tmp_path / "trades.parquet"
    proc = run("replay", str(recording), "--venue", "kraken", "--csv", "trades", str(out))
    if not parquet_available():
        assert proc.returncode == 2 and not out.exists()
        assert proc.stderr.strip() == (
            f"market-monitor replay: error: {out}: Parquet needs the pyarrow package (pip install pyarrow); "
            "name the file .csv for CSV"
        )
        return
    import pyarrow.parquet as pq

    assert proc.returncode == 0, proc.stderr
    table = pq.read_table(out).to_pylist()
    assert [list(r.values()) for r in table] == expected_trades(recording, "kraken")
    assert list(table[0]) == list(COLUMNS["trades"])


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("--csv", "quotes", "x.csv"), "--csv 'quotes': choose trades, books or fills"),
        (("--csv", "trades", "/no/such/dir/x.csv"), "/no/such/dir/x.csv: no such folder /no/such/dir"),
    ],
)
def test_bad_export_requests_are_one_sentence(recording: Path, args: tuple[str, ...], words: str) -> None:
    proc = run("replay", str(recording), "--venue", "kraken", *args)
    assert proc.returncode == 2 and proc.stderr.strip() == f"market-monitor replay: error: {words}"

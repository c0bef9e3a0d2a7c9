"""Recordings on disk: gzip-compressed by name, read back plain or compressed (detected from the bytes),
damaged lines named and skipped, and files that are not recordings refused in words. Recorded from the
real simulator through ``market-monitor stream --record``, replayed through ``market-monitor replay``."""

from __future__ import annotations

import gzip
import io
import json
import subprocess
from pathlib import Path

import pytest

from app.core.recording import FORMAT_KEY, FORMAT_VERSION, Reader, RecordingError
from app.sim.market import SimConfig, SimMarket
from app.stream.recorder import Recorder
from tests.command import COMMAND

KALSHI = [t for t in SimMarket(SimConfig(seed=1)).kalshi if t.startswith("KXCPI")][:2]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([COMMAND, *args], capture_output=True, text=True, check=False, timeout=90)


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, dict[str, object]]]:
    """Two seconds of both venues from the simulator, recorded compressed, and the stream's own final
    books (``stream --json``) to compare the replay with."""
    path = tmp_path_factory.mktemp("rec") / "session.jsonl.gz"
    proc = run(
        "stream", "--duration", "2", "--json", "--markets", "BTC/USD", "ETH/USD", *KALSHI,
        "--record", str(path), "--rate", "300",
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    reports = [json.loads(line) for line in proc.stdout.splitlines()]
    books = {f"{r['venue']}:{r['market']}": r for r in reports if "market" in r}
    return path, books


def _books(proc: subprocess.CompletedProcess[str]) -> dict[str, dict[str, object]]:
    assert proc.returncode == 0, proc.stderr
    return {f"{r['venue']}:{r['market']}": r for r in map(json.loads, proc.stdout.splitlines())}


def test_recording_is_gzip_with_a_header_and_replays_to_the_streams_books(
    recorded: tuple[Path, dict[str, dict[str, object]]],
) -> None:
    """Both venues' final books from the compressed file equal what the stream itself ended with: the
    commands it sent are recorded, so Kalshi's YES-price subscription is known to the replay."""
    path, live = recorded
    assert path.read_bytes()[:2] == b"\x1f\x8b"
    with gzip.open(path, "rt") as fh:
        header = json.loads(fh.readline())
        lines = [json.loads(line) for line in fh]
    assert header[FORMAT_KEY] == FORMAT_VERSION and header["started"].endswith("+00:00")
    assert any("sent" in line for line in lines) and any("frame" in line for line in lines)
    assert not any("token" in json.loads(line["sent"]).get("params", {}) for line in lines if "sent" in line)
    for venue in ("kalshi", "kraken"):
        replayed = _books(run("replay", str(path), "--venue", venue, "--json"))
        for key, report in live.items():
            if key.startswith(venue):
                got = replayed[key]
                assert (got["bids"], got["asks"]) == (report["bids"], report["asks"]), key
                assert got["seq_gaps"] == 0 and got["checksum_failed"] == 0 and got["errors"] == 0
                assert got["bids"], key


def test_plain_and_compressed_files_replay_the_same(
    recorded: tuple[Path, dict[str, dict[str, object]]], tmp_path: Path
) -> None:
    path, _live = recorded
    plain = tmp_path / "renamed.dat"  # detected from the bytes, not the name
    plain.write_bytes(gzip.decompress(path.read_bytes()))
    for venue in ("kalshi", "kraken"):
        a = run("replay", str(path), "--venue", venue, "--json")
        b = run("replay", str(plain), "--venue", venue, "--json")
        assert a.returncode == b.returncode == 0 and a.stdout == b.stdout and a.stdout


def test_damaged_lines_are_named_counted_and_skipped(
    recorded: tuple[Path, dict[str, dict[str, object]]], tmp_path: Path
) -> None:
    path, _live = recorded
    lines = gzip.decompress(path.read_bytes()).decode().splitlines(keepends=True)
    # Line 3 garbled, one frame cut in half in the middle: the books still end right because Kraken's
    # checksums and Kalshi's sequence numbers notice nothing lost on a line that was never a frame.
    lines[2] = "\x00garbage\n"
    lines.insert(5, lines[5][:20] + "\n")
    damaged = tmp_path / "damaged.jsonl.gz"
    damaged.write_bytes(gzip.compress("".join(lines).encode()))
    proc = run("replay", str(damaged), "--venue", "kraken", "--json")
    assert proc.returncode == 0, proc.stderr
    messages = proc.stderr.strip().splitlines()
    assert messages == [
        f"market-monitor replay: {damaged} line 3: damaged (not a JSON object: cut off or garbled), skipped",
        f"market-monitor replay: {damaged} line 6: damaged (not a JSON object: cut off or garbled), skipped",
    ]
    table = run("replay", str(damaged), "--venue", "kraken")
    assert "2 damaged lines skipped" in table.stdout
    strict = run("replay", str(damaged), "--venue", "kraken", "--strict")
    assert strict.returncode == 1 and "line 3: damaged" in strict.stderr and "Traceback" not in strict.stderr


def test_a_recording_cut_off_mid_write_replays_what_it_holds(
    recorded: tuple[Path, dict[str, dict[str, object]]], tmp_path: Path
) -> None:
    """The app killed while recording leaves an unfinished gzip stream: what was written replays, and
    the message says where it ends."""
    path, _live = recorded
    data = path.read_bytes()
    cut = tmp_path / "cut.jsonl.gz"
    cut.write_bytes(data[: len(data) * 2 // 3])
    proc = run("replay", str(cut), "--venue", "kraken", "--json")
    assert proc.returncode == 0, proc.stderr
    assert "compressed data ends early or is corrupt" in proc.stderr and "skipped" in proc.stderr
    assert any(r["bids"] for r in map(json.loads, proc.stdout.splitlines()))


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "is not a recording: it holds binary data, not JSON lines"),
        (b"time,market,price\n2026-12-03,BTC/USD,1\n", "is not a recording: line 1 is not a JSON object"),
        (b"\x28\xb5\x2f\xfd\x00\x00", "is zstd-compressed; this build writes and reads gzip recordings"),
        (b"\x1f\x8b\x08\x00garbage-not-deflate", "is not a recording: its gzip data cannot be read"),
        (
            json.dumps({FORMAT_KEY: 99, "started": "2030-01-01T00:00:00+00:00"}).encode() + b"\n{}\n",
            "is a recording of format version 99; this build reads version 1",
        ),
    ],
)
def test_what_is_not_a_recording_is_refused_in_words(tmp_path: Path, content: bytes, words: str) -> None:
    path = tmp_path / "input.jsonl"
    path.write_bytes(content)
    proc = run("replay", str(path), "--venue", "kraken")
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.strip() == f"market-monitor replay: error: {path} {words}" or words in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_recorder_writes_what_the_reader_reads(tmp_path: Path) -> None:
    """The header's session settings, a sent command without its token, a frame's exact number text."""
    path = tmp_path / "r.jsonl.gz"
    rec = Recorder.create(path, {"kraken": {"depth": 25}})
    rec.sent("kraken", 1, {"method": "subscribe", "params": {"channel": "executions", "token": "SECRET"}})
    rec.frame("kraken", 1, '{"price":0.10000000}', "kraken-private")
    rec.close()
    assert b"SECRET" not in gzip.decompress(path.read_bytes())
    with path.open("rb") as raw, gzip.GzipFile(fileobj=raw) as fh:
        reader = Reader(fh, str(path))
        sent, frame = list(reader)
    assert reader.header is not None and reader.header["sessions"] == {"kraken": {"depth": 25}}
    assert sent.sent
    assert json.loads(sent.text or "") == {"method": "subscribe", "params": {"channel": "executions"}}
    assert frame.text == '{"price":0.10000000}' and frame.link == "kraken-private" and frame.conn == 1


def test_reader_refuses_before_the_first_entry() -> None:
    reader = Reader(io.BytesIO(b"not json\n{}\n"), "x.jsonl")
    with pytest.raises(RecordingError, match=r"x\.jsonl is not a recording: line 1"):
        list(reader)

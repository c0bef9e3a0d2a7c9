"""A recording made from the simulator, replayed into the window: the books at the end equal the
simulator's truth at the recording's end; a seek lands on the same books a straight read of the file
gives, back and forth; the speeds scale wall time; alerts fire on the replay, marked, without touching the
saved rules; ``--replay --smoke`` passes only on a recording with data."""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.alerts.grammar import parse
from app.cli.bench.truth import kalshi_truth_in_yes_terms, kraken_truth, wrong_books
from app.core.instruments import Venue
from app.core.recording import LineSource, Reader
from app.core.store import MarketStore
from app.launch.launcher import launch
from app.sim.market import SimConfig, SimMarket
from app.sim.server import SimOptions
from app.stream import recorder as recorder_mod
from app.stream import replay_player
from app.stream.recorder import Recorder
from app.ui.window import MainWindow
from app.user import settings as settings_mod
from app.user.secret_store import SecretStore
from app.user.settings import SIM_PROFILE, Profile
from app.venues.replay import Sessions
from tests.command import COMMAND
from tests.qtsupport import pump_until, run_on

Levels = tuple[list[tuple[Decimal, Decimal]], list[tuple[Decimal, Decimal]]]
KALSHI = [t for t in SimMarket(SimConfig(seed=5)).kalshi if t.startswith(("KXBTCD", "KXFED"))][:4]
KRAKEN = ["BTC/USD", "ETH/USD", "XRP/USD"]


async def record(path: Path, seconds: float) -> dict[tuple[Venue, str], Levels]:
    """``seconds`` of the simulator recorded as the window records (gzip members, flushed often), until
    the market freezes and every book equals the simulator's; returns that truth."""
    rec = Recorder.create(path, {"kalshi": {"use_yes_price": True}, "kraken": {"depth": 10}})
    running = await launch(
        Profile(SIM_PROFILE),
        SecretStore(),
        {Venue.KALSHI: KALSHI, Venue.KRAKEN: KRAKEN},
        sim_options=SimOptions(seed=5, rate=300, duration=seconds),
        link_options={"recorder": rec},
    )
    sim = running.sim
    assert sim is not None
    try:
        while not sim.frozen.is_set():
            await asyncio.sleep(0.2)
            rec.flush()  # as File → Record does each second: a new gzip member past MEMBER_BYTES
        deadline = time.monotonic() + 15
        while wrong_books(sim, running.engine) and time.monotonic() < deadline:
            await asyncio.sleep(0.1)
        assert not wrong_books(sim, running.engine)
        truth: dict[tuple[Venue, str], Levels] = {
            (Venue.KALSHI, m): kalshi_truth_in_yes_terms(sim, m) for m in KALSHI
        }
        truth |= {(Venue.KRAKEN, m): kraken_truth(sim, m, 10) for m in KRAKEN}
    finally:
        for link in running.engine.links:
            link.recorder = None
        rec.close()
        await running.stop()
    return truth


@pytest.fixture
def win(qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path) -> Iterator[MainWindow]:
    settings = settings_mod.load(tmp_path / "config")
    settings.alerts.append(parse("kalshi fill"))  # the simulated account fills: the replay fires it
    w = MainWindow(settings, SecretStore(), config_dir=tmp_path / "config", data_dir=tmp_path / "data")
    qtbot.addWidget(w)
    w.resize(1366, 768)
    w.show()
    yield w
    run_on(qloop, w.shutdown())


def books(store: MarketStore, keys: list[tuple[Venue, str]]) -> dict[tuple[Venue, str], Levels]:
    return {k: store.books[k[0]][k[1]].levels_as_decimals() for k in keys if k[1] in store.books[k[0]]}


def straight_read(path: Path, until_ms: int) -> MarketStore:
    """The file read from its start, every frame received before ``until_ms`` applied: what a seek there
    must show."""
    store = MarketStore()
    sessions = {v: Sessions(v, store.books[v]) for v in Venue}
    reader = Reader(LineSource(path), str(path))
    for entry in reader:
        if entry.rx_ms is not None and entry.rx_ms >= until_ms:
            break
        for s in sessions.values():
            s.configure(reader.header)
        events = sessions[Venue(entry.venue)].feed(entry) if entry.venue else None
        if events:
            store.apply(Venue(entry.venue), events)  # type: ignore[arg-type]
    return store


def _pump(seconds: float) -> None:
    app = QApplication.instance()
    assert app is not None
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.002)


def test_replay_in_the_window_ends_on_the_truth_and_seeks_exactly(
    win: MainWindow, qloop: asyncio.AbstractEventLoop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(recorder_mod, "MEMBER_BYTES", 16_000)  # many members in a short recording
    monkeypatch.setattr(replay_player, "CHECKPOINT_FRAMES", 60)
    path = tmp_path / "rec.jsonl.gz"
    truth = run_on(qloop, record(path, 3.0), timeout=40)
    keys = list(truth)
    assert run_on(qloop, win.replay.open(path, play=False))
    player, index = win.replay.player, win.replay.index
    assert player is not None and index is not None and win.replay.built_now
    assert len(index.checkpoints) >= 3, len(index.checkpoints)
    assert replay_player.index_path(path).exists()
    assert win.replay.badge.isVisible() and not win.sim_badge.isVisible() and win.replay.toolbar.isVisible()
    assert {(r.venue, r.market) for r in win.settings.watchlist().markets} == set(keys)

    win.replay.set_speed(None)  # max
    win.actions_by_name["replay_play"].trigger()
    pump_until(lambda: player.at_end, timeout=30)
    _pump(0.3)  # the views catch up
    assert books(win.store, keys) == truth
    assert win.has_market_data()
    assert "REPLAY" in win.statusBar().findChild(type(win.replay.badge), "replayBadge").text()

    # Alerts fired on the replay, marked so, and the saved rule was not touched.
    log = win.alerts.log
    assert log.entries and all(e.replay for e in log.entries)
    assert log.cell(0, 2).startswith("REPLAY kalshi:")
    assert win.settings.alerts[0].last_fired_at is None

    assert index.first_ms is not None and index.last_ms is not None
    mid = index.first_ms + (index.last_ms - index.first_ms) // 2
    win.replay.seek(mid)
    at_mid = books(win.store, keys)
    assert at_mid == books(straight_read(path, mid), keys)
    assert at_mid != truth  # the market moved after the middle
    win.replay.seek(index.last_ms + 1)
    assert books(win.store, keys) == truth
    started = time.monotonic()
    win.replay.seek(mid)
    assert time.monotonic() - started < 1.0
    assert books(win.store, keys) == at_mid
    _pump(0.2)
    assert win.has_market_data()

    # The speeds scale wall time: a second of wall time moves the clock by about speed seconds.
    for speed, low, high in ((1.0, 600, 1500), (2.0, 1300, 2900)):
        win.replay.seek(index.first_ms)
        win.replay.set_speed(speed)
        player.play()
        start_ms = player.position_ms or index.first_ms
        _pump(1.0)
        player.pause()
        moved = (player.position_ms or 0) - start_ms
        assert low <= moved <= high, (speed, moved)

    # Back to live: the simulator again, the live watchlist back, the replay's own list never saved.
    win.actions_by_name["replay_live"].trigger()
    pump_until(lambda: not win.replay.active and win.running is not None and win.running.sim is not None, 20)
    assert not win.replay.badge.isVisible() and not win.replay.toolbar.isVisible()
    assert "Replay" not in [w.name for w in win.settings.watchlists]

    # Opened again: the checkpoints kept beside the file are used, not built again.
    assert run_on(qloop, win.replay.open(path, play=False))
    assert not win.replay.built_now


def test_checkpoints_from_elsewhere_are_not_trusted(tmp_path: Path) -> None:
    """The checkpoints file is a pickle: one not signed with this user's key is ignored, never loaded."""
    path = tmp_path / "r.jsonl"
    path.write_text('{"frame": "{}", "venue": "kraken", "conn": 1, "rx_ms": 1}\n')
    _index, built = replay_player.open_index(path, tmp_path / "me")
    assert built and replay_player.load_index(path, tmp_path / "me") is not None
    assert replay_player.load_index(path, tmp_path / "someone-else") is None
    data = replay_player.index_path(path).read_bytes()
    replay_player.index_path(path).write_bytes(data[:40] + b"x" + data[41:])
    assert replay_player.load_index(path, tmp_path / "me") is None


def test_smoke_on_a_recording(tmp_path: Path) -> None:
    rec = tmp_path / "s.jsonl.gz"
    made = subprocess.run(
        [COMMAND, "stream", "--duration", "2", "--json", "--record", str(rec)],
        capture_output=True, text=True, check=False, timeout=90,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    shot = tmp_path / "replay.png"
    env = {"QT_QPA_PLATFORM": "offscreen"}
    import os

    proc = subprocess.run(
        [COMMAND, "--config-dir", str(tmp_path / "cfg"), "--replay", str(rec), "--smoke", "3",
         "--screenshot", str(shot)],
        capture_output=True, text=True, check=False, timeout=90, env={**os.environ, **env},
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "smoke: watchlist rows with quotes" in proc.stdout and shot.stat().st_size > 10_000
    bad = tmp_path / "bad.jsonl"
    bad.write_text("not a recording\n")
    proc = subprocess.run(
        [COMMAND, "--config-dir", str(tmp_path / "cfg"), "--replay", str(bad), "--smoke", "2"],
        capture_output=True, text=True, check=False, timeout=90, env={**os.environ, **env},
    )  # fmt: skip
    assert proc.returncode == 1 and "is not a recording" in proc.stderr and "Traceback" not in proc.stderr


def test_window_exports_equal_the_headless_csv(
    win: MainWindow, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    """File → Export trades… and Export fills… (also on the tape's and fills' right-click) write the
    same rows as ``replay --csv``: the recording replayed in the window, then exported."""
    import csv

    rec = tmp_path / "e.jsonl.gz"
    made = subprocess.run(
        [COMMAND, "stream", "--duration", "3", "--json", "--record", str(rec), "--markets", *KALSHI, *KRAKEN],
        capture_output=True, text=True, check=False, timeout=90,
    )  # fmt: skip
    assert made.returncode == 0, made.stderr
    assert run_on(qloop, win.replay.open(rec, play=False))
    player = win.replay.player
    assert player is not None
    win.replay.set_speed(None)
    player.play()
    pump_until(lambda: player.at_end, timeout=30)
    assert win.actions_by_name["export_trades"] in win.docks["tape"].widget().actions()

    def rows(path: Path) -> list[list[str]]:
        with path.open(newline="", encoding="utf-8") as fh:
            return list(csv.reader(fh))

    headless: dict[str, list[list[str]]] = {}
    for kind in ("trades", "fills"):
        headless[kind] = []
        for venue in ("kalshi", "kraken"):
            out = tmp_path / f"{venue}-{kind}.csv"
            proc = subprocess.run(
                [COMMAND, "replay", str(rec), "--venue", venue, "--csv", kind, str(out)],
                capture_output=True, text=True, check=False, timeout=60,
            )  # fmt: skip
            assert proc.returncode == 0, proc.stderr
            header, *body = rows(out)
            headless[kind] += body
    busiest = max(KALSHI + KRAKEN, key=lambda m: sum(r[1] == m for r in headless["trades"]))
    wl = win.settings.watchlist()
    ref = next(r for r in wl.markets if r.market == busiest)
    assert win.select(ref)
    out = tmp_path / "window-trades.csv"
    assert win.tables.export_trades(str(out)) is not None
    header, *body = rows(out)
    assert header == ["time", "market", "price", "size", "side", "trade_id"]
    assert body and body == [r for r in headless["trades"] if r[1] == busiest]
    out = tmp_path / "window-fills.csv"
    assert win.tables.export_fills(str(out)) is not None
    header, *body = rows(out)
    assert header[0] == "time" and sorted(body) == sorted(headless["fills"]) and body
    assert "rows written to" in win.statusBar().currentMessage()

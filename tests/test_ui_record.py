"""File → Record in the window, on the real simulator: the REC mark, a file in the data folder that
replays headless to exactly the books the window showed when recording stopped, and the free-space guard
that stops a recording in words."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot

from app.core.instruments import Venue
from app.core.recording import open_binary
from app.sim.server import SimOptions
from app.ui.window import MainWindow
from app.user import settings as settings_mod
from app.user.secret_store import SecretStore
from app.venues.replay import replay
from tests.qtsupport import pump_until, run_on

NAME = re.compile(r"\d{4}-\d\d-\d\d_\d\d-\d\d-\d\dZ\.jsonl\.gz")


@pytest.fixture
def win(qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path) -> Iterator[MainWindow]:
    settings = settings_mod.load(tmp_path / "config")
    w = MainWindow(
        settings,
        SecretStore(),
        config_dir=tmp_path / "config",
        data_dir=tmp_path / "data",
        sim_options=SimOptions(seed=2, rate=300),
    )
    qtbot.addWidget(w)
    w.show()
    w.start()
    pump_until(lambda: w.catalog_ready.is_set() and w.has_market_data(), timeout=20)
    yield w
    run_on(qloop, w.shutdown())


def _pump(seconds: float) -> None:
    end = time.monotonic() + seconds
    app = QApplication.instance()
    assert app is not None
    while time.monotonic() < end:
        app.processEvents()
        time.sleep(0.002)


def _levels(book: object) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    return book.top_bids(), book.top_asks()  # type: ignore[attr-defined]


def test_record_toggle_writes_a_file_that_replays_to_the_windows_books(win: MainWindow) -> None:
    action = win.actions_by_name["record"]
    assert action.isCheckable() and action.shortcut().toString() == "Ctrl+R"
    _pump(1.0)  # recording starts mid-connection: the controller asks for fresh snapshots
    action.trigger()
    assert win.recording.recording and action.isChecked()
    path = win.recording.path
    assert path is not None and path.parent == win.data_dir / "recordings" and NAME.fullmatch(path.name)
    _pump(2.5)
    mark = win.recording.mark
    assert mark.isVisible() and re.fullmatch(r"● REC 00:0[1-3] · [\d.]+ (B|kB|MB)", mark.text()), mark.text()
    win.statusBar().showMessage("a passing message must not hide the REC mark", 5_000)
    assert mark.isVisible()
    action.trigger()  # stop: the store now holds exactly what the file holds
    assert not win.recording.recording and not action.isChecked() and not mark.isVisible()
    wl = win.settings.watchlist()
    for venue in Venue:
        with open_binary(path) as fh:
            result = replay(fh, venue, source=str(path))
        assert result.bad_lines == 0 and result.totals.checksum_failed == 0
        for market in wl.of(venue):
            live = win.store.books[venue][market]
            got = result.books[market]
            assert not got.stale, (market, got.stale_reason)
            assert _levels(got) == _levels(live), market
            assert got.top_bids(), market


def test_recording_stops_in_words_when_the_disk_runs_low(win: MainWindow) -> None:
    win.actions_by_name["record"].trigger()
    path = win.recording.path
    assert path is not None
    _pump(0.5)
    win.recording.min_free = 1 << 62  # more than any disk has free: the next check stops it
    pump_until(lambda: not win.recording.recording, timeout=5)
    assert not win.actions_by_name["record"].isChecked()
    reason = win.recording.last_stop_reason or ""
    assert reason.startswith("stopped: only ") and "left free on the disk" in reason
    box = win.findChild(QMessageBox, "recordBox")
    assert box is not None and box.isVisible() and str(path) in box.text()
    box.close()
    with open_binary(path) as fh:  # closed whole: it replays
        assert replay(fh, Venue.KRAKEN).frames > 0
    win.actions_by_name["record"].trigger()  # and starting with too little free space is refused
    assert not win.recording.recording and not win.actions_by_name["record"].isChecked()
    assert "Not recording: only " in win.statusBar().currentMessage()

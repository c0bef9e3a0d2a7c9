"""Issue 16's exports of every table in the real window on the simulator: the watchlist, positions, health
and the Alerts log as CSV with exact decimal text, ISO 8601 times with the date and zone, and a header row;
each reachable from File → Export and from the table's own right-click."""

from __future__ import annotations

import asyncio
import csv
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.alerts.grammar import parse
from app.core.instruments import Venue
from app.core.numbers import format_decimal
from app.ui import table_export
from app.ui.window import MainWindow
from tests.qtsupport import pump_until, window_factory


@pytest.fixture
def win(qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path) -> Iterator[MainWindow]:
    for make in window_factory(qtbot, qloop, tmp_path, seed=5, rate=300, size=(1366, 768)):
        yield make()


def _rows(path: Path) -> list[list[str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def _iso(text: str) -> datetime:
    when = datetime.fromisoformat(text)
    assert when.tzinfo is not None and "T" in text  # the date and the zone, always
    return when


def test_every_table_exports_its_exact_data(win: MainWindow, tmp_path: Path) -> None:
    win.settings.alerts.append(parse("kalshi fill"))  # fires on the simulator's fills
    win.alerts.rearm()
    pump_until(lambda: win.alerts.log.entries and win.store.positions and win.store.balances, timeout=40)
    pump_until(lambda: all(r.values[0] is not None for r in win.watch_model.rows), timeout=20)

    # The watchlist: one row per market in the order on screen, prices as the store holds them.
    out = tmp_path / "watchlist.csv"
    assert win.tables.export_watchlist_table(str(out)) == len(win.watch_model.rows)
    header, *body = _rows(out)
    assert tuple(header) == table_export.WATCHLIST_COLUMNS
    assert [(r[0], r[1]) for r in body] == [(r.ref.venue.value, r.ref.market) for r in win.watch_model.rows]
    for row in body:
        venue = Venue(row[0])
        book = win.store.book(venue, row[1])
        assert book is not None
        # Prices can move between the export and this check only if the loop ran: it did not.
        best = book.best_bid_price()
        assert row[2] == ("" if best is None else format_decimal(best))
        if venue is Venue.KALSHI:
            assert row[9] == "" or _iso(row[9]).year >= 2026  # the close time, with its date
        assert "," not in row[2] and "¢" not in row[2]  # exact text, never display text

    # Positions: every digit, and the account total.
    out = tmp_path / "positions.csv"
    assert win.tables.export_positions(str(out)) == win.positions_model.rowCount()
    header, *body = _rows(out)
    assert tuple(header) == table_export.POSITION_COLUMNS
    held = {(p.venue.value, p.market): p for p in win.store.positions.values()}
    exported = {(r[0], r[1]): r for r in body}
    assert held and all(exported[k][2] == format_decimal(p.position) for k, p in held.items())
    assert [r[1] for r in body].count("account total (USD)") == 1

    # Health: a row per feed, plain numbers, one stamp.
    out = tmp_path / "health.csv"
    assert win.tables.export_health(str(out)) == win.health_model.rowCount()
    header, *body = _rows(out)
    assert header[:4] == ["time", "venue", "feed", "state"] and "msg_per_s" in header
    assert body and all(_iso(r[0]) for r in body)
    rate = header.index("msg_per_s")
    assert all(r[rate] == "" or float(r[rate]) >= 0 for r in body)

    # The Alerts log, oldest first, each value exactly as the rule fired it.
    out = tmp_path / "alerts.csv"
    entries = list(win.alerts.log.entries)
    assert win.tables.export_alerts_log(str(out)) == len(entries)
    header, *body = _rows(out)
    assert tuple(header) == table_export.ALERT_COLUMNS
    oldest = entries[-1].firing
    assert body[0][2:5] == [oldest.market, oldest.rule.text, oldest.value]
    assert _iso(body[0][0]).timestamp() == pytest.approx(oldest.received_ms / 1000)
    assert body[0][7] == "no"  # not acknowledged yet

    # Reachable where a user looks: File → Export and each table's right-click.
    file_menu = {a.objectName() for a in win.menuBar().actions()[0].menu().actions()}
    assert {"export_table", "export_positions", "export_health", "export_alerts"} <= file_menu
    for dock, action in table_export.DOCK_EXPORTS.items():
        assert win.actions_by_name[action] in win.docks[dock].widget().actions()
    assert win.actions_by_name["export_alerts"] in win.alerts.panel.view.actions()
    assert "rows written to" in win.statusBar().currentMessage()


def test_an_export_to_a_missing_folder_says_so_and_writes_nothing(win: MainWindow, tmp_path: Path) -> None:
    from PySide6.QtWidgets import QMessageBox

    from tests.qtsupport import answer_next_dialog

    seen: list[str] = []

    def read(box: object) -> None:
        assert isinstance(box, QMessageBox)
        seen.append(box.text())
        box.accept()

    answer_next_dialog(read)
    target = tmp_path / "nowhere" / "health.csv"
    assert win.tables.export_health(str(target)) is None
    assert seen and "no such folder" in seen[0] and not target.exists()

"""Issue 19 items 8, 9, 10 and the window's "also" list in the real window on the simulator: the state
beside each name whatever columns show, a column chooser and compact mode kept across a restart, a held
sort order, the spread sorted in comparable terms, flashing off/subtle/full kept, Esc clearing the filter
with an "N of M" count, the row menu, and the picker's table saying when nothing matches."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMenu
from pytestqt.qtbot import QtBot

from app.ui.picker import MarketPicker
from app.ui.watchlist_model import C_MARKET, C_SPREAD, COLUMNS, COMPACT, SORT_ROLE, WORD_ROLE
from app.ui.window import MainWindow
from tests.qtsupport import pump_until, run_on, window_factory

Factory = Callable[[], MainWindow]


@pytest.fixture
def make_window(qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path) -> Iterator[Factory]:
    """Windows on one config directory (a restart is a second window)."""
    yield from window_factory(qtbot, qloop, tmp_path, seed=2, rate=400, size=(1366, 768))


def _visible(win: MainWindow) -> list[str]:
    """The columns the user's choices show (a narrow list may squeeze some out: see below)."""
    return [t for c, t in enumerate(COLUMNS) if win.table.column_chosen(c)]


def test_a_narrow_list_squeezes_the_least_read_columns_out_never_the_prices(make_window: Factory) -> None:
    win = make_window()
    view = win.table

    def shown() -> list[str]:
        return [t for c, t in enumerate(COLUMNS) if not view.isColumnHidden(c)]

    win.resize(1024, 700)
    QApplication.processEvents()
    narrow = shown()
    assert {"Market", "Bid", "Ask", "Last"} <= set(narrow) and "Venue" not in narrow
    prices = sum(view.columnWidth(c) for c, t in enumerate(COLUMNS) if t in ("Market", "Bid", "Ask", "Last"))
    optional = {"Venue", "Age", "Closes in", "Prob", "Volume", "Status"}
    # The name and its prices on screen, or (a very narrow list) everything else given way first.
    assert prices <= view.viewport().width() or view.squeezed == optional
    menu = QMenu()
    view.fill_column_menu(menu)
    assert any(a.text() == "Venue (no room: widen the list)" for a in menu.actions())
    win.resize(2400, 1000)
    QApplication.processEvents()
    widths = [view.columnWidth(c) for c in range(len(COLUMNS))]
    before = shown()
    view._fit_width()
    assert before == list(COLUMNS), (view.viewport().width(), widths, shown(), view.squeezed)
    assert shown() == list(COLUMNS) and not view.squeezed  # room again: every column back


def test_columns_and_compact_mode_are_kept_and_the_name_always_shows(
    make_window: Factory, qloop: asyncio.AbstractEventLoop
) -> None:
    win = make_window()
    assert _visible(win) == list(COLUMNS)
    win.table.toggle_column("Volume")
    win.table.toggle_column("Age")
    win.table.toggle_column("Market")  # the name carries the state: it cannot be hidden
    assert "Volume" not in _visible(win) and "Age" not in _visible(win) and "Market" in _visible(win)
    assert win.settings.hidden_columns == ["Age", "Volume"]
    win.toggle_compact()
    assert _visible(win) == [COLUMNS[c] for c in COMPACT]
    assert win.actions_by_name["compact"].isChecked()
    win.close()
    run_on(qloop, win.shutdown())

    again = make_window()  # a restart: the same choices
    assert _visible(again) == [COLUMNS[c] for c in COMPACT] and again.settings.compact
    again.toggle_compact()
    assert _visible(again) == [t for t in COLUMNS if t not in ("Volume", "Age")]
    menu = QMenu()
    again.table.fill_column_menu(menu)
    checks = {a.objectName(): a.isChecked() for a in menu.actions() if a.objectName()}
    assert checks["column_Volume"] is False and checks["column_Bid"] is True
    next(a for a in menu.actions() if a.objectName() == "column_all").trigger()
    assert _visible(again) == list(COLUMNS) and again.settings.hidden_columns == []


def test_held_order_stays_put_while_prices_move_and_spread_sorts_in_bps(make_window: Factory) -> None:
    win = make_window()
    model = win.watch_model
    win.table.sortByColumn(C_SPREAD, Qt.SortOrder.AscendingOrder)
    pump_until(lambda: all(r.spread_bps is not None for r in model.rows), timeout=20)
    keys = [model.index(r, C_SPREAD).data(SORT_ROLE) for r in range(model.rowCount())]
    assert keys == [row.spread_bps for row in model.rows]  # bps of the mid: cents and dollars compare
    assert keys == sorted(keys)

    win.toggle_hold_order()
    assert win.order_held_by_user() and "order held" in win.title.text()
    held = [r.ref for r in model.rows]
    before = {r.ref: r.spread_bps for r in model.rows}
    pump_until(lambda: any(r.spread_bps != before[r.ref] for r in model.rows), timeout=30)
    assert [r.ref for r in model.rows] == held  # prices moved; the rows did not
    win.toggle_hold_order()
    assert not win.order_held_by_user()
    QApplication.processEvents()
    now = [r.spread_bps for r in model.rows]
    assert now == sorted(now)  # let go: the rows take their sorted places at once


def test_flashing_choice_is_kept_and_off_means_no_flash(
    make_window: Factory, qloop: asyncio.AbstractEventLoop
) -> None:
    win = make_window()
    assert win.settings.flash == "subtle" and win.watch_model.flash_mode == "subtle"
    win.actions_by_name["flash_off"].trigger()
    assert win.watch_model.flash_mode == "off" and win.actions_by_name["flash_off"].isChecked()
    model = win.watch_model
    for _ in range(20):  # prices tick, nothing lights
        QTest.qWait(50)
        assert not model._flash
    win.close()
    run_on(qloop, win.shutdown())
    again = make_window()
    assert again.settings.flash == "off" and again.watch_model.flash_mode == "off"
    again.set_flash("full")
    assert again.settings.flash == "full" and again.actions_by_name["flash_full"].isChecked()


def test_escape_clears_the_filter_and_the_title_counts(make_window: Factory) -> None:
    win = make_window()
    total = win.watch_model.counts()[1]
    win.filter.setFocus()
    QTest.keyClicks(win.filter, "btc")
    shown, _ = win.watch_model.counts()
    assert 0 < shown < total
    assert f"{shown} of {total} markets" in win.title.text()
    QTest.keyClick(win.filter, Qt.Key.Key_Escape)
    assert win.filter.text() == "" and win.watch_model.counts() == (total, total)
    assert f"{total} markets" in win.title.text() and " of " not in win.title.text().split("markets")[0]


def test_row_menu_and_state_word_beside_the_name(make_window: Factory) -> None:
    win = make_window()
    menu = QMenu()
    win._fill_row_menu(0, menu)
    names = {a.objectName() for a in menu.actions()}
    assert {"row_open", "row_copy", "row_alert", "row_remove", "export_table"} <= names
    ref = win.watch_model.ref_at(0)
    assert ref is not None
    next(a for a in menu.actions() if a.objectName() == "row_copy").trigger()
    assert QGuiApplication.clipboard().text() == ref.text()
    # A live row carries no word; the name cell is where a word (STALE, SETTLED YES ...) would show.
    word = win.watch_model.index(0, C_MARKET).data(WORD_ROLE)
    assert word in ("", None) or word.isupper()


def test_the_picker_shows_close_time_and_volume_and_says_when_nothing_matches(make_window: Factory) -> None:
    win = make_window()
    picker = MarketPicker(set(), win)
    for venue, items in win.catalog.items():
        picker.add_markets(venue, items)
    model = picker.model
    headers = [model.headerData(c, Qt.Orientation.Horizontal) for c in range(model.columnCount())]
    assert headers == ["Venue", "Market", "Title", "Closes", "24 h volume", "State"]
    kalshi = next(i for i, item in enumerate(model.items) if item.venue.value == "kalshi")
    closes = str(model.index(kalshi, 3).data())
    assert closes[:4].isdigit() and "(in " in closes  # a date, and how long until then
    picker.search.setText("no-such-market-anywhere")
    assert picker.results.currentWidget() is picker.nothing
    assert "No market on either venue matches “no-such-market-anywhere”" in picker.nothing.text()
    picker.search.setText("btc")
    assert picker.results.currentWidget() is picker.view and picker.proxy.rowCount() > 0
    picker.close()

"""Market panes against the real simulator: opening one (row menu, shortcut, middle-click), data reaching
it, its market streamed while it shows it, link groups following, an unlinked pane staying, and a pane
tabbed away costing nothing."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMenu
from pytestqt.qtbot import QtBot

from app.core.instruments import Venue
from app.ui import links
from app.ui.market_pane import MarketPane
from app.ui.window import MainWindow
from app.user.settings import MarketRef
from tests.qtsupport import pump_until, window_factory

Factory = Callable[[], MainWindow]


@pytest.fixture
def make_window(qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path) -> Iterator[Factory]:
    yield from window_factory(qtbot, qloop, tmp_path, seed=3, rate=300, size=(1600, 1000))


def kraken_book_subs(win: MainWindow) -> set[str]:
    sim = win.running.sim if win.running else None
    assert sim is not None
    return {sym for conn in sim.kraken.conns.values() for (ch, sym) in conn.subs if ch == "book" and sym}


def unwatched_pair(win: MainWindow) -> MarketRef:
    watched = set(win.settings.watchlist().of(Venue.KRAKEN))
    pair = next(m.market for m in win.catalog[Venue.KRAKEN] if m.market not in watched)
    return MarketRef(Venue.KRAKEN, pair)


def data_reaches(*panes: MarketPane) -> None:
    """Each pane, brought to the front (it may be a tab behind another), shows its market's data."""
    for pane in panes:
        pane.raise_()
        pump_until(lambda p=pane: p.on_screen() and p.has_data(), timeout=15)


def pick(pane: MarketPane, ref: MarketRef) -> None:
    """A user typing a market into the pane's market field and pressing Enter."""
    pane.market_field.setEditText(ref.text())
    line = pane.market_field.lineEdit()
    assert line is not None
    line.returnPressed.emit()


def test_open_in_new_pane_from_the_row_menu_shortcut_and_middle_click(make_window: Factory) -> None:
    win = make_window()
    rows = win.settings.watchlist().markets
    # The row's context menu.
    menu = QMenu(win)
    win._fill_row_menu(1, menu)
    item = menu.findChild(QAction, "row_pane")
    assert isinstance(item, QAction) and item.text() == "Open in new pane"
    item.trigger()
    assert len(win.panes.panes) == 1
    first = next(iter(win.panes.panes.values()))
    assert first.ref == rows[1] and first.group == links.UNLINKED
    # The shortcut opens the watchlist's selection.
    win.select(rows[2])
    action = win.actions_by_name["pane_open"]
    assert action.shortcut().toString() == "Ctrl+Shift+O"
    action.trigger()
    assert [p.ref for p in win.panes.panes.values()] == [rows[1], rows[2]]
    # A middle-click on a row.
    rect = win.table.visualRect(win.watch_model.index(0, 1))
    QTest.mouseClick(win.table.viewport(), Qt.MouseButton.MiddleButton, pos=rect.center())
    assert [p.ref for p in win.panes.panes.values()] == [rows[1], rows[2], rows[0]]
    # Data reaches every pane, each on its own market (one tabbed behind another gets it when raised).
    for pane in win.panes.panes.values():
        data_reaches(pane)
        assert pane.ref is not None and pane.ref.market in pane.windowTitle()


def test_a_pane_streams_its_market_outside_the_watchlist_and_lets_go_on_close(make_window: Factory) -> None:
    win = make_window()
    ref = unwatched_pair(win)
    assert ref.market not in kraken_book_subs(win)
    pane = win.panes.open_pane(ref)
    pump_until(lambda: ref.market in kraken_book_subs(win), timeout=10)
    data_reaches(pane)
    book = win.store.book(Venue.KRAKEN, ref.market)
    assert book is not None
    pump_until(lambda: pane.ladder.model.shown_levels() > 0)
    pane.ladder.set_depth(100)  # the pane's own ladder asks for a deeper book of its market
    assert win.demand.depths() == {ref.market: 100}
    pump_until(lambda: len(book.top_bids(None)) > 10, timeout=15)
    pane.close()
    assert ref.market not in win.demand.depths()
    assert not win.panes.panes
    pump_until(lambda: ref.market not in kraken_book_subs(win), timeout=10)
    assert f"pane:{pane.pane_id}" not in win.demand.owners()


def test_link_groups_follow_and_an_unlinked_pane_stays(make_window: Factory) -> None:
    win = make_window()
    rows = win.settings.watchlist().markets
    a = win.panes.open_pane(rows[0])
    b = win.panes.open_pane(rows[1])
    alone = win.panes.open_pane(rows[2])
    g1 = win.panes.open_pane(rows[3])
    # Two panes in group 2: picking a market in one moves the other.
    win.panes.set_link(a, 2)
    win.panes.set_link(b, 2)
    assert b.ref == rows[0]  # joined the group: shows the group's market
    extra = unwatched_pair(win)
    pick(b, extra)
    assert a.ref == b.ref == extra and alone.ref == rows[2]
    assert "[2]" in a.windowTitle() and links.COLOURS[2] in a.styleSheet()
    data_reaches(a, b)  # streamed though not in the watchlist
    # Group 1 follows the watchlist; the unlinked pane stays where it is.
    win.panes.set_link(g1, 1)
    assert g1.ref == win.selected
    win.select(rows[4])
    assert g1.ref == rows[4] and alone.ref == rows[2] and a.ref == extra
    # A market picked in a group-1 pane moves the watchlist selection (and its docks).
    pick(g1, rows[5])
    assert win.selected == rows[5]
    assert win.watch_model.ref_at(win.table.currentIndex().row()) == rows[5]
    assert rows[5].market in win.docks["ladder"].windowTitle()
    # ... and a market the watchlist lacks still reaches the main docks, streamed by the group's hold.
    other = next(
        MarketRef(Venue.KRAKEN, m.market)
        for m in win.catalog[Venue.KRAKEN]
        if m.market not in win.settings.watchlist().of(Venue.KRAKEN) and m.market != extra.market
    )
    pick(g1, other)
    assert win.selected == other and alone.ref == rows[2]
    data_reaches(g1)
    pump_until(lambda: win.ladder.level_count() > 0, timeout=15)
    # A bad name is refused in words; the pane stays on its market.
    pick(alone, MarketRef(Venue.KRAKEN, "BTC/USD"))
    alone.market_field.setEditText("nasdaq:AAPL")
    line = alone.market_field.lineEdit()
    assert line is not None
    line.returnPressed.emit()
    assert alone.ref == MarketRef(Venue.KRAKEN, "BTC/USD")
    assert "unknown venue" in win.statusBar().currentMessage()


def test_a_pane_tabbed_away_does_no_work_and_catches_up_when_shown(make_window: Factory) -> None:
    win = make_window()
    rows = win.settings.watchlist().markets
    kraken = [r for r in rows if r.venue is Venue.KRAKEN]
    front = win.panes.open_pane(kraken[0])
    back = win.panes.open_pane(kraken[1])
    win.tabifyDockWidget(front, back)
    front.raise_()
    pump_until(lambda: front.on_screen() and not back.on_screen(), timeout=5)
    pump_until(front.has_data, timeout=15)
    before_back, before_front = back.refreshes, front.refreshes
    pump_until(lambda: front.refreshes >= before_front + 10, timeout=10)
    assert back.refreshes == before_back  # its market ticked all along: not one store read
    assert not back.chart._ticker.isActive() and front.chart._ticker.isActive()  # nor a chart redraw
    back.raise_()
    pump_until(lambda: back.on_screen() and back.has_data(), timeout=10)
    assert back.refreshes > before_back


def test_pane_contents_choose_what_shows(make_window: Factory) -> None:
    win = make_window()
    pane = win.panes.open_pane(win.settings.watchlist().markets[0])
    pump_until(pane.has_data, timeout=15)
    assert pane.contents == {"ladder", "chart", "tape"}  # the depth chart is one click away
    pane.findChild(QAction, "paneShow_depth").trigger()  # on
    pane.findChild(QAction, "paneShow_ladder").trigger()  # off
    pane.findChild(QAction, "paneShow_tape").trigger()  # off
    assert pane.contents == {"depth", "chart"}
    assert not pane.ladder.table.isVisible() and pane.ladder.plot.isVisible()
    assert pane.chart.isVisible() and not pane.tape.isVisible()
    for key in ("depth", "chart"):
        pane.findChild(QAction, f"paneShow_{key}").trigger()
    assert pane.contents == {"chart"}  # the last one stays on: never a blank pane
    pane.findChild(QAction, "paneShow_chart").trigger()
    assert pane.contents == {"chart"} and pane.chart.isVisible() and not pane.ladder.isVisible()

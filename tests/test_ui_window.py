"""The main window against the real simulator: first launch, watchlist management through the menus,
persistence across a restart, the picker reaching the simulator's subscriptions, ladder and fills."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox
from pytestqt.qtbot import QtBot

from app.core.instruments import Environment, Venue
from app.sim.server import SimOptions
from app.ui.import_report import ImportReport
from app.ui.picker import MarketPicker
from app.ui.watchlist_model import C_BID
from app.ui.window import MainWindow
from app.user import settings as settings_mod
from app.user.secret_store import SecretStore
from app.user.settings import MarketRef
from tests.qtsupport import answer_next_dialog, pump_until, run_on, type_name

Factory = Callable[[], MainWindow]


@pytest.fixture
def make_window(qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path) -> Iterator[Factory]:
    """Windows on one config directory (a restart is a second window), each on its own simulator."""
    made: list[MainWindow] = []

    def make() -> MainWindow:
        settings = settings_mod.load(tmp_path)
        win = MainWindow(
            settings, SecretStore(), config_dir=tmp_path, sim_options=SimOptions(seed=1, rate=300)
        )
        qtbot.addWidget(win)
        win.show()
        win.start()
        made.append(win)
        pump_until(lambda: win.catalog_ready.is_set() and win.has_market_data(), timeout=20)
        return win

    yield make
    for win in made:
        run_on(qloop, win.shutdown())


def _close(qloop: asyncio.AbstractEventLoop, win: MainWindow) -> None:
    win.close()
    run_on(qloop, win.shutdown())


def _sim_book_subscriptions(win: MainWindow) -> dict[Venue, set[str]]:
    sim = win.running.sim if win.running else None
    assert sim is not None
    kalshi = {
        m
        for conn in sim.kalshi.conns.values()
        for sub in conn.subs.values()
        if sub.channel == "orderbook_delta"
        for m in (sub.markets or ())
    }
    kraken = {sym for conn in sim.kraken.conns.values() for (ch, sym) in conn.subs if ch == "book" and sym}
    return {Venue.KALSHI: kalshi, Venue.KRAKEN: kraken}


def test_first_launch_opens_on_the_simulator_with_data_from_both_venues(make_window: Factory) -> None:
    win = make_window()
    wl = win.settings.watchlist()
    assert {r.venue for r in wl.markets} == {Venue.KALSHI, Venue.KRAKEN}
    assert win.sim_badge.isVisible() and "SIMULATED" in win.sim_badge.text()
    win.statusBar().showMessage("a passing message hides the bar's normal widgets", 5_000)
    assert win.sim_badge.isVisible()  # never simulated data without the badge
    pump_until(lambda: all(r.values[0] is not None for r in win.watch_model.rows), timeout=15)
    subs = _sim_book_subscriptions(win)
    assert subs[Venue.KALSHI] == set(wl.of(Venue.KALSHI)) and subs[Venue.KRAKEN] == set(wl.of(Venue.KRAKEN))
    pump_until(lambda: "live" in win.venue_status[Venue.KRAKEN].state_text, timeout=10)
    assert win.windowTitle().startswith("Market Monitor")


def test_watchlists_through_the_menus_survive_a_restart(
    make_window: Factory, qloop: asyncio.AbstractEventLoop, tmp_path: Path
) -> None:
    win = make_window()
    seeded = list(win.settings.watchlist().markets)
    answer_next_dialog(type_name("Crypto"))
    win.actions_by_name["wl_new"].trigger()
    assert win.settings.active_watchlist == "Crypto" and win.watch_model.rowCount() == 0
    answer_next_dialog(type_name("Coins"))
    win.actions_by_name["wl_rename"].trigger()
    assert [w.name for w in win.settings.watchlists] == ["Default", "Coins"]
    # A name already taken is refused with a message, and nothing changes.
    box: list[str] = []

    def taken(dialog: QDialog) -> None:
        type_name("Default")(dialog)  # refused inside the dialog, which stays open and says why
        assert dialog.isVisible()
        box.append(dialog.labelText())  # type: ignore[attr-defined]
        type_name("x" * 61)(dialog)  # too long: refused the same way, nothing typed is lost
        assert dialog.isVisible() and "at most 60" in dialog.labelText()  # type: ignore[attr-defined]
        dialog.reject()

    answer_next_dialog(taken)
    win.actions_by_name["wl_rename"].trigger()
    assert box and "already exists" in box[0]
    assert win.settings.active_watchlist == "Coins"
    # Add one market, make a throwaway list and delete it.
    win.switch_watchlist("Coins")
    win.settings.watchlist().add(MarketRef(Venue.KRAKEN, "ETH/USD"))
    win.watchlist_changed()
    answer_next_dialog(type_name("Scratch"))
    win.actions_by_name["wl_new"].trigger()

    def yes(dialog: QDialog) -> None:
        assert isinstance(dialog, QMessageBox)
        dialog.button(QMessageBox.StandardButton.Yes).click()

    answer_next_dialog(yes)
    win.actions_by_name["wl_delete"].trigger()
    assert [w.name for w in win.settings.watchlists] == ["Default", "Coins"]
    assert win.settings.active_watchlist == "Default"
    win.switch_watchlist("Coins")
    win.docks["health"].hide()
    _close(qloop, win)

    again = make_window()
    assert [w.name for w in again.settings.watchlists] == ["Default", "Coins"]
    assert again.settings.active_watchlist == "Coins"
    assert again.settings.watchlist().markets == [MarketRef(Venue.KRAKEN, "ETH/USD")]
    assert again.settings.watchlist("Default").markets == seeded
    assert not again.docks["health"].isVisible()  # dock layout came back too
    pump_until(lambda: _sim_book_subscriptions(again)[Venue.KRAKEN] == {"ETH/USD"}, timeout=10)


def test_a_market_added_from_the_picker_is_subscribed_and_its_row_fills(make_window: Factory) -> None:
    win = make_window()
    wl = win.settings.watchlist()
    target = "LINK/USD"
    assert MarketRef(Venue.KRAKEN, target) not in wl.markets
    kalshi_target = next(
        m.market for m in win.catalog[Venue.KALSHI] if MarketRef(Venue.KALSHI, m.market) not in wl.markets
    )

    def pick(dialog: QDialog) -> None:
        assert isinstance(dialog, MarketPicker)
        pump_until(lambda: dialog.model.rowCount() > 0)
        dialog.search.setText("link usd")
        assert dialog.proxy.rowCount() == 1
        dialog._enter()

    answer_next_dialog(pick)
    win.actions_by_name["add"].trigger()
    ref = MarketRef(Venue.KRAKEN, target)
    assert wl.markets[-1] == ref and win.selected == ref
    pump_until(lambda: target in _sim_book_subscriptions(win)[Venue.KRAKEN], timeout=10)
    row = win.watch_model.row_of(ref)
    assert row is not None
    pump_until(lambda: win.watch_model.rows[row].values[0] is not None, timeout=10)

    def pick_kalshi(dialog: QDialog) -> None:
        assert isinstance(dialog, MarketPicker)
        dialog.search.setText(kalshi_target.lower())
        dialog._enter()

    answer_next_dialog(pick_kalshi)
    win.actions_by_name["add"].trigger()
    pump_until(lambda: kalshi_target in _sim_book_subscriptions(win)[Venue.KALSHI], timeout=10)

    # Remove it again (the selected market): unsubscribed at the venue, row gone.
    win.select(ref)
    win.actions_by_name["remove"].trigger()
    assert ref not in wl.markets and win.watch_model.row_of(ref) is None
    pump_until(lambda: target not in _sim_book_subscriptions(win)[Venue.KRAKEN], timeout=10)


def test_move_up_and_down_reorder_the_watchlist(make_window: Factory) -> None:
    win = make_window()
    wl = win.settings.watchlist()
    first, second = wl.markets[0], wl.markets[1]
    win.select(second)
    win.actions_by_name["up"].trigger()
    assert wl.markets[:2] == [second, first] and win.watch_model.ref_at(0) == second
    assert win.selected == second
    win.actions_by_name["down"].trigger()
    assert wl.markets[:2] == [first, second]
    assert win.selected == second
    win.actions_by_name["next"].trigger()
    assert win.selected == wl.markets[2]
    win.actions_by_name["previous"].trigger()
    win.actions_by_name["previous"].trigger()
    assert win.selected == first


def test_the_ladder_shows_the_stores_book_and_fills_arrive(make_window: Factory) -> None:
    win = make_window()
    ref = MarketRef(Venue.KRAKEN, "BTC/USD")
    assert win.select(ref)
    pump_until(lambda: win.ladder.level_count() > 0, timeout=10)
    win.timer.stop()  # freeze the view so the comparison is of one moment
    win._refresh_selected()
    book = win.store.book(Venue.KRAKEN, "BTC/USD")
    assert book is not None
    bids, asks = book.levels_as_decimals(win.ladder.levels)
    model = win.ladder.model
    shown_bids = [model.index(model.bid_row(k), 2).data() for k in range(len(bids))]
    shown_asks = [model.index(model.ask_row(k), 2).data() for k in range(len(asks))]
    assert shown_bids == [f"{p:,f}" for p, _ in bids] and shown_asks == [f"{p:,f}" for p, _ in asks]
    # one rule for Kraken prices: the ladder's best bid reads exactly as the watchlist's Bid cell
    win.watch_model.refresh(win.store, {(Venue.KRAKEN, "BTC/USD")})  # the same moment as the ladder
    row = win.watch_model.row_of(ref)
    assert row is not None and book.best_bid_price() == bids[0][0]
    assert win.watch_model.index(row, C_BID).data() == shown_bids[0]
    assert win.ladder.level_count() == len(bids) + len(asks)
    win.timer.start()
    pump_until(lambda: win.fills_model.rowCount() > 0, timeout=30)


def test_import_export_and_bad_files(make_window: Factory, tmp_path: Path) -> None:
    win = make_window()
    out = tmp_path / "export.txt"
    win.export_watchlist(str(out))
    text = out.read_text()
    assert text.startswith("# Default") and "kraken:BTC/USD" in text
    win.import_watchlist(str(out))
    assert win.settings.active_watchlist == "Default (2)"
    assert win.settings.watchlist().markets == win.settings.watchlist("Default").markets
    # Issue 19 item 4: bad lines are listed with their reasons (markets the simulator does not list
    # included), nothing is imported on Cancel, and the good lines are on "Import".
    kalshi = win.catalog[Venue.KALSHI][0].market
    bad = tmp_path / "bad.txt"
    bad.write_text(
        f"# Mixed\nkalshi:{kalshi}\nbinance:BTCUSDT\nkalshi:NOT-A-MARKET\nkraken:DOGE/USD\nnot a market\n"
    )
    seen: list[list[str]] = []

    def answer(press: str) -> Callable[[QDialog], None]:
        def act(dialog: QDialog) -> None:
            assert isinstance(dialog, ImportReport)
            seen.append(dialog.reasons())
            assert dialog.summary.text().startswith("bad.txt: 2 markets can be imported as “Mixed”; 3 lines")
            if press == "import":
                assert dialog.import_button is not None
                dialog.import_button.click()
            else:
                dialog.reject()

        return act

    answer_next_dialog(answer("cancel"))
    win.import_watchlist(str(bad))
    assert seen[0] == [
        "line 3 | binance:BTCUSDT | binance is not a venue this app streams (kalshi and kraken are)",
        "line 4 | kalshi:NOT-A-MARKET | Kalshi lists no open market by that name",
        "line 6 | not a market | not a market name: 'not a market'",
    ]
    assert len(win.settings.watchlists) == 2  # cancelled: nothing imported
    answer_next_dialog(answer("import"))
    win.import_watchlist(str(bad))
    assert win.settings.active_watchlist == "Mixed"
    assert win.settings.watchlist().markets == [
        MarketRef(Venue.KALSHI, kalshi),
        MarketRef(Venue.KRAKEN, "DOGE/USD"),
    ]
    assert win.statusBar().currentMessage() == "Imported “Mixed”: 2 markets, 3 lines left out"
    pump_until(lambda: _sim_book_subscriptions(win)[Venue.KRAKEN] == {"DOGE/USD"}, timeout=10)
    # A file that is no watchlist at all: one message in words.
    binary = tmp_path / "picture.png"
    binary.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00")
    words: list[str] = []

    def dismiss(dialog: QDialog) -> None:
        assert isinstance(dialog, QMessageBox)
        words.append(dialog.text())
        dialog.accept()

    answer_next_dialog(dismiss)
    win.import_watchlist(str(binary))
    assert words == [
        "Could not import picture.png:\npicture.png is not a text file (it holds binary data); "
        "a watchlist is text, one venue:market per line"
    ]
    assert len(win.settings.watchlists) == 3


def test_theme_switch_and_layout_reset(make_window: Factory) -> None:
    win = make_window()
    win.actions_by_name["theme_light"].trigger()
    assert win.settings.theme == "light"
    assert QApplication.palette().base().color().name() == "#ffffff"
    win.docks["ladder"].hide()
    win.actions_by_name["reset_layout"].trigger()
    assert win.docks["ladder"].isVisible()
    win.actions_by_name["theme_dark"].trigger()
    assert settings_mod.load(win.config_dir).theme == "dark"


def test_sorting_and_filtering_keep_the_selection_on_its_market(make_window: Factory) -> None:
    win = make_window()
    wl = win.settings.watchlist()
    pick = wl.markets[3]
    win.select(pick)
    win.table.sortByColumn(1, Qt.SortOrder.DescendingOrder)  # by market name, Z first
    names = [win.watch_model.ref_at(r).market for r in range(win.watch_model.rowCount())]  # type: ignore[union-attr]
    assert names == sorted((r.market for r in wl.markets), reverse=True)
    assert win.watch_model.ref_at(win.table.currentIndex().row()) == pick  # the selection followed the market
    win.filter.setText("usd")
    shown = {win.watch_model.ref_at(r) for r in range(win.watch_model.rowCount())}
    assert shown and all(ref is not None and ref.venue is Venue.KRAKEN for ref in shown)
    win.filter.clear()
    win.table.sortByColumn(-1, Qt.SortOrder.AscendingOrder)  # back to the watchlist's own order
    assert [win.watch_model.ref_at(r) for r in range(win.watch_model.rowCount())] == wl.markets


def test_about_shows_the_package_metadata_version(make_window: Factory) -> None:
    from importlib.metadata import version

    win = make_window()
    seen: list[tuple[str, str]] = []

    def read(dialog: QDialog) -> None:
        assert isinstance(dialog, QMessageBox) and dialog.objectName() == "aboutBox"
        seen.append((dialog.text(), dialog.detailedText()))
        dialog.accept()

    answer_next_dialog(read)
    win.actions_by_name["about"].trigger()
    pump_until(lambda: bool(seen), timeout=10)
    text, details = seen[0]
    assert f"Market Monitor {version('market-monitor')}" in text
    assert "keyring backend: " in details and "build: source" in details and "qt: 6." in details
    # The keyring sentence says what this session really has (the tests run a real Secret Service), and
    # the details hold each link's state for a bug report.
    assert "Credentials are kept in your OS keyring" in text or "No OS keyring is available (" in text
    assert "kalshi ws://127.0.0.1:" in details and ": live" in details


def test_switching_source_leaves_nothing_of_the_old_one_on_screen(
    make_window: Factory, qloop: asyncio.AbstractEventLoop
) -> None:
    """Issue 19 item 2: after the simulator, a profile with no simulator shows none of its fills, tape or
    chart; back on the simulator, the chart starts afresh instead of joining the sessions with a line."""
    win = make_window()
    kraken = next(r for r in win.settings.watchlist().markets if r.venue is Venue.KRAKEN)
    win.select(kraken)
    pump_until(lambda: win.fills_model.rowCount() > 0 and win.tape_model.rowCount() > 0, timeout=30)
    history = win.chart.history(kraken.venue, kraken.market)
    pump_until(lambda: history is not None and len(history.mid) > 0, timeout=10)
    nowhere = settings_mod.Profile("Nowhere", Environment.OFF, Environment.OFF)
    win.settings.profiles.append(nowhere)
    win.settings.active_profile = nowhere.name
    run_on(qloop, win.connect_profile())
    assert not win.sim_badge.isVisible()
    assert win.fills_model.rowCount() == 0 and win.tape_model.rowCount() == 0
    assert win.positions_model.rowCount() == 0
    after = win.chart.history(kraken.venue, kraken.market)
    assert after is not None and len(after.mid) == 0 and all(len(s) == 0 for s in after.trades.values())
    switched = time.time()
    win.settings.active_profile = settings_mod.SIM_PROFILE
    run_on(qloop, win.connect_profile())
    assert win.sim_badge.isVisible()
    pump_until(lambda: win.tape_model.rowCount() > 0, timeout=30)
    again = win.chart.history(kraken.venue, kraken.market)
    pump_until(lambda: again is not None and len(again.mid) > 0, timeout=10)
    assert again is not None and float(again.mid.data()[0][0]) >= switched - 1

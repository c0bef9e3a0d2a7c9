"""Issue 19 items 6, 11 and 12 in the real window on the real simulator: the selected market's header
(question, last price large, bid/ask/spread, 24 h change, close time with date and zone, Kalshi rules a
click away), the ladder's spread row, the chart's history on open, font zoom kept across a restart, and
positions marked to market in USD with an account total.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from app.core.instruments import Venue
from app.sim.server import SimOptions
from app.ui import format as fmt
from app.ui import zoom
from app.ui.ladder import BID_SIZE, PRICE
from app.ui.positions_model import C_MARK, C_NAME, C_VALUE, TOTAL_KIND
from app.ui.window import MainWindow
from app.user import settings as settings_mod
from app.user.secret_store import SecretStore
from app.user.settings import MarketRef
from tests.qtsupport import pump_until, run_on

Factory = Callable[[], MainWindow]
PRICE_UNITS = Decimal(10_000)


@pytest.fixture
def make_window(qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path) -> Iterator[Factory]:
    made: list[MainWindow] = []

    def make() -> MainWindow:
        win = MainWindow(
            settings_mod.load(tmp_path),
            SecretStore(),
            config_dir=tmp_path,
            sim_options=SimOptions(seed=1, rate=300),
        )
        qtbot.addWidget(win)
        win.resize(1366, 768)
        win.show()
        win.start()
        made.append(win)
        pump_until(lambda: win.catalog_ready.is_set() and win.has_market_data(), timeout=20)
        return win

    yield make
    for win in made:
        run_on(qloop, win.shutdown())
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    zoom.apply(app, zoom.DEFAULT)  # the application font outlives the window: leave it as found


def _money(text: str) -> Decimal:
    return Decimal(text.replace("$", "").replace(",", "").replace("+", "") or "0")


def test_the_header_says_what_the_market_is_and_its_key_numbers_big(make_window: Factory) -> None:
    win = make_window()
    sim = win.running.sim if win.running else None
    assert sim is not None
    ref = next(r for r in win.settings.watchlist().markets if r.venue is Venue.KALSHI)
    listing = sim.market.kalshi[ref.market].listing
    assert win.select(ref)
    header = win.ladder.header
    pump_until(lambda: header.rules_button.isEnabled() and win.ladder.level_count() > 0, timeout=15)
    chart_history = win.chart.history(Venue.KALSHI, ref.market)
    pump_until(lambda: chart_history is not None and chart_history.past_loaded, timeout=10)
    win._refresh_selected()

    # What it is: the question, then the outcome it asks about, the ticker and the venue.
    assert header.title.text() == listing.title
    assert listing.yes_sub_title in header.subtitle.text() and ref.market in header.subtitle.text()
    # The key numbers: the last price more than twice the body text; bid, ask, spread as the book says.
    body = QApplication.font().pointSizeF()
    assert header.last.font().pointSizeF() >= 2 * body and header.last.font().bold()
    assert header.bid.font().pointSizeF() > body
    book = win.store.book(Venue.KALSHI, ref.market)
    assert book is not None
    bid, ask = book.best_bid_price(), book.best_ask_price()
    assert bid is not None and ask is not None
    pdec = fmt.cent_places([bid, ask])
    assert header.bid.text() == fmt.price(Venue.KALSHI, bid, pdec)
    assert header.ask.text() == fmt.price(Venue.KALSHI, ask, pdec)
    assert header.spread.text() == fmt.cents(ask - bid)
    # The last price: this session's, or before its first print the venue's (REST) last price.
    state = win.store.markets.get((Venue.KALSHI, ref.market))
    details = header._details
    assert details is not None
    last = state.last if state is not None and state.last is not None else details.last_price
    assert last is not None and header.last.text() == fmt.price(Venue.KALSHI, last)
    # The 24 h change against the last price a day ago (the venue's previous_price).
    day_ago = sim.market.kalshi[ref.market].price_before(int(time.time()) - 86_400)
    assert day_ago is not None
    change = last - Decimal(day_ago) / PRICE_UNITS
    assert (
        header.change.text().startswith(fmt.change(Venue.KALSHI, change)) and "24 h" in header.change.text()
    )
    # When it closes: date, time and zone, and how long is left.
    close = sim.market.kalshi[ref.market].close_ts
    assert header.when.text().startswith(f"Closes {fmt.when(close)} · in ")
    assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2} \S+", header.when.text())
    # The rules, one click away.
    assert not header.rules.isVisible()
    header.rules_button.click()
    assert header.rules.isVisible() and listing.yes_sub_title in header.rules.text()
    header.rules_button.click()
    assert not header.rules.isVisible()

    # The spread row between the asks and the bids.
    model = win.ladder.model
    assert model.index(model.spread_row, BID_SIZE).data() == "spread"
    assert model.index(model.spread_row, PRICE).data() == fmt.cents(ask - bid, pdec)
    # History on open: the chart has the venue's candles before any of this session's trades.
    assert chart_history is not None and len(chart_history.past) >= 300
    win.chart.window_combo.setCurrentText("1d")
    assert win.chart.candles.count >= 80

    # A Kraken pair: its name and venue, the 24 h change from the venue's ticker, no close.
    kraken = MarketRef(Venue.KRAKEN, "BTC/USD")
    assert win.select(kraken)
    pump_until(
        lambda: win.store.markets.get((Venue.KRAKEN, "BTC/USD")) is not None and win.ladder.level_count() > 0
    )
    state = win.store.markets[(Venue.KRAKEN, "BTC/USD")]
    pump_until(lambda: state.change is not None and state.last is not None, timeout=10)
    win._refresh_selected()
    assert header.title.text() == "BTC/USD · Kraken" and not header.rules_button.isVisible()
    assert header.last.text() == fmt.price(Venue.KRAKEN, state.last)
    assert header.change.text().startswith(fmt.change(Venue.KRAKEN, state.change))
    assert header.when.text() == "" and not header.when.isVisible()  # no close: no line spent on it
    pump_until(lambda: (h := win.chart.history(Venue.KRAKEN, "BTC/USD")) is not None and h.past_loaded)


def test_font_zoom_scales_the_whole_window_and_is_kept_across_a_restart(
    make_window: Factory, qloop: asyncio.AbstractEventLoop, qtbot: QtBot
) -> None:
    win = make_window()
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    base = zoom.base_point_size(app)
    rows_before = win.table.verticalHeader().defaultSectionSize()
    ladder_before = win.ladder.table.font().pointSizeF()
    last_before = win.ladder.header.last.font().pointSizeF()
    win.activateWindow()
    qtbot.waitUntil(win.isActiveWindow)
    qtbot.keyClick(win.table, "+", modifier=Qt.KeyboardModifier.ControlModifier)  # Ctrl+plus, as typed
    assert win.settings.zoom == 110
    win.actions_by_name["zoom_in"].trigger()
    assert win.settings.zoom == 125
    assert app.font().pointSizeF() == pytest.approx(base * 1.25)
    assert win.table.verticalHeader().defaultSectionSize() > rows_before
    assert win.ladder.table.font().pointSizeF() == pytest.approx(ladder_before * 1.25)
    assert win.ladder.header.last.font().pointSizeF() == pytest.approx(last_before * 1.25)
    win.close()
    run_on(qloop, win.shutdown())

    again = make_window()  # a restart: the zoom comes back from the settings file
    assert again.settings.zoom == 125 and app.font().pointSizeF() == pytest.approx(base * 1.25)
    again.actions_by_name["zoom_reset"].trigger()
    assert again.settings.zoom == 100 and app.font().pointSizeF() == pytest.approx(base)
    again.actions_by_name["zoom_out"].trigger()
    assert again.settings.zoom == 90


def test_positions_are_marked_to_market_in_usd_with_an_account_total(make_window: Factory) -> None:
    win = make_window()
    sim = win.running.sim if win.running else None
    assert sim is not None
    model, store = win.positions_model, win.store
    watched = {(r.venue, r.market) for r in win.settings.watchlist().markets}

    def rows() -> dict[str, list[str]]:
        return {
            str(model.index(r, C_NAME).data()): [
                str(model.index(r, c).data()) for c in range(model.columnCount())
            ]
            for r in range(model.rowCount())
        }

    def marked() -> bool:
        # Holdings outside the watchlist too (the simulator's account trades every market), priced.
        have = [m for (v, m) in store.positions if v is Venue.KALSHI and (v, m) not in watched]
        return bool(have) and bool(store.balances) and bool(model.marks)

    pump_until(marked, timeout=30)
    model.refresh(store)
    shown = rows()
    values = Decimal(0)
    for (venue, market), position in store.positions.items():
        row = shown[market]
        mark_text, value_text = row[C_MARK], row[C_VALUE]
        book = store.book(venue, market)
        if (venue, market) in watched and book is not None and not book.stale:
            bid, ask = book.best_bid_price(), book.best_ask_price()
            assert bid is not None and ask is not None
            mid = (bid + ask) / 2
            assert mark_text == fmt.cents(mid)
        elif (venue, market) in model.marks:
            mid = model.marks[(venue, market)]
            truth = sim.market.kalshi[market]
            assert (
                truth.yes_bid() / PRICE_UNITS - Decimal("0.05")
                <= mid
                <= truth.yes_ask() / PRICE_UNITS + Decimal("0.05")
            )
            assert mark_text == fmt.cents(mid)
        else:
            continue
        held = abs(position.position)
        value = held * (mid if position.position > 0 else 1 - mid)
        assert value_text == fmt.money(value, cents_only=True)
        values += _money(value_text)
    # Coins are worth balance x their USD pair's mid; USD is itself.
    for (_, asset), balance in store.balances.items():
        assert balance.balance >= 0  # the simulator's account never sells what it does not hold
        row = shown[asset]
        if asset == "USD":
            assert row[C_VALUE] == fmt.money(balance.balance, cents_only=True)
        values += _money(row[C_VALUE]) if row[C_VALUE] != fmt.DASH else Decimal(0)
    # The account total is the first row and adds up the values shown (to the cent per row).
    last = 0
    assert model.key_at(last)[0] == TOTAL_KIND
    total_name = str(model.index(last, C_NAME).data())
    assert total_name.startswith("Account total (USD)")
    assert abs(_money(str(model.index(last, C_VALUE).data())) - values) <= Decimal("0.01") * model.rowCount()

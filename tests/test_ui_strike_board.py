"""The strike board in the real window against the real simulator: opened from a Kalshi market of the event,
its rows are the simulator's markets of the event (strikes from the REST fields), it holds them and the
Kraken pair streamed, its spot line is the Kraken book's mid, and closing it lets them go."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from app.core.instruments import Venue
from app.ui import format as fmt
from app.ui.window import MainWindow
from app.user.settings import MarketRef
from tests.qtsupport import pump_until, run_on, window_factory


@pytest.fixture
def window(qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path) -> Iterator[MainWindow]:
    for make in window_factory(qtbot, qloop, tmp_path, seed=1, rate=300, size=(1280, 800)):
        yield make()


@pytest.mark.parametrize("series", ["KXBTCD", "KXETH"])
def test_board_rows_spot_line_and_holds(window: MainWindow, series: str, tmp_path: Path) -> None:
    sim = window.running.sim if window.running else None
    assert sim is not None
    truth = [m for m in sim.market.kalshi.values() if m.listing.series_ticker == series]
    window.open_strike_board(MarketRef(Venue.KALSHI, truth[3].ticker))  # any market of the event
    board = window.strike_board
    assert board is not None
    pump_until(lambda: bool(board.base_rows) and board.spot is not None, timeout=20)
    assert [r.market for r in board.base_rows] == [m.ticker for m in truth]  # the simulator lists by strike
    for row in board.base_rows:
        listing = sim.market.kalshi[row.market].listing
        assert row.strike.strike_type == listing.strike_type
        assert row.strike.floor == (Decimal(listing.floor_strike) if listing.floor_strike else None)
        assert row.strike.cap == (Decimal(listing.cap_strike) if listing.cap_strike else None)
    pair = "BTC/USD" if series.startswith("KXBTC") else "ETH/USD"
    assert board.underlying == pair
    # held streamed: every market of the board and the pair
    assert set(window.demand.markets(Venue.KALSHI)) >= {m.ticker for m in truth}
    assert pair in window.demand.markets(Venue.KRAKEN)
    pump_until(lambda: all(window.store.book(Venue.KALSHI, m.ticker) is not None for m in truth), timeout=20)
    window.timer.stop()
    board.timer.stop()
    board.refresh()
    book = window.store.book(Venue.KRAKEN, pair)
    assert book is not None
    mid = ((book.best_bid_price() or 0) + (book.best_ask_price() or 0)) / 2
    assert board.spot == mid and board.spot_line.value() == float(mid)
    assert board.spot_line.label.format.startswith(f"Kraken {pair} mid")  # never "settlement"
    assert "settlement" not in board.spot_label.text().lower()
    highlight = board.model.highlight
    assert highlight is not None
    gaps = [abs((r.strike.position or Decimal(0)) - mid) for r in board.rows]
    if series == "KXBTCD":
        assert gaps[highlight] == min(gaps)
    else:
        band = board.rows[highlight].strike
        assert band.floor is not None and band.cap is not None and band.floor <= mid <= band.cap
    # the table shows the live quotes of the store
    for i, row in enumerate(board.rows):
        state = window.store.markets.get((Venue.KALSHI, row.market))
        if state is not None and state.bid is not None:
            assert row.bid == state.bid
            assert board.model.index(i, 1).data() == board.model.text(row, 1)
    for size in ((1280, 800), (1920, 1080)):
        window.resize(*size)
        board.setFloating(True)
        board.resize(size[0] * 3 // 4, size[1] * 3 // 4)
        pump_until(lambda: True, timeout=0.3)
        board.grab().save(str(tmp_path / f"board-{series}-{size[0]}.png"))
    # the settlement index from Kalshi's cfbenchmarks_value (streamed by the link, about once a second):
    # a second line, labelled as such, with the gap between Kraken and the index
    index_id = "BRTI" if pair == "BTC/USD" else "ETHUSD_RTI"
    board.timer.start()
    pump_until(lambda: board.reference is not None, timeout=20)
    board.timer.stop()
    board.refresh()
    entry = window.store.index(index_id)
    assert entry is not None and board.reference == entry[0].value and board.reference_name == index_id
    assert abs(entry[0].value - board.spot) / board.spot < Decimal("0.002")  # the index tracks Kraken
    assert board.reference_line.isVisible() and board.reference_line.value() == float(entry[0].value)
    assert board.reference_line.label.format.startswith(f"Settlement reference {index_id}")
    assert f"Kraken − {index_id}: {fmt.signed(board.spot - entry[0].value)}" in board.spot_label.text()
    board.grab().save(str(tmp_path / f"board-{series}-reference.png"))
    # an index that stopped coming is not drawn as live: the note says for how long
    clock = window.store._now
    window.store._now = lambda: clock() + 30  # the store's clock, thirty seconds on
    try:
        board.refresh()
        assert board.reference is None and not board.reference_line.isVisible()
        assert f"settlement reference {index_id}: no value for 3" in board.spot_label.text()
    finally:
        window.store._now = clock
    board.close()
    assert "board" not in window.demand.owners()


def test_watchlist_change_is_last_minus_the_simulators_previous_price(window: MainWindow) -> None:
    """The change column for Kalshi: live last minus GET /markets previous_price_dollars (the header says
    "vs about 24 h ago"); a market with no trade in 24 h shows a dash and says why."""
    import time

    from app.core.change import NO_TRADE_24H
    from app.ui.watchlist_model import C_CHG

    sim = window.running.sim if window.running else None
    assert sim is not None
    model = window.watch_model
    assert "vs about 24 h ago" in model.headerData(
        C_CHG, Qt.Orientation.Horizontal, Qt.ItemDataRole.ToolTipRole
    )
    tail = next(
        m
        for m in sim.market.kalshi.values()
        if m.listing.underlying and not m.volume_since(int(time.time()) - 86_400)
    )
    window.settings.watchlist().add(MarketRef(Venue.KALSHI, tail.ticker))
    window.watchlist_changed()
    run_on(asyncio.get_event_loop(), window.refresh_day_changes())
    day_ago = int(time.time()) - 86_400
    checked = 0
    for row in model.rows:
        if row.ref.venue is not Venue.KALSHI:
            continue
        market = sim.market.kalshi[row.ref.market]
        info = model.info[(Venue.KALSHI, row.ref.market)]
        previous = market.price_before(day_ago)
        assert info.previous_price == Decimal(previous or 0) / 10_000  # the simulator's field, read back
        i = model.row_of(row.ref)
        assert i is not None
        cell = model.index(i, C_CHG)
        if row.ref.market == tail.ticker:
            assert cell.data() == fmt.DASH and cell.data(Qt.ItemDataRole.ToolTipRole) == NO_TRADE_24H
            continue
        state = window.store.markets.get((Venue.KALSHI, row.ref.market))
        last = state.last if state is not None and state.last is not None else info.last_price
        if previous and last is not None:
            assert cell.data() == fmt.change(Venue.KALSHI, last - info.previous_price)  # type: ignore[operator]
            assert "about 24 h ago" in cell.data(Qt.ItemDataRole.ToolTipRole)
            checked += 1
    assert checked >= 2


def test_the_picker_opens_the_board_of_a_chosen_markets_event(window: MainWindow) -> None:
    from PySide6.QtWidgets import QDialog

    from app.ui.picker import MarketPicker
    from tests.qtsupport import answer_next_dialog

    sim = window.running.sim if window.running else None
    assert sim is not None
    market = next(m for m in sim.market.kalshi.values() if m.listing.series_ticker == "KXETHD")
    before = list(window.settings.watchlist().markets)

    def choose(dialog: QDialog) -> None:
        assert isinstance(dialog, MarketPicker)
        dialog.search.setText(market.ticker)
        dialog.view.setCurrentIndex(dialog.proxy.index(0, 0))
        assert dialog.board_button.isEnabled()
        dialog.board_button.click()

    answer_next_dialog(choose)
    window.add_market()
    board = window.strike_board
    assert board is not None
    pump_until(lambda: bool(board.base_rows), timeout=20)
    assert board.event_ticker == market.listing.event_ticker and board.underlying == "ETH/USD"
    assert list(window.settings.watchlist().markets) == before  # nothing was added

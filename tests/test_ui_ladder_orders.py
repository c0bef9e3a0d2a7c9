"""The depth ladder's order counts: beside each size, the number of orders at that price from the same
Kraken pair's level-3 book (the simulator's, over real sockets, with its credentials)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.core.instruments import Venue
from app.core.numbers import from_scaled
from app.ui.ladder import ASK_SIZE, BID_SIZE, PRICE, RAW_ROLE
from app.ui.window import MainWindow
from app.user.settings import MarketRef
from tests.qtsupport import pump_until, window_factory

PAIR = "BTC/USD"
COUNT = re.compile(r" \((\d+)\)$")


@pytest.fixture
def window(qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path) -> Iterator[MainWindow]:
    for make in window_factory(qtbot, qloop, tmp_path, seed=1, rate=150, size=(1280, 800)):
        yield make()


def test_ladder_counts_equal_the_level3_books_order_counts(window: MainWindow, tmp_path: Path) -> None:
    win = window
    assert win.select(MarketRef(Venue.KRAKEN, PAIR))
    win.docks["orders"].raise_()  # the Orders view asks for the pair's level-3 stream
    store = win.store
    pump_until(
        lambda: (b := store.level3_book(Venue.KRAKEN, PAIR)) is not None and b.has_snapshot and not b.stale,
        timeout=20,
    )
    ladder = win.ladder
    menu = ladder.context_menu()
    assert menu is not None and ladder.orders_action in menu.actions()
    ladder.orders_action.trigger()
    assert ladder.show_orders
    ladder.refresh(store)  # no event between this and the reading below: the book cannot move
    book = store.level3_book(Venue.KRAKEN, PAIR)
    assert book is not None
    counts = {from_scaled(p, book.price_decimals): n for p, n in book.bids.counts() + book.asks.counts()}
    model = ladder.model
    checked = 0
    for row in range(model.rowCount()):
        price = model.index(row, PRICE).data(RAW_ROLE)
        if price is None:
            continue
        col = ASK_SIZE if row < model.spread_row else BID_SIZE
        found = COUNT.search(model.index(row, col).data())
        if price in counts:
            assert found is not None and int(found.group(1)) == counts[price], (row, price)
            checked += 1
        else:  # beyond the level-3 book's depth: no count, never a zero
            assert found is None
    assert checked >= 10
    ladder.grab().save(str(tmp_path / "ladder_orders.png"))
    win.docks["ladder"].raise_()
    pump_until(ladder.table.isVisible, timeout=5)
    ladder.refresh(store)
    ladder.fit_columns()  # the counts widen the sizes: the totals give way rather than elide them
    win.grab().save(str(tmp_path / "window_orders.png"))
    ladder.orders_action.trigger()  # off again: the sizes alone
    ladder.refresh(store)
    assert all(
        COUNT.search(model.index(r, c).data() or "") is None
        for r in range(model.rowCount())
        for c in (BID_SIZE, ASK_SIZE)
    )
    # Kalshi has no level 3: nothing to offer
    ladder.set_market(Venue.KALSHI, "KXTEST-1")
    assert ladder.context_menu() is None

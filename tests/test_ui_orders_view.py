"""The Orders view in the real window on the simulator: a Kraken market's orders behind each price,
the user's own resting orders marked with their place in the queue and the size ahead of them."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from app.core.instruments import Venue
from app.ui.orders_view import OrdersView, own_orders, queue_text
from app.ui.window import MainWindow
from app.user.settings import MarketRef
from tests.qtsupport import pump_until, window_factory

PAIR = "BTC/USD"  # among the simulator's first pairs, where it rests some of the user's orders


@pytest.fixture
def window(qtbot: QtBot, qloop: asyncio.AbstractEventLoop, tmp_path: Path) -> Iterator[MainWindow]:
    for make in window_factory(qtbot, qloop, tmp_path, seed=1, rate=150, size=(1280, 800)):
        yield make()


def test_queue_text_keeps_head_tail_and_own_orders() -> None:
    sizes = [str(i) for i in range(20)]
    text = queue_text(sizes, {9})
    assert text.startswith("0 · 1 · 2 · … 6 more … · [9] · … 5 more … · 15")
    assert text.endswith("19")
    assert queue_text(["1", "2"], set()) == "1 · 2"


def test_orders_view_shows_the_queue_and_the_users_place_in_it(window: MainWindow, tmp_path: Path) -> None:
    win = window
    ref = MarketRef(Venue.KRAKEN, PAIR)
    assert win.select(ref)
    win.docks["orders"].raise_()
    view: OrdersView = win.orders.view
    assert view.available  # the simulator's credentials run a level3 link
    store = win.store
    pump_until(
        lambda: (
            (book := store.level3_book(Venue.KRAKEN, PAIR)) is not None
            and book.has_snapshot
            and bool(own_orders(store, book))
            and view.model.rowCount() == 20
        ),
        timeout=20,
    )
    engine = win.running.engine if win.running else None
    assert engine is not None and engine.level3_link() is not None
    assert engine.level3_link().streamed == [PAIR]  # only the selected market, order by order
    pump_until(lambda: view.summary.text().startswith("Your "), timeout=5)
    book = store.level3_book(Venue.KRAKEN, PAIR)
    assert book is not None
    # Rows: asks above (best last), then bids; each with its order count and queue, as the book has them.
    asks, bids = book.asks.levels(10), book.bids.levels(10)
    model = view.model
    for row, (_price, queue) in zip(range(10), reversed(asks), strict=True):
        assert model.rows[row][1][1] == str(len(queue))
    for row, (_price, queue) in zip(range(10, 20), bids, strict=True):
        assert model.rows[row][1][1] == str(len(queue))
        assert model.rows[row][1][3].count(" · ") >= min(len(queue), 8) - 1 - (len(queue) > 8)
    # The user's orders are marked in their row, with their place and the size ahead in words.
    marked = [r for r in model.rows if r[2]]
    assert marked and all("[" in r[1][3] and r[3] and "ahead of it" in r[3] for r in marked)
    places = [p for oid in own_orders(store, book) if (p := book.place_of(oid)) is not None]
    best = min(places, key=lambda p: (p.position, p.size_ahead))
    assert f"#{best.position} of {best.level_orders}" in view.summary.text()
    # The level-3 book behind the view is the simulator's, order for order.
    sim = win.running.sim if win.running else None
    assert sim is not None
    sim.freeze()  # the market stops; the link catches up
    truth = sim.kraken.level3.orders[PAIR]

    def same() -> bool:
        held = [
            [(o.order_id, o.size) for _, q in getattr(book, n).levels() for o in q] for n in ("bids", "asks")
        ]
        want = [[(o.order_id, o.qty) for _, q in truth.side(n).top(10) for o in q] for n in ("bids", "asks")]
        return held == want

    pump_until(same, timeout=10)
    # Selecting a Kalshi market lets the level3 subscription go, and the view says why it is empty.
    kalshi = next(r for r in win.settings.watchlist().markets if r.venue is Venue.KALSHI)
    win.select(kalshi)
    pump_until(lambda: engine.level3_link().streamed == [], timeout=5)
    assert "Kraken markets" in view.detail.text() and model.rowCount() == 0
    win.select(ref)
    pump_until(lambda: model.rowCount() == 20 and view.summary.text().startswith("Your "), timeout=20)
    # Nothing of this disturbed the links: every one is live, none reconnected.
    pump_until(lambda: all(link.state.value == "live" for link in engine.links), timeout=10)
    assert [link.reconnects for link in engine.links] == [0] * len(engine.links)
    shots = Path(os.environ.get("MARKET_MONITOR_SHOTS", str(tmp_path)))
    shots.mkdir(parents=True, exist_ok=True)
    until = time.monotonic() + 0.6  # the status bar catches up (it updates a few times a second)
    pump_until(lambda: time.monotonic() > until, timeout=2)
    picture = win.grab()
    assert (picture.width(), picture.height()) == (1280, 800)
    assert picture.save(str(shots / "orders-view-1280x800.png"))

"""The ladder's Kraken depth choice through the window, against the real simulator: picking 100 makes the
window hold the market at 100 (MarketDemand), the link re-subscribes it there (the simulator's own
subscription says 100), the book and the ladder's rows hold 100 levels a side with checksums verifying,
and picking 10 again goes back."""

from __future__ import annotations

from app.core.instruments import Venue
from app.ui.window import MainWindow
from app.user.settings import MarketRef
from tests.qtsupport import pump_until
from tests.test_ui_ladder import spread_offset
from tests.test_ui_window import Factory, make_window  # noqa: F401  # the window fixture

BTC = MarketRef(Venue.KRAKEN, "BTC/USD")


def sim_depth(win: MainWindow, symbol: str) -> int | None:
    sim = win.running.sim if win.running else None
    assert sim is not None
    key = ("book", symbol)
    depths = [conn.subs[key].depth for conn in sim.kraken.conns.values() if key in conn.subs]
    return depths[0] if len(depths) == 1 else None


def pick_depth(win: MainWindow, depth: int) -> None:
    combo = win.ladder.depth_combo
    k = combo.findData(depth)
    combo.setCurrentIndex(k)
    combo.activated.emit(k)  # as a user's choice does


def test_the_ladders_depth_choice_streams_that_depth(make_window: Factory) -> None:  # noqa: F811
    win = make_window()
    assert win.select(BTC)
    pump_until(lambda: win.ladder.level_count() > 0, timeout=10)
    ladder, link = win.ladder, win.running.engine.link(Venue.KRAKEN) if win.running else None
    assert link is not None and ladder.depth_combo.isVisible() and ladder.book_depth == 10
    assert sim_depth(win, "BTC/USD") == 10 and win.demand.depths() == {}

    pick_depth(win, 100)
    assert win.demand.depths() == {"BTC/USD": 100} and ladder.options()["depth"] == 100
    book = win.store.book(Venue.KRAKEN, "BTC/USD")
    assert book is not None
    pump_until(lambda: sim_depth(win, "BTC/USD") == 100 and not book.stale and len(book.bids) == 100, 15)
    pump_until(lambda: ladder.levels == 100 and ladder.level_count() == 200, 10)  # every level has a row
    row_h = ladder.table.rowHeight(0)
    assert spread_offset(ladder) <= row_h  # a hundred levels a side to scroll through, the spread mid-view
    failures = win.store.health_of(Venue.KRAKEN, "book").checksum_failures
    seen = link.session.checksum_ok["BTC/USD"]  # type: ignore[attr-defined]
    pump_until(lambda: link.session.checksum_ok["BTC/USD"] > seen + 10, 15)  # type: ignore[attr-defined]
    assert win.store.health_of(Venue.KRAKEN, "book").checksum_failures == failures == 0

    pick_depth(win, 10)
    assert win.demand.depths() == {}
    pump_until(lambda: sim_depth(win, "BTC/USD") == 10 and not book.stale and len(book.bids) == 10, 15)
    pump_until(lambda: ladder.level_count() == 20, 10)
    assert win.store.health_of(Venue.KRAKEN, "book").checksum_failures == 0

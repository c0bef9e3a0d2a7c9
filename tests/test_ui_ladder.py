"""The depth ladder against the real simulator and stream engine: rows equal the store's book (Kraken at
wire precision with thousands separators, as in the watchlist; Kalshi in cents with implied probability),
cumulative sizes and the depth curves agree, stale books are flagged, and a refresh never resets the model."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal

import numpy as np
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from app.cli.bench.truth import kalshi_truth_in_yes_terms
from app.core.book import OrderBook
from app.core.instruments import Venue
from app.launch.launcher import Launch, launch
from app.sim.market import SimConfig, SimMarket
from app.sim.server import SimOptions
from app.ui import format as fmt
from app.ui import theme
from app.ui.ladder import ASK_CUM, ASK_SIZE, BID_CUM, BID_SIZE, PRICE, RAW_ROLE, DepthLadder
from app.user.secret_store import SecretStore
from app.user.settings import Profile
from tests.qtsupport import pump_until, run_on

SUB_CENT = list(SimMarket(SimConfig(seed=1)).kalshi)[1]  # a deci_cent market (seed 1, the default)


@contextmanager
def running(
    loop: asyncio.AbstractEventLoop, markets: dict[Venue, list[str]], sim_options: SimOptions | None = None
) -> Iterator[Launch]:
    run = run_on(loop, launch(Profile("Simulator"), SecretStore(), markets, sim_options=sim_options))
    try:
        run_on(loop, run.engine.wait_live(10))
        yield run
    finally:
        run_on(loop, run.stop())


def live_book(run: Launch, venue: Venue, market: str) -> OrderBook:
    def ready() -> bool:
        book = run.engine.store.book(venue, market)
        return book is not None and not book.stale and len(book.bids) > 0 and len(book.asks) > 0

    pump_until(ready)
    book = run.engine.store.book(venue, market)
    assert book is not None
    return book


def cell(ladder: DepthLadder, row: int, col: int, role: int = Qt.ItemDataRole.DisplayRole) -> object:
    return ladder.model.index(row, col).data(role)


def assert_rows_equal_book(ladder: DepthLadder, book: OrderBook) -> None:
    model = ladder.model
    bids, asks = book.levels_as_decimals(ladder.levels)
    for side, levels, row_of, size_col, cum_col in (
        ("bid", bids, model.bid_row, BID_SIZE, BID_CUM),
        ("ask", asks, model.ask_row, ASK_SIZE, ASK_CUM),
    ):
        total = Decimal(0)
        for k, (price, size) in enumerate(levels):
            total += size
            row = row_of(k)
            assert cell(ladder, row, PRICE, RAW_ROLE) == price, (side, k)
            assert cell(ladder, row, size_col, RAW_ROLE) == size, (side, k)
            assert cell(ladder, row, cum_col, RAW_ROLE) == total, (side, k)
        for k in range(len(levels), ladder.levels):  # rows beyond the book are blank
            assert cell(ladder, row_of(k), PRICE) == ""
    # the depth chart draws the whole book's cumulative sums, however few rows show (bids outermost first)
    bids, asks = book.levels_as_decimals()
    bid_y = ladder.bid_curve.getOriginalDataset()[1]
    ask_y = ladder.ask_curve.getOriginalDataset()[1]
    np.testing.assert_allclose(bid_y, np.cumsum([float(s) for _, s in bids])[::-1])
    np.testing.assert_allclose(ask_y, np.cumsum([float(s) for _, s in asks]))


def test_cents_and_probability_text() -> None:
    # The ladder's text is format.py's (there is no second formatter to drift from the watchlist's).
    assert fmt.cents(Decimal("0.8700")) == "87¢"
    assert fmt.cents(Decimal("0.8750")) == "87.5¢"
    assert fmt.cents(Decimal("0.0001")) == "0.01¢"
    assert fmt.cents(Decimal("1.0000")) == "100¢"
    assert fmt.cents(Decimal("0.8700"), 1) == "87.0¢"
    assert fmt.probability(Decimal("0.8700")) == "87.0%"
    assert fmt.probability(Decimal("0.8755")) == "87.55%"


def test_kraken_ladder_equals_book(qtbot, qloop, qtmodeltester, qapp: QApplication) -> None:
    theme.apply(qapp, "dark")
    with running(qloop, {Venue.KALSHI: [], Venue.KRAKEN: ["BTC/USD"]}) as run:
        store = run.engine.store
        ladder = DepthLadder()
        qtbot.addWidget(ladder)
        ladder.resize(560, 860)
        ladder.show()
        resets: list[int] = []
        ladder.set_market(Venue.KRAKEN, "BTC/USD")
        book = live_book(run, Venue.KRAKEN, "BTC/USD")
        ladder.refresh(store)
        pump_until(lambda: ladder.levels == max(ladder.fitting_levels(), 10))  # laid out: rows fit the height
        ladder.model.modelReset.connect(lambda: resets.append(1))
        ladder.refresh(store)
        assert_rows_equal_book(ladder, book)
        bids, asks = book.levels_as_decimals(ladder.levels)
        assert ladder.level_count() == len(bids) + len(asks) > 0
        # Kraken keeps the wire precision text, grouped in thousands as the watchlist shows it
        best_bid = cell(ladder, ladder.model.bid_row(0), PRICE)
        assert best_bid == f"{bids[0][0]:,f}" == fmt.price(Venue.KRAKEN, bids[0][0])
        assert isinstance(best_bid, str) and "," in best_bid  # BTC is in the tens of thousands
        assert cell(ladder, ladder.model.ask_row(0), PRICE) == f"{asks[0][0]:,f}"
        assert cell(ladder, ladder.model.bid_row(0), BID_SIZE) == fmt.size(Venue.KRAKEN, bids[0][1])
        assert ladder.mid_line.value() == pytest.approx(float(bids[0][0] + asks[0][0]) / 2)
        assert f"{bids[0][0]:,f}" in ladder.header.text() and "Spread" in ladder.header.text()
        # The spread row sits between the best ask and the best bid and says how wide it is.
        row = ladder.model.spread_row
        assert ladder.model.ask_row(0) == row - 1 and ladder.model.bid_row(0) == row + 1
        spread = asks[0][0] - bids[0][0]
        assert cell(ladder, row, PRICE) == fmt.price(Venue.KRAKEN, spread)
        assert cell(ladder, row, BID_SIZE) == "spread"
        assert cell(ladder, row, ASK_SIZE) == fmt.bps(spread, (asks[0][0] + bids[0][0]) / 2)
        assert cell(ladder, row, PRICE, RAW_ROLE) is None  # not a level: no size bar, not counted
        axis = ladder.plot.getPlotItem().getAxis("bottom")
        assert axis.tickStrings([67120.0], 1.0, 10.0) == ["67,120"]  # the depth chart's axis reads alike
        qtmodeltester.check(ladder.model)

        # the feed moves on; each refresh still matches and never resets the model
        for _ in range(5):
            seen = run.engine.store.health_of(Venue.KRAKEN, "book").messages
            pump_until(lambda seen=seen: store.health_of(Venue.KRAKEN, "book").messages > seen)
            ladder.refresh(store)
            assert_rows_equal_book(ladder, book)
        assert resets == []
        assert not ladder.stale_label.isVisible()
        ladder.grab().save("/tmp/ladder.png")

        ladder.levels = 5  # fewer rows: the one case that resets the model
        assert resets == [1] and ladder.model.rowCount() == 11  # five a side and the spread row
        ladder.refresh(store)
        assert_rows_equal_book(ladder, book)
        assert ladder.level_count() == 10
        qtmodeltester.check(ladder.model)
        ladder.levels = None  # back to following the height

        # theme switch recolours the rows
        before = cell(ladder, ladder.model.bid_row(0), PRICE, Qt.ItemDataRole.ForegroundRole)
        ladder.apply_theme(theme.named("light"))
        after = cell(ladder, ladder.model.bid_row(0), PRICE, Qt.ItemDataRole.ForegroundRole)
        assert before != after and after == theme.qcolor(theme.named("light").bid)
        ladder.apply_theme(theme.named("dark"))


def test_kalshi_ladder_in_cents_equals_truth(qtbot, qloop, qtmodeltester, qapp: QApplication) -> None:
    theme.apply(qapp, "dark")
    options = SimOptions(duration=1.5)  # the market freezes, so the ladder can be compared with the truth
    with running(qloop, {Venue.KALSHI: [SUB_CENT], Venue.KRAKEN: []}, options) as run:
        store = run.engine.store
        ladder = DepthLadder()
        qtbot.addWidget(ladder)
        ladder.resize(560, 860)
        ladder.show()
        ladder.set_market(Venue.KALSHI, SUB_CENT)
        assert run.sim is not None
        sim = run.sim
        book = live_book(run, Venue.KALSHI, SUB_CENT)
        n = ladder.levels

        def settled() -> bool:
            bids, asks = kalshi_truth_in_yes_terms(sim, SUB_CENT)
            return sim.frozen.is_set() and book.levels_as_decimals(n) == (bids[:n], asks[:n])

        pump_until(settled, 15)
        ladder.refresh(store)
        assert_rows_equal_book(ladder, book)
        truth_bids, truth_asks = kalshi_truth_in_yes_terms(sim, SUB_CENT)
        assert cell(ladder, ladder.model.bid_row(0), PRICE, RAW_ROLE) == truth_bids[0][0]
        assert cell(ladder, ladder.model.ask_row(0), PRICE, RAW_ROLE) == truth_asks[0][0]

        bids, asks = book.levels_as_decimals(n)
        texts = []
        for k, (price, _) in enumerate(bids):
            texts.append((cell(ladder, ladder.model.bid_row(k), PRICE), price))
        for k, (price, _) in enumerate(asks):
            texts.append((cell(ladder, ladder.model.ask_row(k), PRICE), price))
        decimals = set()
        for text, price in texts:
            assert isinstance(text, str) and text.endswith("¢")
            assert Decimal(text[:-1]) == price * 100  # cents, exactly
            decimals.add(len(text[:-1].partition(".")[2]))
        assert len(decimals) == 1  # one book, one number of decimals: the column lines up
        row = ladder.model.bid_row(0)
        tip = cell(ladder, row, PRICE, Qt.ItemDataRole.ToolTipRole)
        assert isinstance(tip, str) and fmt.probability(bids[0][0]) in tip
        assert "¢" in ladder.header.text()
        # depth chart x-axis in cents: the mid line sits between best bid and ask, in cents
        assert ladder.mid_line.value() == pytest.approx(float(bids[0][0] + asks[0][0]) * 50)
        qtmodeltester.check(ladder.model)
        ladder.grab().save("/tmp/ladder_kalshi.png")


def test_placeholder_then_stale(qtbot, qloop) -> None:
    ladder = DepthLadder()
    qtbot.addWidget(ladder)
    ladder.show()
    assert ladder.placeholder.isVisible() and "No market" in ladder.placeholder.text()
    with running(qloop, {Venue.KALSHI: [], Venue.KRAKEN: ["ETH/USD"]}) as run:
        store = run.engine.store
        ladder.set_market(Venue.KRAKEN, "SOL/USD")  # not subscribed: no book
        ladder.refresh(store)
        assert ladder.placeholder.isVisible() and "Waiting" in ladder.placeholder.text()
        assert not ladder.table.isVisible() and ladder.level_count() == 0

        ladder.set_market(Venue.KRAKEN, "ETH/USD")
        book = live_book(run, Venue.KRAKEN, "ETH/USD")
        ladder.refresh(store)
        assert ladder.table.isVisible() and not ladder.stale_label.isVisible()
        live_fg = cell(ladder, ladder.model.bid_row(0), PRICE, Qt.ItemDataRole.ForegroundRole)

        book.mark_stale("x")
        ladder.refresh(store)
        assert ladder.stale_label.isVisible()
        assert ladder.stale_label.text().startswith("STALE: x")
        dim = theme.qcolor(theme.current().dim_text)
        for col in (BID_CUM, BID_SIZE, PRICE):
            assert cell(ladder, ladder.model.bid_row(0), col, Qt.ItemDataRole.ForegroundRole) == dim
        assert live_fg != dim
        assert ladder.plot.opacity() < 1

        ladder.set_market(None, None)
        assert ladder.placeholder.isVisible() and not ladder.stale_label.isVisible()
        assert cell(ladder, ladder.model.bid_row(0), PRICE) == ""


def test_an_ended_market_shows_how_it_ended_in_its_row_and_depth_pane(qtbot, qloop) -> None:
    """Issue 19 item 3: closed, determined and settled markets stop their countdown and say the result
    (YES or NO, the settlement value, when, with the date) instead of an empty or old ladder."""
    from app.ui.watchlist_model import C_CLOSE, C_STATUS, WatchlistModel
    from app.user.settings import MarketRef

    with running(qloop, {Venue.KALSHI: [], Venue.KRAKEN: []}, SimOptions(seed=4, rate=400)) as run:
        assert run.sim is not None
        sim_market = run.sim.market
        ticker = next(t for t, m in sim_market.kalshi.items() if m.trading)
        run_on(qloop, run.engine.watch(Venue.KALSHI, [ticker]))
        store = run.engine.store
        live_book(run, Venue.KALSHI, ticker)
        ladder = DepthLadder()
        qtbot.addWidget(ladder)
        ladder.set_market(Venue.KALSHI, ticker)
        model = WatchlistModel()
        model.set_markets([MarketRef(Venue.KALSHI, ticker)], store)

        def ended() -> bool:
            # Move its lifecycle on at the next step, every time (pause, resume, close, determine, settle)
            # rather than waiting the thousands of steps the simulator leaves between them.
            due = sim_market._due
            if not any(t == ticker and step <= sim_market.steps + 2 for step, t in due.items()):
                due[sim_market.steps + 1] = ticker
            state = store.markets.get((Venue.KALSHI, ticker))
            return state is not None and state.status == "settled"

        pump_until(ended, 60)
        model.tick(store)
        status = str(model.data(model.index(0, C_STATUS)))
        result = sim_market.kalshi[ticker].result
        assert result in ("yes", "no")
        value = "$1.00" if result == "yes" else "$0.00"
        assert status.startswith(f"settled {result.upper()} at {value}, 20"), status  # with the date
        assert model.data(model.index(0, C_CLOSE)) == "ended"
        ladder.refresh(store)
        assert ladder.placeholder.isVisible() or ladder._stack.currentWidget() is ladder.placeholder
        assert f"settled {result.upper()} at {value}" in ladder.placeholder.text()
        assert "Trading has ended" in ladder.placeholder.text()


def spread_offset(ladder: DepthLadder) -> int:
    """Pixels between the spread row's centre and the table's middle."""
    table, row = ladder.table, ladder.model.spread_row
    centre = table.rowViewportPosition(row) + table.rowHeight(row) // 2
    return abs(centre - table.viewport().height() // 2)


def test_levels_follow_the_height_the_spread_stays_centred_and_a_click_copies(qtbot, qloop) -> None:
    with running(qloop, {Venue.KALSHI: [], Venue.KRAKEN: ["BTC/USD"]}) as run:
        store = run.engine.store
        ladder = DepthLadder()
        qtbot.addWidget(ladder)
        ladder.resize(560, 1200)
        ladder.show()
        ladder.set_market(Venue.KRAKEN, "BTC/USD")
        book = live_book(run, Venue.KRAKEN, "BTC/USD")
        ladder.refresh(store)
        assert book.depth == 10
        # Tall: more rows fit than the book's ten levels a side, and every one of them is used.
        pump_until(lambda: ladder.levels == ladder.fitting_levels() > 10)
        row_h = ladder.table.rowHeight(0)
        height = ladder.table.viewport().height()
        assert (2 * ladder.levels + 1) * row_h <= height < (2 * ladder.levels + 3) * row_h
        assert spread_offset(ladder) <= row_h and ladder.plot.isVisible()
        ladder.refresh(store)
        assert_rows_equal_book(ladder, book)  # rows beyond the book's ten are blank

        # Short: fewer fit than the book holds: the ten levels stay, scrolled so the spread is mid-table.
        ladder.resize(560, 430)
        pump_until(lambda: ladder.fitting_levels() < 10 and ladder.levels == 10)
        pump_until(lambda: spread_offset(ladder) <= row_h)
        assert not ladder.plot.isVisible()  # too short for the depth chart too: the rows get its room
        bar = ladder.table.verticalScrollBar()
        assert bar.maximum() > 0
        for key in (Qt.Key.Key_C, Qt.Key.Key_Home):
            bar.setValue(0)  # the user scrolled to the deepest asks
            assert spread_offset(ladder) > row_h
            ladder.table.setFocus()
            qtbot.keyClick(ladder.table, key)
            assert spread_offset(ladder) <= row_h, key

        # A click on a level copies its exact price and says so; the spread row copies nothing.
        ladder.refresh(store)
        row = ladder.model.bid_row(0)
        price = cell(ladder, row, PRICE, RAW_ROLE)
        assert isinstance(price, Decimal)
        notes: list[str] = []
        ladder.copied.connect(notes.append)
        rect = ladder.table.visualRect(ladder.model.index(row, PRICE))
        qtbot.mouseClick(ladder.table.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())
        assert QApplication.clipboard().text() == f"{price:f}" and "," not in f"{price:f}"
        assert notes and notes[0].startswith(f"Copied {price:f}") and ladder.note_label.text() == notes[0]
        assert ladder.copy_level(ladder.model.spread_row) is None
        assert len(notes) == 1


def test_kraken_price_grouping_sums_exactly_and_is_kept_in_options(qtbot, qloop) -> None:
    from app.core.grouping import group_side, step_units
    from app.core.numbers import from_scaled

    with running(qloop, {Venue.KALSHI: [SUB_CENT], Venue.KRAKEN: ["BTC/USD"]}) as run:
        store = run.engine.store
        ladder = DepthLadder()
        qtbot.addWidget(ladder)
        ladder.resize(560, 1000)
        ladder.show()
        ladder.set_market(Venue.KRAKEN, "BTC/USD")
        book = live_book(run, Venue.KRAKEN, "BTC/USD")
        ladder.refresh(store)
        assert [str(c) for c in ladder.group_choices()] == ["0.1", "1", "10", "100"]  # from the pair's tick
        combo = ladder.group_combo
        assert combo.isVisible() and combo.currentText() == "0.1 (none)" and ladder.group is None
        combo.setCurrentIndex(2)  # the user picks 10
        combo.activated.emit(2)
        assert ladder.group == Decimal("10") and ladder.options() == {"group": "10", "depth": 10}
        for _ in range(3):
            seen = store.health_of(Venue.KRAKEN, "book").messages
            pump_until(lambda seen=seen: store.health_of(Venue.KRAKEN, "book").messages > seen)
            ladder.refresh(store)
            model, pd, sd = ladder.model, book.price_decimals, book.size_decimals
            step = step_units(Decimal("10"), pd)
            for side, is_bid, row_of, size_col, cum_col in (
                (book.top_bids(), True, model.bid_row, BID_SIZE, BID_CUM),
                (book.top_asks(), False, model.ask_row, ASK_SIZE, ASK_CUM),
            ):
                buckets = group_side(side, step, is_bid)
                assert len(buckets) <= ladder.levels  # ten levels make few 10-dollar buckets: all shown
                for k, (price, size) in enumerate(buckets):
                    row = row_of(k)
                    assert cell(ladder, row, PRICE, RAW_ROLE) == from_scaled(price, pd)
                    assert from_scaled(price, pd) % 10 == 0
                    assert cell(ladder, row, size_col, RAW_ROLE) == from_scaled(size, sd)
                # the grouped sizes add up exactly to the book's side
                total = cell(ladder, row_of(len(buckets) - 1), cum_col, RAW_ROLE)
                assert total == sum(from_scaled(q, sd) for _, q in side)
            best_bid = cell(ladder, model.bid_row(0), PRICE, RAW_ROLE)
            best_ask = cell(ladder, model.ask_row(0), PRICE, RAW_ROLE)
            assert isinstance(best_bid, Decimal) and isinstance(best_ask, Decimal) and best_bid < best_ask
            real_bid, real_ask = book.best_bid_price(), book.best_ask_price()
            assert real_bid is not None and real_ask is not None
            assert best_bid <= real_bid < real_ask <= best_ask  # buckets floor the bids, ceil the asks
            # the spread row names the market's real spread, not the gap between two buckets
            assert cell(ladder, model.spread_row, PRICE) == fmt.price(Venue.KRAKEN, real_ask - real_bid)
        ladder.grab().save("/tmp/ladder_grouped.png")

        # A second ladder restored from the first's options groups alike; ungrouped again on "none".
        other = DepthLadder()
        qtbot.addWidget(other)
        other.set_options(ladder.options())
        other.set_market(Venue.KRAKEN, "BTC/USD")
        other.refresh(store)
        assert other.group == Decimal("10") and other.group_combo.currentIndex() == 2
        other.set_options({"group": "not a number"})
        assert other.group is None
        ladder.set_group(None)
        ladder.refresh(store)
        assert_rows_equal_book(ladder, book)

        # Kalshi has no grouping: no selector.
        ladder.set_group(Decimal("10"))
        ladder.set_market(Venue.KALSHI, SUB_CENT)
        live_book(run, Venue.KALSHI, SUB_CENT)
        ladder.refresh(store)
        assert not combo.isVisible() and ladder.group is None and ladder.group_choices() == []


def test_the_depth_choice_is_announced_per_ladder_and_kept_in_options(qtbot) -> None:
    from app.user.settings import MarketRef

    asked: list[tuple[list[MarketRef], int | None]] = []
    ladder = DepthLadder()
    qtbot.addWidget(ladder)
    ladder.show()
    ladder.on_demand = lambda refs, depth: asked.append((refs, depth))
    ladder.set_market(Venue.KRAKEN, "ETH/USD")
    btc_free = DepthLadder()  # another instance keeps its own choice
    qtbot.addWidget(btc_free)
    assert asked == [([MarketRef(Venue.KRAKEN, "ETH/USD")], None)]  # the default depth holds nothing extra
    assert ladder.depth_combo.isVisible()
    ladder.set_depth(500)
    assert asked[-1] == ([MarketRef(Venue.KRAKEN, "ETH/USD")], 500) and btc_free.book_depth == 10
    assert ladder.depth_combo.currentText() == "500" and ladder.options() == {"group": None, "depth": 500}
    with pytest.raises(ValueError, match="book depth 50 is not offered; use one of 10, 25, 100, 500, 1000"):
        ladder.set_depth(50)
    ladder.set_market(Venue.KALSHI, SUB_CENT)  # Kalshi books come whole: no depth to ask for
    assert asked[-1] == ([MarketRef(Venue.KALSHI, SUB_CENT)], None) and not ladder.depth_combo.isVisible()
    btc_free.set_options({"depth": 1000, "group": "1"})
    assert btc_free.book_depth == 1000 and btc_free.options() == {"group": "1", "depth": 1000}
    btc_free.set_options({"depth": "deep"})  # unreadable: the default
    assert btc_free.book_depth == 10
    ladder.set_market(None, None)
    assert asked[-1] == ([], None)

"""The price chart against the real simulator and stream engine: trade points equal the store's tape
(coloured by side), mid samples equal the book's mid, Kraken candles arrive, Kalshi is in cents, follow
live scrolls the window and stops when the user zooms, and history is kept per market (LRU-capped)."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import pytest
from PySide6.QtCore import QPoint, QPointF, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication

from app.core.events import TakerSide
from app.core.instruments import Venue
from app.core.store import MarketStore
from app.launch.launcher import Launch, launch
from app.sim.market import SimConfig, SimMarket
from app.ui import theme
from app.ui.price_chart import MAX_MARKETS, WINDOWS, PriceChart, Series
from app.user.secret_store import SecretStore
from app.user.settings import Profile
from tests.qtsupport import pump_until, run_on

KALSHI = next(iter(SimMarket(SimConfig(seed=1)).kalshi))  # the simulator's default seed is 1


@contextmanager
def running(loop: asyncio.AbstractEventLoop, markets: dict[Venue, list[str]]) -> Iterator[Launch]:
    run = run_on(loop, launch(Profile("Simulator"), SecretStore(), markets))
    try:
        run_on(loop, run.engine.wait_live(10))
        yield run
    finally:
        run_on(loop, run.stop())


def chart_for(qtbot, venue: Venue, market: str) -> PriceChart:
    chart = PriceChart()
    qtbot.addWidget(chart)
    chart.resize(900, 480)
    chart.show()
    chart.set_market(venue, market)
    return chart


def book_mid(store: MarketStore, venue: Venue, market: str) -> float | None:
    book = store.book(venue, market)
    if book is None or book.stale:
        return None
    bid, ask = book.best_bid_price(), book.best_ask_price()
    return None if bid is None or ask is None else float((bid + ask) / 2)


def points_in(item: object) -> int:
    x, _ = item.getOriginalDataset()  # type: ignore[attr-defined]
    return 0 if x is None else len(x)


def assert_trades_plotted(chart: PriceChart, store: MarketStore, venue: Venue, market: str) -> None:
    """Every trade on the tape is a point of its side's colour, at its time and price."""
    scale = 100.0 if venue is Venue.KALSHI else 1.0
    tape = store.markets[(venue, market)].tape
    for side in (TakerSide.BUY, TakerSide.SELL, None):
        x, y = chart.trade_points[side].getOriginalDataset()
        plotted = set() if x is None else set(zip(x.tolist(), y.tolist(), strict=True))
        want = {(t.ts_ms / 1000, float(t.price) * scale) for t in tape if t.taker_side is side}
        assert want <= plotted, side


def test_series_keeps_the_newest_points_contiguous() -> None:
    s = Series(cap=100)
    for i in range(1000):
        s.append(float(i), float(i) * 2)
        assert s.last_y() == float(i) * 2
    t, y = s.data()
    assert 100 <= len(t) <= 201 and t[-1] == 999 and np.all(np.diff(t) == 1) and np.all(y == t * 2)
    assert len(s.t) == 201  # never grew past 2 * cap + 1
    t, y = s.data(tail=2000.0)  # the last value held on to "now"
    assert t[-1] == 2000.0 and y[-1] == y[-2] == 1998.0
    s.append(998.5, -1.0)  # a late point goes in its place: t stays sorted for clip-to-view
    t, y = s.data()
    assert np.all(np.diff(t) >= 0) and t[-2] == 998.5 and y[-2] == -1.0 and t[-1] == 999


def test_kraken_trades_mid_and_candles(qtbot, qloop, qapp: QApplication) -> None:
    theme.apply(qapp, "dark")
    with running(qloop, {Venue.KALSHI: [], Venue.KRAKEN: ["BTC/USD"]}) as run:
        store = run.engine.store
        chart = chart_for(qtbot, Venue.KRAKEN, "BTC/USD")
        axis = chart.plot.getPlotItem().getAxis("left")
        assert axis.labelText == "USD"
        assert axis.tickStrings([97_000.0, 97_050.0], 1.0, 50.0) == [
            "97,000",
            "97,050",
        ]  # as the ladder writes them

        def fed() -> bool:
            chart.refresh(store)  # as the window's timer would
            state = store.markets.get((Venue.KRAKEN, "BTC/USD"))
            history = chart.history(Venue.KRAKEN, "BTC/USD")
            assert history is not None
            return (
                state is not None and state.trades_seen >= 5 and len(history.mid) >= 5 and bool(state.candles)
            )

        pump_until(fed, 15)
        chart.refresh(store)
        history = chart.history(Venue.KRAKEN, "BTC/USD")
        assert history is not None
        mid = book_mid(store, Venue.KRAKEN, "BTC/USD")
        assert mid is not None and history.mid.last_y() == pytest.approx(mid)
        x, y = chart.mid_curve.getOriginalDataset()
        assert y[-1] == pytest.approx(mid) and x[-1] == pytest.approx(time.time(), abs=5)
        assert_trades_plotted(chart, store, Venue.KRAKEN, "BTC/USD")
        # no trade is plotted twice
        state = store.markets[(Venue.KRAKEN, "BTC/USD")]
        total = sum(points_in(p) for p in chart.trade_points.values())
        assert total == len({t.trade_id for t in state.tape}) == state.trades_seen

        candles = list(state.candles.values())
        assert chart.candles.count == len(candles) >= 1
        assert chart.candles.high.max() == pytest.approx(max(float(c.high) for c in candles))
        assert chart.candles.low.min() == pytest.approx(min(float(c.low) for c in candles))
        assert chart.candles.isVisible() and chart.candles_button.isVisible()
        chart.candles_button.setChecked(False)
        assert not chart.candles.isVisible()
        chart.candles_button.setChecked(True)

        # following live: the x range is the last 5 minutes, ending now
        (x0, x1), _ = chart.view.viewRange()
        assert x1 == pytest.approx(time.time(), abs=WINDOWS["5m"] * 0.05)
        assert x1 - x0 == pytest.approx(WINDOWS["5m"] * 1.02, rel=0.01)
        qtbot.wait(100)  # let the axes lay out before the picture (cosmetic only)
        chart.grab().save("/tmp/price_chart.png")


def test_kalshi_in_cents_without_candles(qtbot, qloop, qapp: QApplication) -> None:
    theme.apply(qapp, "dark")
    with running(qloop, {Venue.KALSHI: [KALSHI], Venue.KRAKEN: []}) as run:
        store = run.engine.store
        chart = chart_for(qtbot, Venue.KALSHI, KALSHI)
        assert chart.plot.getPlotItem().getAxis("left").labelText == "¢ (YES)"
        assert not chart.candles_button.isVisible()

        def fed() -> bool:
            chart.refresh(store)
            state = store.markets.get((Venue.KALSHI, KALSHI))
            return (
                state is not None
                and state.trades_seen >= 2
                and book_mid(store, Venue.KALSHI, KALSHI) is not None
            )

        pump_until(fed, 15)
        chart.refresh(store)
        mid = book_mid(store, Venue.KALSHI, KALSHI)
        history = chart.history(Venue.KALSHI, KALSHI)
        assert mid is not None and history is not None
        assert history.mid.last_y() == pytest.approx(mid * 100)  # cents
        assert 0 < mid * 100 < 100
        assert_trades_plotted(chart, store, Venue.KALSHI, KALSHI)
        assert chart.candles.count == 0
        qtbot.wait(100)
        chart.grab().save("/tmp/price_chart_kalshi.png")


def test_follow_live_stops_on_manual_zoom_and_stale_breaks_mid(qtbot, qloop) -> None:
    with running(qloop, {Venue.KALSHI: [], Venue.KRAKEN: ["ETH/USD"]}) as run:
        store = run.engine.store
        chart = chart_for(qtbot, Venue.KRAKEN, "ETH/USD")
        pump_until(lambda: book_mid(store, Venue.KRAKEN, "ETH/USD") is not None)
        chart.refresh(store)
        assert chart.follow_live and chart.follow_button.isChecked()

        chart.window_combo.setCurrentText("1m")
        (x0, x1), _ = chart.view.viewRange()
        assert x1 - x0 == pytest.approx(WINDOWS["1m"] * 1.02, rel=0.01)

        # the user zooms with the wheel over the plot: follow live switches itself off
        viewport = chart.plot.viewport()
        centre = QPointF(viewport.width() / 2, viewport.height() / 2)
        wheel = QWheelEvent(
            centre,
            viewport.mapToGlobal(centre),
            QPoint(0, 0),
            QPoint(0, 120),
            Qt.MouseButton.NoButton,
            Qt.KeyboardModifier.NoModifier,
            Qt.ScrollPhase.NoScrollPhase,
            False,
        )
        QApplication.sendEvent(viewport, wheel)
        assert not chart.follow_live and not chart.follow_button.isChecked()
        zoomed = chart.view.viewRange()[0]
        chart.refresh(store)
        assert chart.view.viewRange()[0] == zoomed  # the view stays where the user put it

        chart.follow_live = True
        (x0, x1), _ = chart.view.viewRange()
        assert x1 - x0 == pytest.approx(WINDOWS["1m"] * 1.02, rel=0.01)

        book = store.book(Venue.KRAKEN, "ETH/USD")
        assert book is not None
        book.mark_stale("x")
        chart.refresh(store)
        assert chart.stale_label.isVisible() and chart.stale_label.text() == "STALE: x"
        history = chart.history(Venue.KRAKEN, "ETH/USD")
        assert history is not None and not history.mid_live
        last = history.mid.last_y()
        assert last is not None and math.isnan(last)  # the mid line breaks, it doesn't run on


def test_history_is_kept_per_market_lru(qtbot, qloop) -> None:
    with running(qloop, {Venue.KALSHI: [], Venue.KRAKEN: ["BTC/USD", "ETH/USD"]}) as run:
        store = run.engine.store
        chart = chart_for(qtbot, Venue.KRAKEN, "BTC/USD")
        for market in ("BTC/USD", "ETH/USD"):
            chart.set_market(Venue.KRAKEN, market)
            pump_until(lambda m=market: book_mid(store, Venue.KRAKEN, m) is not None)
            chart.refresh(store)
        chart.set_market(Venue.KRAKEN, "BTC/USD")
        history = chart.history(Venue.KRAKEN, "BTC/USD")
        assert history is not None and len(history.mid) >= 1
        x, _ = chart.mid_curve.getOriginalDataset()
        assert x is not None and len(x) >= 1  # switching back shows what was seen before

        for i in range(MAX_MARKETS + 5):
            chart.set_market(Venue.KRAKEN, f"SIM{i:03d}/USD")
        assert chart.history(Venue.KRAKEN, "BTC/USD") is None  # least recently viewed: dropped
        assert chart.history(Venue.KRAKEN, f"SIM{MAX_MARKETS + 4:03d}/USD") is not None
        kept = sum(chart.history(Venue.KRAKEN, f"SIM{i:03d}/USD") is not None for i in range(MAX_MARKETS + 5))
        assert kept == MAX_MARKETS

        chart.set_market(None, None)
        assert chart.placeholder.isVisible()

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
from app.ui.price_chart import (
    MAX_MARKETS,
    VOLUME_BAND,
    WINDOWS,
    Bars,
    PriceChart,
    Series,
    aggregated,
    trade_bars,
)
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
        # Volume bars under the prices: each candle's own volume, on a scale of their own in a bottom band.
        assert chart.volume_shown and chart.volume_view.isVisible()
        x, height = chart.volume_bars.opts["x"], chart.volume_bars.opts["height"]
        ordered = sorted(candles, key=lambda c: c.begin)
        assert list(height) == pytest.approx([float(c.volume) for c in ordered]) and max(height) > 0
        np.testing.assert_allclose(x, chart.candles.t)  # each under its candle
        assert chart.volume_view.viewRange()[0] == pytest.approx(chart.view.viewRange()[0])  # x linked
        (x0, x1), (y0, y1) = chart.view.viewRange()
        begins = chart.candles.t - 30  # 1-minute bars, centred on their minute
        seen = (begins + 60 >= x0) & (begins <= x1)  # every bar showing at all
        top = chart.volume_view.viewRange()[1][1]
        assert top == pytest.approx(max(np.asarray(height)[seen]) / VOLUME_BAND)  # the tallest: a fifth up
        bodies = np.minimum(chart.candles.open, chart.candles.close)[seen & (chart.candles.t <= x1)]
        assert bodies.min() >= y0 + (y1 - y0) * VOLUME_BAND * 0.9  # the prices sit above the band
        chart.volume_button.setChecked(False)
        assert not chart.volume_view.isVisible()
        _, (y0_off, _) = chart.view.viewRange()
        assert y0_off > y0  # no band reserved without the bars
        chart.volume_button.setChecked(True)
        qtbot.wait(100)  # let the axes lay out before the picture (cosmetic only)
        chart.grab().save("/tmp/price_chart.png")


def test_kalshi_in_cents_with_live_candles_from_the_tape(qtbot, qloop, qapp: QApplication) -> None:
    theme.apply(qapp, "dark")
    with running(qloop, {Venue.KALSHI: [KALSHI], Venue.KRAKEN: []}) as run:
        store = run.engine.store
        chart = chart_for(qtbot, Venue.KALSHI, KALSHI)
        assert chart.plot.getPlotItem().getAxis("left").labelText == "¢ (YES)"
        assert chart.candles_button.isVisible()  # Kalshi has no ohlc channel: its bars come from the tape

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
        # Each live bar is its minute's prints: open, high, low and close in cents.
        minutes: dict[float, list[float]] = {}
        for t in sorted(store.markets[(Venue.KALSHI, KALSHI)].tape, key=lambda t: t.ts_ms or 0):
            ts = (t.ts_ms or 0) / 1000
            minutes.setdefault(ts - ts % 60, []).append(float(t.price) * 100)
        bars = {
            float(t - 30): (o, h, lo, c)
            for t, o, h, lo, c in zip(
                *(
                    x.tolist()
                    for x in (
                        chart.candles.t,
                        chart.candles.open,
                        chart.candles.high,
                        chart.candles.low,
                        chart.candles.close,
                    )
                ),
                strict=True,
            )
        }
        assert chart.candles.count >= 1
        for begin, prices in minutes.items():
            _o, h, lo, c = bars[begin]
            assert (h, lo) == (max(prices), min(prices)) and c == prices[-1]
        # ...and its volume bar is the sum of those prints' sizes, in contracts.
        sizes: dict[float, float] = {}
        for t in {t.trade_id: t for t in store.markets[(Venue.KALSHI, KALSHI)].tape}.values():
            ts = (t.ts_ms or 0) / 1000
            sizes[ts - ts % 60] = sizes.get(ts - ts % 60, 0.0) + float(t.size)
        x, height = chart.volume_bars.opts["x"], chart.volume_bars.opts["height"]
        shown = {float(b - 30): float(v) for b, v in zip(x, height, strict=True)}
        assert shown == pytest.approx(sizes) and sum(sizes.values()) > 0
        chart.volume_button.setChecked(False)  # each toggle fits the price scale again
        (_, _), (y0_off, y1_off) = chart.view.viewRange()
        chart.volume_button.setChecked(True)
        (_, _), (y0, y1) = chart.view.viewRange()
        assert chart.volume_view.viewRange()[1][1] > 0  # the band is scaled to the bars in view
        assert y0 < y0_off and y1 == pytest.approx(y1_off)  # the band is room made below the prices
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


def _outlier_bar(state: object) -> tuple[int, float, float]:
    """The simulator's outlier among a pair's 1-minute history bars: (begin, wick end, share of price)."""
    best = (0, 0.0, 0.0)
    scale = 10**state.pair.price_precision  # type: ignore[attr-defined]
    for c in state.candles[1]:  # type: ignore[attr-defined]
        up, down = c.high - max(c.open, c.close), min(c.open, c.close) - c.low
        share = max(up, down) / c.close
        if share > best[2]:
            best = (c.begin_s, (c.high if up >= down else c.low) / scale, share)
    return best


def test_history_on_open_a_robust_range_a_day_window_and_a_visible_follow_state(
    qtbot, qloop, qapp: QApplication
) -> None:
    """Issue 19 item 11, on the real simulator: the chart opens with the venue's day of history, one
    outlier wick is clipped and marked instead of flattening the move, windows reach a day with dates on
    the axis, the legend sits beside the plot, and "Follow live" looks different on and off."""
    import aiohttp

    from app.launch.history import market_history

    theme.apply(qapp, "dark")
    pairs = [
        "BTC/USD",
        "ETH/USD",
        "SOL/USD",
        "XRP/USD",
        "DOGE/USD",
        "ADA/USD",
        "LTC/USD",
        "DOT/USD",
        "LINK/USD",
    ]
    with running(qloop, {Venue.KALSHI: [], Venue.KRAKEN: pairs}) as run:
        assert run.sim is not None
        now = time.time()
        # A pair whose outlier lies inside the last 12 h (the 1-minute bars Kraken keeps) and not at the ends.
        found = [(p, _outlier_bar(run.sim.market.kraken[p])) for p in pairs]
        pair, (begin, wick, share) = next((p, o) for p, o in found if now - 11.5 * 3600 < o[0] < now - 1800)
        assert share > 0.03
        store = run.engine.store
        chart = chart_for(qtbot, Venue.KRAKEN, pair)
        assert chart.plot.getPlotItem().legend is None  # nothing drawn over the data
        assert chart.legend_label.geometry().bottom() < chart._stack.geometry().top()
        assert "buy" in chart.legend_label.text() and "sell" in chart.legend_label.text()

        async def fetch() -> object:
            async with aiohttp.ClientSession() as http:
                return await market_history(http, Venue.KRAKEN, run.urls[Venue.KRAKEN], pair)

        history = run_on(qloop, fetch())
        chart.set_history(Venue.KRAKEN, pair, history.minute, history.coarse)  # type: ignore[attr-defined]
        chart.refresh(store)
        # 5-minute window: the 1-minute history bars are there at once, before any live trade.
        (x0, x1), _ = chart.view.viewRange()
        in_view = chart.candles.t[(chart.candles.t >= x0) & (chart.candles.t <= x1)]
        assert chart.bar_minutes == 1 and len(in_view) >= 4

        chart.window_combo.setCurrentText("1d")
        chart.refresh(store)
        (x0, x1), (y0, y1) = chart.view.viewRange()
        assert x1 - x0 == pytest.approx(86_400 * 1.02, rel=0.01)
        assert chart.bar_minutes == 15 and "15 m bars" in chart.legend_label.text()
        seen = (chart.candles.t >= x0) & (chart.candles.t <= x1)
        assert 90 <= int(seen.sum()) <= 100  # a day of 15-minute bars: history, then this session's
        assert np.all(np.diff(chart.candles.t) == 900)
        bodies = np.concatenate((chart.candles.open[seen], chart.candles.close[seen]))
        # The outlier is off the scale, and the real move fills the chart instead of a sliver of it.
        assert not y0 <= wick <= y1
        assert y0 <= bodies.min() and bodies.max() <= y1
        assert (bodies.max() - bodies.min()) / (y1 - y0) > 0.6
        # ...and it is marked where it happened, with its price in words.
        assert any(abs(t - (begin + 30)) < 900 and v == pytest.approx(wick) for t, v in chart.outliers)
        mark_x, mark_y = chart.outlier_marks.getData()
        assert len(mark_x) == len(chart.outliers) and all(y0 <= y <= y1 for y in mark_y)
        assert chart.outlier_label.isVisible() and "off scale" in chart.outlier_label.text()

        # Dates on the long axis: the day is named on the first label and where the date changes.
        axis = chart.plot.getPlotItem().getAxis("bottom")
        ticks = axis.tickValues(x0, x1, axis.geometry().width())
        labels = [text for spacing, values in ticks for text in axis.tickStrings(values, 1.0, spacing)]
        days = {time.strftime("%d %b", time.localtime(t)) for _, values in ticks for t in values}
        assert all(any(label.startswith(d) for label in labels) for d in days), labels
        assert any(":" in label for label in labels)  # and the hours between

        # Follow live, on and off, as a user sees it.
        qtbot.wait(50)

        def button_colour() -> tuple[int, int, int]:
            img = chart.follow_button.grab().toImage()
            c = img.pixelColor(4, img.height() // 2)
            return c.red(), c.green(), c.blue()

        on_text, on_colour = chart.follow_button.text(), button_colour()
        chart.follow_live = False
        qtbot.wait(50)
        off_text, off_colour = chart.follow_button.text(), button_colour()
        assert "Following live" in on_text and off_text == "Follow live"
        assert sum(abs(a - b) for a, b in zip(on_colour, off_colour, strict=True)) > 120
        chart.follow_live = True
        chart.grab().save("/tmp/price_chart_day.png")


def test_volume_is_summed_exactly_into_bars_and_wider_bars() -> None:
    t = np.array([0.0, 10.0, 59.0, 60.0, 130.0, 299.0, 301.0])
    y = np.array([5.0, 6.0, 4.0, 5.0, 7.0, 6.0, 6.5])
    q = np.array([1.0, 2.0, 0.5, 3.0, 1.5, 2.5, 4.0])
    bars = trade_bars(t, y, q)
    assert bars.t.tolist() == [0.0, 60.0, 120.0, 240.0, 300.0]
    assert bars.v.tolist() == [3.5, 3.0, 1.5, 2.5, 4.0]
    five = aggregated(bars, 5)
    assert five.t.tolist() == [0.0, 300.0] and five.v.tolist() == [10.5, 4.0]
    assert five.v.sum() == q.sum()
    assert Bars(t[:2], y[:2], y[:2], y[:2], y[:2]).v.tolist() == [0.0, 0.0]  # no volume given: none shown


def test_each_chart_keeps_its_own_window_and_options(qtbot) -> None:
    one, two = PriceChart(), PriceChart()
    for chart in (one, two):
        qtbot.addWidget(chart)
        chart.resize(700, 400)
        chart.show()
    one.set_market(Venue.KRAKEN, "BTC/USD")
    two.set_market(Venue.KRAKEN, "BTC/USD")
    one.set_time_window("1h")
    two.window_combo.setCurrentText("15m")  # as the user picks it
    two.volume_button.setChecked(False)
    assert one.time_window == "1h" and two.time_window == "15m"
    for chart, window in ((one, "1h"), (two, "15m")):
        (x0, x1), _ = chart.view.viewRange()
        assert x1 - x0 == pytest.approx(WINDOWS[window] * 1.02, rel=0.01)
    assert one.options() == {"window": "1h", "candles": True, "volume": True}
    assert two.options() == {"window": "15m", "candles": True, "volume": False}
    three = PriceChart()
    qtbot.addWidget(three)
    three.set_options(two.options())
    assert three.options() == two.options() and three.bar_minutes == 1
    three.set_options({"window": "1d", "volume": "yes please"})  # a bad value is left as it was
    assert three.options() == {"window": "1d", "candles": True, "volume": False} and three.bar_minutes == 15
    with pytest.raises(ValueError, match="chart window '2h' is not offered"):
        one.set_time_window("2h")

"""The price chart: trades as points coloured by taker side, the mid price as a sample-and-hold line, and
the venue's 1-minute candles where it has them (Kraken). x is Unix time on a date axis; Kalshi prices are
YES cents, Kraken prices quote currency.

History is kept per market (mid samples and trades in capped numpy buffers, the 50 most recently viewed
markets), so switching back and forth keeps what was already seen.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from datetime import datetime
from itertools import islice

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QPainter, QPen, QPicture
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QStackedWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.core.events import Candle, TakerSide
from app.core.instruments import Venue
from app.core.store import MarketStore
from app.ui import theme as themes
from app.ui.axes import NumberAxis
from app.ui.theme import Theme

WINDOWS: dict[str, float] = {"1m": 60.0, "5m": 300.0, "15m": 900.0, "1h": 3600.0}
MID_CAPACITY = 20_000  # mid samples kept per market
TRADE_CAPACITY = 10_000  # trade points kept per market and side
# Markets whose history is kept (least recently viewed dropped first). A full one is ~1.6 MB of arrays
# (the capacities above, doubled for amortised appends), so 20 bound the charts to ~32 MB all day.
MAX_MARKETS = 20
SIDES: tuple[TakerSide | None, ...] = (TakerSide.BUY, TakerSide.SELL, None)


class Series:
    """An append-only (t, y) series whose newest ``cap`` points are always one contiguous slice, so
    plotting takes a view, never a copy. Storage grows by doubling up to ``2 * cap + 1`` and is then
    compacted (halved) when full: amortised O(1) per point. The spare last slot holds a "now" tail."""

    __slots__ = ("cap", "n", "t", "y")

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.n = 0
        self.t = np.empty(min(cap, 256) + 1)
        self.y = np.empty(min(cap, 256) + 1)

    def __len__(self) -> int:
        return self.n

    def append(self, t: float, y: float) -> None:
        if self.n + 1 >= len(self.t):
            self._make_room()
        n = self.n
        if n and t < self.t[n - 1]:
            # Out of order (a late trade after a re-subscribe): insert in place, because clipping to the
            # view bisects on t and needs it sorted. Rare, so the O(n) shift is fine.
            at = int(np.searchsorted(self.t[:n], t, side="right"))
            self.t[at + 1 : n + 1] = self.t[at:n].copy()
            self.y[at + 1 : n + 1] = self.y[at:n].copy()
            self.t[at], self.y[at] = t, y
        else:
            self.t[n] = t
            self.y[n] = y
        self.n = n + 1

    def _make_room(self) -> None:
        if len(self.t) < 2 * self.cap + 1:
            size = min(2 * (len(self.t) - 1), 2 * self.cap) + 1
            self.t = np.concatenate((self.t[: self.n], np.empty(size - self.n)))
            self.y = np.concatenate((self.y[: self.n], np.empty(size - self.n)))
        else:  # full: keep the newest cap points
            keep = self.cap - 1
            self.t[:keep] = self.t[self.n - keep : self.n]
            self.y[:keep] = self.y[self.n - keep : self.n]
            self.n = keep

    def last_y(self) -> float | None:
        return float(self.y[self.n - 1]) if self.n else None

    def data(self, tail: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """The points, oldest first; with ``tail`` the last value is held on to that time."""
        if tail is not None and self.n and tail > self.t[self.n - 1]:
            self.t[self.n] = tail
            self.y[self.n] = self.y[self.n - 1]
            return self.t[: self.n + 1], self.y[: self.n + 1]
        return self.t[: self.n], self.y[: self.n]


class History:
    """What one market's chart has collected."""

    def __init__(self) -> None:
        self.mid = Series(MID_CAPACITY)
        self.mid_live = False  # the newest mid sample came from a live book (so it may be held to now)
        self.trades: dict[TakerSide | None, Series] = {s: Series(TRADE_CAPACITY) for s in SIDES}
        self.trades_seen = 0  # the store's trades_seen when the tape was last read
        self._ids: deque[str] = deque(maxlen=2_000)  # recent trade ids: a replayed snapshot isn't new
        self._id_set: set[str] = set()

    def is_new(self, trade_id: str) -> bool:
        if not trade_id:
            return True
        if trade_id in self._id_set:
            return False
        if len(self._ids) == self._ids.maxlen:
            self._id_set.discard(self._ids[0])
        self._ids.append(trade_id)
        self._id_set.add(trade_id)
        return True


def candle_time(begin: str) -> float:
    """Kraken's interval_begin (RFC 3339 with 'Z', up to nanoseconds) -> Unix seconds."""
    return datetime.fromisoformat(begin).timestamp()


class CandleItem(pg.GraphicsObject):  # type: ignore[misc]  # pyqtgraph is untyped
    """Candlesticks pre-rendered into a QPicture (the pyqtgraph example pattern): painting replays the
    picture, and it is re-rendered only when the candle set or the colours change."""

    def __init__(self) -> None:
        super().__init__()
        self._picture = QPicture()
        self._rect = QRectF()
        self._up, self._down = QColor("green"), QColor("red")
        self.t = self.open = self.high = self.low = self.close = np.empty(0)
        self.width = 60.0

    @property
    def count(self) -> int:
        return len(self.t)

    def set_colors(self, up: QColor, down: QColor) -> None:
        self._up, self._down = up, down
        self._render()

    def set_candles(self, candles: list[Candle]) -> None:
        minutes = candles[0].interval_min if candles else 1
        self.width = minutes * 60 * 0.7
        # centre each bar on its interval
        self.t = np.array([candle_time(c.begin) + minutes * 30 for c in candles])
        self.open = np.array([float(c.open) for c in candles])
        self.high = np.array([float(c.high) for c in candles])
        self.low = np.array([float(c.low) for c in candles])
        self.close = np.array([float(c.close) for c in candles])
        self._render()

    def _render(self) -> None:
        picture = QPicture()
        painter = QPainter(picture)
        half = self.width / 2
        for t, o, h, lo, c in zip(self.t, self.open, self.high, self.low, self.close, strict=True):
            color = self._up if c >= o else self._down
            pen = QPen(color)
            pen.setCosmetic(True)  # one pixel wide at any zoom
            painter.setPen(pen)
            painter.drawLine(QPointF(t, lo), QPointF(t, h))
            fill = QColor(color)
            fill.setAlpha(60)  # a translucent body: the trade points in it stay readable
            painter.setBrush(fill)
            painter.drawRect(QRectF(t - half, o, 2 * half, c - o))
        painter.end()
        self.prepareGeometryChange()
        self._picture = picture
        if self.count:
            left, bottom = float(self.t.min()) - half, float(self.low.min())
            self._rect = QRectF(
                left, bottom, float(self.t.max()) + half - left, float(self.high.max()) - bottom
            )
        else:
            self._rect = QRectF()
        self.update()

    def paint(self, painter: QPainter, *args: object) -> None:
        painter.drawPicture(0, 0, self._picture)

    def boundingRect(self) -> QRectF:  # noqa: N802
        return self._rect

    def dataBounds(  # noqa: N802  # pyqtgraph's auto-range hook: fit y to the candles in view
        self,
        ax: int,
        frac: float = 1.0,
        orthoRange: tuple[float, float] | None = None,  # noqa: N803  # passed by keyword
    ) -> tuple[float, float] | tuple[None, None]:
        if not self.count:
            return None, None
        if ax == 0:
            return float(self.t.min()) - self.width, float(self.t.max()) + self.width
        mask = np.ones(self.count, dtype=bool)
        if orthoRange is not None:
            mask = (self.t >= orthoRange[0] - self.width) & (self.t <= orthoRange[1] + self.width)
        if not mask.any():
            return None, None
        return float(self.low[mask].min()), float(self.high[mask].max())


class PriceChart(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._venue: Venue | None = None
        self._market: str | None = None
        self._histories: OrderedDict[tuple[Venue, str], History] = OrderedDict()
        self._candle_sig: object = None
        self._follow = True
        self._followed_at = 0.0
        self.candles = CandleItem()

        self.follow_button = QToolButton(self)
        self.follow_button.setText("Follow live")
        self.follow_button.setCheckable(True)
        self.follow_button.setChecked(True)
        self.follow_button.toggled.connect(self._set_follow)
        self.window_combo = QComboBox(self)
        self.window_combo.addItems(list(WINDOWS))
        self.window_combo.setCurrentText("5m")
        self.window_combo.setToolTip("Time window shown while following live")
        self.window_combo.currentTextChanged.connect(lambda _: self._apply_follow())
        self.candles_button = QToolButton(self)
        self.candles_button.setText("Candles")
        self.candles_button.setCheckable(True)
        self.candles_button.setChecked(True)
        self.candles_button.setToolTip("1-minute OHLC candles behind the trades (Kraken)")
        self.candles_button.toggled.connect(self.candles.setVisible)
        self.stale_label = QLabel(self)
        self.stale_label.hide()
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        for w in (self.follow_button, self.window_combo, self.candles_button):
            bar.addWidget(w)
        bar.addStretch(1)
        bar.addWidget(self.stale_label)

        axes = {"bottom": pg.DateAxisItem(orientation="bottom"), "left": NumberAxis("left")}
        self.plot = pg.PlotWidget(self, axisItems=axes)
        item = self.plot.getPlotItem()
        item.setMenuEnabled(False)
        item.setDownsampling(auto=True, mode="peak")
        item.setClipToView(True)
        item.getAxis("left").setWidth(64)  # fixed: no jitter as the price scale moves
        self.view = item.getViewBox()
        self.view.setAutoVisible(y=True)
        self.view.sigRangeChangedManually.connect(self._user_moved)
        self.legend = item.addLegend(offset=(8, 8))
        item.addItem(self.candles)
        self.mid_curve = pg.PlotDataItem(stepMode="right", name="mid")
        item.addItem(self.mid_curve)
        names = {TakerSide.BUY: "buy", TakerSide.SELL: "sell", None: None}
        self.trade_points: dict[TakerSide | None, pg.PlotDataItem] = {}
        for side in SIDES:
            points = pg.PlotDataItem(pen=None, symbol="o", symbolSize=5, symbolPen=None, name=names[side])
            self.trade_points[side] = points
            item.addItem(points)

        self.placeholder = QLabel("No market selected", self)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._stack = QStackedWidget(self)
        self._stack.addWidget(self.placeholder)
        self._stack.addWidget(self.plot)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addLayout(bar)
        layout.addWidget(self._stack, 1)

        # Scrolls the window and holds the mid line to "now" even when the market is quiet.
        self._ticker = QTimer(self)
        self._ticker.setInterval(1000)
        self._ticker.timeout.connect(self._tick)
        self._ticker.start()
        self.apply_theme(themes.current())

    # ------------------------------------------------------------------ public API

    @property
    def follow_live(self) -> bool:
        return self._follow

    @follow_live.setter
    def follow_live(self, on: bool) -> None:
        self.follow_button.setChecked(on)  # toggled -> _set_follow

    def history(self, venue: Venue, market: str) -> History | None:
        return self._histories.get((venue, market))

    def set_market(self, venue: Venue | None, market: str | None) -> None:
        if (venue, market) == (self._venue, self._market):
            return
        self._venue, self._market = venue, market
        self._candle_sig = None
        self.candles.set_candles([])
        self.stale_label.hide()
        if venue is None or market is None:
            self._stack.setCurrentIndex(0)
            return
        self._stack.setCurrentIndex(1)
        key = (venue, market)
        if key not in self._histories:
            self._histories[key] = History()
            while len(self._histories) > MAX_MARKETS:
                self._histories.popitem(last=False)
        self._histories.move_to_end(key)
        kalshi = venue is Venue.KALSHI
        self.plot.getPlotItem().setLabel("left", "¢ (YES)" if kalshi else _quote(market))
        self.view.setLimits(yMin=0 if kalshi else None, yMax=100 if kalshi else None)
        self.candles_button.setVisible(not kalshi)  # Kalshi has no OHLC feed
        self._draw(self._histories[key], trades=True)
        self.view.enableAutoRange(axis="y")
        if self._follow:
            self._apply_follow()
        else:  # the view the user left belongs to the previous market: show this one's history
            self.view.autoRange()

    def clear(self) -> None:
        """Forget every market's history: the data source changed, and a line must never join the old
        source's prices to the new one's."""
        self._histories.clear()
        venue, market = self._venue, self._market
        self._venue = self._market = None
        self.set_market(venue, market)

    def refresh(self, store: MarketStore) -> None:
        venue, market = self._venue, self._market
        if venue is None or market is None:
            return
        history = self._histories[(venue, market)]
        scale = 100.0 if venue is Venue.KALSHI else 1.0
        now = time.time()
        book = store.book(venue, market)
        mid = None
        if book is not None and not book.stale:
            bid, ask = book.best_bid_price(), book.best_ask_price()
            if bid is not None and ask is not None:
                mid = float((bid + ask) / 2) * scale
        if mid is not None:
            if mid != history.mid.last_y() or not history.mid_live:  # sample and hold: changes only
                history.mid.append(now, mid)
            history.mid_live = True
        elif history.mid_live:
            # Break the line: nothing is known while the book is stale or one-sided.
            history.mid.append(now, np.nan)
            history.mid_live = False
        self._set_stale(None if book is None or not book.stale else book.stale_reason)

        new_trades = False
        state = store.markets.get((venue, market))
        if state is not None:
            fresh = state.trades_seen - history.trades_seen
            if fresh < 0:  # a different store: start over from its tape
                fresh = len(state.tape)
            history.trades_seen = state.trades_seen
            newest = list(islice(reversed(state.tape), min(fresh, len(state.tape))))
            for trade in reversed(newest):
                if history.is_new(trade.trade_id):
                    ts = trade.ts_ms / 1000 if trade.ts_ms is not None else now
                    history.trades[trade.taker_side].append(ts, float(trade.price) * scale)
                    new_trades = True
            if state.candles:
                self._update_candles(state.candles)
        self._draw(history, trades=new_trades)
        self._apply_follow(force=False)

    def apply_theme(self, t: Theme) -> None:
        q = themes.qcolor
        themes.style_plot(self.plot, t)
        self.mid_curve.setPen(pg.mkPen(t.mid, width=1.5))
        colors = {TakerSide.BUY: t.bid, TakerSide.SELL: t.ask, None: t.mid}
        for side, points in self.trade_points.items():
            points.setSymbolBrush(pg.mkBrush(colors[side]))
        up, down = q(t.bid), q(t.ask)
        up.setAlpha(200)  # candles sit behind the trade points
        down.setAlpha(200)
        self.candles.set_colors(up, down)
        self.legend.setLabelTextColor(q(t.text))
        self.stale_label.setStyleSheet(f"color: {t.warn}; font-weight: bold;")
        self.placeholder.setStyleSheet(f"color: {t.dim_text}; font-size: 13px;")

    # ------------------------------------------------------------------ internals

    def _update_candles(self, candles: OrderedDict[str, Candle]) -> None:
        # Only the newest bar or two change as they fill in; a new bar changes the count and last key.
        newest = reversed(candles.values())
        last, prev = next(newest), next(newest, None)
        sig = (
            len(candles),
            next(iter(candles)),
            last.begin,
            (last.open, last.high, last.low, last.close),
            None if prev is None else (prev.high, prev.low, prev.close),
        )
        if sig != self._candle_sig:
            self._candle_sig = sig
            self.candles.set_candles(list(candles.values()))

    def _draw(self, history: History, trades: bool) -> None:
        self.mid_curve.setData(*history.mid.data(tail=time.time() if history.mid_live else None))
        if trades:
            for side, points in self.trade_points.items():
                points.setData(*history.trades[side].data())

    def _tick(self) -> None:
        if self._venue is None or self._market is None:
            return
        history = self._histories.get((self._venue, self._market))
        if history is not None and history.mid_live:
            self._draw(history, trades=False)
        self._apply_follow(force=False)

    def _set_follow(self, on: bool) -> None:
        self._follow = on
        if on:
            self.view.enableAutoRange(axis="y")
            self._apply_follow()

    def _apply_follow(self, force: bool = True) -> None:
        if not self._follow or self._market is None:
            return
        span = WINDOWS.get(self.window_combo.currentText(), 300.0)
        now = time.time()
        # Scrolling redraws the time axis (its text is the costly part of a frame): step about a
        # pixel's worth of time at a time, and no more than 4 times a second.
        if not force and now - self._followed_at < max(0.25, span / 1000):
            return
        self._followed_at = now
        self.view.setXRange(now - span, now + span * 0.02, padding=0)

    def _user_moved(self, *_: object) -> None:
        # The user panned or zoomed: they are looking at something; stop dragging the view away.
        self.follow_live = False

    def _set_stale(self, reason: str | None) -> None:
        if reason is None:
            self.stale_label.hide()
            return
        self.stale_label.setText(f"STALE: {reason}")
        self.stale_label.show()


def _quote(market: str) -> str:
    """Kraken "BTC/USD" -> "USD" (the price axis unit)."""
    return market.rpartition("/")[2] or "price"

"""The price chart: trades as points coloured by taker side, the mid price as a sample-and-hold line, and
candles: the venue's history fetched when the market opens (Kraken REST OHLC, Kalshi candlesticks), then
the live bars (Kraken's ohlc channel; for Kalshi, the tape folded into minutes). x is Unix time on a date
axis that names the day on long windows; Kalshi prices are YES cents, Kraken prices quote currency.

Volume bars (the candles' own volume: Kraken's in the base currency, Kalshi's in contracts, from the tape
where bars are made from it) sit in a band along the bottom, under the prices, on their own scale. Each
chart has its own time window; ``options()`` and ``set_options()`` are what a pane saves and restores.

The y-range is the chart's own, not pyqtgraph's auto-range: robust to one bad print (``robust_range``),
which is clipped and marked at the edge instead of flattening the real move. The legend sits beside the
plot, never over the data.

History is kept per market (mid samples and trades in capped numpy buffers, the 20 most recently viewed
markets), so switching back and forth keeps what was already seen.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QPainter, QPen, QPicture
from PySide6.QtWidgets import (
    QApplication,
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
from app.ui import format as fmt
from app.ui import theme as themes
from app.ui import zoom
from app.ui.axes import NumberAxis, TimeAxis
from app.ui.theme import Theme

WINDOWS: dict[str, float] = {
    "1m": 60.0,
    "5m": 300.0,
    "15m": 900.0,
    "1h": 3600.0,
    "4h": 4 * 3600.0,
    "1d": 86_400.0,
}
BAR_MINUTES = {"4h": 5, "1d": 15}  # candle width per window (1 minute otherwise): ~50-100 bars in view
OUTLIER_MARGIN = 0.35  # beyond the core's span by more than this share of it: an outlier
MID_CAPACITY = 20_000  # mid samples kept per market
TRADE_CAPACITY = 10_000  # trade points kept per market and side
# Markets whose history is kept (least recently viewed dropped first). A full one is ~1.6 MB of arrays
# (the capacities above, doubled for amortised appends), so 20 bound the charts to ~32 MB all day.
MAX_MARKETS = 20
SIDES: tuple[TakerSide | None, ...] = (TakerSide.BUY, TakerSide.SELL, None)
VOLUME_BAND = 0.2  # the share of the plot's height the volume bars may reach (prices keep the rest)
DEFAULT_WINDOW = "5m"


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
        # Each trade's size, beside its price point (same times, so the two stay aligned): the volume of
        # bars made from the tape.
        self.sizes: dict[TakerSide | None, Series] = {s: Series(TRADE_CAPACITY) for s in SIDES}
        self.trades_seen = 0  # the store's trades_seen when the tape was last read
        self.past = Bars.empty()  # the venue's 1-minute bars from before the market was opened
        self.past_coarse = Bars.empty()  # ... and its wider ones, for what those do not reach back to
        self.past_loaded = False
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


@dataclass(slots=True)
class Bars:
    """OHLC bars as arrays (begin time in Unix seconds, prices in chart units), oldest first, and each
    bar's volume (zeros where the source gave none)."""

    t: np.ndarray
    o: np.ndarray
    h: np.ndarray
    lo: np.ndarray
    c: np.ndarray
    minutes: int = 1
    v: np.ndarray = field(default_factory=lambda: np.empty(0))

    def __post_init__(self) -> None:
        if len(self.v) != len(self.t):
            self.v = np.zeros(len(self.t))

    @classmethod
    def empty(cls, minutes: int = 1) -> Bars:
        e = np.empty(0)
        return cls(e, e, e, e, e, minutes)

    @classmethod
    def of(cls, candles: Iterable[Candle], scale: float) -> Bars:
        rows = sorted(
            (
                candle_time(c.begin),
                float(c.open),
                float(c.high),
                float(c.low),
                float(c.close),
                c.interval_min,
                float(c.volume),
            )
            for c in candles
        )
        if not rows:
            return cls.empty()
        t, o, h, lo, c, minutes, v = zip(*rows, strict=True)
        arr = np.array
        prices = (arr(o) * scale, arr(h) * scale, arr(lo) * scale, arr(c) * scale)
        return cls(arr(t), *prices, minutes[0], arr(v))

    def __len__(self) -> int:
        return len(self.t)

    def where(self, keep: np.ndarray) -> Bars:
        return Bars(
            self.t[keep], self.o[keep], self.h[keep], self.lo[keep], self.c[keep], self.minutes, self.v[keep]
        )


def _concat(a: Bars, b: Bars) -> Bars:
    t, o, h, lo, c, v = (np.concatenate((x, y)) for x, y in zip(_arrays(a), _arrays(b), strict=True))
    return Bars(t, o, h, lo, c, a.minutes, v)


def merged(old: Bars, new: Bars) -> Bars:
    """Both sets of bars by begin time; where both have a bar, ``new``'s wins (a live bar that filled in)."""
    if not len(old):
        return new
    if not len(new):
        return old
    both = _concat(old, new)
    # np.unique keeps the first of equal keys: look from the end so the newest copy is the one kept.
    _, last = np.unique(both.t[::-1], return_index=True)
    return both.where(len(both.t) - 1 - last)


def _arrays(b: Bars) -> tuple[np.ndarray, ...]:
    return b.t, b.o, b.h, b.lo, b.c, b.v


def aggregated(bars: Bars, minutes: int) -> Bars:
    """Bars folded into ``minutes``-long ones aligned to the epoch (open of the first, close of the last)."""
    if minutes == bars.minutes or not len(bars):
        return Bars(bars.t, bars.o, bars.h, bars.lo, bars.c, minutes, bars.v)
    span = minutes * 60.0
    bucket = bars.t - bars.t % span
    starts = np.concatenate(([0], np.flatnonzero(np.diff(bucket)) + 1))
    ends = np.concatenate((starts[1:] - 1, [len(bucket) - 1]))
    return Bars(
        bucket[starts],
        bars.o[starts],
        np.maximum.reduceat(bars.h, starts),
        np.minimum.reduceat(bars.lo, starts),
        bars.c[ends],
        minutes,
        np.add.reduceat(bars.v, starts),
    )


def trade_bars(t: np.ndarray, y: np.ndarray, sizes: np.ndarray | None = None) -> Bars:
    """1-minute bars of trade prints (t sorted; ``sizes`` beside them make each bar's volume): Kalshi has
    no OHLC channel, so its live bars are made from the tape, as the venue makes its candlesticks."""
    if not len(t):
        return Bars.empty()
    bucket = t - t % 60.0
    starts = np.concatenate(([0], np.flatnonzero(np.diff(bucket)) + 1))
    ends = np.concatenate((starts[1:] - 1, [len(t) - 1]))
    volume = np.add.reduceat(sizes, starts) if sizes is not None and len(sizes) == len(t) else None
    return Bars(
        bucket[starts],
        y[starts],
        np.maximum.reduceat(y, starts),
        np.minimum.reduceat(y, starts),
        y[ends],
        1,
        np.empty(0) if volume is None else volume,
    )


def robust_range(
    core: np.ndarray, extremes: np.ndarray, margin: float = OUTLIER_MARGIN
) -> tuple[float, float, np.ndarray] | None:
    """The y-range to show and which ``extremes`` lie outside it.

    ``core`` are the prices the eye follows (bar opens and closes, trades, the mid); ``extremes`` the
    wicks. The core's 1st to 99th percentile (all of it when there are few points) sets the scale;
    anything within ``margin`` of that span beyond it is shown too, and what lies further out is an
    outlier: clipped, so one bad print cannot flatten the real move, and marked by the caller."""
    core = core[np.isfinite(core)]
    if not len(core):
        return None
    lo, hi = np.percentile(core, [1, 99]) if len(core) >= 50 else (core.min(), core.max())
    span = max(float(hi - lo), abs(float(hi)) * 1e-4, 1e-9)
    floor_, ceil_ = lo - margin * span, hi + margin * span
    values = np.concatenate((core, extremes[np.isfinite(extremes)]))
    inside = values[(values >= floor_) & (values <= ceil_)]
    lo, hi = float(inside.min()), float(inside.max())
    outside = (extremes < floor_) | (extremes > ceil_)
    return lo, hi, outside


class CandleItem(pg.GraphicsObject):  # type: ignore[misc]  # pyqtgraph is untyped
    """Candlesticks pre-rendered into a QPicture (the pyqtgraph example pattern): painting replays the
    picture, and it is re-rendered only when the bars or the colours change. ``t`` is each bar's centre."""

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

    def set_bars(self, bars: Bars) -> None:
        self.width = bars.minutes * 60 * 0.7
        self.t = bars.t + bars.minutes * 30  # centre each bar on its interval
        self.open, self.high, self.low, self.close = bars.o, bars.h, bars.lo, bars.c
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

    def dataBounds(  # noqa: N802  # pyqtgraph's auto-range hook
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
        self._live_sig: object = None
        self._live_bars = Bars.empty()
        self._follow = True
        self._followed_at = 0.0
        self._theme = themes.current()
        self.outliers: list[tuple[float, float]] = []  # (time, price) off the scale, for the marks
        self.candles = CandleItem()

        self.follow_button = QToolButton(self)
        self.follow_button.setObjectName("followLive")
        self.follow_button.setCheckable(True)
        self.follow_button.setChecked(True)
        self.follow_button.toggled.connect(self._set_follow)
        self.window_combo = QComboBox(self)
        self.window_combo.addItems(list(WINDOWS))
        self.window_combo.setCurrentText(DEFAULT_WINDOW)
        self.window_combo.setToolTip("Time window shown while following live")
        self.window_combo.currentTextChanged.connect(lambda _: self._window_changed())
        self.candles_button = QToolButton(self)
        self.candles_button.setText("Candles")
        self.candles_button.setCheckable(True)
        self.candles_button.setChecked(True)
        self.candles_button.setToolTip("OHLC candles behind the trades: the venue's history and live bars")
        self.candles_button.toggled.connect(self.candles.setVisible)
        self.volume_button = QToolButton(self)
        self.volume_button.setObjectName("chartVolume")
        self.volume_button.setText("Volume")
        self.volume_button.setCheckable(True)
        self.volume_button.setChecked(True)
        self.volume_button.setToolTip("Each bar's traded volume in a band along the bottom, on its own scale")
        self.volume_button.toggled.connect(self._volume_toggled)
        self.legend_label = QLabel(self)  # beside the plot, never over the data
        self.legend_label.setObjectName("chartLegend")
        self.outlier_label = QLabel(self)
        self.outlier_label.setObjectName("chartOutliers")
        self.outlier_label.hide()
        self.stale_label = QLabel(self)
        self.stale_label.hide()
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        for w in (
            self.follow_button,
            self.window_combo,
            self.candles_button,
            self.volume_button,
            self.legend_label,
        ):
            bar.addWidget(w)
        bar.addStretch(1)
        bar.addWidget(self.outlier_label)
        bar.addWidget(self.stale_label)

        axes = {"bottom": TimeAxis(orientation="bottom"), "left": NumberAxis("left")}
        self.plot = pg.PlotWidget(self, axisItems=axes)
        item = self.plot.getPlotItem()
        item.setMenuEnabled(False)
        item.setDownsampling(auto=True, mode="peak")
        item.setClipToView(True)
        item.getAxis("left").setWidth(64)  # fixed: no jitter as the price scale moves (zoom widens it)
        self.view = item.getViewBox()
        self.view.disableAutoRange(axis="y")  # the chart sets y itself: robust to one bad print
        self.view.sigRangeChangedManually.connect(self._user_moved)
        item.addItem(self.candles)
        self.mid_curve = pg.PlotDataItem(stepMode="right")
        item.addItem(self.mid_curve)
        self.trade_points: dict[TakerSide | None, pg.PlotDataItem] = {}
        for side in SIDES:
            points = pg.PlotDataItem(pen=None, symbol="o", symbolSize=5, symbolPen=None)
            self.trade_points[side] = points
            item.addItem(points)
        self.outlier_marks = pg.ScatterPlotItem(size=11, pen=None)
        item.addItem(self.outlier_marks)
        # Volume: its own view box over the price view's rectangle (x linked, y its own scale), behind it,
        # so the bars stay under the prices and the mouse still pans and zooms the price view.
        self.volume_view = pg.ViewBox(enableMouse=False, enableMenu=False)
        self.volume_view.setZValue(-100)
        self.volume_view.setXLink(self.view)
        self.volume_view.setYRange(0, 1, padding=0)
        item.scene().addItem(self.volume_view)
        self.view.sigResized.connect(self._place_volume)
        self.volume_bars = pg.BarGraphItem(x=[], height=[], width=1.0, pen=None)
        self.volume_view.addItem(self.volume_bars)
        self._bars = Bars.empty()  # the bars on screen, whose volume the band shows

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
        self.apply_theme(self._theme)
        self.apply_zoom()

    # ------------------------------------------------------------------ public API

    @property
    def follow_live(self) -> bool:
        return self._follow

    @follow_live.setter
    def follow_live(self, on: bool) -> None:
        self.follow_button.setChecked(on)  # toggled -> _set_follow

    @property
    def time_window(self) -> str:
        """The time window this chart shows while following live ("1m" ... "1d"): each chart its own
        (``window`` is QWidget's)."""
        return self.window_combo.currentText()

    def set_time_window(self, window: str) -> None:
        if window not in WINDOWS:
            raise ValueError(f"chart window {window!r} is not offered; use one of {', '.join(WINDOWS)}")
        self.window_combo.setCurrentText(window)  # currentTextChanged -> _window_changed

    def options(self) -> dict[str, Any]:
        """What a pane saves of this chart (plain JSON)."""
        return {
            "window": self.time_window,
            "candles": self.candles_button.isChecked(),
            "volume": self.volume_button.isChecked(),
        }

    def set_options(self, options: dict[str, Any]) -> None:
        """Restore ``options()``; anything unreadable is left as it is."""
        window = options.get("window")
        if isinstance(window, str) and window in WINDOWS:
            self.set_time_window(window)
        for key, button in (("candles", self.candles_button), ("volume", self.volume_button)):
            if isinstance(options.get(key), bool):
                button.setChecked(options[key])

    @property
    def volume_shown(self) -> bool:
        return self.volume_button.isChecked()

    @property
    def bar_minutes(self) -> int:
        """The candle width the current window shows (1-minute bars up to 1 h, wider beyond)."""
        return BAR_MINUTES.get(self.window_combo.currentText(), 1)

    def history(self, venue: Venue, market: str) -> History | None:
        return self._histories.get((venue, market))

    def set_history(self, venue: Venue, market: str, minute: list[Candle], coarse: list[Candle]) -> None:
        """The venue's past bars for ``market`` (fetched when it opened: app/launch/history.py)."""
        history = self._histories.get((venue, market))
        if history is None:
            return  # dropped from the cache meanwhile: it is fetched again when opened again
        scale = 100.0 if venue is Venue.KALSHI else 1.0
        history.past = Bars.of(minute, scale)
        history.past_coarse = Bars.of(coarse, scale)
        history.past_loaded = True
        if (venue, market) == (self._venue, self._market):
            self._candle_sig = None
            self._show_candles(history, None)
            self._fit_y(force=True)

    def y_range(self) -> tuple[float, float]:
        (_, _), (y0, y1) = self.view.viewRange()
        return float(y0), float(y1)

    def set_market(self, venue: Venue | None, market: str | None) -> None:
        if (venue, market) == (self._venue, self._market):
            return
        self._venue, self._market = venue, market
        self._candle_sig = self._live_sig = None
        self._live_bars = Bars.empty()
        self.candles.set_bars(Bars.empty())
        self.stale_label.hide()
        self._mark_outliers([])
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
        history = self._histories[key]
        self._draw(history, trades=True)
        self._show_candles(history, None)
        if self._follow:
            self._apply_follow()
        else:  # the view the user left belongs to the previous market: show this one's history
            self.view.autoRange()
            self._fit_y(force=True)

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
                    history.sizes[trade.taker_side].append(ts, float(trade.size))
                    new_trades = True
        self._draw(history, trades=new_trades)
        self._show_candles(history, state.candles if state is not None else None)
        self._apply_follow(force=False)

    def apply_theme(self, t: Theme) -> None:
        self._theme = t
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
        vol_up, vol_down = q(t.bid), q(t.ask)
        vol_up.setAlpha(70)  # quieter than the candles: volume is context, price is the subject
        vol_down.setAlpha(70)
        self._volume_brushes = (pg.mkBrush(vol_up), pg.mkBrush(vol_down))
        self._show_volume()
        self.outlier_marks.setBrush(pg.mkBrush(t.warn))
        self.stale_label.setStyleSheet(f"color: {t.warn}; font-weight: bold;")
        self.outlier_label.setStyleSheet(f"color: {t.warn};")
        self.placeholder.setStyleSheet(f"color: {t.dim_text};")
        # On: filled in the buy colour and named so; off: a plain button that says what it would do.
        self.follow_button.setStyleSheet(
            f"QToolButton {{ padding: 1px 8px; border: 1px solid {t.grid}; border-radius: 3px; }}"
            f"QToolButton:checked {{ background: {t.bid}; color: #000; border-color: {t.bid}; }}"
        )
        self._label_follow()
        self._label_legend()

    def apply_zoom(self) -> None:
        """Fonts from the window's zoom (app/ui/zoom.py)."""
        app = QApplication.instance()
        assert isinstance(app, QApplication)
        bold = QFont(app.font())
        bold.setBold(True)  # always: a bold "on" state would not fit the width measured for plain text
        self.follow_button.setFont(bold)
        self._label_follow()
        zoom.scale_plot(self.plot, 64)

    # ------------------------------------------------------------------ internals

    def _label_follow(self) -> None:
        on = self._follow
        self.follow_button.setText("● Following live" if on else "Follow live")
        # The style sheet's padding is not in the button's size hint: make room for the longer text.
        metrics = self.follow_button.fontMetrics()
        self.follow_button.setMinimumWidth(metrics.horizontalAdvance("● Following live") + 22)
        self.follow_button.setToolTip(
            "The chart scrolls with the market; pan or zoom to stop"
            if on
            else "Stopped where you panned or zoomed: click to scroll with the market again"
        )

    def _label_legend(self) -> None:
        t = self._theme
        bars = self.bar_minutes
        width = f"{bars} m" if bars < 60 else f"{bars // 60} h"
        self.legend_label.setText(
            f"<span style='color:{t.bid}'>●</span> buy&nbsp; <span style='color:{t.ask}'>●</span> sell"
            f"&nbsp; <span style='color:{t.mid}'>━</span> mid&nbsp; "
            f"<span style='color:{t.dim_text}'>▮ {width} bars</span>"
        )

    def _window_changed(self) -> None:
        self._label_legend()
        history = self.history(self._venue, self._market) if self._venue and self._market else None
        if history is not None:
            self._show_candles(history, None)
        self._apply_follow()

    def _live_minute_bars(self, history: History, candles: OrderedDict[str, Candle] | None) -> Bars:
        """This session's 1-minute bars: the venue's ohlc channel (Kraken), else the tape (Kalshi)."""
        if candles:
            newest = next(reversed(candles.values()))
            sig: object = (
                "ohlc",
                len(candles),
                newest.begin,
                newest.high,
                newest.low,
                newest.close,
                newest.volume,
            )
            if sig != self._live_sig:
                self._live_sig, self._live_bars = sig, Bars.of(candles.values(), 1.0)
            return self._live_bars
        if self._venue is not Venue.KALSHI:
            return Bars.empty()
        sig = ("tape", history.trades_seen, len(history.past))
        if sig != self._live_sig:
            parts = [history.trades[s].data() for s in SIDES]
            t = np.concatenate([p[0] for p in parts])
            y = np.concatenate([p[1] for p in parts])
            q = np.concatenate([history.sizes[s].data()[1] for s in SIDES])
            order = np.argsort(t, kind="stable")
            t, y, q = t[order], y[order], q[order]
            if len(history.past):  # the venue's own bars up to the fetch; the tape's after it
                keep = t >= history.past.t[-1] + 60
                t, y, q = t[keep], y[keep], q[keep]
            self._live_sig, self._live_bars = sig, trade_bars(t, y, q)
        return self._live_bars

    def _show_candles(self, history: History, candles: OrderedDict[str, Candle] | None) -> None:
        live = self._live_minute_bars(history, candles)
        minutes = self.bar_minutes
        sig = (id(history.past), len(history.past), id(live), len(live), minutes, self._live_sig)
        if sig == self._candle_sig:
            return
        self._candle_sig = sig
        minute = merged(history.past, live)
        bars = aggregated(minute, minutes)
        coarse = history.past_coarse
        if minutes > 1 and len(coarse) and coarse.minutes == minutes:
            # Before the 1-minute bars reach back, the venue's own wider bars; from the first whole
            # period the 1-minute bars cover, the aggregate of those.
            span = minutes * 60.0
            first = np.ceil(minute.t[0] / span) * span if len(minute) else np.inf
            bars = _concat(coarse.where(coarse.t < first), bars.where(bars.t >= first))
        self.candles.set_bars(bars)
        self._bars = bars
        self._show_volume()

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
        self._label_follow()
        if on:
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
        self._fit_y(force=force)

    def _fit_y(self, force: bool = False) -> None:
        """Fit y to what is in view, robustly (``robust_range``): outliers are clipped and marked."""
        history = self.history(self._venue, self._market) if self._venue and self._market else None
        if history is None:
            return
        (x0, x1), (y0, y1) = self.view.viewRange()
        core, extremes, times = [], [], []
        c = self.candles
        if c.count and self.candles.isVisible():
            seen = (c.t >= x0) & (c.t <= x1)
            core += [c.open[seen], c.close[seen]]
            extremes += [c.high[seen], c.low[seen]]
            times += [c.t[seen], c.t[seen]]
        for series in (history.mid, *history.trades.values()):
            t, y = series.data()
            seen = (t >= x0) & (t <= x1)
            # A print is both: it sets the scale, and a fat-finger one is an outlier like a wick.
            core.append(y[seen])
            if series is not history.mid:
                extremes.append(y[seen])
                times.append(t[seen])
        found = robust_range(
            np.concatenate(core) if core else np.empty(0),
            np.concatenate(extremes) if extremes else np.empty(0),
        )
        if found is None:
            self._mark_outliers([])
            return
        lo, hi, outside = found
        when = np.concatenate(times) if times else np.empty(0)
        values = np.concatenate(extremes) if extremes else np.empty(0)
        pad = max(hi - lo, abs(hi) * 2e-4, 1e-6) * 0.06
        lo, hi = lo - pad, hi + pad
        if self._fit_volume(x0, x1):  # room below the prices for the volume band
            lo -= (hi - lo) * VOLUME_BAND / (1 - VOLUME_BAND)
        if self._venue is Venue.KALSHI:
            lo, hi = max(0.0, lo), min(100.0, hi)
        # Move only when the data leaves the range or fills much less of it: no jitter, few axis redraws.
        if force or lo < y0 or hi > y1 or (hi - lo) < 0.7 * (y1 - y0):
            self.view.setYRange(lo, hi, padding=0)
        self._mark_outliers(list(zip(when[outside].tolist(), values[outside].tolist(), strict=True)))

    def _place_volume(self) -> None:
        self.volume_view.setGeometry(self.view.sceneBoundingRect())

    def _volume_toggled(self, on: bool) -> None:
        self.volume_view.setVisible(on)
        self._fit_y(force=True)

    def _show_volume(self) -> None:
        bars = self._bars
        if not len(bars):
            self.volume_bars.setOpts(x=[], height=[], brushes=[])
            return
        up, down = self._volume_brushes
        self.volume_bars.setOpts(
            x=bars.t + bars.minutes * 30,
            height=bars.v,
            width=bars.minutes * 60 * 0.7,
            brushes=[up if c >= o else down for o, c in zip(bars.o, bars.c, strict=True)],
        )

    def _fit_volume(self, x0: float, x1: float) -> bool:
        """Scale the volume band so the largest bar in view reaches ``VOLUME_BAND`` of the height; False
        when there is no band to show (off, or no volume in view)."""
        bars = self._bars
        if not self.volume_shown or not len(bars):
            return False
        # Every bar that shows at all, the one still forming (its centre often past "now") included.
        seen = bars.v[(bars.t + bars.minutes * 60 >= x0) & (bars.t <= x1)]
        top = float(seen.max()) if len(seen) else 0.0
        if top <= 0:
            return False
        self.volume_view.setYRange(0, top / VOLUME_BAND, padding=0)
        return True

    def _mark_outliers(self, points: list[tuple[float, float]]) -> None:
        self.outliers = points
        if not points:
            self.outlier_marks.setData([], [])
            self.outlier_label.hide()
            return
        _, (y0, y1) = self.view.viewRange()
        edge = (y1 - y0) * 0.03
        above = [(t, v) for t, v in points if v > y1]
        below = [(t, v) for t, v in points if v <= y1]
        spots = [{"pos": (t, y1 - edge), "symbol": "t1"} for t, _ in above]
        spots += [{"pos": (t, y0 + edge), "symbol": "t"} for t, _ in below]
        self.outlier_marks.setData(spots)
        venue = self._venue or Venue.KRAKEN
        far = max(points, key=lambda p: abs(p[1] - (y0 + y1) / 2))
        price = fmt.chart_price(venue, far[1], y1 - y0)
        n = len(points)
        words = f"{n} print{'s' if n > 1 else ''} off scale" + (f", up to {price}" if n > 1 else f": {price}")
        self.outlier_label.setText(f"▲▼ {words} at {fmt.clock_short(far[0])}")
        self.outlier_label.setToolTip(
            "Outliers are left off the price scale so they do not flatten the real move; the marks at "
            "the top or bottom edge show where they are.\n"
            + "\n".join(f"{fmt.clock_short(t)}  {fmt.chart_price(venue, v, y1 - y0)}" for t, v in points[:12])
        )
        self.outlier_label.show()

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

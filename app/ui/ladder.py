"""The depth ladder: a classic vertical price ladder (asks above, bids below) and a cumulative depth chart.

The table has ``2 * levels + 1`` rows: the asks, one row saying the spread, the bids; the best ask just
above the spread row and the best bid just below it, so the spread stays in one place on screen and a
refresh only ever emits ``dataChanged`` (a reset happens only when ``levels`` changes). ``levels`` follows
the table's height (as many rows as fit, and at least the book's depth, which then scrolls), so the spread
row sits mid-table; C or Home puts it back there after scrolling. Clicking a level copies its price.
Kraken levels can be grouped into buckets of 10, 100, ... ticks (app/core/grouping.py, exact sums), and
the Kraken book's depth is a choice (10 to 1000): the ladder says what it wants through ``on_demand``, which
whoever shows it (the window, a pane) connects to the window's ``hold_markets``. Kalshi
prices are YES prices shown in cents; Kraken prices keep their wire precision. Every number's text comes
from app/ui/format.py, so the ladder reads like the watchlist.
"""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import (
    QAbstractTableModel,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QPoint,
    QRect,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QAction, QBrush, QFontDatabase, QKeySequence, QPainter, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMenu,
    QSplitter,
    QStackedWidget,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.core.book import OrderBook
from app.core.grouping import group_choices, group_side, step_units
from app.core.instruments import Venue
from app.core.numbers import from_scaled
from app.core.store import ENDED, MarketStore
from app.launch.catalog import MarketInfo
from app.ui import format as fmt
from app.ui import theme as themes
from app.ui import zoom
from app.ui.axes import NumberAxis
from app.ui.market_header import MarketHeader
from app.ui.theme import Theme
from app.user.settings import MarketRef
from app.venues.kraken.commands import BOOK_DEPTHS

Levels = list[tuple[Decimal, Decimal]]
Index = QModelIndex | QPersistentModelIndex

COLUMNS = ("Bid total", "Bid", "Price", "Ask", "Ask total")
BID_CUM, BID_SIZE, PRICE, ASK_SIZE, ASK_CUM = range(5)
RAW_ROLE = Qt.ItemDataRole.UserRole  # the exact Decimal behind a cell (None when empty)
BAR_ROLE = Qt.ItemDataRole.UserRole + 1  # a size cell's share of the largest visible level, 0..1
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_CENTRE = int(Qt.AlignmentFlag.AlignCenter)
CENTRE_KEYS = ("C", "Home")  # re-centre on the spread (widget shortcuts: each ladder its own)
SCROLL_LEVELS = 25  # a book without a subscribed depth (Kalshi): levels kept below the fold to scroll to
SCROLL_CAP = 100  # rows a side at most: a deeper book shows in the depth chart and through grouping
DEFAULT_DEPTH = 10  # the Kraken link's own depth: asking for it holds nothing extra
NOTE_MS = 2_500  # how long "Copied …" shows
DEPTH_CHART_FROM_PX = 340  # below this height (table and chart) the depth chart is hidden


def _cumulative(levels: Levels) -> list[Decimal]:
    total, out = Decimal(0), []
    for _, size in levels:
        total += size
        out.append(total)
    return out


# ------------------------------------------------------------------ the model

_EMPTY: tuple[str, ...] = ("",) * 5
_NO_RAW: tuple[Decimal | None, ...] = (None,) * 5


class LadderModel(QAbstractTableModel):
    """Rows ``0 .. levels-1`` are asks (best ask at ``levels-1``), row ``levels`` the spread, then the bids
    (best first)."""

    def __init__(self, levels: int = 15, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._levels = levels
        self._text: list[tuple[str, ...]] = [_EMPTY] * (2 * levels + 1)
        self._raw: list[tuple[Decimal | None, ...]] = [_NO_RAW] * (2 * levels + 1)
        self._tips: list[str | None] = [None] * (2 * levels + 1)
        self._stale = False
        self._biggest = Decimal(0)  # the largest visible level: the 100 % of the size bars
        self.set_theme(themes.current())

    # The window and the tests address levels, not rows.
    def ask_row(self, k: int) -> int:
        return self._levels - 1 - k

    def bid_row(self, k: int) -> int:
        return self._levels + 1 + k

    @property
    def spread_row(self) -> int:
        return self._levels

    @property
    def levels(self) -> int:
        return self._levels

    def shown_levels(self) -> int:
        """Price levels holding data (both sides)."""
        return sum(1 for raw in self._raw if raw[PRICE] is not None)

    def set_levels(self, levels: int) -> None:
        if levels == self._levels:
            return
        self.beginResetModel()
        self._levels = levels
        self._text = [_EMPTY] * (2 * levels + 1)
        self._raw = [_NO_RAW] * (2 * levels + 1)
        self._tips = [None] * (2 * levels + 1)
        self.endResetModel()

    def set_theme(self, t: Theme) -> None:
        q = themes.qcolor
        self._fg_text, self._fg_dim = q(t.text), q(t.dim_text)
        self._fg_bid, self._fg_ask = q(t.bid), q(t.ask)
        bid_bg, ask_bg = q(t.bid), q(t.ask)
        bid_bg.setAlpha(34)
        ask_bg.setAlpha(34)
        self._bg_bid, self._bg_ask = bid_bg, ask_bg
        self._bg_stale = q(t.dim_text)
        self._bg_stale.setAlpha(20)
        self._bg_spread = q(t.alt_base)
        self._changed_all()

    def set_book(
        self,
        venue: Venue | None,
        bids: Levels,
        asks: Levels,
        stale: bool,
        touch: tuple[Decimal, Decimal] | None = None,
        *,
        orders: dict[Decimal, int] | None = None,
    ) -> None:
        """New levels (best first); emits one ranged ``dataChanged`` over the rows that differ. ``touch``:
        the real best bid and ask for the spread row when the levels are grouped buckets. ``orders``: the
        number of orders at each price (from a level-3 book), shown beside the size; a price it lacks
        shows no count (never a zero)."""
        n = self._levels
        bids, asks = bids[:n], asks[:n]
        rows = 2 * n + 1
        text: list[tuple[str, ...]] = [_EMPTY] * rows
        raw: list[tuple[Decimal | None, ...]] = [_NO_RAW] * rows
        tips: list[str | None] = [None] * rows
        if venue is not None:  # no market, no levels: every row stays blank
            # One book, one number of decimals per column (Kalshi's sub-cent prices, fractional
            # contracts), so the decimal points line up; Kraken keeps its wire precision anyway.
            both = bids + asks
            pdec = fmt.cent_places(p for p, _ in both)
            sdec = fmt.column_places(s for _, s in both)

            def cells(price: Decimal, size: Decimal, cum: Decimal) -> tuple[str, str, str]:
                size_s = fmt.size(venue, size, sdec)
                count = orders.get(price) if orders is not None else None
                if count:
                    size_s = f"{size_s} ({count})"
                return fmt.price(venue, price, pdec), size_s, fmt.size(venue, cum, sdec)

            for k, ((price, size), cum) in enumerate(zip(asks, _cumulative(asks), strict=True)):
                row = n - 1 - k
                shown, size_s, cum_s = cells(price, size, cum)
                text[row] = ("", "", shown, size_s, cum_s)
                raw[row] = (None, None, price, size, cum)
                tips[row] = _tip(venue, price)
            if touch is not None:
                text[n], tips[n] = _spread_cells(venue, touch[0], touch[1], pdec)
            elif bids and asks:
                text[n], tips[n] = _spread_cells(venue, bids[0][0], asks[0][0], pdec)
            for k, ((price, size), cum) in enumerate(zip(bids, _cumulative(bids), strict=True)):
                row = n + 1 + k
                shown, size_s, cum_s = cells(price, size, cum)
                text[row] = (cum_s, size_s, shown, "", "")
                raw[row] = (cum, size, price, None, None)
                tips[row] = _tip(venue, price)
        biggest = max((s for _, s in bids + asks), default=Decimal(0))
        if stale != self._stale or biggest != self._biggest:  # every row's look or size bar moves
            self._stale, self._biggest = stale, biggest
            first, last = 0, rows - 1
        else:
            changed = [r for r in range(rows) if text[r] != self._text[r] or tips[r] != self._tips[r]]
            if not changed:
                return
            first, last = changed[0], changed[-1]
        self._text, self._raw, self._tips = text, raw, tips
        self.dataChanged.emit(self.index(first, 0), self.index(last, len(COLUMNS) - 1))

    def _changed_all(self) -> None:
        if self._text:
            self.dataChanged.emit(self.index(0, 0), self.index(2 * self._levels, len(COLUMNS) - 1))

    # -- QAbstractTableModel

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802  # Qt's names
        return 0 if parent.isValid() else 2 * self._levels + 1

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(COLUMNS)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row, col = index.row(), index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._text[row][col]
        if row == self._levels:  # the spread row: words between the two sides, never a level
            return self._spread_data(col, role)
        is_ask = row < self._levels
        filled = self._raw[row][PRICE] is not None
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _RIGHT
        if role == Qt.ItemDataRole.ForegroundRole:
            if self._stale:
                return self._fg_dim
            if col == PRICE:
                return self._fg_ask if is_ask else self._fg_bid
            return self._fg_text
        if role == Qt.ItemDataRole.BackgroundRole:
            if not filled:
                return None
            if self._stale:
                return self._bg_stale
            return self._bg_ask if is_ask else self._bg_bid
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tips[row]
        if role == RAW_ROLE:
            return self._raw[row][col]
        if role == BAR_ROLE and col in (BID_SIZE, ASK_SIZE) and not self._stale:
            size = self._raw[row][col]
            return None if size is None or not self._biggest else float(size / self._biggest)
        return None

    def _spread_data(self, col: int, role: int) -> Any:
        if role == Qt.ItemDataRole.TextAlignmentRole:
            return _CENTRE if col != PRICE else _RIGHT
        if role == Qt.ItemDataRole.ForegroundRole:
            return self._fg_dim if self._stale or col != PRICE else self._fg_text
        if role == Qt.ItemDataRole.BackgroundRole:
            return self._bg_spread
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._tips[self._levels]
        return None

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:  # noqa: N802
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section]
        if role == Qt.ItemDataRole.TextAlignmentRole and orientation == Qt.Orientation.Horizontal:
            return _RIGHT
        return None

    def flags(self, index: Index) -> Qt.ItemFlag:
        return Qt.ItemFlag.ItemIsEnabled if index.isValid() else Qt.ItemFlag.NoItemFlags


def _spread_cells(venue: Venue, bid: Decimal, ask: Decimal, pdec: int) -> tuple[tuple[str, ...], str]:
    """The spread row's cells (``spread`` under the bid side, the width at the price column, in basis
    points or as a probability gap beside it) and its tooltip."""
    spread = ask - bid
    mid = (ask + bid) / 2
    if venue is Venue.KALSHI:
        width, extra = fmt.cents(spread, pdec), f"mid {fmt.cents(mid, pdec)}"
    else:
        width, extra = fmt.price(venue, spread), fmt.bps(spread, mid)
    tip = f"Spread {width} between bid {fmt.price(venue, bid, pdec)} and ask {fmt.price(venue, ask, pdec)}"
    return ("", "spread", width, extra, ""), tip


def _tip(venue: Venue, price: Decimal) -> str | None:
    if venue is not Venue.KALSHI:
        return None
    return f"YES {fmt.cents(price)} = {fmt.money(price)} · implied probability {fmt.probability(price)}"


class SizeBarDelegate(QStyledItemDelegate):
    """Paints each size cell's share of the largest visible level as a bar growing out from the price
    column, under the text: depth at a glance without reading every number."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.set_theme(themes.current())

    def set_theme(self, t: Theme) -> None:
        self._bid, self._ask = themes.qcolor(t.bid_fill), themes.qcolor(t.ask_fill)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        frac = index.data(BAR_ROLE)
        if not frac:
            super().paint(painter, option, index)
            return
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        rect = opt.rect
        brush = opt.backgroundBrush
        if brush.style() != Qt.BrushStyle.NoBrush:
            painter.fillRect(rect, brush)
        width = max(1, round(rect.width() * min(1.0, frac)))
        bar = QRect(rect)
        if index.column() == BID_SIZE:  # bids sit left of the price column: grow leftwards from it
            bar.setLeft(rect.right() - width + 1)
            painter.fillRect(bar, self._bid)
        else:
            bar.setWidth(width)
            painter.fillRect(bar, self._ask)
        opt.backgroundBrush = QBrush()  # already painted
        widget = opt.widget
        style = widget.style() if widget is not None else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, opt, painter, widget)


# ------------------------------------------------------------------ the widget


def _step_edges(prices: np.ndarray, ascending: bool) -> np.ndarray:
    """Bin edges for a centre-stepped depth curve: one bin per level, the outermost bin as wide as the
    mean level spacing so the last level shows."""
    n = len(prices)
    gap = abs(float(prices[0] - prices[-1])) / (n - 1) if n > 1 else max(abs(float(prices[0])) * 0.001, 1e-6)
    if ascending:  # asks, best first: [a0, a1, ..., a(n-1), a(n-1) + gap]
        return np.append(prices, prices[-1] + gap)
    rev = prices[::-1]  # bids, ascending: [b(n-1) - gap, b(n-1), ..., b0]
    return np.concatenate(([rev[0] - gap], rev))


class DepthLadder(QWidget):
    """Header (market, best bid/ask, spread), stale banner, the ladder table and the depth chart."""

    copied = Signal(str)  # a level's price went to the clipboard: the status note, for a window to show

    def __init__(self, parent: QWidget | None = None, levels: int | None = None) -> None:
        super().__init__(parent)
        self._venue: Venue | None = None
        self._market: str | None = None
        self._theme = themes.current()
        self._centred = False  # scrolled so the spread is in view, once per market
        self._fixed_levels = levels  # None: as many as fit (and the book's depth, to scroll through)
        self._store: MarketStore | None = None  # the last refresh's, to redraw at once after a refit
        self._group: Decimal | None = None  # the price group asked for (None: each level as the book has it)
        self._tick: Decimal | None = None  # the pair's price increment, when a caller knows it
        self._choices: list[Decimal] = []
        self._depth = DEFAULT_DEPTH
        self._show_orders = False  # order counts beside the sizes, from the pair's level-3 book
        # Called with (markets shown, Kraken depth or None) whenever either changes: connect it to the
        # window's hold_markets so the market streams at that depth while this ladder shows it.
        self.on_demand: Callable[[list[MarketRef], int | None], None] | None = None
        self.model = LadderModel(levels or 10, self)

        self.header = MarketHeader(self)
        self.stale_label = QLabel(self)
        self.stale_label.setWordWrap(True)
        self.stale_label.hide()

        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.bars = SizeBarDelegate(self.table)
        self.table.setItemDelegate(self.bars)
        self._mono_size = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont).pointSizeF()
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setFocusPolicy(Qt.FocusPolicy.ClickFocus)  # a click gives the ladder its keys
        self.table.clicked.connect(self._copy_price)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._context_menu)
        self.orders_action = QAction("Show order counts (level 3)", self)
        self.orders_action.setCheckable(True)
        self.orders_action.setToolTip("Beside each size, the number of orders at that price (Kraken level 3)")
        self.orders_action.toggled.connect(self.set_show_orders)
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.table.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        # Equal columns elide a number once the ladder is narrow (a pane): the totals give way first.
        self._fit_timer = QTimer(self)
        self._fit_timer.setInterval(1000)
        self._fit_timer.timeout.connect(self.fit_columns)
        self._fit_timer.start()

        self.plot = pg.PlotWidget(
            self, axisItems={"bottom": NumberAxis("bottom"), "left": NumberAxis("left")}
        )
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self.plot.setMinimumHeight(70)
        self.plot.getPlotItem().getAxis("left").setWidth(54)  # fixed: no jitter as the depth scale moves
        self.bid_curve = pg.PlotDataItem(stepMode="center", fillLevel=0)
        self.ask_curve = pg.PlotDataItem(stepMode="center", fillLevel=0)
        self.mid_line = pg.InfiniteLine(angle=90, movable=False)
        self.mid_line.hide()
        for item in (self.bid_curve, self.ask_curve, self.mid_line):
            self.plot.addItem(item)

        splitter = QSplitter(Qt.Orientation.Vertical, self)
        splitter.addWidget(self.table)
        splitter.addWidget(self.plot)
        # Proportions (the table's row count would otherwise claim it all); the ladder is what is read.
        splitter.setSizes([680, 320])
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        self.table.viewport().installEventFilter(self)  # re-centre the spread when the table resizes
        self.placeholder = QLabel(self)
        self.placeholder.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.placeholder.setWordWrap(True)
        self._stack = QStackedWidget(self)
        self._stack.addWidget(self.placeholder)
        self._stack.addWidget(splitter)
        self._stack.installEventFilter(self)  # hide the depth chart when the ladder is short

        self.centre_button = QToolButton(self)
        self.centre_button.setObjectName("ladderCentre")
        self.centre_button.setText("Centre")
        self.centre_button.setToolTip("Scroll the spread back to the middle (C or Home)")
        self.centre_button.clicked.connect(self.recentre)
        self.note_label = QLabel(self)  # "Copied …": brief, beside the controls
        self.note_label.setObjectName("ladderNote")
        self._note_timer = QTimer(self)
        self._note_timer.setSingleShot(True)
        self._note_timer.timeout.connect(self.note_label.clear)
        self.group_label = QLabel("Group", self)
        self.group_combo = QComboBox(self)
        self.group_combo.setObjectName("ladderGroup")
        self.group_combo.setToolTip(
            "Sum levels into price buckets this wide (bids down to the bucket's floor, asks up to its "
            "ceiling)"
        )
        self.group_combo.activated.connect(lambda _: self._group_picked())
        self.depth_label = QLabel("Depth", self)
        self.depth_combo = QComboBox(self)
        self.depth_combo.setObjectName("ladderDepth")
        self.depth_combo.setToolTip("Levels a side Kraken sends for this market (its checksum covers 10)")
        for depth in BOOK_DEPTHS:
            self.depth_combo.addItem(str(depth), depth)
        self.depth_combo.activated.connect(lambda k: self.set_depth(BOOK_DEPTHS[k]))
        self.controls = QHBoxLayout()
        self.controls.setContentsMargins(0, 0, 0, 0)
        self.controls.addWidget(self.group_label)
        self.controls.addWidget(self.group_combo)
        self.controls.addWidget(self.depth_label)
        self.controls.addWidget(self.depth_combo)
        self.controls.addWidget(self.note_label, 1)
        self.controls.addWidget(self.centre_button)
        self.setFocusPolicy(Qt.FocusPolicy.ClickFocus)
        for key in CENTRE_KEYS:
            shortcut = QShortcut(QKeySequence(key), self)
            shortcut.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            shortcut.activated.connect(self.recentre)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.setSpacing(4)
        layout.addWidget(self.header)
        layout.addLayout(self.controls)
        layout.addWidget(self.stale_label)
        layout.addWidget(self._stack, 1)
        self.apply_theme(self._theme)
        self.apply_zoom()
        self._show_placeholder("No market selected")

    # ------------------------------------------------------------------ public API

    @property
    def levels(self) -> int:
        return self.model.levels

    @levels.setter
    def levels(self, n: int | None) -> None:
        """A fixed number of levels a side; None: follow the table's height."""
        self._fixed_levels = None if n is None else max(1, n)
        self._refit()

    def fitting_levels(self) -> int:
        """Levels a side that fit the table's height with the spread row between them (at least 1)."""
        row = max(1, self.table.verticalHeader().defaultSectionSize())
        return max(1, (self.table.viewport().height() // row - 1) // 2)

    @property
    def group(self) -> Decimal | None:
        """The price group in force (None: ungrouped, or grouping does not apply to this market)."""
        return self._group if self._group in self._choices[1:] else None

    def set_group(self, step: Decimal | None) -> None:
        """Group Kraken levels into buckets ``step`` wide (a multiple of the pair's tick); None or the
        tick itself: ungrouped. A width this market does not offer is kept, and applies to one that does."""
        self._group = step
        self._select_group()
        self._redraw()

    @property
    def book_depth(self) -> int:
        """The Kraken book depth this ladder asks for (``depth`` is QPaintDevice's colour depth)."""
        return self._depth

    def set_depth(self, depth: int) -> None:
        """Ask for ``depth`` levels a side of a Kraken book (one of 10, 25, 100, 500, 1000)."""
        if depth not in BOOK_DEPTHS:
            offered = ", ".join(map(str, BOOK_DEPTHS))
            raise ValueError(f"book depth {depth} is not offered; use one of {offered}")
        self.depth_combo.setCurrentIndex(BOOK_DEPTHS.index(depth))
        if depth != self._depth:
            self._depth = depth
            self._announce()

    def demand(self) -> tuple[list[MarketRef], int | None]:
        """What this ladder needs streamed: its market, and the Kraken depth when more than the default."""
        if self._venue is None or self._market is None:
            return [], None
        deeper = self._venue is Venue.KRAKEN and self._depth != DEFAULT_DEPTH
        return [MarketRef(self._venue, self._market)], self._depth if deeper else None

    def options(self) -> dict[str, Any]:
        """What a pane saves of this ladder (plain JSON: the group as exact decimal text, the depth)."""
        return {"group": None if self._group is None else str(self._group), "depth": self._depth}

    def set_options(self, options: dict[str, Any]) -> None:
        """Restore ``options()``; anything unreadable is left at its default."""
        depth = options.get("depth", DEFAULT_DEPTH)
        self.set_depth(depth if depth in BOOK_DEPTHS else DEFAULT_DEPTH)
        group = options.get("group")
        try:
            step = Decimal(str(group)) if group not in (None, "") else None
        except ArithmeticError:
            step = None
        self.set_group(step if step is None or (step.is_finite() and step > 0) else None)

    def group_choices(self) -> list[Decimal]:
        """The widths offered for this market (the tick first, meaning ungrouped); empty for Kalshi."""
        return list(self._choices)

    def set_tick(self, tick: Decimal | None) -> None:
        """The pair's price increment, where known (else one unit of the book's price precision)."""
        self._tick = tick
        self._choices = []

    @property
    def show_orders(self) -> bool:
        """Whether each size shows its order count from the pair's level-3 book (Kraken only)."""
        return self._show_orders

    def set_show_orders(self, on: bool) -> None:
        self._show_orders = on
        if self.orders_action.isChecked() != on:
            self.orders_action.setChecked(on)
        self._redraw()
        self.fit_columns()  # the counts widen the size columns: the totals may have to give way now

    def context_menu(self) -> QMenu | None:
        """The table's menu: the order-count switch, for a Kraken market (Kalshi has no level 3)."""
        if self._venue is not Venue.KRAKEN:
            return None
        menu = QMenu(self)
        menu.addAction(self.orders_action)
        return menu

    def _context_menu(self, pos: QPoint) -> None:
        menu = self.context_menu()
        if menu is not None:
            menu.exec(self.table.viewport().mapToGlobal(pos))

    def _order_counts(self, store: MarketStore, market: str) -> dict[Decimal, int] | None:
        """Price -> orders at it from the level-3 book of this Kraken pair, when one is held and valid."""
        if not self._show_orders or self._venue is not Venue.KRAKEN:
            return None
        l3 = store.level3_books[Venue.KRAKEN].get(market)
        if l3 is None or l3.stale:
            return None
        pd = l3.price_decimals
        counts = {from_scaled(p, pd): n for p, n in l3.bids.counts()}
        counts.update({from_scaled(p, pd): n for p, n in l3.asks.counts()})
        return counts

    def recentre(self) -> None:
        """Scroll the spread row back to the middle of the table."""
        self._centre()

    def copy_level(self, row: int) -> str | None:
        """Copy the price of the level in ``row`` (its exact text, in the venue's own units: Kraken at
        the pair's precision, Kalshi in dollars) and say so briefly. None for a row with no level."""
        price = self.model.index(row, PRICE).data(RAW_ROLE)
        if not isinstance(price, Decimal) or self._venue is None:
            return None
        text = fmt.decimal_text(price)  # every digit, no grouping: what a paste into an order ticket wants
        _app().clipboard().setText(text)
        shown = self.model.index(row, PRICE).data(Qt.ItemDataRole.DisplayRole)
        note = f"Copied {text}" + (f" ({shown})" if shown and shown != text else "")
        self.note_label.setText(note)
        self._note_timer.start(NOTE_MS)
        self.copied.emit(note)
        return text

    def level_count(self) -> int:
        """Price levels on screen, both sides (0 with no market or no book yet): the window's smoke check."""
        return self.model.shown_levels() if self._stack.currentIndex() == 1 else 0

    def set_market(self, venue: Venue | None, market: str | None, info: MarketInfo | None = None) -> None:
        if (venue, market) == (self._venue, self._market):
            if info is not None:
                self.header.set_market(venue, market, info)
            return
        self._venue, self._market = venue, market
        self._centred = False
        self._choices, self._tick = [], None
        self.group_combo.clear()
        self._show_group_controls()
        self.header.set_market(venue, market, info)
        self._announce()
        self.model.set_book(venue, [], [], stale=False)
        self.bid_curve.clear()
        self.ask_curve.clear()
        self.mid_line.hide()
        self.plot.getPlotItem().setLabel("bottom", "YES price (¢)" if venue is Venue.KALSHI else "price")
        self._set_stale(None)
        if venue is None or market is None:
            self._show_placeholder("No market selected")
        else:
            self._show_placeholder(f"Waiting for the order book of {market}…")

    def fit_columns(self) -> bool:
        """Hide the two total columns when the sizes and prices would not fit whole beside them, and show
        them again when they would. True if that changed anything."""
        table = self.table
        if not table.isVisible() or self.model.rowCount() == 0:
            return False
        metrics = table.fontMetrics()
        need = [0] * len(COLUMNS)
        for col in range(len(COLUMNS)):
            # Tabular digits: the longest text is the widest, so only it is measured (not every level).
            texts = (self.model.index(row, col).data() for row in range(self.model.rowCount()))
            longest = max((str(t) for t in texts if t), key=len, default="")
            if longest:
                need[col] = metrics.horizontalAdvance(longest) + 14
        room = table.viewport().width()
        # Equal stretch: every shown column gets room / shown; each must hold its widest text.
        totals_fit = max(need) * len(COLUMNS) <= room
        hidden = table.isColumnHidden(BID_CUM)
        if totals_fit == (not hidden):
            return False
        for col in (BID_CUM, ASK_CUM):
            table.setColumnHidden(col, not totals_fit)
        return True

    def refresh(self, store: MarketStore) -> None:
        self._store = store
        venue, market = self._venue, self._market
        if venue is None or market is None:
            return
        status = store.status(venue, market)
        if status in ENDED:  # no more trading: say how it ended, not an empty ladder or an old one
            self.header.refresh(store, None, None)
            state = store.markets.get((venue, market))
            ended = fmt.outcome(status, state.outcome if state is not None else None)
            self._show_placeholder(f"{market}: {ended}.\nTrading has ended.")
            return
        book = store.book(venue, market)
        if book is None or (not book.has_snapshot and not len(book.bids) and not len(book.asks)):
            self.header.refresh(store, None, None)
            reason = None if book is None else book.stale_reason
            self._show_placeholder(
                f"Waiting for the order book of {market}…" + (f"\n({reason})" if reason else "")
            )
            return
        self._stack.setCurrentIndex(1)
        self._offer_groups(book)
        step = self._group_units(book)
        self._set_levels(self._wanted_levels(0 if step else book.depth))
        n = self.model.levels
        if step:  # buckets once, for the rows and the chart alike
            all_bids, all_asks = self._levels_of(book, step, None)
            bids, asks = all_bids[:n], all_asks[:n]
        else:
            bids, asks = self._levels_of(book, None, n)
        stale = book.stale
        touch = None
        if step:  # buckets: the spread row still says the market's real spread
            best_bid, best_ask = book.best_bid_price(), book.best_ask_price()
            touch = (best_bid, best_ask) if best_bid is not None and best_ask is not None else None
        orders = None if step else self._order_counts(store, market)  # a bucket is no one price's queue
        self.model.set_book(venue, bids, asks, stale, touch, orders=orders)
        self._set_stale(book.stale_reason if stale else None)
        if step:  # the header names the real touch, not a bucket's edge
            self.header.refresh(store, book.best_bid_price(), book.best_ask_price())
        else:
            self.header.refresh(store, bids[0][0] if bids else None, asks[0][0] if asks else None)
        if step:
            self._update_depth(all_bids, all_asks)
        elif max(len(book.bids), len(book.asks)) > n:  # the chart shows all of a deep book
            self._update_depth(*self._levels_of(book, None, None))
        else:
            self._update_depth(bids, asks)
        if not self._centred:
            self._centred = True
            self._centre()

    def apply_theme(self, t: Theme) -> None:
        self._theme = t
        self.model.set_theme(t)
        self.bars.set_theme(t)
        self.placeholder.setStyleSheet(f"color: {t.dim_text};")
        self.stale_label.setStyleSheet(f"color: {t.warn}; font-weight: bold;")
        themes.style_plot(self.plot, t)
        self.bid_curve.setPen(pg.mkPen(t.bid, width=1.5))
        self.bid_curve.setBrush(pg.mkBrush(themes.qcolor(t.bid_fill)))
        self.ask_curve.setPen(pg.mkPen(t.ask, width=1.5))
        self.ask_curve.setBrush(pg.mkBrush(themes.qcolor(t.ask_fill)))
        self.mid_line.setPen(pg.mkPen(t.mid, width=1, style=Qt.PenStyle.DashLine))
        self.header.apply_theme(t)

    def apply_zoom(self) -> None:
        """Fonts and row heights from the window's zoom (app/ui/zoom.py)."""
        mono = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        mono.setPointSizeF(self._mono_size * zoom.factor(_app()))
        self.table.setFont(mono)
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 4)
        self.header.apply_zoom()
        zoom.scale_plot(self.plot, 54)
        self._centre()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.Resize:
            if watched is self.table.viewport():
                QTimer.singleShot(0, self._refit)  # after the view has laid out its new size
            elif watched is self._stack:
                # A short ladder gives the depth chart's room to rows: the levels are what is read.
                self.plot.setVisible(self._stack.height() >= DEPTH_CHART_FROM_PX)
        return False

    # ------------------------------------------------------------------ internals

    def _wanted_levels(self, depth: int | None) -> int:
        """As many levels as fit, and no fewer than the book holds (those scroll), unless fixed. A grouped
        ladder (``depth`` 0) shows what fits: its buckets are few."""
        if self._fixed_levels is not None:
            return self._fixed_levels
        fit = self.fitting_levels() if self.table.isVisible() else self.model.levels
        return fit if depth == 0 else max(fit, min(depth or SCROLL_LEVELS, SCROLL_CAP))

    def _levels_of(self, book: OrderBook, step: int | None, n: int | None) -> tuple[Levels, Levels]:
        """The top ``n`` levels a side as decimals: the book's own, or summed into ``step``-unit buckets."""
        if not step:
            bids, asks = book.levels_as_decimals(n)
            return bids, asks
        pd, sd = book.price_decimals, book.size_decimals

        def grouped(levels: list[tuple[int, int]], is_bid: bool) -> Levels:
            return [(from_scaled(p, pd), from_scaled(q, sd)) for p, q in group_side(levels, step, is_bid)[:n]]

        return grouped(book.top_bids(), True), grouped(book.top_asks(), False)

    def _group_units(self, book: OrderBook) -> int | None:
        group = self.group
        if group is None:
            return None
        try:
            return step_units(group, book.price_decimals)
        except ValueError:
            return None  # finer than this book's precision: shown ungrouped

    def _offer_groups(self, book: OrderBook) -> None:
        """Fill the group selector from the pair's tick, once per market (Kalshi: none)."""
        if self._choices or self._venue is not Venue.KRAKEN:
            return
        tick = self._tick or Decimal(1).scaleb(-book.price_decimals)
        best = book.best_bid_price()
        self._choices = group_choices(tick, best)
        self.group_combo.clear()
        for k, step in enumerate(self._choices):
            text = fmt.price(Venue.KRAKEN, step)
            self.group_combo.addItem(f"{text} (none)" if k == 0 else text, str(step))
        self._select_group()
        self._show_group_controls()

    def _select_group(self) -> None:
        group = self.group
        k = 0 if group is None else self._choices.index(group)
        if self.group_combo.count() > k:
            self.group_combo.setCurrentIndex(k)

    def _show_group_controls(self) -> None:
        shown = bool(self._choices)
        self.group_label.setVisible(shown)
        self.group_combo.setVisible(shown)
        kraken = self._venue is Venue.KRAKEN
        self.depth_label.setVisible(kraken)
        self.depth_combo.setVisible(kraken)

    def _announce(self) -> None:
        if self.on_demand is not None:
            self.on_demand(*self.demand())

    def _group_picked(self) -> None:
        k = self.group_combo.currentIndex()
        self.set_group(self._choices[k] if 0 < k < len(self._choices) else None)

    def _redraw(self) -> None:
        self._centred = False
        if self._store is not None:
            self.refresh(self._store)

    def _set_levels(self, n: int) -> bool:
        if n == self.model.levels:
            return False
        self.model.set_levels(n)
        self.table.doItemsLayout()  # the new scroll range now, not at the next event: centring needs it
        self._centred = False
        return True

    def _refit(self) -> None:
        """The table's height (or the fixed count) changed: rows to match, redrawn at once, centred."""
        book = None
        if self._store is not None and self._venue is not None and self._market is not None:
            book = self._store.book(self._venue, self._market)
        depth = None
        if book is not None:
            depth = 0 if self._group_units(book) else book.depth
        changed = self._set_levels(self._wanted_levels(depth))
        if changed and self._store is not None:
            self.refresh(self._store)
        self._centre()

    def _copy_price(self, index: QModelIndex) -> None:
        self.copy_level(index.row())

    def _centre(self) -> None:
        """Keep the spread row mid-table when the ladder is taller than the view (by pixels: Qt's own
        PositionAtCenter put it at the top of a short view)."""
        bar = self.table.verticalScrollBar()
        row = self.model.spread_row
        top = self.table.rowViewportPosition(row) + bar.value()  # pixel scrolling: value is in pixels
        bar.setValue(max(0, top - (self.table.viewport().height() - self.table.rowHeight(row)) // 2))

    def _set_stale(self, reason: str | None) -> None:
        if reason is None:
            self.stale_label.hide()
            self.plot.setOpacity(1.0)
            return
        text = f"STALE: {reason}. These levels are not live."
        if self.stale_label.text() != text:
            self.stale_label.setText(text)
        self.stale_label.show()
        self.plot.setOpacity(0.35)

    def _show_placeholder(self, text: str) -> None:
        self.placeholder.setText(text)
        self._stack.setCurrentIndex(0)

    def _fit(self, lo: float, hi: float, top: float) -> None:
        """Move the depth chart's range only when the data leaves it or fills much less of it. Auto-range
        at every refresh would redraw both axes 20 times a second (their text is the costly part) and
        make the chart jitter."""
        (x0, x1), (_, y1) = self.plot.getViewBox().viewRange()
        if lo < x0 or hi > x1 or (hi - lo) < 0.7 * (x1 - x0):
            pad = (hi - lo) * 0.03
            self.plot.setXRange(lo - pad, hi + pad, padding=0)
        if top > y1 or top < 0.6 * y1:
            self.plot.setYRange(0, top * 1.1 or 1.0, padding=0)

    def _update_depth(self, bids: Levels, asks: Levels) -> None:
        scale = 100.0 if self._venue is Venue.KALSHI else 1.0
        lo, hi, top = np.inf, -np.inf, 0.0
        for levels, curve, ascending in ((bids, self.bid_curve, False), (asks, self.ask_curve, True)):
            if not levels:
                curve.clear()
                continue
            prices = np.array([float(p) for p, _ in levels]) * scale
            cum = np.cumsum([float(s) for _, s in levels])
            edges = _step_edges(prices, ascending)
            curve.setData(x=edges, y=cum if ascending else cum[::-1])
            lo, hi, top = min(lo, edges.min()), max(hi, edges.max()), max(top, cum[-1])
        if hi > lo:
            self._fit(float(lo), float(hi), top)
        if bids and asks:
            self.mid_line.setPos(float(bids[0][0] + asks[0][0]) / 2 * scale)
            self.mid_line.show()
        else:
            self.mid_line.hide()


def _app() -> QApplication:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    return app

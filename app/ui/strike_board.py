"""The Kalshi strike board: one event's markets as a table, one row per strike, beside a plot of the implied
probability against the strike and the live Kraken mid of the underlying as a vertical line.

The rows come from ``GET /markets?event_ticker=`` (the strike fields; app/core/strikes.py), then take the
live quotes the store holds for them. While open it holds its markets and the Kraken pair streamed
(``window.hold_markets("board", ...)``) and lets go when closed. The Kraken line is labelled as Kraken's
mid, never as the settlement price; the settlement reference (CF Benchmarks, from Kalshi's
``cfbenchmarks_value``) is drawn as a second line only when a value is given.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import aiohttp
import pyqtgraph as pg
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt, QTimer
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QDockWidget,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.core.instruments import Venue
from app.core.store import MarketStore
from app.core.strikes import (
    SETTLEMENT_INDEX,
    BoardKind,
    StrikeRow,
    board_rows,
    curve,
    kind_of,
    nearest,
    strike_of,
    underlying_of,
)
from app.launch.catalog import CatalogError, kalshi_event_markets
from app.ui import format as fmt
from app.user.settings import MarketRef

OWNER = "board"  # its name among the holders of streamed markets (app/user/demand.py)
REFRESH_MS = 250
REFERENCE_STALE_S = 10.0  # the index ticks about once a second: ten missed is a stopped feed
_Index = QModelIndex | QPersistentModelIndex
COLUMNS = ("Strike", "Bid", "Ask", "Implied", "Last", "Volume", "Open int.", "Closes in")
TIPS = (
    "From Kalshi's strike_type, floor_strike and cap_strike",
    "Best YES bid, cents",
    "Best YES ask, cents",
    "Implied probability of YES: the mid of the YES bid and ask; the last trade (marked *) when a side "
    "is empty",
    "Last trade, cents",
    "Contracts traded",
    "Contracts open",
    "Time until the market closes",
)


class StrikeTableModel(QAbstractTableModel):
    def __init__(self) -> None:
        super().__init__()
        self.rows: list[StrikeRow] = []
        self.highlight: int | None = None

    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008 - Qt's signature
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: N802, B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation, role: int = 0) -> Any:  # noqa: N802
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section]
        if role == Qt.ItemDataRole.ToolTipRole:
            return TIPS[section]
        return None

    def text(self, row: StrikeRow, column: int) -> str:
        if column == 0:
            return row.strike.label()
        if column == 1:
            return fmt.cents(row.bid)
        if column == 2:
            return fmt.cents(row.ask)
        if column == 3:
            p, source = row.probability()
            return fmt.probability(p) + ("*" if source is not None and source.value == "last" else "")
        if column == 4:
            return fmt.cents(row.last)
        if column == 5:
            return fmt.volume(row.volume)
        if column == 6:
            return fmt.volume(row.open_interest)
        return fmt.countdown(row.seconds_to_close(time.time()))

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        if role == Qt.ItemDataRole.DisplayRole:
            return self.text(row, index.column())
        if role == Qt.ItemDataRole.TextAlignmentRole:
            left = Qt.AlignmentFlag.AlignLeft if index.column() == 0 else Qt.AlignmentFlag.AlignRight
            return left | Qt.AlignmentFlag.AlignVCenter
        if role == Qt.ItemDataRole.ToolTipRole:
            return f"{row.market}\n{row.strike.strike_type}: floor {row.strike.floor}, cap {row.strike.cap}"
        if role == Qt.ItemDataRole.BackgroundRole and index.row() == self.highlight:
            return QBrush(QColor(255, 191, 0, 70))  # the strike nearest the Kraken mid
        if role == Qt.ItemDataRole.FontRole and index.row() == self.highlight:
            font = QFont()
            font.setBold(True)
            return font
        return None

    def set_rows(self, rows: list[StrikeRow], highlight: int | None) -> None:
        if [r.market for r in rows] != [r.market for r in self.rows]:
            self.beginResetModel()
            self.rows, self.highlight = rows, highlight
            self.endResetModel()
            return
        self.rows, self.highlight = rows, highlight
        if rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(rows) - 1, len(COLUMNS) - 1))


class StrikeBoard(QDockWidget):
    """The dock. ``open_event`` fills it; the window gives it the store and the REST fetch."""

    def __init__(
        self,
        parent: QWidget,
        store: Callable[[], MarketStore],
        hold: Callable[[str, list[MarketRef]], None],
    ) -> None:
        super().__init__("Strike board", parent)
        self.setObjectName("strike_board")
        self._store, self._hold = store, hold
        self.event_ticker = ""
        self.underlying: str | None = None
        self.base_rows: list[StrikeRow] = []
        self.rows: list[StrikeRow] = []
        self.kind = BoardKind.THRESHOLD
        self.spot: Decimal | None = None
        self.reference: Decimal | None = None  # the settlement index (cfbenchmarks_value), when known
        self.reference_name = ""
        self.reference_note = ""  # why the reference is not drawn, when it once was
        self.spot_note = ""  # why the Kraken mid is not shown

        self.title = QLabel("Choose a Kalshi BTC or ETH event")
        self.title.setWordWrap(True)
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.15)
        font.setBold(True)
        self.title.setFont(font)
        self.spot_label = QLabel("")
        big = self.spot_label.font()
        big.setPointSizeF(big.pointSizeF() * 1.3)
        self.spot_label.setFont(big)
        self.model = StrikeTableModel()
        self.table = QTableView()
        self.table.setObjectName("strike_table")
        self.table.setModel(self.model)
        self.table.verticalHeader().hide()
        self.table.setSelectionBehavior(QTableView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.plot = pg.PlotWidget()
        self.plot.setObjectName("strike_plot")
        self.plot.setLabel("left", "Implied probability", units="%")
        self.plot.setLabel("bottom", "Strike ($)")
        self.plot.getAxis("bottom").enableAutoSIPrefix(False)
        self.plot.setYRange(0, 100, padding=0.02)
        self.plot.showGrid(x=True, y=True, alpha=0.2)
        self.plot.setMouseEnabled(x=True, y=False)
        self.curve = pg.PlotDataItem(pen=pg.mkPen("#4aa3ff", width=2))
        self.plot.addItem(self.curve)
        self.bars = pg.BarGraphItem(x=[], height=[], width=1, brush="#4aa3ff88", pen="#4aa3ff")
        self.plot.addItem(self.bars)
        self.spot_line = pg.InfiniteLine(
            angle=90,
            pen=pg.mkPen("#ffbf00", width=2),
            label="",
            labelOpts={
                "position": 0.92,
                "color": "#ffbf00",
                "fill": "#000000aa",
                "anchors": [(0, 0.5), (0, 0.5)],
            },
        )
        self.reference_line = pg.InfiniteLine(
            angle=90,
            pen=pg.mkPen("#c678dd", width=2, style=Qt.PenStyle.DashLine),
            label="",
            labelOpts={
                "position": 0.78,
                "color": "#c678dd",
                "fill": "#000000aa",
                "anchors": [(0, 0.5), (0, 0.5)],
            },
        )
        for line in (self.spot_line, self.reference_line):
            line.setVisible(False)
            self.plot.addItem(line)

        split = QSplitter(Qt.Orientation.Horizontal)
        split.addWidget(self.table)
        split.addWidget(self.plot)
        split.setStretchFactor(0, 3)  # the numbers first: every column readable, the plot beside them
        split.setStretchFactor(1, 2)
        split.setSizes([600, 400])
        self.split = split
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addWidget(self.title)
        layout.addWidget(self.spot_label)
        layout.addWidget(split, 1)
        self.setWidget(box)
        self.timer = QTimer(self)
        self.timer.setInterval(REFRESH_MS)
        self.timer.timeout.connect(self.refresh)

    # ------------------------------------------------------------------ filling it

    def show_event(self, event: str, title: str, markets: list[dict[str, Any]]) -> None:
        """The event's REST markets (``GET /markets?event_ticker=``): the rows, the holds, the plot."""
        self.event_ticker = event
        self.base_rows = board_rows(markets)
        self.kind = kind_of(self.base_rows)
        self.underlying = underlying_of(event)
        kind = "range" if self.kind is BoardKind.RANGE else "threshold"
        self.title.setText(f"{title or event}  ·  {event}  ·  {len(self.base_rows)} strikes ({kind})")
        self.setWindowTitle(f"Strike board — {event}")
        refs = [MarketRef(Venue.KALSHI, r.market) for r in self.base_rows]
        if self.underlying is not None:
            refs.append(MarketRef(Venue.KRAKEN, self.underlying))
        self._hold(OWNER, refs)
        self.refresh()
        self.timer.start()

    async def load(self, http: aiohttp.ClientSession, rest_url: str, event: str) -> None:
        """Fetch the event's markets and show them; a failure is said in the title, in words."""
        self.title.setText(f"Loading {event}…")
        try:
            markets = await kalshi_event_markets(http, rest_url, event)
        except CatalogError as exc:
            self.title.setText(f"{event}: {exc}")
            return
        if not any(strike_of(m) for m in markets):
            self.title.setText(f"{event} has no markets with strikes (strike_type, floor_strike, cap_strike)")
            return
        self.show_event(event, str(markets[0].get("title") or ""), markets)

    def _reference_of(self, store: MarketStore) -> None:
        """The settlement index's latest value (Kalshi's ``cfbenchmarks_value``, which needs credentials);
        one older than ``REFERENCE_STALE_S`` is not drawn, and the note says for how long it has not come."""
        index_id = SETTLEMENT_INDEX.get(self.underlying or "")
        entry = store.index(index_id) if index_id is not None else None
        self.reference_name = index_id or ""
        self.reference = None
        self.reference_note = ""
        if entry is None:
            return
        value, age = entry
        if age > REFERENCE_STALE_S:
            self.reference_note = f"settlement reference {index_id}: no value for {fmt.age(age)}"
        else:
            self.reference = value.value

    def quoted_rows(self) -> int:
        return sum(1 for r in self.rows if r.bid is not None or r.ask is not None)

    def has_data(self) -> bool:
        """Rows with live quotes, and the Kraken mid beside them (the ``--smoke`` check)."""
        return self.quoted_rows() > 0 and self.spot is not None

    def summary(self) -> str:
        spot = "no Kraken mid" if self.spot is None else f"Kraken {self.underlying} mid {self.spot:.2f}"
        reference = f", {self.reference_name} {self.reference:.2f}" if self.reference is not None else ""
        return f"{self.quoted_rows()} of {len(self.rows)} strikes quoted, {spot}{reference}"

    def closeEvent(self, event: Any) -> None:  # noqa: N802 - Qt's name
        self.release()
        super().closeEvent(event)

    def release(self) -> None:
        self.timer.stop()
        self._hold(OWNER, [])

    # ------------------------------------------------------------------ live

    def refresh(self) -> None:
        store = self._store()
        rows = []
        for base in self.base_rows:
            state = store.markets.get((Venue.KALSHI, base.market))
            if state is None:
                rows.append(base)
            else:
                rows.append(
                    base.with_quote(state.bid, state.ask, state.last, state.volume, state.open_interest)
                )
        self.rows = rows
        self.spot = self._mid(store)
        self._reference_of(store)
        highlight = nearest(rows, self.spot)
        self.model.set_rows(rows, highlight)
        self._draw(highlight)

    def _mid(self, store: MarketStore) -> Decimal | None:
        if self.underlying is None:
            return None
        book = store.book(Venue.KRAKEN, self.underlying)
        self.spot_note = "waiting for its book"
        if book is None:
            return None
        if book.stale:  # never a stale mid drawn as live
            self.spot_note = f"not shown, the book is stale ({book.stale_reason})"
            return None
        bid, ask = book.best_bid_price(), book.best_ask_price()
        if bid is None or ask is None:
            self.spot_note = "one side of the book is empty"
            return None
        return (bid + ask) / 2

    def _draw(self, highlight: int | None) -> None:
        points = curve(self.rows)
        if self.kind is BoardKind.RANGE:
            self.curve.setData([], [])
            bands = [(lo, hi, p) for lo, hi, p in points if p is not None and hi > lo]
            if bands:
                heights = [float(p * 100) for _, _, p in bands]
                self.bars.setOpts(
                    x=[float((lo + hi) / 2) for lo, hi, _ in bands],
                    width=[float(hi - lo) for lo, hi, _ in bands],
                    height=heights,
                )
                self.plot.setYRange(0, max(5.0, max(heights) * 1.25), padding=0)  # a histogram: its own scale
        else:
            self.plot.setYRange(0, 100, padding=0.02)
            self.bars.setOpts(x=[], height=[], width=1)
            steps = [(float(lo), float(p * 100)) for lo, _, p in points if p is not None]
            if steps:
                xs = [x for x, _ in steps]
                # P(finish above K) as a step: flat from each strike to the next
                edges = [*xs, xs[-1] + (xs[-1] - xs[0]) / max(1, len(xs) - 1)]
                self.curve.setData(edges, [y for _, y in steps], stepMode="center")
        pair = self.underlying or ""
        if self.spot is not None:
            self.spot_line.setValue(float(self.spot))
            self.spot_line.label.setFormat(f"Kraken {pair} mid {fmt.decimal_text(self.spot, grouped=True)}")
            self.spot_line.setVisible(True)
            near = self.rows[highlight].strike.label() if highlight is not None else "–"
            self.spot_label.setText(
                f"Kraken {pair} mid  {fmt.decimal_text(self.spot.quantize(Decimal('0.01')), grouped=True)}"
                f"   ·   nearest strike {near}"
            )
        else:
            self.spot_line.setVisible(False)
            self.spot_label.setText(f"Kraken {pair} mid: {self.spot_note}" if pair else "")
        if self.reference is not None and self.spot is not None:
            gap = self.spot - self.reference
            self.reference_line.setValue(float(self.reference))
            self.reference_line.label.setFormat(
                f"Settlement reference {self.reference_name} {fmt.decimal_text(self.reference, grouped=True)}"
            )
            self.reference_line.setVisible(True)
            self.spot_label.setText(
                self.spot_label.text() + f"   ·   Kraken − {self.reference_name}: {fmt.signed(gap)}"
            )
        else:
            self.reference_line.setVisible(False)
            if self.reference_note:
                self.spot_label.setText(self.spot_label.text() + f"   ·   {self.reference_note}")

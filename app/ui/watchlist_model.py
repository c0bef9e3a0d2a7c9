"""The watchlist table: one row per watched market, rebuilt only for markets the store says changed.

Each row's cells are computed once per change into display text plus a sort key, so painting and
sorting never touch the store. Cells whose value moved flash for a moment (green up, red down; off,
subtle or full). Every row carries its state as a mark (``Mark``: a coloured dot beside the market's
name, and a short word such as STALE or SETTLED), so the state shows whatever columns fit. A sorted
view can be held still (``hold``): rows keep their places while values change under them.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from decimal import Decimal
from enum import Enum
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, QRectF, Qt
from PySide6.QtGui import QColor, QFont, QPainter, QPixmap

from app.core.change import kalshi_day_change
from app.core.instruments import Venue
from app.core.store import ENDED, MarketStore
from app.launch.catalog import MarketInfo
from app.ui import format as fmt
from app.ui import theme
from app.user.settings import MarketRef

CHANGE_TIP = "Change vs about 24 h ago (Kalshi: last minus GET /markets previous_price; Kraken: its ticker)"
COLUMNS = (
    "Venue",
    "Market",
    "Bid",
    "Ask",
    "Last",
    "Chg",
    "Volume",
    "Spread",
    "Prob",
    "Closes in",
    "Age",
    "Status",
)
C_VENUE, C_MARKET, C_BID, C_ASK, C_LAST, C_CHG, C_VOL, C_SPREAD, C_PROB, C_CLOSE, C_AGE, C_STATUS = range(12)
NUMERIC = frozenset({C_BID, C_ASK, C_LAST, C_CHG, C_VOL, C_SPREAD, C_PROB, C_CLOSE, C_AGE})
COMPACT = (C_MARKET, C_BID, C_ASK, C_LAST, C_CHG, C_SPREAD)  # compact mode: the state rides on the name
FLASHING = (C_BID, C_ASK, C_LAST)
FLASH_S = {"subtle": 0.4, "full": 0.6}  # how long a cell stays lit, by flash mode ("off": never)
SUBTLE_ALPHA = 0.45  # a subtle flash is the full colour this opaque over the row
SORT_ROLE = Qt.ItemDataRole.UserRole + 1
MARK_ROLE = Qt.ItemDataRole.UserRole + 2  # the row's Mark
WORD_ROLE = Qt.ItemDataRole.UserRole + 3  # the mark's word, which the market cell's delegate paints
AGE_STALE_S = 30.0  # a row with no update for this long is dimmed (a quiet market, or a dead feed)

Key = tuple[Venue, str]


class Mark(Enum):
    """A row's state at a glance: a dot in its tone (``TONES``) beside the name, and for most a word."""

    LIVE = "live"
    WAITING = "waiting"
    PAUSED = "paused"
    STALE = "stale"
    ENDED = "ended"
    DOWN = "down"
    UNLISTED = "unlisted"


TONES = {
    Mark.LIVE: "bid",
    Mark.WAITING: "dim_text",
    Mark.PAUSED: "warn",
    Mark.STALE: "warn",
    Mark.ENDED: "mid",
    Mark.DOWN: "ask",
    Mark.UNLISTED: "ask",
}


_DISPLAY = Qt.ItemDataRole.DisplayRole
_FOREGROUND = Qt.ItemDataRole.ForegroundRole
_BACKGROUND = Qt.ItemDataRole.BackgroundRole
_ALIGN = Qt.ItemDataRole.TextAlignmentRole
_FONT = Qt.ItemDataRole.FontRole
_TOOLTIP = Qt.ItemDataRole.ToolTipRole
_DECORATION = Qt.ItemDataRole.DecorationRole
_RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
_LEFT = int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
_ALIGNMENTS = [_RIGHT if col in NUMERIC else _LEFT for col in range(len(COLUMNS))]


@dataclass(slots=True)
class Row:
    ref: MarketRef
    text: list[str]
    sort: list[Any]
    values: list[Decimal | None]  # bid, ask, last: what the flash compares
    warn: bool = False  # stale book, not listed, feed down: the status cell says why
    updated: float | None = None  # monotonic time of the last change seen
    fg: list[QColor | None] = field(default_factory=list)  # per-column text colour, set with the row
    mark: Mark = Mark.WAITING
    word: str = ""  # the mark's short word beside the name (STALE, SETTLED ...); none when live
    spread_bps: float | None = None  # the spread over the mid: what the spread column sorts by
    change_tip: str = ""  # what the change is against, or why there is none


class WatchlistModel(QAbstractTableModel):
    def __init__(self) -> None:
        super().__init__()
        self.rows: list[Row] = []
        self._index: dict[Key, int] = {}
        self.info: dict[Key, MarketInfo] = {}
        self.listed: dict[Venue, set[str]] | None = None  # what the venues list, once known
        self.down: dict[Venue, str] = {}  # venues whose feed is not live, and why
        self.down_detail: dict[Venue, str] = {}  # the technical text behind each (the tooltip shows it)
        self.repairs: dict[Key, str] = {}  # stale books being repaired: what each waits for
        self.refused: dict[Key, str] = {}  # markets the venue refused to stream, with its words
        self._all: list[Row] = []  # the watchlist's order; ``rows`` is what is shown (filtered, sorted)
        self._all_index: dict[Key, int] = {}
        self._sort: tuple[int, bool] | None = None  # column, descending; None: the watchlist's order
        self._filter = ""
        self._flash: dict[tuple[Key, int], tuple[float, bool]] = {}
        self.flash_mode = "subtle"  # off, subtle or full (app.user.settings.FLASH_MODES)
        self._held: set[str] = set()  # who holds the sorted order still ("user", "pointer"); empty: live
        self._mono = time.monotonic
        self._bold = QFont()
        self._bold.setBold(True)
        self._flash_up = self._flash_down = QColor()
        self._colours: dict[str, QColor] = {}
        self._dots: dict[Mark, QPixmap] = {}
        self.apply_theme()

    # ------------------------------------------------------------------ Qt model API

    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self.rows)

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(  # noqa: N802
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation is Qt.Orientation.Horizontal:
            if role == Qt.ItemDataRole.DisplayRole:
                return COLUMNS[section]
            if role == Qt.ItemDataRole.TextAlignmentRole and section in NUMERIC:
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            if role == Qt.ItemDataRole.ToolTipRole and section == C_CHG:
                return CHANGE_TIP
        return None

    def data(
        self, index: QModelIndex | QPersistentModelIndex, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        # Called for every role of every visible cell on each repaint: table lookups only.
        row = self.rows[index.row()]
        col = index.column()
        if role == _DISPLAY:
            return row.text[col]
        if role == _FOREGROUND:
            return row.fg[col]
        if role == _ALIGN:
            return _ALIGNMENTS[col]
        if role == _BACKGROUND:
            if self._flash:
                flash = self._flash.get(((row.ref.venue, row.ref.market), col))
                if flash is not None and flash[0] > self._mono():
                    return self._flash_up if flash[1] else self._flash_down
            return None
        if role == _FONT:
            return self._bold if col == C_MARKET else None
        if role == _DECORATION:
            return self._dots[row.mark] if col == C_MARKET else None
        if role == WORD_ROLE:
            return row.word if col == C_MARKET else None
        if role == MARK_ROLE:
            return row.mark
        if role == SORT_ROLE:
            return row.sort[col]
        if role == _TOOLTIP:
            return self._tooltip(row, col)
        return None

    def _tooltip(self, row: Row, col: int) -> str | None:
        if col == C_MARKET:
            info = self.info.get((row.ref.venue, row.ref.market))
            title = f"{info.title}\n{info.subtitle}".strip() if info is not None else ""
            return "\n".join(t for t in (title, row.text[C_STATUS].capitalize()) if t)
        if col == C_STATUS:
            detail = self.down_detail.get(row.ref.venue) if row.mark is Mark.DOWN else None
            return f"{row.text[C_STATUS]}\n\nDetail: {detail}" if detail else row.text[C_STATUS]
        if col == C_CHG:
            return row.change_tip or None
        if col == C_SPREAD and row.spread_bps is not None:
            return f"{row.spread_bps:,.0f} bps of the mid (the column sorts by this, so venues compare)"
        return None

    def set_flash_mode(self, mode: str) -> None:
        self.flash_mode = mode
        self.apply_theme()
        if mode == "off" and self._flash:
            self._flash.clear()
            if self.rows:
                self.dataChanged.emit(self.index(0, 0), self.index(len(self.rows) - 1, len(COLUMNS) - 1))

    # ------------------------------------------------------------------ holding the order

    def hold(self, who: str, on: bool) -> None:
        """``who`` ("user": View → Hold order; "pointer": the mouse is over the list) holds the sorted
        order still, or lets it go; once nobody holds it, the rows take their sorted places at once."""
        if on:
            self._held.add(who)
            return
        self._held.discard(who)
        if not self._held and self._sort is not None:
            self._resort()

    @property
    def held(self) -> bool:
        return bool(self._held)

    @property
    def holders(self) -> frozenset[str]:
        return frozenset(self._held)

    @property
    def sorted(self) -> bool:
        return self._sort is not None

    def counts(self) -> tuple[int, int]:
        """Rows shown (after the filter), markets in the watchlist."""
        return len(self.rows), len(self._all)

    def apply_theme(self) -> None:
        """Colours are computed with each row: recompute them all."""
        t = theme.current()
        self._flash_up, self._flash_down = theme.qcolor(t.flash_up), theme.qcolor(t.flash_down)
        if self.flash_mode == "subtle":
            for colour in (self._flash_up, self._flash_down):
                colour.setAlphaF(colour.alphaF() * SUBTLE_ALPHA)
        self._colours = {name: QColor(getattr(t, name)) for name in ("bid", "ask", "warn", "dim_text", "mid")}
        self._dots = {mark: _dot(self._colours[TONES[mark]]) for mark in Mark}
        for row in self.rows:
            row.fg = self._foreground(row)
        if self.rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self.rows) - 1, len(COLUMNS) - 1))

    def _foreground(self, row: Row) -> list[QColor | None]:
        c = self._colours
        fg: list[QColor | None] = [None] * len(COLUMNS)
        fg[C_VENUE] = fg[C_CLOSE] = fg[C_AGE] = c["dim_text"]
        if row.warn:
            fg[C_BID] = fg[C_ASK] = fg[C_LAST] = c["dim_text"]
            fg[C_STATUS] = c["warn"]
        else:
            fg[C_BID], fg[C_ASK] = c["bid"], c["ask"]
        change = row.sort[C_CHG]
        if change not in (0.0, _NONE):
            fg[C_CHG] = c["bid"] if change > 0 else c["ask"]
        if row.updated is not None and self._mono() - row.updated > AGE_STALE_S:
            fg[C_AGE] = c["warn"]
        return fg

    # ------------------------------------------------------------------ contents

    def set_markets(self, refs: list[MarketRef], store: MarketStore) -> None:
        """A different watchlist (or its order changed): rebuild every row."""
        now = self._mono()
        self._all = [self._build(ref, store, now, None) for ref in refs]
        self._flash.clear()
        self._reshow()

    # Sorting and filtering live here rather than in a QSortFilterProxyModel: the proxy's mapping cost
    # about a third of every repaint of the watchlist at 20k msg/s (py-spy), and 200 rows sort in
    # microseconds.
    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self._sort = (column, order == Qt.SortOrder.DescendingOrder) if 0 <= column < len(COLUMNS) else None
        self._resort()

    def set_filter(self, text: str) -> None:
        self._filter = text.strip().lower()
        self._reshow()

    def _visible(self, row: Row) -> bool:
        if not self._filter:
            return True
        info = self.info.get((row.ref.venue, row.ref.market))
        title = f" {info.title} {info.subtitle}" if info is not None else ""
        return self._filter in f"{row.ref.venue.value} {row.ref.market}{title}".lower()

    def _ordered(self, rows: list[Row]) -> list[Row]:
        if self._sort is None:
            return rows
        column, descending = self._sort
        return sorted(rows, key=lambda r: r.sort[column], reverse=descending)

    def _reshow(self) -> None:
        self.beginResetModel()
        self.rows = self._ordered([r for r in self._all if self._visible(r)])
        self._reindex()
        self.endResetModel()

    def _reindex(self) -> None:
        self._index = {(r.ref.venue, r.ref.market): i for i, r in enumerate(self.rows)}
        self._all_index = {(r.ref.venue, r.ref.market): i for i, r in enumerate(self._all)}

    def _resort(self) -> None:
        """Re-sort in place, keeping the selection (persistent indexes) on the same markets."""
        shown = set(map(id, self.rows))
        new = self._ordered([r for r in self._all if id(r) in shown])
        if all(a is b for a, b in zip(new, self.rows, strict=True)):
            return
        self.layoutAboutToBeChanged.emit()
        old = self.persistentIndexList()
        keys = [(self.rows[i.row()].ref.venue, self.rows[i.row()].ref.market) for i in old]
        self.rows = new
        self._reindex()
        self.changePersistentIndexList(
            old, [self.index(self._index[k], i.column()) for k, i in zip(keys, old, strict=True)]
        )
        self.layoutChanged.emit()

    def ref_at(self, row: int) -> MarketRef | None:
        return self.rows[row].ref if 0 <= row < len(self.rows) else None

    def row_of(self, ref: MarketRef) -> int | None:
        return self._index.get((ref.venue, ref.market))

    def refresh(self, store: MarketStore, changed: set[Key]) -> int:
        """Recompute the rows of changed markets; one dataChanged per contiguous run. Returns rows touched."""
        now = self._mono()
        touched: list[int] = []
        for key in changed:
            j = self._all_index.get(key)
            if j is None:
                continue
            old = self._all[j]
            new = self._all[j] = self._build(old.ref, store, now, now)
            lit = FLASH_S.get(self.flash_mode)
            for n, col in enumerate(FLASHING):
                before, after = old.values[n], new.values[n]
                if lit is not None and before is not None and after is not None and before != after:
                    self._flash[(key, col)] = (now + lit, after > before)
            i = self._index.get(key)
            if i is not None:
                self.rows[i] = new
                touched.append(i)
        # Flashes that just ended need one more paint to clear.
        for cell, (until, _) in list(self._flash.items()):
            if until <= now:
                del self._flash[cell]
                i = self._index.get(cell[0])
                if i is not None:
                    touched.append(i)
        self._emit_rows(touched)
        if touched and self._sort is not None and not self._held:
            self._resort()
        return len(touched)

    def tick(self, store: MarketStore) -> None:
        """Once a second: ages and closing countdowns move even when nothing else does."""
        now = self._mono()
        self._all = [self._build(row.ref, store, now, row.updated) for row in self._all]
        by_key = {(r.ref.venue, r.ref.market): r for r in self._all}
        self.rows = [by_key[(r.ref.venue, r.ref.market)] for r in self.rows]
        if self.rows:
            self.dataChanged.emit(self.index(0, 0), self.index(len(self.rows) - 1, C_STATUS))  # marks too
        if self._sort is not None and not self._held:
            self._resort()

    def _emit_rows(self, rows: list[int]) -> None:
        if not rows:
            return
        rows = sorted(set(rows))
        start = prev = rows[0]
        last_col = len(COLUMNS) - 1
        for r in [*rows[1:], None]:
            if r is not None and r == prev + 1:
                prev = r
                continue
            self.dataChanged.emit(self.index(start, 0), self.index(prev, last_col))
            if r is not None:
                start = prev = r

    # ------------------------------------------------------------------ one row

    def _build(self, ref: MarketRef, store: MarketStore, now: float, updated: float | None) -> Row:
        key = (ref.venue, ref.market)
        state = store.markets.get(key)
        book = store.book(ref.venue, ref.market)
        kalshi = ref.venue is Venue.KALSHI
        bid = ask = None
        if book is not None and not book.stale:
            # A live book is the truth, an empty side included: the ticker's last bid must not fill it.
            bid, ask = book.best_bid_price(), book.best_ask_price()
        elif state is not None:
            bid, ask = state.bid, state.ask
        last = state.last if state is not None else None
        change = state.change if state is not None else None
        volume = state.volume if state is not None else None
        info = self.info.get(key)
        change_tip = "Kraken's 24 h change (its ticker)" if change is not None else ""
        if kalshi:
            live_last = last if last is not None else (info.last_price if info is not None else None)
            change, why = kalshi_day_change(
                live_last, info.previous_price if info is not None else None, info.volume if info else None
            )
            change_tip = why or f"vs {fmt.cents(info.previous_price if info else None)} about 24 h ago"
        spread = ask - bid if bid is not None and ask is not None else None
        prob = (bid + ask) / 2 if kalshi and bid is not None and ask is not None else None
        # Cents against dollars mean nothing: the spread sorts by its share of the mid, in basis points.
        mid = (bid + ask) / 2 if bid is not None and ask is not None else None
        bps = float(spread / mid * 10_000) if spread is not None and mid else None
        closes = None if info is None or info.close_time is None else info.close_time - time.time()
        venue = ref.venue
        status, warn, mark = self._status(ref, store, book)
        ended = (store.status(ref.venue, ref.market) or (info.status if info else "")) in ENDED
        age = None if updated is None else now - updated
        text = [
            fmt.venue_name(venue),
            ref.market,
            fmt.price(venue, bid),
            fmt.price(venue, ask),
            fmt.price(venue, last),
            fmt.change(venue, change),
            fmt.volume(volume),
            fmt.price(venue, spread),
            fmt.probability(prob) if kalshi else "",
            ("ended" if ended else fmt.countdown(closes)) if kalshi else "",  # a countdown stops at the end
            fmt.age(age),
            status,
        ]
        sort = [
            ref.venue.value,
            ref.market,
            bid,
            ask,
            last,
            change,
            volume,
            bps,
            prob,
            closes,
            age,
            status,
        ]
        row = Row(ref, text, [_sortable(v) for v in sort], [bid, ask, last], warn, updated)
        row.change_tip = change_tip
        row.mark, row.spread_bps = mark, bps
        result = state.outcome.result if state is not None and state.outcome is not None else None
        row.word = _word(mark, store.status(ref.venue, ref.market) or "", result)
        row.fg = self._foreground(row)
        return row

    def _status(self, ref: MarketRef, store: MarketStore, book: Any) -> tuple[str, bool, Mark]:
        refused = self.refused.get((ref.venue, ref.market))
        if refused is not None:
            return f"not listed by {fmt.venue_name(ref.venue)}: {refused}", True, Mark.UNLISTED
        if self.listed is not None and ref.venue in self.listed and ref.market not in self.listed[ref.venue]:
            return "not listed by the venue", True, Mark.UNLISTED
        if ref.venue in self.down:
            return self.down[ref.venue], True, Mark.DOWN
        status = store.status(ref.venue, ref.market)
        if status in ENDED:  # before STALE: an ended market's book no longer matters, its result does
            state = store.markets.get((ref.venue, ref.market))
            out = state.outcome if state is not None else None
            return fmt.outcome(status, out), out is None and status == "closed", Mark.ENDED
        if book is not None and book.stale:
            note = self.repairs.get((ref.venue, ref.market))
            return f"STALE: {book.stale_reason}" + (f"; {note}" if note else ""), True, Mark.STALE
        if status not in (None, "open"):
            return str(status), status == "paused", Mark.PAUSED if status == "paused" else Mark.WAITING
        if book is None:
            return "waiting for data", False, Mark.WAITING
        return "live", False, Mark.LIVE


_NONE = float("-inf")
_WORDS = {Mark.PAUSED: "PAUSED", Mark.STALE: "STALE", Mark.DOWN: "DOWN", Mark.UNLISTED: "NOT LISTED"}


def _word(mark: Mark, status: str, result: str | None) -> str:
    """The mark's word beside the name: none while live or waiting, how it ended once ended."""
    if mark is Mark.ENDED:
        return f"{status} {result}".upper() if result else status.upper()  # SETTLED YES, CLOSED
    return _WORDS.get(mark, "")


def _dot(colour: QColor, size: int = 10) -> QPixmap:
    pixmap = QPixmap(size, size)
    pixmap.fill(Qt.GlobalColor.transparent)
    painter = QPainter(pixmap)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(colour)
    painter.drawEllipse(QRectF(1, 1, size - 2, size - 2))
    painter.end()
    return pixmap


def _sortable(value: Any) -> Any:
    # One type per column so sorting compares like with like; empty cells sort below every number.
    if value is None:
        return _NONE
    if isinstance(value, Decimal):
        return float(value)
    return value

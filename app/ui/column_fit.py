"""Numbers and names are never cut off: a table's columns widen to the widest text its visible rows show.

Qt elides a cell that does not fit (``15,250.960…``), which for a number is a wrong number. Measuring every
row at every repaint (``ResizeToContents``) is too slow for a live table, so a light timer measures only
the rows on screen, once a second, and only ever widens: a column never jumps narrower under the
pointer. The user's own narrowing of a column wins until a value no longer fits again.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QModelIndex, QObject, Qt, QTimer
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QTableView

CHECK_MS = 1000
Measure = Callable[[QModelIndex], int]  # a cell's full width, for a column a delegate draws
MARGIN = 14  # the style's cell margins and padding, both sides (CELL_PADDING plus the frame)


class ColumnFit(QObject):
    def __init__(
        self,
        view: QTableView,
        *,
        measure: dict[int, Measure] | None = None,
        on_widened: Callable[[], None] | None = None,
    ) -> None:
        super().__init__(view)
        self.view = view
        self.on_widened = on_widened  # e.g. the watchlist then checks what still fits
        self.measure = measure or {}  # columns whose delegate draws more than text (the watchlist's name)
        self.timer = QTimer(self)
        self.timer.setInterval(CHECK_MS)
        self.timer.timeout.connect(self.fit)
        self.timer.start()

    def fit(self) -> int:
        """Widen every visible column whose on-screen text does not fit. Returns how many widened."""
        view = self.view
        model = view.model()
        if model is None or not view.isVisible() or model.rowCount() == 0:
            return 0
        first = max(0, view.rowAt(0))
        last = view.rowAt(view.viewport().height() - 1)
        last = model.rowCount() - 1 if last < 0 else last
        header = view.horizontalHeader()
        fonts: dict[str, QFontMetrics] = {}
        widened = 0
        for col in range(model.columnCount()):
            if header.isSectionHidden(col):
                continue
            if header.stretchLastSection() and header.visualIndex(col) == header.count() - 1:
                continue  # the stretching column takes what is left already
            # Digits are equal-width (tabular figures), so the longest texts are the widest: only those
            # few are measured, not every cell.
            cells = ((row, model.index(row, col).data()) for row in range(first, last + 1))
            texts = [(len(str(t)), row, str(t)) for row, t in cells if t]
            if not texts:
                continue
            longest = max(n for n, _, _ in texts)
            need = 0
            special = self.measure.get(col)
            for n, row, text in texts:
                if n < longest - 1:
                    continue
                if special is not None:
                    need = max(need, special(model.index(row, col)) - MARGIN)
                    continue
                font = model.index(row, col).data(Qt.ItemDataRole.FontRole)
                key = font.key() if isinstance(font, QFont) else ""
                metrics = fonts.get(key)
                if metrics is None:
                    metrics = fonts[key] = QFontMetrics(font if isinstance(font, QFont) else view.font())
                need = max(need, metrics.horizontalAdvance(str(text)))
            if need and need + MARGIN > view.columnWidth(col):
                view.setColumnWidth(col, need + MARGIN)
                widened += 1
        if widened and self.on_widened is not None:
            self.on_widened()
        return widened


def keep_numbers_whole(
    view: QTableView,
    *,
    measure: dict[int, Measure] | None = None,
    on_widened: Callable[[], None] | None = None,
) -> ColumnFit:
    """Install the fit on ``view`` (it lives as the view's child)."""
    return ColumnFit(view, measure=measure, on_widened=on_widened)

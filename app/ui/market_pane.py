"""One market pane: a dock showing one market with any of the depth ladder, the depth chart, the price
chart and the trade tape, a market field, and a link group (app/ui/links.py) shown as a colour.

A pane owns no data: it reads the store when the window's timer says its market changed, and only while
it is on screen (a pane tabbed away, closed or floated off-screen costs nothing; it catches up the moment
it shows again). What it holds streamed, where it sits and which group it follows is the panes
controller's business (app/ui/panes_controller.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QHBoxLayout,
    QMenu,
    QSizePolicy,
    QSplitter,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from app.core.instruments import Venue
from app.core.store import MarketStore
from app.launch.catalog import MarketInfo
from app.ui import links
from app.ui.ladder import DepthLadder
from app.ui.price_chart import WINDOWS, PriceChart
from app.ui.table_base import make_table_view
from app.ui.tape_model import TradeTapeModel
from app.ui.theme import Theme
from app.user.settings import MarketRef

# What a pane can show, in the order the menu lists them.
CONTENTS: dict[str, str] = {
    "ladder": "Depth ladder",
    "depth": "Depth chart",
    "chart": "Price chart",
    "tape": "Trade tape",
}
DEFAULT_CONTENTS = frozenset({"ladder", "chart", "tape"})  # the ladder's sizes already say the depth
SIDE_BY_SIDE = 620  # px: a pane at least this wide puts the ladder beside the chart, narrower above it


class MarketField(QComboBox):
    """An editable market box: the list is filled (watchlist markets) each time it opens; any
    ``venue:market`` can be typed."""

    def __init__(self, choices: Callable[[], list[MarketRef]], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._choices = choices
        self.setEditable(True)
        self.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.setMinimumContentsLength(14)
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.setToolTip("The pane's market: pick one, or type venue:market (kraken:ETH/USD) and Enter")

    def showPopup(self) -> None:  # noqa: N802  # Qt's name
        text = self.currentText()
        self.blockSignals(True)
        self.clear()
        self.addItems([ref.text() for ref in self._choices()])
        self.setEditText(text)
        self.blockSignals(False)
        super().showPopup()


class MarketPane(QDockWidget):
    market_picked = Signal(object)  # the user chose a market here (a MarketRef)
    link_picked = Signal(int)  # the user chose a link group (links.UNLINKED for none)
    problem = Signal(str)  # what the user typed is not a market: the window says so
    closed = Signal()  # closed by the user: the controller lets its market go

    def __init__(
        self,
        pane_id: int,
        choices: Callable[[], list[MarketRef]],
        parent: QWidget | None = None,
        contents: Iterable[str] = DEFAULT_CONTENTS,
    ) -> None:
        super().__init__(parent)
        self.pane_id = pane_id
        self.setObjectName(f"pane{pane_id}")  # saveState/restoreState find docks by name
        self.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetClosable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        self.ref: MarketRef | None = None
        self.group = links.UNLINKED
        self.contents: set[str] = set()
        self.refreshes = 0  # store reads done (the tests check a hidden pane does none)
        self._behind = True  # something may have changed while it was not on screen
        self._info_known = False
        self._sized = False  # the splitters get their proportions at the first real size

        self.ladder = DepthLadder()
        self.chart = PriceChart()
        # The legend may be cut rather than hold the pane wide: the pane shares the window with others.
        self.chart.legend_label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.tape_model = TradeTapeModel()
        self.tape = make_table_view(self.tape_model)
        # Minimums of their own (not their size hints, which add up to a window wider than the screen):
        # panes share the window, and one squeezed narrow clips its header rather than push the rest off.
        self.ladder.setMinimumSize(180, 110)
        self.chart.setMinimumSize(180, 90)
        self.tape.setMinimumSize(150, 40)

        self.link_button = QToolButton()
        self.link_button.setObjectName("paneLink")
        self.link_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.link_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.link_button.setToolTip(
            "Link group: panes in one group show the market picked in any of them (the watchlist is in 1)"
        )
        link_menu = QMenu(self.link_button)
        self._link_actions: dict[int, QAction] = {}
        group = QActionGroup(self)
        for g in (links.UNLINKED, *links.GROUPS):
            action = link_menu.addAction(_swatch(g), links.label(g))
            action.setCheckable(True)
            action.setObjectName(f"paneLink{g}")
            action.triggered.connect(lambda _c=False, g=g: self.link_picked.emit(g))
            group.addAction(action)
            self._link_actions[g] = action
        self.link_button.setMenu(link_menu)

        self.market_field = MarketField(choices)
        self.market_field.setObjectName("paneMarket")
        self.market_field.activated.connect(lambda _i: self._typed())
        line = self.market_field.lineEdit()
        assert line is not None
        line.returnPressed.connect(self._typed)

        self.contents_button = QToolButton()
        self.contents_button.setObjectName("paneContents")
        self.contents_button.setText("Show")
        self.contents_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.contents_button.setToolTip("What this pane shows")
        contents_menu = QMenu(self.contents_button)
        self._content_actions: dict[str, QAction] = {}
        for key, text in CONTENTS.items():
            action = contents_menu.addAction(text)
            action.setCheckable(True)
            action.setObjectName(f"paneShow_{key}")
            action.toggled.connect(lambda on, key=key: self._toggle_content(key, on))
            self._content_actions[key] = action
        self.contents_button.setMenu(contents_menu)

        bar = QHBoxLayout()
        bar.setContentsMargins(4, 2, 4, 0)
        bar.setSpacing(4)
        bar.addWidget(self.link_button)
        bar.addWidget(self.market_field, 1)
        bar.addWidget(self.contents_button)

        self._right = QSplitter(Qt.Orientation.Vertical)
        self._right.addWidget(self.chart)
        self._right.addWidget(self.tape)
        self._right.setStretchFactor(0, 3)
        self._right.setStretchFactor(1, 2)
        self._body = QSplitter(Qt.Orientation.Vertical)  # side by side once wide enough (eventFilter)
        self._body.addWidget(self.ladder)
        self._body.addWidget(self._right)
        self._body.setStretchFactor(0, 1)  # the ladder is what is read: as much room as chart and tape
        self._body.setStretchFactor(1, 1)
        body = QWidget()
        layout = QVBoxLayout(body)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(bar)
        layout.addWidget(self._body, 1)
        body.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setWidget(body)
        body.installEventFilter(self)  # shown again (a tab raised, un-minimised): catch up at once

        self.set_contents(contents)
        self.set_link(links.UNLINKED)

    # ------------------------------------------------------------------ what it shows

    def set_market(self, ref: MarketRef | None, info: MarketInfo | None = None) -> None:
        if ref == self.ref:
            return
        self.ref = ref
        venue, market = (ref.venue, ref.market) if ref is not None else (None, None)
        self.ladder.set_market(venue, market, info)
        self._info_known = info is not None
        self.chart.set_market(venue, market)
        self.tape_model.set_market(venue, market)
        self.market_field.setEditText(ref.text() if ref is not None else "")
        self._behind = True
        self._show_title()

    def set_info(self, info: MarketInfo) -> None:
        """The venue's title and close time, once the market lists have arrived."""
        if self.ref is not None and not self._info_known:
            self._info_known = True
            self.ladder.set_market(self.ref.venue, self.ref.market, info)

    @property
    def info_known(self) -> bool:
        return self._info_known

    def set_link(self, group: int) -> None:
        self.group = group
        self._link_actions[group].setChecked(True)
        self.link_button.setIcon(_swatch(group))
        self.link_button.setText(links.label(group))
        self._show_title()

    def set_contents(self, keys: Iterable[str]) -> None:
        wanted = {k for k in keys if k in CONTENTS} or {"ladder"}  # never an empty pane
        for key, action in self._content_actions.items():
            action.blockSignals(True)
            action.setChecked(key in wanted)
            action.blockSignals(False)
        self.contents = wanted
        self._lay_out()

    @property
    def interval(self) -> str:
        return self.chart.window_combo.currentText()

    @interval.setter
    def interval(self, text: str) -> None:
        if text in WINDOWS:
            self.chart.window_combo.setCurrentText(text)

    # ------------------------------------------------------------------ the timer's call

    def on_screen(self) -> bool:
        body = self.widget()
        return body is not None and body.isVisible() and not body.visibleRegion().isEmpty()

    def refresh(self, store: MarketStore, changed: set[tuple[Venue, str]]) -> bool:
        """Read the store if this pane's market changed (or it missed changes while hidden) and it is on
        screen. True if it repainted."""
        ref = self.ref
        shown = self.on_screen()
        ticker = self.chart._ticker  # the chart's own once-a-second scroll: only while it is seen
        if shown and not ticker.isActive():
            ticker.start()
        elif not shown and ticker.isActive():
            ticker.stop()
        if ref is None:
            return False
        if not shown:
            self._behind = self._behind or (ref.venue, ref.market) in changed
            return False
        if not self._behind and (ref.venue, ref.market) not in changed:
            return False
        self._behind = False
        self.refreshes += 1
        if self.contents & {"ladder", "depth"}:
            self.ladder.refresh(store)
        if "chart" in self.contents:
            self.chart.refresh(store)
        if "tape" in self.contents:
            self.tape_model.refresh(store)
        return True

    def has_data(self) -> bool:
        """A book level or a trade on screen (the smoke check)."""
        return self.ladder.level_count() > 0 or self.tape_model.row_count() > 0

    def clear(self) -> None:
        """The data source changed: nothing of the old one stays (the new store's data follows)."""
        self.chart.clear()
        self.tape_model.clear()
        self._behind = True

    def apply_theme(self, t: Theme) -> None:
        self.ladder.apply_theme(t)
        self.chart.apply_theme(t)
        self._show_title()

    def apply_zoom(self) -> None:
        self.ladder.apply_zoom()
        self.chart.apply_zoom()

    # ------------------------------------------------------------------ Qt

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if event.type() == QEvent.Type.Show:
            self._behind = True
        elif event.type() == QEvent.Type.Resize and watched is self.widget():
            wide = self.widget().width() >= SIDE_BY_SIDE
            orientation = Qt.Orientation.Horizontal if wide else Qt.Orientation.Vertical
            if orientation != self._body.orientation() or not self._sized:
                self._sized = True
                self._body.setOrientation(orientation)
                # The ladder (its header takes a good part) is what is read: three fifths of the pane.
                self._body.setSizes([3000, 2000])
                self._right.setSizes([3000, 2000])
        return False

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        super().closeEvent(event)
        if event.isAccepted():
            self.closed.emit()

    # ------------------------------------------------------------------ internals

    def _typed(self) -> None:
        text = self.market_field.currentText().strip()
        if not text or (self.ref is not None and text == self.ref.text()):
            return
        try:
            ref = MarketRef.parse(text)
        except ValueError as exc:
            self.problem.emit(f"Pane {self.pane_id}: {exc}")
            self.market_field.setEditText(self.ref.text() if self.ref is not None else "")
            return
        self.market_picked.emit(ref)

    def _toggle_content(self, key: str, on: bool) -> None:
        keys = set(self.contents)
        if on:
            keys.add(key)
        else:
            keys.discard(key)
        if not keys:  # the last one stays: an empty pane would be a blank box
            self._content_actions[key].setChecked(True)
            return
        self.set_contents(keys)
        self._behind = True

    def _lay_out(self) -> None:
        c = self.contents
        self.ladder.table.setVisible("ladder" in c)
        self.ladder.plot.setVisible("depth" in c)
        self.ladder.setVisible(bool(c & {"ladder", "depth"}))
        self.chart.setVisible("chart" in c)
        self.tape.setVisible("tape" in c)
        self._right.setVisible(bool(c & {"chart", "tape"}))

    def _show_title(self) -> None:
        market = self.ref.market if self.ref is not None else "no market"
        mark = f"[{self.group}] " if self.group else ""
        self.setWindowTitle(f"{mark}{market}")
        colour = links.COLOURS.get(self.group)
        # The group's colour on the title bar itself, so it reads across the room (and on a floated pane).
        name = self.objectName()
        self.setStyleSheet(
            f"QDockWidget#{name} {{ color: #000; }}"
            f" QDockWidget#{name}::title {{ background: {colour}; padding-left: 6px; }}"
            if colour
            else ""
        )


def _swatch(group: int) -> QIcon:
    pixmap = QPixmap(12, 12)
    colour = links.COLOURS.get(group)
    pixmap.fill(QColor(colour) if colour else QColor(0, 0, 0, 0))
    return QIcon(pixmap)

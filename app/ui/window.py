"""The main window: the watchlist in the middle, docks around it, the stream engine underneath.

Nothing repaints per message. A 25 Hz timer pulls what changed from the market store and hands it to
the models and plots; ages, health and the status bar move once a second or so. Engine work (connect,
watchlist edits, market lists) runs as asyncio tasks on the qasync loop, so the window never waits.

The menus and shortcuts come from app/ui/actions.py; the window implements what they call (its
``ActionHandlers``): dialogs here, watchlist edits in app/user/watchlists.py, whose ``Edit`` says what to
save, redraw and resubscribe.
"""

from __future__ import annotations

import asyncio
import contextlib
import html
import math
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

import aiohttp
from PySide6.QtCore import QByteArray, QEvent, QObject, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeyEvent
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QLabel,
    QLineEdit,
    QMainWindow,
    QMenu,
    QMessageBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from app.core.instruments import Venue
from app.core.store import ENDED, MarketStore
from app.launch.catalog import (
    KALSHI_MAX,
    CatalogError,
    MarketDetails,
    MarketInfo,
    event_of,
    kalshi_infos,
    kalshi_market,
    kalshi_markets,
    kraken_pairs,
)
from app.launch.history import History, market_history
from app.launch.launcher import Launch, launch
from app.launch.marks import kalshi_marks, kraken_marks
from app.stream.state import ConnState
from app.ui import (
    actions,
    alerts_controller,
    panes_controller,
    record_controller,
    replay_controller,
    table_export,
    theme,
    workspace_controller,
    zoom,
)
from app.ui import format as fmt
from app.ui.actions import Choice
from app.ui.ladder import DepthLadder, LadderModel
from app.ui.name_dialog import ask_name
from app.ui.orders_view import OrdersController
from app.ui.price_chart import PriceChart
from app.ui.statusbar import VenueStatus
from app.ui.strike_board import StrikeBoard
from app.ui.table_base import ROW_HEIGHT, table_font
from app.ui.tables import FillsModel, HealthModel, PositionsModel, TradeTapeModel, make_table_view
from app.ui.watchlist_model import C_MARKET, WatchlistModel
from app.ui.watchlist_view import WatchlistView, on_rows_menu
from app.user import settings as settings_mod
from app.user.demand import WATCHLIST, MarketDemand
from app.user.secret_store import SecretStore
from app.user.settings import MarketRef, Settings
from app.user.watchlists import Edit, WatchlistError, Watchlists

REFRESH_HZ = 25  # per view; the timer runs twice as fast and alternates between two halves of the window
CHANGE_REFRESH_MS = 180_000  # Kalshi's 24 h change base, refreshed every three minutes
SLOW_EVERY = REFRESH_HZ  # view updates between the once-a-second ones
SEED_KALSHI = 8  # markets a first run on the simulator starts with
MARKS_EVERY_S = 5.0  # how often holdings no live book prices are marked over REST


class MainWindow(QMainWindow):
    connected = Signal()  # the engine for the active profile has started (tests and --smoke wait on it)
    closed = Signal()  # the user closed the window: the app shuts the engine down, then exits

    def __init__(
        self,
        settings: Settings,
        secrets: SecretStore,
        *,
        config_dir: Path | None = None,
        data_dir: Path | None = None,
        sim_options: Any = None,
        sim_urls: dict[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.settings = settings
        self.watchlists = Watchlists(settings)
        self.secrets = secrets
        self.config_dir = config_dir or settings_mod.config_dir()
        self.data_dir = data_dir or settings_mod.data_dir()  # recordings
        self.sim_options = sim_options
        self.sim_urls = sim_urls  # a simulator running elsewhere (the GUI benchmark)
        self.store = MarketStore()
        self.demand = MarketDemand()  # what the watchlist and every open view need streamed
        self.running: Launch | None = None
        self.catalog: dict[Venue, list[MarketInfo]] = {}
        self.catalog_errors: dict[Venue, str] = {}
        self.selected: MarketRef | None = None
        self.frames = 0  # timer ticks that repainted something (the GUI benchmark reads it)
        self._ticks = 0
        self._pending_list: set[tuple[Venue, str]] = set()  # changed markets not yet shown in the watchlist
        self._pending_selected: set[tuple[Venue, str]] = set()  # ... not yet shown in the market's docks
        self._tasks: set[asyncio.Task[Any]] = set()
        self._http: aiohttp.ClientSession | None = None
        self.strike_board: StrikeBoard | None = None
        self._closing = False
        self.catalog_ready = asyncio.Event()
        self._marks_at = 0.0
        self._marking: asyncio.Task[Any] | None = None

        self.setWindowTitle("Market Monitor")
        theme.apply(_app(), settings.theme)  # before any widget is polished with the default palette
        self._zoom_factor = 1.0  # what the tables' column widths were last scaled for
        zoom.apply(_app(), settings.zoom)
        self._build_central()
        self._build_docks()
        self._build_status()
        self.alerts = alerts_controller.install(self, C_MARKET)  # the Alerts dock, menu handlers, marks
        self.actions_by_name: dict[str, QAction] = {}
        self.recording = record_controller.install(self)  # File → Record and the REC mark
        self.replay = replay_controller.install(self)  # File → Open recording…, the transport bar
        self.tables = table_export.install(self)  # File → Export, and each table's right-click
        self.panes = panes_controller.install(self)  # market panes and link groups
        self.workspace = workspace_controller.install(self)  # the Workspace menu's named layouts
        self.actions_by_name = actions.install(self, self)
        for name in actions.REPLAY_ONLY:
            self.actions_by_name[name].setEnabled(False)  # until a recording plays
        for dock, action in table_export.DOCK_EXPORTS.items():  # right-click on a table: export it
            table_export.on_right_click(self.docks[dock].widget(), self.actions_by_name[action])
        table_export.on_right_click(self.alerts.panel.view, self.actions_by_name["export_alerts"])
        self._default_state = self.saveState()
        self._restore_layout()
        self.workspace.restore()  # the panes and layout the window showed last
        self._apply_theme()
        self._apply_zoom()
        self._show_watchlist()

        self.timer = QTimer(self)
        self.timer.setTimerType(Qt.TimerType.PreciseTimer)
        self.timer.timeout.connect(self._tick)
        self.timer.start(1000 // (2 * REFRESH_HZ))
        self.change_timer = QTimer(self)  # Kalshi's previous_price, the 24 h change's base, moves slowly
        self.change_timer.timeout.connect(lambda: self.spawn(self.refresh_day_changes(), "the 24 h changes"))
        self.change_timer.start(CHANGE_REFRESH_MS)
        if settings.problem:
            self.statusBar().showMessage(settings.problem, 15_000)

    # ------------------------------------------------------------------ layout

    def _build_central(self) -> None:
        self.watch_model = WatchlistModel()
        self.watch_model.set_flash_mode(self.settings.flash)
        self.table = WatchlistView(self.watch_model)
        self._default_header = self.table.horizontalHeader().saveState()
        self.table.selectionModel().currentRowChanged.connect(self._row_selected)
        self.table.columns_changed.connect(self._columns_chosen)
        self.table.compact_toggled.connect(self._set_compact)
        self.table.hold_changed.connect(self._show_title)
        self.table.horizontalHeader().sortIndicatorChanged.connect(lambda *_: self._show_title())
        on_rows_menu(self.table, self._fill_row_menu)

        self.title = QLabel()
        self.title.setObjectName("watchlistTitle")
        self.filter = QLineEdit()
        self.filter.setObjectName("watchlistFilter")
        self.filter.setPlaceholderText("Filter markets (Ctrl+F; Esc clears)")
        self.filter.setClearButtonEnabled(True)
        self.filter.textChanged.connect(self._filter_changed)
        self.filter.installEventFilter(self)  # Esc in the box clears it, even where no action sees it
        box = QWidget()
        layout = QVBoxLayout(box)
        layout.setContentsMargins(4, 4, 4, 0)
        layout.setSpacing(4)
        layout.addWidget(self.title)
        layout.addWidget(self.filter)
        layout.addWidget(self.table, 1)
        self.setCentralWidget(box)

    def _dock(self, name: str, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(name)  # saveState/restoreState find docks by name
        dock.setWidget(widget)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetClosable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
        )
        self.addDockWidget(area, dock)
        return dock

    def _build_docks(self) -> None:
        right, bottom = Qt.DockWidgetArea.RightDockWidgetArea, Qt.DockWidgetArea.BottomDockWidgetArea
        self.ladder = DepthLadder()
        self.ladder.copied.connect(lambda note: self.statusBar().showMessage(note, 4_000))
        self.ladder.on_demand = lambda refs, depth: self.hold_markets("ladder", refs, depth)
        self.chart = PriceChart()
        self.tape_model = TradeTapeModel()
        self.fills_model = FillsModel()
        self.positions_model = PositionsModel()
        self.health_model = HealthModel()
        self.orders = OrdersController(self.spawn)
        self.docks = {
            "ladder": self._dock("ladderDock", "Depth", self.ladder, right),
            "chart": self._dock("chartDock", "Price", self.chart, right),
            "fills": self._dock("fillsDock", "Fills", make_table_view(self.fills_model, self), bottom),
            "positions": self._dock(
                "positionsDock", "Positions", make_table_view(self.positions_model, self), bottom
            ),
            "health": self._dock("healthDock", "Health", make_table_view(self.health_model, self), bottom),
            "tape": self._dock("tapeDock", "Trades", make_table_view(self.tape_model, self), bottom),
            "orders": self._dock("ordersDock", "Orders", self.orders.view, right),
        }
        # Right: the selected market's depth over its price chart. Bottom: the account and feed tabs,
        # with the selected market's tape beside them. The watchlist keeps the middle, wide.
        self.splitDockWidget(self.docks["ladder"], self.docks["chart"], Qt.Orientation.Vertical)
        self.tabifyDockWidget(self.docks["ladder"], self.docks["orders"])  # Kraken's level 3, beside it
        self.docks["ladder"].raise_()
        self.splitDockWidget(self.docks["fills"], self.docks["tape"], Qt.Orientation.Horizontal)
        self.tabifyDockWidget(self.docks["fills"], self.docks["positions"])
        self.tabifyDockWidget(self.docks["positions"], self.docks["health"])
        self.docks["fills"].raise_()
        self.resize(1500, 900)
        self.resizeDocks([self.docks["ladder"]], [470], Qt.Orientation.Horizontal)
        self.resizeDocks([self.docks["fills"], self.docks["tape"]], [1000, 480], Qt.Orientation.Horizontal)
        self.resizeDocks([self.docks["ladder"], self.docks["chart"]], [380, 300], Qt.Orientation.Vertical)
        self.resizeDocks([self.docks["fills"]], [230], Qt.Orientation.Vertical)

    def _build_status(self) -> None:
        bar = self.statusBar()
        self.sim_badge = QLabel(" SIMULATED DATA ")
        self.sim_badge.setObjectName("simBadge")
        self.sim_badge.setToolTip("Prices come from the embedded exchange simulator, not a real venue.")
        self.sim_badge.hide()
        # Permanent: a temporary status message hides the bar's normal widgets, and simulated data must
        # never be on screen without its badge.
        bar.insertPermanentWidget(0, self.sim_badge)
        self.venue_status = {v: VenueStatus(v) for v in Venue}
        for widget in self.venue_status.values():
            bar.addPermanentWidget(widget)
        self.rate_label = QLabel()
        self.rate_label.setObjectName("totalRate")
        self.rate_label.setMinimumWidth(110)
        bar.addPermanentWidget(self.rate_label)

    # ------------------------------------------------------------------ persistence

    def _qsettings(self) -> QSettings:
        self.config_dir.mkdir(parents=True, exist_ok=True)
        return QSettings(str(self.config_dir / "window.ini"), QSettings.Format.IniFormat)

    def _restore_layout(self) -> None:
        qs = self._qsettings()
        geometry, state, header = (qs.value(k) for k in ("geometry", "state", "watchlist_header"))
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        if isinstance(state, QByteArray):
            self.restoreState(state)
        if isinstance(header, QByteArray):
            self.table.horizontalHeader().restoreState(header)
        # What shows is the settings' word (kept with the watchlists), whatever the header state held.
        self.table.set_columns(set(self.settings.hidden_columns), self.settings.compact)

    def save_layout(self) -> None:
        qs = self._qsettings()
        qs.setValue("geometry", self.saveGeometry())
        qs.setValue("state", self.saveState())
        qs.setValue("watchlist_header", self.table.horizontalHeader().saveState())
        qs.sync()

    def reset_layout(self) -> None:
        self.restoreState(self._default_state)
        for dock in self.docks.values():
            dock.show()
        self.table.horizontalHeader().restoreState(self._default_header)
        self.settings.hidden_columns, self.settings.compact = [], False
        self.table.set_columns(set(), False)
        self.save_settings()

    def save_settings(self) -> None:
        try:
            with self.replay.settings_as_saved():  # a replay's own watchlist is never saved
                settings_mod.save(self.settings, self.config_dir)
        except OSError as exc:
            self.statusBar().showMessage(f"Could not save settings: {exc.strerror or exc}", 10_000)

    # ------------------------------------------------------------------ tasks

    def spawn(self, coro: Coroutine[Any, Any, Any], what: str) -> asyncio.Task[Any]:
        """Run engine work beside the window; a failure is reported, never lost or fatal."""
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)

        def done(t: asyncio.Task[Any]) -> None:
            self._tasks.discard(t)
            if not t.cancelled() and t.exception() is not None and not self._closing:
                exc = t.exception()
                self.statusBar().showMessage(f"{what} failed: {type(exc).__name__}: {exc}", 15_000)

        task.add_done_callback(done)
        return task

    # ------------------------------------------------------------------ engine

    def start(self) -> None:
        self.spawn(self.connect_profile(), "connecting")
        self.spawn(self.alerts.start(), "choosing how alerts notify")

    async def connect_profile(self) -> None:
        """(Re)start the engine for the active profile with the active watchlist's markets."""
        await self.stop_source()
        profile = self.settings.profile()
        self.catalog, self.catalog_errors = {}, {}
        self.catalog_ready = asyncio.Event()
        self.watch_model.listed = None
        self.adopt_store(MarketStore())  # the alerts attach before any frame: a baseline
        wl = self.settings.watchlist()
        self.running = running = await launch(
            profile,
            self.secrets,
            {v: wl.of(v) for v in Venue},
            store=self.store,
            sim_options=self.sim_options,
            sim_urls=self.sim_urls,
            level3=[],  # a level3 link when Kraken has credentials; the Orders view picks its market
        )
        self.adopt_source(running)
        await self._load_catalog(running)

    async def stop_source(self) -> None:
        """End what feeds the window now (a recording being made, a replay, the live engine)."""
        if self.recording.recording:
            self.recording.stop("stopped: the connection profile changed")
        await self.replay.close()
        if self.running is not None:
            old, self.running = self.running, None
            await old.stop()

    def adopt_store(self, store: MarketStore) -> None:
        """Every view on ``store``: a new source, or a replay's seek that restored one. Nothing from the
        old store stays on screen as if it came from the new one (issue 19 item 2)."""
        self.store = store
        if self.running is not None:
            self.running.engine.store = store
        self.fills_model.clear()
        self.tape_model.clear()
        self.chart.clear()
        self.panes.adopt_store()
        self.positions_model.marks = {}
        self.positions_model.refresh(store)
        wl = self.settings.watchlist()
        self.alerts.attach(store, {v: wl.of(v) for v in Venue})
        store.changed |= set(store.markets) | {(v, m) for v in Venue for m in store.books[v]}
        store.fills_changed = True
        self._show_watchlist()

    def adopt_source(self, running: Launch, store: MarketStore | None = None) -> None:
        """``running`` now feeds the window (the live engine, or a replay's links)."""
        self.running = running
        if store is not None:
            self.adopt_store(store)
        self.sim_badge.setVisible(bool(running.simulated))
        self.orders.set_engine(running.engine)
        for venue, widget in self.venue_status.items():
            widget.set_problem(running.problems.get(venue))
        if running.problems:
            self.statusBar().showMessage("  ".join(running.problems.values()), 20_000)
        self._show_watchlist()
        self.connected.emit()

    def open_recording(self) -> None:
        self.replay.open_dialog()

    async def _load_catalog(self, running: Launch) -> None:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession()
        http = self._http

        async def one(venue: Venue, url: str) -> None:
            try:
                if venue is Venue.KALSHI:
                    self.catalog[venue] = await kalshi_markets(http, url)
                else:
                    self.catalog[venue] = await kraken_pairs(http, url)
            except CatalogError as exc:
                self.catalog_errors[venue] = str(exc)

        await asyncio.gather(*(one(v, url) for v, url in running.urls.items()))
        if running is not self.running:
            return
        listed = {v: {m.market for m in items} for v, items in self.catalog.items()}
        self.watch_model.info = {(m.venue, m.market): m for items in self.catalog.values() for m in items}
        self.watch_model.listed = listed
        if self.selected is not None:  # the header's title and close time were not known yet
            key = (self.selected.venue, self.selected.market)
            self.ladder.set_market(*key, self.watch_model.info.get(key))
        if self.settings.first_run and running.simulated:
            await self._seed_watchlist()
        self.watch_model.tick(self.store)
        self.catalog_ready.set()

    async def _seed_watchlist(self) -> None:
        """First launch: a few markets from each venue, so data moves before the user does anything."""
        wl = self.settings.watchlist()
        if wl.markets:
            return
        per_series: dict[str, int] = {}
        for info in self.catalog.get(Venue.KALSHI, []):
            series = info.market.split("-")[0]
            if per_series.get(series, 0) < 2 and sum(per_series.values()) < SEED_KALSHI:
                per_series[series] = per_series.get(series, 0) + 1
                wl.add(MarketRef(Venue.KALSHI, info.market))
        pairs = {m.market for m in self.catalog.get(Venue.KRAKEN, [])}
        for pair in settings_mod.DEFAULT_KRAKEN:
            if pair in pairs:
                wl.add(MarketRef(Venue.KRAKEN, pair))
        self.save_settings()
        self._show_watchlist()
        await self.apply_watchlist()

    async def apply_watchlist(self) -> None:
        """Send the active watchlist to the venues: adds and removes without reconnecting."""
        running = self.running
        if running is None:
            return
        wl = self.settings.watchlist()
        self.alerts.watch({v: wl.of(v) for v in Venue})
        self.demand.hold(WATCHLIST, list(wl.markets))
        for venue in Venue:
            if running.engine.has(venue):
                await running.engine.watch(venue, self.demand.markets(venue), self.demand.depths())

    def hold_markets(self, owner: str, refs: list[MarketRef], depth: int | None = None) -> None:
        """A view (a pane, the strike board) shows ``refs``: keep them streamed while it does."""
        if self.demand.hold(owner, refs, depth):
            self.spawn(self.apply_watchlist(), "updating subscriptions")

    def watchlist_changed(self, *, resubscribe: bool = True) -> None:
        """Every watchlist edit goes through here: save, redraw, and tell the venues."""
        self.save_settings()
        self._show_watchlist()
        if resubscribe:
            self.spawn(self.apply_watchlist(), "updating subscriptions")

    def _show_watchlist(self) -> None:
        wl = self.settings.watchlist()
        keep = self.selected
        self.watch_model.set_markets(list(wl.markets), self.store)
        self._show_title()
        self.setWindowTitle(f"Market Monitor — {wl.name} — {self._source_words()}")
        if keep is not None and self.select(keep):
            return
        if wl.markets:
            self.select(wl.markets[0])
        else:
            self._set_selected(None)

    def _show_title(self) -> None:
        """The list's name, how many of its markets the filter shows ("3 of 13"), and whether a sorted
        order is being held still."""
        wl = self.settings.watchlist()
        shown, total = self.watch_model.counts()
        count = f"{shown} of {total} markets" if self.filter.text().strip() else f"{total} markets"
        held = ""
        if self.watch_model.sorted and self.watch_model.held:
            why = "Ctrl+H to let go" if self.order_held_by_user() else "while the mouse is over the list"
            held = f" · <span style='color:{theme.current().warn}'>order held ({why})</span>"
        self.title.setText(
            f"<b>{html.escape(wl.name)}</b> &nbsp; <span style='color:gray'>{count}"
            f" · {html.escape(self._source_words())}</span>{held}"
        )

    def _source_words(self) -> str:
        """Where the rows come from: the recording being replayed, or the active profile."""
        if self.replay.active and self.replay.path is not None:
            return f"replaying {self.replay.path.name}"
        return f"profile {self.settings.active_profile}"

    def _filter_changed(self, text: str) -> None:
        self.watch_model.set_filter(text)
        self._show_title()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt's name)
        if (
            watched is self.filter
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() == Qt.Key.Key_Escape
        ):
            self.clear_filter()
            return True
        return super().eventFilter(watched, event)

    # ------------------------------------------------------------------ selection

    def select(self, ref: MarketRef) -> bool:
        row = self.watch_model.row_of(ref)
        if row is None:
            return False
        self.table.setCurrentIndex(self.watch_model.index(row, 0))
        self._set_selected(ref)
        return True

    def step_selection(self, step: int) -> None:
        rows = self.watch_model.rowCount()
        if not rows:
            return
        current = self.table.currentIndex().row()
        target = 0 if current < 0 else (current + step) % rows
        self.table.setCurrentIndex(self.watch_model.index(target, 0))

    def _row_selected(self, current: Any, _previous: Any) -> None:
        if not current.isValid():
            return
        ref = self.watch_model.ref_at(current.row())
        if ref is not None and ref != self.selected:
            self._set_selected(ref)

    def _set_selected(self, ref: MarketRef | None) -> None:
        self.selected = ref
        venue, market = (ref.venue, ref.market) if ref is not None else (None, None)
        info = self.watch_model.info.get((venue, market)) if venue is not None and market else None
        self.ladder.set_market(venue, market, info)
        self.chart.set_market(venue, market)
        self.tape_model.set_market(venue, market)
        self.orders.set_market(venue, market)
        label = f"{market}" if market else "—"
        self.docks["ladder"].setWindowTitle(f"Depth — {label}")
        self.docks["chart"].setWindowTitle(f"Price — {label}")
        self.docks["tape"].setWindowTitle(f"Trades — {label}")
        self.docks["orders"].setWindowTitle(f"Orders — {label}")
        self._refresh_selected()
        self.panes.watchlist_selected(ref)  # link group 1 follows the watchlist
        if ref is not None and self.running is not None and ref.venue in self.running.urls:
            self.spawn(self._load_market(self.running, ref), f"loading {ref.market}'s history")

    def _http_session(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession()
        return self._http

    async def _load_market(self, running: Launch, ref: MarketRef) -> None:
        """What a market shows the moment it opens: its day of history for the chart and, for Kalshi,
        its question and rules for the header (app/launch: the window only shows them)."""
        http, url = self._http_session(), running.urls[ref.venue]
        history = self.chart.history(ref.venue, ref.market)
        jobs: list[Coroutine[Any, Any, Any]] = []
        if history is not None and not history.past_loaded:
            jobs.append(market_history(http, ref.venue, url, ref.market))
        if ref.venue is Venue.KALSHI:
            jobs.append(kalshi_market(http, url, ref.market))
        for done in await asyncio.gather(*jobs, return_exceptions=True):
            if running is not self.running:
                return  # the source changed meanwhile: what came back belongs to the old one
            if isinstance(done, CatalogError):
                self.statusBar().showMessage(f"{ref.market}: {done}", 8_000)
            elif isinstance(done, BaseException):
                raise done
            elif isinstance(done, MarketDetails):
                self.ladder.header.set_details(done)
            elif isinstance(done, History):
                self.chart.set_history(ref.venue, ref.market, done.minute, done.coarse)

    async def _mark_holdings(self, running: Launch) -> None:
        """Prices for holdings whose market is not watched, from the venues' REST (app/launch/marks.py)."""
        wanted = self.positions_model.unmarked(self.store)
        http, marks = self._http_session(), dict(self.positions_model.marks)
        for venue, markets in wanted.items():
            url = running.urls.get(venue)
            if url is None:
                continue
            fetch = kalshi_marks if venue is Venue.KALSHI else kraken_marks
            with contextlib.suppress(CatalogError):  # unpriced for now; the total row says so
                marks.update({(venue, m): p for m, p in (await fetch(http, url, markets)).items()})
        if running is self.running:
            self.positions_model.marks = marks
            self.positions_model.refresh(self.store)

    def _refresh_selected(self) -> None:
        self.ladder.refresh(self.store)
        self.chart.refresh(self.store)
        self.tape_model.refresh(self.store)
        self.orders.refresh(self.store)

    # ------------------------------------------------------------------ user actions (app/ui/actions.py)

    def _edit(self, title: str, edit: Callable[[], Edit | None]) -> None:
        """One watchlist edit: a refusal is shown in a box titled ``title``; a change is saved, shown and
        (when the market set moved) sent to the venues."""
        try:
            done = edit()
        except WatchlistError as exc:
            QMessageBox.warning(self, title, str(exc))
            return
        if done is None:
            return
        if done.reordered:  # a sorted view would hide the move: back to the list's own order
            self.table.sortByColumn(-1, self.table.horizontalHeader().sortIndicatorOrder())
        if not done.keep_selection:
            self.selected = None
        self.watchlist_changed(resubscribe=done.resubscribe)
        if done.select is not None:
            self.select(done.select)
        if done.message:
            self.statusBar().showMessage(done.message, 8_000)

    def new_watchlist(self) -> None:
        name = ask_name(self, "New watchlist", "Name:", "", self._name_problem(None))
        if name is not None:
            self._edit("New watchlist", lambda: self.watchlists.new(name))

    def rename_watchlist(self) -> None:
        old = self.settings.active_watchlist
        name = ask_name(self, "Rename watchlist", "New name:", old, self._name_problem(old))
        if name is not None:
            self._edit("Rename watchlist", lambda: self.watchlists.rename(name))

    def _name_problem(self, current: str | None) -> Callable[[str], str | None]:
        """What is wrong with a watchlist name as typed (the dialog stays open and says so), or None."""

        def problem(text: str) -> str | None:
            try:
                name = settings_mod.clean_name(text)
            except ValueError as exc:
                return str(exc).capitalize()
            if name != current and any(w.name == name for w in self.settings.watchlists):
                return f"A watchlist named “{name}” already exists"
            return None

        return problem

    def delete_watchlist(self) -> None:
        wl = self.watchlists.current
        answer = QMessageBox.question(
            self, "Delete watchlist", f"Delete the watchlist “{wl.name}” and its {len(wl.markets)} markets?"
        )
        if answer == QMessageBox.StandardButton.Yes:
            self._edit("Delete watchlist", self.watchlists.delete)

    def switch_watchlist(self, name: str) -> None:
        self._edit("Switch watchlist", lambda: self.watchlists.switch(name))

    def next_watchlist(self) -> None:
        self._edit("Next watchlist", self.watchlists.cycle)

    def watchlist_choices(self) -> list[Choice]:
        active = self.settings.active_watchlist
        return [
            Choice(w.name, f"{w.name}  ({len(w.markets)})", w.name == active)
            for w in self.settings.watchlists
        ]

    def add_market(self) -> None:
        from app.ui.picker import MarketPicker

        watched = {(r.venue, r.market) for r in self.watchlists.current.markets}
        picker = MarketPicker(watched, self, state_of=self.market_state)
        picker.setObjectName("marketPicker")
        for venue, items in self.catalog.items():
            picker.add_markets(venue, items)
        for venue, message in self.catalog_errors.items():
            picker.venue_failed(venue, message)

        async def fill_when_ready() -> None:
            await self.catalog_ready.wait()
            for venue, items in self.catalog.items():
                if not any(i.venue is venue for i in picker.model.items):
                    picker.add_markets(venue, items)
            for venue, message in self.catalog_errors.items():
                picker.venue_failed(venue, message)

        task = None
        if not self.catalog_ready.is_set():  # the lists are still arriving: show them as they land
            task = self.spawn(fill_when_ready(), "loading market lists")
        accepted = picker.exec()
        if task is not None:
            task.cancel()
        if accepted:
            self._edit("Add market", lambda: self.watchlists.add(picker.chosen()))
        elif picker.board_ref is not None:
            self.open_strike_board(picker.board_ref)

    def market_state(self, venue: Venue, market: str) -> str:
        """What the live feeds say of a market now, when it is not plain open: its result once ended."""
        status = self.store.status(venue, market)
        if status is None or status == "open":
            return ""
        if status in ENDED:
            return fmt.outcome(status, self.store.outcome(venue, market))
        return status

    def remove_market(self) -> None:
        ref = self.selected
        if ref is not None:
            self._edit("Remove market", lambda: self.watchlists.remove(ref))

    def move_market_up(self) -> None:
        self._move_market(-1)

    def move_market_down(self) -> None:
        self._move_market(1)

    def _move_market(self, step: int) -> None:
        ref = self.selected
        if ref is not None:
            self._edit("Move market", lambda: self.watchlists.move(ref, step))

    def find_market(self) -> None:
        self.filter.setFocus()
        self.filter.selectAll()

    def clear_filter(self) -> None:
        """Esc: every market shows again, and the keys go back to the list."""
        if self.filter.text():
            self.filter.clear()
        if self.filter.hasFocus():
            self.table.setFocus()

    # ------------------------------------------------------------------ View: columns, compact, flash, hold

    def fill_column_menu(self, menu: QMenu) -> None:
        self.table.fill_column_menu(menu)

    def _columns_chosen(self, hidden: list[str]) -> None:
        self.settings.hidden_columns = list(hidden)
        self.save_settings()

    def toggle_compact(self) -> None:
        self._set_compact(not self.settings.compact)

    def compact_on(self) -> bool:
        return self.settings.compact

    def _set_compact(self, on: bool) -> None:
        self.settings.compact = on
        self.table.set_columns(set(self.settings.hidden_columns), on)
        action = self.actions_by_name.get("compact") if hasattr(self, "actions_by_name") else None
        if action is not None:
            action.setChecked(on)
        self.save_settings()

    def flash_choices(self) -> list[Choice]:
        labels = {"off": "Off", "subtle": "Subtle", "full": "Full"}
        return [Choice(m, labels[m], m == self.settings.flash) for m in settings_mod.FLASH_MODES]

    def set_flash(self, mode: str) -> None:
        if mode not in settings_mod.FLASH_MODES:
            return
        self.settings.flash = mode
        self.watch_model.set_flash_mode(mode)
        for key in settings_mod.FLASH_MODES:
            action = self.actions_by_name.get(f"flash_{key}")
            if action is not None:
                action.setChecked(key == mode)
        self.save_settings()

    def toggle_hold_order(self) -> None:
        self.watch_model.hold("user", not self.order_held_by_user())
        self._show_title()

    def order_held_by_user(self) -> bool:
        return "user" in self.watch_model.holders

    # ------------------------------------------------------------------ the watchlist row's menu

    def _fill_row_menu(self, row: int, menu: QMenu) -> None:
        ref = self.watch_model.ref_at(row)
        if ref is None:
            return
        menu.addAction("Open depth and chart", lambda: self.open_market(ref)).setObjectName("row_open")
        menu.addAction("Open in new pane", lambda: self.panes.open_pane(ref)).setObjectName("row_pane")
        menu.addAction(f"Copy “{ref.text()}”", lambda: self.copy_market(ref)).setObjectName("row_copy")
        last = self.watch_model.rows[row].values[2]  # the last price, else the rule starts from the mid
        alert = menu.addAction("Alert at price…", lambda: self.alerts.new_alert(last))
        alert.setObjectName("row_alert")
        if ref.venue is Venue.KALSHI:
            board = menu.addAction("Strike board for this event", lambda: self.open_strike_board(ref))
            board.setObjectName("row_board")
        menu.addSeparator()
        remove = menu.addAction("Remove from watchlist", lambda: self._remove(ref))
        remove.setObjectName("row_remove")
        menu.addSeparator()
        menu.addAction(self.actions_by_name["export_table"])

    async def refresh_day_changes(self) -> None:
        """GET /markets again for the watched Kalshi markets: the change column's base (previous_price)."""
        running, tickers = self.running, self.settings.watchlist().of(Venue.KALSHI)
        if running is None or Venue.KALSHI not in running.urls or not tickers:
            return
        with contextlib.suppress(CatalogError):  # the next refresh tries again; the old base stays
            infos = await kalshi_infos(self._http_session(), running.urls[Venue.KALSHI], tickers)
            if running is self.running:
                self.watch_model.info.update({(i.venue, i.market): i for i in infos})
                self.watch_model.tick(self.store)

    def open_strike_board(self, ref: MarketRef | None = None) -> None:
        """The strike board (app/ui/strike_board.py) for the event of ``ref``, or of the selected market."""
        ref = ref or self.selected
        running = self.running
        if (
            running is None
            or ref is None
            or ref.venue is not Venue.KALSHI
            or Venue.KALSHI not in running.urls
        ):
            self.statusBar().showMessage(
                "The strike board shows a Kalshi market's event: select one first", 8_000
            )
            return
        if self.strike_board is None:
            self.strike_board = StrikeBoard(self, lambda: self.store, self.hold_markets)
            self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.strike_board)
        self.strike_board.show()
        self.strike_board.raise_()
        url = running.urls[Venue.KALSHI]
        self.spawn(
            self.strike_board.load(self._http_session(), url, event_of(ref.market)), "loading the board"
        )

    def _remove(self, ref: MarketRef) -> None:
        self._edit("Remove market", lambda: self.watchlists.remove(ref))

    def open_market(self, ref: MarketRef) -> None:
        """Select the market and bring its depth and price to the front."""
        self.select(ref)
        for name in ("ladder", "chart"):
            dock = self.docks[name]
            dock.show()
            dock.raise_()

    def copy_market(self, ref: MarketRef) -> None:
        _app().clipboard().setText(ref.text())
        self.statusBar().showMessage(f"Copied {ref.text()}", 4_000)

    def next_market(self) -> None:
        self.step_selection(1)

    def previous_market(self) -> None:
        self.step_selection(-1)

    def import_watchlist(self, path: str | None = None) -> None:
        if path is None:
            path, _ = QFileDialog.getOpenFileName(
                self, "Import watchlist", "", "Watchlists (*.txt *.json);;All files (*)"
            )
            if not path:
                return
        try:
            parsed = self.watchlists.read_file(Path(path), self._complete_listings())
        except WatchlistError as exc:
            QMessageBox.warning(self, "Import watchlist", str(exc))
            return
        if parsed.rejected:  # some lines cannot be imported: say which and why, import the rest if asked
            from app.ui.import_report import ImportReport

            report = ImportReport(parsed, self)
            if not report.exec() or not parsed.markets:
                return
        self._edit("Import watchlist", lambda: self.watchlists.add_imported(parsed))

    def _complete_listings(self) -> dict[Venue, set[str]]:
        """What each venue lists, for the venues whose whole list is known (a capped Kalshi list is not)."""
        return {
            venue: {m.market for m in items}
            for venue, items in self.catalog.items()
            if not (venue is Venue.KALSHI and len(items) >= KALSHI_MAX)
        }

    def export_watchlist(self, path: str | None = None) -> None:
        if path is None:
            name = self.watchlists.current.name
            path, _ = QFileDialog.getSaveFileName(
                self, "Export watchlist", f"{name}.txt", "Watchlists (*.txt)"
            )
            if not path:
                return
        try:
            message = self.watchlists.export_file(Path(path))
        except WatchlistError as exc:
            QMessageBox.warning(self, "Export watchlist", str(exc))
            return
        self.statusBar().showMessage(message, 8_000)

    def open_profiles(self) -> None:
        from app.ui.profiles_dialog import ProfilesDialog

        dialog = ProfilesDialog(self.settings, self)
        if dialog.exec() and dialog.changed:
            self.save_settings()
            self.start()

    def open_credentials(self) -> None:
        from app.ui.credentials_dialog import CredentialsDialog

        dialog = CredentialsDialog(self.secrets, self)
        active = self.settings.profile()

        def saved(venue: str, env: str) -> None:
            if env == active.env(Venue(venue)):  # the active profile uses these credentials: reconnect
                self.start()

        dialog.saved.connect(saved)
        dialog.exec()

    def dock_toggles(self) -> list[QAction]:
        return [dock.toggleViewAction() for dock in self.docks.values()]

    def theme_choices(self) -> list[Choice]:
        return [Choice(name, t.label, name == self.settings.theme) for name, t in theme.themes().items()]

    def show_shortcuts(self) -> None:
        actions.show_shortcuts(self)

    def show_about(self) -> None:
        self.spawn(self._about(), "About")

    async def _about(self) -> None:
        import platform

        from app.about import facts

        # The keyring probes may wait on D-Bus: not on the Qt thread.
        found, backend = await asyncio.gather(asyncio.to_thread(facts), asyncio.to_thread(_keyring_or_none))
        if backend is not None and backend.usable:
            keeping = f"Credentials are kept in your OS keyring ({html.escape(backend.name)}) only."
        else:
            why = html.escape(backend.reason) if backend is not None else "the keyring could not be asked"
            keeping = (
                f"No OS keyring is available ({why}): credentials can be kept for one session only, "
                "in memory, and are never written to a file."
            )
        box = QMessageBox(self)
        box.setObjectName("aboutBox")
        box.setWindowTitle("About Market Monitor")
        box.setIconPixmap(self.windowIcon().pixmap(64, 64))
        box.setText(
            f"<h3>Market Monitor {found['version']}</h3>"
            "<p>Live Kalshi event contracts and Kraken spot crypto in one window.</p>"
            f"<p>Qt {found['qt']}<br>Python {platform.python_version()} · {found['build']}</p>"
            f"<p>{keeping}</p>"
        )
        lines = [f"{key}: {value}" for key, value in found.items()]
        lines += self._connection_facts()
        box.setDetailedText("\n".join(lines))  # for bug reports
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    def _connection_facts(self) -> list[str]:
        """Each link's state, the reason, and its newest network error in full (Help → About's details)."""
        running = self.running
        if running is None:
            return ["connections: none running"]
        out = []
        for link in running.engine.links:
            reason = link.transitions[-1].reason if link.transitions else ""
            said = f" ({reason})" if reason else ""
            out.append(f"{link.venue.value} {link.url}: {link.state.value}{said}")
            if link.last_error_detail:
                out.append(f"  last network error: {link.last_error_detail}")
        out += [f"{venue.value}: {why}" for venue, why in running.problems.items()]
        return out

    # ------------------------------------------------------------------ the timer

    def _tick(self) -> None:
        """Half the views on even ticks, half on odd: each widget still updates at REFRESH_HZ, but no
        single repaint pass covers the whole window, which kept event-loop stalls under ~50 ms at 20k
        msg/s (one pass painting everything was the largest block, measured with bench --gui)."""
        store = self.store
        changed = store.take_changes()
        self._pending_list |= changed
        self._pending_selected |= changed
        self._ticks += 1
        painted = False
        if self._ticks % 2 == 0:
            pending, self._pending_list = self._pending_list, set()
            painted = self.watch_model.refresh(store, pending) > 0
            if self._ticks % (2 * SLOW_EVERY) == 0:
                self.watch_model.tick(store)
                painted = True
        else:
            pending, self._pending_selected = self._pending_selected, set()
            sel = self.selected
            if sel is not None and (sel.venue, sel.market) in pending:
                self._refresh_selected()
                painted = True
            if self.panes.refresh(store, pending):  # each pane only while on screen
                painted = True
            if store.fills_changed:
                self.fills_model.refresh(store)
                painted = True
            if self._ticks % 11 == 0:  # positions move with fills and marks: ~5 Hz is plenty, and cheaper
                self.positions_model.refresh(store)
                self._maybe_mark_holdings()
            if self._ticks % (2 * SLOW_EVERY) == 1:
                self.health_model.refresh(store, self.running.engine if self.running else None)
                painted = True
            if self._ticks % 13 == 0:
                self._update_status()
            if self._ticks % 5 == 0:
                self.alerts.tick()  # stale feeds, outages, expiries (firings come from the store itself)
        if painted:
            self.frames += 1

    def _update_status(self) -> None:
        running = self.running
        now = time.monotonic()
        total = 0.0
        down: dict[Venue, str] = {}
        detail: dict[Venue, str] = {}  # the technical text behind each, for the tooltip
        for venue, widget in self.venue_status.items():
            links = [link for link in running.engine.links if link.venue is venue] if running else []
            rate = sum(h.rate(now) for (v, _k), h in self.store.health.items() if v is venue)
            total += rate
            widget.update_from(links, rate, running.simulated if running else set())
            live = [link for link in links if link.state is ConnState.LIVE]
            if not links and running is not None and venue in running.problems:
                down[venue] = f"not connected: {widget.state_text}"  # e.g. needs credentials
            elif links and not live:
                link = links[0]
                reason = link.transitions[-1].reason
                if link.state is ConnState.BACKING_OFF and link.retry_at is not None:
                    # What happened, and a countdown that stays true (the reason's own figure would not).
                    words = reason.rsplit("; retrying in ", 1)[0]
                    seconds = max(0, math.ceil(link.retry_at - now))
                    down[venue] = f"{words[:1].upper()}{words[1:]} — retrying in {seconds} s"
                else:
                    down[venue] = f"{link.state.value}: {reason}"
                if link.last_error_detail:
                    detail[venue] = link.last_error_detail
        model = self.watch_model
        repairs = running.engine.repairing(now) if running else {}
        refused = running.engine.refused() if running else {}
        model.down_detail = detail
        if (down, repairs, refused) != (model.down, model.repairs, model.refused):
            model.down, model.repairs, model.refused = down, repairs, refused
            model.tick(self.store)
        self.rate_label.setText(f"{total:,.0f} msg/s")

    def _maybe_mark_holdings(self) -> None:
        """Every few seconds, and within a second of a holding no price is known for yet."""
        running, now = self.running, time.monotonic()
        if running is None or (self._marking is not None and not self._marking.done()):
            return
        wanted = self.positions_model.unmarked(self.store)
        known = self.positions_model.marks
        new = any((v, m) not in known for v, markets in wanted.items() for m in markets)
        if wanted and now - self._marks_at >= (1.0 if new else MARKS_EVERY_S):
            self._marks_at = now
            self._marking = self.spawn(self._mark_holdings(running), "pricing holdings")

    # ------------------------------------------------------------------ zoom (View → Zoom, kept in settings)

    def zoom_in(self) -> None:
        self._set_zoom(zoom.step(self.settings.zoom, +1))

    def zoom_out(self) -> None:
        self._set_zoom(zoom.step(self.settings.zoom, -1))

    def zoom_reset(self) -> None:
        self._set_zoom(zoom.DEFAULT)

    def _set_zoom(self, percent: int) -> None:
        if percent == self.settings.zoom:
            return
        self.settings.zoom = zoom.apply(_app(), percent)
        self._apply_zoom()
        self.save_settings()
        self.statusBar().showMessage(f"Text size {self.settings.zoom} %", 3_000)

    def _apply_zoom(self) -> None:
        """Widgets with fonts of their own, row heights and column widths follow the application font."""
        factor = zoom.factor(_app())
        ratio, self._zoom_factor = factor / self._zoom_factor, factor
        self.ladder.apply_zoom()
        self.chart.apply_zoom()
        self.panes.apply_zoom()
        for view in self.findChildren(QTableView):
            if isinstance(view.model(), LadderModel):
                continue  # monospace, sized by the ladder itself
            view.setFont(table_font(_app().font()))
            rows = view.verticalHeader()
            height = max(round(ROW_HEIGHT * factor), view.fontMetrics().height() + 6)
            rows.setMinimumSectionSize(min(rows.minimumSectionSize(), height))
            rows.setDefaultSectionSize(height)
            if ratio != 1.0:
                header = view.horizontalHeader()
                for col in range(header.count()):
                    header.resizeSection(col, round(header.sectionSize(col) * ratio))

    # ------------------------------------------------------------------ theme and shutdown

    def set_theme(self, name: str) -> None:
        self.settings.theme = name
        theme.apply(_app(), name)
        self._apply_theme()
        self.save_settings()

    def _apply_theme(self) -> None:
        t = theme.current()
        self.watch_model.apply_theme()
        self.ladder.apply_theme(t)
        self.chart.apply_theme(t)
        self.panes.apply_theme(t)
        self.replay.apply_theme()
        self.sim_badge.setStyleSheet(
            f"background:{t.warn}; color:#000; font-weight:bold; border-radius:3px; padding:1px 6px;"
        )
        for widget in self.venue_status.values():
            widget.apply_theme(t)
        for view in self.findChildren(QTableView):
            if view.styleSheet():  # a style-sheeted view keeps the palette it was polished with
                view.setStyleSheet(view.styleSheet())
            view.viewport().update()

    async def shutdown(self) -> None:
        self._closing = True
        self.timer.stop()
        self.recording.stop("stopped")  # the file is closed whole before the links go
        await self.replay.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if self.running is not None:
            running, self.running = self.running, None
            await running.stop()
        await self.alerts.close()
        if self._http is not None:
            await self._http.close()

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802
        self.workspace.save_current()
        self.save_layout()
        self.save_settings()
        super().closeEvent(event)
        self.closed.emit()

    # ------------------------------------------------------------------ checks (--smoke, tests)

    def data_counts(self) -> tuple[int, int]:
        """Watchlist rows showing a bid or an ask, and price levels in the depth ladder."""
        rows = sum(1 for r in self.watch_model.rows if r.values[0] is not None or r.values[1] is not None)
        return rows, self.ladder.level_count()

    def paint_targets(self) -> dict[str, QWidget]:
        """The widgets whose repaints the GUI benchmark counts: the viewports that repaint when data
        changes (a container only repaints on resize or theme change)."""
        return {
            "watchlist": self.table.viewport(),
            "ladder": self.ladder.table.viewport(),
            "depth chart": self.ladder.plot.viewport(),
            "chart": self.chart.plot.viewport(),
        }

    def has_market_data(self) -> bool:
        rows, levels = self.data_counts()
        return rows > 0 and levels > 0


def _keyring_or_none() -> Any:
    """The keyring backend's facts, or None when asking raised (About must open all the same)."""
    from app.user.secret_store import backend_info

    try:
        return backend_info()
    except Exception:  # a broken keyring configuration: About says it could not ask
        return None


def _app() -> QApplication:
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    return app

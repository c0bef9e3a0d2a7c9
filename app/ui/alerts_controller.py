"""The window's alerts: the engine on the window's store, the Alerts log and its unacknowledged count,
notifications and sound, the Alerts menu's dialogs, "Alert at this price" on the ladder and the chart,
and the marks where an armed alert looks (the watchlist row, the ladder level).

The window holds one controller and calls it at a few points (a new store, a watchlist change, its
timer, the menu); everything else is here, so the window and its views stay as they are. The engine
decides; this only shows, sounds and notifies.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QPoint, QPointF, Qt
from PySide6.QtGui import QColor, QPainter, QPolygon
from PySide6.QtWidgets import (
    QAbstractItemDelegate,
    QDialog,
    QDockWidget,
    QFileDialog,
    QLabel,
    QMenu,
    QMessageBox,
    QStatusBar,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QWidget,
)

from app.alerts.engine import AlertEngine
from app.alerts.firing import Firing
from app.alerts.rules import Kind, PriceField, Rule
from app.alerts.ticks import Ticks
from app.alerts.units import price_text
from app.core.instruments import Venue
from app.core.store import MarketStore
from app.ui import theme
from app.ui.alerts_dialogs import AlertDialog, ManageAlertsDialog
from app.ui.alerts_log import AlertsLogModel, AlertsLogPanel, status_text
from app.ui.alerts_notify import Notifier, Sound
from app.user.alert_files import AlertFileError, export_alerts, import_alerts
from app.user.settings import MarketRef, Settings

Index = QModelIndex | QPersistentModelIndex
SAVE_EVERY_S = 5.0  # firings change rules' counts: saved at most this often (and at exit)
LADDER_PRICE_COLUMN = 2  # app/ui/ladder.py's PRICE column
RAW_ROLE = Qt.ItemDataRole.UserRole  # the ladder's exact Decimal behind a cell
PRICE_FIELDS = (PriceField.LAST, PriceField.BID, PriceField.ASK, PriceField.MID)


class MarkDelegate(QStyledItemDelegate):
    """Paints what the column's own delegate paints, then a small mark where an armed alert looks."""

    def __init__(
        self,
        base: QAbstractItemDelegate | None,
        marked: Callable[[Index], bool],
        parent: QWidget,
        *,
        right: bool = False,
    ) -> None:
        super().__init__(parent)
        self.base = base
        self.marked = marked
        self.right = right  # at the cell's right edge (a left-aligned text's free side), else its left

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        if self.base is not None:
            self.base.paint(painter, option, index)
        else:
            super().paint(painter, option, index)
        if not self.marked(index):
            return
        rect = option.rect
        size = max(6, rect.height() // 2)
        y = rect.top() + (rect.height() - size) // 2
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(theme.current().warn))
        if self.right:  # pointing left, at the market's name
            x = rect.right() - size - 2
            points = [QPoint(x + size, y), QPoint(x, y + size // 2), QPoint(x + size, y + size)]
        else:  # pointing right, at the level's price
            x = rect.left() + 2
            points = [QPoint(x, y), QPoint(x + size, y + size // 2), QPoint(x, y + size)]
        painter.drawPolygon(QPolygon(points))
        painter.restore()


class AlertsHost(Protocol):
    """What ``install`` needs of the window (``ui.window.MainWindow``)."""

    settings: Settings
    config_dir: Path
    selected: MarketRef | None
    docks: dict[str, QDockWidget]

    @property
    def table(self) -> QTableView: ...  # read-only here: the window's may be a QTableView subclass

    watch_model: Any  # WatchlistModel: ref_at(row)
    ladder: Any  # DepthLadder: its .table
    chart: Any  # PriceChart: its .plot and .view

    def save_settings(self) -> None: ...

    def statusBar(self) -> QStatusBar: ...  # noqa: N802  # Qt's name

    def tabifyDockWidget(self, first: QDockWidget, second: QDockWidget) -> None: ...  # noqa: N802

    def _dock(self, name: str, title: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget: ...


def install(window: AlertsHost, watchlist_market_column: int, *, bus: str = "SESSION") -> AlertsController:
    """The alerts in the window: the Alerts dock (a tab beside Health), the count in the status bar, the
    marks, the context menus. The window calls the returned controller at its few points."""
    c = AlertsController(
        window.settings,
        save=window.save_settings,
        selected=lambda: window.selected,
        parent=window,  # type: ignore[arg-type]  # the host is the main window
        config_dir=window.config_dir,
        bus=bus,
    )
    dock = window._dock("alertsDock", "Alerts", c.panel, Qt.DockWidgetArea.BottomDockWidgetArea)
    window.docks["alerts"] = dock
    window.tabifyDockWidget(window.docks["health"], dock)
    window.statusBar().addPermanentWidget(c.status)

    def show_log(_link: str) -> None:
        dock.show()
        dock.raise_()

    c.status.linkActivated.connect(show_log)
    c.install_watchlist(window.table, window.watch_model.ref_at, watchlist_market_column)
    c.install_ladder(window.ladder.table)
    c.install_chart(window.chart.plot, window.chart.view)
    c.on_status = lambda text: window.statusBar().showMessage(text, 10_000)
    return c


class AlertsController:
    def __init__(
        self,
        settings: Settings,
        *,
        save: Callable[[], None],
        selected: Callable[[], MarketRef | None],
        parent: QWidget,
        config_dir: Path,
        bus: str = "SESSION",
    ) -> None:
        self.settings, self.save, self.selected, self.parent = settings, save, selected, parent
        self.ticks = Ticks()  # survives a new store: grids the stream taught stay known
        self.engine: AlertEngine | None = None
        self.store: MarketStore | None = None
        self.log = AlertsLogModel()
        self.panel = AlertsLogPanel(self.log)
        self.panel.acknowledged.connect(self._show_count)
        self.status = QLabel()
        self.status.setObjectName("alertsStatus")
        self.status.setTextFormat(Qt.TextFormat.RichText)
        self.status.hide()
        self.notifier = Notifier(parent, bus=bus)
        self.sound = Sound(config_dir / "sounds")
        self.problems: list[str] = []  # rules set aside (off their grid, unreadable), in words
        self._dirty_since: float | None = None
        self._views: list[QWidget] = []  # repainted when what is armed changes
        self._armed: set[tuple[Venue, str]] = set()
        self._levels: dict[tuple[Venue, str], set[Decimal]] = {}
        self._chart_y: float | None = None
        self.on_status: Callable[[str], None] | None = None  # a line for the window's status bar
        # A recording plays (app/ui/replay_controller.py): rules fire on copies, so a replay's firings
        # neither count on nor use up the saved rules, and each firing is marked as replay in the log.
        self.replaying = False

    # ------------------------------------------------------------------ life

    async def start(self) -> None:
        """Choose how to notify (once per run) and say which."""
        await self.notifier.start()
        # Said once, where alerts are read (not as a status-bar message: that would hide the SIMULATED
        # DATA badge while it shows).
        said = f"{self.notifier.description}; {self.sound.description}."
        self.panel.channel.setText(said)
        self.status.setToolTip(said)

    async def close(self) -> None:
        if self._dirty_since is not None:
            self.save()
        await self.notifier.close()

    def attach(self, store: MarketStore, watched: dict[Venue, list[str]]) -> None:
        """A new store (the window connected a profile): the rules on it, from their saved state."""
        if self.engine is not None:
            self.engine.detach()
        self.store = store
        self.engine = AlertEngine(store, self.ticks)
        self.engine.listeners.append(self.fired)
        for venue, markets in watched.items():
            self.engine.watched[venue] = list(markets)
        self.rearm()

    def watch(self, watched: dict[Venue, list[str]]) -> None:
        if self.engine is not None:
            for venue, markets in watched.items():
                self.engine.watch(venue, markets)
            self._remark()

    def rearm(self) -> None:
        """The settings' rules as they are now (after a dialog, an import) armed on the engine."""
        self.problems = [
            f"{a.get('rule', a.get('raw'))!s}: {a['reason']}" for a in self.settings.alerts_aside
        ]
        if self.engine is not None:
            rules = self.settings.alerts
            refused = self.engine.set_rules([copy.deepcopy(r) for r in rules] if self.replaying else rules)
            self.problems += [f"{rule.text}: {why}" for rule, why in refused]
        self._remark()

    def tick(self) -> None:
        """From the window's timer, a few times a second."""
        engine = self.engine
        if engine is None:
            return
        engine.tick()
        if engine.problems:
            for rule, why in engine.problems:
                self.problems.append(f"{rule.text}: {why}")
                if self.on_status is not None:
                    self.on_status(f"Alert set aside: {rule.text}: {why}")
            engine.problems.clear()
            self._remark()
        if self._dirty_since is not None and time.monotonic() - self._dirty_since >= SAVE_EVERY_S:
            self._dirty_since = None
            self.save()

    # ------------------------------------------------------------------ firing

    def fired(self, firing: Firing) -> None:
        self.log.add(firing, replay=self.replaying)
        self._show_count()
        tag = "Replay: " if self.replaying else ""
        self.notifier.notify(f"{tag}{firing.market}: {firing.shown}", firing.rule.text, up=firing.up)
        if firing.rule.sound:
            self.sound.play(firing.up)
        if self._dirty_since is None and not self.replaying:
            self._dirty_since = time.monotonic()
        if firing.rule.done:
            self._remark()

    def _show_count(self) -> None:
        text = status_text(self.log.unacknowledged)
        self.status.setVisible(bool(text))
        warn = theme.current().warn
        self.status.setText(f"<a href='alerts' style='color:{warn}; font-weight:bold'>{text}</a>")

    # ------------------------------------------------------------------ marks

    def _remark(self) -> None:
        """Which markets and price levels have an armed rule (the marks), then repaint the views."""
        armed: set[tuple[Venue, str]] = set()
        levels: dict[tuple[Venue, str], set[Decimal]] = {}
        engine = self.engine
        rules = [r for r in self.settings.alerts if r.active]
        watched = engine.watched if engine is not None else {}
        for rule in rules:
            t = rule.target
            for venue in [t.venue] if t.venue is not None else list(Venue):
                if t.single:
                    assert t.market is not None
                    armed.add((venue, t.market))
                    if rule.kind is Kind.PRICE and rule.field in PRICE_FIELDS and rule.value is not None:
                        levels.setdefault((venue, t.market), set()).add(rule.value)
                elif t.market is not None:
                    armed.update((venue, m) for m in watched.get(venue, []))
        self._armed, self._levels = armed, levels
        for view in self._views:
            view.update()

    def install_watchlist(
        self, table: QTableView, ref_at: Callable[[int], MarketRef | None], column: int
    ) -> None:
        """A mark on the market cell of every watchlist row an armed alert looks at."""

        def marked(index: Index) -> bool:
            ref = ref_at(index.row())
            return ref is not None and (ref.venue, ref.market) in self._armed

        base = table.itemDelegateForColumn(column) or table.itemDelegate()
        table.setItemDelegateForColumn(column, MarkDelegate(base, marked, table, right=True))
        self._views.append(table.viewport())

    def install_ladder(self, table: QTableView) -> None:
        """A mark on each ladder level an armed price rule of the selected market sits at, and "Alert at
        this price" on a level's context menu."""

        def price_of(index: Index) -> Decimal | None:
            value = index.model().index(index.row(), LADDER_PRICE_COLUMN).data(RAW_ROLE)
            return value if isinstance(value, Decimal) else None

        def marked(index: Index) -> bool:
            ref = self.selected()
            price = price_of(index)
            return (
                ref is not None
                and price is not None
                and price in self._levels.get((ref.venue, ref.market), ())
            )

        column = LADDER_PRICE_COLUMN
        base = table.itemDelegateForColumn(column) or table.itemDelegate()
        table.setItemDelegateForColumn(column, MarkDelegate(base, marked, table))
        self._views.append(table.viewport())
        table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)

        def menu(pos: QPoint) -> None:
            price = price_of(table.indexAt(pos))
            if price is None:
                return
            popup = QMenu(table)
            popup.setObjectName("ladderMenu")
            popup.addAction("Alert at this price…").triggered.connect(lambda: self.new_alert(price))
            popup.popup(table.viewport().mapToGlobal(pos))

        table.customContextMenuRequested.connect(menu)

    def install_chart(self, plot: Any, view: Any) -> None:
        """ "Alert at this price" on the price chart's context menu, at the price right-clicked."""

        def clicked(ev: Any) -> None:
            if ev.button() == Qt.MouseButton.RightButton:
                self._chart_y = float(view.mapSceneToView(QPointF(ev.scenePos())).y())

        plot.scene().sigMouseClicked.connect(clicked)
        menu = getattr(view, "menu", None)
        if isinstance(menu, QMenu):
            menu.addSeparator()
            action = menu.addAction("Alert at this price…")
            action.setObjectName("chartAlertAction")
            action.triggered.connect(self.alert_at_chart_price)

    def alert_at_chart_price(self, y: float | None = None) -> None:
        ref = self.selected()
        y = self._chart_y if y is None else y
        if ref is None or y is None:
            return
        try:
            text = f"{y:.6f}"
            price = Decimal(text) / 100 if ref.venue is Venue.KALSHI else Decimal(text)  # the chart's ¢
        except InvalidOperation:
            return
        self.new_alert(self._snap(ref, price))

    def _snap(self, ref: MarketRef, price: Decimal) -> Decimal:
        """A chart price onto the market's grid (the nearest tick below), so the rule can be armed."""
        tick = self.ticks.tick_at(ref.venue, ref.market, price)
        if tick is None:
            tick = Decimal("0.01") if ref.venue is Venue.KALSHI else None
            book = self.store.books[ref.venue].get(ref.market) if self.store is not None else None
            if tick is None and book is not None:
                tick = Decimal(1).scaleb(-book.price_decimals)
        return (price // tick) * tick if tick else price

    # ------------------------------------------------------------------ the Alerts menu

    def check(self, rule: Rule) -> str | None:
        t = rule.target
        if t.single and t.venue is not None and t.market is not None:
            return self.ticks.problem(rule, t.venue, t.market)
        return None

    def prefill(self, price: Decimal | None = None) -> str:
        """A rule for the selected market at ``price`` (else its last trade or mid), the way it would
        cross from where the market is now."""
        ref = self.selected()
        if ref is None:
            return ""
        store = self.store
        state = store.markets.get((ref.venue, ref.market)) if store is not None else None
        book = store.books[ref.venue].get(ref.market) if store is not None else None
        last = state.last if state is not None else None
        bid, ask = (book.best_bid_price(), book.best_ask_price()) if book is not None else (None, None)
        mid = (bid + ask) / 2 if bid is not None and ask is not None else None
        now, field = (last, "last") if last is not None else (mid, "mid")
        target = price if price is not None else now
        if target is None:
            return f"{ref.venue.value}:{ref.market} last above "
        way = "above" if now is None or target >= now else "below"
        unit = "c" if ref.venue is Venue.KALSHI else ""
        return f"{ref.venue.value}:{ref.market} {field} {way} {price_text(ref.venue, target)}{unit}"

    def new_alert(self, price: Decimal | None = None) -> Rule | None:
        dialog = AlertDialog(self.prefill(price), check=self.check, parent=self.parent)
        if dialog.exec() != QDialog.DialogCode.Accepted or dialog.rule is None:
            return None
        rule = dialog.rule
        rule.sound = dialog.sound.isChecked()
        self.settings.alerts.append(rule)
        self.rearm()
        self.save()
        return rule

    def acknowledge_all(self) -> None:
        self.log.acknowledge()
        self._show_count()

    def manage(self) -> None:
        dialog = ManageAlertsDialog(
            self.settings.alerts,
            ticks=self.ticks,
            changed=self._changed,
            import_export=(self.import_rules, self.export_rules),
            set_aside=self.problems,
            parent=self.parent,
        )
        dialog.exec()

    def _changed(self) -> None:
        self.rearm()
        self.save()

    def import_rules(self, path: str | None = None) -> None:
        if path is None:
            path, _ = QFileDialog.getOpenFileName(
                self.parent, "Import alerts", "", "Alerts (*.json *.txt);;All (*)"
            )
            if not path:
                return
        try:
            added, aside = import_alerts(self.settings, Path(path))
        except AlertFileError as exc:
            QMessageBox.warning(self.parent, "Import alerts", str(exc))
            return
        self._changed()
        note = f"{len(added)} alert{'s' if len(added) != 1 else ''} imported"
        if aside:
            note += "; not imported: " + "; ".join(
                f"{a.get('rule', a.get('raw'))}: {a['reason']}" for a in aside[:5]
            )
        if self.on_status is not None:
            self.on_status(note)

    def export_rules(self, path: str | None = None) -> None:
        if path is None:
            path, _ = QFileDialog.getSaveFileName(
                self.parent, "Export alerts", "alerts.json", "Alerts (*.json)"
            )
            if not path:
                return
        try:
            count = export_alerts(self.settings.alerts, Path(path))
        except AlertFileError as exc:
            QMessageBox.warning(self.parent, "Export alerts", str(exc))
            return
        if self.on_status is not None:
            self.on_status(f"{count} alerts exported to {path}")

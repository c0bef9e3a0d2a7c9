"""The window's market panes: opening them (watchlist menu, shortcut, middle-click), where they dock,
what each holds streamed (``window.hold_markets``), their link groups, and their 25 Hz refresh.

The window's own Depth, Price and Trades docks are the first pane in all but name: they follow the
watchlist selection, which is a member of link group 1. A pane in group 1 moves the watchlist (and so
those docks) when its market is changed; a market not in the watchlist is shown there all the same and
kept streamed by the group's own hold.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QDockWidget

from app.core.instruments import Venue
from app.core.store import MarketStore
from app.launch.catalog import CatalogError, MarketDetails, kalshi_market
from app.launch.history import History, market_history
from app.ui import links, theme
from app.ui.links import LinkGroups
from app.ui.market_pane import DEFAULT_CONTENTS, MarketPane
from app.ui.theme import Theme
from app.user.settings import MarketRef

if TYPE_CHECKING:
    from app.launch.launcher import Launch

PANE_WIDTH = 440  # px, a new docked pane's width: the ladder's header and the chart's controls fit
KEEP_WATCHLIST = 420  # px the watchlist keeps when new panes take room beside it
USEFUL_WIDTH, USEFUL_HEIGHT = 340, 420  # px below which two panes side by side (or stacked) are too cramped


class PanesController(QObject):
    def __init__(self, window: Any) -> None:
        super().__init__(window)
        # The MainWindow (typed loosely: the window imports this module, never the other way round).
        self.window = window
        self.links = LinkGroups()
        self.links.listen(self._group_moved)
        self.panes: dict[int, MarketPane] = {}
        self._next_id = 1
        self._loaded: set[tuple[int, int, MarketRef]] = set()  # (pane, source, market) histories asked
        window.table.viewport().installEventFilter(self)  # middle-click on a row: a new pane
        window.connected.connect(self._connected)

    # ------------------------------------------------------------------ opening and closing

    def open_selected(self) -> MarketPane | None:
        """Workspace → Open in new pane: the watchlist's selected market, in a new unlinked pane."""
        ref = self.window.selected
        if ref is None:
            self.window.statusBar().showMessage("Select a market to open it in a new pane", 6_000)
            return None
        return self.open_pane(ref)

    def open_pane(
        self,
        ref: MarketRef | None,
        *,
        group: int = links.UNLINKED,
        contents: Iterable[str] = DEFAULT_CONTENTS,
        interval: str | None = None,
        pane_id: int | None = None,
        place: bool = True,
    ) -> MarketPane:
        """A new pane on ``ref`` (unlinked unless ``group``); ``place`` docks it beside the others
        (a workspace being restored places its panes itself)."""
        if pane_id is None or pane_id in self.panes:
            pane_id = self._next_id
        self._next_id = max(self._next_id, pane_id + 1)
        pane = MarketPane(pane_id, self._choices, self.window, contents)
        if interval:
            pane.interval = interval
        self.panes[pane_id] = pane
        pane.market_picked.connect(lambda r, p=pane: self._picked(p, r))
        pane.link_picked.connect(lambda g, p=pane: self.set_link(p, g))
        pane.problem.connect(lambda text: self.window.statusBar().showMessage(text, 8_000))
        pane.closed.connect(lambda p=pane: self._closed(p))
        pane.ladder.on_demand = lambda refs, depth, p=pane: self._hold(p, refs, depth)
        pane.apply_theme(theme.current())
        pane.apply_zoom()
        if place:
            self._place(pane)
        if group != links.UNLINKED:
            pane.set_link(group)
            current = self.links.current(group)
            if current is not None:
                ref = current  # a linked pane shows its group's market
            elif ref is not None:
                self.links.select(group, ref, pane)
        self._show(pane, ref)
        if place:
            pane.show()
            pane.raise_()
        return pane

    def close_all(self) -> None:
        """Every pane goes (a workspace switch): their markets are let go at once."""
        for pane in list(self.panes.values()):
            self._forget(pane)
            self.window.removeDockWidget(pane)
            pane.setObjectName("")  # restoreState must not find it while it waits to be deleted
            pane.setParent(None)
            pane.deleteLater()

    def _closed(self, pane: MarketPane) -> None:
        self._forget(pane)
        pane.deleteLater()

    def _forget(self, pane: MarketPane) -> None:
        self.panes.pop(pane.pane_id, None)
        self.window.hold_markets(f"pane:{pane.pane_id}", [])
        self._hold_groups()

    def _place(self, pane: MarketPane) -> None:
        """The first pane in a column of its own at the right; later ones split the largest docked
        pane where two readable ones fit (across, taking room from the watchlist down to
        ``KEEP_WATCHLIST``; else down), else join it as a tab: never past the screen."""
        w = self.window
        central = w.centralWidget()
        spare = max(0, central.width() - KEEP_WATCHLIST) if central is not None else 0
        docked = [p for p in self.panes.values() if p is not pane and not p.isFloating() and p.isVisible()]
        least = pane.minimumSizeHint()
        if not docked and max(least.width(), spare) < USEFUL_WIDTH:
            # No room for a readable column (a Kraken ladder needs ~340 px): a tab beside Depth instead,
            # full width, rather than a strip that cuts every number.
            w.tabifyDockWidget(w.docks["ladder"], pane)
            pane.show()
            pane.raise_()
            return
        if not docked:  # a column of its own at the right, the whole height of the dock area
            w.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, pane, Qt.Orientation.Horizontal)
            pane.show()  # a hidden dock is not resized
            w.resizeDocks([pane], [min(PANE_WIDTH, max(least.width(), spare))], Qt.Orientation.Horizontal)
            return
        target = max(docked, key=lambda d: d.width() * d.height())
        room = target.width() + spare
        if room >= 2 * max(least.width(), USEFUL_WIDTH):
            w.splitDockWidget(target, pane, Qt.Orientation.Horizontal)
            pane.show()
            half = min(PANE_WIDTH, room // 2)
            w.resizeDocks([target, pane], [half, half], Qt.Orientation.Horizontal)
        elif target.height() >= 2 * max(least.height(), USEFUL_HEIGHT):
            w.splitDockWidget(target, pane, Qt.Orientation.Vertical)
        else:
            w.tabifyDockWidget(target, pane)

    # ------------------------------------------------------------------ markets and links

    def watchlist_selected(self, ref: MarketRef | None) -> None:
        """The window's selection moved (a row clicked, a step, a pane of group 1): group 1 follows."""
        if ref is not None:
            self.links.select(links.WATCHLIST_GROUP, ref, self)

    def set_link(self, pane: MarketPane, group: int) -> None:
        """Put ``pane`` in ``group``: it shows the group's market (or, first in it, gives it its own)."""
        pane.set_link(group)
        if group != links.UNLINKED:
            current = self.links.current(group)
            if current is None and pane.ref is not None:
                self.links.select(group, pane.ref, pane)
            elif current is not None:
                self._show(pane, current)
        self._hold_groups()

    def _picked(self, pane: MarketPane, ref: MarketRef) -> None:
        """The user chose ``ref`` in ``pane``: it shows it, and so does the rest of its group."""
        self._show(pane, ref)
        self.links.select(pane.group, ref, pane)

    def _group_moved(self, group: int, ref: MarketRef, source: object) -> None:
        for pane in list(self.panes.values()):
            if pane.group == group and pane is not source:
                self._show(pane, ref)
        if group == links.WATCHLIST_GROUP and source is not self:
            w = self.window
            if not w.select(ref):  # not in the watchlist: its docks show it anyway
                w._set_selected(ref)
        self._hold_groups()

    def _show(self, pane: MarketPane, ref: MarketRef | None) -> None:
        info = self.window.watch_model.info.get((ref.venue, ref.market)) if ref is not None else None
        pane.set_market(ref, info)
        self._hold(pane, [ref] if ref is not None else [], pane.ladder.demand()[1])
        self._load(pane)

    def _hold(self, pane: MarketPane, refs: list[MarketRef], depth: int | None) -> None:
        """The pane's market streamed, at the Kraken book depth its ladder asks for."""
        self.window.hold_markets(f"pane:{pane.pane_id}", refs, depth)

    def _hold_groups(self) -> None:
        """A group's market stays streamed while a member shows it, even when no watchlist has it."""
        for group in links.GROUPS:
            ref = self.links.current(group)
            used = group == links.WATCHLIST_GROUP or any(p.group == group for p in self.panes.values())
            self.window.hold_markets(f"link:{group}", [ref] if ref is not None and used else [])

    def _choices(self) -> list[MarketRef]:
        return list(self.window.settings.watchlist().markets)

    def _connected(self) -> None:
        """A live engine started with the watchlist's markets: add what the panes (restored before it
        existed) and the link groups hold. A replay plays only its recording's markets."""
        w = self.window
        if not w.replay.active and any(o.startswith(("pane:", "link:")) for o in w.demand.owners()):
            w.spawn(w.apply_watchlist(), "subscribing the panes' markets")

    # ------------------------------------------------------------------ the timer

    def refresh(self, store: MarketStore, changed: set[tuple[Venue, str]]) -> bool:
        painted = False
        info = self.window.watch_model.info
        for pane in self.panes.values():
            ref = pane.ref
            if ref is not None and not pane.info_known:
                known = info.get((ref.venue, ref.market))
                if known is not None:
                    pane.set_info(known)
            if pane.refresh(store, changed):
                painted = True
                self._load(pane)  # a new source since: its history again (a no-op when asked already)
        return painted

    def adopt_store(self) -> None:
        """A new source: nothing of the old one stays in any pane."""
        for pane in self.panes.values():
            pane.clear()

    def apply_theme(self, t: Theme) -> None:
        for pane in self.panes.values():
            pane.apply_theme(t)

    def apply_zoom(self) -> None:
        for pane in self.panes.values():
            pane.apply_zoom()

    # ------------------------------------------------------------------ history and details

    def _load(self, pane: MarketPane) -> None:
        """The pane's chart history and (Kalshi) the market's question, once per pane, source and market."""
        running, ref = self.window.running, pane.ref
        if running is None or ref is None or ref.venue not in running.urls:
            return
        key = (pane.pane_id, id(running), ref)
        if key in self._loaded:
            return
        self._loaded.add(key)
        self.window.spawn(self._fetch(running, pane, ref), f"loading {ref.market}'s history")

    async def _fetch(self, running: Launch, pane: MarketPane, ref: MarketRef) -> None:
        http, url = self.window._http_session(), running.urls[ref.venue]
        jobs: list[Coroutine[Any, Any, Any]] = [market_history(http, ref.venue, url, ref.market)]
        if ref.venue is Venue.KALSHI:
            jobs.append(kalshi_market(http, url, ref.market))
        for done in await asyncio.gather(*jobs, return_exceptions=True):
            if running is not self.window.running or self.panes.get(pane.pane_id) is not pane:
                return  # the source changed or the pane closed meanwhile
            if pane.ref != ref:
                return
            if isinstance(done, CatalogError):
                self.window.statusBar().showMessage(f"{ref.market}: {done}", 8_000)
            elif isinstance(done, BaseException):
                raise done
            elif isinstance(done, MarketDetails):
                pane.ladder.header.set_details(done)
            elif isinstance(done, History):
                pane.chart.set_history(ref.venue, ref.market, done.minute, done.coarse)

    # ------------------------------------------------------------------ middle-click on a watchlist row

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802
        if (
            event.type() == QEvent.Type.MouseButtonRelease
            and isinstance(event, QMouseEvent)
            and event.button() == Qt.MouseButton.MiddleButton
        ):
            index = self.window.table.indexAt(event.position().toPoint())
            ref = self.window.watch_model.ref_at(index.row()) if index.isValid() else None
            if ref is not None:
                self.open_pane(ref)
                return True
        return False

    def docks(self) -> list[QDockWidget]:
        return list(self.panes.values())


def install(window: Any) -> PanesController:
    return PanesController(window)

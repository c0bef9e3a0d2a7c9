"""Replay in the window: File → Open recording… and ``market-monitor --replay FILE``.

The recording runs through the same sessions, store, panes and alerts as live data (a ``ReplayPlayer``
feeding ``ReplayLink``s in a ``StreamEngine``); the window tells it apart only by the REPLAY badge where
SIMULATED shows and the transport bar. While it plays, the watchlist is the recording's markets (a list of
its own, never saved) and alerts fire on copies of the rules, marked as replay in the log, so trying a rule
on yesterday's data changes nothing of today's.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QFileDialog, QLabel, QMessageBox, QToolBar

from app.core.instruments import Venue
from app.core.recording import RecordingError
from app.core.store import MarketStore
from app.launch.launcher import Launch
from app.stream.engine import StreamEngine
from app.stream.replay_player import SPEEDS, RecordingIndex, ReplayLink, ReplayPlayer, open_index
from app.ui import theme
from app.ui.actions import REPLAY_ONLY
from app.ui.transport import TransportBar
from app.user.settings import MarketRef, Watchlist

REPLAY_WATCHLIST = "Replay"
SHOW_MS = 100  # the transport bar's position, ten times a second


class ReplayController(QObject):
    def __init__(self, window: Any) -> None:
        super().__init__(window)
        self.window = window
        self.player: ReplayPlayer | None = None
        self.index: RecordingIndex | None = None
        self.path: Path | None = None
        self.built_now = False
        self._saved_active: str | None = None
        self.badge = QLabel(" REPLAY ")
        self.badge.setObjectName("replayBadge")
        self.badge.hide()
        self.bar = TransportBar()
        self.toolbar = QToolBar("Replay")
        self.toolbar.setObjectName("transportToolbar")
        self.toolbar.setMovable(False)
        self.toolbar.addWidget(self.bar)
        self.toolbar.hide()
        self.bar.play_pause.connect(self.toggle_play)
        self.bar.step.connect(self.step)
        self.bar.speed_chosen.connect(self.set_speed)
        self.bar.seek.connect(self.seek)
        self.bar.back_to_live.connect(self.back_to_live)
        self.timer = QTimer(self)
        self.timer.setInterval(SHOW_MS)
        self.timer.timeout.connect(self._show)

    @property
    def active(self) -> bool:
        return self.player is not None

    # ------------------------------------------------------------------ the actions

    def open_dialog(self) -> None:
        folder = self.window.data_dir / "recordings"
        path, _ = QFileDialog.getOpenFileName(
            self.window,
            "Open recording",
            str(folder if folder.is_dir() else Path.home()),
            "Recordings (*.jsonl.gz *.jsonl *.gz);;All files (*)",
        )
        if path:
            self.window.spawn(self.open(Path(path)), "opening the recording")

    def toggle_play(self) -> None:
        player = self.player
        if player is None:
            return
        if player.playing:
            player.pause()
        elif player.at_end:
            player.seek(self.index.first_ms if self.index and self.index.first_ms is not None else 0)
            player.play()
        else:
            player.play()
        self._show()

    def step(self) -> None:
        if self.player is not None:
            self.player.step()
            self._show()

    def set_speed(self, speed: float | None) -> None:
        if self.player is not None:
            self.player.set_speed(speed)
            self._show()

    def faster(self) -> None:
        self._nudge_speed(1)

    def slower(self) -> None:
        self._nudge_speed(-1)

    def _nudge_speed(self, step: int) -> None:
        if self.player is None:
            return
        i = SPEEDS.index(self.player.speed)
        self.set_speed(SPEEDS[max(0, min(len(SPEEDS) - 1, i + step))])

    def seek(self, rx_ms: int) -> None:
        if self.player is not None:
            self.player.seek(rx_ms)
            self._show()

    def back_to_live(self) -> None:
        if self.player is not None:
            self.window.spawn(self.window.connect_profile(), "connecting")

    # ------------------------------------------------------------------ opening and closing

    async def open(self, path: Path, *, play: bool = True) -> bool:
        """Index the recording (or load its checkpoints), then play it in the window in place of the
        live session. A file that cannot be replayed is refused in a box; the live session goes on."""
        w = self.window
        w.statusBar().showMessage(f"Opening {path}…")
        try:
            index, built = await asyncio.to_thread(open_index, path, w.config_dir)
        except (RecordingError, OSError) as exc:
            text = (
                str(exc) if isinstance(exc, RecordingError) else f"Cannot read {path}: {exc.strerror or exc}"
            )
            w.statusBar().showMessage(text, 20_000)
            box = QMessageBox(QMessageBox.Icon.Warning, "Open recording", text, parent=w)
            box.setObjectName("replayRefused")
            box.open()
            return False
        if not any(index.markets.values()):
            text = f"{path} holds no order book to show ({index.frames} frames)."
            w.statusBar().showMessage(text, 20_000)
            return False
        await w.stop_source()
        self.path, self.index, self.built_now = path, index, built
        store = MarketStore()
        self._use_watchlist(index)
        player = ReplayPlayer(index, store, on_restore=self._restored)
        engine = StreamEngine(store)
        for venue in Venue:
            if index.markets.get(venue):
                player.links[venue] = engine.add(ReplayLink(venue, store, index.markets[venue], path.name))  # type: ignore[assignment]
        self.player = player
        w.alerts.replaying = True
        w.running = None
        w.adopt_source(Launch(engine), store)
        engine.start()
        player.start()
        self.badge.show()
        self.badge.setToolTip(f"Replaying {path}: nothing on screen is live")
        self.bar.set_range(index.first_ms, index.last_ms)
        self.toolbar.show()
        self.timer.start()
        for name in REPLAY_ONLY:
            w.actions_by_name[name].setEnabled(True)
        how = "checkpoints built" if built else "checkpoints loaded"
        w.statusBar().showMessage(
            f"Replaying {path.name}: {index.frames:,} frames, {len(index.checkpoints)} {how}", 10_000
        )
        if play:
            player.play()
        self._show()
        return True

    async def close(self) -> None:
        """Stop replaying (Back to live, a new profile, quitting): the live watchlist back."""
        player, self.player = self.player, None
        if player is None:
            return
        self.timer.stop()
        await player.stop()
        self.toolbar.hide()
        self.badge.hide()
        self.window.alerts.replaying = False
        for name in REPLAY_ONLY:
            self.window.actions_by_name[name].setEnabled(False)
        self._restore_watchlist()

    def _restored(self, store: MarketStore) -> None:
        self.window.adopt_store(store)

    # ------------------------------------------------------------------ the watchlist while replaying

    def _use_watchlist(self, index: RecordingIndex) -> None:
        settings = self.window.settings
        self._restore_watchlist()
        refs = [MarketRef(v, m) for v in Venue for m in index.markets.get(v, [])]
        settings.watchlists.append(Watchlist(REPLAY_WATCHLIST, refs))
        self._saved_active = settings.active_watchlist
        settings.active_watchlist = REPLAY_WATCHLIST

    def _restore_watchlist(self) -> None:
        settings = self.window.settings
        settings.watchlists = [wl for wl in settings.watchlists if wl.name != REPLAY_WATCHLIST]
        if self._saved_active is not None:
            settings.active_watchlist = self._saved_active
            self._saved_active = None

    @contextlib.contextmanager
    def settings_as_saved(self) -> Iterator[None]:
        """The settings without the replay's own watchlist (what is saved while a recording plays)."""
        if self._saved_active is None:
            yield
            return
        settings = self.window.settings
        lists, active = settings.watchlists, settings.active_watchlist
        settings.watchlists = [wl for wl in lists if wl.name != REPLAY_WATCHLIST]
        settings.active_watchlist = self._saved_active
        try:
            yield
        finally:
            settings.watchlists, settings.active_watchlist = lists, active

    # ------------------------------------------------------------------ showing

    def _show(self) -> None:
        player = self.player
        if player is None:
            return
        self.bar.show_state(player.position_ms, player.playing, player.speed, player.at_end)

    def apply_theme(self) -> None:
        t = theme.current()
        self.badge.setStyleSheet(
            f"background:{t.highlight}; color:#fff; font-weight:bold; border-radius:3px; padding:1px 6px;"
        )
        self.bar.apply_theme()


def install(window: Any) -> ReplayController:
    c = ReplayController(window)
    window.statusBar().insertPermanentWidget(0, c.badge)
    from PySide6.QtCore import Qt

    window.addToolBar(Qt.ToolBarArea.BottomToolBarArea, c.toolbar)
    c.apply_theme()
    return c

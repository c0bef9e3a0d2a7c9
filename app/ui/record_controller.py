"""File → Record in the window: every raw frame of the running session into the data folder, as
``stream --record`` writes it, with a REC mark (elapsed time, file size) in the status bar.

A recording never fills the disk silently: once a second it is flushed (a gzip sync point, so the file
replays up to that second even if the app dies), and below ``MIN_FREE_BYTES`` free it stops and says so.
A recording begun mid-connection asks each link for fresh snapshots, so the file stands on its own; a
change of connection profile ends it (a new engine's connections would be numbered from 1 again).
"""

from __future__ import annotations

import shutil
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

from PySide6.QtCore import QObject, QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QLabel, QMessageBox, QStatusBar, QWidget

from app.launch.launcher import Launch
from app.stream.kalshi_link import KalshiLink
from app.stream.kraken_link import KrakenLink
from app.stream.recorder import Recorder
from app.ui import theme

MIN_FREE_BYTES = 500 * 1024**2  # below this much free space on the recording's disk, recording stops
CHECK_MS = 1000


class RecordHost(Protocol):
    """What the controller needs of the window (``ui.window.MainWindow``)."""

    running: Launch | None
    data_dir: Path
    actions_by_name: dict[str, QAction]

    def statusBar(self) -> QStatusBar: ...  # noqa: N802  # Qt's name

    def spawn(self, coro: Any, what: str) -> Any: ...


def recording_name(now: datetime | None = None) -> str:
    """``2026-12-03_07-15-00Z.jsonl.gz``: sorts by time, says its zone, no characters a shell minds."""
    when = now or datetime.now(UTC)
    return when.strftime("%Y-%m-%d_%H-%M-%SZ") + ".jsonl.gz"


def size_text(n: int) -> str:
    for unit, scale in (("GB", 1024**3), ("MB", 1024**2), ("kB", 1024)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"


def elapsed_text(seconds: float) -> str:
    s = int(seconds)
    return f"{s // 3600}:{s // 60 % 60:02d}:{s % 60:02d}" if s >= 3600 else f"{s // 60:02d}:{s % 60:02d}"


class RecordController(QObject):
    def __init__(self, host: RecordHost, parent: QWidget) -> None:
        super().__init__(parent)
        self.host = host
        self.parent_widget = parent
        self.recorder: Recorder | None = None
        self.min_free = MIN_FREE_BYTES
        self.last_stop_reason: str | None = None
        self.mark = QLabel()
        self.mark.setObjectName("recordMark")
        self.mark.hide()
        self.timer = QTimer(self)
        self.timer.setInterval(CHECK_MS)
        self.timer.timeout.connect(self.check)

    @property
    def recording(self) -> bool:
        return self.recorder is not None

    @property
    def path(self) -> Path | None:
        return self.recorder.path if self.recorder is not None else None

    def _sync_action(self) -> None:
        action = self.host.actions_by_name.get("record")
        if action is not None:
            action.setChecked(self.recording)

    def toggle(self) -> None:
        if self.recording:
            self.stop("stopped")
        else:
            self.start()

    def start(self) -> bool:
        running = self.host.running
        if running is None or not running.engine.links:
            self._say("Nothing to record: no venue is connected.")
            self._sync_action()
            return False
        folder = self.host.data_dir / "recordings"
        try:
            folder.mkdir(parents=True, exist_ok=True)
            free = shutil.disk_usage(folder).free
            if free < self.min_free:
                self._say(
                    f"Not recording: only {size_text(free)} free in {folder} "
                    f"(recording needs at least {size_text(self.min_free)})."
                )
                self._sync_action()
                return False
            recorder = Recorder.create(folder / recording_name(), _sessions(running))
        except OSError as exc:
            self._say(f"Cannot record in {folder}: {exc.strerror or exc}")
            self._sync_action()
            return False
        self.recorder = recorder
        self.last_stop_reason = None
        for link in running.engine.links:
            link.recorder = recorder
            if link.streamed:
                # The file must stand on its own: fresh snapshots of every book now being recorded.
                self.host.spawn(
                    link.repair_books(list(link.streamed)), "snapshotting books for the recording"
                )
        self.timer.start()
        self._show()
        self._sync_action()
        self.host.statusBar().showMessage(f"Recording to {recorder.path}", 8_000)
        return True

    def stop(self, why: str) -> Path | None:
        """End the recording; ``why`` is said in the status bar (``stopped``, or the reason it had to)."""
        recorder, self.recorder = self.recorder, None
        self.timer.stop()
        self.mark.hide()
        self._sync_action()
        if recorder is None:
            return None
        running = self.host.running
        if running is not None:
            for link in running.engine.links:
                if link.recorder is recorder:
                    link.recorder = None
        try:
            recorder.close()
        except OSError as exc:
            why = f"{why}; the file could not be closed cleanly ({exc.strerror or exc})"
        size = size_text(recorder.size())
        text = f"Recording {why}: {recorder.path} ({recorder.lines:,} lines, {size})"
        if why != "stopped":
            self.last_stop_reason = why
            self._say(text)  # not just a passing status message: the user must see it stopped
        else:
            self.host.statusBar().showMessage(text, 15_000)
        return recorder.path

    def link_options(self) -> dict[str, Any] | None:
        return {"recorder": self.recorder} if self.recorder is not None else None

    def check(self) -> None:
        """Once a second: flush, the REC mark, and the free-space guard."""
        recorder = self.recorder
        if recorder is None or recorder.path is None:
            return
        try:
            recorder.flush()
            free = shutil.disk_usage(recorder.path.parent).free
        except OSError as exc:
            self.stop(f"stopped: cannot write ({exc.strerror or exc})")
            return
        if free < self.min_free:
            left, limit = size_text(free), size_text(self.min_free)
            self.stop(f"stopped: only {left} left free on the disk (the limit is {limit})")
            return
        self._show()

    def _show(self) -> None:
        recorder = self.recorder
        if recorder is None:
            return
        t = theme.current()
        self.mark.setStyleSheet(f"color:{t.ask}; font-weight:bold; padding:0 6px;")
        self.mark.setText(
            f"● REC {elapsed_text(time.monotonic() - recorder.started)} · {size_text(recorder.size())}"
        )
        self.mark.setToolTip(f"Recording every frame to {recorder.path}\nFile → Record (Ctrl+R) stops it.")
        self.mark.show()

    def _say(self, text: str) -> None:
        self.host.statusBar().showMessage(text, 20_000)
        box = QMessageBox(QMessageBox.Icon.Warning, "Record", text, parent=self.parent_widget)
        box.setObjectName("recordBox")
        box.open()  # never modal over live data


def _sessions(running: Launch) -> dict[str, dict[str, Any]]:
    """Each venue's session settings, for a recording begun after its subscribe commands were sent."""
    out: dict[str, dict[str, Any]] = {}
    for link in running.engine.links:
        if isinstance(link, KalshiLink):
            out["kalshi"] = {"use_yes_price": link.use_yes_price}
        elif isinstance(link, KrakenLink):
            out["kraken"] = {"depth": link.depth}
    return out


def install(window: Any) -> RecordController:
    c = RecordController(window, window)
    window.statusBar().insertPermanentWidget(0, c.mark)
    return c

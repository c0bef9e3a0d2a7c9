"""Qt test support: a qasync loop under pytest-qt (platform notes §4, style B), the simulator plus the
stream engine started on it, a waiter that pumps Qt (which drives the asyncio tasks) until done, and a
user who answers the next modal dialog."""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import pytest
import qasync
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QDialog, QInputDialog

from app.cli.window import collect_on_main_thread

T = TypeVar("T")


def run_on(loop: asyncio.AbstractEventLoop, coro: Awaitable[T], timeout: float = 20.0) -> T:
    """Run ``coro`` on the already-running qasync loop by pumping Qt events until it finishes."""
    app = QApplication.instance()
    assert app is not None
    task = asyncio.ensure_future(coro, loop=loop)
    deadline = time.monotonic() + timeout
    while not task.done():
        if time.monotonic() > deadline:
            task.cancel()
            raise TimeoutError(f"not done within {timeout} s")
        app.processEvents()
        time.sleep(0.001)
    return task.result()


def pump_until(pred: Callable[[], Any], timeout: float = 10.0) -> None:
    app = QApplication.instance()
    assert app is not None
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not met in time")
        app.processEvents()
        time.sleep(0.002)


def answer_next_dialog(fill: Callable[[QDialog], None]) -> None:
    """Act on the next modal dialog as a user would, once it is open."""

    def poll() -> None:
        dialog = QApplication.activeModalWidget()
        if isinstance(dialog, QDialog) and dialog.isVisible():
            fill(dialog)
        else:
            QTimer.singleShot(20, poll)

    QTimer.singleShot(0, poll)


def type_name(name: str) -> Callable[[QDialog], None]:
    """A user typing ``name`` into an input dialog and pressing OK."""

    def fill(dialog: QDialog) -> None:
        assert isinstance(dialog, QInputDialog)
        dialog.setTextValue(name)
        dialog.accept()

    return fill


@pytest.fixture
def qloop(qapp: QApplication) -> Iterator[asyncio.AbstractEventLoop]:
    """A qasync loop registered as running, so qtbot.wait*/waitUntil also drive asyncio tasks."""
    loop = qasync.QEventLoop(qapp, already_running=True)
    asyncio.set_event_loop(loop)
    gc_timer = collect_on_main_thread()  # as the app does: never a collection on a worker thread
    yield loop
    gc_timer.timer.stop()  # type: ignore[attr-defined]
    gc.collect()  # this test's leftovers go now, on this thread
    gc.enable()
    tasks = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for t in tasks:
        t.cancel()
    deadline = time.monotonic() + 3
    while any(not t.done() for t in tasks) and time.monotonic() < deadline:
        qapp.processEvents()
    asyncio.events._set_running_loop(None)
    loop._QEventLoop__is_running = False  # type: ignore[attr-defined]  # so close() is allowed
    loop.close()
    asyncio.set_event_loop(None)


def window_factory(
    qtbot: Any, qloop: Any, config: Any, *, seed: int, rate: int = 300, size: tuple[int, int] = (1600, 1000)
) -> Any:
    """A ``make()`` of real windows on one config folder (a restart is a second window), each on its own
    simulator and waited for until data shows; a generator: the caller's fixture yields what it yields and
    every window made is shut down after."""
    from app.sim.server import SimOptions
    from app.ui.window import MainWindow
    from app.user import settings as settings_mod
    from app.user.secret_store import SecretStore

    made: list[Any] = []

    def make() -> Any:
        win = MainWindow(
            settings_mod.load(config),
            SecretStore(),
            config_dir=config,
            sim_options=SimOptions(seed=seed, rate=rate),
        )
        qtbot.addWidget(win)
        win.resize(*size)
        win.show()
        win.start()
        made.append(win)
        pump_until(lambda: win.catalog_ready.is_set() and win.has_market_data(), timeout=20)
        return win

    yield make
    for win in made:
        run_on(qloop, win.shutdown())

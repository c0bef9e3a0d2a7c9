"""``market-monitor`` with no sub-command: the window on the qasync loop, and the ``--smoke`` check."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.ui.platform_check import explain_missing_display

if TYPE_CHECKING:
    from PySide6.QtGui import QIcon

PANE_GRACE_S = 8.0  # how long past --smoke S a second pane opened late may take to show its data


def run(args: argparse.Namespace) -> int:
    problem = explain_missing_display(smoke=args.smoke is not None)
    if problem:
        print(f"market-monitor: error: {problem}", file=sys.stderr)
        return 1
    from app.ui import theme

    try:
        theme.themes()  # a broken install says which file, before any window exists
    except theme.ThemeError as exc:
        print(f"market-monitor: error: {exc}", file=sys.stderr)
        return 1
    if args.smoke is not None:
        os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")  # a smoke run needs no display
    import qasync
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QApplication)
    app.setApplicationName("Market Monitor")
    app.setOrganizationName("Market Monitor")
    app.setDesktopFileName("market-monitor")
    app.setWindowIcon(_app_icon(QIcon))
    app.setQuitOnLastWindowClosed(False)  # the asyncio side decides when to stop, after a clean shutdown
    with asyncio.Runner(loop_factory=qasync.QEventLoop) as runner:
        return runner.run(_amain(app, args))


def _app_icon(icon_type: type[QIcon]) -> QIcon:
    """Every bundled size, so the desktop picks a sharp one for the title bar, the task bar and Alt+Tab."""
    from app.resources import resource_path

    icon = icon_type()
    for png in sorted(resource_path("icons").glob("market-monitor-*.png")):
        icon.addFile(str(png))
    return icon


async def _amain(app: object, args: argparse.Namespace) -> int:
    from app.sim.server import SimOptions
    from app.ui.window import MainWindow
    from app.user import settings as settings_mod
    from app.user.secret_store import SecretStore

    config_dir = Path(args.config_dir) if args.config_dir else settings_mod.config_dir()
    settings = settings_mod.load(config_dir)
    if args.smoke is not None and not args.replay:
        settings.active_profile = settings_mod.SIM_PROFILE  # a smoke run is on the simulator or a recording
    elif args.profile:
        try:
            settings.profile(args.profile)
        except KeyError:
            names = ", ".join(p.name for p in settings.profiles)
            print(f"market-monitor: error: no profile {args.profile!r} (saved: {names})", file=sys.stderr)
            return 2
        settings.active_profile = args.profile
    win = MainWindow(
        settings, SecretStore(), config_dir=config_dir, sim_options=SimOptions(seed=args.seed, rate=args.rate)
    )
    closed = asyncio.Event()
    win.closed.connect(closed.set)
    win.show()
    if args.replay:
        # The recording instead of a live session (no engine is started); it plays as it would from
        # File → Open recording…, and a file that cannot be replayed ends the run with its reason.
        win.spawn(win.alerts.start(), "choosing how alerts notify")
        replay_path = Path(args.replay)
        if not replay_path.is_file():
            print(f"market-monitor: error: no such recording: {args.replay}", file=sys.stderr)
            await win.shutdown()
            return 1
        if not await win.replay.open(replay_path):
            print(f"market-monitor: error: {win.statusBar().currentMessage()}", file=sys.stderr)
            await win.shutdown()
            return 1
    else:
        win.start()
    gc_timer = collect_on_main_thread()  # noqa: F841 (kept alive for the window's lifetime)
    try:
        if args.smoke is not None:
            return await smoke(win, args.smoke, args.screenshot)
        await closed.wait()
        return 0
    finally:
        await win.shutdown()


def collect_on_main_thread() -> object:
    """Tune the collector (see ``tune_gc``), then run it only from the Qt thread, on a timer. Left automatic,
    a collection can start on a worker thread (keyring calls, qasync's executor) and destroy Qt objects
    there, whose timers later fire on freed memory: a segfault. Keep the returned object alive."""
    from pyqtgraph.util.garbage_collector import GarbageCollector

    from app.stream.engine import tune_gc

    tune_gc()
    return GarbageCollector(interval=0.25)  # reads the tuned thresholds, then gc.disable()


async def smoke(win: object, seconds: float, screenshot: str | None) -> int:
    """Run, save a picture, and pass only if market data reached the watchlist, the depth ladder, a
    second market pane opened on another market, and the strike board of a Kalshi BTC or ETH event
    (when one is listed: always on the simulator)."""
    from app.ui.window import MainWindow

    assert isinstance(win, MainWindow)
    started = time.monotonic()
    first_data: float | None = None
    pane: Any = None
    board: Any = None
    board_wanted = True

    def waiting() -> bool:
        return (pane is not None and not pane.has_data()) or (board is not None and not board.has_data())

    while time.monotonic() - started < seconds or waiting():
        await asyncio.sleep(0.05)
        if pane is None and first_data is not None:
            pane = open_second_pane(win)
        if board_wanted and first_data is not None and win.catalog_ready.is_set():
            board_wanted = False
            board = open_a_strike_board(win)
        if time.monotonic() - started > seconds + PANE_GRACE_S:
            break  # the pane never got data: the check below fails
        if first_data is None and win.has_market_data():
            first_data = time.monotonic() - started
            # At once, so a caller timing the whole start (bundle unpacking included) can read it live.
            age = process_age()
            since = "" if age is None else f", {age:.2f} s after the process started"
            print(f"smoke: first data {first_data:.2f} s after the window opened{since}", flush=True)
    ok = win.has_market_data()
    if pane is not None:
        ok = ok and pane.has_data()
        print(
            f"smoke: second pane {pane.ref.text()}: ladder levels {pane.ladder.level_count()}, "
            f"trades {pane.tape_model.row_count()}"
        )
    elif first_data is not None and len(win.watch_model.rows) > 1:
        ok = False  # there was another market to open
    if board is not None:
        ok = ok and board.has_data()
        print(f"smoke: strike board {board.event_ticker or '(not loaded)'}: {board.summary()}")
    if screenshot:
        Path(screenshot).parent.mkdir(parents=True, exist_ok=True)
        if not win.grab().save(screenshot):
            print(f"market-monitor: error: could not write {screenshot}", file=sys.stderr)
            return 1
    rows, levels = win.data_counts()
    when = "never" if first_data is None else f"{first_data:.2f} s after start"
    print(f"smoke: watchlist rows with quotes {rows}, ladder levels {levels}, first data {when}")
    return 0 if ok else 1


def open_second_pane(win: Any) -> Any:
    """A market pane on another market than the selected one (the other venue's when there is one)."""
    refs = [r for r in win.settings.watchlist().markets if r != win.selected]
    if not refs:
        return None
    other = [r for r in refs if win.selected is None or r.venue is not win.selected.venue]
    return win.panes.open_pane((other or refs)[0])


def open_a_strike_board(win: Any) -> Any:
    """The strike board of a Kalshi crypto event: the watchlist's first, else the catalog's; None when
    neither lists one (a recording of other markets)."""
    from app.core.instruments import Venue
    from app.core.strikes import underlying_of
    from app.user.settings import MarketRef

    listed = [r.market for r in win.settings.watchlist().markets if r.venue is Venue.KALSHI]
    listed += [m.market for m in win.catalog.get(Venue.KALSHI, [])]
    market = next((m for m in listed if underlying_of(m) is not None), None)
    if market is None:
        return None
    win.open_strike_board(MarketRef(Venue.KALSHI, market))
    return win.strike_board


def process_age() -> float | None:
    """Seconds since this process started (Linux /proc), or None where that cannot be read."""
    try:
        with open("/proc/self/stat", encoding="ascii") as stat, open("/proc/uptime", encoding="ascii") as up:
            started_ticks = int(stat.read().rsplit(")", 1)[1].split()[19])
            uptime = float(up.read().split()[0])
        return max(0.0, uptime - started_ticks / os.sysconf("SC_CLK_TCK"))
    except (OSError, ValueError, IndexError):
        return None

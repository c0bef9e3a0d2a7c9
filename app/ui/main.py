"""``market-monitor`` with no sub-command: the window on the qasync loop, and the ``--smoke`` check."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

from app.ui.platform_check import explain_missing_display


def run(args: argparse.Namespace) -> int:
    problem = explain_missing_display(smoke=args.smoke is not None)
    if problem:
        print(f"market-monitor: error: {problem}", file=sys.stderr)
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
    icon = _icon_path()
    if icon is not None:
        app.setWindowIcon(QIcon(str(icon)))
    app.setQuitOnLastWindowClosed(False)  # the asyncio side decides when to stop, after a clean shutdown
    with asyncio.Runner(loop_factory=qasync.QEventLoop) as runner:
        return runner.run(_amain(app, args))


def _icon_path() -> Path | None:
    here = Path(getattr(sys, "_MEIPASS", Path(__file__).resolve().parents[2]))
    for candidate in (
        here / "resources" / "icons" / "market-monitor-256.png",
        here / "resources" / "icon.png",
    ):
        if candidate.exists():
            return candidate
    return None


async def _amain(app: object, args: argparse.Namespace) -> int:
    from app import settings as settings_mod
    from app.secrets import SecretStore
    from app.sim.server import SimOptions
    from app.ui.window import MainWindow

    config_dir = Path(args.config_dir) if args.config_dir else settings_mod.config_dir()
    settings = settings_mod.load(config_dir)
    if args.smoke is not None:
        settings.active_profile = settings_mod.SIM_PROFILE  # a smoke run is always on the simulator
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
    win.start()
    from app.stream.engine import tune_gc

    tune_gc()
    try:
        if args.smoke is not None:
            return await smoke(win, args.smoke, args.screenshot)
        await closed.wait()
        return 0
    finally:
        await win.shutdown()


async def smoke(win: object, seconds: float, screenshot: str | None) -> int:
    """Run, save a picture, and pass only if market data reached the watchlist and the depth ladder."""
    from app.ui.window import MainWindow

    assert isinstance(win, MainWindow)
    started = time.monotonic()
    first_data: float | None = None
    while time.monotonic() - started < seconds:
        await asyncio.sleep(0.05)
        if first_data is None and win.has_market_data():
            first_data = time.monotonic() - started
    ok = win.has_market_data()
    if screenshot:
        Path(screenshot).parent.mkdir(parents=True, exist_ok=True)
        if not win.grab().save(screenshot):
            print(f"market-monitor: error: could not write {screenshot}", file=sys.stderr)
            return 1
    rows, levels = win.data_counts()
    when = "never" if first_data is None else f"{first_data:.2f} s after start"
    print(f"smoke: watchlist rows with quotes {rows}, ladder levels {levels}, first data {when}")
    return 0 if ok else 1

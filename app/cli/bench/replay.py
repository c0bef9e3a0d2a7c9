"""A recording in the real window: ``market-monitor bench --replay [FILE]``.

Prints what issue 16's targets name: how long a recording takes to open (the first time, when its
checkpoints are built in one pass, and again, when they are loaded), the frames per second the window
takes at "max", and the event loop's lag meanwhile (a 5 ms sleeper's overshoot, p50 and p99). Without a
FILE it records one from the simulator first. The one-hour figures (about 7 million frames at 2,000
msg/s) are extrapolated from the measured per-frame rates, and printed as such.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from app.cli.bench.gui import _percentiles
from app.resources import self_command

HOUR_FRAMES = 7_200_000  # one hour at 2,000 msg/s


def _record(path: Path, seconds: float, rate: int) -> None:
    command = [*self_command(), "stream", "--sim", "--duration", str(seconds), "--json", "--rate", str(rate)]
    subprocess.run([*command, "--record", str(path)], check=True, capture_output=True, timeout=seconds + 120)


def run(file: str | None, seconds: float = 20.0, rate: int = 3000, echo: bool = True) -> dict[str, Any]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import qasync
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(sys.argv[:1])
    with tempfile.TemporaryDirectory() as scratch:
        folder = Path(scratch)
        if file is None:
            path = folder / "bench.jsonl.gz"
            _record(path, seconds, rate)
        else:
            path = Path(file)
        with asyncio.Runner(loop_factory=qasync.QEventLoop) as runner:
            figures = runner.run(_measure(app, path, folder))
    made = f"recorded from the simulator: {seconds:g} s at {rate} msg/s"
    figures["recording"] = str(path) if file else made
    if echo:
        print(f"replay in the window, offscreen: {figures['frames']:,} frames ({figures['recording']})")
        print(
            f"  open: first {figures['first_open_s']} s (checkpoints built, {figures['index_frames_per_s']:,}"
            f" frames/s), again {figures['open_again_s']} s (checkpoints loaded)"
        )
        print(
            f"  at max: {figures['max_frames_per_s']:,} frames/s through the window, loop lag p50"
            f" {figures['loop_lag_p50_ms']} ms p99 {figures['loop_lag_p99_ms']} ms"
        )
        print(
            f"  one hour ({HOUR_FRAMES:,} frames), extrapolated: first open {figures['hour_first_open_s']} s,"
            f" played at max in {figures['hour_at_max_s']} s"
        )
    return figures


async def _measure(app: Any, path: Path, folder: Path) -> dict[str, Any]:
    from app.stream.replay_player import index_path
    from app.ui.window import MainWindow
    from app.user.secret_store import SecretStore
    from app.user.settings import Settings

    index_path(path).unlink(missing_ok=True)
    win = MainWindow(Settings(first_run=False), SecretStore(), config_dir=folder)
    win.resize(1600, 1000)
    win.show()
    try:
        t0 = time.perf_counter()
        if not await win.replay.open(path, play=False):
            raise RuntimeError(f"{path} could not be opened")
        first_open = time.perf_counter() - t0
        index = win.replay.index
        assert index is not None
        frames = index.frames
        await win.replay.close()
        t0 = time.perf_counter()
        assert await win.replay.open(path, play=False)
        again = time.perf_counter() - t0
        player = win.replay.player
        assert player is not None
        win.replay.set_speed(None)
        loop = asyncio.get_running_loop()
        samples: list[float] = []
        applied0, wall0 = player.frames_applied, time.perf_counter()
        player.play()
        while not player.at_end:
            start = loop.time()
            await asyncio.sleep(0.005)
            samples.append(max(0.0, loop.time() - start - 0.005))
        wall = time.perf_counter() - wall0
        applied = player.frames_applied - applied0
    finally:
        await win.shutdown()
        win.close()
    samples.sort()
    lag = _percentiles(samples)
    per_s = applied / wall if wall else 0.0
    index_rate = frames / first_open if first_open else 0.0
    return {
        "frames": frames,
        "first_open_s": round(first_open, 2),
        "open_again_s": round(again, 2),
        "index_frames_per_s": round(index_rate),
        "max_frames_per_s": round(per_s),
        "loop_lag_p50_ms": lag["p50"],
        "loop_lag_p99_ms": lag["p99"],
        "hour_first_open_s": round(HOUR_FRAMES / index_rate, 0) if index_rate else None,
        "hour_at_max_s": round(HOUR_FRAMES / per_s, 0) if per_s else None,
    }

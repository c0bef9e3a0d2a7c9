"""``market-monitor --smoke`` as CI runs it: a real process, the window on the simulator, a picture."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from PySide6.QtGui import QImage

from tests.command import COMMAND

SCRIPT = COMMAND


def test_smoke_run_shows_data_and_saves_a_real_picture(tmp_path: Path) -> None:
    png = tmp_path / "shot.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    result = subprocess.run(
        [SCRIPT, "--smoke", "6", "--screenshot", str(png), "--config-dir", str(tmp_path / "cfg")],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ladder levels" in result.stdout and "first data" in result.stdout
    # A second pane on another market got data too (the smoke opens it once the first data is in).
    assert "smoke: second pane kraken:" in result.stdout, result.stdout
    # ... and the strike board of a Kalshi BTC event, its strikes quoted beside the Kraken mid.
    board = next(line for line in result.stdout.splitlines() if line.startswith("smoke: strike board"))
    assert "strike board KXBTC" in board and "Kraken BTC/USD mid" in board, board
    quoted, of = (int(n) for n in board.split(": ", 2)[2].split(" strikes")[0].split(" of "))
    assert 0 < quoted <= of, board
    image = QImage(str(png))
    assert image.width() >= 1000 and image.height() >= 600
    # Not blank: a window full of tables, numbers and plots has hundreds of distinct colours.
    colours = {image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)}
    assert len(colours) > 100
    # The first run saved its settings (the seeded watchlist) for the next start.
    assert (tmp_path / "cfg" / "settings.json").exists()


def test_window_without_a_display_says_what_to_do(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    result = subprocess.run(
        [SCRIPT, "--config-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
        env=env,
    )
    assert result.returncode == 1
    assert "no display found" in result.stderr and "QT_QPA_PLATFORM=offscreen" in result.stderr


def test_screenshot_without_smoke_is_a_usage_error() -> None:
    result = subprocess.run([SCRIPT, "--screenshot", "x.png"], capture_output=True, text=True, check=False)
    assert result.returncode == 2 and "--screenshot needs --smoke" in result.stderr

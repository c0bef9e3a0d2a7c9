"""The PyInstaller binary itself (one-folder or one-file), run by scripts/build.sh with
MARKET_MONITOR_COMMAND pointing at it. The CLI test modules in tests/ run against it too; these are the
checks that only mean something for a build: metadata, bundled resources, keyring backends, start time."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import time
from importlib.metadata import version
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

BINARY = os.environ.get("MARKET_MONITOR_COMMAND", "")
FIGURES = os.environ.get("MARKET_MONITOR_FIGURES")

if not BINARY:  # never a silent pass: these tests exist only to check a build
    pytest.fail("set MARKET_MONITOR_COMMAND to the built binary (scripts/build.sh does)", pytrace=False)


def _figure(text: str) -> None:
    """A measured figure for build.sh to print (timing is reported, never asserted: machines are noisy)."""
    if FIGURES:
        with open(FIGURES, "a", encoding="utf-8") as out:
            out.write(text + "\n")


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([BINARY, *args], capture_output=True, text=True, check=False, timeout=120, env=env)


def test_version_is_the_package_metadata_version() -> None:
    result = _run("--version")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"market-monitor {version('market-monitor')}"


def test_about_names_the_bundle_its_resources_and_the_real_keyring() -> None:
    result = _run("about", "--json")
    assert result.returncode == 0, result.stderr
    facts = json.loads(result.stdout)
    assert facts["build"] == "PyInstaller bundle"
    assert facts["version"] == version("market-monitor")
    # Every library's version comes from metadata bundled with it: none may read "not installed".
    assert "not installed" not in json.dumps(facts)
    assert "(missing)" not in facts["resources"] and facts["themes"] == "dark, light"
    assert facts["icon sizes"] == "16, 22, 24, 32, 48, 64, 128, 256, 512"
    assert facts["qt"].startswith("6.")
    if os.environ.get("MARKET_MONITOR_TEST_KEYRING"):  # build.sh runs this under scripts/with-keyring.sh
        # keyring finds its backends through entry points in its metadata: without it, only "fail".
        assert facts["keyring backend"] == "keyring.backends.SecretService.Keyring", facts["keyring backend"]


def test_smoke_shows_data_soon_after_start_and_saves_a_picture(tmp_path: Path) -> None:
    """CI's check of the binary: ``--smoke 5 --screenshot`` offscreen; no data means a failed build."""
    shot = Path(FIGURES).with_suffix(".png") if FIGURES else tmp_path / "smoke.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    command = [BINARY, "--smoke", "6", "--screenshot", str(shot), "--config-dir", str(tmp_path / "cfg")]
    started = time.monotonic()
    proc = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    assert proc.stdout is not None
    first_data = None
    lines = []
    for line in proc.stdout:
        lines.append(line)
        if first_data is None and line.startswith("smoke: first data"):
            first_data = time.monotonic() - started
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 0, "".join(lines) + err
    assert first_data is not None, "".join(lines)
    _figure(f"start to first market data on screen: {first_data:.2f} s (from exec, {BINARY})")
    image = QImage(str(shot))
    assert image.width() >= 1000 and image.height() >= 600
    colours = {image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)}
    assert len(colours) > 100  # tables, numbers and plots, in real glyphs: not a blank or boxed-out window


def test_gui_bench_starts_its_simulator_from_the_binary() -> None:
    """``bench --gui`` starts the simulator as a child process: in a frozen app that is the binary itself."""
    result = _run(
        "bench",
        "--gui",
        "--seconds",
        "2",
        "--markets",
        "20",
        "--target",
        "2000",
        "--json",
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    figures = json.loads(result.stdout.strip().splitlines()[-1])
    assert figures["messages_per_s"] > 0 and figures["watchlist_paints_per_s"] > 0, figures


def test_window_on_a_real_x_server(tmp_path: Path) -> None:
    """The xcb platform plugin and its GL integration from the bundle, under Xvfb (what a desktop uses)."""
    xvfb_run = shutil.which("xvfb-run")
    if xvfb_run is None:
        pytest.skip("xvfb-run not installed (scripts/setup.sh installs xvfb)")
    env = {**os.environ, "QT_QPA_PLATFORM": "xcb"}  # --smoke alone would choose offscreen
    command = [xvfb_run, "-a", "-s", "-screen 0 1600x1000x24", BINARY, "--smoke", "6"]
    result = subprocess.run(
        [*command, "--config-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "first data" in result.stdout and "xcb" not in result.stderr  # no plugin warnings either

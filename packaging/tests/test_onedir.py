"""The one-folder bundle's contents and its desktop installer, run by scripts/build.sh (one-folder only)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

BINARY = os.environ.get("MARKET_MONITOR_COMMAND", "")
if not BINARY:
    pytest.fail("set MARKET_MONITOR_COMMAND to the built binary (scripts/build.sh does)", pytrace=False)
BUNDLE = Path(BINARY).parent
INTERNAL = BUNDLE / "_internal"
QT = INTERNAL / "PySide6" / "Qt"


def _names(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()} if folder.is_dir() else set()


def test_bundle_holds_what_the_app_needs() -> None:
    assert {"dark.json", "light.json"} <= _names(INTERNAL / "resources" / "themes")
    assert {f"market-monitor-{n}.png" for n in (16, 32, 48, 64, 128, 256)} <= _names(
        INTERNAL / "resources" / "icons"
    )
    assert (INTERNAL / "resources" / "market-monitor.desktop").is_file()
    # Platforms: a desktop (xcb, wayland) and headless runs (offscreen); xcb's GL integration.
    assert {"libqxcb.so", "libqoffscreen.so", "libqwayland.so"} <= _names(QT / "plugins" / "platforms")
    assert _names(QT / "plugins" / "xcbglintegrations")
    assert _names(QT / "plugins" / "platforminputcontexts")  # compose keys / IBus input in the filter box
    # keyring's backends are found through the entry points in its metadata.
    assert any(n.startswith("keyring-") and n.endswith(".dist-info") for n in _names(INTERNAL))
    assert any(n.startswith("market_monitor-") and n.endswith(".dist-info") for n in _names(INTERNAL))
    # pyqtgraph imports QtOpenGL unconditionally (platform notes §7).
    assert (INTERNAL / "PySide6" / "QtOpenGL.abi3.so").is_file()
    assert (BUNDLE / "install.sh").is_file() and os.access(BUNDLE / "install.sh", os.X_OK)


def test_bundle_leaves_out_what_it_does_not_use() -> None:
    files = [p.relative_to(INTERNAL).as_posix() for p in INTERNAL.rglob("*")]
    assert not [f for f in files if "libgtk-3" in f or "libqgtk3" in f], "gtk from the build host"
    assert not (QT / "translations").exists()
    assert not [f for f in files if f.startswith(("PySide6/QtNetwork", "PySide6/QtTest", "PySide6/QtQml"))]
    assert not [f for f in files if f.startswith("keyrings/")], "keyrings.alt would store secrets in a file"
    assert not [f for f in files if f.startswith(("pytest", "_pytest", "hypothesis", "mypy"))]


def test_install_script_registers_the_real_bundle(tmp_path: Path) -> None:
    env = {**os.environ, "HOME": str(tmp_path / "home"), "XDG_DATA_HOME": str(tmp_path / "data")}
    bin_dir = tmp_path / "bin"
    result = subprocess.run(
        [str(BUNDLE / "install.sh"), "--bin-dir", str(bin_dir)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    entry = tmp_path / "data" / "applications" / "market-monitor.desktop"
    text = entry.read_text()
    assert f"Exec={BUNDLE.resolve() / 'market-monitor'}" in text
    for size in (16, 48, 256):
        assert (
            tmp_path / "data" / "icons" / "hicolor" / f"{size}x{size}" / "apps" / "market-monitor.png"
        ).is_file()
    validator = shutil.which("desktop-file-validate")
    if validator:
        check = subprocess.run([validator, str(entry)], capture_output=True, text=True, check=False)
        assert check.returncode == 0 and not check.stdout.strip(), check.stdout
    linked = subprocess.run(
        [str(bin_dir / "market-monitor"), "--version"], capture_output=True, text=True, check=False
    )
    assert linked.returncode == 0 and linked.stdout.startswith("market-monitor ")
    removed = subprocess.run(
        [str(BUNDLE / "install.sh"), "--uninstall", "--bin-dir", str(bin_dir)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert removed.returncode == 0, removed.stderr
    assert not entry.exists() and not (bin_dir / "market-monitor").exists()

"""Where the app's data files are: ``resources/`` beside the package in a source tree, or inside the
PyInstaller bundle (``sys._MEIPASS``) when frozen. One place, so nothing else guesses at paths."""

from __future__ import annotations

import sys
from pathlib import Path


def resource_dir() -> Path:
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle is not None:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parents[1] / "resources"


def resource_path(*parts: str) -> Path:
    return resource_dir().joinpath(*parts)


def frozen() -> bool:
    """True inside the PyInstaller binary."""
    return bool(getattr(sys, "frozen", False))


def self_command() -> list[str]:
    """How to start this program again in a child process: the frozen binary itself (its
    ``sys.executable``), or the package run by this interpreter."""
    if frozen():
        return [sys.executable]
    return [sys.executable, "-m", "app.cli"]

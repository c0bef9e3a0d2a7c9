"""The ``market-monitor`` command the CLI tests run: the installed console script, or, with
MARKET_MONITOR_COMMAND set (scripts/build.sh does), the PyInstaller binary, so the same tests show the
binary behaves like the source app."""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

COMMAND = (
    os.environ.get("MARKET_MONITOR_COMMAND")
    or shutil.which("market-monitor", path=str(Path(sys.executable).parent))
    or str(Path(sys.executable).with_name("market-monitor"))
)

"""Before Qt starts: name what is missing (a display, a system library) instead of Qt's bare
"could not load the Qt platform plugin" abort. Linux only; elsewhere Qt brings what it needs."""

from __future__ import annotations

import ctypes
import os
import sys

# The libraries Qt's xcb platform plugin loads that a bare desktop may lack, with their Debian/Ubuntu
# packages (platform notes §2: Qt's own message names the wrong one).
XCB_LIBRARIES = {
    "libxcb-cursor.so.0": "libxcb-cursor0",
    "libxcb-icccm.so.4": "libxcb-icccm4",
    "libxcb-keysyms.so.1": "libxcb-keysyms1",
    "libxcb-shape.so.0": "libxcb-shape0",
    "libxkbcommon-x11.so.0": "libxkbcommon-x11-0",
}
# Needed by every platform, offscreen included (PyInstaller leaves libGL/libEGL to the system).
BASE_LIBRARIES = {
    "libGL.so.1": "libgl1",
    "libEGL.so.1": "libegl1",
    "libfontconfig.so.1": "libfontconfig1",
    "libxkbcommon.so.0": "libxkbcommon0",
}


def missing_libraries(names: dict[str, str]) -> list[str]:
    """The packages whose library cannot be loaded."""
    missing = []
    for library, package in names.items():
        try:
            ctypes.CDLL(library)
        except OSError:
            missing.append(package)
    return missing


def explain_missing_display(*, smoke: bool = False) -> str | None:
    if not sys.platform.startswith("linux"):
        return None
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    headless = smoke or platform.startswith(("offscreen", "minimal", "vnc"))
    wanted = dict(BASE_LIBRARIES)
    if not headless:
        if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY")):
            return (
                "no display found (neither DISPLAY nor WAYLAND_DISPLAY is set). Start it from a desktop "
                "session, or use QT_QPA_PLATFORM=offscreen for a headless run."
            )
        if not platform.startswith("wayland") and os.environ.get("DISPLAY"):
            wanted.update(XCB_LIBRARIES)
    missing = missing_libraries(wanted)
    if missing:
        return (
            "system libraries the window needs are missing. Install them with:\n"
            f"  sudo apt-get install {' '.join(missing)}\n"
            "(Debian/Ubuntu package names; other distributions ship the same libraries under similar names)"
        )
    return None

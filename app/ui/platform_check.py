"""Before Qt starts: name what is missing (a display, a system library, fonts) instead of Qt's bare
"could not load the Qt platform plugin" abort or a window of empty boxes. Linux only; elsewhere Qt brings
what it needs. In the PyInstaller bundle the loader's path starts with the bundle, so a library the bundle
carries (the xcb ones, fontconfig) is found there and only what it leaves to the system is reported: on a
bare Debian that is libGL/libEGL and fontconfig's configuration and fonts (platform notes §7)."""

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


# Fontconfig's configuration (/etc/fonts) and at least one font: without them Qt draws every glyph as a box.
FONT_PACKAGES = ("fontconfig-config", "fonts-dejavu-core")


class _FcFontSet(ctypes.Structure):
    _fields_ = (("nfont", ctypes.c_int), ("sfont", ctypes.c_int), ("fonts", ctypes.c_void_p))


def font_count() -> int | None:
    """How many fonts fontconfig finds, asked the way Qt asks; None if fontconfig itself is missing."""
    try:
        fc = ctypes.CDLL("libfontconfig.so.1")
    except OSError:
        return None
    fc.FcInitLoadConfigAndFonts.restype = ctypes.c_void_p
    fc.FcConfigGetFonts.restype = ctypes.POINTER(_FcFontSet)
    fc.FcConfigGetFonts.argtypes = (ctypes.c_void_p, ctypes.c_int)
    fc.FcConfigDestroy.argtypes = (ctypes.c_void_p,)
    config = fc.FcInitLoadConfigAndFonts()
    if not config:
        return 0
    try:
        fonts = fc.FcConfigGetFonts(config, 0)  # FcSetSystem
        return fonts.contents.nfont if fonts else 0
    finally:
        fc.FcConfigDestroy(config)


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
    if "libfontconfig1" not in missing and font_count() == 0:
        missing += FONT_PACKAGES
    if missing:
        return (
            "system libraries or fonts the window needs are missing. Install them with:\n"
            f"  sudo apt-get install {' '.join(missing)}\n"
            "(Debian/Ubuntu package names; other distributions ship the same libraries under similar names)"
        )
    return None

"""What the window says before Qt starts when the machine lacks something (packaging/tests/
test_bare_target.py shows the same on a real bare Debian with the binary)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from app.ui import platform_check


def test_this_machine_has_what_the_window_needs() -> None:
    assert platform_check.missing_libraries(platform_check.BASE_LIBRARIES) == []
    count = platform_check.font_count()
    assert count is not None and count > 0


def test_a_library_that_cannot_load_is_named_by_its_package() -> None:
    missing = platform_check.missing_libraries({"libnot-there.so.7": "libnot-there7", "libGL.so.1": "libgl1"})
    assert missing == ["libnot-there7"]


def test_no_fonts_names_the_font_packages(tmp_path: Path) -> None:
    # fontconfig reads its configuration once per process: a child with a configuration that has no fonts.
    empty = tmp_path / "fonts"
    empty.mkdir()
    conf = tmp_path / "fonts.conf"
    conf.write_text(f"<fontconfig><dir>{empty}</dir><cachedir>{tmp_path / 'cache'}</cachedir></fontconfig>")
    code = "from app.ui.platform_check import explain_missing_display as e; print(e(smoke=True))"
    env = {**os.environ, "FONTCONFIG_FILE": str(conf)}
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert "apt-get install fontconfig-config fonts-dejavu-core" in result.stdout


def test_no_display_says_how_to_run_headless() -> None:
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    code = "from app.ui.platform_check import explain_missing_display as e; print(e())"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert "no display found" in result.stdout and "QT_QPA_PLATFORM=offscreen" in result.stdout

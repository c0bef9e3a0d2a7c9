"""The packaged Linux app's desktop integration: the icons are real pictures of the right sizes, the menu
entry is a valid desktop file, and ``packaging/linux/install.sh`` registers an unpacked bundle (a fake one,
laid out like PyInstaller's one-folder output) with a user's desktop, in place, and takes it away again."""

from __future__ import annotations

import importlib.util
import os
import shlex
import shutil
import struct
import subprocess
import time
from pathlib import Path
from types import ModuleType

import pytest
from PySide6.QtGui import QImage, QImageReader
from PySide6.QtSvg import QSvgRenderer

ROOT = Path(__file__).resolve().parents[1]
RESOURCES = ROOT / "resources"
ICONS = RESOURCES / "icons"
DESKTOP = RESOURCES / "market-monitor.desktop"
INSTALL_SH = ROOT / "packaging" / "linux" / "install.sh"
PNG_SIZES = (16, 22, 24, 32, 48, 64, 128, 256, 512)
VERSION_LINE = "market-monitor 0.1.0 (fake bundle)"
# Files the desktop tools write for themselves; not part of what install.sh puts in place.
CACHES = {"icon-theme.cache", "mimeinfo.cache"}

VALIDATOR = shutil.which("desktop-file-validate")
needs_validator = pytest.mark.skipif(VALIDATOR is None, reason="desktop-file-validate not installed")


def _desktop_entry(path: Path) -> dict[str, str]:
    """The [Desktop Entry] group's keys and raw values."""
    entry: dict[str, str] = {}
    group = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("["):
            group = line.strip("[]")
        elif group == "Desktop Entry" and "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            entry[key.strip()] = value.strip()
    return entry


def _validate(path: Path) -> None:
    assert VALIDATOR is not None
    result = subprocess.run([VALIDATOR, str(path)], capture_output=True, text=True, check=False, timeout=30)
    # Errors, warnings and hints all print: a clean file prints nothing.
    assert result.returncode == 0 and not (result.stdout + result.stderr).strip(), (
        result.stdout + result.stderr
    )


def _distance(a: QImage, b: QImage, x: int, y: int) -> int:
    """The largest difference in one channel (red, green, blue or alpha) between two pixels."""
    ca, cb = a.pixelColor(x, y), b.pixelColor(x, y)
    return max(
        abs(ca.red() - cb.red()),
        abs(ca.green() - cb.green()),
        abs(ca.blue() - cb.blue()),
        abs(ca.alpha() - cb.alpha()),
    )


def _make_icons() -> ModuleType:
    spec = importlib.util.spec_from_file_location("make_icons", ROOT / "packaging" / "make_icons.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


# -- icons ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("size", PNG_SIZES)
def test_png_has_its_size_transparency_and_a_picture(size: int) -> None:
    image = QImage(str(ICONS / f"market-monitor-{size}.png"))
    assert not image.isNull()
    assert (image.width(), image.height()) == (size, size)
    assert image.hasAlphaChannel()
    # A tile on a transparent background: the corner is see-through, the middle is opaque.
    assert image.pixelColor(0, 0).alpha() == 0
    assert image.pixelColor(size // 2, size // 2).alpha() == 255
    # Not blank: the tile, green and red candles and the amber line are all there.
    colours = {image.pixel(x, y) for x in range(size) for y in range(size)}
    assert len(colours) >= 8


def test_pngs_are_the_current_svg_rendered() -> None:
    """Someone who edits the SVG must run packaging/make_icons.py: the checked-in PNGs match a fresh render
    (allowing for small rasteriser differences between Qt versions)."""
    make_icons = _make_icons()
    renderer = QSvgRenderer(str(ICONS / "market-monitor.svg"))
    for size in (16, 64, 256):
        fresh: QImage = make_icons.render(renderer, size)
        stored = QImage(str(ICONS / f"market-monitor-{size}.png")).convertToFormat(fresh.format())
        differing = sum(_distance(fresh, stored, x, y) > 24 for x in range(size) for y in range(size))
        assert differing <= size * size // 100, f"{size} px differs from the SVG: run packaging/make_icons.py"


def test_svg_is_valid_and_square() -> None:
    renderer = QSvgRenderer(str(ICONS / "market-monitor.svg"))
    assert renderer.isValid()
    box = renderer.viewBoxF()
    assert box.width() == box.height() > 0


def test_ico_holds_several_sizes() -> None:
    data = (ICONS / "market-monitor.ico").read_bytes()
    reserved, kind, count = struct.unpack_from("<HHH", data)
    assert (reserved, kind) == (0, 1) and count >= 5
    sizes = set()
    for index in range(count):
        width, height, _, _, _, _, length, offset = struct.unpack_from("<BBBBHHII", data, 6 + 16 * index)
        assert width == height
        assert offset + length <= len(data)
        sizes.add(width or 256)
    assert {16, 32, 48, 256} <= sizes
    # And Qt's own ICO reader agrees: each entry decodes to a picture of its size.
    reader = QImageReader(str(ICONS / "market-monitor.ico"))
    decoded = set()
    for index in range(reader.imageCount()):
        assert reader.jumpToImage(index)
        image = reader.read()
        assert not image.isNull() and image.hasAlphaChannel()
        decoded.add(image.width())
    assert decoded == sizes


# -- the desktop file ------------------------------------------------------------------------------------


@needs_validator
def test_desktop_file_validates() -> None:
    _validate(DESKTOP)


def test_desktop_file_has_the_keys_a_launcher_needs() -> None:
    entry = _desktop_entry(DESKTOP)
    assert entry["Type"] == "Application"
    assert entry["Name"] == "Market Monitor"
    assert entry["GenericName"] and entry["Comment"]
    assert entry["Exec"] == entry["TryExec"] == "market-monitor"
    assert entry["Icon"] == "market-monitor"
    assert entry["Terminal"] == "false"
    assert entry["Categories"].split(";")[:2] == ["Office", "Finance"]
    assert "crypto" in entry["Keywords"].split(";")
    # The app calls setDesktopFileName("market-monitor"): the window and the entry match by that name.
    assert entry["StartupWMClass"] == "market-monitor"
    assert entry["StartupNotify"] == "true"


# -- install.sh ------------------------------------------------------------------------------------------


@pytest.fixture
def home(tmp_path: Path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    return home


@pytest.fixture
def env(home: Path) -> dict[str, str]:
    return {**os.environ, "HOME": str(home), "XDG_DATA_HOME": str(home / "data")}


def _bundle(where: Path) -> Path:
    """A one-folder bundle as PyInstaller lays it out: the binary and install.sh at the root, the data
    files under _internal/resources. The binary is a shell script that prints a version."""
    where.mkdir(parents=True)
    shutil.copytree(RESOURCES, where / "_internal" / "resources")
    shutil.copy2(INSTALL_SH, where / "install.sh")
    binary = where / "market-monitor"
    binary.write_text(
        f'#!/bin/sh\n[ -z "$FAKE_LAUNCH_MARK" ] || echo "$0" > "$FAKE_LAUNCH_MARK"\necho "{VERSION_LINE}"\n',
        encoding="utf-8",
    )
    binary.chmod(0o755)
    return where


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    return _bundle(tmp_path / "My Apps" / "Market Monitor")  # spaces, as in a real download folder


def _install(bundle: Path, env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(bundle / "install.sh"), *args], capture_output=True, text=True, check=False, timeout=60, env=env
    )


def _installed(home: Path) -> list[Path]:
    data = home / "data"
    icons = data / "icons" / "hicolor"
    return [
        *(icons / f"{s}x{s}" / "apps" / "market-monitor.png" for s in PNG_SIZES),
        icons / "scalable" / "apps" / "market-monitor.svg",
        data / "applications" / "market-monitor.desktop",
        home / ".local" / "bin" / "market-monitor",
    ]


def _tree(root: Path) -> dict[str, bytes]:
    """Every file and symlink under root (symlinks by target), the desktop tools' caches left out."""
    tree: dict[str, bytes] = {}
    for path in sorted(root.rglob("*")):
        if path.is_symlink():
            tree[str(path.relative_to(root))] = b"-> " + os.readlink(path).encode()
        elif path.is_file() and path.name not in CACHES:
            tree[str(path.relative_to(root))] = path.read_bytes()
    return tree


def test_install_registers_the_bundle_in_place(bundle: Path, home: Path, env: dict[str, str]) -> None:
    result = _install(bundle, env)
    assert result.returncode == 0, result.stderr
    binary = bundle / "market-monitor"
    *icons, svg, desktop, link = _installed(home)
    for size, icon in zip(PNG_SIZES, icons, strict=True):
        assert icon.read_bytes() == (ICONS / f"market-monitor-{size}.png").read_bytes()
    assert svg.read_bytes() == (ICONS / "market-monitor.svg").read_bytes()

    entry = _desktop_entry(desktop)
    assert entry["TryExec"] == str(binary)
    assert entry["Exec"] == f'"{binary}"'  # the path has spaces: quoted, per the desktop entry spec
    assert shlex.split(entry["Exec"]) == [str(binary)]
    assert {k: v for k, v in entry.items() if k not in ("Exec", "TryExec")} == {
        k: v for k, v in _desktop_entry(DESKTOP).items() if k not in ("Exec", "TryExec")
    }

    assert link.is_symlink() and link.resolve() == binary
    ran = subprocess.run([str(link)], capture_output=True, text=True, check=True, timeout=30)
    assert ran.stdout.strip() == VERSION_LINE

    # One line per item, naming where it went; and the bin dir is not on this PATH, so a hint.
    lines = result.stdout.splitlines()
    for path in _installed(home):
        assert sum(str(path) in line for line in lines) == 1, result.stdout
    assert f"hint: {home}/.local/bin is not on your PATH" in result.stdout
    assert not any(home.rglob(".market-monitor.desktop.*"))  # no temporary file left behind
    assert not (bundle / "_internal" / "resources" / "icons" / "icon-theme.cache").exists()


@needs_validator
def test_installed_desktop_file_validates(bundle: Path, home: Path, env: dict[str, str]) -> None:
    assert _install(bundle, env).returncode == 0
    _validate(home / "data" / "applications" / "market-monitor.desktop")


@pytest.mark.skipif(shutil.which("gio") is None, reason="gio (GLib's launcher) not installed")
def test_the_desktop_launches_the_bundle_from_the_entry(
    bundle: Path, home: Path, env: dict[str, str], tmp_path: Path
) -> None:
    """GLib reads the installed entry as GNOME's menus do (quoting, TryExec) and runs the bundle's binary."""
    assert _install(bundle, env).returncode == 0
    mark = tmp_path / "launched"
    gio = shutil.which("gio")
    assert gio is not None
    launch = subprocess.run(
        [gio, "launch", str(home / "data" / "applications" / "market-monitor.desktop")],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
        env={**env, "FAKE_LAUNCH_MARK": str(mark)},
    )
    assert launch.returncode == 0, launch.stderr
    deadline = time.monotonic() + 10
    while not (mark.exists() and mark.read_text(encoding="utf-8").strip()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert mark.read_text(encoding="utf-8").strip() == str(bundle / "market-monitor")


def test_second_install_changes_nothing(bundle: Path, home: Path, env: dict[str, str]) -> None:
    assert _install(bundle, env).returncode == 0
    before = _tree(home)
    again = _install(bundle, env)
    assert again.returncode == 0, again.stderr
    assert _tree(home) == before
    assert "already there" in again.stdout and not again.stderr


def test_script_reached_through_a_symlink_registers_its_real_bundle(
    bundle: Path, home: Path, env: dict[str, str]
) -> None:
    shortcut = home / "install-market-monitor"
    shortcut.symlink_to(bundle / "install.sh")
    result = subprocess.run(
        [str(shortcut)], capture_output=True, text=True, check=False, timeout=60, env=env, cwd=home
    )
    assert result.returncode == 0, result.stderr
    entry = _desktop_entry(home / "data" / "applications" / "market-monitor.desktop")
    assert entry["TryExec"] == str(bundle / "market-monitor")


@pytest.mark.parametrize("kind", ["symlink", "file"])
def test_a_command_that_is_not_ours_is_left_alone(
    bundle: Path, home: Path, env: dict[str, str], kind: str
) -> None:
    link = home / ".local" / "bin" / "market-monitor"
    link.parent.mkdir(parents=True)
    if kind == "symlink":
        link.symlink_to("/usr/bin/true")
    else:
        link.write_text("#!/bin/sh\necho mine\n", encoding="utf-8")
    result = _install(bundle, env)
    assert result.returncode == 0, result.stderr
    assert "warning:" in result.stderr and str(link) in result.stderr and "left alone" in result.stderr
    assert (home / "data" / "applications" / "market-monitor.desktop").exists()  # the rest went in
    uninstall = _install(bundle, env, "--uninstall")
    assert uninstall.returncode == 0, uninstall.stderr
    if kind == "symlink":
        assert os.readlink(link) == "/usr/bin/true"
    else:
        assert link.read_text(encoding="utf-8") == "#!/bin/sh\necho mine\n"


def test_uninstall_removes_everything_and_is_idempotent(
    bundle: Path, home: Path, env: dict[str, str]
) -> None:
    assert _install(bundle, env).returncode == 0
    result = _install(bundle, env, "--uninstall")
    assert result.returncode == 0, result.stderr
    for path in _installed(home):
        assert not path.exists() and not path.is_symlink(), path
        assert str(path) in result.stdout
    assert _tree(home) == {}  # nothing of ours is left (empty folders and the tools' caches aside)
    assert (bundle / "market-monitor").exists()  # the bundle itself is untouched
    again = _install(bundle, env, "--uninstall")
    assert again.returncode == 0, again.stderr
    assert "nothing to remove" in again.stdout


def test_uninstall_keeps_what_another_bundle_registered(
    bundle: Path, home: Path, env: dict[str, str], tmp_path: Path
) -> None:
    """Version 2 unpacked elsewhere and registered over version 1: removing version 1 leaves version 2's
    entry and icons (and version 1's own command link goes)."""
    assert _install(bundle, env).returncode == 0
    newer = _bundle(tmp_path / "newer")
    second = _install(newer, env, "--bin-dir", str(home / "bin2"))
    assert second.returncode == 0, second.stderr
    assert f"replaces the entry for {bundle / 'market-monitor'}" in second.stdout
    result = _install(bundle, env, "--uninstall")
    assert result.returncode == 0, result.stderr
    desktop = home / "data" / "applications" / "market-monitor.desktop"
    assert _desktop_entry(desktop)["TryExec"] == str(newer / "market-monitor")
    assert all(path.exists() for path in _installed(home)[:-2])
    assert not (home / ".local" / "bin" / "market-monitor").is_symlink()
    assert (home / "bin2" / "market-monitor").resolve() == newer / "market-monitor"


def test_bin_dir_option_and_no_hint_when_on_path(bundle: Path, home: Path, env: dict[str, str]) -> None:
    bin_dir = home / "tools"
    result = _install(bundle, {**env, "PATH": f"{bin_dir}:{env['PATH']}"}, "--bin-dir", str(bin_dir))
    assert result.returncode == 0, result.stderr
    assert (bin_dir / "market-monitor").resolve() == bundle / "market-monitor"
    assert not (home / ".local" / "bin").exists()
    assert "hint:" not in result.stdout
    assert _install(bundle, env, "--uninstall", f"--bin-dir={bin_dir}").returncode == 0
    assert not (bin_dir / "market-monitor").is_symlink()


@pytest.mark.parametrize("damage", ["no binary", "not executable", "no resources"])
def test_incomplete_bundle_is_a_clear_error(
    bundle: Path, home: Path, env: dict[str, str], damage: str
) -> None:
    if damage == "no binary":
        (bundle / "market-monitor").unlink()
    elif damage == "not executable":
        (bundle / "market-monitor").chmod(0o644)
    else:
        shutil.rmtree(bundle / "_internal")
    result = _install(bundle, env)
    assert result.returncode == 1
    assert len(result.stderr.splitlines()) == 1 and result.stderr.startswith("install.sh: error: ")
    assert ("no executable market-monitor" if damage != "no resources" else "incomplete") in result.stderr
    assert not (home / "data").exists() and not (home / ".local").exists()


@pytest.mark.parametrize("args", [["--frobnicate"], ["--bin-dir"], ["extra"]])
def test_bad_option_is_a_usage_error(bundle: Path, home: Path, env: dict[str, str], args: list[str]) -> None:
    result = _install(bundle, env, *args)
    assert result.returncode == 2
    assert "usage:" in result.stderr
    assert not (home / "data").exists()


@pytest.mark.parametrize("shell", ["direct", "sh"])
def test_help(bundle: Path, env: dict[str, str], shell: str) -> None:
    """--help, also when started as `sh install.sh` (the script moves itself over to bash)."""
    command = [str(bundle / "install.sh"), "--help"]
    if shell == "sh":
        command.insert(0, "sh")
    result = subprocess.run(command, capture_output=True, text=True, check=False, timeout=60, env=env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: install.sh") and "--uninstall" in result.stdout

"""The one-folder bundle on a bare Debian (debootstrap minbase, no X, no GL, no fonts), as a user with a
fresh desktop machine meets it: the binary names the packages to install instead of Qt's plugin error or
a window of empty boxes, and once they are installed it shows data. Needs root and debootstrap (setup.sh
installs it); run by scripts/build.sh for the one-folder bundle."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

BINARY = os.environ.get("MARKET_MONITOR_COMMAND", "")
if not BINARY:
    pytest.fail("set MARKET_MONITOR_COMMAND to the built binary (scripts/build.sh does)", pytrace=False)
BUNDLE = Path(BINARY).parent
ENV = ["/usr/bin/env", "-i", "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root", "LANG=C.UTF-8"]


def _mirror_and_suite() -> tuple[str, str]:
    """The host's own Debian mirror and release, so the chroot comes from the registry CI can reach."""
    mirror = "http://deb.debian.org/debian"
    sources = Path("/etc/apt/sources.list.d/debian.sources")
    if sources.exists():
        found = re.search(r"^URIs:\s*(\S+/debian)\s*$", sources.read_text(), re.M)
        mirror = found.group(1) if found else mirror
    release = dict(
        line.split("=", 1) for line in Path("/etc/os-release").read_text().splitlines() if "=" in line
    )
    return mirror, release.get("VERSION_CODENAME", "bookworm").strip('"')


@pytest.fixture(scope="module")
def bare_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if os.geteuid() != 0 or shutil.which("debootstrap") is None or shutil.which("chroot") is None:
        pytest.skip("needs root, debootstrap and chroot (scripts/setup.sh installs debootstrap)")
    if not Path("/etc/debian_version").exists():
        pytest.skip("debootstrap builds a Debian root; this host is not Debian")
    root = tmp_path_factory.mktemp("bare") / "root"
    mirror, suite = _mirror_and_suite()
    made = subprocess.run(
        ["debootstrap", "--variant=minbase", suite, str(root), mirror],
        capture_output=True,
        text=True,
        check=False,
        timeout=900,
    )
    assert made.returncode == 0, made.stdout[-2000:] + made.stderr[-2000:]
    shutil.copy2("/etc/resolv.conf", root / "etc" / "resolv.conf")  # apt inside the root, later
    shutil.copytree(BUNDLE, root / "opt" / "market-monitor", symlinks=True)
    return root


def _in_root(root: Path, *command: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["chroot", str(root), *ENV, *command], capture_output=True, text=True, check=False, timeout=timeout
    )


def test_bare_machine_gets_the_packages_named_then_the_window_works(bare_root: Path) -> None:
    smoke = ["/opt/market-monitor/market-monitor", "--smoke", "6", "--screenshot", "/tmp/bare.png"]
    first = _in_root(bare_root, *smoke)
    assert first.returncode == 1, first.stdout + first.stderr
    assert "could not load the Qt platform plugin" not in first.stderr
    named = re.search(r"apt-get install ([a-z0-9. +-]+)\n", first.stderr)
    assert named, first.stderr
    packages = named.group(1).split()
    # What PyInstaller leaves to the system on purpose (GL) and what fontconfig needs (platform notes §7);
    # everything else (xcb, xkbcommon, glib, dbus, fontconfig's library) must come from the bundle.
    assert set(packages) == {"libgl1", "libegl1", "fontconfig-config", "fonts-dejavu-core"}, first.stderr

    installed = _in_root(
        bare_root,
        "sh",
        "-c",
        "apt-get update -qq && DEBIAN_FRONTEND=noninteractive "
        f"apt-get install -y -qq --no-install-recommends {' '.join(packages)}",
        timeout=600,
    )
    assert installed.returncode == 0, installed.stdout[-2000:] + installed.stderr[-2000:]

    second = _in_root(bare_root, *smoke)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "first data" in second.stdout and "Fontconfig error" not in second.stderr
    assert (bare_root / "tmp" / "bare.png").stat().st_size > 50_000  # real text, tables and plots

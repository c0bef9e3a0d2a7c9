#!/usr/bin/env bash
# Everything a fresh Debian/Ubuntu machine needs for Market Monitor, idempotent and quiet when done:
# the system libraries Qt loads, a virtualenv in .venv, and the package with its test and build extras.
# Sourced by scripts/run.sh and scripts/test.sh; safe to run by hand.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

# Qt's offscreen and xcb platforms (platform notes §2); xvfb/xauth for screenshots under a real X server.
# dbus (dbus-run-session) and gnome-keyring give the tests a private, real Secret Service keyring
# (scripts/with-keyring.sh, platform notes §5); gnome-keyring pulls in gtk3, which is fine for dev and CI
# (the bundle's spec leaves gtk out). For scripts/build.sh and its checks: binutils (PyInstaller's objdump,
# strip), desktop-file-utils and libglib2.0-bin (validate and launch the .desktop entry), debootstrap (a
# bare Debian root to run the bundle in).
APT_PACKAGES=(libgl1 libegl1 libxkbcommon0 libxkbcommon-x11-0 libfontconfig1 libglib2.0-0 libdbus-1-3
              libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-shape0 xvfb xauth dbus gnome-keyring
              binutils desktop-file-utils libglib2.0-bin debootstrap)

missing=()
if command -v dpkg-query >/dev/null 2>&1; then
  for pkg in "${APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
fi
if ((${#missing[@]})); then
  if [ "$(id -u)" = 0 ]; then SUDO=(); elif command -v sudo >/dev/null 2>&1; then SUDO=(sudo); else SUDO=(); fi
  if [ "$(id -u)" = 0 ] || ((${#SUDO[@]})); then
    echo "setup: installing system packages: ${missing[*]}" >&2
    "${SUDO[@]}" apt-get update -qq
    DEBIAN_FRONTEND=noninteractive "${SUDO[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "setup: warning: cannot install ${missing[*]} (not root, no sudo); the window may not start" >&2
  fi
fi

PYTHON=${PYTHON:-}
if [ -z "$PYTHON" ]; then
  for candidate in python3 python3.11 python3.12 python3.13; do
    if command -v "$candidate" >/dev/null 2>&1 &&
       "$candidate" -c 'import sys; sys.exit(0 if (3, 11) <= sys.version_info[:2] < (3, 14) else 1)' 2>/dev/null; then
      PYTHON=$candidate; break
    fi
  done
fi
if [ -z "$PYTHON" ]; then
  echo "setup: error: Market Monitor needs Python 3.11, 3.12 or 3.13 (set PYTHON=/path/to/python)" >&2
  exit 1
fi

if [ ! -x .venv/bin/python ]; then
  echo "setup: creating .venv with $PYTHON" >&2
  "$PYTHON" -m venv .venv
fi
# Reinstall only when the dependency list changed.
stamp=.venv/.market-monitor-installed
want=$(sha256sum pyproject.toml | cut -d' ' -f1)
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$want" ]; then
  echo "setup: installing Python packages into .venv" >&2
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --upgrade pip
  .venv/bin/python -m pip install --quiet --disable-pip-version-check -e ".[test,build]"
  echo "$want" > "$stamp"
fi

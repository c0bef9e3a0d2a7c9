#!/bin/sh
# Run a command against a private, unlocked gnome-keyring, so the tests use the real Secret Service
# backend without ever touching the user's own keyring (platform notes §5):
#
#     scripts/with-keyring.sh .venv/bin/python -m pytest ...
#
# It re-runs itself under dbus-run-session (a private session bus, so the user's keyring daemon is never
# reached), keeps the keyring files and the daemon's control socket in a temporary directory (removed
# afterwards), and unlocks with a dummy NON-EMPTY password: with an empty one gnome-keyring wants a GUI
# prompt and keyring fails with "Prompt dismissed". The daemons die with the bus. When it works,
# MARKET_MONITOR_TEST_KEYRING=1 tells the real-keyring tests they may write. Without dbus-run-session or
# gnome-keyring-daemon the command runs on keyring's "fail" backend instead and those tests skip.
set -eu

if [ -z "${MARKET_MONITOR_KEYRING_DIR:-}" ]; then
  if ! command -v dbus-run-session >/dev/null 2>&1 || ! command -v gnome-keyring-daemon >/dev/null 2>&1; then
    echo "with-keyring: no dbus-run-session or gnome-keyring-daemon; running without an OS keyring" >&2
    PYTHON_KEYRING_BACKEND=keyring.backends.fail.Keyring exec "$@"
  fi
  dir=$(mktemp -d "${TMPDIR:-/tmp}/market-monitor-keyring.XXXXXX")
  trap 'rm -rf "$dir"' EXIT
  trap 'exit 130' INT TERM
  status=0
  MARKET_MONITOR_KEYRING_DIR=$dir dbus-run-session -- sh "$0" "$@" || status=$?
  exit "$status"
fi

# Inside the private bus.
export XDG_DATA_HOME="$MARKET_MONITOR_KEYRING_DIR/data" XDG_RUNTIME_DIR="$MARKET_MONITOR_KEYRING_DIR/run"
mkdir -p -m 700 "$XDG_DATA_HOME" "$XDG_RUNTIME_DIR"
unset GNOME_KEYRING_CONTROL MARKET_MONITOR_KEYRING_DIR
if printf '%s' "${KEYRING_PASSWORD:-market-monitor-tests}" |
     gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1 &&
   gnome-keyring-daemon --start --components=secrets >/dev/null 2>&1; then
  export MARKET_MONITOR_TEST_KEYRING=1
else
  echo "with-keyring: gnome-keyring-daemon did not start; running without an OS keyring" >&2
  export PYTHON_KEYRING_BACKEND=keyring.backends.fail.Keyring
fi
exec "$@"

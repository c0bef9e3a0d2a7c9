#!/usr/bin/env bash
# Set up (first time only), then lint, type-check and run the whole test suite.
# Arguments go to pytest (e.g. scripts/test.sh -k kraken).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
export QT_QPA_PLATFORM=${QT_QPA_PLATFORM:-offscreen}
echo "== ruff" && .venv/bin/ruff check app tests
echo "== mypy" && .venv/bin/mypy
echo "== pytest"
status=0
# A private, throw-away gnome-keyring on a private D-Bus, so the keyring tests use the real Secret Service
# backend and nothing reaches the user's own keyring (scripts/with-keyring.sh; without it they skip).
sh scripts/with-keyring.sh .venv/bin/python -m pytest "$@" || status=$?
# pytest exits 5 when a selection matched no test: with arguments that is the caller's filter, not a
# failure of the suite; without arguments it means the suite is empty, which is.
if [ "$status" = 5 ] && [ "$#" -gt 0 ]; then status=0; fi
exit "$status"

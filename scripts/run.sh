#!/usr/bin/env bash
# Set up (first time only) and start Market Monitor; arguments go to the `market-monitor` command.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
bash scripts/setup.sh
exec .venv/bin/market-monitor "$@"

#!/usr/bin/env bash
# Build the PyInstaller binary and check it: the one-folder bundle by default, or --onefile.
#   bash scripts/build.sh             -> dist/market-monitor/ (+ dist/market-monitor-VERSION-linux-ARCH.tar.gz)
#   bash scripts/build.sh --onefile   -> dist/onefile/market-monitor
# The check runs the CLI test modules and packaging/tests against the binary (offscreen, with a private
# keyring), including `--smoke 6 --screenshot`, and fails if the binary shows no data or is over its size
# budget. --no-check only builds.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

onefile=0 check=1
for arg in "$@"; do
  case "$arg" in
    --onefile) onefile=1 ;;
    --no-check) check=0 ;;
    -h|--help) sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "build: error: unknown option $arg (use --onefile, --no-check)" >&2; exit 2 ;;
  esac
done

bash scripts/setup.sh
version=$(.venv/bin/python -c 'import importlib.metadata as m; print(m.version("market-monitor"))')
arch=$(uname -m)
if [ "$onefile" = 1 ]; then
  mode=onefile dist=dist/onefile target=dist/onefile/market-monitor binary=dist/onefile/market-monitor
  budget=100000000 spec_args=(-- --onefile)
else
  mode=onedir dist=dist target=dist/market-monitor binary=dist/market-monitor/market-monitor
  budget=200000000 spec_args=()
fi

echo "== build ($mode) market-monitor $version"
SECONDS=0
.venv/bin/pyinstaller --noconfirm --log-level WARN --distpath "$dist" --workpath "build/pyinstaller-$mode" \
  packaging/market-monitor.spec "${spec_args[@]}"
built=$SECONDS
size=$(du -sb "$target" | cut -f1)
summary="$mode: $target $(numfmt --to=si --format='%.1f' "$size")B ($size bytes, budget $((budget / 1000000)) MB), built in ${built} s"
if [ "$mode" = onedir ]; then
  tarball="dist/market-monitor-$version-linux-$arch.tar.gz"
  tar -C dist -czf "$tarball" market-monitor
  summary="$summary; $tarball $(numfmt --to=si --format='%.1f' "$(stat -c %s "$tarball")")B"
fi
echo "$summary"
if [ "$size" -gt "$budget" ]; then
  echo "build: error: the $mode build is $size bytes, over its $budget-byte budget" >&2
  exit 1
fi
[ "$check" = 1 ] || exit 0

echo "== check ($mode): the CLI tests and packaging/tests against $binary"
figures="$dist/figures-$mode.txt"
rm -f "$figures"
tests=(tests/test_ui_smoke.py tests/test_replay_cli.py tests/test_sim_cli.py tests/test_stream_cli.py
       tests/test_sim_blast.py tests/test_credentials_cli.py packaging/tests/test_binary.py)
# One-folder only: its contents, its desktop installer, and a bare Debian root to run it in.
[ "$mode" = onedir ] && tests+=(packaging/tests/test_onedir.py packaging/tests/test_bare_target.py)
MARKET_MONITOR_COMMAND="$PWD/$binary" MARKET_MONITOR_FIGURES="$PWD/$figures" QT_QPA_PLATFORM=offscreen \
  sh scripts/with-keyring.sh .venv/bin/python -m pytest -q -p no:cacheprovider "${tests[@]}"
echo "$summary"
cat "$figures"

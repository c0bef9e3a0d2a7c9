#!/usr/bin/env bash
# Register this unpacked Market Monitor bundle with your desktop, in place: the menu entry, its icons
# and a `market-monitor` command on your PATH, all pointing at the bundle where it is (nothing of the
# bundle is copied). Shipped in the bundle's root next to the `market-monitor` binary.
# `install.sh --uninstall` takes away exactly what this put there. Run as yourself, not root.
# Started as `sh install.sh`: carry on in bash (this line is plain POSIX sh, so dash gets this far).
if [ -z "${BASH_VERSION:-}" ]; then exec bash "$0" "$@"; fi
set -euo pipefail

APP=market-monitor
PROG=${0##*/}
tmp=  # a half-written desktop file, removed if we stop early
trap '[ -z "$tmp" ] || rm -f -- "$tmp"' EXIT

usage() {
  cat <<EOF
usage: $PROG [--bin-dir DIR] [--uninstall]

Register this Market Monitor bundle with your desktop (for you only, no root needed):
  - icons in \${XDG_DATA_HOME:-~/.local/share}/icons/hicolor/
  - a menu entry in \${XDG_DATA_HOME:-~/.local/share}/applications/$APP.desktop
  - a command: a symlink DIR/$APP to the bundle's binary (DIR is ~/.local/bin unless given)
The bundle stays where it is: move it, and run this again from the new place.

options:
  --bin-dir DIR   where to put the $APP symlink (default: ~/.local/bin)
  --uninstall     remove what an install of this bundle put there (safe to repeat)
  -h, --help      show this help
EOF
}

die() { echo "$PROG: error: $*" >&2; exit 1; }
usage_error() { echo "$PROG: error: $*" >&2; echo "usage: $PROG [--bin-dir DIR] [--uninstall] (see --help)" >&2; exit 2; }
say() { printf '%-10s %s\n' "$1" "$2"; }

mode=install
bin_dir=
while (($#)); do
  case $1 in
    --uninstall) mode=uninstall ;;
    --bin-dir)
      if (($# < 2)) || [ -z "$2" ]; then usage_error "--bin-dir needs a directory"; fi
      bin_dir=$2; shift ;;
    --bin-dir=?*) bin_dir=${1#--bin-dir=} ;;
    -h | --help) usage; exit 0 ;;
    *) usage_error "unknown option: $1" ;;
  esac
  shift
done

[ -n "${HOME:-}" ] || die "HOME is not set"
script=$(readlink -f -- "${BASH_SOURCE[0]}")
bundle=${script%/*}
binary=$bundle/$APP
resources=$bundle/_internal/resources
case $bundle in
  *$'\n'* | *$'\r'* | *$'\t'*) die "the bundle's path has a newline or tab in it; move it somewhere plainer: $bundle" ;;
esac

data_home=${XDG_DATA_HOME:-}
[[ $data_home == /* ]] || data_home=$HOME/.local/share  # the spec ignores a relative XDG_DATA_HOME
icon_root=$data_home/icons/hicolor
apps_dir=$data_home/applications
desktop_file=$apps_dir/$APP.desktop
bin_dir=${bin_dir:-$HOME/.local/bin}
[[ $bin_dir == /* ]] || bin_dir=$PWD/$bin_dir
link=$bin_dir/$APP

# A desktop-entry string value: backslashes doubled (the spec's \\ escape).
string_value() { local s=$1; printf '%s' "${s//\\/\\\\}"; }

# One Exec argument: double-quoted when it holds a reserved character, with ", `, $ and \ escaped inside
# the quotes, % doubled (field codes), then escaped once more as a string value (desktop entry spec,
# "The Exec key").
exec_arg() {
  local s=$1 reserved=$' \t"\'\\><~|&;$*?#()`'
  if [[ $s == *["$reserved"]* ]]; then
    s=${s//\\/\\\\}; s=${s//\"/\\\"}; s=${s//\`/\\\`}; s=${s//\$/\\\$}
    s="\"$s\""
  fi
  s=${s//%/%%}
  string_value "$s"
}

try_exec=$(string_value "$binary")
exec_cmd=$(exec_arg "$binary")

# The PNG sizes the bundle ships (market-monitor-NN.png), smallest first.
icon_sizes() {
  local png size
  shopt -s nullglob
  for png in "$resources"/icons/"$APP"-*.png; do
    size=${png##*/"$APP"-}; size=${size%.png}
    if [[ $size =~ ^[0-9]+$ ]]; then echo "$size"; fi
  done | sort -n
  shopt -u nullglob
}

# True when the installed desktop file is this bundle's (its TryExec is this bundle's binary).
desktop_is_ours() { grep -qxF "TryExec=$try_exec" "$desktop_file" 2>/dev/null; }

refresh_caches() {
  if command -v update-desktop-database >/dev/null 2>&1 && [ -d "$apps_dir" ]; then
    update-desktop-database -q "$apps_dir" >/dev/null 2>&1 || true
    say refreshed "desktop database in $apps_dir"
  fi
  if command -v gtk-update-icon-cache >/dev/null 2>&1 && [ -d "$icon_root" ]; then
    gtk-update-icon-cache -q -f -t "$icon_root" >/dev/null 2>&1 || true
    say refreshed "icon cache in $icon_root"
  fi
}

install_bundle() {
  if [ ! -f "$binary" ] || [ ! -x "$binary" ]; then
    die "no executable $APP in $bundle: run this script from inside the unpacked Market Monitor bundle"
  fi
  local required=("$resources/$APP.desktop" "$resources/icons/$APP.svg")
  local file
  for file in "${required[@]}"; do
    [ -f "$file" ] || die "the bundle is incomplete: $file is missing (unpack the whole archive again)"
  done
  local sizes
  mapfile -t sizes < <(icon_sizes)
  ((${#sizes[@]})) || die "the bundle is incomplete: no $APP-NN.png icons in $resources/icons"

  local size dest
  for size in "${sizes[@]}"; do
    dest=$icon_root/${size}x${size}/apps/$APP.png
    mkdir -p "${dest%/*}"
    cp -f -- "$resources/icons/$APP-$size.png" "$dest"
    chmod 644 "$dest"
    say icon "$dest"
  done
  dest=$icon_root/scalable/apps/$APP.svg
  mkdir -p "${dest%/*}"
  cp -f -- "$resources/icons/$APP.svg" "$dest"
  chmod 644 "$dest"
  say icon "$dest"

  # The bundled entry with Exec and TryExec pointing at this bundle's binary, written atomically.
  mkdir -p "$apps_dir"
  local line replacing=
  if [ -e "$desktop_file" ] && ! desktop_is_ours; then
    replacing=" (replaces the entry for $(sed -n 's/^TryExec=//p' "$desktop_file" | head -n 1))"
  fi
  tmp=$(mktemp "$apps_dir/.$APP.desktop.XXXXXX")
  while IFS= read -r line || [ -n "$line" ]; do
    case $line in
      "Exec=$APP") line="Exec=$exec_cmd" ;;
      "Exec=$APP "*) line="Exec=$exec_cmd ${line#"Exec=$APP "}" ;;
      TryExec=*) line="TryExec=$try_exec" ;;
    esac
    printf '%s\n' "$line"
  done <"$resources/$APP.desktop" >"$tmp"
  chmod 644 "$tmp"
  mv -f -- "$tmp" "$desktop_file"
  say desktop "$desktop_file (Exec=$exec_cmd)$replacing"
  if [[ $binary == *%* ]]; then  # valid (as %%), but GLib looks for the program without unescaping it
    echo "$PROG: warning: the bundle's path has a '%' in it: GNOME may hide the menu entry; move the bundle" >&2
  fi

  # The command: a symlink, never replacing one (or a file) that is not ours.
  if [ -L "$link" ]; then
    if [ "$(readlink -f -- "$link")" = "$binary" ]; then
      say link "$link -> $binary (already there)"
    else
      echo "$PROG: warning: $link already exists and points to $(readlink -- "$link"); left alone" >&2
    fi
  elif [ -e "$link" ]; then
    echo "$PROG: warning: $link already exists and is not a symlink; left alone" >&2
  else
    mkdir -p "$bin_dir"
    ln -s -- "$binary" "$link"
    say link "$link -> $binary"
  fi

  refresh_caches
  case ":${PATH:-}:" in
    *":$bin_dir:"* | *":$bin_dir/:"*) ;;
    *) echo "hint: $bin_dir is not on your PATH; add it (e.g. in ~/.profile) to start Market Monitor as '$APP'" ;;
  esac
}

uninstall_bundle() {
  local removed=0
  if [ -L "$link" ] && [ "$(readlink -f -- "$link")" = "$binary" ]; then
    rm -f -- "$link"
    say removed "$link"
    removed=1
  elif [ -L "$link" ] || [ -e "$link" ]; then
    say kept "$link (not a link to this bundle)"
  fi

  if [ -e "$desktop_file" ] && ! desktop_is_ours; then
    # Another copy of Market Monitor was registered since: its entry and icons stay.
    say kept "$desktop_file and the icons (they belong to another Market Monitor install)"
  else
    if [ -e "$desktop_file" ]; then
      rm -f -- "$desktop_file"
      say removed "$desktop_file"
      removed=1
    fi
    local sizes size file files=()
    mapfile -t sizes < <(icon_sizes)
    for size in "${sizes[@]}"; do
      files+=("$icon_root/${size}x${size}/apps/$APP.png")
    done
    if ((${#sizes[@]} == 0)); then  # the bundle's icons are gone: take whichever sizes are installed
      shopt -s nullglob
      files+=("$icon_root"/*x*/apps/"$APP".png)
      shopt -u nullglob
    fi
    files+=("$icon_root/scalable/apps/$APP.svg")
    for file in "${files[@]}"; do
      if [ -e "$file" ]; then
        rm -f -- "$file"
        say removed "$file"
        removed=1
      fi
    done
  fi

  if ((removed)); then
    refresh_caches
  else
    echo "nothing to remove: this bundle is not registered"
  fi
}

"${mode}_bundle"

#!/usr/bin/env bash
# `make screenshots`: the README's pictures, made by the scripted tour of the real app
# (`pos-terminal demo`) under Xvfb at each display the terminal ships for, each with its
# real dpi (text and buttons keep their size in millimetres):
#   800x480  @ 133 dpi  Raspberry Pi 7" Touch Display
#   1024x600 @ 169 dpi  7" HDMI touch screens
#   1280x720 @ 145 dpi  10.1" touch screens
# The pictures land in docs/screenshots/<size>/; look at them before committing.
# A third argument, a demo store's file (make screenshots STORE=mn), takes that store's
# pictures instead, into docs/screenshots/<store>/<size>/ (<store>: the file's name).
set -euo pipefail
py=${1:-.venv/bin/python}
config=${2:-config/pos.toml}
store_file=${3:-}
root=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
shots_dir="$root/docs/screenshots"
if [ -n "$store_file" ]; then
  shots_dir="$shots_dir/$(basename "$store_file" .toml)"
fi
# SCREENSHOT_DISPLAYS="800x480:133" takes one size only
for display in ${SCREENSHOT_DISPLAYS:-800x480:133 1024x600:169 1280x720:145}; do
  size=${display%%:*}
  dpi=${display##*:}
  width=${size%%x*}
  height=${size##*x}
  data="$work/$size"
  sed -e "s#^data_dir = \"var\"#data_dir = \"$data\"#" \
      -e "s#^fullscreen = true#fullscreen = false#" \
      -e "s#^width = 800 #width = $width #" \
      -e "s#^height = 480#height = $height#" \
      -e "s#^dpi = 133 #dpi = $dpi #" "$config" > "$work/pos-$size.toml"
  grep -q "^width = $width " "$work/pos-$size.toml"  # the [ui] lines were found
  store=()
  if [ -n "$store_file" ]; then  # the store's own data_dir, in the work directory too
    sed -e "s#^data_dir = \".*\"#data_dir = \"$data/store\"#" "$store_file" > "$work/store-$size.toml"
    grep -q "^data_dir = \"$data/store\"" "$work/store-$size.toml"
    store=(--store "$work/store-$size.toml")
  fi
  xvfb-run -a -s "-screen 0 ${size}x24" "$py" -m terminal demo --config "$work/pos-$size.toml" \
    "${store[@]}" > "$work/$size.list"
  mkdir -p "$shots_dir/$size"
  grep '/screenshots/.*\.png$' "$work/$size.list" | while read -r shot; do
    cp "$shot" "$shots_dir/$size/"
  done
  # shellcheck disable=SC2012  # our own PNG file names, listed sorted
  echo "${shots_dir#"$root"/}/$size: $(ls "$shots_dir/$size" | tr '\n' ' ')"
done

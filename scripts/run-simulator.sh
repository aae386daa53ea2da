#!/usr/bin/env bash
# `make run`: the terminal in simulator mode.
# With a display: the full-screen app (simulated printer, drawer and scanner; local database).
# Without one: a scripted cash sale in the real app under Xvfb; screenshots and the
# receipt preview are saved under the data directory (var/ by default).
# Usage: run-simulator.sh PYTHON CONFIG [--store STORE_FILE] [DEBIAN_PACKAGES...]
# --store: a demo store's file over CONFIG (make run STORE=mn: config/stores/mn.toml).
set -euo pipefail
py=$1
config=$2
shift 2
store=()
if [ "${1:-}" = "--store" ]; then
  store=(--store "$2")
  shift 2
fi
if [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; then
  exec "$py" -m terminal run --config "$config" "${store[@]}"
fi
# no display: Xvfb and Mesa are needed (installed as root, else the apt-get line is printed)
if command -v dpkg-query >/dev/null 2>&1; then
  "$(dirname "$0")/ensure-debs.sh" "$@"
elif ! command -v xvfb-run >/dev/null 2>&1; then
  echo "No display, and xvfb-run is not installed to run without one (packages: $*)." >&2
  exit 1
fi
echo "No display: running a scripted cash sale in the app under Xvfb (800x480)."
xvfb-run -a -s "-screen 0 800x480x24" "$py" -m terminal demo --config "$config" "${store[@]}"
echo "Screenshots and the receipt preview (PNG) and ESC/POS stream are listed above."

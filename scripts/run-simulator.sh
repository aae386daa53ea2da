#!/usr/bin/env bash
# `make run`: the terminal in simulator mode.
# With a display: the full-screen app (simulated printer, drawer and scanner; local database).
# Without one: a scripted cash sale in the real app under Xvfb; screenshots and the
# receipt preview are saved under the data directory (var/ by default).
set -euo pipefail
py=$1
config=$2
if [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; then
  exec "$py" -m terminal run --config "$config"
fi
if ! command -v xvfb-run >/dev/null 2>&1; then
  echo "No display, and Xvfb is not installed to run without one. Install it with:" >&2
  echo "  sudo apt-get install -y xvfb xauth libgl1-mesa-dri" >&2
  exit 1
fi
echo "No display: running a scripted cash sale in the app under Xvfb (800x480)."
xvfb-run -a -s "-screen 0 800x480x24" "$py" -m terminal demo --config "$config"
echo "Screenshots and the receipt preview (PNG) and ESC/POS stream are listed above."

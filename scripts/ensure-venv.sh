#!/usr/bin/env bash
# Creates the virtual environment when missing. Debian and Ubuntu ship Python's venv
# module (ensurepip) in a package of its own: as root it is installed, otherwise the
# one apt-get line that installs it is printed and this fails.
set -euo pipefail
python=$1
venv=$2
# a finished venv has pip (one made without python3.11-venv has none: it is made again)
"$venv/bin/python" -m pip --version >/dev/null 2>&1 && exit 0
if ! "$python" -c 'import ensurepip, venv' >/dev/null 2>&1; then
  version=$("$python" -c 'import sys; print(f"{sys.version_info[0]}.{sys.version_info[1]}")')
  "$(dirname "$0")/ensure-debs.sh" "python${version}-venv"
fi
rm -rf "$venv"
"$python" -m venv "$venv"

#!/usr/bin/env bash
# Installs a virtual environment's packages from lock files, every file checked against
# its hash, then this project itself (editable), and removes what the locks do not name:
# two installs of one commit get the same packages.
#   install-locked.sh PYTHON requirements/build.lock requirements/dev.lock
# The first lock holds the build tools; the sdists of the next ones are built with them
# (--no-build-isolation), so no unpinned setuptools is fetched for a build.
set -euo pipefail
py=$1
shift
pip=("$py" -m pip --quiet --disable-pip-version-check)
for lock in "$@"; do
  "${pip[@]}" install --require-hashes --no-deps --no-build-isolation -r "$lock"
done
"${pip[@]}" install --no-deps --no-build-isolation -e "$(dirname "$0")/.."
"$py" - "$@" <<'PY'
"""Uninstall what no lock names (a package installed by hand, or dropped from the lock)."""
import re
import subprocess
import sys
from importlib.metadata import distributions

def norm(name):
    return re.sub(r"[-_.]+", "-", name).lower()

locked = {"pip", "pos-terminal"}
for path in sys.argv[1:]:
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            match = re.match(r"([A-Za-z0-9][A-Za-z0-9._-]*)==", line)
            if match:
                locked.add(norm(match[1]))
extra = sorted({d.metadata["Name"] for d in distributions() if norm(d.metadata["Name"]) not in locked})
if extra:
    print("not in the lock, removed:", " ".join(extra))
    subprocess.run([sys.executable, "-m", "pip", "uninstall", "--quiet", "-y", *extra], check=True)
PY

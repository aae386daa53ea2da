#!/usr/bin/env bash
# `make lock`: resolve every dependency, direct and transitive, to exact versions with
# hashes. uv resolves for other platforms than this one, so one machine writes:
#   requirements/dev.lock    the app + tests + TPM protector + fleet side: `make run`, `make test`, CI
#                            (universal: x86-64 and aarch64 Linux, Python 3.11)
#   requirements/pi.lock     the app + Pi GPIO/evdev/USB + TPM protector: the SD-card image
#                            (aarch64 Linux, Python 3.11)
#   requirements/build.lock  what building the sdists needs, installed first (both)
# Run it on purpose, read the diff, run `make test`, commit the three files together.
set -euo pipefail
cd "$(dirname "$0")/.."
uv=${UV:-.venv/bin/uv}
common=(--python-version 3.11 --generate-hashes --index-url https://pypi.org/simple
        --no-header --annotation-style line --quiet)
upgrade=()
[ "${UPGRADE:-}" = 1 ] && upgrade=(--upgrade)
"$uv" pip compile "${common[@]}" "${upgrade[@]}" --universal \
  pyproject.toml requirements/build.in --extra test --extra tpm --extra fleet -o requirements/dev.lock
"$uv" pip compile "${common[@]}" --universal \
  requirements/build.in -c requirements/dev.lock -o requirements/build.lock
"$uv" pip compile "${common[@]}" --python-platform aarch64-unknown-linux-gnu \
  pyproject.toml requirements/build.in --extra pi --extra tpm -c requirements/dev.lock \
  -o requirements/pi.lock
for f in requirements/*.lock; do
  sed -i "1i # Made by \`make lock\` (scripts/lock.sh, uv pip compile): do not edit by hand." "$f"
done
echo "lock files written: requirements/{dev,build,pi}.lock"

#!/usr/bin/env bash
# Builds the project's wheel and the Raspberry Pi OS Lite (Bookworm, arm64) image with the
# terminal installed, in one command, as root on an arm64 host or on an x86-64 one with
# qemu-user-static and binfmt-support (see image-build/README.md).
#   image-build/build.sh [PI_GEN_DIR]   the image: image-build/out/*.img.xz
#   image-build/build.sh wheel          the wheel only: image-build/out/pos_terminal-*.whl
# PI_GEN_DIR: a checkout of RPi-Distro/pi-gen's bookworm-arm64 branch; without it, that
# branch is cloned into image-build/out/pi-gen. PYTHON: the Python that builds the wheel
# (default .venv/bin/python, which has the build lock's setuptools).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
out=${OUT:-$here/out}
py=${PYTHON:-$repo/.venv/bin/python}
mkdir -p "$out"

# the wheel, built from a copy of the work tree (pip builds in place and leaves build/)
src=$(mktemp -d)
trap 'rm -rf "$src"' EXIT
tar -C "$repo" --exclude=./.venv --exclude=./var --exclude=./.git --exclude=./image-build/out \
  --exclude='*/__pycache__' -cf - . | tar -C "$src" -xf -
rm -f "$out"/pos_terminal-*.whl
"$py" -m pip wheel --quiet --disable-pip-version-check --no-deps --no-build-isolation \
  --wheel-dir "$out" "$src"
wheel=$(ls "$out"/pos_terminal-*.whl)
echo "wheel: $wheel"
[ "${1:-}" = wheel ] && exit 0

[ "$(id -u)" -eq 0 ] || { echo "build.sh: pi-gen runs as root" >&2; exit 1; }
case $(uname -m) in
  aarch64) ;;
  *)
    if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
      echo "build.sh: an x86-64 host runs arm64 programs through qemu: apt-get install" \
        "qemu-user-static binfmt-support (and pi-gen's depends file)" >&2
      exit 1
    fi
    ;;
esac

pigen=${1:-$out/pi-gen}
if [ ! -x "$pigen/build.sh" ]; then
  git clone --depth 1 --branch bookworm-arm64 https://github.com/RPi-Distro/pi-gen "$pigen"
fi
rm -rf "$pigen/stage-pos"
cp -r "$here/stage-pos" "$pigen/stage-pos"
touch "$pigen/stage2/SKIP_IMAGES"  # one image: ours, not the plain Lite one as well
# The first user: pi-gen wants a password to skip the first-boot rename wizard (which would
# wait at the console); a random one nobody keeps, and install-into-root.sh locks the
# account anyway: the image has no password that logs in.
cat >"$pigen/config" <<CONFIG
IMG_NAME=pos-terminal
RELEASE=bookworm
TARGET_HOSTNAME=pos-terminal
FIRST_USER_NAME=posadmin
FIRST_USER_PASS=$(head -c 24 /dev/urandom | base64)
DISABLE_FIRST_BOOT_USER_RENAME=1
ENABLE_SSH=0
LOCALE_DEFAULT=en_US.UTF-8
KEYBOARD_KEYMAP=us
KEYBOARD_LAYOUT="English (US)"
TIMEZONE_DEFAULT=Etc/UTC
DEPLOY_COMPRESSION=xz
DEPLOY_DIR=$out
STAGE_LIST="stage0 stage1 stage2 stage-pos"
export POS_REPO=$repo
export POS_WHEEL=$wheel
CONFIG
(cd "$pigen" && ./build.sh -c config)
ls -l "$out"/*.img.xz

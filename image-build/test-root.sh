#!/usr/bin/env bash
# `make image-test`: the image's install steps, tested on this machine without a Pi.
#   test-root.sh PYTHON
# 1. shellcheck on every script of the project
# 2. a Debian 12 (bookworm) root for this machine's architecture, made by mmdebstrap in a
#    temporary directory, with the packages the image adds (image-build/debs.txt)
# 3. the project's wheel and units put into it by image-build/install-into-root.sh, the
#    script the image uses (amd64: requirements/build.lock then dev.lock)
# 4. inside it (/proc, /dev mounted): `pos-terminal selfcheck` on a simulator
#    configuration, then `systemd-analyze verify --root` on the units
# Runs as root (mmdebstrap, chroot, mounts). KEEP_ROOT=1 keeps the root for a look.
set -euo pipefail
py=$1
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
cd "$repo"
start=$SECONDS
step() { echo "== $* ($((SECONDS - start)) s)"; }

step "shellcheck"
# every .sh file and every file whose first line is a bash or sh shebang (as
# tests/test_scripts.py finds them)
mapfile -t scripts < <(find scripts image-build systemd provisioning .ci -type f \
  -not -path 'image-build/out/*' \( -name '*.sh' -o -exec sh -c \
  'head -n 1 "$1" | grep -qE "^#!.*(bash|/sh)$"' _ {} \; \) -print | sort)
shellcheck --external-sources "${scripts[@]}"
echo "${#scripts[@]} scripts clean"

work=$(mktemp -d /tmp/pos-image-test.XXXXXX)
root=$work/root
cleanup() {
  for fs in dev/pts dev proc; do umount -l "$root/$fs" 2>/dev/null || true; done
  if [ "${KEEP_ROOT:-}" = 1 ]; then
    echo "root kept: $root"
  elif findmnt -rn -o TARGET | grep -q "^$work/"; then
    echo "still mounted under $work: not removed" >&2
  else
    rm -rf --one-file-system "$work"
  fi
}
trap cleanup EXIT

step "the project's wheel (image-build/build.sh wheel)"
OUT=$work PYTHON=$py image-build/build.sh wheel
wheel=$(ls "$work"/pos_terminal-*.whl)

step "a bookworm root for $(dpkg --print-architecture) with mmdebstrap"
# (the build packages are left to install-into-root.sh, as on the image: installed, then
# purged with what they pulled in)
include=$(sed -e 's/#.*//' image-build/debs.txt | tr -s '[:space:]' ',')
include=${include#,}
# what Raspberry Pi OS Lite has and a bare Debian root lacks: systemd, udev
include=${include%,},systemd,udev
mmdebstrap --quiet --variant=apt --include="${include#,}" \
  bookworm "$root" "deb http://deb.debian.org/debian bookworm main"
# the boot partition's files as pi-gen's stage1 and stage2 leave them (cmdline.txt with
# the first-boot resize), for install-into-root.sh to change as it does on the image
mkdir -p "$root/boot/firmware"
printf '%s\n' "console=serial0,115200 console=tty1 root=ROOTDEV rootfstype=ext4 fsck.repair=yes rootwait quiet init=/usr/lib/raspberrypi-sys-mods/firstboot" \
  >"$root/boot/firmware/cmdline.txt"

step "install-into-root.sh"
image-build/install-into-root.sh "$root" "$wheel"

step "checks on the root"
grep -q '^overlayroot=tmpfs ' "$root/boot/firmware/cmdline.txt"
if grep -q 'firstboot' "$root/boot/firmware/cmdline.txt"; then exit 1; fi
grep -q '^dtparam=watchdog=on$' "$root/boot/firmware/config.txt"
grep -q '^enable_uart=1$' "$root/boot/firmware/config.txt"
[ "$(chroot "$root" passwd --status pos | cut -d' ' -f2)" = L ]
[ "$(chroot "$root" passwd --status root | cut -d' ' -f2)" = L ]
[ "$(chroot "$root" getent passwd pos | cut -d: -f7)" = /usr/sbin/nologin ]
if chroot "$root" sh -c 'command -v gcc'; then echo "a compiler in the root" >&2; exit 1; fi
for unit in pos-terminal.service pos-agent.service pos-firstboot.service pos-backup.timer \
  'var-lib-pos\x2dterminal.mount' pos-data-partition.service; do
  if [ -e "$root/etc/systemd/system/$unit" ]; then
    state=$(chroot "$root" systemctl is-enabled "$unit" || true)
    echo "$unit: $state"
    [ "$state" = enabled ] || { echo "$unit is not enabled" >&2; exit 1; }
  else
    echo "$unit: not in systemd/ yet"
  fi
done

step "pos-terminal selfcheck in the root"
data=/var/lib/pos-terminal
sed -e "s|^data_dir = .*|data_dir = \"$data\"|" config/pos.toml >"$root$data/pos.toml"
mount -t proc proc "$root/proc"
mount --bind /dev "$root/dev"  # the card terminal's simulator opens a pseudo-terminal
mount --bind /dev/pts "$root/dev/pts"
chroot "$root" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin LANG=C.UTF-8 HOME=/root \
  pos-terminal --config /etc/pos-terminal/pos.toml selfcheck 2>"$work/selfcheck.log" ||
  { cat "$work/selfcheck.log" >&2; exit 1; }
umount "$root/dev/pts" "$root/dev" "$root/proc"

step "systemd-analyze verify --root"
mapfile -t units < <(cd "$root/etc/systemd/system" && ls -- *.service *.timer *.mount 2>/dev/null)
(cd "$root/etc/systemd/system" && SYSTEMD_LOG_LEVEL=notice \
  systemd-analyze verify --root="$root" --man=no "${units[@]}") 2>&1 | tee "$work/verify.log"
if grep -v -e '^$' "$work/verify.log" | grep -q .; then
  echo "systemd-analyze verify reported problems" >&2
  exit 1
fi
step "image-test passed: $(du -sh --exclude=proc "$root" | cut -f1) root"

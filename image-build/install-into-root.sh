#!/usr/bin/env bash
# Puts the POS terminal into a Debian 12 root file system: the one script both the image
# (pi-gen's stage-pos) and `make image-test` (an amd64 root made by mmdebstrap) run, so
# what is tested is what the image gets.
#   install-into-root.sh ROOT WHEEL [LOCK...]
# ROOT   the root file system (run as root; chroots into it: an arm64 root on an x86-64
#        host needs qemu-user-static and binfmt)
# WHEEL  the project's wheel (image-build/build.sh makes it), installed with --no-deps
# LOCK   the lock files, installed in order with their hashes checked, as
#        scripts/install-locked.sh does; by default by ROOT's architecture:
#        arm64 requirements/build.lock requirements/pi.lock (the image),
#        amd64 requirements/build.lock requirements/dev.lock (pi.lock has aarch64 wheels only)
set -euo pipefail
root=$(realpath "$1")
wheel=$(realpath "$2")
shift 2
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
venv=/opt/pos-terminal/.venv
[ -x "$root/usr/bin/dpkg" ] || { echo "install-into-root: $root is not a Debian root" >&2; exit 2; }
[ -f "$wheel" ] || { echo "install-into-root: no wheel $wheel" >&2; exit 2; }

mounted=()
added_resolv=
cleanup() {
  local i
  for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do
    umount -l "${mounted[$i]}" || true
  done
  [ -z "$added_resolv" ] || rm -f "$root/etc/resolv.conf"
  rm -rf "$root/tmp/pos-install"
}
trap cleanup EXIT
# what apt and pip need in the chroot, unless the builder (pi-gen's on_chroot) mounted it
for fs in proc sys dev dev/pts; do
  if ! mountpoint -q "$root/$fs"; then
    mkdir -p "$root/$fs"
    mount --bind "/$fs" "$root/$fs"
    mounted+=("$root/$fs")
  fi
done
if [ ! -s "$root/etc/resolv.conf" ] && [ ! -L "$root/etc/resolv.conf" ]; then
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  added_resolv=1
fi

in_root() {
  chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 \
    HOME=/root DEBIAN_FRONTEND=noninteractive "$@"
}
# package names from a list file: comments and blank lines dropped
names() { sed -e 's/#.*//' "$1" | tr -s '[:blank:]' '\n' | grep -v '^$'; }

arch=$(in_root dpkg --print-architecture)
locks=("$@")
if [ ${#locks[@]} -eq 0 ]; then
  case $arch in
    arm64) locks=("$repo/requirements/build.lock" "$repo/requirements/pi.lock") ;;
    *) locks=("$repo/requirements/build.lock" "$repo/requirements/dev.lock") ;;
  esac
fi
echo "install-into-root: $root ($arch), locks: ${locks[*]##*/}"

# 1. Debian packages (runtime ones stay, build ones are purged at the end)
mapfile -t debs < <(names "$here/debs.txt")
mapfile -t build_debs < <(names "$here/build-debs.txt")
in_root apt-get update -qq
in_root apt-get install -y -qq --no-install-recommends "${debs[@]}" >/dev/null
# exactly what the build packages add is purged at the end (autoremove alone keeps a
# compiler: apt suggests dpkg-dev, which recommends gcc)
# shellcheck disable=SC2016  # dpkg-query's own ${Package}, not the shell's
packages() { in_root dpkg-query -W -f='${Package}\n' | sort; }
before_build=$(packages)
in_root apt-get install -y -qq --no-install-recommends "${build_debs[@]}" >/dev/null
mapfile -t added < <(comm -13 <(echo "$before_build") <(packages))

# 2. the service user: no password, no shell, in the groups of its devices
in_root getent group pos >/dev/null || in_root groupadd --system pos
in_root getent passwd pos >/dev/null ||
  in_root useradd --system --gid pos --home-dir /var/lib/pos-terminal --no-create-home \
    --shell /usr/sbin/nologin --comment "POS terminal" pos
in_root passwd --lock pos >/dev/null
# serial lines, KMS/DRM and GPU, input devices (evdev), GPIO, printers, the TPM
for group in dialout video render input gpio lp tss plugdev; do
  if in_root getent group "$group" >/dev/null; then
    in_root usermod --append --groups "$group" pos
  fi
done
# no password anywhere: root, and the first user pi-gen made (locked as well)
in_root passwd --lock root >/dev/null
first_user=$(in_root getent passwd 1000 | cut -d: -f1 || true)
if [ -n "$first_user" ]; then
  in_root passwd --lock "$first_user" >/dev/null
fi

# 3. the app: a virtual environment from the lock files, then the wheel alone
mkdir -p "$root/tmp/pos-install"
cp "${locks[@]}" "$wheel" "$root/tmp/pos-install/"
# the downloads trust what the build host trusts (a host behind a TLS-inspecting proxy);
# the bundle stays out of the image
cp /etc/ssl/certs/ca-certificates.crt "$root/tmp/pos-install/host-ca.crt"
in_root /usr/bin/python3.11 -m venv --clear "$venv"
pip=(PIP_CERT=/tmp/pos-install/host-ca.crt "$venv/bin/python" -m pip --quiet
  --disable-pip-version-check --no-cache-dir)
for lock in "${locks[@]}"; do
  in_root "${pip[@]}" install --require-hashes --no-deps --no-build-isolation \
    -r "/tmp/pos-install/${lock##*/}"
done
in_root "${pip[@]}" install --no-deps --no-index "/tmp/pos-install/${wheel##*/}"
in_root "${pip[@]}" check
install -d -m 0755 "$root/usr/local/bin"
for tool in pos-terminal pos-hal; do
  ln -sfn "$venv/bin/$tool" "$root/usr/local/bin/$tool"
done

# 4. the data partition's mount point, the configuration's place, an example of it
install -d -m 0755 "$root/var/lib/pos-terminal" "$root/etc/pos-terminal" \
  "$root/usr/share/pos-terminal"
ln -sfn /var/lib/pos-terminal/pos.toml "$root/etc/pos-terminal/pos.toml"
sed -e 's|^data_dir = .*|data_dir = "/var/lib/pos-terminal"|' \
  -e 's|^environment = "development"|environment = "production" |' \
  "$repo/config/pos.toml" >"$root/usr/share/pos-terminal/pos.toml.example"

# 5. system settings: watchdog, volatile journal, cloud-init's NoCloud on the boot partition
install -D -m 0644 "$here/files/10-pos-watchdog.conf" "$root/etc/systemd/system.conf.d/10-pos-watchdog.conf"
install -D -m 0644 "$here/files/10-pos-volatile.conf" "$root/etc/systemd/journald.conf.d/10-pos-volatile.conf"
install -D -m 0644 "$here/files/99-pos-nocloud.cfg" "$root/etc/cloud/cloud.cfg.d/99-pos-nocloud.cfg"
install -D -m 0755 "$here/files/pos-data-partition" "$root/usr/local/sbin/pos-data-partition"

# 6. units and udev rules: whatever systemd/ holds, and the image's own
units=()
for unit in "$repo"/systemd/*.service "$repo"/systemd/*.timer "$here"/files/*.service \
  "$here"/files/*.mount; do
  [ -e "$unit" ] || continue
  install -m 0644 "$unit" "$root/etc/systemd/system/"
  if grep -q '^\[Install\]' "$unit"; then
    units+=("${unit##*/}")
  fi
done
for rules in "$repo"/systemd/*.rules; do
  [ -e "$rules" ] || continue
  install -D -m 0644 "$rules" "$root/etc/udev/rules.d/${rules##*/}"
done
in_root systemctl enable "${units[@]}"
# SSH off, and no file on the boot partition turns it on (Raspberry Pi OS's sshswitch)
for unit in ssh.service sshswitch.service userconfig.service; do
  if in_root systemctl cat "$unit" >/dev/null 2>&1; then
    in_root systemctl mask "$unit"
  fi
done

# 7. the boot partition (the image's; a test root gets the files made here): the
# firmware's settings, and a read-only root as raspi-config's do_overlayfs makes it
fw=$root/boot/firmware
install -d "$fw"
touch "$fw/config.txt"
sed -i '/^# --- pos-terminal/,/^# --- end pos-terminal ---$/d' "$fw/config.txt"
cat "$here/files/config.txt" >>"$fw/config.txt"
if [ -f "$fw/cmdline.txt" ]; then
  # the root keeps its image size (no first-boot resize: the data partition takes the rest)
  sed -i -e 's| init=/usr/lib/raspberrypi-sys-mods/firstboot||' "$fw/cmdline.txt"
  grep -q 'overlayroot=tmpfs' "$fw/cmdline.txt" || sed -i -e 's/^/overlayroot=tmpfs /' "$fw/cmdline.txt"
fi

# 8. no compiler in the image
if [ ${#added[@]} -gt 0 ]; then
  in_root apt-get purge -y -qq "${added[@]}" >/dev/null
fi
in_root apt-get clean
echo "install-into-root: done ($(du -sh "$root$venv" | cut -f1) in $venv)"

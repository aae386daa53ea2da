"""What ``pos-provision card`` writes onto a terminal's boot partition (the FAT partition
a computer mounts from the SD card, ``/boot/firmware`` on the Pi): the provisioning
bundle (:mod:`provisioning.bundle`) and the three cloud-init NoCloud files the image
reads at boot (``meta-data``, ``user-data``, ``network-config``: host name, time zone,
locale, no login user unless a technician's SSH key is given (key only, never a
password), the network).

The root file system of the image is read-only (an overlay), so cloud-init renders the
network from ``network-config`` again at every boot: that file stays on the card (with
the Wi-Fi password, as on any Raspberry Pi set up this way); the bundle, with the token,
goes at the first boot.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from provisioning.bundle import FILE_NAME, Bundle, render

LOCALES = {"en": "en_US.UTF-8", "id": "id_ID.UTF-8"}
RESTORE_FILE = "pos-restore.posfleet"  # a replacement's records (pos-fleet export), if any


def _yaml(value: str) -> str:
    """A YAML scalar that is always read back as this string (JSON is YAML)."""
    return json.dumps(value, ensure_ascii=False)


def hostname(terminal_id: str) -> str:
    return f"pos-{terminal_id.lower()}"


def meta_data(bundle: Bundle) -> str:
    t = bundle.terminal
    return f"instance-id: {_yaml('pos-' + t.id)}\nlocal-hostname: {_yaml(hostname(t.id))}\n"


SSH_KEY_TYPES = ("ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384", "ssh-rsa")


def check_ssh_key(line: str) -> str:
    """One OpenSSH public key line; ValueError otherwise (a private key above all)."""
    line = line.strip()
    parts = line.split()
    if "PRIVATE KEY" in line or len(parts) < 2 or parts[0] not in SSH_KEY_TYPES:
        raise ValueError(
            "--technician-key: one OpenSSH public key line (ssh-ed25519 AAAA... name), "
            "never a private key"
        )
    return line


def user_data(bundle: Bundle, technician_key: str = "") -> str:
    t = bundle.terminal
    text = (
        "#cloud-config\n"
        f"# terminal {t.id}: written by pos-provision card\n"
        f"hostname: {_yaml(hostname(t.id))}\n"
        f"timezone: {_yaml(t.timezone)}\n"
        f"locale: {_yaml(LOCALES.get(t.locale, 'en_US.UTF-8'))}\n"
        "disable_root: true\n"
        "ssh_pwauth: false\n"
    )
    if not technician_key:
        return text + "# a kiosk: no login user, no password, no SSH\nusers: []\n"
    return text + (
        "# a technician logs in over SSH with this key only (no password anywhere), to run\n"
        "# pos-hal and read the logs\n"
        "users:\n"
        "  - name: technician\n"
        "    groups: [input, gpio, dialout, video, render, pos, systemd-journal]\n"
        "    shell: /bin/bash\n"
        "    lock_passwd: true\n"
        f"    ssh_authorized_keys: [{_yaml(check_ssh_key(technician_key))}]\n"
        "runcmd:\n"
        "  - [systemctl, start, ssh]\n"
    )


def network_config(bundle: Bundle) -> str:
    lines = [
        "# the shop's network: Ethernet by DHCP, and Wi-Fi when given (pos-provision card)",
        "network:",
        "  version: 2",
        "  ethernets:",
        "    eth0:",
        "      dhcp4: true",
        "      optional: true",
    ]
    if bundle.wifi:
        w = bundle.wifi
        lines += [
            "  wifis:",
            "    wlan0:",
            "      dhcp4: true",
            "      optional: true",
            f"      regulatory-domain: {_yaml(w.country)}",
            "      access-points:",
            f"        {_yaml(w.ssid)}:",
            f"          password: {_yaml(w.password)}" if w.password else "          {}",
        ]
    return "\n".join(lines) + "\n"


def _write(path: Path, text: str) -> Path:
    """Written whole, then renamed into place (a card pulled out early holds the old file
    or the new one, never half of one), and synced: the technician pulls it out next."""
    temporary = path.with_name(f".{path.name}.tmp")
    with open(temporary, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(temporary, path)
    return path


def write_card(boot: Path, bundle: Bundle, technician_key: str = "") -> list[Path]:
    """The bundle and the NoCloud files on the mounted boot partition ``boot``
    (``technician_key``: an SSH public key a technician logs in with; none: no login)."""
    if not boot.is_dir():
        raise FileNotFoundError(f"{boot}: not a directory (mount the card's boot partition)")
    return [
        _write(boot / FILE_NAME, render(bundle)),
        _write(boot / "meta-data", meta_data(bundle)),
        _write(boot / "user-data", user_data(bundle, technician_key)),
        _write(boot / "network-config", network_config(bundle)),
    ]

"""Mosquitto for the fleet: its configuration written from ``fleet/mosquitto/`` with
this installation's paths, and the PKI files it needs (``pos-fleet ca init``).

The test harness (``tests/mosquitto.py``) and ``pos-fleet broker`` write the broker's
configuration through :func:`write_config`, so what is tested is what runs.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from fleet import pki
from fleet.passphrases import passphrase

TEMPLATES = Path(__file__).resolve().parent / "mosquitto"
INGEST_NAME = "fleet-ingest"  # the ingest service's certificate name: its user in the ACLs


def write_config(
    directory: Path,
    *,
    port: int,
    host: str,
    cafile: Path,
    certfile: Path,
    keyfile: Path,
    enroll_port: int | None = None,
) -> Path:
    """``directory``/mosquitto.conf (data and log in ``directory``/data), from the
    repository's configuration and ACLs; with ``enroll_port``, the enrollment listener
    too (TLS without a client certificate, its own ACLs: new terminals ask for their
    certificate there and can do nothing else). Returns the file's path."""
    data = directory / "data"
    data.mkdir(parents=True, exist_ok=True)
    values = {
        "acl_file": TEMPLATES / "acl",
        "enroll_acl_file": TEMPLATES / "acl-enroll",
        "port": port,
        "enroll_port": enroll_port,
        "host": host,
        "cafile": cafile,
        "certfile": certfile,
        "keyfile": keyfile,
        "data_dir": data,
    }
    conf = (TEMPLATES / "mosquitto.conf").read_text().format(**values)
    if enroll_port:
        conf += (TEMPLATES / "enroll-listener.conf").read_text().format(**values)
    if os.geteuid() == 0:  # as root mosquitto would switch to its own user, who cannot
        conf += "user root\n"  # read these files
    path = directory / "mosquitto.conf"
    path.write_text(conf)
    return path


def mosquitto_binary() -> str:
    binary = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
    if not Path(binary).exists():
        raise FileNotFoundError(
            "mosquitto is not installed (Debian: apt-get install mosquitto; make test does it)"
        )
    return binary


def root_dir_for(directory: Path) -> Path:
    """Where ``pos-fleet ca init`` puts the root CA when not told: beside the PKI
    directory (``var/fleet/pki-root``); in production it is moved off-line."""
    return directory.with_name(directory.name + "-root")


def init_pki(
    directory: Path,
    broker_names: list[str],
    *,
    root_dir: Path | None = None,
    passphrase: bytes | None = None,
    root_passphrase: bytes | None = None,
) -> list[Path]:
    """The fleet's PKI in ``directory``: the issuing CA (``ca.key``, ``ca.crt`` with the
    root's certificate after its own), the broker's server certificate and the ingest
    service's client certificate; the root CA in ``root_dir`` (``root-ca.key``,
    ``root-ca.crt``). Each made once (what exists is kept). The CAs' keys are encrypted
    with ``passphrase`` and ``root_passphrase`` when given. Returns the files written."""
    directory.mkdir(parents=True, exist_ok=True)
    root_dir = root_dir or root_dir_for(directory)
    written = []
    if (directory / "ca.key").exists():
        ca = pki.load_authority(directory, passphrase)
    else:
        if (root_dir / "root-ca.key").exists():
            root = pki.load_authority(root_dir, root_passphrase, name="root-ca")
        else:
            root_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
            root = pki.new_authority("pos fleet root CA", days=7300, path_length=1)
            pki.save_authority(root, root_dir, root_passphrase, name="root-ca")
            written += [root_dir / "root-ca.key", root_dir / "root-ca.crt"]
        ca = pki.new_authority("pos fleet issuing CA", days=3650, parent=root)
        pki.save_authority(ca, directory, passphrase, above=(root.certificate,))
        written += [directory / "ca.key", directory / "ca.crt"]
    for name, server_names in (("broker", tuple(broker_names)), (INGEST_NAME, ())):
        if (directory / f"{name}.crt").exists() and (directory / f"{name}.key").exists():
            continue  # issued before: kept (services running with it go on)
        common_name = broker_names[0] if server_names else name
        issued = pki.issue_with_new_key(ca, common_name, server_names=server_names)
        # (unencrypted, 0600: Mosquitto and the ingest start unattended, with no prompt)
        (directory / f"{name}.crt").write_bytes(pki.certificate_pem(issued.certificate))
        pki.write_private(directory / f"{name}.key", pki.key_pem(issued.key))
        written += [directory / f"{name}.crt", directory / f"{name}.key"]
    return written


def issue_terminal(ca_dir: Path, terminal_id: str, out: Path) -> list[Path]:
    """A terminal's client certificate and key (until zero-touch enrollment makes the
    key on the terminal) and the CA certificate, in ``out``: what its ``[fleet]``
    settings point at."""
    ca = pki.load_authority(ca_dir, passphrase("online"))
    issued = pki.issue_with_new_key(ca, terminal_id)
    out.mkdir(parents=True, exist_ok=True)
    (out / "client.crt").write_bytes(pki.certificate_pem(issued.certificate))
    pki.write_private(out / "client.key", pki.key_pem(issued.key))
    (out / "ca.crt").write_bytes(pki.certificate_pem(ca.certificate))
    return [out / "ca.crt", out / "client.crt", out / "client.key"]

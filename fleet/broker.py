"""Mosquitto for the fleet: its configuration written from ``fleet/mosquitto/`` with
this installation's paths, and the PKI files it needs (``pos-fleet ca init``).

The test harness (``tests/mosquitto.py``) and ``pos-fleet broker`` write the broker's
configuration through :func:`write_config`, so what is tested is what runs.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from provisioning import pki

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
) -> Path:
    """``directory``/mosquitto.conf (data and log in ``directory``/data), from the
    repository's configuration and ACLs. Returns the file's path."""
    data = directory / "data"
    data.mkdir(parents=True, exist_ok=True)
    conf = (
        (TEMPLATES / "mosquitto.conf")
        .read_text()
        .format(
            acl_file=TEMPLATES / "acl",
            port=port,
            host=host,
            cafile=cafile,
            certfile=certfile,
            keyfile=keyfile,
            data_dir=data,
        )
    )
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


def init_pki(directory: Path, broker_names: list[str]) -> list[Path]:
    """The fleet CA, the broker's server certificate and the ingest service's client
    certificate, in ``directory``; each made once (what exists is kept). Returns the files
    written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    if (directory / "ca.key").exists():
        ca = pki.load_authority(directory)
    else:
        ca = pki.new_authority("pos fleet CA")
        pki.save_authority(ca, directory)
        written += [directory / "ca.key", directory / "ca.crt"]
    for name, server_names in (("broker", tuple(broker_names)), (INGEST_NAME, ())):
        if (directory / f"{name}.crt").exists() and (directory / f"{name}.key").exists():
            continue  # issued before: kept (services running with it go on)
        common_name = broker_names[0] if server_names else name
        issued = pki.issue_with_new_key(ca, common_name, server_names=server_names)
        (directory / f"{name}.crt").write_bytes(pki.certificate_pem(issued.certificate))
        pki.write_private(directory / f"{name}.key", pki.key_pem(issued.key))
        written += [directory / f"{name}.crt", directory / f"{name}.key"]
    return written


def issue_terminal(ca_dir: Path, terminal_id: str, out: Path) -> list[Path]:
    """A terminal's client certificate and key (until zero-touch enrollment makes the
    key on the terminal) and the CA certificate, in ``out``: what its ``[fleet]``
    settings point at."""
    ca = pki.load_authority(ca_dir)
    issued = pki.issue_with_new_key(ca, terminal_id)
    out.mkdir(parents=True, exist_ok=True)
    (out / "client.crt").write_bytes(pki.certificate_pem(issued.certificate))
    pki.write_private(out / "client.key", pki.key_pem(issued.key))
    (out / "ca.crt").write_bytes(pki.certificate_pem(ca.certificate))
    return [out / "ca.crt", out / "client.crt", out / "client.key"]

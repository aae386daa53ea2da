"""Mosquitto for the fleet: its configuration written from ``fleet/mosquitto/`` with
this installation's paths, and the PKI files it needs (``pos-fleet ca init``). Two
brokers: the fleet's (mutual TLS, terminals and fleet services) and the enrollment
broker (TLS, anonymous terminals asking for their certificate), apart so that nothing an
anonymous client does can reach the fleet's sessions.

The test harness (``tests/mosquitto.py``) and ``pos-fleet broker`` write both through
:func:`write_config` and :func:`write_enroll_config`, so what is tested is what runs.
"""

from __future__ import annotations

import base64
import hashlib
import os
import secrets
import shutil
from pathlib import Path

from fleet import pki
from fleet.passphrases import passphrase

TEMPLATES = Path(__file__).resolve().parent / "mosquitto"
INGEST_NAME = "fleet-ingest"  # the ingest service's certificate name: its user in the ACLs
ENROLLER_NAME = "fleet-enroller"  # the enrollment service's user on the enrollment broker
ENROLLER_SECRET = "enroller.secret"


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
    return _from_template(
        "mosquitto.conf",
        directory,
        acl_file=TEMPLATES / "acl",
        port=port,
        host=host,
        cafile=cafile,
        certfile=certfile,
        keyfile=keyfile,
    )


def _from_template(template: str, directory: Path, **values) -> Path:
    """``directory``/mosquitto.conf from ``fleet/mosquitto/<template>`` with this
    installation's values (data and log in ``directory``/data)."""
    data = directory / "data"
    data.mkdir(parents=True, exist_ok=True)
    conf = (TEMPLATES / template).read_text().format(data_dir=data, **values)
    if os.geteuid() == 0:  # as root mosquitto would switch to its own user, who cannot
        conf += "user root\n"  # read these files
    path = directory / "mosquitto.conf"
    path.write_text(conf)
    return path


def enroller_secret(pki_dir: Path) -> str:
    """The enrollment service's password on the enrollment broker (``enroller.secret``
    in the PKI directory, 0600; made once)."""
    path = pki_dir / ENROLLER_SECRET
    if not path.exists():
        pki.write_private(path, secrets.token_urlsafe(32).encode())
    return path.read_text().strip()


def password_line(user: str, password: str, *, iterations: int = 101) -> str:
    """A line of Mosquitto's password file, as ``mosquitto_passwd`` writes it:
    ``user:$7$iterations$salt$hash`` (PBKDF2-HMAC-SHA512, a 12-byte salt, base64)."""
    salt = os.urandom(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, iterations, 64)
    encode = base64.b64encode
    return f"{user}:$7${iterations}${encode(salt).decode()}${encode(digest).decode()}\n"


def write_enroll_config(
    directory: Path,
    *,
    port: int,
    host: str,
    cafile: Path,
    certfile: Path,
    keyfile: Path,
    secret: str,
) -> Path:
    """The enrollment broker's ``directory``/mosquitto.conf and its password file (the
    enrollment service's only): a Mosquitto of its own (fleet/mosquitto/enroll.conf)."""
    directory.mkdir(parents=True, exist_ok=True)
    passwd = directory / "passwd"
    pki.write_private(passwd, password_line(ENROLLER_NAME, secret).encode())
    return _from_template(
        "enroll.conf",
        directory,
        password_file=passwd,
        acl_file=TEMPLATES / "acl-enroll",
        port=port,
        host=host,
        cafile=cafile,
        certfile=certfile,
        keyfile=keyfile,
    )


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
    if not (directory / ENROLLER_SECRET).exists():
        enroller_secret(directory)
        written.append(directory / ENROLLER_SECRET)
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
    # the trust file as the broker's: the issuing CA and the root above it (with the
    # issuing CA alone, TLS cannot build the broker's chain to a root)
    (out / "ca.crt").write_bytes((ca_dir / "ca.crt").read_bytes())
    return [out / "ca.crt", out / "client.crt", out / "client.key"]

"""Rotating the terminal's MQTT certificate (jobs ``rotate_certificate`` and
``install_certificate``), on the agent's side. The private key is made here and never
leaves the terminal; only its certificate request goes up.

Files, beside ``[fleet] key_file`` and ``cert_file`` (same directory, so a rename is
atomic):

- ``<key_file>.new`` (0600): the waiting key, made by ``rotate_certificate``; its request
  (common name: the terminal id) is reported in the job's ``running`` result;
- on ``install_certificate``, the certificate is checked (PEM, for the waiting key, made
  out to this terminal, issued by a CA of ``ca_file``, valid now) before anything is
  touched; then the current pair is copied to ``<cert_file>.old`` and ``<key_file>.old``
  (0600), and the new certificate and the waiting key are renamed into place;
- :func:`restore` puts the ``.old`` pair back (the broker refused the new one);
  :func:`repair` does it at the agent's start when a stop between the two renames left
  a certificate and a key that do not belong together (the install is finished when the
  waiting key fits the new certificate, else the old pair is put back).

Nothing here logs or returns a private key.
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from terminal.config import FleetSettings

CURVE = ec.SECP256R1()  # what the fleet CA issues for (fleet.pki)


class CertificateRefused(ValueError):
    """The certificate (or the request for one) cannot be used: nothing was changed."""


@dataclass(frozen=True)
class Paths:
    cert: Path
    key: Path

    @property
    def pending_key(self) -> Path:
        return self.key.with_name(self.key.name + ".new")

    @property
    def old_cert(self) -> Path:
        return self.cert.with_name(self.cert.name + ".old")

    @property
    def old_key(self) -> Path:
        return self.key.with_name(self.key.name + ".old")


def paths(fleet: FleetSettings) -> Paths:
    if fleet.cert_file is None or fleet.key_file is None:
        raise CertificateRefused("fleet.cert_file and fleet.key_file are not set")
    return Paths(Path(fleet.cert_file), Path(fleet.key_file))


def _write_private(path: Path, data: bytes) -> None:
    """Written to a 0600 temporary file beside ``path``, synced, then renamed over it."""
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.unlink(missing_ok=True)
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    _sync_directory(path.parent)


def _write_public(path: Path, data: bytes) -> None:
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    temporary.write_bytes(data)
    with open(temporary, "rb+") as fh:
        os.fsync(fh.fileno())
    os.replace(temporary, path)
    _sync_directory(path.parent)


def _sync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _public(key) -> bytes:
    return key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def new_request(fleet: FleetSettings, terminal_id: str) -> str:
    """A new key in ``<key_file>.new`` (0600; a key waiting before is replaced) and its
    certificate request (PEM), common name ``terminal_id``."""
    where = paths(fleet)
    key = ec.generate_private_key(CURVE)
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, terminal_id)]))
        .sign(key, hashes.SHA256())
    )
    _write_private(where.pending_key, _key_pem(key))
    return csr.public_bytes(serialization.Encoding.PEM).decode()


def serial_of(path: Path) -> str:
    """The serial number (hex) of the certificate in ``path``, or '' when unreadable."""
    try:
        return format(x509.load_pem_x509_certificate(path.read_bytes()).serial_number, "x")
    except (OSError, ValueError):
        return ""


def check(fleet: FleetSettings, terminal_id: str, pem: str, now: dt.datetime) -> x509.Certificate:
    """The certificate in ``pem``, if it can replace the current one: for the waiting
    key, made out to ``terminal_id``, issued by a CA of ``ca_file``, valid at ``now``.
    CertificateRefused (saying why) otherwise; nothing is changed either way."""
    where = paths(fleet)
    try:
        certificate = x509.load_pem_x509_certificate(pem.encode())
    except ValueError:
        raise CertificateRefused("not a PEM certificate") from None
    try:
        pending = serialization.load_pem_private_key(where.pending_key.read_bytes(), None)
    except FileNotFoundError:
        raise CertificateRefused(
            "no key waits for a certificate (send rotate_certificate first)"
        ) from None
    except ValueError:
        raise CertificateRefused("the waiting key cannot be read") from None
    try:
        public = certificate.public_key()
    except ValueError:
        raise CertificateRefused("the certificate's key cannot be read") from None
    if not isinstance(public, ec.EllipticCurvePublicKey) or _public(public) != _public(
        pending.public_key()
    ):
        raise CertificateRefused("the certificate is for another key than the one waiting")
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    name = str(names[0].value) if names else ""
    if name != terminal_id:
        raise CertificateRefused(
            f"the certificate is made out to {name[:64]!r}, not to {terminal_id!r}"
        )
    if not certificate.not_valid_before_utc <= now <= certificate.not_valid_after_utc:
        raise CertificateRefused(
            f"the certificate is not valid now (from {certificate.not_valid_before_utc:%Y-%m-%d}"
            f" to {certificate.not_valid_after_utc:%Y-%m-%d})"
        )
    if not any(_issued_by(certificate, ca) for ca in _authorities(fleet)):
        raise CertificateRefused("the certificate is not issued by the fleet CA (fleet.ca_file)")
    return certificate


def _authorities(fleet: FleetSettings) -> list[x509.Certificate]:
    try:
        return x509.load_pem_x509_certificates(Path(fleet.ca_file).read_bytes())
    except (OSError, TypeError, ValueError):
        return []


def _issued_by(certificate: x509.Certificate, ca: x509.Certificate) -> bool:
    try:
        certificate.verify_directly_issued_by(ca)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


def install(fleet: FleetSettings, certificate: x509.Certificate) -> None:
    """The current pair kept as ``.old``, then the new certificate and the waiting key
    put in place (each by a rename)."""
    where = paths(fleet)
    _write_public(where.old_cert, where.cert.read_bytes())
    _write_private(where.old_key, where.key.read_bytes())
    _write_public(where.cert, certificate.public_bytes(serialization.Encoding.PEM))
    os.replace(where.pending_key, where.key)
    _sync_directory(where.key.parent)


def restore(fleet: FleetSettings) -> None:
    """The ``.old`` pair back in place (the new certificate is dropped)."""
    where = paths(fleet)
    _write_public(where.cert, where.old_cert.read_bytes())
    _write_private(where.key, where.old_key.read_bytes())


def matches(cert: Path, key: Path) -> bool:
    """Whether the certificate in ``cert`` is for the key in ``key``."""
    try:
        certificate = x509.load_pem_x509_certificate(cert.read_bytes())
        private = serialization.load_pem_private_key(key.read_bytes(), None)
        return _public(certificate.public_key()) == _public(private.public_key())
    except (OSError, ValueError, TypeError):
        return False


def repair(fleet: FleetSettings) -> bool:
    """At the agent's start: when the certificate and the key do not belong together (a
    stop between the renames of :func:`install`) and the ``.old`` pair does, it is put
    back. Returns whether it was."""
    try:
        where = paths(fleet)
    except CertificateRefused:
        return False
    if not where.cert.exists() or matches(where.cert, where.key):
        return False
    if matches(where.cert, where.pending_key):  # stopped before the key's rename: finish
        os.replace(where.pending_key, where.key)
        _sync_directory(where.key.parent)
        return True
    if not matches(where.old_cert, where.old_key):
        return False
    restore(fleet)
    return True

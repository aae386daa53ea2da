"""The fleet's PKI: a certificate authority that signs the broker's certificate and each
terminal's client certificate (mutual TLS on Mosquitto; the certificate's common name is
the terminal id, which the broker takes as the user name for its ACLs).

Two levels: an offline **root CA** (its key on a USB stick in a safe) certifies an
**issuing CA**, which the fleet server holds and which certifies the broker, the fleet's
services and every terminal. The trust file given to the broker and the terminals
(``ca.crt``) holds both certificates, the issuing CA's first; a single self-signed CA
(development, tests) works the same way.

Keys are ECDSA P-256: what TLS stacks, Mosquitto's OpenSSL and a TPM 2.0 all support. A
terminal makes its own key and sends only a certificate request (:func:`request`) when it
enrolls; ``pos-fleet terminal add`` may still make the key for a technician's bundle
(:func:`issue_with_new_key`). Private keys are written 0600, and encrypted (PKCS#8,
the best encryption ``cryptography`` has) when a passphrase is given
(:mod:`fleet.passphrases`).
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

CURVE = ec.SECP256R1()


@dataclass(frozen=True)
class Authority:
    """A CA: its key and its self-signed certificate."""

    key: ec.EllipticCurvePrivateKey
    certificate: x509.Certificate

    @property
    def name(self) -> str:
        return self.certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value


class KeyLocked(ValueError):
    """An encrypted key without its passphrase, or with a wrong one."""


@dataclass(frozen=True)
class Issued:
    """A certificate and, when it was made here, its key."""

    certificate: x509.Certificate
    key: ec.EllipticCurvePrivateKey | None = None


def new_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(CURVE)


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def new_authority(
    common_name: str,
    *,
    days: int = 3650,
    now: dt.datetime | None = None,
    parent: Authority | None = None,
    path_length: int = 0,
) -> Authority:
    """A CA: self-signed (a root), or certified by ``parent`` (an issuing CA). A root
    above an issuing CA has ``path_length=1``."""
    now = now or dt.datetime.now(dt.UTC)
    key = new_key()
    name = _name(common_name)
    signer_key = parent.key if parent else key
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(parent.certificate.subject if parent else name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=path_length), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=False,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signer_key.public_key()),
            critical=False,
        )
        .sign(signer_key, hashes.SHA256())
    )
    return Authority(key, certificate)


def request(key: ec.EllipticCurvePrivateKey, common_name: str) -> x509.CertificateSigningRequest:
    """What a terminal sends to be certified: its public key, signed, under its id."""
    return (
        x509.CertificateSigningRequestBuilder()
        .subject_name(_name(common_name))
        .sign(key, hashes.SHA256())
    )


def issue(
    ca: Authority,
    csr: x509.CertificateSigningRequest,
    *,
    server_names: tuple[str, ...] = (),
    days: int = 825,
    now: dt.datetime | None = None,
) -> x509.Certificate:
    """Sign ``csr``: a client certificate (a terminal, a fleet service), or with
    ``server_names`` (host names and IP addresses) a broker's server certificate.

    The request's own signature is checked first: it proves the requester holds the key."""
    if not csr.is_signature_valid:
        raise ValueError("the certificate request's signature does not verify")
    attributes = list(csr.subject)
    if (
        len(attributes) != 1
        or attributes[0].oid != NameOID.COMMON_NAME
        or not str(attributes[0].value).strip()
    ):
        raise ValueError("the certificate request's subject is not one common name alone")
    now = now or dt.datetime.now(dt.UTC)
    usage = ExtendedKeyUsageOID.SERVER_AUTH if server_names else ExtendedKeyUsageOID.CLIENT_AUTH
    builder = (
        x509.CertificateBuilder()
        .subject_name(csr.subject)
        .issuer_name(ca.certificate.subject)
        .public_key(csr.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca.key.public_key()), critical=False
        )
    )
    if server_names:
        builder = builder.add_extension(
            x509.SubjectAlternativeName([_general_name(n) for n in server_names]), critical=False
        )
    return builder.sign(ca.key, hashes.SHA256())


def _general_name(name: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(name))
    except ValueError:
        return x509.DNSName(name)


def issue_with_new_key(
    ca: Authority, common_name: str, *, server_names: tuple[str, ...] = (), days: int = 825
) -> Issued:
    """A key made here and its certificate (the broker's; a terminal's until enrollment)."""
    key = new_key()
    certificate = issue(ca, request(key, common_name), server_names=server_names, days=days)
    return Issued(certificate, key)


def certificate_pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def key_pem(key, passphrase: bytes | None = None) -> bytes:
    """A private key as PKCS#8 PEM, encrypted with ``passphrase`` when given."""
    encryption = (
        serialization.BestAvailableEncryption(passphrase)
        if passphrase
        else serialization.NoEncryption()
    )
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption
    )


def load_private_key(path: Path, passphrase: bytes | None = None):
    """The private key in ``path`` (encrypted or not). KeyLocked: encrypted, and no or a
    wrong passphrase; ValueError: not a key."""
    data = path.read_bytes()
    encrypted = b"ENCRYPTED" in data.split(b"\n", 1)[0]
    if encrypted and not passphrase:
        raise KeyLocked(f"{path}: the key is encrypted: give its passphrase")
    try:
        return serialization.load_pem_private_key(data, passphrase if encrypted else None)
    except ValueError:
        if encrypted:
            raise KeyLocked(f"{path}: the passphrase does not open the key") from None
        raise ValueError(f"{path}: not a readable private key") from None


def write_private(path: Path, data: bytes) -> None:
    """A key file readable by its owner only (created so, not chmod-ed after), on the
    disk when this returns (a power cut right after leaves the whole key)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    with open(path, "xb", opener=lambda p, flags: os.open(p, flags, 0o600)) as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def save_authority(
    ca: Authority,
    directory: Path,
    passphrase: bytes | None = None,
    *,
    above: tuple[x509.Certificate, ...] = (),
    name: str = "ca",
) -> None:
    """``name``.key (0600; encrypted with ``passphrase``) and ``name``.crt: the CA's
    certificate, then those ``above`` it (the trust file of broker and terminals)."""
    write_private(directory / f"{name}.key", key_pem(ca.key, passphrase))
    (directory / f"{name}.crt").write_bytes(
        b"".join(certificate_pem(c) for c in (ca.certificate, *above))
    )


def load_authority(directory: Path, passphrase: bytes | None = None, name: str = "ca") -> Authority:
    """The CA of ``name``.key and the first certificate of ``name``.crt."""
    key = load_private_key(directory / f"{name}.key", passphrase)
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{directory / f'{name}.key'}: not an ECDSA key")
    certificate = x509.load_pem_x509_certificate((directory / f"{name}.crt").read_bytes())
    if certificate.public_key() != key.public_key():
        raise ValueError(f"{directory / f'{name}.crt'}: its first certificate is not the key's")
    return Authority(key, certificate)


def common_name_of(certificate: x509.Certificate) -> str:
    return str(certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value)

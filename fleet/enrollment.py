"""Enrollment, the fleet's side: one-time tokens (``pos-provision token``) and the answer
to a terminal that asks for its certificate with one (``terminal.core.enrollment_protocol``).

A token is 24 random bytes (URL-safe text); the database keeps only its SHA-256, with the
terminal id, store, group and time zone it was made for and when it expires. Answering a
request, in one write transaction: the token is looked up; a request of another terminal
id, a certificate request that does not verify or is not for a P-256 key, or a journal
key that is not Ed25519 is refused as a bad request; an unknown token, an expired one, or
one already used by another key is refused with the reason. Otherwise the issuing CA
signs the request, the terminal is registered with its journal key (a replacement's key
is added beside its predecessor's) and the token is marked used with the key's hash and
the certificate: the same key asking again (an answer lost, a first boot retried) gets
that certificate again, never a second one.
"""

from __future__ import annotations

import hashlib
import logging
import re
import secrets
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import peewee
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from fleet import pki
from fleet import rollout as rollouts
from fleet import signing as fleet_signing
from fleet.db import write_transaction
from fleet.models import EnrollmentToken, Terminal
from fleet.passphrases import PassphraseError
from fleet.registry import check_timezone, record_secrets_key, register_terminal
from fleet.secrets import SecretError, TerminalSealer
from terminal.core import enrollment_protocol as ep
from terminal.core import fleet_protocol as fp
from terminal.store.journal_format import load_public_key

log = logging.getLogger(__name__)

DEFAULT_VALID = timedelta(hours=72)
TERMINAL_ID = re.compile(r"[A-Z0-9]{1,8}")  # never a fleet service's name (fleet-ingest)
CERTIFICATE_DAYS = 825


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def check_name(text: str, what: str) -> str:
    """A store's or group's name: printable, 100 characters at most (it goes into files
    a terminal reads: its configuration, cloud-init's)."""
    if len(text) > 100 or any(unicodedata.category(c).startswith("C") for c in text):
        raise ValueError(f"{what}: {text[:40]!r}: printable characters, 100 at most")
    return text


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class MadeToken:
    token: str  # shown once: it goes into the provisioning bundle
    terminal_id: str
    store: str
    group: str
    timezone: str
    expires_at: datetime


def make_token(
    db: peewee.Database,
    terminal_id: str,
    *,
    store: str,
    group: str = "",
    timezone: str = "UTC",
    now: datetime,
    valid: timedelta = DEFAULT_VALID,
) -> MadeToken:
    """A new token for ``terminal_id`` (a new terminal, or the replacement of one).
    ValueError for a malformed id, time zone or validity."""
    if not TERMINAL_ID.fullmatch(terminal_id):  # the terminal's own rule (pos.toml)
        raise ValueError(
            f"not a terminal id: {terminal_id!r} (1 to 8 capital letters and digits, e.g. T07)"
        )
    check_timezone(timezone)
    if not store.strip():
        raise ValueError("a token names the store the terminal is for (--store)")
    for what, text in (("store", store), ("group", group)):
        check_name(text, what)
    if not timedelta(minutes=5) <= valid <= timedelta(days=30):
        raise ValueError("a token is valid for 5 minutes to 30 days")
    token = secrets.token_urlsafe(24)
    EnrollmentToken.insert(
        token_hash=token_hash(token),
        terminal_id=terminal_id,
        store=store.strip(),
        group=group.strip(),
        timezone=timezone,
        created_at=now,
        expires_at=now + valid,
    ).execute(db)
    return MadeToken(token, terminal_id, store.strip(), group.strip(), timezone, now + valid)


def tokens(db: peewee.Database) -> list[EnrollmentToken]:
    return list(EnrollmentToken.select().order_by(EnrollmentToken.created_at.desc()).bind(db))


# -- answering ----------------------------------------------------------------------------------
class Unavailable(Exception):
    """The fleet cannot certify now (its issuing CA's key is missing or locked)."""


@dataclass(frozen=True)
class Answered:
    answer: ep.EnrollAnswer
    bundle: fp.ConfigBundle | None = None  # the enrolled terminal's configuration (down/cfg)
    terminal_id: str = ""


def _refused(reason: str, message: str) -> Answered:
    return Answered(ep.EnrollAnswer(result="refused", reason=reason, message=message[:200]))


def _key_hash(csr: x509.CertificateSigningRequest) -> str:
    der = csr.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return hashlib.sha256(der).hexdigest()


class Enroller:
    """Answers enrollment requests with the issuing CA of ``pki_dir`` (its key opened
    with ``passphrase``, when it is encrypted) and the configuration of ``signing_dir``."""

    def __init__(
        self,
        db: peewee.Database,
        pki_dir: Path,
        signing_dir: Path,
        *,
        passphrase: Callable[[], bytes | None] = lambda: None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.db = db
        self.pki_dir = pki_dir
        self.signing_dir = signing_dir
        self.passphrase = passphrase
        self.clock = clock
        self._ca: pki.Authority | None = None

    def ca(self) -> pki.Authority:
        if self._ca is None:
            try:
                self._ca = pki.load_authority(self.pki_dir, self.passphrase())
            except (OSError, ValueError, PassphraseError) as exc:  # KeyLocked is a ValueError
                raise Unavailable(str(exc)) from None
        return self._ca

    def answer(self, request_id: str, payload: bytes) -> Answered:
        try:
            request = ep.decode("enroll-req", payload)
        except fp.BadMessage as exc:
            return _refused("bad request", f"the request is malformed: {exc}")
        if request.request != request_id:
            return _refused("bad request", "the request names another request id")
        row = self._token(request.token)
        if row is None:
            return _refused(
                "unknown token",
                "the fleet does not know this enrollment token: make a new one "
                "(pos-provision token) and a new card",
            )
        try:
            csr = x509.load_pem_x509_csr(request.csr.encode())
            journal_key = request.journal_key.encode()
            self._check(csr, row.terminal_id, journal_key)
        except ValueError as exc:
            return _refused("bad request", str(exc))
        try:
            return self._enroll(row.token_hash, csr, request, journal_key)
        except Unavailable as exc:
            log.error("enrollment of %s not possible: %s", row.terminal_id, exc)
            return _refused(
                "not available", "the fleet cannot issue certificates now: try again later"
            )

    def _token(self, token: str) -> EnrollmentToken | None:
        return (
            EnrollmentToken.select()
            .where(EnrollmentToken.token_hash == token_hash(token))
            .bind(self.db)
            .first()
        )

    @staticmethod
    def _check(csr: x509.CertificateSigningRequest, terminal_id: str, journal_key: bytes) -> None:
        if not csr.is_signature_valid:
            raise ValueError("the certificate request's signature does not verify")
        names = list(csr.subject)  # one common name, the token's terminal id, and no more
        if len(names) != 1 or names[0].oid != NameOID.COMMON_NAME or names[0].value != terminal_id:
            raise ValueError(f"the certificate request is not made out to {terminal_id} alone")
        key = csr.public_key()
        if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
            raise ValueError("the certificate request is not for an ECDSA P-256 key")
        try:
            load_public_key(journal_key)
        except (ValueError, TypeError):
            raise ValueError("the journal key is not an Ed25519 public key in PEM") from None

    def _enroll(
        self,
        token_digest: str,
        csr: x509.CertificateSigningRequest,
        request: ep.EnrollRequest,
        journal_key: bytes,
    ) -> Answered:
        now = self.clock()
        key_hash = _key_hash(csr)
        with write_transaction(self.db):
            # held until the transaction ends: two devices with one token at the same
            # moment are answered one after the other (SQLite's write transaction holds
            # the whole database already; PostgreSQL locks the row)
            query = EnrollmentToken.select().where(EnrollmentToken.token_hash == token_digest)
            if not isinstance(self.db, peewee.SqliteDatabase):
                query = query.for_update()
            row = query.bind(self.db).get()
            if row.used_at is not None and row.key_sha256 != key_hash:
                return _refused(
                    "token used",
                    f"this token was used at {row.used_at:%Y-%m-%d %H:%M} UTC by another "
                    "device: make a new one",
                )
            if row.used_at is None:
                if row.expires_at <= now:
                    return _refused(
                        "token expired",
                        f"this token expired at {row.expires_at:%Y-%m-%d %H:%M} UTC: make a "
                        "new one",
                    )
                ca = self.ca()
                issued = pki.issue(ca, csr, days=CERTIFICATE_DAYS, now=now.replace(tzinfo=UTC))
                chain = (pki.certificate_pem(issued) + pki.certificate_pem(ca.certificate)).decode()
                register_terminal(
                    self.db,
                    row.terminal_id,
                    store=row.store,
                    group=row.group,
                    public_key_pem=journal_key,
                    timezone=row.timezone,
                    clock=lambda: now.replace(tzinfo=UTC),
                )
                if request.secrets_key:
                    record_secrets_key(self.db, row.terminal_id, request.secrets_key, now)
                EnrollmentToken.update(used_at=now, key_sha256=key_hash, certificate=chain).where(
                    EnrollmentToken.token_hash == token_digest
                ).execute(self.db)
                log.info("terminal %s enrolled (store %s)", row.terminal_id, row.store)
            else:
                chain = row.certificate  # the same key again: the same certificate
                log.info("terminal %s asked again: its certificate sent again", row.terminal_id)
        terminal = Terminal.select().where(Terminal.id == row.terminal_id).bind(self.db).get()
        return self._enrolled(terminal, chain)

    def _enrolled(self, terminal: Terminal, chain: str) -> Answered:
        trust = (self.pki_dir / "ca.crt").read_text()
        root = self.signing_dir / fleet_signing.ROOT_PUBLIC
        bundle = None
        if (self.signing_dir / fleet_signing.KEY_LIST).exists():
            keys = rollouts.key_list(self.signing_dir)
            try:
                seal = TerminalSealer(self.db, self.signing_dir)
                bundle = rollouts.bundle_for(self.db, terminal, keys, seal=seal)
            except (SecretError, fleet_signing.SigningError) as exc:
                log.warning("%s: its PINs not sealed at enrollment: %s", terminal.id, exc)
                bundle = rollouts.bundle_for(self.db, terminal, keys)
        answer = ep.EnrollAnswer(
            result="enrolled",
            terminal_id=terminal.id,
            store=terminal.store,
            group=terminal.group,
            timezone=terminal.timezone,
            certificate=chain,
            ca=trust,
            config_root_key=root.read_text() if root.exists() else "",
            key_list=bundle.key_list if bundle else "",
            documents=list(bundle.documents) if bundle else [],
        )
        return Answered(answer, bundle if bundle and bundle.documents else None, terminal.id)

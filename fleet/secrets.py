"""PINs and passkeys the fleet's admins set centrally (``pos-fleet secret set``).

A value is never stored or sent as typed. ``secret set`` seals it at once to the
fleet's own **secrets key** (X25519, ``secrets.key`` 0600 beside the signing keys; its
public half ``secrets.pub``) and stores only that (:class:`~fleet.models.ConfigSecret`,
per scope and name). Each push opens the values the terminal's effective document uses
(its cashiers' PINs, its passkey categories' codes; the most specific scope's value
wins) and seals them again to that terminal's own key, which the terminal reports in its
state (:class:`~fleet.models.TerminalSecretsKey`). The sealed values travel signed beside
the documents (:mod:`terminal.core.config_secrets`); the terminal hashes them on
arrival. So the database, the broker's retained messages and its persistence file hold
sealed values only, and whoever holds the database without the signing directory holds
nothing usable.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cached_property
from pathlib import Path

import peewee
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey

from fleet import signing as fleet_signing
from fleet.db import write_transaction
from fleet.models import ConfigSecret, Terminal, TerminalSecretsKey
from fleet.passphrases import PassphraseError, passphrase
from fleet.pki import KeyLocked, key_pem, load_private_key, write_private
from terminal.core import config_secrets as cs
from terminal.core import signed_config as sc
from terminal.core.central_staff import secret_names
from terminal.core.pins import PinRuleError, check_cashier_pin, check_passkey

SECRETS_KEY = "secrets.key"
SECRETS_PUBLIC = "secrets.pub"


class SecretError(ValueError):
    """A secret that cannot be set, or sealed for a terminal; nothing changed."""


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


# -- the fleet's secrets key ------------------------------------------------------------------
def ensure_key(signing_dir: Path) -> X25519PublicKey:
    """The secrets key's public half, the pair made at the first use (0600)."""
    private_path, public_path = signing_dir / SECRETS_KEY, signing_dir / SECRETS_PUBLIC
    if not private_path.exists():
        if not signing_dir.is_dir():
            raise SecretError(f"{signing_dir}: no signing directory (pos-fleet keys init)")
        key = X25519PrivateKey.generate()
        write_private(
            private_path,
            key_pem(key, passphrase("online")),
        )
        public_path.write_text(cs.public_hex(key) + "\n")
    return cs.load_public_hex(public_path.read_text().strip())


def _private(signing_dir: Path) -> X25519PrivateKey:
    try:
        key = load_private_key(signing_dir / SECRETS_KEY, passphrase("online"))
    except (KeyLocked, PassphraseError) as exc:
        raise SecretError(str(exc)) from None
    except FileNotFoundError:
        raise SecretError(
            f"{signing_dir / SECRETS_KEY}: missing (the secrets were set with another "
            "signing directory)"
        ) from None
    if not isinstance(key, X25519PrivateKey):
        raise SecretError(f"{signing_dir / SECRETS_KEY}: not an X25519 key")
    return key


# -- setting ----------------------------------------------------------------------------------
def check_value(name: str, value: str) -> str:
    """The terminal's own rules for the value: SecretError (without the value) if broken."""
    cs.check_name(name)
    check = check_passkey if name.startswith("passkey:") else check_cashier_pin
    try:
        return check(value)
    except PinRuleError as exc:
        raise SecretError(f"{name}: {exc}") from None


def set_secret(
    db: peewee.Database, signing_dir: Path, scope: sc.Scope, name: str, value: str
) -> None:
    """Seal ``value`` to the fleet's secrets key and keep it for ``scope``."""
    check_value(name, value)
    sealed = cs.seal(ensure_key(signing_dir), cs.escrow_context(scope, name), value)
    now = utcnow()
    with write_transaction(db):
        ConfigSecret.insert(scope=scope.label, name=name, sealed=sealed, set_at=now).on_conflict(
            conflict_target=[ConfigSecret.scope, ConfigSecret.name],
            update={ConfigSecret.sealed: sealed, ConfigSecret.set_at: now},
        ).execute(db)


def remove_secret(db: peewee.Database, scope: sc.Scope, name: str) -> bool:
    with write_transaction(db):
        return bool(
            ConfigSecret.delete()
            .where((ConfigSecret.scope == scope.label) & (ConfigSecret.name == name))
            .execute(db)
        )


def list_secrets(db: peewee.Database, scope: sc.Scope | None = None) -> list[ConfigSecret]:
    query = ConfigSecret.select().order_by(ConfigSecret.scope, ConfigSecret.name)
    if scope is not None:
        query = query.where(ConfigSecret.scope == scope.label)
    return list(query.bind(db))


# -- sealing for a terminal -------------------------------------------------------------------
def _payload(envelope: str) -> bytes:
    return base64.b64decode(json.loads(envelope)["payload"])


@dataclass
class TerminalSealer:
    """Seals, for each terminal a push sends to, the secrets its documents use, and signs
    them with a key that may sign for ``scope`` (the pushed document's). ``missing``: the
    terminals that needed secrets but have not reported their key yet (they get the
    documents without them; a cashier waiting for a PIN cannot sign in there)."""

    db: peewee.Database
    signing_dir: Path
    scope: sc.Scope | None = None  # None: the first of the documents' scopes a key may sign
    key: str | None = None
    expires: timedelta = timedelta(days=fleet_signing.DEFAULT_CONFIG_DAYS)
    missing: set[str] = field(default_factory=set)
    # per set of envelopes (most terminals of a push share one): the names the effective
    # document uses, the payloads' SHA-256 and scopes; a catalogue is parsed once, not
    # once per terminal
    _seen: dict[tuple[str, ...], tuple[set[str], list[str], list[dict]]] = field(
        default_factory=dict
    )
    _signers: dict[tuple, object] = field(default_factory=dict)

    def _documents(self, envelopes: list[str]) -> tuple[set[str], list[str], list[dict]]:
        key = tuple(envelopes)
        if key not in self._seen:
            payloads = [_payload(envelope) for envelope in envelopes]
            decoded = [json.loads(p) for p in payloads]
            wanted = set(secret_names(sc.effective_document(*(d["document"] for d in decoded))))
            hashes = [hashlib.sha256(p).hexdigest() for p in payloads]
            self._seen = {key: (wanted, hashes, [d["scope"] for d in decoded])}  # the last
        return self._seen[key]

    @cached_property
    def _escrow(self) -> X25519PrivateKey:
        return _private(self.signing_dir)

    def _signer_for(self, scopes: tuple[tuple[str, str], ...]):
        """The signing key for these documents' scopes, read once per push (one sealer a
        push), not once per terminal."""
        if scopes not in self._signers:
            self._signers[scopes] = self._signer(
                [{"kind": kind, "name": name} for kind, name in scopes]
            )
        return self._signers[scopes]

    def _signer(self, scopes: list[dict]):
        candidates = [self.scope] if self.scope else [sc.Scope(**s) for s in scopes]
        for scope in candidates:
            try:
                return fleet_signing.signer_for(self.signing_dir, scope, self.key)[1]
            except fleet_signing.SigningError:
                if scope is candidates[-1]:
                    raise
        raise fleet_signing.SigningError("no document to sign the secrets for")

    def __call__(self, terminal: Terminal, envelopes: list[str]) -> str:
        wanted, hashes, scopes = self._documents(envelopes)
        if not wanted:
            return ""
        labels = ["fleet", f"group:{terminal.group}", f"terminal:{terminal.id}"]
        rows = (
            ConfigSecret.select()
            .where(ConfigSecret.scope.in_(labels) & ConfigSecret.name.in_(sorted(wanted)))
            .bind(self.db)
        )
        chosen: dict[str, ConfigSecret] = {}
        for row in sorted(rows, key=lambda r: labels.index(r.scope)):
            chosen[row.name] = row  # a more specific scope's value replaces
        if not chosen:
            return ""
        public = (
            TerminalSecretsKey.select(TerminalSecretsKey.public_key)
            .where(TerminalSecretsKey.terminal_id == terminal.id)
            .bind(self.db)
            .scalar()
        )
        if not public:
            self.missing.add(terminal.id)
            return ""
        terminal_public = cs.load_public_hex(public)
        escrow = self._escrow
        sealed = {}
        for name, row in sorted(chosen.items()):
            scope = sc.parse_scope(row.scope)
            try:
                value = cs.open_sealed(escrow, cs.escrow_context(scope, name), row.sealed)
            except ValueError:
                raise SecretError(
                    f"{row.scope} {name}: not sealed to {self.signing_dir / SECRETS_KEY}; "
                    "set it again (pos-fleet secret set)"
                ) from None
            sealed[name] = cs.seal(terminal_public, cs.terminal_context(terminal.id, name), value)
        private = self._signer_for(tuple((s["kind"], s["name"]) for s in scopes))
        now = datetime.now(UTC)
        return cs.sign_secrets(
            private, terminal.id, hashes, sealed, now, now + self.expires
        ).decode()

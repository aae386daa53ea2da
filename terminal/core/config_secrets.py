"""PINs and passkeys from the fleet: sealed to one terminal, signed for its documents.

A configuration document names the people and the approval (``cashiers``, ``passkeys``:
:mod:`terminal.core.central_staff`), never their codes. The codes travel beside the
documents in the terminal's bundle, as a ``terminal_secrets`` payload in the same signed
envelope as a document (:mod:`terminal.core.signed_config`)::

    {"type": "terminal_secrets", "terminal": "T01", "issued_at", "expires_at",
     "documents": ["<sha256 of each document's payload>", ...],
     "secrets": {"cashier:7": "<sealed>", "passkey:discounts": "<sealed>"}}

Each value is sealed to the terminal's own X25519 key with HPKE (RFC 9180, base mode:
DHKEM(X25519, HKDF-SHA256), HKDF-SHA256, ChaCha20-Poly1305, as ``cryptography``
implements it). The HPKE ``info`` binds the terminal id and the secret's name, so a
sealed value opens only on that terminal and only as that secret; ``documents`` binds the
payload to the documents it goes with, so it cannot be replayed beside other ones. The
terminal opens the values when it applies the configuration and hashes them with its
pepper at once (the plaintext lives in memory for that moment only).

The terminal's X25519 key is derived from its sealing key (HKDF, its own ``info``), so
the key store keeps no further key and a restored key store gives the same key.

The fleet keeps the codes its admins set sealed the same way to its own secrets key
(``escrow_context``), and seals them again to each terminal at each push.

Pure: the standard library, ``cryptography`` and ``msgspec``.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Literal

import msgspec
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hpke, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from terminal.core.approval import CATEGORIES
from terminal.core.signed_config import (
    ConfigRefused,
    Moment,
    Scope,
    Trust,
    _check_period,
    _decode_payload,
    _envelope,
    _verified_payload,
    canonical_json,
    iso,
    scope_allowed,
    sign,
)

TERMINAL_SECRETS = "terminal_secrets"
SUITE = hpke.Suite(hpke.KEM.X25519, hpke.KDF.HKDF_SHA256, hpke.AEAD.CHACHA20_POLY1305)
KEY_INFO = b"pos-terminal config secrets x25519 v1"
MAX_SECRETS = 1000
MAX_VALUE_CHARS = 64  # a PIN is 4-8 digits, a passkey 6: room to spare, not for a file
SECRET_NAME = re.compile(rf"^(cashier:[1-9][0-9]{{0,5}}|passkey:({'|'.join(CATEGORIES)}))$")

Sha256 = Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{64}$")]
Sealed = Annotated[str, msgspec.Meta(max_length=400)]


class SecretsPayload(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    type: Literal["terminal_secrets"]
    terminal: Annotated[str, msgspec.Meta(max_length=64)]
    issued_at: Moment
    expires_at: Moment
    documents: Annotated[list[Sha256], msgspec.Meta(max_length=3)]
    secrets: Annotated[dict[str, Sealed], msgspec.Meta(max_length=MAX_SECRETS)]


def cashier_secret(cashier_id: int) -> str:
    return f"cashier:{cashier_id}"


def passkey_secret(category: str) -> str:
    return f"passkey:{category}"


def check_name(name: str) -> str:
    """``cashier:ID`` (1-999999) or ``passkey:CATEGORY``; ValueError otherwise."""
    if not isinstance(name, str) or not SECRET_NAME.match(name):
        raise ValueError(
            f"secret {name!r}: cashier:ID (1-999999) or passkey:CATEGORY ({', '.join(CATEGORIES)})"
        )
    return name


# -- keys -------------------------------------------------------------------------------------
def terminal_key(material: bytes) -> X25519PrivateKey:
    """The terminal's X25519 key, derived from a secret of its key store (the sealing key)."""
    derived = HKDF(hashes.SHA256(), 32, salt=None, info=KEY_INFO).derive(material)
    return X25519PrivateKey.from_private_bytes(derived)


def public_hex(key: X25519PrivateKey | X25519PublicKey) -> str:
    """The raw public key as 64 hex digits (how the terminal reports it)."""
    public = key.public_key() if isinstance(key, X25519PrivateKey) else key
    return public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def load_public_hex(text: str) -> X25519PublicKey:
    """An X25519 public key from 64 hex digits. ValueError otherwise."""
    try:
        raw = bytes.fromhex(text)
        if len(raw) != 32:
            raise ValueError
        return X25519PublicKey.from_public_bytes(raw)
    except (ValueError, TypeError):
        raise ValueError("not an X25519 public key (64 hex digits)") from None


# -- sealing ----------------------------------------------------------------------------------
def terminal_context(terminal_id: str, name: str) -> bytes:
    return f"pos config secret v1|terminal|{terminal_id}|{name}".encode()


def escrow_context(scope: Scope, name: str) -> bytes:
    return f"pos config secret v1|escrow|{scope.label}|{name}".encode()


def seal(public: X25519PublicKey, context: bytes, value: str) -> str:
    """``value`` sealed to ``public`` (HPKE base mode), bound to ``context``; base64."""
    if not isinstance(value, str) or not 0 < len(value) <= MAX_VALUE_CHARS:
        raise ValueError(f"a secret is 1-{MAX_VALUE_CHARS} characters")
    sealed = SUITE.encrypt(value.encode(), public, info=context)
    return base64.b64encode(sealed).decode("ascii")


def open_sealed(private: X25519PrivateKey, context: bytes, sealed: str) -> str:
    """The value of ``sealed``; ValueError when it is not for this key and context."""
    try:
        data = base64.b64decode(sealed, validate=True)
        value = SUITE.decrypt(data, private, info=context).decode()
    except (binascii.Error, ValueError, InvalidTag, UnicodeDecodeError):
        raise ValueError("cannot be opened with this key (sealed for another)") from None
    if not 0 < len(value) <= MAX_VALUE_CHARS:
        raise ValueError("not a secret's value")
    return value


# -- the signed payload -----------------------------------------------------------------------
def secrets_payload(
    terminal_id: str,
    documents: Iterable[str],
    sealed: dict[str, str],
    issued_at: datetime,
    expires_at: datetime,
) -> bytes:
    return canonical_json(
        {
            "type": TERMINAL_SECRETS,
            "terminal": terminal_id,
            "issued_at": iso(issued_at),
            "expires_at": iso(expires_at),
            "documents": list(documents),
            "secrets": {check_name(name): value for name, value in sealed.items()},
        }
    )


def sign_secrets(
    key: Ed25519PrivateKey,
    terminal_id: str,
    documents: Iterable[str],
    sealed: dict[str, str],
    issued_at: datetime,
    expires_at: datetime,
) -> bytes:
    """The envelope of the terminal's sealed secrets, signed by a signing key."""
    return sign(key, secrets_payload(terminal_id, documents, sealed, issued_at, expires_at))


def verify_secrets(
    data: bytes,
    *,
    trust: Trust,
    terminal_id: str,
    scopes: Iterable[Scope],
    documents: Iterable[str],
    now: datetime,
) -> dict[str, str]:
    """The sealed secrets for this terminal (name -> sealed), or ConfigRefused: the
    envelope, its key (trusted, not revoked, allowed for one of ``scopes``: those of the
    documents beside it), its signature, this terminal, its period, and the documents it
    was signed for (``documents``: their SHA-256, as the bundle carries them)."""
    envelope = _envelope(data)
    key = trust.signing_key(envelope.key_id, now)
    payload = _verified_payload(envelope, key.public_key)
    decoded: SecretsPayload = _decode_payload(payload, SecretsPayload, "secrets")
    scopes = list(scopes)
    if not any(scope_allowed(scope, key.scopes) for scope in scopes):
        raise ConfigRefused(
            "wrong_scope", f"key {key.key_id} may not sign secrets for these documents"
        )
    if decoded.terminal != terminal_id:
        raise ConfigRefused(
            "wrong_scope", f"secrets for {decoded.terminal}, not this terminal ({terminal_id})"
        )
    _check_period(decoded.issued_at, decoded.expires_at, now, "the secrets")
    if sorted(decoded.documents) != sorted(documents):
        raise ConfigRefused("wrong_scope", "secrets signed for other documents than these")
    for name in decoded.secrets:
        try:
            check_name(name)
        except ValueError as exc:
            raise ConfigRefused("malformed", str(exc)) from None
    return dict(decoded.secrets)


def open_secrets(
    private: X25519PrivateKey, terminal_id: str, sealed: dict[str, str], wanted: Iterable[str]
) -> dict[str, str]:
    """The values of the ``wanted`` secrets that ``sealed`` holds, opened with the
    terminal's key. ConfigRefused (``invalid``) for one that does not open: nothing of
    the configuration is applied then."""
    opened: dict[str, str] = {}
    for name in wanted:
        if name not in sealed:
            continue
        try:
            opened[name] = open_sealed(private, terminal_context(terminal_id, name), sealed[name])
        except ValueError as exc:
            raise ConfigRefused("invalid", f"secret {name}: {exc}") from None
    return opened

"""Signed shop configuration: the envelope, the chain of trust, and the merge of scopes.

A configuration document travels as an **envelope**, a JSON object::

    {"key_id": "<16 hex>", "signature": "<128 hex>", "payload": "<base64>"}

``signature`` is Ed25519 over the exact payload bytes. The verifier checks the size, decodes
the envelope strictly, looks the key up, checks the signature over the raw bytes, and only
then parses the payload (verify before parse). Two payloads use it:

- ``shop_config``: ``{"type", "scope": {"kind": "fleet"|"group"|"terminal", "name"},
  "version", "issued_at", "expires_at", "document"}``, signed by a signing key;
- ``signing_keys``: ``{"type", "version", "issued_at", "expires_at", "keys": [{"key_id",
  "public_key", "scopes"}], "revoked": [key_id, ...]}``, signed by the root key, which the
  terminal pins at enrollment. Signing keys rotate by a new key list; terminals are not
  touched.

Following TUF's threat model: every version only goes up (a replayed or older document or
key list is refused: rollback), everything expires (a frozen, withheld update cannot keep
an old one valid forever: freeze), and a document is judged against the key list the
terminal holds, with its scope bound into the signed bytes (mix-and-match: a document for
another group or terminal, or a key used beyond its scopes, is refused).

Refusals raise :class:`ConfigRefused` with a reason code (:data:`REASONS`). Messages name
key ids, scopes and versions, never key material. Times are injected (``now``).

Pure: the standard library, ``cryptography`` and ``msgspec``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import msgspec
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

MAX_ENVELOPE_BYTES = 8 * 1024 * 1024

REASONS = (
    "unsigned",  # no signature at all (e.g. a bare document)
    "malformed",  # not an envelope, or a payload that does not decode to its type
    "unknown_key",  # signed by a key the accepted key list does not hold (or none accepted)
    "revoked_key",  # signed by a key the key list revokes
    "bad_signature",  # the signature does not match the payload bytes
    "replay",  # a version older than or equal to the one applied for that scope
    "expired",  # the document, or the key list it is judged by, has expired
    "wrong_scope",  # another terminal's or group's, or beyond what its key may sign
    "oversized",  # over MAX_ENVELOPE_BYTES
    "invalid",  # the document's content is refused (sections; later: the shop checks)
)

# The shop's sections of the settings (terminal.config takes them from here), and what a
# document may carry: those and the products to add or change.
SHOP_SECTIONS = (
    "store",
    "taxes",
    "weighed_barcodes",
    "keys",
    "approval",
    "fraud",
    "loyalty",
    "cash_reasons",
)
# ``cashiers`` and ``passkeys``: who may sign in and approve (terminal.core.central_staff)
DOCUMENT_SECTIONS = (*SHOP_SECTIONS, "products", "cashiers", "passkeys")
LIST_SECTIONS = ("products", "weighed_barcodes", "cashiers")

# lists merged entry by entry on this key (a more specific scope replaces the whole entry
# with the same key, and adds new ones); every other list is replaced whole
KEYED_LISTS = {"products": "sku", "cashiers": "id"}

SCOPE_KINDS = ("fleet", "group", "terminal")
SHOP_CONFIG = "shop_config"
SIGNING_KEYS = "signing_keys"

KeyId = Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{16}$")]
Version = Annotated[int, msgspec.Meta(ge=1, le=2**53)]
Moment = Annotated[datetime, msgspec.Meta(tz=True)]
Name = Annotated[str, msgspec.Meta(max_length=100)]


class ConfigRefused(Exception):
    """A document or key list refused; ``reason`` is one of :data:`REASONS`."""

    def __init__(self, reason: str, message: str):
        assert reason in REASONS, reason
        super().__init__(f"{reason}: {message}")
        self.reason = reason
        self.message = message


# -- the wire formats -------------------------------------------------------------------------
class Envelope(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    key_id: KeyId
    signature: Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{128}$")]
    payload: str


class Scope(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    kind: Literal["fleet", "group", "terminal"]
    name: Name = ""

    @property
    def label(self) -> str:
        """``fleet``, ``group:NAME`` or ``terminal:TID``: the key of applied versions."""
        return "fleet" if self.kind == "fleet" else f"{self.kind}:{self.name}"


class ConfigPayload(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    type: Literal["shop_config"]
    scope: Scope
    version: Version
    issued_at: Moment
    expires_at: Moment
    document: dict[str, Any]


class KeyEntry(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    key_id: KeyId
    public_key: Annotated[str, msgspec.Meta(max_length=1000)]
    scopes: list[Annotated[str, msgspec.Meta(max_length=120)]] | None = None


class KeyListPayload(msgspec.Struct, forbid_unknown_fields=True, frozen=True):
    type: Literal["signing_keys"]
    version: Version
    issued_at: Moment
    expires_at: Moment
    keys: list[KeyEntry]
    revoked: list[KeyId] = msgspec.field(default_factory=list)


# -- keys and bytes ---------------------------------------------------------------------------
def canonical_json(value: Any) -> bytes:
    """Sorted keys, no spaces, UTF-8 (as the journal's): one byte string per value."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def raw_public(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def key_id(public_key: Ed25519PublicKey) -> str:
    """First 16 hex digits of SHA-256 of the raw public key (as the journal's key ids)."""
    return hashlib.sha256(raw_public(public_key)).hexdigest()[:16]


def load_public_key(text: str | bytes) -> Ed25519PublicKey:
    """An Ed25519 public key from PEM or 64 hex digits (raw). ValueError otherwise."""
    if isinstance(text, bytes):
        text = text.decode("ascii", "replace")
    text = text.strip()
    if text.startswith("-----BEGIN"):
        try:
            key = serialization.load_pem_public_key(text.encode())
        except (ValueError, UnsupportedAlgorithm):
            raise ValueError("not a PEM public key") from None
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("not an Ed25519 public key")
        return key
    if len(text) != 64:
        raise ValueError("not an Ed25519 public key (PEM or 64 hex digits)")
    try:
        return Ed25519PublicKey.from_public_bytes(bytes.fromhex(text))
    except ValueError:
        raise ValueError("not an Ed25519 public key (PEM or 64 hex digits)") from None


def public_pem(public_key: Ed25519PublicKey) -> str:
    return public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def iso(at: datetime) -> str:
    """A moment as the payloads write it: ISO 8601 in UTC, seconds, ``Z``."""
    if at.tzinfo is None:
        raise ValueError("a naive datetime: give the time zone")
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def sign(private_key: Ed25519PrivateKey, payload: bytes) -> bytes:
    """The envelope of ``payload`` (bytes, signed as they are) by ``private_key``."""
    envelope = {
        "key_id": key_id(private_key.public_key()),
        "signature": private_key.sign(payload).hex(),
        "payload": base64.b64encode(payload).decode("ascii"),
    }
    return json.dumps(envelope, indent=1).encode() + b"\n"


def config_payload(
    scope: Scope, version: int, issued_at: datetime, expires_at: datetime, document: dict
) -> bytes:
    return canonical_json(
        {
            "type": SHOP_CONFIG,
            "scope": {"kind": scope.kind, "name": scope.name},
            "version": version,
            "issued_at": iso(issued_at),
            "expires_at": iso(expires_at),
            "document": document,
        }
    )


def key_list_payload(
    version: int,
    issued_at: datetime,
    expires_at: datetime,
    keys: Iterable[tuple[Ed25519PublicKey, list[str] | None]],
    revoked: Iterable[str] = (),
) -> bytes:
    entries = []
    for public, scopes in keys:
        entry: dict[str, Any] = {"key_id": key_id(public), "public_key": raw_public(public).hex()}
        if scopes is not None:
            entry["scopes"] = list(scopes)
        entries.append(entry)
    return canonical_json(
        {
            "type": SIGNING_KEYS,
            "version": version,
            "issued_at": iso(issued_at),
            "expires_at": iso(expires_at),
            "keys": entries,
            "revoked": sorted(set(revoked)),
        }
    )


def parse_scope(text: str) -> Scope:
    """``fleet``, ``group:NAME`` or ``terminal:TID`` (as an admin types it). ValueError."""
    kind, _, name = text.partition(":")
    if kind == "fleet" and not name:
        return Scope("fleet", "")
    if kind in ("group", "terminal") and name and len(name) <= 100:
        return Scope(kind, name)
    raise ValueError(f"scope {text!r}: fleet, group:NAME or terminal:TID")


def scope_allowed(scope: Scope, allowed: list[str] | None) -> bool:
    """Whether a key whose ``scopes`` are ``allowed`` may sign for ``scope``. None: any.
    Each entry is a label (``group:north``) or a kind's wildcard (``group:*``)."""
    if allowed is None:
        return True
    return scope.label in allowed or (scope.kind != "fleet" and f"{scope.kind}:*" in allowed)


# -- opening an envelope ----------------------------------------------------------------------
_DECODE_ERRORS = (msgspec.DecodeError, msgspec.ValidationError, ValueError, RecursionError)


def _envelope(data: bytes) -> Envelope:
    if not isinstance(data, bytes | bytearray | memoryview):
        raise ConfigRefused("malformed", "an envelope is bytes")
    if len(data) > MAX_ENVELOPE_BYTES:
        raise ConfigRefused(
            "oversized", f"{len(data)} bytes, over the limit of {MAX_ENVELOPE_BYTES}"
        )
    try:
        return msgspec.json.decode(data, type=Envelope)
    except _DECODE_ERRORS as exc:
        detail = str(exc)[:200]
    try:
        bare = msgspec.json.decode(data)
    except _DECODE_ERRORS:
        raise ConfigRefused("malformed", "not JSON") from None
    if isinstance(bare, dict) and not bare.get("signature"):
        raise ConfigRefused("unsigned", "no signature (not an envelope)")
    raise ConfigRefused("malformed", f"not an envelope: {detail}")


def _verified_payload(envelope: Envelope, public: Ed25519PublicKey) -> bytes:
    try:
        payload = base64.b64decode(envelope.payload, validate=True)
    except (binascii.Error, ValueError):
        raise ConfigRefused("malformed", "the payload is not base64") from None
    try:
        public.verify(bytes.fromhex(envelope.signature), payload)
    except InvalidSignature:
        raise ConfigRefused(
            "bad_signature", f"the signature does not match the payload (key {envelope.key_id})"
        ) from None
    return payload


def _decode_payload(payload: bytes, kind: type, what: str):
    try:
        return msgspec.json.decode(payload, type=kind)
    except _DECODE_ERRORS as exc:
        raise ConfigRefused("malformed", f"{what}: {str(exc)[:200]}") from None


def _check_period(issued_at: datetime, expires_at: datetime, now: datetime, what: str) -> None:
    if now.tzinfo is None:
        raise ValueError("now: a naive datetime")
    if expires_at <= issued_at:
        raise ConfigRefused("malformed", f"{what}: expires before it was issued")
    if now >= expires_at:
        raise ConfigRefused("expired", f"{what} expired at {iso(expires_at)}")


# -- the chain of trust -----------------------------------------------------------------------
@dataclass(frozen=True)
class SigningKey:
    key_id: str
    public_key: Ed25519PublicKey
    scopes: list[str] | None


@dataclass(frozen=True)
class KeyList:
    version: int
    issued_at: datetime
    expires_at: datetime
    keys: dict[str, SigningKey]
    revoked: frozenset[str]


def _key_list(payload: bytes, root_id: str) -> KeyList:
    decoded = _decode_payload(payload, KeyListPayload, "signing key list")
    keys: dict[str, SigningKey] = {}
    for entry in decoded.keys:
        try:
            public = load_public_key(entry.public_key)
        except ValueError as exc:
            raise ConfigRefused("malformed", f"signing key {entry.key_id}: {exc}") from None
        if key_id(public) != entry.key_id:
            raise ConfigRefused("malformed", f"signing key {entry.key_id}: not its key's id")
        if entry.key_id in keys:
            raise ConfigRefused("malformed", f"signing key {entry.key_id} listed twice")
        if entry.key_id == root_id:
            raise ConfigRefused("malformed", "the root key may not be a signing key")
        for label in entry.scopes or ():
            if label not in ("group:*", "terminal:*"):
                try:
                    parse_scope(label)
                except ValueError:
                    raise ConfigRefused(
                        "malformed", f"signing key {entry.key_id}: scope {label!r}"
                    ) from None
        keys[entry.key_id] = SigningKey(entry.key_id, public, entry.scopes)
    return KeyList(
        decoded.version, decoded.issued_at, decoded.expires_at, keys, frozenset(decoded.revoked)
    )


class Trust:
    """What a terminal trusts: the root key pinned at enrollment and the newest key list
    it accepted (signed by that root). Keep :attr:`key_list_envelope` and :attr:`revoked`
    to restore it after a restart: ``Trust(root, key_list=..., revoked=...)``."""

    def __init__(
        self,
        root_public_key: Ed25519PublicKey | str | bytes,
        *,
        key_list: bytes | None = None,
        revoked: Iterable[str] = (),
    ):
        if not isinstance(root_public_key, Ed25519PublicKey):
            root_public_key = load_public_key(root_public_key)
        self.root = root_public_key
        self.root_id = key_id(root_public_key)
        self.key_list: KeyList | None = None
        self.key_list_envelope: bytes | None = None
        # every key id any accepted list revoked: a revoked key never comes back
        self.revoked: set[str] = set(revoked)
        if key_list is not None:
            # held before: its signature is checked again, not its age (an expired list
            # stops new documents, not the terminal)
            self._adopt(key_list, self._open(key_list))

    def _open(self, data: bytes) -> KeyList:
        envelope = _envelope(data)
        if envelope.key_id != self.root_id:
            raise ConfigRefused(
                "unknown_key",
                f"a key list signed by {envelope.key_id}, not the root {self.root_id}",
            )
        return _key_list(_verified_payload(envelope, self.root), self.root_id)

    def _adopt(self, data: bytes, key_list: KeyList) -> None:
        self.key_list = key_list
        self.key_list_envelope = bytes(data)
        self.revoked |= key_list.revoked

    def accept_key_list(self, data: bytes, now: datetime) -> KeyList:
        """Check a new key list and hold it. Refused (ConfigRefused): not the root's
        signature, malformed, expired, or not newer than the one held (rollback, replay)."""
        key_list = self._open(data)
        _check_period(key_list.issued_at, key_list.expires_at, now, "the signing key list")
        held = self.key_list
        if held is not None and key_list.version <= held.version:
            raise ConfigRefused(
                "replay",
                f"signing key list version {key_list.version}, "
                f"not newer than the held {held.version}",
            )
        self._adopt(data, key_list)
        return key_list

    def signing_key(self, kid: str, now: datetime) -> SigningKey:
        """The key ``kid`` if the held key list, still valid at ``now``, trusts it."""
        if kid in self.revoked:
            raise ConfigRefused("revoked_key", f"key {kid} is revoked")
        if kid == self.root_id:
            raise ConfigRefused("unknown_key", "the root key signs key lists only")
        if self.key_list is None:
            raise ConfigRefused("unknown_key", f"key {kid}: no signing key list held yet")
        key = self.key_list.keys.get(kid)
        if key is None:
            raise ConfigRefused(
                "unknown_key", f"key {kid} is not in signing key list {self.key_list.version}"
            )
        _check_period(
            self.key_list.issued_at,
            self.key_list.expires_at,
            now,
            f"signing key list {self.key_list.version}",
        )
        return key


# -- a configuration document -----------------------------------------------------------------
@dataclass(frozen=True)
class SignedConfig:
    scope: Scope
    version: int
    issued_at: datetime
    expires_at: datetime
    document: dict[str, Any]
    key_id: str
    sha256: str  # of the payload bytes, as signed


def check_sections(document: Mapping[str, Any]) -> None:
    """The document's shape: only the shop's sections, each a table (those of
    :data:`LIST_SECTIONS` a list). ValueError naming the first that is not."""
    for section, value in document.items():
        if section not in DOCUMENT_SECTIONS:
            raise ValueError(f"{section}: not a shop section ({', '.join(DOCUMENT_SECTIONS)})")
        wanted = list if section in LIST_SECTIONS else dict
        if not isinstance(value, wanted):
            raise ValueError(f"{section}: expected a {'list' if wanted is list else 'table'}")


def verify_config(
    data: bytes,
    *,
    trust: Trust,
    terminal_id: str,
    group: str | None,
    applied_versions: Mapping[str, int],
    now: datetime,
    validate: Callable[[dict[str, Any]], None] | None = None,
) -> SignedConfig:
    """A configuration envelope checked for this terminal, or ConfigRefused.

    ``applied_versions``: the version applied per scope label (``fleet``, ``group:G``,
    ``terminal:T``). ``validate``: further checks of the document (the shop's rules); a
    ValueError it raises refuses the document as ``invalid``."""
    envelope = _envelope(data)
    key = trust.signing_key(envelope.key_id, now)
    payload = _verified_payload(envelope, key.public_key)
    decoded: ConfigPayload = _decode_payload(payload, ConfigPayload, "configuration")
    scope = decoded.scope
    if (scope.kind == "fleet") != (scope.name == ""):
        raise ConfigRefused("malformed", "scope: a group or terminal has a name, the fleet none")
    if not scope_allowed(scope, key.scopes):
        raise ConfigRefused("wrong_scope", f"key {key.key_id} may not sign for {scope.label}")
    if (scope.kind == "group" and scope.name != group) or (
        scope.kind == "terminal" and scope.name != terminal_id
    ):
        raise ConfigRefused(
            "wrong_scope",
            f"for {scope.label}, not this terminal ({terminal_id}, group {group or '-'})",
        )
    _check_period(
        decoded.issued_at, decoded.expires_at, now, f"{scope.label} version {decoded.version}"
    )
    applied = applied_versions.get(scope.label, 0)
    if decoded.version <= applied:
        raise ConfigRefused(
            "replay",
            f"{scope.label} version {decoded.version}, not newer than the applied {applied}",
        )
    try:
        check_sections(decoded.document)
        if validate is not None:
            validate(decoded.document)
    except ValueError as exc:
        raise ConfigRefused("invalid", f"{scope.label} version {decoded.version}: {exc}") from None
    return SignedConfig(
        scope,
        decoded.version,
        decoded.issued_at,
        decoded.expires_at,
        decoded.document,
        key.key_id,
        hashlib.sha256(payload).hexdigest(),
    )


# -- the effective configuration --------------------------------------------------------------
def merge(base: Mapping[str, Any], over: Mapping[str, Any], path: str = "") -> dict[str, Any]:
    """``over`` laid on ``base``: tables merge key by key (``over`` wins), lists in
    :data:`KEYED_LISTS` merge entry by entry on their key (an entry of ``over`` replaces the
    whole entry of ``base`` with that key, new ones follow in ``over``'s order), every other
    value (scalars, other lists) is replaced whole. Neither argument is changed.
    ValueError for a keyed list's entry without its key."""
    merged = dict(base)
    for name, value in over.items():
        here = f"{path}{name}"
        old = merged.get(name)
        if isinstance(old, Mapping) and isinstance(value, Mapping):
            merged[name] = merge(old, value, here + ".")
        elif not path and name in KEYED_LISTS and isinstance(old, list):
            merged[name] = _merge_keyed(old, value, KEYED_LISTS[name], here)
        else:
            merged[name] = value
    return merged


def _merge_keyed(old: list, new: Any, key: str, where: str) -> list:
    if not isinstance(new, list):
        raise ValueError(f"{where}: expected a list")
    entries: dict[Any, Any] = {}
    for i, entry in enumerate([*old, *new]):
        value = entry.get(key) if isinstance(entry, Mapping) else None
        if not isinstance(value, str | int) or isinstance(value, bool):
            raise ValueError(f"{where}: entry {i} has no {key}")
        entries[entry[key]] = entry  # a later (more specific) one replaces, in place
    return list(entries.values())


def effective_document(*documents: Mapping[str, Any] | None) -> dict[str, Any]:
    """The terminal's effective document from its scopes' documents, least specific first:
    ``effective_document(fleet, group, terminal)`` (None for a scope with none)."""
    result: dict[str, Any] = {}
    for document in documents:
        if document:
            result = merge(result, document)
    return result

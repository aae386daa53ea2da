"""The fleet's signing keys and signed configuration (the terminal's side of it is
``terminal/core/signed_config.py``, which this module uses to check its own output).

Two directories:

- the **root directory** (``--root-dir``, kept offline: a USB stick in a safe): ``root.key``
  (0600) and ``root.pub.pem``. The root key signs only key lists. Its public key is what a
  terminal pins at enrollment.
- the **signing directory** (``[signing] dir`` in ``config/fleet.toml``): ``keys/ID.key``
  (0600), one per signing key; ``keylist.json``, the newest key list as signed by the root
  (what terminals are sent); ``root.pub.pem``, a copy to check against; ``versions.json``,
  the last version signed per scope (``config sign`` takes the next one).

A revoked key's private file is deleted; its id stays in every later key list's
``revoked``, so a terminal refuses it even before it sees the newest list.
"""

from __future__ import annotations

import json
import os
import re
import tomllib
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fleet.passphrases import ENVIRONMENT, PassphraseError, passphrase
from fleet.pki import KeyLocked, key_pem, load_private_key, write_private
from terminal.core import signed_config as sc
from terminal.core.central_staff import check_staff

ROOT_KEY = "root.key"
ROOT_PUBLIC = "root.pub.pem"
KEY_LIST = "keylist.json"
VERSIONS = "versions.json"
KEYS = "keys"

DEFAULT_KEY_LIST_DAYS = 365
DEFAULT_CONFIG_DAYS = 30


class SigningError(Exception):
    """A signing operation that cannot be done (a missing key, a bad file); nothing written."""


# -- files ------------------------------------------------------------------------------------
def _write_atomic(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def _private_pem(key: Ed25519PrivateKey, kind: str) -> bytes:
    """PKCS#8 PEM, encrypted with the ``kind`` passphrase where one is given
    (:mod:`fleet.passphrases`: ``root`` for the root key, ``online`` for signing keys)."""
    return key_pem(key, passphrase(kind))


def _load_private(path: Path, kind: str) -> Ed25519PrivateKey:
    try:
        key = load_private_key(path, passphrase(kind))
    except FileNotFoundError:
        raise SigningError(f"{path}: no such key file") from None
    except (KeyLocked, PassphraseError) as exc:
        raise SigningError(f"{exc} ({ENVIRONMENT[kind]})") from None
    except (ValueError, TypeError):
        raise SigningError(f"{path}: not a readable private key") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise SigningError(f"{path}: not an Ed25519 key")
    return key


def parse_duration(text: str) -> timedelta:
    """``30d``, ``12h``, ``90m``, ``1y`` (365 days). ValueError otherwise."""
    match = re.fullmatch(r"\s*(\d{1,5})\s*([ydhm])\s*", text)
    if not match or int(match[1]) == 0:
        raise ValueError(f"duration {text!r}: a number and y, d, h or m (e.g. 30d)")
    unit = {"y": timedelta(days=365), "d": timedelta(days=1), "h": timedelta(hours=1)}
    return int(match[1]) * unit.get(match[2], timedelta(minutes=1))


# -- the key list -----------------------------------------------------------------------------
@dataclass(frozen=True)
class KeyRow:
    key_id: str
    status: str  # active | revoked | no private key
    scopes: list[str] | None


@dataclass(frozen=True)
class KeyListDone:
    path: Path
    version: int
    expires_at: datetime
    added: str | None = None
    revoked: tuple[str, ...] = ()
    root_id: str = ""
    root_public: Path | None = None


def _root(root_dir: Path) -> Ed25519PrivateKey:
    return _load_private(root_dir / ROOT_KEY, "root")


def _trust(signing_dir: Path) -> sc.Trust:
    """The key list held in the signing directory, checked against the root's public key."""
    try:
        root_public = (signing_dir / ROOT_PUBLIC).read_bytes()
        envelope = (signing_dir / KEY_LIST).read_bytes()
    except FileNotFoundError as exc:
        raise SigningError(f"{exc.filename}: missing; run `pos-fleet keys init` first") from None
    try:
        return sc.Trust(root_public, key_list=envelope)
    except (ValueError, sc.ConfigRefused) as exc:
        raise SigningError(f"{signing_dir / KEY_LIST}: {exc}") from None


def _sign_key_list(
    root: Ed25519PrivateKey,
    signing_dir: Path,
    version: int,
    keys: list[sc.SigningKey],
    revoked: set[str],
    now: datetime,
    expires: timedelta,
) -> KeyListDone:
    payload = sc.key_list_payload(
        version, now, now + expires, [(k.public_key, k.scopes) for k in keys], revoked
    )
    envelope = sc.sign(root, payload)
    # what a terminal would do with it, before it is written
    check = sc.Trust(root.public_key())
    check.accept_key_list(envelope, now)
    _write_atomic(signing_dir / KEY_LIST, envelope)
    return KeyListDone(signing_dir / KEY_LIST, version, now + expires)


def _new_signing_key(signing_dir: Path) -> Ed25519PrivateKey:
    key = Ed25519PrivateKey.generate()
    write_private(
        signing_dir / KEYS / f"{sc.key_id(key.public_key())}.key", _private_pem(key, "online")
    )
    return key


def init(
    root_dir: Path,
    signing_dir: Path,
    now: datetime,
    expires: timedelta = timedelta(days=DEFAULT_KEY_LIST_DAYS),
    scopes: list[str] | None = None,
) -> KeyListDone:
    """A new root key, a first signing key, and key list version 1. Refused when a root key
    or a key list is already there (a second root would orphan every terminal)."""
    for path in (root_dir / ROOT_KEY, signing_dir / KEY_LIST):
        if path.exists():
            raise SigningError(f"{path} exists: the keys are made once (see keys rotate)")
    root_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    (signing_dir / KEYS).mkdir(mode=0o700, parents=True, exist_ok=True)
    root = Ed25519PrivateKey.generate()
    write_private(root_dir / ROOT_KEY, _private_pem(root, "root"))
    public = sc.public_pem(root.public_key()).encode()
    (root_dir / ROOT_PUBLIC).write_bytes(public)
    (signing_dir / ROOT_PUBLIC).write_bytes(public)
    first = _new_signing_key(signing_dir)
    kid = sc.key_id(first.public_key())
    done = _sign_key_list(
        root,
        signing_dir,
        1,
        [sc.SigningKey(kid, first.public_key(), scopes)],
        set(),
        now,
        expires,
    )
    return KeyListDone(
        done.path,
        1,
        done.expires_at,
        added=kid,
        root_id=sc.key_id(root.public_key()),
        root_public=root_dir / ROOT_PUBLIC,
    )


def _check_root(root: Ed25519PrivateKey, trust: sc.Trust, root_dir: Path) -> None:
    if sc.key_id(root.public_key()) != trust.root_id:
        raise SigningError(f"{root_dir / ROOT_KEY} is not the root the key list was signed by")


def _active(trust: sc.Trust) -> list[sc.SigningKey]:
    assert trust.key_list is not None
    return [k for k in trust.key_list.keys.values() if k.key_id not in trust.revoked]


def change_keys(
    root_dir: Path,
    signing_dir: Path,
    now: datetime,
    *,
    add: bool = False,
    revoke: tuple[str, ...] = (),
    scopes: list[str] | None = None,
    expires: timedelta = timedelta(days=DEFAULT_KEY_LIST_DAYS),
) -> KeyListDone:
    """The next key list: a new signing key (``add``), keys revoked (``revoke``), or only a
    later expiry; signed with the root key."""
    trust = _trust(signing_dir)
    root = _root(root_dir)
    _check_root(root, trust, root_dir)
    assert trust.key_list is not None
    unknown = [k for k in revoke if k not in trust.key_list.keys and k not in trust.revoked]
    if unknown:
        raise SigningError(f"no signing key {', '.join(unknown)} in the key list")
    revoked = trust.revoked | set(revoke)
    keys = [k for k in trust.key_list.keys.values() if k.key_id not in revoked]
    added = None
    if add:
        new = _new_signing_key(signing_dir)
        added = sc.key_id(new.public_key())
        keys.append(sc.SigningKey(added, new.public_key(), scopes))
    if not keys:
        raise SigningError("that would leave no signing key: add one (keys rotate)")
    done = _sign_key_list(
        root, signing_dir, trust.key_list.version + 1, keys, revoked, now, expires
    )
    for kid in revoke:
        (signing_dir / KEYS / f"{kid}.key").unlink(missing_ok=True)
    return KeyListDone(done.path, done.version, done.expires_at, added, tuple(revoke))


def rotate(
    root_dir: Path,
    signing_dir: Path,
    now: datetime,
    old: str | None = None,
    expires: timedelta = timedelta(days=DEFAULT_KEY_LIST_DAYS),
) -> KeyListDone:
    """A new signing key in place of ``old`` (default: the newest active one), which is
    revoked; the new key may sign what the old one could."""
    trust = _trust(signing_dir)
    active = _active(trust)
    if old is None:
        if not active:
            raise SigningError("no active signing key to rotate")
        retiring = active[-1]
    else:
        found = [k for k in active if k.key_id == old]
        if not found:
            raise SigningError(f"{old}: not an active signing key")
        retiring = found[0]
    return change_keys(
        root_dir,
        signing_dir,
        now,
        add=True,
        revoke=(retiring.key_id,),
        scopes=retiring.scopes,
        expires=expires,
    )


def list_keys(signing_dir: Path) -> tuple[sc.KeyList, list[KeyRow]]:
    trust = _trust(signing_dir)
    assert trust.key_list is not None
    rows = []
    for key in trust.key_list.keys.values():
        has_private = (signing_dir / KEYS / f"{key.key_id}.key").exists()
        rows.append(KeyRow(key.key_id, "active" if has_private else "no private key", key.scopes))
    rows += [KeyRow(kid, "revoked", None) for kid in sorted(trust.revoked)]
    return trust.key_list, rows


# -- signing a configuration ------------------------------------------------------------------
def read_document(path: Path) -> dict[str, Any]:
    """A shop document from TOML (the shop sections of ``config/pos.toml``'s form, and
    ``[[products]]``). SigningError naming what is wrong."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise SigningError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise SigningError(f"{path}: cannot be read: {exc}") from None
    return parse_document(text, str(path))


def parse_document(text: str, name: str = "the document") -> dict[str, Any]:
    """A shop document from its TOML text (``name`` says where it came from in errors).
    SigningError naming what is wrong."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SigningError(f"{name}: not valid TOML: {exc}") from None
    try:
        sc.check_sections(document)
        check_staff(document)
        # TOML dates and times have no JSON form; a shop document has none
        sc.canonical_json(document)
    except (ValueError, TypeError) as exc:
        raise SigningError(f"{name}: {exc}") from None
    return document


def _versions(signing_dir: Path) -> dict[str, int]:
    try:
        return json.loads((signing_dir / VERSIONS).read_text())
    except FileNotFoundError:
        return {}


@dataclass(frozen=True)
class Signed:
    envelope: bytes
    scope: sc.Scope
    version: int
    key_id: str
    expires_at: datetime
    sha256: str


def _signer(
    signing_dir: Path, trust: sc.Trust, scope: sc.Scope, key: str | None
) -> tuple[sc.SigningKey, Ed25519PrivateKey]:
    """The active signing key here that may sign for ``scope`` (``key``, or the newest)."""
    candidates = [
        k
        for k in reversed(_active(trust))
        if (key is None or k.key_id == key)
        and sc.scope_allowed(scope, k.scopes)
        and (signing_dir / KEYS / f"{k.key_id}.key").exists()
    ]
    if not candidates:
        which = f"key {key}" if key else "no active signing key"
        raise SigningError(f"{which}: none here that may sign for {scope.label}")
    return candidates[0], _load_private(
        signing_dir / KEYS / f"{candidates[0].key_id}.key", "online"
    )


def signer_for(
    signing_dir: Path, scope: sc.Scope, key: str | None = None
) -> tuple[str, Ed25519PrivateKey]:
    """(key id, private key) of the signing key that signs for ``scope``: SigningError."""
    signing_key, private = _signer(signing_dir, _trust(signing_dir), scope, key)
    return signing_key.key_id, private


def sign_config(
    signing_dir: Path,
    document: dict[str, Any],
    scope: sc.Scope,
    now: datetime,
    *,
    version: int | None = None,
    expires: timedelta = timedelta(days=DEFAULT_CONFIG_DAYS),
    key: str | None = None,
) -> Signed:
    """``document`` signed for ``scope`` with an active signing key that may sign it
    (``key``, or the newest), as ``version`` (default: one after the last signed for the
    scope; a version not above it is refused, since terminals would refuse it). The
    envelope is checked as a terminal of that scope checks it before it is returned; the
    version is remembered."""
    trust = _trust(signing_dir)
    versions = _versions(signing_dir)
    last = versions.get(scope.label, 0)
    if version is None:
        version = last + 1
    elif version <= last:
        raise SigningError(f"{scope.label}: version {version} is not above the last signed, {last}")
    signer, private = _signer(signing_dir, trust, scope, key)
    payload = sc.config_payload(scope, version, now, now + expires, document)
    envelope = sc.sign(private, payload)
    try:
        checked = sc.verify_config(
            envelope,
            trust=trust,
            terminal_id=scope.name if scope.kind == "terminal" else "",
            group=scope.name if scope.kind == "group" else None,
            applied_versions={},
            now=now,
            validate=check_staff,
        )
    except sc.ConfigRefused as exc:
        raise SigningError(f"a terminal would refuse it: {exc}") from None
    versions[scope.label] = version
    _write_atomic(signing_dir / VERSIONS, json.dumps(versions, indent=1).encode() + b"\n")
    return Signed(envelope, scope, version, signer.key_id, checked.expires_at, checked.sha256)

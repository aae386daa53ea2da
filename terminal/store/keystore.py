"""The terminal's secret keys, generated on the terminal at first start.

Kept as files readable only by the service user, in a directory outside the database.
Everything else asks for keys through :class:`KeyStore`, so a hardware-backed store (the
Pi's OTP key, a secure element) can later wrap these without touching callers.

Keys:
- ``database``: the SQLCipher raw key (256 bits)
- ``sealing``: AES-256-GCM key for sealed columns (customer data, card authorisation data)
- ``pin_pepper``: the Argon2id secret; without it a stolen database cannot test a PIN
- ``journal_signing``: the Ed25519 private key that signs every journal entry

A recovery export encrypts them all to a recovery X25519 public key kept off the terminal,
so the records survive a dead terminal (fiscal retention is 6-10 years).
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from terminal.store.journal_format import key_id

KEY_NAMES = ("database", "sealing", "pin_pepper", "journal_signing")
KEY_BYTES = 32
RECOVERY_INFO = b"pos-terminal key recovery v1"


class KeyStoreError(Exception):
    """The key store is missing, incomplete or unreadable."""


class KeyStore(Protocol):
    def key(self, name: str) -> bytes: ...


class FileKeyStore:
    """Keys as 32-byte files, mode 0600, in a 0700 directory."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self._cache: dict[str, bytes] = {}

    @classmethod
    def open_or_create(
        cls, directory: Path, random: Callable[[int], bytes] = os.urandom
    ) -> FileKeyStore:
        """Open the store; on a terminal's first start (no key at all), make the keys.

        A store with some keys missing is refused, never completed: a new pepper or
        signing key would silently lock out every cashier and break the journal.
        """
        directory = Path(directory)
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(directory, 0o700)
        store = cls(directory)
        present = [n for n in KEY_NAMES if store._path(n).exists()]
        if present and len(present) < len(KEY_NAMES):
            return cls.open_existing(directory)  # names what is missing
        if not present:
            for name in KEY_NAMES:
                _write_private(store._path(name), random(KEY_BYTES))
        return store

    @classmethod
    def open_existing(cls, directory: Path) -> FileKeyStore:
        store = cls(directory)
        missing = [n for n in KEY_NAMES if not store._path(n).exists()]
        if missing:
            raise KeyStoreError(f"key store {directory}: missing {', '.join(missing)}")
        return store

    def _path(self, name: str) -> Path:
        if name not in KEY_NAMES:
            raise KeyStoreError(f"unknown key {name!r}")
        return self.directory / f"{name}.key"

    def key(self, name: str) -> bytes:
        if name not in self._cache:
            try:
                data = self._path(name).read_bytes()
            except OSError as exc:
                raise KeyStoreError(f"cannot read key {name}: {exc.strerror}") from None
            if len(data) != KEY_BYTES:
                raise KeyStoreError(f"key {name} is damaged ({len(data)} bytes)")
            self._cache[name] = data
        return self._cache[name]

    # -- derived objects ---------------------------------------------------------------------
    def journal_private_key(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(self.key("journal_signing"))

    def journal_public_key(self) -> Ed25519PublicKey:
        return self.journal_private_key().public_key()

    def journal_key_id(self) -> str:
        return key_id(self.journal_public_key())

    # -- recovery ----------------------------------------------------------------------------
    def export_recovery(self, recipient: X25519PublicKey) -> bytes:
        """All keys, encrypted to the recovery public key (X25519 + HKDF-SHA256 + AES-GCM)."""
        ephemeral = X25519PrivateKey.generate()
        shared = ephemeral.exchange(recipient)
        epk = ephemeral.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        wrap = HKDF(hashes.SHA256(), 32, salt=epk, info=RECOVERY_INFO).derive(shared)
        nonce = os.urandom(12)
        plain = json.dumps({n: self.key(n).hex() for n in KEY_NAMES}).encode()
        sealed = AESGCM(wrap).encrypt(nonce, plain, RECOVERY_INFO)
        doc = {
            "format": "pos-terminal-key-recovery-1",
            "journal_key_id": self.journal_key_id(),
            "ephemeral_public_key": base64.b64encode(epk).decode(),
            "nonce": base64.b64encode(nonce).decode(),
            "ciphertext": base64.b64encode(sealed).decode(),
        }
        return json.dumps(doc, indent=2).encode()


def recover_keys(
    export: bytes, recovery_private: X25519PrivateKey, directory: Path
) -> FileKeyStore:
    """Rebuild a key store from a recovery export with the recovery private key."""
    doc = json.loads(export)
    epk = base64.b64decode(doc["ephemeral_public_key"])
    shared = recovery_private.exchange(X25519PublicKey.from_public_bytes(epk))
    wrap = HKDF(hashes.SHA256(), 32, salt=epk, info=RECOVERY_INFO).derive(shared)
    try:
        plain = AESGCM(wrap).decrypt(
            base64.b64decode(doc["nonce"]), base64.b64decode(doc["ciphertext"]), RECOVERY_INFO
        )
    except InvalidTag:
        raise KeyStoreError(
            "this recovery file was not made for this recovery key, or it was changed"
        ) from None
    keys = {name: bytes.fromhex(value) for name, value in json.loads(plain).items()}
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    for name in KEY_NAMES:
        _write_private(directory / f"{name}.key", keys[name])
    return FileKeyStore(directory)


def _write_private(path: Path, data: bytes) -> None:
    """Create a 0600 file atomically: a crash leaves no half-written key behind."""
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)

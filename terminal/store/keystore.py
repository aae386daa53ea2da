"""The terminal's secret keys, made on the terminal at its first start, and its memory.

One file, ``keystore.json`` in a 0700 directory outside the database, written atomically
(a power cut leaves the old file or the new one). It holds:

- the four keys, wrapped (AES-256-GCM) by a key protector: a TPM, the Pi's OTP key, or
  for development a key file (:mod:`terminal.store.key_protectors`). The card alone
  opens nothing;
- the key store's *memory* of the database it serves: which database was made, the
  journal's head and the last number of each series, authenticated (HMAC-SHA256 under a
  key derived from the keys). At start the terminal checks the database against it, so a
  deleted, emptied, swapped or cut-short database is noticed instead of starting from
  zero (:mod:`terminal.store.continuity`).

Keys:
- ``database``: the SQLCipher raw key (256 bits)
- ``sealing``: AES-256-GCM key for sealed columns (customer data, card authorisation data)
- ``pin_pepper``: the Argon2id secret; without it a stolen database cannot test a PIN
- ``journal_signing``: the Ed25519 private key that signs every journal entry

A recovery export encrypts them all to a recovery X25519 public key kept off the terminal,
so the records survive a dead terminal or a lost TPM (fiscal retention is 6-10 years).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from terminal.store.journal_format import canonical_json, key_id
from terminal.store.key_protectors import (
    FileProtector,
    KeyProtector,
    ProtectorError,
    write_private,
)

KEY_NAMES = ("database", "sealing", "pin_pepper", "journal_signing")
KEY_BYTES = 32
RECOVERY_INFO = b"pos-terminal key recovery v1"
FORMAT = "pos-terminal-keystore-2"
FILE_NAME = "keystore.json"
WRAP_CONTEXT = b"pos-terminal key store v2"
MEMORY_INFO = b"pos-terminal key store memory v1"
FILE_PROTECTOR_KEY = "file-protector.kek"


class KeyStoreError(Exception):
    """The key store is missing, incomplete, unreadable or cannot be unwrapped."""


def default_protector(directory: Path) -> FileProtector:
    """The development protector: its key beside the key store (so, on the card)."""
    return FileProtector(Path(directory) / FILE_PROTECTOR_KEY)


class KeyStore:
    """The keys, unwrapped in memory, and the key store's memory of its database."""

    def __init__(
        self,
        directory: Path,
        keys: dict[str, bytes],
        protector: KeyProtector,
        document: dict[str, Any],
        *,
        created: bool = False,
    ) -> None:
        self.directory = Path(directory)
        self._keys = keys
        self.protector = protector
        self._document = document
        self.created = created  # made at this open (the terminal's first start)

    # -- opening -----------------------------------------------------------------------------
    @classmethod
    def open_or_create(
        cls,
        directory: Path,
        protector: KeyProtector | None = None,
        random: Callable[[int], bytes] = os.urandom,
    ) -> KeyStore:
        """Open the store; on a terminal's first start (no key store at all), make it.

        A first start cut by a power cut leaves at most a ``.tmp`` file (the store is
        written in one atomic rename), which is removed and the store made again: no key
        was used before the rename. Key files of the older layout (one ``.key`` file per
        key) are wrapped into the new store and then removed; an incomplete set of them is
        refused, never completed: a new pepper or signing key would silently lock out
        every cashier and break the journal.
        """
        directory = Path(directory)
        protector = protector or default_protector(directory)
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(directory, 0o700)
        (directory / (FILE_NAME + ".tmp")).unlink(missing_ok=True)
        if (directory / FILE_NAME).exists():
            return cls.open_existing(directory, protector)
        legacy = [n for n in KEY_NAMES if (directory / f"{n}.key").exists()]
        if legacy:
            return cls._adopt_legacy(directory, protector, legacy)
        keys = {name: random(KEY_BYTES) for name in KEY_NAMES}
        store = cls(directory, keys, protector, {}, created=True)
        store._write(memory={})
        return store

    @classmethod
    def open_existing(cls, directory: Path, protector: KeyProtector | None = None) -> KeyStore:
        directory = Path(directory)
        protector = protector or default_protector(directory)
        path = directory / FILE_NAME
        if not path.exists():
            legacy = [n for n in KEY_NAMES if (directory / f"{n}.key").exists()]
            if legacy:
                return cls._adopt_legacy(directory, protector, legacy)
            raise KeyStoreError(
                f"no key store in {directory}: this terminal has not been started yet, or its "
                "key store was lost (rebuild it from the recovery export: "
                "`pos-terminal keys recover`)"
            )
        try:
            document = json.loads(path.read_bytes())
            wrapped = base64.b64decode(document["wrapped"], validate=True)
            stored_protector = document["protector"]
        except (OSError, ValueError, KeyError, TypeError):
            raise KeyStoreError(
                f"the key store {path} is damaged: rebuild it from the recovery export "
                "(`pos-terminal keys recover`)"
            ) from None
        if document.get("format") != FORMAT:
            raise KeyStoreError(f"the key store {path} has an unknown format")
        if stored_protector != protector.name:
            raise KeyStoreError(
                f"the key store is protected by '{stored_protector}', the configuration names "
                f"'{protector.name}' ([security] protector): set it back, or re-protect it "
                "with `pos-terminal keys protect`"
            )
        try:
            plain = protector.unwrap(wrapped, WRAP_CONTEXT)
        except ProtectorError as exc:
            raise KeyStoreError(str(exc)) from None
        keys = {name: bytes.fromhex(value) for name, value in json.loads(plain).items()}
        if sorted(keys) != sorted(KEY_NAMES) or any(len(k) != KEY_BYTES for k in keys.values()):
            raise KeyStoreError(f"the key store {path} is incomplete")
        return cls(directory, keys, protector, document)

    @classmethod
    def _adopt_legacy(
        cls, directory: Path, protector: KeyProtector, present: list[str]
    ) -> KeyStore:
        """Wrap the older layout's plain key files, then remove them."""
        missing = [n for n in KEY_NAMES if n not in present]
        if missing:
            raise KeyStoreError(
                f"key store {directory}: missing {', '.join(missing)}. Do not make new keys "
                "(cashiers' PINs and the journal depend on these): rebuild the key store "
                "from the recovery export (`pos-terminal keys recover`)"
            )
        keys = {}
        for name in KEY_NAMES:
            data = (directory / f"{name}.key").read_bytes()
            if len(data) != KEY_BYTES:
                raise KeyStoreError(f"key {name} is damaged ({len(data)} bytes)")
            keys[name] = data
        store = cls(directory, keys, protector, {})
        store._write(memory={})  # no memory yet: the database is adopted as it is
        for name in KEY_NAMES:
            (directory / f"{name}.key").unlink()
        return store

    # -- keys --------------------------------------------------------------------------------
    def key(self, name: str) -> bytes:
        if name not in KEY_NAMES:
            raise KeyStoreError(f"unknown key {name!r}")
        return self._keys[name]

    def journal_private_key(self) -> Ed25519PrivateKey:
        return Ed25519PrivateKey.from_private_bytes(self.key("journal_signing"))

    def journal_public_key(self) -> Ed25519PublicKey:
        return self.journal_private_key().public_key()

    def journal_key_id(self) -> str:
        return key_id(self.journal_public_key())

    # -- memory ------------------------------------------------------------------------------
    @property
    def memory(self) -> dict[str, Any]:
        """What the key store remembers of its database ({} before it has seen one).
        A memory whose MAC does not check is refused: it was edited."""
        if not self._document:  # being made: nothing to remember yet
            return {}
        memory = self._document.get("memory") or {}
        # an empty memory is authenticated too: wiping it must not make the terminal adopt
        # whatever database it finds
        if not hmac.compare_digest(self._memory_mac(memory), self._document.get("memory_mac", "")):
            raise KeyStoreError(
                f"the key store's memory in {self.directory / FILE_NAME} was changed by hand"
            )
        return memory

    def remember(self, memory: dict[str, Any]) -> None:
        """Replace the memory, in one atomic write of the key store file."""
        self._write(memory=memory)

    def _memory_mac(self, memory: dict[str, Any]) -> str:
        mac_key = HKDF(hashes.SHA256(), 32, salt=None, info=MEMORY_INFO).derive(
            b"".join(self._keys[n] for n in KEY_NAMES)
        )
        return hmac.new(mac_key, canonical_json(memory), hashlib.sha256).hexdigest()

    def _write(self, *, memory: dict[str, Any]) -> None:
        wrapped = self._document.get("wrapped")
        if wrapped is None or self._document.get("protector") != self.protector.name:
            plain = json.dumps({n: self._keys[n].hex() for n in KEY_NAMES}).encode()
            try:
                wrapped = base64.b64encode(self.protector.wrap(plain, WRAP_CONTEXT)).decode()
            except ProtectorError as exc:
                raise KeyStoreError(str(exc)) from None
        document = {
            "format": FORMAT,
            "protector": self.protector.name,
            "journal_key_id": self.journal_key_id(),
            "wrapped": wrapped,
            "memory": memory,
            "memory_mac": self._memory_mac(memory),
        }
        write_private(
            self.directory / FILE_NAME, json.dumps(document, indent=1, sort_keys=True).encode()
        )
        self._document = document

    def reprotect(self, protector: KeyProtector) -> None:
        """Wrap the keys anew under another protector (e.g. a TPM fitted later); the
        memory is kept."""
        memory = self.memory
        self.protector = protector
        self._document = {**self._document, "wrapped": None}
        self._write(memory=memory)

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
    export: bytes,
    recovery_private: X25519PrivateKey,
    directory: Path,
    protector: KeyProtector | None = None,
) -> KeyStore:
    """Rebuild a key store from a recovery export with the recovery private key, wrapped
    by this terminal's protector. The memory of a key store file already there (whose
    protector can no longer open it) is kept when it checks under the recovered keys."""
    try:
        doc = json.loads(export)
        epk = base64.b64decode(doc["ephemeral_public_key"])
        nonce, ciphertext = base64.b64decode(doc["nonce"]), base64.b64decode(doc["ciphertext"])
    except (ValueError, KeyError, TypeError):
        raise KeyStoreError("this is not a key recovery export") from None
    shared = recovery_private.exchange(X25519PublicKey.from_public_bytes(epk))
    wrap = HKDF(hashes.SHA256(), 32, salt=epk, info=RECOVERY_INFO).derive(shared)
    try:
        plain = AESGCM(wrap).decrypt(nonce, ciphertext, RECOVERY_INFO)
    except InvalidTag:
        raise KeyStoreError(
            "this recovery file was not made for this recovery key, or it was changed"
        ) from None
    keys = {name: bytes.fromhex(value) for name, value in json.loads(plain).items()}
    directory = Path(directory)
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    store = KeyStore(directory, keys, protector or default_protector(directory), {})
    memory: dict[str, Any] = {}
    try:
        old = json.loads((directory / FILE_NAME).read_bytes())
        if old.get("memory") and hmac.compare_digest(
            store._memory_mac(old["memory"]), old.get("memory_mac", "")
        ):
            memory = old["memory"]
    except (OSError, ValueError):
        pass
    store._write(memory=memory)
    return store

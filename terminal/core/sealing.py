"""Sealed columns: AES-256-GCM on single values, on top of the whole-file encryption.

Customer personal data and card authorisation data are sealed with (table, column, row
id) as associated data, so a sealed value copied into another row or column does not
open. Lookups on sealed values (a customer's phone, a member card) go through a blind
index: an HMAC of the normalised value under a key derived from the sealing key.
"""

from __future__ import annotations

import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

VERSION = b"\x01"


class SealError(Exception):
    """A sealed value does not open: moved to another row or column, or changed."""


class Sealer:
    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)
        self._index_key = HKDF(hashes.SHA256(), 32, salt=None, info=b"pos blind index v1").derive(
            key
        )

    @staticmethod
    def _where(table: str, column: str, row_id: str | int) -> bytes:
        return f"{table}\x00{column}\x00{row_id}".encode()

    def seal(self, table: str, column: str, row_id: str | int, value: str) -> bytes:
        nonce = os.urandom(12)
        return (
            VERSION
            + nonce
            + self._aead.encrypt(nonce, value.encode(), self._where(table, column, row_id))
        )

    def open(self, table: str, column: str, row_id: str | int, sealed: bytes) -> str:
        if not sealed or sealed[:1] != VERSION:
            raise SealError(f"{table}.{column} of {row_id}: not a sealed value")
        try:
            plain = self._aead.decrypt(
                sealed[1:13], sealed[13:], self._where(table, column, row_id)
            )
        except InvalidTag:
            raise SealError(
                f"{table}.{column} of {row_id}: does not belong to this row, or was changed"
            ) from None
        return plain.decode()

    def blind_index(self, purpose: str, normalised: str) -> str:
        return hmac.new(
            self._index_key, f"{purpose}\x00{normalised}".encode(), hashlib.sha256
        ).hexdigest()[:32]

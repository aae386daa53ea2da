"""The journal's entry format, hashing, signing and verification.

Needs only the Python standard library and ``cryptography``: ``pos-terminal journal
export`` copies this file next to the export as ``verify_journal.py``, and an auditor
runs it on another machine::

    python verify_journal.py journal.jsonl journal-public-key.pem

Each entry is hashed over the previous entry's hash and its own canonical JSON document
(every field but ``hash`` and ``signature``: seq, terminal, key id, type, time,
perpetual grand total, payload), and the hash is signed with Ed25519::

    hash      = SHA-256(prev_hash || canonical_json(entry))
    signature = Ed25519(hash)

A change to any field, a missing, extra or reordered entry, or a swapped signature breaks
the chain at the first entry concerned, which the verifier names.
"""

from __future__ import annotations

import hashlib
import json
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

GENESIS = bytes(32)
FIELDS = ("seq", "terminal_id", "key_id", "type", "ts", "grand_total", "payload")


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no spaces, UTF-8: one byte string per value, on every machine."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_document(entry: Mapping[str, Any]) -> dict[str, Any]:
    return {name: entry[name] for name in FIELDS}


def entry_hash(prev_hash: bytes, entry: Mapping[str, Any]) -> bytes:
    return hashlib.sha256(prev_hash + canonical_json(entry_document(entry))).digest()


def sign(private_key: Ed25519PrivateKey, digest: bytes) -> bytes:
    return private_key.sign(digest)


@dataclass(frozen=True)
class Verdict:
    ok: bool
    entries: int
    first_bad_seq: int | None = None
    reason: str = ""

    def __str__(self) -> str:
        if self.ok:
            return f"journal OK: {self.entries} entries, chain and signatures verified"
        return f"journal BROKEN at seq {self.first_bad_seq}: {self.reason}"


def verify_entries(
    entries: Iterable[Mapping[str, Any]], public_keys: Mapping[str, Ed25519PublicKey]
) -> Verdict:
    """Walk the chain in file/table order. Entries carry ``prev_hash``, ``hash`` and
    ``signature`` as hex strings; ``public_keys`` maps key id to key."""
    prev = GENESIS
    expected_seq = 1
    count = 0
    for entry in entries:
        seq = entry.get("seq")
        if seq != expected_seq:
            if isinstance(seq, int) and seq > expected_seq:
                return Verdict(False, count, expected_seq, f"missing (next entry is seq {seq})")
            return Verdict(False, count, expected_seq, f"out of order (found seq {seq})")
        if bytes.fromhex(entry["prev_hash"]) != prev:
            return Verdict(False, count, seq, "does not follow the previous entry")
        digest = entry_hash(prev, entry)
        if digest.hex() != entry["hash"]:
            return Verdict(False, count, seq, "content changed (hash mismatch)")
        key = public_keys.get(entry["key_id"])
        if key is None:
            return Verdict(False, count, seq, f"unknown signing key {entry['key_id']}")
        try:
            key.verify(bytes.fromhex(entry["signature"]), digest)
        except (InvalidSignature, ValueError):
            return Verdict(False, count, seq, "bad signature")
        prev = digest
        expected_seq += 1
        count += 1
    return Verdict(True, count)


def load_public_key(pem: bytes) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


def key_id(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def _read_jsonl(path: str) -> Iterable[dict[str, Any]]:
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if line.strip():
                try:
                    yield json.loads(line)
                except json.JSONDecodeError as exc:
                    raise SystemExit(f"{path}:{number}: not a JSON line: {exc}") from None


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print("usage: verify_journal.py JOURNAL.jsonl PUBLIC-KEY.pem [MORE-KEYS.pem ...]")
        return 2
    keys = {}
    for path in argv[1:]:
        with open(path, "rb") as fh:
            key = load_public_key(fh.read())
        keys[key_id(key)] = key
    verdict = verify_entries(_read_jsonl(argv[0]), keys)
    print(verdict)
    return 0 if verdict.ok else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

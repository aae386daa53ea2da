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
from collections.abc import Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
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
    # the stored canonical payload text (read from the database): no decode/encode trip;
    # an entry that carries a decoded payload is always hashed from that payload
    if "payload" not in entry and "payload_json" in entry:
        return hashlib.sha256(prev_hash + _document_bytes(entry)).digest()
    return hashlib.sha256(prev_hash + canonical_json(entry_document(entry))).digest()


def _document_bytes(entry: Mapping[str, Any]) -> bytes:
    """``canonical_json(entry_document(entry))``, built around the payload's canonical text
    (keys in sorted order, as canonical_json would write them)."""
    text = json.dumps
    return (
        f'{{"grand_total":{int(entry["grand_total"])},"key_id":{text(entry["key_id"])},'
        f'"payload":{entry["payload_json"]},"seq":{int(entry["seq"])},'
        f'"terminal_id":{text(entry["terminal_id"], ensure_ascii=False)},'
        f'"ts":{text(entry["ts"])},"type":{text(entry["type"])}}}'
    ).encode()


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


# Checks a batch of (seq, key, signature, digest); returns the seqs whose signature is bad.
BatchCheck = Callable[[list[tuple[int, Ed25519PublicKey, bytes, bytes]]], list[int]]


def cryptography_batch(batch: list[tuple[int, Ed25519PublicKey, bytes, bytes]]) -> list[int]:
    bad = []
    for seq, key, signature, digest in batch:
        try:
            key.verify(signature, digest)
        except (InvalidSignature, ValueError):
            bad.append(seq)
    return bad


def verify_entries(
    entries: Iterable[Mapping[str, Any]],
    public_keys: Mapping[str, Ed25519PublicKey],
    *,
    workers: int = 2,
    check: BatchCheck = cryptography_batch,
    chunk: int = 2000,
) -> Verdict:
    """Walk the chain in file/table order. Entries carry ``prev_hash``, ``hash`` and
    ``signature`` as hex strings; ``public_keys`` maps key id to key.

    The chain is walked in order in this thread while the signatures (the costly part)
    are checked by ``workers`` threads (the Ed25519 code releases the GIL). The verdict
    is the same as a one-by-one walk: the first bad entry by seq, with its reason.
    """
    prev = GENESIS
    expected_seq = 1
    count = 0
    chain_fault: Verdict | None = None
    pending: list[tuple[int, Ed25519PublicKey, bytes, bytes]] = []
    futures = []

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for entry in entries:
            seq = entry.get("seq")
            if seq != expected_seq:
                if isinstance(seq, int) and seq > expected_seq:
                    reason = f"missing (next entry is seq {seq})"
                else:
                    reason = f"out of order (found seq {seq})"
                chain_fault = Verdict(False, count, expected_seq, reason)
                break
            if bytes.fromhex(entry["prev_hash"]) != prev:
                chain_fault = Verdict(False, count, seq, "does not follow the previous entry")
                break
            digest = entry_hash(prev, entry)
            if digest.hex() != entry["hash"]:
                chain_fault = Verdict(False, count, seq, "content changed (hash mismatch)")
                break
            key = public_keys.get(entry["key_id"])
            if key is None:
                chain_fault = Verdict(False, count, seq, f"unknown signing key {entry['key_id']}")
                break
            pending.append((seq, key, bytes.fromhex(entry["signature"]), digest))
            if len(pending) >= chunk:
                futures.append(pool.submit(check, pending))
                pending = []
            prev = digest
            expected_seq += 1
            count += 1
        if pending:
            futures.append(pool.submit(check, pending))
        bad = [seq for future in futures for seq in future.result()]
    if bad:
        first = min(bad)
        return Verdict(False, first - 1, first, "bad signature")
    return chain_fault or Verdict(True, count)


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
                    yield json.loads(line, object_pairs_hook=_unique_keys)
                except ValueError as exc:  # JSONDecodeError, or a key given twice
                    raise SystemExit(f"{path}:{number}: not a journal line: {exc}") from None


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A key given twice is refused: readers disagree on which value counts (Python keeps
    the last, SQLite's json_extract the first), so such a line could show one thing and
    verify as another."""
    keys = [key for key, _value in pairs]
    if len(set(keys)) != len(keys):
        twice = sorted({key for key in keys if keys.count(key) > 1})
        raise ValueError(f"key given twice: {', '.join(twice)}")
    return dict(pairs)


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

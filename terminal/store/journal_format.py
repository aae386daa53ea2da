"""The journal's entry format, hashing, signing and verification.

Needs only the Python standard library and ``cryptography``: ``pos-terminal journal
export`` copies this file next to the export as ``verify_journal.py``, and an auditor
runs it on another machine::

    python verify_journal.py journal.jsonl journal-public-key.pem

    python verify_journal.py journal.jsonl journal-public-key.pem --head 153:3F9A0C11

Each entry is hashed over the previous entry's hash and its own canonical JSON document
(every field but ``hash`` and ``signature``: epoch, seq, terminal, key id, type, time,
perpetual grand total, payload), and the hash is signed with Ed25519::

    hash      = SHA-256(prev_hash || canonical_json(entry))
    signature = Ed25519(hash)

An entry is named by (terminal, epoch, seq). Epoch 1 is the journal the terminal began
with (its entries are hashed without the ``epoch`` field, as before epochs existed). A
restore, a transfer to a replacement terminal or a reset begins a new epoch with an
``epoch_start`` entry whose payload names the previous epoch's last known entry
(``previous``: epoch, seq, hash); the new epoch goes on from that seq + 1 and links to
that hash, so no (terminal, epoch, seq) ever names two entries. Entries of the previous
epoch that were lost (made after the backup that was restored) show as a declared gap.

A change to any field, a missing, extra or reordered entry, or a swapped signature breaks
the chain at the first entry concerned, which the verifier names. A chain proves nothing
about its end: ``--head SEQ:HASH`` (as printed on every receipt and Z report, the hash as
printed or longer) says "truncated after seq N" when that entry is missing.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
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
EPOCH_START = "epoch_start"
_HEX64 = re.compile(r"[0-9a-f]{64}")
_HEX128 = re.compile(r"[0-9a-f]{128}")


def canonical_json(value: Any) -> bytes:
    """Sorted keys, no spaces, UTF-8: one byte string per value, on every machine."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def entry_document(entry: Mapping[str, Any]) -> dict[str, Any]:
    document = {name: entry[name] for name in FIELDS}
    if entry.get("epoch", 1) != 1:  # epoch 1 keeps the format it was signed in
        document["epoch"] = entry["epoch"]
    return document


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
    epoch = int(entry.get("epoch", 1))
    return (
        (f'{{"epoch":{epoch},' if epoch != 1 else "{")
        + f'"grand_total":{int(entry["grand_total"])},"key_id":{text(entry["key_id"])},'
        f'"payload":{entry["payload_json"]},"seq":{int(entry["seq"])},'
        f'"terminal_id":{text(entry["terminal_id"], ensure_ascii=False)},'
        f'"ts":{text(entry["ts"])},"type":{text(entry["type"])}}}'
    ).encode()


def sign(private_key: Ed25519PrivateKey, digest: bytes) -> bytes:
    return private_key.sign(digest)


@dataclass(frozen=True)
class Head:
    """An entry the journal must hold, as printed on a receipt or Z report: its seq, the
    start of its hash, and its epoch when the receipt names one."""

    seq: int
    hash: str  # hex, 8 characters or more
    epoch: int | None = None

    @classmethod
    def parse(cls, text: str) -> Head:
        """``SEQ:HASH`` or ``EPOCH/SEQ:HASH`` (the hash as printed, upper or lower case)."""
        match = re.fullmatch(r"\s*(?:(\d+)/)?(\d+)\s*:\s*([0-9A-Fa-f]{8,64})\s*", text)
        if not match:
            raise ValueError(
                f"not a journal head: {text!r} (expected SEQ:HASH as printed on a receipt, "
                "e.g. 153:3F9A0C11, or EPOCH/SEQ:HASH)"
            )
        epoch = int(match[1]) if match[1] else None
        return cls(int(match[2]), match[3].lower(), epoch)

    def __str__(self) -> str:
        epoch = f"{self.epoch}/" if self.epoch else ""
        return f"{epoch}{self.seq}:{self.hash[:8].upper()}"


@dataclass(frozen=True)
class Verdict:
    ok: bool
    entries: int
    first_bad_seq: int | None = None
    reason: str = ""
    notes: tuple[str, ...] = ()  # declared gaps between epochs: honest, but worth reading
    head: tuple[int, int, str] | None = None  # (epoch, seq, hash) of the last entry

    def __str__(self) -> str:
        if self.ok:
            epochs = ""
            if self.head and self.head[0] != 1:
                epochs = f", epoch {self.head[0]}"
            text = f"journal OK: {self.entries} entries, chain and signatures verified" + (
                f" (last seq {self.head[1]}{epochs})" if self.head else ""
            )
        elif self.first_bad_seq is None:
            text = f"journal BROKEN: {self.reason}"
        else:
            text = f"journal BROKEN at seq {self.first_bad_seq}: {self.reason}"
        return "\n".join([text, *(f"  note: {note}" for note in self.notes)])


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


def shape_problem(entry: Any) -> str | None:
    """What is wrong with an entry's fields, before any of them is used; None if nothing."""
    if not isinstance(entry, Mapping):
        return "not a journal entry (a JSON object is expected)"
    integers = ("seq", "grand_total") + (("epoch",) if "epoch" in entry else ())
    texts = ("terminal_id", "key_id", "type", "ts", "prev_hash", "hash", "signature")
    for name in (*integers, *texts):
        if name not in entry:
            return f"missing field '{name}'"
    for name in integers:
        if not isinstance(entry[name], int) or isinstance(entry[name], bool):
            return f"'{name}' is not a whole number: {entry[name]!r}"
    if entry["seq"] < 1 or entry.get("epoch", 1) < 1:
        return "seq and epoch start at 1"
    for name in texts:
        if not isinstance(entry[name], str):
            return f"'{name}' is not text: {entry[name]!r}"
    for name, pattern, size in (
        ("prev_hash", _HEX64, 64),
        ("hash", _HEX64, 64),
        ("signature", _HEX128, 128),
    ):
        if not pattern.fullmatch(entry[name]):
            return f"'{name}' is not {size} lower-case hex digits"
    if "payload" not in entry and not isinstance(entry.get("payload_json"), str):
        return "missing field 'payload'"
    return None


def _payload(entry: Mapping[str, Any]) -> Any:
    if "payload" in entry:
        return entry["payload"]
    return json.loads(entry["payload_json"])


def _previous_head(entry: Mapping[str, Any]) -> tuple[int, int, str] | str:
    """The previous epoch's head named by an epoch start, or what is wrong with it."""
    try:
        previous = _payload(entry)["previous"]
        found = int(previous["epoch"]), int(previous["seq"]), str(previous["hash"])
    except (ValueError, KeyError, TypeError):
        return "its payload does not name the previous epoch's head (previous: epoch, seq, hash)"
    if not _HEX64.fullmatch(found[2]) or found[0] < 1 or found[1] < 0:
        return "the previous epoch's head it names is malformed"
    return found


def _where(line: Any, position: int) -> str:
    return f"line {line}" if line else f"entry {position}"


def _epoch_link(
    entry: Mapping[str, Any], epoch: int, last_seq: int, prev: bytes
) -> tuple[str | None, str] | str:
    """How an entry that begins an epoch joins the one before it: (a note on a declared
    gap or None, the hash it links to), or what is wrong with it.

    ``epoch`` is the epoch walked so far (0: this is the journal's first entry) and
    ``last_seq``/``prev`` its last seq and hash.
    """
    new = entry.get("epoch", 1)
    if entry["type"] != EPOCH_START:
        return f"epoch {new} does not begin with an epoch start"
    previous = _previous_head(entry)
    if isinstance(previous, str):
        return f"epoch {new} start: {previous}"
    p_epoch, p_seq, p_hash = previous
    note = None
    if new != p_epoch + 1:
        return f"epoch {new} names epoch {p_epoch} as the one before it"
    if epoch == 0:
        note = f"the journal begins at epoch {new}; epoch {p_epoch} up to seq {p_seq} is not in it"
    elif p_epoch < epoch:
        return f"epoch {new} says it follows epoch {p_epoch}, but this journal is at epoch {epoch}"
    elif p_seq < last_seq:
        return f"epoch {new} begins after seq {p_seq}, but epoch {epoch} goes on to seq {last_seq}"
    elif p_seq == last_seq and p_epoch == epoch and p_hash != prev.hex():
        return f"epoch {new} does not follow epoch {epoch}"
    elif p_epoch > epoch:
        note = (
            f"epoch {epoch} ends at seq {last_seq} here; epochs {epoch + 1}-{p_epoch} (up to seq "
            f"{p_seq}) are not in this journal"
        )
    elif p_seq > last_seq:
        note = (
            f"epoch {epoch}: seq {last_seq + 1}-{p_seq} are not in this journal (the terminal "
            f"had issued them when epoch {new} began)"
        )
    if entry["seq"] != p_seq + 1:
        return f"epoch {new} must begin at seq {p_seq + 1}, not {entry['seq']}"
    return note, p_hash


def verify_entries(
    entries: Iterable[Mapping[str, Any]],
    public_keys: Mapping[str, Ed25519PublicKey],
    *,
    expected_head: Head | None = None,
    workers: int = 2,
    check: BatchCheck = cryptography_batch,
    chunk: int = 2000,
) -> Verdict:
    """Walk the chain in file/table order, across epochs. Entries carry ``prev_hash``,
    ``hash`` and ``signature`` as hex strings; ``public_keys`` maps key id to key.

    ``expected_head``: an entry that must be there (as printed on a receipt or a Z
    report); when the journal ends before it, the verdict is "truncated after seq N".
    An empty journal proves nothing and does not verify.

    The chain is walked in order in this thread while the signatures (the costly part)
    are checked by ``workers`` threads (the Ed25519 code releases the GIL). The verdict
    is the same as a one-by-one walk: the first bad entry by seq, with its reason.
    """
    prev = GENESIS
    epoch = 0  # the epoch being walked (0: no entry yet)
    expected_seq = 1
    count = 0
    notes: list[str] = []
    head_seen: str | None = None  # the hash found at the expected head's seq
    chain_fault: Verdict | None = None
    pending: list[tuple[int, Ed25519PublicKey, bytes, bytes]] = []
    futures = []
    last: tuple[int, int, str] | None = None

    def fault(seq: int | None, reason: str) -> Verdict:
        return Verdict(False, count, seq, reason, tuple(notes))

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for position, entry in enumerate(entries, start=1):
            problem = shape_problem(entry)
            if problem:
                where = entry.get("__line__") if isinstance(entry, Mapping) else None
                chain_fault = fault(None, f"{_where(where, position)}: {problem}")
                break
            seq, entry_epoch = entry["seq"], entry.get("epoch", 1)
            if entry_epoch != epoch and not (epoch == 0 and entry_epoch == 1):
                if entry_epoch < epoch:
                    chain_fault = fault(seq, f"out of order (epoch {entry_epoch} after {epoch})")
                    break
                link = _epoch_link(entry, epoch, expected_seq - 1, prev)
                if isinstance(link, str):
                    chain_fault = fault(seq, link)
                    break
                note, p_hash = link
                if note:
                    notes.append(note)
                prev, expected_seq = bytes.fromhex(p_hash), seq
            epoch = entry_epoch
            if seq != expected_seq:
                if seq > expected_seq:
                    reason = f"missing (next entry is seq {seq})"
                else:
                    reason = f"out of order (found seq {seq})"
                chain_fault = fault(expected_seq, reason)
                break
            if bytes.fromhex(entry["prev_hash"]) != prev:
                chain_fault = fault(seq, "does not follow the previous entry")
                break
            digest = entry_hash(prev, entry)
            if digest.hex() != entry["hash"]:
                chain_fault = fault(seq, "content changed (hash mismatch)")
                break
            key = public_keys.get(entry["key_id"])
            if key is None:
                chain_fault = fault(seq, f"unknown signing key {entry['key_id']}")
                break
            if expected_head and (expected_head.epoch or epoch, expected_head.seq) == (epoch, seq):
                head_seen = entry["hash"]
            pending.append((seq, key, bytes.fromhex(entry["signature"]), digest))
            if len(pending) >= chunk:
                futures.append(pool.submit(check, pending))
                pending = []
            prev = digest
            expected_seq += 1
            count += 1
            last = (epoch, seq, entry["hash"])
        if pending:
            futures.append(pool.submit(check, pending))
        bad = [seq for future in futures for seq in future.result()]
    if bad:
        first = min(bad)
        return Verdict(False, first - 1, first, "bad signature", tuple(notes))
    if chain_fault:
        return chain_fault
    if last is None:
        return fault(None, "no entries: an empty journal proves nothing")
    if expected_head:
        if head_seen is None:
            return Verdict(
                False,
                count,
                last[1] + 1,
                f"truncated after seq {last[1]}: the expected head {expected_head} is missing",
                tuple(notes),
                last,
            )
        if not head_seen.startswith(expected_head.hash):
            return Verdict(
                False,
                count,
                expected_head.seq,
                f"not the entry expected ({expected_head}): its hash begins "
                f"{head_seen[:8].upper()}",
                tuple(notes),
                last,
            )
    return Verdict(True, count, notes=tuple(notes), head=last)


def load_public_key(pem: bytes) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(pem)
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError("not an Ed25519 public key")
    return key


def key_id(public_key: Ed25519PublicKey) -> str:
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def _read_jsonl(path: str) -> Iterable[dict[str, Any]]:
    """The file's entries, each with its line number (``__line__``, not hashed)."""
    with open(path, encoding="utf-8") as fh:
        for number, line in enumerate(fh, start=1):
            if line.strip():
                try:
                    entry = json.loads(line, object_pairs_hook=_unique_keys)
                except ValueError as exc:  # JSONDecodeError, or a key given twice
                    raise JournalFileError(f"line {number}: not a journal line: {exc}") from None
                if not isinstance(entry, dict):
                    raise JournalFileError(
                        f"line {number}: not a journal entry (a JSON object is expected)"
                    )
                entry["__line__"] = number
                yield entry


class JournalFileError(Exception):
    """The file cannot be read as a journal; the message names the line."""


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
    """The auditor's command. Every problem is a line of text, never a traceback."""
    parser = argparse.ArgumentParser(
        prog="verify_journal.py",
        description="Verify an exported POS journal: chain, signatures, epochs, its end.",
    )
    parser.add_argument("journal", help="journal.jsonl from `pos-terminal journal export`")
    parser.add_argument("keys", nargs="+", help="the terminal's public key(s), PEM")
    parser.add_argument(
        "--head",
        help="SEQ:HASH (or EPOCH/SEQ:HASH) as printed on the last receipt or Z report: "
        "the journal must reach it",
    )
    args = parser.parse_args(argv)
    try:
        head = Head.parse(args.head) if args.head else None
    except ValueError as exc:
        print(str(exc))
        return 2
    keys = {}
    for path in args.keys:
        try:
            with open(path, "rb") as fh:
                key = load_public_key(fh.read())
        except OSError as exc:
            print(f"{path}: cannot read: {exc.strerror}")
            return 2
        except ValueError as exc:
            print(f"{path}: not an Ed25519 public key in PEM ({exc})")
            return 2
        keys[key_id(key)] = key
    try:
        verdict = verify_entries(_read_jsonl(args.journal), keys, expected_head=head)
    except JournalFileError as exc:
        print(f"{args.journal}: {exc}")
        return 1
    except OSError as exc:
        print(f"{args.journal}: cannot read: {exc.strerror}")
        return 2
    except UnicodeDecodeError:
        print(f"{args.journal}: not a text file (UTF-8)")
        return 1
    print(verdict)
    return 0 if verdict.ok else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))

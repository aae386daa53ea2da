"""The tamper-evident journal: append-only, gapless, hash-chained, signed.

Every event that matters to an auditor (a sale, a failed PIN, a lockout, a start) is one
entry, written in the same database transaction as the change it records. UPDATE and
DELETE are refused by triggers; a correction is a new entry that points to the original.
The format and the verifier live in :mod:`terminal.store.journal_format`, which needs
nothing but ``cryptography`` so an auditor can run it elsewhere.
"""

from __future__ import annotations

import hmac
import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import peewee
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from nacl.bindings import crypto_sign, crypto_sign_open, crypto_sign_seed_keypair
from nacl.exceptions import BadSignatureError
from peewee import Database

from terminal.store import journal_format
from terminal.store.journal_format import (
    EPOCH_START,
    GENESIS,
    Head,
    Verdict,
    entry_hash,
    key_id,
    verify_entries,
)

EVENT_TYPES = frozenset(
    {
        "sale",
        "line_void",
        "order_cancel",
        "refund",
        "discount_override",
        "no_sale",
        "shift_open",
        "shift_close",
        "x_report",
        "z_report",
        "config_change",
        "job",
        "passkey_change",
        "failed_pin",
        "lockout",
        "start",
        "stop",
        "correction",
        "cash_in",
        "cash_out",
        "reprint",
        "fraud_signal",
        "customer_change",
        "card_unsettled",
        "payment_cancel",
        "fiscal",  # a receipt registered with (or taken back from) the tax office
        "fiscal_pending",  # the tax office's service did not take a receipt: retried
        "receiving",  # goods delivered, with their cost: the store's stock and its cost
        "write_off",  # goods out of stock without a sale (damaged, expired, lost), a reason
        "stock_count",  # a supervisor's counted list for a count the fleet opened (blind)
        EPOCH_START,
    }
)

_RAW_PUBLIC = serialization.Encoding.Raw, serialization.PublicFormat.Raw
TABLE = "journal"
# ``seq`` goes on across epochs (an epoch begins after the previous one's last known seq),
# so it stays the rowid and the append path writes no second index; (epoch, seq) is the
# entry's name, unique because seq is.
SCHEMA = [
    f"""CREATE TABLE IF NOT EXISTS {TABLE} (
        seq INTEGER PRIMARY KEY,
        terminal_id TEXT NOT NULL,
        key_id TEXT NOT NULL,
        type TEXT NOT NULL,
        ts TEXT NOT NULL,
        grand_total INTEGER NOT NULL,
        payload TEXT NOT NULL,
        prev_hash TEXT NOT NULL,
        hash TEXT NOT NULL,
        signature TEXT NOT NULL,
        epoch INTEGER NOT NULL DEFAULT 1)""",
    f"""CREATE TRIGGER IF NOT EXISTS {TABLE}_no_update BEFORE UPDATE ON {TABLE}
        BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END""",
    f"""CREATE TRIGGER IF NOT EXISTS {TABLE}_no_delete BEFORE DELETE ON {TABLE}
        BEGIN SELECT RAISE(ABORT, 'the journal is append-only'); END""",
    # only the next seq of the current epoch, or an epoch start after the last seq: no
    # gaps inside an epoch, no going back, no INSERT OR REPLACE of an old one
    f"""CREATE TRIGGER IF NOT EXISTS {TABLE}_next_seq BEFORE INSERT ON {TABLE}
        WHEN NOT (
            (NEW.seq = (SELECT IFNULL(MAX(seq), 0) + 1 FROM {TABLE})
             AND NEW.epoch = IFNULL((SELECT epoch FROM {TABLE} ORDER BY seq DESC LIMIT 1), 1))
            OR (NEW.type = '{EPOCH_START}'
             AND NEW.seq > (SELECT IFNULL(MAX(seq), 0) FROM {TABLE})
             AND NEW.epoch > IFNULL((SELECT epoch FROM {TABLE} ORDER BY seq DESC LIMIT 1), 0)))
        BEGIN SELECT RAISE(ABORT, 'the journal only takes the next seq'); END""",
]
_LAST = f"SELECT seq, hash, grand_total, epoch FROM {TABLE} ORDER BY seq DESC LIMIT 1"
_INSERT = (
    f"INSERT INTO {TABLE} (seq, terminal_id, key_id, type, ts, grand_total, payload, prev_hash,"
    " hash, signature, epoch) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
_ALL = (
    f"SELECT seq, terminal_id, key_id, type, ts, grand_total, payload, prev_hash, hash, signature,"
    f" epoch FROM {TABLE} ORDER BY rowid"
)
ARCHIVE = "journal_archive"


def create_journal(db: Database) -> None:
    for statement in SCHEMA:
        db.execute_sql(statement)


@dataclass(frozen=True)
class JournalEntry:
    seq: int
    hash: str  # hex
    epoch: int = 1
    grand_total: int = 0

    @property
    def short_hash(self) -> str:
        return self.hash[:8].upper()

    @property
    def label(self) -> str:
        """As printed: the seq, with its epoch after a restore or reset (``2/154``)."""
        return str(self.seq) if self.epoch == 1 else f"{self.epoch}/{self.seq}"


def head(db: Database) -> JournalEntry | None:
    """The journal's last entry (None for an empty journal)."""
    row = db.execute_sql(_LAST).fetchone()
    return JournalEntry(row[0], row[1], row[3], row[2]) if row else None


class Journal:
    """Appends entries signed with the terminal's journal key."""

    def __init__(self, db: Database, terminal_id: str, signing_key: Ed25519PrivateKey) -> None:
        self.db = db
        self.terminal_id = terminal_id
        self.signing_key = signing_key
        self.public_key = signing_key.public_key()
        self.key_id = key_id(self.public_key)
        self._sign = fast_signer(signing_key)

    def append(
        self, event_type: str, payload: dict[str, Any], at: datetime, amount: int = 0
    ) -> JournalEntry:
        """Add one entry. ``amount`` moves the perpetual grand total (sales minus refunds).

        Call inside the transaction that makes the change the entry records; on its own
        it opens one. The row read and the insert happen under that transaction's lock,
        so the sequence stays gapless.
        """
        if event_type not in EVENT_TYPES:
            raise ValueError(f"unknown journal event type {event_type!r}")
        if self.db.in_transaction():  # the caller's transaction: no savepoint of its own
            with peewee.__exception_wrapper__:
                return self._append(event_type, payload, at, amount)
        with self.db.atomic("IMMEDIATE"), peewee.__exception_wrapper__:
            return self._append(event_type, payload, at, amount)

    def _append(
        self,
        event_type: str,
        payload: dict[str, Any],
        at: datetime,
        amount: int,
        after: JournalEntry | None = None,
    ) -> JournalEntry:
        """``after``: an epoch start, after that head (the previous epoch's last known)."""
        cursor = self.db.cursor()
        if after is None:
            last = cursor.execute(_LAST).fetchone()
            seq, prev, total, epoch = (
                (last[0] + 1, bytes.fromhex(last[1]), last[2], last[3])
                if last
                else (1, GENESIS, 0, 1)
            )
        else:
            seq, prev, total, epoch = (
                after.seq + 1,
                bytes.fromhex(after.hash),
                after.grand_total,
                after.epoch + 1,
            )
        payload_json = journal_format.canonical_json(payload).decode()  # encoded once
        entry = {
            "epoch": epoch,
            "seq": seq,
            "terminal_id": self.terminal_id,
            "key_id": self.key_id,
            "type": event_type,
            "ts": at.astimezone(UTC).isoformat(timespec="milliseconds"),
            "grand_total": total + amount,
            "payload_json": payload_json,
        }
        digest = entry_hash(prev, entry)
        signature = self._sign(digest)
        cursor.execute(
            _INSERT,
            (
                seq,
                self.terminal_id,
                self.key_id,
                event_type,
                entry["ts"],
                entry["grand_total"],
                payload_json,
                prev.hex(),
                digest.hex(),
                signature.hex(),
                epoch,
            ),
        )
        return JournalEntry(seq, digest.hex(), epoch, entry["grand_total"])

    def begin_epoch(
        self, reason: str, previous: JournalEntry, at: datetime, **details: Any
    ) -> JournalEntry:
        """Begin a new epoch after ``previous``, the last entry this terminal is known to
        have made (it may be missing from this database: entries made after the backup
        that was restored). The new epoch's first entry names it and links to its hash;
        its seq goes on after it, so no (terminal, epoch, seq) names two entries.

        ``previous`` must be at or after this journal's own head. Call inside the
        transaction that makes the change (a restore's counters, a reset).
        """
        own = head(self.db)
        if own is not None and (previous.epoch, previous.seq) < (own.epoch, own.seq):
            raise ValueError(
                f"an epoch must begin after the journal's head ({own.label}), not {previous.label}"
            )
        payload = {
            "reason": reason,
            "previous": {"epoch": previous.epoch, "seq": previous.seq, "hash": previous.hash},
            "previous_here": own.seq if own else 0,  # the last seq this database holds
            **details,
        }
        if self.db.in_transaction():
            with peewee.__exception_wrapper__:
                return self._append(EPOCH_START, payload, at, 0, previous)
        with self.db.atomic("IMMEDIATE"), peewee.__exception_wrapper__:
            return self._append(EPOCH_START, payload, at, 0, previous)

    def public_key_pem(self) -> bytes:
        return self.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def verify(
        self, *, public_key_only: bool = False, expected_head: Head | None = None
    ) -> Verdict:
        """Walk the chain and check every signature; name the first bad entry.

        On the terminal the signatures are checked with its own key: Ed25519 signatures
        are deterministic, so a genuine one is exactly the one the key makes again, and
        making it costs a third of a public-key check. ``public_key_only`` checks them as
        an auditor does (and as the exported ``verify_journal.py`` does): with the public
        key alone.
        """
        check: journal_format.BatchCheck = sodium_batch
        if not public_key_only:
            check = own_key_check(self.signing_key, self.public_key, sodium_batch)
        keys = {self.key_id: self.public_key, **archived_keys(self.db, self.terminal_id)}
        return verify_entries(
            history(self.db, self.terminal_id, decode=False),
            keys,
            check=check,
            expected_head=expected_head,
        )

    def export(self, directory: Path) -> tuple[Path, int]:
        """Write ``journal.jsonl``, the public key and the offline verifier into ``directory``."""
        directory.mkdir(parents=True, exist_ok=True)
        target = directory / "journal.jsonl"
        count = 0
        with target.open("w", encoding="utf-8") as out:
            for entry in history(self.db, self.terminal_id):
                out.write(json.dumps(entry, sort_keys=True, ensure_ascii=False) + "\n")
                count += 1
        (directory / "journal-public-key.pem").write_bytes(self.public_key_pem())
        for kid, key in archived_keys(self.db, self.terminal_id).items():
            (directory / f"journal-public-key-{kid}.pem").write_bytes(
                key.public_bytes(
                    serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
                )
            )
        shutil.copyfile(journal_format.__file__, directory / "verify_journal.py")
        return target, count


def fast_signer(signing_key: Ed25519PrivateKey) -> Callable[[bytes], bytes]:
    """Ed25519 signing by libsodium (PyNaCl): the same signature as OpenSSL's (Ed25519 is
    deterministic) in about half the time; it is on every sale's commit."""
    seed = signing_key.private_bytes(
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    _public, secret = crypto_sign_seed_keypair(seed)

    def sign(digest: bytes) -> bytes:
        return crypto_sign(digest, secret)[:64]  # signed message = signature || message

    return sign


def sodium_batch(batch: list) -> list[int]:
    """Public-key checks by libsodium (PyNaCl), about twice as fast as OpenSSL's here.
    The offline verifier keeps to ``cryptography`` alone."""
    bad = []
    keys: dict[int, bytes] = {}
    for seq, key, signature, digest in batch:
        public = keys.get(id(key)) or keys.setdefault(id(key), key.public_bytes(*_RAW_PUBLIC))
        try:
            crypto_sign_open(signature + digest, public)
        except (BadSignatureError, ValueError):
            bad.append(seq)
    return bad


def own_key_check(
    signing_key: Ed25519PrivateKey,
    public_key: Ed25519PublicKey,
    others: journal_format.BatchCheck,
) -> journal_format.BatchCheck:
    """Signatures by ``signing_key`` checked by signing again and comparing (RFC 8032
    signing is deterministic: one message, one signature); any other key's by ``others``.
    A signature that does not match is bad even where a public-key check might accept
    it (a non-canonical encoding): the terminal never wrote one."""
    sign = fast_signer(signing_key)

    def check(batch: list) -> list[int]:
        bad, theirs = [], []
        for item in batch:
            seq, key, signature, digest = item
            if key is not public_key:
                theirs.append(item)
            elif not hmac.compare_digest(sign(digest), signature):
                bad.append(seq)
        return bad + (others(theirs) if theirs else [])

    return check


def read_entries(
    db: Database, *, decode: bool = True, since: int = 0, types: tuple[str, ...] = ()
) -> Iterator[dict[str, Any]]:
    """Entries in storage order (rowid). ``decode=False`` keeps the payload as its stored
    canonical JSON text (``payload_json``), which is all verification needs. ``since``:
    only entries with ``seq >= since``; ``types``: only these event types."""
    if since or types:
        where = ["seq >= ?"] + ([f"type IN ({', '.join('?' * len(types))})"] if types else [])
        sql = _ALL.replace(" ORDER BY", f" WHERE {' AND '.join(where)} ORDER BY")
        cursor = db.execute_sql(sql, (since, *types))
    else:
        cursor = db.execute_sql(_ALL)
    while rows := cursor.fetchmany(5000):  # in batches: reading and verifying overlap less
        for row in rows:
            seq, terminal_id, kid, etype, ts, total, payload, prev, digest, sig, epoch = row
            entry = {
                "epoch": epoch,
                "seq": seq,
                "terminal_id": terminal_id,
                "key_id": kid,
                "type": etype,
                "ts": ts,
                "grand_total": total,
                "prev_hash": prev,
                "hash": digest,
                "signature": sig,
            }
            if decode:
                entry["payload"] = json.loads(payload)
            else:
                entry["payload_json"] = payload
            yield entry


def shift_first_seq(db: Database, shift_id: int) -> int:
    """The seq of a shift's opening entry (0 when there is none): where its entries begin."""
    row = db.execute_sql(
        f"SELECT MIN(seq) FROM {TABLE} WHERE type = 'shift_open'"
        " AND json_extract(payload, '$.shift') = ?",
        (shift_id,),
    ).fetchone()
    return row[0] or 0


def archived(db: Database, terminal_id: str) -> list[dict[str, Any]]:
    """The journal a replaced terminal of the same id kept, brought by an import (its
    epochs come before this database's), in order."""
    if not db.table_exists(ARCHIVE):
        return []
    return [
        json.loads(row[0])
        for row in db.execute_sql(
            f"SELECT entry FROM {ARCHIVE} WHERE terminal_id = ? ORDER BY epoch, seq",
            (terminal_id,),
        )
    ]


def archived_keys(db: Database, terminal_id: str) -> dict[str, Ed25519PublicKey]:
    if not db.table_exists(ARCHIVE):
        return {}
    return {
        kid: journal_format.load_public_key(pem.encode())
        for kid, pem in db.execute_sql(
            f"SELECT DISTINCT key_id, public_key FROM {ARCHIVE} WHERE terminal_id = ?",
            (terminal_id,),
        )
    }


def history(db: Database, terminal_id: str, *, decode: bool = True) -> Iterator[dict[str, Any]]:
    """Every epoch of this terminal's journal: the archived ones a replacement imported,
    then this database's."""
    yield from archived(db, terminal_id)  # (kept decoded: hashed from the payload itself)
    yield from read_entries(db, decode=decode)

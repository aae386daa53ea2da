"""Moving a shop's data to a replacement terminal (seed 004): export and import.

The replacement has keys of its own, so the data cannot move as database pages (that is
what backup/restore does, with the same keys). An export is a stream of records,
compressed, and encrypted under a passphrase the technician types on both terminals
(Argon2id, then AES-256-GCM): it holds customers' personal data.

- products and barcodes, sales with their lines, taxes and tenders, customers (opened
  with the old sealing key, sealed again with the new one), cashiers (without PINs: a
  PIN hash is bound to the old terminal's pepper, so imported cashiers are inactive
  until a supervisor sets their PIN with ``pos-terminal cashier set-pin``);
- the old journal (every epoch, with those it had archived itself), checked against the
  old terminal's public keys on both sides and kept in ``journal_archive``.

A replacement that takes over the old terminal's id continues its journal: the import
begins a new epoch after the old journal's last entry, so no (terminal, epoch, seq) names
two entries. That is why it must import before its first start (its journal empty); a
terminal with an id of its own begins a new epoch of its own journal that names the
source's last entry.

Counts are checked before (in the export header) and after (in the new database).
"""

from __future__ import annotations

import dataclasses
import json
import os
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.argon2 import Argon2id
from peewee import Database

from terminal.store import customers as customer_store
from terminal.store.journal import Journal, JournalEntry, archived_keys, head, history
from terminal.store.journal_format import key_id as public_key_id
from terminal.store.journal_format import load_public_key, verify_entries
from terminal.store.schema import ARCHIVE_SCHEMA
from terminal.store.sealing import Sealer

MAGIC = b"POSX1"
Progress = Callable[[int, int], None]
# tables copied as they are, in an order that satisfies their foreign keys
PLAIN_TABLES = (
    "product",
    "barcode",
    "promotion",
    "counter",
    "shift",
    "sale",
    "sale_line",
    "sale_tax",
    "tender",
    "card_payment",
    "refund",
    "refund_line",
    "refund_tender",
)


class TransferError(Exception):
    """The export cannot be made or used; nothing was changed."""


@dataclass(frozen=True)
class TransferInfo:
    source_terminal: str
    counts: dict[str, int]


def _passphrase_key(passphrase: str, salt: bytes) -> bytes:
    if len(passphrase) < 12:
        raise TransferError("the passphrase must be at least 12 characters")
    return Argon2id(salt=salt, length=32, iterations=3, lanes=4, memory_cost=65536).derive(
        passphrase.encode()
    )


def _rows(db: Database, table: str) -> Iterator[dict[str, Any]]:
    cursor = db.execute_sql(f'SELECT * FROM "{table}"')
    names = [c[0] for c in cursor.description]
    for row in cursor:
        yield dict(zip(names, row, strict=True))


def export_bundle(
    db: Database,
    sealer: Sealer,
    journal: Journal,
    terminal_id: str,
    target: Path,
    passphrase: str,
    progress: Progress | None = None,
) -> TransferInfo:
    verdict = journal.verify()
    if not verdict.ok:
        raise TransferError(
            f"this terminal's journal does not verify ({verdict}); "
            "export refused, take a backup instead"
        )
    records: list[dict[str, Any]] = []
    counts: dict[str, int] = {}
    for table in PLAIN_TABLES:
        rows = list(_rows(db, table))
        counts[table] = len(rows)
        records.extend({"table": table, "row": row} for row in rows)
    cashiers = [{k: r[k] for k in ("id", "name", "role")} for r in _rows(db, "cashier")]
    counts["cashier"] = len(cashiers)
    records.extend({"table": "cashier", "row": row} for row in cashiers)
    # passkey categories: on or off. Their codes' hashes are peppered with this terminal's
    # pepper, useless elsewhere: a supervisor sets new codes on the new terminal.
    switches = [{"category": r["category"], "enabled": r["enabled"]} for r in _rows(db, "passkey")]
    counts["passkey"] = len(switches)
    records.extend({"table": "passkey", "row": row} for row in switches)
    customer_ids = [r["id"] for r in _rows(db, "customer")]
    counts["customer"] = len(customer_ids)
    for n, customer_id in enumerate(customer_ids, start=1):
        c = customer_store.get_customer(db, sealer, customer_id)
        records.append(
            {
                "table": "customer",
                "row": {
                    "id": c.id,
                    "name": c.name,
                    "phone": c.phone,
                    "address": c.address,
                    "member_code": c.member_code,
                    "points": c.points,
                    "lifetime_points": c.lifetime_points,
                    "deleted": c.deleted,
                },
            }
        )
        if progress:
            progress(n, len(customer_ids))
    # card authorisations: opened here, sealed again under the new terminal's key
    auths = [r["tender_id"] for r in _rows(db, "card_auth")]
    counts["card_auth"] = len(auths)
    for tender_id in auths:
        auth = customer_store.card_auth(db, sealer, tender_id)
        records.append(
            {
                "table": "card_auth",
                "row": {"tender_id": tender_id, **dataclasses.asdict(auth)},
            }
        )
    entries = list(history(db, terminal_id))
    counts["journal"] = len(entries)
    older = {kid: _pem(key) for kid, key in archived_keys(db, terminal_id).items()}
    header = {
        "format": "pos-terminal-export-1",
        "terminal_id": terminal_id,
        "exported_at": datetime.now(UTC).isoformat(),
        "journal_public_key": journal.public_key_pem().decode(),
        "journal_public_keys": {**older, journal.key_id: journal.public_key_pem().decode()},
        "counts": counts,
    }
    body = "\n".join(
        json.dumps(x, ensure_ascii=False, default=str)
        for x in [header, *records, *({"journal": e} for e in entries)]
    )
    salt, nonce = os.urandom(16), os.urandom(12)
    sealed = AESGCM(_passphrase_key(passphrase, salt)).encrypt(
        nonce, zlib.compress(body.encode(), 6), MAGIC
    )
    partial = target.with_name(target.name + ".partial")
    partial.write_bytes(MAGIC + salt + nonce + sealed)
    os.replace(partial, target)
    return TransferInfo(terminal_id, counts)


def _pem(key) -> str:
    from cryptography.hazmat.primitives import serialization  # noqa: PLC0415

    return key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()


def read_bundle(path: Path, passphrase: str) -> tuple[dict, list[dict], list[dict]]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise TransferError(f"{path}: {exc.strerror}") from None
    if not data.startswith(MAGIC) or len(data) < len(MAGIC) + 28 + 16:
        raise TransferError(f"{path.name} is not a terminal export")
    salt, nonce = data[5:21], data[21:33]
    try:
        body = zlib.decompress(
            AESGCM(_passphrase_key(passphrase, salt)).decrypt(nonce, data[33:], MAGIC)
        ).decode()
    except InvalidTag:
        raise TransferError(
            f"{path.name}: wrong passphrase, or the file was changed or cut short"
        ) from None
    lines = [json.loads(line) for line in body.split("\n")]
    header, rest = lines[0], lines[1:]
    records = [x for x in rest if "table" in x]
    entries = [x["journal"] for x in rest if "journal" in x]
    return header, records, entries


def import_bundle(
    path: Path,
    passphrase: str,
    db: Database,
    sealer: Sealer,
    journal: Journal,
    progress: Progress | None = None,
) -> TransferInfo:
    header, records, entries = read_bundle(path, passphrase)
    counts = header["counts"]
    found = {t: sum(1 for r in records if r["table"] == t) for t in counts if t != "journal"}
    found["journal"] = len(entries)
    if found != counts:
        raise TransferError(f"{path.name}: the export is incomplete ({found} vs {counts})")
    pems = header.get("journal_public_keys") or {"": header["journal_public_key"]}
    old_keys = {public_key_id(k): k for k in (load_public_key(p.encode()) for p in pems.values())}
    old_key = load_public_key(header["journal_public_key"].encode())
    verdict = verify_entries(entries, old_keys)
    if not verdict.ok:
        raise TransferError(f"{path.name}: the old terminal's journal does not verify: {verdict}")
    if db.execute_sql("SELECT COUNT(*) FROM sale").fetchone()[0]:
        raise TransferError("this terminal already has sales: import only into a new terminal")
    same_id = header["terminal_id"] == journal.terminal_id
    own_head = head(db)
    if same_id and own_head is not None:
        raise TransferError(
            f"this terminal has already started as {journal.terminal_id} (its journal has "
            f"{own_head.seq} entries), and so had the terminal it replaces: the two journals "
            "would name different entries alike. Import before the replacement's first start "
            "(an empty data directory and key store), or give it a terminal id of its own"
        )
    with db.atomic():
        # rows refer to cashiers that come later in the stream: checked at COMMIT
        db.execute_sql("PRAGMA defer_foreign_keys = ON")
        # a new terminal holds only its demo data, which the imported data replaces
        for table in ("barcode", "product", "customer", "promotion", "passkey", "shift"):
            db.execute_sql(f'DELETE FROM "{table}"')
        for n, record in enumerate(records, start=1):
            table, row = record["table"], record["row"]
            if table == "customer":
                c = customer_store.add_customer(
                    db,
                    sealer,
                    row["name"],
                    row["phone"],
                    row["address"],
                    customer_id=row["id"],
                    member_code=row.get("member_code"),
                )
                assert c.id == row["id"]
                db.execute_sql(
                    "UPDATE customer SET points = ?, lifetime_points = ?, deleted = ? WHERE id = ?",
                    (
                        row.get("points", 0),
                        row.get("lifetime_points", 0),
                        int(row.get("deleted", False)),
                        c.id,
                    ),
                )
            elif table == "card_auth":
                tender_id = row.pop("tender_id")
                customer_store.record_card_auth(
                    db, sealer, tender_id, customer_store.CardAuth(**row)
                )
            elif table == "passkey":
                db.execute_sql(
                    "INSERT OR REPLACE INTO passkey (category, enabled, code_hash)"
                    " VALUES (?, ?, NULL)",
                    (row["category"], row["enabled"]),
                )
            elif table == "cashier":
                db.execute_sql(
                    "INSERT OR REPLACE INTO cashier (id, name, role, pin_hash, active, peppered)"
                    " VALUES (?, ?, ?, '', 0, 1)",
                    (row["id"], row["name"], row["role"]),
                )
            else:
                columns = ", ".join(f'"{c}"' for c in row)
                marks = ", ".join("?" for _ in row)
                db.execute_sql(
                    f'INSERT OR REPLACE INTO "{table}" ({columns}) VALUES ({marks})',
                    list(row.values()),
                )
            if progress and n % 500 == 0:
                progress(n, len(records))
        # a shift left open on the old terminal was never counted: it ends here, uncounted
        db.execute_sql(
            "UPDATE shift SET closed_at = ? WHERE closed_at IS NULL",
            (datetime.now(UTC).replace(tzinfo=None).isoformat(" "),),
        )
        db.execute_sql(ARCHIVE_SCHEMA)
        key_pems = {kid: _pem(key) for kid, key in old_keys.items()}
        for entry in entries:
            db.execute_sql(
                "INSERT OR REPLACE INTO journal_archive"
                " (terminal_id, epoch, seq, key_id, public_key, entry) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    entry["terminal_id"],
                    entry.get("epoch", 1),
                    entry["seq"],
                    entry["key_id"],
                    key_pems[entry["key_id"]],
                    json.dumps(entry),
                ),
            )
        after = {
            t: db.execute_sql(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0]
            for t in (*PLAIN_TABLES, "cashier", "customer", "passkey", "card_auth")
        }
        expected = {t: counts.get(t, 0) for t in after}  # (older exports lack new tables)
        if after != expected:
            raise TransferError(
                f"counts differ after import ({after} vs {expected}); nothing was changed"
            )
        last = entries[-1] if entries else None
        source_head = (
            JournalEntry(last["seq"], last["hash"], last.get("epoch", 1), last["grand_total"])
            if last
            else None
        )
        details = {
            "source_terminal": header["terminal_id"],
            "source_journal_key": public_key_id(old_key),
            "source_journal_last": {
                "epoch": source_head.epoch,
                "seq": source_head.seq,
                "hash": source_head.hash,
            }
            if source_head
            else None,
            "counts": counts,
        }
        now = datetime.now(UTC)
        after_head = source_head if same_id else own_head
        if after_head is not None:  # the replaced journal goes on, or this one's does
            journal.begin_epoch("transfer", after_head, now, **details)
        else:
            journal.append(
                "config_change", {"change": "data imported from another terminal", **details}, now
            )
    if progress:
        progress(len(records), len(records))
    return TransferInfo(header["terminal_id"], counts)

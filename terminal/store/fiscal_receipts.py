"""Receipts owed to the tax office (e-barimt), one row per sale or return, kept until
registered: the row is written in the sale's (the refund's) own transaction, so a sale
can never be committed without its fiscal receipt being owed, even if the terminal
stops the moment after.

A sale's request is built when the sale is committed and kept (sealed: a buyer's TIN
may be a person's civil id), so a retry days later sends the very same document - the
same ``billIdSuffix`` - and never a second one. A return's is built when it is sent,
from the receipt it replaces at that moment.

What PosAPI answers is kept only as far as the rules allow: the bill id (ДДТД) and its
print date (a return needs both). The lottery number and the QR data never reach this
table, the journal or the log.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from peewee import Database

from terminal.store.models import RefundLineRow, RefundRow
from terminal.store.sealing import Sealer

TABLE = "fiscal_receipt"
SCHEMA = f"""CREATE TABLE IF NOT EXISTS {TABLE} (
    id INTEGER PRIMARY KEY,
    sale_id INTEGER NOT NULL,
    refund_id INTEGER,
    kind TEXT NOT NULL,            -- sale | return
    label TEXT NOT NULL UNIQUE,    -- the sale's or the refund's number
    state TEXT NOT NULL,           -- pending | registered | deleted | replaced
    request BLOB,                  -- a sale's request, sealed
    receipt_type TEXT NOT NULL DEFAULT '',
    bill_id TEXT,
    bill_date TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    error TEXT,
    unknown_since TEXT,            -- the day an attempt was sent and no answer came
    created_at TEXT NOT NULL,
    done_at TEXT)"""
INDEX = f"CREATE INDEX IF NOT EXISTS {TABLE}_open ON {TABLE} (state, id)"


@dataclass(frozen=True)
class FiscalReceipt:
    id: int
    sale_id: int
    refund_id: int | None
    kind: str
    label: str
    state: str
    receipt_type: str
    bill_id: str | None
    bill_date: str | None
    attempts: int
    error: str | None
    created_at: str
    unknown_since: str | None = None


def create(db: Database) -> None:
    db.execute_sql(SCHEMA)
    db.execute_sql(INDEX)


def _seal(sealer: Sealer | None, label: str, request: dict) -> bytes:
    text = json.dumps(request, ensure_ascii=False, sort_keys=True)
    return sealer.seal(TABLE, "request", label, text) if sealer else text.encode()


def request_of(db: Database, sealer: Sealer | None, receipt: FiscalReceipt) -> dict:
    row = db.execute_sql(f"SELECT request FROM {TABLE} WHERE id = ?", (receipt.id,)).fetchone()
    raw = bytes(row[0])
    text = sealer.open(TABLE, "request", receipt.label, raw) if raw[:1] != b"{" else raw.decode()
    return json.loads(text)


def owe_sale(
    db: Database, sealer: Sealer | None, sale_id: int, label: str, request: dict, at: datetime
) -> int:
    """Inside the sale's transaction: its receipt is owed from now on."""
    cursor = db.execute_sql(
        f"INSERT INTO {TABLE} (sale_id, kind, label, state, request, receipt_type, created_at)"
        " VALUES (?, 'sale', ?, 'pending', ?, ?, ?)",
        (sale_id, label, _seal(sealer, label, request), request["type"], _iso(at)),
    )
    return cursor.lastrowid


def owe_return(db: Database, sale_id: int, refund_id: int, label: str, at: datetime) -> int:
    """Inside the refund's transaction, for a sale whose receipt is owed or registered."""
    cursor = db.execute_sql(
        f"INSERT INTO {TABLE} (sale_id, refund_id, kind, label, state, created_at)"
        " VALUES (?, ?, 'return', ?, 'pending', ?)",
        (sale_id, refund_id, label, _iso(at)),
    )
    return cursor.lastrowid


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="seconds")


_COLUMNS = (
    "id, sale_id, refund_id, kind, label, state, receipt_type, bill_id, bill_date, attempts,"
    " error, created_at, unknown_since"
)


def _select(db: Database, where: str, params: tuple = ()) -> list[FiscalReceipt]:
    rows = db.execute_sql(f"SELECT {_COLUMNS} FROM {TABLE} WHERE {where} ORDER BY id", params)
    return [FiscalReceipt(*row) for row in rows.fetchall()]


def pending(db: Database) -> list[FiscalReceipt]:
    """Receipts owed, oldest first (the order they must reach the tax office)."""
    return _select(db, "state = 'pending'")


def of_sale(db: Database, sale_id: int) -> list[FiscalReceipt]:
    return _select(db, "sale_id = ?", (sale_id,))


def by_label(db: Database, label: str) -> FiscalReceipt | None:
    found = _select(db, "label = ?", (label,))
    return found[0] if found else None


def standing(db: Database, sale_id: int) -> FiscalReceipt | None:
    """The sale's receipt that stands at the tax office now: the last registered one of
    its chain (the sale's own, or the last correction), None when none stands."""
    found = _select(db, "sale_id = ? AND state = 'registered'", (sale_id,))
    return found[-1] if found else None


def registered(
    db: Database, receipt_id: int, state: str, bill_id: str, bill_date: str, at: datetime
) -> None:
    """Inside the caller's transaction (with its journal entry)."""
    db.execute_sql(
        f"UPDATE {TABLE} SET state = ?, bill_id = ?, bill_date = ?, error = NULL,"
        " attempts = attempts + 1, done_at = ? WHERE id = ?",
        (state, bill_id, bill_date, _iso(at), receipt_id),
    )


def replaced(db: Database, receipt_id: int) -> None:
    """A receipt a correction replaced, or a return deleted: it no longer stands."""
    db.execute_sql(f"UPDATE {TABLE} SET state = 'replaced' WHERE id = ?", (receipt_id,))


def outcome_unknown(db: Database, receipt_id: int, day: str) -> None:
    """A request reached PosAPI (maybe) and no answer came: the first such day is kept."""
    db.execute_sql(
        f"UPDATE {TABLE} SET unknown_since = COALESCE(unknown_since, ?) WHERE id = ?",
        (day, receipt_id),
    )


def failed(db: Database, receipt_id: int, error: str) -> int:
    """One more attempt that did not register; returns how many there were."""
    with db.atomic():
        db.execute_sql(
            f"UPDATE {TABLE} SET attempts = attempts + 1, error = ? WHERE id = ?",
            (error[:300], receipt_id),
        )
        row = db.execute_sql(f"SELECT attempts FROM {TABLE} WHERE id = ?", (receipt_id,))
        return row.fetchone()[0]


def returned_up_to(db: Database, sale_id: int, refund_id: int) -> dict[int, tuple[Decimal, int]]:
    """Per sale line (its position): the quantity and money given back by this refund
    and the ones before it - what a correction made for this refund must leave out."""
    lines, refunds = RefundLineRow._meta.table_name, RefundRow._meta.table_name
    rows = db.execute_sql(
        f"SELECT l.position, SUM(l.quantity_milli), SUM(l.amount) FROM {lines} l"
        f" JOIN {refunds} r ON r.id = l.refund_id WHERE r.sale_id = ? AND r.id <= ?"
        " GROUP BY l.position",
        (sale_id, refund_id),
    )
    return {pos: (Decimal(qty) / 1000, amount) for pos, qty, amount in rows.fetchall()}


def refund_number(db: Database, refund_id: int) -> int:
    table = RefundRow._meta.table_name
    return db.execute_sql(f"SELECT number FROM {table} WHERE id = ?", (refund_id,)).fetchone()[0]

"""Schema versions (``PRAGMA user_version``) and the steps between them.

New tables come from the models (``create_tables``); a step here changes tables that
already exist in an older terminal's database.

- 1: the foundation issue (products, sales, cashiers).
- 2: the secure store: ``cashier.peppered`` (hashes made before the PIN pepper existed
  are checked without it once, then re-hashed with it), ``auth_failure``, ``journal``.
- 3: supervisor operations: product category and stock, sale shift/customer/discount/
  points/reprints, line regular amount/discount/promotion, tender points and card receipt
  number, customer member card/points; new tables passkey, shift, refund*, card_payment,
  promotion; four indexes dropped from the sale path (see REDUNDANT_INDEXES).
- 4: continuity: ``database_identity`` (made once, never changed: the key store
  remembers it), ``journal.epoch`` (a restore, reset or transfer begins a new epoch; the
  insert trigger is replaced to allow an epoch start), ``journal_archive`` keyed by
  (terminal, epoch, seq).
- 5: faithful copies: ``sale.points_balance`` (the member's points as printed) and
  ``card_auth.slip`` (the card terminal's receipt lines, sealed like the rest of it).
- 6: fiscal receipts: ``product.classification`` (the tax office's code for the goods);
  new table fiscal_receipt; ``tender.reference`` (a bank transfer's online order).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

from peewee import Database

VERSION = 6
IDENTITY_TABLE = "database_identity"
IDENTITY_SCHEMA = [
    f"""CREATE TABLE IF NOT EXISTS {IDENTITY_TABLE} (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        database_id TEXT NOT NULL,
        created_at TEXT NOT NULL)""",
    f"""CREATE TRIGGER IF NOT EXISTS {IDENTITY_TABLE}_fixed BEFORE UPDATE ON {IDENTITY_TABLE}
        BEGIN SELECT RAISE(ABORT, 'a database keeps its identity'); END""",
    f"""CREATE TRIGGER IF NOT EXISTS {IDENTITY_TABLE}_kept BEFORE DELETE ON {IDENTITY_TABLE}
        BEGIN SELECT RAISE(ABORT, 'a database keeps its identity'); END""",
]
ARCHIVE_SCHEMA = """CREATE TABLE IF NOT EXISTS journal_archive (
    terminal_id TEXT NOT NULL, epoch INTEGER NOT NULL, seq INTEGER NOT NULL,
    key_id TEXT NOT NULL, public_key TEXT NOT NULL, entry TEXT NOT NULL,
    PRIMARY KEY (terminal_id, epoch, seq))"""


def ensure_identity(db: Database, random=os.urandom) -> None:
    """Give the database its identity the first time it is opened (a random 128-bit id)."""
    for statement in IDENTITY_SCHEMA:
        db.execute_sql(statement)
    db.execute_sql(
        f"INSERT OR IGNORE INTO {IDENTITY_TABLE} (id, database_id, created_at) VALUES (1, ?, ?)",
        (random(16).hex(), datetime.now(UTC).isoformat(timespec="seconds")),
    )


def _columns(db: Database, table: str) -> set[str]:
    return {row[1] for row in db.execute_sql(f'PRAGMA table_info("{table}")').fetchall()}


# columns added to tables that existed before version 3: (table, column, SQL type/default)
ADDED_IN_3 = [
    ("product", "category", "VARCHAR(255) NOT NULL DEFAULT ''"),
    ("product", "stock_milli", "INTEGER"),
    ("sale", "shift_id", "INTEGER"),
    ("sale", "customer_id", "VARCHAR(255)"),
    ("sale", "discount", "INTEGER NOT NULL DEFAULT 0"),
    ("sale", "points_earned", "INTEGER NOT NULL DEFAULT 0"),
    ("sale", "reprints", "INTEGER NOT NULL DEFAULT 0"),
    ("sale_line", "regular_amount", "INTEGER NOT NULL DEFAULT 0"),
    ("sale_line", "discount", "INTEGER NOT NULL DEFAULT 0"),
    ("sale_line", "own_discount", "INTEGER NOT NULL DEFAULT 0"),
    ("sale_line", "promotion", "VARCHAR(255) NOT NULL DEFAULT ''"),
    ("tender", "points", "INTEGER NOT NULL DEFAULT 0"),
    ("tender", "receipt_number", "INTEGER"),
    ("customer", "member_code", "VARCHAR(255)"),
    ("customer", "points", "INTEGER NOT NULL DEFAULT 0"),
    ("customer", "lifetime_points", "INTEGER NOT NULL DEFAULT 0"),
    ("customer", "deleted", "INTEGER NOT NULL DEFAULT 0"),
]
ADDED_IN_5 = [
    ("sale", "points_balance", "INTEGER"),
    ("card_auth", "slip", "BLOB"),
]
ADDED_IN_6 = [
    ("product", "classification", "VARCHAR(255) NOT NULL DEFAULT ''"),
    ("tender", "reference", "VARCHAR(255) NOT NULL DEFAULT ''"),
]


REDUNDANT_INDEXES = (
    "salerow_cashier_id",
    "salerow_return_code",
    "salelinerow_sale_id",
    "saletaxrow_sale_id",
)


def upgrade(db: Database) -> int:
    """Bring an existing database to :data:`VERSION`; returns the version it had."""
    found = db.execute_sql("PRAGMA user_version").fetchone()[0]
    if found > VERSION:
        raise RuntimeError(f"database schema {found} is newer than this software ({VERSION})")
    with db.atomic():
        for table, column, kind in ADDED_IN_3 + ADDED_IN_5 + ADDED_IN_6:
            present = _columns(db, table)
            if present and column not in present:  # (a table not there yet is created whole)
                db.execute_sql(f'ALTER TABLE "{table}" ADD COLUMN "{column}" {kind}')
        # indexes the hot sale path no longer writes (each was one more page per COMMIT)
        for index in REDUNDANT_INDEXES:
            db.execute_sql(f'DROP INDEX IF EXISTS "{index}"')
        journal = _columns(db, "journal")
        if journal and "epoch" not in journal:
            db.execute_sql("ALTER TABLE journal ADD COLUMN epoch INTEGER NOT NULL DEFAULT 1")
            # its insert rule allows an epoch start now: made again by create_journal
            db.execute_sql("DROP TRIGGER IF EXISTS journal_next_seq")
        archive = _columns(db, "journal_archive")
        if archive and "terminal_id" not in archive:
            db.execute_sql("ALTER TABLE journal_archive RENAME TO journal_archive_3")
            db.execute_sql(ARCHIVE_SCHEMA)
            db.execute_sql(
                "INSERT INTO journal_archive SELECT json_extract(entry, '$.terminal_id'),"
                " 1, seq, key_id, public_key, entry FROM journal_archive_3"
            )
            db.execute_sql("DROP TABLE journal_archive_3")
        cashier = _columns(db, "cashier")
        if cashier and "peppered" not in cashier:
            # rows that exist now were hashed without the pepper (0); new rows get 1
            db.execute_sql("ALTER TABLE cashier ADD COLUMN peppered INTEGER NOT NULL DEFAULT 0")
        db.execute_sql(f"PRAGMA user_version = {VERSION}")
    return found

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
"""

from __future__ import annotations

from peewee import Database

VERSION = 3


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
        for table, column, kind in ADDED_IN_3:
            present = _columns(db, table)
            if present and column not in present:  # (a table not there yet is created whole)
                db.execute_sql(f'ALTER TABLE "{table}" ADD COLUMN "{column}" {kind}')
        # indexes the hot sale path no longer writes (each was one more page per COMMIT)
        for index in REDUNDANT_INDEXES:
            db.execute_sql(f'DROP INDEX IF EXISTS "{index}"')
        cashier = _columns(db, "cashier")
        if cashier and "peppered" not in cashier:
            # rows that exist now were hashed without the pepper (0); new rows get 1
            db.execute_sql("ALTER TABLE cashier ADD COLUMN peppered INTEGER NOT NULL DEFAULT 0")
        db.execute_sql(f"PRAGMA user_version = {VERSION}")
    return found

"""Schema versions (``PRAGMA user_version``) and the steps between them.

New tables come from the models (``create_tables``); a step here changes tables that
already exist in an older terminal's database.

- 1: the foundation issue (products, sales, cashiers).
- 2: the secure store: ``cashier.peppered`` (hashes made before the PIN pepper existed
  are checked without it once, then re-hashed with it), ``auth_failure``, ``journal``.
"""

from __future__ import annotations

from peewee import Database

VERSION = 2


def _columns(db: Database, table: str) -> set[str]:
    return {row[1] for row in db.execute_sql(f'PRAGMA table_info("{table}")').fetchall()}


def upgrade(db: Database) -> int:
    """Bring an existing database to :data:`VERSION`; returns the version it had."""
    found = db.execute_sql("PRAGMA user_version").fetchone()[0]
    if found > VERSION:
        raise RuntimeError(f"database schema {found} is newer than this software ({VERSION})")
    with db.atomic():
        if "peppered" not in _columns(db, "cashier"):
            # rows that exist now were hashed without the pepper (0); new rows get 1
            db.execute_sql("ALTER TABLE cashier ADD COLUMN peppered INTEGER NOT NULL DEFAULT 0")
        db.execute_sql(f"PRAGMA user_version = {VERSION}")
    return found

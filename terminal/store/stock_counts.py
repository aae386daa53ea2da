"""The counts the fleet opened for this terminal's store (issue 19, stocktake): kept from
the ``count_open`` job until its ``count_close``, so a supervisor can count offline and
after a restart. What was counted is in the journal (``stock_count`` entries), not here."""

from __future__ import annotations

from peewee import Database

from terminal.core.stocktake import OpenCount

OPEN = "stock_count_open"
SCHEMA = [
    f"""CREATE TABLE IF NOT EXISTS {OPEN} (
        id TEXT PRIMARY KEY,
        categories TEXT NOT NULL DEFAULT '',
        opened_at TEXT NOT NULL)""",
]


def create(db: Database) -> None:
    for statement in SCHEMA:
        db.execute_sql(statement)


def open_count(db: Database, count: OpenCount, at: str) -> None:
    """Keep an opened count (again: unchanged)."""
    db.execute_sql(
        f"INSERT OR IGNORE INTO {OPEN} (id, categories, opened_at) VALUES (?, ?, ?)",
        (count.id, ",".join(count.categories), at),
    )


def close_count(db: Database, count_id: str) -> bool:
    """Forget a count (closed at the fleet); False when it was not open here."""
    return db.execute_sql(f"DELETE FROM {OPEN} WHERE id = ?", (count_id,)).rowcount > 0


def open_counts(db: Database) -> list[OpenCount]:
    """The counts open here, the newest first."""
    rows = db.execute_sql(
        f"SELECT id, categories FROM {OPEN} ORDER BY opened_at DESC, id DESC"
    ).fetchall()
    return [OpenCount(i, tuple(c for c in categories.split(",") if c)) for i, categories in rows]

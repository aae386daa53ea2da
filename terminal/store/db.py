"""Opening the database: the one place that decides engine and pragmas.

Every caller goes through :func:`open_database`, so switching the engine (SQLCipher,
in the secure-store issue) touches nothing else.
"""

from __future__ import annotations

from pathlib import Path

from peewee import DatabaseProxy, SqliteDatabase

database = DatabaseProxy()

# WAL keeps readers off the writer's back; FULL fsyncs the WAL at every COMMIT so a
# committed sale survives a power cut - a receipt is only printed after that.
PRAGMAS = {
    "journal_mode": "wal",
    "synchronous": "full",
    "foreign_keys": 1,
    "busy_timeout": 5000,
}


def open_database(path: Path | str) -> SqliteDatabase:
    """Open (creating if needed) the terminal database and bind the models to it."""
    from terminal.store import models  # noqa: PLC0415 - models import `database` from here

    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    db = SqliteDatabase(str(path), pragmas=PRAGMAS)
    database.initialize(db)
    db.connect(reuse_if_open=True)
    db.create_tables(models.ALL_MODELS, safe=True)
    return db

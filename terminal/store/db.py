"""Opening the database: the one place that decides engine, key and pragmas.

Every caller goes through :func:`open_database`. The database is SQLCipher (whole-file
AES-256, so SUM/GROUP BY reports keep working) opened with a raw 256-bit key from the key
store - not a passphrase, which would cost a key derivation (~120 ms) at every open.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import peewee
import sqlcipher3
from peewee import DatabaseError, SqliteDatabase
from playhouse.sqlcipher_ext import SqlCipherDatabase

from terminal.store import (
    fiscal_receipts,
    fleet_config,
    fleet_jobs,
    models,
    outbox,
    schema,
    stock_counts,
)
from terminal.store.journal import create_journal
from terminal.store.print_queue import create_queue
from terminal.store.shop_config import create as create_shop_config

# WAL keeps readers off the writer's back; FULL fsyncs the WAL at every COMMIT so a
# committed sale survives a power cut - a receipt is only printed after that.
PRAGMAS = {
    "journal_mode": "wal",
    "synchronous": "full",
    "foreign_keys": 1,
    "busy_timeout": 5000,
}


class DatabaseUnusable(Exception):
    """The database cannot be used as it is: wrong key, not a database, or damaged."""


def sqlcipher_key(key: bytes) -> str:
    """SQLCipher's raw-key syntax: the key string ``x'<64 hex digits>'``."""
    if len(key) != 32:
        raise ValueError("the database key must be 32 bytes")
    return f"x'{key.hex()}'"


def set_aside(path: Path, tag: str, at: datetime) -> Path | None:
    """Move a database file and its WAL and shared-memory files aside, under one name
    (``pos.db.<tag>-<UTC time>``); None when there was no file."""
    if not path.exists():
        return None
    kept = path.with_name(f"{path.name}.{tag}-{at.astimezone(UTC).strftime('%Y%m%dT%H%M%SZ')}")
    for suffix in ("", "-wal", "-shm"):
        part = path.with_name(path.name + suffix)
        if part.exists():
            os.replace(part, kept.with_name(kept.name + suffix))
    return kept


def open_readonly(path: Path, key: bytes | None):
    """A read-only connection of its own to a database file (another process's, a backup,
    the file a restore replaces, or the terminal's own for a check while it sells): the
    models are not bound to it and nothing can be written through it."""
    con = sqlcipher3.connect(f"file:{path}?mode=ro", uri=True, check_same_thread=False)
    if key is not None:
        con.execute(f'PRAGMA key="{sqlcipher_key(key)}"')
    return con


def open_beside(path: Path, key: bytes) -> SqliteDatabase:
    """The terminal's database opened by a process of its own beside the app (the fleet
    agent): the same key and pragmas, WAL so neither waits for the other's reads. The file
    must exist already (nothing is made here: an empty file would read as a lost
    database at the app's next start), and nothing is created, upgraded or checked: that
    is the app's start. Checkpoints are left to the app too. The models are not bound to
    it."""
    uri = f"file:{quote(str(Path(path).resolve()))}?mode=rw"
    pragmas = {**PRAGMAS, "wal_autocheckpoint": 0}
    db = SqlCipherDatabase(uri, passphrase=sqlcipher_key(key), pragmas=pragmas, uri=True)
    try:
        with peewee.__exception_wrapper__:
            db.connect(reuse_if_open=True)
            db.execute_sql("SELECT COUNT(*) FROM sqlite_master").fetchone()
    except DatabaseError as exc:
        db.close()
        raise DatabaseUnusable(f"{path} cannot be opened: {exc}") from None
    return db


def check_integrity(path: Path, key: bytes | None) -> None:
    """``PRAGMA quick_check`` of a database file on a read-only connection of its own
    (the terminal may go on selling meanwhile); raises :class:`DatabaseUnusable`."""
    con = open_readonly(path, key)
    try:
        result = [row[0] for row in con.execute("PRAGMA quick_check").fetchall()]
    except sqlcipher3.DatabaseError as exc:
        result = [str(exc)]
    finally:
        con.close()
    if result != ["ok"]:
        raise DatabaseUnusable(
            f"{path} is damaged ({'; '.join(result[:3])}). Do not use this terminal for "
            "sales; restore the last backup with `pos-terminal restore`."
        )


def open_database(
    path: Path | str, key: bytes | None = None, *, check: bool = True
) -> SqliteDatabase:
    """Open (creating if needed) the terminal database (model queries name it: see
    :mod:`terminal.store.models`).

    With ``key``, the file is SQLCipher-encrypted; without, plain SQLite (only for
    migrating an old plaintext database and for tools). ``check`` runs
    ``PRAGMA quick_check`` first: a damaged database stops the terminal with a clear
    message instead of being written to.
    """
    if str(path) != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    if key is None:
        db = SqliteDatabase(str(path), pragmas=PRAGMAS)
    else:
        db = SqlCipherDatabase(str(path), passphrase=sqlcipher_key(key), pragmas=PRAGMAS)
    try:
        with peewee.__exception_wrapper__:  # rows are fetched outside execute_sql's own
            db.connect(reuse_if_open=True)
            fresh = not db.get_tables()
            result = ["ok"]
            if check:
                result = [row[0] for row in db.execute_sql("PRAGMA quick_check").fetchall()]
    except DatabaseError as exc:
        db.close()
        damaged = "malformed" in str(exc)
        raise DatabaseUnusable(
            f"{path} cannot be opened: {exc}. "
            + (
                "The file is damaged"
                if damaged
                else "Either the key store does not belong to this database, or the file is "
                "damaged or not a database"
            )
            + "; do not use this terminal for sales, restore the last backup with "
            "`pos-terminal restore`."
        ) from None
    if result != ["ok"]:
        db.close()
        raise DatabaseUnusable(
            f"{path} is damaged ({'; '.join(result[:3])}). Do not use this terminal for "
            "sales; restore the last backup with `pos-terminal restore`."
        )
    if not fresh:  # older tables get their new columns before indexes on them are made
        schema.upgrade(db)
    with db.bind_ctx(models.ALL_MODELS):  # (only while the tables are made, at the open)
        db.create_tables(models.ALL_MODELS, safe=True)
    create_journal(db)
    create_queue(db)
    fiscal_receipts.create(db)
    create_shop_config(db)
    outbox.create(db)
    fleet_config.create(db)
    fleet_jobs.create(db)
    stock_counts.create(db)
    schema.ensure_identity(db)
    if fresh:
        db.execute_sql(f"PRAGMA user_version = {schema.VERSION}")
    return db

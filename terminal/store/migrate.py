"""Encrypting a plaintext database from before the secure store, without losing a row."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

import sqlcipher3

from terminal.store.db import sqlcipher_key


class MigrationError(Exception):
    pass


def _counts(con) -> dict[str, int]:
    tables = [
        r[0]
        for r in con.execute(
            "SELECT name FROM sqlite_master WHERE type='table' AND name NOT LIKE 'sqlite_%'"
        )
    ]
    return {t: con.execute(f'SELECT COUNT(*) FROM "{t}"').fetchone()[0] for t in sorted(tables)}


def encrypt_plaintext_database(path: Path, key: bytes, *, keep_plaintext: bool = False) -> dict:
    """Rewrite the plaintext SQLite file at ``path`` as SQLCipher with ``key``.

    The copy is made with SQLCipher's ``sqlcipher_export`` into a new file, checked
    (quick_check, the row count of every table) and only then put in place. The plaintext
    original is removed afterwards - it is what this migration protects against - unless
    ``keep_plaintext`` asks for it to stay as ``<name>.plaintext``.
    """
    path = Path(path)
    try:
        plain = sqlite3.connect(path)
        plain.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        before = _counts(plain)
        check = plain.execute("PRAGMA quick_check").fetchone()[0]
        plain.execute("PRAGMA journal_mode=DELETE")  # fold the WAL into the file
        plain.close()
    except sqlite3.DatabaseError as exc:
        raise MigrationError(
            f"{path} is not a plaintext SQLite database ({exc}); is it already encrypted?"
        ) from None
    if check != "ok":
        raise MigrationError(f"{path} is damaged ({check}); restore a backup before migrating")
    target = path.with_name(path.name + ".encrypting")
    target.unlink(missing_ok=True)
    con = sqlcipher3.connect(str(path))
    try:
        con.execute(f'ATTACH DATABASE ? AS encrypted KEY "{sqlcipher_key(key)}"', (str(target),))
        con.execute("SELECT sqlcipher_export('encrypted')")
        con.execute("DETACH DATABASE encrypted")
    finally:
        con.close()
    enc = sqlcipher3.connect(str(target))
    enc.execute(f'PRAGMA key="{sqlcipher_key(key)}"')
    after = _counts(enc)
    enc_check = enc.execute("PRAGMA quick_check").fetchone()[0]
    enc.close()
    if after != before or enc_check != "ok":
        target.unlink()
        raise MigrationError(
            f"the encrypted copy does not match ({after} vs {before}); nothing was changed"
        )
    aside = path.with_name(path.name + ".plaintext")
    os.replace(path, aside)
    os.replace(target, path)
    for suffix in ("-wal", "-shm"):
        path.with_name(path.name + suffix).unlink(missing_ok=True)
    if not keep_plaintext:
        aside.unlink()
    return before

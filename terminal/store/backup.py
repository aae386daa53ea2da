"""Backup and restore of the encrypted database (seed 004: replacing or repairing a POS).

A backup is taken online with SQLite's backup API while the terminal keeps selling; the
file is a SQLCipher database under the terminal's own database key, folded into a single
file (no WAL). It is checked (quick_check, journal chain and signatures) before it is
called done. A restore checks the same before it replaces anything, and keeps the file it
replaces. On a new terminal, first rebuild the key store from the recovery export.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import sqlcipher3
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from terminal.store.db import open_readonly, set_aside, sqlcipher_key
from terminal.store.journal_format import key_id, verify_entries

SUFFIX = ".posdb"
Progress = Callable[[int, int], None]  # (pages done, pages in all)


class BackupError(Exception):
    """The backup cannot be made or used; nothing was changed."""


@dataclass(frozen=True)
class BackupInfo:
    path: Path
    sales: int
    journal_entries: int
    last_number: int


def connect(path: Path, key: bytes):
    con = sqlcipher3.connect(str(path))
    con.execute(f'PRAGMA key="{sqlcipher_key(key)}"')
    return con


def inspect(path: Path, key: bytes, public_key: Ed25519PublicKey) -> BackupInfo:
    """Open a backup read-only and check it: decrypts, quick_check, journal verifies."""
    if not path.is_file():
        raise BackupError(f"{path}: no such file")
    con = open_readonly(path, key)
    try:
        try:
            check = [row[0] for row in con.execute("PRAGMA quick_check").fetchall()]
        except sqlcipher3.DatabaseError as exc:
            if "malformed" in str(exc):
                raise BackupError(f"{path.name} is damaged or truncated ({exc})") from None
            raise BackupError(
                f"{path.name} cannot be read with this terminal's keys ({exc}): it is from "
                "another terminal (rebuild that terminal's key store from its recovery "
                "export first), or it is not a backup"
            ) from None
        if check != ["ok"]:
            raise BackupError(f"{path.name} is damaged or truncated ({'; '.join(check[:2])})")
        columns = {row[1] for row in con.execute("PRAGMA table_info(journal)")}
        epoch = "epoch" if "epoch" in columns else "1"  # (a backup from before epochs)
        rows = con.execute(
            f"SELECT {epoch}, seq, terminal_id, key_id, type, ts, grand_total, payload, prev_hash,"
            " hash, signature FROM journal ORDER BY rowid"
        )
        entries = (
            dict(
                zip(
                    (
                        "epoch",
                        "seq",
                        "terminal_id",
                        "key_id",
                        "type",
                        "ts",
                        "grand_total",
                        "payload_json",  # hashed as stored, as journal verify does
                        "prev_hash",
                        "hash",
                        "signature",
                    ),
                    row,
                    strict=True,
                )
            )
            for row in rows
        )
        verdict = verify_entries(entries, {key_id(public_key): public_key})
        if not verdict.ok:
            raise BackupError(f"{path.name}: its journal does not verify: {verdict}")
        sales, last = con.execute("SELECT COUNT(*), COALESCE(MAX(number), 0) FROM sale").fetchone()
        return BackupInfo(path, sales, verdict.entries, last)
    except sqlcipher3.DatabaseError as exc:
        raise BackupError(f"{path.name} is damaged or truncated ({exc})") from None
    finally:
        con.close()


def backup(
    source,
    key: bytes,
    target: Path,
    public_key: Ed25519PublicKey,
    terminal_id: str,
    progress: Progress | None = None,
) -> BackupInfo:
    """Copy the open database ``source`` (a sqlcipher3 connection) into ``target``.

    ``target`` is a file, or a directory (a USB stick) that gets a dated file name.
    """
    if target.is_dir():
        stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
        target = target / f"pos-{terminal_id}-{stamp}{SUFFIX}"
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    dst = connect(partial, key)
    try:
        source.backup(
            dst,
            pages=256,
            progress=(
                (lambda _status, remaining, total: progress(total - remaining, total))
                if progress
                else None
            ),
        )
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
    finally:
        dst.close()
    _fsync(partial)
    info = inspect(partial, key, public_key)
    os.replace(partial, target)
    _fsync_dir(target.parent)
    return BackupInfo(target, info.sales, info.journal_entries, info.last_number)


def restore(
    source: Path, database: Path, key: bytes, public_key: Ed25519PublicKey
) -> tuple[BackupInfo, Path | None]:
    """Put the backup ``source`` in place of ``database`` after checking it.

    Returns what was restored and where the replaced database was kept (``None`` when
    there was none). The terminal must not be running.
    """
    info = inspect(source, key, public_key)
    # the backup is copied in and on disk before the live file is touched: a pulled
    # stick or a full disk leaves the current database where it was
    incoming = database.with_name(database.name + ".restoring")
    shutil.copyfile(source, incoming)
    _fsync(incoming)
    kept = set_aside(database, "replaced", datetime.now(UTC))
    os.replace(incoming, database)
    _fsync_dir(database.parent)
    return info, kept


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _fsync_dir(path: Path) -> None:
    _fsync(path)

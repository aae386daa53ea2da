"""Receipts as print jobs in the database, so that none is lost and none prints twice.

A sale's receipt job is written in the sale's own transaction. Printing marks the job
``printing`` (committed) before its bytes go out and ``done`` after; a printer fault marks
it ``failed`` for the cashier to resume once the paper is in. A job found ``printing``
after a crash may or may not have come out: it is never re-sent by itself - the cashier
looks at the printer and reprints as a copy if needed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from peewee import Database

TABLE = "print_job"
SCHEMA = f"""CREATE TABLE IF NOT EXISTS {TABLE} (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    data BLOB NOT NULL,
    state TEXT NOT NULL,      -- pending | printing | done | failed
    error TEXT,
    created_at TEXT NOT NULL,
    printed_at TEXT)"""


@dataclass(frozen=True)
class PrintJob:
    id: int
    name: str
    data: bytes
    state: str
    error: str | None


def create_queue(db: Database) -> None:
    db.execute_sql(SCHEMA)


def add_job(cursor, name: str, data: bytes, error: str | None = None) -> int:
    """Inside the caller's transaction (the sale's): returns the job id."""
    cursor.execute(
        f"INSERT INTO {TABLE} (name, data, state, error, created_at) VALUES (?, ?, ?, ?, ?)",
        (
            name,
            data,
            "failed" if error else "pending",
            error,
            datetime.now(UTC).isoformat(timespec="seconds"),
        ),
    )
    return cursor.lastrowid


def _jobs(db: Database, where: str, params: tuple = ()) -> list[PrintJob]:
    rows = db.execute_sql(
        f"SELECT id, name, data, state, error FROM {TABLE} WHERE {where} ORDER BY id", params
    )
    return [PrintJob(r[0], r[1], bytes(r[2]), r[3], r[4]) for r in rows]


def job(db: Database, job_id: int) -> PrintJob:
    return _jobs(db, "id = ?", (job_id,))[0]


def waiting(db: Database) -> list[PrintJob]:
    """Jobs that did not print: new, or refused by the printer (paper out, offline)."""
    return _jobs(db, "state IN ('pending', 'failed') AND length(data) > 0")


def interrupted(db: Database) -> list[PrintJob]:
    """Jobs that were being sent when the terminal stopped: maybe printed, maybe not."""
    return _jobs(db, "state = 'printing'")


def mark(db: Database, job_id: int, state: str, error: str | None = None) -> None:
    printed = datetime.now(UTC).isoformat(timespec="seconds") if state == "done" else None
    with db.atomic():
        db.execute_sql(
            f"UPDATE {TABLE} SET state = ?, error = ?, printed_at = ? WHERE id = ?",
            (state, error, printed, job_id),
        )


def replace_data(db: Database, job_id: int, data: bytes) -> None:
    """What a job keeps is changed before it prints: a fiscal receipt keeps the form
    without what may only be printed (e-barimt's lottery number and QR)."""
    with db.atomic():
        db.execute_sql(f"UPDATE {TABLE} SET data = ? WHERE id = ?", (data, job_id))


def claim(db: Database, job_id: int) -> bool:
    """Mark a job ``printing`` if nobody else has: True for the one caller that may send
    it (two threads - the fiscal thread's slip, F9 - never both print one job)."""
    with db.atomic():
        cursor = db.execute_sql(
            f"UPDATE {TABLE} SET state = 'printing'"
            " WHERE id = ? AND state IN ('pending', 'failed')",
            (job_id,),
        )
        return cursor.rowcount == 1

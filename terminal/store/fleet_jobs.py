"""Jobs from the fleet (``pos/v1/{tid}/down/job/{id}``), between the agent and the app (one
database file, WAL; each write one short statement or transaction):

- ``fleet_jobs``: every job id the agent received (a repeat is ignored), its kind and
  text, and ``state``: ``new`` (an app job the app has not taken), ``accepted`` (the app
  took it and it waits, e.g. a lock for the sale in progress), ``running`` (an agent job
  under way: recorded before it runs; a ``send_now`` waiting for the fleet to hold the
  journal, a ``rotate_certificate`` waiting for its certificate), or final (``done``,
  ``refused``, ``failed``). ``app``: the app runs it (X report, lock, unlock, message);
  the agent runs the others itself (send now, diagnostics, the certificate jobs).
- ``fleet_job_results``: each result (a ``JobResult`` as its JSON), for the agent to
  publish on ``up/job/{id}`` (``sent`` after the broker's PUBACK) and for the app to
  journal (``journaled``: the agent's results are journaled by the app, which alone
  writes the journal).
- ``fleet_lock``, one row: the lock the fleet put on this terminal (its reason), kept
  across a restart.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from peewee import Database

JOBS = "fleet_jobs"
RESULTS = "fleet_job_results"
LOCK = "fleet_lock"
KEEP = 1000  # final jobs and their sent, journaled results kept
SCHEMA = [
    f"""CREATE TABLE IF NOT EXISTS {JOBS} (
        id TEXT PRIMARY KEY,
        kind TEXT NOT NULL,
        text TEXT NOT NULL DEFAULT '',
        received_at TEXT NOT NULL,
        app INTEGER NOT NULL,
        state TEXT NOT NULL)""",
    f"""CREATE TABLE IF NOT EXISTS {RESULTS} (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        job_id TEXT NOT NULL,
        kind TEXT NOT NULL,
        result TEXT NOT NULL,
        journaled INTEGER NOT NULL,
        sent INTEGER NOT NULL DEFAULT 0)""",
    f"""CREATE TABLE IF NOT EXISTS {LOCK} (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        locked INTEGER NOT NULL DEFAULT 0,
        reason TEXT NOT NULL DEFAULT '')""",
    f"INSERT OR IGNORE INTO {LOCK} (id) VALUES (1)",
]


def create(db: Database) -> None:
    for statement in SCHEMA:
        db.execute_sql(statement)


@dataclass(frozen=True)
class JobRow:
    id: str
    kind: str
    text: str
    received_at: str
    app: bool
    state: str


@dataclass(frozen=True)
class ResultRow:
    id: int
    job_id: str
    kind: str
    result: bytes  # a JobResult as its JSON
    journaled: bool
    sent: bool

    def json(self) -> dict[str, Any]:
        return json.loads(self.result)


def seen(db: Database, job_id: str) -> bool:
    return bool(db.execute_sql(f"SELECT 1 FROM {JOBS} WHERE id = ?", (job_id,)).fetchall())


def add_job(
    db: Database, job_id: str, kind: str, text: str, at: datetime, *, app: bool, state: str
) -> None:
    db.execute_sql(
        f"INSERT INTO {JOBS} (id, kind, text, received_at, app, state) VALUES (?, ?, ?, ?, ?, ?)",
        (
            job_id,
            kind,
            text,
            at.astimezone(UTC).isoformat(timespec="milliseconds"),
            int(app),
            state,
        ),
    )


def set_state(db: Database, job_id: str, state: str) -> None:
    db.execute_sql(f"UPDATE {JOBS} SET state = ? WHERE id = ?", (state, job_id))


def job(db: Database, job_id: str) -> JobRow | None:
    rows = _jobs(db, "id = ?", (job_id,))
    return rows[0] if rows else None


def running_jobs(db: Database, kind: str) -> list[JobRow]:
    """The agent's jobs of ``kind`` still under way, in the order they came."""
    return _jobs(db, "app = 0 AND state = 'running' AND kind = ?", (kind,))


def app_jobs(db: Database) -> list[JobRow]:
    """The app's jobs not final yet, in the order they came."""
    return _jobs(db, "app = 1 AND state IN ('new', 'accepted')", ())


def _jobs(db: Database, where: str, params: tuple) -> list[JobRow]:
    rows = db.execute_sql(
        f"SELECT id, kind, text, received_at, app, state FROM {JOBS} WHERE {where} ORDER BY rowid",
        params,
    ).fetchall()
    return [JobRow(r[0], r[1], r[2], r[3], bool(r[4]), r[5]) for r in rows]


def add_result(db: Database, job_id: str, kind: str, result: bytes, *, journaled: bool) -> int:
    with db.atomic():
        cursor = db.cursor()
        cursor.execute(
            f"INSERT INTO {RESULTS} (job_id, kind, result, journaled) VALUES (?, ?, ?, ?)",
            (job_id, kind, bytes(result).decode(), int(journaled)),
        )
        last = cursor.lastrowid
        cursor.execute(
            f"DELETE FROM {RESULTS} WHERE id <= ? AND sent = 1 AND journaled = 1", (last - KEEP,)
        )
    return last


def _results(db: Database, where: str, limit: int) -> list[ResultRow]:
    rows = db.execute_sql(
        f"SELECT id, job_id, kind, result, journaled, sent FROM {RESULTS} WHERE {where} "
        "ORDER BY id LIMIT ?",
        (limit,),
    ).fetchall()
    return [ResultRow(r[0], r[1], r[2], r[3].encode(), bool(r[4]), bool(r[5])) for r in rows]


def unsent_results(db: Database, limit: int = 10) -> list[ResultRow]:
    return _results(db, "sent = 0", limit)


def unjournaled_results(db: Database, limit: int = 10) -> list[ResultRow]:
    return _results(db, "journaled = 0", limit)


def all_results(db: Database) -> list[ResultRow]:
    return _results(db, "1", 100_000)


def set_sent(db: Database, result_id: int) -> None:
    db.execute_sql(f"UPDATE {RESULTS} SET sent = 1 WHERE id = ?", (result_id,))


def set_journaled(db: Database, result_id: int) -> None:
    db.execute_sql(f"UPDATE {RESULTS} SET journaled = 1 WHERE id = ?", (result_id,))


def lock_reason(db: Database) -> str | None:
    """The reason of the fleet's lock, or None when the terminal is not locked."""
    rows = db.execute_sql(f"SELECT locked, reason FROM {LOCK} WHERE id = 1").fetchall()
    return rows[0][1] if rows and rows[0][0] else None


def set_lock(db: Database, reason: str | None) -> None:
    db.execute_sql(
        f"UPDATE {LOCK} SET locked = ?, reason = ? WHERE id = 1",
        (int(reason is not None), reason or ""),
    )

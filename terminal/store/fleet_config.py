"""Signed configuration from the fleet, between the agent and the app (one database file,
WAL; each write one short statement or transaction):

- ``fleet_config``, one row: the signing-key list envelope the terminal accepted (signed
  by the pinned root key) and every key id ever revoked (written by the agent, which
  verifies the bundles); ``applied``: per scope label (``fleet``, ``group:G``,
  ``terminal:T``) the version and SHA-256 of the document applied (written by the app,
  after applying); ``last_bundle``: the SHA-256 of the last bundle the agent handled (the
  retained bundle comes again at each connection: handled once).
- ``fleet_config_inbox``: bundles the agent verified, waiting for the app to apply them
  (``taken`` once applied or refused; only the newest waiting one counts); ``hashes``:
  the PINs and passkeys the bundle carried sealed, as the agent hashed them on arrival
  (name -> Argon2id PHC, JSON): never their values.
- ``fleet_config_status``: what became of each bundle (a ``ConfigStatus`` as its JSON),
  for the agent to publish on ``up/cfg-status`` (``sent`` after the broker's PUBACK) and
  for the app to journal (``journaled``: the agent's refusals are journaled by the app,
  which alone writes the journal).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from peewee import Database

STATE = "fleet_config"
INBOX = "fleet_config_inbox"
STATUS = "fleet_config_status"
KEEP = 200  # status rows and taken bundles kept
SCHEMA = [
    f"""CREATE TABLE IF NOT EXISTS {STATE} (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        key_list BLOB,
        revoked TEXT NOT NULL DEFAULT '[]',
        applied TEXT NOT NULL DEFAULT '{{}}',
        applied_at TEXT NOT NULL DEFAULT '',
        last_bundle TEXT NOT NULL DEFAULT '')""",
    f"INSERT OR IGNORE INTO {STATE} (id) VALUES (1)",
    f"""CREATE TABLE IF NOT EXISTS {INBOX} (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        received_at TEXT NOT NULL,
        bundle BLOB NOT NULL,
        taken INTEGER NOT NULL DEFAULT 0,
        hashes TEXT NOT NULL DEFAULT '{{}}')""",
    f"""CREATE TABLE IF NOT EXISTS {STATUS} (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        status TEXT NOT NULL,
        journaled INTEGER NOT NULL,
        sent INTEGER NOT NULL DEFAULT 0)""",
]


def create(db: Database) -> None:
    for statement in SCHEMA:
        db.execute_sql(statement)
    columns = {row[1] for row in db.execute_sql(f"PRAGMA table_info({INBOX})").fetchall()}
    if "hashes" not in columns:  # an inbox made before the fleet sent PINs
        db.execute_sql(f"ALTER TABLE {INBOX} ADD COLUMN hashes TEXT NOT NULL DEFAULT '{{}}'")


def _stamp(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="seconds")


# -- trust and versions ------------------------------------------------------------------------
@dataclass(frozen=True)
class Applied:
    version: int
    sha256: str


@dataclass(frozen=True)
class TrustState:
    key_list: bytes | None
    revoked: list[str]
    applied: dict[str, Applied]
    applied_at: str
    last_bundle: str


def state(db: Database) -> TrustState:
    row = db.execute_sql(
        f"SELECT key_list, revoked, applied, applied_at, last_bundle FROM {STATE} WHERE id = 1"
    ).fetchall()
    if not row:
        return TrustState(None, [], {}, "", "")
    key_list, revoked, applied, applied_at, last_bundle = row[0]
    return TrustState(
        bytes(key_list) if key_list is not None else None,
        json.loads(revoked),
        {label: Applied(v["version"], v["sha256"]) for label, v in json.loads(applied).items()},
        applied_at,
        last_bundle,
    )


def set_key_list(db: Database, envelope: bytes, revoked: list[str]) -> None:
    db.execute_sql(
        f"UPDATE {STATE} SET key_list = ?, revoked = ? WHERE id = 1",
        (bytes(envelope), json.dumps(sorted(set(revoked)))),
    )


def set_last_bundle(db: Database, sha256: str) -> None:
    db.execute_sql(f"UPDATE {STATE} SET last_bundle = ? WHERE id = 1", (sha256,))


def set_applied(db: Database, applied: dict[str, Applied], at: datetime) -> None:
    """The versions now applied per scope (merged into those held: a scope the bundle did
    not carry keeps its version, so an older one is still a replay)."""
    held = state(db).applied
    held.update(applied)
    text = json.dumps({k: {"version": v.version, "sha256": v.sha256} for k, v in held.items()})
    db.execute_sql(
        f"UPDATE {STATE} SET applied = ?, applied_at = ? WHERE id = 1", (text, _stamp(at))
    )


# -- bundles waiting for the app ---------------------------------------------------------------
@dataclass(frozen=True)
class Waiting:
    id: int
    received_at: str
    bundle: bytes
    hashes: dict[str, str]


def put_bundle(
    db: Database, bundle: bytes, at: datetime, hashes: dict[str, str] | None = None
) -> int:
    with db.atomic():
        cursor = db.cursor()
        cursor.execute(
            f"INSERT INTO {INBOX} (received_at, bundle, hashes) VALUES (?, ?, ?)",
            (_stamp(at), bytes(bundle), json.dumps(hashes or {}, sort_keys=True)),
        )
        last = cursor.lastrowid
        cursor.execute(f"DELETE FROM {INBOX} WHERE taken = 1 AND id <= ?", (last - KEEP,))
    return last


def waiting_bundle(db: Database) -> Waiting | None:
    """The newest bundle the app has not taken (older ones waiting are superseded)."""
    rows = db.execute_sql(
        f"SELECT id, received_at, bundle, hashes FROM {INBOX} WHERE taken = 0 "
        "ORDER BY id DESC LIMIT 1"
    ).fetchall()
    if not rows:
        return None
    row = rows[0]
    return Waiting(row[0], row[1], bytes(row[2]), json.loads(row[3]))


def take_bundles(db: Database, through: int) -> None:
    db.execute_sql(f"UPDATE {INBOX} SET taken = 1 WHERE id <= ? AND taken = 0", (through,))


# -- statuses ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class StatusRow:
    id: int
    status: bytes  # a ConfigStatus as its JSON
    journaled: bool
    sent: bool


def add_status(db: Database, status: bytes, *, journaled: bool) -> int:
    with db.atomic():
        cursor = db.cursor()
        cursor.execute(
            f"INSERT INTO {STATUS} (status, journaled) VALUES (?, ?)",
            (bytes(status).decode(), int(journaled)),
        )
        last = cursor.lastrowid
        cursor.execute(
            f"DELETE FROM {STATUS} WHERE id <= ? AND sent = 1 AND journaled = 1", (last - KEEP,)
        )
    return last


def _statuses(db: Database, where: str, limit: int) -> list[StatusRow]:
    rows = db.execute_sql(
        f"SELECT id, status, journaled, sent FROM {STATUS} WHERE {where} ORDER BY id LIMIT ?",
        (limit,),
    ).fetchall()
    return [StatusRow(r[0], r[1].encode(), bool(r[2]), bool(r[3])) for r in rows]


def unsent_statuses(db: Database, limit: int = 10) -> list[StatusRow]:
    return _statuses(db, "sent = 0", limit)


def unjournaled_statuses(db: Database, limit: int = 10) -> list[StatusRow]:
    return _statuses(db, "journaled = 0", limit)


def all_statuses(db: Database) -> list[StatusRow]:
    return _statuses(db, "1", 10_000)


def set_sent(db: Database, status_id: int) -> None:
    db.execute_sql(f"UPDATE {STATUS} SET sent = 1 WHERE id = ?", (status_id,))


def set_journaled(db: Database, status_id: int) -> None:
    db.execute_sql(f"UPDATE {STATUS} SET journaled = 1 WHERE id = ?", (status_id,))


def status_json(status: bytes) -> dict[str, Any]:
    return json.loads(status)

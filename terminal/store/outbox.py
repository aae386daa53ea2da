"""What the fleet agent keeps beside the journal. The journal itself is the outbox: it is
sent as it is and never changed (no flag is set on an entry, nothing is deleted).

- ``fleet_outbox``, one row: ``acked``, the highest seq the fleet confirmed holding
  (committed there): the mark, which never goes down; ``birth``, one more at each
  connection the agent makes (its Last Will carries it, so a late Will is told from the
  current connection); ``events_sent``, the last device event published; ``link``,
  whether the agent is connected to the broker now, and since when (for the terminal's
  menu).
- ``device_event``: the devices' health changes, written by the app (a row per change,
  from the health watch's thread, never on a sale's path) and published by the agent in
  id order. The newest :data:`KEEP` are kept.

Both processes open the one database file (WAL): the app writes the journal and the
device events, the agent its own row; each write is one short statement.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from peewee import Database

from terminal.core.fleet_protocol import Entry
from terminal.store.journal import TABLE as JOURNAL

TABLE = "fleet_outbox"
EVENTS = "device_event"
KEEP = 1000  # device events kept (a terminal offline for weeks keeps its last ones)
SCHEMA = [
    f"""CREATE TABLE IF NOT EXISTS {TABLE} (
        id INTEGER PRIMARY KEY CHECK (id = 1),
        acked INTEGER NOT NULL DEFAULT 0,
        birth INTEGER NOT NULL DEFAULT 0,
        events_sent INTEGER NOT NULL DEFAULT 0,
        link TEXT NOT NULL DEFAULT 'offline',
        link_since TEXT NOT NULL DEFAULT '')""",
    f"INSERT OR IGNORE INTO {TABLE} (id) VALUES (1)",
    f"""CREATE TABLE IF NOT EXISTS {EVENTS} (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        ts TEXT NOT NULL,
        name TEXT NOT NULL,       -- the health event, e.g. paper-out
        cleared INTEGER NOT NULL  -- 0: it began; 1: it is over
    )""",
]
# the columns of an entry as the fleet protocol's Entry names them (payload as its text)
_ENTRY = (
    "SELECT epoch, seq, terminal_id, key_id, type, ts, grand_total, payload, prev_hash, hash,"
    f" signature FROM {JOURNAL} WHERE seq >= ? ORDER BY seq LIMIT ?"
)
ENTRY_FIELDS = Entry.__struct_fields__  # the columns above, as the agent sends them


def create(db: Database) -> None:
    for statement in SCHEMA:
        db.execute_sql(statement)


def _one(db: Database, sql: str, params: tuple = ()) -> Any:
    rows = db.execute_sql(sql, params).fetchall()  # to the end: an UPDATE ... RETURNING
    return rows[0][0] if rows else None  # commits only once its statement is done


def head_seq(db: Database) -> int:
    """The journal's last seq (0 when empty): its rowid's last page, nothing more."""
    return _one(db, f"SELECT seq FROM {JOURNAL} ORDER BY seq DESC LIMIT 1") or 0


def mark(db: Database) -> int:
    """The highest seq the fleet confirmed holding (0: none yet)."""
    return _one(db, f"SELECT acked FROM {TABLE} WHERE id = 1") or 0


def set_mark(db: Database, seq: int) -> int:
    """Move the mark to ``seq`` unless it is already further (it never goes down);
    returns the mark as stored. Committed when it returns."""
    return _one(
        db, f"UPDATE {TABLE} SET acked = MAX(acked, ?) WHERE id = 1 RETURNING acked", (seq,)
    )


def unsent(db: Database) -> int:
    """Entries the fleet has not confirmed yet: the journal's head seq minus the mark."""
    return max(0, head_seq(db) - mark(db))


def next_birth(db: Database) -> int:
    """One more than the last connection's birth, stored before it is used."""
    return _one(db, f"UPDATE {TABLE} SET birth = birth + 1 WHERE id = 1 RETURNING birth")


def entries_from(db: Database, seq: int, limit: int) -> list[dict[str, Any]]:
    """Up to ``limit`` journal entries from ``seq`` on, in seq order, as stored (the
    payload as its canonical JSON text, ``payload_json``)."""
    rows = db.execute_sql(_ENTRY, (seq, limit)).fetchall()
    return [dict(zip(ENTRY_FIELDS, row, strict=True)) for row in rows]


# -- the link, as the agent last said ---------------------------------------------------------
@dataclass(frozen=True)
class Link:
    connected: bool
    since: str  # ISO time of the last change ('' before the first)


def set_link(db: Database, connected: bool, at: datetime) -> None:
    db.execute_sql(
        f"UPDATE {TABLE} SET link = ?, link_since = ? WHERE id = 1",
        ("connected" if connected else "offline", at.astimezone(UTC).isoformat(timespec="seconds")),
    )


def link(db: Database) -> Link:
    rows = db.execute_sql(f"SELECT link, link_since FROM {TABLE} WHERE id = 1").fetchall()
    return Link(rows[0][0] == "connected", rows[0][1]) if rows else Link(False, "")


# -- device health events ---------------------------------------------------------------------
@dataclass(frozen=True)
class DeviceEvent:
    id: int
    ts: str
    name: str  # a health event: paper-out, card-offline, scanner-missing, ...
    cleared: bool  # True: it is over (the device is back to normal)


def record_device_events(db: Database, changes: Iterable[tuple[str, bool]], at: datetime) -> int:
    """Write health changes ((name, cleared) each) in one short transaction, dropping the
    oldest beyond :data:`KEEP`; returns the last id written (0: nothing to write)."""
    changes = list(changes)
    if not changes:
        return 0
    ts = at.astimezone(UTC).isoformat(timespec="milliseconds")
    last = 0
    with db.atomic():
        cursor = db.cursor()
        for name, cleared in changes:
            cursor.execute(
                f"INSERT INTO {EVENTS} (ts, name, cleared) VALUES (?, ?, ?)",
                (ts, name, int(cleared)),
            )
            last = cursor.lastrowid
        cursor.execute(f"DELETE FROM {EVENTS} WHERE id <= ?", (last - KEEP,))
    return last


def device_events_after(db: Database, after: int, limit: int = 100) -> list[DeviceEvent]:
    rows = db.execute_sql(
        f"SELECT id, ts, name, cleared FROM {EVENTS} WHERE id > ? ORDER BY id LIMIT ?",
        (after, limit),
    ).fetchall()
    return [DeviceEvent(r[0], r[1], r[2], bool(r[3])) for r in rows]


def events_sent(db: Database) -> int:
    return _one(db, f"SELECT events_sent FROM {TABLE} WHERE id = 1") or 0


def set_events_sent(db: Database, event_id: int) -> None:
    db.execute_sql(
        f"UPDATE {TABLE} SET events_sent = MAX(events_sent, ?) WHERE id = 1", (event_id,)
    )

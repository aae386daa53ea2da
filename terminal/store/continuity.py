"""The records' continuity: a terminal never starts from zero by accident, and never
issues a receipt number or a journal entry twice.

The key store remembers the database it serves (:attr:`KeyStore.memory`): the database's
identity, the journal's head (epoch, seq, hash, signing key) and the last number of every
series, written at each start and stop. At start the database is checked against it
before anything is sold; a database that is missing, empty, another one, cut short, or
signed by another key stops the terminal with what happened and what to do.

The three ways on after a loss each begin a new journal epoch, whose first entry names
the last entry the terminal is known to have made, and carry every number series on
past the highest value ever issued:

- :func:`restore_epoch`: after ``pos-terminal restore`` put a backup in place;
- :func:`reset`: ``pos-terminal db reset``, when there is no backup: an empty database;
- the import of a replaced terminal's data (:mod:`terminal.store.transfer`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlcipher3
from peewee import Database

from terminal.core.errors import N_, PosError
from terminal.core.numbering import transaction_label
from terminal.store.counters import carry_forward
from terminal.store.db import DatabaseUnusable, open_database, open_readonly, set_aside
from terminal.store.journal import Journal, JournalEntry
from terminal.store.key_protectors import KeyProtector
from terminal.store.keystore import KeyStore
from terminal.store.schema import IDENTITY_TABLE


class StartRefused(PosError):
    """The terminal must not sell: its database is not the one its key store remembers.

    ``msgid``/``params`` say what happened; ``remedy`` (also a gettext message id) what a
    technician does. Both are shown on the stopped screen."""

    def __init__(self, msgid: str, remedy: str, **params: Any) -> None:
        super().__init__(msgid, **params)
        self.remedy = remedy

    def translated(self, gettext: Callable[[str], str]) -> str:
        return (
            gettext(self.msgid).format(**self.params)
            + "\n\n"
            + gettext(self.remedy).format(**self.params)
        )

    def __str__(self) -> str:
        return self.translated(lambda text: text)


RESTORE_OR_RESET = N_(
    "Restore the latest backup: pos-terminal restore FILE. If there is none, "
    "pos-terminal db reset starts an empty database; its journal records the loss and "
    "numbering goes on after the numbers already issued."
)


@dataclass(frozen=True)
class DatabaseState:
    """What a database says of itself: its identity, its journal's head, its numbers."""

    database_id: str | None
    head: JournalEntry | None
    head_key_id: str | None
    numbers: dict[str, int] = field(default_factory=dict)


def _state(execute: Callable[[str], Any]) -> DatabaseState:
    tables = {row[0] for row in execute("SELECT name FROM sqlite_master WHERE type='table'")}
    identity = None
    if IDENTITY_TABLE in tables:
        row = execute(f"SELECT database_id FROM {IDENTITY_TABLE}").fetchone()
        identity = row[0] if row else None
    head, head_key = None, None
    if "journal" in tables:
        columns = {row[1] for row in execute("PRAGMA table_info(journal)")}
        epoch = "epoch" if "epoch" in columns else "1"
        row = execute(
            f"SELECT seq, hash, {epoch}, grand_total, key_id FROM journal ORDER BY seq DESC LIMIT 1"
        ).fetchone()
        if row:
            head, head_key = JournalEntry(row[0], row[1], row[2], row[3]), row[4]
    numbers = {}
    if "counter" in tables:
        numbers = dict(execute("SELECT terminal_id, last_number FROM counter").fetchall())
    return DatabaseState(identity, head, head_key, numbers)


def read_state(db: Database) -> DatabaseState:
    return _state(db.execute_sql)


def read_file_state(path: Path, key: bytes) -> DatabaseState | None:
    """The state of a database file not in use (a backup, the file a restore replaces),
    read-only; None when it cannot be read at all."""
    if not path.is_file() or path.stat().st_size == 0:
        return None
    try:
        con = open_readonly(path, key)
        try:
            return _state(con.execute)
        finally:
            con.close()
    except sqlcipher3.DatabaseError:
        return None


def memory_of(state: DatabaseState, terminal_id: str, event: str, at: datetime) -> dict[str, Any]:
    head = state.head
    return {
        "database_id": state.database_id,
        "terminal_id": terminal_id,
        "head": None
        if head is None
        else {
            "epoch": head.epoch,
            "seq": head.seq,
            "hash": head.hash,
            "grand_total": head.grand_total,
            "key_id": state.head_key_id,
        },
        "numbers": dict(sorted(state.numbers.items())),
        "event": event,
        "at": at.astimezone(UTC).isoformat(timespec="seconds"),
    }


def remembered_head(memory: dict[str, Any]) -> JournalEntry | None:
    head = memory.get("head")
    if not head:
        return None
    return JournalEntry(head["seq"], head["hash"], head["epoch"], head.get("grand_total", 0))


def remember(keys: KeyStore, db: Database, terminal_id: str, event: str, at: datetime) -> None:
    """Write what the database holds now into the key store's memory."""
    keys.remember(memory_of(read_state(db), terminal_id, event, at))


def _numbers_text(numbers: dict[str, int]) -> str:
    """``T01-000042, T01 refund 3, T01 Z 7``: sales by their receipt number."""
    parts = []
    for series, number in sorted(numbers.items()):
        terminal_id, _, kind = series.partition(":")
        if not kind:
            parts.append(transaction_label(terminal_id, number))
        else:
            parts.append(f"{terminal_id} {kind.lower()} {number}")
    return ", ".join(parts) or "-"


def check_file(memory: dict[str, Any], path: Path) -> None:
    """Before the database is opened (opening would make an empty one)."""
    if not memory.get("database_id"):
        return
    head = remembered_head(memory)
    params = {
        "path": str(path),
        "seq": head.seq if head else 0,
        "numbers": _numbers_text(memory.get("numbers", {})),
    }
    if not path.exists():
        raise StartRefused(
            N_(
                "The database {path} is missing. This terminal had made {seq} journal entries; "
                "its last numbers were {numbers}. Starting afresh would issue those receipt "
                "numbers again."
            ),
            RESTORE_OR_RESET,
            **params,
        )
    if path.stat().st_size == 0:
        raise StartRefused(
            N_(
                "The database {path} is empty (0 bytes). This terminal had made {seq} journal "
                "entries; its last numbers were {numbers}."
            ),
            RESTORE_OR_RESET,
            **params,
        )


def check_database(memory: dict[str, Any], state: DatabaseState, own_key_id: str) -> None:
    """The open database against the key store's memory and its signing key."""
    if state.head_key_id is not None and state.head_key_id != own_key_id:
        raise StartRefused(
            N_(
                "The journal in this database is signed by key {theirs}, not by this "
                "terminal's key {ours}: the database and the key store belong to different "
                "terminals."
            ),
            N_(
                "Put back this terminal's own database, or rebuild the key store that belongs "
                "to this database from its recovery export: pos-terminal keys recover."
            ),
            theirs=state.head_key_id,
            ours=own_key_id,
        )
    if not memory.get("database_id"):
        return  # nothing remembered yet (first start, or an older terminal): adopted
    if state.database_id != memory["database_id"]:
        raise StartRefused(
            N_(
                "This is not the database this terminal made (database {found}, expected "
                "{expected}): it was replaced by another file."
            ),
            RESTORE_OR_RESET,
            found=(state.database_id or "-")[:8],
            expected=memory["database_id"][:8],
        )
    known = remembered_head(memory)
    here = state.head
    if known is not None and (here is None or (here.epoch, here.seq) < (known.epoch, known.seq)):
        raise StartRefused(
            N_(
                "The journal is truncated after seq {here}: this terminal had made entries up "
                "to seq {known}. Entries, and the sales they record, were removed."
            ),
            RESTORE_OR_RESET,
            here=here.seq if here else 0,
            known=known.seq,
        )
    behind = {
        series: number
        for series, number in memory.get("numbers", {}).items()
        if state.numbers.get(series, 0) < number
    }
    if behind:
        raise StartRefused(
            N_(
                "The database's numbers are behind those already issued ({numbers}): "
                "receipt numbers would be issued twice."
            ),
            RESTORE_OR_RESET,
            numbers=_numbers_text(behind),
        )


def check_known_entry(db: Database, memory: dict[str, Any]) -> None:
    """The entry the key store remembers as the head is still there, unchanged."""
    known = remembered_head(memory)
    if known is None or not memory.get("database_id"):
        return
    row = db.execute_sql(
        "SELECT hash FROM journal WHERE seq = ? AND epoch = ?", (known.seq, known.epoch)
    ).fetchone()
    if row is None or row[0] != known.hash:
        raise StartRefused(
            N_(
                "The journal's entry {seq} is not the one this terminal made: the journal "
                "was replaced."
            ),
            RESTORE_OR_RESET,
            seq=known.label,
        )


@dataclass
class OpenStore:
    keys: KeyStore
    db: Database
    journal: Journal


def open_store(
    key_dir: Path,
    protector: KeyProtector | None,
    database_path: Path,
    terminal_id: str,
    at: datetime,
    *,
    check: bool = True,
    full_check: bool = True,
) -> OpenStore:
    """The key store (made at first start), the database (checked against the key store's
    memory), the journal. Raises :class:`StartRefused` when the terminal must not sell.

    ``check=False`` is for the read-only admin commands (verify, export, backup), which a
    technician needs most when the terminal refuses to start. ``full_check=False`` leaves
    the database's full integrity check (every page) to the caller, who runs it off the
    start path (:mod:`terminal.services.integrity`).
    """
    keys = KeyStore.open_or_create(key_dir, protector)
    memory = keys.memory
    if check:
        check_file(memory, database_path)
    db = open_database(database_path, keys.key("database"), check=full_check)
    if check:
        state = read_state(db)
        check_database(memory, state, keys.journal_key_id())
        check_known_entry(db, memory)
        keys.remember(memory_of(state, terminal_id, "start", at))
    return OpenStore(keys, db, Journal(db, terminal_id, keys.journal_private_key()))


def latest(heads: Iterable[JournalEntry | None]) -> JournalEntry | None:
    """The furthest of the heads known (by epoch, then seq)."""
    known = [h for h in heads if h is not None]
    return max(known, key=lambda h: (h.epoch, h.seq)) if known else None


def highest_numbers(*sources: dict[str, int]) -> dict[str, int]:
    """Per series, the highest number any source saw."""
    highest: dict[str, int] = {}
    for numbers in sources:
        for series, number in numbers.items():
            highest[series] = max(highest.get(series, 0), number)
    return highest


def begin_epoch_after_loss(
    store: OpenStore,
    reason: str,
    heads: Iterable[JournalEntry | None],
    numbers: Iterable[dict[str, int]],
    at: datetime,
    **details: Any,
) -> JournalEntry:
    """Carry every number series past the highest ever issued, and begin a new epoch
    after the furthest head known; one transaction. Then remember the new state."""
    db, journal = store.db, store.journal
    with db.atomic("IMMEDIATE"):
        own = read_state(db)
        highest = highest_numbers(own.numbers, *numbers)
        moved = carry_forward(db.cursor(), highest)
        previous = latest([own.head, *heads])
        if previous is None:  # nothing was ever journaled: a plain first entry
            entry = journal.append(
                "config_change", {"change": reason, "numbers_carried": moved, **details}, at
            )
        else:
            entry = journal.begin_epoch(
                reason, previous, at, numbers_carried=moved, numbers=highest, **details
            )
    remember(store.keys, db, journal.terminal_id, reason, at)
    return entry


def restore_epoch(
    store: OpenStore,
    memory: dict[str, Any],
    backup: DatabaseState,
    replaced: DatabaseState | None,
    at: datetime,
    **details: Any,
) -> JournalEntry:
    """After a backup was put in place: a new epoch after the furthest head known (the
    key store's memory, the replaced database if it could be read, the backup), and every
    series carried past the highest number any of them saw."""
    return begin_epoch_after_loss(
        store,
        "restore",
        [remembered_head(memory), replaced.head if replaced else None, backup.head],
        [memory.get("numbers", {}), replaced.numbers if replaced else {}, backup.numbers],
        at,
        **details,
    )


def reset(
    key_dir: Path,
    protector: KeyProtector | None,
    database_path: Path,
    terminal_id: str,
    at: datetime,
) -> tuple[OpenStore, Path | None, JournalEntry]:
    """``pos-terminal db reset``: only when the terminal refuses to start for its
    database. The unusable file is kept aside; an empty database begins a new epoch after
    the key store's remembered head, with every number carried on."""
    keys = KeyStore.open_existing(key_dir, protector)
    memory = keys.memory
    if not memory.get("database_id"):
        raise StartRefused(
            N_("The key store remembers no database: there is nothing to reset."),
            N_("Start the terminal normally."),
        )
    try:
        open_store(key_dir, protector, database_path, terminal_id, at).db.close()
    except (StartRefused, DatabaseUnusable):
        pass  # missing, empty, another one, cut short, damaged: what a reset is for
    else:
        raise StartRefused(
            N_("The database is in order: a reset is only for a lost or unusable database."),
            N_("Start the terminal normally."),
        )
    kept = set_aside(database_path, "lost", at)
    db = open_database(database_path, keys.key("database"))
    store = OpenStore(keys, db, Journal(db, terminal_id, keys.journal_private_key()))
    entry = begin_epoch_after_loss(
        store,
        "reset",
        [remembered_head(memory)],
        [memory.get("numbers", {})],
        at,
        lost_database=memory["database_id"],
        lost_file_kept_as=kept.name if kept else None,
    )
    return store, kept, entry

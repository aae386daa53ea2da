"""``pos-fleet export T01 FILE``: the fleet's copy of a terminal's journal, for the
terminal that replaces it (``pos-terminal restore --from-fleet FILE``).

The file is JSON lines. The first line is a header::

    {"format": "pos-fleet-journal/1", "terminal_id": "T01",
     "head": {"epoch": 1, "seq": 153, "hash": "3f9a..."},   the fleet's acknowledged head
     "reported_head": 160,    the terminal's own head at its last batch (what it had made)
     "keys": {"<key id>": "<PEM>", ...},   the terminal's registered journal keys
     "exported_at": "2026-11-28T10:00:00+00:00"}

then every entry the fleet holds up to that head, in seq order, with the fields
``pos-terminal journal export`` writes (epoch, seq, terminal_id, key_id, type, ts,
grand_total, payload as an object, prev_hash, hash, signature), exactly as the terminal
signed them. The file is written beside its target and renamed into place when whole.

Nothing in it is trusted by the reader for being here: the restore checks the chain from
genesis, every signature, and that the last entry is the header's head.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path

import peewee

from fleet.models import Entry, Terminal, TerminalKey
from terminal.core.clock import Clock, system_clock

FORMAT = "pos-fleet-journal/1"  # terminal/store/fleet_restore.py reads it (the same name)
PAGE = 5000


class ExportError(Exception):
    """Nothing to export, or the fleet's copy does not reach its own head."""


@dataclass(frozen=True)
class Exported:
    path: Path
    terminal_id: str
    entries: int
    head: tuple[int, int, str]  # (epoch, seq, hash) of the last entry written
    reported_head: int


def _document(entry: Entry) -> dict:
    """An entry as ``Journal.export`` writes one (the payload decoded)."""
    document = entry.as_journal_entry()
    document["payload"] = json.loads(document.pop("payload_json"))
    return document


def _held(db: peewee.Database, terminal_id: str, last: int):
    """The terminal's entries up to seq ``last``, a page at a time."""
    after = 0
    while True:
        page = list(
            Entry.select()
            .where((Entry.terminal_id == terminal_id) & (Entry.seq > after) & (Entry.seq <= last))
            .order_by(Entry.seq)
            .limit(PAGE)
            .bind(db)
        )
        yield from page
        if len(page) < PAGE:
            return
        after = page[-1].seq


def export_journal(
    db: peewee.Database, terminal_id: str, target: Path, clock: Clock = system_clock
) -> Exported:
    """Write the fleet's copy of ``terminal_id``'s journal to ``target``. LookupError for
    a terminal that is not registered; ExportError when the fleet holds none of its
    entries, or its entries do not end at the head it acknowledged."""
    term = Terminal.select().where(Terminal.id == terminal_id).bind(db).first()
    if term is None:
        raise LookupError(f"{terminal_id} is not a registered terminal")
    if not term.acked_seq:
        raise ExportError(f"the fleet holds no journal entries of {terminal_id}: nothing to export")
    keys = {
        row.key_id: row.public_key_pem
        for row in TerminalKey.select()
        .where(TerminalKey.terminal_id == terminal_id)
        .order_by(TerminalKey.added_at, TerminalKey.key_id)
        .bind(db)
    }
    last = (
        Entry.select()
        .where((Entry.terminal_id == terminal_id) & (Entry.seq == term.acked_seq))
        .bind(db)
        .first()
    )
    if last is None or last.hash != term.acked_hash:
        raise ExportError(
            f"the fleet's copy of {terminal_id} does not hold its acknowledged head "
            f"(seq {term.acked_seq}): run `pos-fleet verify {terminal_id}`"
        )
    header = {
        "format": FORMAT,
        "terminal_id": terminal_id,
        "head": {"epoch": last.epoch, "seq": last.seq, "hash": last.hash},
        "reported_head": max(term.reported_head, term.acked_seq),
        "keys": keys,
        "exported_at": clock().astimezone(UTC).isoformat(timespec="seconds"),
    }
    target = Path(target)
    partial = target.with_name(target.name + ".partial")
    count = 0
    try:
        with partial.open("w", encoding="utf-8") as out:
            out.write(json.dumps(header, sort_keys=True, ensure_ascii=False) + "\n")
            for entry in _held(db, terminal_id, term.acked_seq):
                out.write(json.dumps(_document(entry), sort_keys=True, ensure_ascii=False) + "\n")
                count += 1
            out.flush()
            os.fsync(out.fileno())
        os.replace(partial, target)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    return Exported(
        target, terminal_id, count, (last.epoch, last.seq, last.hash), header["reported_head"]
    )

"""The fleet outbox's state beside the journal: the acknowledged mark (never down), the
birth counter, the unsent count, the device events; the journal itself untouched, and
the agent's own connection (beside the app's) that never makes a database."""

from __future__ import annotations

import pytest

from terminal.store import outbox
from terminal.store.db import DatabaseUnusable, open_beside
from terminal.store.journal import read_entries


def beside(terminal):
    return open_beside(terminal.pos.settings.database_path, terminal.keys.key("database"))


def append(terminal, count: int) -> None:
    pos = terminal.pos
    with pos.db.atomic():
        for i in range(count):
            pos.journal.append("no_sale", {"reason": "test", "n": i}, pos.clock())


def test_a_new_terminal_has_sent_nothing(closed_terminal):
    db = closed_terminal.pos.db
    head = outbox.head_seq(db)
    assert head >= 1  # the start entry (and the demo store's first shop configuration)
    assert outbox.mark(db) == 0
    assert outbox.unsent(db) == head


def test_the_mark_moves_up_only_and_unsent_follows(closed_terminal):
    db = closed_terminal.pos.db
    append(closed_terminal, 10)
    head = outbox.head_seq(db)
    assert outbox.set_mark(db, 4) == 4
    assert outbox.unsent(db) == head - 4
    assert outbox.set_mark(db, 2) == 4  # an old acknowledgement: the mark stays
    assert outbox.mark(db) == 4
    assert outbox.set_mark(db, head) == head
    assert outbox.unsent(db) == 0


def test_unsent_is_zero_for_an_empty_journal(tmp_path):
    from terminal.store.db import open_database  # noqa: PLC0415

    db = open_database(tmp_path / "pos.db", b"k" * 32)
    assert outbox.head_seq(db) == 0 and outbox.mark(db) == 0 and outbox.unsent(db) == 0


def test_each_connection_has_the_next_birth_kept_across_opens(closed_terminal):
    db = closed_terminal.pos.db
    assert [outbox.next_birth(db) for _ in range(3)] == [1, 2, 3]
    other = beside(closed_terminal)  # another process's connection sees it committed
    assert outbox.next_birth(other) == 4
    other.close()


def test_entries_come_as_stored_in_seq_order_and_the_journal_is_untouched(closed_terminal):
    db = closed_terminal.pos.db
    append(closed_terminal, 30)
    stored = list(read_entries(db, decode=False))
    first = outbox.entries_from(db, 5, 10)
    assert [e["seq"] for e in first] == list(range(5, 15))
    assert first == [dict(e) for e in stored[4:14]]  # exactly the fields an Entry has
    assert set(first[0]) == set(outbox.ENTRY_FIELDS)
    outbox.set_mark(db, 20)
    assert list(read_entries(db, decode=False)) == stored  # nothing changed, nothing gone
    assert outbox.entries_from(db, stored[-1]["seq"] + 1, 10) == []


def test_device_events_in_order_the_oldest_dropped_beyond_keep(closed_terminal, monkeypatch):
    db = closed_terminal.pos.db
    now = closed_terminal.pos.clock()
    assert outbox.record_device_events(db, [], now) == 0
    last = outbox.record_device_events(db, [("paper-out", False), ("card-offline", False)], now)
    events = outbox.device_events_after(db, 0)
    assert [(e.name, e.cleared) for e in events] == [("paper-out", False), ("card-offline", False)]
    assert events[-1].id == last and events[0].ts.startswith("2026-11-23T03:00:00")
    outbox.set_events_sent(db, events[0].id)
    assert outbox.events_sent(db) == events[0].id
    assert [e.name for e in outbox.device_events_after(db, outbox.events_sent(db))] == [
        "card-offline"
    ]
    outbox.set_events_sent(db, 0)  # never back
    assert outbox.events_sent(db) == events[0].id
    monkeypatch.setattr(outbox, "KEEP", 3)
    outbox.record_device_events(db, [(f"e{i}", i % 2 == 0) for i in range(5)], now)
    assert [e.name for e in outbox.device_events_after(db, 0)] == ["e2", "e3", "e4"]


def test_the_link_state_as_the_agent_last_said(closed_terminal):
    db = closed_terminal.pos.db
    assert outbox.link(db) == outbox.Link(False, "")
    outbox.set_link(db, True, closed_terminal.pos.clock())
    assert outbox.link(db) == outbox.Link(True, "2026-11-23T03:00:00+00:00")


def test_the_agents_connection_never_makes_a_database(tmp_path, closed_terminal):
    key = closed_terminal.keys.key("database")
    with pytest.raises(DatabaseUnusable):
        open_beside(tmp_path / "nothing" / "pos.db", key)
    assert not (tmp_path / "nothing").exists()
    with pytest.raises(DatabaseUnusable):  # another key: refused, not overwritten
        open_beside(closed_terminal.pos.settings.database_path, b"x" * 32)
    db = beside(closed_terminal)
    assert db.execute_sql("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert outbox.head_seq(db) == outbox.head_seq(closed_terminal.pos.db)
    db.close()

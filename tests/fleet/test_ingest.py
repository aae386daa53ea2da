"""The fleet's ingest (issue 13), on SQLite and on a real PostgreSQL: journal entries
made by the terminal's own code are verified, stored once and acknowledged after the
commit; a forged, changed, reordered, missing or conflicting entry is never stored,
is kept aside with an alert, and the terminal is asked to resend from the first missing
seq; after the resend the chain is whole."""

from __future__ import annotations

import threading

import peewee
import psycopg2
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fleet.db import connect, create_tables
from fleet.ingest import Ingest, open_alerts
from fleet.models import (
    Alert,
    DeviceEvent,
    Entry,
    Quarantine,
    Sale,
    Terminal,
)
from fleet.registry import register_terminal, terminal_keys
from fleet.reports import verify_chain
from terminal.core import fleet_protocol as fp
from terminal.store.journal import JournalEntry
from terminal.store.journal_format import entry_hash, key_id
from tests.fleet.conftest import BareTerminal, batch, replace


def sent(ingest: Ingest, entries, *, head=None, terminal_id=None) -> fp.Ack:
    """A batch through the MQTT entry point, as the server gets it; the Ack as the
    terminal would read it (encoded and decoded: it must pass its strict decoder)."""
    message = batch(entries, head, terminal_id)
    ack = ingest.raw(
        fp.topic(terminal_id or entries[0].terminal_id, "up/journal"), fp.encode(message)
    )
    assert isinstance(ack, fp.Ack)
    assert fp.decode("down/ack", fp.encode(ack)) == ack
    return ack


def stored(db, terminal_id="T01") -> list[int]:
    query = Entry.select(Entry.seq).where(Entry.terminal_id == terminal_id).order_by(Entry.seq)
    return [seq for (seq,) in query.tuples().bind(db)]


def head(db, terminal_id="T01") -> tuple[int, str]:
    term = Terminal.select().where(Terminal.id == terminal_id).bind(db).get()
    return term.acked_seq, term.acked_hash


def quarantined(db) -> list[tuple[int, str]]:
    query = Quarantine.select(Quarantine.seq, Quarantine.reason).order_by(Quarantine.id)
    return list(query.tuples().bind(db))


def alert_kinds(db, terminal_id="T01") -> set[str]:
    return {a.kind for a in open_alerts(db, terminal_id)}


def signed(entry: fp.Entry, key: Ed25519PrivateKey, **changes) -> fp.Entry:
    """``entry`` with ``changes``, hashed and signed again with ``key`` (a forger's, or
    the terminal's own for an entry it never made)."""
    entry = replace(entry, **changes)
    digest = entry_hash(bytes.fromhex(entry.prev_hash), entry.as_journal_entry())
    return replace(entry, hash=digest.hex(), signature=key.sign(digest).hex())


# -- the good path ------------------------------------------------------------------------------
def test_a_batch_is_stored_once_and_acknowledged(fleet_db, ingest, bare):
    bare.register(fleet_db)
    entries = bare.add(5)
    ack = sent(ingest, entries, head=7)
    assert ack == fp.Ack(acked=5)
    assert stored(fleet_db) == [1, 2, 3, 4, 5]
    assert head(fleet_db) == (5, entries[-1].hash)
    term = Terminal.select().where(Terminal.id == "T01").bind(fleet_db).get()
    assert (term.reported_head, term.unsent, term.acked_epoch) == (7, 2, 1)
    assert term.last_seen is not None
    assert quarantined(fleet_db) == [] and alert_kinds(fleet_db) == set()
    # what is held is the terminal's entry to the byte
    held = Entry.select().where(Entry.seq == 3).bind(fleet_db).get()
    assert fp.Entry(**held.as_journal_entry()) == entries[2]
    assert verify_chain(fleet_db, "T01").ok


def test_a_replayed_batch_stores_nothing_more(fleet_db, ingest, bare):
    bare.register(fleet_db)
    first = bare.add(5)
    assert sent(ingest, first) == fp.Ack(acked=5)
    assert sent(ingest, first) == fp.Ack(acked=5)  # the same batch again (a redelivery)
    assert sent(ingest, first[:3]) == fp.Ack(acked=5)  # an old batch replayed
    more = bare.add(2)
    assert sent(ingest, first[3:] + more) == fp.Ack(acked=7)  # overlapping: the new ones
    assert stored(fleet_db) == [1, 2, 3, 4, 5, 6, 7]
    term = Terminal.select().where(Terminal.id == "T01").bind(fleet_db).get()
    assert term.duplicates == 5 + 3 + 2
    assert quarantined(fleet_db) == [] and alert_kinds(fleet_db) == set()


# -- refused entries: kept aside, alert, resend from the first missing seq --------------------
def test_a_forged_entry_is_refused_and_the_resend_completes_the_chain(fleet_db, ingest, bare):
    bare.register(fleet_db)
    entries = bare.add(5)
    forger = Ed25519PrivateKey.generate()
    # the genuine content, a signature by another key under the terminal's key id
    forged = signed(entries[2], forger)
    ack = sent(ingest, [*entries[:2], forged, *entries[3:]])
    assert (ack.acked, ack.resend_from) == (2, 3)
    assert "bad signature" in ack.reason
    assert stored(fleet_db) == [1, 2]
    assert quarantined(fleet_db) == [(3, "bad signature")]
    assert "bad signature" in alert_kinds(fleet_db)
    # a changed payload signed again by the forger: still no good
    changed = signed(entries[2], forger, payload_json=entries[2].payload_json.replace("1", "2"))
    assert sent(ingest, [changed]).resend_from == 3
    # the terminal resends from 3: the chain completes
    assert sent(ingest, entries[2:]) == fp.Ack(acked=5)
    assert stored(fleet_db) == [1, 2, 3, 4, 5]
    assert verify_chain(fleet_db, "T01").ok


def test_a_changed_sale_is_never_stored_as_a_sale(fleet_db, ingest, shop_days):
    register_terminal(
        fleet_db, "T01", store="S1", group="G", public_key_pem=shop_days.public_key_pem
    )
    entries = shop_days.entries
    first_sale = next(i for i, e in enumerate(entries) if e.type == "sale")
    sale = entries[first_sale]
    assert '"total":57300' in sale.payload_json
    changed = replace(sale, payload_json=sale.payload_json.replace('"total":57300', '"total":1'))
    ack = sent(ingest, [*entries[:first_sale], changed, *entries[first_sale + 1 :]])
    assert (ack.acked, ack.resend_from) == (sale.seq - 1, sale.seq)
    assert "hash mismatch" in ack.reason
    assert Sale.select().bind(fleet_db).count() == 0
    assert quarantined(fleet_db) == [(sale.seq, "hash mismatch")]
    assert "hash mismatch" in alert_kinds(fleet_db)
    assert sent(ingest, entries[first_sale:]) == fp.Ack(acked=entries[-1].seq)
    assert Sale.select().order_by(Sale.seq).bind(fleet_db).first().paid == 57300


def test_a_reordered_batch_is_stored_up_to_the_first_out_of_place(fleet_db, ingest, bare):
    bare.register(fleet_db)
    e = bare.add(5)
    ack = sent(ingest, [e[0], e[1], e[3], e[2], e[4]])
    assert (ack.acked, ack.resend_from) == (2, 3)
    assert stored(fleet_db) == [1, 2]
    assert quarantined(fleet_db) == [(4, "gap")]
    assert "gap" in alert_kinds(fleet_db)
    assert sent(ingest, e[2:]) == fp.Ack(acked=5)
    assert stored(fleet_db) == [1, 2, 3, 4, 5]


def test_a_missing_entry_is_asked_for_again(fleet_db, ingest, bare):
    bare.register(fleet_db)
    e = bare.add(6)
    assert sent(ingest, e[:2]) == fp.Ack(acked=2)
    ack = sent(ingest, e[3:])  # seq 3 lost on the way
    assert (ack.acked, ack.resend_from) == (2, 3)
    assert "missing" in ack.reason
    assert stored(fleet_db) == [1, 2]
    assert quarantined(fleet_db) == [(4, "gap")]
    assert sent(ingest, e[2:]) == fp.Ack(acked=6)
    assert verify_chain(fleet_db, "T01").ok
    # the gap filled, its alert is closed (kept, for the record)
    assert "gap" not in alert_kinds(fleet_db)
    (gap,) = Alert.select().where(Alert.kind == "gap").bind(fleet_db)
    assert gap.resolved


def test_a_broken_link_is_refused(fleet_db, ingest, bare):
    """An entry signed by the terminal's key that does not follow the one held (a
    terminal that lost its last entries and went on without an epoch)."""
    bare.register(fleet_db)
    e = bare.add(3)
    assert sent(ingest, e) == fp.Ack(acked=3)
    relinked = signed(bare.add(1)[0], bare.key, prev_hash="ab" * 32)
    ack = sent(ingest, [relinked])
    assert (ack.acked, ack.resend_from) == (3, 4)
    assert quarantined(fleet_db) == [(4, "broken link")]


def test_a_second_entry_for_a_seq_is_a_conflict(fleet_db, ingest, bare):
    """A cloned terminal (its database copied, the same key) writes its own seq 4."""
    bare.register(fleet_db)
    e = bare.add(3)
    clone = bare.copy_of(3, "clone")
    theirs = clone.add(1, event_type="cash_in")
    ours = bare.add(1)
    assert theirs[0].seq == ours[0].seq == 4 and theirs[0].hash != ours[0].hash
    assert sent(ingest, [*e, *ours]) == fp.Ack(acked=4)
    ack = sent(ingest, theirs)
    assert (ack.acked, ack.resend_from) == (4, 5)
    assert "not the entry held" in ack.reason
    assert quarantined(fleet_db) == [(4, "conflict")]
    assert "conflict" in alert_kinds(fleet_db)
    held = Entry.select().where(Entry.seq == 4).bind(fleet_db).get()
    assert held.hash == ours[0].hash
    # a conflict does not stop the entries after it that follow the head
    ack = sent(ingest, [*theirs, *bare.add(2)])
    assert (ack.acked, ack.resend_from) == (6, 7)
    assert stored(fleet_db) == [1, 2, 3, 4, 5, 6]


def test_a_replayed_old_batch_is_not_taken_for_a_truncated_journal(fleet_db, ingest, bare):
    """An old batch redelivered says the head it had when sent: no alarm. A truncated
    journal is reported by the terminal itself (its agent's journal_truncated event)."""
    bare.register(fleet_db)
    entries = bare.add(6)
    assert sent(ingest, entries[:3], head=3) == fp.Ack(acked=3)
    assert sent(ingest, entries[3:], head=6) == fp.Ack(acked=6)
    assert sent(ingest, entries[:3], head=3) == fp.Ack(acked=6)
    assert alert_kinds(fleet_db) == set()
    event = fp.Event(
        "journal_truncated",
        "2026-11-23T04:00:00.000+00:00",
        "journal",
        "the fleet holds seq 6; this journal ends at seq 3",
        6,
    )
    assert ingest.raw(fp.topic("T01", "up/event"), fp.encode(event)) is None
    (alert,) = open_alerts(fleet_db, "T01")
    assert alert.kind == "journal_truncated" and "ends at seq 3" in alert.detail
    assert stored(fleet_db) == [1, 2, 3, 4, 5, 6]


def test_an_entry_by_an_unknown_key_waits_for_its_registration(fleet_db, ingest, bare):
    bare.register(fleet_db)
    e = bare.add(2)
    assert sent(ingest, e) == fp.Ack(acked=2)
    # the terminal's board replaced: the same journal goes on with a new key
    replaced = bare.copy_of(2, "replaced", key=Ed25519PrivateKey.generate())
    later = replaced.add(2)
    ack = sent(ingest, later)
    assert (ack.acked, ack.resend_from) == (2, 3)
    assert quarantined(fleet_db) == [(3, "unknown key")]
    assert "unknown key" in alert_kinds(fleet_db)
    kid = register_terminal(
        fleet_db,
        "T01",
        store="S1",
        group="G1",
        public_key_pem=replaced.public_key_pem(),
    )
    assert kid == key_id(replaced.key.public_key()) == later[0].key_id
    assert set(terminal_keys(fleet_db, "T01")) == {bare.journal.key_id, kid}
    assert sent(ingest, later) == fp.Ack(acked=4)  # the cached keys are read again
    assert verify_chain(fleet_db, "T01").ok


def test_a_payload_not_in_canonical_form_is_refused(fleet_db, ingest, bare):
    """Signed by the terminal's key, but not the canonical JSON the terminal writes: the
    fleet does not store text that can be read two ways."""
    bare.register(fleet_db)
    (first,) = bare.add(1)
    odd = signed(first, bare.key, payload_json='{"shift": 1, "cashier": 1}')
    ack = sent(ingest, [odd])
    assert (ack.acked, ack.resend_from) == (0, 1)
    assert quarantined(fleet_db) == [(1, "bad payload")]
    assert stored(fleet_db) == []


# -- epochs ---------------------------------------------------------------------------------------
def test_an_epoch_start_after_a_restore_goes_on_from_the_fleets_head(fleet_db, ingest, bare):
    bare.register(fleet_db)
    assert sent(ingest, bare.add(5)) == fp.Ack(acked=5)
    restored = bare.copy_of(5, "restored")  # the backup held everything: no loss
    restored.journal.begin_epoch("restore", bare.head(), restored.at)
    new = restored.entries(6) + restored.add(2)
    assert [(x.epoch, x.seq) for x in new][:2] == [(2, 6), (2, 7)]
    assert sent(ingest, new) == fp.Ack(acked=8)
    assert stored(fleet_db) == list(range(1, 9))
    assert "declared gap" not in alert_kinds(fleet_db)
    assert Terminal.select().bind(fleet_db).get().acked_epoch == 2
    verdict = verify_chain(fleet_db, "T01")
    assert verdict.ok and verdict.notes == ()


def test_an_epoch_start_declares_the_entries_lost_with_the_old_terminal(fleet_db, ingest, bare):
    bare.register(fleet_db)
    made = bare.add(7)
    assert sent(ingest, made[:5]) == fp.Ack(acked=5)  # 6 and 7 never left the terminal
    restored = bare.copy_of(5, "restored")  # last night's backup
    restored.journal.begin_epoch("restore", bare.head(), restored.at)  # after 7: known
    new = restored.entries(8) + restored.add(1)
    assert sent(ingest, new) == fp.Ack(acked=9)
    assert stored(fleet_db) == [1, 2, 3, 4, 5, 8, 9]
    assert "declared gap" in alert_kinds(fleet_db)
    (gap,) = [a for a in open_alerts(fleet_db, "T01") if a.kind == "declared gap"]
    assert "seq 6-7" in gap.detail
    verdict = verify_chain(fleet_db, "T01")
    assert verdict.ok and verdict.notes
    # the lost entries, should they come after all, cannot fill the declared gap
    ack = sent(ingest, made[5:])
    assert ack.acked == 9 and quarantined(fleet_db) == [(6, "conflict"), (7, "conflict")]
    (conflict,) = [a for a in open_alerts(fleet_db, "T01") if a.kind == "conflict"]
    assert conflict.count == 2 and "1 more" in conflict.detail  # one alert a batch


@pytest.mark.parametrize(
    ("how", "reason"),
    [
        ("signed by another key", "unknown key"),
        ("after a head the fleet does not hold", "broken link"),
        ("from an old backup, over entries the fleet holds", "conflict"),
    ],
)
def test_a_false_epoch_start_is_refused(fleet_db, ingest, bare, how, reason):
    bare.register(fleet_db)
    made = bare.add(5)
    assert sent(ingest, made) == fp.Ack(acked=5)
    if how == "signed by another key":
        restored = bare.copy_of(5, "restored", key=Ed25519PrivateKey.generate())
        previous = JournalEntry(9, "cd" * 32, 1)
    elif how == "after a head the fleet does not hold":
        restored = bare.copy_of(5, "restored")
        previous = JournalEntry(5, "cd" * 32, 1)
    else:
        restored = bare.copy_of(3, "restored")
        previous = JournalEntry(3, made[2].hash, 1)
    restored.journal.begin_epoch("restore", previous, restored.at)
    start = restored.entries()[-1]
    assert start.type == "epoch_start" and start.epoch == 2
    ack = sent(ingest, [start])
    assert (ack.acked, ack.resend_from) == (5, 6)
    assert quarantined(fleet_db) == [(start.seq, reason)]
    assert reason in alert_kinds(fleet_db)
    assert stored(fleet_db) == [1, 2, 3, 4, 5]
    assert Terminal.select().bind(fleet_db).get().acked_epoch == 1


# -- who sends ------------------------------------------------------------------------------------
def test_an_unknown_terminal_is_told_and_an_alert_raised(fleet_db, ingest, bare):
    ack = sent(ingest, bare.add(3))
    assert ack == fp.Ack(acked=0, reason="unknown terminal")
    assert stored(fleet_db) == [] and quarantined(fleet_db) == []
    assert alert_kinds(fleet_db) == {"unknown terminal"}
    sent(ingest, bare.entries())
    (alert,) = open_alerts(fleet_db, "T01")
    assert alert.count == 2  # one alert, counted again
    # registered: the same entries are taken
    bare.register(fleet_db)
    assert sent(ingest, bare.entries()) == fp.Ack(acked=3)


def test_a_batch_naming_another_terminal_is_refused_whole(fleet_db, ingest, tmp_path):
    one, two = BareTerminal(tmp_path / "T01"), BareTerminal(tmp_path / "T02", "T02")
    one.register(fleet_db)
    two.register(fleet_db)
    assert sent(ingest, two.add(2)) == fp.Ack(acked=2)
    # T02 publishes T01's entries (the topic is T02's: the broker knows who it is)
    ack = sent(ingest, one.add(2), terminal_id="T02")
    assert ack.acked == 2 and ack.resend_from is None and "mismatch" in ack.reason
    # the batch names T02 but an entry inside is T01's
    mixed = fp.JournalBatch("T02", [*two.add(1), *one.entries()[:1]], head=3)
    ack = ingest.raw(fp.topic("T02", "up/journal"), fp.encode(mixed))
    assert ack.acked == 2 and "mismatch" in ack.reason
    assert stored(fleet_db, "T01") == [] and stored(fleet_db, "T02") == [1, 2]
    assert alert_kinds(fleet_db, "T02") == {"terminal mismatch"}


def test_a_malformed_message_is_refused_with_an_alert_and_nothing_stored(fleet_db, ingest, bare):
    bare.register(fleet_db)
    assert ingest.raw("pos/v1/T01/up/journal", b'{"terminal_id":"T01","entries":[]}') is None
    assert ingest.raw("pos/v1/T01/up/journal", b"\xed\xa0\x80") is None
    assert ingest.raw("pos/v1/../up/journal", b"{}") is None
    assert ingest.raw("pos/v1/T01/down/ack", fp.encode(fp.Ack(acked=1))) is None
    assert stored(fleet_db) == [] and quarantined(fleet_db) == []
    assert alert_kinds(fleet_db) == {"bad message"}


# -- presence and events ---------------------------------------------------------------------------
def test_presence_ignores_a_late_will(fleet_db, ingest, bare, fleet_clock):
    bare.register(fleet_db)

    def state(status, birth, **fields):
        message = fp.State(status, birth, **fields)
        assert ingest.raw("pos/v1/T01/state", fp.encode(message)) is None
        term = Terminal.select().bind(fleet_db).get()
        return term.status, term.birth

    assert state("online", 3, software="1.4.0", config_version=12) == ("online", 3)
    term = Terminal.select().bind(fleet_db).get()
    assert (term.software, term.config_version) == ("1.4.0", 12)
    assert state("offline", 2) == ("online", 3)  # the Will of the connection before
    assert state("offline", 3) == ("offline", 3)
    assert state("online", 3) == ("offline", 3)  # a redelivered birth: offline stands
    assert state("online", 4) == ("online", 4)
    assert state("offline", 3) == ("online", 4)  # a Will late after a quick reconnect


def test_device_events_are_kept_and_raise_alerts_until_the_device_is_ok(fleet_db, ingest, bare):
    bare.register(fleet_db)

    def event(kind, device="printer", **fields):
        message = fp.Event(kind, "2026-11-23T03:00:00.000+00:00", device=device, **fields)
        assert ingest.raw("pos/v1/T01/up/event", fp.encode(message)) is None

    event("paper_out")
    event("paper_out")
    event("card_terminal_offline", device="card")
    event("lockout", device="", detail="cashier 1 locked out", seq=88)
    assert DeviceEvent.select().bind(fleet_db).count() == 4
    assert alert_kinds(fleet_db) == {"paper_out", "card_terminal_offline", "lockout"}
    event("device_ok")
    assert alert_kinds(fleet_db) == {"card_terminal_offline", "lockout"}
    # an unknown terminal's events are not kept
    assert (
        ingest.raw(
            "pos/v1/T09/up/event",
            fp.encode(fp.Event("paper_out", "2026-11-23T03:00:00.000+00:00")),
        )
        is None
    )
    assert DeviceEvent.select().bind(fleet_db).count() == 5
    assert alert_kinds(fleet_db, "T09") == {"unknown terminal"}


# -- concurrency -----------------------------------------------------------------------------------
def test_two_ingest_instances_store_every_entry_exactly_once(fleet_url, tmp_path):
    """Two ingest instances (each its own connection, as two processes) get overlapping
    batches of one terminal from two threads, as a shared subscription hands them out;
    each thread goes on as the agent would (resending from what its Acks ask)."""
    first, second = connect(fleet_url), connect(fleet_url)
    create_tables(first)
    terminal = BareTerminal(tmp_path / "T01")
    terminal.register(first)
    entries = terminal.add(240)
    instances = [Ingest(first), Ingest(second)]
    start = threading.Barrier(2)
    errors: list[BaseException] = []
    acks: list[list[fp.Ack]] = [[], []]

    def feed(which: int) -> None:
        ingest = instances[which]
        try:
            start.wait()
            at = 0 if which == 0 else 10  # the second starts ahead: gaps, then overlaps
            while at < len(entries):
                ack = ingest.journal("T01", batch(entries[at : at + 25]))
                acks[which].append(ack)
                at = ack.resend_from - 1 if ack.resend_from else at + 20
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=feed, args=(i,)) for i in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not errors, errors
    assert stored(first) == list(range(1, 241))
    assert head(first) == (240, entries[-1].hash)
    assert {reason for _seq, reason in quarantined(first)} <= {"gap"}
    # the row lock made the head check and the insert one step: nothing was refused by
    # the database and tried again
    assert sum(i.stats["retries"] for i in instances) == 0
    assert sum(i.stats["stored"] for i in instances) == 240
    assert verify_chain(first, "T01").ok
    first.close()
    second.close()


def test_a_unique_violation_never_crashes_the_ingest(fleet_db, bare, fleet_clock):
    """Something wrote behind the ingest's back (a row the head does not count): the
    batch is tried again, then answered and reported, never a crash."""
    bare.register(fleet_db)
    e = bare.add(2)
    Entry.insert(**e[0].as_journal_entry() | {"stored_at": fleet_clock()}).execute(fleet_db)
    ingest = Ingest(fleet_db, clock=fleet_clock, retries=2)
    ack = ingest.journal("T01", batch(e))
    assert ack.acked == 0 and ack.resend_from is None and "database" in ack.reason
    assert ingest.stats["retries"] == 2
    assert "ingest error" in alert_kinds(fleet_db)


def test_a_lost_database_connection_is_opened_again(postgres_server, bare, fleet_clock):
    """PostgreSQL restarted under the ingest (its connections cut): the next message is
    stored over a new connection, not refused for ever."""
    fleet_url = postgres_server.new_database()
    fleet_db = connect(fleet_url)
    create_tables(fleet_db)
    ingest = Ingest(fleet_db, clock=fleet_clock)
    bare.register(fleet_db)
    assert sent(ingest, bare.add(2)) == fp.Ack(acked=2)
    with psycopg2.connect(fleet_url) as admin, admin.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        assert cursor.fetchall(), "no connection was cut"
    assert sent(ingest, bare.add(2)) == fp.Ack(acked=4)
    assert ingest.stats["retries"] >= 1
    ingest.raw("pos/v1/T01/state", fp.encode(fp.State("online", 1)))  # and so on
    assert Terminal.select().bind(fleet_db).get().status == "online"
    fleet_db.close()


def test_central_rows_that_cannot_be_built_do_not_cost_the_entry(fleet_db, ingest, bare):
    """A signed sale whose payload the central rules cannot read (an older terminal's):
    the journal copy stays whole, the admin is told."""
    bare.register(fleet_db)
    odd = bare.add(1, event_type="sale")
    assert sent(ingest, odd) == fp.Ack(acked=1)
    assert stored(fleet_db) == [1]
    assert Sale.select().bind(fleet_db).count() == 0
    assert "central" in alert_kinds(fleet_db)


def test_the_fleets_copy_shows_tampering_and_truncation(fleet_db, ingest, bare):
    bare.register(fleet_db)
    sent(ingest, bare.add(6))
    assert verify_chain(fleet_db, "T01").ok
    Entry.update(payload_json='{"cashier":1,"reason":"check","shift":1}').where(
        Entry.seq == 4
    ).execute(fleet_db)
    verdict = verify_chain(fleet_db, "T01")
    assert (verdict.ok, verdict.first_bad_seq) == (False, 4)
    assert "hash mismatch" in verdict.reason
    Entry.delete().where(Entry.seq >= 4).execute(fleet_db)
    verdict = verify_chain(fleet_db, "T01")
    assert not verdict.ok and "truncated after seq 3" in verdict.reason


def test_alerts_are_models_bound_to_their_database(fleet_db):
    """The models name no database of their own: a query that names none fails."""
    with pytest.raises(RuntimeError, match="names no database"):
        Alert.select().count()
    assert isinstance(fleet_db, peewee.Database)

"""Records that cannot be reset or reissued: the key store's memory of its database, the
checks at start, journal epochs after a restore or a reset, an anchored journal end."""

from __future__ import annotations

import dataclasses
import json
import os
import random
import re
import select
import signal
import subprocess
import sys
import time
from decimal import Decimal

import pytest
import sqlcipher3
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hal.printer.preview import interpret
from terminal import admin
from terminal.core.clock import system_clock
from terminal.services.bootstrap import build_terminal
from terminal.store.cashiers import FAST_TEST_PARAMS
from terminal.store.continuity import StartRefused
from terminal.store.db import open_database, sqlcipher_key
from terminal.store.journal import Journal, read_entries
from terminal.store.keystore import KeyStore, KeyStoreError
from tests.conftest import ROOT, open_reader, with_open_shift


def start(settings, clock):
    return build_terminal(settings, clock=clock, pin_params=FAST_TEST_PARAMS)


def sell(pos, n=1):
    if pos.cashier is None:
        pos.sign_in("1", "1357")
    numbers = []
    for _ in range(n):
        pos.scan("GULA-1KG")
        numbers.append(pos.pay_cash(20000).committed.number)
    return numbers


def refund_one(pos, number):
    approval = pos.approvals.approve("paid_orders", pos.cashier, "2580", supervisor="2")
    sale = pos.refunds.find(f"T01-{number:06d}")
    return pos.refunds.refund(sale, [(1, Decimal(1), True)], "defective", approval).refund.number


def close_day(pos):
    """Shift closed (counted blind), then the Z report (a supervisor approves): its number."""
    pos.shifts.close({100000: 1})
    approval = pos.approvals.approve("close_day", pos.cashier, "2580", supervisor="2")
    return pos.shifts.z_report(approval).number


def entries_by_name(db):
    return {(e["epoch"], e["seq"]): e["hash"] for e in read_entries(db, decode=False)}


def raw(terminal_or_settings, keys):
    path = terminal_or_settings.database_path
    con = sqlcipher3.connect(str(path))
    con.execute(f'PRAGMA key="{sqlcipher_key(keys.key("database"))}"')
    return con


@pytest.fixture
def stopped(terminal, settings):
    """A terminal that sold three times and was shut down (the key store remembers)."""
    sell(terminal.pos, 3)
    terminal.stop()
    terminal.pos.db.close()
    return terminal


# -- 2. a missing, empty or foreign database -----------------------------------------------


def test_a_deleted_database_stops_the_terminal_instead_of_starting_from_zero(
    stopped, settings, clock
):
    for suffix in ("", "-wal", "-shm"):
        settings.database_path.with_name("pos.db" + suffix).unlink(missing_ok=True)
    with pytest.raises(StartRefused) as refused:
        start(settings, clock)
    text = str(refused.value)
    assert "is missing" in text and "T01-000003" in text  # what happened, with the numbers
    assert "pos-terminal restore" in text and "pos-terminal db reset" in text  # what to do
    assert not settings.database_path.exists()  # no empty database was made


def test_an_emptied_database_stops_the_terminal(stopped, settings, clock):
    settings.database_path.write_bytes(b"")
    with pytest.raises(StartRefused, match=r"is empty \(0 bytes\)"):
        start(settings, clock)
    assert settings.database_path.stat().st_size == 0


def test_another_database_in_its_place_stops_the_terminal(stopped, settings, clock, tmp_path):
    # a database made with this terminal's own key (say, from a reset elsewhere) is still
    # not this terminal's database
    other = open_database(tmp_path / "other.db", stopped.keys.key("database"))
    other.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    other.close()
    for suffix in ("-wal", "-shm"):
        settings.database_path.with_name("pos.db" + suffix).unlink(missing_ok=True)
    settings.database_path.write_bytes((tmp_path / "other.db").read_bytes())
    with pytest.raises(StartRefused, match="not the database this terminal made"):
        start(settings, clock)


def test_a_journal_signed_by_another_key_is_refused_at_start(terminal, settings, clock):
    sell(terminal.pos, 1)
    stranger = Journal(terminal.pos.db, "T01", Ed25519PrivateKey.generate())
    stranger.append("config_change", {"change": "prices"}, clock())
    terminal.pos.db.close()
    with pytest.raises(StartRefused, match=r"signed by key .* not by this terminal's key"):
        start(settings, clock)


def test_numbers_behind_the_issued_ones_are_refused(stopped, settings, clock):
    con = raw(settings, stopped.keys)
    con.execute("UPDATE counter SET last_number = 1 WHERE terminal_id = 'T01'")
    con.commit()
    con.close()
    with pytest.raises(StartRefused, match=r"behind those already issued \(T01-000003\)"):
        start(settings, clock)


def test_a_half_made_key_store_is_made_again(settings, clock):
    key_dir = settings.security.key_dir
    key_dir.mkdir(parents=True)
    (key_dir / "keystore.json.tmp").write_bytes(b'{"format": "pos-terminal-key')  # cut off
    terminal = with_open_shift(start(settings, clock))
    assert sell(terminal.pos) == [1]
    assert not (key_dir / "keystore.json.tmp").exists()


def test_killed_during_its_first_start_a_terminal_starts_cleanly_next_time(tmp_path, settings):
    """kill -9 at random moments of a first start (key store, database, demo store):
    the next start finishes the job, never refuses, never starts a second journal."""
    rng = random.Random(int(os.environ.get("POS_CRASH_SEED", "20261127")))
    outcomes = set()
    for attempt in range(12):
        data_dir = tmp_path / f"var{attempt}"
        child = subprocess.Popen(
            [sys.executable, "-m", "tests.store.first_start_child", str(data_dir)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        ready, _, _ = select.select([child.stdout], [], [], 60)
        assert ready and child.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0, 0.08))
        child.send_signal(signal.SIGKILL)
        child.wait(10)
        outcomes.add(child.stdout.read().strip() or "killed")
        child.stdout.close()
        outcomes.add(
            "key store made" if (data_dir / "keys" / "keystore.json").exists() else "no key store"
        )
        moved = dataclasses.replace(
            settings,
            data_dir=data_dir,
            security=dataclasses.replace(settings.security, key_dir=data_dir / "keys"),
        )
        terminal = with_open_shift(start(moved, system_clock))
        assert sell(terminal.pos) == [1], attempt
        verdict = terminal.pos.journal.verify()
        assert verdict.ok and verdict.head[0] == 1, (attempt, verdict)
        terminal.pos.db.close()
    assert {"killed", "key store made"} <= outcomes  # the kills did land mid-start


# -- 3. restore and reset: new epochs, every series carried on --------------------------------


@pytest.fixture
def day_then_backup(terminal, settings, tmp_path):
    """Day 1: two sales, a refund, the Z report; a backup. Day 2: two more sales, a
    refund, the Z report (the key store remembers after each Z)."""
    pos = terminal.pos
    sell(pos, 2)
    assert refund_one(pos, 1) == 1
    assert close_day(pos) == 1
    stick = tmp_path / "usb"
    stick.mkdir()
    assert admin.backup(settings, stick) == 0
    pos.shifts.open(0)
    assert sell(pos, 2) == [3, 4]
    assert refund_one(pos, 3) == 2
    assert close_day(pos) == 2
    issued = entries_by_name(pos.db)
    pos.db.close()
    (backup,) = stick.glob("*.posdb")
    return terminal, backup, issued


def _after_restore(settings, clock, issued):
    terminal = with_open_shift(start(settings, clock))
    pos = terminal.pos
    assert sell(pos) == [5]  # sales 3 and 4 are on receipts already
    assert refund_one(pos, 5) == 3  # refund numbers go on apart from sales
    assert close_day(pos) == 3  # so do Z reports
    now = entries_by_name(pos.db)
    # no (epoch, seq) names two different entries, whatever was lost in between
    assert all(issued[name] == digest for name, digest in now.items() if name in issued)
    assert max(epoch for epoch, _seq in now) == 2
    return terminal


def test_restore_over_a_readable_database_carries_every_series_and_begins_an_epoch(
    day_then_backup, settings, clock, capsys, tmp_path
):
    _terminal, backup, issued = day_then_backup
    assert admin.restore(settings, backup) == 0
    out = capsys.readouterr().out
    assert "sales 3-4 were made after this backup" in out
    assert "refunds 2-2" in out and "Z reports 2-2" in out
    restored = _after_restore(settings, clock, issued)
    verdict = restored.pos.journal.verify()
    assert verdict.ok, verdict
    assert any("are not in this journal" in note for note in verdict.notes)  # declared gap
    # the auditor's verifier walks both epochs and their link the same way
    out = tmp_path / "audit"
    admin.journal_export(settings, out)
    done = subprocess.run(
        [sys.executable, "-I", "verify_journal.py", "journal.jsonl", "journal-public-key.pem"],
        cwd=out,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0 and "journal OK" in done.stdout, done.stdout + done.stderr
    assert "epoch 2" in done.stdout and "are not in this journal" in done.stdout


def test_an_epoch_start_that_does_not_link_is_caught(terminal, clock):
    """An epoch must follow the previous one's head: one that names another hash for the
    same seq is a broken chain, on the terminal and for the auditor alike."""
    from terminal.store.journal import head  # noqa: PLC0415

    pos = terminal.pos
    sell(pos, 1)
    own = head(pos.db)
    forged = dataclasses.replace(own, hash="ab" * 32)
    pos.journal.begin_epoch("restore", forged, clock())
    verdict = pos.journal.verify()
    assert not verdict.ok and verdict.first_bad_seq == own.seq + 1
    assert "epoch 2 does not follow epoch 1" in verdict.reason
    with pytest.raises(ValueError, match="must begin after the journal's head"):
        pos.journal.begin_epoch("restore", dataclasses.replace(own, seq=own.seq - 1), clock())


def test_restore_over_an_unreadable_database_still_never_reissues(
    day_then_backup, settings, clock, capsys
):
    """The usual reason to restore: the database is garbage. The key store's memory (from
    the last Z report) says what was issued."""
    _terminal, backup, issued = day_then_backup
    for suffix in ("-wal", "-shm"):
        settings.database_path.with_name("pos.db" + suffix).unlink(missing_ok=True)
    settings.database_path.write_bytes(os.urandom(64 * 1024))
    assert admin.restore(settings, backup) == 0
    assert "sales 3-4 were made after this backup" in capsys.readouterr().out
    _after_restore(settings, clock, issued)


def test_a_reset_without_a_backup_journals_itself_and_numbers_go_on(stopped, settings, clock):
    settings.database_path.unlink()
    with pytest.raises(StartRefused):
        start(settings, clock)
    assert admin.db_reset(settings, confirm=False) == 2  # asks first
    assert admin.db_reset(settings, confirm=True) == 0
    terminal = with_open_shift(start(settings, clock))
    assert sell(terminal.pos) == [4]
    # the receipt names its entry with the epoch, and that name verifies
    receipt = "\n".join(interpret(terminal.pos.printer.jobs[-1][1]).lines)
    printed = re.search(r"Jurnal (2/\d+) +([0-9A-F]{8})", receipt)
    assert printed, receipt
    assert admin.journal_verify(settings, head=f"{printed[1]}:{printed[2]}") == 0
    first = next(read_entries(terminal.pos.db))
    assert first["type"] == "epoch_start" and first["epoch"] == 2
    assert first["payload"]["reason"] == "reset"
    assert first["payload"]["previous"]["seq"] == first["seq"] - 1
    verdict = terminal.pos.journal.verify()
    assert verdict.ok and "begins at epoch 2" in verdict.notes[0]
    with pytest.raises(StartRefused, match="database is in order"):
        admin.db_reset(settings, confirm=True)  # never over a good database


# -- 4. the journal's end is anchored ------------------------------------------------------------


def test_entries_cut_off_the_end_are_noticed(terminal, settings, clock, capsys, tmp_path):
    pos = terminal.pos
    sell(pos, 3)
    last = pos.journal.verify().head  # (epoch, seq, hash) of the last receipt's entry
    terminal.stop()
    pos.db.close()
    # someone removes the last sale and everything after it, behind the app's back
    con = raw(settings, terminal.keys)
    con.execute("DROP TRIGGER journal_no_delete")
    con.execute("DELETE FROM journal WHERE seq >= ?", (last[1],))
    con.execute("DELETE FROM tender WHERE sale_id = (SELECT MAX(id) FROM sale)")
    con.execute("DELETE FROM sale_tax WHERE sale_id = (SELECT MAX(id) FROM sale)")
    con.execute("DELETE FROM sale_line WHERE sale_id = (SELECT MAX(id) FROM sale)")
    con.execute("DELETE FROM sale WHERE id = (SELECT MAX(id) FROM sale)")
    con.commit()
    con.close()
    # the chain alone still verifies ...
    assert admin.journal_verify(settings) == 0
    capsys.readouterr()
    # ... but not against the head printed on the last receipt
    head = f"{last[1]}:{last[2][:8].upper()}"
    assert admin.journal_verify(settings, head=head) == 1
    assert f"truncated after seq {last[1] - 1}" in capsys.readouterr().out
    # and the terminal refuses to start on it
    with pytest.raises(StartRefused, match=f"truncated after seq {last[1] - 1}"):
        start(settings, clock)
    # the auditor's offline verifier says the same from an export
    out = tmp_path / "audit"
    admin.journal_export(settings, out)
    done = subprocess.run(
        [
            sys.executable,
            "verify_journal.py",
            "journal.jsonl",
            "journal-public-key.pem",
            "--head",
            head,
        ],
        cwd=out,
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 1 and f"truncated after seq {last[1] - 1}" in done.stdout


def test_receipts_print_the_head_that_verify_checks(terminal, settings, capsys):
    pos = terminal.pos
    pos.sign_in("1", "1357")
    pos.scan("GULA-1KG")
    committed = pos.pay_cash(20000).committed
    head = f"{committed.journal_seq}:{committed.journal_hash}"  # as the receipt prints them
    assert admin.journal_verify(settings, head=head) == 0
    assert admin.journal_verify(settings, head=f"{committed.journal_seq}:00000000") == 1
    assert "not the entry expected" in capsys.readouterr().out
    with pytest.raises(ValueError, match="not a journal head"):
        admin.journal_verify(settings, head="seq 12")


def test_the_terminal_remembers_at_start_stop_and_z_report(terminal, settings, clock):
    memory = terminal.keys.memory
    assert memory["event"] == "start" and memory["database_id"]
    sell(terminal.pos, 2)
    close_day(terminal.pos)
    assert terminal.keys.memory["numbers"] == {"T01": 2, "T01:Z": 1}
    terminal.stop()
    stopped = KeyStore.open_existing(settings.security.key_dir).memory
    assert stopped["event"] == "stop"
    assert stopped["head"]["seq"] == terminal.pos.journal.verify().head[1]


@pytest.mark.parametrize("edit", ["lower the numbers", "wipe the memory"])
def test_an_edited_memory_is_refused(stopped, settings, clock, edit):
    path = settings.security.key_dir / "keystore.json"
    document = json.loads(path.read_bytes())
    if edit == "lower the numbers":  # to have numbers issued again
        document["memory"]["numbers"]["T01"] = 0
    else:  # to have any database adopted, as at a first start
        document["memory"], document["memory_mac"] = {}, ""
    path.write_text(json.dumps(document))
    with pytest.raises(KeyStoreError, match="changed by hand"):
        start(settings, clock)


def test_open_reader_still_reads_the_database(terminal):
    assert open_reader(terminal).execute("SELECT COUNT(*) FROM database_identity").fetchone()[0]

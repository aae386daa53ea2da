"""A lost terminal's records come back from the fleet (issue 13): a terminal sells a day
of every kind of transaction through its services (cash, card, split, discounts,
refunds, cash moves, the shift's close and count, a Z report) and part of another; the
fleet ingests its journal; ``pos-fleet export`` writes the fleet's copy; a replacement
with the same id, before its first start, runs ``pos-terminal restore --from-fleet``.
Then its journal verifies across both epochs, its sales, refunds and shifts are the lost
terminal's, numbering goes on after the last one the fleet got, and the fleet takes its
entries as the next epoch. A file for another terminal, a changed entry, a cut file and
a terminal that has started are refused, with nothing changed. Real processes, real
databases (SQLCipher, the fleet's SQLite)."""

from __future__ import annotations

import io
import json
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal as D
from pathlib import Path

import pytest

from fleet.db import connect, create_tables
from fleet.export import ExportError, export_journal
from fleet.ingest import Ingest, open_alerts
from fleet.models import Entry, Sale, Terminal
from fleet.registry import register_terminal
from fleet.reports import verify_chain
from terminal import admin
from terminal.config import parse_settings
from terminal.core import fleet_protocol as fp
from terminal.core.approval import PAID_ORDERS
from terminal.core.clock import ManualClock
from terminal.services.bootstrap import build_terminal
from terminal.store import fleet_restore, outbox
from terminal.store.cashiers import FAST_TEST_PARAMS
from terminal.store.journal import read_entries
from tests.conftest import CONFIG, ROOT, load_doc, open_reader
from tests.fleet.conftest import T0, BareTerminal, batch, to_entry
from tests.services.test_day_report import BREAD, COFFEE, TEA, english, run_day

SALES = (
    "SELECT number, created_at, cashier_id, currency, net, tax, total, rounding, return_code,"
    " shift_id, customer_id, discount, points_earned, reprints FROM sale ORDER BY number"
)
LINES = (
    "SELECT s.number, l.position, l.sku, l.name, l.quantity_milli, l.unit_price, l.amount,"
    " l.tax_class, l.discount FROM sale_line l JOIN sale s ON s.id = l.sale_id"
    " ORDER BY s.number, l.position"
)
TAXES = (
    "SELECT s.number, t.code, t.name, t.rate, t.base, t.amount FROM sale_tax t"
    " JOIN sale s ON s.id = t.sale_id ORDER BY s.number, t.code, t.rate"
)
TENDERS = (
    "SELECT s.number, t.kind, t.amount, t.tendered, t.change, t.points, t.receipt_number"
    " FROM tender t JOIN sale s ON s.id = t.sale_id ORDER BY s.number, t.id"
)
REFUNDS = (
    "SELECT r.number, r.created_at, s.number, r.cashier_id, r.shift_id, r.amount, r.reason,"
    " r.approved_by, r.points_back FROM refund r LEFT JOIN sale s ON s.id = r.sale_id"
    " ORDER BY r.number"
)
REFUND_LINES = (
    "SELECT r.number, l.position, l.sku, l.name, l.quantity_milli, l.amount, l.tax_class,"
    " l.restock FROM refund_line l JOIN refund r ON r.id = l.refund_id ORDER BY r.number, l.id"
)
REFUND_TENDERS = (
    "SELECT r.number, t.kind, t.amount FROM refund_tender t JOIN refund r ON r.id = t.refund_id"
    " ORDER BY r.number, t.kind"
)
SHIFTS = (
    "SELECT id, cashier_id, opened_at, opening_float, closed_at, expected, counted, variance,"
    " counts FROM shift ORDER BY id"
)


def rows(con, sql: str) -> list[tuple]:
    return [tuple(row) for row in con.execute(sql).fetchall()]


def terminal_config(path: Path, data: Path, terminal_id: str = "T01") -> Path:
    """The shipped pos.toml with this data directory and id, in English."""
    text = CONFIG.read_text()
    for key, value in (("data_dir", str(data)), ("id", terminal_id), ("locale", "en")):
        text, n = re.subn(rf'(?m)^{key} = "[^"]*"', f'{key} = "{value}"', text, count=1)
        assert n == 1, key
    path.write_text(text)
    return path


def settings_of(data: Path, terminal_id: str = "T01", locale: str = "en"):
    doc = load_doc()
    doc["terminal"].update(data_dir=str(data), id=terminal_id)
    doc["store"]["locale"] = locale
    return parse_settings(doc)


def pos_fleet(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "fleet.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def pos_terminal(config: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "terminal", "--config", str(config), *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )


def sent(ingest: Ingest, terminal_id: str, entries: list[fp.Entry], head: int) -> fp.Ack:
    """Entries through the ingest's MQTT entry point, in batches as the agent sends them."""
    ack = None
    for at in range(0, len(entries), 200):
        message = fp.JournalBatch(terminal_id, entries[at : at + 200], head=head)
        ack = ingest.raw(fp.topic(terminal_id, "up/journal"), fp.encode(message))
        assert isinstance(ack, fp.Ack) and ack.resend_from is None, ack
    return ack


@dataclass
class Lost:
    """The lost terminal as it was when the fleet last heard from it."""

    tmp: Path
    fleet_url: str
    fleet_config: Path
    export: Path
    held: int  # the fleet's head seq
    made: int  # the lost terminal's head seq (entries after ``held`` never sent)
    sales: list[tuple]
    lines: list[tuple]
    taxes: list[tuple]
    tenders: list[tuple]
    refunds: list[tuple]
    refund_lines: list[tuple]
    refund_tenders: list[tuple]
    shifts: list[tuple]
    numbers: dict[str, int]
    refundable: dict[str, int]  # return code -> what can still be refunded
    codes: list[str]


@pytest.fixture(scope="module")
def lost(tmp_path_factory) -> Lost:
    tmp = tmp_path_factory.mktemp("restore-from-fleet")
    clock = ManualClock(T0)
    built = run_day(english(settings_of(tmp / "T01")), clock)
    try:
        pos = built.pos
        # the next morning: a shift that is still open when the terminal is lost
        pos.sign_out()
        clock.now = T0 + timedelta(days=1)
        pos.sign_in("1", "1357")
        pos.shifts.open(100000)
        pos.scan(TEA)
        pos.scan(COFFEE)
        tea = pos.pay_cash(50000).committed
        clock.advance(600)
        pos.scan(BREAD)
        pos.pay_card()
        clock.advance(600)
        approval = pos.approvals.approve(PAID_ORDERS, pos.cashier, "2580", supervisor="2")
        pos.refunds.refund(
            pos.refunds.find(tea.return_code), [(1, D(1), True)], "defective", approval
        )
        # the fleet gets everything up to here ...
        fleet_url = f"sqlite:///{tmp / 'fleet' / 'fleet.db'}"
        db = connect(fleet_url)
        create_tables(db)
        register_terminal(
            db,
            "T01",
            store="S1",
            group="G1",
            public_key_pem=pos.journal.public_key_pem(),
            timezone="Asia/Jakarta",
        )
        held = [to_entry(e) for e in read_entries(pos.db, decode=False)]
        con = open_reader(built)
        old = {
            name: rows(con, sql)
            for name, sql in (
                ("sales", SALES),
                ("lines", LINES),
                ("taxes", TAXES),
                ("tenders", TENDERS),
                ("refunds", REFUNDS),
                ("refund_lines", REFUND_LINES),
                ("refund_tenders", REFUND_TENDERS),
                ("shifts", SHIFTS),
            )
        }
        numbers = dict(con.execute("SELECT terminal_id, last_number FROM counter").fetchall())
        codes = [row[0] for row in con.execute("SELECT return_code FROM sale ORDER BY number")]
        con.close()
        refundable = {code: pos.refunds.find(code).refundable for code in codes}
        # ... and one more sale, which never reaches it: lost with the terminal
        clock.advance(600)
        pos.scan(TEA)
        pos.pay_cash(10000)
        made = pos.journal.db.execute_sql("SELECT MAX(seq) FROM journal").fetchone()[0]
        ack = sent(Ingest(db, clock=clock), "T01", held, head=made)
        assert ack.acked == held[-1].seq
        assert open_alerts(db, "T01") == []
        db.close()
    finally:
        built.devices.close()
    fleet_config = tmp / "fleet.toml"
    fleet_config.write_text(f'[database]\nurl = "{fleet_url}"\n')
    export = tmp / "T01.fleet.jsonl"
    done = pos_fleet("export", "T01", str(export), "--config", str(fleet_config))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{len(held)} journal entries of T01" in done.stdout
    assert f"seq {held[-1].seq + 1}-{made} never reached the fleet" in done.stdout
    return Lost(
        tmp=tmp,
        fleet_url=fleet_url,
        fleet_config=fleet_config,
        export=export,
        held=held[-1].seq,
        made=made,
        numbers=numbers,
        refundable=refundable,
        codes=codes,
        **old,
    )


def typed(monkeypatch, text: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(text + "\n"))


def test_the_export_is_the_fleets_copy_as_signed(lost):
    lines = lost.export.read_text(encoding="utf-8").splitlines()
    header = json.loads(lines[0])
    assert header["format"] == "pos-fleet-journal/1" and header["terminal_id"] == "T01"
    assert header["head"]["seq"] == lost.held and header["reported_head"] == lost.made
    entries = [json.loads(line) for line in lines[1:]]
    assert [e["seq"] for e in entries] == list(range(1, lost.held + 1))
    assert entries[-1]["hash"] == header["head"]["hash"]
    # the fields `pos-terminal journal export` writes, the payload as an object
    assert set(entries[0]) == set(fleet_restore.ENTRY_FIELDS)
    assert isinstance(entries[0]["payload"], dict)
    # an unknown terminal: exit 1, a clear message, no file
    target = lost.tmp / "T09.jsonl"
    done = pos_fleet("export", "T09", str(target), "--config", str(lost.fleet_config))
    assert done.returncode == 1 and "T09: not a registered terminal" in done.stdout
    assert not target.exists()


def test_a_replacement_rebuilds_the_lost_terminals_records_and_carries_on(
    lost, tmp_path, monkeypatch
):
    data = tmp_path / "replacement"
    config = terminal_config(tmp_path / "replacement.toml", data)
    done = pos_terminal(config, "restore", "--from-fleet", str(lost.export))
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert f"{lost.held} journal entries, chain and signatures verified" in out
    sales = len(lost.sales)
    assert f"Records rebuilt: {sales} sales, {len(lost.refunds)} refunds" in out
    assert "1 Z report (in the journal)" in out
    assert "Shift 2 was still open: it is closed here, uncounted." in out
    assert f"sales: the next receipt is T01-{sales + 1:06d}" in out
    assert f"refunds: the next is R-T01-{len(lost.refunds) + 1:06d}" in out
    assert "Z reports: the next is Z 2" in out
    assert f"epoch 2 begins at seq {lost.held + 1}, after the fleet's last entry" in out
    assert f"seq {lost.held + 1}-{lost.made} are lost" in out
    assert "Cashiers 1, 2 are back by number only and inactive" in out
    assert "Supervisors (seen approving as one): 2." in out
    assert "products and prices" in out and "register its journal key" in out

    settings = settings_of(data)
    clock = ManualClock(T0 + timedelta(days=2))
    new = build_terminal(english(settings), clock=clock, pin_params=FAST_TEST_PARAMS)
    try:
        pos = new.pos
        # its journal verifies: the lost terminal's epoch, then its own, linked
        for public_key_only in (False, True):
            verdict = pos.journal.verify(public_key_only=public_key_only)
            assert verdict.ok, verdict
            assert verdict.entries == lost.held + 2  # + its epoch start and start
        done = pos_terminal(config, "journal", "verify")
        assert done.returncode == 0 and "journal OK" in done.stdout, done.stdout
        assert outbox.mark(pos.db) == lost.held  # the fleet holds the lost terminal's
        assert outbox.unsent(pos.db) == 2  # its epoch start and start
        start = json.loads(
            pos.db.execute_sql("SELECT payload FROM journal WHERE type = 'epoch_start'").fetchone()[
                0
            ]
        )
        assert start["reason"] == "restore_from_fleet"
        assert start["previous"]["seq"] == lost.held and start["previous"]["epoch"] == 1
        assert start["shifts_closed_uncounted"] == [2]

        # the records are the lost terminal's, as far as the fleet got them
        con = open_reader(new)
        assert rows(con, SALES) == lost.sales
        assert rows(con, LINES) == lost.lines
        assert rows(con, TAXES) == lost.taxes
        assert rows(con, TENDERS) == lost.tenders
        assert rows(con, REFUNDS) == lost.refunds
        assert rows(con, REFUND_LINES) == lost.refund_lines
        assert rows(con, REFUND_TENDERS) == lost.refund_tenders
        shifts = rows(con, SHIFTS)
        assert shifts[0] == lost.shifts[0]  # closed and counted there
        assert shifts[1][:4] == lost.shifts[1][:4] and lost.shifts[1][4] is None
        assert shifts[1][4] is not None and shifts[1][5:] == (None,) * 4  # closed uncounted
        numbers = dict(con.execute("SELECT terminal_id, last_number FROM counter").fetchall())
        assert numbers == lost.numbers
        cashiers = rows(con, "SELECT id, name, role, active FROM cashier ORDER BY id")
        assert cashiers == [(1, "Sari", "cashier", 0), (2, "Budi", "supervisor", 0)]
        assert con.execute("SELECT COUNT(*) FROM journal_archive").fetchone()[0] == lost.held
        con.close()
        # what was refunded there is not refundable here
        assert {code: pos.refunds.find(code).refundable for code in lost.codes} == lost.refundable

        # cashiers need a PIN; then the next sale follows the last one the fleet got
        typed(monkeypatch, "2468")
        assert admin.cashier_set_pin(settings, 1) == 0
        pos.sign_in("1", "2468")
        assert pos.refunds.reprint(pos.refunds.find(lost.codes[0]).id)[0] == 1  # a copy
        # the third sale was reprinted there once: its next copy is COPY 2
        assert pos.refunds.reprint(pos.refunds.find(lost.codes[2]).id)[0] == 2
        shift = pos.shifts.open(50000)
        assert shift.id == 3
        pos.scan(TEA)
        committed = pos.pay_cash(10000).committed
        assert committed.number == sales + 1
        assert committed.label == f"T01-{sales + 1:06d}"
        assert committed.journal_epoch == 2
        new_entries = [to_entry(e) for e in read_entries(pos.db, decode=False)]
        key = pos.journal.public_key_pem()
    finally:
        new.devices.close()

    # the fleet takes the replacement's entries as the next epoch: stored, no alert
    db = connect(lost.fleet_url)
    try:
        register_terminal(db, "T01", store="S1", group="G1", public_key_pem=key)
        ack = sent(Ingest(db), "T01", new_entries, head=new_entries[-1].seq)
        assert ack.acked == new_entries[-1].seq and ack.resend_from is None
        assert open_alerts(db, "T01") == []
        term = Terminal.select().where(Terminal.id == "T01").bind(db).get()
        assert (term.acked_epoch, term.acked_seq) == (2, new_entries[-1].seq)
        epoch2 = (
            Entry.select(Entry.seq)
            .where((Entry.terminal_id == "T01") & (Entry.epoch == 2))
            .order_by(Entry.seq)
            .tuples()
            .bind(db)
        )
        assert [seq for (seq,) in epoch2] == [e.seq for e in new_entries]
        assert verify_chain(db, "T01").ok
        numbers = Sale.select(Sale.number).where(Sale.epoch == 2).tuples().bind(db)
        assert [n for (n,) in numbers] == [sales + 1]
    finally:
        db.close()

    # and the replacement is lost in turn: a third terminal restores both epochs
    export = tmp_path / "again.jsonl"
    done = pos_fleet("export", "T01", str(export), "--config", str(lost.fleet_config))
    assert done.returncode == 0, done.stdout
    third = tmp_path / "third"
    config = terminal_config(tmp_path / "third.toml", third)
    done = pos_terminal(config, "restore", "--from-fleet", str(export))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"Records rebuilt: {sales + 1} sales" in done.stdout
    # shift 2 was closed by the first restore (its epoch start says so); 3 is open
    assert "Shift 3 was still open" in done.stdout
    assert f"epoch 3 begins at seq {new_entries[-1].seq + 1}" in done.stdout
    done = pos_terminal(config, "journal", "verify")
    assert done.returncode == 0, done.stdout
    assert f"journal OK: {new_entries[-1].seq + 1} entries" in done.stdout  # + epoch start


def restore(settings, export: Path, capsys) -> tuple[int, str]:
    status = admin.restore_from_fleet(settings, export)
    captured = capsys.readouterr()
    return status, captured.out + captured.err


def test_a_copy_of_another_terminal_is_refused(lost, tmp_path, capsys):
    settings = settings_of(tmp_path / "T02", terminal_id="T02")
    status, text = restore(settings, lost.export, capsys)
    assert status == 3
    assert "holds the journal of terminal T01, but this terminal is T02" in text
    assert not settings.database_path.exists()  # nothing made, nothing written


def changed(lost: Lost, target: Path, change) -> tuple[Path, int]:
    """The export with one entry changed; returns the file and that entry's seq."""
    lines = lost.export.read_text(encoding="utf-8").splitlines()
    for n, line in enumerate(lines[1:], start=1):
        entry = json.loads(line)
        if entry["type"] == "sale":
            change(entry)
            lines[n] = json.dumps(entry, sort_keys=True)
            target.write_text("\n".join(lines) + "\n", encoding="utf-8")
            return target, entry["seq"]
    raise AssertionError("no sale in the export")


def test_a_changed_entry_refuses_the_whole_restore(lost, tmp_path, capsys):
    settings = settings_of(tmp_path / "replacement")

    def cheaper(entry):
        entry["payload"]["total"] -= 1000

    forged, seq = changed(lost, tmp_path / "forged.jsonl", cheaper)
    status, text = restore(settings, forged, capsys)
    assert status == 3
    assert f"does not verify at seq {seq}: content changed (hash mismatch)" in text
    assert "Nothing was restored" in text
    assert not settings.database_path.exists()


def test_a_cut_file_is_refused(lost, tmp_path, capsys):
    settings = settings_of(tmp_path / "replacement")
    cut = tmp_path / "cut.jsonl"
    cut.write_text(
        "\n".join(lost.export.read_text(encoding="utf-8").splitlines()[:-1]) + "\n",
        encoding="utf-8",
    )
    status, text = restore(settings, cut, capsys)
    assert status == 3
    assert f"does not verify at seq {lost.held}: truncated after seq {lost.held - 1}" in text
    assert not settings.database_path.exists()
    # and one that goes on after its head (an entry added behind the fleet's back)
    lines = lost.export.read_text(encoding="utf-8").splitlines()
    header = json.loads(lines[0])
    header["head"] = {"epoch": 1, "seq": lost.held - 1, "hash": json.loads(lines[-2])["hash"]}
    longer = tmp_path / "longer.jsonl"
    longer.write_text("\n".join([json.dumps(header), *lines[1:]]) + "\n", encoding="utf-8")
    status, text = restore(settings, longer, capsys)
    assert status == 3 and f"does not verify at seq {lost.held}: it goes on after" in text
    assert not settings.database_path.exists()


def test_a_terminal_that_has_started_is_refused_and_unchanged(lost, tmp_path, capsys):
    settings = settings_of(tmp_path / "replacement")
    clock = ManualClock(T0 + timedelta(days=2))
    started = build_terminal(english(settings), clock=clock, pin_params=FAST_TEST_PARAMS)
    try:
        before = rows(open_reader(started), "SELECT seq, hash FROM journal ORDER BY seq")
        status, text = restore(settings, lost.export, capsys)
        assert status == 3
        assert "This terminal has already started as T01 (its journal goes up to seq 1)" in text
        assert "Nothing was restored" in text
        con = open_reader(started)
        assert rows(con, "SELECT seq, hash FROM journal ORDER BY seq") == before
        assert con.execute("SELECT COUNT(*) FROM sale").fetchone()[0] == 0
        tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
        assert "journal_archive" not in tables
        assert con.execute("SELECT COUNT(*) FROM counter").fetchone()[0] == 0
        con.close()
    finally:
        started.devices.close()


def test_the_messages_are_in_the_shops_language(lost, tmp_path, capsys):
    settings = settings_of(tmp_path / "T02", terminal_id="T02", locale="id")
    status, text = restore(settings, lost.export, capsys)
    assert status == 3 and "berisi jurnal terminal T01, tetapi terminal ini T02" in text
    data = tmp_path / "replacement"
    shutil.rmtree(data, ignore_errors=True)
    status, text = restore(settings_of(data, locale="id"), lost.export, capsys)
    assert status == 0, text
    assert f"epoch 2 dimulai pada seq {lost.held + 1}" in text


def test_the_export_reads_back_on_each_backend(fleet_db, ingest, bare, tmp_path):
    """``fleet.export`` on SQLite and PostgreSQL: what it writes is what the restore reads
    and verifies; a terminal the fleet holds nothing of has nothing to export."""
    bare.register(fleet_db)
    target = tmp_path / "T01.jsonl"
    with pytest.raises(ExportError, match="holds no journal entries of T01"):
        export_journal(fleet_db, "T01", target)
    with pytest.raises(LookupError):
        export_journal(fleet_db, "T09", target)
    assert not target.exists()
    ack = ingest.journal("T01", batch(bare.add(5), head=7))
    assert ack.acked == 5
    done = export_journal(fleet_db, "T01", target)
    assert (done.entries, done.head[1], done.reported_head) == (5, 5, 7)
    copy = fleet_restore.read_copy(target, "T01")
    assert (copy.entries, copy.head.seq, copy.head.hash) == (5, 5, bare.head().hash)
    assert copy.reported_head == 7 and list(copy.keys) == [bare.journal.key_id]


def test_a_record_the_rules_cannot_read_is_named_and_its_number_kept(tmp_path, capsys):
    """A signed entry whose payload the rebuild cannot read (an older terminal's, say) is
    kept in the archive and named, its rows are not half made, and its number still
    counts: no receipt number is issued twice."""
    old = BareTerminal(tmp_path / "old")
    old.journal.append("sale", {"number": 7, "cashier": 1, "total": 5500}, T0, amount=5500)
    old.journal.append("z_report", {"z_number": 3, "cashier": 2, "last_seq": 1}, T0)
    entries = list(read_entries(old.db))
    last = entries[-1]
    export = tmp_path / "T01.jsonl"
    header = {
        "format": "pos-fleet-journal/1",
        "terminal_id": "T01",
        "head": {"epoch": 1, "seq": last["seq"], "hash": last["hash"]},
        "keys": {old.journal.key_id: old.public_key_pem().decode()},
        "exported_at": "2026-11-23T04:00:00+00:00",
    }
    export.write_text("\n".join(json.dumps(x) for x in [header, *entries]) + "\n")
    settings = settings_of(tmp_path / "new")
    status, text = restore(settings, export, capsys)
    assert status == 0, text
    assert "WARNING: seq 1 (sale) was not rebuilt: KeyError: 'tenders'" in text
    assert "Records rebuilt: 0 sales" in text and "1 Z report" in text
    assert "sales: the next receipt is T01-000008" in text
    assert "Z reports: the next is Z 4" in text
    new = build_terminal(english(settings), pin_params=FAST_TEST_PARAMS)
    try:
        con = open_reader(new)
        assert con.execute("SELECT COUNT(*) FROM sale").fetchone()[0] == 0  # not half made
        assert con.execute("SELECT COUNT(*) FROM journal_archive").fetchone()[0] == 2
        con.close()
        assert new.pos.journal.verify().ok
    finally:
        new.devices.close()

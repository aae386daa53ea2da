"""Moving a shop to a replacement terminal with keys of its own (seed 004)."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest

from terminal import admin
from terminal.config import parse_settings
from terminal.core.errors import PosError
from terminal.services.bootstrap import build_terminal
from terminal.store.cashiers import FAST_TEST_PARAMS
from terminal.store.customers import add_customer, find_by_phone
from terminal.store.journal_format import key_id as public_key_id
from terminal.store.journal_format import load_public_key, verify_entries
from terminal.store.sealing import Sealer
from terminal.store.transfer import TransferError
from tests.conftest import load_doc, open_reader

PASSPHRASE = "kopi susu gula aren 2026"


def settings_in(path):
    doc = load_doc()
    doc["terminal"]["data_dir"] = str(path)
    return parse_settings(doc)


def typed(monkeypatch, text):
    monkeypatch.setattr("sys.stdin", io.StringIO(text + "\n"))


@pytest.fixture
def exported(terminal, settings, tmp_path, monkeypatch):
    pos = terminal.pos
    add_customer(
        pos.db,
        Sealer(terminal.keys.key("sealing")),
        "Siti Rahmawati",
        "+62 812 3456 7890",
        "Jl. Melati 7",
    )
    pos.sign_in("1", "1357")
    for code in ("GULA-1KG", "8991002101111"):
        pos.scan(code)
        pos.pay_cash(50000)
    terminal.card.link.approve_after = 0
    pos.scan("8991002101111")
    pos.pay_card()  # sale 3, by card: its sealed authorisation must come along
    # the sugar came back: a refund the replacement must know about
    approval = pos.approvals.approve("paid_orders", pos.cashier, "2580", supervisor="2")
    pos.refunds.refund(
        pos.refunds.find("T01-000001"), [(1, Decimal(1), True)], "defective", approval
    )
    bundle = tmp_path / "toko.posx"
    typed(monkeypatch, PASSPHRASE)
    assert admin.export(settings, bundle) == 0
    return bundle


def test_a_replacement_terminal_carries_on(
    exported, terminal, tmp_path, monkeypatch, clock, capsys
):
    assert b"Siti" not in exported.read_bytes() and b"Gulaku" not in exported.read_bytes()
    new_settings = settings_in(tmp_path / "new-terminal")
    typed(monkeypatch, PASSPHRASE)  # before the replacement's first start
    assert admin.import_(new_settings, exported) == 0
    assert "cashiers are inactive" in capsys.readouterr().out
    new = build_terminal(new_settings, clock=clock, pin_params=FAST_TEST_PARAMS)
    assert new.keys.key("database") != terminal.keys.key("database")  # its own keys

    con = open_reader(new)
    assert [r[0] for r in con.execute("SELECT number FROM sale ORDER BY number")] == [1, 2, 3]
    assert con.execute("SELECT COUNT(*) FROM sale_line").fetchone()[0] == 3
    # the customer was sealed again under the new terminal's key
    sealer = Sealer(new.keys.key("sealing"))
    assert [c.name for c in find_by_phone(new.pos.db, sealer, "6281234567890")] == [
        "Siti Rahmawati"
    ]
    # the old journal is kept and still verifies with the old terminal's key
    rows = con.execute("SELECT public_key, entry FROM journal_archive ORDER BY seq").fetchall()
    import json  # noqa: PLC0415

    old_key = load_public_key(rows[0][0].encode())
    entries = [json.loads(r[1]) for r in rows]
    assert verify_entries(entries, {public_key_id(old_key): old_key}).ok
    con.close()
    # the replacement's journal goes on as T01 in a new epoch that links to the old one
    first = new.pos.db.execute_sql(
        "SELECT epoch, seq, type, payload, prev_hash FROM journal ORDER BY seq"
    ).fetchone()
    epoch, seq, kind, payload, prev_hash = first
    assert (epoch, seq, kind) == (2, entries[-1]["seq"] + 1, "epoch_start")
    assert prev_hash == entries[-1]["hash"] and json.loads(payload)["reason"] == "transfer"
    verdict = new.pos.journal.verify()  # both epochs, both keys, and their link
    assert verdict.ok and verdict.entries == len(entries) + 2, verdict  # + epoch start, start

    # cashiers need a new PIN before they sell here; then numbering carries on
    with pytest.raises(PosError, match="Wrong cashier number or PIN"):
        new.pos.sign_in("1", "1357")
    typed(monkeypatch, "2468")
    assert admin.cashier_set_pin(new_settings, 1) == 0
    new.pos.sign_in("1", "2468")
    new.shifts.open(0)
    new.pos.scan("GULA-1KG")
    assert new.pos.pay_cash(20000).committed.number == 4
    # what was refunded there is not refundable here; the old receipt reprints
    assert new.pos.refunds.find("T01-000001").refundable == 0
    assert new.pos.refunds.find("T01-000002").refundable == 5500
    assert new.pos.refunds.reprint(new.pos.refunds.find("T01-000002").id)[0] == 1
    # the card sale reprints with its card, unsealed with the new terminal's key
    assert new.pos.refunds.reprint(new.pos.refunds.find("T01-000003").id)[0] == 1
    from hal.printer.preview import interpret  # noqa: PLC0415

    assert "****0119" in "\n".join(interpret(new.pos.printer.jobs[-1][1]).lines)
    # promotions came along; the passkey switches too, their codes are set anew
    con = open_reader(new)
    assert con.execute("SELECT COUNT(*) FROM promotion").fetchone()[0] == 3
    assert (
        con.execute(
            "SELECT COUNT(*) FROM passkey WHERE enabled = 1 AND code_hash IS NULL"
        ).fetchone()[0]
        == 4
    )
    con.close()


def test_bad_imports_are_refused_and_change_nothing(
    exported, terminal, settings, tmp_path, monkeypatch, clock
):
    new_settings = settings_in(tmp_path / "new-terminal")
    new = build_terminal(new_settings, clock=clock, pin_params=FAST_TEST_PARAMS)
    before = open_reader(new).execute("SELECT COUNT(*) FROM product").fetchone()[0]
    cut = tmp_path / "cut.posx"
    cut.write_bytes(exported.read_bytes()[:-100])
    for source, passphrase, message in (
        (exported, "wrong passphrase!!", "wrong passphrase"),
        (cut, PASSPHRASE, "cut short"),
        (tmp_path / "nope.posx", PASSPHRASE, "No such file"),
        (settings.database_path, PASSPHRASE, "not a terminal export"),
    ):
        typed(monkeypatch, passphrase)
        with pytest.raises(TransferError, match=message):
            admin.import_(new_settings, source)
    assert open_reader(new).execute("SELECT COUNT(*) FROM product").fetchone()[0] == before
    # a terminal that has sold already is not a replacement
    typed(monkeypatch, PASSPHRASE)
    with pytest.raises(TransferError, match="already has sales"):
        admin.import_(settings, exported)
    # one that started as T01 already has a journal of its own: (T01, 1, 1) would name two
    # entries, the old terminal's and its own
    typed(monkeypatch, PASSPHRASE)
    with pytest.raises(TransferError, match="already started as T01"):
        admin.import_(new_settings, exported)
    assert open_reader(new).execute("SELECT COUNT(*) FROM product").fetchone()[0] == before


def test_cashier_commands(terminal, settings, monkeypatch, capsys):
    typed(monkeypatch, "97531")
    assert admin.cashier_add(settings, 7, "Dewi", "cashier") == 0
    assert terminal.pos.sign_in("7", "97531").name == "Dewi"
    typed(monkeypatch, "1111")
    with pytest.raises(PosError, match="too easy"):
        admin.cashier_set_pin(settings, 7)
    admin.cashier_list(settings)
    out = capsys.readouterr().out
    assert "Dewi" in out and "97531" not in out

"""Sealed columns: customer personal data and card authorisation data."""

from __future__ import annotations

import re

import pytest

from terminal.core.cards import CardDataError
from terminal.core.customers import CustomerError
from terminal.store.customers import (
    CardAuth,
    add_customer,
    card_auth,
    find_by_phone,
    get_customer,
    record_card_auth,
)
from terminal.store.models import CustomerRow, TenderRow
from terminal.store.sealing import Sealer, SealError

NAME, PHONE, ADDRESS = "Siti Rahmawati", "+62 812-3456-7890", "Jl. Melati No. 7, Bandung"
PAN = "476173******0119"


@pytest.fixture
def sealer(terminal):
    return Sealer(terminal.keys.key("sealing"))


@pytest.fixture
def db(terminal):
    return terminal.pos.db


def test_customer_round_trip_and_find_by_phone(sealer, db):
    added = add_customer(db, sealer, NAME, PHONE, ADDRESS)
    assert get_customer(db, sealer, added.id) == added
    assert added.phone == "6281234567890"
    assert [c.name for c in find_by_phone(db, sealer, "62 812 3456 7890")] == [NAME]
    assert find_by_phone(db, sealer, "+62 812-0000-0000") == []


def test_a_sealed_value_does_not_open_in_another_row_or_column(sealer, db):
    a = add_customer(db, sealer, NAME, PHONE)
    b = add_customer(db, sealer, "Budi Santoso", "+62 811 222 333")
    # copy a's sealed name into b's row (an insider editing the database)
    sealed = CustomerRow.select().where(CustomerRow.id == a.id).get(db)
    CustomerRow.update(name=sealed.name).where(CustomerRow.id == b.id).execute(db)
    with pytest.raises(SealError, match="does not belong to this row"):
        get_customer(db, sealer, b.id)
    # a's phone in a's own name column: wrong column
    CustomerRow.update(name=sealed.phone).where(CustomerRow.id == a.id).execute(db)
    with pytest.raises(SealError, match="does not belong"):
        get_customer(db, sealer, a.id)


def test_card_authorisation_is_sealed_and_a_full_pan_is_refused(terminal, sealer, db):
    pos = terminal.pos
    pos.sign_in("1", "1357")
    pos.scan("GULA-1KG")
    pos.pay_cash(20000)
    tender_id = TenderRow.select().get(db).id
    record_card_auth(db, sealer, tender_id, CardAuth(PAN, "A1B2C3", "004711", "52500001"))
    assert card_auth(db, sealer, tender_id).masked_pan == PAN
    for full in ("4761739001010119", "4761 7390 0101 0119", "476173901*0119"):
        with pytest.raises(CardDataError, match="not masked"):
            record_card_auth(db, sealer, tender_id, CardAuth(full, "A1", "1", "T"))


def test_nothing_personal_in_plaintext_in_the_database_files(terminal, settings, sealer, db):
    add_customer(db, sealer, NAME, PHONE, ADDRESS)
    pos = terminal.pos
    pos.sign_in("1", "1357")
    pos.scan("GULA-1KG")
    pos.pay_cash(20000)
    record_card_auth(
        db, sealer, TenderRow.select().get(db).id, CardAuth(PAN, "A1B2C3", "004711", "T")
    )
    # even decrypted (with the database key), the sealed columns show nothing
    from tests.conftest import open_reader  # noqa: PLC0415

    con = open_reader(terminal)
    tables = [r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")]
    dump = "\n".join(
        repr(row) for table in tables for row in con.execute(f'SELECT * FROM "{table}"')
    )
    con.close()
    assert "Gula Pasir" in dump  # the dump is really the decrypted content
    files = b"".join(p.read_bytes() for p in settings.data_dir.rglob("*") if p.is_file())
    for secret in (NAME, "6281234567890", "Melati", PAN, "0119", "A1B2C3"):
        # as a token: hashes, signatures and receipt short hashes are hex, and hold any
        # four hex digits by chance
        token = rf"(?<![0-9A-Fa-f]){re.escape(secret)}(?![0-9A-Fa-f])"
        assert not re.search(token, dump), secret
        assert not re.search(token.encode(), files), secret


@pytest.mark.parametrize(("name", "phone"), [("", "0812345678"), ("Ana", "12"), ("Ana", "abc")])
def test_bad_customer_data_is_refused(sealer, db, name, phone):
    before = CustomerRow.select().count(db)  # (the demo store's member)
    with pytest.raises(CustomerError):
        add_customer(db, sealer, name, phone)
    assert CustomerRow.select().count(db) == before

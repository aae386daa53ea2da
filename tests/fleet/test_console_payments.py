"""The online orders' payments page (finance): a bank statement uploaded, its matches
reviewed and confirmed, a match made by hand, broken rows named by their line, an
upload repeated, and who may see and do it."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from pathlib import Path
from random import Random
from zoneinfo import ZoneInfo

import pytest
from starlette.testclient import TestClient

from fleet.config import ConsoleSettings, OrdersSettings
from fleet.console import accounts
from fleet.console.app import create_app
from fleet.console.pages.payments import PaymentsDesk
from fleet.models import BankAccount, Booking, ConsoleAudit, StatementLineRow
from fleet.orders import desk as orders
from fleet.orders.statements import mapping_from_json
from terminal.core.online_orders import DeadlineRule
from terminal.core.sealing import Sealer
from tests.fleet.console_client import csrf_of
from tests.fleet.console_client import signed_in as console_signed_in

JAKARTA = ZoneInfo("Asia/Jakarta")
NOW = datetime(2026, 11, 27, 5, 0)  # 12:00 in Jakarta (UTC, as the console's clock)
PASSWORD = "correct horse battery"
RULES = orders.DeskRules(DeadlineRule.parse("17:00"), JAKARTA)


@pytest.fixture
def shop(fleet_db):
    sealer = Sealer(os.urandom(32))
    orders.receive(fleet_db, "TEH-BTL", "Jakarta 1", 3, NOW.replace(tzinfo=UTC), "wh")
    made = {}
    for i, name in enumerate(("Dewi Lestari", "Budi Santoso", "Siti Aminah"), start=1):
        made[name] = orders.book(
            fleet_db,
            sealer,
            desk="Jakarta 1",
            sku="TEH-BTL",
            price=150_000,
            customer=orders.Customer(name, "", "Jl. 1"),
            rules=RULES,
            series="T01",
            at=datetime(2026, 11, 27, 9, i, tzinfo=JAKARTA),
            actor="cs",
            rng=Random(i),
        )
    for name, role, stores in (
        ("sri", "finance", None),
        ("ani", "manager", ["Jakarta 1"]),
        ("adi", "admin", None),
    ):
        accounts.add_account(
            fleet_db, name, role, PASSWORD, NOW, stores=stores, cost=accounts.FAST_TEST_COST
        )
    app = create_app(
        fleet_db,
        ConsoleSettings(),
        clock=lambda: NOW,
        cost=accounts.FAST_TEST_COST,
        payments_desk=PaymentsDesk(sealer, OrdersSettings(enabled=True)),
    )
    return fleet_db, app, made


def signed_in(app, name: str, **options) -> TestClient:
    return console_signed_in(app, name, PASSWORD, https=True, follow_redirects=False, **options)


def statement(*rows: tuple[str, str, int]) -> bytes:
    lines = ["Tanggal,Keterangan,Jumlah"]
    lines += [f'{d},{text},"{amount:,}.00 CR"' for d, text, amount in rows]
    return ("\n".join(lines) + "\n").encode()


# the "amount-cr-db" preset: Tanggal, Keterangan, Jumlah with a CR/DB mark, 1,234.00
CR_DB_MAPPING = {
    "map_date": "Tanggal",
    "map_description": "Keterangan",
    "map_amount": "Jumlah",
    "map_date_format": "%d/%m/%Y",
    "map_decimal_sep": ".",
    "map_thousands_sep": ",",
    "map_delimiter": ",",
    "map_header_row": "1",
    "map_marker_credit": "CR",
    "map_marker_debit": "DB",
}


def save_account(client, name: str = "BCA 1234567890", fmt: str = "csv", **fields):
    page = client.get("/payments")
    form = {"csrf": csrf_of(page.text), "name": name, "bank": "BCA", "number": "1234567890"}
    form |= {"format": fmt, **(CR_DB_MAPPING if fmt == "csv" else {}), **fields}
    return client.post("/payments/account", data=form)


def upload(client, data: bytes, account: str = "BCA 1234567890", filename: str = "mutasi.csv"):
    page = client.get("/payments")
    if f'data-bank-account="{account}"' not in page.text:
        assert save_account(client, account).status_code == 303
        page = client.get("/payments")
    return client.post(
        "/payments/upload",
        data={"csrf": csrf_of(page.text), "account": account},
        files={"statement": (filename, data, "text/csv")},
    )


def test_finance_uploads_reviews_and_confirms_and_nothing_is_paid_before(shop):
    db, app, made = shop
    dewi = made["Dewi Lestari"]
    client = signed_in(app, "sri")
    page = client.get("/payments")
    assert page.status_code == 200 and "Dewi Lestari" in page.text and dewi.order_no in page.text
    review = upload(
        client,
        statement(
            ("27/11/2026", "TRSF CR DEWI LESTARI", dewi.due),
            ("27/11/2026", "SETORAN TUNAI", 99_999),
        ),
    )
    assert review.status_code == 200
    assert f'value="{dewi.order_no}|' in review.text  # proposed, ticked
    assert 'data-outcome="no open booking of this amount"' in review.text
    assert orders.paid_bookings(db, "Jakarta 1") == []  # nothing applied yet
    matched = re.search(rf'name="match" value="({dewi.order_no}\|[0-9a-f]+)"', review.text)[1]
    done = client.post("/payments/confirm", data={"csrf": csrf_of(review.text), "match": matched})
    assert done.status_code == 303 and done.headers["location"] == "/payments?confirmed=1"
    assert [b.order_no for b in orders.paid_bookings(db, "Jakarta 1")] == [dewi.order_no]
    again = upload(client, statement(("27/11/2026", "TRSF CR DEWI LESTARI", dewi.due)))
    assert 'data-outcome="already matched"' in again.text and 'name="match"' not in again.text


def test_a_line_nobody_could_match_is_matched_by_hand(shop):
    db, app, made = shop
    budi = made["Budi Santoso"]
    client = signed_in(app, "sri")
    review = upload(client, statement(("27/11/2026", "SETORAN TUNAI 11", budi.price)))
    key = re.search(r'name="line-([0-9a-f]+)"', review.text)[1]
    done = client.post(
        "/payments/confirm", data={"csrf": csrf_of(review.text), f"line-{key}": budi.order_no}
    )
    assert done.status_code == 303
    row = Booking.select().where(Booking.order_no == budi.order_no).bind(db).get()
    assert (row.state, row.paid_line) == ("paid", key)


def test_a_broken_statement_names_every_broken_row_and_keeps_nothing(shop):
    db, app, _made = shop
    client = signed_in(app, "sri")
    bad = b'Tanggal,Keterangan,Jumlah\n31/02/2026,X,"1.00 CR"\n27/11/2026,Y,"lots CR"\n'
    answer = upload(client, bad)
    assert answer.status_code == 422
    assert "line 2, Tanggal: &#39;31/02/2026&#39; is not a date" in answer.text
    assert "line 3, Jumlah: &#39;lots CR&#39; is not an amount" in answer.text
    assert orders.paid_bookings(db, "Jakarta 1") == []


def test_only_finance_and_admins_see_payments_and_customers(shop):
    _db, app, _made = shop
    manager = signed_in(app, "ani")
    assert manager.get("/payments").status_code == 404
    page = manager.get("/sales")
    assert "Dewi Lestari" not in page.text
    refused = manager.post("/payments/upload", data={"csrf": "x"})
    assert refused.status_code == 403
    account = manager.post("/payments/account", data={"csrf": "x", "name": "X", "format": "bca"})
    assert account.status_code == 403
    assert BankAccount.select().bind(_db).count() == 0
    assert signed_in(app, "adi").get("/payments").status_code == 200


DATA = Path(__file__).parent / "data" / "statements"
# a bank's own CSV: an account block of two lines, ";" between columns, credit and debit
# columns with Indonesian numbers (1.234,00)
OWN_MAPPING = {
    "map_date": "Tgl Transaksi",
    "map_description": "Uraian",
    "map_amount": "",
    "map_credit": "Kredit",
    "map_debit": "Debet",
    "map_date_format": "%d-%m-%Y",
    "map_decimal_sep": ",",
    "map_thousands_sep": ".",
    "map_delimiter": ";",
    "map_header_row": "3",
}


def own_csv(*rows: tuple[str, int]) -> bytes:
    lines = ["Rekening;1234567890", "Periode;27-11-2026", "Tgl Transaksi;Uraian;Debet;Kredit"]
    lines += [
        f"27-11-2026;{text};0,00;{amount:,}".replace(",", ".") + ",00" for text, amount in rows
    ]
    return ("\n".join(lines) + "\n").encode()


def test_a_csv_account_is_saved_with_its_mapping_and_reused_on_every_upload(shop):
    db, app, made = shop
    dewi, budi = made["Dewi Lestari"], made["Budi Santoso"]
    client = signed_in(app, "sri")
    saved = save_account(client, "Bank Jatim 0011", "csv", **OWN_MAPPING)
    assert (
        saved.status_code == 303
        and saved.headers["location"] == "/payments?saved=Bank%20Jatim%200011"
    )
    row = BankAccount.select().bind(db).get()
    assert (row.name, row.format, row.updated_by) == ("Bank Jatim 0011", "csv", "sri")
    mapping = mapping_from_json(row.mapping)
    assert (mapping.credit, mapping.debit, mapping.delimiter, mapping.header_row) == (
        "Kredit",
        "Debet",
        ";",
        3,
    )
    edit = client.get("/payments?account=Bank%20Jatim%200011")
    assert 'value="Tgl Transaksi"' in edit.text and 'value="%d-%m-%Y"' in edit.text
    review = upload(client, own_csv(("TRF DEWI LESTARI", dewi.due)), "Bank Jatim 0011", "a.csv")
    assert review.status_code == 200 and f'value="{dewi.order_no}|' in review.text
    again = upload(client, own_csv(("TRF BUDI SANTOSO", budi.due)), "Bank Jatim 0011", "b.csv")
    assert again.status_code == 200 and f'value="{budi.order_no}|' in again.text
    audit = [
        (a.action, a.detail)
        for a in ConsoleAudit.select().where(ConsoleAudit.action.contains("bank account")).bind(db)
    ]
    assert audit[0][0] == "bank account added" and '"credit": "Kredit"' in audit[0][1]
    changed = save_account(client, "Bank Jatim 0011", "bca")
    assert changed.status_code == 303
    last = ConsoleAudit.select().order_by(ConsoleAudit.id.desc()).bind(db).first()
    assert last.action == "bank account changed" and "format csv -> bca" in last.detail


def test_an_account_form_that_cannot_be_saved_says_why(shop):
    db, app, _made = shop
    client = signed_in(app, "sri")
    answer = save_account(client, "X", "csv", map_date="", map_amount="Jumlah", map_credit="K")
    assert answer.status_code == 422
    assert "Name the column that holds the date" in answer.text
    assert "one amount column or a credit and a debit column" not in answer.text
    both = save_account(client, "X", "csv", map_credit="Kredit")
    assert both.status_code == 422 and "one amount column or a credit and a debit" in both.text
    unknown = save_account(client, "X", "qif")
    assert unknown.status_code == 422 and "format" in unknown.text
    assert BankAccount.select().bind(db).count() == 0


def test_a_mapping_that_cannot_read_the_file_names_the_missing_columns(shop):
    _db, app, _made = shop
    client = signed_in(app, "sri")
    answer = upload(client, b"Date,Text,Amount\n27/11/2026,X,1.00\n")
    assert answer.status_code == 422
    assert "line 1, Tanggal: no such column; the columns are Date, Text, Amount" in answer.text
    assert "line 1, Keterangan: no such column" in answer.text


def test_a_bca_account_reads_klikbca_and_refuses_another_format(shop):
    db, app, _made = shop
    client = signed_in(app, "sri")
    assert save_account(client, "BCA Jakarta", "bca").status_code == 303
    review = upload(client, (DATA / "bca_klikbca.csv").read_bytes(), "BCA Jakarta")
    assert review.status_code == 200
    assert 'data-line="7"' in review.text and "BUDI SANTOSO" in review.text
    kept = StatementLineRow.select().where(StatementLineRow.account == "BCA Jakarta").bind(db)
    assert sorted(row.amount for row in kept) == [-10_000, 80_456, 150_123, 150_789]
    camt = (DATA / "bca.camt053.xml").read_bytes()
    refused = upload(client, camt, "BCA Jakarta", "bca.xml")
    assert refused.status_code == 422
    assert "bca.xml is a CAMT.053 (ISO 20022 XML) statement, not a BCA export" in refused.text
    empty = upload(client, b"", "BCA Jakarta")
    assert empty.status_code == 422 and "the file is empty" in empty.text

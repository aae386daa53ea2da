"""The online orders' payments page (finance): a bank statement uploaded, its matches
reviewed and confirmed, a match made by hand, broken rows named by their line, an
upload repeated, and who may see and do it."""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from random import Random
from zoneinfo import ZoneInfo

import pytest
from starlette.testclient import TestClient

from fleet.config import ConsoleSettings, OrdersSettings
from fleet.console import accounts
from fleet.console.app import create_app
from fleet.console.pages.payments import PaymentsDesk
from fleet.models import Booking
from fleet.orders import desk as orders
from terminal.core.online_orders import DeadlineRule
from terminal.core.sealing import Sealer

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


def token(html: str) -> str:
    return re.search(r'name="csrf" value="([^"]*)"', html)[1]


def signed_in(app, name: str) -> TestClient:
    client = TestClient(app, base_url="https://testserver", follow_redirects=False)
    form = {
        "csrf": token(client.get("/login").text),
        "name": name,
        "password": PASSWORD,
        "code": "",
        "next": "/",
    }
    assert client.post("/login", data=form).status_code == 303
    return client


def statement(*rows: tuple[str, str, int]) -> bytes:
    lines = ["Tanggal,Keterangan,Jumlah"]
    lines += [f'{d},{text},"{amount:,}.00 CR"' for d, text, amount in rows]
    return ("\n".join(lines) + "\n").encode()


def upload(client, data: bytes, layout: str = "amount-cr-db"):
    page = client.get("/payments")
    return client.post(
        "/payments/upload",
        data={"csrf": token(page.text), "account": "BCA 1234567890", "layout": layout},
        files={"statement": ("mutasi.csv", data, "text/csv")},
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
    done = client.post("/payments/confirm", data={"csrf": token(review.text), "match": matched})
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
        "/payments/confirm", data={"csrf": token(review.text), f"line-{key}": budi.order_no}
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
    assert signed_in(app, "adi").get("/payments").status_code == 200

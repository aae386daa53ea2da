"""The console's stock page (issue 19): a store's stock on hand from the terminals'
journals (a delivery received at a terminal, sales, a refund not restocked), its cost by
moving average and the value at cost, a figure below zero flagged, the movements behind a
product's figure, the CSV equal to the page; a manager sees only their own stores."""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime

from starlette.testclient import TestClient

from fleet.config import ConsoleSettings
from fleet.console import accounts
from fleet.console.app import create_app
from fleet.db import connect, create_tables
from fleet.ingest import Ingest
from fleet.registry import register_terminal
from terminal.services.receiving import ReceivedLine
from terminal.store.journal import read_entries
from tests.fleet.conftest import batch, to_entry
from tests.fleet.console_client import csrf_of
from tests.fleet.console_client import signed_in as console_signed_in

PASSWORD = "a long pass phrase"
NOW = datetime(2026, 11, 23, 5, 0)
STORE = "Toko Demo Sejahtera"
TEA, AQUA = "8991002101111", "8993992000016"


def signed_in(app, name: str, **options) -> TestClient:
    return console_signed_in(app, name, PASSWORD, https=True, follow_redirects=False, **options)


def test_an_owner_sees_the_stores_stock_cost_and_the_movements_behind(terminal, tmp_path):
    pos = terminal.pos
    pos.sign_in("2", "2580")
    pos.receiving.receive([ReceivedLine(TEA, "24", 4_100)], supplier="PT Sinar Sosro")
    pos.sign_in("1", "1357")
    for code in (TEA, TEA, AQUA):  # the water was never received: below zero
        pos.scan(code)
    pos.pay_cash(50_000)
    db = connect(f"sqlite:///{tmp_path / 'fleet.db'}")
    create_tables(db)
    register_terminal(
        db, "T01", store=STORE, group="g", public_key_pem=pos.journal.public_key_pem()
    )
    Ingest(db).journal("T01", batch([to_entry(e) for e in read_entries(pos.db, decode=False)]))
    for name, role, stores in (("oki", "owner", None), ("ani", "manager", ["Bandung 2"])):
        accounts.add_account(
            db, name, role, PASSWORD, NOW, stores=stores, cost=accounts.FAST_TEST_COST
        )
    app = create_app(db, ConsoleSettings(), clock=lambda: NOW, cost=accounts.FAST_TEST_COST)

    owner = signed_in(app, "oki")
    page = owner.get("/stock").text
    tea = re.search(r'<tr data-sku="TEH-BTL" data-quantity="(-?\d+)"[^>]*>(.*?)</tr>', page, re.S)
    assert tea[1] == "22000" and "Rp 4.100" in tea[2] and "Rp 90.200" in tea[2]  # 22 x 4.100
    water = re.search(
        r'<tr data-sku="AQUA-600" data-quantity="(-?\d+)"[^>]*>(.*?)</tr>', page, re.S
    )
    assert water[1] == "-1000" and "data-negative" in water[2]
    behind = owner.get("/stock", params={"store": STORE, "sku": "TEH-BTL"}).text
    assert re.findall(r'<tr data-kind="(\w+)">', behind) == ["receiving", "sale", "sale"]
    rows = list(csv.DictReader(io.StringIO(owner.get("/stock.csv", params={"store": STORE}).text)))
    assert {(r["sku"], r["on_hand"], r["unit_cost"], r["value"]) for r in rows} == {
        ("TEH-BTL", "22", "4100", "90200"),
        ("AQUA-600", "-1", "", ""),
    }
    manager = signed_in(app, "ani")
    assert manager.get("/stock", params={"store": STORE}).status_code == 404
    assert "TEH-BTL" not in manager.get("/stock").text


def test_minimums_list_low_stock_with_what_to_reorder_and_sales_now_says_so(terminal, tmp_path):
    """An owner sets minimums; the products below theirs are listed
    with the suggested order (twice the minimum plus a week of sales, less the stock), as
    CSV too; "Sales now" counts them; a manager may look but not set; bad input is
    refused with the reason and changes nothing."""
    pos = terminal.pos
    pos.sign_in("2", "2580")
    pos.receiving.receive([ReceivedLine(TEA, "24", 4_100), ReceivedLine(AQUA, "5", 2_000)])
    pos.sign_in("1", "1357")
    pos.scan(TEA)
    pos.scan(TEA)
    pos.pay_cash(50_000)
    db = connect(f"sqlite:///{tmp_path / 'fleet.db'}")
    create_tables(db)
    register_terminal(
        db, "T01", store=STORE, group="g", public_key_pem=pos.journal.public_key_pem()
    )
    Ingest(db).journal("T01", batch([to_entry(e) for e in read_entries(pos.db, decode=False)]))
    for name, role, stores in (("oki", "owner", None), ("ani", "manager", [STORE])):
        accounts.add_account(
            db, name, role, PASSWORD, NOW, stores=stores, cost=accounts.FAST_TEST_COST
        )
    app = create_app(db, ConsoleSettings(), clock=lambda: NOW, cost=accounts.FAST_TEST_COST)
    owner = signed_in(app, "oki")
    token = csrf_of(owner.get("/stock").text)

    def set_minimum(client, product, minimum):
        return client.post(
            "/stock/minimum",
            data={"csrf": token, "store": STORE, "product": product, "minimum": minimum},
        )

    assert set_minimum(owner, "TEH-BTL", "30").status_code == 303  # 22 on hand: low
    assert set_minimum(owner, "AQUA-600", "2,5").status_code == 303  # 5 on hand: fine
    page = owner.get("/stock", params={"store": STORE}).text
    assert re.search(r'data-low-count="(\d+)"', page)[1] == "1"
    low = re.search(r"<table data-low>.*?</table>", page, re.S)[0]
    assert 'data-sku="TEH-BTL"' in low and "AQUA-600" not in low
    assert re.search(r"data-reorder>([\d.,]+)<", low)[1] == "38"  # 2 x 30 + 0 - 22
    water = re.search(r'<tr data-sku="AQUA-600".*?</tr>', page, re.S)[0]
    assert re.search(r"data-minimum>([^<]+)<", water)[1] == "2.5"
    rows = list(csv.DictReader(io.StringIO(owner.get(f"/stock/reorder.csv?store={STORE}").text)))
    assert [(r["sku"], r["on_hand"], r["minimum"], r["reorder"]) for r in rows] == [
        ("TEH-BTL", "22", "30", "38")
    ]
    assert 'data-low-stock="1"' in owner.get("/sales").text

    # refused, with the reason; nothing changes
    for product, minimum, reason in (
        ("NO-SUCH", "5", "no product has this SKU or barcode"),
        ("TEH-BTL", "-1", "a quantity from 0 to 100.000"),
        ("TEH-BTL", "lots", "a quantity from 0 to 100.000"),
    ):
        answer = set_minimum(owner, product, minimum)
        assert answer.status_code == 422 and reason in answer.text
    manager = signed_in(app, "ani")
    assert "data-set-minimum" not in manager.get("/stock").text  # looks, may not set
    refused = manager.post(
        "/stock/minimum", data={"csrf": token, "store": STORE, "product": "TEH-BTL", "minimum": "0"}
    )
    assert refused.status_code == 403
    assert 'data-low-stock="1"' in manager.get("/sales").text
    # cleared with 0: low no more
    assert set_minimum(owner, "TEH-BTL", "0").status_code == 303
    assert "data-low-count" not in owner.get("/stock", params={"store": STORE}).text
    assert "data-low-stock" not in owner.get("/sales").text

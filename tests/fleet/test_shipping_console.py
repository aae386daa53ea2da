"""The console's Shipping page: the sold bookings with their courier and airway bill, an
AWB typed (a good one kept and audited, one of another form refused and nothing kept),
the unprinted labels printed as a PDF and then none left unprinted, a reprint marked,
and the page only where online orders are on, for the roles that ship."""

from __future__ import annotations

from datetime import datetime

import pypdfium2 as pdfium
import pytest
from starlette.testclient import TestClient

from fleet.config import ConsoleSettings, OrdersSettings
from fleet.console import accounts
from fleet.console.app import create_app
from fleet.console.pages.payments import PaymentsDesk
from fleet.models import Booking, ConsoleAudit, Shipment
from tests.fleet.console_client import csrf_of
from tests.fleet.console_client import signed_in as console_signed_in
from tests.fleet.test_shipping import fleet, shipment, sold

NOW = datetime(2026, 11, 27, 5, 0)
PASSWORD = "correct horse battery"
SETTINGS = OrdersSettings(
    enabled=True,
    origin_name="Toko Teh Sejahtera",
    origin_phone="021-5550123",
    origin_address="Jl. Gudang 1",
    origin_postal_code="10110",
)


@pytest.fixture
def shop(tmp_path):
    db, sealer = fleet(tmp_path)
    made = [sold(db, sealer, courier=c, seed=i) for i, c in enumerate(("jne", "jnt", ""), 1)]
    for name, role in (("wati", "warehouse"), ("sri", "finance"), ("adi", "admin")):
        accounts.add_account(db, name, role, PASSWORD, NOW, cost=accounts.FAST_TEST_COST)
    app = create_app(
        db,
        ConsoleSettings(),
        clock=lambda: NOW,
        cost=accounts.FAST_TEST_COST,
        payments_desk=PaymentsDesk(sealer, SETTINGS),
    )
    yield db, app, made
    db.close()


def signed_in(app, name: str, **options) -> TestClient:
    return console_signed_in(app, name, PASSWORD, https=True, follow_redirects=False, **options)


def audits(db, action: str) -> list[str]:
    rows = ConsoleAudit.select().where(ConsoleAudit.action == action).bind(db)
    return [r.detail for r in rows]


def test_the_warehouse_types_an_awb_and_a_wrong_one_is_refused(shop):
    db, app, (jne, _jnt, later) = shop
    client = signed_in(app, "wati")
    page = client.get("/shipping")
    assert page.status_code == 200 and jne in page.text and "Dewi Lestari" in page.text
    assert f'data-order="{later}" data-awb-state="waiting"' in page.text
    csrf = csrf_of(page.text)
    bad = client.post(
        "/shipping/awb", data={"csrf": csrf, "order": later, "courier": "sicepat", "awb": "12"}
    )
    assert bad.status_code == 422
    assert "12 is not a SiCepat airway bill: expected 12 digits" in bad.text
    assert shipment(db, later).awb == "" and audits(db, "airway bill typed") == []
    good = client.post(
        "/shipping/awb",
        data={"csrf": csrf, "order": later, "courier": "sicepat", "awb": "002927168687"},
    )
    assert good.status_code == 303 and good.headers["location"] == f"/shipping?typed={later}"
    row = shipment(db, later)
    assert (row.courier, row.awb, row.awb_state, row.awb_by) == (
        "sicepat",
        "002927168687",
        "typed",
        "wati",
    )
    assert audits(db, "airway bill typed") == [f"{later}: sicepat 002927168687"]
    assert "002927168687" in client.get(f"/shipping?typed={later}").text


def test_unprinted_labels_print_once_and_a_reprint_is_marked(shop):
    db, app, (jne, jnt, later) = shop
    client = signed_in(app, "wati")
    csrf = csrf_of(client.get("/shipping").text)
    pdf = client.post(
        "/shipping/labels", data={"csrf": csrf, "what": "unprinted", "layout": "a4-2x5"}
    )
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = pdfium.PdfDocument(pdf.content)[0].get_textpage().get_text_range()
    assert all(order in text for order in (jne, jnt, later)) and "REPRINT" not in text
    assert "Toko Teh Sejahtera" in text and "J&T Express" in text
    assert {shipment(db, o).label_prints for o in (jne, jnt, later)} == {1}
    again = client.post(
        "/shipping/labels", data={"csrf": csrf, "what": "unprinted", "layout": "100x150"}
    )
    assert again.status_code == 409 and "No label waits for printing" in again.text
    reprint = client.post(
        "/shipping/labels",
        data={"csrf": csrf, "what": "reprint", "layout": "100x150", "order": [jnt]},
    )
    doc = pdfium.PdfDocument(reprint.content)
    text = doc[0].get_textpage().get_text_range()
    assert len(doc) == 1 and jnt in text and "REPRINT" in text
    assert shipment(db, jnt).label_prints == 2 and shipment(db, jne).label_prints == 1
    assert f'data-order="{jnt}" data-awb-state="waiting" data-prints="2"' in (
        client.get("/shipping").text
    )
    printed = audits(db, "labels printed")
    assert len(printed) == 2 and printed[1] == f"100x150: {jnt} (reprint)"
    assert not any("Dewi" in detail for detail in printed)  # order numbers only
    bad = client.post("/shipping/labels", data={"csrf": csrf, "what": "x", "layout": "a5"})
    assert bad.status_code == 422


def test_shipping_is_for_the_warehouse_and_admins_and_only_with_online_orders(shop, tmp_path):
    db, app, _made = shop
    finance = signed_in(app, "sri")
    assert finance.get("/shipping").status_code == 404
    assert finance.post("/shipping/labels", data={"csrf": "x"}).status_code == 403
    assert signed_in(app, "adi").get("/shipping").status_code == 200
    off = create_app(db, ConsoleSettings(), clock=lambda: NOW, cost=accounts.FAST_TEST_COST)
    assert signed_in(off, "wati").get("/shipping").status_code == 404


def test_labels_that_cannot_be_drawn_stay_unprinted(shop):
    """A customer that cannot be opened (a booking sealed with another key) fails the
    PDF: nothing is marked printed, so the next print still has every label."""
    db, app, made = shop
    client = signed_in(app, "wati", raise_server_exceptions=False)
    csrf = csrf_of(client.get("/shipping").text)
    broken = Booking.update(customer=b"sealed with another key")
    broken.where(Booking.order_no == made[0]).execute(db)
    failed = client.post(
        "/shipping/labels", data={"csrf": csrf, "what": "unprinted", "layout": "a4-2x5"}
    )
    assert failed.status_code == 500
    unprinted = Shipment.select().where(Shipment.label_prints == 0).bind(db).count()
    assert unprinted == len(made)

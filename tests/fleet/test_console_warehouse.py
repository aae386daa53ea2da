"""The warehouse's page (online orders): a scan hands the oldest drop order over, a
chosen one, takes an item back; unknown codes, nothing waiting, a form sent twice and an
out-of-date form are refused with a clear message and move nothing; the stock and the
moves shown; who may see and scan."""

from __future__ import annotations

import os
import re
import secrets
import threading
from datetime import UTC, datetime, timedelta
from random import Random
from zoneinfo import ZoneInfo

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from starlette.testclient import TestClient

from fleet.config import ConsoleSettings, OrdersSettings
from fleet.console import accounts
from fleet.console.app import create_app
from fleet.console.pages.payments import PaymentsDesk
from fleet.console.pages.warehouse import scan as warehouse_scan
from fleet.db import connect, create_tables
from fleet.models import ConfigDocument, ConsoleAudit, DropOrder, StockMove
from fleet.orders import desk as orders
from fleet.orders.reconcile import upload
from fleet.orders.statements import StatementLine
from terminal.core import signed_config as sc
from terminal.core.online_orders import DeadlineRule
from terminal.core.sealing import Sealer
from tests.fleet.console_client import signed_in as console_signed_in

JAKARTA = ZoneInfo("Asia/Jakarta")
NOW = datetime(2026, 11, 27, 5, 0)  # 12:00 in Jakarta (UTC, as the console's clock)
PASSWORD = "correct horse battery"
RULES = orders.DeskRules(DeadlineRule.parse("17:00"), JAKARTA)
TEA, TEA_CODE = "TEH-BTL", "8991002101111"


def _utc(minutes_before: int) -> datetime:
    return (NOW - timedelta(minutes=minutes_before)).replace(tzinfo=UTC)


def sign_catalogue(db) -> None:
    """A signed fleet document naming the products (the page shows their names)."""
    document = {"products": [{"sku": TEA, "name": "Teh Botol Sosro", "barcodes": [TEA_CODE]}]}
    scope = sc.Scope("fleet")
    payload = sc.config_payload(scope, 1, NOW.replace(tzinfo=UTC), _utc(-60 * 24), document)
    envelope = sc.sign(Ed25519PrivateKey.generate(), payload)
    ConfigDocument.insert(
        scope="fleet", version=1, envelope=envelope.decode(), sha256="0" * 64, key_id="k",
        created_at=NOW,
    ).execute(db)  # fmt: skip


@pytest.fixture(scope="module")
def shop(tmp_path_factory):
    db = connect(f"sqlite:///{tmp_path_factory.mktemp('warehouse') / 'fleet.db'}")
    create_tables(db)
    sign_catalogue(db)
    for name, role, stores in (
        ("wati", "warehouse", None),
        ("ani", "manager", ["Jakarta 1"]),
        ("sri", "finance", None),
        ("adi", "admin", None),
    ):
        accounts.add_account(
            db, name, role, PASSWORD, NOW, stores=stores, cost=accounts.FAST_TEST_COST
        )
    settings = OrdersSettings(enabled=True, warehouses=["WH", "WH2"])
    app = create_app(
        db,
        ConsoleSettings(),
        clock=lambda: NOW,
        cost=accounts.FAST_TEST_COST,
        payments_desk=PaymentsDesk(Sealer(os.urandom(32)), settings),
    )
    yield db, app
    db.close()


def token(html: str, name: str = "csrf") -> str:
    return re.search(rf'name="{name}" value="([^"]*)"', html)[1]


def signed_in(app, name: str, **options) -> TestClient:
    return console_signed_in(app, name, PASSWORD, https=True, follow_redirects=False, **options)


@pytest.fixture(scope="module")
def wati(shop):
    return signed_in(shop[1], "wati")


def scan(client, code: str, *, mode: str = "hand", drop: int | None = None, page=None):
    """A scan as the page's form sends it (the form's nonce: ``page``'s, else a new one)."""
    page = page or client.get("/warehouse" + (f"?drop={drop}" if drop else ""))
    form = {"csrf": token(page.text), "nonce": token(page.text, "nonce"), "mode": mode}
    form["code"] = code
    if drop:
        form["drop"] = str(drop)
    return client.post("/warehouse/scan?wh=WH", data=form)


def outcome(answer) -> tuple[str, str]:
    found = re.search(r'data-outcome="([a-z]+)">([^<]*)</p>', answer.text)
    return found[1], found[2]


def waiting(html: str) -> list[str]:
    section = html.split("data-requests", 1)[1].split("</table>", 1)[0]
    return re.findall(r'<tr data-drop="(\d+)">', section)


def test_requests_show_oldest_first_and_a_scan_hands_over_the_oldest(shop, wati):
    db, _app = shop
    orders.receive(db, TEA, "WH", 3, _utc(120), "wh")
    later = orders.request_drop(db, "Bandung", "WH", TEA, _utc(5), "cs2")
    older = orders.request_drop(db, "Jakarta 1", "WH", TEA, _utc(90), "cs1")
    page = wati.get("/warehouse")
    assert page.status_code == 200
    assert waiting(page.text) == [str(older), str(later)]
    row = re.search(rf'<tr data-drop="{older}">(.*?)</tr>', page.text)[1]
    assert "Jakarta 1" in row and "TEH-BTL · Teh Botol Sosro" in row and "1 h 30 min" in row
    assert "autofocus" in page.text and "data-scan" in page.text
    # the scanner types the product's barcode: the oldest request is handed over
    answer = scan(wati, TEA_CODE, page=page)
    assert answer.status_code == 200
    assert outcome(answer) == (
        "handed",
        f"Handed over drop order {older} (TEH-BTL) to desk Jakarta 1",
    )
    assert waiting(answer.text) == [str(later)]
    assert orders.stock(db, TEA, "WH")[0] == 2 and orders.stock(db, TEA, "Jakarta 1")[0] == 1
    # the stock and the move are on the page the answer shows
    assert re.search(r'data-stock-row="TEH-BTL\|Jakarta 1">.*?<td class="num">1</td>', answer.text)
    move = StockMove.select().where(StockMove.ref == f"drop:{older}").bind(db).first()
    assert f'data-move="{move.id}"' in answer.text
    audit = ConsoleAudit.select().where(ConsoleAudit.action == "drop handed over").bind(db).get()
    assert (
        audit.account == "wati" and f"drop order {older} TEH-BTL: WH -> Jakarta 1" in audit.detail
    )


def test_a_form_sent_twice_hands_over_once(shop, wati):
    db, _app = shop
    orders.receive(db, "KOPI", "WH", 5, _utc(120), "wh")
    first = orders.request_drop(db, "Jakarta 1", "WH", "KOPI", _utc(30), "cs1")
    second = orders.request_drop(db, "Jakarta 1", "WH", "KOPI", _utc(20), "cs1")
    page = wati.get("/warehouse")
    assert outcome(scan(wati, "KOPI", page=page))[0] == "handed"
    again = scan(wati, "KOPI", page=page)  # the same form: a double Enter, a reload
    assert again.status_code == 200
    assert outcome(again) == (
        "again",
        f"This scan was done already (drop order {first}): nothing done again",
    )
    states = {d.id: d.state for d in DropOrder.select().where(DropOrder.sku == "KOPI").bind(db)}
    assert states == {first: "handed", second: "requested"}
    assert orders.stock(db, "KOPI", "WH")[0] == 4


def test_refusals_say_why_and_move_nothing(shop, wati):
    db, _app = shop
    moves = StockMove.select().count(db)
    unknown = scan(wati, "NO-SUCH-THING")
    assert unknown.status_code == 422
    assert outcome(unknown) == ("unknown", "Unknown code NO-SUCH-THING")
    orders.receive(db, "GULA", "WH", 1, _utc(60), "wh")  # known, nothing asked for
    nothing = scan(wati, "GULA")
    assert nothing.status_code == 409
    assert outcome(nothing) == ("none", "No open drop order for GULA")
    empty = scan(wati, "   ")
    assert empty.status_code == 422 and outcome(empty)[0] == "empty"
    page = wati.get("/warehouse")
    stale = wati.post(
        "/warehouse/scan?wh=WH",
        data={"csrf": token(page.text), "nonce": "x", "code": "GULA", "mode": "hand"},
    )
    assert stale.status_code == 400 and outcome(stale)[0] == "stale"
    # asked for, but none in stock: the desk's refusal, said
    dry = orders.request_drop(db, "Bandung", "WH", "GARAM", _utc(10), "cs2")
    refused = scan(wati, "GARAM")
    assert refused.status_code == 409
    assert outcome(refused) == ("refused", "GARAM: none available in WH")
    assert DropOrder.select().where(DropOrder.id == dry).bind(db).get().state == "requested"
    assert StockMove.select().count(db) == moves + 1  # only GULA's delivery
    # the wrong item scanned for a chosen drop order
    wrong = scan(wati, "GULA", drop=dry)
    assert wrong.status_code == 409
    assert outcome(wrong) == ("refused", f"Scanned GULA, but drop order {dry} asks for GARAM")
    assert f'data-chosen="{dry}"' in wrong.text  # still chosen: scan the right item


def test_a_chosen_drop_order_is_handed_over_not_the_oldest(shop, wati):
    db, _app = shop
    orders.receive(db, "SUSU", "WH", 2, _utc(120), "wh")
    oldest = orders.request_drop(db, "Jakarta 1", "WH", "SUSU", _utc(50), "cs1")
    chosen = orders.request_drop(db, "Bandung", "WH", "SUSU", _utc(10), "cs2")
    page = wati.get(f"/warehouse?drop={chosen}")
    assert f'data-chosen="{chosen}"' in page.text
    answer = scan(wati, "SUSU", drop=chosen, page=page)
    assert outcome(answer) == ("handed", f"Handed over drop order {chosen} (SUSU) to desk Bandung")
    assert str(oldest) in waiting(answer.text) and str(chosen) not in waiting(answer.text)


def test_take_back_finds_the_cancelled_bookings_drop_order(shop, wati):
    db, _app = shop
    sku = "MADU"
    orders.receive(db, sku, "WH", 2, _utc(300), "wh")
    kept = orders.request_drop(db, "Jakarta 1", "WH", sku, _utc(200), "cs1")
    back = orders.request_drop(db, "Jakarta 1", "WH", sku, _utc(190), "cs1")
    for drop in (kept, back):
        orders.hand_over(db, drop, sku, _utc(180), "wati")
    bookings = [
        orders.book(
            db,
            Sealer(os.urandom(32)),
            desk="Jakarta 1",
            sku=sku,
            price=75_000,
            customer=orders.Customer("Dewi", "", "Jl. 1"),
            rules=RULES,
            series="T01",
            at=_utc(170 - i),
            actor="cs1",
            rng=Random(i),
            drop_order=drop,
        )
        for i, drop in enumerate((kept, back))
    ]
    orders.cancel(db, bookings[1].order_no, _utc(60), "cs1")  # its item comes back
    page = wati.get("/warehouse?mode=take")
    assert 'name="mode" value="take"' in page.text
    assert (
        f'mode=take&amp;drop={back}"' in page.text
        and f'mode=take&amp;drop={kept}"' not in page.text
    )
    answer = scan(wati, sku, mode="take", page=page)
    assert outcome(answer) == ("taken", f"Took back MADU of drop order {back} from desk Jakarta 1")
    assert DropOrder.select().where(DropOrder.id == back).bind(db).get().state == "returned"
    assert orders.stock(db, sku, "WH")[0] == 1 and orders.stock(db, sku, "Jakarta 1") == (0, 1, 0)
    assert 'name="mode" value="take"' in answer.text  # still taking back
    nothing = scan(wati, sku, mode="take")  # the other's booking holds its item
    assert outcome(nothing) == ("none", "No item of MADU to take back")
    audit = ConsoleAudit.select().where(ConsoleAudit.action == "drop taken back").bind(db).get()
    assert f"drop order {back} MADU: Jakarta 1 -> WH" in audit.detail
    # the other's item is at the desk, booked (no take back offered); sold, it is gone
    assert f'<tr data-out-drop="{kept}">' in nothing.text
    line = StatementLine(1, NOW.date(), bookings[0].due, "TRSF CR", key="madu-line")
    upload(db, "BCA", [line], _utc(30))
    orders.confirm_payment(db, bookings[0].order_no, "madu-line", _utc(20), "sri")
    orders.sold(db, bookings[0].order_no, "T01-000009", _utc(10), "T01")
    assert f'<tr data-out-drop="{kept}">' not in wati.get("/warehouse").text


def test_moves_filtered_by_sku_and_another_warehouse(shop, wati):
    db, _app = shop
    orders.receive(db, "BERAS", "WH2", 4, _utc(30), "wh")
    page = wati.get("/warehouse?sku=BERAS")
    ids = re.findall(r'data-move="(\d+)"', page.text)
    skus = {m.sku for m in StockMove.select().where(StockMove.id.in_(ids)).bind(db)}
    assert ids and skus == {"BERAS"}
    assert re.findall(r'data-stock-row="([^"]+)"', page.text) == ["BERAS|WH2"]
    other = wati.get("/warehouse?wh=WH2")
    assert other.status_code == 200 and waiting(other.text) == []
    assert wati.get("/warehouse?wh=NOWHERE").status_code == 404


def test_who_may_see_and_scan(shop):
    _db, app = shop
    manager = signed_in(app, "ani")
    assert manager.get("/warehouse").status_code == 404
    assert manager.post("/warehouse/scan", data={"csrf": "x", "code": TEA}).status_code == 403
    assert signed_in(app, "sri").get("/warehouse").status_code == 404
    admin = signed_in(app, "adi")
    assert admin.get("/warehouse").status_code == 200
    nav = admin.get("/warehouse").text
    assert 'href="/warehouse" aria-current="page"' in nav
    wati = signed_in(app, "wati")
    assert wati.get("/online").status_code == 404  # the reports are not the warehouse's


def test_no_such_page_where_online_orders_are_off(shop):
    db, _app = shop
    off = create_app(db, ConsoleSettings(), clock=lambda: NOW, cost=accounts.FAST_TEST_COST)
    admin = signed_in(off, "adi")
    assert admin.get("/warehouse").status_code == 404
    assert admin.get("/online").status_code == 404
    page = admin.get("/sales").text
    assert 'href="/warehouse"' not in page and 'href="/online"' not in page
    assert admin.post("/warehouse/scan", data={"csrf": token(page), "code": TEA}).status_code == 404


def test_two_scans_of_the_last_request_at_once_hand_it_over_once(fleet_url, fleet_db):
    """Two warehouse people scan the same product at the same moment (two tabs, two
    scanners), each on its own connection, on each backend: one hand-over, one
    "nothing waiting", one unit moved."""
    orders.receive(fleet_db, "TEH-BTL", "WH", 5, NOW, "wh")
    drop = orders.request_drop(fleet_db, "Jakarta 1", "WH", "TEH-BTL", NOW, "cs1")
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def scanner(name: str) -> None:
        db = connect(fleet_url)
        try:
            start.wait()
            done = warehouse_scan(
                db,
                warehouse="WH",
                code="TEH-BTL",
                mode="hand",
                nonce=secrets.token_hex(16),
                chosen=None,
                at=NOW.replace(tzinfo=None),
                actor=name,
                address="127.0.0.1",
            )
            outcomes.append(done.kind)
        finally:
            db.close()

    threads = [threading.Thread(target=scanner, args=(n,)) for n in ("wati", "joko")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    # the other: nothing left to hand over (found after the first), or refused by the
    # desk's own check (found before it, moved after it): never a second hand-over
    assert len(outcomes) == 2 and outcomes.count("handed") == 1, outcomes
    assert set(outcomes) - {"handed"} <= {"none", "refused"}, outcomes
    row = DropOrder.select().where(DropOrder.id == drop).bind(fleet_db).get()
    assert row.state == "handed"
    assert orders.stock(fleet_db, "TEH-BTL", "WH") == (4, 0, 0)
    assert orders.stock(fleet_db, "TEH-BTL", "Jakarta 1") == (1, 0, 0)

"""The online-orders mode in the real window (Xvfb), from the keyboard as a CS person at a
desk uses it: F4, book the item that came (the slip prints), then sell the booking once
its transfer is confirmed at the fleet. The fleet's order desk runs in this process on a
SQLite database (``tests.online_desk``); its calls go through the window's worker, as on
the terminal. Screenshots go to ``docs/screenshots/online/`` with ONLINE_SCREENSHOTS=1
(``make online-screenshots``), else to the test's directory; look at them."""

from __future__ import annotations

import dataclasses
import os

import pytest

from fleet.models import Booking
from fleet.orders import desk as orders
from fleet.orders.reconcile import upload
from fleet.orders.statements import LAYOUTS, read_csv
from hal.printer.preview import BarcodeMark, interpret
from terminal.config import OnlineOrderSettings
from terminal.services.bootstrap import build_terminal
from terminal.services.online_orders import OnlineOrders
from terminal.store.cashiers import FAST_TEST_PARAMS
from tests.conftest import ROOT, with_open_shift
from tests.online_desk import STORE, LocalOrdersClient, local_desk
from tests.ui.test_cash_sale_ui import sign_in

pytestmark = pytest.mark.ui

TEA = "8991002101111"  # Teh Botol Sosro, Rp 5.500
ADDRESS = "Jl. Melati 5, Menteng, Jakarta Pusat 10310"


@pytest.fixture
def settings(settings):
    return dataclasses.replace(
        settings, online_orders=OnlineOrderSettings(enabled=True, code_tax_class="EXEMPT")
    )


@pytest.fixture
def terminal(settings, clock, tmp_path):
    built = with_open_shift(build_terminal(settings, clock=clock, pin_params=FAST_TEST_PARAMS))
    pos = built.pos
    db, desk = local_desk(tmp_path, clock, pos.journal.public_key_pem())
    pos.online = OnlineOrders(pos, client=LocalOrdersClient(desk, "T01"))
    built.fleet_db = db
    return built


def shots(tmp_path):
    if os.environ.get("ONLINE_SCREENSHOTS"):
        folder = ROOT / "docs" / "screenshots" / "online"
    else:
        folder = tmp_path / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def panel(root):
    """The newest prompt over the screen (a menu, an entry, lines shown), or None."""
    return root.panels[-1] if root.panels else None


def test_cs_books_an_item_from_the_keyboard_and_sells_it_once_paid(app, terminal, clock, tmp_path):
    root, ui = app
    pos, db = terminal.pos, terminal.fleet_db
    folder = shots(tmp_path)
    orders.receive(db, "TEH-BTL", STORE, 1, clock(), "wh")
    sign_in(root, ui)
    sale = root.get_screen("sale")
    ui.key("f4")
    ui.wait_until(lambda: panel(root) is not None, "the online-orders menu")
    assert panel(root).title == "Online orders"
    ui.screenshot(folder / "menu.png")
    ui.type("2")  # book an item for a customer
    ui.scan(TEA)
    for answer in ("Dewi Lestari", "0812 3456 7890", ADDRESS):
        ui.type(answer)
        ui.key("enter")
        print(
            "P3",
            panel(root) and panel(root).title,
            sale.message,
            panel(root) and panel(root).message,
        )
    ui.type("1")  # JNE
    ui.wait_until(lambda: panel(root).title == "Book this item?", "the booking to confirm")
    ui.screenshot(folder / "book-confirm.png")
    ui.key("f12")  # the pay key takes the action shown: book and print
    ui.frames(3)
    row = Booking.select().bind(db).get()
    ui.wait_until(lambda: panel(root).title.startswith(f"Booked {row.order_no}"), "booked")
    ui.screenshot(folder / "booked.png")
    ui.key("f12")  # done
    slip = interpret(pos.printer.jobs[-1][1])
    assert [m.data for m in slip.of(BarcodeMark)] == [row.order_no]
    assert "Dewi Lestari" in slip.lines
    assert orders.stock(db, "TEH-BTL", STORE) == (0, 1, 0)

    # finance confirms the transfer at the fleet; the desk sells it
    text = f'Tanggal,Keterangan,Jumlah\n23/11/2026,TRSF DEWI LESTARI,"{row.due:,}.00 CR"\n'
    lines = read_csv(text, LAYOUTS["amount-cr-db"])
    upload(db, "BCA", lines, clock())
    orders.confirm_payment(db, row.order_no, lines[0].key, clock(), "finance.sri")
    ui.key("f4")
    ui.wait_until(lambda: panel(root) is not None, "the online-orders menu")
    ui.type("4")  # paid bookings: sell
    ui.wait_until(lambda: panel(root).title == "Paid bookings: which one to sell?", "paid list")
    ui.screenshot(folder / "paid.png")
    ui.type("1")
    ui.wait_until(lambda: sale.last_name.startswith("Sold"), "the sale done")
    assert sale.last_name == f"Sold {row.order_no}, by transfer"
    assert sale.last_amount == pos.currency.format(row.due)
    ui.screenshot(folder / "sold.png")
    assert sale.message == "Receipt printed"
    receipt = "\n".join(interpret(pos.printer.jobs[-1][1]).lines)
    assert row.order_no in receipt

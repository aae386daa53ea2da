"""A CS desk's online-orders mode (the menu flow, no window): a scripted CS person at a
real terminal (encrypted database, journal, simulated printer) whose calls go to the
fleet's real order desk on a SQLite fleet database in this process. What is asked, what
is said, what prints, and what the fleet holds afterwards."""

from __future__ import annotations

import dataclasses

import pytest

from fleet.ingest import Ingest
from fleet.models import Booking, DropOrder, Shipment
from fleet.orders import desk as orders
from fleet.orders.reconcile import upload
from fleet.orders.statements import LAYOUTS, read_csv
from hal.printer.preview import BarcodeMark, interpret
from terminal.config import OnlineOrderSettings
from terminal.services.bootstrap import build_terminal
from terminal.services.online_orders import OnlineOrders
from terminal.store.cashiers import FAST_TEST_PARAMS
from terminal.store.journal import read_entries
from terminal.ui.online_orders_menu import OnlineOrdersMenu
from terminal.ui.receiving_menu import ReceivingMenu, WriteOffMenu
from tests.conftest import with_open_shift
from tests.fleet.conftest import batch, to_entry
from tests.online_desk import STORE, LocalOrdersClient, local_desk
from tests.ui.test_menu_flows import ScriptedAsker, Shown

TEA = "8991002101111"  # Teh Botol Sosro, Rp 5.500
ADDRESS = "Jl. Melati 5, Menteng, Jakarta Pusat 10310"


@pytest.fixture
def shop(settings, clock, tmp_path):
    """A CS desk's terminal (T01, Sari signed in, the shift open) and the fleet's desk."""
    settings = dataclasses.replace(
        settings, online_orders=OnlineOrderSettings(enabled=True, code_tax_class="EXEMPT")
    )
    built = with_open_shift(build_terminal(settings, clock=clock, pin_params=FAST_TEST_PARAMS))
    pos = built.pos
    db, desk = local_desk(tmp_path, clock, pos.journal.public_key_pem())
    client = LocalOrdersClient(desk, "T01")
    pos.online = OnlineOrders(pos, client=client)
    pos.sign_in("1", "1357")
    return pos, db, desk, client


def menu(pos, *answers):
    ask = ScriptedAsker(pos, *answers)
    sold = []
    return OnlineOrdersMenu(pos, ask, on_sold=sold.append), ask, sold


def book(pos, *, courier="jne", phone="0812-3456-7890"):
    flow, ask, _sold = menu(pos, "book", TEA, "Dewi Lestari", phone, ADDRESS, courier, Shown.TAKE)
    flow.open()
    return ask


def test_stock_is_checked_and_a_drop_order_sent_to_the_warehouse(shop, clock):
    pos, db, _desk, _client = shop
    orders.receive(db, "TEH-BTL", "WH", 4, clock(), "wh")
    flow, ask, _ = menu(pos, "stock", "4006381333931", TEA, Shown.TAKE)
    flow.open()
    # an unknown code is said in the entry, which waits for the next scan
    entry = ask.asked[1]
    assert entry.problems == ["Unknown code 4006381333931: nothing added"]
    shown = ask.asked[2]
    assert shown.title.startswith("TEH-BTL  Teh Botol Sosro")
    assert shown.flags["lines"] == [
        f"{STORE}: 0 available, 0 booked, 0 out",
        "WH: 4 available, 0 booked, 0 out",
    ]
    assert shown.flags["action"] == "Drop order to the warehouse"
    drop = DropOrder.select().bind(db).get()
    assert (drop.sku, drop.desk, drop.state) == ("TEH-BTL", STORE, "requested")
    assert ask.said == [(f"Drop order {drop.id} sent to the warehouse", False)]


def test_a_booking_asks_the_customer_prints_the_slip_and_holds_the_unit(shop, clock):
    pos, db, _desk, _client = shop
    orders.receive(db, "TEH-BTL", STORE, 1, clock(), "wh")
    ask = book(pos)
    titles = [a.title for a in ask.asked]
    assert titles[:6] == [
        "Online orders",
        "Book: scan the item you received",
        "Customer's name",
        "Customer's phone (WhatsApp)",
        "Shipping address",
        "Courier",
    ]
    row = Booking.select().bind(db).get()
    assert ask.asked[-1].title == f"Booked {row.order_no}: stick the slip on the item"
    lines = ask.asked[-1].flags["lines"]
    assert lines[0] == f"Booking {row.order_no}: waiting for the transfer"
    due = pos.currency.format(row.due)
    assert lines[2] == f"Transfer exactly {due} by 23-11-2026 17:00"
    assert "Customer: Dewi Lestari" in lines and f"Address: {ADDRESS}" in lines
    slip = interpret(pos.printer.jobs[-1][1])
    assert [m.data for m in slip.of(BarcodeMark)] == [row.order_no]
    assert "Dewi Lestari" in slip.lines and any("Jl. Melati 5" in li for li in slip.lines)
    assert orders.stock(db, "TEH-BTL", STORE) == (0, 1, 0)


def test_a_short_address_or_a_wrong_phone_is_asked_again(shop, clock):
    pos, db, _desk, _client = shop
    orders.receive(db, "TEH-BTL", STORE, 1, clock(), "wh")
    flow, ask, _ = menu(pos, "book", TEA, "", "Dewi", "12", "", "Jl. X", ADDRESS, "jne", Shown.BACK)
    flow.open()
    by_title = {a.title: a for a in ask.asked}
    assert by_title["Customer's name"].problems == ["The customer's name, please"]
    assert by_title["Customer's phone (WhatsApp)"].problems == ["12 is not a phone number"]
    assert by_title["Shipping address"].problems == [
        "The whole shipping address, with the postal code"
    ]
    assert ask.asked[-1].title == "Book this item?"  # then CS went back: nothing booked
    assert Booking.select().bind(db).count() == 0
    assert orders.stock(db, "TEH-BTL", STORE) == (1, 0, 0)


def test_a_booking_whose_answer_was_lost_is_made_once_on_try_again(shop, clock):
    pos, db, _desk, client = shop
    orders.receive(db, "TEH-BTL", STORE, 2, clock(), "wh")
    client.lose_answers = 1  # booked at the fleet, the answer lost on the way back
    flow, ask, _ = menu(
        pos, "book", TEA, "Dewi Lestari", "", ADDRESS, "jne", Shown.TAKE, Shown.TAKE
    )
    flow.open()
    retry = next(a for a in ask.asked if a.flags.get("action") == "Try again")
    assert retry.title == "The fleet does not answer: online orders cannot be reached"
    books = [call for call in client.calls if call[0] == "book"]
    assert len(books) == 2 and books[0][1] == books[1][1] != ""  # one call id, sent twice
    row = Booking.select().bind(db).get()  # one booking, the one the retry was told of
    assert ask.asked[-1].title == f"Booked {row.order_no}: stick the slip on the item"
    assert orders.stock(db, "TEH-BTL", STORE) == (1, 1, 0)
    # the fleet down for a stock check: said, nothing else
    client.down = True
    flow, ask, _ = menu(pos)
    flow.open(TEA)
    assert ask.said == [("The fleet does not answer: online orders cannot be reached", True)]


def test_a_slip_scanned_at_the_menu_opens_its_booking_and_cancels_it(shop, clock):
    pos, db, _desk, _client = shop
    orders.receive(db, "TEH-BTL", STORE, 1, clock(), "wh")
    book(pos)
    order = Booking.select().bind(db).get().order_no
    flow, ask, _ = menu(pos, Shown.TAKE)
    flow.open(order)  # typed before the key
    assert ask.asked[0].title == f"Booking {order}"
    assert ask.asked[0].flags["action"] == "Cancel the booking"
    assert ask.said == [(f"Booking {order} cancelled: TEH-BTL is available again", False)]
    assert orders.stock(db, "TEH-BTL", STORE) == (1, 0, 0)
    # the slip is refused from then on; a misread slip is said in the entry
    flow, ask, _ = menu(pos, "find", order[:-1] + "X", order)
    flow.open()
    assert ask.asked[1].problems and "not a booking number" in ask.asked[1].problems[0]
    assert ask.said[-1][1] and "was cancelled" in ask.said[-1][0]


def test_a_paid_booking_is_listed_and_sold_as_a_bank_transfer(shop, clock):
    pos, db, _desk, _client = shop
    orders.receive(db, "TEH-BTL", STORE, 1, clock(), "wh")
    book(pos)
    row = Booking.select().bind(db).get()
    flow, ask, _ = menu(pos, "sell")
    flow.open()
    assert ask.said == [("No paid booking waits to be sold", False)]
    text = f'Tanggal,Keterangan,Jumlah\n23/11/2026,TRSF DEWI LESTARI,"{row.due:,}.00 CR"\n'
    lines = read_csv(text, LAYOUTS["amount-cr-db"])
    upload(db, "BCA", lines, clock())
    orders.confirm_payment(db, row.order_no, lines[0].key, clock(), "finance.sri")
    flow, ask, sold = menu(pos, "sell", row.order_no)
    flow.open()
    assert ask.asked[1].options == [
        (row.order_no, f"{row.order_no}  Dewi Lestari  {pos.currency.format(row.due)}")
    ]
    (outcome,) = sold
    tender = outcome.committed.sale.payment.tenders[0]
    assert (tender.kind, tender.amount, tender.reference) == (
        "bank_transfer",
        row.due,
        row.order_no,
    )
    assert row.order_no in "\n".join(interpret(outcome.receipt_bytes).lines)


def paid_booking(pos, db, clock):
    """A booking of tea for Dewi whose transfer finance confirmed."""
    orders.receive(db, "TEH-BTL", STORE, 1, clock(), "wh")
    book(pos)
    row = Booking.select().bind(db).get()
    text = f'Tanggal,Keterangan,Jumlah\n23/11/2026,TRSF DEWI LESTARI,"{row.due:,}.00 CR"\n'
    lines = read_csv(text, LAYOUTS["amount-cr-db"])
    upload(db, "BCA", lines, clock())
    orders.confirm_payment(db, row.order_no, lines[0].key, clock(), "finance.sri")
    return row


def test_cs_types_the_airway_bill_of_a_sold_booking_checked_by_its_courier(shop, clock):
    pos, db, _desk, _client = shop
    row = paid_booking(pos, db, clock)
    flow, ask, _ = menu(pos, "awb")
    flow.open()
    assert ask.said == [("Every sold booking has its airway bill", False)]
    pos.online.sell(row.order_no)
    # the sale's journal entry reaches the fleet (the agent's batch): the booking is sold
    entries = [to_entry(e) for e in read_entries(pos.db, decode=False)]
    Ingest(db).journal("T01", batch(entries))
    flow, ask, _ = menu(pos, "awb", row.order_no, "12345", "cgk1234567890")
    flow.open()
    listed = ask.asked[1]
    assert listed.options == [(row.order_no, f"{row.order_no}  Dewi Lestari  JNE")]
    entry = ask.asked[2]
    assert entry.title == f"JNE airway bill of {row.order_no}"
    # a number too short for JNE: said in the entry, nothing sent
    assert len(entry.problems) == 1 and "is not a JNE airway bill" in entry.problems[0]
    assert ask.said == [
        (f"Airway bill CGK1234567890 kept for {row.order_no}: tell the customer", False)
    ]
    shipment = Shipment.select().where(Shipment.order_no == row.order_no).bind(db).get()
    assert (shipment.awb, shipment.awb_state, shipment.awb_by) == ("CGK1234567890", "typed", "T01")


def test_bookings_released_at_the_deadline_are_listed_for_cs(shop, clock):
    pos, db, desk, _client = shop
    orders.receive(db, "TEH-BTL", STORE, 1, clock(), "wh")
    book(pos)
    order = Booking.select().bind(db).get().order_no
    flow, ask, _ = menu(pos, "released")
    flow.open()
    assert ask.asked[1].flags["lines"] == ["No booking was released in the last days"]
    clock.advance(7 * 3600 + 1)  # 17:00:01 in Jakarta: one second past the deadline
    assert desk.release() == [order]
    flow, ask, _ = menu(pos, "released")
    flow.open()
    due = Booking.select().bind(db).get().due
    assert ask.asked[1].flags["lines"] == [
        f"{order}  Teh Botol Sosro 450 ml  Dewi Lestari  {pos.currency.format(due)}"
    ]
    assert orders.stock(db, "TEH-BTL", STORE) == (1, 0, 0)


def test_a_supervisor_receives_a_delivery_through_the_menu(shop):
    """The receiving flow (More > Receive goods): supplier, items scanned with their
    quantity and cost, an unknown code and a wrong quantity said where typed, the
    delivery shown whole and journaled on confirmation; a cashier is refused."""
    pos, _db, _desk, _client = shop
    ask = ScriptedAsker(pos)
    ReceivingMenu(pos, ask).open()
    assert ask.said == [("Receiving goods is a supervisor's", True)]
    pos.sign_in("2", "2580")
    ask = ScriptedAsker(
        pos,
        "PT Sinar Sosro",
        "4006381333931",
        TEA,
        "0",
        "24",
        "4100",
        "APEL-FUJI",
        "2,5",
        "30000",
        "",
        Shown.TAKE,
    )
    ReceivingMenu(pos, ask).open()
    assert ask.asked[1].problems == ["Unknown code 4006381333931: nothing added"]
    assert ask.asked[2].problems == ["0 is not a quantity"]
    shown = ask.asked[-1]
    assert shown.title == "Receive this delivery?"
    assert shown.flags["lines"][0] == "Supplier: PT Sinar Sosro"
    assert len(shown.flags["lines"]) == 3
    (payload,) = [e["payload"] for e in read_entries(pos.db, types=("receiving",))]
    assert payload["lines"] == [
        {"sku": "TEH-BTL", "quantity": "24", "unit_cost": 4_100},
        {"sku": "APEL-FUJI", "quantity": "2.5", "unit_cost": 30_000},
    ]
    assert ask.said[-1] == ("Delivery received: 2 lines, Rp 173.400 at cost", False)


def test_a_supervisor_writes_damaged_goods_off_through_the_menu(shop):
    pos, _db, _desk, _client = shop
    ask = ScriptedAsker(pos)
    WriteOffMenu(pos, ask).open()
    assert ask.said == [("Writing goods off is a supervisor's", True)]
    pos.sign_in("2", "2580")
    ask = ScriptedAsker(pos, "expired", TEA, "x", "3", "", Shown.TAKE)
    WriteOffMenu(pos, ask).open()
    assert ask.asked[0].keys == ["damaged", "expired", "stolen", "lost", "used"]
    assert ask.asked[2].problems == ["x is not a quantity"]
    assert ask.asked[-1].title == "Write these off: Expired?"
    (payload,) = [e["payload"] for e in read_entries(pos.db, types=("write_off",))]
    assert (payload["reason"], payload["lines"]) == (
        "expired",
        [{"sku": "TEH-BTL", "quantity": "3"}],
    )
    assert ask.said[-1] == ("Written off (Expired): 1 lines", False)

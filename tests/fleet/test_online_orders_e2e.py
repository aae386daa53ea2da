"""The online-order path of seed 001 with real parts: a terminal at a CS desk (its own
database, printer simulator, the shipped configuration) calling the fleet's order service
through a real Mosquitto with its own certificate; the fleet's database, where the
statement is uploaded and the payment confirmed; the sale on the terminal, and its
journal entry taking the booked unit out of the central stock."""

from __future__ import annotations

import dataclasses
import os
import time
from datetime import UTC, datetime
from random import Random

import pypdfium2 as pdfium
import pytest
import zxingcpp

from fleet.config import OrdersSettings
from fleet.db import connect, create_tables
from fleet.ingest import Ingest
from fleet.inventory import movements, on_hand
from fleet.models import Alert, Booking, SalePayment, Shipment
from fleet.orders import desk as orders
from fleet.orders.labels import label_for, labels_pdf
from fleet.orders.reconcile import proposals, upload
from fleet.orders.service import OrderDesk, OrderService
from fleet.orders.statements import ColumnMapping, read_csv
from fleet.registry import register_terminal
from fleet.server import BrokerSettings
from fleet.shipping.awb import AwbWorker
from fleet.shipping.biteship import BiteshipCourier
from fleet.shipping.courier import Contact
from fleet.shipping.shipments import take_unprinted
from fleet.shipping.simulator import Simulator
from hal.printer.preview import interpret
from terminal.config import FleetSettings, OnlineOrderSettings, parse_settings
from terminal.core.clock import ManualClock
from terminal.core.errors import PosError
from terminal.core.online_orders import DeadlineRule
from terminal.core.sealing import Sealer
from terminal.core.tender import Tender
from terminal.fleet.orders_client import OrdersRefused
from terminal.services.bootstrap import build_terminal
from terminal.store.cashiers import FAST_TEST_PARAMS
from terminal.store.journal import read_entries
from tests.conftest import load_doc, with_open_shift
from tests.fleet.conftest import batch, to_entry
from tests.mosquitto import start_broker

TEA = "8991002101111"  # Teh Botol Sosro, Rp 5.500
NINE = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)  # 09:00 in Jakarta
STORE = "Toko Demo Sejahtera"
MAPPING = ColumnMapping(
    date="Tanggal",
    description="Keterangan",
    amount="Jumlah",
    decimal_sep=".",
    thousands_sep=",",
)


@pytest.fixture(scope="module")
def desk(tmp_path_factory):
    directory = tmp_path_factory.mktemp("online")
    broker = start_broker(directory / "broker")
    db = connect(f"sqlite:///{directory / 'fleet.db'}")
    create_tables(db)
    sealer = Sealer(os.urandom(32))
    clock = ManualClock(NINE)
    courier = Simulator().start()  # the aggregator's API, over HTTP on loopback
    origin = Contact("Toko Demo Sejahtera", "021-5550123", "Jl. Merdeka 1, Jakarta", "10110")
    awb = AwbWorker(db, sealer, BiteshipCourier(courier.url, "a key", timeout=5), origin)
    service = OrderService(
        OrderDesk(
            db,
            sealer,
            deadline=DeadlineRule.parse("17:00"),
            clock=clock,
            rng=Random(5),
            awb=awb,
        ),
        BrokerSettings(broker.host, broker.port, *broker.credentials("fleet-ingest")),
        release_seconds=0.2,  # the service's loop: deadlines, then airway bills
    )
    assert service.start(10)
    yield directory, broker, db, sealer, clock
    service.stop()
    courier.stop()
    broker.stop()


@pytest.fixture
def terminal_id():
    """A test whose sales reach the fleet names a terminal of its own (a journal starts
    at entry 1: another terminal's T01 has had its entries)."""
    return "T01"


@pytest.fixture
def terminal(desk, tmp_path, terminal_id):
    _directory, broker, db, _sealer, clock = desk
    doc = load_doc()
    doc["terminal"]["data_dir"] = str(tmp_path / "var")
    doc["terminal"]["id"] = terminal_id
    settings = parse_settings(doc)
    cafile, certfile, keyfile = broker.credentials(terminal_id)
    fleet = FleetSettings(
        enabled=True,
        host=broker.host,
        port=broker.port,
        ca_file=cafile,
        cert_file=certfile,
        key_file=keyfile,
    )
    settings = dataclasses.replace(
        settings,
        fleet=fleet,
        online_orders=OnlineOrderSettings(enabled=True, code_tax_class="EXEMPT"),
    )
    built = with_open_shift(build_terminal(settings, clock=clock, pin_params=FAST_TEST_PARAMS))
    register_terminal(
        db,
        terminal_id,
        store=STORE,
        group="g",
        timezone="Asia/Jakarta",
        public_key_pem=built.pos.journal.public_key_pem(),
    )
    built.pos.sign_in("1", "1357")
    yield built
    built.pos.online.client.close()


def paper(data: bytes) -> str:
    return "\n".join(interpret(data).lines)


def test_a_chat_order_from_stock_check_to_the_sale_and_the_stock(desk, terminal):
    _directory, _broker, db, sealer, clock = desk
    pos = terminal.pos
    orders.receive(db, "TEH-BTL", STORE, 1, NINE, "wh")
    product, levels = pos.online.stock(TEA)
    assert product.sku == "TEH-BTL" and levels[0].available == 1
    booked = pos.online.book(TEA, "Dewi Lestari", "0812-3456-7890", "Jl. Melati 5, Jakarta")
    booking = booked.booking
    assert booked.print_error is None and booking.due == 5500 + booking.code
    slip = paper(pos.printer.jobs[-1][1])
    assert "Dewi Lestari" in slip and "Jl. Melati 5" in slip
    assert f"{booking.due:,}".replace(",", ".") in slip and "17:00" in slip
    # the number as a Code 128 barcode, its text printed under it (HRI)
    assert b"{B" + booking.order.encode() in pos.printer.jobs[-1][1]
    with pytest.raises(PosError, match="not among the paid ones"):
        pos.online.sell(booking.order)
    # finance uploads the bank's statement and confirms the match
    clock.advance(3 * 3600)
    text = (
        "Tanggal,Keterangan,Jumlah\n"
        f'27/11/2026,TRSF E-BANKING CR 2711/FTSCY/WS9 DEWI LESTARI,"{booking.due:,}.00 CR"\n'
    )
    lines = read_csv(text, MAPPING)
    upload(db, "BCA", lines, clock())
    found = proposals(db, sealer, lines, pos.settings.store.timezone)
    assert found[0].booking.order == booking.order
    orders.confirm_payment(db, booking.order, lines[0].key, clock(), "finance.sri")
    assert [b.order for b in pos.online.paid()] == [booking.order]
    sale = pos.online.sell(booking.order)
    receipt = paper(sale.receipt_bytes)
    assert booking.order in receipt
    tender = sale.committed.sale.payment.tenders[0]
    assert (tender.kind, tender.amount, tender.reference) == (
        "bank_transfer",
        booking.due,
        booking.order,
    )
    # before the fleet has heard of the sale, the booking still reads as paid there: the
    # terminal itself refuses to sell it twice, and nothing is left on the screen
    with pytest.raises(PosError, match="is sold already"):
        pos.online.sell(booking.order)
    assert pos.cart.is_empty and pos.tenders == ()
    # the sale's journal entry reaches the fleet: the unit leaves the central stock
    entries = [to_entry(e) for e in read_entries(pos.db, decode=False)]
    Ingest(db).journal("T01", batch(entries))
    row = Booking.select().where(Booking.order_no == booking.order).bind(db).get()
    assert (row.state, row.sale) == ("sold", sale.committed.label)
    assert orders.stock(db, "TEH-BTL", STORE) == (0, 0, 0)
    # and the store's stock ledger: in with the desk's goods, out with the till's sale
    assert [m.kind for m in movements(db, STORE, "TEH-BTL")] == ["receiving", "sale"]
    assert on_hand(db, STORE)["TEH-BTL"].quantity == 0
    paid = SalePayment.select().where(SalePayment.terminal_id == "T01").bind(db)
    assert [(p.kind, p.amount) for p in paid] == [("bank_transfer", booking.due)]
    assert pos.online.paid() == []
    # a sale that names a booking the fleet holds as sold already (made around the
    # terminal's own checks): it stands, the stock is left alone, and an admin is told
    pos.scan(TEA)
    pos.tenders = (Tender("bank_transfer", pos.cart.total, reference=booking.order),)
    pos.complete_paid()
    entries = [to_entry(e) for e in read_entries(pos.db, decode=False)]
    Ingest(db).journal("T01", batch(entries))
    alert = Alert.select().where(Alert.kind == "online order").bind(db).get()
    assert booking.order in alert.detail and "not paid here" in alert.detail
    assert orders.stock(db, "TEH-BTL", STORE) == (0, 0, 0)


def test_a_slip_scanned_back_cancels_the_booking_and_a_misread_is_refused(desk, terminal):
    _directory, _broker, db, _sealer, _clock = desk
    pos = terminal.pos
    orders.receive(db, "AQUA-600", STORE, 1, NINE, "wh")
    booking = pos.online.book("AQUA-600", "Budi", "", "Jl. Mawar 1").booking
    with pytest.raises(PosError, match="not a booking number"):
        pos.online.cancel(booking.order[:-1] + ("0" if booking.order[-1] != "0" else "1"))
    assert pos.online.cancel(booking.order).state == "cancelled"
    assert orders.stock(db, "AQUA-600", STORE) == (1, 0, 0)
    with pytest.raises(OrdersRefused, match="was cancelled"):
        pos.online.find(booking.order)
    with pytest.raises(PosError, match="name and address"):
        pos.online.book("AQUA-600", "", "", "")


def test_a_terminal_without_online_orders_refuses_them(tmp_path, clock):
    doc = load_doc()
    doc["terminal"]["data_dir"] = str(tmp_path / "plain")
    built = build_terminal(parse_settings(doc), clock=clock, pin_params=FAST_TEST_PARAMS)
    built.pos.sign_in("1", "1357")
    with pytest.raises(PosError, match="takes no online orders"):
        built.pos.online.stock(TEA)


@pytest.mark.parametrize("terminal_id", ["T02"])
def test_a_sold_booking_gets_its_airway_bill_from_the_courier_and_its_label(desk, terminal):
    """The rest of the chat-to-shipment path: the sale reaches the fleet, the order
    service's loop asks the aggregator (its simulator, over HTTP) for the airway bill,
    CS's desk sees it, and the warehouse prints the label: read back from the PDF as a
    person and a scanner would."""
    _directory, _broker, db, sealer, clock = desk
    pos = terminal.pos
    orders.receive(db, "KOPI-KPL", STORE, 1, NINE, "wh")
    address = "Jl. Kenanga 9, Menteng, Jakarta Pusat 10310"
    booking = pos.online.book(
        "KOPI-KPL", "Siti Aminah", "0813-1111-2222", address, courier="sicepat"
    ).booking
    assert booking.courier == "sicepat" and booking.awb == ""
    text = f'Tanggal,Keterangan,Jumlah\n27/11/2026,TRSF SITI AMINAH,"{booking.due:,}.00 CR"\n'
    lines = read_csv(text, MAPPING)
    upload(db, "BCA", lines, clock())
    orders.confirm_payment(db, booking.order, lines[0].key, clock(), "finance.sri")
    pos.online.sell(booking.order)
    entries = [to_entry(e) for e in read_entries(pos.db, decode=False)]
    Ingest(db).journal("T02", batch(entries))

    def shipment() -> Shipment:
        return Shipment.select().where(Shipment.order_no == booking.order).bind(db).get()

    deadline = time.monotonic() + 10
    while shipment().awb_state != "made" and time.monotonic() < deadline:
        time.sleep(0.05)
    made = shipment()
    assert made.awb_state == "made" and len(made.awb) == 12 and made.awb.isdigit()  # SiCepat's
    found = pos.online.find(booking.order)  # the slip scanned: what to tell the customer
    assert (found.state, found.courier, found.awb) == ("sold", "sicepat", made.awb)
    assert booking.order not in [b.order for b in pos.online.shipping()]

    shop = OrdersSettings(origin_name="Toko Demo Sejahtera")
    printed = {s.order_no: s for s in take_unprinted(db, clock())}  # (the module's other sale too)
    labels = [label_for(sealer, printed[booking.order], shop)]
    page = pdfium.PdfDocument(labels_pdf(labels, "100x150"))[0]
    words = page.get_textpage().get_text_range()
    assert booking.order in words and "Siti Aminah" in words and "10310" in words
    assert "SiCepat" in words and made.awb in words
    codes = {b.text for b in zxingcpp.read_barcodes(page.render(scale=300 / 72).to_pil())}
    assert {booking.order, made.awb} <= codes

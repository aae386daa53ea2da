"""Airway bills for sold online orders: the Biteship adapter against the simulator over
real HTTP on loopback (made, refused with Biteship's message, down, too slow), the worker
that asks for each sold booking's AWB (made, failed, waiting again, never twice), and
the desk's calls from the terminal (book with a courier, type an AWB, list the
shipments waiting)."""

from __future__ import annotations

import os
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from random import Random
from zoneinfo import ZoneInfo

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from fleet.config import ConfigError, OrdersSettings, load_config
from fleet.db import connect, create_tables
from fleet.models import Shipment
from fleet.orders import desk as orders
from fleet.orders.reconcile import upload
from fleet.orders.service import OrderDesk
from fleet.orders.statements import ColumnMapping, read_csv
from fleet.registry import register_terminal
from fleet.shipping import shipments
from fleet.shipping.awb import AwbWorker, Round, from_settings
from fleet.shipping.biteship import BiteshipCourier
from fleet.shipping.courier import (
    AwbResult,
    Contact,
    CourierDown,
    CourierRefused,
    CourierUnsure,
    Item,
    ShipmentRequest,
)
from fleet.shipping.simulator import Simulator, waybill
from terminal.core import fleet_protocol as fp
from terminal.core.couriers import check_awb
from terminal.core.errors import PosError
from terminal.core.online_orders import DeadlineRule, OrderError
from terminal.core.sealing import Sealer
from terminal.services.online_orders import OnlineOrders
from tests.online_desk import LocalOrdersClient

JAKARTA = ZoneInfo("Asia/Jakarta")
NINE = datetime(2026, 11, 27, 9, 0, tzinfo=JAKARTA)
RULES = orders.DeskRules(DeadlineRule.parse("17:00"), JAKARTA)
STORE, SKU = "Jakarta 1", "TEH-BTL"
DEWI = orders.Customer("Dewi Lestari", "0812-3456-7890", "Jl. Melati 5, Jakarta Selatan 12160")
SHOP = Contact("Toko Teh Sejahtera", "021-5550123", "Jl. Gudang 1, Jakarta Pusat", "10110")
MAPPING = ColumnMapping(
    date="Tanggal", description="Keterangan", amount="Jumlah", decimal_sep=".", thousands_sep=","
)


# -- a shop with sold bookings ----------------------------------------------------------------
def fleet(directory) -> tuple:
    db = connect(f"sqlite:///{directory / 'fleet.db'}")
    create_tables(db)
    key = Ed25519PrivateKey.generate().public_key()
    pem = key.public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
    register_terminal(
        db, "T01", store=STORE, group="g", timezone="Asia/Jakarta", public_key_pem=pem
    )
    return db, Sealer(os.urandom(32))


def booked(db, sealer, *, courier="jne", service="", customer=DEWI, seed=1):
    orders.receive(db, SKU, STORE, 1, NINE, "wh")
    return orders.book(
        db,
        sealer,
        desk=STORE,
        sku=SKU,
        price=150_000,
        customer=customer,
        rules=RULES,
        at=NINE,
        actor="T01",
        rng=Random(seed),
        series="T01",
        courier=courier,
        service=service,
    )


def sold(db, sealer, **more) -> str:
    """A booking paid by a confirmed statement line and sold at the terminal (its
    journal entry settled at the fleet): its number."""
    booking = booked(db, sealer, **more)
    text = f'Tanggal,Keterangan,Jumlah\n27/11/2026,TRSF {booking.order_no},"{booking.due:,}.00"\n'
    lines = read_csv(text, MAPPING)
    upload(db, "BCA", lines, NINE)
    orders.confirm_payment(db, booking.order_no, lines[0].key, NINE, "sri")
    at = NINE.astimezone(UTC).replace(tzinfo=None)
    assert orders.settle_sold(db, booking.order_no, f"T01-{booking.unique_code:06d}", at, STORE)
    return booking.order_no


def shipment(db, order_no: str) -> Shipment:
    return Shipment.select().where(Shipment.order_no == order_no).bind(db).get()


@pytest.fixture(scope="module")
def simulator():
    sim = Simulator().start()
    yield sim
    sim.stop()


@pytest.fixture
def sim(simulator):
    simulator.mode, simulator.delay = "ok", 1.0
    simulator.orders.clear()
    return simulator


@pytest.fixture
def shop(tmp_path):
    db, sealer = fleet(tmp_path)
    yield db, sealer
    db.close()


def request(courier="jnt", postal="12160") -> ShipmentRequest:
    return ShipmentRequest(
        reference="BT01-0000001K",
        courier=courier,
        service="ez",
        origin=SHOP,
        destination=Contact("Dewi Lestari", "0812", "Jl. Melati 5", postal),
        items=(Item("Teh botol", SKU, 150_000),),
    )


# -- the adapter against the simulator ---------------------------------------------------------
def test_the_adapter_gets_a_waybill_in_the_courier_s_format(sim):
    courier = BiteshipCourier(sim.url, "biteship_test.key", timeout=2)
    result = courier.create_order(request("jnt"))
    assert result.waybill == waybill("jnt", "BT01-0000001K")
    assert check_awb("jnt", result.waybill) == result.waybill
    body = sim.orders[-1]  # what Biteship's docs ask for, as the simulator checks it
    assert body["courier_company"] == "jnt" and body["courier_type"] == "ez"
    assert body["destination_postal_code"] == 12160 and body["origin_postal_code"] == 10110
    assert body["reference_id"] == "BT01-0000001K" and body["items"][0]["value"] == 150_000
    for code in ("jne", "sicepat", "anteraja", "ninja"):  # each courier's real form
        number = courier.create_order(request(code)).waybill
        assert check_awb(code, number) == number


def test_a_refusal_carries_biteship_s_message_and_code(sim):
    sim.mode = "refuse"
    with pytest.raises(CourierRefused) as refused:
        BiteshipCourier(sim.url, "k", timeout=2).create_order(request())
    assert refused.value.code == "40002020" and "postal code" in refused.value.message
    sim.mode = "ok"
    with pytest.raises(CourierRefused, match="destination needs to have postal code"):
        BiteshipCourier(sim.url, "k", timeout=2).create_order(request(postal=""))
    with pytest.raises(CourierRefused, match="API Key is not found"):
        BiteshipCourier(sim.url, "", timeout=2).create_order(request())
    assert sim.orders == []


def test_down_or_unreachable_is_down_slow_is_unsure_and_the_key_is_never_said(sim):
    secret = "biteship_live.SECRET-KEY"
    sim.mode = "down"
    with pytest.raises(CourierDown) as down:
        BiteshipCourier(sim.url, secret, timeout=2).create_order(request())
    assert "503" in str(down.value)
    sim.mode, sim.delay = "slow", 0.6
    with pytest.raises(CourierUnsure) as slow:
        BiteshipCourier(sim.url, secret, timeout=0.2).create_order(request())
    # the aggregator went on and made it all the same: why a timeout after sending is
    # never asked again by itself (waited for here, so it does not land in another test)
    until = time.monotonic() + 3
    while not sim.orders and time.monotonic() < until:
        time.sleep(0.05)
    assert len(sim.orders) == 1
    free = Simulator()  # a port nobody listens on any more
    url = free.url
    free.server.server_close()
    with pytest.raises(CourierDown) as gone:
        BiteshipCourier(url, secret, timeout=1).create_order(request())
    for exc in (down.value, slow.value, gone.value):
        assert secret not in str(exc)
    assert secret not in repr(BiteshipCourier(sim.url, secret))


# -- the worker -------------------------------------------------------------------------------
def worker(db, sealer, sim, timeout=2.0) -> AwbWorker:
    courier = BiteshipCourier(sim.url, "k", timeout=timeout)
    return AwbWorker(db, sealer, courier, SHOP, clock=lambda: NINE)


def test_a_sold_booking_gets_its_awb_and_an_unsold_one_is_not_asked(shop, sim):
    db, sealer = shop
    order = sold(db, sealer, courier="sicepat")
    booked(db, sealer, courier="jne", seed=2)  # booked, not sold: not shipped yet
    later = sold(db, sealer, courier="", seed=3)  # courier decided later: CS types it
    done = worker(db, sealer, sim).run()
    assert (done.made, done.failed, done.down) == (1, 0, 0)
    row = shipment(db, order)
    assert (row.awb_state, row.awb, row.awb_by) == ("made", waybill("sicepat", order), "")
    assert row.awb_at == datetime(2026, 11, 27, 2, 0) and row.awb_attempts == 1
    assert shipment(db, later).awb_state == "waiting" and len(sim.orders) == 1
    assert worker(db, sealer, sim).run().made == 0  # made: never asked again


def test_a_courier_down_leaves_the_sale_and_the_order_waiting(shop, sim):
    db, sealer = shop
    order = sold(db, sealer)
    sim.mode = "down"
    assert worker(db, sealer, sim).run().down == 1
    assert worker(db, sealer, sim).run().down == 1
    row = shipment(db, order)
    assert (row.awb_state, row.awb_attempts, row.awb) == ("waiting", 2, "")
    assert orders.stock(db, SKU, STORE) == (0, 0, 0)  # the unit is sold all the same
    sim.mode = "ok"
    assert worker(db, sealer, sim).run().made == 1
    assert shipment(db, order).awb_attempts == 3


def test_a_refusal_fails_with_the_reason_and_cs_may_type_the_number(shop, sim):
    db, sealer = shop
    order = sold(db, sealer, courier="jnt")
    sim.mode = "refuse"
    assert worker(db, sealer, sim).run().failed == 1
    row = shipment(db, order)
    assert row.awb_state == "failed" and "postal code" in row.awb_error
    assert worker(db, sealer, sim).run().failed == 0  # failed: not asked again


def test_an_address_without_postal_code_fails_without_asking(shop, sim):
    db, sealer = shop
    order = sold(db, sealer, customer=orders.Customer("Budi", "0813", "Jl. Mawar 2, Bogor"))
    assert worker(db, sealer, sim).run().failed == 1
    assert "postal code" in shipment(db, order).awb_error and sim.orders == []


class Counting:
    """A courier that waits a little inside each call, so two workers overlap."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.lock = threading.Lock()

    def create_order(self, request: ShipmentRequest) -> AwbResult:
        with self.lock:
            self.calls.append(request.reference)
        threading.Event().wait(0.05)
        return AwbResult(waybill(request.courier, request.reference))


def test_two_workers_racing_never_ask_twice_for_one_shipment(tmp_path):
    db, sealer = fleet(tmp_path)
    made = [sold(db, sealer, seed=i) for i in range(1, 5)]
    courier = Counting()
    workers = []
    for _ in range(3):  # each with its own connection, as separate processes have
        other = connect(f"sqlite:///{tmp_path / 'fleet.db'}")
        workers.append(AwbWorker(other, sealer, courier, SHOP, clock=lambda: NINE))
    threads = [threading.Thread(target=w.run) for w in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(courier.calls) == sorted(made)  # each once
    assert {shipment(db, o).awb_state for o in made} == {"made"}


def test_the_worker_comes_from_the_settings_and_needs_its_key():
    db, sealer = None, Sealer(os.urandom(32))
    assert from_settings(OrdersSettings(), db, sealer) is None  # "none": CS types
    on = OrdersSettings(
        courier_api="biteship",
        origin_name="Toko",
        origin_phone="021",
        origin_address="Jl. Gudang 1",
        origin_postal_code="10110",
    )
    with pytest.raises(ValueError, match=r"\$BITESHIP_API_KEY is not set"):
        from_settings(on, db, sealer, environ={})
    made = from_settings(on, db, sealer, environ={"BITESHIP_API_KEY": "biteship_live.x"})
    assert made is not None and "biteship_live.x" not in repr(made.courier)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ('courier_api = "fedex"', "courier_api"),
        ('courier_api = "biteship"', "origin_name"),
        (
            'courier_api = "simulator"\norigin_name = "T"\norigin_phone = "1"\n'
            'origin_address = "Jl"\norigin_postal_code = "1011"',
            "origin_postal_code",
        ),
    ],
)
def test_a_wrong_courier_setting_is_named(tmp_path, text, error):
    path = tmp_path / "fleet.toml"
    path.write_text(f"[orders]\n{text}\n")
    with pytest.raises(ConfigError, match=error):
        load_config(path)


# -- the desk's calls from the terminal --------------------------------------------------------
def call(desk: OrderDesk, **fields) -> fp.OrderReply:
    """As the service hands a terminal's call to the desk (through the protocol)."""
    sent = fp.decode("up/orders", fp.encode(fp.OrderRequest(**fields)))
    return fp.decode("down/orders", fp.encode(desk.handle("T01", sent, "")))


def test_cs_books_with_a_courier_types_the_awb_and_sees_what_waits(shop, sim):
    db, sealer = shop
    desk = OrderDesk(db, sealer, deadline=RULES.deadline, clock=lambda: NINE, rng=Random(4))
    orders.receive(db, SKU, STORE, 2, NINE, "wh")
    reply = call(
        desk, op="book", sku=SKU, price=150_000, name="Dewi", phone="0812",
        address=DEWI.address, courier="JNT", service="EZ",
    )  # fmt: skip
    assert reply.ok and (reply.booking.courier, reply.booking.service) == ("jnt", "ez")
    assert reply.booking.awb_state == "waiting" and reply.booking.awb == ""
    bad = call(desk, op="book", sku=SKU, price=1, name="D", address="Jl", courier="dhl")
    assert not bad.ok and bad.params == {"courier": "dhl"}
    order = sold(db, sealer, courier="sicepat", seed=9)
    waiting = call(desk, op="shipping")
    assert [b.order for b in waiting.bookings] == [order]  # sold, without its AWB
    assert waiting.bookings[0].name == "Dewi Lestari"
    wrong = call(desk, op="awb", order=order, courier="sicepat", awb="JP1234567890")
    assert not wrong.ok and wrong.params["courier"] == "SiCepat"
    assert shipment(db, order).awb == ""  # nothing kept
    open_one = call(desk, op="awb", order=reply.booking.order, awb="JP1234567890")
    assert not open_one.ok and "not sold yet" in open_one.error
    typed = call(desk, op="awb", order=order, awb=" 002927168687 ")
    assert typed.ok and (typed.booking.awb, typed.booking.awb_state) == ("002927168687", "typed")
    assert shipment(db, order).awb_by == "T01"
    assert call(desk, op="shipping").bookings == []
    assert worker(db, sealer, sim).run().made == 0  # typed: the courier is not asked


def test_with_a_courier_api_a_booking_needs_the_postal_code(shop, sim):
    db, sealer = shop
    desk = OrderDesk(
        db, sealer, deadline=RULES.deadline, clock=lambda: NINE, awb=worker(db, sealer, sim)
    )
    orders.receive(db, SKU, STORE, 1, NINE, "wh")
    fields = dict(op="book", sku=SKU, price=150_000, name="Dewi", courier="jne")
    refused = call(desk, **fields, address="Jl. Melati 5, Jakarta")
    assert not refused.ok and "postal code" in refused.error
    assert orders.stock(db, SKU, STORE) == (1, 0, 0)  # nothing booked
    assert call(desk, **fields, address=DEWI.address).ok
    assert desk.ship() is not None


class Cashier:
    """As much of the terminal as the desk's calls need: online orders on, signed in."""

    settings = type("S", (), {"online_orders": type("O", (), {"enabled": True})})()

    def require_cashier(self) -> None:
        pass


def test_the_terminal_checks_the_awb_before_sending_and_lists_what_waits(shop):
    db, sealer = shop
    desk = OrderDesk(db, sealer, deadline=RULES.deadline, clock=lambda: NINE)
    client = LocalOrdersClient(desk, "T01")
    online = OnlineOrders(Cashier(), client)
    order = sold(db, sealer, courier="jnt")
    assert [b.order for b in online.shipping()] == [order]
    with pytest.raises(PosError, match="not a J&T Express airway bill"):
        online.awb(order, "jnt", "002927168687")
    assert [op for op, _id in client.calls] == ["shipping"]  # nothing sent
    info = online.awb(order, "", "jp1234567890")  # the booking's courier
    assert (info.courier, info.awb, info.awb_state) == ("jnt", "JP1234567890", "typed")
    assert online.shipping() == []


def test_no_clear_answer_is_never_asked_again_and_is_left_to_a_person(shop, sim):
    """A timeout after the order was sent: the aggregator may have made it. The
    shipment is marked unsure with what to do, the next rounds leave it alone, and CS
    types the number once they have looked it up; while a worker asks, typing waits."""
    db, sealer = shop
    order = sold(db, sealer, courier="jne")
    sim.mode, sim.delay = "slow", 0.6
    done = worker(db, sealer, sim, timeout=0.2).run()
    assert (done.made, done.unsure) == (0, 1)
    row = shipment(db, order)
    assert row.awb_state == "unsure" and f"look for reference {order}" in row.awb_error
    sim.mode = "ok"
    assert worker(db, sealer, sim).run() == Round()  # not asked again by itself
    assert order in [s.order_no for s in shipments.waiting(db)]  # CS's list
    Shipment.update(awb_state="asking").where(Shipment.order_no == order).execute(db)
    with pytest.raises(OrderError, match="being asked"):
        shipments.type_awb(db, order, "", "CGK1234567890", NINE, "cs.ani")
    Shipment.update(awb_state="unsure").where(Shipment.order_no == order).execute(db)
    typed = shipments.type_awb(db, order, "", "CGK1234567890", NINE, "cs.ani")
    assert (typed.awb_state, typed.awb, typed.awb_by) == ("typed", "CGK1234567890", "cs.ani")


def test_an_airway_bill_for_a_booking_not_sold_is_refused(shop):
    db, sealer = shop
    order = booked(db, sealer, courier="jne").order_no
    with pytest.raises(OrderError, match="not sold yet"):
        shipments.type_awb(db, order, "", "CGK1234567890", NINE, "cs.ani")
    assert shipment(db, order).awb == ""


def test_a_redirect_is_refused_and_the_key_goes_nowhere_else(sim):
    """urllib would follow a redirect as a GET with the Authorization header; the
    adapter refuses it, so the key never reaches the other address."""
    seen: list[str] = []

    class Elsewhere(BaseHTTPRequestHandler):
        def do_GET(self):
            seen.append(self.headers.get("Authorization", ""))
            self.send_response(200)
            self.end_headers()

        def do_POST(self):
            self.send_response(302)
            self.send_header("Location", f"http://127.0.0.1:{self.server.server_port}/x")
            self.end_headers()

        def log_message(self, *_args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Elsewhere)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}"
        with pytest.raises((CourierRefused, CourierDown, CourierUnsure)):
            BiteshipCourier(url, "biteship_live.KEY", timeout=2).create_order(request())
    finally:
        server.shutdown()
        server.server_close()
    assert seen == []

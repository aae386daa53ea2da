"""A CS desk's online-orders calls through a real Mosquitto (mutual TLS, the fleet's
ACLs): the terminal's client (``terminal.fleet.orders_client``) and the fleet's service
(``fleet.orders.service``) on a fleet database - stock, a drop order, a booking, finding
and cancelling it, refusals said with their reason, a malformed call, the broker away."""

from __future__ import annotations

import os
import queue
from datetime import UTC, datetime
from random import Random

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from fleet.db import connect, create_tables
from fleet.models import OrderCall
from fleet.orders import desk as orders
from fleet.orders.service import OrderDesk, OrderService
from fleet.registry import register_terminal
from fleet.server import BrokerSettings
from terminal.config import FleetSettings
from terminal.core import fleet_protocol as fp
from terminal.core.online_orders import DeadlineRule
from terminal.core.sealing import Sealer
from terminal.fleet.orders_client import OrdersClient, OrdersRefused, OrdersUnavailable
from tests.mosquitto import start_broker

NOW = datetime(2026, 11, 27, 2, 0, tzinfo=UTC)  # 09:00 in Jakarta
STORE = "Jakarta 1"


def journal_key() -> bytes:
    return (
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    directory = tmp_path_factory.mktemp("orders")
    broker = start_broker(directory / "broker")
    db = connect(f"sqlite:///{directory / 'fleet.db'}")
    create_tables(db)
    for tid in ("T01", "T03"):
        register_terminal(
            db,
            tid,
            store=STORE if tid == "T01" else "Bandung",
            group="g",
            public_key_pem=journal_key(),
            timezone="Asia/Jakarta",
        )
    cafile, certfile, keyfile = broker.credentials("fleet-ingest")
    settings = BrokerSettings(broker.host, broker.port, cafile, certfile, keyfile)
    sealer = Sealer(os.urandom(32))
    desk = OrderDesk(
        db, sealer, deadline=DeadlineRule.parse("17:00"), clock=lambda: NOW, rng=Random(3)
    )
    service = OrderService(desk, settings)
    assert service.start(10)
    clients = {}

    def client(tid: str, timeout: float = 5.0) -> OrdersClient:
        cafile, certfile, keyfile = broker.credentials(tid)
        fleet = FleetSettings(
            enabled=True,
            host=broker.host,
            port=broker.port,
            ca_file=cafile,
            cert_file=certfile,
            key_file=keyfile,
        )
        clients[tid] = OrdersClient(fleet, tid, timeout=timeout)
        return clients[tid]

    yield db, broker, client
    for c in clients.values():
        c.close()
    service.stop()
    broker.stop()


def test_a_desk_checks_stock_books_finds_and_cancels(world):
    db, _broker, client = world
    orders.receive(db, "TEH-BTL", STORE, 1, NOW, "wh")
    orders.receive(db, "TEH-BTL", "WH", 5, NOW, "wh")
    t01 = client("T01")
    stock = t01.call(fp.OrderRequest(op="stock", sku="TEH-BTL")).stock
    assert [(s.location, s.available) for s in stock] == [(STORE, 1), ("WH", 5)]
    booking = t01.call(
        fp.OrderRequest(
            op="book",
            sku="TEH-BTL",
            price=150_000,
            name="Dewi Lestari",
            phone="0812-3456-7890",
            address="Jl. Melati 5, Jakarta",
        )
    ).booking
    assert booking.order.startswith("BT01-0000001") and booking.due == 150_000 + booking.code
    assert booking.deadline == "2026-11-27T10:00:00+00:00"  # 17:00 in Jakarta
    with pytest.raises(OrdersRefused, match="no unit left to book at Jakarta 1"):
        t01.call(
            fp.OrderRequest(
                op="book", sku="TEH-BTL", price=150_000, name="Budi", address="Jl. Mawar 1"
            )
        )
    found = t01.call(fp.OrderRequest(op="find", order=booking.order)).booking
    assert (found.name, found.state) == ("Dewi Lestari", "open")
    drop = t01.call(fp.OrderRequest(op="drop", sku="TEH-BTL")).drop_order
    assert drop and orders.stock(db, "TEH-BTL", "WH") == (5, 0, 0)  # nothing moves yet
    cancelled = t01.call(fp.OrderRequest(op="cancel", order=booking.order)).booking
    assert cancelled.state == "cancelled"
    assert orders.stock(db, "TEH-BTL", STORE) == (1, 0, 0)
    with pytest.raises(OrdersRefused, match="was cancelled"):
        t01.call(fp.OrderRequest(op="find", order=booking.order))
    assert t01.call(fp.OrderRequest(op="paid")).bookings == []


def test_another_desk_cannot_read_or_cancel_a_booking_and_a_stranger_is_refused(world):
    db, _broker, client = world
    orders.receive(db, "AQUA-600", STORE, 1, NOW, "wh")
    booking = (
        client("T01")
        .call(fp.OrderRequest(op="book", sku="AQUA-600", price=3_500, name="Siti", address="Jl. 1"))
        .booking
    )
    with pytest.raises(OrdersRefused, match="is not a booking number"):  # nothing told
        client("T03").call(fp.OrderRequest(op="cancel", order=booking.order))
    with pytest.raises(OrdersRefused, match="not registered"):
        client("T02").call(fp.OrderRequest(op="stock", sku="AQUA-600"))
    with pytest.raises(OrdersRefused, match="not a booking number"):
        client("T01").call(fp.OrderRequest(op="find", order="8991002101111"))


def test_a_malformed_call_is_answered_with_a_refusal(world):
    _db, _broker, client = world
    t01 = client("T01")
    t01.call(fp.OrderRequest(op="stock", sku="X"))  # connected and subscribed
    t01._waiting["bad1"] = answer = queue.Queue()
    t01._client.publish(fp.topic("T01", "up/orders", "bad1"), b'{"op": "steal"}', qos=1)
    reply = fp.decode("down/orders", answer.get(timeout=5))
    assert not reply.ok and reply.error == "The fleet could not read the request"


def test_no_broker_no_answer_said_within_the_timeout(world):
    _db, broker, _client = world
    cafile, certfile, keyfile = broker.credentials("T01")
    fleet = FleetSettings(
        enabled=True, host=broker.host, port=1, ca_file=cafile, cert_file=certfile, key_file=keyfile
    )
    lonely = OrdersClient(fleet, "T01", timeout=1.0)
    try:
        with pytest.raises(OrdersUnavailable):
            lonely.call(fp.OrderRequest(op="stock", sku="TEH-BTL"))
    finally:
        lonely.close()


def test_a_booking_asked_twice_with_one_call_id_is_made_once(world):
    db, _broker, client = world
    orders.receive(db, "KOPI-KPL", STORE, 2, NOW, "wh")
    t01 = client("T01")
    ask = fp.OrderRequest(op="book", sku="KOPI-KPL", price=14_500, name="Rina", address="Jl. 2")
    first = t01.call(ask, "action-1").booking
    again = t01.call(ask, "action-1").booking  # the answer was lost: the screen asks again
    assert again == first
    assert orders.stock(db, "KOPI-KPL", STORE) == (1, 1, 0)  # one unit booked, not two
    other = t01.call(ask, "action-2").booking  # another action: another booking
    assert other.order != first.order
    kept = OrderCall.select().where(OrderCall.call_id == "action-1").bind(db).get()
    assert b"Rina" not in bytes(kept.reply)  # the customer, sealed

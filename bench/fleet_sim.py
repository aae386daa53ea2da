"""Simulated terminals for the fleet benchmarks: each has its own Ed25519 journal key and
a real journal (terminal.store.journal on an in-memory SQLite database) whose entries
are real signed sales, with the payload of a sale the terminal's own code made; and its
own client certificate for the broker, where it publishes as the agent does."""

from __future__ import annotations

import json
import queue
import threading
import tomllib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import paho.mqtt.client as mqtt
import peewee
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from paho.mqtt.enums import CallbackAPIVersion

from terminal.config import parse_settings
from terminal.core import fleet_protocol as fp
from terminal.core.cart import Cart
from terminal.core.catalogue import Catalogue
from terminal.core.money import currency
from terminal.core.sale import sale_from_cart
from terminal.core.tender import finish_with_cash
from terminal.services.demo import demo_products
from terminal.store.journal import Journal, create_journal, read_entries
from terminal.store.sales import journal_payload


def real_sale() -> dict:
    """A 3-line cash sale of the demo shop as the terminal journals it (the terminal's own
    cart, tax and payment code, and ``journal_payload``)."""

    settings = _demo_settings()
    products = demo_products()
    catalogue = Catalogue(products, settings.tax_classes, settings.weighed_formats)
    now = datetime.now(UTC)
    cart = Cart(catalogue, lambda: now, prices_include_tax=True)
    for product in [p for p in products if p.barcodes and not p.sold_by_weight][:3]:
        cart.add_code(product.barcodes[0])
    cash = currency("IDR")
    payment = finish_with_cash(cart.total, (), cart.total + 10000, cash, 1)
    sale = sale_from_cart(
        cart,
        payment,
        terminal_id="T00",
        cashier_id=1,
        cashier_name="Sari",
        currency="IDR",
        created_at=now,
        shift_id=1,
    )
    return journal_payload(sale, 1, "R00000001")


def _demo_settings():

    root = Path(__file__).resolve().parent.parent
    with (root / "config" / "pos.toml").open("rb") as fh:
        return parse_settings(tomllib.load(fh))


@dataclass
class SimTerminal:
    terminal_id: str
    key: Ed25519PrivateKey = field(default_factory=Ed25519PrivateKey.generate)

    def __post_init__(self) -> None:
        self.db = peewee.SqliteDatabase(":memory:")
        create_journal(self.db)
        self.journal = Journal(self.db, self.terminal_id, self.key)
        self.sent_to = 0  # the last seq published
        self.number = 0  # the last sale number

    @property
    def public_key_pem(self) -> bytes:
        return self.journal.public_key_pem()

    def sell(self, template: dict, count: int = 1) -> None:
        """``count`` sales like ``template`` (numbered on), each its signed journal entry."""
        with self.db.atomic():
            for _ in range(count):
                self.number += 1
                sale = json.loads(json.dumps(template))
                sale["number"] = self.number
                sale["return_code"] = f"R{self.number:08d}"
                self.journal.append("sale", sale, datetime.now(UTC), sale["total"])

    def journal_head(self) -> int:
        row = self.db.execute_sql("SELECT MAX(seq) FROM journal").fetchone()
        return row[0] or 0

    def unsent_batches(self, size: int = 200) -> list[bytes]:
        """The entries after the last published one, as encoded batches."""
        entries = [
            fp.Entry(**e) for e in read_entries(self.db, decode=False, since=self.sent_to + 1)
        ]
        if not entries:
            return []
        head = entries[-1].seq
        self.sent_to = head
        return [
            fp.encode(fp.JournalBatch(self.terminal_id, entries[i : i + size], head=head))
            for i in range(0, len(entries), size)
        ]


def public_pem(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


class Publisher:
    """A terminal's MQTT link as the agent has it: TLS with its certificate, QoS 1 up,
    its acks received (``acked``: the highest the fleet confirmed)."""

    def __init__(self, broker, terminal_id: str, on_ack=None, credentials=None) -> None:
        """``broker``: anything with ``host`` and ``port`` (and ``credentials(name)`` when
        ``credentials``, the (CA, certificate, key) files, are not given)."""
        self.terminal_id = terminal_id
        self.acked = 0
        self.on_ack = on_ack
        self.done = threading.Event()
        self.want = 0
        cafile, certfile, keyfile = credentials or broker.credentials(terminal_id)
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id=f"sim-{terminal_id}", protocol=mqtt.MQTTv5
        )
        self.client.tls_set(ca_certs=str(cafile), certfile=str(certfile), keyfile=str(keyfile))
        self.client.max_inflight_messages_set(20)
        self.client.on_message = self._on_message
        ready: queue.Queue = queue.Queue()
        self.client.on_subscribe = lambda *_a: ready.put(True)
        self.client.on_connect = lambda c, *_a: c.subscribe(fp.topic(terminal_id, "down/ack"), 1)
        self.client.connect(broker.host, broker.port, keepalive=60)
        self.client.loop_start()
        ready.get(timeout=10)

    def _on_message(self, _client, _userdata, message) -> None:
        ack = fp.decode("down/ack", message.payload)
        self.acked = max(self.acked, ack.acked)
        if self.on_ack:
            self.on_ack(self.terminal_id, ack.acked)
        if self.want and self.acked >= self.want:
            self.done.set()

    def publish(self, batches: list[bytes]) -> None:
        for data in batches:
            self.client.publish(fp.topic(self.terminal_id, "up/journal"), data, qos=1)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def bare_client(broker, on_message) -> mqtt.Client:
    """The baselines' subscriber: the ingest's credentials on a shared subscription of
    its own, calling ``on_message(client, userdata, message)`` and nothing else;
    connected and subscribed when returned."""
    cafile, certfile, keyfile = broker.credentials("fleet-ingest")
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-bare", protocol=mqtt.MQTTv5)
    client.tls_set(ca_certs=str(cafile), certfile=str(certfile), keyfile=str(keyfile))
    client.on_message = on_message
    ready: queue.Queue = queue.Queue()
    client.on_subscribe = lambda *_a: ready.put(True)
    client.on_connect = lambda c, *_a: c.subscribe("$share/bare/pos/v1/+/up/#", 1)
    client.connect(broker.host, broker.port)
    client.loop_start()
    ready.get(timeout=10)
    return client

"""Signed configuration pushed by the fleet, applied by the terminal: a real Mosquitto
(mutual TLS, the fleet's ACLs), the agent on a thread of its own with its own database
connection, the app's side polled as the window's clock does, and on the fleet's side a
small paho client with the fleet-ingest certificate that publishes a retained
ConfigBundle on ``pos/v1/T01/down/cfg`` and keeps the statuses on ``up/cfg-status``."""

from __future__ import annotations

import base64
import copy
import dataclasses
import json
import queue
import threading
from datetime import timedelta

import paho.mqtt.client as mqtt
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from paho.mqtt.enums import CallbackAPIVersion

from terminal.core import fleet_protocol as fp
from terminal.core.signed_config import (
    Scope,
    config_payload,
    key_id,
    key_list_payload,
    public_pem,
    sign,
)
from terminal.services.bootstrap import build_terminal
from terminal.store import fleet_config, shop_config
from terminal.store.cashiers import FAST_TEST_PARAMS
from terminal.store.fleet_config import Applied
from terminal.store.journal import read_entries
from tests.conftest import with_open_shift
from tests.fleet.test_agent import TID, AgentThread, fleet_settings, wait_for
from tests.mosquitto import start_broker

COFFEE = "KOPI-KPL"  # Kopi Kapal Api 165 g: Rp 14.500 in the demo catalogue
GROUP = "north"
FLEET = Scope("fleet", "")


# -- the fleet's keys and documents ------------------------------------------------------------
class Keys:
    """A root key (its public half pinned on the terminal) and signing keys it lists."""

    def __init__(self, now) -> None:
        self.now = now
        self.root = Ed25519PrivateKey.generate()
        self.signer = Ed25519PrivateKey.generate()
        self.other = Ed25519PrivateKey.generate()  # listed, then revoked

    def key_list(self, version: int = 1, *, revoked=(), keys=None) -> bytes:
        keys = keys if keys is not None else [self.signer, self.other]
        payload = key_list_payload(
            version,
            self.now - timedelta(days=1),
            self.now + timedelta(days=365),
            [(k.public_key(), None) for k in keys],
            revoked,
        )
        return sign(self.root, payload)

    def document(
        self,
        document: dict,
        *,
        scope: Scope = FLEET,
        version: int = 1,
        signer: Ed25519PrivateKey | None = None,
        expires: timedelta = timedelta(days=30),
    ) -> bytes:
        payload = config_payload(
            scope, version, self.now - timedelta(hours=1), self.now + expires, document
        )
        return sign(signer or self.signer, payload)


def bundle(key_list: bytes, *documents: bytes, rollout: str = "r-1") -> bytes:
    return fp.encode(
        fp.ConfigBundle(key_list.decode(), [d.decode() for d in documents], rollout=rollout)
    )


def priced(settings, coffee: int = 15000) -> dict:
    """The shop document in force, the coffee at ``coffee``."""
    document = copy.deepcopy(settings.shop_document)
    document["products"] = [
        {
            "sku": COFFEE,
            "name": "Kopi Kapal Api 165 g",
            "price": coffee,
            "tax_class": "PPN",
            "barcodes": ["8994001001659"],
        }
    ]
    return document


# -- the fleet's side --------------------------------------------------------------------------
class FleetStub:
    """Publishes bundles retained on the terminal's down/cfg and keeps its statuses."""

    def __init__(self, broker) -> None:
        self.statuses: list[fp.ConfigStatus] = []
        self.lock = threading.Lock()
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2, client_id="test-fleet-config", protocol=mqtt.MQTTv5
        )
        cafile, certfile, keyfile = broker.credentials("fleet-ingest")
        client.tls_set(ca_certs=str(cafile), certfile=str(certfile), keyfile=str(keyfile))
        answers: queue.Queue = queue.Queue()
        client.on_connect = lambda _c, _u, _f, reason, _p: answers.put(reason)
        client.on_subscribe = lambda _c, _u, _m, codes, _p: answers.put(codes)
        client.on_message = self._on_message
        client.connect(broker.host, broker.port)
        client.loop_start()
        assert not answers.get(timeout=5).is_failure
        client.subscribe(fp.topic(TID, "up/cfg-status"), qos=1)
        answers.get(timeout=5)
        self.client = client

    def _on_message(self, _client, _userdata, message) -> None:
        with self.lock:
            self.statuses.append(fp.decode("up/cfg-status", message.payload))

    def push(self, payload: bytes) -> None:
        info = self.client.publish(fp.topic(TID, "down/cfg"), payload, qos=1, retain=True)
        info.wait_for_publish(5)

    def results(self) -> list[tuple[str, str]]:
        with self.lock:
            return [(s.result, s.reason) for s in self.statuses]

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


# -- the terminal and its agent -----------------------------------------------------------------
@pytest.fixture
def broker(tmp_path):
    broker = start_broker(tmp_path / "broker")
    yield broker
    broker.kill()


@pytest.fixture
def keys(clock):
    return Keys(clock())


@pytest.fixture
def stub(broker):
    stub = FleetStub(broker)
    yield stub
    stub.close()


@pytest.fixture
def made(settings, clock, broker, keys, tmp_path):
    """A terminal in group north with the root key pinned (``root=False``: none), its
    shift open."""

    def make(root: bool = True):
        pem = tmp_path / "fleet-root.pem"
        pem.write_text(public_pem(keys.root.public_key()))
        fleet = fleet_settings(broker, group=GROUP, config_root_key=pem if root else None)
        built = build_terminal(
            dataclasses.replace(settings, fleet=fleet), clock=clock, pin_params=FAST_TEST_PARAMS
        )
        return with_open_shift(built)

    return make


@pytest.fixture
def agent(clock):
    started = []

    def start(settings):
        thread = AgentThread(settings, wall=clock)
        started.append(thread)
        return thread

    yield start
    for thread in started:
        if thread.thread.is_alive():
            thread.stop()


def until_status(terminal, stub, count: int, what: str, deadline: float = 20.0):
    """Poll the app's side (as the window's clock does) until ``count`` statuses reached
    the fleet."""

    def seen():
        terminal.pos.fleet_config.poll()
        return len(stub.results()) >= count

    wait_for(seen, what, deadline)
    return stub.statuses[count - 1]


def config_changes(pos) -> list[dict]:
    return [e["payload"] for e in read_entries(pos.db, types=("config_change",))]


def coffee_price(pos) -> int:
    return pos.catalogue.lookup(COFFEE).product.price


# -- applied ---------------------------------------------------------------------------------------
def test_a_price_pushed_applies_to_the_next_sale_not_the_open_one(
    made, stub, agent, keys, settings
):
    terminal = made()
    pos = terminal.pos
    pos.sign_in("1", "1357")
    pos.scan(COFFEE)  # the open sale: the old price
    agent(pos.settings)
    stub.push(bundle(keys.key_list(), keys.document(priced(settings), version=3)))

    held = until_status(terminal, stub, 1, "held")
    assert (held.result, held.versions, held.rollout) == ("held", {"fleet": 3}, "r-1")
    assert shop_config.current(pos.db).version == 1
    assert pos.pay_cash(20000).committed.sale.total == 14500  # the open sale kept its price

    applied = until_status(terminal, stub, 2, "applied")
    assert (applied.result, applied.versions) == ("applied", {"fleet": 3})
    assert shop_config.current(pos.db).version == 2
    (change,) = config_changes(pos)
    assert change["scopes"] == {"fleet": 3} and change["rollout"] == "r-1"
    assert change["source"] == "fleet fleet v3" and change["version"] == 2
    assert fleet_config.state(pos.db).applied["fleet"].version == 3
    pos.scan(COFFEE)
    assert pos.pay_cash(20000).committed.sale.total == 15000  # the next sale: the new one


def test_a_newer_push_while_one_is_held_replaces_it(made, stub, agent, keys, settings):
    terminal = made()
    pos = terminal.pos
    pos.sign_in("1", "1357")
    pos.scan(COFFEE)
    agent(pos.settings)
    stub.push(bundle(keys.key_list(), keys.document(priced(settings, 15000), version=1)))
    until_status(terminal, stub, 1, "the first held")
    stub.push(bundle(keys.key_list(), keys.document(priced(settings, 17000), version=2)))
    held = until_status(terminal, stub, 2, "the second held")
    assert (held.result, held.versions) == ("held", {"fleet": 2})
    pos.pay_cash(20000)
    applied = until_status(terminal, stub, 3, "applied")
    assert (applied.result, applied.versions) == ("applied", {"fleet": 2})
    assert coffee_price(pos) == 17000 and shop_config.current(pos.db).version == 2
    assert fleet_config.waiting_bundle(pos.db) is None


def test_fleet_group_and_terminal_documents_merge_and_a_resend_changes_nothing(
    made, stub, agent, keys, settings
):
    terminal = made()
    pos = terminal.pos
    thread = agent(pos.settings)
    fleet_doc = priced(settings, 15000)
    group_doc = {"store": {"name": "Toko Utara"}}
    terminal_doc = {"products": [{**priced(settings)["products"][0], "price": 16000}]}
    pushed = bundle(
        keys.key_list(),
        keys.document(terminal_doc, scope=Scope("terminal", TID)),
        keys.document(fleet_doc),
        keys.document(group_doc, scope=Scope("group", GROUP), version=7),
    )
    stub.push(pushed)
    status = until_status(terminal, stub, 1, "applied")
    assert status.result == "applied"
    assert status.versions == {"fleet": 1, "group:north": 7, f"terminal:{TID}": 1}
    assert pos.settings.store.name == "Toko Utara" and coffee_price(pos) == 16000

    # the agent started again: the retained bundle comes again and is handled once
    wait_for(lambda: not fleet_config.unsent_statuses(pos.db), "the status acknowledged")
    thread.stop()
    agent(pos.settings)
    stub.push(pushed)
    with pytest.raises(TimeoutError):
        until_status(terminal, stub, 2, "nothing more", deadline=1.5)
    assert shop_config.current(pos.db).version == 2


def test_a_terminal_offline_during_the_push_gets_the_latest_at_connect(
    made, stub, agent, keys, settings
):
    terminal = made()
    stub.push(bundle(keys.key_list(), keys.document(priced(settings, 15500), version=1)))
    stub.push(bundle(keys.key_list(), keys.document(priced(settings, 16500), version=2)))
    agent(terminal.pos.settings)  # connects after both: only the latest is retained
    status = until_status(terminal, stub, 1, "applied")
    assert (status.result, status.versions) == ("applied", {"fleet": 2})
    assert coffee_price(terminal.pos) == 16500


# -- refused -------------------------------------------------------------------------------------
def tamper(envelope: bytes) -> bytes:
    data = json.loads(envelope)
    signature = data["signature"]
    data["signature"] = ("0" if signature[0] != "0" else "1") + signature[1:]
    return json.dumps(data).encode()


def unsigned(keys, settings) -> bytes:
    raw = json.loads(keys.document(priced(settings)))
    return base64.b64decode(raw["payload"])  # the bare payload, no envelope


REFUSALS = {
    "unsigned": lambda k, s: bundle(k.key_list(), unsigned(k, s)),
    "unknown_key": lambda k, s: bundle(
        k.key_list(), k.document(priced(s), signer=Ed25519PrivateKey.generate())
    ),
    "revoked_key": lambda k, s: bundle(
        k.key_list(keys=[k.signer], revoked=[key_id(k.other.public_key())]),
        k.document(priced(s), signer=k.other),
    ),
    "bad_signature": lambda k, s: bundle(k.key_list(), tamper(k.document(priced(s)))),
    "replay": lambda k, s: bundle(k.key_list(), k.document(priced(s), version=4)),
    "expired": lambda k, s: bundle(
        k.key_list(), k.document(priced(s), expires=timedelta(hours=-0.5))
    ),
    "wrong_scope": lambda k, s: bundle(
        k.key_list(), k.document(priced(s), scope=Scope("group", "south"))
    ),
    "invalid": lambda k, s: bundle(
        k.key_list(),
        k.document({**priced(s), "products": [{**priced(s)["products"][0], "price": -5}]}),
    ),
    "malformed": lambda k, s: b'{"key_list": 1}',
}


@pytest.mark.parametrize("reason", sorted(REFUSALS))
def test_each_refusal_keeps_the_old_configuration_and_is_reported_and_journaled(
    made, stub, agent, keys, settings, reason
):
    terminal = made()
    pos = terminal.pos
    if reason == "replay":  # version 5 of the fleet's document is applied already
        fleet_config.set_applied(pos.db, {"fleet": Applied(5, "0" * 64)}, pos.clock())
    before = shop_config.current(pos.db)
    agent(pos.settings)
    stub.push(REFUSALS[reason](keys, settings))
    status = until_status(terminal, stub, 1, reason)
    assert (status.result, status.reason) == ("refused", reason), status.message
    if reason == "invalid":
        assert "price" in status.message
    assert shop_config.current(pos.db) == before and coffee_price(pos) == 14500
    wait_for(lambda: pos.fleet_config.poll() or config_changes(pos), "the refusal journaled", 5)
    (change,) = config_changes(pos)
    assert (change["result"], change["reason"]) == ("refused", reason)
    assert "version" not in change  # (the presence's configuration version stays)
    assert not fleet_config.unjournaled_statuses(pos.db)


def test_an_oversized_bundle_is_refused(made, agent, stub):
    terminal = made()
    thread = agent(terminal.pos.settings)
    wait_for(lambda: thread.agent.link is not None, "connected")
    big = b" " * (fp.MAX_MESSAGE_BYTES + 1)
    thread.agent.inbox.put(
        ("message", thread.agent.link.number, thread.agent.topics["down/cfg"], big)
    )
    status = until_status(terminal, stub, 1, "oversized")
    assert (status.result, status.reason) == ("refused", "oversized")
    assert shop_config.current(terminal.pos.db).version == 1


def test_with_no_root_key_pinned_every_push_is_refused_as_untrusted(
    made, stub, agent, keys, settings
):
    terminal = made(root=False)
    agent(terminal.pos.settings)
    stub.push(bundle(keys.key_list(), keys.document(priced(settings))))
    status = until_status(terminal, stub, 1, "untrusted")
    assert status.result == "refused" and status.message.startswith("untrusted")
    assert coffee_price(terminal.pos) == 14500
    assert shop_config.current(terminal.pos.db).version == 1

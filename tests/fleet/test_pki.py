"""The fleet's PKI for production (fleet/broker.py init_pki, fleet/pki.py): an off-line root
CA certifies the issuing CA; the CA keys are encrypted when passphrases are given and do
not open without them; a real Mosquitto with these files takes a terminal certified by
the issuing CA and refuses one from elsewhere; its enrollment listener lets an anonymous
client ask and read its own answer only."""

from __future__ import annotations

import queue
import secrets
import time

import paho.mqtt.client as mqtt
import pytest
from cryptography import x509
from paho.mqtt.enums import CallbackAPIVersion

from fleet import pki
from fleet.broker import init_pki, write_config
from tests.fleet.test_broker import connect, published, subscribed
from tests.mosquitto import Broker, free_port

ONLINE = b"the issuing CA's passphrase"
ROOT = b"the root CA's passphrase, offline"


@pytest.fixture
def production(tmp_path):
    written = init_pki(
        tmp_path / "pki",
        ["localhost", "127.0.0.1"],
        root_dir=tmp_path / "offline",
        passphrase=ONLINE,
        root_passphrase=ROOT,
    )
    return tmp_path, written


def test_the_root_certifies_the_issuing_ca_and_the_keys_are_encrypted(production):
    tmp, written = production
    assert {p.name for p in written} >= {"root-ca.key", "ca.key", "ca.crt", "broker.crt"}
    for key in (tmp / "offline" / "root-ca.key", tmp / "pki" / "ca.key"):
        assert b"ENCRYPTED PRIVATE KEY" in key.read_bytes()
        assert key.stat().st_mode & 0o777 == 0o600
    with pytest.raises(pki.KeyLocked, match="give its passphrase"):
        pki.load_authority(tmp / "pki")
    with pytest.raises(pki.KeyLocked, match="does not open"):
        pki.load_authority(tmp / "pki", b"a wrong passphrase")
    issuing = pki.load_authority(tmp / "pki", ONLINE)
    root = pki.load_authority(tmp / "offline", ROOT, name="root-ca")
    trust = x509.load_pem_x509_certificates((tmp / "pki" / "ca.crt").read_bytes())
    assert trust == [issuing.certificate, root.certificate]  # the issuing CA's first
    assert issuing.certificate.issuer == root.certificate.subject

    # a terminal's certificate from the issuing CA, and the issuing CA's from the root
    # (OpenSSL checks the whole chain in the broker test below)
    terminal = pki.issue_with_new_key(issuing, "T07")
    terminal.certificate.verify_directly_issued_by(issuing.certificate)
    issuing.certificate.verify_directly_issued_by(root.certificate)


def test_init_again_keeps_what_exists(production):
    tmp, _written = production
    before = (tmp / "pki" / "ca.crt").read_bytes()
    again = init_pki(
        tmp / "pki",
        ["localhost"],
        root_dir=tmp / "offline",
        passphrase=ONLINE,
        root_passphrase=ROOT,
    )
    assert again == [] and (tmp / "pki" / "ca.crt").read_bytes() == before
    with pytest.raises(pki.KeyLocked):  # the existing issuing CA is opened, not replaced
        init_pki(tmp / "pki", ["localhost"], root_dir=tmp / "offline")


@pytest.fixture
def broker(production):
    tmp, _written = production
    directory = tmp / "pki"
    port, enroll_port = free_port(), free_port()
    write_config(
        tmp / "broker",
        port=port,
        host="127.0.0.1",
        cafile=directory / "ca.crt",
        certfile=directory / "broker.crt",
        keyfile=directory / "broker.key",
        enroll_port=enroll_port,
    )
    (tmp / "broker" / "ca.crt").write_bytes((directory / "ca.crt").read_bytes())
    running = Broker(
        tmp / "broker", port, pki.load_authority(directory, ONLINE), enroll_port=enroll_port
    )
    running.start()
    yield running
    running.stop()


def anonymous(broker, client_id: str, username: str | None = None):
    """A client on the enrollment listener (TLS, no certificate)."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    client.tls_set(ca_certs=str(broker.cafile))
    if username:
        client.username_pw_set(username)
    received: queue.Queue = queue.Queue()
    client.on_message = lambda _c, _u, message: received.put((message.topic, message.payload))
    answer: queue.Queue = queue.Queue()
    client.on_connect = lambda _c, _u, _f, reason, _p: answer.put(reason)
    client.connect(broker.host, broker.enroll_port)
    client.loop_start()
    assert not answer.get(timeout=5).is_failure
    return client, received


def test_a_terminal_of_the_issuing_ca_connects_one_from_elsewhere_does_not(broker):
    client, _received = connect(broker, "T07")
    client.loop_stop()
    with pytest.raises(ConnectionError):
        connect(broker, "T08", ca=pki.new_authority("another CA"))


def test_the_enrollment_listener_lets_a_new_terminal_ask_and_read_its_own_answer_only(broker):
    ingest, requests = connect(broker, "fleet-ingest")
    subscribed(ingest, "pos/enroll/v1/req/+")
    mine = secrets.token_hex(16)
    asking, answers = anonymous(broker, mine)
    subscribed(asking, f"pos/enroll/v1/res/{mine}")
    spy, spied = anonymous(broker, secrets.token_hex(16), username="fleet-ingest")
    subscribed(spy, "pos/enroll/v1/req/+")  # granted in appearance (MQTT), delivers nothing
    subscribed(spy, "pos/enroll/v1/res/+")
    published(asking, f"pos/enroll/v1/req/{mine}", b"request")
    assert requests.get(timeout=5) == (f"pos/enroll/v1/req/{mine}", b"request")
    published(ingest, f"pos/enroll/v1/res/{mine}", b"answer")
    assert answers.get(timeout=5) == (f"pos/enroll/v1/res/{mine}", b"answer")
    # what an anonymous client may not do: answer for the fleet, write a terminal's topics
    published(spy, f"pos/enroll/v1/res/{mine}", b"forged answer")
    published(spy, "pos/v1/T07/up/journal", b"forged entries")
    watcher, watched = connect(broker, "fleet-ingest")
    subscribed(watcher, "pos/v1/+/up/#")
    published(spy, "pos/v1/T07/up/journal", b"forged entries")
    time.sleep(0.5)
    assert spied.empty() and answers.empty() and watched.empty() and requests.empty()
    for client in (ingest, asking, spy, watcher):
        client.loop_stop()

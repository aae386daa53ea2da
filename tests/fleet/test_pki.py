"""The fleet's PKI for production (fleet/broker.py init_pki, fleet/pki.py): an off-line root
CA certifies the issuing CA; the CA keys are encrypted when passphrases are given and do
not open without them; a real Mosquitto with these files takes a terminal certified by
the issuing CA and refuses one from elsewhere; the enrollment broker beside it lets an anonymous
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
from fleet.broker import (
    enroller_secret,
    init_pki,
    issue_terminal,
    write_config,
    write_enroll_config,
)
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
    files = {
        "cafile": directory / "ca.crt",
        "certfile": directory / "broker.crt",
        "keyfile": directory / "broker.key",
    }
    write_config(tmp / "broker", port=port, host="127.0.0.1", **files)
    write_enroll_config(
        tmp / "broker" / "enroll",
        port=enroll_port,
        host="127.0.0.1",
        secret=enroller_secret(directory),
        **files,
    )
    (tmp / "broker" / "ca.crt").write_bytes((directory / "ca.crt").read_bytes())
    issuing = pki.load_authority(directory, ONLINE)
    running = Broker(tmp / "broker", port, issuing, enroll_port=enroll_port)
    running.start()
    yield running
    running.stop()


def enrolling(broker, client_id: str, user: tuple[str, str] | None = None):
    """A client of the enrollment broker (TLS, no certificate; ``user``: a name and a
    password). Returns it and the messages it receives; ConnectionError when refused."""
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5)
    client.tls_set(ca_certs=str(broker.cafile))
    if user:
        client.username_pw_set(*user)
    received: queue.Queue = queue.Queue()
    client.on_message = lambda _c, _u, message: received.put((message.topic, message.payload))
    answer: queue.Queue = queue.Queue()
    client.on_connect = lambda _c, _u, _f, reason, _p: answer.put(reason)
    client.connect(broker.host, broker.enroll_port)
    client.loop_start()
    reason = answer.get(timeout=5)
    if reason.is_failure:
        client.loop_stop()
        raise ConnectionError(str(reason))
    return client, received


def test_a_terminal_of_the_issuing_ca_connects_one_from_elsewhere_does_not(broker):
    client, _received = connect(broker, "T07")
    client.loop_stop()
    with pytest.raises(ConnectionError):
        connect(broker, "T08", ca=pki.new_authority("another CA"))


def test_a_new_terminal_asks_and_reads_its_own_answer_only(broker, production):
    tmp, _written = production
    secret = enroller_secret(tmp / "pki")
    enroller, requests = enrolling(broker, "fleet-enroller-x", ("fleet-enroller", secret))
    subscribed(enroller, "pos/enroll/v1/req/+")
    mine, other = secrets.token_hex(16), secrets.token_hex(16)
    asking, answers = enrolling(broker, mine)
    subscribed(asking, f"pos/enroll/v1/res/{mine}")
    spy, spied = enrolling(broker, other)  # anonymous, as every terminal there is
    subscribed(spy, "pos/enroll/v1/req/+")  # granted in appearance (MQTT), delivers nothing
    subscribed(spy, "pos/enroll/v1/res/+")
    published(asking, f"pos/enroll/v1/req/{mine}", b"request")
    assert requests.get(timeout=5) == (f"pos/enroll/v1/req/{mine}", b"request")
    published(enroller, f"pos/enroll/v1/res/{mine}", b"answer")
    assert answers.get(timeout=5) == (f"pos/enroll/v1/res/{mine}", b"answer")
    # what an anonymous client may not do: answer for the fleet, ask in another's name
    published(spy, f"pos/enroll/v1/res/{mine}", b"forged answer")
    published(spy, f"pos/enroll/v1/req/{mine}", b"a request in another's name")
    time.sleep(0.5)
    assert spied.empty() and answers.empty() and requests.empty()
    # the fleet's name without its password
    with pytest.raises(ConnectionError):
        enrolling(broker, "fleet-enroller-y", ("fleet-enroller", "a guess at the password"))
    for client in (enroller, asking, spy):
        client.loop_stop()


def test_nothing_done_on_the_enrollment_broker_reaches_the_fleets_sessions(broker):
    """Client ids are a broker's own: on the enrollment broker, an anonymous client that
    claims the ingest's or a terminal's id takes nothing over on the fleet's broker."""
    ingest, received = connect(broker, "fleet-ingest")  # client id test-fleet-ingest
    subscribed(ingest, "pos/v1/+/up/#")
    terminal, _t = connect(broker, "T07")  # client id test-T07
    for claimed in ("test-fleet-ingest", "test-T07", "fleet-ingest-1", "T07"):
        intruder, _i = enrolling(broker, claimed)
        intruder.loop_stop()
    time.sleep(0.5)
    assert ingest.is_connected() and terminal.is_connected()
    published(terminal, "pos/v1/T07/up/journal", b"entries")
    assert received.get(timeout=5) == ("pos/v1/T07/up/journal", b"entries")
    for client in (ingest, terminal):
        client.loop_stop()


def test_a_bundle_from_terminal_add_trusts_the_broker(broker, production, monkeypatch):
    """``pos-fleet terminal add --out``: its ca.crt is the whole trust file (the issuing
    CA and the root), so the terminal's TLS builds the broker's chain and connects."""
    tmp, _written = production
    secret = tmp / "passphrase"
    secret.write_bytes(ONLINE + b"\n")
    monkeypatch.setenv("POS_FLEET_PASSPHRASE_FILE", str(secret))
    out = tmp / "T09"
    issue_terminal(tmp / "pki", "T09", out)
    assert out.joinpath("ca.crt").read_bytes() == (tmp / "pki" / "ca.crt").read_bytes()
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="T09", protocol=mqtt.MQTTv5)
    client.tls_set(
        ca_certs=str(out / "ca.crt"),
        certfile=str(out / "client.crt"),
        keyfile=str(out / "client.key"),
    )
    answer: queue.Queue = queue.Queue()
    client.on_connect = lambda _c, _u, _f, reason, _p: answer.put(reason)
    client.connect(broker.host, broker.port)
    client.loop_start()
    try:
        assert not answer.get(timeout=5).is_failure
    finally:
        client.disconnect()
        client.loop_stop()

"""The fleet's Mosquitto configuration, for real: mutual TLS, the certificate's name as
the user, and ACLs per direction that keep each terminal to its own topics."""

from __future__ import annotations

import queue
import ssl

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from fleet import pki
from tests.mosquitto import start_broker


@pytest.fixture
def broker(tmp_path):
    broker = start_broker(tmp_path / "broker")
    yield broker
    broker.stop()


def connect(broker, name: str | None, *, ca: pki.Authority | None = None):
    """A connected MQTT 5 client as ``name`` (None: no client certificate). Returns the
    client and a queue of the messages it receives; raises when refused."""
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=f"test-{name}", protocol=mqtt.MQTTv5
    )
    if name is None:
        client.tls_set(ca_certs=str(broker.cafile))
    else:
        cafile, certfile, keyfile = broker.credentials(name, ca)
        client.tls_set(ca_certs=str(cafile), certfile=str(certfile), keyfile=str(keyfile))
    received: queue.Queue = queue.Queue()
    client.on_message = lambda _c, _u, message: received.put((message.topic, message.payload))
    answer: queue.Queue = queue.Queue()
    client.on_connect = lambda _c, _u, _f, reason, _p: answer.put(reason)
    client.connect(broker.host, broker.port)
    client.loop_start()
    try:
        reason = answer.get(timeout=3)
    except queue.Empty:
        client.loop_stop()
        raise ConnectionError("no CONNACK") from None
    if reason.is_failure:
        client.loop_stop()
        raise ConnectionError(str(reason))
    return client, received


def subscribed(client, topic: str) -> None:
    done: queue.Queue = queue.Queue()
    client.on_subscribe = lambda _c, _u, _mid, codes, _p: done.put(codes)
    client.subscribe(topic, qos=1)
    done.get(timeout=5)


def published(client, topic: str, payload: bytes) -> None:
    client.publish(topic, payload, qos=1).wait_for_publish(5)


def test_a_terminal_reaches_the_fleet_on_its_own_topics_only(broker):
    ingest, to_fleet = connect(broker, "fleet-ingest")
    subscribed(ingest, "pos/v1/+/up/#")
    t01, to_t01 = connect(broker, "T01")
    t02, to_t02 = connect(broker, "T02")
    subscribed(t01, "pos/v1/+/down/#")  # asks for everyone's: gets its own only
    subscribed(t02, "pos/v1/+/down/#")

    published(t01, "pos/v1/T01/up/journal", b"mine")
    assert to_fleet.get(timeout=5) == ("pos/v1/T01/up/journal", b"mine")
    published(t01, "pos/v1/T02/up/journal", b"forged")  # into another terminal's topic
    published(t01, "pos/v1/T01/down/ack", b"to itself")  # a terminal never writes down/
    published(ingest, "pos/v1/T02/down/ack", b"for T02")
    assert to_t02.get(timeout=5) == ("pos/v1/T02/down/ack", b"for T02")
    # delivery is what counts (Mosquitto grants the subscription anyway): nothing else came
    published(ingest, "pos/v1/T01/down/ack", b"for T01")
    assert to_t01.get(timeout=5) == ("pos/v1/T01/down/ack", b"for T01")
    for inbox in (to_fleet, to_t01, to_t02):
        with pytest.raises(queue.Empty):
            inbox.get(timeout=0.3)
    for client in (ingest, t01, t02):
        client.disconnect()
        client.loop_stop()


def test_clients_without_a_certificate_or_from_another_ca_are_refused(broker):
    with pytest.raises((ConnectionError, ssl.SSLError, OSError)):
        connect(broker, None)
    stranger = pki.new_authority("another CA")
    with pytest.raises((ConnectionError, ssl.SSLError, OSError)):
        connect(broker, "T01", ca=stranger)

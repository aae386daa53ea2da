"""``pos-fleet serve``: the ingest service on the broker.

It subscribes through an MQTT 5 shared subscription (``$share/ingest/...``), so several
instances on one broker share the terminals' messages, each message going to one of
them. Every message is handed to :class:`fleet.ingest.Ingest` on one worker thread (the
network thread only queues it); the broker's PUBACK is sent only after the ingest has
committed, so a server killed in the middle loses nothing: the broker delivers the
message again, and the terminal sends again what no ``down/ack`` confirmed (also when
the database failed: that message is acknowledged to the broker, never stored). The
acknowledgement to the terminal (``pos/v1/{tid}/down/ack``) is published after the
commit, as the protocol requires.

The session is persistent (a fixed client id per instance, ``clean_start`` off, a session
expiry), so what arrives while an instance restarts waits for it on the broker.
"""

from __future__ import annotations

import logging
import queue
import ssl
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from fleet.ingest import JobDone
from terminal.core import fleet_protocol as fp

log = logging.getLogger(__name__)

SHARE = "ingest"
SESSION_EXPIRY = 7 * 24 * 3600  # seconds the broker keeps an instance's queue while it is away
SUBSCRIPTIONS = ("pos/v1/+/up/#", "pos/v1/+/state")


@dataclass(frozen=True)
class BrokerSettings:
    host: str
    port: int
    cafile: Path
    certfile: Path
    keyfile: Path
    client_id: str = "fleet-ingest-1"
    keepalive: int = 30


def service_client(broker: BrokerSettings, client_id: str, **options) -> mqtt.Client:
    """A fleet service's MQTT 5 client on the fleet's broker: its certificate (mutual
    TLS), reconnecting by itself (1 s, up to 30 s between tries)."""
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2, client_id=client_id, protocol=mqtt.MQTTv5, **options
    )
    client.tls_set(
        ca_certs=str(broker.cafile),
        certfile=str(broker.certfile),
        keyfile=str(broker.keyfile),
        tls_version=ssl.PROTOCOL_TLS_CLIENT,
    )
    client.reconnect_delay_set(min_delay=1, max_delay=30)
    return client


class IngestServer:
    """One ingest instance: a paho client (MQTT 5, mutual TLS) and a worker thread."""

    def __init__(self, ingest, broker: BrokerSettings, *, share: str = SHARE) -> None:
        self.ingest = ingest
        self.broker = broker
        self.share = share
        self.received = 0  # messages taken (committed or refused)
        self._inbox: queue.Queue = queue.Queue()
        self._stop = threading.Event()
        self._connected = threading.Event()
        self._worker: threading.Thread | None = None
        self.client = self._client()

    def _client(self) -> mqtt.Client:
        client = service_client(self.broker, self.broker.client_id, manual_ack=True)
        client.max_inflight_messages_set(100)
        client.max_queued_messages_set(0)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        return client

    # -- paho's network thread ------------------------------------------------------------
    def _on_connect(self, client, _userdata, _flags, reason, _properties) -> None:
        if reason.is_failure:
            log.error("the broker refused the ingest service: %s", reason)
            return
        client.subscribe([(f"$share/{self.share}/{t}", 1) for t in SUBSCRIPTIONS])
        log.info("ingest connected to %s:%d", self.broker.host, self.broker.port)

    def _on_subscribe(self, *_args) -> None:
        self._connected.set()
        log.info("ingest subscribed: taking the terminals' messages")

    def _on_disconnect(self, _client, _userdata, _flags, reason, _properties) -> None:
        self._connected.clear()
        if not self._stop.is_set():
            log.warning("ingest lost the broker (%s); reconnecting", reason)

    def _on_message(self, _client, _userdata, message) -> None:
        self._inbox.put((message.topic, message.payload, message.mid, message.qos))

    # -- the worker -----------------------------------------------------------------------
    def _work(self) -> None:
        while not self._stop.is_set():
            try:
                topic, payload, mid, qos = self._inbox.get(timeout=0.2)
            except queue.Empty:
                continue
            self._take(topic, payload)
            if qos:
                self.client.ack(mid, qos)  # PUBACK only now: after the commit

    def _take(self, topic: str, payload: bytes) -> None:
        try:
            ack = self.ingest.raw(topic, payload)
        except Exception:  # the database is away (after the ingest's own retries)
            # the message is PUBACKed all the same, so one that always fails cannot hold
            # the instance's queue: the terminal sends it again when no down/ack came
            # within its ack_timeout, and nothing was stored
            log.exception("ingest failed on a message of %s; the terminal resends it", topic[:80])
            time.sleep(1)
            return
        self.received += 1
        if isinstance(ack, JobDone):  # a final answer: the retained job is cleared
            self.client.publish(
                fp.topic(ack.terminal_id, "down/job", ack.job_id), b"", qos=1, retain=True
            )
        elif ack is not None:
            terminal_id, _kind = fp.parse_topic(topic)
            self.client.publish(fp.topic(terminal_id, "down/ack"), fp.encode(ack), qos=1)

    # -- life -----------------------------------------------------------------------------
    def start(self, timeout: float = 10.0) -> None:
        """Connect and start; returns once subscribed, or after ``timeout`` with a
        warning (paho goes on trying; ``timeout=0``: do not wait)."""
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = SESSION_EXPIRY
        self._worker = threading.Thread(target=self._work, name="ingest", daemon=True)
        self._worker.start()
        self.client.connect_async(
            self.broker.host,
            self.broker.port,
            keepalive=self.broker.keepalive,
            clean_start=False,
            properties=properties,
        )
        self.client.loop_start()
        if timeout and not self.wait_ready(timeout):
            log.warning(
                "no answer yet from the broker %s:%d; trying on",
                self.broker.host,
                self.broker.port,
            )

    def wait_ready(self, timeout: float) -> bool:
        """Connected and subscribed within ``timeout`` seconds."""
        return self._connected.wait(timeout)

    def stop(self) -> None:
        self._stop.set()
        self.client.disconnect()
        self.client.loop_stop()
        if self._worker is not None:
            self._worker.join(5)

    def serve_forever(self) -> None:
        self.start(timeout=0)
        try:
            while not self._stop.wait(1):
                pass
        finally:
            self.stop()

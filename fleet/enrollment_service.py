"""The enrollment service inside ``pos-fleet serve``: on the enrollment broker (a Mosquitto
of its own, ``fleet/mosquitto/enroll.conf``), signed in as ``fleet-enroller`` with its
password, it takes each terminal's request, has :class:`fleet.enrollment.Enroller` answer
it, publishes the answer to the terminal's own topic there, and the enrolled terminal's
configuration retained on its ``down/cfg`` on the fleet's broker (``publish``: the
ingest's connection).

Its client id is random for each start (and its session clean): nobody can take its
connection over by claiming its id. Requests are answered on a worker thread of their
own, so a flood of them never delays the journal's ingest.
"""

from __future__ import annotations

import logging
import queue
import secrets
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from fleet.broker import ENROLLER_NAME
from fleet.enrollment import Enroller
from terminal.core import enrollment_protocol as ep
from terminal.core import fleet_protocol as fp

log = logging.getLogger(__name__)

SHARE = "enroll"
QUEUE = 100  # requests waiting at most; more are dropped (the terminal asks again)


@dataclass(frozen=True)
class EnrollBrokerSettings:
    host: str
    port: int
    cafile: Path
    secret: str  # the password of fleet-enroller


class EnrollmentService:
    def __init__(
        self,
        enroller: Enroller,
        broker: EnrollBrokerSettings,
        publish: Callable[[str, bytes], None],
    ) -> None:
        self.enroller = enroller
        self.broker = broker
        self.publish = publish
        self.answered = 0
        self._inbox: queue.Queue = queue.Queue(QUEUE)
        self._stop = threading.Event()
        self.subscribed = threading.Event()
        self._worker: threading.Thread | None = None
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"{ENROLLER_NAME}-{secrets.token_hex(8)}",
            protocol=mqtt.MQTTv5,
        )
        client.username_pw_set(ENROLLER_NAME, broker.secret)
        client.tls_set(ca_certs=str(broker.cafile), tls_version=ssl.PROTOCOL_TLS_CLIENT)
        client.reconnect_delay_set(min_delay=1, max_delay=30)
        client.on_connect = self._on_connect
        client.on_subscribe = lambda *_a: self._subscribed()
        client.on_disconnect = lambda *_a: self.subscribed.clear()
        client.on_message = self._on_message
        self.client = client

    def _on_connect(self, client, _userdata, _flags, reason, _properties) -> None:
        if reason.is_failure:
            log.error("the enrollment broker refused the enrollment service: %s", reason)
            return
        client.subscribe(f"$share/{SHARE}/{ep.REQUEST_PREFIX}+", qos=1)

    def _subscribed(self) -> None:
        self.subscribed.set()
        log.info("enrollment subscribed: answering new terminals")

    def _on_message(self, _client, _userdata, message) -> None:
        try:
            self._inbox.put_nowait((message.topic, bytes(message.payload)))
        except queue.Full:
            log.warning("enrollment requests arrive faster than answered: one dropped")

    def _work(self) -> None:
        while not self._stop.is_set():
            try:
                topic, payload = self._inbox.get(timeout=0.2)
            except queue.Empty:
                continue
            self.take(topic, payload)

    def take(self, topic: str, payload: bytes) -> None:
        """One request: the answer to its own topic, and the enrolled terminal's
        configuration retained on its ``down/cfg`` (what its agent reads first)."""
        try:
            request_id = ep.request_of_topic(topic)
        except fp.BadMessage:
            return
        try:
            answered = self.enroller.answer(request_id, payload)
        except Exception:  # the database is away: the terminal asks again
            log.exception("enrollment request %s not answered", request_id)
            return
        if answered.bundle is not None:
            self.publish(fp.topic(answered.terminal_id, "down/cfg"), fp.encode(answered.bundle))
        self.client.publish(ep.answer_topic(request_id), ep.encode(answered.answer), qos=1)
        self.answered += 1

    def start(self) -> None:
        self._worker = threading.Thread(target=self._work, name="enrollment", daemon=True)
        self._worker.start()
        self.client.connect_async(self.broker.host, self.broker.port, keepalive=30)
        self.client.loop_start()

    def stop(self) -> None:
        self._stop.set()
        self.client.disconnect()
        self.client.loop_stop()
        if self._worker is not None:
            self._worker.join(5)

"""One MQTT 5 connection to the fleet's broker: paho-mqtt 2 (callback API version 2),
TLS with the terminal's own client certificate (the broker takes its common name as the
user name, and its ACLs give the terminal only its own topics).

A new paho client for each connection: its Last Will carries that connection's birth,
and paho's own reconnecting is off (``reconnect_on_failure=False``): the agent decides
when to try again (its full-jitter backoff, or at once for Send now). paho keeps nothing
on disk nor across connections; whatever the fleet did not acknowledge is sent again
from the mark, so nothing needs to.

What paho reports on its network thread goes into the agent's inbox as a tuple
``(kind, link number, ...)``: ``("lost", n, reason)``, ``("message", n, topic, payload)``,
``("puback", n, mid)``. The agent handles them on its own thread; a report of an older
link is known by its number and dropped.
"""

from __future__ import annotations

import contextlib
import queue
import threading

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from terminal.config import FleetSettings
from terminal.fleet.certificate import serial_of


class LinkError(Exception):
    """The broker could not be reached, refused the connection, or did not answer."""


class MqttLink:
    def __init__(
        self, number: int, fleet: FleetSettings, client_id: str, inbox: queue.Queue
    ) -> None:
        self.number = number
        self.fleet = fleet
        self.inbox = inbox
        self._connack: queue.Queue = queue.Queue()
        self._suback: queue.Queue = queue.Queue()
        self.alive = False
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=client_id,
            protocol=mqtt.MQTTv5,
            reconnect_on_failure=False,
        )
        client.tls_set(
            ca_certs=str(fleet.ca_file), certfile=str(fleet.cert_file), keyfile=str(fleet.key_file)
        )
        # the certificate this connection shows the broker (diagnostics; a rotation's check)
        self.certificate_serial = serial_of(fleet.cert_file)
        # a few batches more than max_in_flight needs: the agent's own limit is the one
        client.max_inflight_messages_set(max(20, fleet.max_in_flight // fleet.batch_size + 5))
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_message = self._on_message
        client.on_subscribe = self._on_subscribe
        client.on_publish = self._on_publish
        self.client = client
        self._closed = threading.Event()

    # -- paho's thread ----------------------------------------------------------------------
    def _on_connect(self, _client, _userdata, _flags, reason, _properties) -> None:
        self._connack.put(reason)

    def _on_disconnect(self, _client, _userdata, _flags, reason, _properties) -> None:
        self.alive = False
        self._connack.put(reason)  # (a connection refused before its CONNACK)
        self.inbox.put(("lost", self.number, str(reason)))

    def _on_message(self, _client, _userdata, message) -> None:
        self.inbox.put(("message", self.number, message.topic, bytes(message.payload)))

    def _on_subscribe(self, _client, _userdata, _mid, reasons, _properties) -> None:
        self._suback.put(reasons)

    def _on_publish(self, _client, _userdata, mid, _reason, _properties) -> None:
        self.inbox.put(("puback", self.number, mid))

    # -- the agent's thread -----------------------------------------------------------------
    def open(self, will_topic: str, will: bytes, timeout: float) -> None:
        """Connect (TLS, then MQTT CONNECT with the Will); returns once the broker
        accepted. Raises :class:`LinkError`."""
        self.client.will_set(will_topic, will, qos=1, retain=True)
        self.client.connect_timeout = timeout
        try:
            self.client.connect(
                self.fleet.host, self.fleet.port, keepalive=self.fleet.keepalive_seconds
            )
        except (OSError, ValueError) as exc:  # refused, unreachable, TLS, a name not found
            raise LinkError(f"{type(exc).__name__}: {exc}") from None
        self.client.loop_start()
        try:
            reason = self._connack.get(timeout=timeout)
        except queue.Empty:
            self.abandon()
            raise LinkError("no answer to CONNECT") from None
        if reason.is_failure:
            self.abandon()
            raise LinkError(f"refused: {reason}")
        self.alive = True

    def subscribe(self, topic: str, timeout: float) -> None:
        result, _mid = self.client.subscribe(topic, qos=1)
        if result != mqtt.MQTT_ERR_SUCCESS:
            raise LinkError(f"subscribe: {mqtt.error_string(result)}")
        try:
            reasons = self._suback.get(timeout=timeout)
        except queue.Empty:
            raise LinkError("no answer to SUBSCRIBE") from None
        if any(reason.is_failure for reason in reasons):
            raise LinkError(f"subscription refused: {reasons}")

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> int:
        """QoS 1; returns the message id (its PUBACK comes to the inbox)."""
        return self.client.publish(topic, payload, qos=1, retain=retain).mid

    def close(self, goodbye: tuple[str, bytes] | None = None, timeout: float = 2.0) -> None:
        """A clean end: ``goodbye`` (topic, payload) published retained first, then
        DISCONNECT (the broker drops the Will)."""
        if self.alive and goodbye is not None:
            info = self.client.publish(goodbye[0], goodbye[1], qos=1, retain=True)
            with contextlib.suppress(RuntimeError, ValueError):  # the link went meanwhile:
                info.wait_for_publish(timeout)  # the Will says the same
        self.client.disconnect()
        self.abandon()

    def abandon(self) -> None:
        """The connection is gone (or never came): stop paho's thread and close."""
        self.alive = False
        if not self._closed.is_set():
            self._closed.set()
            self.client.loop_stop()
            with contextlib.suppress(Exception):  # already closed is fine
                self.client.disconnect()

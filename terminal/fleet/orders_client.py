"""A CS terminal's calls to the fleet's central stock and bookings (online-orders mode).

The app opens its own MQTT 5 connection to the fleet's broker for these (the agent's
stays the journal's): the same client certificate as the agent (both run as the ``pos``
user), another client id (``{tid}-orders``), a clean session that keeps nothing. A call
is one request on ``up/orders/{id}`` and its answer on ``down/orders/{id}``; the answer
waits at most ``timeout`` seconds. No answer: :class:`OrdersUnavailable` - the desk
says the fleet cannot be reached, and nothing was booked that the customer was told of
(a booking made after the desk gave up is released at its deadline like any unpaid one).
"""

from __future__ import annotations

import contextlib
import queue
import ssl
import threading
import uuid

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from terminal.config import FleetSettings
from terminal.core import fleet_protocol as fp
from terminal.core.errors import N_, PosError


class OrdersUnavailable(PosError):
    def __init__(self) -> None:
        super().__init__(N_("The fleet does not answer: online orders cannot be reached"))


class OrdersRefused(PosError):
    """The fleet's refusal, with its message id and parameters (shown translated)."""

    def __init__(self, msgid: str, **params: str) -> None:
        try:
            super().__init__(msgid, **params)
        except (KeyError, IndexError, ValueError):  # a message whose parameters are off
            super().__init__(N_("The fleet refused: {reason}"), reason=msgid[:200])


class OrdersClient:
    def __init__(self, fleet: FleetSettings, terminal_id: str, *, timeout: float = 5.0) -> None:
        self.fleet, self.terminal_id, self.timeout = fleet, terminal_id, timeout
        self._waiting: dict[str, queue.Queue] = {}
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._client: mqtt.Client | None = None

    def _connect(self) -> mqtt.Client:
        with self._lock:
            if self._client is not None:
                return self._client
            fleet = self.fleet
            client = mqtt.Client(
                CallbackAPIVersion.VERSION2,
                client_id=f"{self.terminal_id}-orders",
                protocol=mqtt.MQTTv5,
            )
            client.tls_set(
                ca_certs=str(fleet.ca_file),
                certfile=str(fleet.cert_file),
                keyfile=str(fleet.key_file),
                tls_version=ssl.PROTOCOL_TLS_CLIENT,
            )
            client.on_connect = self._on_connect
            client.on_subscribe = self._on_subscribe
            client.on_disconnect = lambda *_a: self._ready.clear()
            client.on_message = self._on_message
            client.reconnect_delay_set(min_delay=1, max_delay=30)
            client.connect_async(fleet.host, fleet.port, keepalive=fleet.keepalive_seconds)
            client.loop_start()
            self._client = client
            return client

    def _on_connect(self, client, _userdata, _flags, reason, _properties) -> None:
        if not reason.is_failure:
            client.subscribe(fp.topic(self.terminal_id, "down/orders", "+"), qos=1)

    def _on_subscribe(self, _client, _userdata, _mid, reasons, _properties) -> None:
        if reasons and not any(r.is_failure for r in reasons):
            self._ready.set()

    def _on_message(self, _client, _userdata, message) -> None:
        try:
            _tid, _kind, call_id = fp.parse_job_topic(message.topic)
        except fp.BadMessage:
            return
        waiting = self._waiting.get(call_id or "")
        if waiting is not None:  # (never blocks paho's thread: a repeat is dropped)
            with contextlib.suppress(queue.Full):
                waiting.put_nowait(bytes(message.payload))

    def call(self, request: fp.OrderRequest, call_id: str = "") -> fp.OrderReply:
        """The fleet's answer; OrdersRefused for a refusal, OrdersUnavailable when none
        came in time. ``call_id``: the same for a retry of one action (the fleet does a
        booking once per call id, and answers a repeat with what it answered)."""
        client = self._connect()
        if not self._ready.wait(self.timeout):
            raise OrdersUnavailable()
        call_id = call_id or uuid.uuid4().hex
        answer: queue.Queue = queue.Queue(maxsize=1)
        self._waiting[call_id] = answer
        try:
            client.publish(
                fp.topic(self.terminal_id, "up/orders", call_id), fp.encode(request), qos=1
            )
            try:
                payload = answer.get(timeout=self.timeout)
            except queue.Empty:
                raise OrdersUnavailable() from None
        finally:
            self._waiting.pop(call_id, None)
        try:
            reply = fp.decode("down/orders", payload)
        except ValueError:
            raise OrdersUnavailable() from None
        if not reply.ok:
            raise OrdersRefused(reply.error or N_("The fleet refused"), **reply.params)
        return reply

    def close(self) -> None:
        with self._lock:
            if self._client is not None:
                self._client.disconnect()
                self._client.loop_stop()
                self._client = None

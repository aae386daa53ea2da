"""Asking the fleet for this terminal's certificate, once, at its first boot
(``terminal.core.enrollment_protocol``): over TLS to the fleet's enrollment broker,
the broker checked with the CA of the provisioning bundle (its name against the host the
bundle gives), as an anonymous client whose id is the request's random id."""

from __future__ import annotations

import queue
import ssl

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from terminal.core import enrollment_protocol as ep
from terminal.core.fleet_protocol import BadMessage


class EnrollError(Exception):
    """No answer from the fleet (unreachable, the broker not the fleet's, silent)."""


def _context(ca_pem: str) -> ssl.SSLContext:
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    try:
        context.load_verify_locations(cadata=ca_pem)
    except ssl.SSLError as exc:
        raise EnrollError(f"the bundle's CA certificate is unusable: {exc}") from None
    return context


def ask(
    host: str, port: int, ca_pem: str, request: ep.EnrollRequest, *, timeout: float = 30.0
) -> ep.EnrollAnswer:
    """The fleet's answer to ``request``; EnrollError when none came."""
    events: queue.Queue = queue.Queue()
    client = mqtt.Client(
        CallbackAPIVersion.VERSION2,
        client_id=request.request,
        protocol=mqtt.MQTTv5,
        reconnect_on_failure=False,
    )
    client.tls_set_context(_context(ca_pem))
    client.on_connect = lambda _c, _u, _f, reason, _p: events.put(("connack", reason))
    client.on_subscribe = lambda _c, _u, _m, reasons, _p: events.put(("suback", reasons))
    client.on_message = lambda _c, _u, message: events.put(("message", bytes(message.payload)))
    client.on_disconnect = lambda _c, _u, _f, reason, _p: events.put(("lost", reason))
    try:
        client.connect(host, port, keepalive=30)
    except ssl.SSLCertVerificationError as exc:
        reason = exc.verify_message
        raise EnrollError(
            f"the broker at {host}:{port} is not the fleet's (its certificate: {reason})"
        ) from None
    except (OSError, ssl.SSLError) as exc:
        raise EnrollError(f"the fleet's broker {host}:{port} is not reachable: {exc}") from None
    client.loop_start()
    try:
        return _exchange(client, events, request, timeout, f"{host}:{port}")
    finally:
        client.disconnect()
        client.loop_stop()


def _next(events: queue.Queue, timeout: float, waiting_for: str):
    try:
        return events.get(timeout=timeout)
    except queue.Empty:
        raise EnrollError(
            f"no answer from the fleet within {timeout:.0f} s ({waiting_for})"
        ) from None


def _exchange(client, events, request: ep.EnrollRequest, timeout: float, where: str):
    kind, value = _next(events, timeout, "the broker's welcome")
    if kind != "connack" or value.is_failure:
        raise EnrollError(f"the broker at {where} refused the connection: {value}")
    client.subscribe(ep.answer_topic(request.request), qos=1)
    kind, value = _next(events, timeout, "the subscription")
    if kind != "suback" or any(r.is_failure for r in value):
        raise EnrollError(f"the broker at {where} refused the answer's topic: {value}")
    client.publish(ep.request_topic(request.request), ep.encode(request), qos=1)
    while True:
        kind, value = _next(events, timeout, "the certificate")
        if kind == "lost":
            raise EnrollError(f"the broker at {where} closed the connection: {value}")
        if kind == "message":
            try:
                return ep.decode("enroll-res", value)
            except BadMessage as exc:
                raise EnrollError(f"the fleet's answer is malformed: {exc}") from None

"""Publishing to the terminals' ``down/`` topics from an admin command (``pos-fleet config
push``): one MQTT 5 connection with the fleet service's credentials (``[broker]`` of
``config/fleet.toml``; the ACLs let ``fleet-ingest`` write every terminal's ``down/#``),
its own client id so it never takes over a running ``pos-fleet serve``'s session.

Each publish is QoS 1 and waits for the broker's PUBACK: once :meth:`Publisher.publish`
returns, the broker holds the message (a retained one for every later subscriber).
"""

from __future__ import annotations

import os
import ssl
import threading

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from fleet.server import BrokerSettings


class PublishError(RuntimeError):
    """The broker could not be reached, refused us, or did not take a message in time."""


class Publisher:
    def __init__(self, broker: BrokerSettings, *, timeout: float = 10.0) -> None:
        self.broker = broker
        self.timeout = timeout
        self._connected = threading.Event()
        self._refused: str | None = None
        self.client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=f"{broker.client_id}-push-{os.getpid()}",
            protocol=mqtt.MQTTv5,
        )
        self.client.tls_set(
            ca_certs=str(broker.cafile),
            certfile=str(broker.certfile),
            keyfile=str(broker.keyfile),
            tls_version=ssl.PROTOCOL_TLS_CLIENT,
        )
        self.client.on_connect = self._on_connect

    def _on_connect(self, _client, _userdata, _flags, reason, _properties) -> None:
        if reason.is_failure:
            self._refused = str(reason)
        self._connected.set()

    def __enter__(self) -> Publisher:
        try:
            self.client.connect(self.broker.host, self.broker.port, keepalive=30)
        except (OSError, ssl.SSLError) as exc:
            raise PublishError(
                f"the broker {self.broker.host}:{self.broker.port} is not reachable: {exc}"
            ) from None
        self.client.loop_start()
        if not self._connected.wait(self.timeout) or self._refused:
            self.close()
            raise PublishError(
                f"the broker {self.broker.host}:{self.broker.port} did not take us: "
                f"{self._refused or 'no answer'}"
            )
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        info = self.client.publish(topic, payload, qos=1, retain=retain)
        try:
            info.wait_for_publish(self.timeout)
        except (ValueError, RuntimeError) as exc:
            raise PublishError(f"{topic}: not sent: {exc}") from None
        if not info.is_published():
            raise PublishError(f"{topic}: the broker did not confirm it in {self.timeout} s")

"""A ZVT client on a link that can be re-established after a fault.

Serial: the same line (a pulled cable comes back on the same device); what arrived while
it was broken is thrown away. TCP: the dead connection is closed and a new one dialled;
before each command a connection the terminal closed is noticed and replaced, so nothing
is ever sent into a dead socket.
"""

from __future__ import annotations

import contextlib
import socket
import termios

from hal.card.zvt.client import ZvtClient
from hal.card.zvt.transport import LinkLost, SerialTransport, TcpTransport


class SerialLink:
    """Opened by a stable name (``/dev/serial/by-id/...``): after a USB unplug and replug
    the adapter gets a new ttyUSBn, the stable name follows it, and the link opens it
    again on the next reconnect - no restart."""

    def __init__(
        self, device: str, *, baudrate: int = 9600, ack_timeout: float = 5.0, **client_options
    ) -> None:
        self.device, self.baudrate, self.ack_timeout = device, baudrate, ack_timeout
        self.options = client_options
        self.transport = SerialTransport.open(device, baudrate=baudrate, ack_timeout=ack_timeout)
        self._client = ZvtClient(self.transport, **client_options)

    @property
    def client(self) -> ZvtClient:
        return self._client

    def reconnect(self) -> ZvtClient:
        try:
            self.transport.port.reset_input_buffer()
        except (OSError, ValueError, AttributeError, termios.error):  # the line is gone
            self._reopen()
        self.transport.reset()
        return self._client

    def _reopen(self) -> None:
        with contextlib.suppress(OSError):
            self.transport.close()
        try:
            self.transport = SerialTransport.open(
                self.device, baudrate=self.baudrate, ack_timeout=self.ack_timeout
            )
        except OSError as exc:  # not plugged back yet: the caller tries again later
            raise LinkLost(f"{self.device} is not there: {exc}") from None
        self._client.transport = self.transport

    def close(self) -> None:
        self.transport.close()


class TcpLink:
    def __init__(self, host: str, port: int = 20007, **client_options) -> None:
        self.host, self.port = host, port
        self.options = client_options
        self._client = self._dial()

    def _dial(self) -> ZvtClient:
        return ZvtClient(TcpTransport.connect(self.host, self.port), **self.options)

    @property
    def client(self) -> ZvtClient:
        sock = self._client.transport.sock
        if sock.fileno() < 0 or _closed_by_peer(sock):
            return self.reconnect()
        return self._client

    def reconnect(self) -> ZvtClient:
        """Dial first, then drop the old connection: a failed dial leaves a usable state."""
        fresh = self._dial()
        self._client.transport.close()
        self._client = fresh
        return self._client

    def close(self) -> None:
        self._client.transport.close()


def _closed_by_peer(sock: socket.socket) -> bool:
    """True when the terminal closed the connection. Peeks without waiting: a socket with
    a timeout would otherwise wait for data, and report its timeout as an error."""
    timeout = sock.gettimeout()
    sock.setblocking(False)
    try:
        return sock.recv(1, socket.MSG_PEEK) == b""
    except BlockingIOError:
        return False  # open, nothing to read
    except OSError:
        return True
    finally:
        sock.settimeout(timeout)

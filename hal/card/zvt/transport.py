"""Moving APDUs: over a serial line (framed, ACK/NAK, retries) or TCP (plain APDUs).

Both offer the same two calls, so the client and the simulator do not care which:
``send(apdu)`` returns once the other side has the APDU (serial: its ACK came);
``receive(timeout)`` returns the next APDU (serial: after checking its CRC and ACKing it;
a bad frame is NAKed and the repeat awaited). Timeouts raise :class:`LinkTimeout`, a
closed line :class:`LinkLost`.

Serial, both sides sending at once (the register's Abort crossing the terminal's status
message - PA00P015 2.21 warns of it): a good frame that arrives while ``send`` waits for
its ACK is ACKed at once and kept for the next ``receive``, and the wait goes on; the
other side, doing the same, gets our ACK after its own. Neither frame is lost or sent
twice.
"""

from __future__ import annotations

import socket
import time
from typing import Protocol

from hal.card.zvt.framing import ACK, NAK, FrameEvent, FrameReader, frame

T1_ACK_TIMEOUT = 5.0  # PA00P016: wait for the receiver's ACK
MAX_TRIES = 3  # a frame is sent at most three times


class LinkError(Exception):
    """The link to the card terminal failed; the step it failed at is in the message."""


class LinkTimeout(LinkError):
    pass


class LinkLost(LinkError):
    pass


class Transport(Protocol):
    def send(self, apdu: bytes) -> None: ...
    def receive(self, timeout: float) -> bytes: ...
    def close(self) -> None: ...


class SerialTransport:
    """ZVT over a serial port: a pyserial port, or anything with read/write like one."""

    def __init__(self, port, *, ack_timeout: float = T1_ACK_TIMEOUT) -> None:
        self.port = port
        self.ack_timeout = ack_timeout
        self.reader = FrameReader()
        self._queue: list[FrameEvent] = []
        self._received: list[bytes] = []  # good frames that came while send() waited: ACKed

    def reset(self) -> None:
        """Forget everything half-read (after the line was broken)."""
        self.reader = FrameReader()
        self._queue.clear()
        self._received.clear()

    @classmethod
    def open(cls, device: str, baudrate: int = 9600, **kwargs) -> SerialTransport:
        import serial  # noqa: PLC0415 - pyserial only for real serial lines

        port = serial.Serial(
            device, baudrate=baudrate, bytesize=8, parity="N", stopbits=2, timeout=0.05
        )
        return cls(port, **kwargs)

    def _next_event(self, deadline: float) -> FrameEvent:
        while not self._queue:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LinkTimeout("no answer from the card terminal")
            try:
                data = self.port.read(max(1, getattr(self.port, "in_waiting", 0) or 1))
            except (OSError, ValueError) as exc:  # pyserial: SerialException is an OSError
                raise LinkLost(f"serial line lost: {exc}") from None
            if data:
                self._queue.extend(self.reader.feed(data))
        return self._queue.pop(0)

    def send(self, apdu: bytes) -> None:
        wire = frame(apdu)
        for _try in range(MAX_TRIES):
            self._write(wire)
            deadline = time.monotonic() + self.ack_timeout
            while True:
                event = self._next_event(deadline)
                if event.kind == "ack":
                    return
                if event.kind == "nak":
                    break  # send again
                if event.kind == "apdu":  # the other side sent at the same moment
                    self._write(bytes([ACK]))
                    self._received.append(event.apdu)
                else:  # its frame was damaged: our NAK has it sent again
                    self._write(bytes([NAK]))
        raise LinkError(f"the card terminal refused the frame {MAX_TRIES} times (NAK)")

    def receive(self, timeout: float) -> bytes:
        if self._received:
            return self._received.pop(0)
        deadline = time.monotonic() + timeout
        naks = 0
        while True:
            event = self._next_event(deadline)
            if event.kind == "apdu":
                self._write(bytes([ACK]))
                return event.apdu
            if event.kind == "bad-crc":
                naks += 1
                self._write(bytes([NAK]))
                if naks >= MAX_TRIES:
                    raise LinkError("the card terminal's frames kept failing their CRC")
            # stray ACK/NAK while waiting for a message: ignore

    def _write(self, data: bytes) -> None:
        try:
            self.port.write(data)
            flush = getattr(self.port, "flush", None)
            if flush:
                flush()
        except OSError as exc:
            raise LinkLost(f"serial line lost: {exc}") from None

    def close(self) -> None:
        self.port.close()


class TcpTransport:
    """ZVT over TCP (default port 20007): APDUs back to back, no framing, no ACK bytes."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._buffer = b""

    @classmethod
    def connect(cls, host: str, port: int = 20007, timeout: float = 5.0) -> TcpTransport:
        try:
            sock = socket.create_connection((host, port), timeout=timeout)
        except OSError as exc:
            raise LinkLost(f"card terminal at {host}:{port} unreachable: {exc}") from None
        return cls(sock)

    def send(self, apdu: bytes) -> None:
        try:
            self.sock.sendall(apdu)
        except OSError as exc:
            raise LinkLost(f"TCP link lost: {exc}") from None

    def _fill(self, n: int, deadline: float) -> None:
        while len(self._buffer) < n:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise LinkTimeout("no answer from the card terminal")
            self.sock.settimeout(remaining)
            try:
                chunk = self.sock.recv(4096)
            except TimeoutError:
                raise LinkTimeout("no answer from the card terminal") from None
            except OSError as exc:
                raise LinkLost(f"TCP link lost: {exc}") from None
            if not chunk:
                raise LinkLost("the card terminal closed the connection")
            self._buffer += chunk

    def receive(self, timeout: float) -> bytes:
        """One APDU: class, instr, length (``FF`` + 2 bytes low first when long), data.
        Nothing is taken from the buffer until the whole APDU is there."""
        deadline = time.monotonic() + timeout
        self._fill(3, deadline)
        header, length = 3, self._buffer[2]
        if length == 0xFF:
            self._fill(5, deadline)
            header, length = 5, int.from_bytes(self._buffer[3:5], "little")
        self._fill(header + length, deadline)
        apdu, self._buffer = self._buffer[: header + length], self._buffer[header + length :]
        return apdu

    def close(self) -> None:
        self.sock.close()

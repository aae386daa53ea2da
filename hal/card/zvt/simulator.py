"""A ZVT payment terminal, simulated: the terminal's side of the same protocol, byte for
byte, on a pseudo-terminal (as a serial line) or on TCP.

It is scripted: approve, decline, busy, slow PIN entry with progress messages; and it can
be told to misbehave once: NAK the next frame, send a frame with a bad CRC, not ACK a
command, or drop the link at a given step. A fault belongs to the next command that arrives
after it was set (NAK: the next frame), never to the tail of a dialogue still running - on
TCP the register is done as soon as it has sent its last ACK, before the terminal has read
it; the faults that happened are listed with the command each one hit. It keeps a ledger of
what it charged, which is what the tests compare the register's records with: never charged
twice, never marked paid when not charged.
"""

from __future__ import annotations

import os
import select
import socket
import threading
import time
import tty
from collections.abc import Callable
from dataclasses import dataclass, field

from hal.card.zvt import bmp
from hal.card.zvt.apdu import Apdu, ApduError, bcd, from_bcd
from hal.card.zvt.client import (
    ABORT,
    AUTHORISATION,
    COMPLETION,
    END_OF_DAY,
    INTERMEDIATE,
    PRINT_LINE,
    REFUND,
    REGISTRATION,
    REPEAT_RECEIPT,
    REVERSAL,
    STATUS_ENQUIRY,
    STATUS_INFO,
)
from hal.card.zvt.framing import NAK, FrameEvent, FrameReader
from hal.card.zvt.transport import LinkError, LinkLost, SerialTransport, TcpTransport

DROP_STEPS = ("after-command", "after-answer", "after-status", "after-result", "after-completion")


@dataclass
class Script:
    outcome: str = "approve"  # approve | decline | busy
    delay: float = 0.0  # seconds before the result
    progress: list[tuple[int, float]] = field(default_factory=list)  # (04 FF code, seconds)
    fault: str | None = None  # nak | bad-crc | no-ack | drop-<step>; applies once
    drop_seconds: float = 1.0  # how long a dropped serial line stays silent
    card: str = "476173EEEEEE0119"  # the card presented: its PAN as the terminal masks it


@dataclass
class Charge:
    receipt_number: int
    trace_number: int
    amount: int
    kind: str  # payment | refund
    reversed: bool = False


class _FdPort:
    """The master side of a pty as a serial-port-like object."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.silent = False  # a pulled cable: nothing in, nothing out

    @property
    def in_waiting(self) -> int:
        return 0

    def read(self, n: int) -> bytes:
        ready, _, _ = select.select([self.fd], [], [], 0.05)
        if not ready:
            return b""
        data = os.read(self.fd, 4096)
        return b"" if self.silent else data

    def drain(self) -> None:
        while select.select([self.fd], [], [], 0)[0]:
            os.read(self.fd, 4096)

    def write(self, data: bytes) -> None:
        if not self.silent:
            os.write(self.fd, data)

    def close(self) -> None:
        os.close(self.fd)


class _FaultySerial(SerialTransport):
    """The simulator's serial side, able to NAK one good frame or corrupt one CRC."""

    corrupt_next = False

    def __init__(self, port, nak_wanted: Callable[[bytes], bool]) -> None:
        super().__init__(port)
        self.nak_wanted = nak_wanted  # asked as each good frame arrives, so a NAK set
        # while the simulator waits in receive() still meets the very next frame

    def _next_event(self, deadline: float) -> FrameEvent:
        while True:
            event = super()._next_event(deadline)
            if event.kind == "apdu" and self.nak_wanted(event.apdu):
                self._write(bytes([NAK]))  # answered as if damaged: the sender repeats it
                continue
            return event

    def _write(self, data: bytes) -> None:
        if self.corrupt_next and len(data) > 4:
            self.corrupt_next = False
            data = data[:-1] + bytes([data[-1] ^ 0xFF])
        super()._write(data)


class ZvtSimulator:
    def __init__(
        self, script: Script | None = None, terminal_id: int = 52500001, password: int = 0
    ) -> None:
        self.script = script or Script()
        self.terminal_id = terminal_id
        self.password = bcd(password, 3)
        self.ledger: list[Charge] = []
        self.trace = 0
        self.receipt = 0
        self.last_messages: list[bytes] = []  # of the last payment, for repeat receipt
        self.commands: list[tuple[int, int]] = []
        self.faults: list[tuple[str, bytes]] = []  # faults that happened, and the APDU hit
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._transport = None
        self._port: _FdPort | None = None
        self._server: socket.socket | None = None
        self.device: str | None = None
        self._away_until = 0.0
        self.address: tuple[str, int] | None = None
        self._armed: str | None = None  # the scripted fault when this command arrived
        self._raw = b""  # this command

    # -- running ---------------------------------------------------------------------------
    def start_pty(self) -> str:
        """Serve on a new pseudo-terminal; returns the device path the register opens."""
        master, slave = os.openpty()
        tty.setraw(master)
        tty.setraw(slave)
        self.device = os.ttyname(slave)
        self._slave = slave  # kept open so the line does not hang up between sessions
        self._port = _FdPort(master)
        self._transport = _FaultySerial(self._port, self._take_nak)
        self._start(self._serve_serial)
        return self.device

    def start_tcp(self, host: str = "127.0.0.1", port: int = 0) -> tuple[str, int]:
        self._server = socket.create_server((host, port))
        self._server.settimeout(0.1)
        self.address = self._server.getsockname()
        self._start(self._serve_tcp)
        return self.address

    def _start(self, target) -> None:
        self._thread = threading.Thread(target=target, daemon=True, name="zvt-simulator")
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread:
            self._thread.join(5)
        if self._server:
            self._server.close()
        if self._port:
            self._port.close()
            os.close(self._slave)

    def _serve_serial(self) -> None:
        while not self._stop.is_set():
            try:
                apdu = self._transport.receive(0.2)
            except LinkError:
                continue
            self._handle(apdu)

    def _serve_tcp(self) -> None:
        while not self._stop.is_set():
            if time.monotonic() < self._away_until:
                time.sleep(0.05)
                continue
            try:
                sock, _ = self._server.accept()
            except OSError:
                continue
            self._transport = TcpTransport(sock)
            while not self._stop.is_set():
                try:
                    apdu = self._transport.receive(0.2)
                except LinkLost:
                    break
                except LinkError:
                    continue
                if not self._handle(apdu):
                    break
            sock.close()

    # -- the dialogue ----------------------------------------------------------------------
    def _fault(self, name: str) -> bool:
        """Use up the scripted fault ``name`` - only if it was set before this command
        arrived. One set later (the register has its completion and goes on, while this
        side is still at its last step or waiting for the last ACK) is the next command's."""
        if self.script.fault == name and self._armed == name:
            self.script.fault = self._armed = None
            self.faults.append((name, self._raw))
            return True
        return False

    def _take_nak(self, apdu: bytes) -> bool:
        """Serial: NAK this good frame if the script says so (whenever it was set)."""
        if self.script.fault == "nak":
            self.script.fault = None
            self.faults.append(("nak", apdu))
            return True
        return False

    def _drop(self, step: str) -> bool:
        """Drop the link if the script says so at this step; False means: stop this session."""
        if not self._fault(f"drop-{step}"):
            return False
        if self._port:  # serial: the cable is pulled for a while, then plugged back
            self._port.silent = True
            time.sleep(self.script.drop_seconds)
            self._port.drain()  # what the register sent meanwhile never arrived
            self._transport.reader = FrameReader()
            self._transport._queue.clear()
            self._port.silent = False
        else:  # TCP: the connection is gone, and the terminal is away for a while
            self._transport.sock.close()
            self._away_until = time.monotonic() + self.script.drop_seconds
        return True

    def _send(self, apdu: Apdu) -> None:
        self._transport.send(apdu.to_bytes())

    def _wait_ack(self) -> None:
        answer = Apdu.parse(self._transport.receive(5.0))
        if answer.command != (0x80, 0x00):
            raise LinkError(f"expected the register's ACK, got {answer}")

    def _handle(self, raw: bytes) -> bool:
        """One command from the register. False when the link was dropped."""
        self._armed, self._raw = self.script.fault, raw  # set from now on: the next command's
        try:
            command = Apdu.parse(raw)
        except ApduError:
            self._send(Apdu(0x84, 0x9A))
            return True
        if command.cls in (0x80, 0x84):  # a stray acknowledgement is not a command
            return True
        if self._fault("no-ack"):
            return True  # (the frame was ACKed at the transport; the command is ignored)
        self.commands.append(command.command)
        if not isinstance(self._transport, _FaultySerial):  # TCP has no frames to spoil
            for name in ("nak", "bad-crc"):
                self._fault(name)
        if self._drop("after-command"):
            return False
        if self.script.outcome == "busy" and command.command in (AUTHORISATION, REFUND):
            self._send(Apdu(0x84, 0xA0))
            return True
        try:
            self._send(Apdu(0x80, 0x00))
            if self._drop("after-answer"):
                return False
            return self._dispatch(command)
        except LinkError:
            return False

    def _dispatch(self, command: Apdu) -> bool:
        if command.command in (AUTHORISATION, REFUND):
            return self._payment(command)
        if command.command == REVERSAL:
            return self._reversal(command)
        if command.command == REPEAT_RECEIPT:
            return self._replay()
        if command.command == STATUS_ENQUIRY:  # untagged LLL software version, status 00
            version = b"SIM-1.0"
            return self._message(
                Apdu(
                    *COMPLETION,
                    bytes(0xF0 | int(d) for d in f"{len(version):03d}") + version + b"\x00",
                )
            )
        if command.command in (REGISTRATION, END_OF_DAY):
            return self._message(
                Apdu(*COMPLETION, bmp.encode(bmp.TERMINAL_ID, bcd(self.terminal_id, 4)))
            )
        return self._message(Apdu(*COMPLETION))

    def _message(self, apdu: Apdu) -> bool:
        self._send(apdu)
        self._wait_ack()
        return True

    def _payment(self, command: Apdu) -> bool:
        fields = bmp.decode(command.data[3:] if command.command == REFUND else command.data)
        amount = from_bcd(fields[bmp.AMOUNT])
        for code, seconds in self.script.progress:
            time.sleep(seconds)
            self._message(Apdu(*INTERMEDIATE, bytes([code])))
            if self._drop("after-status"):
                return False
        time.sleep(self.script.delay)
        if self.script.outcome == "decline":
            return self._message(Apdu(*ABORT, bytes([0x05])))
        self.trace += 1
        self.receipt = self.receipt % 9999 + 1  # 4 BCD digits: 9999 wraps to 1, as terminals do
        kind = "refund" if command.command == REFUND else "payment"
        self.ledger.append(Charge(self.receipt, self.trace, amount, kind))
        info = Apdu(*STATUS_INFO, self._status_fields(amount))
        lines = [
            Apdu(*PRINT_LINE, b"\x00" + text.encode("cp437"))
            for text in (
                "SIMULATED CARD TERMINAL",
                f"TID {self.terminal_id}  TRACE {self.trace:06d}",
                f"AMOUNT {amount}",
                "APPROVED",
            )
        ]
        completion = Apdu(*COMPLETION)
        self.last_messages = [
            info.to_bytes(),
            *(ln.to_bytes() for ln in lines),
            completion.to_bytes(),
        ]
        if self._fault("bad-crc") and isinstance(self._transport, _FaultySerial):
            self._transport.corrupt_next = True
        self._send(info)
        if self._drop("after-result"):
            return False
        self._wait_ack()
        for line in lines:
            self._message(line)
        self._send(completion)
        if self._drop("after-completion"):
            return False
        self._wait_ack()
        return True

    def _status_fields(self, amount: int) -> bytes:
        return b"".join(
            [
                bmp.encode(bmp.RESULT, b"\x00"),
                bmp.amount(amount),
                bmp.encode(bmp.TRACE, bcd(self.trace, 3)),
                bmp.encode(bmp.RECEIPT_NO, bcd(self.receipt, 2)),
                bmp.encode(bmp.TERMINAL_ID, bcd(self.terminal_id, 4)),
                bmp.encode(bmp.CARD_TYPE, b"\x06"),
                bmp.encode(bmp.PAN, bytes.fromhex(self.script.card)),
                bmp.encode(bmp.AID, f"A{self.trace:05d}".encode().ljust(8, b"\x00")),
            ]
        )

    def _replay(self) -> bool:
        if not self.last_messages:
            return self._message(Apdu(*ABORT, bytes([0x83])))
        for raw in self.last_messages:
            self._send(Apdu.parse(raw))
            self._wait_ack()
        return True

    def _reversal(self, command: Apdu) -> bool:
        fields = bmp.decode(command.data[3:])
        number = from_bcd(fields[bmp.RECEIPT_NO])
        charge = next((c for c in self.ledger if c.receipt_number == number), None)
        if charge is None:
            return self._message(Apdu(*ABORT, bytes([0xB5])))
        if charge.reversed:
            return self._message(Apdu(*ABORT, bytes([0xB4])))
        charge.reversed = True
        self.trace += 1
        self._message(
            Apdu(
                *STATUS_INFO,
                bmp.encode(bmp.RESULT, b"\x00")
                + bmp.amount(charge.amount)
                + bmp.encode(bmp.TRACE, bcd(self.trace, 3))
                + bmp.encode(bmp.RECEIPT_NO, bcd(number, 2)),
            )
        )
        return self._message(Apdu(*COMPLETION))

    # -- what the tests look at ------------------------------------------------------------
    def charged(self, amount: int | None = None) -> list[Charge]:
        """Payments that stand: approved and not reversed."""
        return [
            c
            for c in self.ledger
            if c.kind == "payment" and not c.reversed and (amount is None or c.amount == amount)
        ]

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

As a terminal it also keeps to the protocol where the register errs (PA00P015 13.08):
- Abort (06 B0) with nothing running is answered ``80 00 00`` and nothing else (2.23);
  during a payment that still waits for the card or the customer (its progress messages
  and its delay) it is answered ``80 00 00`` and the payment ends with ``06 1E 01 6C``,
  nothing charged; once the payment is decided it is refused with ``84 83 00`` (function
  not possible) and the payment completes as usual. Any other command while one runs is
  answered ``84 A0 00`` (receiver not ready).
- A command carrying a password (06 00, 06 20, 06 30, 06 31, 06 50, 05 01) with a wrong
  one is refused with ``84 37 00``, as card complete's terminals do ("ZVT-Praezisierung"
  22, 3.1.2.1). A Registration in another currency than the terminal's is refused with
  ``84 1E 03 6F <CC>`` (2.1); a payment or refund in another currency ends with
  ``06 1E 03 6F <CC>`` (2.2.9).
- End-of-Day (06 50) sends the status information with the batch's totals (BMP 04 and
  BMP 60, 3.1.3) and its receipt before the completion ``06 0F 00``; the batch is then
  closed: receipt numbers start again at 1, and a payment of a closed batch can no longer
  be reversed (``06 1E 01 B5``).
- Receipts go as Print Lines (06 D1), or as Print Text-Blocks (06 D3, 3.6) when the
  register listed 06 D3 among its permitted commands at Registration (TLV tag 26), or
  when the script says so. Log-Off (06 02) is answered ``80 00 00`` only (2.24).
"""

from __future__ import annotations

import os
import select
import socket
import threading
import time
import tty
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

from hal.card.zvt import bmp, tlv
from hal.card.zvt.apdu import Apdu, ApduError, bcd, from_bcd
from hal.card.zvt.client import (
    ABORT,
    ABORT_COMMAND,
    AUTHORISATION,
    COMPLETION,
    END_OF_DAY,
    INTERMEDIATE,
    LOG_OFF,
    PRINT_BLOCK,
    PRINT_LINE,
    REFUND,
    REGISTRATION,
    REPEAT_RECEIPT,
    RESULT_ABORTED,
    RESULT_WRONG_CURRENCY,
    REVERSAL,
    STATUS_ENQUIRY,
    STATUS_INFO,
    TOTALS,
)
from hal.card.zvt.framing import NAK, FrameEvent
from hal.card.zvt.receipt import (
    ADMINISTRATION,
    CENTRED,
    CUSTOMER,
    DOUBLE_HEIGHT,
    DOUBLE_WIDTH,
    DayTotals,
    PrintLine,
    card_group,
    text_block,
)
from hal.card.zvt.transport import LinkError, LinkLost, LinkTimeout, SerialTransport, TcpTransport

DROP_STEPS = ("after-command", "after-answer", "after-status", "after-result", "after-completion")
PASSWORD_COMMANDS = {REGISTRATION, REPEAT_RECEIPT, REVERSAL, REFUND, END_OF_DAY, STATUS_ENQUIRY}
WRONG_PASSWORD = 0x37  # 84 37 00 (card complete, "ZVT-Praezisierung" 22, 3.1.2.1)
FUNCTION_NOT_POSSIBLE, PROTOCOL_ERROR, NOT_READY = 0x83, 0x9A, 0xA0
REVERSAL_NOT_POSSIBLE, ALREADY_REVERSED = 0xB5, 0xB4
POLL = 0.05  # seconds: how often a waiting payment looks at the line


@dataclass
class Script:
    outcome: str = "approve"  # approve | decline | busy
    delay: float = 0.0  # seconds before the result
    progress: list[tuple[int, float]] = field(default_factory=list)  # (04 FF code, seconds)
    fault: str | None = None  # nak | bad-crc | no-ack | drop-<step>; applies once
    drop_seconds: float = 1.0  # how long a dropped serial line stays silent
    card: str = "476173EEEEEE0119"  # the card presented: its PAN as the terminal masks it
    card_type: int = 10  # its ZVT card-type ID (PA00P015 chapter 12): 10 Visa
    print_text_block: bool = False  # receipts as 06 D3 even when not asked for


@dataclass
class Charge:
    receipt_number: int
    trace_number: int
    amount: int
    kind: str  # payment | refund
    reversed: bool = False
    card_type: int = 10
    batch: int = 1  # end of day closes a batch; a reversal reaches only the open one


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
    """The terminal: its password and currency are what a register must send (a real
    terminal is set up with them); ``currency`` is ISO 4217 numeric (360 IDR)."""

    def __init__(
        self,
        script: Script | None = None,
        terminal_id: int = 52500001,
        password: int = 0,
        currency: int = 360,
    ) -> None:
        self.script = script or Script()
        self.terminal_id = terminal_id
        self.password = bcd(password, 3)
        self.currency = currency
        self.ledger: list[Charge] = []
        self.trace = 0
        self.receipt = 0
        self.batch = 1
        self.last_messages: list[bytes] = []  # of the last payment, for repeat receipt
        self.commands: list[tuple[int, int]] = []
        self.faults: list[tuple[str, bytes]] = []  # faults that happened, and the APDU hit
        self.sent: deque[bytes] = deque(maxlen=500)  # the APDUs it sent (or tried to)
        self.text_blocks = False  # the register asked for 06 D3 at registration
        self._abortable = False  # a payment waits for the card or the customer
        self._aborted = False  # ... and the register aborted it
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
            self._transport.reset()
            self._port.silent = False
        else:  # TCP: the connection is gone, and the terminal is away for a while
            self._transport.sock.close()
            self._away_until = time.monotonic() + self.script.drop_seconds
        return True

    def _send(self, apdu: Apdu) -> None:
        raw = apdu.to_bytes()
        self.sent.append(raw)  # first: the register may act on it before send() returns
        self._transport.send(raw)

    def _wait_ack(self) -> None:
        """The register's 80 00 00 for the message just sent. An Abort that crosses it
        (the register aborts as this message goes out) is answered on the way."""
        deadline = time.monotonic() + 5.0
        while True:
            raw = self._transport.receive(max(0.01, deadline - time.monotonic()))
            try:
                answer = Apdu.parse(raw)
            except ApduError as exc:
                raise LinkError(f"expected the register's ACK, got {raw.hex(' ')}") from exc
            if answer.cls in (0x80, 0x84) and answer.ins == 0x00:  # 84 00: positive too
                return
            if answer.command != ABORT_COMMAND:
                raise LinkError(f"expected the register's ACK, got {answer}")
            self._interrupt(answer)

    def _interrupt(self, message: Apdu) -> None:
        """A command from the register while this terminal runs one."""
        self.commands.append(message.command)
        if message.command != ABORT_COMMAND:
            self._send(Apdu(0x84, NOT_READY))
        elif self._abortable:
            self._aborted = True
            self._send(Apdu(0x80, 0x00))
        else:  # the payment is decided (or the command cannot be stopped): it goes on
            self._send(Apdu(0x84, FUNCTION_NOT_POSSIBLE))

    def _pause(self, seconds: float) -> bool:
        """Wait ``seconds`` for the card or the customer, answering what the register
        sends meanwhile. True when the register aborted."""
        deadline = time.monotonic() + seconds
        while not self._aborted:
            if self._stop.is_set():
                raise LinkLost("the simulator is stopping")
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return False
            try:
                raw = self._transport.receive(min(remaining, POLL))
            except LinkTimeout:
                continue
            try:
                message = Apdu.parse(raw)
            except ApduError:
                self._send(Apdu(0x84, PROTOCOL_ERROR))
                continue
            if message.cls not in (0x80, 0x84):  # a stray acknowledgement is no command
                self._interrupt(message)
        return True

    def _handle(self, raw: bytes) -> bool:
        """One command from the register. False when the link was dropped."""
        self._armed, self._raw = self.script.fault, raw  # set from now on: the next command's
        try:
            command = Apdu.parse(raw)
        except ApduError:
            self._send(Apdu(0x84, PROTOCOL_ERROR))
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
        try:
            refusal = self._refusal(command)
            if refusal is not None:
                self._send(refusal)
                return True
            if self.script.outcome == "busy" and command.command in (AUTHORISATION, REFUND):
                self._send(Apdu(0x84, NOT_READY))
                return True
            self._send(Apdu(0x80, 0x00))
            if self._drop("after-answer"):
                return False
            return self._dispatch(command)
        except LinkError:
            return False

    def _refusal(self, command: Apdu) -> Apdu | None:
        """The negative acknowledgement for a command this terminal will not run."""
        wants_password = command.command in PASSWORD_COMMANDS and len(command.data) >= 3
        if wants_password and command.data[:3] != self.password:
            return Apdu(0x84, WRONG_PASSWORD)
        if command.command == REGISTRATION and len(command.data) >= 6:
            try:
                currency = from_bcd(command.data[4:6])
            except ApduError:
                return Apdu(0x84, PROTOCOL_ERROR)
            if currency != self.currency:  # 84 1E xx 6F <CC> (PA00P015 2.1)
                return Apdu(0x84, 0x1E, bytes([RESULT_WRONG_CURRENCY]) + bcd(self.currency, 2))
        return None

    def _dispatch(self, command: Apdu) -> bool:
        if command.command == ABORT_COMMAND:
            return True  # nothing running: the 80 00 00 was all (PA00P015 2.23)
        if command.command == LOG_OFF:
            self.text_blocks = False
            return True  # 80 00 00 only (2.24)
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
        if command.command == REGISTRATION:
            return self._registration(command)
        if command.command == END_OF_DAY:
            return self._end_of_day()
        return self._message(Apdu(*COMPLETION))

    def _message(self, apdu: Apdu) -> bool:
        self._send(apdu)
        self._wait_ack()
        return True

    def _registration(self, command: Apdu) -> bool:
        """Registration: the permitted commands (TLV tag 26) decide 06 D1 or 06 D3."""
        permitted: list[bytes] = []
        try:
            container = bmp.decode(command.data[6:]).get(bmp.TLV, b"")
            listed = tlv.find(tlv.decode(container), tlv.PERMITTED_COMMANDS)
            if listed is not None:
                permitted = [o.value for o in listed.children() if o.tag == tlv.COMMAND]
        except ApduError:
            pass  # a container this terminal cannot read: it keeps to Print Line
        self.text_blocks = bytes(PRINT_BLOCK) in permitted
        data = bmp.encode(bmp.TERMINAL_ID, bcd(self.terminal_id, 4))
        if len(command.data) >= 6:  # the register sent its currency: it gets ours
            data += bmp.encode(bmp.CURRENCY, bcd(self.currency, 2))
        return self._message(Apdu(*COMPLETION, data))

    def _receipt(self, lines: list[PrintLine], receipt_type: int) -> list[Apdu]:
        if self.text_blocks or self.script.print_text_block:
            return [Apdu(*PRINT_BLOCK, bmp.encode(bmp.TLV, text_block(lines, receipt_type)))]
        return [Apdu(*PRINT_LINE, bytes([ln.attribute]) + ln.text.encode("cp437")) for ln in lines]

    def _payment(self, command: Apdu) -> bool:
        try:
            fields = bmp.decode(command.data[3:] if command.command == REFUND else command.data)
            amount = from_bcd(fields[bmp.AMOUNT])
            currency = from_bcd(fields[bmp.CURRENCY]) if bmp.CURRENCY in fields else None
        except (ApduError, KeyError):
            return self._message(Apdu(*ABORT, bytes([PROTOCOL_ERROR])))
        if currency is not None and currency != self.currency:  # 06 1E 03 6F <CC> (2.2.9)
            return self._message(
                Apdu(*ABORT, bytes([RESULT_WRONG_CURRENCY]) + bcd(self.currency, 2))
            )
        self._abortable, self._aborted = True, False  # waiting for the card: abort works
        try:
            for code, seconds in self.script.progress:
                if self._pause(seconds):
                    return self._aborted_by_register()
                self._message(Apdu(*INTERMEDIATE, bytes([code])))
                if self._aborted:  # an Abort crossed this message
                    return self._aborted_by_register()
                if self._drop("after-status"):
                    return False
            if self._pause(self.script.delay):
                return self._aborted_by_register()
        finally:
            self._abortable = False  # decided from here on: an Abort comes too late
        if self.script.outcome == "decline":
            return self._message(Apdu(*ABORT, bytes([0x05])))
        self.trace += 1
        self.receipt = self.receipt % 9999 + 1  # 4 BCD digits: 9999 wraps to 1, as terminals do
        kind = "refund" if command.command == REFUND else "payment"
        self.ledger.append(
            Charge(self.receipt, self.trace, amount, kind, False, self.script.card_type, self.batch)
        )
        info = Apdu(*STATUS_INFO, self._status_fields(amount, currency))
        lines = self._receipt(
            [
                PrintLine("SIMULATED CARD TERMINAL", CENTRED | DOUBLE_WIDTH),
                PrintLine(f"TID {self.terminal_id}  TRACE {self.trace:06d}"),
                PrintLine(f"AMOUNT {amount}"),
                PrintLine("APPROVED", DOUBLE_HEIGHT),
            ],
            CUSTOMER,
        )
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

    def _aborted_by_register(self) -> bool:
        """The payment ends, nothing charged: 06 1E 6C (abort via timeout or abort key)."""
        self._aborted = False
        return self._message(Apdu(*ABORT, bytes([RESULT_ABORTED])))

    def _status_fields(self, amount: int, currency: int | None = None) -> bytes:
        return b"".join(
            [
                bmp.encode(bmp.RESULT, b"\x00"),
                bmp.amount(amount),
                bmp.encode(bmp.TRACE, bcd(self.trace, 3)),
                bmp.encode(bmp.RECEIPT_NO, bcd(self.receipt, 2)),
                bmp.encode(bmp.TERMINAL_ID, bcd(self.terminal_id, 4)),
                bmp.encode(bmp.CARD_TYPE, bytes([self.script.card_type])),
                bmp.encode(bmp.PAN, bytes.fromhex(self.script.card)),
                bmp.encode(bmp.AID, f"A{self.trace:05d}".encode().ljust(8, b"\x00")),
                # the currency only to a register that sent one (PA00P015 1.4)
                b"" if currency is None else bmp.encode(bmp.CURRENCY, bcd(currency, 2)),
            ]
        )

    def _end_of_day(self) -> bool:
        """Status information with the batch's totals, the receipt, then 06 0F 00 (2.16).
        The totals are the payments that stand (not reversed), by card group."""
        batch = [c for c in self.ledger if c.batch == self.batch]
        totals = DayTotals(
            batch[0].receipt_number if batch else 0, batch[-1].receipt_number if batch else 0
        )
        for charge in batch:
            if charge.kind == "payment" and not charge.reversed:
                group = card_group(charge.card_type)
                count, amount = totals.by_group.get(group, (0, 0))
                totals.by_group[group] = (count + 1, amount + charge.amount)
        self.trace += 1
        now = time.localtime()
        info = Apdu(
            *STATUS_INFO,
            bmp.encode(bmp.RESULT, b"\x00")
            + bmp.amount(totals.amount)
            + bmp.encode(TOTALS, totals.to_bytes())
            + bmp.encode(bmp.TRACE, bcd(self.trace, 3))
            + bmp.encode(bmp.TIME, bcd(now.tm_hour * 10000 + now.tm_min * 100 + now.tm_sec, 3))
            + bmp.encode(bmp.DATE, bcd(now.tm_mon * 100 + now.tm_mday, 2)),
        )
        self._message(info)
        lines = [
            PrintLine("END OF DAY", CENTRED | DOUBLE_WIDTH),
            PrintLine(f"TID {self.terminal_id}  TRACE {self.trace:06d}"),
            PrintLine(f"RECEIPTS {totals.receipt_from:04d}-{totals.receipt_to:04d}"),
            *(
                PrintLine(f"{group} {count} {amount}")
                for group, (count, amount) in totals.by_group.items()
            ),
            PrintLine(f"TOTAL {totals.count} {totals.amount}", DOUBLE_HEIGHT),
        ]
        self.batch += 1  # the host has the batch: the next one starts
        self.receipt = 0
        for line in self._receipt(lines, ADMINISTRATION):
            self._message(line)
        return self._message(Apdu(*COMPLETION))

    def _replay(self) -> bool:
        if not self.last_messages:
            return self._message(Apdu(*ABORT, bytes([FUNCTION_NOT_POSSIBLE])))
        for raw in self.last_messages:
            self._send(Apdu.parse(raw))
            self._wait_ack()
        return True

    def _reversal(self, command: Apdu) -> bool:
        try:
            number = from_bcd(bmp.decode(command.data[3:])[bmp.RECEIPT_NO])
        except (ApduError, KeyError):
            return self._message(Apdu(*ABORT, bytes([PROTOCOL_ERROR])))
        charge = next(
            (c for c in self.ledger if c.receipt_number == number and c.batch == self.batch),
            None,
        )
        if charge is None:
            return self._message(Apdu(*ABORT, bytes([REVERSAL_NOT_POSSIBLE])))
        if charge.reversed:
            return self._message(Apdu(*ABORT, bytes([ALREADY_REVERSED])))
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

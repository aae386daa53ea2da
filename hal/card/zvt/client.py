"""The cash register's side of ZVT: commands, and the dialogue that follows each.

Every command goes out; the terminal answers ``80 00 00`` (or ``84 xx``: refused) within
T3; then it may send intermediate status (04 FF: "insert card", "enter PIN"), status
information (04 0F: the result, with trace and receipt numbers, masked PAN, auth code),
print lines (06 D1), and finally completion (06 0F) or abort (06 1E). The register
acknowledges each with ``80 00 00``. T4 bounds the wait for the next message and restarts
with each one, so a slow PIN entry with progress messages never times out.

A lost link or a timeout raises :class:`~hal.card.zvt.transport.LinkError` carrying the
step reached; what the money did is then found out with :meth:`ZvtClient.status_enquiry`
and :meth:`ZvtClient.repeat_receipt` - never by sending the payment again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

from hal.card.zvt import bmp
from hal.card.zvt.apdu import Apdu, ApduError, bcd
from hal.card.zvt.status import intermediate_text, result_text
from hal.card.zvt.transport import LinkError, Transport

log = logging.getLogger(__name__)

ACK_APDU = Apdu(0x80, 0x00).to_bytes()
T3_ANSWER = 5.0  # seconds for the terminal's 80 00 00 after a command
T4_NEXT_MESSAGE = 180.0  # seconds between messages of a running transaction

REGISTRATION, AUTHORISATION, LOG_OFF = (0x06, 0x00), (0x06, 0x01), (0x06, 0x02)
REPEAT_RECEIPT, REVERSAL, REFUND = (0x06, 0x20), (0x06, 0x30), (0x06, 0x31)
END_OF_DAY, ABORT_COMMAND, STATUS_ENQUIRY = (0x06, 0x50), (0x06, 0xB0), (0x05, 0x01)
INTERMEDIATE, STATUS_INFO = (0x04, 0xFF), (0x04, 0x0F)
PRINT_LINE, PRINT_BLOCK, COMPLETION, ABORT = (0x06, 0xD1), (0x06, 0xD3), (0x06, 0x0F), (0x06, 0x1E)


class Refused(Exception):
    """The terminal refused the command outright (84 xx)."""

    def __init__(self, code: int) -> None:
        super().__init__(f"card terminal refused the command: {result_text(code)} ({code:02X})")
        self.code = code


@dataclass
class Outcome:
    """What the terminal reported for one command."""

    completed: bool = False  # 06 0F (else 06 1E, aborted)
    result_code: int | None = None  # BMP 27 from status information, or the abort code
    amount: int | None = None
    trace_number: int | None = None
    receipt_number: int | None = None
    terminal_id: int | None = None
    card_type: int | None = None
    masked_pan: str = ""
    auth_code: str = ""
    receipt_lines: list[str] = field(default_factory=list)
    statuses: list[int] = field(default_factory=list)
    terminal_status: int | None = None  # status enquiry: 00 ready
    software: str = ""

    @property
    def approved(self) -> bool:
        return self.completed and self.result_code in (None, 0)

    @property
    def message(self) -> str:
        return "approved" if self.approved else result_text(self.result_code or 0xFF)


StatusCallback = Callable[[int, str], None]


class ZvtClient:
    def __init__(
        self,
        transport: Transport,
        *,
        password: int = 0,
        currency: int = 360,
        on_status: StatusCallback | None = None,
        t3: float = T3_ANSWER,
        t4: float = T4_NEXT_MESSAGE,
    ) -> None:
        self.transport = transport
        self.password = bcd(password, 3)
        self.currency = currency  # ISO 4217 numeric: 360 IDR, 496 MNT, 156 CNY
        self.on_status = on_status
        self.t3, self.t4 = t3, t4

    # -- commands ----------------------------------------------------------------------------
    def register(self) -> Outcome:
        # 0xBA: ECR prints payment receipts (02), intermediate status wanted (08), ECR
        # controls payment (10) and admin (20), print lines sent to the ECR (80)
        config = 0xBA
        data = self.password + bytes([config]) + bcd(self.currency, 2)
        return self._dialogue(Apdu(*REGISTRATION, data), "registration")

    def authorise(self, amount: int) -> Outcome:
        data = bmp.amount(amount) + bmp.encode(bmp.CURRENCY, bcd(self.currency, 2))
        return self._dialogue(Apdu(*AUTHORISATION, data), "authorisation")

    def reversal(self, receipt_number: int) -> Outcome:
        data = self.password + bmp.encode(bmp.RECEIPT_NO, bcd(receipt_number, 2))
        return self._dialogue(Apdu(*REVERSAL, data), "reversal")

    def refund(self, amount: int) -> Outcome:
        return self._dialogue(Apdu(*REFUND, self.password + bmp.amount(amount)), "refund")

    def end_of_day(self) -> Outcome:
        return self._dialogue(Apdu(*END_OF_DAY, self.password), "end of day")

    def status_enquiry(self) -> Outcome:
        return self._dialogue(Apdu(*STATUS_ENQUIRY, self.password), "status enquiry")

    def repeat_receipt(self) -> Outcome:
        return self._dialogue(Apdu(*REPEAT_RECEIPT, self.password), "repeat receipt")

    def abort(self) -> None:
        self.transport.send(Apdu(*ABORT_COMMAND).to_bytes())

    # -- the dialogue ------------------------------------------------------------------------
    def _dialogue(self, command: Apdu, name: str) -> Outcome:
        step = f"{name}: sending"
        try:
            self.transport.send(command.to_bytes())
            step = f"{name}: waiting for the terminal's answer"
            answer = Apdu.parse(self.transport.receive(self.t3))
            if answer.cls == 0x84 and answer.ins not in (0x00, 0x9C):  # 84 00, 84 9C: go on
                raise Refused(answer.ins)
            if answer.cls not in (0x80, 0x84):
                raise LinkError(f"{name}: unexpected answer {answer}")
            outcome = Outcome()
            while True:
                step = f"{name}: waiting for the result"
                raw = self.transport.receive(self.t4)
                try:
                    message = Apdu.parse(raw)
                    done = self._take(message, outcome)
                except ApduError as exc:  # garbage inside a good frame: say so, carry on
                    log.warning("%s: malformed message from the terminal: %s", name, exc)
                    done = False
                step = f"{name}: acknowledging"
                self.transport.send(ACK_APDU)
                if done:
                    return outcome
        except LinkError as exc:
            raise type(exc)(f"{step}: {exc}") from None

    def _take(self, message: Apdu, outcome: Outcome) -> bool:
        """Record one terminal message; True when the transaction is over."""
        if message.command == INTERMEDIATE:
            code = message.data[0] if message.data else 0xFF
            outcome.statuses.append(code)
            if self.on_status:
                self.on_status(code, intermediate_text(code))
        elif message.command == STATUS_INFO:
            # fields before an unknown tag still count: a new BMP must not hide the result
            self._status_information(bmp.decode(message.data, partial=True), outcome)
        elif message.command == PRINT_LINE:
            outcome.receipt_lines.append(message.data[1:].decode("cp437", "replace"))
        elif message.command == PRINT_BLOCK:
            outcome.receipt_lines.extend(message.data.decode("cp437", "replace").splitlines())
        elif message.command == COMPLETION:
            outcome.completed = True
            self._completion(message.data, outcome)
            return True
        elif message.command == ABORT:
            outcome.completed = False
            outcome.result_code = message.data[0] if message.data else 0xFF
            return True
        return False

    @staticmethod
    def _completion(data: bytes, outcome: Outcome) -> None:
        """Completion data: BMPs (19, 29, 49, 06), or after a status enquiry an untagged
        LLL software version and the terminal's status byte (00: ready)."""
        if data[:1] and data[0] & 0xF0 == 0xF0 and len(data) >= 4:
            n = int("".join(str(b & 0x0F) for b in data[:3]))
            outcome.software = data[3 : 3 + n].decode("ascii", "replace")
            if len(data) > 3 + n:
                outcome.terminal_status = data[3 + n]
            return
        try:
            fields = bmp.decode(data)
        except ApduError:
            return
        if bmp.TERMINAL_ID in fields:
            outcome.terminal_id = bmp.bcd_field(fields, bmp.TERMINAL_ID)
        if bmp.PAYMENT_TYPE in fields:
            outcome.terminal_status = fields[bmp.PAYMENT_TYPE][0]

    @staticmethod
    def _status_information(fields: dict[int, bytes], outcome: Outcome) -> None:
        if bmp.RESULT in fields:
            outcome.result_code = fields[bmp.RESULT][0]
        outcome.amount = bmp.bcd_field(fields, bmp.AMOUNT)
        outcome.trace_number = bmp.bcd_field(fields, bmp.TRACE)
        outcome.receipt_number = bmp.bcd_field(fields, bmp.RECEIPT_NO)
        outcome.terminal_id = bmp.bcd_field(fields, bmp.TERMINAL_ID)
        if bmp.CARD_TYPE in fields:
            outcome.card_type = fields[bmp.CARD_TYPE][0]
        if bmp.PAN in fields:
            outcome.masked_pan = bmp.masked_pan(fields[bmp.PAN])
        if bmp.AID in fields:
            outcome.auth_code = fields[bmp.AID].rstrip(b"\x00 ").decode("ascii", "replace")

"""The cash register's side of ZVT: commands, and the dialogue that follows each.

Every command goes out; the terminal answers ``80 00 00`` (or ``84 xx``: refused) within
T3; then it may send intermediate status (04 FF: "insert card", "enter PIN"), status
information (04 0F: the result, with trace and receipt numbers, masked PAN, auth code;
after end of day the totals), print lines (06 D1) or text blocks (06 D3), and finally
completion (06 0F) or abort (06 1E). The register acknowledges each with ``80 00 00``.
T4 bounds the wait for the next message and restarts with each one, so a slow PIN entry
with progress messages never times out.

A lost link or a timeout raises :class:`~hal.card.zvt.transport.LinkError` carrying the
step reached; what the money did is then found out with :meth:`ZvtClient.status_enquiry`
and :meth:`ZvtClient.repeat_receipt` - never by sending the payment again.

Abort (06 B0, PA00P015 2.23): the terminal answers ``80 00 00`` (or ``84 xx``: it cannot)
and nothing else; a command it was running ends with Abort ``06 1E 6C`` (or, past the
point of no return, completes as usual). Both are read here - by the dialogue of the
running command when another thread sets :attr:`ZvtClient.abort_request`, or by
:meth:`ZvtClient.abort` - so no answer is left over to be taken for the next command's.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from hal.card.zvt import bmp, receipt, tlv
from hal.card.zvt.apdu import Apdu, ApduError, bcd, from_bcd
from hal.card.zvt.receipt import DayTotals, PrintLine
from hal.card.zvt.status import intermediate_text, refusal_text, result_text
from hal.card.zvt.transport import LinkError, LinkLost, LinkTimeout, Transport

log = logging.getLogger(__name__)

ACK_APDU = Apdu(0x80, 0x00).to_bytes()
T3_ANSWER = 5.0  # seconds for the terminal's 80 00 00 after a command
T4_NEXT_MESSAGE = 180.0  # seconds between messages of a running transaction
ABORT_POLL = 0.1  # seconds between looks at an abort request while a command runs
ABORT_SETTLE = 1.0  # after an Abort's 80 00 00: how long a command it ended may take to say so
ABORT_APDU = bytes([0x06, 0xB0, 0x00])
RESULT_ABORTED = 0x6C  # abort via timeout or abort key: also what an ECR's abort ends with
RESULT_WRONG_CURRENCY = 0x6F

REGISTRATION, AUTHORISATION, LOG_OFF = (0x06, 0x00), (0x06, 0x01), (0x06, 0x02)
REPEAT_RECEIPT, REVERSAL, REFUND = (0x06, 0x20), (0x06, 0x30), (0x06, 0x31)
END_OF_DAY, ABORT_COMMAND, STATUS_ENQUIRY = (0x06, 0x50), (0x06, 0xB0), (0x05, 0x01)
INTERMEDIATE, STATUS_INFO = (0x04, 0xFF), (0x04, 0x0F)
PRINT_LINE, PRINT_BLOCK, COMPLETION, ABORT = (0x06, 0xD1), (0x06, 0xD3), (0x06, 0x0F), (0x06, 0x1E)
TOTALS = 0x60  # BMP 60: end-of-day totals


class Refused(Exception):
    """The terminal refused the command outright (84 xx, or 84 1E with a result code: a
    Registration in a currency the terminal does not take is ``84 1E 03 6F <its CC>``)."""

    def __init__(self, code: int, terminal_currency: int | None = None) -> None:
        text = f"card terminal refused the command: {refusal_text(code)} ({code:02X})"
        if terminal_currency is not None:
            text += f"; the terminal takes currency {terminal_currency:03d}"
        super().__init__(text)
        self.code = code
        self.terminal_currency = terminal_currency

    @classmethod
    def from_answer(cls, answer: Apdu) -> Refused:
        if answer.ins == 0x1E and answer.data:  # PA00P015 2.1: 84 1E xx <result> [<CC>]
            currency = None
            if answer.data[0] == RESULT_WRONG_CURRENCY and len(answer.data) >= 3:
                currency = from_bcd(answer.data[1:3])
            return cls(answer.data[0], currency)
        return cls(answer.ins)


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
    receipt_lines: list[str] = field(default_factory=list)  # the text of print_lines
    print_lines: list[PrintLine] = field(default_factory=list)  # with their attributes
    statuses: list[int] = field(default_factory=list)
    terminal_status: int | None = None  # status enquiry: 00 ready
    software: str = ""
    status_received: bool = False  # a status information (04 0F) came: the result's carrier
    totals: DayTotals | None = None  # end of day: BMP 60
    terminal_currency: int | None = None  # sent with result 6F (wrong currency)
    abort_requested: bool = False  # the register sent Abort (06 B0) during this command
    abort_refused: int | None = None  # ... and the terminal answered 84 xx: too late

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
        # set by another thread (the UI's) to have the running command aborted: the thread
        # running the command sends 06 B0 and reads what follows (one thread on the line)
        self.abort_request: threading.Event | None = None

    # -- commands ----------------------------------------------------------------------------
    def register(self, *, text_blocks: bool = False) -> Outcome:
        """Registration (06 00). ``text_blocks``: ask for receipts as Print Text-Blocks
        (06 D3) by listing the commands this register takes (TLV tag 26)."""
        # 0xBA: ECR prints payment receipts (02), intermediate status wanted (08), ECR
        # controls payment (10) and admin (20), print lines sent to the ECR (80)
        config = 0xBA
        data = self.password + bytes([config]) + bcd(self.currency, 2)
        if text_blocks:
            taken = [STATUS_INFO, INTERMEDIATE, COMPLETION, ABORT, PRINT_LINE, PRINT_BLOCK]
            permitted = b"".join(tlv.encode(tlv.COMMAND, bytes(c)) for c in taken)
            data += bmp.encode(bmp.TLV, tlv.encode(tlv.PERMITTED_COMMANDS, permitted))
        return self._dialogue(Apdu(*REGISTRATION, data), "registration")

    def authorise(self, amount: int) -> Outcome:
        data = bmp.amount(amount) + bmp.encode(bmp.CURRENCY, bcd(self.currency, 2))
        return self._dialogue(Apdu(*AUTHORISATION, data), "authorisation")

    def reversal(self, receipt_number: int) -> Outcome:
        data = self.password + bmp.encode(bmp.RECEIPT_NO, bcd(receipt_number, 2))
        return self._dialogue(Apdu(*REVERSAL, data), "reversal")

    def refund(self, amount: int) -> Outcome:
        data = self.password + bmp.amount(amount) + bmp.encode(bmp.CURRENCY, bcd(self.currency, 2))
        return self._dialogue(Apdu(*REFUND, data), "refund")

    def end_of_day(self) -> Outcome:
        """End-of-Day (06 50): the totals come in the status information before the
        completion (:attr:`Outcome.totals`, :attr:`Outcome.amount`)."""
        return self._dialogue(Apdu(*END_OF_DAY, self.password), "end of day")

    def status_enquiry(self) -> Outcome:
        return self._dialogue(Apdu(*STATUS_ENQUIRY, self.password), "status enquiry")

    def repeat_receipt(self) -> Outcome:
        return self._dialogue(Apdu(*REPEAT_RECEIPT, self.password), "repeat receipt")

    def abort(self, *, settle: float = ABORT_SETTLE) -> Outcome | None:
        """Abort (06 B0) from this thread, when no command of this client is running (to
        stop one the terminal still runs after the register lost track of it). The
        answer is read and settled: ``80 00 00``, then, if the terminal was running a
        command, that command's end (06 1E, or 06 0F if it could no longer be stopped),
        acknowledged here. Returns that command's outcome, or None when nothing was
        running (no message within ``settle`` seconds of the 80 00 00). Raises
        :class:`Refused` when the terminal refuses (84 xx) and nothing was running.

        To abort a command running on another thread, set :attr:`abort_request`."""
        step = "abort: sending"
        try:
            self.transport.send(ABORT_APDU)
            outcome = Outcome(abort_requested=True)
            answered = seen = ended = False
            while not (answered and ended):
                wait = self.t3 if not answered else (self.t4 if seen else settle)
                step = "abort: waiting for " + (
                    "the terminal's answer" if not answered else "the aborted command's end"
                )
                try:
                    raw = self.transport.receive(wait)
                except LinkTimeout:
                    if answered and not seen:
                        break  # nothing was running
                    raise
                try:
                    message = Apdu.parse(raw)
                except ApduError as exc:
                    log.warning("abort: malformed message from the terminal: %s", exc)
                    seen = True
                    step = "abort: acknowledging"
                    self.transport.send(ACK_APDU)
                    continue
                if message.cls in (0x80, 0x84):  # the answer to the abort
                    answered = True
                    if message.cls == 0x84 and message.ins not in (0x00, 0x9C):
                        outcome.abort_refused = Refused.from_answer(message).code
                    continue
                seen = True  # a message of the command the terminal was running
                ended = self._take(message, outcome) or ended
                step = "abort: acknowledging"
                self.transport.send(ACK_APDU)
        except LinkError as exc:
            raise type(exc)(f"{step}: {exc}") from None
        if seen:
            return outcome
        if outcome.abort_refused is not None:
            raise Refused(outcome.abort_refused)
        return None

    # -- the dialogue ------------------------------------------------------------------------
    def _dialogue(self, command: Apdu, name: str) -> Outcome:
        abort = self.abort_request  # this command's: a later swap does not touch it
        step = f"{name}: sending"
        try:
            self.transport.send(command.to_bytes())
            step = f"{name}: waiting for the terminal's answer"
            answer = Apdu.parse(self.transport.receive(self.t3))
            if answer.cls == 0x84 and answer.ins not in (0x00, 0x9C):  # 84 00, 84 9C: go on
                raise Refused.from_answer(answer)
            if answer.cls not in (0x80, 0x84):
                raise LinkError(f"{name}: unexpected answer {answer}")
            outcome = Outcome()
            deadline = time.monotonic() + self.t4
            while True:
                if abort is not None and abort.is_set() and not outcome.abort_requested:
                    step = f"{name}: sending abort"
                    outcome.abort_requested = True
                    self._send_abort(name)
                step = f"{name}: waiting for the result"
                watch = abort is not None and not outcome.abort_requested
                raw = self._receive_by(deadline, ABORT_POLL if watch else None)
                if raw is None:
                    continue  # a look at the abort request
                deadline = time.monotonic() + self.t4  # each message restarts T4
                try:
                    message = Apdu.parse(raw)
                except ApduError as exc:  # garbage inside a good frame: say so, carry on
                    log.warning("%s: malformed message from the terminal: %s", name, exc)
                    message = None
                if message is not None and message.cls in (0x80, 0x84):
                    self._abort_answer(message, outcome, name)
                    continue  # an acknowledgement is never acknowledged
                done = message is not None and self._take(message, outcome)
                step = f"{name}: acknowledging"
                self.transport.send(ACK_APDU)
                if done:
                    return outcome
        except LinkError as exc:
            raise type(exc)(f"{step}: {exc}") from None

    def _send_abort(self, name: str) -> None:
        """Abort the running command, if the terminal takes it: one that does not (a
        serial terminal may NAK a frame while it is master) still sends the command's
        end, which decides - so only a lost line is an error here."""
        try:
            self.transport.send(ABORT_APDU)
        except LinkLost:
            raise
        except LinkError as exc:
            log.warning("%s: the card terminal did not take the abort (%s)", name, exc)
            return
        log.info("%s: abort sent to the card terminal", name)

    def _receive_by(self, deadline: float, poll: float | None) -> bytes | None:
        """The next message before ``deadline``; with ``poll``, None after that long
        without one (so the caller can look at an abort request)."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise LinkTimeout("no answer from the card terminal")
        if poll is None or poll >= remaining:
            return self.transport.receive(remaining)
        try:
            return self.transport.receive(poll)
        except LinkTimeout:
            return None

    @staticmethod
    def _abort_answer(message: Apdu, outcome: Outcome, name: str) -> None:
        """80 00 00 or 84 xx in the middle of a command: the answer to our Abort."""
        if not outcome.abort_requested:
            log.warning("%s: the terminal sent %s, which answers nothing: dropped", name, message)
        elif message.cls == 0x84 and message.ins not in (0x00, 0x9C):
            outcome.abort_refused = Refused.from_answer(message).code
            log.info("%s: the card terminal can no longer abort (%02X)", name, message.ins)

    def _take(self, message: Apdu, outcome: Outcome) -> bool:
        """Record one terminal message; True when the transaction is over."""
        if message.command == INTERMEDIATE:
            code = message.data[0] if message.data else 0xFF
            outcome.statuses.append(code)
            if self.on_status:
                self.on_status(code, intermediate_text(code))
        elif message.command == STATUS_INFO:
            outcome.status_received = True
            # fields before an unknown tag still count: a new BMP must not hide the result
            self._status_information(bmp.decode(message.data, partial=True), outcome)
        elif message.command == PRINT_LINE:
            ZvtClient._print(receipt.print_line(message.data), outcome)
        elif message.command == PRINT_BLOCK:
            try:
                container = bmp.decode(message.data).get(bmp.TLV, b"")
                ZvtClient._print(receipt.print_text_block(container), outcome)
            except ApduError as exc:  # the receipt is lost, the transaction is not
                log.warning("unreadable print text block from the terminal: %s", exc)
        elif message.command == COMPLETION:
            outcome.completed = True
            ZvtClient._completion(message.data, outcome)
            return True
        elif message.command == ABORT:
            outcome.completed = False
            outcome.result_code = message.data[0] if message.data else 0xFF
            if outcome.result_code == RESULT_WRONG_CURRENCY and len(message.data) >= 3:
                outcome.terminal_currency = from_bcd(message.data[1:3])  # untagged (2.2.9)
            return True
        return False

    @staticmethod
    def _print(lines: list[PrintLine], outcome: Outcome) -> None:
        outcome.print_lines.extend(lines)
        outcome.receipt_lines.extend(line.text for line in lines)

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
        if TOTALS in fields:  # after end of day (3.1.3)
            try:
                outcome.totals = DayTotals.parse(fields[TOTALS])
            except ApduError as exc:
                log.warning("unreadable end-of-day totals from the terminal: %s", exc)

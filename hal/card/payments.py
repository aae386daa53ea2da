"""Card payments that never charge twice and never call unpaid money paid.

Semi-integrated: the register sends the amount, the terminal talks to the bank. The
dangerous moment is a link that fails in the middle: the money may or may not have moved.
The rules here:

1. The payment is recorded as pending (through :class:`PaymentRecords`, which the
   application persists) *before* the request is sent.
2. After a lost link or a timeout the request is never sent again. The terminal is asked
   what its last transaction was (repeat receipt) and the answer matched by amount and by
   a receipt number newer than the last one this register knew: that is this payment,
   paid; anything else means it was not charged.
3. If the terminal cannot be asked, the payment stays ``unknown`` and the cashier decides
   (the terminal's display or its printout shows it); the app offers a reversal if needed.
4. A completion without the status information that carries the result (a message left
   over from something else, say) is not taken as paid: the terminal is asked, as in 2.

While the terminal waits for the customer, another thread (the UI's) may call
:meth:`CardPaymentDesk.cancel`: the thread running the payment sends Abort (06 B0) and
reads what follows, so the line is only ever used by one thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

from hal.card.zvt.apdu import ApduError
from hal.card.zvt.client import RESULT_ABORTED, Outcome, Refused, StatusCallback, ZvtClient
from hal.card.zvt.transport import LinkError
from hal.device import Device

log = logging.getLogger(__name__)

CANCELLED = "Cancelled on the card terminal"  # CardPayment.message of a cancelled payment
BUSY = "the card terminal is busy with another transaction"


class PaymentState(StrEnum):
    """Where a card payment (or refund, or reversal) stands."""

    PENDING = "pending"  # sent, no answer yet
    PAID = "paid"  # the terminal took (or gave back) the money
    DECLINED = "declined"
    NOT_CHARGED = "not-charged"  # the link failed and the terminal says nothing was taken
    UNKNOWN = "unknown"  # the link failed and the terminal cannot be asked


PAID, DECLINED, NOT_CHARGED, UNKNOWN = (
    PaymentState.PAID,
    PaymentState.DECLINED,
    PaymentState.NOT_CHARGED,
    PaymentState.UNKNOWN,
)


class ZvtLink(Protocol):
    @property
    def client(self) -> ZvtClient: ...

    def reconnect(self) -> ZvtClient: ...


class PaymentRecords(Protocol):
    """Where the application keeps card payments (its database, in the sale's journal)."""

    def pending(self, payment_id: str, amount: int) -> None: ...

    def resolved(self, payment_id: str, state: PaymentState, outcome: Outcome | None) -> None: ...


class MemoryRecords:
    """Payment records kept in memory: for technicians' tools and tests."""

    def __init__(self) -> None:
        self.log: list[tuple[str, str, int | str]] = []

    def pending(self, payment_id: str, amount: int) -> None:
        self.log.append(("pending", payment_id, amount))

    def resolved(self, payment_id: str, state: PaymentState, outcome: Outcome | None) -> None:
        self.log.append(("resolved", payment_id, state))


@dataclass(frozen=True)
class CardPayment:
    payment_id: str
    amount: int
    state: PaymentState
    outcome: Outcome | None
    message: str
    cancelled: bool = False  # not charged because the register cancelled it (cancel())


class CardPaymentDesk(Device):
    """Runs card payments on a ZVT terminal with the rules above.

    ``link`` is a :class:`~hal.card.zvt.link.SerialLink` or ``TcpLink``: it gives the
    client, and re-establishes the line after a fault. The line is opened at the first
    payment (a terminal switched off must not stop the POS from starting): starting opens
    nothing, closing closes the line.
    """

    kind = "card"

    def __init__(
        self,
        link: ZvtLink,
        records: PaymentRecords,
        *,
        recovery_tries: int = 3,
        recovery_pause: float = 1.0,
    ) -> None:
        self.link = link
        self.records = records
        self.recovery_tries = recovery_tries
        self.recovery_pause = recovery_pause
        # the terminal's last transaction before this payment, as (receipt, trace):
        # None while unknown - then a recovery cannot tell old from new and says so
        self.baseline: tuple[int, int] | None = None
        self.offline = False
        self._lock = threading.Lock()
        self._cancel: threading.Event | None = None  # set while a transaction runs

    @property
    def client(self) -> ZvtClient:
        return self.link.client

    @property
    def busy(self) -> bool:
        """A payment, refund or reversal is running (on some thread)."""
        with self._lock:
            return self._cancel is not None

    def cancel(self) -> bool:
        """Ask the card terminal to stop the running payment (or refund, or reversal).
        Safe from any thread and returns at once: it only leaves a request, which the
        thread in :meth:`pay` carries out - it sends Abort (06 B0) within 0.1 s and
        reads the terminal's answer and the transaction's end.

        That :meth:`pay` then returns ``NOT_CHARGED`` with ``cancelled`` set and the
        message :data:`CANCELLED` when the terminal stopped it; if the customer's card
        had already gone through (the terminal refuses an abort once the bank
        approved) it returns ``PAID`` as usual, and a decline stays ``DECLINED``.
        Returns False, and nothing is sent, when no transaction is running."""
        with self._lock:
            if self._cancel is None:
                return False
            self._cancel.set()
            return True

    def learn_baseline(self) -> None:
        """Ask the terminal for its last transaction (repeat receipt), so a recovery can
        tell a new one from an old one. Left unknown when the terminal gives none."""
        outcome = self.client.repeat_receipt()
        if outcome.completed and outcome.receipt_number is not None:
            self.baseline = (outcome.receipt_number, outcome.trace_number or 0)

    def pay(
        self, payment_id: str, amount: int, on_status: StatusCallback | None = None
    ) -> CardPayment:
        """Charge ``amount``: paid, declined, not charged, or unknown (see the rules)."""
        return self._transact(payment_id, amount, lambda c: c.authorise(amount), on_status)

    def refund(
        self, payment_id: str, amount: int, on_status: StatusCallback | None = None
    ) -> CardPayment:
        """Give ``amount`` back to the card (06 31), under the same rules: after a lost link
        the refund is never sent again; ``paid`` means the refund went through."""
        return self._transact(payment_id, amount, lambda c: c.refund(amount), on_status)

    def reverse(
        self,
        payment_id: str,
        receipt_number: int,
        amount: int,
        on_status: StatusCallback | None = None,
    ) -> CardPayment:
        """Cancel a payment of today's batch by its receipt number (06 30)."""
        return self._transact(payment_id, amount, lambda c: c.reversal(receipt_number), on_status)

    def _transact(
        self,
        payment_id: str,
        amount: int,
        send: Callable[[ZvtClient], Outcome],
        on_status: StatusCallback | None,
    ) -> CardPayment:
        cancel = threading.Event()
        with self._lock:
            busy = self._cancel is not None
            if not busy:
                self._cancel = cancel
        if busy:  # the line carries one dialogue at a time: this one is not sent
            log.warning("card payment %s: another card transaction is running", payment_id)
            self.records.resolved(payment_id, NOT_CHARGED, None)
            return CardPayment(payment_id, amount, NOT_CHARGED, None, BUSY)
        try:
            return self._run(payment_id, amount, send, on_status, cancel)
        finally:
            with self._lock:
                self._cancel = None

    def _run(
        self,
        payment_id: str,
        amount: int,
        send: Callable[[ZvtClient], Outcome],
        on_status: StatusCallback | None,
        cancel: threading.Event,
    ) -> CardPayment:
        if self.baseline is None:
            try:
                self.learn_baseline()
            except (LinkError, Refused) as exc:
                log.warning("card terminal: last transaction unknown (%s)", exc)
        try:
            client = self.client
        except LinkError as exc:  # not connected: nothing can have been sent
            payment = self._resolve(payment_id, amount, NOT_CHARGED, None, str(exc))
            self.offline = True
            return payment
        if cancel.is_set():  # cancelled before anything was sent
            return self._resolve(payment_id, amount, NOT_CHARGED, None, CANCELLED, cancelled=True)
        self.records.pending(payment_id, amount)  # before anything is sent
        before = getattr(client, "on_status", None)
        if on_status is not None:
            client.on_status = on_status
        client.abort_request = cancel
        try:
            outcome = send(client)
        except Refused as exc:
            return self._resolve(payment_id, amount, NOT_CHARGED, None, str(exc))
        except (LinkError, ApduError) as exc:
            log.warning("card payment %s: link failed (%s); asking the terminal", payment_id, exc)
            return self._recover(payment_id, amount, str(exc))
        finally:
            client.abort_request = None
            if on_status is not None:
                client.on_status = before
        if outcome.completed and not outcome.status_received:
            # a completion with no status information before it is no payment's end (rule 4)
            log.warning("card payment %s: no result in the completion; asking", payment_id)
            return self._recover(payment_id, amount, "the terminal completed without a result")
        if outcome.approved:
            self.baseline = (outcome.receipt_number or 0, outcome.trace_number or 0)
            return self._resolve(payment_id, amount, PAID, outcome, "approved")
        self.baseline = None  # a decline may have used a receipt number: learn it again
        if outcome.abort_requested and outcome.result_code == RESULT_ABORTED:
            return self._resolve(
                payment_id, amount, NOT_CHARGED, outcome, CANCELLED, cancelled=True
            )
        return self._resolve(payment_id, amount, DECLINED, outcome, outcome.message)

    def _recover(self, payment_id: str, amount: int, failure: str) -> CardPayment:
        """Find out what the money did. Paid: the terminal's last transaction is approved,
        for this amount, and newer than the baseline. Not charged: the terminal is idle
        and its last transaction is the baseline. Anything else: unknown, for the cashier."""
        baseline, self.baseline = self.baseline, None  # re-learned after this payment
        if baseline is None:
            return self._unknown(payment_id, amount)
        for attempt in range(self.recovery_tries):
            if attempt:
                time.sleep(self.recovery_pause)
            try:
                client = self.link.reconnect()
                if client.status_enquiry().terminal_status not in (0, None):
                    continue  # still busy with something: ask again
                last = client.repeat_receipt()
            except (LinkError, Refused, ApduError) as exc:
                log.warning("card payment %s: terminal not reachable yet (%s)", payment_id, exc)
                continue
            if not last.completed or last.receipt_number is None or last.amount is None:
                continue  # no clear answer: ask again
            this = (last.receipt_number, last.trace_number or 0)
            if this == baseline:
                return self._resolve(
                    payment_id,
                    amount,
                    NOT_CHARGED,
                    None,
                    f"not charged: the link failed before the payment ({failure})",
                )
            if last.approved and last.amount == amount:
                self.baseline = this
                return self._resolve(
                    payment_id, amount, PAID, last, "approved (confirmed after the link failed)"
                )
            break  # a newer transaction that is not this payment: a person must look
        return self._unknown(payment_id, amount)

    def _unknown(self, payment_id: str, amount: int) -> CardPayment:
        return self._resolve(
            payment_id,
            amount,
            UNKNOWN,
            None,
            "the card terminal cannot say what happened: check its display or printout "
            "before taking another payment",
        )

    def close(self) -> None:
        close = getattr(self.link, "close", None)
        if close is not None:
            close()
        super().close()

    def health(self) -> list[str]:
        """``card-offline`` after a payment found the terminal unreachable, until one
        reaches it again (the terminal is never polled: it may be busy with a customer)."""
        return ["card-offline"] if self.offline else []

    def _resolve(
        self,
        payment_id: str,
        amount: int,
        state: str,
        outcome: Outcome | None,
        message: str,
        *,
        cancelled: bool = False,
    ) -> CardPayment:
        self.offline = state == UNKNOWN  # asked in vain after a lost link
        self.records.resolved(payment_id, state, outcome)
        return CardPayment(payment_id, amount, state, outcome, message, cancelled)

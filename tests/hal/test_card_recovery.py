"""The recovery decisions of the card desk, one by one, with a scripted terminal."""

from __future__ import annotations

from hal.card.payments import NOT_CHARGED, PAID, UNKNOWN, CardPaymentDesk, MemoryRecords
from hal.card.zvt.client import Outcome
from hal.card.zvt.transport import LinkTimeout


def done(receipt, trace, amount, result=0):
    return Outcome(
        completed=True,
        result_code=result,
        amount=amount,
        receipt_number=receipt,
        trace_number=trace,
        status_received=True,
    )


class ScriptedClient:
    """authorise() loses the link; repeat_receipt()/status_enquiry() answer from a script."""

    def __init__(self, receipts, statuses=None):
        self.receipts = list(receipts)
        self.statuses = list(statuses or [])

    def authorise(self, amount):
        raise LinkTimeout("waiting for the result: no answer")

    def repeat_receipt(self):
        return self.receipts.pop(0)

    def status_enquiry(self):
        status = self.statuses.pop(0) if self.statuses else 0
        return Outcome(completed=True, terminal_status=status)


class Link:
    def __init__(self, client):
        self._client = client

    @property
    def client(self):
        return self._client

    def reconnect(self):
        return self._client


def pay(receipts, statuses=None, amount=5000):
    desk = CardPaymentDesk(
        Link(ScriptedClient(receipts, statuses)),
        MemoryRecords(),
        recovery_tries=3,
        recovery_pause=0,
    )
    return desk.pay("P", amount).state


def test_a_newer_approved_transaction_of_this_amount_is_ours():
    assert pay([done(7, 70, 100), done(8, 71, 5000)]) == PAID


def test_the_baseline_again_means_not_charged():
    assert pay([done(7, 70, 100), done(7, 70, 100)]) == NOT_CHARGED


def test_a_newer_declined_attempt_of_the_same_amount_is_not_paid():
    assert pay([done(7, 70, 100), done(8, 71, 5000, result=0x05)]) == UNKNOWN


def test_a_newer_transaction_of_another_amount_is_for_a_person_to_judge():
    assert pay([done(7, 70, 100), done(8, 71, 4999)]) == UNKNOWN


def test_the_same_receipt_number_after_an_end_of_day_reset_is_told_apart_by_trace():
    # receipt numbers start again at 1 after end of day; the trace number does not
    assert pay([done(1, 70, 5000), done(1, 90, 5000)]) == PAID


def test_an_unknown_baseline_never_concludes():
    aborted = Outcome(completed=False, result_code=0x83)
    assert pay([aborted, done(3, 3, 5000)]) == UNKNOWN


def test_a_busy_terminal_is_asked_again_and_an_unclear_answer_is_not_taken():
    no_amount = Outcome(completed=True, receipt_number=8)  # print lines only, no 04 0F
    assert pay([done(7, 70, 100), no_amount, done(8, 71, 5000)], statuses=[0x9C, 0, 0]) == PAID


class LeftoverCompletion(ScriptedClient):
    """authorise() reads a completion with no status information before it: an answer
    left on the line by something else (as an unread Abort's used to be)."""

    def authorise(self, amount):
        return Outcome(completed=True)


def test_a_completion_without_a_result_is_not_taken_as_paid():
    client = LeftoverCompletion([done(7, 70, 100), done(7, 70, 100)])
    desk = CardPaymentDesk(Link(client), MemoryRecords(), recovery_tries=3, recovery_pause=0)
    assert desk.pay("P", 5000).state == NOT_CHARGED  # the terminal's last is the baseline
    client = LeftoverCompletion([done(7, 70, 100), done(8, 71, 5000)])
    desk = CardPaymentDesk(Link(client), MemoryRecords(), recovery_tries=3, recovery_pause=0)
    assert desk.pay("P", 5000).state == PAID  # it was this payment after all


def test_a_cancel_before_the_payment_is_sent_sends_nothing():
    sent = []

    class Client(ScriptedClient):
        def repeat_receipt(self):  # the desk learns its baseline; the cashier cancels
            assert desk.cancel() is True
            return super().repeat_receipt()

        def authorise(self, amount):
            sent.append(amount)
            return done(8, 71, amount)

    records = MemoryRecords()
    desk = CardPaymentDesk(Link(Client([done(7, 70, 100)])), records)
    payment = desk.pay("P", 5000)
    assert (payment.state, payment.cancelled, payment.message) == (
        NOT_CHARGED,
        True,
        "Cancelled on the card terminal",
    )
    assert sent == [] and records.log == [("resolved", "P", NOT_CHARGED)]
    assert desk.cancel() is False


def test_a_second_transaction_while_one_runs_is_not_sent():
    inner = []

    class Client(ScriptedClient):
        def authorise(self, amount):  # the terminal has the customer; another pay() comes
            inner.append(desk.pay("Q", 100))
            return done(8, 71, amount)

    desk = CardPaymentDesk(Link(Client([done(7, 70, 100)])), MemoryRecords())
    assert desk.pay("P", 5000).state == PAID
    assert inner[0].state == NOT_CHARGED and "busy" in inner[0].message
    assert not desk.busy


def test_a_terminal_that_is_off_does_not_stop_the_pos_and_charges_nothing(tmp_path):
    from hal.card import make_card_terminal  # noqa: PLC0415

    # built while the device is absent (the POS starts), refused cleanly at payment time
    desk = make_card_terminal(
        {"backend": "zvt-serial", "device": str(tmp_path / "ttyUSB9")}, tmp_path
    )
    payment = desk.pay("P1", 5000)
    assert payment.state == NOT_CHARGED and "not connected" in payment.message
    desk = make_card_terminal({"backend": "zvt-tcp", "host": "127.0.0.1", "port": 9}, tmp_path)
    assert desk.pay("P2", 5000).state == NOT_CHARGED

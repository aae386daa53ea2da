"""Abort (06 B0) over a real pty and over TCP: the simulator answers as a terminal does
(PA00P015 2.23: 80 00 00; a payment still waiting for the card ends with 06 1E 6C), the
client reads and settles every answer, and the desk's cancel() stops a payment waiting
for the customer from another thread - all checked against the simulator's ledger."""

from __future__ import annotations

import threading

import pytest

from hal.card.payments import (
    CANCELLED,
    DECLINED,
    NOT_CHARGED,
    PAID,
    CardPaymentDesk,
    MemoryRecords,
)
from hal.card.zvt.client import COMPLETION, STATUS_INFO
from hal.card.zvt.link import SerialLink, TcpLink
from hal.card.zvt.simulator import Script, ZvtSimulator
from hal.card.zvt.transport import LinkTimeout

T3, T4, ACK_WAIT = 1.0, 3.0, 0.5
ABORT = bytes.fromhex("06 B0 00")
ACK = bytes.fromhex("80 00 00")
PAY_12500 = bytes.fromhex("06 01 0A 04 00 00 00 01 25 00 49 03 60")  # 125.00, currency 360


@pytest.fixture(params=["serial", "tcp"])
def line(request):
    """(simulator, link) for one kind of line."""
    sim = ZvtSimulator(Script())
    if request.param == "serial":
        link = SerialLink(sim.start_pty(), ack_timeout=ACK_WAIT, t3=T3, t4=T4)
    else:
        link = TcpLink(*sim.start_tcp(), t3=T3, t4=T4)
    yield sim, link
    link.close()
    sim.stop()


def completions(sim) -> int:
    return sum(1 for raw in sim.sent if raw[:2] == bytes(COMPLETION))


def test_abort_with_nothing_running_is_acknowledged_and_nothing_else(line):
    sim, link = line
    wire = link.client.transport
    wire.send(ABORT)
    assert wire.receive(T3) == ACK
    with pytest.raises(LinkTimeout):  # no completion after it (it used to send 06 0F)
        wire.receive(1.0)
    assert sim.ledger == [] and completions(sim) == 0
    assert link.client.status_enquiry().terminal_status == 0  # the link goes on


def test_abort_while_the_payment_waits_for_the_card_ends_it_with_6c(line):
    sim, link = line
    sim.script.delay = 30.0  # the customer has not presented a card
    wire = link.client.transport
    wire.send(PAY_12500)
    assert wire.receive(T3) == ACK
    wire.send(ABORT)
    assert wire.receive(T3) == ACK  # the abort's acknowledgement
    assert wire.receive(T3) == bytes.fromhex("06 1E 01 6C")  # the payment's end
    wire.send(ACK)
    with pytest.raises(LinkTimeout):  # nothing completed after it, nothing approved
        wire.receive(1.5)
    assert sim.ledger == [] and completions(sim) == 0
    sim.script.delay = 0.0
    desk = CardPaymentDesk(link, MemoryRecords())
    assert desk.pay("S2", 3300).state == PAID  # the link is usable for the next command
    assert [c.amount for c in sim.charged()] == [3300] and completions(sim) == 1


def test_cancel_from_another_thread_stops_a_payment_waiting_for_the_customer(line):
    sim, link = line
    sim.script.progress = [(0x0A, 0.05)]  # "insert card"
    sim.script.delay = 30.0
    records = MemoryRecords()
    desk = CardPaymentDesk(link, records)
    waiting = threading.Event()
    result = {}

    def pay():
        result["payment"] = desk.pay("S1", 12500, lambda code, text: waiting.set())

    worker = threading.Thread(target=pay)
    worker.start()
    assert waiting.wait(5), "the terminal never asked for the card"
    assert desk.busy
    assert desk.cancel() is True  # the UI thread: returns at once
    worker.join(5)
    assert not worker.is_alive()
    payment = result["payment"]
    assert (payment.state, payment.message, payment.cancelled) == (NOT_CHARGED, CANCELLED, True)
    assert payment.outcome.result_code == 0x6C
    assert sim.ledger == [] and completions(sim) == 0  # nothing charged, nothing completed
    assert records.log == [("pending", "S1", 12500), ("resolved", "S1", NOT_CHARGED)]
    assert not desk.busy and desk.cancel() is False  # nothing running: nothing sent
    sim.script.delay = 0.0
    second = desk.pay("S2", 3300)
    assert (second.state, second.cancelled) == (PAID, False)
    assert [c.amount for c in sim.charged()] == [3300]


def test_a_cancel_after_the_bank_approved_leaves_the_payment_paid(line):
    """The abort comes once the status information is in: the terminal refuses it
    (84 83 00) and completes, once; the register reports what the terminal did."""
    sim, link = line
    desk = CardPaymentDesk(link, MemoryRecords())
    desk.pay("S0", 100)  # the baseline is known: S1's dialogue is the next on the line
    client = link.client
    take = client._take

    def take_and_cancel(message, outcome):
        done = take(message, outcome)
        if message.command == STATUS_INFO:
            assert desk.cancel() is True
        return done

    client._take = take_and_cancel
    payment = desk.pay("S1", 12500)
    assert (payment.state, payment.cancelled) == (PAID, False), payment.message
    assert payment.outcome.abort_requested and payment.outcome.abort_refused == 0x83
    assert len(sim.charged(12500)) == 1
    assert payment.outcome.receipt_number == sim.charged(12500)[0].receipt_number
    assert completions(sim) == 2  # S0 and S1, each once
    client._take = take
    assert desk.pay("S2", 3300).state == PAID  # nothing left on the line for S2 to take


def test_an_abort_with_nothing_running_is_not_the_next_payments_answer(line):
    """The reported bug: the abort's answer was read as the next payment's, and a
    payment the terminal never charged was reported approved."""
    sim, link = line
    desk = CardPaymentDesk(link, MemoryRecords())
    assert desk.pay("S0", 700).state == PAID  # baseline known: S1 goes straight out
    assert link.client.abort() is None  # 80 00 00, nothing was running
    sim.script.outcome = "decline"
    payment = desk.pay("S1", 12500)
    assert (payment.state == PAID) == (len(sim.charged(12500)) == 1)  # never a phantom
    assert payment.state == DECLINED and sim.charged(12500) == []
    assert [c.amount for c in sim.charged()] == [700]


def test_abort_settles_a_payment_the_register_lost_track_of(line):
    """The register gave up waiting (its T4 ran out) while the terminal still waits for
    the card; abort() stops it and reads its 06 1E, so nothing is left on the line."""
    sim, link = line
    sim.script.delay = 30.0
    client = link.client
    client.t4 = 0.5
    with pytest.raises(LinkTimeout):
        client.authorise(12500)
    ended = client.abort()
    assert ended is not None and not ended.completed and ended.result_code == 0x6C
    assert sim.ledger == []
    client.t4 = T4
    sim.script.delay = 0.0
    assert client.authorise(3300).approved
    assert [c.amount for c in sim.charged()] == [3300] and completions(sim) == 1

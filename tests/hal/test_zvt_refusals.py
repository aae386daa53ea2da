"""A terminal set up with its own password and currency refuses a register that does
not match, over a real pty and over TCP, and charges nothing: a wrong password is
answered 84 37 00 (card complete, "ZVT-Praezisierung" 22, 3.1.2.1), a Registration in
another currency 84 1E 03 6F <CC> (PA00P015 2.1), a payment in another currency ends
with 06 1E 03 6F <CC> (2.2.9)."""

from __future__ import annotations

import pytest

from hal.card.payments import DECLINED, NOT_CHARGED, PAID, CardPaymentDesk, MemoryRecords
from hal.card.zvt.apdu import bcd
from hal.card.zvt.client import Refused
from hal.card.zvt.link import SerialLink, TcpLink
from hal.card.zvt.simulator import Script, ZvtSimulator
from hal.card.zvt.transport import LinkTimeout

T3, T4, ACK_WAIT = 1.0, 3.0, 0.5
ACK = bytes.fromhex("80 00 00")


@pytest.fixture(params=["serial", "tcp"])
def connect(request):
    """connect(sim, **client options) -> link, for one kind of line."""
    made = []

    def connect(sim, **options):
        if request.param == "serial":
            link = SerialLink(sim.start_pty(), ack_timeout=ACK_WAIT, t3=T3, t4=T4, **options)
        else:
            link = TcpLink(*sim.start_tcp(), t3=T3, t4=T4, **options)
        made.append((sim, link))
        return link

    yield connect
    for sim, link in made:
        link.close()
        sim.stop()


def test_a_wrong_password_is_refused_and_nothing_is_done(connect):
    sim = ZvtSimulator(Script(), password=123456)
    link = connect(sim, password=0)
    wire = link.client.transport
    wire.send(bytes.fromhex("06 00 06 00 00 00 BA 03 60"))  # registration, password 000000
    assert wire.receive(T3) == bytes.fromhex("84 37 00")
    with pytest.raises(LinkTimeout):  # refused outright: no completion follows
        wire.receive(0.5)
    client = link.client
    for command in (client.register, client.end_of_day, client.status_enquiry):
        with pytest.raises(Refused, match="wrong password") as refused:
            command()
        assert refused.value.code == 0x37
    desk = CardPaymentDesk(link, MemoryRecords())
    assert desk.pay("S1", 1000).state == PAID  # an authorisation carries no password
    refund = desk.refund("R1", 1000)
    assert refund.state == NOT_CHARGED and "wrong password" in refund.message
    assert [(c.kind, c.amount) for c in sim.ledger] == [("payment", 1000)]
    reversal = desk.reverse("V1", sim.ledger[0].receipt_number, 1000)
    assert reversal.state == NOT_CHARGED and "wrong password" in reversal.message
    assert len(sim.charged(1000)) == 1  # the payment stands
    client.password = bcd(123456, 3)  # the register set up right: every command opens
    assert client.register().completed
    assert client.reversal(sim.ledger[0].receipt_number).approved and sim.charged() == []
    assert client.end_of_day().completed


def test_a_registration_in_another_currency_is_refused(connect):
    sim = ZvtSimulator(Script(), currency=360)
    link = connect(sim, currency=978)
    wire = link.client.transport
    wire.send(bytes.fromhex("06 00 06 00 00 00 BA 09 78"))  # EUR
    assert wire.receive(T3) == bytes.fromhex("84 1E 03 6F 03 60")
    with pytest.raises(Refused, match="wrong currency") as refused:
        link.client.register()
    assert (refused.value.code, refused.value.terminal_currency) == (0x6F, 360)
    assert connect(ZvtSimulator(Script(), currency=978), currency=978).client.register().completed


def test_a_payment_in_another_currency_is_refused_and_charges_nothing(connect):
    sim = ZvtSimulator(Script(), currency=360)
    link = connect(sim, currency=496)  # the register thinks in MNT
    wire = link.client.transport
    wire.send(bytes.fromhex("06 01 0A 04 00 00 00 01 25 00 49 04 96"))
    assert wire.receive(T3) == ACK
    assert wire.receive(T3) == bytes.fromhex("06 1E 03 6F 03 60")
    wire.send(ACK)
    desk = CardPaymentDesk(link, MemoryRecords())
    payment = desk.pay("S1", 12500)
    assert (payment.state, payment.message) == (DECLINED, "wrong currency")
    assert payment.outcome.terminal_currency == 360
    assert desk.refund("R1", 500).state == DECLINED
    assert sim.ledger == []


def test_the_simulator_backend_takes_its_password_and_currency_from_its_settings(tmp_path):
    from hal.card import make_card_terminal  # noqa: PLC0415

    plain = make_card_terminal({"backend": "simulator", "approve_after": 0.0}, tmp_path)
    try:  # by default the terminal is set up as the register: everything goes through
        assert plain.refund("R1", 500).state == PAID
        assert plain.link.simulator.currency == 360
    finally:
        plain.close()
    other = make_card_terminal(
        {
            "backend": "simulator",
            "approve_after": 0.0,
            "terminal_password": 123456,
            "terminal_currency": "EUR",
        },
        tmp_path,
        currency="IDR",
    )
    try:
        assert "wrong password" in other.refund("R1", 500).message
        assert other.pay("S1", 1000).message == "wrong currency"
        assert other.link.simulator.ledger == []
    finally:
        other.close()

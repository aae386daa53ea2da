"""End-of-Day (06 50) over a real pty and over TCP: the status information with the
batch's totals (BMP 04 and BMP 60, PA00P015 3.1.3) comes before the completion, and its
figures are the simulator's ledger."""

from __future__ import annotations

import pytest

from hal.card.payments import PAID, CardPaymentDesk, MemoryRecords
from hal.card.zvt import bmp
from hal.card.zvt.apdu import Apdu, from_bcd
from hal.card.zvt.client import COMPLETION, PRINT_LINE, STATUS_INFO, TOTALS
from hal.card.zvt.link import SerialLink, TcpLink
from hal.card.zvt.receipt import DayTotals
from hal.card.zvt.simulator import Script, ZvtSimulator

T3, T4, ACK_WAIT = 1.0, 3.0, 0.5
ACK = bytes.fromhex("80 00 00")


@pytest.fixture(params=["serial", "tcp"])
def line(request):
    sim = ZvtSimulator(Script())
    if request.param == "serial":
        link = SerialLink(sim.start_pty(), ack_timeout=ACK_WAIT, t3=T3, t4=T4)
    else:
        link = TcpLink(*sim.start_tcp(), t3=T3, t4=T4)
    yield sim, link
    link.close()
    sim.stop()


def a_day(sim, link):
    """Three payments, one of them reversed, and a refund: 3500 stands, on receipts 1-4."""
    desk = CardPaymentDesk(link, MemoryRecords())
    for n, amount in enumerate((1000, 2500, 400)):
        assert desk.pay(f"S{n}", amount).state == PAID
    client = link.client
    assert client.reversal(sim.charged(400)[0].receipt_number).approved
    assert client.refund(300).approved
    return client


def test_the_totals_come_in_the_status_information_before_the_completion(line):
    sim, link = line
    a_day(sim, link)
    wire = link.client.transport
    wire.send(bytes.fromhex("06 50 03 00 00 00"))
    assert wire.receive(T3) == ACK
    messages = []
    while not messages or messages[-1].command != COMPLETION:
        messages.append(Apdu.parse(wire.receive(T4)))
        wire.send(ACK)
    info, *printed, completion = messages
    assert info.command == STATUS_INFO  # first, before the receipt and the completion
    assert {m.command for m in printed} == {PRINT_LINE}
    assert completion.to_bytes() == bytes.fromhex("06 0F 00")  # 2.16.6
    fields = bmp.decode(info.data)
    assert fields[bmp.RESULT] == b"\x00"
    assert from_bcd(fields[bmp.AMOUNT]) == 3500 == sum(c.amount for c in sim.charged())
    # BMP 60: receipts 0001-0004, then (count, 6-byte BCD turnover) per card group
    assert fields[TOTALS].hex(" ") == (
        "00 01 00 04"
        + " 00 00 00 00 00 00 00" * 4  # girocard, JCB, Eurocard, Amex
        + " 02 00 00 00 00 35 00"  # VISA: the simulated card
        + " 00 00 00 00 00 00 00" * 2  # Diners, other cards
    )
    assert set(fields) >= {bmp.TRACE, bmp.TIME, bmp.DATE}


def test_the_client_reads_the_totals_and_the_batch_closes(line):
    sim, link = line
    client = a_day(sim, link)
    day = client.end_of_day()
    assert day.completed and day.approved
    assert day.amount == 3500
    assert day.totals == DayTotals(1, 4, {"VISA": (2, 3500)})
    assert (day.totals.count, day.totals.amount) == (2, 3500)
    assert day.receipt_lines[-1] == "TOTAL 2 3500"
    assert day.print_lines[0].double_width and day.print_lines[-1].double_height
    # a new batch: receipt numbers start again, the old payments are out of reach
    assert client.authorise(700).receipt_number == 1
    assert not client.reversal(2).approved  # receipt 2 of today's batch does not exist
    again = client.end_of_day()
    assert again.totals == DayTotals(1, 1, {"VISA": (1, 700)}) and again.amount == 700
    assert client.end_of_day().totals == DayTotals(0, 0, {})  # nothing since

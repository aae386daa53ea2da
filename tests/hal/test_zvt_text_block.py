"""Receipts the terminal sends as Print Text-Blocks (06 D3, PA00P015 3.6): a TLV container
with the receipt type (1F07) and print-texts (25) holding attributes (09) and text lines
(07), decoded into lines with their attributes - by the client on its own, and from the
simulator over a real pty and over TCP."""

from __future__ import annotations

import logging

import pytest

from hal.card.payments import PAID, CardPaymentDesk, MemoryRecords
from hal.card.zvt.apdu import Apdu
from hal.card.zvt.client import PRINT_BLOCK, Outcome, ZvtClient
from hal.card.zvt.link import SerialLink, TcpLink
from hal.card.zvt.receipt import CUSTOMER, DayTotals
from hal.card.zvt.simulator import Script, ZvtSimulator

T3, T4, ACK_WAIT = 1.0, 3.0, 0.5


def take(raw: bytes, outcome: Outcome | None = None) -> Outcome:
    outcome = outcome or Outcome()
    ZvtClient._take(ZvtClient.__new__(ZvtClient), Apdu.parse(raw), outcome)
    return outcome


def text_line(text: bytes) -> bytes:
    return bytes([0x07, len(text)]) + text


def attribute(value: int) -> bytes:
    return bytes([0x09, 0x01, value])


def block(texts: bytes, receipt_type: int | None = CUSTOMER) -> bytes:
    """06 D3 with BMP 06 around 1F07 and 25, lengths as BER (81 nn when long)."""

    def tlv(tag: bytes, value: bytes) -> bytes:
        n = len(value)
        length = (
            bytes([n])
            if n < 0x80
            else bytes([0x81, n])
            if n < 0x100
            else b"\x82" + n.to_bytes(2, "big")
        )
        return tag + length + value

    head = b"" if receipt_type is None else bytes([0x1F, 0x07, 0x01, receipt_type])
    container = tlv(b"\x06", head + tlv(b"\x25", texts))
    return Apdu(*PRINT_BLOCK, container).to_bytes()


def test_a_text_block_is_decoded_into_lines_with_their_attributes():
    raw = block(
        attribute(0x60)  # centred, double width
        + text_line(b"SHOP")
        + attribute(0x00)
        + text_line(b"LINE ONE")
        + text_line(b"")  # an empty line
        + attribute(0x13)  # double height, indented 3
        + text_line(b"TOTAL 12.50")
        + attribute(0xFF)  # the end of the receipt
    )
    outcome = take(raw)
    assert outcome.receipt_lines == ["SHOP", "LINE ONE", "", "TOTAL 12.50"]
    shop, one, empty, total = outcome.print_lines
    assert shop.centred and shop.double_width and not shop.double_height
    assert not (one.centred or one.double_width or one.double_height) and one.indent == 0
    assert empty.text == "" and empty.attribute == 0
    assert total.double_height and total.indent == 3 and not total.double_width
    assert total.last_line and not shop.last_line
    assert {line.receipt_type for line in outcome.print_lines} == {CUSTOMER}


def test_a_line_feed_and_a_receipt_end_inside_one_block():
    raw = block(
        text_line(b"MERCHANT COPY")
        + attribute(0xFF)  # inside the block: one line feed
        + text_line(b"SIGNATURE")
        + attribute(0x81)  # the merchant copy ends here
        + text_line(b"CUSTOMER COPY")
        + attribute(0xFF)  # last: the end of the receipt
    )
    outcome = take(raw)
    assert outcome.receipt_lines == ["MERCHANT COPY", "", "SIGNATURE", "CUSTOMER COPY"]
    assert [line.last_line for line in outcome.print_lines] == [False, False, True, True]


def test_a_long_text_block_with_two_byte_lengths_and_cp437_text():
    lines = [f"LINE {n:02d} ".encode() + bytes([0x84, 0x94, 0x81]) for n in range(40)]  # äöü
    raw = block(b"".join(text_line(t) for t in lines) + attribute(0xFF), receipt_type=None)
    assert raw[2] == 0xFF  # an APDU with the long length: 06 D3 FF lo hi
    outcome = take(raw)
    assert outcome.receipt_lines == [f"LINE {n:02d} äöü" for n in range(40)]
    assert outcome.print_lines[0].receipt_type is None


def test_a_print_line_with_attributes_and_line_feeds():
    outcome = take(bytes.fromhex("06 D1 05 50") + b"HEAD")  # centred, double height
    take(bytes.fromhex("06 D1 02 FF 02"), outcome)  # two line feeds
    take(bytes.fromhex("06 D1 04 81") + b"END", outcome)  # the last line
    assert outcome.receipt_lines == ["HEAD", "", "", "END"]
    head = outcome.print_lines[0]
    assert head.centred and head.double_height and not head.double_width
    assert outcome.print_lines[-1].last_line and not head.last_line


def test_a_broken_text_block_loses_its_lines_not_the_transaction(caplog):
    raw = Apdu(*PRINT_BLOCK, bytes.fromhex("06 08 25 06 07 09 41 42")).to_bytes()  # 07 too long
    with caplog.at_level(logging.WARNING):
        outcome = take(raw)
    assert outcome.receipt_lines == [] and "unreadable print text block" in caplog.text
    take(bytes.fromhex("06 0F 00"), outcome)
    assert outcome.completed


def test_end_of_day_totals_round_trip():
    totals = DayTotals(7, 12, {"girocard": (3, 4500), "VISA": (2, 10000)})
    assert DayTotals.parse(totals.to_bytes()) == totals
    assert len(totals.to_bytes()) == 4 + 7 * 7


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


def test_a_register_that_asks_for_text_blocks_gets_its_receipt_as_one(line):
    sim, link = line
    assert link.client.register(text_blocks=True).completed  # TLV 26 lists 06 D3
    desk = CardPaymentDesk(link, MemoryRecords())
    payment = desk.pay("S1", 12500)
    assert payment.state == PAID
    assert [c.amount for c in sim.charged()] == [12500]
    blocks = [raw for raw in sim.sent if raw[:2] == bytes(PRINT_BLOCK)]
    assert len(blocks) == 1  # the whole receipt in one message, no 06 D1
    lines = payment.outcome.print_lines
    assert payment.outcome.receipt_lines == [
        "SIMULATED CARD TERMINAL",
        f"TID {sim.terminal_id}  TRACE {sim.charged()[0].trace_number:06d}",
        "AMOUNT 12500",
        "APPROVED",
    ]
    assert lines[0].centred and lines[0].double_width
    assert lines[-1].double_height and lines[-1].last_line
    assert {ln.receipt_type for ln in lines} == {CUSTOMER}
    assert desk.client.register().completed  # registered again without the list: 06 D1
    assert desk.pay("S2", 3300).outcome.receipt_lines[-1] == "APPROVED"
    assert len([raw for raw in sim.sent if raw[:2] == bytes(PRINT_BLOCK)]) == 1


def test_a_terminal_set_up_for_text_blocks_sends_them_unasked(line):
    sim, link = line
    sim.script.print_text_block = True
    payment = CardPaymentDesk(link, MemoryRecords()).pay("S1", 700)
    assert payment.state == PAID and payment.outcome.receipt_lines[2] == "AMOUNT 700"
    day = link.client.end_of_day()
    assert day.receipt_lines[0] == "END OF DAY" and day.print_lines[0].receipt_type == 3

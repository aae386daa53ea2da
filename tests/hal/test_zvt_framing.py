"""ZVT serial framing: golden bytes from the spec's example and frames built by hand."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hal.card.zvt.framing import ACK, NAK, FrameReader, crc_ccitt, frame


def test_published_example_crc():
    # PA00P016: APDU 05 01 03 12 34 56 -> CRC E0 43 (over the APDU and ETX, low byte first)
    assert frame(bytes.fromhex("050103123456")) == bytes.fromhex("1002 050103123456 1003 e043")


def test_crc_is_ccitt_reflected_with_initial_zero():
    assert crc_ccitt(b"") == 0
    assert crc_ccitt(bytes.fromhex("05010312345603")) == 0x43E0


def test_crc_matches_the_crc16_kermit_check_value():
    # the same CRC is catalogued as CRC-16/KERMIT: check value for "123456789" is 0x2189
    assert crc_ccitt(b"123456789") == 0x2189


def test_dle_bytes_in_the_apdu_are_doubled():
    # Authorisation of 10.00: 06 01 07, BMP 04 + 6-byte BCD amount 00 00 00 00 10 00
    apdu = bytes.fromhex("06 01 07 04 00 00 00 00 10 00")
    crc = crc_ccitt(apdu + b"\x03").to_bytes(2, "little")
    assert frame(apdu) == (
        bytes.fromhex("10 02 06 01 07 04 00 00 00 00 10 10 00 10 03") + crc  # 10 -> 10 10
    )
    (event,) = FrameReader().feed(frame(apdu))
    assert (event.kind, event.apdu) == ("apdu", apdu)


def test_reader_takes_acks_naks_and_resyncs_after_garbage():
    reader = FrameReader()
    wire = b"\x00\xff\x42" + bytes([ACK]) + b"\x10\x99junk" + frame(b"\x80\x00\x00") + bytes([NAK])
    events = reader.feed(wire)
    assert [(e.kind, e.apdu) for e in events] == [
        ("ack", b""),
        ("apdu", b"\x80\x00\x00"),
        ("nak", b""),
    ]
    assert reader.noise > 0


def test_a_flipped_bit_is_a_bad_crc():
    wire = bytearray(frame(bytes.fromhex("0501031234 56")))
    wire[4] ^= 0x01
    (event,) = FrameReader().feed(bytes(wire))
    assert event.kind == "bad-crc"


def test_a_frame_restarted_mid_way_is_read_from_the_restart():
    wire = b"\x10\x02\x06\x01" + frame(b"\x05\x01\x03\x12\x34\x56")
    events = FrameReader().feed(wire)
    assert [(e.kind, e.apdu) for e in events] == [("apdu", bytes.fromhex("050103123456"))]


@given(st.binary(max_size=300), st.integers(1, 17))
def test_any_apdu_survives_framing_in_any_chunking(apdu, chunk):
    wire = frame(apdu)
    reader = FrameReader()
    events = []
    for i in range(0, len(wire), chunk):
        events += reader.feed(wire[i : i + chunk])
    assert [(e.kind, e.apdu) for e in events] == [("apdu", apdu)]


@pytest.mark.parametrize(
    ("apdu", "crc"),
    [
        # golden frames collected from ecrterm, Portalum.Zvt and the spec's example
        ("05 01 03 12 34 56", "E0 43"),  # status enquiry, password 123456 (PA00P016)
        ("06 00 06 12 34 56 BA 09 78", "24 C3"),  # registration
        ("06 01 07 04 00 00 00 00 10 00", "62 91"),  # authorisation 10.00
        ("06 01 07 04 00 00 00 00 01 00", "2B 4E"),  # authorisation 1.00
        ("80 00 00", "F5 1F"),  # positive acknowledgement
        ("06 0F 00", "C6 33"),  # completion
        ("06 1E 01 6C", "C9 F2"),  # abort, 6C
        ("06 B0 00", "43 F3"),  # abort command
        ("04 FF 02 0A 00", "61 9D"),  # intermediate status: insert card
    ],
)
def test_golden_frames(apdu, crc):
    raw = bytes.fromhex(apdu)
    assert frame(raw).endswith(bytes.fromhex("10 03") + bytes.fromhex(crc))


def test_captured_completion_frame_from_a_real_terminal():
    wire = bytes.fromhex("10 02 06 0F 0B F0 F0 F7 32 2E 31 34 2E 31 35 00 10 03 B1 11")
    (event,) = FrameReader().feed(wire)
    assert event.kind == "apdu" and event.apdu[:3] == bytes.fromhex("06 0F 0B")

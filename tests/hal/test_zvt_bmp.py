import pytest

from hal.card.zvt import bmp
from hal.card.zvt.apdu import ApduError


def test_amount_and_fixed_fields():
    assert bmp.amount(1000) == bytes.fromhex("04 000000001000")
    data = bmp.amount(1050) + bmp.encode(bmp.TRACE, bytes.fromhex("000042"))
    data += bmp.encode(bmp.RESULT, b"\x00") + bmp.encode(bmp.RECEIPT_NO, bytes.fromhex("0007"))
    fields = bmp.decode(data)
    assert bmp.bcd_field(fields, bmp.AMOUNT) == 1050
    assert bmp.bcd_field(fields, bmp.TRACE) == 42
    assert bmp.bcd_field(fields, bmp.RECEIPT_NO) == 7
    assert fields[bmp.RESULT] == b"\x00"


def test_llvar_and_lllvar_lengths_are_f_digits():
    pan = bytes.fromhex("476173EEEEEE0119")
    assert bmp.encode(bmp.PAN, pan) == bytes.fromhex("22 F0F8") + pan
    text = b"x" * 123
    assert bmp.encode(bmp.ADD_TEXT, text)[:4] == bytes.fromhex("3C F1F2F3")
    fields = bmp.decode(bmp.encode(bmp.PAN, pan) + bmp.encode(bmp.ADD_TEXT, text))
    assert fields[bmp.ADD_TEXT] == text
    assert bmp.masked_pan(fields[bmp.PAN]) == "476173******0119"


def test_tlv_container_lengths():
    assert bmp.encode(bmp.TLV, bytes(3)) == bytes.fromhex("06 03 000000")
    assert bmp.encode(bmp.TLV, bytes(200))[:3] == bytes.fromhex("06 81 C8")
    assert bmp.decode(bmp.encode(bmp.TLV, bytes(300)))[bmp.TLV] == bytes(300)


@pytest.mark.parametrize(
    "raw",
    ["99 00", "04 0000", "22 F1", "22 A1A2 00", "22 F9F9 00", "3C F0F0F5 0102"],
    ids=["unknown-tag", "short-amount", "short-ll", "bad-ll", "ll-past-end", "lll-past-end"],
)
def test_garbage_is_refused(raw):
    with pytest.raises(ApduError):
        bmp.decode(bytes.fromhex(raw))


def test_masked_pan_never_shows_more_than_6_and_4():
    assert bmp.masked_pan(bytes.fromhex("476173EEEEEE0119")) == "476173******0119"
    # a terminal that sends the whole number (or track 2 data) is masked here anyway
    # track 2 data (ecrterm sample): cut at the D separator, the rest dropped
    assert bmp.masked_pan(bytes.fromhex("5966666666D20021220100")) == "5966666666"
    assert bmp.masked_pan(bytes.fromhex("4761739001010119")) == "476173******0119"


def test_partial_decode_keeps_the_fields_before_an_unknown_tag():
    data = bmp.encode(bmp.RESULT, b"\x00") + bmp.amount(2040) + bytes.fromhex("F7 00 01")
    with pytest.raises(ApduError):
        bmp.decode(data)
    fields = bmp.decode(data, partial=True)
    assert fields[bmp.RESULT] == b"\x00" and bmp.bcd_field(fields, bmp.AMOUNT) == 2040
    assert bmp.decode(bytes.fromhex("AA 261123 3A 0123"))[0xAA] == bytes.fromhex("261123")

import pytest

from hal.card.zvt.apdu import Apdu, ApduError, bcd, from_bcd


def test_short_and_long_apdus():
    assert Apdu(0x05, 0x01, bytes.fromhex("123456")).to_bytes() == bytes.fromhex("0501 03 123456")
    long = Apdu(0x06, 0xD3, bytes(300))
    raw = long.to_bytes()
    assert raw[:5] == bytes.fromhex("06d3 ff 2c01")  # FF, then 300 low byte first
    assert Apdu.parse(raw) == long
    assert Apdu.parse(bytes.fromhex("800000")) == Apdu(0x80, 0x00)


@pytest.mark.parametrize("raw", ["05", "0501", "050103", "0501031234", "06d3ff"])
def test_malformed_apdus_are_refused(raw):
    with pytest.raises(ApduError):
        Apdu.parse(bytes.fromhex(raw))


def test_bcd():
    assert bcd(1000, 6) == bytes.fromhex("000000001000")  # 10.00 in cents
    assert bcd(123456, 3) == bytes.fromhex("123456")
    assert from_bcd(bytes.fromhex("000000001000")) == 1000
    with pytest.raises(ValueError):
        bcd(1234567, 3)
    with pytest.raises(ApduError):
        from_bcd(bytes.fromhex("1a"))

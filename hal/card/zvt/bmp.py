"""BMP fields: the tagged data inside ZVT APDUs (PA00P015, chapter "BMPs").

A BMP is a tag byte followed by a fixed number of bytes, or an LLVAR/LLLVAR value whose
length is written as 2 or 3 bytes ``Fx`` (x a decimal digit: 12 bytes -> ``F1 F2``).
Tag ``06`` holds a TLV container with a BER length.
"""

from __future__ import annotations

import contextlib

from hal.card.zvt.apdu import ApduError, bcd, from_bcd

AMOUNT, TRACE, TIME, DATE, EXPIRY, CARD_SEQ = 0x04, 0x0B, 0x0C, 0x0D, 0x0E, 0x17
PAYMENT_TYPE, PAN, RESULT, TERMINAL_ID, AID, ADD_TEXT = 0x19, 0x22, 0x27, 0x29, 0x3B, 0x3C
CURRENCY, RECEIPT_NO, TURNOVER_NO, CARD_TYPE, CARD_NAME = 0x49, 0x87, 0x88, 0x8A, 0x8B
SERVICE_BYTE, TIMEOUT, MAX_STATUS, TLV = 0x03, 0x01, 0x02, 0x06

FIXED = {
    0x01: 1,
    0x02: 1,
    0x03: 1,
    0x05: 1,
    0x3A: 2,  # CVV (never kept)
    0xAA: 3,  # date YYMMDD
    AMOUNT: 6,
    TRACE: 3,
    TIME: 3,
    DATE: 2,
    EXPIRY: 2,
    CARD_SEQ: 2,
    PAYMENT_TYPE: 1,
    RESULT: 1,
    TERMINAL_ID: 4,
    0x2A: 15,
    0x37: 3,
    AID: 8,
    0x3D: 3,
    CURRENCY: 2,
    RECEIPT_NO: 2,
    TURNOVER_NO: 3,
    CARD_TYPE: 1,
    0x8C: 1,
    0xA0: 1,
    0xBA: 5,
    0xD0: 1,
    0xD2: 1,
    0xE0: 1,
    0xE1: 1,
    0xE2: 1,
    0xE3: 1,
    0xE4: 1,
    0xE5: 1,
    0xE6: 1,
    0xE7: 1,
    0xE8: 1,
    0xE9: 1,
    0xEA: 1,
    0xEB: 1,
    0xEC: 1,
    0xED: 1,
    0xEE: 1,
}
LLVAR = {PAN, 0x23, 0x2D, 0x2E, CARD_NAME, 0x92, 0xA7, 0xD1}
LLLVAR = {0x24, ADD_TEXT, 0x60, 0x9A, 0xAF, 0xD3}


def _var_length(n: int, digits: int) -> bytes:
    text = str(n).rjust(digits, "0")
    if len(text) > digits:
        raise ValueError(f"{n} bytes do not fit an {'L' * digits}VAR")
    return bytes(0xF0 | int(d) for d in text)


def encode(tag: int, value: bytes) -> bytes:
    if tag in FIXED:
        if len(value) != FIXED[tag]:
            raise ValueError(f"BMP {tag:02X} takes {FIXED[tag]} bytes, got {len(value)}")
        return bytes([tag]) + value
    if tag in LLVAR:
        return bytes([tag]) + _var_length(len(value), 2) + value
    if tag in LLLVAR:
        return bytes([tag]) + _var_length(len(value), 3) + value
    if tag == TLV:
        return bytes([tag]) + _ber_length(len(value)) + value
    raise ValueError(f"unknown BMP {tag:02X}")


def _ber_length(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    if n < 0x100:
        return bytes([0x81, n])
    return bytes([0x82]) + n.to_bytes(2, "big")


def decode(data: bytes, *, partial: bool = False) -> dict[int, bytes]:
    """All BMPs in ``data``, by tag. Raises :class:`ApduError` on anything malformed; with
    ``partial``, returns the fields read before an unknown or broken one instead."""
    if partial:
        fields: dict[int, bytes] = {}
        with contextlib.suppress(ApduError):
            _decode_into(data, fields)
        return fields
    return _decode_into(data, {})


def _decode_into(data: bytes, fields: dict[int, bytes]) -> dict[int, bytes]:
    i = 0
    while i < len(data):
        tag = data[i]
        i += 1
        if tag in FIXED:
            n = FIXED[tag]
        elif tag in LLVAR or tag in LLLVAR:
            digits = 2 if tag in LLVAR else 3
            raw = data[i : i + digits]
            if len(raw) != digits or any(b & 0xF0 != 0xF0 or b & 0x0F > 9 for b in raw):
                raise ApduError(f"BMP {tag:02X}: bad length bytes {raw.hex(' ')}")
            n = int("".join(str(b & 0x0F) for b in raw))
            i += digits
        elif tag == TLV:
            if i >= len(data):
                raise ApduError("BMP 06 without a length")
            n, i = data[i], i + 1
            if n == 0x81:
                n, i = data[i], i + 1
            elif n == 0x82:
                n, i = int.from_bytes(data[i : i + 2], "big"), i + 2
        else:
            raise ApduError(f"unknown BMP {tag:02X} at byte {i - 1}")
        if i + n > len(data):
            raise ApduError(f"BMP {tag:02X} runs past the end of the APDU")
        fields[tag] = data[i : i + n]
        i += n
    return fields


def amount(minor: int) -> bytes:
    return encode(AMOUNT, bcd(minor, 6))


def masked_pan(value: bytes) -> str:
    """A PAN BMP (BCD; ``E`` nibbles masked by the terminal, ``F`` padding) as a masked
    number that never shows more than the first 6 and last 4 digits, whatever the
    terminal sent - track data after a ``D`` separator is dropped."""
    text = value.hex().upper().split("D")[0].rstrip("F")
    digits = [c if c.isdigit() else "*" for c in text]
    keep = {i for i in range(min(6, len(digits)))} | set(
        range(max(0, len(digits) - 4), len(digits))
    )
    return "".join(c if i in keep else "*" for i, c in enumerate(digits))


def bcd_field(fields: dict[int, bytes], tag: int) -> int | None:
    return from_bcd(fields[tag]) if tag in fields else None

"""ZVT APDUs (PA00P015): class byte, instruction byte, length, data.

The length is one byte, or ``FF`` followed by two bytes, low byte first, for data of 255
bytes and more.
"""

from __future__ import annotations

from dataclasses import dataclass


class ApduError(ValueError):
    """Bytes that are not a well-formed APDU."""


@dataclass(frozen=True)
class Apdu:
    cls: int
    ins: int
    data: bytes = b""

    @property
    def command(self) -> tuple[int, int]:
        return self.cls, self.ins

    def to_bytes(self) -> bytes:
        n = len(self.data)
        if n > 0xFFFF:
            raise ApduError("APDU data longer than 65535 bytes")
        length = bytes([n]) if n < 0xFF else b"\xff" + n.to_bytes(2, "little")
        return bytes([self.cls, self.ins]) + length + self.data

    @classmethod
    def parse(cls, raw: bytes) -> Apdu:
        if len(raw) < 3:
            raise ApduError(f"an APDU has at least 3 bytes, got {raw.hex(' ')}")
        header, n = 3, raw[2]
        if n == 0xFF:
            if len(raw) < 5:
                raise ApduError("APDU with a long length but no length bytes")
            header, n = 5, int.from_bytes(raw[3:5], "little")
        if len(raw) != header + n:
            raise ApduError(f"APDU length {n} but {len(raw) - header} data bytes")
        return cls(raw[0], raw[1], raw[header:])

    def __str__(self) -> str:
        return f"{self.cls:02X} {self.ins:02X} ({len(self.data)} bytes)"


def bcd(value: int, size: int) -> bytes:
    """``value`` as ``size`` bytes of packed BCD: 1000, 6 -> 00 00 00 00 10 00."""
    digits = str(value).rjust(size * 2, "0")
    if value < 0 or len(digits) > size * 2:
        raise ValueError(f"{value} does not fit {size} BCD bytes")
    return bytes.fromhex(digits)


def from_bcd(data: bytes) -> int:
    text = data.hex()
    if not (text.isascii() and text.isdigit()):
        raise ApduError(f"not BCD: {data.hex(' ')}")
    return int(text)

"""The TLV container carried in BMP 06 (PA00P015 chapter 9, "TLV-container").

A data object is tag + length + value. The tag is BER-like (chapter 9.3.1): one byte, or
``xx x1 1111`` followed by bytes whose top bit says another follows (``1F 07``); bit 6
(``0x20``) of the first byte marks a constructed object, whose value is again a list of
objects (``25`` print-texts holds ``09`` attributes and ``07`` text lines). The length
(chapter 9.3.2) is one byte below ``80``, or ``81 nn``, or ``82 hi lo``.
"""

from __future__ import annotations

from dataclasses import dataclass

from hal.card.zvt.apdu import ApduError

# tags this code reads or writes (PA00P015 chapter 9.4)
TEXT_LINE, ATTRIBUTE, COMMAND = 0x07, 0x09, 0x0A
PRINT_TEXTS, PERMITTED_COMMANDS = 0x25, 0x26
RECEIPT_TYPE = 0x1F07  # 01 merchant receipt, 02 customer receipt, 03 administration receipt


@dataclass(frozen=True)
class DataObject:
    tag: int
    value: bytes

    @property
    def constructed(self) -> bool:
        return constructed(self.tag)

    def children(self) -> list[DataObject]:
        return decode(self.value)


def constructed(tag: int) -> bool:
    first = tag.to_bytes(max(1, (tag.bit_length() + 7) // 8), "big")[0]
    return bool(first & 0x20)


def decode(data: bytes) -> list[DataObject]:
    """The data objects in ``data``, in order (nested ones are read with
    :meth:`DataObject.children`). Raises :class:`ApduError` on anything malformed."""
    objects: list[DataObject] = []
    i = 0
    while i < len(data):
        tag, i = _tag(data, i)
        length, i = _length(data, i)
        if i + length > len(data):
            raise ApduError(f"TLV tag {tag:02X} runs past the end of its container")
        objects.append(DataObject(tag, data[i : i + length]))
        i += length
    return objects


def _tag(data: bytes, i: int) -> tuple[int, int]:
    tag = data[i]
    i += 1
    if tag & 0x1F == 0x1F:  # the tag number goes on in the next bytes
        while True:
            if i >= len(data):
                raise ApduError("TLV tag cut short")
            tag = tag << 8 | data[i]
            i += 1
            if not data[i - 1] & 0x80:
                break
    return tag, i


def _length(data: bytes, i: int) -> tuple[int, int]:
    if i >= len(data):
        raise ApduError("TLV object without a length")
    first = data[i]
    if first < 0x80:
        return first, i + 1
    if first == 0x81 and i + 1 < len(data):
        return data[i + 1], i + 2
    if first == 0x82 and i + 2 < len(data):
        return int.from_bytes(data[i + 1 : i + 3], "big"), i + 3
    raise ApduError(f"bad TLV length byte {first:02X}")


def encode(tag: int, value: bytes) -> bytes:
    """One data object: tag, BER length, value."""
    return _tag_bytes(tag) + length_bytes(len(value)) + value


def _tag_bytes(tag: int) -> bytes:
    return tag.to_bytes(max(1, (tag.bit_length() + 7) // 8), "big")


def length_bytes(n: int) -> bytes:
    if n < 0x80:
        return bytes([n])
    if n < 0x100:
        return bytes([0x81, n])
    if n < 0x10000:
        return bytes([0x82]) + n.to_bytes(2, "big")
    raise ValueError(f"a TLV value of {n} bytes is too long")


def find(objects: list[DataObject], tag: int) -> DataObject | None:
    return next((o for o in objects if o.tag == tag), None)

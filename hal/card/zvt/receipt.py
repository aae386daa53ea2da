"""What the terminal gives the register to print, and its end-of-day totals.

Print Line (06 D1, PA00P015 3.5): ``<attribute> <text>``. Print Text-Block (06 D3, 3.6):
BMP 06, a TLV container with ``1F07`` (receipt type) and ``25`` (print-texts: ``09``
attributes and ``07`` text lines, in order; an attribute holds for the lines after it
until the next one, and an attribute ``1xxx xxxx`` other than ``80`` after the last line
ends the receipt). Text is in the terminal's character set, CP437 unless the register
asked for another (TLV tag 14), which this register never does.

The attribute byte (Table 16): ``1xxx xxxx`` (not ``80``) last line, ``FF`` line feed
(06 D1: the text is then one byte, the number of feeds), ``01xx nnnn`` centred,
``0x1x nnnn`` double width, ``0xx1 nnnn`` double height, ``nnnn`` characters to indent.

End-of-day totals (3.1.3): BMP 60, LLLVAR: receipt numbers from and to (2 bytes BCD
each), then for girocard, JCB, Eurocard, Amex, VISA, Diners and the remaining cards one
byte binary count and 6 bytes BCD turnover.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from hal.card.zvt import tlv
from hal.card.zvt.apdu import ApduError, bcd, from_bcd

log = logging.getLogger(__name__)

CHARSET = "cp437"
LINE_FEED, RFU = 0xFF, 0x80
CENTRED, DOUBLE_WIDTH, DOUBLE_HEIGHT = 0x40, 0x20, 0x10
MERCHANT, CUSTOMER, ADMINISTRATION = 1, 2, 3  # TLV 1F07


@dataclass(frozen=True)
class PrintLine:
    """One line the terminal wants printed, with its attribute byte."""

    text: str
    attribute: int = 0
    receipt_type: int | None = None  # TLV 1F07, when the terminal said (06 D3 only)
    end_of_receipt: bool = False  # 06 D3: the block's closing attribute came after it

    @property
    def last_line(self) -> bool:
        """The receipt ends here (a switch between merchant and customer copy)."""
        marked = self.attribute & 0x80 and self.attribute not in (RFU, LINE_FEED)
        return self.end_of_receipt or bool(marked)

    @property
    def centred(self) -> bool:
        return not self.attribute & 0x80 and bool(self.attribute & CENTRED)

    @property
    def double_width(self) -> bool:
        return not self.attribute & 0x80 and bool(self.attribute & DOUBLE_WIDTH)

    @property
    def double_height(self) -> bool:
        return not self.attribute & 0x80 and bool(self.attribute & DOUBLE_HEIGHT)

    @property
    def indent(self) -> int:
        return 0 if self.attribute & 0x80 else self.attribute & 0x0F


def print_line(data: bytes) -> list[PrintLine]:
    """The lines of one Print Line (06 D1): one, or as many empty ones as the line feed
    attribute ``FF`` asks for."""
    if not data:
        return [PrintLine("")]
    attribute, text = data[0], data[1:]
    if attribute == LINE_FEED:
        return [PrintLine("", LINE_FEED)] * (text[0] if text else 1)
    return [PrintLine(text.decode(CHARSET, "replace"), attribute)]


def print_text_block(container: bytes) -> list[PrintLine]:
    """The lines of one Print Text-Block (06 D3), from its TLV container (BMP 06).
    Raises :class:`ApduError` when the container is malformed."""
    objects = tlv.decode(container)
    kind = tlv.find(objects, tlv.RECEIPT_TYPE)
    receipt_type = kind.value[0] if kind and kind.value else None
    texts = tlv.find(objects, tlv.PRINT_TEXTS)
    if texts is None:
        return []
    lines: list[PrintLine] = []
    attribute = 0
    items = texts.children()
    for n, item in enumerate(items):
        if item.tag == tlv.ATTRIBUTE and item.value:
            attribute = item.value[0]
            if attribute & 0x80 and attribute != RFU:
                if attribute == LINE_FEED and n < len(items) - 1:  # a feed inside the block
                    lines.append(PrintLine("", LINE_FEED, receipt_type))
                elif lines:  # the end of a receipt: it marks the line before it
                    last = lines[-1]
                    lines[-1] = PrintLine(last.text, last.attribute, last.receipt_type, True)
                attribute = 0
        elif item.tag == tlv.TEXT_LINE:
            lines.append(PrintLine(item.value.decode(CHARSET, "replace"), attribute, receipt_type))
    return lines


def text_block(lines: list[PrintLine], receipt_type: int | None) -> bytes:
    """The TLV container of a Print Text-Block with ``lines`` (one receipt: it ends with
    the attribute ``FF``)."""
    items = b""
    attribute = 0
    for line in lines:
        if line.attribute != attribute:
            attribute = line.attribute
            items += tlv.encode(tlv.ATTRIBUTE, bytes([attribute]))
        items += tlv.encode(tlv.TEXT_LINE, line.text.encode(CHARSET))
    items += tlv.encode(tlv.ATTRIBUTE, bytes([LINE_FEED]))
    head = b"" if receipt_type is None else tlv.encode(tlv.RECEIPT_TYPE, bytes([receipt_type]))
    return head + tlv.encode(tlv.PRINT_TEXTS, items)


CARD_GROUPS = ("girocard", "JCB", "Eurocard", "Amex", "VISA", "Diners", "other")
# ZVT card-type IDs (PA00P015 chapter 12) to the groups of BMP 60
_GROUP_OF = {2: 0, 5: 0, 14: 1, 6: 2, 8: 3, 10: 4, 11: 4, 13: 4, 12: 5}


def card_group(card_type: int | None) -> str:
    return CARD_GROUPS[_GROUP_OF.get(card_type or 0, len(CARD_GROUPS) - 1)]


@dataclass
class DayTotals:
    """End-of-day totals (BMP 60): the batch's receipt numbers and, per card group, how
    many payments and their turnover."""

    receipt_from: int = 0
    receipt_to: int = 0
    by_group: dict[str, tuple[int, int]] = field(default_factory=dict)  # (count, amount)
    # (a group without payments is not in by_group)

    @property
    def count(self) -> int:
        return sum(n for n, _amount in self.by_group.values())

    @property
    def amount(self) -> int:
        return sum(amount for _n, amount in self.by_group.values())

    def to_bytes(self) -> bytes:
        data = bcd(self.receipt_from, 2) + bcd(self.receipt_to, 2)
        for group in CARD_GROUPS:
            count, amount = self.by_group.get(group, (0, 0))
            data += bytes([min(count, 255)]) + bcd(amount, 6)
        return data

    @classmethod
    def parse(cls, data: bytes) -> DayTotals:
        """BMP 60's value. Groups without payments are left out, and so are groups cut
        short by a terminal that sends fewer."""
        if len(data) < 4:
            raise ApduError(f"end-of-day totals of {len(data)} bytes")
        totals = cls(from_bcd(data[:2]), from_bcd(data[2:4]))
        rest = data[4:]
        for n, group in enumerate(CARD_GROUPS):
            part = rest[n * 7 : n * 7 + 7]
            if len(part) < 7:
                break
            count, amount = part[0], from_bcd(part[1:])
            if count or amount:
                totals.by_group[group] = (count, amount)
        return totals

"""The e-barimt part of a printed receipt: the bill id, its date, the lottery number and
the QR - or, where those may not be printed again, how the customer finds the receipt."""

from __future__ import annotations

from dataclasses import dataclass, field

from hal.printer.document import Document
from terminal.i18n import Gettext

PENDING, REGISTERED = "pending", "registered"


@dataclass(frozen=True)
class FiscalBlock:
    state: str  # pending | registered
    bill_id: str = ""
    date: str = ""
    buyer_tin: str = ""
    # only on the receipt printed when PosAPI answered (never stored, never reprinted)
    lottery: str = field(default="", repr=False)
    qr_data: str = field(default="", repr=False)
    title: str = ""  # a slip of its own: what it is for (a sale registered later...)


def add_fiscal_block(doc: Document, block: FiscalBlock, gettext: Gettext) -> Document:
    _ = gettext
    doc.rule()
    doc.line("e-barimt", align="center", bold=True)
    if block.title:
        doc.line(block.title, align="center")
    if block.buyer_tin:
        doc.pair(_("Buyer TIN"), block.buyer_tin)
    if block.state == PENDING:
        doc.paragraph(
            _(
                "e-barimt pending: the receipt is registered with the tax office as soon as "
                "its service answers. Ask for it with this receipt's number."
            )
        )
        return doc
    doc.line(_("Bill id (DDTD)"))
    doc.line(block.bill_id)
    doc.pair(_("Date"), block.date)
    if block.qr_data:  # the original: what the customer registers
        if block.lottery:
            doc.pair(_("Lottery"), block.lottery, bold=True)
        doc.qr(block.qr_data, module=4)
    else:
        doc.paragraph(
            _(
                "The lottery number and the QR code are printed on the original receipt "
                "only. Find this receipt in the e-barimt app by its bill id."
            )
        )
    return doc

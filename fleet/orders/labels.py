"""Address labels for sold online orders, as a PDF (fpdf2) to print on sticker sheets or a
thermal label printer.

Layouts (:data:`LAYOUTS`):

- ``a4-2x5``: A4 sheets of ten 99.1 x 57 mm stickers, 2 columns x 5 rows: the
  dimensions of the common Avery L7173 / J8173 sheet (top margin 6 mm, side margin
  4.65 mm, 2.5 mm between the columns, none between the rows), which the usual
  "10 labels per sheet" stationery copies;
- ``100x150``: one 100 x 150 mm label a page, the size couriers' thermal label printers
  take (4 x 6 in).

Each label: the order number as a Code 128 barcode (vector bars, from python-barcode's
encoding) and as text, the customer (name, phone, address), the shop as the sender, the
courier and its service, the airway bill when known (also a barcode), and REPRINT on a
label printed before. The customer's data is opened from the sealed booking for the
print only (:func:`label_for`) and not kept.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from barcode import Code128
from fpdf import FPDF

from fleet.fonts import BOLD, FONT
from fleet.orders import desk as orders
from terminal.core.couriers import courier_name
from terminal.core.errors import N_
from terminal.core.sealing import Sealer


@dataclass(frozen=True)
class Label:
    order: str
    name: str
    phone: str
    address: str
    sender: str  # the shop: name
    sender_phone: str
    sender_address: str
    courier: str  # as the customer knows it ("": not chosen yet)
    service: str
    awb: str  # "": not known yet
    reprint: bool = False


@dataclass(frozen=True)
class Layout:
    page: tuple[float, float]  # mm
    size: tuple[float, float]  # one label, mm
    origin: tuple[float, float]  # the first label's top left corner
    pitch: tuple[float, float]  # from one label to the next (across, down)
    grid: tuple[int, int]  # columns, rows
    font: float  # pt
    bars: float  # barcodes' height, mm
    stacked: bool  # the two barcodes one under the other (wide label: side by side)


LAYOUTS = {
    "a4-2x5": Layout((210, 297), (99.1, 57), (4.65, 6), (101.6, 57), (2, 5), 7, 9, False),
    "100x150": Layout((100, 150), (100, 150), (0, 0), (100, 150), (1, 1), 11, 20, True),
}
PAD = 3.0  # mm inside a label's edge
QUIET = 10  # modules of white on each side of a barcode


def label_for(sealer: Sealer, shipment, origin) -> Label:
    """A shipment's label (``shipment.booking``: its sold booking; ``origin``: the
    ``[orders]`` settings with the shop as the sender)."""
    customer = orders.customer_of(sealer, shipment.booking)
    return Label(
        order=shipment.order_no,
        name=customer.name,
        phone=customer.phone,
        address=customer.address,
        sender=origin.origin_name or shipment.booking.desk,
        sender_phone=origin.origin_phone,
        sender_address=origin.origin_address,
        courier=courier_name(shipment.courier),
        service=shipment.service.upper(),
        awb=shipment.awb,
        reprint=shipment.label_prints > 0,
    )


def labels_pdf(labels: Iterable[Label], layout: str, gettext: Callable[[str], str] = str) -> bytes:
    """The labels, in order, on as many pages as they take, their words ("From:",
    "REPRINT") in ``gettext``'s language (the console viewer's). ValueError for a layout
    not in :data:`LAYOUTS`."""
    if layout not in LAYOUTS:
        raise ValueError(f"unknown label layout {layout!r}")
    sheet = LAYOUTS[layout]
    pdf = FPDF(unit="mm", format=sheet.page)
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    pdf.add_font("dejavu", "", str(FONT))
    pdf.add_font("dejavu", "B", str(BOLD))
    pdf.set_title("Address labels")
    per_page = sheet.grid[0] * sheet.grid[1]
    for i, label in enumerate(labels):
        if i % per_page == 0:
            pdf.add_page()
        column, row = (i % per_page) % sheet.grid[0], (i % per_page) // sheet.grid[0]
        x = sheet.origin[0] + column * sheet.pitch[0]
        y = sheet.origin[1] + row * sheet.pitch[1]
        _label(pdf, sheet, label, x, y, gettext)
    return bytes(pdf.output())


def _label(
    pdf: FPDF, sheet: Layout, label: Label, x: float, y: float, gettext: Callable[[str], str]
) -> None:
    w, h = sheet.size
    pdf.set_draw_color(200)
    pdf.rect(x, y, w, h)  # a guide where the sheet has no die-cut
    pdf.set_draw_color(0)
    left, top, inner = x + PAD, y + PAD, w - 2 * PAD
    line = sheet.font * 0.3528 * 1.3  # pt to mm, with leading
    # the courier, and REPRINT
    pdf.set_font("dejavu", "B", sheet.font + 2)
    courier = " ".join(part for part in (label.courier, label.service) if part) or "-"
    pdf.set_xy(left, top)
    pdf.cell(inner * 0.6, line * 1.2, courier)
    if label.reprint:
        pdf.set_fill_color(0)
        pdf.set_text_color(255)
        pdf.set_xy(left + inner * 0.62, top)
        pdf.cell(inner * 0.38, line * 1.2, gettext(N_("REPRINT")), align="C", fill=True)
        pdf.set_text_color(0)
    top += line * 1.4
    # the barcodes: the order number, and the airway bill when known
    if sheet.stacked:
        top = _barcode(pdf, label.order, left, top, inner, sheet.bars, sheet.font)
        if label.awb:
            top = _barcode(pdf, label.awb, left, top + 1, inner, sheet.bars, sheet.font)
    else:
        half = (inner - 3) / 2
        below = _barcode(pdf, label.order, left, top, half, sheet.bars, sheet.font)
        if label.awb:
            _barcode(pdf, label.awb, left + half + 3, top, half, sheet.bars, sheet.font)
        top = below
    top += 1
    # to whom, and from whom
    pdf.set_font("dejavu", "B", sheet.font + 1)
    pdf.set_xy(left, top)
    pdf.cell(inner, line, _fit(pdf, label.name, inner))
    top += line
    pdf.set_font("dejavu", "", sheet.font)
    if label.phone:
        pdf.set_xy(left, top)
        pdf.cell(inner, line, _fit(pdf, label.phone, inner))
        top += line
    bottom = y + h - PAD - 2 * line  # the sender's two lines below the address
    lines = pdf.multi_cell(inner, line, label.address, dry_run=True, output="LINES")
    room = max(1, int((bottom - top) // line))
    for text in lines[:room]:
        pdf.set_xy(left, top)
        pdf.cell(inner, line, text)
        top += line
    pdf.set_font("dejavu", "", sheet.font - 1)
    pdf.set_xy(left, bottom)
    sender = " ".join(
        part for part in (gettext(N_("From:")), label.sender, label.sender_phone) if part
    )
    pdf.cell(inner, line, _fit(pdf, sender, inner))
    pdf.set_xy(left, bottom + line)
    pdf.cell(inner, line, _fit(pdf, label.sender_address, inner))


def _barcode(pdf: FPDF, text: str, x: float, y: float, width: float, height: float, font):
    """``text`` as Code 128 bars (quiet zones included in ``width``) with the text under
    them; the y below it."""
    modules = Code128(text).build()[0]
    module = min(0.5, width / (len(modules) + 2 * QUIET))
    start = x + QUIET * module
    run = 0
    for i, bit in enumerate(modules + "0"):
        if bit == "1":
            run += 1
            continue
        if run:
            pdf.rect(start + (i - run) * module, y, run * module, height, style="F")
            run = 0
    pdf.set_font("dejavu", "B", font)
    line = font * 0.3528 * 1.3
    pdf.set_xy(x, y + height + 0.3)
    pdf.cell(width, line, text, align="C")
    return y + height + 0.3 + line


def _fit(pdf: FPDF, text: str, width: float) -> str:
    """The text, cut with an ellipsis to what fits on one line."""
    if pdf.get_string_width(text) <= width:
        return text
    while text and pdf.get_string_width(text + "…") > width:
        text = text[:-1]
    return text + "…"

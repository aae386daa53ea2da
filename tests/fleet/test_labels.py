"""Address labels as a PDF, read back as a person and a scanner would: the text of the
page (order number, customer, address, courier, AWB, REPRINT on a reprint) and the
barcodes decoded from the rendered page, on both layouts."""

from __future__ import annotations

import pypdfium2 as pdfium
import pytest
import zxingcpp

from fleet.orders.labels import LAYOUTS, Label, labels_pdf

DEWI = Label(
    order="BT01-0000001K",
    name="Dewi Lestari",
    phone="0812-3456-7890",
    address="Jl. Melati 5 RT 3 RW 4, Kebayoran Baru, Jakarta Selatan 12160",
    sender="Toko Teh Sejahtera",
    sender_phone="021-5550123",
    sender_address="Jl. Gudang 1, Jakarta Pusat 10110",
    courier="J&T Express",
    service="EZ",
    awb="JP1234567890",
)
BUDI = Label(
    "BT01-0000002X", "Budi Santoso", "", "Jl. Mawar 2, Bogor 16111", "Toko", "", "", "", "", ""
)


def read(data: bytes, page: int = 0) -> tuple[str, set[str], int]:
    doc = pdfium.PdfDocument(data)
    sheet = doc[page]
    text = sheet.get_textpage().get_text_range()
    image = sheet.render(scale=300 / 72).to_pil()
    return text, {b.text for b in zxingcpp.read_barcodes(image)}, len(doc)


@pytest.mark.parametrize("layout", list(LAYOUTS))
def test_a_label_says_and_scans_what_the_courier_needs(layout):
    text, codes, _pages = read(labels_pdf([DEWI, BUDI], layout))
    for said in ("BT01-0000001K", "Dewi Lestari", "0812-3456-7890", "Jakarta Selatan 12160"):
        assert said in text.replace("\r\n", " ").replace("\n", " ")
    assert "J&T Express EZ" in text and "JP1234567890" in text and "Toko Teh Sejahtera" in text
    assert "REPRINT" not in text
    assert {"BT01-0000001K", "JP1234567890"} <= codes
    if layout == "a4-2x5":
        assert "BT01-0000002X" in codes  # the next sticker of the sheet


def test_a_reprint_is_marked_and_a_full_sheet_starts_another_page():
    again = Label(**{**DEWI.__dict__, "reprint": True})
    text, _codes, _pages = read(labels_pdf([again], "100x150"))
    assert "REPRINT" in text
    eleven = [DEWI] * 10 + [BUDI]
    text, codes, pages = read(labels_pdf(eleven, "a4-2x5"), page=1)
    assert pages == 2 and "Budi Santoso" in text and codes == {"BT01-0000002X"}


def test_an_unknown_layout_is_refused():
    with pytest.raises(ValueError, match="unknown label layout"):
        labels_pdf([DEWI], "a5")

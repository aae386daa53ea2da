"""Byte-exact ESC/POS through python-escpos's Dummy."""

from hal.printer.document import Document
from hal.printer.escpos_render import render_escpos
from hal.printer.preview import interpret

ESC, GS = b"\x1b", b"\x1d"


def test_golden_bytes_of_a_small_job():
    doc = Document(columns=48).line("TOKO", align="center", bold=True, size="tall")
    doc.pair("Teh", "Rp 5.500").barcode("RT0100000001X").qr("RT0100000001X")
    data = render_escpos(doc, profile="TM-T20II", codepage="CP437")
    normal = (ESC + b"!\x00") * 3  # python-escpos's set(): size, then bold, then align
    expected = (
        ESC
        + b"@"  # initialise
        + ESC
        + b"t\x00"  # codepage 0 = CP437
        + normal[:-3]
        + ESC
        + b"!\x10"
        + ESC
        + b"E\x01"
        + ESC
        + b"a\x01"  # tall, bold, center
        + b"TOKO\n"
        + normal
        + ESC
        + b"E\x00"
        + ESC
        + b"a\x00"
        + b"Teh"
        + b" " * 37
        + b"Rp 5.500\n"
        + normal
        + ESC
        + b"E\x00"
        + ESC
        + b"a\x01"
        # CODE128 set B: height 60, module 2, HRI font A below
        + ESC
        + b"a\x01"
        + GS
        + b"h<"
        + GS
        + b"w\x02"
        + GS
        + b"f\x00"
        + GS
        + b"H\x02"
        + GS
        + b"kI\x0f{BRT0100000001X"
        + ESC
        + b"a\x01"
        # native QR: model 2, module 6, error correction L, store the data, print it
        + GS
        + b"(k\x04\x001A2\x00"
        + GS
        + b"(k\x03\x001C\x06"
        + GS
        + b"(k\x03\x001E0"
        + GS
        + b"(k\x10\x001P0RT0100000001X"
        + GS
        + b"(k\x03\x001Q0"
        + normal
        + ESC
        + b"E\x00"
        + ESC
        + b"a\x00"
        + ESC
        + b"d\x06"
        + GS
        + b"V\x00"  # feed past the cutter, full cut
    )
    assert data == expected


def test_every_job_starts_with_init_and_reads_back():
    doc = Document().line("Harga naik é")
    data = render_escpos(doc, profile="TM-T20II", codepage="CP437")
    assert data.startswith(b"\x1b@\x1bt\x00")
    assert b"Harga naik \x82\n" in data  # é in CP437
    assert interpret(data).lines[0] == "Harga naik é"


def test_long_names_wrap_and_keep_the_amount_aligned():
    doc = Document(columns=20).pair("Kopi ABC Susu isi sepuluh", "Rp 15.900")
    assert doc.text_lines() == ["Kopi ABC Susu isi", "sepuluh    Rp 15.900"]


def test_logo_is_sent_as_raster_and_reads_back(tmp_path):
    from PIL import Image, ImageDraw  # noqa: PLC0415 - only this test draws

    from hal.printer.preview import RasterMark  # noqa: PLC0415

    logo = tmp_path / "logo.png"
    img = Image.new("1", (64, 24), 1)
    ImageDraw.Draw(img).rectangle([4, 4, 59, 19], fill=0)
    img.save(logo)
    data = render_escpos(
        Document().logo(str(logo)).line("after"), profile="TM-T20II", codepage="CP437"
    )
    assert b"\x1dv0\x00\x08\x00\x18\x00" in data  # GS v 0, 8 bytes x 24 rows
    paper = interpret(data)
    assert not paper.unknown
    (mark,) = paper.of(RasterMark)
    assert mark.image.size == (64, 24)
    assert mark.image.getpixel((30, 12)) == 0  # black inside the rectangle
    assert mark.image.getpixel((1, 1)) == 255  # white outside
    assert paper.lines[0] == "after"  # the raster bytes were not read as text

"""Cyrillic and Chinese printed in the printer's own character sets: the exact bytes of
each path (golden), read back by the preview as the paper would show them, and the
raster line where the printer's sets cannot carry a line (hal/printer/native_scripts.py;
the byte sequences were checked against docs/research/escpos-native-scripts.md)."""

from __future__ import annotations

import pytest

from hal.printer.backends import PrinterSettings
from hal.printer.document import Document
from hal.printer.escpos_render import render_escpos
from hal.printer.preview import RasterMark, interpret

MONGOLIAN = "Сайн байна уу Өнөөдөр"
RUSSIAN = "Молоко 1 л"
CHINESE = "欢迎光临 合计 ¥12.50"
INIT = b"\x1b@\x1bt\x00"  # ESC @, ESC t 0 (CP437)
STYLE = b"\x1b!\x00\x1b!\x00\x1b!\x00\x1bE\x00\x1ba\x00"  # python-escpos's set(): normal


def body(data: bytes) -> bytes:
    """The job without its end (the closing style, feed and cut)."""
    return data[: data.rindex(STYLE + b"\x1bd")]


def test_mongolian_goes_in_rk1048_where_the_profile_has_it():
    data = render_escpos(Document().line(MONGOLIAN), profile="TM-T20II", codepage="CP437")
    assert body(data) == (
        INIT
        + b"\x1bt\x35"  # ESC t 53: RK1048 (KZ-1048), the page with Ө ө Ү ү
        + STYLE
        + bytes.fromhex("D1E0E9ED20E1E0E9EDE020F3F320A5EDB4B4E4B4F0")
        + b"\n"
    )
    paper = interpret(data)
    assert paper.lines[0] == MONGOLIAN and not paper.of(RasterMark) and not paper.unknown


def test_back_to_the_shops_codepage_after_a_cyrillic_line_and_only_when_it_changes():
    doc = Document().line(RUSSIAN).line("Teh Botol").line("Indomie")
    data = render_escpos(doc, profile="TM-T20II", codepage="CP437")
    assert data.count(b"\x1bt\x35") == 1 and data.count(b"\x1bt\x00") == 2  # init, back once
    assert interpret(data).lines[:3] == [RUSSIAN, "Teh Botol", "Indomie"]


def test_without_rk1048_russian_is_native_and_mongolian_is_raster():
    """ZJ-5870 (a common Chinese 58 mm printer) lists CP866 only."""
    doc = Document(columns=32).line(RUSSIAN).line(MONGOLIAN)
    data = render_escpos(doc, profile="ZJ-5870", codepage="CP437")
    paper = interpret(data)
    assert b"\x1bt\x11" in data  # ESC t 17: CP866
    assert paper.lines[0] == RUSSIAN
    assert len(paper.of(RasterMark)) == 1  # Ө: in no page this printer has


def test_chinese_in_the_printers_chinese_mode():
    data = render_escpos(
        Document().line(CHINESE, size="double"), profile="TM-T20II", codepage="CP437", chinese="gbk"
    )
    assert body(data) == (
        b"\x1b@\x1c."  # out of the Chinese mode such printers may start in
        + b"\x1bt\x00"
        + STYLE
        + b"\x1c&\x1c!\x0c"  # FS &, FS ! double (ESC ! does not enlarge Chinese)
        + bytes.fromhex("BBB6D3ADB9E2C1D920BACFBCC620A3A4")
        + b"12.50"
        + b"\n\x1c!\x00\x1c."
    )
    paper = interpret(data)
    assert paper.lines[0] == "欢迎光临 合计 ￥12.50" and not paper.unknown


def test_chinese_outside_gbk_and_on_printers_without_the_mode_is_raster():
    beyond = "𠀀 祝福"  # U+20000: GB18030's four bytes, not GBK
    data = render_escpos(
        Document().line(beyond), profile="TM-T20II", codepage="CP437", chinese="gbk"
    )
    assert len(interpret(data).of(RasterMark)) == 1 and b"\x1c&" not in data
    plain = render_escpos(Document().line(CHINESE), profile="TM-T20II", codepage="CP437")
    assert b"\x1c&" not in plain and len(interpret(plain).of(RasterMark)) == 1


def test_a_latin_receipt_is_byte_for_byte_what_it_was():
    doc = Document().line("TOKO DEMO", bold=True).pair("Teh Botol", "5.500")
    assert render_escpos(doc, profile="TM-T20II", codepage="CP437") == render_escpos(
        doc, profile="TM-T20II", codepage="CP437", cyrillic="raster"
    )


@pytest.mark.parametrize(("key", "value"), [("cyrillic", "utf8"), ("chinese", "big5")])
def test_an_unknown_choice_is_refused(key, value):
    with pytest.raises(ValueError, match=key):
        PrinterSettings(**{key: value})

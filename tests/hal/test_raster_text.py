"""Chinese and Mongolian names reach the printer as something a person can read: the
lines the codepage cannot carry become raster images, which this test reads back from
the printer's bytes, cell by cell, against glyphs it draws itself from the font files."""

from __future__ import annotations

from PIL import Image, ImageChops, ImageDraw, ImageFont

from hal.printer.document import Document, display_width
from hal.printer.escpos_render import render_escpos
from hal.printer.preview import RasterMark, interpret

FONTS = "hal/printer/fonts/"
CHINESE = "农夫山泉矿泉水"
MONGOLIAN = "Өндөг ширхэг"


def glyph(char: str) -> Image.Image:
    """The character as its font draws it, cropped to its ink (independent of our code)."""
    cjk = "\u2e80" <= char <= "\u9fff"
    font = ImageFont.truetype(
        FONTS + ("DroidSansFallbackFull.ttf" if cjk else "DejaVuSansMono.ttf"), 22 if cjk else 19
    )
    img = Image.new("L", (48, 32), 255)
    ImageDraw.Draw(img).text((4, 2), char, font=font, fill=0)
    img = img.point(lambda v: 0 if v < 128 else 255)
    return img.crop(ImageChops.invert(img).getbbox())


def read_back(raster: Image.Image, alphabet: str) -> str:
    """Decode a raster line: in each 12-dot cell (24 for CJK), the alphabet's character
    whose glyph matches the ink best; a blank cell is a space."""
    line = raster.convert("L")
    text, x = "", 0
    templates = {ch: glyph(ch) for ch in set(alphabet) - {" "}}
    while x < line.width:
        best, best_score, best_width = " ", 0.0, 12
        for char, tpl in templates.items():
            width = 24 if display_width(char) == 2 else 12
            cell = line.crop((x, 0, x + width, 24))
            box = ImageChops.invert(cell).getbbox()
            if box is None:
                break
            ink = cell.crop(box).resize(tpl.size)
            same = sum(a == b for a, b in zip(ink.getdata(), tpl.getdata(), strict=True))
            score = same / (tpl.width * tpl.height)
            if score > best_score:
                best, best_score, best_width = char, score, width
        if ImageChops.invert(line.crop((x, 0, x + 12, 24))).getbbox() is None:
            best, best_width = " ", 12
        text += best
        x += best_width
    return text.rstrip()


def test_chinese_and_mongolian_names_are_printed_readably():
    """The raster path: a printer without these character sets (or set to raster)."""
    doc = Document().line(CHINESE).line(MONGOLIAN).line("Teh Botol 450 ml")
    data = render_escpos(doc, profile="TM-T20II", codepage="CP437", cyrillic="raster")
    paper = interpret(data)
    assert not any("?" in line for line in paper.lines)  # nothing squeezed through as "?"
    assert not paper.unknown
    chinese, mongolian = paper.of(RasterMark)
    assert chinese.image.size == mongolian.image.size == (576, 24)
    assert read_back(chinese.image, CHINESE) == CHINESE
    assert read_back(mongolian.image, MONGOLIAN) == MONGOLIAN
    assert [ln for ln in paper.lines if ln] == ["Teh Botol 450 ml"]  # CP437 text stays text


def test_wide_characters_count_two_columns():
    doc = Document(columns=20).pair("矿泉水 550ml", "3.00")
    (line,) = doc.text_lines()
    assert display_width(line) == 20 and line.endswith("3.00")

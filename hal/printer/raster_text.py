"""Text the printer's codepage cannot carry, printed as a raster image.

Chinese product names and Mongolian Cyrillic (Ө, Ү are in no common ESC/POS codepage)
are drawn with bundled fonts - DejaVu Sans Mono for Latin and Cyrillic, Droid Sans
Fallback for CJK, chosen per character by Unicode block - into a line as wide as the
paper, aligned and sized as the text would have been, and sent as ``GS v 0``.
"""

from __future__ import annotations

import codecs
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

FONT_DIR = Path(__file__).parent / "fonts"
LINE_HEIGHT = 24  # dots, as font A
CJK_RANGES = (
    (0x2E80, 0x9FFF),
    (0xF900, 0xFAFF),
    (0xFE30, 0xFE4F),
    (0xFF00, 0xFFEF),
    (0x20000, 0x2FA1F),
    (0x3000, 0x303F),
)


def python_codec(codepage: str) -> str:
    return codecs.lookup(codepage.lower().replace("_", "-")).name


def fits_codepage(text: str, codepage: str) -> bool:
    try:
        text.encode(python_codec(codepage))
    except UnicodeEncodeError:
        return False
    return True


def is_cjk(char: str) -> bool:
    code = ord(char)
    return any(lo <= code <= hi for lo, hi in CJK_RANGES)


@cache
def font_for(cjk: bool, bold: bool) -> ImageFont.FreeTypeFont:
    if cjk:
        return ImageFont.truetype(str(FONT_DIR / "DroidSansFallbackFull.ttf"), 22)
    name = "DejaVuSansMono-Bold.ttf" if bold else "DejaVuSansMono.ttf"
    return ImageFont.truetype(str(FONT_DIR / name), 19)


CELL = 12  # dots per column of font A: raster text stays on the same grid as printed text


@cache
def _cell(char: str, bold: bool) -> Image.Image:
    """One character drawn in its cell, once: receipts repeat the same few characters."""
    cjk = is_cjk(char)
    font = font_for(cjk, bold)
    width = CELL * (2 if cjk else 1)
    cell = Image.new("L", (width, LINE_HEIGHT), 255)
    glyph = font.getlength(char)
    ImageDraw.Draw(cell).text(((width - glyph) / 2, 1 if cjk else 2), char, font=font, fill=0)
    return cell


def draw_cells(text: str, bold: bool = False) -> Image.Image:
    """``text`` in 12-dot cells (two for CJK), 24 dots high, grey-scale, as font A prints."""
    cells = [_cell(char, bold) for char in text]
    line = Image.new("L", (max(1, sum(c.width for c in cells)), LINE_HEIGHT), 255)
    x = 0
    for cell in cells:
        line.paste(cell, (x, 0))
        x += cell.width
    return line


def render_line(
    text: str, width: int, *, align: str = "left", bold: bool = False, size: str = "normal"
) -> Image.Image:
    """One printed line as a 1-bit image ``width`` dots wide (black ink = 0)."""
    line = draw_cells(text, bold)
    wide = size in ("wide", "double")
    tall = size in ("tall", "double")
    if wide or tall:
        line = line.resize((line.width * (2 if wide else 1), LINE_HEIGHT * (2 if tall else 1)))
    line = line.crop((0, 0, min(line.width, width), line.height))
    canvas = Image.new("L", (width, line.height), 255)
    offset = {"left": 0, "center": (width - line.width) // 2, "right": width - line.width}[align]
    canvas.paste(line, (offset, 0))
    return canvas.point(lambda v: 0 if v < 128 else 255).convert("1")

"""Documents to ESC/POS bytes with python-escpos, identical for every connection.

Each job starts with ``ESC @`` (initialise: no style left over from a previous job)
and selects the configured codepage explicitly (``ESC t n``) instead of trusting the
printer's DIP switches. Text that page cannot carry goes in another character set of the
printer where it has one (a Cyrillic page, its Chinese mode:
:mod:`hal.printer.native_scripts`), else as a raster line. The bytes are produced once
on python-escpos's ``Dummy`` and sent unchanged to the real connection, so golden tests
see exactly what the printer gets.
"""

from __future__ import annotations

import contextlib
import io

from escpos.printer import Dummy

from hal.printer.document import Barcode, Document, Feed, Logo, QrCode, Text
from hal.printer.native_scripts import (
    CHINESE_OFF,
    chinese_line,
    cyrillic_page,
    gbk_bytes,
    has_cyrillic,
)
from hal.printer.raster_text import fits_codepage, render_line

_SIZES = {
    "normal": {"normal_textsize": True},
    "tall": {"double_height": True, "double_width": False},
    "wide": {"double_width": True, "double_height": False},
    "double": {"double_width": True, "double_height": True},
}


def _cyrillic(text: str, pages: dict[str, str]) -> str | None:
    return cyrillic_page(text, pages) if has_cyrillic(text) else None


def paper_width(profile: str) -> int:
    """Printable width in dots (576 for 80 mm paper at 203 dpi)."""
    return int(Dummy(profile=profile).profile.profile_data["media"]["width"]["pixels"])


def profile_columns(profile: str) -> int:
    return int(Dummy(profile=profile).profile.profile_data["fonts"]["0"]["columns"])


def render_escpos(
    doc: Document,
    *,
    profile: str,
    codepage: str,
    cyrillic: str = "native",
    chinese: str = "raster",
) -> bytes:
    """``cyrillic``: ``native`` (a Cyrillic code page of the profile, where one carries
    the line) or ``raster``; ``chinese``: ``gbk`` (the printer's Chinese mode: printers
    made for China) or ``raster`` (:mod:`hal.printer.native_scripts`)."""
    out = Dummy(profile=profile)
    out.hw("INIT")
    if chinese == "gbk":  # such printers may start in Chinese mode: out of it
        out._raw(CHINESE_OFF)
    out.charcode(codepage)
    pages = out.profile.get_code_pages()
    current = codepage  # the code page selected on the printer now

    def select(page: str) -> None:
        nonlocal current
        if page != current:
            out.charcode(page)
            current = page

    for element in doc.elements:
        match element:
            case Text(text=text, align=align, bold=bold, size=size):
                if fits_codepage(text, codepage):
                    select(codepage)
                    out.set(align=align, bold=bold, **_SIZES[size])
                    out.text(text + "\n")
                elif cyrillic == "native" and (page := _cyrillic(text, pages)):
                    select(page)
                    out.set(align=align, bold=bold, **_SIZES[size])
                    out.text(text + "\n")
                elif chinese == "gbk" and (data := gbk_bytes(text)) is not None:
                    out.set(align=align, bold=bold, normal_textsize=True)
                    out._raw(chinese_line(data, size))
                else:  # no character set of this printer carries it: drawn
                    out.set(align="left", normal_textsize=True, bold=False)
                    out.image(
                        render_line(text, paper_width(profile), align=align, bold=bold, size=size),
                        center=False,
                    )
            case Barcode(data=data):
                out.set(align="center", normal_textsize=True, bold=False)
                with contextlib.redirect_stdout(io.StringIO()):  # it prints its renderer's name
                    out.barcode(
                        "{B" + data, "CODE128", height=60, width=2, pos="BELOW", function_type="B"
                    )
            case QrCode(data=data, module=module):
                out.set(align="center")
                out.qr(data, native=True, size=module)
            case Logo(path=path):
                out.set(align="center")
                out.image(path, center=False)
            case Feed(lines=lines):
                out.ln(lines)
    out.set(align="left", normal_textsize=True, bold=False)
    out.cut()
    return bytes(out.output)

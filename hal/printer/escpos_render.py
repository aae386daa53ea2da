"""Documents to ESC/POS bytes with python-escpos, identical for every connection.

Each job starts with ``ESC @`` (initialise: no style left over from a previous job)
and selects the configured codepage explicitly (``ESC t n``) instead of trusting the
printer's DIP switches. The bytes are produced once on python-escpos's ``Dummy`` and
sent unchanged to the real connection, so golden tests see exactly what the printer gets.
"""

from __future__ import annotations

import contextlib
import io

from escpos.printer import Dummy

from hal.printer.document import Barcode, Document, Feed, Logo, QrCode, Text
from hal.printer.raster_text import fits_codepage, render_line

_SIZES = {
    "normal": {"normal_textsize": True},
    "tall": {"double_height": True, "double_width": False},
    "wide": {"double_width": True, "double_height": False},
    "double": {"double_width": True, "double_height": True},
}


def paper_width(profile: str) -> int:
    """Printable width in dots (576 for 80 mm paper at 203 dpi)."""
    return int(Dummy(profile=profile).profile.profile_data["media"]["width"]["pixels"])


def profile_columns(profile: str) -> int:
    return int(Dummy(profile=profile).profile.profile_data["fonts"]["0"]["columns"])


def render_escpos(doc: Document, *, profile: str, codepage: str) -> bytes:
    out = Dummy(profile=profile)
    out.hw("INIT")
    out.charcode(codepage)
    for element in doc.elements:
        match element:
            case Text(text=text, align=align, bold=bold, size=size):
                if fits_codepage(text, codepage):
                    out.set(align=align, bold=bold, **_SIZES[size])
                    out.text(text + "\n")
                else:  # Chinese, Mongolian Cyrillic: drawn, not encoded as "?"
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

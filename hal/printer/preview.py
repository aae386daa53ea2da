"""Reads an ESC/POS byte stream back into what the paper would show, and draws it.

This is how the simulator and the tests look at a receipt: from the bytes a printer
would receive, not from the document that produced them. Commands it does not know are
collected in ``Paper.unknown`` so a test can insist there are none.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import qrcode
from barcode import Code128  # python-barcode, a dependency of python-escpos
from PIL import Image, ImageDraw

from hal.printer.raster_text import draw_cells

# ESC t n -> the table (Epson's numbering, as python-escpos's default profiles use it)
CODEPAGES = {
    0: "cp437",
    2: "cp850",
    3: "cp860",
    16: "cp1252",
    17: "cp866",
    19: "cp858",
    46: "cp1251",
    53: "kz1048",
}
DOT_H = 24  # font A line height in dots


@dataclass
class Segment:
    text: str
    bold: bool
    width: int  # magnification 1..8
    height: int


@dataclass
class Line:
    segments: list[Segment]
    align: int  # 0 left, 1 center, 2 right

    @property
    def text(self) -> str:
        return "".join(s.text for s in self.segments)


@dataclass
class BarcodeMark:
    data: str
    height: int
    module: int


@dataclass
class QrMark:
    data: str
    module: int


@dataclass
class RasterMark:
    """A raster image (``GS v 0``): the logo, or text rendered as an image."""

    image: Image.Image  # mode "1", one pixel per printer dot


@dataclass
class Cut:
    pass


@dataclass
class DrawerKick:
    pin: int
    on_ms: int


@dataclass
class Paper:
    items: list = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)

    @property
    def lines(self) -> list[str]:
        return [item.text for item in self.items if isinstance(item, Line)]

    def of(self, kind: type) -> list:
        return [item for item in self.items if isinstance(item, kind)]


class _State:
    def __init__(self) -> None:
        self.reset()

    def reset(self) -> None:
        self.codepage = "cp437"
        self.chinese = False  # FS &: the printer's Chinese mode (GBK), until FS .
        self.align = 0
        self.bold = False
        self.width = self.height = 1
        self.bc_height = 162
        self.bc_module = 3
        self.qr_module = 3
        self.qr_data = b""


def interpret(data: bytes) -> Paper:
    paper = Paper()
    st = _State()
    pending: list[Segment] = []
    text = bytearray()
    i = 0

    def flush_text() -> None:
        if text:
            table = "gbk" if st.chinese else st.codepage
            pending.append(Segment(text.decode(table, "replace"), st.bold, st.width, st.height))
            text.clear()

    def end_line() -> None:
        flush_text()
        paper.items.append(Line(list(pending), st.align))
        pending.clear()

    n = len(data)
    while i < n:
        b = data[i]
        if b == 0x0A:
            end_line()
            i += 1
        elif b == 0x1B and i + 1 < n:
            cmd = data[i + 1]
            arg = data[i + 2] if i + 2 < n else 0
            flush_text()
            if cmd == 0x40:  # ESC @
                st.reset()
                i += 2
                continue
            if cmd == 0x74:
                st.codepage = CODEPAGES.get(arg, "cp437")
            elif cmd == 0x61:
                st.align = arg % 48 if arg >= 48 else arg
            elif cmd == 0x45:
                st.bold = bool(arg & 1)
            elif cmd == 0x21:
                st.bold = bool(arg & 0x08)
                st.height = 2 if arg & 0x10 else 1
                st.width = 2 if arg & 0x20 else 1
            elif cmd == 0x2D:
                pass  # underline: not drawn
            elif cmd == 0x64:
                for _ in range(arg):
                    end_line()
            elif cmd == 0x70:  # ESC p m t1 t2: drawer kick
                paper.items.append(DrawerKick(arg & 1, data[i + 3] * 2 if i + 3 < n else 0))
                i += 5
                continue
            else:
                paper.unknown.append(f"ESC {cmd:02X}")
            i += 3
        elif b == 0x1C and i + 1 < n:  # FS: the Chinese mode
            cmd = data[i + 1]
            flush_text()
            if cmd == 0x26:  # FS &
                st.chinese = True
                i += 2
            elif cmd == 0x2E:  # FS .
                st.chinese = False
                i += 2
            elif cmd == 0x21:  # FS ! n: the Chinese characters' size
                arg = data[i + 2] if i + 2 < n else 0
                st.width = 2 if arg & 0x04 else 1
                st.height = 2 if arg & 0x08 else 1
                i += 3
            else:
                paper.unknown.append(f"FS {cmd:02X}")
                i += 2
        elif b == 0x1D and i + 1 < n:
            cmd = data[i + 1]
            arg = data[i + 2] if i + 2 < n else 0
            flush_text()
            if cmd == 0x21:
                st.width, st.height = (arg >> 4) + 1, (arg & 0x0F) + 1
            elif cmd == 0x68:
                st.bc_height = arg
            elif cmd == 0x77:
                st.bc_module = arg
            elif cmd in (0x48, 0x66):
                pass  # HRI position and font
            elif cmd == 0x56:  # GS V: cut, with a feed amount for m = 65, 66
                paper.items.append(Cut())
                i += 4 if arg in (65, 66) else 3
                continue
            elif cmd == 0x6B:  # GS k m n data
                if arg <= 6:
                    end = data.index(0, i + 3)
                    payload, i = data[i + 3 : end], end + 1
                else:
                    length = data[i + 3]
                    payload, i = data[i + 4 : i + 4 + length], i + 4 + length
                code = payload.decode("ascii", "replace")
                code = code[2:] if code[:1] == "{" else code
                paper.items.append(BarcodeMark(code, st.bc_height, st.bc_module))
                continue
            elif cmd == 0x76 and arg == 0x30:  # GS v 0 m xL xH yL yH: raster image
                width_bytes = data[i + 4] | data[i + 5] << 8
                height = data[i + 6] | data[i + 7] << 8
                start = i + 8
                raster = bytes(data[start : start + width_bytes * height])
                # ESC/POS: bit 1 is a black dot; PIL's mode "1": bit 1 is white
                image = Image.frombytes(
                    "1", (width_bytes * 8, height), bytes(b ^ 0xFF for b in raster)
                )
                paper.items.append(RasterMark(image))
                i = start + width_bytes * height
                continue
            elif cmd == 0x28 and arg == 0x6B:  # GS ( k pL pH cn fn ...
                size = data[i + 3] | data[i + 4] << 8
                body = data[i + 5 : i + 5 + size]
                fn = body[1] if len(body) > 1 else 0
                if fn == 0x43:
                    st.qr_module = body[2]
                elif fn == 0x50:
                    st.qr_data = bytes(body[3:])
                elif fn == 0x51:
                    paper.items.append(QrMark(st.qr_data.decode("utf-8", "replace"), st.qr_module))
                i += 5 + size
                continue
            else:
                paper.unknown.append(f"GS {cmd:02X}")
            i += 3
        elif b < 0x20:
            i += 1  # other control bytes: no mark on paper
        elif st.chinese and b >= 0x81 and i + 1 < n:  # a two-byte GBK character
            text += data[i : i + 2]
            i += 2
        else:
            text.append(b)
            i += 1
    if text or pending:
        end_line()
    return paper


def _draw_line(line: Line) -> Image.Image:
    parts = []
    for seg in line.segments:
        img = draw_cells(seg.text, seg.bold)
        if seg.width > 1 or seg.height > 1:
            img = img.resize((img.width * seg.width, DOT_H * seg.height), Image.NEAREST)
        parts.append(img)
    height = max((p.height for p in parts), default=DOT_H)
    out = Image.new("L", (sum(p.width for p in parts) or 1, height), 255)
    x = 0
    for part in parts:
        out.paste(part, (x, height - part.height))
        x += part.width
    return out


def _draw_barcode(mark: BarcodeMark) -> Image.Image:
    modules = Code128(mark.data).build()[0]
    width = len(modules) * mark.module
    img = Image.new("L", (width, mark.height + DOT_H + 4), 255)
    draw = ImageDraw.Draw(img)
    for k, bit in enumerate(modules):
        if bit == "1":
            draw.rectangle([k * mark.module, 0, (k + 1) * mark.module - 1, mark.height], fill=0)
    hri = _draw_line(Line([Segment(mark.data, False, 1, 1)], 1))
    img.paste(hri, ((width - hri.width) // 2, mark.height + 4))
    return img


def _draw_qr(mark: QrMark) -> Image.Image:
    qr = qrcode.QRCode(border=0, box_size=mark.module)
    qr.add_data(mark.data)
    qr.make(fit=True)
    return qr.make_image(fill_color="black", back_color="white").get_image().convert("L")


def render_png(paper: Paper, path: Path, *, width_dots: int = 576) -> Path:
    """Draw the paper as a PNG, one pixel per printer dot."""
    blocks: list[tuple[Image.Image, int]] = []
    for item in paper.items:
        if isinstance(item, Line):
            blocks.append((_draw_line(item), item.align))
        elif isinstance(item, BarcodeMark):
            blocks.append((_draw_barcode(item), 1))
        elif isinstance(item, QrMark):
            blocks.append((_draw_qr(item), 1))
        elif isinstance(item, RasterMark):
            blocks.append((item.image.convert("L"), 1))  # python-escpos centres images
        elif isinstance(item, Cut):
            cut = Image.new("L", (width_dots, 12), 255)
            ImageDraw.Draw(cut).line([(0, 6), (width_dots, 6)], fill=128, width=1)
            blocks.append((cut, 0))
    margin = 16
    height = sum(img.height + 4 for img, _ in blocks) + 2 * margin
    page = Image.new("L", (width_dots + 2 * margin, height), 255)
    y = margin
    for img, align in blocks:
        x = margin + {0: 0, 1: (width_dots - img.width) // 2, 2: width_dots - img.width}[align]
        page.paste(img, (max(margin, x), y))
        y += img.height + 4
    path.parent.mkdir(parents=True, exist_ok=True)
    page.save(path)
    return path

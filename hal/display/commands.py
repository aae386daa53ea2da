"""The two command sets of 2 x 20 customer pole displays (VFD or LCD on a serial line):
what to send to show two lines, made byte for byte.

- **ESC/POS display commands** (Epson DM-D and the displays that copy them): ``ESC @``
  initialises; ``ESC t n`` selects the character table; ``US MD1`` (``1F 01``) is
  overwrite mode (writing never scrolls); ``CLR`` (``0C``) clears; ``US $ x y``
  (``1F 24 x y``, from 1) moves the cursor; ``US X n`` (``1F 58 n``, 1-4) sets the
  brightness.
- **CD5220** (the set most cheap displays speak): ``ESC @`` initialises; ``CLR`` clears;
  ``ESC Q A`` text ``CR`` writes the upper line and ``ESC Q B`` text ``CR`` the lower
  one (string mode: each replaces its whole line); ``ESC * n`` (1-4) sets the brightness.

Text is encoded in the display's own character set: ``ascii``; ``cp866`` (Cyrillic, as
Mongolian and Russian firmwares carry it, ``Ө`` and ``Ү`` shown as ``О`` and ``У`` where
the table lacks them); ``gb2312`` (Chinese firmwares: a Chinese character takes two
bytes and two columns). What the set cannot show becomes ``?``: a display never gets a
byte it would misread. Lines are cut or padded to the display's width in columns.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

ESC, US, CLR, CR = 0x1B, 0x1F, 0x0C, 0x0D
COMMAND_SETS = ("escpos", "cd5220")
CHARSETS = {"ascii": "ascii", "cp866": "cp866", "gb2312": "gb2312"}
# letters of Mongolian Cyrillic the CP866 table lacks, shown as their nearest
_NEAREST = str.maketrans({"Ө": "О", "ө": "о", "Ү": "У", "ү": "у"})


def columns(char: str) -> int:
    """A character's width on the display: two for a Chinese (wide) one."""
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def fit(text: str, width: int, charset: str) -> bytes:
    """``text`` in the display's character set, cut or padded to ``width`` columns."""
    if charset == "cp866":
        text = text.translate(_NEAREST)
    out, used = bytearray(), 0
    for char in text:
        if not char.isprintable():
            char = " "
        wide = columns(char)
        if charset == "gb2312":  # there every character past ASCII is two bytes, two columns
            wide = 1 if ord(char) < 0x80 else 2
        elif wide == 2:
            char, wide = "?", 1
        if used + wide > width:
            break
        try:
            out += char.encode(CHARSETS[charset])
        except UnicodeEncodeError:
            out += b"?" * wide
        used += wide
    return bytes(out) + b" " * (width - used)


@dataclass(frozen=True)
class CommandSet:
    """How one kind of display is told things (see the module)."""

    name: str
    width: int = 20
    charset: str = "ascii"
    code_table: int | None = None  # ESC/POS ``ESC t n``, where the firmware needs it

    def __post_init__(self) -> None:
        if self.name not in COMMAND_SETS:
            raise ValueError(f"command set {self.name!r}: one of {', '.join(COMMAND_SETS)}")
        if self.charset not in CHARSETS:
            raise ValueError(f"charset {self.charset!r}: one of {', '.join(CHARSETS)}")
        if not 8 <= self.width <= 40:
            raise ValueError("width: 8 to 40 columns")
        if self.name == "cd5220" and self.code_table is not None:
            raise ValueError("code_table: the CD5220 set has none (the display's switches set it)")

    @property
    def table(self) -> int | None:
        """The ESC/POS character table to select: the one set, else PC866 (17) for
        Cyrillic, which a display does not start in."""
        if self.name != "escpos":
            return None
        if self.code_table is None and self.charset == "cp866":
            return 17
        return self.code_table

    def start(self, brightness: int = 4) -> bytes:
        """Initialise, choose the table and the brightness, clear."""
        level = max(1, min(4, brightness))
        if self.name == "cd5220":
            return bytes([ESC, 0x40, ESC, 0x2A, level, CLR])
        return bytes([ESC, 0x40]) + self._table() + bytes([US, 0x01, US, 0x58, level, CLR])

    def _table(self) -> bytes:
        return b"" if self.table is None else bytes([ESC, 0x74, self.table])

    def show(self, upper: str, lower: str) -> bytes:
        """Both lines, each replacing what was there."""
        top = fit(upper, self.width, self.charset)
        bottom = fit(lower, self.width, self.charset)
        if self.name == "cd5220":
            return b"\x1bQA" + top + b"\r" + b"\x1bQB" + bottom + b"\r"
        # the table again each time: a display powered off and on has forgotten it
        return self._table() + bytes([US, 0x24, 1, 1]) + top + bytes([US, 0x24, 1, 2]) + bottom

    def clear(self) -> bytes:
        return bytes([CLR])

"""Cyrillic and Chinese printed as text, in the printer's own character sets, where it has
them: a few bytes a character instead of a raster line (a 20-line Mongolian receipt: a
tenth of the bytes, and ten times faster on a 9600-baud serial printer).

- **Cyrillic**: the first code page of :data:`CYRILLIC_PAGES` the printer's profile
  lists (``ESC t n``) that encodes the whole line. RK1048 (KZ-1048) first: it is the
  only common ESC/POS page with Mongolian's Ө ө Ү ү (CP1251 and CP866 lack them; a
  Mongolian line on a printer without RK1048 is drawn as raster). python-escpos 3.1
  lists RK1048 in its profiles but knows no codec for it: :func:`_teach_rk1048` names
  Python's ``kz1048``, the same table.
- **Chinese**: the printer's Chinese character mode (``FS &`` ... ``FS .``) with GBK
  bytes, on printers made for the Chinese market; no python-escpos profile says a
  printer has it, so it is configuration (``[hardware.printer] chinese = "gbk"``). The
  yen sign goes as the full-width ￥ (GBK has no ¥); a character outside GBK sends the
  line to raster.

Research and sources: docs/research/escpos-native-scripts.md.
"""

from __future__ import annotations

from escpos.capabilities import CAPABILITIES

CYRILLIC_PAGES = ("RK1048", "CP1251", "CP866")
CODECS = {"RK1048": "kz1048", "CP1251": "cp1251", "CP866": "cp866"}
CHINESE_ON = b"\x1c&"  # FS &
CHINESE_OFF = b"\x1c."  # FS .
CHINESE_SIZE = {"normal": 0x00, "wide": 0x04, "tall": 0x08, "double": 0x0C}  # FS ! n


def _teach_rk1048() -> None:
    """python-escpos's capabilities list RK1048 with no encoder: name Python's."""
    entry = CAPABILITIES["encodings"].get("RK1048")
    if entry is not None and "python_encode" not in entry and "data" not in entry:
        entry["python_encode"] = "kz1048"


_teach_rk1048()


def has_cyrillic(text: str) -> bool:
    return any("\u0400" <= ch <= "\u04ff" for ch in text)


def cyrillic_page(text: str, pages: dict[str, str]) -> str | None:
    """The first Cyrillic page the profile has (``pages``: name -> ESC t slot) that
    encodes all of ``text``; None: none does."""
    for name in CYRILLIC_PAGES:
        if name not in pages:
            continue
        try:
            text.encode(CODECS[name])
        except UnicodeEncodeError:
            continue
        return name
    return None


def gbk_bytes(text: str) -> bytes | None:
    """``text`` as the printer's Chinese mode takes it (GBK; ¥ as the full-width ￥), or
    None when a character is not in GBK."""
    try:
        return text.replace("¥", "￥").encode("gbk")
    except UnicodeEncodeError:
        return None


def chinese_line(data: bytes, size: str) -> bytes:
    """One line in the printer's Chinese mode, its size set for the Chinese characters
    (``FS !``: ``ESC !`` does not enlarge them), left again at its end."""
    return (
        CHINESE_ON
        + b"\x1c!"
        + bytes([CHINESE_SIZE[size]])
        + data
        + b"\n"
        + b"\x1c!\x00"
        + CHINESE_OFF
    )

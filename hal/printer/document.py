"""What a receipt is made of, before it becomes printer bytes."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Literal

Align = Literal["left", "center", "right"]
Size = Literal["normal", "tall", "wide", "double"]


@dataclass(frozen=True)
class Text:
    text: str
    align: Align = "left"
    bold: bool = False
    size: Size = "normal"


@dataclass(frozen=True)
class Barcode:
    data: str  # CODE128, printed with its human-readable text below


@dataclass(frozen=True)
class QrCode:
    data: str
    module: int = 6  # dots per module


@dataclass(frozen=True)
class Logo:
    path: str


@dataclass(frozen=True)
class Feed:
    lines: int = 1


Element = Text | Barcode | QrCode | Logo | Feed


@dataclass
class Document:
    """A receipt laid out in character columns of the printer's font A."""

    columns: int = 48
    elements: list[Element] = field(default_factory=list)

    def line(self, text: str = "", **style) -> Document:
        self.elements.append(Text(text, **style))
        return self

    def pair(self, left: str, right: str, **style) -> Document:
        """Left text and right-aligned text; a long left side wraps at word boundaries
        across the full width, and the right side goes on its last line if it fits."""
        cols = self.columns // 2 if style.get("size") in ("wide", "double") else self.columns
        indent = left[: len(left) - len(left.lstrip())]
        rows = [indent + row for row in _wrap(left, cols - len(indent))]
        if display_width(rows[-1]) + 1 + display_width(right) > cols:
            rows.append("")
        gap = cols - display_width(rows[-1]) - display_width(right)
        rows[-1] = rows[-1] + " " * gap + right
        self.elements.extend(Text(row, **style) for row in rows)
        return self

    def paragraph(self, text: str, **style) -> Document:
        """``text`` wrapped at word boundaries over as many lines as it takes."""
        cols = self.columns // 2 if style.get("size") in ("wide", "double") else self.columns
        self.elements.extend(Text(row, **style) for row in _wrap(text, cols) or [""])
        return self

    def rule(self, char: str = "-") -> Document:
        return self.line(char * self.columns)

    def barcode(self, data: str) -> Document:
        self.elements.append(Barcode(data))
        return self

    def qr(self, data: str, module: int = 6) -> Document:
        self.elements.append(QrCode(data, module))
        return self

    def logo(self, path: str) -> Document:
        self.elements.append(Logo(path))
        return self

    def feed(self, lines: int = 1) -> Document:
        self.elements.append(Feed(lines))
        return self

    def text_lines(self) -> list[str]:
        return [e.text for e in self.elements if isinstance(e, Text)]


def display_width(text: str) -> int:
    """Columns on paper: Chinese, Japanese and Korean characters take two."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def _cut(word: str, width: int) -> tuple[str, str]:
    used = 0
    for i, ch in enumerate(word):
        used += display_width(ch)
        if used > width:
            return word[:i], word[i:]
    return word, ""


def _wrap(text: str, width: int) -> list[str]:
    rows: list[str] = []
    current = ""
    for word in text.split():
        while display_width(word) > width:  # a word longer than the line is cut
            if current:
                rows.append(current)
                current = ""
            head, word = _cut(word, width)
            rows.append(head)
        if current and display_width(current) + 1 + display_width(word) > width:
            rows.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    rows.append(current)
    return rows

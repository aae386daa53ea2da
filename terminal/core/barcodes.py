"""Barcodes: GS1 check digits (EAN-13, EAN-8, UPC-A) and weighed-item codes.

Weighed-item codes are EAN-13 with a restricted-circulation prefix 20-29 that the
store defines: ``PP IIIII VVVVV C`` - prefix, item code (the product's PLU), an
embedded value (price in minor units, or weight in grams), GS1 check digit.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from terminal.core.digits import is_digits

GTIN_LENGTHS = {8: "ean8", 12: "upca", 13: "ean13"}


def gs1_check_digit(body: str) -> int:
    """Check digit for a GTIN body (all digits but the last): weights 3,1,3,... from the right."""
    total = sum(int(d) * (3 if i % 2 == 0 else 1) for i, d in enumerate(reversed(body)))
    return (10 - total % 10) % 10


def is_gtin_shaped(code: str) -> bool:
    return is_digits(code) and len(code) in GTIN_LENGTHS


def has_valid_check_digit(code: str) -> bool:
    return is_gtin_shaped(code) and gs1_check_digit(code[:-1]) == int(code[-1])


def symbology(code: str) -> str:
    """``ean13``, ``ean8``, ``upca``, or ``internal`` for anything else."""
    return GTIN_LENGTHS.get(len(code), "internal") if is_digits(code) else "internal"


def normalize(code: str) -> str:
    """The key a barcode is stored and looked up under: UPC-A as its EAN-13 (leading 0)."""
    code = code.strip()
    return "0" + code if symbology(code) == "upca" else code


@dataclass(frozen=True)
class WeighedFormat:
    prefix: str  # two digits, 20-29
    kind: Literal["price", "weight"]
    item_digits: int = 5
    value_digits: int = 5
    # for "weight": grams -> kg needs 3; for "price": the currency's exponent
    value_decimals: int = 3

    def __post_init__(self) -> None:
        if not (len(self.prefix) == 2 and is_digits(self.prefix) and self.prefix[0] == "2"):
            raise ValueError(f"weighed-item prefix must be 20-29, got {self.prefix!r}")
        if len(self.prefix) + self.item_digits + self.value_digits != 12:
            raise ValueError("prefix + item + value digits must be 12 (EAN-13 without check)")


@dataclass(frozen=True)
class WeighedCode:
    item_code: str
    kind: Literal["price", "weight"]
    value: Decimal  # kilograms for weight; minor units for price


def decode_weighed(code: str, formats: list[WeighedFormat]) -> WeighedCode | None:
    """Decode a valid EAN-13 whose prefix a format claims; ``None`` if none does."""
    if symbology(code) != "ean13":
        return None
    for fmt in formats:
        if code.startswith(fmt.prefix):
            start = len(fmt.prefix)
            item = code[start : start + fmt.item_digits]
            raw = code[start + fmt.item_digits : 12]
            scale = Decimal(1).scaleb(-fmt.value_decimals) if fmt.kind == "weight" else Decimal(1)
            return WeighedCode(item, fmt.kind, Decimal(int(raw)) * scale)
    return None

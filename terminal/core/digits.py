"""Digits as a till means them: ``0``-``9`` only.

``str.isdigit`` also takes ``²`` and other digits that ``int()`` refuses (or reads in
another script): a PIN, a cashier number or a barcode is ASCII digits or nothing."""

from __future__ import annotations


def is_digits(text: str) -> bool:
    """``"0813"``: True; ``""``, ``"²"``, ``"١٢"``, ``"12a"``: False."""
    return text.isascii() and text.isdigit()

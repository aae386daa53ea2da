"""Transaction numbers and the return code printed on every receipt.

The number is gapless per terminal (allocated in the sale's own database
transaction). The return code identifies the sale for a later refund: ``R``,
the terminal id, the number in 8 digits and an ISO 7064 MOD 37,36 check character,
so a code typed or misread is refused rather than matched to another sale.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
TERMINAL_ID = re.compile(r"^[A-Z0-9]{1,8}$")


def check_terminal_id(terminal_id: str) -> str:
    if not TERMINAL_ID.match(terminal_id):
        raise ValueError(f"terminal id must be 1-8 of A-Z and 0-9, got {terminal_id!r}")
    return terminal_id


def transaction_label(terminal_id: str, number: int) -> str:
    return f"{terminal_id}-{number:06d}"


def check_char(payload: str) -> str:
    """ISO 7064 MOD 37,36 (hybrid): catches every single wrong character and every
    swap of two neighbours, for digits and letters alike."""
    p = 36
    for char in payload:
        s = (p + _ALPHABET.index(char)) % 36 or 36
        p = (s * 2) % 37
    return _ALPHABET[(37 - p) % 36]


MAX_NUMBER = 10**8 - 1  # the return code's number field has 8 digits


def return_code(terminal_id: str, number: int) -> str:
    if not 0 < number <= MAX_NUMBER:
        raise ValueError(f"transaction number {number} does not fit a return code")
    payload = f"{check_terminal_id(terminal_id)}{number:08d}"
    return f"R{payload}{check_char(payload)}"


@dataclass(frozen=True)
class SaleRef:
    terminal_id: str
    number: int


def parse_return_code(code: str) -> SaleRef | None:
    """The sale a return code names, or ``None`` if it is not a valid return code."""
    code = code.strip().upper()
    match = re.fullmatch(r"R([A-Z0-9]{1,8})(\d{8})([0-9A-Z])", code)
    if not match or check_char(match[1] + match[2]) != match[3]:
        return None
    return SaleRef(match[1], int(match[2]))

"""PIN rules (who may set which code). Hashing lives in the store."""

from __future__ import annotations

from itertools import pairwise

from terminal.core.digits import is_digits
from terminal.core.errors import N_, PosError

CASHIER_PIN_LENGTHS = range(4, 9)


class PinRuleError(PosError):
    pass


def check_cashier_pin(pin: str) -> str:
    """A cashier or supervisor PIN: 4-8 digits, not one repeated digit, not a straight run."""
    if not is_digits(pin) or len(pin) not in CASHIER_PIN_LENGTHS:
        raise PinRuleError(N_("A PIN is 4 to 8 digits"))
    if is_trivial(pin):
        raise PinRuleError(N_("This PIN is too easy to guess: choose another"))
    return pin


def check_passkey(code: str) -> str:
    """A supervisor passkey: exactly 6 digits (seed 000), not trivial."""
    if not is_digits(code) or len(code) != 6:
        raise PinRuleError(N_("A passkey is exactly 6 digits"))
    if is_trivial(code):
        raise PinRuleError(N_("This passkey is too easy to guess: choose another"))
    return code


def is_trivial(pin: str) -> bool:
    """One digit repeated, or an ascending/descending run such as 1234 or 654321."""
    if len(set(pin)) == 1:
        return True
    steps = {(int(b) - int(a)) % 10 for a, b in pairwise(pin)}
    return steps in ({1}, {9})

"""Errors a cashier sees. Each carries an English message id (marked for gettext
extraction with ``N_``) and its parameters, so the UI translates at display time
while core stays free of any locale state."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def N_(msgid: str) -> str:  # noqa: N802 - the conventional gettext marker name
    """Mark a string for translation without translating it here."""
    return msgid


class PosError(Exception):
    """A refusal with a message for the cashier."""

    def __init__(self, msgid: str, **params: Any) -> None:
        self.msgid = msgid
        self.params = params
        super().__init__(msgid.format(**params))

    def translated(self, gettext: Callable[[str], str]) -> str:
        return gettext(self.msgid).format(**self.params)


class UnknownCode(PosError):
    def __init__(self, code: str) -> None:
        super().__init__(N_("Unknown code {code}: nothing added"), code=code)
        self.code = code


class InvalidBarcode(PosError):
    def __init__(self, code: str) -> None:
        super().__init__(N_("Barcode {code} has a wrong check digit: scan it again"), code=code)
        self.code = code


class QuantityError(PosError):
    pass


class TenderError(PosError):
    pass


class NoShiftOpen(PosError):
    """Nothing is sold, paid or refunded outside a shift: its opening float comes first."""

    def __init__(self) -> None:
        super().__init__(N_("Open the shift first (count the opening float)"))


class ConfigError(Exception):
    """The configuration file is malformed; the message names the key."""

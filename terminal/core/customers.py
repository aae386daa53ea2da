"""Customer records: the rules that do not depend on where they are kept."""

from __future__ import annotations

from terminal.core.errors import N_, PosError


class CustomerError(PosError):
    pass


def normalise_phone(phone: str) -> str:
    """Digits only, with a leading ``+`` dropped: ``+62 812-3456-789`` -> ``628123456789``.

    A national number (``0812...``) and its international form are not made equal here:
    that needs the store's country code, which comes with the customers screen.
    """
    digits = "".join(ch for ch in phone if ch.isdigit())
    if not 6 <= len(digits) <= 15:
        raise CustomerError(N_("{phone} is not a phone number"), phone=phone)
    return digits


def check_name(name: str) -> str:
    name = " ".join(name.split())
    if not name or len(name) > 120:
        raise CustomerError(N_("A customer's name is 1 to 120 characters"))
    return name

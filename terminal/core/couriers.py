"""The couriers an online order may ship with, and their airway bill (AWB) numbers'
formats: a shop rule shared by the terminal (CS types a number from the courier's slip)
and the fleet (the number an aggregator's API answers), with no I/O.

No courier publishes a specification of its numbers; the forms below are what public
trackers and courier-detection code agree on, checked against real numbers quoted in
them, and kept a little wider than any one source so a real slip is not refused:

- **JNE**: 12-16 digits (``010190001491925``, the example of the open-source tracker
  ``Leuthra/cek-resi`` README), or a branch/partner prefix of 2-4 letters and 8-13
  digits (``TG7007260622``, ``CGK...``: ``MuflihItsuka312/API-Server`` "resi pattern"
  notes, whose JNE numbers begin ``TG``).
- **J&T Express**: ``J`` and one or two letters, then 10-12 digits (``JP1234567890``,
  ``JX8009962760``): packagex VisionSDK's ``JAndTExpressCourier`` (``J[A-Z]\\d{10}``,
  ``J[A-Z]{2}\\d{12}``) and the same notes (JT/JX + digits).
- **SiCepat**: exactly 12 digits (``002927168687``): the same notes ("tepat 12 digit",
  SiCepat's numbers begin ``00``).
- **AnterAja**: 10-15 digits (``10000xxxxxxxxx``), or ``TSA`` and 7-12 letters and digits:
  the same notes (TSA prefix, 10-15 characters).
- **Ninja Xpress**: ``NLID`` and two letters (``NLIDAP``) then 8-12 digits, or ``NV``
  and 8-16 letters and digits: the same notes (NLIDAP/NV + 8-12 digits).

ID Express is not listed: the only public pattern found (VisionSDK's "IDE Express",
``U21`` + 20 digits) is another company's, so a rule for it would be a guess.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from terminal.core.errors import N_, PosError


@dataclass(frozen=True)
class Courier:
    code: str  # as the aggregators name it (Biteship's courier_company)
    name: str  # as the customer knows it
    pattern: re.Pattern[str]
    form: str  # the expected form, said when a number does not fit
    service: str  # the service asked when none was chosen (Biteship's courier_type)


def _courier(code: str, name: str, pattern: str, form: str, service: str) -> Courier:
    return Courier(code, name, re.compile(pattern), form, service)


COURIERS: dict[str, Courier] = {
    c.code: c
    for c in (
        _courier(
            "jne",
            "JNE",
            r"\d{12,16}|[A-Z]{2,4}\d{8,13}",
            "12-16 digits, or 2-4 letters and 8-13 digits (TG1234567890)",
            "reg",
        ),
        _courier(
            "jnt",
            "J&T Express",
            r"J[A-Z]{1,2}\d{10,12}",
            "J, one or two letters and 10-12 digits (JP1234567890)",
            "ez",
        ),
        _courier("sicepat", "SiCepat", r"\d{12}", "12 digits (001234567890)", "reg"),
        _courier(
            "anteraja",
            "AnterAja",
            r"\d{10,15}|TSA[A-Z0-9]{7,12}",
            "10-15 digits, or TSA and 7-12 letters and digits",
            "reg",
        ),
        _courier(
            "ninja",
            "Ninja Xpress",
            r"NLID[A-Z]{2}\d{8,12}|NV[A-Z0-9]{8,16}",
            "NLID, two letters and 8-12 digits (NLIDAP12345678), or NV and 8-16 characters",
            "standard",
        ),
    )
}
POSTAL_CODE = re.compile(r"(?<!\d)\d{5}(?!\d)")


def check_courier(code: str) -> str:
    """A courier's code as kept (lower case); "" (decided later) stays "". PosError
    for a courier not known."""
    code = code.strip().lower()
    if code and code not in COURIERS:
        raise PosError(N_("{courier} is not a courier we ship with"), courier=code[:20])
    return code


def courier_name(code: str) -> str:
    courier = COURIERS.get(code)
    return courier.name if courier else code


def check_awb(courier: str, text: str) -> str:
    """The airway bill number as kept (no spaces around, upper case), when it has the
    courier's form; PosError naming the courier and the form otherwise."""
    code = check_courier(courier)
    if not code:
        raise PosError(N_("Choose the courier of the airway bill"))
    number = text.strip().upper()
    known = COURIERS[code]
    if not known.pattern.fullmatch(number):
        raise PosError(
            N_("{number} is not a {courier} airway bill: expected {form}"),
            number=number[:40] or "-",
            courier=known.name,
            form=known.form,
        )
    return number


def postal_code(address: str) -> str:
    """The address's postal code: its last group of exactly five digits ("" if none)."""
    found = POSTAL_CODE.findall(address)
    return found[-1] if found else ""

"""The online-order rules (seed 001): drop orders, book orders with a payment deadline,
the unique code that makes a transfer identifiable. Shared by the terminal's online-
orders mode and the fleet, which keeps stock and orders centrally. No I/O.

Stock of a product at a location is in three states: *available*, *booked* (held for
a customer's book order until it is paid or released) and *unavailable* (out on a drop
order, damaged, held back). A booking takes one unit from available to booked; a
release, a cancellation or the deadline gives it back; a sale takes it out of booked.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from random import Random
from zoneinfo import ZoneInfo

from terminal.core.errors import N_, PosError
from terminal.core.numbering import check_char

ORDER_NUMBER = re.compile(r"B([A-Z0-9]{1,8})-(\d{7})([0-9A-Z])")


class OrderError(PosError):
    """A refusal for CS or the warehouse: no unit left, an order number that is not
    one, a booking past its deadline."""


@dataclass(frozen=True)
class DeadlineRule:
    """When an unpaid booking is released: at a time of day (``cutoff``, "17:00": a
    booking made after it runs to the next day's), or after ``hours``."""

    cutoff: time | None = None
    hours: int | None = None

    @classmethod
    def parse(cls, text: str) -> DeadlineRule:
        """``"17:00"`` (a daily cut-off) or ``"24h"`` (hours after booking)."""
        text = text.strip().lower()
        if m := re.fullmatch(r"(\d{1,3})\s*h", text):
            hours = int(m[1])
            if not 1 <= hours <= 168:
                raise ValueError(f"{text!r}: from 1 to 168 hours")
            return cls(hours=hours)
        if m := re.fullmatch(r"([01]?\d|2[0-3]):([0-5]\d)", text):
            return cls(cutoff=time(int(m[1]), int(m[2])))
        raise ValueError(f"{text!r}: a time of day (17:00) or hours (24h)")

    def deadline(self, booked_at: datetime, tz: ZoneInfo) -> datetime:
        """The moment the booking is released if unpaid (aware, in ``tz``)."""
        local = booked_at.astimezone(tz)
        if self.hours is not None:
            return local + timedelta(hours=self.hours)
        assert self.cutoff is not None
        today = datetime.combine(local.date(), self.cutoff, tzinfo=tz)
        return today if local < today else today + timedelta(days=1)


def is_released(deadline: datetime, now: datetime) -> bool:
    """Past the deadline (the deadline itself still counts as in time)."""
    return now > deadline


def order_number(desk: str, seq: int) -> str:
    """``B<desk>-<7 digits><check>``: one desk's (store's) book orders, numbered without
    gaps, with an ISO 7064 check character so a mistyped or misread slip is refused."""
    if not re.fullmatch(r"[A-Z0-9]{1,8}", desk):
        raise ValueError(f"desk code {desk!r}: 1-8 of A-Z 0-9")
    if not 0 < seq < 10**7:
        raise ValueError(f"order sequence {seq} out of range")
    payload = f"{desk}{seq:07d}"
    return f"B{desk}-{seq:07d}{check_char(payload)}"


def parse_order_number(text: str) -> tuple[str, int]:
    """(desk, seq) of a booking slip's number as scanned or typed; OrderError if it is
    not one (a wrong check character: a misread)."""
    code = text.strip().upper()
    m = ORDER_NUMBER.fullmatch(code)
    if not m or check_char(m[1] + m[2]) != m[3]:
        raise OrderError(N_("{code} is not a booking number"), code=text.strip()[:40])
    return m[1], int(m[2])


def check_phone(text: str) -> str:
    """A customer's phone as kept ("" when none was given); OrderError when what was
    typed has fewer than 6 digits (the separators people type are let through)."""
    phone = text.strip()
    if phone and sum(ch.isdigit() for ch in phone) < 6:
        raise OrderError(N_("{text} is not a phone number"), text=text[:40])
    return phone


def check_address(text: str) -> str:
    """A shipping address as kept (its spaces made single); OrderError when it is too
    short to carry a street, a city and a postal code."""
    address = " ".join(text.split())
    if len(address) < 10:
        raise OrderError(N_("The whole shipping address, with the postal code"))
    return address


def unique_code(amount: int, taken: set[int], low: int, high: int, rng: Random) -> int:
    """A code from ``low``..``high`` added to ``amount`` so that no open booking is
    due the same total (``taken``: the totals due now): the transfer of exactly that
    total is this booking's. 0 when the shop uses no codes (``high`` 0)."""
    if high <= 0:
        return 0
    free = [c for c in range(low, high + 1) if amount + c not in taken]
    if not free:
        raise OrderError(N_("Every unique code for this amount is in use: raise the range"))
    return rng.choice(free)

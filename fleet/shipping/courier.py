"""One courier interface, whatever aggregator (or simulator) is behind it.

An adapter turns a :class:`ShipmentRequest` into the aggregator's order and answers the
airway bill (:class:`AwbResult`). Its failures are of two kinds, which the worker treats
differently: :class:`CourierDown` (no answer, a timeout, a 5xx: nothing was decided, ask
again later) and :class:`CourierRefused` (the aggregator read the order and said no,
with its message: asking again would get the same answer, so CS is told).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Contact:
    name: str
    phone: str
    address: str
    postal_code: str  # five digits


@dataclass(frozen=True)
class Item:
    name: str
    sku: str
    value: int  # in rupiah
    quantity: int = 1
    weight: int = 1000  # grams


@dataclass(frozen=True)
class ShipmentRequest:
    reference: str  # the booking's number: the aggregator's reference_id
    courier: str  # jne, jnt, sicepat... (terminal.core.couriers)
    service: str  # the courier's service (reg, ez...)
    origin: Contact
    destination: Contact
    items: tuple[Item, ...]

    def __repr__(self) -> str:  # never the customer's data in a log line
        return f"ShipmentRequest({self.reference!r}, {self.courier!r}, {self.service!r})"


@dataclass(frozen=True)
class AwbResult:
    waybill: str
    order_id: str = ""  # the aggregator's own id of the order
    tracking_id: str = ""


class CourierDown(Exception):
    """Nothing reached the aggregator, or it said it took nothing (unreachable, 503,
    429, 408): ask again later."""


class CourierUnsure(Exception):
    """The order was sent and no clear answer came (a timeout while waiting for it, a
    500, 502 or 504, an answer that is not JSON): it may exist at the aggregator, so it
    is never asked again by itself; a person looks it up (by the booking's number, its
    reference) and types the airway bill."""


class CourierRefused(Exception):
    """The aggregator refused the order: ``message`` is its reason, ``code`` its code."""

    def __init__(self, message: str, code: str = "") -> None:
        super().__init__(message)
        self.message, self.code = message, code


class Courier(Protocol):
    def create_order(self, request: ShipmentRequest) -> AwbResult:
        """The order made with the courier and its airway bill; CourierDown or
        CourierRefused otherwise."""
        ...

"""The airway-bill worker: for each shipment ``waiting`` whose booking is sold, the
courier is asked (through an aggregator's adapter, :mod:`fleet.shipping.courier`).

- answered: ``made``, the number checked against the courier's form
  (:func:`terminal.core.couriers.check_awb`; a number of another form is a refusal);
- refused: ``failed`` with the aggregator's reason, for CS (who may type a number);
- down or slow: ``waiting`` again, ``awb_attempts`` one more, asked at the next round.
  A timeout is ambiguous: the aggregator may have made the order after the adapter gave
  up. Biteship documents no idempotency key, so the booking's number goes as its
  ``reference_id`` (a second order for one booking can be found and cancelled in its
  dashboard), and the timeout is kept long (``courier_timeout``).

Never twice for one shipment: it is claimed first (``waiting`` to ``asking``, one
conditional UPDATE), so of two workers racing only one asks. A worker that dies while
asking leaves it ``asking``: it is listed for CS and never asked again by itself (the
courier may have made the order; a second would ship twice).

The sale stands whatever the courier does: this runs after it, in the order service's
loop, and only writes the shipment.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime

import peewee

from fleet.models import Booking, Shipment
from fleet.orders import desk as orders
from fleet.shipping.biteship import BiteshipCourier
from fleet.shipping.courier import (
    Contact,
    Courier,
    CourierDown,
    CourierRefused,
    CourierUnsure,
    Item,
    ShipmentRequest,
)
from fleet.shipping.shipments import ASKING, FAILED, MADE, UNSURE, WAITING
from terminal.core.couriers import COURIERS, check_awb, postal_code
from terminal.core.errors import PosError
from terminal.core.sealing import Sealer

log = logging.getLogger(__name__)


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class Round:
    made: int = 0
    failed: int = 0
    down: int = 0
    unsure: int = 0


class AwbWorker:
    def __init__(
        self,
        db: peewee.Database,
        sealer: Sealer,
        courier: Courier,
        origin: Contact,
        *,
        clock: Callable[[], datetime] = _utcnow,
        batch: int = 20,
        weight: int = 1000,
    ) -> None:
        self.db, self.sealer, self.courier, self.origin = db, sealer, courier, origin
        self.clock, self.batch, self.weight = clock, batch, weight

    def due(self) -> list[str]:
        return [
            row.order_no
            for row in Shipment.select(Shipment.order_no)
            .join(Booking, on=(Shipment.order_no == Booking.order_no))
            .where(
                (Shipment.awb_state == WAITING)
                & (Shipment.courier != "")
                & (Booking.state == "sold")
            )
            .order_by(Shipment.created_at)
            .limit(self.batch)
            .bind(self.db)
        ]

    def run(self) -> Round:
        """One round over the shipments due; what came of it."""
        done = Round()
        for order_no in self.due():
            if not self._claim(order_no):
                continue  # another worker has it
            state = self._ask(order_no)
            setattr(done, state, getattr(done, state) + 1)
        return done

    def _claim(self, order_no: str) -> bool:
        return (
            Shipment.update(awb_state=ASKING, awb_attempts=Shipment.awb_attempts + 1)
            .where((Shipment.order_no == order_no) & (Shipment.awb_state == WAITING))
            .execute(self.db)
            == 1
        )

    def _ask(self, order_no: str) -> str:
        shipment = Shipment.select().where(Shipment.order_no == order_no).bind(self.db).get()
        booking = Booking.select().where(Booking.order_no == order_no).bind(self.db).get()
        customer = orders.customer_of(self.sealer, booking)
        destination = Contact(
            customer.name, customer.phone, customer.address, postal_code(customer.address)
        )
        if not destination.postal_code:
            return self._failed(order_no, "the address has no postal code (5 digits)")
        courier = shipment.courier
        request = ShipmentRequest(
            reference=order_no,
            courier=courier,
            service=shipment.service or COURIERS[courier].service,
            origin=self.origin,
            destination=destination,
            items=(Item(booking.sku, booking.sku, booking.price, 1, self.weight),),
        )
        try:
            result = self.courier.create_order(request)
        except CourierDown as exc:
            log.warning("AWB for %s: the courier is down (%s); asked again later", order_no, exc)
            self._set(order_no, awb_state=WAITING)
            return "down"
        except CourierUnsure as exc:
            log.warning("AWB for %s: no clear answer (%s); left to a person", order_no, exc)
            self._set(
                order_no,
                awb_state=UNSURE,
                awb_error=f"{exc}: look for reference {order_no} at the aggregator before "
                "typing its airway bill",
                awb_at=self._now(),
            )
            return "unsure"
        except CourierRefused as exc:
            log.warning("AWB for %s refused: %s", order_no, exc.code or "-")
            return self._failed(order_no, exc.message)
        number = result.waybill.strip().upper()[:40]
        try:
            check_awb(courier, number)
        except PosError:  # the courier's own number: kept as it came, the form noted
            log.warning("AWB for %s: %s does not have the form we know", order_no, courier)
        self._set(order_no, awb_state=MADE, awb=number, awb_error="", awb_at=self._now())
        return "made"

    def _failed(self, order_no: str, reason: str) -> str:
        self._set(order_no, awb_state=FAILED, awb_error=reason[:1000], awb_at=self._now())
        return "failed"

    def _set(self, order_no: str, **changes) -> None:
        # only while this worker holds it (CS may have typed a number meanwhile)
        Shipment.update(**changes).where(
            (Shipment.order_no == order_no) & (Shipment.awb_state == ASKING)
        ).execute(self.db)

    def _now(self) -> datetime:
        return self.clock().astimezone(UTC).replace(tzinfo=None)


def from_settings(
    settings,
    db: peewee.Database,
    sealer: Sealer,
    *,
    clock: Callable[[], datetime] = _utcnow,
    environ: Mapping[str, str] = os.environ,
) -> AwbWorker | None:
    """The worker ``[orders]`` asks for (:class:`fleet.config.OrdersSettings`): None with
    ``courier_api = "none"`` (CS types every number). ValueError, naming the variable
    (never its value), when the API key's environment variable is empty."""
    if settings.courier_api == "none":
        return None
    key = environ.get(settings.courier_key_env, "")
    if not key and settings.courier_api == "simulator":
        key = "simulator"
    if not key:
        raise ValueError(f"[orders] courier_key_env: ${settings.courier_key_env} is not set")
    courier = BiteshipCourier(settings.courier_url, key, timeout=settings.courier_timeout)
    origin = Contact(
        settings.origin_name,
        settings.origin_phone,
        settings.origin_address,
        settings.origin_postal_code,
    )
    return AwbWorker(db, sealer, courier, origin, clock=clock)

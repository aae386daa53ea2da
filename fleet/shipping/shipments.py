"""The :class:`~fleet.models.Shipment` rows: one per booking, made in the booking's
transaction with the courier the customer chose (or none yet); due for its airway bill
once the booking is sold. Every change that must not happen twice is one conditional
UPDATE (a worker claiming a shipment, labels marked printed), so two processes or two
browser tabs never do one thing twice.

Times are UTC without a zone, as the fleet writes them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import peewee

from fleet.db import write_transaction
from fleet.models import Booking, Shipment
from terminal.core.couriers import check_awb
from terminal.core.errors import N_
from terminal.core.online_orders import OrderError

WAITING, ASKING, MADE, TYPED, FAILED = "waiting", "asking", "made", "typed", "failed"
UNSURE = "unsure"  # sent to the courier, no clear answer: a person looks it up
UNKNOWN = (WAITING, ASKING, FAILED, UNSURE)  # no AWB yet: CS's list


def _naive(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(tzinfo=None) if at.tzinfo else at


def open_shipment(db: peewee.Database, order_no: str, courier: str, service: str, at: datetime):
    """The booking's shipment (inside its transaction): waiting for the sale."""
    Shipment.insert(
        order_no=order_no, courier=courier, service=service, created_at=_naive(at)
    ).on_conflict_ignore().execute(db)


def _joined(db: peewee.Database):
    return (
        Shipment.select(Shipment, Booking)
        .join(Booking, on=(Shipment.order_no == Booking.order_no), attr="booking")
        .where(Booking.state == "sold")
        .bind(db)
    )


def sold(db: peewee.Database, desk: str = "", limit: int = 500) -> list[Shipment]:
    """Sold bookings' shipments, the newest sale first (each with ``.booking``)."""
    query = _joined(db)
    if desk:
        query = query.where(Booking.desk == desk)
    return list(query.order_by(Booking.closed_at.desc(), Shipment.order_no).limit(limit))


def waiting(db: peewee.Database, desk: str = "") -> list[Shipment]:
    """Sold bookings still without an airway bill (asked, refused, or for CS to type)."""
    query = _joined(db).where(Shipment.awb_state.in_(UNKNOWN))
    if desk:
        query = query.where(Booking.desk == desk)
    return list(query.order_by(Booking.closed_at, Shipment.order_no))


def type_awb(
    db: peewee.Database, order_no: str, courier: str, number: str, at: datetime, actor: str
) -> Shipment:
    """CS typed the number from the courier's slip: checked against the courier's form
    (``courier`` "": the one chosen at the booking). One the API made is not replaced."""
    with write_transaction(db):
        row = Shipment.select().where(Shipment.order_no == order_no).bind(db).first()
        if row is None:
            raise OrderError(N_("{order} has no shipment"), order=order_no[:40])
        booking = Booking.select(Booking.state).where(Booking.order_no == order_no).bind(db).get()
        if booking.state != "sold":
            raise OrderError(N_("Booking {order} is not sold yet"), order=order_no)
        if row.awb_state == ASKING:  # the courier is being asked now: its answer first
            raise OrderError(
                N_("{order}: the courier is being asked for its airway bill; try in a minute"),
                order=order_no,
            )
        courier = courier.strip().lower() or row.courier
        number = check_awb(courier, number)
        changed = (
            Shipment.update(
                courier=courier,
                awb=number,
                awb_state=TYPED,
                awb_error="",
                awb_at=_naive(at),
                awb_by=actor[:100],
            )
            .where((Shipment.order_no == order_no) & (Shipment.awb_state != MADE))
            .execute(db)
        )
        if changed != 1:
            raise OrderError(
                N_("{order} has its airway bill from the courier already"), order=order_no
            )
        return Shipment.select().where(Shipment.order_no == order_no).bind(db).get()


def _mark(db: peewee.Database, orders: list[str], at: datetime) -> None:
    if orders:
        Shipment.update(
            label_printed_at=peewee.fn.COALESCE(Shipment.label_printed_at, _naive(at)),
            label_prints=Shipment.label_prints + 1,
        ).where(Shipment.order_no.in_(orders)).execute(db)


def take_unprinted(db: peewee.Database, at: datetime) -> list[Shipment]:
    """Every sold booking's label not printed yet, marked printed in the same
    transaction (a second click gets none of them again)."""
    with write_transaction(db):
        rows = [
            r for r in _joined(db).where(Shipment.label_prints == 0).order_by(Shipment.order_no)
        ]
        # only those this transaction marks (another's click between the two: not ours)
        mine = []
        for row in rows:
            done = (
                Shipment.update(label_printed_at=_naive(at), label_prints=Shipment.label_prints + 1)
                .where((Shipment.order_no == row.order_no) & (Shipment.label_prints == 0))
                .execute(db)
            )
            if done == 1:
                row.label_prints = 0  # as it was when this print began: not a reprint
                mine.append(row)
        return mine


def take_reprint(db: peewee.Database, orders: Iterable[str], at: datetime) -> list[Shipment]:
    """Chosen sold bookings' labels again: each print counted (the label says REPRINT
    when it was printed before)."""
    chosen = sorted({o.strip().upper() for o in orders if o.strip()})
    with write_transaction(db):
        rows = list(_joined(db).where(Shipment.order_no.in_(chosen)).order_by(Shipment.order_no))
        _mark(db, [r.order_no for r in rows], at)
        return rows

"""A statement uploaded and reviewed: its lines kept once each (by key), proposals made
against the open bookings, nothing applied until a person confirms
(:func:`fleet.orders.desk.confirm_payment`)."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import peewee

from fleet.db import write_transaction
from fleet.models import Booking, StatementLineRow
from fleet.orders.desk import customer_of, open_bookings
from fleet.orders.matching import OpenBooking, Proposal, match
from fleet.orders.statements import StatementLine
from terminal.core.sealing import Sealer


def upload(db: peewee.Database, account: str, lines: list[StatementLine], at: datetime) -> int:
    """Keep the statement's lines; those already kept (an overlapping or repeated
    upload) are left as they are. Returns how many were new."""
    stamp = at.astimezone(UTC).replace(tzinfo=None)
    with write_transaction(db):
        before = StatementLineRow.select().bind(db).count()
        for line in lines:
            StatementLineRow.insert(
                key=line.key,
                account=account,
                booked_on=line.booked_on,
                amount=line.amount,
                description=line.description,
                uploaded_at=stamp,
            ).on_conflict_ignore().execute(db)
        return StatementLineRow.select().bind(db).count() - before


def proposals(
    db: peewee.Database, sealer: Sealer, lines: list[StatementLine], tz: ZoneInfo
) -> list[Proposal]:
    """What each line most likely paid, against the bookings open now; lines that paid
    a booking already (by key) are marked used. ``tz``: the shop's, whose dates the
    bank's statement shows."""
    used = {
        row.paid_line
        for row in Booking.select(Booking.paid_line)
        .where(Booking.paid_line.is_null(False))
        .bind(db)
    }
    bookings = [
        OpenBooking(
            b.order_no,
            b.due,
            customer_of(sealer, b).name,
            b.booked_at.replace(tzinfo=UTC).astimezone(tz),
            b.deadline.replace(tzinfo=UTC).astimezone(tz),
        )
        for b in open_bookings(db)
    ]
    return match(lines, bookings, used)

"""Card payments as the card terminal saw them, kept in the database: pending before the
request goes out, resolved after, settled when the sale or refund that used it is
committed (``terminal.services.card_records`` hands the card terminal's records here).

A row that is ``paid`` but not settled is money the card terminal took (or gave back)
for which no sale (or refund) was committed - after a crash, say. The terminal shows
these at start so a supervisor reverses them or rings the sale up again.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime

from peewee import Database

from terminal.store.models import CardPaymentRow

# the states a card payment row can have (hal.card.payments.PaymentState's values)
PENDING, PAID, UNKNOWN = "pending", "paid", "unknown"
OPEN = (PAID, UNKNOWN, PENDING)  # money moved, or may have, with nothing committed yet


def mark_pending(db: Database, payment_id: str, amount: int, at: datetime) -> None:
    """Before the request goes out. Refunds' ids start with ``refund:``, reversals' with
    ``reversal:``; a refund's row may exist already, holding its plan: it is kept."""
    fields = {
        "kind": payment_id.split(":", 1)[0] if ":" in payment_id else "payment",
        "amount": amount,
        "state": PENDING,
        "created_at": at.astimezone(UTC).replace(tzinfo=None),
    }
    CardPaymentRow.insert(payment_id=payment_id, **fields).on_conflict(
        conflict_target=[CardPaymentRow.payment_id], update=fields
    ).execute(db)


def mark_resolved(db: Database, payment_id: str, state: str, receipt_number: int | None) -> None:
    CardPaymentRow.update(state=state, receipt_number=receipt_number).where(
        CardPaymentRow.payment_id == payment_id
    ).execute(db)


def unsettled(db: Database) -> list[CardPaymentRow]:
    """Card money that moved without a committed sale or refund, and payments whose
    outcome is unknown: for a supervisor to look at."""
    return list(
        CardPaymentRow.select()
        .where(
            (CardPaymentRow.settled == False)  # noqa: E712
            & (CardPaymentRow.state.in_(OPEN))
        )
        .order_by(CardPaymentRow.created_at)
        .bind(db)
    )


def open_refunds_of(db: Database, sale_label: str) -> bool:
    """Whether a card refund of this sale moved money, or may have, unsettled."""
    return (
        CardPaymentRow.select()
        .where(
            CardPaymentRow.payment_id.startswith(f"refund:{sale_label}:")
            & (CardPaymentRow.settled == False)  # noqa: E712
            & CardPaymentRow.state.in_(OPEN)
        )
        .bind(db)
        .exists()
    )


def settle(db: Database, payment_id: str) -> None:
    CardPaymentRow.update(settled=True).where(CardPaymentRow.payment_id == payment_id).execute(db)


def get(db: Database, payment_id: str) -> CardPaymentRow:
    return CardPaymentRow.select().where(CardPaymentRow.payment_id == payment_id).get(db)


def record_plan(db: Database, payment_id: str, amount: int, plan: dict, at: datetime) -> None:
    """Before a card refund is sent: what it is for, so that it can be recorded later if
    the link fails and a supervisor confirms it went through."""
    CardPaymentRow.replace(
        payment_id=payment_id,
        kind="refund",
        amount=amount,
        state=PENDING,
        created_at=at.astimezone(UTC).replace(tzinfo=None),
        plan=json.dumps(plan, sort_keys=True),
    ).execute(db)

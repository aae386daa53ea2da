"""The card terminal's payment records (``hal.card.payments.PaymentRecords``), kept in
the terminal's database: the adapter between the device and the store."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from peewee import Database

from hal.card.payments import PaymentState
from hal.card.zvt.client import Outcome
from terminal.store import card_payments


class DatabaseRecords:
    def __init__(self, db: Database, clock: Callable[[], datetime]) -> None:
        self.db, self.clock = db, clock

    def pending(self, payment_id: str, amount: int) -> None:
        card_payments.mark_pending(self.db, payment_id, amount, self.clock())

    def resolved(self, payment_id: str, state: PaymentState, outcome: Outcome | None) -> None:
        card_payments.mark_resolved(
            self.db, payment_id, str(state), outcome.receipt_number if outcome else None
        )

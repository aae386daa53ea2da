"""The one way an action at the counter is recorded: its journal entry, naming who
approved it when someone did, then the fraud watch (seed 003)."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Any

from terminal.core.approval import Approval
from terminal.core.shift_report import counts_by_cashier, crossed_threshold, fraud_signal_of
from terminal.services.context import ServiceContext
from terminal.services.session import Session
from terminal.store.cashiers import Cashier
from terminal.store.journal import JournalEntry, read_entries, shift_first_seq

log = logging.getLogger(__name__)


class ActionLog:
    def __init__(self, ctx: ServiceContext, session: Session) -> None:
        self.ctx = ctx
        self.session = session

    def record(
        self,
        kind: str,
        payload: dict[str, Any],
        cashier: Cashier,
        approval: Approval | None = None,
        at: datetime | None = None,
        *,
        watch: bool = True,
    ) -> JournalEntry:
        """Journal the action (with its approval), then watch it (``watch=False`` when the
        caller watches after its own transaction)."""
        now = at or self.ctx.clock()
        if approval is not None:
            payload = {**payload, **approval.journal_fields()}
        entry = self.ctx.journal.append(kind, payload, now)
        if watch:
            self.watch(kind, payload, cashier, now)
        return entry

    def watch(self, kind: str, payload: dict, cashier: Cashier, now) -> None:
        """After a watched event, count this cashier's events of the same kind in the
        shift and journal a signal when the count first goes beyond its threshold (once:
        the next events of that kind do not repeat it)."""
        signal = fraud_signal_of({"type": kind, "payload": payload})
        threshold = self.ctx.settings.fraud_thresholds.get(signal, 0) if signal else 0
        shift = self.session.shift
        if not threshold or shift is None:
            return
        db = self.ctx.db
        entries = read_entries(db, since=shift_first_seq(db, shift.id), types=(kind,))
        mine = (e for e in entries if e["payload"].get("shift") == shift.id)
        count = counts_by_cashier(mine).get(cashier.id, {}).get(signal, 0)
        if crossed_threshold(count, threshold):
            self.ctx.journal.append(
                "fraud_signal",
                {
                    "cashier": cashier.id,
                    "shift": shift.id,
                    "signal": signal,
                    "count": count,
                    "threshold": threshold,
                },
                now,
            )
            log.warning("fraud signal: %s for cashier %s", signal, cashier.id)

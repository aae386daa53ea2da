"""The shift's cash and the day's reports: opening float, cash in and out, no-sale
opens, the X report (no reset), the blind count at close, and the Z report.

Reports are computed from the journal (see ``terminal.core.shift_report``); the Z report's
totals and the last journal seq it covers are themselves a signed journal entry.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from terminal.core.approval import UNPAID_ORDERS, Approval, check_approval
from terminal.core.errors import N_, PosError
from terminal.core.shift_report import Report, build_report, count_cash
from terminal.services.actions import ActionLog
from terminal.services.approvals import Approvals
from terminal.services.context import ServiceContext
from terminal.services.printing import Printing
from terminal.services.report_doc import build_report_doc
from terminal.services.session import Session
from terminal.store.counters import next_number
from terminal.store.journal import read_entries
from terminal.store.shifts import Shift, close_shift, open_shift

log = logging.getLogger(__name__)

CASH_REASONS = {
    "float_top_up": N_("Float top-up"),
    "bank_deposit": N_("Bank deposit"),
    "petty_cash": N_("Petty cash"),
    "supplier": N_("Supplier paid"),
}
NO_SALE_REASONS = {
    "change": N_("Change for a customer"),
    "check": N_("Checking the drawer"),
    "correction": N_("Correcting a mistake"),
}


@dataclass(frozen=True)
class ClosedShift:
    shift_id: int
    expected: int
    counted: int
    report: Report
    print_error: str | None

    @property
    def variance(self) -> int:
        return self.counted - self.expected


@dataclass(frozen=True)
class PrintedReport:
    report: Report
    number: int | None  # the Z number
    journal_seq: int
    print_error: str | None


class Shifts:
    def __init__(
        self,
        ctx: ServiceContext,
        session: Session,
        actions: ActionLog,
        printing: Printing,
        approvals: Approvals,
        *,
        sale_open: Callable[[], bool],
    ) -> None:
        self.ctx, self.session, self.actions = ctx, session, actions
        self.printing, self.approvals = printing, approvals
        self.sale_open = sale_open  # a shift does not close under an open sale

    @property
    def current(self) -> Shift | None:
        return self.session.shift

    def _cashier(self):
        return self.session.require_cashier()

    def open(self, opening_float: int) -> Shift:
        cashier = self._cashier()
        if self.current is not None:
            raise PosError(N_("A shift is already open"))
        if opening_float < 0:
            raise PosError(N_("The float cannot be negative"))
        now = self.ctx.clock()
        with self.ctx.db.atomic():
            shift = open_shift(
                self.ctx.db, self.ctx.settings.terminal_id, cashier.id, opening_float, now
            )
            self.ctx.journal.append(
                "shift_open",
                {"shift": shift.id, "cashier": cashier.id, "float": opening_float},
                now,
            )
        log.info("shift %s opened", shift.id)
        self.ctx.events.publish("shift_opened", shift_id=shift.id)
        return shift

    def _open_shift(self) -> Shift:
        shift = self.current
        if shift is None:
            raise PosError(N_("Open the shift first (count the opening float)"))
        return shift

    def cash_move(self, kind: str, amount: int, reason: str) -> None:
        """Cash in (a float top-up) or out (a bank deposit): the drawer opens, journaled."""
        cashier = self._cashier()
        shift = self._open_shift()
        if kind not in ("cash_in", "cash_out"):
            raise ValueError(kind)
        if reason not in CASH_REASONS:
            raise PosError(N_("Choose a reason"))
        if amount <= 0:
            raise PosError(N_("An amount above zero, please"))
        if kind == "cash_out" and amount > self.report().expected_cash:
            raise PosError(N_("The drawer should not hold that much"))
        now = self.ctx.clock()
        entry = self.ctx.journal.append(
            kind,
            {"shift": shift.id, "cashier": cashier.id, "amount": amount, "reason": reason},
            now,
        )
        self._kick(f"{kind}-{entry.seq}")

    def no_sale(self, reason: str, approval: Approval | None = None) -> None:
        """Open the drawer without a sale: always journaled, approval when configured
        (the unpaid-orders category), and watched for fraud."""
        cashier = self._cashier()
        shift = self._open_shift()
        if reason not in NO_SALE_REASONS:
            raise PosError(N_("Choose a reason"))
        if self.approvals.policy.requires(UNPAID_ORDERS):
            approval = check_approval(approval, UNPAID_ORDERS, N_("open the drawer"))
        now = self.ctx.clock()
        payload = {"shift": shift.id, "cashier": cashier.id, "reason": reason}
        entry = self.actions.record("no_sale", payload, cashier, approval, now, watch=False)
        self._kick(f"no-sale-{entry.seq}")
        self.actions.watch("no_sale", payload, cashier, now)

    def _kick(self, command_id: str) -> None:
        try:
            self.ctx.drawer_commands.open(command_id, issued_at=time.monotonic())
        except Exception as exc:  # the record stands; the drawer is opened by key
            log.error("drawer did not open (%s): %s", command_id, exc)

    # -- reports --------------------------------------------------------------------------
    def _last_z_seq(self) -> int:
        last = 0
        for entry in read_entries(self.ctx.db, types=("z_report",)):
            last = entry["payload"]["last_seq"]
        return last

    def report(self, *, shift_only: bool = True) -> Report:
        """The open shift's totals (X), or everything since the last Z."""
        since = self._last_z_seq() + 1
        entries = read_entries(self.ctx.db, since=since)
        if shift_only and self.current is not None:
            shift_id = self.current.id
            entries = (e for e in entries if e["payload"].get("shift") == shift_id)
        return build_report(entries, self.ctx.settings.store.timezone)

    def x_report(self) -> PrintedReport:
        cashier = self._cashier()
        report = self.report()
        now = self.ctx.clock()
        entry = self.ctx.journal.append(
            "x_report", {"cashier": cashier.id, **report.to_payload()}, now
        )
        error = self._print(
            report,
            kind="X",
            number=None,
            entry=entry,
            at=now,
            show_expected=cashier.is_supervisor,
        )
        return PrintedReport(report, None, entry.seq, error)

    def close(self, counts: dict[int, int]) -> ClosedShift:
        """Close the shift with a blind count by denomination. The variance is recorded
        and shown; it never blocks the close."""
        cashier = self._cashier()
        shift = self._open_shift()
        if self.sale_open():
            raise PosError(N_("Finish the sale before closing the shift"))
        counted = count_cash(counts, self.ctx.currency.denominations)
        report = self.report()
        expected = report.expected_cash
        now = self.ctx.clock()
        with self.ctx.db.atomic():
            close_shift(self.ctx.db, shift.id, now, expected, counted, counts)
            self.ctx.journal.append(
                "shift_close",
                {
                    "shift": shift.id,
                    "cashier": cashier.id,
                    "expected": expected,
                    "counted": counted,
                    "variance": counted - expected,
                    "counts": {str(k): v for k, v in sorted(counts.items())},
                },
                now,
            )
        log.info("shift %s closed, variance %d", shift.id, counted - expected)
        self.ctx.events.publish("shift_closed", shift_id=shift.id, variance=counted - expected)
        error = self._print(report, kind="SHIFT", number=shift.id, at=now, counted=counted)
        return ClosedShift(shift.id, expected, counted, report, error)

    def z_report(self) -> PrintedReport:
        """Close the day: everything since the last Z, numbered, signed in the journal."""
        cashier = self._cashier()
        if self.current is not None:
            raise PosError(N_("Close the shift before the Z report"))
        report = self.report(shift_only=False)
        now = self.ctx.clock()
        key = f"{self.ctx.settings.terminal_id}:Z"
        with self.ctx.db.atomic("IMMEDIATE"):
            number = next_number(self.ctx.db.cursor(), key)
            payload = {"z_number": number, "cashier": cashier.id, **report.to_payload()}
            entry = self.ctx.journal.append("z_report", payload, now)
        self.ctx.checkpoint("z_report")  # the end of a day: the key store catches up
        error = self._print(report, kind="Z", number=number, entry=entry, at=now)
        return PrintedReport(report, number, entry.seq, error)

    def _print(
        self,
        report: Report,
        *,
        kind: str,
        number,
        entry=None,
        at,
        counted=None,
        show_expected: bool = True,
    ) -> str | None:
        ctx = self.ctx
        doc = build_report_doc(
            report,
            kind=kind,
            number=number,
            journal_seq=entry.label if entry else None,
            journal_hash=entry.short_hash if entry else "",
            at=at,
            store=ctx.settings.store,
            terminal_id=ctx.settings.terminal_id,
            gettext=self.printing.gettext,
            columns=ctx.printer.columns,
            counted=counted,
            show_expected=show_expected,
        )
        name = f"{ctx.settings.terminal_id}-{kind}-{number or (entry.seq if entry else 0)}"
        return self.printing.print_document(name, doc)

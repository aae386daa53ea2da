"""The shift's cash and the day's reports: opening float, cash in and out, no-sale
opens, the X report (no reset; on the screen or printed), the blind count at close, and
the Z report (a supervisor's, by default).

Reports are computed from the journal (see ``terminal.core.reconcile``): a shift's from
its opening entry on, the day's from the entry after the last Z. The Z report's figures
and the last journal seq it covers are themselves a signed journal entry.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

from hal.printer.document import Document
from terminal.core.approval import UNPAID_ORDERS, Approval, check_approval, close_day_approval
from terminal.core.errors import N_, PosError
from terminal.core.reconcile import Figures, build_figures
from terminal.core.shift_report import count_cash
from terminal.i18n import Gettext
from terminal.services.action_lines import log_action
from terminal.services.actions import ActionLog
from terminal.services.approvals import Approvals
from terminal.services.context import ServiceContext
from terminal.services.printing import Printing
from terminal.services.report_doc import build_report_doc
from terminal.services.session import Session
from terminal.store.cashiers import list_cashiers
from terminal.store.counters import next_number
from terminal.store.journal import read_entries, shift_first_seq
from terminal.store.shifts import Shift, close_shift, open_shift

log = logging.getLogger(__name__)

CASH_MOVES = ("cash_in", "cash_out")
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
    report: Figures  # the shift's, its close and count included
    print_error: str | None

    @property
    def variance(self) -> int:
        return self.counted - self.expected


@dataclass(frozen=True)
class PrintedReport:
    report: Figures
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
        log_action(
            f"shift {shift.id} opened",
            "shift_open",
            cashier=cashier.id,
            shift=shift.id,
            float=opening_float,
        )
        self.ctx.events.publish("shift_opened", shift_id=shift.id)
        return shift

    def _open_shift(self) -> Shift:
        shift = self.current
        if shift is None:
            raise PosError(N_("Open the shift first (count the opening float)"))
        return shift

    def cash_reasons(self, kind: str) -> tuple[str, ...]:
        """The reasons offered for a cash move of ``kind`` (the shop's ``[cash_reasons]``):
        built-in names (see ``terminal.config.CASH_REASON_NAMES``) or the shop's own text."""
        if kind not in CASH_MOVES:
            raise ValueError(kind)
        return self.ctx.settings.cash_reasons[kind]

    def cash_move(self, kind: str, amount: int, reason: str) -> None:
        """Cash in (a float top-up) or out (a bank deposit): the drawer opens, journaled."""
        cashier = self._cashier()
        shift = self._open_shift()
        if reason not in self.cash_reasons(kind):
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
        log_action(
            f"{kind.replace('_', ' ')}: {amount}",
            kind,
            cashier=cashier.id,
            shift=shift.id,
            amount=amount,
            reason=reason,
            seq=entry.seq,
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
        log_action(
            "no sale: drawer opened",
            "no_sale",
            cashier=cashier.id,
            shift=shift.id,
            reason=reason,
            approved_by=approval.approved_by if approval else None,
            seq=entry.seq,
        )
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

    def _figures(self, since: int) -> Figures:
        return build_figures(
            read_entries(self.ctx.db, since=since),
            self.ctx.settings.store.timezone,
            prices_include_tax=self.ctx.settings.store.prices_include_tax,
        )

    def report(self, *, shift_only: bool = True) -> Figures:
        """The open shift's figures (X: every entry from its opening on, reprints too),
        or the day's: everything since the last Z."""
        if shift_only and self.current is not None:
            return self._figures(shift_first_seq(self.ctx.db, self.current.id))
        return self._figures(self._last_z_seq() + 1)

    def x_report_doc(self, gettext: Gettext | None = None) -> Document:
        """The X report as it would print, to look at on the screen (``gettext``: the
        screen's language); nothing is journaled until it is printed. A cashier's shows
        no expected cash (the count at the close stays blind); a supervisor's does."""
        cashier = self._cashier()
        self._open_shift()
        return self._doc(
            self.report(),
            kind="X",
            number=None,
            at=self.ctx.clock(),
            show_expected=cashier.is_supervisor,
            gettext=gettext,
        )

    def x_report(self, job: str | None = None) -> PrintedReport:
        """The shift's figures so far, journaled and printed. ``job``: asked by the fleet
        (its job id), with or without a cashier signed in (the expected cash is then
        shown only to a supervisor signed in)."""
        cashier = self._cashier() if job is None else self.session.cashier
        self._open_shift()
        report = self.report()
        now = self.ctx.clock()
        cashier_id = cashier.id if cashier is not None else None
        payload = {"cashier": cashier_id, **report.to_payload()}
        if job is not None:
            payload["job"] = job
        entry = self.ctx.journal.append("x_report", payload, now)
        log_action(
            "X report printed",
            "x_report",
            cashier=cashier_id,
            shift=self.current.id if self.current else None,
            seq=entry.seq,
        )
        error = self._print(
            report,
            kind="X",
            number=None,
            entry=entry,
            at=now,
            show_expected=cashier is not None and cashier.is_supervisor,
        )
        return PrintedReport(report, None, entry.seq, error)

    def counted(self, counts: dict[int, int]) -> int:
        """The total of a blind count (refused: a note the currency has not, a count
        below zero)."""
        return count_cash(counts, self.ctx.currency.denominations)

    def close(self, counts: dict[int, int]) -> ClosedShift:
        """Close the shift with a blind count by denomination. The variance is recorded
        and shown; it never blocks the close. The shift's report prints with the count
        by denomination."""
        cashier = self._cashier()
        shift = self._open_shift()
        if self.sale_open():
            raise PosError(N_("Finish the sale before closing the shift"))
        counted = self.counted(counts)
        since = shift_first_seq(self.ctx.db, shift.id)
        expected = self._figures(since).expected_cash
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
        log_action(
            f"shift {shift.id} closed, variance {counted - expected}",
            "shift_close",
            cashier=cashier.id,
            shift=shift.id,
            expected=expected,
            counted=counted,
            variance=counted - expected,
        )
        self.ctx.events.publish("shift_closed", shift_id=shift.id, variance=counted - expected)
        report = self._figures(since)  # with its close: the count by denomination
        error = self._print(report, kind="SHIFT", number=shift.id, at=now)
        return ClosedShift(shift.id, expected, counted, report, error)

    def z_report(self, approval: Approval | None = None) -> PrintedReport:
        """Close the day: everything since the last Z, numbered, signed in the journal.
        A supervisor's action unless ``approval.close_day`` says any cashier's: a
        supervisor signed in, or a cashier with a supervisor's approval."""
        cashier = self._cashier()
        if self.current is not None:
            raise PosError(N_("Close the shift before the Z report"))
        approval = close_day_approval(
            approval,
            close_day=self.ctx.settings.approval.close_day,
            is_supervisor=cashier.is_supervisor,
            mode=self.approvals.mode,
        )
        report = self.report(shift_only=False)
        now = self.ctx.clock()
        key = f"{self.ctx.settings.terminal_id}:Z"
        approved = approval.journal_fields() if approval else {}
        with self.ctx.db.atomic("IMMEDIATE"):
            number = next_number(self.ctx.db.cursor(), key)
            payload = {
                "z_number": number,
                "cashier": cashier.id,
                **approved,
                **report.to_payload(),
            }
            entry = self.ctx.journal.append("z_report", payload, now)
        self.ctx.checkpoint("z_report")  # the end of a day: the key store catches up
        log_action(
            f"Z report {number} printed",
            "z_report",
            cashier=cashier.id,
            z=number,
            approved_by=approval.approved_by if approval else None,
            seq=entry.seq,
        )
        error = self._print(report, kind="Z", number=number, entry=entry, at=now)
        return PrintedReport(report, number, entry.seq, error)

    def _doc(
        self,
        report: Figures,
        *,
        kind: str,
        number,
        at,
        entry=None,
        show_expected: bool = True,
        gettext: Gettext | None = None,
    ) -> Document:
        ctx = self.ctx
        return build_report_doc(
            report,
            kind=kind,
            number=number,
            journal_seq=entry.label if entry else None,
            journal_hash=entry.short_hash if entry else "",
            at=at,
            store=ctx.settings.store,
            terminal_id=ctx.settings.terminal_id,
            gettext=gettext or self.printing.gettext,
            columns=ctx.printer.columns,
            show_expected=show_expected,
            cashier_names={c.id: c.name for c in list_cashiers(ctx.db)},
        )

    def _print(
        self,
        report: Figures,
        *,
        kind: str,
        number,
        entry=None,
        at,
        show_expected: bool = True,
    ) -> str | None:
        doc = self._doc(
            report, kind=kind, number=number, at=at, entry=entry, show_expected=show_expected
        )
        name = f"{self.ctx.settings.terminal_id}-{kind}-{number or (entry.seq if entry else 0)}"
        return self.printing.print_document(name, doc)

"""Refunds and returns of paid sales, and reprints.

Find the sale (its receipt's return code, its number, or date and amount), show what is
still refundable, refund by line and quantity to the sale's own tenders (card first,
through the card terminal's refund or reversal; then cash from the drawer), print a
refund receipt. A return without a receipt always needs the paid-orders approval and a
reason, and is paid in cash.

A card refund is recorded as pending before it is sent; if the link fails the terminal
is asked what happened (never sent again). While a card refund of a sale is unresolved,
no new one is accepted for that sale: never refunded twice.
"""

from __future__ import annotations

import json
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from peewee import DatabaseError

from hal.card.payments import PAID, PaymentState
from hal.printer.document import Document
from terminal.core.approval import PAID_ORDERS, Approval, check_approval
from terminal.core.catalogue import Product, line_amount
from terminal.core.errors import N_, PosError
from terminal.core.loyalty import proportional_back
from terminal.core.money import round_to_step
from terminal.core.refunds import (
    REFUND_REASONS,
    RefundError,
    RefundLine,
    SoldLine,
    plan_refund,
    refund_money,
)
from terminal.core.taxes import summarize
from terminal.services.action_lines import log_action
from terminal.services.actions import ActionLog
from terminal.services.approvals import Approvals
from terminal.services.context import ServiceContext
from terminal.services.printing import Printing
from terminal.services.receipt import build_receipt, format_quantity
from terminal.services.report_doc import TENDER_NAMES
from terminal.services.session import Session
from terminal.store import card_payments
from terminal.store.customers import sale_card_pans
from terminal.store.refunds import (
    CommittedRefund,
    PaidSale,
    commit_refund,
    find_sale_id,
    find_sales,
    load_sale,
)
from terminal.store.sales_read import count_reprint, load_committed_sale

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RefundPlan:
    sale: PaidSale | None  # None: a return without a receipt
    wanted: list[tuple[int, Decimal, bool]]
    lines: list[RefundLine]
    split: dict[str, int]  # tender: money back
    cashier: object
    reason: str
    approval: Approval | None
    points_back: int  # earned points taken back
    points_returned: int  # spent points given back

    @property
    def uses_card(self) -> bool:
        return bool(self.split.get("card"))


@dataclass(frozen=True)
class RefundOutcome:
    refund: CommittedRefund
    print_error: str | None


class Refunds:
    def __init__(
        self,
        ctx: ServiceContext,
        session: Session,
        actions: ActionLog,
        printing: Printing,
        approvals: Approvals,
    ) -> None:
        self.ctx, self.session, self.actions = ctx, session, actions
        self.printing, self.approvals = printing, approvals
        self.fiscal = None  # the FiscalDesk (PosService sets it): returns at the tax office

    # -- finding the sale -----------------------------------------------------------------
    def find(self, text: str) -> PaidSale:
        """By the receipt's return code (scanned), or by transaction number (T01-000042
        or just 42)."""
        text = text.strip().upper()
        tid = self.ctx.settings.terminal_id
        sale_id = None
        if text.startswith("R") and len(text) > 8:
            sale_id = find_sale_id(self.ctx.db, tid, return_code=text)
        if sale_id is None:
            digits = text.rsplit("-", 1)[-1]
            if digits.isascii() and digits.isdigit() and len(digits) <= 9:  # (a number)
                sale_id = find_sale_id(self.ctx.db, tid, number=int(digits))
        if sale_id is None:
            raise RefundError(N_("No sale found for {code}"), code=text)
        return load_sale(self.ctx.db, sale_id)

    def find_by_day(
        self, day: datetime, amount: int | None = None, card_last_digits: str = ""
    ) -> list[PaidSale]:
        """Sales of one local day, optionally of one amount (the total, or the cash paid
        after rounding) and one card's last digits."""
        tz = self.ctx.settings.store.timezone
        start = day.astimezone(tz).replace(hour=0, minute=0, second=0, microsecond=0)
        ids = find_sales(
            self.ctx.db,
            day_start=start,
            day_end=start + timedelta(days=1),
            amount=amount,
            limit=None if card_last_digits else 50,  # card digits are checked one by one
        )
        if card_last_digits:
            db, sealer = self.ctx.db, self.ctx.sealer
            ids = [
                i
                for i in ids
                if any(pan.endswith(card_last_digits) for pan in sale_card_pans(db, sealer, i))
            ]
        return [load_sale(self.ctx.db, i) for i in ids]

    # -- refunding --------------------------------------------------------------------------
    def refund(
        self,
        sale: PaidSale,
        wanted: list[tuple[int, Decimal, bool]],
        reason: str,
        approval: Approval | None = None,
        on_status=None,
    ) -> RefundOutcome:
        """Refund (position, quantity, back to stock) of ``sale``."""
        return self.execute(self.prepare(sale, wanted, reason, approval), on_status)

    def prepare(
        self,
        sale: PaidSale,
        wanted: list[tuple[int, Decimal, bool]],
        reason: str,
        approval: Approval | None = None,
    ) -> RefundPlan:
        """Every check, nothing sent or written: the app asks approval here, then runs
        :meth:`execute` (which may wait on the card terminal) off the UI thread."""
        cashier = self.session.require_cashier()
        if reason not in REFUND_REASONS:
            raise PosError(N_("Choose a reason"))
        if self.approvals.policy.requires(PAID_ORDERS):
            approval = check_approval(approval, PAID_ORDERS, N_("refund a paid sale"))
        self._need_shift()
        sale = load_sale(
            self.ctx.db, sale.id
        )  # what is refundable now, not when the screen was drawn
        plan = self._plan(sale, wanted, cashier, reason, approval)
        self._check_no_open_card_refund(sale)
        return plan

    def money_back(
        self, sale: PaidSale, wanted: list[tuple[int, Decimal, bool]]
    ) -> tuple[dict[str, int], int]:
        """What refunding ``wanted`` of ``sale`` gives back, as the refund will:
        ({tender: money}, spent points given back). For the screen, before anything is
        asked; refuses what the refund would refuse."""
        return self._split(sale, plan_refund(sale.lines, wanted))

    def money_back_without_receipt(self, items: list[tuple[Product, Decimal, bool]]) -> int:
        """The cash a return without a receipt gives back (rounded to the cash step)."""
        total = sum(line_amount(product.price, quantity) for product, quantity, _r in items)
        return round_to_step(total, self.ctx.settings.store.cash_rounding)

    def _split(self, sale: PaidSale, lines: list[RefundLine]) -> tuple[dict[str, int], int]:
        amount = sum(line.amount for line in lines)
        refunded_before = sum(line.refunded_amount for line in sale.lines)
        lines_total = sum(line.amount for line in sale.lines)
        return refund_money(
            amount,
            sale.tenders,
            lines_total=lines_total,
            lines_refunded=refunded_before,
            completes=refunded_before + amount == lines_total,
            points_spent=sale.points_spent,
            point_value=self.ctx.settings.loyalty.point_value,
            cash_step=self.ctx.settings.store.cash_rounding,
        )

    def _plan(self, sale: PaidSale, wanted, cashier, reason: str, approval) -> RefundPlan:
        """The lines, the money per tender and the points of refunding ``wanted``."""
        lines = plan_refund(sale.lines, wanted)
        amount = sum(line.amount for line in lines)
        refunded_before = sum(line.refunded_amount for line in sale.lines)
        lines_total = sum(line.amount for line in sale.lines)
        split, points_returned = self._split(sale, lines)
        points_back = proportional_back(sale.points_earned, lines_total, refunded_before, amount)
        return RefundPlan(
            sale, wanted, lines, split, cashier, reason, approval, points_back, points_returned
        )

    def execute(self, plan: RefundPlan, on_status=None) -> RefundOutcome:
        """The card part through the card terminal (never sent twice), then COMMIT."""
        card_receipts, card_ids, slip = {}, [], ()
        if plan.split.get("card"):
            card_ids, card_receipts["card"], slip = self._card_refund(plan, on_status)
        return self._commit(plan, card_receipts, card_ids, slip)

    def _taxes(self, lines: list[RefundLine]) -> list[dict]:
        """The tax in the refunded money, per rate (the reports net it off the sales')."""
        settings = self.ctx.settings
        classes = settings.tax_classes
        summary = summarize(
            (
                (classes[line.line.tax_class], line.amount)
                for line in lines
                if line.line.tax_class in classes
            ),
            prices_include_tax=settings.store.prices_include_tax,
        )
        return [
            {"code": r.tax.code, "rate": str(r.tax.rate), "base": r.base, "amount": r.amount}
            for r in summary.per_rate
        ]

    def _need_shift(self) -> None:
        """Refunds take money out of the drawer: they belong to an open shift."""
        if self.session.shift is None:
            raise PosError(N_("Open the shift first (count the opening float)"))

    def refund_without_receipt(
        self,
        items: list[tuple[Product, Decimal, bool]],
        reason: str,
        approval: Approval | None = None,
    ) -> RefundOutcome:
        """A return without a receipt: always the paid-orders approval, a reason, cash."""
        cashier = self.session.require_cashier()
        if reason not in REFUND_REASONS:
            raise PosError(N_("Choose a reason"))
        approval = check_approval(approval, PAID_ORDERS, N_("a return without a receipt"))
        if not items:
            raise RefundError(N_("Choose what to refund"))
        lines = []
        for product, quantity, restock in items:
            amount = line_amount(product.price, quantity)
            sold = SoldLine(0, product.sku, product.name, quantity, amount, product.tax_class)
            lines.append(RefundLine(sold, quantity, amount, restock))
        self._need_shift()
        cash = self.money_back_without_receipt(items)
        plan = RefundPlan(None, [], lines, {"cash": cash}, cashier, reason, approval, 0, 0)
        return self._commit(plan, {}, [])

    def _check_no_open_card_refund(self, sale: PaidSale) -> None:
        if card_payments.open_refunds_of(self.ctx.db, sale.label):
            raise RefundError(
                N_(
                    "A card refund of this sale is not resolved: check the card terminal's "
                    "printout, then ask a supervisor"
                )
            )

    def _card_refund(
        self, plan: RefundPlan, on_status
    ) -> tuple[list[str], int | None, tuple[str, ...]]:
        """The card part: (payment ids, the card terminal's receipt number, its slip)."""
        desk = self.ctx.card
        if desk is None:
            raise PosError(N_("No card terminal is configured"))
        sale, amount = plan.sale, plan.split["card"]
        now = self.ctx.clock()
        payment_id = f"refund:{sale.label}:{uuid.uuid4().hex}"  # (a Pi has no real clock)
        card_payments.record_plan(
            self.ctx.db,
            payment_id,
            amount,
            {
                "sale": sale.id,
                "wanted": [[p, str(q), r] for p, q, r in plan.wanted],
                "reason": plan.reason,
                "cashier": plan.cashier.id,
                "approved_by": plan.approval.approved_by if plan.approval else None,
            },
            now,
        )
        card_paid = next(t for t in sale.tenders if t.kind == "card")
        same_day = (
            sale.created_at.astimezone(self.ctx.settings.store.timezone).date()
            == now.astimezone(self.ctx.settings.store.timezone).date()
        )
        if same_day and amount == card_paid.amount and len(sale.card_receipt_numbers) == 1:
            # the whole card payment, still in today's batch: a reversal, no refund fee
            result = desk.reverse(payment_id, sale.card_receipt_numbers[0], amount, on_status)
        else:
            result = desk.refund(payment_id, amount, on_status)
        if result.state == PAID:
            self._same_card_or_undo(plan.sale, payment_id, result, on_status)
        if result.state != PAID:
            if result.state == PaymentState.UNKNOWN:
                raise PosError(
                    N_(
                        "The card terminal cannot say whether it refunded: check its "
                        "printout; a supervisor records it under More > Card payments "
                        "without a sale"
                    )
                )
            raise PosError(N_("Card refund refused: {reason}"), reason=result.message)
        out = result.outcome
        return (
            [payment_id],
            out.receipt_number if out else None,
            tuple(out.receipt_lines) if out else (),
        )

    def _same_card_or_undo(self, sale: PaidSale, payment_id: str, result, on_status) -> None:
        """Money goes back to the card that paid: a refund the terminal made to another
        card (its last digits differ) is reversed at once, and refused."""
        shown = (result.outcome.masked_pan if result.outcome else "") or ""
        paid_with = {pan[-4:] for pan in sale_card_pans(self.ctx.db, self.ctx.sealer, sale.id)}
        if not shown or not paid_with or shown[-4:] in paid_with:
            return  # the same card, or a terminal that does not say which
        log.warning("card refund %s went to another card; reversing it", payment_id)
        receipt = result.outcome.receipt_number
        undo = self.ctx.card.reverse(f"reversal:{payment_id}", receipt, result.amount, on_status)
        if undo.state == PAID:
            with self.ctx.db.atomic():
                card_payments.settle(self.ctx.db, payment_id)
                card_payments.settle(self.ctx.db, f"reversal:{payment_id}")
            raise RefundError(
                N_(
                    "Another card was presented: that refund was taken back. Present the "
                    "card that paid"
                )
            )
        raise RefundError(
            N_(
                "Another card was presented and the refund could not be taken back: a "
                "supervisor settles it under More > Card payments without a sale"
            )
        )

    def _commit(
        self,
        plan: RefundPlan,
        card_receipts: dict[str, int | None],
        card_ids: list[str],
        slip: tuple[str, ...] = (),
    ) -> RefundOutcome:
        """COMMIT the refund, open the drawer for cash, print its receipt (with the card
        terminal's slip when the card was refunded)."""
        sale, lines, split, cashier = plan.sale, plan.lines, plan.split, plan.cashier
        reason, approval = plan.reason, plan.approval
        now = self.ctx.clock()
        try:
            refund = commit_refund(
                self.ctx.db,
                self.ctx.journal,
                terminal_id=self.ctx.settings.terminal_id,
                sale=sale,
                lines=lines,
                tenders=split,
                card_receipts=card_receipts,
                card_payment_ids=card_ids,
                cashier_id=cashier.id,
                shift_id=self.session.shift_id(),
                reason=reason,
                approved_by=approval.approved_by if approval else None,
                points_back=plan.points_back,
                points_returned=plan.points_returned,
                taxes=self._taxes(lines),
                at=now,
                then=self._owe_fiscal(sale),
            )
        except DatabaseError as exc:
            log.error("refund not saved: %s", exc)
            if card_ids:
                raise PosError(
                    N_(
                        "The card refund went through but was NOT saved ({reason}): give "
                        "no cash; a supervisor records it under More > Card payments "
                        "without a sale"
                    ),
                    reason=str(exc),
                ) from None
            raise PosError(
                N_("The refund was NOT saved ({reason}): give no money, call a technician"),
                reason=str(exc),
            ) from None
        if split.get("cash"):
            try:
                self.ctx.drawer_commands.open(refund.label, issued_at=time.monotonic())
            except Exception as exc:  # the refund stands
                log.error("drawer did not open for %s: %s", refund.label, exc)
        self.actions.watch("refund", {"with_receipt": sale is not None}, cashier, now)
        log_action(
            f"refund {refund.label} committed, amount {refund.amount}",
            "refund",
            cashier=cashier.id,
            shift=self.session.shift_id(),
            label=refund.label,
            sale=sale.label if sale else None,
            amount=refund.amount,
            paid=sum(refund.tenders.values()),
            tenders=refund.tenders,
            reason=reason,
            approved_by=approval.approved_by if approval else None,
        )
        self.ctx.events.publish(
            "refund_committed", number=refund.number, label=refund.label, amount=refund.amount
        )
        doc = self._refund_receipt(refund, sale, lines, cashier.name, now, reason, slip)
        error = self._print(refund.label, doc)
        if self.fiscal is not None and self.fiscal.enabled:
            self.fiscal.poke()  # the return goes to the tax office from the fiscal thread
        return RefundOutcome(refund, error)

    def _owe_fiscal(self, sale):
        """In the refund's transaction: the return the tax office must hear of."""
        fiscal = self.fiscal  # (owed whenever the sale has a fiscal receipt, even if the
        if fiscal is None or sale is None:  # shop has switched fiscal receipts off since)
            return None
        return lambda refund_id, label: fiscal.owe_return(sale.id, refund_id, label)

    def _refund_receipt(
        self, refund, sale, lines: list[RefundLine], cashier: str, at, reason, slip=()
    ) -> Document:
        _ = self.printing.gettext
        store = self.ctx.settings.store
        money = lambda amount: store.currency.format(amount, receipt=True)  # noqa: E731
        doc = Document(columns=self.ctx.printer.columns)
        doc.line(store.name, align="center", bold=True, size="tall")
        doc.line(_("REFUND"), align="center", bold=True, size="tall")
        doc.pair(
            _("No. {number}").format(number=refund.label),
            at.astimezone(store.timezone).strftime("%d-%m-%Y %H:%M"),
        )
        doc.line(_("For sale {label}").format(label=sale.label) if sale else _("Without a receipt"))
        doc.line(_("Cashier: {name}").format(name=cashier))
        doc.line(_("Reason: {reason}").format(reason=_(REFUND_REASONS[reason])))
        doc.rule()
        sep = store.currency.decimal_sep
        for line in lines:
            weighed = line.quantity != line.quantity.to_integral_value()
            doc.line(line.line.name)
            doc.pair(f"  {format_quantity(line.quantity, weighed, sep)}", money(-line.amount))
        doc.rule()
        doc.pair(_("REFUNDED"), money(refund.amount), bold=True, size="tall")
        given = sum(refund.tenders.values())
        if given != refund.amount:  # cash goes back in what the drawer can give
            doc.pair(_("Cash rounding"), money(given - refund.amount))
        for kind, amount in refund.tenders.items():
            doc.pair("  " + _(TENDER_NAMES.get(kind, kind)), money(amount))
        if slip:  # the card terminal's own receipt of the refund
            doc.rule()
            for text in slip:
                doc.line(text)
        doc.rule()
        doc.pair(_("Journal {seq}").format(seq=refund.journal_label), refund.journal_hash)
        doc.feed()
        doc.line(_("Customer signature"), align="left")
        doc.feed(2)
        return doc

    def _print(self, name: str, doc: Document) -> str | None:
        return self.printing.print_document(name, doc)

    def record_card_refund(self, payment_id: str, approval: Approval) -> RefundOutcome:
        """A card refund that went through without being recorded (a lost link, a failed
        COMMIT): record it now, from the plan kept when it was sent, with the card amount
        the terminal refunded."""
        row = card_payments.get(self.ctx.db, payment_id)
        stored = json.loads(row.plan)
        wanted = [(p, Decimal(q), r) for p, q, r in stored["wanted"]]
        plan = self._plan(
            load_sale(self.ctx.db, stored["sale"]),
            wanted,
            self.session.require_cashier(),
            stored["reason"],
            approval,
        )
        if plan.split.get("card") != row.amount:
            raise RefundError(N_("This sale changed since the card refund: record it by hand"))
        return self._commit(plan, {"card": row.receipt_number}, [payment_id])

    # -- reprints ---------------------------------------------------------------------------
    def reprint(self, sale_id: int) -> tuple[int, str | None]:
        """Print a sale's receipt again, marked COPY n; journaled. Returns (n, print error)."""
        ctx = self.ctx
        cashier = self.session.require_cashier()
        done = load_committed_sale(ctx.db, ctx.sealer, sale_id)
        with ctx.db.atomic():
            copy = count_reprint(ctx.db, sale_id)
            ctx.journal.append(
                "reprint", {"sale": done.label, "copy": copy, "cashier": cashier.id}, ctx.clock()
            )
        doc = build_receipt(
            done,
            ctx.settings.store,
            self.printing.gettext,
            columns=ctx.printer.columns,
            logo=ctx.settings.hardware.printer.settings.logo,
            copy=copy,
            fiscal=self.fiscal.reprint_block(done.label) if self.fiscal else None,
        )
        log_action(
            f"receipt {done.label} reprinted, copy {copy}",
            "reprint",
            cashier=cashier.id,
            shift=self.session.shift_id(),
            label=done.label,
            copy=copy,
        )
        return copy, self._print(f"{done.label}-COPY{copy}", doc)

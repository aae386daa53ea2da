"""Refunds: scan the receipt's return code (or type the transaction number), see what is
still refundable, choose lines and quantities, refund to the sale's own tenders."""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal, InvalidOperation

from kivy.clock import Clock
from kivy.properties import BooleanProperty, NumericProperty, StringProperty

from terminal.core.catalogue import line_amount
from terminal.core.errors import PosError
from terminal.core.refunds import REFUND_REASONS
from terminal.i18n import _
from terminal.services.receipt import format_quantity
from terminal.services.refunds import RefundOutcome
from terminal.ui.panels import ChoicePanel, EntryPanel
from terminal.ui.widgets import CartRow, PosScreen, load_kv

log = logging.getLogger(__name__)
load_kv(__file__)


class RefundScreen(PosScreen):
    busy = BooleanProperty(False)  # a card refund is running
    sale_text = StringProperty("")
    entry = StringProperty("")
    total_text = StringProperty("")
    selected = NumericProperty(-1)

    def on_kv_post(self, base_widget) -> None:
        self.ids.keypad.bind(on_key=lambda _k, key: self.on_keypad(key))

    def on_pre_enter(self) -> None:
        self.sale = None
        self.without_receipt: list[list] = []  # [product, quantity, restock]
        self.no_receipt = False
        self.chosen: dict[int, tuple[Decimal, bool]] = {}  # position: (quantity, restock)
        self.entry = ""
        self.selected = -1
        self.sale_text = _("Scan the receipt's return code, or type the transaction number")
        self.say("")
        self.refresh()

    def money(self, amount: int) -> str:
        return self.service.currency.format(amount)

    def refresh(self) -> None:
        grid = self.ids.lines
        grid.clear_widgets()
        total = 0
        if self.no_receipt:
            sep = self.service.currency.decimal_sep
            for i, (product, qty, restock) in enumerate(self.without_receipt):
                amount = line_amount(product.price, qty)
                total += amount
                stock = "" if restock else " " + _("(damaged)")
                grid.add_widget(
                    CartRow(
                        self.select,
                        name=product.name,
                        detail=_("refund {qty}{stock}").format(
                            qty=format_quantity(qty, product.sold_by_weight, sep), stock=stock
                        ),
                        amount=self.money(-amount),
                        index=i,
                        selected=i == self.selected,
                    )
                )
        if self.sale is not None:
            sep = self.service.currency.decimal_sep
            for i, line in enumerate(self.sale.lines):
                qty, restock = self.chosen.get(line.position, (Decimal(0), True))
                left = format_quantity(line.refundable_quantity, False, sep)
                detail = _("{left} refundable").format(left=left)
                amount = ""
                if qty:
                    amount = self.money(-line.refund_amount(qty))
                    total += line.refund_amount(qty)
                    detail = _("refund {qty}{stock}").format(
                        qty=format_quantity(qty, False, sep),
                        stock="" if restock else " " + _("(damaged)"),
                    )
                grid.add_widget(
                    CartRow(
                        self.select,
                        name=line.name,
                        detail=detail,
                        amount=amount,
                        index=i,
                        selected=i == self.selected,
                    )
                )
        self.total_text = _("Refund") + "  " + self.money(total)

    def select(self, index: int) -> None:
        self.selected = index
        self.refresh()

    # -- input ---------------------------------------------------------------------------------
    def on_text(self, text: str) -> None:
        self.entry = (self.entry + text)[:30]

    def on_backspace(self) -> None:
        self.entry = self.entry[:-1]

    def on_clear(self) -> None:
        self.entry = ""

    def find(self) -> None:
        """No receipt to scan: today's sales of an amount, or paid with a card ending so."""
        refunds = self.service.refunds

        def show(found) -> str | None:
            if not found:
                return _("No sale found")
            tz = self.service.settings.store.timezone
            options = [
                (s.label, f"{s.label}  {s.created_at.astimezone(tz):%H:%M}  {self.money(s.total)}")
                for s in found[:8]
            ]
            ChoicePanel(self.router, _("Which sale?"), options, self.on_scan).show()
            return None

        def by_amount(text: str) -> str | None:
            return show(
                refunds.find_by_day(
                    self.service.clock(), amount=self.service.currency.parse(text or "0")
                )
            )

        def by_card(text: str) -> str | None:
            return show(refunds.find_by_day(self.service.clock(), card_last_digits=text))

        def by_date(text: str) -> str | None:
            day = parse_day(
                text, self.service.clock().astimezone(self.service.settings.store.timezone)
            )
            if day is None:
                return _("{text} is not a date (day.month.year)").format(text=text)
            return show(refunds.find_by_day(day))

        def ask(how: str) -> None:
            if how == "amount":
                EntryPanel(self.router, _("Today's sales of this amount"), by_amount).show()
            elif how == "date":
                EntryPanel(self.router, _("Sales of the day (day.month.year)"), by_date).show()
            else:
                EntryPanel(self.router, _("Today's card sales ending in"), by_card).show()

        ChoicePanel(
            self.router,
            _("Find the sale"),
            [
                ("amount", _("By amount (today)")),
                ("card", _("By the card's last digits (today)")),
                ("date", _("By date")),
            ],
            ask,
        ).show()

    def start_without_receipt(self) -> None:
        """A return without a receipt: scan the items; the paid-orders approval and a
        reason are always asked, and the money is cash."""
        self.sale = None
        self.no_receipt = True
        self.without_receipt = []
        self.sale_text = _("Without a receipt: scan each item returned")
        self.say("")
        self.refresh()

    def on_scan(self, code: str) -> None:
        if self.no_receipt:
            try:
                scan = self.service.catalogue.lookup(code)
            except PosError as exc:
                self.refuse(exc)
                return
            self.without_receipt.append([scan.product, scan.quantity, True])
            self.selected = len(self.without_receipt) - 1
            self.say("")
            self.refresh()
            return
        try:
            self.sale = self.service.refunds.find(code)
        except PosError as exc:
            self.refuse(exc)
            return
        self.chosen = {}
        self.selected = 0
        self.sale_text = _("Sale {label}: {total}, {left} still refundable").format(
            label=self.sale.label,
            total=self.money(self.sale.total),
            left=self.money(self.sale.refundable),
        )
        self.say(_("Choose a line, type the quantity, press Enter"))
        self.refresh()

    def on_enter_key(self) -> None:
        text, self.entry = self.entry.strip(), ""
        if self.no_receipt:
            if text:
                self.on_scan(text)
            return
        if self.sale is None:
            if text:
                self.on_scan(text)
            return
        if self.selected < 0:
            return
        line = self.sale.lines[self.selected]
        try:
            qty = Decimal(text.replace(",", ".")) if text else line.refundable_quantity
        except InvalidOperation:
            self.say(_("{text} is not a quantity").format(text=text), error=True)
            return
        if qty:
            try:
                line.refund_amount(qty)  # the refund rules (how much is left, whole pieces)
            except PosError as exc:
                self.refuse(exc)
                return
        restock = self.chosen.get(line.position, (0, True))[1]
        self.chosen[line.position] = (qty, restock)
        if not qty:
            del self.chosen[line.position]
        self.say("")
        self.refresh()

    def on_action(self, action: str) -> None:
        if self.busy:
            return  # the card terminal has the customer
        handler = getattr(self, f"_do_{action}", None)
        if handler:
            handler()

    def _do_back(self) -> None:
        self.go("sale")

    def _do_line_up(self) -> None:
        if self.sale:
            self.select(max(0, self.selected - 1))

    def _do_line_down(self) -> None:
        if self.sale:
            self.select(min(len(self.sale.lines) - 1, self.selected + 1))

    def toggle_restock(self) -> None:
        if self.no_receipt and 0 <= self.selected < len(self.without_receipt):
            item = self.without_receipt[self.selected]
            item[2] = not item[2]
            self.refresh()
            return
        if self.sale is None or self.selected < 0:
            return
        position = self.sale.lines[self.selected].position
        if position in self.chosen:
            qty, restock = self.chosen[position]
            self.chosen[position] = (qty, not restock)
            self.refresh()

    def confirm(self) -> None:
        if self.busy:
            return
        if self.no_receipt:
            if not self.without_receipt:
                self.say(_("Choose what to refund"), error=True)
                return
            items = [tuple(item) for item in self.without_receipt]

            def refund(reason, approval):
                return self.service.refunds.refund_without_receipt(items, reason, approval)

        else:
            if self.sale is None or not self.chosen:
                self.say(_("Choose what to refund"), error=True)
                return
            wanted = [(pos, qty, restock) for pos, (qty, restock) in sorted(self.chosen.items())]
            sale = self.sale

            def refund(reason, approval):
                return self.service.refunds.prepare(sale, wanted, reason, approval)

        def done(outcome) -> None:
            self.go("sale")
            sale_screen = self.manager.get_screen("sale")
            message = _("Refund {label}: {amount} back").format(
                label=outcome.refund.label, amount=self.money(outcome.refund.amount)
            )
            if outcome.print_error:
                message += " " + _("(receipt not printed: {reason})").format(
                    reason=_(outcome.print_error)
                )
            sale_screen.say(message, error=bool(outcome.print_error))
            self.router.screenshot("refund-done")

        def run(prepared) -> None:
            """A return without a receipt is done already; a plan is executed on a
            thread when the card terminal takes part (the customer presents the card)."""
            if isinstance(prepared, RefundOutcome):
                done(prepared)
                return
            if not prepared.uses_card:
                try:
                    outcome = self.service.refunds.execute(prepared)
                except PosError as exc:
                    self.refuse(exc)
                    return
                done(outcome)
                return
            self.busy = True
            self.say(_("Card refund: follow the card terminal"))

            def status(_code: int, text: str) -> None:
                Clock.schedule_once(lambda _dt: self.say(_(text)), 0)

            def finished(outcome, error) -> None:
                self.busy = False
                if error is not None:
                    self.refuse(error)
                else:
                    done(outcome)

            self.router.worker.run(
                lambda: self.service.refunds.execute(prepared, status),
                lambda outcome: finished(outcome, None),
                lambda error: finished(None, error),
                interactive=True,
            )

        def with_reason(reason: str) -> None:
            self.say(_("Refunding..."))
            self.router.with_approval(lambda approval: refund(reason, approval), run)

        ChoicePanel(
            self.router,
            _("Reason for the refund"),
            [(k, _(v)) for k, v in REFUND_REASONS.items()],
            with_reason,
        ).show()


def parse_day(text: str, today: datetime) -> datetime | None:
    """``23.11.2026`` or ``23.11`` (this year) as a local day; None when it is not one."""
    parts = [p for p in text.replace(",", ".").split(".") if p]
    try:
        day, month = int(parts[0]), int(parts[1])
        year = int(parts[2]) if len(parts) > 2 else today.year
        return today.replace(year=year, month=month, day=day, hour=12, minute=0, second=0)
    except (IndexError, ValueError):
        return None

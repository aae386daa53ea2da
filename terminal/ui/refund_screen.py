"""Refunds: scan the receipt's return code (or type the transaction number), see what was
paid and what is still refundable, choose lines and quantities (a weight in kg for a
weighed line), see the money that goes back, refund to the sale's own tenders.

Every action has its key, shown on its button: the sale screen's pay key refunds, its
refund key finds a sale without its receipt, and ``no_receipt`` and ``restock`` have
their own."""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal

from kivy.clock import Clock
from kivy.properties import BooleanProperty, NumericProperty, StringProperty

from terminal.core.catalogue import format_quantity, line_amount
from terminal.core.errors import PosError
from terminal.core.refunds import REFUND_REASONS, refund_quantity
from terminal.i18n import _, ngettext
from terminal.services.refunds import RefundOutcome
from terminal.services.report_doc import TENDER_NAMES
from terminal.ui.panels import ChoicePanel, EntryPanel
from terminal.ui.widgets import PosScreen, SelectableRow, load_kv

log = logging.getLogger(__name__)
load_kv(__file__)


class RefundRow(SelectableRow):
    """A line of the sale, or an item returned without a receipt: what is refundable or
    chosen (a weight in kg, or pieces), where a chosen one goes (back to stock, or
    damaged: said on a line of its own, so it is never cut off), and the money."""

    stock = StringProperty("")  # a chosen line: back to stock, or damaged
    damaged = BooleanProperty(False)


class RefundScreen(PosScreen):
    busy = BooleanProperty(False)  # a card refund is running
    sale_text = StringProperty("")
    entry = StringProperty("")
    entry_hint = StringProperty("")
    total_text = StringProperty("")
    split_text = StringProperty("")  # how the money goes back: by tender, cash rounding
    restock_text = StringProperty("")  # what the restock key does to the selected line
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

    @property
    def sep(self) -> str:
        return self.service.currency.decimal_sep

    def refresh(self) -> None:
        grid = self.ids.lines
        grid.clear_widgets()
        if self.no_receipt:
            for i, (product, qty, restock) in enumerate(self.without_receipt):
                grid.add_widget(
                    RefundRow(
                        self.select,
                        name=product.name,
                        detail=_("refund {qty}").format(
                            qty=format_quantity(qty, product.sold_by_weight, self.sep)
                        ),
                        stock=self._stock_text(restock),
                        damaged=not restock,
                        amount=self.money(-line_amount(product.price, qty)),
                        index=i,
                        selected=i == self.selected,
                    )
                )
        if self.sale is not None:
            for i, line in enumerate(self.sale.lines):
                qty, restock = self.chosen.get(line.position, (Decimal(0), True))
                left = line.quantity_text(line.refundable_quantity, self.sep)
                detail, stock, amount = _("{left} refundable").format(left=left), "", ""
                if qty:
                    amount = self.money(-line.refund_amount(qty))
                    detail = _("refund {qty}").format(qty=line.quantity_text(qty, self.sep))
                    stock = self._stock_text(restock)
                grid.add_widget(
                    RefundRow(
                        self.select,
                        name=line.name,
                        detail=detail,
                        stock=stock,
                        damaged=not restock,
                        amount=amount,
                        index=i,
                        selected=i == self.selected,
                    )
                )
        self._show_money_back()
        self._show_entry_hint()
        restock = self._selected_restock()
        self.restock_text = _("Back to stock") if restock is False else _("Damaged")

    @staticmethod
    def _stock_text(restock: bool) -> str:
        return _("back to stock") if restock else _("damaged")

    def _show_money_back(self) -> None:
        """The money that goes back for what is chosen, as the refund will give it: the
        card and the cash (rounded to the cash step), and the points."""
        split, points, lines = {}, 0, 0
        if self.no_receipt and self.without_receipt:
            items = [tuple(item) for item in self.without_receipt]
            lines = sum(line_amount(product.price, qty) for product, qty, _r in items)
            split = {"cash": self.service.refunds.money_back_without_receipt(items)}
        elif self.sale is not None and self.chosen:
            wanted = [(pos, qty, restock) for pos, (qty, restock) in sorted(self.chosen.items())]
            lines = sum(
                line.refund_amount(self.chosen[line.position][0])
                for line in self.sale.lines
                if line.position in self.chosen
            )
            try:
                split, points = self.service.refunds.money_back(self.sale, wanted)
            except PosError as exc:
                self.refuse(exc)
        back = split.get("card", 0) + split.get("cash", 0)
        self.total_text = _("Refund") + "  " + self.money(back)
        parts = [
            f"{_(TENDER_NAMES[kind])} {self.money(split[kind])}"
            for kind in ("card", "cash")
            if split.get(kind)
        ]
        if points:
            parts.append(ngettext("{n} point back", "{n} points back", points).format(n=points))
        text = ", ".join(parts)
        rounding = sum(split.values()) - lines
        if split and rounding:
            text += "  " + _("(cash rounding {amount})").format(amount=self.money(rounding))
        self.split_text = text

    def _show_entry_hint(self) -> None:
        line = self._selected_line()
        if line is None or self.no_receipt:
            self.entry_hint = _("Scan or type a code")
        elif line.by_weight:
            self.entry_hint = _("Weight to refund (kg)")
        else:
            self.entry_hint = _("Quantity to refund")

    def _selected_line(self):
        if self.sale is not None and 0 <= self.selected < len(self.sale.lines):
            return self.sale.lines[self.selected]
        return None

    def _selected_restock(self) -> bool | None:
        """Whether the selected line goes back to stock; None: it is not refunded."""
        if self.no_receipt:
            if 0 <= self.selected < len(self.without_receipt):
                return self.without_receipt[self.selected][2]
            return None
        line = self._selected_line()
        if line is None or line.position not in self.chosen:
            return None
        return self.chosen[line.position][1]

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
        reason are always asked, and the money is cash. What is already chosen is never
        dropped by it (the key is near others): refund it, or go back to start again."""
        if self.chosen or self.without_receipt:
            self.say(
                _("Refund what is chosen first, or go back ({key}) to start again").format(
                    key=self.key_label("back")
                ),
                error=True,
            )
            return
        self.sale = None
        self.no_receipt = True
        self.without_receipt = []
        self.selected = -1
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
        balance = self.sale.balance
        self.sale_text = _("Sale {label}: paid {paid}, still refundable {left}").format(
            label=self.sale.label,
            paid=self.money(balance.paid),
            left=self.money(balance.refundable),
        )
        self.say(
            _("Choose a line, type the quantity, press Enter; then {key}: refund").format(
                key=self.key_label("pay_cash")
            )
        )
        self.refresh()

    def on_enter_key(self) -> None:
        text, self.entry = self.entry.strip(), ""
        if self.no_receipt or self.sale is None:
            if text:
                self.on_scan(text)
            return
        if any(ch.isalpha() or ch == "-" for ch in text):
            self.on_scan(text)  # another receipt's code, typed or by the wedge scanner
            return
        line = self._selected_line()
        if line is None:
            return
        if not text:  # never a quantity (nor an amount of money) chosen for the cashier
            ask = (
                _("Type the weight of {name} to refund (kg), then Enter")
                if line.by_weight
                else _("Type how many of {name} to refund, then Enter")
            )
            self.say(ask.format(name=line.name))
            return
        try:
            qty = refund_quantity(text, line, self.sep)
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

    def _do_pay_cash(self) -> None:
        """The sale screen's pay key (F12, keypad +): refund what is chosen."""
        self.confirm()

    def _do_quantity(self) -> None:
        """The sale screen's Qty key (keypad *): the typed quantity, as Enter."""
        if self.sale is not None and not self.no_receipt:
            self.on_enter_key()

    def _do_refund(self) -> None:
        """The key that opened this screen (F7): find a sale without its receipt."""
        self.find()

    def _do_no_receipt(self) -> None:
        self.start_without_receipt()

    def _do_restock(self) -> None:
        self.toggle_restock()

    def _rows(self) -> int:
        if self.no_receipt:
            return len(self.without_receipt)
        return len(self.sale.lines) if self.sale is not None else 0

    def _do_line_up(self) -> None:
        if self._rows():
            self.select(max(0, self.selected - 1))

    def _do_line_down(self) -> None:
        if self._rows():
            self.select(min(self._rows() - 1, self.selected + 1))

    def toggle_restock(self) -> None:
        if self.no_receipt and 0 <= self.selected < len(self.without_receipt):
            item = self.without_receipt[self.selected]
            item[2] = not item[2]
            self.refresh()
            return
        line = self._selected_line()
        if line is None:
            return
        if line.position not in self.chosen:
            self.say(_("Type the quantity of this line first"), error=True)
            return
        qty, restock = self.chosen[line.position]
        self.chosen[line.position] = (qty, not restock)
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
            self.show_on_sale_screen(outcome)
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

    def show_on_sale_screen(self, outcome: RefundOutcome) -> None:
        """Back on the sale screen, the money handed back is what shows large: the cash
        to give, or (nothing in cash) what went back to the card; each part in words."""
        tenders = outcome.refund.tenders
        cash, card = tenders.get("cash", 0), tenders.get("card", 0)
        if cash:
            title, amount = _("Refund: give back in cash"), cash
        elif card:
            title, amount = _("Refund: back to the card"), card
        else:
            title, amount = _("Refund done"), 0
        parts = [
            f"{_(TENDER_NAMES[kind])} {self.money(tenders[kind])}"
            for kind in ("card", "cash")
            if tenders.get(kind)
        ]
        message = _("Refund {label}: {amount} back").format(
            label=outcome.refund.label, amount=", ".join(parts) or self.money(0)
        )
        if outcome.print_error:
            message += " " + _("(receipt not printed: {reason})").format(
                reason=_(outcome.print_error)
            )
        sale_screen = self.manager.get_screen("sale")
        sale_screen.show_refund(amount, title)
        sale_screen.say(message, error=bool(outcome.print_error))


def parse_day(text: str, today: datetime) -> datetime | None:
    """``23.11.2026`` or ``23.11`` (this year) as a local day; None when it is not one."""
    parts = [p for p in text.replace(",", ".").split(".") if p]
    try:
        day, month = int(parts[0]), int(parts[1])
        year = int(parts[2]) if len(parts) > 2 else today.year
        return today.replace(year=year, month=month, day=day, hour=12, minute=0, second=0)
    except (IndexError, ValueError):
        return None

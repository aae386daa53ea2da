"""The payment screen: cash with quick-tender amounts, the card terminal, points."""

from __future__ import annotations

import logging

from kivy.clock import Clock
from kivy.properties import BooleanProperty, NumericProperty, StringProperty

from terminal.core.errors import PosError
from terminal.i18n import _
from terminal.ui.panels import ChoicePanel
from terminal.ui.widgets import PosButton, PosScreen, load_kv

log = logging.getLogger(__name__)
load_kv(__file__)


class PaymentScreen(PosScreen):
    member_points = NumericProperty(-1)  # the customer's points, -1: no member
    card_busy = BooleanProperty(False)
    card_status = StringProperty("")
    due_text = StringProperty("")
    due_detail = StringProperty("")
    tendered_text = StringProperty("")
    change_text = StringProperty("")
    typed = StringProperty("")
    card_due_text = StringProperty("")  # what the card is charged: the exact amount left
    charging_text = StringProperty("")  # while the card terminal charges: that amount

    def on_kv_post(self, base_widget) -> None:
        self.ids.keypad.bind(on_key=lambda _k, key: self.on_keypad(key))

    def on_pre_enter(self) -> None:
        pos = self.service
        cur = pos.currency
        spent = sum(t.points for t in pos.tenders)
        self.member_points = pos.customer_points - spent if pos.customer else -1
        payable = pos.cash_payable()
        self.typed = ""
        self.card_due_text = cur.format(pos.left_to_pay)
        self.due_text = cur.format(payable)
        total = pos.left_to_pay
        self.due_detail = (
            _("Total {total}, cash rounding {rounding}").format(
                total=cur.format(total), rounding=cur.format(payable - total)
            )
            if payable != total
            else _("Total {total}").format(total=cur.format(total))
        )
        if pos.tenders:
            self.due_detail += "  " + _("({paid} already paid)").format(
                paid=cur.format(pos.cart.total - total)
            )
        self.say("")
        quick = self.ids.quick
        quick.clear_widgets()
        exact = PosButton(
            text=_("Exact") + "\n" + cur.format(payable), background_color=(0.1, 0.45, 0.3, 1)
        )
        exact.bind(on_release=lambda _b: self.pay(payable))
        quick.add_widget(exact)
        for amount in pos.quick_tenders():
            button = PosButton(text=cur.format(amount))
            button.bind(on_release=lambda _b, a=amount: self.pay(a))
            quick.add_widget(button)

    def on_typed(self, _inst, value: str) -> None:
        cur = self.service.currency
        if not value:
            self.tendered_text = self.change_text = ""
            return
        try:
            amount = cur.parse(value)
        except ArithmeticError:
            self.tendered_text, self.change_text = cur.format_typed(value), ""
            return
        self.tendered_text = cur.format(amount)
        change = amount - self.service.cash_payable()
        self.change_text = cur.format(change) if change >= 0 else ""

    def on_text(self, text: str) -> None:
        allowed = "0123456789" + (
            self.service.currency.decimal_sep if self.service.currency.exponent else ""
        )
        self.typed = (self.typed + "".join(ch for ch in text if ch in allowed))[:12]

    def on_backspace(self) -> None:
        self.typed = self.typed[:-1]

    def on_clear(self) -> None:
        self.typed = ""

    def on_enter_key(self) -> None:
        if self.card_busy:
            return
        if not self.typed:
            self.say(_("Type the amount received, or press Exact"), error=True)
            return
        try:
            amount = self.service.currency.parse(self.typed)
        except ArithmeticError:
            self.say(_("{text} is not an amount").format(text=self.typed), error=True)
            return
        self.pay(amount)

    def on_action(self, action: str) -> None:
        if self.card_busy:
            if action == "back" and self.charging_text:
                self.cancel_card()
            return  # the card terminal has the customer: wait for its answer
        if action == "back":
            if self.service.tenders:
                self._offer_cancel_payment()
                return
            self.go("sale")
        elif action == "pay_cash":  # the pay key again: exact amount
            self.pay(self.service.cash_payable())
        elif action == "pay_card":
            self.pay_card()

    def _offer_cancel_payment(self) -> None:
        """Back with a card or points part in: take it back (card reversed), or stay."""

        def undone(_n: int) -> None:
            self.go("sale")
            self.manager.get_screen("sale").say(_("Payment taken back; the order is open"))

        def chosen(key: str) -> None:
            if key == "undo":
                self.router.with_approval(self.service.cancel_payment, undone)

        ChoicePanel(
            self.router,
            _("A card or points payment is already in"),
            [("undo", _("Take it back (card reversed)")), ("stay", _("Take the rest"))],
            chosen,
        ).show()

    def redeem_points(self) -> None:
        """The typed number of points (or as many as cover what is left) pay part."""
        pos = self.service
        if self.member_points <= 0:
            self.say(_("No points to redeem"), error=True)
            return
        wanted = int(self.typed) if self.typed.isdigit() else None  # None: what covers the rest
        self.typed = ""
        try:
            amount = pos.redeem_points(wanted)
        except PosError as exc:
            self.refuse(exc)
            return
        wanted = pos.tenders[-1].points
        if pos.left_to_pay == 0:
            try:
                outcome = pos.complete_paid()
            except PosError as exc:
                self.refuse(exc)
                return
            self.router.sale_done(outcome)
            return
        self.on_pre_enter()
        self.say(
            _("{points} points pay {amount}").format(
                points=wanted, amount=pos.currency.format(amount)
            )
        )

    def pay_card(self) -> None:
        """Send the typed amount (or all that is left) to the card terminal. It runs on a
        thread; the terminal's progress messages show here as they come."""
        if self.card_busy:
            return
        amount = None
        if self.typed:
            try:
                amount = self.service.currency.parse(self.typed)
            except ArithmeticError:
                self.say(_("{text} is not an amount").format(text=self.typed), error=True)
                return
        self.typed = ""
        self.card_busy = True
        # the card is charged the exact amount (no cash rounding): that is what shows
        charge = self.service.left_to_pay if amount is None else amount
        self.charging_text = self.service.currency.format(charge)
        self.card_status = _("Card: follow the card terminal")
        self.say(_("Sent to the card terminal"))

        def status(_code: int, text: str) -> None:
            Clock.schedule_once(lambda _dt: setattr(self, "card_status", _(text)), 0)

        self.router.worker.run(
            lambda: self.service.pay_card(amount, on_status=status),
            lambda outcome: self._card_done(outcome, None),
            lambda error: self._card_done(None, error),
            interactive=True,
        )

    def cancel_card(self) -> None:
        """Back while the card terminal waits for the customer: ask it to stop. The
        payment's own end (cancelled, or approved if the card already went through)
        comes as usual."""
        if self.service.cancel_card():
            self.card_status = _("Cancelling on the card terminal...")
        else:
            self.say(_("The card terminal has nothing to cancel"), error=True)

    def _card_done(self, outcome, error) -> None:
        self.card_busy = False
        self.card_status = self.charging_text = ""
        if error is not None:
            self.refuse(error)
            return
        if outcome is not None:
            self.router.sale_done(outcome)
            return
        self.on_pre_enter()  # approved, something left to pay
        self.say(
            _("Card approved; {left} left to pay").format(
                left=self.service.currency.format(self.service.left_to_pay)
            )
        )

    def on_scan(self, code: str) -> None:
        self.say(_("Finish the payment or go back before scanning"), error=True)

    def pay(self, tendered: int) -> None:
        """Commit and print on the worker (a slow printer must not freeze the window)."""
        if self.card_busy:
            return
        self.card_busy = True  # one payment at a time

        def done(outcome) -> None:
            self.card_busy = False
            self.router.sale_done(outcome)

        def refused(exc: PosError) -> None:
            self.card_busy = False
            self.refuse(exc)

        self.router.worker.run(lambda: self.service.pay_cash(tendered), done, refused)

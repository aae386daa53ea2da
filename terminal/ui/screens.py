"""The cashier's screens. Each turns keys and taps into calls on the POS service and
shows what comes back; every rule (prices, taxes, tender, PINs) lives below them."""

from __future__ import annotations

import logging
import threading

from kivy.clock import Clock
from kivy.properties import BooleanProperty, NumericProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.gridlayout import GridLayout
from kivy.uix.screenmanager import Screen

from terminal.core.errors import N_, PosError, UnknownCode
from terminal.core.pricing import DISCOUNT_REASONS, Discount, parse_discount
from terminal.i18n import _, ngettext
from terminal.services.pos import VOID_REASONS, PosService
from terminal.services.receipt import format_quantity

log = logging.getLogger(__name__)

KEYPAD_KEYS = ["7", "8", "9", "4", "5", "6", "1", "2", "3", "C", "0", "OK"]


class PosButton(Button):
    pass


class FieldBox(Button):
    title = StringProperty("")
    value = StringProperty("")
    active = BooleanProperty(False)


class Keypad(GridLayout):
    """The on-screen numeric keypad: digits type, C clears, OK is Enter."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.register_event_type("on_key")
        self.buttons: dict[str, PosButton] = {}
        for key in KEYPAD_KEYS:
            button = PosButton(text=_("OK") if key == "OK" else key, font_size="22sp")
            button.bind(on_release=lambda _b, k=key: self.dispatch("on_key", k))
            self.buttons[key] = button
            self.add_widget(button)

    def on_key(self, key: str) -> None:
        pass


class CartRow(BoxLayout):
    name = StringProperty("")
    detail = StringProperty("")
    amount = StringProperty("")
    index = NumericProperty(0)
    selected = BooleanProperty(False)

    def __init__(self, on_select, **kwargs) -> None:
        super().__init__(**kwargs)
        self._on_select = on_select

    def on_touch_down(self, touch) -> bool:
        if self.collide_point(*touch.pos):
            self._on_select(self.index)
            return True
        return super().on_touch_down(touch)


class KeyHooks:
    """What the key router calls on a screen or an open prompt; each overrides what it
    uses. (The Enter key's hook is on_enter_key: Kivy's Screen already has an on_enter
    event, fired on every visit.)"""

    def on_text(self, text: str) -> None:
        pass

    def on_backspace(self) -> None:
        pass

    def on_enter_key(self) -> None:
        pass

    def on_action(self, action: str) -> None:
        pass

    def on_scan(self, code: str) -> None:
        pass

    def on_keypad(self, key: str) -> None:
        """The on-screen keypad: digits type, C clears, OK is Enter."""
        if key == "OK":
            self.on_enter_key()
        elif key == "C":
            self.on_clear()
        else:
            self.on_text(key)

    def on_clear(self) -> None:
        pass


class PosScreen(KeyHooks, Screen):
    """Common handling: messages, the key labels, and the hooks the key router calls."""

    message = StringProperty("")
    message_is_error = BooleanProperty(False)

    def __init__(self, service: PosService, router, **kwargs) -> None:
        self.service = service
        self.router = router
        super().__init__(**kwargs)

    def key_label(self, action: str) -> str:
        return self.router.keymap.label(action)

    def say(self, text: str, *, error: bool = False) -> None:
        self.message, self.message_is_error = text, error

    def refuse(self, exc: PosError) -> None:
        self.say(exc.translated(_), error=True)

    def go(self, name: str) -> None:
        self.manager.current = name

    def on_scan(self, code: str) -> None:
        self.say(_("Sign in first"), error=True)


class SignInScreen(PosScreen):
    store_name = StringProperty("")
    security_warning = StringProperty("")
    operator = StringProperty("")
    pin = StringProperty("")
    step = StringProperty("operator")

    def on_kv_post(self, base_widget) -> None:
        self.store_name = self.service.settings.store.name
        warning = self.service.key_protection_warning()
        self.security_warning = _(warning) if warning else ""
        self.ids.keypad.bind(on_key=lambda _k, key: self.on_keypad(key))
        for cashier in self.service.cashiers()[:8]:
            button = PosButton(
                text=f"{cashier.id}  {cashier.name}", size_hint=(None, None), width="150dp"
            )
            button.height = button.size_hint_min_y
            button.bind(on_release=lambda _b, c=cashier: self.choose(str(c.id)))
            self.ids.cashiers.add_widget(button)

    def on_pre_enter(self) -> None:
        self.operator = self.pin = ""
        self.step = "operator"

    def choose(self, operator: str) -> None:
        self.operator, self.pin, self.step = operator, "", "pin"
        self.say("")

    def on_text(self, text: str) -> None:
        digits = "".join(ch for ch in text if ch.isdigit())
        if self.step == "operator":
            self.operator = (self.operator + digits)[:6]
        else:
            self.pin = (self.pin + digits)[:8]

    def on_backspace(self) -> None:
        if self.step == "pin":
            self.pin = self.pin[:-1]
        else:
            self.operator = self.operator[:-1]

    def on_clear(self) -> None:
        self.on_pre_enter()

    def on_action(self, action: str) -> None:
        if action == "back":
            self.on_clear()
            self.say("")

    def on_enter_key(self) -> None:
        if self.step == "operator":
            if self.operator:
                self.step = "pin"
            return
        try:
            cashier = self.service.sign_in(self.operator, self.pin)
        except PosError as exc:
            self.pin, self.step = "", "pin"
            self.refuse(exc)
            return
        self.say("")
        self.router.signed_in(cashier)


HEALTH_TEXTS = {
    "paper-out": N_("Printer: paper out"),
    "paper-near-end": N_("Printer: paper running out"),
    "cover-open": N_("Printer: cover open"),
    "printer-offline": N_("Printer: offline"),
    "printer-error": N_("Printer: error"),
    "card-offline": N_("Card terminal: not reachable"),
    "scanner-missing": N_("Scanner: not connected"),
    "scanner-offline": N_("Scanner: check failed"),
    "keypad-missing": N_("Keypad: not connected"),
    "keypad-offline": N_("Keypad: check failed"),
    "drawer-open-too-long": N_("Drawer: open too long"),
}


class SaleScreen(PosScreen):
    health_text = StringProperty("")
    customer_text = StringProperty("")
    store_name = StringProperty("")
    cashier_name = StringProperty("")
    entry = StringProperty("")
    last_name = StringProperty("")
    last_amount = StringProperty("")
    change_text = StringProperty("")
    total_text = StringProperty("")
    count_text = StringProperty("")
    selected = NumericProperty(-1)

    def on_kv_post(self, base_widget) -> None:
        self.store_name = self.service.settings.store.name
        warning = self.service.key_protection_warning()
        self.security_warning = _(warning) if warning else ""
        self.ids.keypad.bind(on_key=lambda _k, key: self.on_keypad(key))

    def on_pre_enter(self) -> None:
        cashier = self.service.cashier
        self.cashier_name = _("Cashier: {name}").format(name=cashier.name) if cashier else ""
        self.show_customer()
        self.refresh()
        unsettled = self.service.unsettled_card_payments()
        if unsettled and self.service.cart.is_empty and not self.message:
            self.say(
                _(
                    "Card payment without a sale: {which}. Check the card terminal's "
                    "printout; a supervisor reverses it"
                ).format(which=", ".join(unsettled[:2])),
                error=True,
            )

    def money(self, amount: int) -> str:
        return self.service.currency.format(amount)

    def refresh(self) -> None:
        """Redraw the cart from the service's state."""
        cart = self.service.cart
        grid = self.ids.lines
        grid.clear_widgets()
        if self.selected >= len(cart.lines):
            self.selected = len(cart.lines) - 1
        sep = self.service.currency.decimal_sep
        for i, line in enumerate(cart.lines):
            qty = format_quantity(line.quantity, line.product.sold_by_weight, sep)
            detail = f"{qty} x {self.money(line.unit_price)}"
            if line.savings:
                detail += "  -" + self.money(line.savings)
            row = CartRow(
                self.select,
                name=line.product.name,
                detail=detail,
                amount=self.money(line.amount),
                index=i,
                selected=i == self.selected,
            )
            grid.add_widget(row)
        self.total_text = _("Total") + "  " + self.money(cart.total)
        count = len(cart.lines)
        self.count_text = ngettext("{n} line", "{n} lines", count).format(n=count)
        if self.selected >= 0 and grid.children:
            Clock.schedule_once(lambda _dt: self._scroll_to_selected(), 0)

    def _scroll_to_selected(self) -> None:
        rows = list(reversed(self.ids.lines.children))
        if self.ids.lines.height <= self.ids.scroll.height:
            self.ids.scroll.scroll_y = 1  # everything fits: keep the first line at the top
        elif 0 <= self.selected < len(rows):
            self.ids.scroll.scroll_to(rows[self.selected], padding=4, animate=False)

    def select(self, index: int) -> None:
        self.selected = index
        self.refresh()

    def show_change(self, change: int, label: str, print_error: str | None) -> None:
        self.selected = -1
        self.change_text = self.money(change)
        self.last_name = _("Change for {label}").format(label=label)
        self.last_amount = self.change_text
        if print_error:
            self.say(
                _("Receipt not printed ({reason}); the sale is saved. {key}: print it").format(
                    reason=print_error, key=self.key_label("resume_printing")
                ),
                error=True,
            )
        else:
            self.say(_("Receipt printed"))

    # -- input -----------------------------------------------------------------------------
    def on_text(self, text: str) -> None:
        self.entry = (self.entry + text)[:40]

    def on_backspace(self) -> None:
        self.entry = self.entry[:-1]

    def on_clear(self) -> None:
        self.entry = ""

    def on_enter_key(self) -> None:
        code, self.entry = self.entry.strip(), ""
        if code:
            self.on_scan(code)

    def on_scan(self, code: str) -> None:
        try:
            line = self.service.scan(code)
        except UnknownCode as exc:
            member = self.service.customers.find_member(code)  # a member card, scanned
            if member is None:
                self.refuse(exc)
                return
            self.service.customers.attach(member)
            self.show_customer()
            self.refresh()
            self.say(_("Customer {name}").format(name=member.name))
            return
        except PosError as exc:
            self.refuse(exc)
            return
        self.change_text = ""
        self.selected = len(self.service.cart.lines) - 1
        self.last_name = line.product.name
        self.last_amount = self.money(line.amount)
        self.say("")
        self.refresh()

    def add_product(self, product) -> None:
        self.on_scan(product.sku)

    def on_action(self, action: str) -> None:
        handler = getattr(self, f"_do_{action}", None)
        if handler:
            handler()

    def _do_line_up(self) -> None:
        if self.service.cart.lines:
            self.select(max(0, self.selected - 1))

    def _do_line_down(self) -> None:
        if self.service.cart.lines:
            self.select(min(len(self.service.cart.lines) - 1, self.selected + 1))

    def _current_index(self) -> int | None:
        if not self.service.cart.lines:
            self.say(_("The sale is empty"), error=True)
            return None
        return self.selected if self.selected >= 0 else len(self.service.cart.lines) - 1

    def _do_quantity(self) -> None:
        index = self._current_index()
        if index is None:
            return
        if not self.entry:
            self.say(_("Type the quantity first, then press Qty"), error=True)
            return
        text, self.entry = self.entry, ""

        def done(line) -> None:
            self.last_name, self.last_amount = line.product.name, self.money(line.amount)
            self.say("")
            self.refresh()

        self.router.with_approval(
            lambda approval: self.service.set_quantity(index, text, approval), done
        )

    def _do_remove_line(self) -> None:
        """Void the selected line: choose the reason, then the approval if it is late."""
        from terminal.ui.panels import ChoicePanel  # noqa: PLC0415 - panels import this module

        index = self._current_index()
        if index is None:
            return
        line = self.service.cart.lines[index]
        options = [(key, _(text)) for key, text in VOID_REASONS.items()]
        ChoicePanel(
            self.router,
            _("Void {name}: why?").format(name=line.product.name),
            options,
            lambda reason: self.router.with_approval(
                lambda approval: self.service.void_line(index, reason, approval), self._voided
            ),
        ).show()

    def _voided(self, line) -> None:
        self.say(_("Voided: {name}").format(name=line.product.name))
        self.last_name = self.last_amount = ""
        self.selected = min(self.selected, len(self.service.cart.lines) - 1)
        self.refresh()

    def _do_cancel_sale(self) -> None:
        from terminal.ui.panels import ChoicePanel  # noqa: PLC0415

        if self.service.cart.is_empty:
            self.say(_("The sale is empty"), error=True)
            return
        options = [(key, _(text)) for key, text in VOID_REASONS.items()]

        def cancelled(count: int) -> None:
            self.change_text = self.last_name = self.last_amount = ""
            self.selected = -1
            self.say(
                ngettext(
                    "Order cancelled: {n} line, nothing charged",
                    "Order cancelled: {n} lines, nothing charged",
                    count,
                ).format(n=count)
            )
            self.refresh()

        ChoicePanel(
            self.router,
            _("Cancel the whole order? Choose the reason"),
            options,
            lambda reason: self.router.with_approval(
                lambda approval: self.service.cancel_sale(reason, approval), cancelled
            ),
        ).show()

    def _do_discount(self) -> None:
        """The typed value (10% or an amount) off the selected line or the whole sale."""
        from terminal.ui.panels import ChoicePanel  # noqa: PLC0415

        if self.service.cart.is_empty:
            self.say(_("The sale is empty"), error=True)
            return
        text, self.entry = self.entry.strip(), ""
        if not text:
            self.say(_("Type the discount (10% or an amount), then press Discount"), error=True)
            return
        try:
            kind, value = parse_discount(text, self.service.currency)
        except PosError as exc:
            self.refuse(exc)
            return
        index = self._current_index()

        def given(off: int) -> None:
            self.say(_("Discount {amount} given").format(amount=self.money(off)))
            self.refresh()

        def with_reason(scope: str, reason: str) -> None:
            try:
                discount = Discount(kind, value, reason)
            except PosError as exc:
                self.refuse(exc)
                return
            target = index if scope == "line" else None
            self.router.with_approval(
                lambda approval: self.service.discount(discount, target, approval), given
            )

        def with_scope(scope: str) -> None:
            ChoicePanel(
                self.router,
                _("Reason for the discount"),
                [(key, _(label)) for key, label in DISCOUNT_REASONS.items()],
                lambda reason: with_reason(scope, reason),
            ).show()

        name = self.service.cart.lines[index].product.name
        ChoicePanel(
            self.router,
            _("Discount {value} on").format(value=text),
            [("line", _("This line: {name}").format(name=name)), ("sale", _("The whole sale"))],
            with_scope,
        ).show()

    def _do_customer(self) -> None:
        from terminal.ui.customer_menu import open_customer_menu  # noqa: PLC0415

        text, self.entry = self.entry.strip(), ""
        open_customer_menu(self, text)

    def show_customer(self) -> None:
        customer = self.service.customer
        self.customer_text = (
            _("{name}: {points} points").format(
                name=customer.name, points=self.service.customer_points
            )
            if customer
            else ""
        )

    def ask_opening_float(self) -> None:
        """No shift is open: the first thing is to count the opening float."""
        from terminal.ui.panels import EntryPanel  # noqa: PLC0415

        def open_with(text: str) -> str | None:
            amount = self.service.currency.parse(text or "0")
            shift = self.service.shifts.open(amount)
            self.say(
                _("Shift {n} open, float {amount}").format(n=shift.id, amount=self.money(amount))
            )
            return None

        EntryPanel(
            self.router,
            _("Open the shift: count the opening float"),
            open_with,
            hint=self.money(0),
        ).show()

    def _do_shift(self) -> None:
        from terminal.ui.shift_menu import open_shift_menu  # noqa: PLC0415

        open_shift_menu(self)

    def _do_refund(self) -> None:
        if not self.service.cart.is_empty:
            self.say(_("Finish the sale before a refund"), error=True)
            return
        self.go("refund")

    def _do_more(self) -> None:
        from terminal.ui.panels import ChoicePanel  # noqa: PLC0415

        actions = [
            ("discount", _("Discount")),
            ("cancel_sale", _("Cancel order")),
            ("customer", _("Customer")),
            ("refund", _("Refund")),
            ("shift", _("Shift and reports")),
            ("resume_printing", _("Print waiting receipts")),
            ("reprint", _("Reprint a receipt")),
            ("passkeys", _("Passkeys (supervisor)")),
            ("unsettled", _("Card payments without a sale")),
        ]
        labelled = [
            (a, f"{label}  ({self.key_label(a)})" if self.key_label(a) else label)
            for a, label in actions
        ]
        ChoicePanel(self.router, _("More"), labelled, self.on_action).show()

    def _do_passkeys(self) -> None:
        from terminal.ui.settings_menu import open_passkey_settings  # noqa: PLC0415

        open_passkey_settings(self)

    def _do_unsettled(self) -> None:
        from terminal.ui.panels import ChoicePanel  # noqa: PLC0415

        unsettled = self.service.unsettled_card_payments()
        if not unsettled:
            self.say(_("Every card payment belongs to a sale"))
            return

        def resolve(payment_id: str, went_through: bool | None) -> None:
            self.router.with_approval(
                lambda approval: self.service.resolve_unsettled(payment_id, approval, went_through),
                lambda done: self.say(
                    _("Card payment {id}: {done}").format(id=payment_id, done=done)
                ),
            )

        def settle(label: str) -> None:
            payment_id = label.split(" ", 1)[0]
            if payment_id.startswith("refund:") and not label.endswith(", paid)"):
                ChoicePanel(
                    self.router,
                    _("Did the card refund go through? Check the printout"),
                    [("yes", _("Yes: record the refund")), ("no", _("No: nothing was refunded"))],
                    lambda key: resolve(payment_id, key == "yes"),
                ).show()
                return
            resolve(payment_id, None)

        ChoicePanel(
            self.router, _("Card payments without a sale"), [(u, u) for u in unsettled[:8]], settle
        ).show()

    def _do_reprint(self) -> None:
        """Scan the receipt's return code (or type its number): it prints again, COPY n."""
        from terminal.ui.panels import EntryPanel  # noqa: PLC0415

        def reprint(text: str) -> str | None:
            sale = self.service.refunds.find(text)
            copy, error = self.service.refunds.reprint(sale.id)
            if error:
                self.say(
                    _("Copy {n} of {label} not printed: {reason}").format(
                        n=copy, label=sale.label, reason=error
                    ),
                    error=True,
                )
            else:
                self.say(_("Copy {n} of {label} printed").format(n=copy, label=sale.label))
            return None

        EntryPanel(
            self.router,
            _("Reprint: scan the return code or type the number"),
            reprint,
            letters=True,
            accept_scans=True,
        ).show()

    def _do_pay_card(self) -> None:
        self._do_pay_cash()
        if self.manager.current == "payment":
            self.manager.get_screen("payment").pay_card()

    def _do_search(self) -> None:
        self.go("search")

    def _do_pay_cash(self) -> None:
        try:
            self.service.check_payable()
        except PosError as exc:
            self.refuse(exc)
            return
        self.entry = ""
        self.go("payment")

    def _do_sign_out(self) -> None:
        try:
            self.router.sign_out()
        except PosError as exc:
            self.refuse(exc)

    def _do_back(self) -> None:
        self.entry = ""
        self.say("")

    def show_health(self, events: list[str]) -> None:
        self.health_text = "  ".join(_(HEALTH_TEXTS.get(e, e)) for e in events)

    def _do_resume_printing(self) -> None:
        printed, error = self.service.resume_printing()
        if error:
            self.say(
                _("{n} receipt(s) printed; the printer still says: {reason}").format(
                    n=printed, reason=error
                ),
                error=True,
            )
        else:
            self.say(_("{n} receipt(s) printed").format(n=printed))


class PaymentScreen(PosScreen):
    member_points = NumericProperty(-1)  # the customer's points, -1: no member
    card_busy = BooleanProperty(False)
    card_status = StringProperty("")
    due_text = StringProperty("")
    due_detail = StringProperty("")
    tendered_text = StringProperty("")
    change_text = StringProperty("")
    typed = StringProperty("")

    def on_kv_post(self, base_widget) -> None:
        self.ids.keypad.bind(on_key=lambda _k, key: self.on_keypad(key))

    def on_pre_enter(self) -> None:
        pos = self.service
        cur = pos.currency
        spent = sum(t.points for t in pos.tenders)
        self.member_points = pos.customer_points - spent if pos.customer else -1
        payable = pos.cash_payable()
        self.typed = ""
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
            self.tendered_text, self.change_text = value, ""
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
        from terminal.ui.panels import ChoicePanel  # noqa: PLC0415

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
        self.card_status = _("Card: follow the card terminal")
        self.say(_("Sent to the card terminal"))

        def status(_code: int, text: str) -> None:
            Clock.schedule_once(lambda _dt: setattr(self, "card_status", _(text)), 0)

        def run() -> None:
            try:
                outcome, error = self.service.pay_card(amount, on_status=status), None
            except PosError as exc:
                outcome, error = None, exc
            except Exception as exc:  # a fault must not leave the screen waiting
                log.exception("card payment failed")
                outcome, error = (
                    None,
                    PosError(N_("Card payment failed: {reason}"), reason=str(exc)),
                )
            Clock.schedule_once(lambda _dt: self._card_done(outcome, error), 0)

        threading.Thread(target=run, name="card-payment", daemon=True).start()

    def _card_done(self, outcome, error) -> None:
        self.card_busy = False
        self.card_status = ""
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
        if self.card_busy:
            return
        try:
            outcome = self.service.pay_cash(tendered)
        except PosError as exc:
            self.refuse(exc)
            return
        self.router.sale_done(outcome)


class SearchScreen(PosScreen):
    query = StringProperty("")
    selected = NumericProperty(0)

    def on_kv_post(self, base_widget) -> None:
        for char in "1234567890QWERTYUIOPASDFGHJKL-ZXCVBNM ":
            label = _("Space") if char == " " else char
            button = PosButton(text=label, font_size="15sp")
            button.bind(on_release=lambda _b, c=char: self.on_text(c.lower()))
            self.ids.letters.add_widget(button)
        back = PosButton(text="\u232b", font_size="18sp", font_name="data/fonts/DejaVuSans.ttf")
        back.bind(on_release=lambda _b: self.on_backspace())
        self.ids.letters.add_widget(back)

    def on_pre_enter(self) -> None:
        self.query = ""
        self.say("")
        self.show([])

    def on_query(self, _inst, value: str) -> None:
        self.selected = 0
        self.show(self.service.search(value))

    def show(self, products) -> None:
        self.results = products
        grid = self.ids.results
        grid.clear_widgets()
        for i, product in enumerate(products):
            button = PosButton(
                text=f"{product.name}\n{self.service.currency.format(product.price)}",
                font_size="14sp",
                background_color=(0.2, 0.4, 0.6, 1)
                if i == self.selected
                else (0.26, 0.31, 0.38, 1),
            )
            button.bind(on_release=lambda _b, p=product: self.pick(p))
            grid.add_widget(button)

    def on_text(self, text: str) -> None:
        self.query = (self.query + text)[:30]

    def on_backspace(self) -> None:
        self.query = self.query[:-1]

    def on_enter_key(self) -> None:
        if self.results:
            self.pick(self.results[self.selected])
        else:
            self.say(_("Nothing found"), error=True)

    def on_action(self, action: str) -> None:
        if action == "back":
            self.go("sale")
        elif action in ("line_up", "line_down") and self.results:
            step = -1 if action == "line_up" else 1
            self.selected = max(0, min(len(self.results) - 1, self.selected + step))
            self.show(self.results)

    def on_scan(self, code: str) -> None:
        self.go("sale")
        self.manager.get_screen("sale").on_scan(code)

    def pick(self, product) -> None:
        self.go("sale")
        self.manager.get_screen("sale").add_product(product)

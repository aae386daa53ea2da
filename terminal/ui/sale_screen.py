"""The sale screen: scan, quantities, voids, discounts, the customer, and the way to the
payment, the search, refunds and the shift menu."""

from __future__ import annotations

from kivy.clock import Clock
from kivy.metrics import dp
from kivy.properties import BooleanProperty, NumericProperty, StringProperty

from terminal.core.errors import N_, NoShiftOpen, PosError, UnknownCode
from terminal.core.pricing import DISCOUNT_REASONS, Discount, parse_discount
from terminal.core.summary import summarize_sale
from terminal.i18n import _, ngettext
from terminal.services.pos import VOID_REASONS
from terminal.services.receipt import format_quantity
from terminal.ui import fiscal_menu
from terminal.ui.customer_menu import CustomerMenu
from terminal.ui.online_orders_menu import OnlineOrdersMenu
from terminal.ui.panels import ChoicePanel, EntryPanel, PanelAsker
from terminal.ui.receiving_menu import ReceivingMenu, WriteOffMenu
from terminal.ui.settings_menu import PasskeySettings
from terminal.ui.shift_menu import ShiftMenu
from terminal.ui.stocktake_menu import StockCountMenu
from terminal.ui.widgets import CartRow, PosButton, PosScreen, load_kv

load_kv(__file__)
WIDE_DP = 1000  # from this width (in dp) the favourites get a column of their own
FAVOURITES = 12

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
    "display-missing": N_("Customer display: not connected"),
    "display-offline": N_("Customer display: check failed"),
    "drawer-open-too-long": N_("Drawer: open too long"),
    "fiscal-pending": N_("e-barimt: receipts wait to be registered"),
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
    subtotal_text = StringProperty("")
    discount_text = StringProperty("")
    tax_text = StringProperty("")
    selected = NumericProperty(-1)
    wide = BooleanProperty(False)  # room for the favourites' buttons (a large display)

    def on_kv_post(self, base_widget) -> None:
        self.bind(width=lambda *_a: self._fit_width())
        self.store_name = self.service.settings.store.name
        warning = self.service.key_protection_warning()
        self.security_warning = _(warning) if warning else ""
        self.ids.keypad.bind(on_key=lambda _k, key: self.on_keypad(key))

    def on_pre_enter(self) -> None:
        cashier = self.service.cashier
        self.cashier_name = _("Cashier: {name}").format(name=cashier.name) if cashier else ""
        self.show_customer()
        self.refresh()
        self._fit_width()
        self.show_favourites()
        unsettled = self.service.unsettled_card_payments()
        if unsettled and self.service.cart.is_empty and not self.message:
            self.say(
                _(
                    "Card payment without a sale: {which}. Check the card terminal's "
                    "printout; a supervisor reverses it"
                ).format(which=", ".join(self.unsettled_text(u) for u in unsettled[:2])),
                error=True,
            )

    def _fit_width(self) -> None:
        self.wide = self.width >= dp(WIDE_DP)

    def on_wide(self, _inst, _wide: bool) -> None:
        self.show_favourites()

    def show_favourites(self) -> None:
        """On a display with the room, one-touch buttons for the best sellers."""
        grid = self.ids.favourites
        grid.clear_widgets()
        if not self.wide or self.service.cashier is None:
            return
        for product in self.service.favourites(FAVOURITES):
            button = PosButton(
                text=f"{product.name}\n[b]{self.money(product.price)}[/b]",
                markup=True,
                font_size="14sp",
                background_color=(0.22, 0.3, 0.4, 1),
            )
            button.bind(on_release=lambda _b, p=product: self.add_product(p))
            grid.add_widget(button)

    def money(self, amount: int) -> str:
        return self.service.currency.format(amount)

    def refresh(self) -> None:
        """Redraw the cart from the service's state."""
        cart = self.service.cart
        grid = self.ids.lines
        if self.selected >= len(cart.lines):
            self.selected = len(cart.lines) - 1
        sep = self.service.currency.decimal_sep
        # rows are kept and changed in place; only new lines get a new row (making rows is
        # what a scan costs: rebuilding them all made a long cart slow on a Pi)
        rows = list(reversed(grid.children))
        for row in rows[len(cart.lines) :]:
            grid.remove_widget(row)
        for i, line in enumerate(cart.lines):
            qty = format_quantity(line.quantity, line.product.sold_by_weight, sep)
            detail = f"{qty} x {self.money(line.unit_price)}"
            if line.savings:  # the saving on a line of its own: it is never cut off
                detail += "\n" + self.money(-line.savings)
            shown = {
                "name": line.product.name,
                "detail": detail,
                "amount": self.money(line.amount),
                "index": i,
                "selected": i == self.selected,
            }
            if i < len(rows):
                for prop, value in shown.items():
                    if getattr(rows[i], prop) != value:
                        setattr(rows[i], prop, value)
            else:
                grid.add_widget(CartRow(self.select, **shown))
        summary = summarize_sale(cart)
        self.total_text = _("Total") + "  " + self.money(summary.total)
        self.count_text = ngettext("{n} item", "{n} items", summary.items).format(n=summary.items)
        self.subtotal_text = _("Subtotal {amount}").format(amount=self.money(summary.subtotal))
        self.discount_text = (
            _("Discounts {amount}").format(amount=self.money(-summary.discounts))
            if summary.discounts
            else ""
        )
        tax = _("Tax incl. {amount}") if summary.tax_included else _("Tax {amount}")
        self.tax_text = tax.format(amount=self.money(summary.tax))
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
                _("Sale saved. Receipt not printed: {reason}. {key}: print it").format(
                    reason=_(print_error), key=self.key_label("resume_printing")
                ),
                error=True,
            )
        else:
            self.say(_("Receipt printed"))

    def show_refund(self, amount: int, title: str) -> None:
        """After a refund: the money handed back, large, in place of the last change."""
        self.selected = -1
        self.change_text = self.money(amount)
        self.last_name = title
        self.last_amount = self.change_text

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
        except NoShiftOpen as exc:  # the day was closed: the next shift's float first
            self.refuse(exc)
            self.ask_opening_float()
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
        text, self.entry = self.entry.strip(), ""
        CustomerMenu(self.service, self.asker(), on_customer=self._customer_changed).open(text)

    def _customer_changed(self) -> None:
        self.show_customer()
        self.refresh()

    def show_customer(self) -> None:
        customer = self.service.customer
        self.customer_text = (
            _("{name}: {points} points").format(
                name=customer.name, points=self.service.customer_points
            )
            if customer
            else ""
        )

    def asker(self) -> PanelAsker:
        """The menu flows ask with prompts over this screen, and say here what came of it."""
        return PanelAsker(self.router, self)

    def shift_menu(self) -> ShiftMenu:
        return ShiftMenu(
            self.service, self.asker(), on_closed=lambda: self.router.screenshot("shift-closed")
        )

    def ask_opening_float(self) -> None:
        """No shift is open: the first thing is to count the opening float."""
        self.shift_menu().open_shift()

    def _do_shift(self) -> None:
        self.shift_menu().open()

    def _do_refund(self) -> None:
        if not self.service.cart.is_empty:
            self.say(_("Finish the sale before a refund"), error=True)
            return
        self.go("refund")

    def _do_more(self) -> None:
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
            *fiscal_menu.menu_entries(self.service),
            *([("online_orders", _("Online orders"))] if self.service.online.enabled else []),
            ("receive_goods", _("Receive goods (supervisor)")),
            ("write_off", _("Damage or loss (supervisor)")),
            ("count_stock", _("Count stock (supervisor)")),
        ]
        labelled = [
            (a, f"{label}  ({self.key_label(a)})" if self.key_label(a) else label)
            for a, label in actions
        ]
        ChoicePanel(self.router, _("More"), labelled, self.on_action).show()

    def _do_receive_goods(self) -> None:
        ReceivingMenu(self.service, self.asker()).open()

    def _do_write_off(self) -> None:
        WriteOffMenu(self.service, self.asker()).open()

    def _do_count_stock(self) -> None:
        StockCountMenu(self.service, self.asker()).open()

    def _do_online_orders(self) -> None:
        """A CS desk's online orders; what was typed (or scanned) first is looked up."""
        if not self.service.online.enabled:
            self.say(_("This terminal takes no online orders"), error=True)
            return
        typed, self.entry = self.entry.strip(), ""
        OnlineOrdersMenu(
            self.service,
            self.asker(),
            run=lambda call, then, refuse: self.router.worker.run(call, then, refuse),
            on_sold=self._online_sold,
        ).open(typed)

    def _online_sold(self, outcome) -> None:
        """A booking sold: as after any sale, but what shows large is what the
        transfer paid, under the booking's number (no change is given)."""
        self.router.sale_done(outcome)
        tender = outcome.committed.sale.payment.tenders[0]
        self.last_name = _("Sold {order}, by transfer").format(order=tender.reference)
        self.last_amount = self.money(tender.amount)

    def _do_buyer_tin(self) -> None:
        fiscal_menu.FiscalMenu(self.service, self.asker()).buyer_tin()

    def _do_fiscal_pending(self) -> None:
        fiscal_menu.FiscalMenu(self.service, self.asker()).pending()

    def _do_passkeys(self) -> None:
        PasskeySettings(self.service, self.asker()).open()

    def _do_unsettled(self) -> None:
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

        by_id = {u.payment_id: u for u in unsettled}

        def settle(payment_id: str) -> None:
            if by_id[payment_id].needs_an_answer:
                ChoicePanel(
                    self.router,
                    _("Did the card refund go through? Check the printout"),
                    [("yes", _("Yes: record the refund")), ("no", _("No: nothing was refunded"))],
                    lambda key: resolve(payment_id, key == "yes"),
                ).show()
                return
            resolve(payment_id, None)

        ChoicePanel(
            self.router,
            _("Card payments without a sale"),
            [(u.payment_id, self.unsettled_text(u)) for u in unsettled[:8]],
            settle,
        ).show()

    def unsettled_text(self, unsettled) -> str:
        return f"{unsettled.payment_id} ({self.money(unsettled.amount)}, {unsettled.state})"

    def _do_reprint(self) -> None:
        """Scan the receipt's return code (or type its number): it prints again, COPY n."""

        def reprint(text: str) -> str | None:
            sale = self.service.refunds.find(text)
            copy, error = self.service.refunds.reprint(sale.id)
            if error:
                self.say(
                    _("Copy {n} of {label} not printed: {reason}").format(
                        n=copy, label=sale.label, reason=_(error)
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
            self.service.payment_begins()
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
        self.router.worker.run(self.service.resume_printing, self._printed, self.refuse)

    def _printed(self, result: tuple[int, str | None]) -> None:
        printed, error = result
        if error:
            self.say(
                _("{n} receipt(s) printed; the printer still says: {reason}").format(
                    n=printed, reason=_(error)
                ),
                error=True,
            )
        else:
            self.say(_("{n} receipt(s) printed").format(n=printed))

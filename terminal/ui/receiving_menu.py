"""Receiving goods and writing goods off at the till (issue 19), from the sale screen's
More menu: a supervisor types the supplier, then for each delivered item scans it, types
the quantity and the cost per unit; or chooses why goods leave the stock (damaged,
expired, lost...) and scans them with their quantity. Enter on an empty scan ends the
list, which is shown whole and journaled on confirmation. No Kivy here: the questions go
to an ``Asker``."""

from __future__ import annotations

from terminal.core.errors import N_, PosError
from terminal.core.inventory import (
    WRITE_OFF_REASONS,
    check_counted,
    check_received,
    parse_quantity,
    quantity_text,
)
from terminal.i18n import _
from terminal.services.pos import PosService
from terminal.services.receiving import ReceivedLine
from terminal.ui.asker import Asker


class _ScannedList:
    """A supervisor's list of scanned goods, each with its quantity: the questions both
    flows share. A flow says what it asks first (:meth:`start`), what follows a line's
    quantity (:meth:`quantity_taken`) and what is done with the list (:meth:`finish`)."""

    REFUSAL = ""  # said to a cashier who is not a supervisor
    SCAN = ""  # the scan's question, with the count so far ({n})
    SCAN_HINT = ""
    QUANTITY = N_("{name}: how many ({unit})?")
    ZERO = False  # whether 0 is a quantity (a count's empty shelf)

    def __init__(self, service: PosService, ask: Asker) -> None:
        self.service = service
        self.ask = ask
        self.count = 0  # lines taken so far

    def money(self, amount: int) -> str:
        return self.service.currency.format(amount)

    def open(self) -> None:
        cashier = self.service.cashier
        if cashier is None or not cashier.is_supervisor:
            self.ask.say(_(self.REFUSAL), error=True)
            return
        self.start()

    def start(self) -> None:
        raise NotImplementedError

    def quantity_taken(self, code: str, product, quantity: str) -> None:
        """A plain list (code, quantity, name): the next item (receiving asks more)."""
        self.lines.append((code, quantity, product.name))
        self.count = len(self.lines)
        self.next_item()

    def finish(self) -> None:
        raise NotImplementedError

    def next_item(self) -> None:
        def take(code: str) -> str | None:
            if not code.strip():
                self.ask.next(self.finish)
                return None
            product = self.product(code.strip())  # unknown: said
            self.ask.next(lambda: self._quantity(code.strip(), product))
            return None

        self.ask.enter(
            _(self.SCAN).format(n=self.count),
            take,
            letters=True,
            accept_scans=True,
            hint=_(self.SCAN_HINT),
        )

    def product(self, code: str):
        """The product a scanned code names (PosError, said, when it is not one to list)."""
        return self.service.catalogue.lookup(code).product

    def _quantity(self, code: str, product) -> None:
        def take(text: str) -> str | None:
            try:
                taken = (
                    check_counted(text)
                    if self.ZERO
                    else check_received(quantity_text(parse_quantity(text)), 0)
                )
                quantity = quantity_text(taken)
            except ValueError:
                return _("{text} is not a quantity").format(text=text)
            self.ask.next(lambda: self.quantity_taken(code, product, quantity))
            return None

        unit = _("kg") if product.sold_by_weight else _("pieces")
        self.ask.enter(_(self.QUANTITY).format(name=product.name, unit=unit), take)


class ReceivingMenu(_ScannedList):
    REFUSAL = N_("Receiving goods is a supervisor's")
    SCAN = N_("Scan the next delivered item ({n} so far)")
    SCAN_HINT = N_("Enter with nothing: the delivery is complete")

    def __init__(self, service: PosService, ask: Asker) -> None:
        super().__init__(service, ask)
        self.supplier = ""
        self.lines: list[tuple[ReceivedLine, str]] = []  # with the product's name

    def start(self) -> None:
        def take(text: str) -> str | None:
            self.supplier = text.strip()
            self.ask.next(self.next_item)
            return None

        self.ask.enter(_("Receive goods: the supplier"), take, letters=True, hint=_("Empty: none"))

    def quantity_taken(self, code: str, product, quantity: str) -> None:
        def take(text: str) -> str | None:
            cost = self.service.currency.parse(text)
            self.lines.append((ReceivedLine(code, quantity, cost), product.name))
            self.count = len(self.lines)
            self.ask.next(self.next_item)
            return None

        self.ask.enter(
            _("{name}: cost per unit").format(name=product.name),
            take,
            hint=self.money(0),
            money=True,
        )

    def finish(self) -> None:
        if not self.lines:
            self.ask.say(_("Nothing received"))
            return
        shown = [
            f"{name}  {line.quantity} x {self.money(line.unit_cost)}" for line, name in self.lines
        ]
        if self.supplier:
            shown.insert(0, _("Supplier: {name}").format(name=self.supplier))
        self.ask.show(_("Receive this delivery?"), shown, self._receive, action=_("Receive"))

    def _receive(self) -> None:
        try:
            done = self.service.receiving.receive(
                [line for line, _name in self.lines], supplier=self.supplier
            )
        except PosError as exc:
            self.ask.say(exc.translated(_), error=True)
            return
        self.ask.say(
            _("Delivery received: {lines} lines, {value} at cost").format(
                lines=done.lines, value=self.money(done.value)
            )
        )


class WriteOffMenu(_ScannedList):
    """Goods out of stock without a sale (More > Damage or loss): a supervisor chooses
    why, then scans each item and types how many."""

    REFUSAL = N_("Writing goods off is a supervisor's")
    SCAN = N_("Scan the next item ({n} so far)")
    SCAN_HINT = N_("Enter with nothing: the list is complete")

    def __init__(self, service: PosService, ask: Asker) -> None:
        super().__init__(service, ask)
        self.reason = ""
        self.lines: list[tuple[str, str, str]] = []  # code, quantity, name

    def start(self) -> None:
        def take(reason: str) -> None:
            self.reason = reason
            self.ask.next(self.next_item)

        self.ask.choose(
            _("Why do the goods leave the stock?"),
            [(key, _(label)) for key, label in WRITE_OFF_REASONS.items()],
            take,
        )

    def finish(self) -> None:
        if not self.lines:
            self.ask.say(_("Nothing written off"))
            return
        shown = [f"{name}  {quantity}" for _code, quantity, name in self.lines]
        self.ask.show(
            _("Write these off: {reason}?").format(reason=_(WRITE_OFF_REASONS[self.reason])),
            shown,
            self._write_off,
            action=_("Write off"),
        )

    def _write_off(self) -> None:
        try:
            self.service.receiving.write_off(
                [(code, quantity) for code, quantity, _name in self.lines], self.reason
            )
        except PosError as exc:
            self.ask.say(exc.translated(_), error=True)
            return
        self.ask.say(
            _("Written off ({reason}): {n} lines").format(
                reason=_(WRITE_OFF_REASONS[self.reason]), n=len(self.lines)
            )
        )

"""The online-orders mode of a CS desk (seed 001), from the sale screen's key or its More
menu: check stock for a chat customer, send a drop order to the warehouse, book the item
that came (the slip prints), find or cancel a booking by scanning its slip, sell a
booking whose transfer was matched, type the airway bill of a sold one, and see the
bookings released at their deadline.

Every call to the fleet goes through ``run`` (on the terminal: the window's worker, so a
fleet that does not answer never freezes the screen; in a test: at once). A booking
keeps one call id from the moment CS confirms it: a "Try again" after a lost answer sends
the same call, which the fleet answers with the same booking, never a second one. No
Kivy here: the questions go to an ``Asker``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from terminal.core import fleet_protocol as fp
from terminal.core.couriers import COURIERS, check_awb, courier_name
from terminal.core.errors import N_, PosError
from terminal.core.online_orders import check_address, check_phone, parse_order_number
from terminal.fleet.orders_client import OrdersUnavailable
from terminal.i18n import _
from terminal.services.pos import PosService
from terminal.ui.asker import Asker

Runner = Callable[[Callable[[], Any], Callable[[Any], None], Callable[[PosError], None]], None]

STATES = {
    "open": N_("waiting for the transfer"),
    "paid": N_("paid: ready to sell"),
    "sold": N_("sold"),
    "released": N_("released at its deadline"),
    "cancelled": N_("cancelled"),
}


def run_now(
    call: Callable[[], Any], then: Callable[[Any], None], refuse: Callable[[PosError], None]
) -> None:
    """A runner that calls at once (tests, and flows with nothing slow)."""
    try:
        result = call()
    except PosError as exc:
        refuse(exc)
        return
    then(result)


@dataclass
class BookingDraft:
    """What CS typed for a booking, kept while the questions go on."""

    code: str
    sku: str = ""
    name: str = ""
    phone: str = ""
    address: str = ""
    courier: str = ""
    call_id: str = ""


class OnlineOrdersMenu:
    """``on_sold(outcome)``: a booking's sale is done (the screen shows its change and
    the receipt's state, as after any sale)."""

    def __init__(
        self,
        service: PosService,
        ask: Asker,
        run: Runner = run_now,
        on_sold: Callable[[Any], None] | None = None,
    ) -> None:
        self.service = service
        self.online = service.online
        self.ask = ask
        self.run = run
        self.on_sold = on_sold

    # -- helpers ----------------------------------------------------------------------------
    def money(self, amount: int) -> str:
        return self.service.currency.format(amount)

    def refuse(self, exc: PosError) -> None:
        self.ask.say(exc.translated(_), error=True)

    def call(self, call: Callable[[], Any], then: Callable[[Any], None]) -> None:
        self.run(call, then, self.refuse)

    def when(self, deadline: str) -> str:
        tz = self.service.settings.store.timezone
        return datetime.fromisoformat(deadline).astimezone(tz).strftime("%d-%m-%Y %H:%M")

    def item_name(self, sku: str) -> str:
        try:
            return self.service.catalogue.get(sku).name
        except KeyError:
            return sku

    def booking_lines(self, b: fp.BookingInfo) -> list[str]:
        lines = [
            _("Booking {order}: {state}").format(
                order=b.order, state=_(STATES.get(b.state, b.state))
            ),
            f"{b.sku}  {self.item_name(b.sku)}",
            _("Transfer exactly {due} by {deadline}").format(
                due=self.money(b.due), deadline=self.when(b.deadline)
            ),
        ]
        if b.name:
            lines.append(_("Customer: {name}").format(name=b.name))
        if b.phone:
            lines.append(_("Phone: {phone}").format(phone=b.phone))
        if b.address:
            lines.append(_("Address: {address}").format(address=b.address))
        if b.courier:
            awb = b.awb or _("airway bill not known yet")
            lines.append(
                _("Courier: {courier}, {awb}").format(courier=courier_name(b.courier), awb=awb)
            )
        return lines

    # -- the menu ---------------------------------------------------------------------------
    def open(self, typed: str = "") -> None:
        """``typed``: what was typed before the key: a booking's number opens the
        booking, anything else is an item whose stock is shown. Else the menu, whose
        options are picked by their number (a desk works from the keyboard)."""
        if typed:
            self.scanned(typed)
            return
        actions: dict[str, Callable[[], None]] = {
            "stock": lambda: self.ask.next(self.stock_prompt),
            "book": lambda: self.ask.next(self.book_prompt),
            "find": lambda: self.ask.next(self.slip_prompt),
            "sell": self.paid,
            "awb": self.waiting_for_awb,
            "released": self.released,
        }
        self.ask.choose(
            _("Online orders"),
            [
                ("stock", _("Check stock (and drop order)")),
                ("book", _("Book an item for a customer")),
                ("find", _("Find or cancel a booking (scan the slip)")),
                ("sell", _("Paid bookings: sell")),
                ("awb", _("Sold, waiting for the airway bill")),
                ("released", _("Released at the deadline")),
            ],
            lambda key: actions[key](),
        )

    def scanned(self, text: str) -> None:
        text = text.strip()
        try:
            parse_order_number(text)
        except PosError:
            self.ask.next(lambda: self._stock_of(text))
        else:
            self.ask.next(lambda: self.find(text))

    # -- stock and drop orders ----------------------------------------------------------------
    def stock_prompt(self) -> None:
        def take(code: str) -> str | None:
            self.online.product(code)  # an unknown code: said here, the question stays
            self.ask.next(lambda: self._stock_of(code))
            return None

        self.ask.enter(_("Item: scan it or type its code"), take, letters=True, accept_scans=True)

    def _stock_of(self, code: str) -> None:
        def shown(result) -> None:
            product, levels = result
            lines = [
                _("{location}: {available} available, {booked} booked, {unavailable} out").format(
                    location=level.location,
                    available=level.available,
                    booked=level.booked,
                    unavailable=level.unavailable,
                )
                for level in levels
            ] or [_("No stock anywhere")]
            self.ask.show(
                f"{product.sku}  {product.name}  {self.money(product.price)}",
                lines,
                lambda: self.drop(product.sku),
                action=_("Drop order to the warehouse"),
            )

        self.call(lambda: self.online.stock(code), shown)

    def drop(self, code: str) -> None:
        self.call(
            lambda: self.online.drop(code),
            lambda number: self.ask.say(
                _("Drop order {number} sent to the warehouse").format(number=number)
            ),
        )

    # -- booking ----------------------------------------------------------------------------
    def book_prompt(self) -> None:
        def take(code: str) -> str | None:
            product = self.online.product(code)
            draft = BookingDraft(code=code.strip(), sku=product.sku)
            self.ask.next(lambda: self._ask_name(draft))
            return None

        self.ask.enter(_("Book: scan the item you received"), take, letters=True, accept_scans=True)

    def _ask_name(self, draft: BookingDraft) -> None:
        def take(text: str) -> str | None:
            if not text.strip():
                return _("The customer's name, please")
            draft.name = text.strip()
            self.ask.next(lambda: self._ask_phone(draft))
            return None

        self.ask.enter(_("Customer's name"), take, letters=True)

    def _ask_phone(self, draft: BookingDraft) -> None:
        def take(text: str) -> str | None:
            draft.phone = check_phone(text)  # a wrong one: said here, the question stays
            self.ask.next(lambda: self._ask_address(draft))
            return None

        self.ask.enter(_("Customer's phone (WhatsApp)"), take, hint=_("Empty: none"))

    def _ask_address(self, draft: BookingDraft) -> None:
        def take(text: str) -> str | None:
            draft.address = check_address(text)
            self.ask.next(lambda: self._ask_courier(draft))
            return None

        self.ask.enter(_("Shipping address"), take, letters=True, max_length=400)

    def _ask_courier(self, draft: BookingDraft) -> None:
        def take(key: str) -> None:
            draft.courier = "" if key == "-" else key
            self.ask.next(lambda: self._confirm_booking(draft))

        self.ask.choose(
            _("Courier"),
            [(key, c.name) for key, c in COURIERS.items()] + [("-", _("Decide later"))],
            take,
        )

    def _confirm_booking(self, draft: BookingDraft) -> None:
        lines = [
            f"{draft.sku}  {self.item_name(draft.sku)}",
            draft.name,
            draft.phone or "-",
            draft.address,
            courier_name(draft.courier) if draft.courier else _("Courier: decide later"),
        ]
        self.ask.show(
            _("Book this item?"), lines, lambda: self._book(draft), action=_("Book and print")
        )

    def _book(self, draft: BookingDraft) -> None:
        draft.call_id = draft.call_id or uuid.uuid4().hex  # kept for a retry: never twice

        def booked(result) -> None:
            booking = result.booking
            lines = self.booking_lines(booking)
            if result.print_error:
                lines.append(_("Slip not printed: {reason}").format(reason=_(result.print_error)))
            self.ask.show(
                _("Booked {order}: stick the slip on the item").format(order=booking.order),
                lines,
                lambda: None,
                action=_("Done"),
            )

        def refused(exc: PosError) -> None:
            if isinstance(exc, OrdersUnavailable):  # the answer may be lost: same call again
                self.ask.show(
                    exc.translated(_),
                    [_("Nothing is booked twice: Try again sends the same booking")],
                    lambda: self._book(draft),
                    action=_("Try again"),
                )
                return
            self.refuse(exc)

        self.run(
            lambda: self.online.book(
                draft.code,
                draft.name,
                draft.phone,
                draft.address,
                courier=draft.courier,
                call_id=draft.call_id,
            ),
            booked,
            refused,
        )

    # -- a booking by its slip ----------------------------------------------------------------
    def slip_prompt(self) -> None:
        def take(text: str) -> str | None:
            parse_order_number(text)  # a misread slip: said here
            self.ask.next(lambda: self.find(text))
            return None

        self.ask.enter(
            _("Scan the booking slip, or type its number"), take, letters=True, accept_scans=True
        )

    def find(self, text: str) -> None:
        def shown(booking: fp.BookingInfo) -> None:
            lines = self.booking_lines(booking)
            if booking.state == "open":
                self.ask.show(
                    _("Booking {order}").format(order=booking.order),
                    lines,
                    lambda: self.cancel(booking.order),
                    action=_("Cancel the booking"),
                )
            elif booking.state == "paid":
                self.ask.show(
                    _("Booking {order}").format(order=booking.order),
                    lines,
                    lambda: self.sell(booking.order),
                    action=_("Sell"),
                )
            else:
                self.ask.show(
                    _("Booking {order}").format(order=booking.order),
                    lines,
                    lambda: None,
                    action=_("Done"),
                )

        self.call(lambda: self.online.find(text), shown)

    def cancel(self, order: str) -> None:
        self.call(
            lambda: self.online.cancel(order),
            lambda b: self.ask.say(
                _("Booking {order} cancelled: {sku} is available again").format(
                    order=b.order, sku=b.sku
                )
            ),
        )

    # -- selling a paid booking ----------------------------------------------------------------
    def paid(self) -> None:
        def listed(bookings: list[fp.BookingInfo]) -> None:
            if not bookings:
                self.ask.say(_("No paid booking waits to be sold"))
                return
            self.ask.choose(
                _("Paid bookings: which one to sell?"),
                [(b.order, f"{b.order}  {b.name}  {self.money(b.due)}") for b in bookings[:12]],
                lambda order: self.ask.next(lambda: self.sell(order)),
            )

        self.call(self.online.paid, listed)

    def sell(self, order: str) -> None:
        def sold(outcome) -> None:
            if self.on_sold is not None:
                self.on_sold(outcome)
            else:
                self.ask.say(_("Booking {order} sold").format(order=order))

        self.call(lambda: self.online.sell(order), sold)

    # -- airway bills -------------------------------------------------------------------------
    def waiting_for_awb(self) -> None:
        def listed(bookings: list[fp.BookingInfo]) -> None:
            if not bookings:
                self.ask.say(_("Every sold booking has its airway bill"))
                return
            by_order = {b.order: b for b in bookings}
            self.ask.choose(
                _("Sold, waiting for the airway bill: type one"),
                [(b.order, self._awb_line(b)) for b in bookings[:12]],
                lambda order: self.ask.next(lambda: self._awb_courier(by_order[order])),
            )

        self.call(self.online.shipping, listed)

    def _awb_line(self, b: fp.BookingInfo) -> str:
        courier = courier_name(b.courier) if b.courier else _("no courier")
        why = f" ({b.awb_error})" if b.awb_error else ""
        return f"{b.order}  {b.name}  {courier}{why}"

    def _awb_courier(self, booking: fp.BookingInfo) -> None:
        if booking.courier:
            self._awb_number(booking, booking.courier)
            return
        self.ask.choose(
            _("Which courier took it?"),
            [(key, c.name) for key, c in COURIERS.items()],
            lambda key: self.ask.next(lambda: self._awb_number(booking, key)),
        )

    def _awb_number(self, booking: fp.BookingInfo, courier: str) -> None:
        def take(text: str) -> str | None:
            number = check_awb(courier, text)  # a wrong form: said here, the question stays
            self.ask.next(lambda: self._set_awb(booking.order, courier, number))
            return None

        self.ask.enter(
            _("{courier} airway bill of {order}").format(
                courier=courier_name(courier), order=booking.order
            ),
            take,
            letters=True,
            accept_scans=True,
            hint=COURIERS[courier].form,
        )

    def _set_awb(self, order: str, courier: str, number: str) -> None:
        self.call(
            lambda: self.online.awb(order, courier, number),
            lambda b: self.ask.say(
                _("Airway bill {awb} kept for {order}: tell the customer").format(
                    awb=b.awb, order=b.order
                )
            ),
        )

    # -- released ---------------------------------------------------------------------------
    def released(self) -> None:
        def listed(bookings: list[fp.BookingInfo]) -> None:
            lines = [
                f"{b.order}  {self.item_name(b.sku)}  {b.name}  {self.money(b.due)}"
                for b in bookings
            ] or [_("No booking was released in the last days")]
            self.ask.show(
                _("Released at the deadline (not paid in time)"),
                lines,
                lambda: None,
                action=_("Done"),
            )

        self.call(self.online.released, listed)

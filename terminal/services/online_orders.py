"""A CS desk's online orders (seed 001), at a terminal with its scanner and printer.

CS checks central stock for a chat customer, asks the warehouse for an item (a drop
order), books it on receiving it (scanned, with the customer's name, phone and address)
and sticks the printed **booking slip** on it: the booking's number as a barcode, the
time, the item's code and description, the customer, and the exact amount to ask for by
its deadline. A slip scanned back cancels the booking. Once the fleet matched the
customer's transfer and a person confirmed it, the booking is among the paid ones, and
only those can be sold here: an ordinary sale of this terminal (journaled, on the shift's
X and Z, to the fleet, fiscalised where the shop must) paid by the tender "bank
transfer", the booking's number its reference. The fleet takes the unit out of stock
when that sale's journal entry arrives.

The customer's data is shown and printed here and sealed centrally; of it the terminal
keeps only the slip in its (encrypted) print queue, and the sale names the booking only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from hal.printer.document import Document
from terminal.core import fleet_protocol as fp
from terminal.core.catalogue import Product, ScanResult
from terminal.core.couriers import check_awb, check_courier, courier_name
from terminal.core.errors import N_, NoShiftOpen, PosError
from terminal.core.online_orders import check_address, check_phone, parse_order_number
from terminal.core.tender import Tender
from terminal.fleet.orders_client import OrdersClient
from terminal.store.sales_read import sold_here


@dataclass(frozen=True)
class Booked:
    booking: fp.BookingInfo
    print_error: str | None  # why the slip did not print (a message id), or None


class OnlineOrders:
    def __init__(self, pos, client: OrdersClient | None = None) -> None:
        self.pos = pos
        settings = pos.settings
        self.enabled = settings.online_orders.enabled
        self.client = client
        if self.client is None and self.enabled:
            self.client = OrdersClient(
                settings.fleet,
                settings.terminal_id,
                timeout=settings.online_orders.timeout_seconds,
            )

    def _call(self, call_id: str = "", **fields) -> fp.OrderReply:
        """One call to the fleet. ``call_id``: the screen keeps one per action and sends
        it again with a retry, so a booking whose answer was lost is not made twice."""
        if not self.enabled or self.client is None:
            raise PosError(N_("This terminal takes no online orders"))
        self.pos.require_cashier()
        return self.client.call(fp.OrderRequest(**fields), call_id)

    def product(self, code: str) -> Product:
        """The item a code names (a scan, or a SKU typed)."""
        return self.pos.catalogue.lookup(code).product

    # -- CS's steps -----------------------------------------------------------------------
    def stock(self, code: str) -> tuple[Product, list[fp.StockLevel]]:
        product = self.product(code)
        return product, self._call(op="stock", sku=product.sku).stock

    def drop(self, code: str) -> int:
        """Ask the warehouse for the item: the drop order's number."""
        product = self.product(code)
        reply = self._call(op="drop", sku=product.sku)
        return reply.drop_order or 0

    def book(
        self,
        code: str,
        name: str,
        phone: str,
        address: str,
        drop_order: int | None = None,
        *,
        call_id: str = "",
        courier: str = "",
        service: str = "",
    ) -> Booked:
        """The scanned item booked for the customer, and its slip printed. ``courier``:
        the one the customer chose (:data:`terminal.core.couriers.COURIERS`; "": decided
        later, typed with the airway bill), ``service`` its service (REG, EZ...)."""
        name, address = name.strip(), address.strip()
        if not name or not address:
            raise PosError(N_("A booking needs the customer's name and address"))
        phone, address = check_phone(phone), check_address(address)
        courier = check_courier(courier)
        product = self.product(code)
        reply = self._call(
            call_id,
            op="book",
            sku=product.sku,
            price=product.price,
            name=name,
            phone=phone,
            address=address,
            drop_order=drop_order,
            courier=courier,
            service=service.strip().lower(),
        )
        booking = reply.booking
        assert booking is not None
        error = self.pos.printing.print_document(
            f"booking {booking.order}", self.slip(booking, product)
        )
        return Booked(booking, error)

    def find(self, scanned: str) -> fp.BookingInfo:
        parse_order_number(scanned)  # a misread slip: said here, nothing sent
        return self._call(op="find", order=scanned.strip().upper()).booking

    def cancel(self, scanned: str) -> fp.BookingInfo:
        """A slip scanned back: the booking cancelled, the item available again."""
        parse_order_number(scanned)
        return self._call(op="cancel", order=scanned.strip().upper()).booking

    def paid(self) -> list[fp.BookingInfo]:
        """The desk's bookings whose transfer was matched and confirmed: what can be sold."""
        return self._call(op="paid").bookings

    def awb(self, order: str, courier: str, number: str, *, call_id: str = "") -> fp.BookingInfo:
        """CS types the airway bill from the courier's slip for a sold booking: checked
        against the courier's format here (nothing sent when it does not fit) and at the
        fleet. ``courier`` "": the one chosen at the booking."""
        parse_order_number(order)
        courier = check_courier(courier)
        if courier:
            number = check_awb(courier, number)
        elif not number.strip():
            raise PosError(N_("Type the airway bill's number"))
        reply = self._call(
            call_id,
            op="awb",
            order=order.strip().upper(),
            courier=courier,
            awb=number.strip().upper(),
        )
        return reply.booking

    def released(self) -> list[fp.BookingInfo]:
        """The desk's bookings released at their deadline in the last days, newest first."""
        return self._call(op="released").bookings

    def shipping(self) -> list[fp.BookingInfo]:
        """The desk's sold bookings still without an airway bill: waiting for the
        courier's API, refused by it (``awb_error``), or for CS to type."""
        return self._call(op="shipping").bookings

    def sell(self, order: str):
        """Sell a paid booking: its item at the booked price, the unique code as a line of
        its own, paid by bank transfer with the booking as reference."""
        pos = self.pos
        if not pos.cart.is_empty:
            raise PosError(N_("Finish the sale on the screen first"))
        booking = next((b for b in self.paid() if b.order == order.strip().upper()), None)
        if booking is None:
            raise PosError(N_("Booking {order} is not among the paid ones"), order=order[:40])
        try:
            product = pos.catalogue.get(booking.sku)
        except KeyError:
            raise PosError(
                N_("{sku} is not in this terminal's catalogue"), sku=booking.sku
            ) from None
        pos.require_cashier()
        if pos.shift is None:
            raise NoShiftOpen()
        pos.fleet_jobs.check_sale()  # locked by the fleet: no new sale
        if sold_here(pos.db, booking.order):  # the fleet has not heard of that sale yet
            raise PosError(N_("Booking {order} is sold already"), order=booking.order)
        code = self._code_item(booking.code) if booking.code else None  # checked first
        try:
            pos.cart.add(ScanResult(product, amount=booking.price, from_label=True))
            if code is not None:
                pos.cart.add(ScanResult(code, amount=booking.code, from_label=True))
            if pos.cart.total != booking.due:
                raise PosError(N_("The booking's amount does not add up: call a supervisor"))
            pos.tenders = (Tender("bank_transfer", booking.due, reference=booking.order),)
            return pos.complete_paid()
        except Exception:
            # nothing of the booking stays on the screen to be paid another way
            pos.cart.clear()
            pos.tenders = ()
            raise

    def _code_item(self, code: int) -> Product:
        tax_class = self.pos.settings.online_orders.code_tax_class
        if tax_class not in self.pos.settings.tax_classes:
            raise PosError(N_("online_orders.code_tax_class is not a tax class here"))
        name = self.pos.receipt_gettext(N_("Transfer code"))
        return Product("TRANSFER-CODE", name, code, tax_class)

    # -- the booking slip -----------------------------------------------------------------
    def slip(self, booking: fp.BookingInfo, product: Product) -> Document:
        _ = self.pos.receipt_gettext
        store = self.pos.settings.store
        money = lambda amount: store.currency.format(amount, receipt=True)  # noqa: E731
        deadline = datetime.fromisoformat(booking.deadline).astimezone(store.timezone)
        doc = Document(columns=self.pos.printer.columns)
        doc.line(_("BOOKED"), align="center", bold=True, size="tall")
        doc.barcode(booking.order)  # (its text printed under it)
        doc.pair(
            _("Booked"), self.pos.clock().astimezone(store.timezone).strftime("%d-%m-%Y %H:%M")
        )
        doc.rule()
        doc.line(f"{product.sku}  {product.name}")
        doc.rule()
        doc.line(booking.name, bold=True)
        if booking.phone:
            doc.line(booking.phone)
        doc.paragraph(booking.address)
        if booking.courier:
            service = f" {booking.service.upper()}" if booking.service else ""
            doc.pair(_("Courier"), courier_name(booking.courier) + service)
        doc.rule()
        doc.pair(_("Transfer exactly"), money(booking.due), bold=True)
        doc.pair(_("Pay by"), deadline.strftime("%d-%m-%Y %H:%M"))
        doc.feed()
        return doc

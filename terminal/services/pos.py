"""The cashier's session: sign in, build the cart, take cash, commit, print, open the drawer."""

from __future__ import annotations

import dataclasses
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, timedelta
from typing import Any

from peewee import Database, DatabaseError

from hal.card.payments import DECLINED, NOT_CHARGED, PAID, CardPaymentDesk, PaymentState
from hal.drawer import CashDrawer
from hal.drawer.safety import DrawerCommands, DrawerMonitor
from hal.fiscal import FiscalService
from hal.printer import Printer
from terminal.config import Settings, ShopSettings, parse_products, parse_shop
from terminal.core import ebarimt
from terminal.core.approval import (
    DISCOUNTS,
    PAID_ORDERS,
    PASSKEY_MODE,
    UNPAID_ORDERS,
    Approval,
    check_approval,
)
from terminal.core.cart import Cart, CartLine, parse_quantity
from terminal.core.catalogue import Catalogue, Product, format_quantity
from terminal.core.clock import Clock, system_clock
from terminal.core.digits import is_digits
from terminal.core.errors import N_, ConfigError, NoShiftOpen, PosError
from terminal.core.pricing import Discount, Promotion
from terminal.core.sale import CommittedSale, sale_from_cart
from terminal.core.tender import (
    CardDetails,
    Payment,
    Tender,
    cash_payable,
    check_part_amount,
    finish_with_cash,
    finish_without_cash,
    quick_tenders,
    remaining,
)
from terminal.services.action_lines import log_action
from terminal.services.actions import ActionLog
from terminal.services.approvals import Approvals, Guard, operator_subject
from terminal.services.context import ServiceContext
from terminal.services.customer_desk import CustomerDesk
from terminal.services.device_watch import DeviceWatch
from terminal.services.events import EventStream
from terminal.services.fiscal import FiscalDesk
from terminal.services.fiscal_receipt import PENDING, FiscalBlock
from terminal.services.fleet_config import FleetConfig
from terminal.services.fleet_jobs import FleetJobs
from terminal.services.fleet_link import FleetLink
from terminal.services.key_protection import key_protection_warning
from terminal.services.online_orders import OnlineOrders
from terminal.services.printing import Printing
from terminal.services.receipt import build_receipt
from terminal.services.receiving import Receiving
from terminal.services.refunds import Refunds
from terminal.services.session import Session
from terminal.services.shifts import Shifts
from terminal.services.stocktake import StockCounting
from terminal.store import card_payments, shop_config
from terminal.store.cashiers import (
    Cashier,
    PinHasher,
    cashier_exists,
    check_pin,
    list_cashiers,
)
from terminal.store.catalogue_repo import load_catalogue, save_products
from terminal.store.central_staff import StaffChange, apply_staff, check_staff_change
from terminal.store.customers import Customer
from terminal.store.journal import Journal, JournalEntry
from terminal.store.promotions import load_promotions
from terminal.store.reports import best_sellers
from terminal.store.sales import commit_sale
from terminal.store.sealing import Sealer
from terminal.store.shifts import Shift

log = logging.getLogger(__name__)


class SignInError(PosError):
    pass


VOID_REASONS = {
    "mistake": N_("Scanned by mistake"),
    "changed_mind": N_("Customer changed mind"),
    "wrong_price": N_("Wrong price"),
    "damaged": N_("Damaged"),
}


@dataclass(frozen=True)
class SaleOutcome:
    committed: CommittedSale
    receipt_bytes: bytes | None
    print_error: str | None  # the sale is saved even when the receipt did not print

    @property
    def change(self) -> int:
        return self.committed.sale.payment.change


@dataclass(frozen=True)
class UnsettledPayment:
    payment_id: str
    kind: str  # payment | refund | reversal
    amount: int
    state: PaymentState

    @property
    def needs_an_answer(self) -> bool:
        """A card refund whose outcome the terminal could not say: a supervisor reads the
        printout and says whether it went through."""
        return self.kind == "refund" and self.state != PaymentState.PAID


@dataclass(frozen=True)
class PendingConfig:
    document: dict[str, Any]
    source: str
    shop: ShopSettings
    products: list[Product]
    details: dict[str, Any] = dataclasses.field(default_factory=dict)  # for the journal
    staff: StaffChange | None = None  # the fleet's cashiers and passkeys (hashed)


@dataclass(frozen=True)
class ShopConfigOutcome:
    applied: bool  # False: waiting for the open sale to end
    version: int | None


class PosService:
    def __init__(
        self,
        settings: Settings,
        db: Database,
        catalogue: Catalogue,
        printer: Printer,
        drawer: CashDrawer,
        journal: Journal,
        hasher: PinHasher,
        clock: Clock = system_clock,
        *,
        sealer: Sealer | None = None,
        card: CardPaymentDesk | None = None,
        promotions: tuple[Promotion, ...] = (),
        events: EventStream | None = None,
        fiscal: FiscalService | None = None,
    ) -> None:
        self.ctx = ServiceContext(
            settings, db, journal, clock, events or EventStream(), printer, card, sealer
        )
        self.session = Session(self.ctx)
        self.actions = ActionLog(self.ctx, self.session)
        self.printing = Printing(self.ctx)
        self.hasher = hasher
        self.catalogue = catalogue
        self.drawer = drawer  # (through the property below)
        self.promotions = promotions
        self.guard = Guard(lambda: self.ctx.settings, db, journal, clock)
        self.approvals = Approvals(lambda: self.ctx.settings, self.guard, hasher)
        # a shop configuration that arrived while a sale was open: applied when it ends
        self.pending_config: PendingConfig | None = None
        self.customer: Customer | None = None
        self.customer_points = 0
        self.tenders: tuple[Tender, ...] = ()  # card and points parts taken so far
        self.cart = self._new_cart()
        self.devices = None  # the terminal's Devices (bootstrap sets them): their health
        self.device_watch = DeviceWatch(self)  # started with the terminal
        self.fleet = FleetLink(self.ctx, self.session)  # the fleet agent: Send now, health
        self.fleet_config = FleetConfig(self)  # signed configuration the fleet pushed
        self.fleet_jobs = FleetJobs(self)  # jobs from the fleet: X report, lock, message
        self.damaged: str | None = None  # the database's damage, once found
        self.shifts = Shifts(
            self.ctx,
            self.session,
            self.actions,
            self.printing,
            self.approvals,
            sale_open=lambda: not self.cart.is_empty,
        )
        # receipts registered with the tax office (e-barimt), where the shop must
        self.fiscal = FiscalDesk(
            self.ctx, self.printing, fiscal or FiscalService(), self._product_of
        )
        self.fiscal.render_sale = self._render_receipt
        self.online = OnlineOrders(self)  # a CS desk's online orders, where switched on
        self.receiving = Receiving(self)  # goods delivered, scanned by a supervisor
        self.stocktake = StockCounting(self)  # the shelf counted for the fleet's count
        self.refunds = Refunds(self.ctx, self.session, self.actions, self.printing, self.approvals)
        self.refunds.fiscal = self.fiscal
        self.customers = CustomerDesk(
            self.ctx,
            self.session,
            self.actions,
            self.approvals,
            self.attach_customer,
            lambda: self.customer,
        )

    # -- the context, as the screens and the tests know it -------------------------------
    settings = property(
        lambda self: self.ctx.settings, lambda self, value: setattr(self.ctx, "settings", value)
    )
    db = property(lambda self: self.ctx.db)
    journal = property(lambda self: self.ctx.journal)
    clock = property(lambda self: self.ctx.clock)
    events = property(lambda self: self.ctx.events)
    printer = property(
        lambda self: self.ctx.printer, lambda self, p: setattr(self.ctx, "printer", p)
    )
    card = property(lambda self: self.ctx.card)
    sealer = property(lambda self: self.ctx.sealer)
    drawer_commands = property(lambda self: self.ctx.drawer_commands)
    checkpoint = property(
        lambda self: self.ctx.checkpoint, lambda self, fn: setattr(self.ctx, "checkpoint", fn)
    )
    cashier = property(
        lambda self: self.session.cashier, lambda self, c: setattr(self.session, "cashier", c)
    )

    @property
    def receipt_gettext(self):
        return self.printing.gettext

    def require_cashier(self) -> Cashier:
        return self.session.require_cashier()

    def shift_id(self) -> int | None:
        return self.session.shift_id()

    def record(self, *args, **kwargs) -> JournalEntry:
        return self.actions.record(*args, **kwargs)

    def watch(self, kind: str, payload: dict, cashier: Cashier, now) -> None:
        self.actions.watch(kind, payload, cashier, now)

    def print_job(self, job_id: int) -> tuple[bytes | None, str | None]:
        return self.printing.print_job(job_id)

    def resume_printing(self) -> tuple[int, str | None]:
        return self.printing.resume()

    def interrupted_receipts(self) -> list[str]:
        return self.printing.interrupted()

    @property
    def drawer(self) -> CashDrawer:
        return self.drawer_commands.drawer

    @drawer.setter
    def drawer(self, drawer: CashDrawer) -> None:
        self.ctx.drawer_commands = DrawerCommands(drawer, time.monotonic)
        self.drawer_monitor: DrawerMonitor | None = None
        read_open = getattr(drawer, "read_open", None)
        if read_open is not None and read_open() is not None:  # an open sensor is wired
            limit = self.settings.hardware.drawer.settings.open_limit_seconds
            self.drawer_monitor = DrawerMonitor(
                read_open,
                lambda: self.clock().timestamp(),
                self._drawer_event,
                open_limit=limit,
            )
        self.drawer_too_long = False

    def _drawer_event(self, event: str) -> None:
        self.events.publish("drawer", event=event)
        if event == "drawer-open-too-long":
            self.drawer_too_long = True
            log.warning("cash drawer open too long")
        elif event == "drawer-closed":
            self.drawer_too_long = False

    def poll_drawer(self) -> None:
        """Read the drawer's open sensor (the device watch calls this every 20 ms)."""
        if self.drawer_monitor is not None:
            self.drawer_monitor.poll()

    # -- the shop configuration ------------------------------------------------------------
    def apply_shop_config(
        self,
        document: dict[str, Any],
        source: str,
        details: dict[str, Any] | None = None,
        *,
        staff: StaffChange | None = None,
    ) -> ShopConfigOutcome:
        """Apply a new shop configuration (store and receipt texts, taxes, scale labels,
        key map, approval, fraud, loyalty, products): checked now, applied at once when
        no sale is open, else right after the open sale ends, so a sale is priced and
        taxed by one configuration from its first line to its receipt.

        ``details``: more for the ``config_change`` entry (the fleet's scopes and versions).
        ``staff``: the fleet's cashiers and passkeys, their codes already hashed; a
        cashier it removes who is signed in is signed out as it applies.
        Raises :class:`~terminal.core.errors.ConfigError` for a document that cannot
        work; nothing is changed then."""
        shop = parse_shop(document)
        products = parse_products(document.get("products", []), shop.tax_classes)
        pending = PendingConfig(document, source, shop, products, dict(details or {}), staff)
        self._catalogue_for(pending)  # every product, old and new, under the new rules
        if staff is not None:
            try:
                check_staff_change(self.db, staff, passkey_mode=shop.approval.mode == PASSKEY_MODE)
            except ValueError as exc:
                raise ConfigError(str(exc)) from None
        if not self.cart.is_empty:
            self.pending_config = pending
            return ShopConfigOutcome(applied=False, version=None)
        version = self._apply(pending)
        self.cart = self._empty_cart()  # the next sale's first line has the new prices
        return ShopConfigOutcome(applied=True, version=version)

    def _catalogue_for(self, pending: PendingConfig) -> Catalogue:
        """The catalogue the configuration would give, or ConfigError (a bad barcode, a
        product whose tax class the new taxes lack), before anything is written."""
        changed = {p.sku: p for p in pending.products}
        kept = [p for p in load_catalogue(self.db, self.settings.tax_classes, []).products]
        products = [changed.pop(p.sku, p) for p in kept] + list(changed.values())
        try:
            return Catalogue(products, pending.shop.tax_classes, pending.shop.weighed_formats)
        except ValueError as exc:
            raise ConfigError(f"products: {exc}") from None

    def _apply(self, pending: PendingConfig) -> int:
        now = self.clock()
        catalogue = self._catalogue_for(pending)
        with self.db.atomic("IMMEDIATE"):
            config = shop_config.save(self.db, pending.document, pending.source, now)
            if pending.products:
                save_products(self.db, pending.products)
            staff = apply_staff(self.db, pending.staff) if pending.staff else {}
            self.journal.append(
                "config_change",
                {
                    "change": "shop configuration",
                    "version": config.version,
                    "source": pending.source,
                    "sha256": config.sha256,
                    "sections": sorted(pending.document),
                    "products": len(pending.products),
                    **staff,
                    **pending.details,
                },
                now,
            )
        self.use_shop(pending.shop, catalogue)
        if self.cashier is not None and not cashier_exists(self.db, self.cashier.id):
            log_action(  # removed by the fleet: signed out (the cart is empty here)
                f"cashier {self.cashier.id} signed out: removed by the fleet's configuration",
                "sign_out",
                cashier=self.cashier.id,
                shift=self.shift_id(),
            )
            self.cashier = None
        self.pending_config = None
        log.info("shop configuration %d applied (%s)", config.version, pending.source)
        self.events.publish("config_applied", version=config.version, source=pending.source)
        return config.version

    def use_shop(self, shop: ShopSettings, catalogue: Catalogue) -> None:
        """Run with ``shop``'s rules from now on: its catalogue, promotions and receipt
        language (the open cart keeps its own)."""
        self.settings = self.settings.with_shop(shop)
        self.catalogue = catalogue
        self.promotions = load_promotions(self.db)

    def _new_cart(self) -> Cart:
        if getattr(self, "pending_config", None) is not None:  # the sale that held it ended
            pending, self.pending_config = self.pending_config, None
            try:
                self._apply(pending)
            except (ConfigError, DatabaseError) as exc:  # never lose the sale that just ended
                log.error("shop configuration from %s not applied: %s", pending.source, exc)
        self.customer = None
        self.customer_points = 0
        self.tenders = ()
        self.buyer_tin = ""  # a company buying: its TIN goes on the e-barimt (B2B)
        return self._empty_cart()

    def _empty_cart(self) -> Cart:
        """A cart under the rules in force (catalogue, promotions, tax basis)."""
        return Cart(
            self.catalogue,
            self.clock,
            prices_include_tax=self.settings.store.prices_include_tax,
            promotions=self.promotions,
        )

    @property
    def shift(self) -> Shift | None:
        return self.session.shift

    @property
    def currency(self):
        return self.settings.store.currency

    # -- sign in ---------------------------------------------------------------------------
    def sign_in(self, operator: str, pin: str) -> Cashier:
        """Sign in by operator number and PIN.

        The refusal never says which of the two was wrong. After too many wrong entries
        for one number, attempts are refused for a growing period; every wrong entry and
        every lockout is journaled (without the PIN, of course).
        """
        wrong = SignInError(N_("Wrong cashier number or PIN"))
        if not is_digits(operator) or len(operator) > 6:
            raise wrong
        number = int(operator)
        cashier = self.guard.check(
            operator_subject(self.db, number),
            lambda: check_pin(self.db, self.hasher, number, pin) if is_digits(pin) else None,
            wrong,
        )
        self.cashier = cashier
        self.cart = self._new_cart()
        log_action(
            f"cashier {cashier.id} signed in", "sign_in", cashier=cashier.id, shift=self.shift_id()
        )
        return cashier

    def cashiers(self) -> list[Cashier]:
        """Who can sign in here, for the sign-in screen's name buttons."""
        return list_cashiers(self.db)

    def sign_out(self) -> None:
        """Sign the cashier out; refused while a sale is open (its lines would be lost)."""
        if not self.cart.is_empty:
            raise PosError(N_("Finish the sale, or remove its lines, before signing out"))
        if self.cashier:
            log_action(
                f"cashier {self.cashier.id} signed out",
                "sign_out",
                cashier=self.cashier.id,
                shift=self.shift_id(),
            )
        self.cashier = None
        self.cart = self._new_cart()

    # -- the cart --------------------------------------------------------------------------
    def scan(self, code: str) -> CartLine:
        """Add what ``code`` names to the sale. Nothing is sold outside a shift: after the
        day is closed, the next shift's opening float comes before the first item."""
        if self.cashier is not None and self.shift is None:
            raise NoShiftOpen()
        self.fleet_jobs.check_sale()  # locked by the fleet: no new sale
        try:
            line = self.cart.add_code(code)
        except PosError as exc:
            # not the code itself: a PIN typed on the wrong screen must not reach the log
            log_action(
                "code refused",
                "scan_refused",
                cashier=self._cashier_id(),
                error=type(exc).__name__,
                characters=len(code),
            )
            raise
        log_action(
            f"line added: {line.product.sku} x {line.quantity}",
            "line_add",
            cashier=self._cashier_id(),
            shift=self.shift_id(),
            sku=line.product.sku,
            quantity=line.quantity,
            amount=line.amount,
        )
        self._publish_line("line_added", line)
        return line

    def _cashier_id(self) -> int | None:
        return self.cashier.id if self.cashier else None

    def add_product(self, product: Product) -> CartLine:
        return self.scan(product.sku)

    def set_quantity(self, index: int, text: str, approval: Approval | None = None) -> CartLine:
        """Set a line's quantity. Lowering it voids part of the line, under the void rules:
        free within the void window, the unpaid-orders approval after it; journaled."""
        line = self._set_quantity(index, text, approval)
        self._publish_line("line_changed", line)
        return line

    def _publish_line(self, kind: str, line: CartLine) -> None:
        """A line for the customer's display (``line_added``, ``line_changed``)."""
        self.events.publish(
            kind,
            name=line.product.name,
            quantity=format_quantity(
                line.quantity, line.product.sold_by_weight, self.currency.decimal_sep
            ),
            amount=line.amount,
            total=self.cart.total,
        )

    def _set_quantity(self, index: int, text: str, approval: Approval | None) -> CartLine:
        line = self.cart.lines[index]
        before = line.quantity
        if line.from_label:
            return self.cart.set_quantity(index, text)  # (refused there, with the reason)
        wanted = parse_quantity(text, line.product)
        if wanted >= before:
            return self.cart.set_quantity(index, text)
        cashier = self.require_cashier()
        if self.tenders:
            raise PosError(N_("A card payment is already taken: finish the payment first"))
        now = self.clock()
        policy = self.approvals.policy
        if policy.line_void_needs_approval(line.added_at, now):
            approval = check_approval(approval, UNPAID_ORDERS, N_("lower a quantity"))
        amount_before = line.amount
        self.cart.set_quantity(index, text)
        payload = {
            "cashier": cashier.id,
            "shift": self.shift_id(),
            "sku": line.product.sku,
            "quantity": str(before - wanted),
            "lowered_to": str(wanted),
            "amount": amount_before - line.amount,
            "reason": "quantity",
            "late": policy.line_void_is_late(line.added_at, now),
            "seconds": round((now - line.added_at).total_seconds(), 1),
        }
        self.record("line_void", payload, cashier, approval, now)
        self._log_void("quantity lowered", payload, approval)
        return line

    def _log_void(self, message: str, payload: dict, approval: Approval | None) -> None:
        log_action(
            f"{message}: {payload['sku']}",
            "line_void",
            cashier=payload["cashier"],
            shift=payload["shift"],
            sku=payload["sku"],
            quantity=payload["quantity"],
            amount=payload["amount"],
            reason=payload["reason"],
            late=payload["late"],
            approved_by=approval.approved_by if approval else None,
        )

    def parse_amount(self, text: str) -> int:
        """An amount the cashier typed, in minor units; anything else a clear refusal."""
        try:
            return self.currency.parse(text)
        except (ArithmeticError, ValueError):
            raise PosError(N_("{text} is not an amount"), text=text) from None

    def search(self, text: str) -> list[Product]:
        return self.catalogue.search(text)

    def favourites(self, limit: int, days: int = 30) -> list[Product]:
        """Products for one-touch buttons: this terminal's best sellers of the last
        ``days``, then the catalogue's first products to fill the rest. Goods sold by
        weight are left out (their weight comes from the scale's label)."""
        since = self.clock().astimezone(UTC).replace(tzinfo=None) - timedelta(days=days)
        by_sku = {p.sku: p for p in self.catalogue.products if not p.sold_by_weight}
        chosen = [by_sku[sku] for sku in best_sellers(self.db, since, limit) if sku in by_sku]
        for product in by_sku.values():
            if len(chosen) >= limit:
                break
            if product not in chosen:
                chosen.append(product)
        return chosen[:limit]

    # -- voids, cancellation, discounts (issue 5) ----------------------------------------------
    def void_line(self, index: int, reason: str, approval: Approval | None = None) -> CartLine:
        """Void a line of the open order. Within the void window it is free; after it,
        the unpaid-orders approval is needed when that category is on. Always journaled."""
        cashier = self.require_cashier()
        if reason not in VOID_REASONS:
            raise PosError(N_("Choose a reason"))
        line = self.cart.lines[index]
        now = self.clock()
        policy = self.approvals.policy
        late = policy.line_void_is_late(line.added_at, now)
        if policy.line_void_needs_approval(line.added_at, now):
            approval = check_approval(approval, UNPAID_ORDERS, N_("void a line"))
        if self.tenders:
            raise PosError(N_("A card payment is already taken: finish the payment first"))
        payload = {
            "cashier": cashier.id,
            "shift": self.shift_id(),
            "sku": line.product.sku,
            "quantity": str(line.quantity),
            "amount": line.amount,
            "reason": reason,
            "late": late,
            "seconds": round((now - line.added_at).total_seconds(), 1),
        }
        with self.db.atomic():
            self.record("line_void", payload, cashier, approval, now, watch=False)
            self.cart.remove(index)
        if self.cart.is_empty:  # a new customer may come next: not the company's receipt
            self.buyer_tin = ""
        self.watch("line_void", payload, cashier, now)
        self._log_void("line voided", payload, approval)
        self.events.publish("line_voided", name=line.product.name, total=self.cart.total)
        if self.cart.is_empty:
            self.events.publish("cart_cleared")
        return line

    def cancel_sale(self, reason: str, approval: Approval | None = None) -> int:
        """Cancel the whole open order (seed 004: Cancel, approve, confirm). Nothing was
        charged, nothing leaves stock; the journal records it. Returns the lines dropped."""
        cashier = self.require_cashier()
        if self.cart.is_empty:
            raise PosError(N_("The sale is empty"))
        if reason not in VOID_REASONS:
            raise PosError(N_("Choose a reason"))
        if self.tenders:
            raise PosError(N_("A card payment is already taken: finish the sale, then refund it"))
        if self.approvals.policy.requires(UNPAID_ORDERS):
            approval = check_approval(approval, UNPAID_ORDERS, N_("cancel the order"))
        now = self.clock()
        payload = {
            "cashier": cashier.id,
            "shift": self.shift_id(),
            "lines": len(self.cart.lines),
            "total": self.cart.total,
            "skus": [line.product.sku for line in self.cart.lines],
            "reason": reason,
        }
        count = len(self.cart.lines)
        self.record("order_cancel", payload, cashier, approval, now)
        self.cart = self._new_cart()
        self.events.publish("cart_cleared")
        log_action(
            "order cancelled",
            "order_cancel",
            cashier=cashier.id,
            shift=payload["shift"],
            lines=count,
            total=payload["total"],
            reason=reason,
            approved_by=approval.approved_by if approval else None,
        )
        return count

    def discount(
        self, discount: Discount | None, index: int | None = None, approval: Approval | None = None
    ) -> int:
        """Give (or with None, take back) a discount on line ``index`` or, with None, on
        the sale. Beyond the cashier's limit the discounts approval is needed when that
        category is on; such an override is journaled on its own. Returns the amount off."""
        cashier = self.require_cashier()
        if discount is not None:
            if index is None:
                base = self.cart.subtotal_before_discount
            else:
                base = self.cart.lines[index].promoted
            discount.amount_off(base)  # (an amount more than the base is refused)
            policy = self.approvals.policy
            if policy.discount_needs_approval(discount.percent_of(base)):
                approval = check_approval(approval, DISCOUNTS, N_("a discount beyond your limit"))
            else:
                approval = None
                if policy.requires(DISCOUNTS):
                    # within the cashier's limit now, and kept within it: lines voided
                    # later cannot turn Rp 1.000 off into half the sale
                    discount = dataclasses.replace(
                        discount, limit_percent=policy.cashier_discount_percent
                    )
        if index is None:
            off = self.cart.set_transaction_discount(discount)
        else:
            off = self.cart.set_line_discount(index, discount).line_discount
        if discount is not None and approval is not None:
            now = self.clock()
            payload = {
                "cashier": cashier.id,
                "shift": self.shift_id(),
                "scope": "sale" if index is None else "line",
                "sku": None if index is None else self.cart.lines[index].product.sku,
                "amount": off,
                **discount.journal_fields(),
            }
            self.record("discount_override", payload, cashier, approval, now)
        log_action(
            "discount taken back" if discount is None else f"discount given: {off}",
            "discount",
            cashier=cashier.id,
            shift=self.shift_id(),
            scope="sale" if index is None else "line",
            sku=None if index is None else self.cart.lines[index].product.sku,
            kind=discount.kind if discount else None,
            value=discount.value if discount else None,
            amount=off,
            reason=discount.reason if discount else None,
            approved_by=approval.approved_by if approval else None,
        )
        return off

    # -- customers ------------------------------------------------------------------------------
    def attach_customer(self, customer: Customer | None, points: int = 0, tier: int | None = None):
        """The customer of this sale: member prices by tier, points on the receipt."""
        self.customer = customer
        self.customer_points = points if customer else 0
        self.cart.set_member_tier(tier if customer else None)

    # -- payment ---------------------------------------------------------------------------------
    def stop_selling(self, reason: str) -> None:
        """The database was found damaged: no sale is taken any more (what is on disk
        stays as it is for the technician's restore)."""
        self.damaged = reason
        self.events.publish("database_damaged", reason=reason)

    def check_payable(self) -> None:
        """Refuse to take payment for nothing, without a cashier, or without a shift, or
        on a damaged database."""
        if self.damaged:
            raise PosError(
                N_(
                    "This terminal is stopped: its database is damaged. Take no money; "
                    "call a technician"
                )
            )
        if self.cashier is None:
            raise PosError(N_("Sign in first"))
        if self.cart.is_empty:
            raise PosError(N_("Nothing to pay: scan an item first"))
        if self.shift is None:
            raise NoShiftOpen()

    def payment_begins(self) -> None:
        """The cashier goes to payment: checked as any payment is, and the customer's
        display shows what is due."""
        self.check_payable()
        self.announce_due()

    def announce_due(self) -> None:
        """What is left to pay, for the customer's display (and what cash would pay,
        when cash rounding makes it differ)."""
        self.events.publish("payment_due", due=self.left_to_pay, cash_due=self.cash_payable())

    @property
    def left_to_pay(self) -> int:
        return remaining(self.cart.total, self.tenders)

    def cash_payable(self) -> int:
        return cash_payable(self.left_to_pay, self.settings.store.cash_rounding)

    def quick_tenders(self) -> list[int]:
        return quick_tenders(self.cash_payable(), self.currency)

    def pay_cash(self, tendered: int) -> SaleOutcome:
        """Take cash for what is left: COMMIT the sale, then open the drawer and print.

        The receipt is printed only after COMMIT returned; a printer fault leaves the
        sale committed and is reported in the outcome.
        """
        self.check_payable()
        store = self.settings.store
        payment = finish_with_cash(
            self.cart.total, self.tenders, tendered, store.currency, store.cash_rounding
        )
        return self._complete(payment, open_drawer=True)

    def pay_card(self, amount: int | None = None, on_status=None) -> SaleOutcome | None:
        """Charge the card terminal ``amount`` (default: all that is left). Approved and
        nothing left: the sale completes (the outcome); approved with something left: None,
        the rest is paid by cash or another card. Declined or not charged: refused with the
        terminal's reason, and the cashier is back on the payment screen."""
        self.check_payable()
        if self.card is None:
            raise PosError(N_("No card terminal is configured"))
        amount = self.left_to_pay if amount is None else amount
        check_part_amount(self.cart.total, self.tenders, amount, self.currency)
        # an id no clock can repeat: a Pi has no real-time clock and may start in 1970
        payment_id = f"{self.settings.terminal_id}-{uuid.uuid4().hex}"
        result = self.card.pay(payment_id, amount, on_status)
        state = "approved" if result.state == PAID else str(result.state)
        if result.cancelled:
            state = "cancelled"
        log_action(
            f"card payment {state}: {amount}",
            "card_payment",
            cashier=self._cashier_id(),
            shift=self.shift_id(),
            amount=amount,
            state=state,
            payment=payment_id,
        )
        if result.state != PAID:
            if result.cancelled:
                raise PosError(N_("Card payment cancelled on the card terminal: nothing charged"))
            if result.state == DECLINED:
                raise PosError(N_("Card declined: {reason}"), reason=result.message)
            if result.state == NOT_CHARGED:
                raise PosError(N_("Card not charged: {reason}"), reason=result.message)
            raise PosError(
                N_(
                    "The card terminal cannot say whether it charged: check its display or "
                    "printout before taking another payment"
                )
            )
        out = result.outcome
        details = CardDetails(
            masked_pan=out.masked_pan,
            auth_code=out.auth_code,
            trace_number=out.trace_number,
            receipt_number=out.receipt_number,
            card_terminal_id=str(out.terminal_id or ""),
            receipt_lines=tuple(out.receipt_lines),
        )
        self.tenders = (
            *self.tenders,
            Tender("card", amount, card=details, payment_id=payment_id),
        )
        if self.left_to_pay == 0:
            return self._complete(finish_without_cash(self.cart.total, self.tenders))
        self.announce_due()  # part paid by card: the rest, on the customer's display
        return None

    def cancel_card(self) -> bool:
        """Ask the card terminal to stop the card payment waiting for the customer (safe
        from the UI thread while :meth:`pay_card` runs on another). True when asked; the
        running :meth:`pay_card` then says whether it stopped or had already gone through."""
        if self.card is None or not self.card.cancel():
            return False
        log_action(
            "card payment cancel asked",
            "card_cancel",
            cashier=self._cashier_id(),
            shift=self.shift_id(),
        )
        return True

    def redeem_points(self, points: int | None = None) -> int:
        """Pay part of the sale with the customer's points (None: as many as cover what is
        left); returns the amount they pay."""
        self.check_payable()
        if self.customer is None:
            raise PosError(N_("Find the customer first"))
        rules = self.settings.loyalty
        balance = self.customer_points - sum(t.points for t in self.tenders)
        if points is None:
            points = rules.points_to_cover(balance, self.left_to_pay)
        value = rules.redeem(points, balance, self.left_to_pay)
        self.tenders = (*self.tenders, Tender("points", value, points=points))
        return value

    def cancel_payment(self, approval: Approval | None = None) -> int:
        """Take back the card and points parts of a payment in progress (the customer
        changed their mind, or cannot pay the rest): card parts are reversed on the card
        terminal, points simply not spent. The order stays open. Returns parts undone."""
        cashier = self.require_cashier()
        if not self.tenders:
            return 0
        if self.approvals.policy.requires(UNPAID_ORDERS):
            approval = check_approval(approval, UNPAID_ORDERS, N_("take back a card payment"))
        kept = []
        undone = []
        for tender in self.tenders:
            if tender.kind == "card":
                receipt = tender.card.receipt_number if tender.card else None
                reversal = f"reversal:{tender.payment_id}"
                result = (
                    self.card.reverse(reversal, receipt, tender.amount)
                    if self.card is not None and receipt is not None
                    else None
                )
                if result is None or result.state != PAID:
                    kept.append(tender)
                    continue
                with self.db.atomic():
                    card_payments.settle(self.db, tender.payment_id)
                    card_payments.settle(self.db, reversal)
            undone.append(tender)
        self.tenders = tuple(kept)
        payload = {
            "cashier": cashier.id,
            "shift": self.shift_id(),
            "undone": [{"kind": t.kind, "amount": t.amount} for t in undone],
        }
        self.record("payment_cancel", payload, cashier, approval, watch=False)
        if kept:
            raise PosError(
                N_("The card terminal did not reverse {n} card payment(s): try again"),
                n=len(kept),
            )
        return len(undone)

    def complete_paid(self) -> SaleOutcome:
        """Complete a sale whose card and points parts cover it all."""
        self.check_payable()
        return self._complete(finish_without_cash(self.cart.total, self.tenders))

    def _complete(self, payment: Payment, *, open_drawer: bool = False) -> SaleOutcome:
        cashier = self.require_cashier()
        paid_in_money = payment.payable - payment.paid_by("points")
        earned = self.settings.loyalty.earned(paid_in_money) if self.customer else 0
        spent = sum(t.points for t in payment.tenders)
        sale = sale_from_cart(
            self.cart,
            payment,
            terminal_id=self.settings.terminal_id,
            cashier_id=cashier.id,
            cashier_name=cashier.name,
            currency=self.settings.store.currency.code,
            created_at=self.clock(),
            shift_id=self.shift_id(),
            customer_id=self.customer.id if self.customer else None,
            points_earned=earned,
            points_balance=self.customer_points - spent + earned if self.customer else None,
        )
        fiscal = self.fiscal if self.fiscal.enabled else None
        buyer = self.buyer_tin
        try:
            committed = commit_sale(
                self.db,
                sale,
                self.journal,
                receipt=self._render_receipt,
                sealer=self.sealer,
                then=(lambda done, sale_id: fiscal.owe_sale(done, sale_id, buyer))
                if fiscal
                else None,
            )
        except DatabaseError as exc:
            log.error("sale not saved: %s", exc)
            raise PosError(
                N_("The sale was NOT saved ({reason}): take no money, call a technician"),
                reason=str(exc),
            ) from None
        log_action(
            f"sale {committed.label} committed, total {sale.total}",
            "sale",
            cashier=cashier.id,
            shift=sale.shift_id,
            label=committed.label,
            total=sale.total,
            paid=payment.payable,
            rounding=payment.rounding,
            tenders={t.kind: t.amount for t in payment.tenders},
            customer=bool(sale.customer_id),
        )
        self.events.publish(
            "sale_committed",
            number=committed.number,
            label=committed.label,
            total=payment.payable,
            journal_seq=committed.journal_seq,
            paid=sum(t.tendered or t.amount for t in payment.tenders),
            change=sum(t.change or 0 for t in payment.tenders),
        )
        self.cart = self._new_cart()
        # From here the sale is on disk: nothing below may lose it or stop the cashier.
        if open_drawer or payment.paid_by("cash"):
            try:  # one pulse per sale: the sale's label is the command's id
                self.drawer_commands.open(committed.label, issued_at=time.monotonic())
            except Exception as exc:  # any device fault; the sale stands
                log.error("drawer did not open after %s: %s", committed.label, exc)
        if fiscal:  # registered now (or owed), then printed with what came back
            data, error = fiscal.after_sale(committed)
        else:
            data, error = self.print_job(committed.print_job)
        return SaleOutcome(committed, data, error)

    def _render_receipt(self, committed: CommittedSale, fiscal: FiscalBlock | None = None) -> bytes:
        if fiscal is None and self.fiscal.enabled:
            fiscal = FiscalBlock(PENDING, buyer_tin=self.buyer_tin)
        doc = build_receipt(
            committed,
            self.settings.store,
            self.receipt_gettext,
            columns=self.printer.columns,
            logo=self.settings.hardware.printer.settings.logo,
            fiscal=fiscal,
        )
        return self.printer.render(doc)

    def _product_of(self, sku: str) -> Product | None:
        try:
            return self.catalogue.get(sku)
        except KeyError:
            return None

    def set_buyer_tin(self, text: str) -> str:
        """A company (or a person with a TIN) buying: the sale's e-barimt is a B2B receipt
        with their TIN. Empty text: back to a receipt for a person (B2C)."""
        if not self.fiscal.enabled:
            raise PosError(N_("This shop issues no e-barimt receipts"))
        self.buyer_tin = ebarimt.check_tin(text) if text.strip() else ""
        return self.buyer_tin

    def key_protection_warning(self) -> str | None:
        """A production terminal whose keys are protected by a file: a message id."""
        return key_protection_warning(self.settings)

    def health(self) -> list[str]:
        """Device health events for the screen (and, later, the fleet): the printer's
        status, the card terminal, and any scanner or keypad that can go missing."""
        events: list[str] = ["drawer-open-too-long"] if self.drawer_too_long else []
        if self.fiscal.enabled:
            events += self.fiscal.health()
        if self.devices is not None:
            return events + self.devices.health()
        for name, device in (("printer", self.printer), ("card", self.card)):
            try:
                events += device.health()
            except Exception as exc:  # a health check must never stop a sale
                log.warning("%s health check failed: %s", name, exc)
                events.append(f"{name}-offline")
        return events

    def unsettled_card_payments(self) -> list[UnsettledPayment]:
        """Card money that moved (or may have) without a committed sale or refund - after
        a crash mid-sale, say: for a supervisor to check on the card terminal and reverse."""
        return [
            UnsettledPayment(row.payment_id, row.kind, row.amount, PaymentState(row.state))
            for row in card_payments.unsettled(self.db)
        ]

    def resolve_unsettled(
        self, payment_id: str, approval: Approval | None = None, went_through: bool | None = None
    ) -> str:
        """A supervisor settles card money that has no sale or refund recorded:

        - a payment the terminal approved is reversed on the card terminal;
        - a refund that went through (the terminal said so, or - outcome unknown - the
          supervisor read it on the terminal's printout: ``went_through``) is recorded as
          the refund it was sent for; one that did not is closed, nothing recorded;
        - anything else is marked as checked.
        Always approved, always journaled."""
        cashier = self.require_cashier()
        approval = check_approval(approval, PAID_ORDERS, N_("settle a card payment without a sale"))
        row = card_payments.get(self.db, payment_id)
        if row.kind == "refund" and row.plan:
            done_refund = row.state == PAID or (row.state != PAID and went_through)
            if row.state != PAID and went_through is None:
                raise PosError(N_("Did the card refund go through? Check the printout"))
            if done_refund:
                outcome = self.refunds.record_card_refund(payment_id, approval)
                self.journal.append(
                    "card_unsettled",
                    {
                        "payment": payment_id,
                        "amount": row.amount,
                        "state": row.state,
                        "done": "refund recorded",
                        "refund": outcome.refund.label,
                        "cashier": cashier.id,
                        **approval.journal_fields(),
                    },
                    self.clock(),
                )
                return "refund recorded"
        if row.state == PAID and row.kind == "payment" and row.receipt_number is not None:
            if self.card is None:
                raise PosError(N_("No card terminal is configured"))
            result = self.card.reverse(f"reversal:{payment_id}", row.receipt_number, row.amount)
            if result.state != PAID:
                raise PosError(N_("Card reversal refused: {reason}"), reason=result.message)
            done = "reversed"
        else:
            done = "checked"
        with self.db.atomic():
            card_payments.settle(self.db, payment_id)
            if done == "reversed":
                card_payments.settle(self.db, f"reversal:{payment_id}")
            self.journal.append(
                "card_unsettled",
                {
                    "payment": payment_id,
                    "amount": row.amount,
                    "state": row.state,
                    "done": done,
                    "cashier": cashier.id,
                    **approval.journal_fields(),
                },
                self.clock(),
            )
        return done

"""The cashier's session: sign in, build the cart, take cash, commit, print, open the drawer."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from peewee import Database, DatabaseError

from hal.drawer import CashDrawer
from hal.drawer.safety import DrawerCommands
from hal.printer import Printer, PrinterError
from terminal.config import Settings
from terminal.core.cart import Cart, CartLine
from terminal.core.catalogue import Catalogue, Product
from terminal.core.clock import Clock, system_clock
from terminal.core.errors import N_, PosError
from terminal.core.lockout import after_failure, after_success
from terminal.core.sale import CommittedSale, sale_from_cart
from terminal.core.tender import cash_payable, quick_tenders, take_cash
from terminal.i18n import translator
from terminal.services.receipt import build_receipt
from terminal.store import print_queue
from terminal.store.cashiers import (
    Cashier,
    PinHasher,
    cashier_exists,
    check_pin,
    list_cashiers,
    load_failures,
    save_failures,
)
from terminal.store.journal import Journal
from terminal.store.sales import commit_sale

log = logging.getLogger(__name__)


class SignInError(PosError):
    pass


@dataclass(frozen=True)
class SaleOutcome:
    committed: CommittedSale
    receipt_bytes: bytes | None
    print_error: str | None  # the sale is saved even when the receipt did not print

    @property
    def change(self) -> int:
        return self.committed.sale.payment.change


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
    ) -> None:
        self.settings = settings
        self.db = db
        self.journal = journal
        self.hasher = hasher
        self.catalogue = catalogue
        self.printer = printer
        self.drawer = drawer  # (through the property below)
        self.clock = clock
        self.cashier: Cashier | None = None
        self.cart = self._new_cart()
        self.receipt_gettext = translator(settings.store.locale).gettext

    @property
    def drawer(self) -> CashDrawer:
        return self.drawer_commands.drawer

    @drawer.setter
    def drawer(self, drawer: CashDrawer) -> None:
        self.drawer_commands = DrawerCommands(drawer, time.monotonic)

    def _new_cart(self) -> Cart:
        return Cart(
            self.catalogue, self.clock, prices_include_tax=self.settings.store.prices_include_tax
        )

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
        if not operator.isdigit() or len(operator) > 6:
            raise wrong
        # What was typed as the number may hold a PIN (typed ahead of Enter): only a known
        # cashier's number is ever written down; all unknown numbers share one subject.
        subject = f"cashier:{int(operator)}" if cashier_exists(int(operator)) else "cashier:unknown"
        now = self.clock()
        state = load_failures(subject)
        if state.is_locked(now):
            self.journal.append("failed_pin", {"subject": subject, "locked": True}, now)
            raise SignInError(
                N_("Too many wrong PINs: try again in {seconds} s"),
                seconds=state.seconds_left(now),
            )
        cashier = check_pin(self.hasher, int(operator), pin) if pin.isdigit() else None
        with self.db.atomic():
            if cashier is None:
                state = after_failure(state, self.settings.security.lockout, now)
                save_failures(subject, state)
                self.journal.append(
                    "failed_pin", {"subject": subject, "failures": state.failures}, now
                )
                if state.is_locked(now):
                    self.journal.append(
                        "lockout",
                        {"subject": subject, "until": state.locked_until.isoformat()},
                        now,
                    )
            else:
                save_failures(subject, after_success())
        if cashier is None:
            log.info("sign-in refused for %s", subject)
            raise wrong
        self.cashier = cashier
        self.cart = self._new_cart()
        log.info("cashier %s signed in", cashier.id)
        return cashier

    def cashiers(self) -> list[Cashier]:
        """Who can sign in here, for the sign-in screen's name buttons."""
        return list_cashiers()

    def sign_out(self) -> None:
        """Sign the cashier out; refused while a sale is open (its lines would be lost)."""
        if not self.cart.is_empty:
            raise PosError(N_("Finish the sale, or remove its lines, before signing out"))
        if self.cashier:
            log.info("cashier %s signed out", self.cashier.id)
        self.cashier = None
        self.cart = self._new_cart()

    # -- the cart --------------------------------------------------------------------------
    def scan(self, code: str) -> CartLine:
        try:
            line = self.cart.add_code(code)
        except PosError as exc:
            # not the code itself: a PIN typed on the wrong screen must not reach the log
            log.info("code refused (%s, %d characters)", type(exc).__name__, len(code))
            raise
        log.info("line added: %s x %s", line.product.sku, line.quantity)
        return line

    def add_product(self, product: Product) -> CartLine:
        return self.scan(product.sku)

    def set_quantity(self, index: int, text: str) -> CartLine:
        return self.cart.set_quantity(index, text)

    def remove_line(self, index: int) -> CartLine:
        return self.cart.remove(index)

    def search(self, text: str) -> list[Product]:
        return self.catalogue.search(text)

    # -- cash ------------------------------------------------------------------------------
    def check_payable(self) -> None:
        """Refuse to take payment for nothing, or without a cashier."""
        if self.cashier is None:
            raise PosError(N_("Sign in first"))
        if self.cart.is_empty:
            raise PosError(N_("Nothing to pay: scan an item first"))

    def cash_payable(self) -> int:
        return cash_payable(self.cart.total, self.settings.store.cash_rounding)

    def quick_tenders(self) -> list[int]:
        return quick_tenders(self.cash_payable(), self.currency)

    def pay_cash(self, tendered: int) -> SaleOutcome:
        """Take cash: COMMIT the sale, then open the drawer and print the receipt.

        The receipt is printed only after COMMIT returned; a printer fault leaves the
        sale committed and is reported in the outcome.
        """
        self.check_payable()
        store = self.settings.store
        payment = take_cash(self.cart.total, tendered, store.currency, store.cash_rounding)
        sale = sale_from_cart(
            self.cart,
            payment,
            terminal_id=self.settings.terminal_id,
            cashier_id=self.cashier.id,
            cashier_name=self.cashier.name,
            currency=store.currency.code,
            created_at=self.clock(),
        )
        try:
            committed = commit_sale(self.db, sale, self.journal, receipt=self._render_receipt)
        except DatabaseError as exc:
            log.error("sale not saved: %s", exc)
            raise PosError(
                N_("The sale was NOT saved ({reason}): take no money, call a technician"),
                reason=str(exc),
            ) from None
        log.info("sale %s committed, total %d", committed.label, payment.payable)
        self.cart = self._new_cart()
        # From here the sale is on disk: nothing below may lose it or stop the cashier.
        try:  # one pulse per sale: the sale's label is the command's id
            self.drawer_commands.open(committed.label, issued_at=time.monotonic())
        except Exception as exc:  # any device fault; the sale stands
            log.error("drawer did not open after %s: %s", committed.label, exc)
        data, error = self._print_job(committed.print_job)
        return SaleOutcome(committed, data, error)

    def _render_receipt(self, committed: CommittedSale) -> bytes:
        doc = build_receipt(
            committed,
            self.settings.store,
            self.receipt_gettext,
            columns=self.printer.columns,
            logo=self.settings.hardware["printer"].get("logo", ""),
        )
        return self.printer.render(doc)

    def _print_job(self, job_id: int) -> tuple[bytes | None, str | None]:
        """Send one queued job: (bytes printed, None) or (None, why not)."""
        job = print_queue.job(self.db, job_id)
        if job.state == "failed" and not job.data:  # could not even be rendered
            return None, job.error
        print_queue.mark(self.db, job.id, "printing")
        try:
            data = self.printer.print_bytes(job.data, job_name=job.name)
        except Exception as exc:  # PrinterError, or the connection's own errors
            reason = str(exc) if isinstance(exc, PrinterError) else f"{type(exc).__name__}: {exc}"
            print_queue.mark(self.db, job.id, "failed", reason)
            log.warning("receipt %s not printed: %s", job.name, reason)
            return None, reason
        print_queue.mark(self.db, job.id, "done")
        return data, None

    def health(self) -> list[str]:
        """Device health events for the screen (and, later, the fleet)."""
        check = getattr(self.printer, "health", None)
        try:
            return check() if check else []
        except Exception as exc:  # a health check must never stop a sale
            log.warning("printer health check failed: %s", exc)
            return ["printer-offline"]

    def resume_printing(self) -> tuple[int, str | None]:
        """Print the receipts that were refused (paper out, offline), oldest first, each
        once. Returns (how many printed, why the next one did not)."""
        printed = 0
        for job in print_queue.waiting(self.db):
            _data, error = self._print_job(job.id)
            if error:
                return printed, error
            printed += 1
        return printed, None

    def interrupted_receipts(self) -> list[str]:
        """Receipts that were being printed when the terminal stopped: check the printer."""
        return [job.name for job in print_queue.interrupted(self.db)]

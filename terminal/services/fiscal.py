"""Fiscal receipts (Mongolia's e-barimt): every sale and return registered with the tax
office's service, after the sale is committed - never instead of it.

- A sale's receipt is owed in the sale's own transaction (:mod:`terminal.store.
  fiscal_receipts`); then it is sent at once, and the receipt prints with its bill id,
  date, lottery number and QR. PosAPI down, slow or refusing: the receipt prints
  "e-barimt pending", and a thread of its own sends what is owed every ``retry_seconds``,
  oldest first, each with its first request (one sale is never registered twice). A
  receipt registered later prints a slip of its own with its lottery and QR.
- A return (a refund of a sale with an e-barimt receipt) is owed in the refund's
  transaction: the whole sale back deletes the receipt that stands (``DELETE``); a part
  back registers a correction for what the customer keeps, replacing it (``inactiveId``).
- The lottery number and the QR data live only in memory on their way to the printer:
  the print queue keeps the receipt with its bill id and a line saying how the customer
  finds it (a reprint prints that too).
- The first failure of a receipt is journaled (``fiscal_pending``), which the fleet sees
  as an event; every registration is journaled (``fiscal``).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from peewee import DatabaseError

from hal.fiscal import FiscalService, PosApiUnavailable
from hal.printer.document import Document
from terminal.core import ebarimt
from terminal.core.catalogue import Product
from terminal.core.errors import N_
from terminal.core.sale import CommittedSale, Sale
from terminal.services.context import ServiceContext
from terminal.services.fiscal_receipt import PENDING, REGISTERED, FiscalBlock, add_fiscal_block
from terminal.services.printing import Printing
from terminal.store import fiscal_receipts as store
from terminal.store import print_queue
from terminal.store.fiscal_receipts import FiscalReceipt
from terminal.store.models import SaleLineRow

log = logging.getLogger(__name__)

UNREACHABLE, REFUSED = "unreachable", "refused"
RenderSale = Callable[[CommittedSale, FiscalBlock], bytes]


@dataclass(frozen=True)
class Sent:
    """One receipt that reached the tax office: what to print (in memory only)."""

    receipt: FiscalReceipt
    registration: ebarimt.Registration | None  # None: a return that deleted the receipt


class FiscalDesk:
    def __init__(
        self,
        ctx: ServiceContext,
        printing: Printing,
        service: FiscalService,
        product_of: Callable[[str], Product | None],
    ) -> None:
        self.ctx = ctx
        self.printing = printing
        self.service = service
        self.product_of = product_of
        self.render_sale: RenderSale | None = None  # the sale's receipt with a block
        self._lock = threading.RLock()  # one receipt on its way at a time, never two
        self._stopping = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def enabled(self) -> bool:
        return self.service.enabled

    def merchant(self) -> ebarimt.Merchant:
        s = self.service.settings
        return ebarimt.Merchant(
            s.merchant_tin, s.branch_no, s.pos_no, s.district_code, dict(s.tax_product_codes)
        )

    # -- in the sale's and the refund's transactions ---------------------------------------
    def items(self, lines) -> list[ebarimt.Item]:
        out = []
        for line in lines:
            product = self.product_of(line.sku)
            out.append(
                ebarimt.Item(
                    line.name,
                    line.sku,
                    product.barcodes[0] if product and product.barcodes else "",
                    product.classification if product else "",
                    line.quantity,
                    line.amount,
                    line.tax_class,
                    bool(product and product.sold_by_weight),
                )
            )
        return out

    def sale_request(self, sale: Sale, number: int, label: str, buyer_tin: str = "") -> dict:
        payments = []
        for tender in sale.payment.tenders:
            card = tender.card
            # cash rounding is the till's, not the goods': the tax office is told the cash
            # that paid for the goods (total 32,362, paid 32,360 rounded: cash 32,362)
            rounding = sale.payment.rounding if tender.kind == "cash" else 0
            payments.append(
                ebarimt.Payment(
                    tender.kind,
                    tender.amount - rounding,
                    card.card_terminal_id if card else "",
                    str(card.trace_number or "") if card else "",
                    card.masked_pan if card else "",
                )
            )
        return ebarimt.receipt_request(
            self.items(sale.lines),
            self.ctx.settings.tax_classes,
            self.merchant(),
            suffix=ebarimt.bill_suffix(number),
            sale_label=label,
            payments=payments,
            buyer_tin=buyer_tin,
            exponent=self.ctx.settings.store.currency.exponent,
        )

    def owe_sale(self, committed: CommittedSale, sale_id: int, buyer_tin: str = "") -> None:
        """Inside the sale's transaction. A request that cannot be built (a tax class
        without the codes e-barimt needs, say) never stops the sale: the receipt is owed
        all the same, with why it cannot go, for the supervisor."""
        try:
            request = self.sale_request(
                committed.sale, committed.number, committed.label, buyer_tin
            )
        except Exception as exc:
            log.error("e-barimt request for %s not built: %s", committed.label, exc)
            request = {"type": ebarimt.B2B if buyer_tin else ebarimt.B2C, "broken": str(exc)}
        store.owe_sale(
            self.ctx.db, self.ctx.sealer, sale_id, committed.label, request, self.ctx.clock()
        )

    def owe_return(self, sale_id: int | None, refund_id: int, label: str) -> None:
        """Inside the refund's transaction: owed only for a sale that has a receipt."""
        if sale_id is not None and store.of_sale(self.ctx.db, sale_id):
            store.owe_return(self.ctx.db, sale_id, refund_id, label, self.ctx.clock())

    # -- after the commit -------------------------------------------------------------------
    def after_sale(self, committed: CommittedSale) -> tuple[bytes | None, str | None]:
        """Register the sale now, then print its receipt: with the bill, lottery and QR,
        or "e-barimt pending". Never raises (the sale is saved)."""
        job = committed.print_job
        try:
            receipt = store.by_label(self.ctx.db, committed.label)
            sent = self._send_one(receipt) if receipt else None
        except Exception as exc:  # the sale is saved: its receipt prints whatever happens
            log.error("e-barimt for %s not sent: %s", committed.label, exc)
            sent = None
        if job is None:
            return None, None
        if sent is None or sent.registration is None or self.render_sale is None:
            return self.printing.print_job(job)
        reg = sent.registration
        try:
            buyer = self._buyer(sent.receipt)
            kept = FiscalBlock(REGISTERED, reg.bill_id, reg.date, buyer)
            full = FiscalBlock(REGISTERED, reg.bill_id, reg.date, buyer, reg.lottery, reg.qr_data)
            stored, volatile = self.render_sale(committed, kept), self.render_sale(committed, full)
            print_queue.replace_data(self.ctx.db, job, stored)
        except Exception as exc:  # the receipt as committed, and the e-barimt on a slip
            log.error("receipt %s not rendered with its e-barimt: %s", committed.label, exc)
            self._print_slip(sent)
            return self.printing.print_job(job)
        return self.printing.print_job(job, volatile=volatile)

    def send_pending(self, *, force: bool = False) -> int:
        """Send what is owed, oldest first; stop at the first sign the service is down.
        Receipts registered here print a slip of their own. Returns how many went.
        ``force``: also a sale whose last attempt's outcome was unknown on an earlier day
        (a supervisor checked PosAPI for it: see :meth:`_send`)."""
        done = 0
        for receipt in store.pending(self.ctx.db):
            if self._stopping.is_set():
                break
            try:
                sent = self._send(receipt, force=force)
            except PosApiUnavailable:
                break
            except (ebarimt.FiscalRefused, _Broken):
                continue
            if sent is None:
                continue
            done += 1
            self._print_slip(sent)
        return done

    def pending(self) -> list[FiscalReceipt]:
        return store.pending(self.ctx.db)

    def health(self) -> list[str]:
        try:
            return ["fiscal-pending"] if store.pending(self.ctx.db) else []
        except DatabaseError:
            return []

    # -- sending ----------------------------------------------------------------------------
    def _send_one(self, receipt: FiscalReceipt) -> Sent | None:
        try:
            return self._send(receipt)
        except (PosApiUnavailable, ebarimt.FiscalRefused, _Broken):
            return None

    def _today(self) -> str:
        return self.ctx.clock().astimezone(self.ctx.settings.store.timezone).date().isoformat()

    def _send(self, receipt: FiscalReceipt, *, force: bool = False) -> Sent | None:
        """Register (or take back) one receipt; None when it must wait (a return whose
        sale, or an earlier return, is not through yet). Raises PosApiUnavailable,
        FiscalRefused or _Broken after writing the failure down.

        A request whose answer was lost (sent, no answer) is sent again the same day
        only: PosAPI knows a ``billIdSuffix`` within a day, so the same request gets the
        same receipt; on a later day it could make a second one, so the receipt waits
        for a supervisor to look in PosAPI and send it (``force``)."""
        with self._lock:
            fresh = store.by_label(self.ctx.db, receipt.label)
            if fresh is None or fresh.state != "pending":
                return None  # sent meanwhile (by the other thread)
            stale = fresh.unknown_since not in (None, self._today())
            if fresh.kind == "sale" and stale and not force:
                return None
            try:
                if fresh.kind == "sale":
                    return self._register_sale(fresh)
                return self._register_return(fresh)
            except PosApiUnavailable as exc:
                if exc.sent and fresh.kind == "sale":
                    store.outcome_unknown(self.ctx.db, fresh.id, self._today())
                self._failed(fresh, UNREACHABLE, str(exc))
                raise
            except ebarimt.FiscalRefused as exc:
                self._failed(fresh, REFUSED, str(exc))
                raise
            except Exception as exc:  # a broken receipt: written down, the others go on
                log.exception("e-barimt: %s cannot be sent", fresh.label)
                self._failed(fresh, "error", f"{type(exc).__name__}: {exc}")
                raise _Broken(str(exc)) from exc

    def _register_sale(self, receipt: FiscalReceipt) -> Sent:
        request = store.request_of(self.ctx.db, self.ctx.sealer, receipt)
        if "broken" in request:
            raise _Broken(f"the receipt could not be made: {request['broken']}")
        reg = ebarimt.parse_registration(self.service.register(request))
        self._record(receipt, REGISTERED, reg.bill_id, reg.date)
        return Sent(receipt, reg)

    def _register_return(self, receipt: FiscalReceipt) -> Sent | None:
        db = self.ctx.db
        if any(
            r.state == "pending" and r.id < receipt.id for r in store.of_sale(db, receipt.sale_id)
        ):
            return None  # the sale, and each earlier return, goes first: the chain's order
        standing = store.standing(db, receipt.sale_id)
        if standing is None:
            self._record(receipt, "replaced", "", "")  # nothing stands: nothing to take back
            return None
        sold = self._sold_items(receipt.sale_id)
        back = store.returned_up_to(db, receipt.sale_id, receipt.refund_id or 0)
        kept = ebarimt.kept_items(sold, {pos - 1: v for pos, v in back.items()})
        if not kept:
            answer = self.service.delete(standing.bill_id or "", standing.bill_date or "")
            if isinstance(answer, dict) and answer.get("status", "SUCCESS") != "SUCCESS":
                reason = str(answer.get("message") or answer.get("status"))[:200]
                raise ebarimt.FiscalRefused(
                    N_("e-barimt refused to take the receipt back: {reason}"), reason=reason
                )
            self._record(
                receipt, "deleted", standing.bill_id or "", standing.bill_date or "", standing
            )
            return Sent(receipt, None)
        original = store.request_of(db, self.ctx.sealer, store.of_sale(db, receipt.sale_id)[0])
        request = ebarimt.receipt_request(
            kept,
            self.ctx.settings.tax_classes,
            self.merchant(),
            suffix=ebarimt.bill_suffix(
                store.refund_number(db, receipt.refund_id or 0), correction=True
            ),
            sale_label=receipt.label,
            buyer_tin=original.get("customerTin") or "",
            replaces=standing.bill_id or "",
            exponent=self.ctx.settings.store.currency.exponent,
        )
        reg = ebarimt.parse_registration(self.service.register(request))
        self._record(receipt, REGISTERED, reg.bill_id, reg.date, standing)
        return Sent(receipt, reg)

    def _sold_items(self, sale_id: int) -> list[ebarimt.Item]:
        rows = (
            SaleLineRow.select()
            .where(SaleLineRow.sale == sale_id)
            .order_by(SaleLineRow.position)
            .bind(self.ctx.db)
        )
        return self.items(
            _Line(row.sku, row.name, Decimal(row.quantity_milli) / 1000, row.amount, row.tax_class)
            for row in rows
        )

    def _record(
        self,
        receipt: FiscalReceipt,
        state: str,
        bill_id: str,
        bill_date: str,
        replaces: FiscalReceipt | None = None,
    ) -> None:
        """The answer written down with its journal entry, in one transaction."""
        db, now = self.ctx.db, self.ctx.clock()
        with db.atomic("IMMEDIATE"):
            store.registered(db, receipt.id, state, bill_id, bill_date, now)
            if replaces is not None:
                store.replaced(db, replaces.id)
            self.ctx.journal.append(
                "fiscal",
                {
                    "system": "ebarimt",
                    "for": receipt.label,
                    "kind": receipt.kind,
                    "state": state,
                    "bill_id": bill_id,
                    "date": bill_date,
                    "replaces": replaces.bill_id if replaces else None,
                },
                now,
            )

    def _failed(self, receipt: FiscalReceipt, reason: str, detail: str) -> None:
        try:
            attempts = store.failed(self.ctx.db, receipt.id, f"{reason}: {detail}")
            if attempts == 1:  # the fleet hears of it once (a journal entry, an event)
                self.ctx.journal.append(
                    "fiscal_pending",
                    {"for": receipt.label, "reason": reason, "detail": detail[:200]},
                    self.ctx.clock(),
                )
        except DatabaseError as exc:
            log.error("e-barimt failure of %s not written down: %s", receipt.label, exc)
        log.warning("e-barimt: %s not registered (%s): %s", receipt.label, reason, detail)

    def _buyer(self, receipt: FiscalReceipt | None) -> str:
        if receipt is None or receipt.receipt_type != ebarimt.B2B:
            return ""
        return store.request_of(self.ctx.db, self.ctx.sealer, receipt).get("customerTin") or ""

    # -- slips for receipts registered later -----------------------------------------------
    def _print_slip(self, sent: Sent) -> None:
        reg = sent.registration
        if reg is None:
            return
        _ = self.printing.gettext
        receipt = sent.receipt
        title = (
            _("Sale {label}, registered later").format(label=receipt.label)
            if receipt.kind == "sale"
            else _("Correction after return {label}").format(label=receipt.label)
        )
        try:
            buyer = self._buyer(store.of_sale(self.ctx.db, receipt.sale_id)[0])
            kept = FiscalBlock(REGISTERED, reg.bill_id, reg.date, buyer, title=title)
            full = FiscalBlock(
                REGISTERED, reg.bill_id, reg.date, buyer, reg.lottery, reg.qr_data, title=title
            )
            stored = self.ctx.printer.render(self._slip(kept))
            volatile = self.ctx.printer.render(self._slip(full))
            with self.ctx.db.atomic():
                job = print_queue.add_job(self.ctx.db.cursor(), f"ebarimt {receipt.label}", stored)
        except Exception as exc:
            log.error("e-barimt slip for %s not printed: %s", receipt.label, exc)
            return
        self.printing.print_job(job, volatile=volatile)

    def _slip(self, block: FiscalBlock) -> Document:
        store_settings = self.ctx.settings.store
        doc = Document(columns=self.ctx.printer.columns)
        doc.line(store_settings.name, align="center", bold=True)
        if store_settings.tax_id:
            doc.line(store_settings.tax_id, align="center")
        add_fiscal_block(doc, block, self.printing.gettext)
        doc.feed()
        return doc

    def reprint_block(self, label: str) -> FiscalBlock | None:
        """The block a copy of a receipt prints: the bill, never the lottery or QR."""
        receipt = store.by_label(self.ctx.db, label)
        if receipt is None:
            return None
        standing = store.standing(self.ctx.db, receipt.sale_id)
        if receipt.state == "pending":
            return FiscalBlock(PENDING)
        if standing is None:
            return None
        return FiscalBlock(
            REGISTERED, standing.bill_id or "", standing.bill_date or "", self._buyer(receipt)
        )

    # -- the retry thread -------------------------------------------------------------------
    def start(self) -> None:
        if not self.enabled or self._thread is not None:
            return
        self._stopping.clear()
        self._thread = threading.Thread(target=self._loop, name="fiscal", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
            self._thread = None

    def poke(self) -> None:
        """Send what is owed now (a supervisor asked; a return was committed)."""
        self._wake.set()

    def _loop(self) -> None:
        period = self.service.settings.retry_seconds
        while not self._stopping.is_set():
            try:
                self.send_pending()
            except Exception as exc:  # the thread must outlive any one failure
                log.error("e-barimt retry failed: %s", exc)
            self._wake.wait(period)
            self._wake.clear()


class _Broken(Exception):
    """A receipt that cannot be sent as it is (written down; the others go on)."""


@dataclass(frozen=True)
class _Line:
    """A sale line as the database keeps it."""

    sku: str
    name: str
    quantity: Decimal
    amount: int
    tax_class: str

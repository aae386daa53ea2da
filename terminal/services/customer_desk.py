"""Customers at the till: find (member card, phone, name), add, edit, delete - the last
three with the customers approval when that category is on - and attach to the sale."""

from __future__ import annotations

from collections.abc import Callable

from terminal.core.approval import CUSTOMERS, Approval, check_approval
from terminal.core.errors import N_, PosError
from terminal.services.action_lines import log_action
from terminal.services.actions import ActionLog
from terminal.services.approvals import Approvals
from terminal.services.context import ServiceContext
from terminal.services.session import Session
from terminal.store import customers as store
from terminal.store.customers import Customer

# the open sale's customer: attach(customer or None, points, tier rank); the one attached
AttachToSale = Callable[..., None]


class CustomerDesk:
    def __init__(
        self,
        ctx: ServiceContext,
        session: Session,
        actions: ActionLog,
        approvals: Approvals,
        attach_to_sale: AttachToSale,
        sale_customer: Callable[[], Customer | None] = lambda: None,
    ) -> None:
        self.ctx, self.session, self.actions, self.approvals = ctx, session, actions, approvals
        self.attach_to_sale = attach_to_sale
        self.sale_customer = sale_customer

    @property
    def sealer(self):
        return self.ctx.sealer

    def find(self, text: str) -> list[Customer]:
        text = text.strip()
        if not text:
            return []
        member = store.find_by_member_code(self.ctx.db, self.sealer, text)
        if member:
            return [member]
        digits = "".join(ch for ch in text if ch.isdigit())
        if (
            digits
            and len(digits) >= 8
            and len(digits) == len(text.replace(" ", "").replace("-", "").lstrip("+"))
        ):
            try:
                return store.find_by_phone(self.ctx.db, self.sealer, text)
            except PosError:
                return []
        return store.find_by_name(self.ctx.db, self.sealer, text)

    def find_member(self, code: str) -> Customer | None:
        """The member whose card this is (a scan on the sale screen), if any."""
        return store.find_by_member_code(self.ctx.db, self.sealer, code)

    def _approved(self, approval: Approval | None, action: str) -> Approval | None:
        if self.approvals.policy.requires(CUSTOMERS):
            return check_approval(approval, CUSTOMERS, action)
        return approval

    def _journal(self, action: str, customer_id: str, approval: Approval | None) -> None:
        cashier = self.session.require_cashier()
        payload = {"action": action, "customer": customer_id, "cashier": cashier.id}
        self.actions.record("customer_change", payload, cashier, approval, watch=False)

    def _log(self, change: str, customer_id: str, approval: Approval | None) -> None:
        """The customer by id only: a name or a phone never goes to the log."""
        cashier = self.session.cashier
        log_action(
            f"customer {change}",
            "customer_change",
            cashier=cashier.id if cashier else None,
            change=change,
            customer=customer_id,
            approved_by=approval.approved_by if approval else None,
        )

    def add(
        self,
        name: str,
        phone: str | None,
        address: str | None = None,
        member_code: str | None = None,
        approval: Approval | None = None,
    ) -> Customer:
        self.session.require_cashier()
        approval = self._approved(approval, N_("add a customer"))
        if member_code and store.find_by_member_code(self.ctx.db, self.sealer, member_code):
            raise PosError(N_("This member card is already given to someone"))
        with self.ctx.db.atomic():
            customer = store.add_customer(
                self.ctx.db,
                self.sealer,
                name,
                phone or None,
                address or None,
                at=self.ctx.clock(),
                member_code=(member_code or "").strip().upper() or None,
            )
            self._journal("add", customer.id, approval)
        self._log("add", customer.id, approval)
        return customer

    def edit(
        self,
        customer_id: str,
        name: str,
        phone: str | None,
        address: str | None,
        approval: Approval | None = None,
    ) -> Customer:
        self.session.require_cashier()
        approval = self._approved(approval, N_("edit a customer"))
        with self.ctx.db.atomic():
            customer = store.update_customer(
                self.ctx.db, self.sealer, customer_id, name, phone, address
            )
            self._journal("edit", customer_id, approval)
        self._log("edit", customer_id, approval)
        return customer

    def delete(self, customer_id: str, approval: Approval | None = None) -> None:
        self.session.require_cashier()
        approval = self._approved(approval, N_("delete a customer"))
        with self.ctx.db.atomic():
            store.delete_customer(self.ctx.db, self.sealer, customer_id)
            self._journal("delete", customer_id, approval)
        self._log("delete", customer_id, approval)
        current = self.sale_customer()
        if current and current.id == customer_id:
            self.attach_to_sale(None)

    def attach(self, customer: Customer | None) -> None:
        """This sale's customer: tier from lifetime points, member prices follow."""
        if customer is None:
            self.attach_to_sale(None)
            return
        fresh = store.get_customer(self.ctx.db, self.sealer, customer.id)
        tier = self.ctx.settings.loyalty.tier_for(fresh.lifetime_points)
        self.attach_to_sale(fresh, fresh.points, tier.rank)

    def tier_name(self, customer: Customer) -> str:
        return self.ctx.settings.loyalty.tier_for(customer.lifetime_points).name

"""When a supervisor must approve, and how (seed 000: the POS passkeys).

Four categories, each switched on or off by the owner or a supervisor:

- ``unpaid_orders``: void a line, or cancel an order still being keyed in. A line may
  be voided without approval within the void window (30 s by default) of being added.
- ``paid_orders``: void or refund a paid transaction; a return without a receipt.
- ``discounts``: a discount per line or per transaction beyond the cashier's own limit.
- ``customers``: add, edit or delete a customer.

Approval is given either by the category's own 6-digit passkey (the seed's way) or by a
supervisor's own PIN (choose the supervisor, then the PIN) - one mode per store.

Closing the day (the Z report) is a supervisor's action by default, as in every POS the
seeds describe: not a passkey category switched on the terminal, but the file's
``approval.close_day`` (``supervisor`` or ``cashier``). A supervisor signed in closes it;
a cashier needs a supervisor's approval at the prompt (number and own PIN; in passkey
mode, where no passkey stands for it, a supervisor signs in).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from terminal.core.errors import N_, PosError

UNPAID_ORDERS, PAID_ORDERS, DISCOUNTS, CUSTOMERS = (
    "unpaid_orders",
    "paid_orders",
    "discounts",
    "customers",
)
CATEGORIES = (UNPAID_ORDERS, PAID_ORDERS, DISCOUNTS, CUSTOMERS)
CATEGORY_NAMES = {
    UNPAID_ORDERS: N_("Unpaid orders"),
    PAID_ORDERS: N_("Paid orders"),
    DISCOUNTS: N_("Discounts"),
    CUSTOMERS: N_("Customers"),
}
PASSKEY_MODE, SUPERVISOR_MODE = "passkey", "supervisor"
CLOSE_DAY = "close_day"  # the Z report's approval: a supervisor's own, never a passkey
CLOSE_DAY_ACTION = N_("close the day (Z report)")
BY_PASSKEY = "category passkey"  # what the journal names as approver in passkey mode


class ApprovalNeeded(PosError):
    """The action needs a supervisor's approval: ask for it, then try again with it."""

    def __init__(self, category: str, action: str) -> None:
        super().__init__(N_("Supervisor approval needed: {action}"), action=action)
        self.category = category
        self.action = action


@dataclass(frozen=True)
class ApprovalPolicy:
    enabled: frozenset[str] = frozenset()
    void_window: timedelta = timedelta(seconds=30)
    cashier_discount_percent: Decimal = Decimal(0)  # a cashier's own limit when discounts is on

    def requires(self, category: str) -> bool:
        if category not in CATEGORIES:
            raise ValueError(f"unknown passkey category {category!r}")
        return category in self.enabled

    def line_void_is_late(self, added_at: datetime, now: datetime) -> bool:
        """Past the free window: at exactly the window's end it is still free."""
        return now - added_at > self.void_window

    def line_void_needs_approval(self, added_at: datetime, now: datetime) -> bool:
        return self.requires(UNPAID_ORDERS) and self.line_void_is_late(added_at, now)

    def discount_needs_approval(self, percent: Decimal) -> bool:
        """``percent``: the discount as a share of what it is taken from (an amount
        discount is compared by the same share)."""
        return self.requires(DISCOUNTS) and percent > self.cashier_discount_percent


@dataclass
class Approval:
    """A given approval: for one category, for the action it was asked for (when it was
    asked by one: ``action``), and for one use. The journal records who asked and who
    approved."""

    category: str
    asked_by: int  # the signed-in cashier
    approved_by: int | str  # a supervisor's number, or BY_PASSKEY
    action: str = ""  # the action it was given for; empty: any of its category
    spent: bool = False

    def journal_fields(self) -> dict:
        return {"asked_by": self.asked_by, "approved_by": self.approved_by}


def check_approval(approval: Approval | None, category: str, action: str) -> Approval:
    """Spend ``approval`` on this action, or raise :class:`ApprovalNeeded`: none given, one
    for another category or another action, or one already used."""
    if (
        approval is None
        or approval.spent
        or approval.category != category
        or (approval.action and approval.action != action)
    ):
        raise ApprovalNeeded(category, action)
    approval.spent = True
    return approval


def close_day_approval(
    approval: Approval | None, *, close_day: str, is_supervisor: bool, mode: str
) -> Approval | None:
    """Whether closing the day may go ahead: with ``close_day`` = ``cashier`` anyone
    closes it; else a supervisor signed in does (None: no approval to record), and a
    cashier needs a supervisor's approval (spent here, or :class:`ApprovalNeeded`). In
    passkey mode no passkey stands for a supervisor's action: a supervisor signs in."""
    if close_day == "cashier" or is_supervisor:
        return None
    if mode == PASSKEY_MODE:
        raise PosError(N_("Closing the day is a supervisor's action: a supervisor signs in"))
    return check_approval(approval, CLOSE_DAY, CLOSE_DAY_ACTION)
